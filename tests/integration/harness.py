"""Integration harness for pam_ory: real libpam (pam_wrapper + nss_wrapper),
real pamtester, and the dev IdP from tests/idp on 127.0.0.1.

Nothing under /etc is touched: pam_wrapper reads the PAM service files from a
temporary directory and nss_wrapper supplies a fake passwd/group database.
Every server a test starts, the test stops again.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

MODULE = os.environ.get("PAMORY_MODULE")
SRCDIR = os.environ.get("PAMORY_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
IDP_DIR = os.environ.get("PAMORY_IDP_DIR", os.path.join(SRCDIR, "tests", "idp"))

# pam_strerror() texts, as pamtester prints them, for the PAM codes we return.
PAM_TEXT = {
    "PAM_SUCCESS": "successfully authenticated",
    "PAM_AUTH_ERR": "Authentication failure",
    "PAM_USER_UNKNOWN": "User not known to the underlying authentication module",
    "PAM_AUTHINFO_UNAVAIL": "Authentication service cannot retrieve authentication info",
    "PAM_SERVICE_ERR": "Error in service module",
    "PAM_CONV_ERR": "Conversation error",
}

USERS = {  # name: uid
    "root": 0,
    "alice": 1001,
    "bob": 1002,
    "carol": 1003,
}

CLIENT_SECRETS = {
    "pam-ory-basic": "test-secret-basic-0123456789",
    "pam-ory-post": "test-secret-post-0123456789",
}


def require_setup():
    """Fail loudly (never skip) when the environment is incomplete."""
    problems = []
    if not MODULE or not os.path.exists(MODULE):
        problems.append("PAMORY_MODULE does not name the built pam_ory.so (run through make check)")
    if not os.path.isdir(os.path.join(IDP_DIR, "node_modules")):
        problems.append(f"{IDP_DIR}/node_modules is missing: run 'npm ci' there (scripts/test does)")
    for tool in ("pamtester", "node"):
        if shutil.which(tool) is None:
            problems.append(f"{tool} is not installed (scripts/test installs it)")
    if problems:
        raise RuntimeError("; ".join(problems))


class Idp:
    """The dev IdP as a child process on an ephemeral loopback port."""

    def __init__(self, **env):
        self.env = {k: str(v) for k, v in env.items()}
        self.proc = None
        self.issuer = None
        self.log = tempfile.NamedTemporaryFile(prefix="idp-", suffix=".log", delete=False)
        self.cafile = None

    def start(self):
        # A shared key file spares each start the 4096-bit RSA key generation.
        keys = os.path.join(tempfile.gettempdir(), f"pamory-idp-keys-{os.getuid()}.json")
        env = dict(os.environ, PORT="0", DEVICE_INTERVAL="1", KEYS_FILE=keys)
        env.update(self.env)
        self.proc = subprocess.Popen(
            ["node", os.path.join(IDP_DIR, "server.mjs")], cwd=IDP_DIR, env=env,
            stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                m = re.match(r"listening (\S+)", line or "")
                if m:
                    self.issuer = m.group(1)
                    return self
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"dev IdP did not start; see {self.log.name}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def _open(self, req):
        if self.issuer.startswith("https:"):
            import ssl
            ctx = ssl.create_default_context(cafile=self.cafile)
            return urllib.request.urlopen(req, timeout=10, context=ctx)
        return urllib.request.urlopen(req, timeout=10)

    def post(self, path, **form):
        data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.issuer + path.lstrip("/"), data=data, method="POST")
        try:
            with self._open(req) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def delete(self, path, bearer=None):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        req = urllib.request.Request(self.issuer + path.lstrip("/"), method="DELETE", headers=headers)
        try:
            with self._open(req) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def get(self, path):
        with self._open(urllib.request.Request(self.issuer + path.lstrip("/"))) as r:
            return json.loads(r.read())

    def stats(self):
        return self.get("/test/stats")

    def reset_stats(self):
        self.post("/test/stats/reset")

    def issued_secrets(self):
        return self.get("/test/issued")["secrets"]


class PamEnv:
    """A pam_wrapper service directory and nss_wrapper database in a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pamory-it-")
        os.chmod(self.dir, 0o755)
        self.services = os.path.join(self.dir, "services")
        os.mkdir(self.services)
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            for name, uid in USERS.items():
                f.write(f"{name}:x:{uid}:{uid}:{name}:/nonexistent:/bin/sh\n")
        with open(os.path.join(self.dir, "group"), "w") as f:
            for name, uid in USERS.items():
                f.write(f"{name}:x:{uid}:\n")
        self.write_service("other", "auth required pam_deny.so\naccount required pam_deny.so\n")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write_file(self, name, text, mode=0o644):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def write_service(self, name, text):
        with open(os.path.join(self.services, name), "w") as f:
            f.write(text)

    def configure(self, service, conf_lines, args=""):
        """Write pam_ory.conf for this service and a PAM stack using it.  The
        JWKS/discovery cache goes to this environment's temp dir, never to
        the host's /var/cache/pam_ory."""
        if not any(l.startswith("cache_dir") for l in conf_lines):
            conf_lines = list(conf_lines) + [f"cache_dir = {self.path('cache')}"]
        conf = self.write_file(f"{service}.conf", "".join(l + "\n" for l in conf_lines))
        line = f"{MODULE} config={conf} {args}".strip()
        self.write_service(service, f"auth required {line}\naccount required {line}\n")
        return conf

    def environ(self, extra_preload=None):
        """The environment of a PAM process here: the wrappers preloaded,
        after the sanitizer runtime when scripts/test asks for one."""
        preload = (extra_preload or _extra_preload_from_env() or []) + ["libpam_wrapper.so", "libnss_wrapper.so"]
        return dict(os.environ,
                    LD_PRELOAD=" ".join(preload),
                    PAM_WRAPPER="1",
                    PAM_WRAPPER_SERVICE_DIR=self.services,
                    PAM_WRAPPER_DEBUGLEVEL="2",   # shows pam_syslog() lines on stderr
                    NSS_WRAPPER_PASSWD=self.path("passwd"),
                    NSS_WRAPPER_GROUP=self.path("group"))


class Result:
    def __init__(self, returncode, stdout, stderr, approved_code, elapsed):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.user_code = approved_code
        self.elapsed = elapsed

    @property
    def output(self):
        return self.stdout + self.stderr

    @property
    def syslog(self):
        """The module's pam_syslog lines, as pam_wrapper printed them."""
        return [l for l in self.stderr.splitlines() if "SYSLOG" in l]

    @property
    def prompt(self):
        m = re.search(r"(To log in to .*?Press Enter after you have approved:?)", self.stderr, re.S)
        return m.group(1) if m else ""


CODE_RE = re.compile(r"Code:\s+(\S+)")


def run_pamtester(pam, service, user, respond=None, ops=("authenticate", "acct_mgmt"),
                  timeout=60, wrapper=None, extra_preload=None, stdin_text=None):
    """Run pamtester; when the prompt shows a user code, call respond(code)
    (the "phone" side: approve, deny or nothing), then press Enter.  With
    stdin_text, that is typed at once instead (token mode's password)."""
    wrapper = wrapper if wrapper is not None else wrapper_from_env()
    cmd = (wrapper or []) + ["pamtester", "-v", service, user] + list(ops)
    env = pam.environ(extra_preload)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    out, err = bytearray(), bytearray()
    seen_code = None

    def pump(stream, buf):
        for chunk in iter(lambda: os.read(stream.fileno(), 4096), b""):
            buf.extend(chunk)

    readers = [threading.Thread(target=pump, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, err), daemon=True)]
    for t in readers:
        t.start()
    if stdin_text is not None:
        proc.stdin.write(stdin_text.encode())
        proc.stdin.close()
        seen_code = ""
    deadline = start + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        text = err.decode(errors="replace")
        if seen_code is None and "Press Enter after you have approved" in text:
            m = CODE_RE.search(text)
            seen_code = m.group(1) if m else ""
            if respond:
                respond(seen_code)
            try:
                proc.stdin.write(b"\n")
                proc.stdin.close()
            except BrokenPipeError:
                pass
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"pamtester did not finish within {timeout}s; stderr:\n{err.decode(errors='replace')}")
    for t in readers:
        t.join(5)
    return Result(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                  seen_code, time.monotonic() - start)


def _extra_preload_from_env():
    """scripts/test runs the suite again with the sanitizer runtime preloaded."""
    v = os.environ.get("PAMORY_TEST_PRELOAD")
    return v.split() if v else None


def wrapper_from_env():
    """scripts/test runs some cases under valgrind via PAMORY_TEST_WRAPPER."""
    v = os.environ.get("PAMORY_TEST_WRAPPER")
    return v.split() if v else None


class IdpTestCase(unittest.TestCase):
    """A test class with its own dev IdP (started with idp_env, stopped at
    the end) and a fresh PAM environment for every test."""
    idp_env = {}

    @classmethod
    def setUpClass(cls):
        require_setup()
        cls.idp = Idp(**cls.idp_env).start()

    @classmethod
    def tearDownClass(cls):
        cls.idp.stop()

    def setUp(self):
        self.pam = PamEnv()

    def tearDown(self):
        self.pam.cleanup()

    def assertLogged(self, result, pattern):
        """Some line the module logged (pam_syslog) matches pattern."""
        self.assertTrue(any(re.search(pattern, l) for l in result.syslog),
                        f"no syslog line matches {pattern!r}:\n" + "\n".join(result.syslog))
