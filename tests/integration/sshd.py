"""A real OpenSSH server and client for pam_ory's end-to-end tests.

Sshd runs /usr/sbin/sshd on a free 127.0.0.1 port with its own host key and
sshd_config in a temporary directory.  It gets its PAM stack without any
change under /etc: pam_wrapper (preloaded into sshd) reads the "sshd" service
from a temporary directory, and nss_wrapper supplies the passwd and group
databases, which hold the test users (with a home directory and /bin/sh) plus
the root, sshd and nobody entries sshd itself needs.

The module's pam_syslog() lines: sshd runs pam_authenticate() in a forked
child that empties its environment first (auth-pam.c, sshpam_thread:
"environ[0] = NULL"), so pam_wrapper no longer sees PAM_WRAPPER_DEBUGLEVEL
there and prints nothing.  A small preloaded shim (SYSLOG_SHIM, compiled on
first use) replaces pam_syslog/pam_vsyslog and writes each line to stderr as
"PAMORY_SYSLOG(<priority>): <message>", whatever the environment.  sshd's
stderr (-D -e) is the log file.

run_ssh() drives a real ssh client on a pseudo-terminal, as a person would:
it waits for pam_ory's prompt, hands the screen so far to a callback (the
"phone" side), and then presses Enter, or leaves the prompt alone.
"""
import os
import pty
import re
import select
import signal
import socket
import subprocess
import threading
import time

from harness import MODULE, USERS, PamEnv, _extra_preload_from_env

SSHD = "/usr/sbin/sshd"   # sshd re-executes itself, so it needs an absolute path
PROMPT_END = "Press Enter after you have approved:"
SYSLOG_TAG = "PAMORY_SYSLOG"

SYSLOG_SHIM = r"""
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <security/pam_ext.h>

void pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args)
{
    char line[4096];
    int n = snprintf(line, sizeof(line), "PAMORY_SYSLOG(%d): ", priority);

    (void)pamh;
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, args);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    (void)!write(2, line, (size_t)n);   /* one write: lines from processes do not mix */
}

void pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pam_vsyslog(pamh, priority, fmt, ap);
    va_end(ap);
}
"""


def syslog_shim(directory):
    """Compile SYSLOG_SHIM into directory; returns the .so path."""
    src = os.path.join(directory, "syslog_shim.c")
    so = os.path.join(directory, "syslog_shim.so")
    with open(src, "w") as f:
        f.write(SYSLOG_SHIM)
    cc = os.environ.get("CC", "cc").split()
    r = subprocess.run(cc + ["-shared", "-fPIC", "-O1", "-o", so, src], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"cannot compile the pam_syslog shim: {r.stderr}")
    return so


def free_port():
    """A port on 127.0.0.1 nobody listened on a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid):
    """Pids of the direct children of pid (from /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def descendants(pid):
    """Every process below pid, children before grandchildren."""
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop(0))
        out.extend(kids)
        todo.extend(kids)
    return out


class Sshd:
    """sshd on 127.0.0.1:<free port> with a pam_ory PAM stack.

    conf_lines: the pam_ory.conf it uses (rewrite with write_conf() between
    logins: the module reads the file on each login).  options: extra
    sshd_config lines such as "LoginGraceTime 4".
    """

    def __init__(self, conf_lines, options=(), module=None, env=None):
        self.module = os.path.abspath(module or MODULE)
        self.pam = PamEnv()
        self.dir = self.pam.path("sshd")
        os.mkdir(self.dir)
        self.port = None
        self.proc = None
        self.options = list(options)
        self.extra_env = dict(env or {})
        self.logfile = os.path.join(self.dir, "sshd.log")
        self.conf = self.write_conf(conf_lines)
        self._write_users()
        self._write_service()
        self.shim = syslog_shim(self.dir)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pam_ory test host",
                        "-f", os.path.join(self.dir, "ssh_host_ed25519_key")], check=True)

    # -- files -----------------------------------------------------------
    def home(self, user):
        return self.pam.path(f"home/{user}")

    def write_conf(self, conf_lines):
        """(Re)write pam_ory.conf in place; the next login reads it."""
        return self.pam.write_file("pam_ory.conf", "".join(l + "\n" for l in conf_lines))

    def _write_users(self):
        """nss_wrapper replaces the whole database: sshd needs root, its
        privilege-separation user sshd, and nobody, besides the test users."""
        system = {}
        with open("/etc/passwd") as f:
            for line in f:
                name = line.split(":", 1)[0]
                if name in ("root", "sshd", "nobody"):
                    system[name] = line.rstrip("\n")
        missing = {"root", "sshd", "nobody"} - set(system)
        if missing:
            raise RuntimeError(f"/etc/passwd lacks {sorted(missing)} (is openssh-server installed?)")
        passwd = [system["root"], system["sshd"], system["nobody"]]
        group = ["root:x:0:", "nogroup:x:65534:"]
        for name, uid in USERS.items():
            if uid == 0:
                continue
            home = self.home(name)
            os.makedirs(home, mode=0o755)
            os.chown(home, uid, uid)
            passwd.append(f"{name}:x:{uid}:{uid}:{name}:{home}:/bin/sh")
            group.append(f"{name}:x:{uid}:")
        os.makedirs(self.pam.path("home"), exist_ok=True)
        os.chmod(self.pam.path("home"), 0o755)
        self.pam.write_file("passwd", "\n".join(passwd) + "\n")
        self.pam.write_file("group", "\n".join(group) + "\n")

    def _write_service(self):
        """The stack conf/pam.d/sshd recommends, with the distribution's
        account and session parts reduced to pam_permit."""
        line = f"{self.module} config={self.conf}"
        self.pam.write_service("sshd", "\n".join([
            f"auth     required  {line}",
            "account  required  pam_permit.so",
            f"account  required  {line}",      # the optional line from the README
            "session  required  pam_permit.so",
            "password required  pam_deny.so",
        ]) + "\n")

    def _write_config(self):
        d = self.dir
        lines = [
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {d}/ssh_host_ed25519_key",
            f"PidFile {d}/sshd.pid",
            "UsePAM yes",
            "KbdInteractiveAuthentication yes",
            "PasswordAuthentication no",
            "PubkeyAuthentication no",
            "AuthenticationMethods keyboard-interactive",
            "PermitRootLogin no",
            "LogLevel VERBOSE",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            f"AuthorizedKeysFile {d}/none",
            *self.options,
        ]
        path = os.path.join(d, "sshd_config")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    # -- process ---------------------------------------------------------
    def environ(self):
        # The sanitizer runtime (scripts/test) must come first, the shim
        # before pam_wrapper (whose pam_vsyslog it replaces).
        env = self.pam.environ((_extra_preload_from_env() or []) + [self.shim])
        env["PAM_WRAPPER_DEBUGLEVEL"] = "0"   # errors only; the shim prints the module's lines
        env.update(self.extra_env)
        return env

    def syslog(self, text=None):
        """The module's pam_syslog lines in the log (or in text)."""
        return [l for l in (self.log() if text is None else text).splitlines() if SYSLOG_TAG in l]

    def start(self, timeout=10):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # privilege separation directory
        self.port = free_port()
        config = self._write_config()
        check = subprocess.run([SSHD, "-t", "-f", config], env=self.environ(),
                               capture_output=True, text=True)
        if check.returncode != 0:
            self.pam.cleanup()
            raise RuntimeError(f"sshd -t rejected {config}: {check.stderr}")
        # stderr goes through a pipe, not straight to the file: sshd's sandbox
        # sets RLIMIT_FSIZE to 0 in the pre-auth child, so its writes to a
        # regular file would fail (SIGXFSZ) and lines would be lost.
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", config], env=self.environ(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._pump = threading.Thread(target=self._copy_log, args=(self.proc.stdout,), daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if f"Server listening on 127.0.0.1 port {self.port}" in self.log():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        log_text = self.log()
        self.stop()
        raise RuntimeError(f"sshd did not start on port {self.port}:\n{log_text}")

    def _copy_log(self, pipe):
        with open(self.logfile, "ab", buffering=0) as f:
            for chunk in iter(lambda: os.read(pipe.fileno(), 65536), b""):
                f.write(chunk)

    def children(self):
        """sshd processes still serving connections."""
        return descendants(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            # Per-connection children call setsid(): kill them by pid too.
            leftovers = descendants(self.proc.pid)
            os.killpg(self.proc.pid, signal.SIGTERM)
            for pid in leftovers:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc is not None:
            self._pump.join(5)
            self.proc.stdout.close()
        self.pam.cleanup()

    # -- log -------------------------------------------------------------
    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """Position to pass to log_since(): the log of the next login only."""
        return len(self.log())

    def log_since(self, mark):
        return self.log()[mark:]

    def wait_for_log(self, pattern, mark=0, timeout=5):
        """The log since mark once it matches pattern (or, after timeout, as it is)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_since(mark)
            if re.search(pattern, text) or time.monotonic() >= deadline:
                return text
            time.sleep(0.05)


class SshSession:
    """What the ssh client did, as its terminal showed it."""

    def __init__(self):
        self.raw = bytearray()       # everything the client wrote to its terminal
        self.screen_at_prompt = None  # the terminal text when the prompt was complete
        self.prompt_raw = None       # the raw bytes up to the end of the prompt
        self.t_prompt = None         # seconds from start until the prompt was complete
        self.returncode = None
        self.elapsed = None          # seconds from start until the client exited
        self.killed = False

    @property
    def output(self):
        return self.raw.decode("utf-8", errors="replace").replace("\r\n", "\n")


def run_ssh(port, user, command, on_prompt=None, press_enter=True, timeout=30, ssh_options=()):
    """Run the real ssh client on a pty.  When pam_ory's prompt is complete
    on the client's terminal, call on_prompt(screen_text) (the user reading
    the screen and acting on the phone), then press Enter if press_enter."""
    argv = ["ssh", "-F", "/dev/null",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "PreferredAuthentications=keyboard-interactive", "-o", "PubkeyAuthentication=no",
            "-o", "NumberOfPasswordPrompts=1", "-o", "BatchMode=no",
            *ssh_options, "-p", str(port), f"{user}@127.0.0.1", command]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LD_PRELOAD", "PAM_WRAPPER", "NSS_WRAPPER", "SSH_"))}
    env.update(TERM="dumb", LC_ALL="C")
    s = SshSession()
    start = time.monotonic()
    pid, fd = pty.fork()   # the child gets the pty as its controlling terminal (/dev/tty)
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    status = None
    try:
        deadline = start + timeout
        eof = False
        while not eof:
            left = deadline - time.monotonic()
            if left <= 0:
                s.killed = True
                break
            ready, _, _ = select.select([fd], [], [], min(left, 0.1))
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:   # EIO: the client closed its terminal
                    chunk = b""
                if not chunk:
                    eof = True
                s.raw.extend(chunk)
            if s.screen_at_prompt is None and PROMPT_END.encode() in s.raw:
                s.t_prompt = time.monotonic() - start
                end = s.raw.index(PROMPT_END.encode()) + len(PROMPT_END)
                s.prompt_raw = bytes(s.raw[:end])
                s.screen_at_prompt = s.output
                if on_prompt:
                    on_prompt(s.screen_at_prompt)
                if press_enter:
                    os.write(fd, b"\r")
        if s.killed:
            os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    finally:
        if status is None:
            try:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(fd)
    s.elapsed = time.monotonic() - start
    s.returncode = os.waitstatus_to_exitcode(status)
    return s
