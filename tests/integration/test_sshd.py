"""pam_ory behind a real OpenSSH server, used from a real ssh client.

sshd (/usr/sbin/sshd) runs on a free 127.0.0.1 port with pam_wrapper +
nss_wrapper preloaded (see sshd.py: nothing under /etc changes), with the
PAM stack conf/pam.d/sshd recommends.  The ssh client runs on a pty, as a
person would use it: the tests read the URL and the user code from the
client's screen, play the phone (approve / deny / nothing) at the dev IdP,
and press Enter.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import USERS, Idp, require_setup
from sshd import PROMPT_END, Sshd, run_ssh

COMMAND = "echo LOGGED-IN-AS uid=$(id -u)"   # the session has no nss_wrapper: print the uid
LOGGED_IN = f"LOGGED-IN-AS uid={USERS['alice']}"
CODE_RE = re.compile(r"Code:  ([A-Za-z0-9]{8})\r?$", re.M)


def conf_for(idp, extra=()):
    return [f"issuer = {idp.issuer}", "client_id = pam-ory-public", "qr = off", *extra]


def require_sshd_setup():
    problems = []
    if os.geteuid() != 0:
        problems.append("the sshd tests must run as root (sshd needs its privilege separation)")
    for tool in ("/usr/sbin/sshd", "ssh", "ssh-keygen", "zbarimg", "cc"):
        if shutil.which(tool) is None:
            problems.append(f"{tool} is not installed (scripts/install-deps installs it)")
    for lib in ("libpam_wrapper.so", "libnss_wrapper.so"):
        if not any(os.path.exists(os.path.join(d, lib)) for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64",
                                                                  "/usr/lib", "/usr/lib/aarch64-linux-gnu")):
            problems.append(f"{lib} is missing (libpam-wrapper / libnss-wrapper)")
    if problems:
        raise RuntimeError("; ".join(problems))


def client_socket_states(port):
    """TCP states (hex, as in /proc/net/tcp) of the client's sockets to 127.0.0.1:port."""
    states = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if remote == f"0100007F:{port:04X}":
                states.append(state)
    return states


TCP_CLOSE_WAIT = "08"   # the peer (sshd) closed; this end (ssh) has not yet


# -- the QR code as the client printed it ---------------------------------------
def qr_block(screen):
    """The ASCII QR code exactly as printed: the run of non-empty lines made
    only of '#' and ' ' around the first line with '##', blank margin lines
    included."""
    lines = screen.split("\n")

    def qr_line(i):
        return 0 <= i < len(lines) and lines[i] != "" and set(lines[i]) <= {"#", " "}

    first = next(i for i, l in enumerate(lines) if "##" in l)
    start, end = first, first
    while qr_line(start - 1):
        start -= 1
    while qr_line(end + 1):
        end += 1
    return lines[start:end + 1]


def qr_matrix(block):
    """"##" is a dark module, "  " a light one; anything else is an error."""
    width = len(block[0])
    matrix = []
    for line in block:
        if len(line) != width or width % 2:
            raise ValueError(f"ragged QR line (width {len(line)}, first line {width}): {line!r}")
        row = []
        for i in range(0, width, 2):
            cell = line[i:i + 2]
            if cell not in ("##", "  "):
                raise ValueError(f"QR cell {cell!r} at column {i} in {line!r}")
            row.append(cell == "##")
        matrix.append(row)
    return matrix


def write_pbm(matrix, path, scale=8):
    """A binary PBM (1 = black) of the matrix, nothing added: the quiet zone
    is only what the module printed."""
    w, h = len(matrix[0]) * scale, len(matrix) * scale
    out = bytearray(f"P4\n{w} {h}\n".encode())
    for r in matrix:
        line = bytearray((w + 7) // 8)
        for x in range(w):
            if r[x // scale]:
                line[x // 8] |= 0x80 >> (x % 8)
        out += bytes(line) * scale
    with open(path, "wb") as f:
        f.write(out)


def zbar_decode(path):
    cmd = ["zbarimg", "--raw", "-q", "--nodbus", path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if r.returncode != 0 and "nodbus" in r.stderr:   # an older zbarimg without the flag
        r = subprocess.run([c for c in cmd if c != "--nodbus"], capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout.strip(), r.stderr


class SshLoginMixin:
    """Shared by the test classes: one login through the real client."""

    LOG_END = r"Disconnected from|Connection closed|Failed keyboard|PAM: pam_setcred|fatal|error:"

    def login(self, respond=None, user="alice", press_enter=True, before_enter=None, timeout=20,
              log_end=LOG_END):
        """ssh user@127.0.0.1 COMMAND.  When the prompt is on the screen,
        read the code from the screen and call respond(code) (the phone);
        before_enter(session_screen) runs after that, then Enter is pressed."""
        self.seen = {}

        def on_prompt(screen):
            m = CODE_RE.search(screen)
            self.seen["screen"] = screen
            self.seen["code"] = m.group(1) if m else None
            if respond is not None:
                self.assertIsNotNone(m, f"no user code on the client's screen:\n{screen}")
                respond(m.group(1))
            if before_enter is not None:
                before_enter(screen)

        mark = self.sshd.log_mark()
        s = run_ssh(self.sshd.port, user, COMMAND, on_prompt, press_enter=press_enter, timeout=timeout)
        # sshd writes its last lines as the connection ends; wait for them.
        s.log = self.sshd.wait_for_log(log_end, mark, timeout=3) if log_end else self.sshd.log_since(mark)
        s.syslog = self.sshd.syslog(s.log)
        self.assertFalse(s.killed, f"ssh did not finish within {timeout}s:\n{s.output}\n--- sshd:\n{s.log}")
        return s

    def approve(self, sub="alice"):
        def respond(code):
            status, body = self.idp.post("/test/approve", user_code=code, sub=sub)
            self.assertEqual(status, 200, body)
        return respond

    def deny(self, code):
        status, body = self.idp.post("/test/deny", user_code=code)
        self.assertEqual(status, 200, body)

    def assertLogged(self, s, pattern):
        self.assertTrue(any(re.search(pattern, l) for l in s.syslog),
                        f"no module log line matches {pattern!r}; sshd log:\n{s.log}")

    def assertRefused(self, s):
        self.assertNotIn("LOGGED-IN-AS", s.output)
        self.assertNotEqual(s.returncode, 0, s.output)
        self.assertNotIn("Accepted keyboard-interactive", s.log)
        self.assertFalse(any("login accepted" in l for l in s.syslog), s.log)


class SshdLoginTest(SshLoginMixin, unittest.TestCase):
    """One sshd for all cases; each case rewrites pam_ory.conf (read per login)."""

    @classmethod
    def setUpClass(cls):
        require_setup()
        require_sshd_setup()
        cls.idp = Idp().start()
        try:
            # A UTF-8 locale for sshd, so that qr=auto choosing ASCII means something.
            cls.sshd = Sshd(conf_for(cls.idp), env={"LANG": "C.UTF-8"}).start()
        except BaseException:
            cls.idp.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sshd.stop()
        cls.idp.stop()

    def setUp(self):
        self.sshd.write_conf(conf_for(self.idp))
        self.idp.reset_stats()

    def test_success_code_on_screen_before_approval(self):
        s = self.login(respond=self.approve("alice"))
        screen = self.seen["screen"]   # the client's terminal before anything was approved
        # What the user needs is on the client's screen before approval: the
        # URL, the code, and the prompt.  The client prefixes the first line.
        # The prompt starts with a newline, so ssh's "(user@host) " prefix stands on its own line.
        self.assertIn("(alice@127.0.0.1) \nTo log in to", screen)
        self.assertIn(f"  Open:  {self.idp.issuer}oauth2/device/verify\n", screen)
        self.assertRegex(self.seen["code"], r"^[abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679]{8}$")
        self.assertIn(f"{self.idp.issuer}oauth2/device/verify?user_code={self.seen['code']}", screen)
        self.assertIn("as alice (service sshd)", screen)
        self.assertTrue(screen.rstrip().endswith(PROMPT_END), screen)
        # Approved with the code read from the screen, Enter pressed: the session runs.
        self.assertIn(LOGGED_IN, s.output, f"{s.output}\n--- sshd:\n{s.log}")
        self.assertEqual(s.returncode, 0, f"{s.output}\n--- sshd:\n{s.log}")
        self.assertIn("Accepted keyboard-interactive/pam for alice from 127.0.0.1", s.log)
        self.assertLogged(s, rf"login accepted: user alice, subject sha256:[0-9a-f]{{8}}, "
                             rf"device flow at {re.escape(self.idp.issuer)}")
        self.assertEqual(self.idp.stats()["token"], 1)
        self.assertLess(s.elapsed, 10)

    def test_denied(self):
        s = self.login(respond=self.deny)
        self.assertRefused(s)
        self.assertIn("Permission denied", s.output)
        self.assertIn("Failed keyboard-interactive/pam for alice", s.log)
        self.assertLogged(s, r"login for alice was denied at the IdP")

    def test_other_users_identity_is_refused(self):
        s = self.login(respond=self.approve("bob"))
        self.assertRefused(s)
        self.assertIn("Permission denied", s.output)
        self.assertLogged(s, r"sub sha256:[0-9a-f]{8} is not user alice")

    def check_qr(self, s):
        """The QR code the client showed decodes to the complete URL shown
        as text, and the whole prompt is ASCII."""
        screen = self.seen["screen"]
        nonascii = sorted({b for b in s.prompt_raw if b > 0x7e or (b < 0x20 and b not in b"\r\n")})
        self.assertEqual(nonascii, [], f"non-ASCII bytes in the prompt: {nonascii}")
        m = re.search(r"Or scan the QR code above, which opens:\n  (\S+)\n", screen)
        self.assertIsNotNone(m, screen)
        uri_complete = m.group(1)
        self.assertEqual(uri_complete, f"{self.idp.issuer}oauth2/device/verify?user_code={self.seen['code']}")
        block = qr_block(screen)
        matrix = qr_matrix(block)
        # Square, at least version 1 (21 modules), with a light margin of
        # at least 2 modules printed on every side.
        rows = [i for i, row in enumerate(matrix) if any(row)]
        cols = [j for j in range(len(matrix[0])) if any(r[j] for r in matrix)]
        self.assertEqual(len(matrix), len(matrix[0]), "\n".join(block))
        self.assertGreaterEqual(rows[-1] - rows[0] + 1, 21)
        self.assertEqual(rows[-1] - rows[0], cols[-1] - cols[0], "QR symbol is not square")
        margins = (rows[0], len(matrix) - 1 - rows[-1], cols[0], len(matrix[0]) - 1 - cols[-1])
        self.assertGreaterEqual(min(margins), 2, f"quiet zone {margins}")
        with tempfile.TemporaryDirectory() as d:
            pbm = os.path.join(d, "qr.pbm")
            write_pbm(matrix, pbm)
            rc, text, err = zbar_decode(pbm)
        self.assertEqual(rc, 0, f"zbarimg found no QR code: {err}\n" + "\n".join(block))
        self.assertEqual(text, uri_complete)

    def test_qr_ascii_decodes_as_the_client_shows_it(self):
        self.sshd.write_conf(conf_for(self.idp)[:2] + ["qr = ascii"])
        s = self.login(respond=self.approve("alice"))
        self.check_qr(s)
        self.assertIn(LOGGED_IN, s.output)

    def test_qr_auto_is_ascii_for_sshd(self):
        self.sshd.write_conf(conf_for(self.idp)[:2] + ["qr = auto"])
        s = self.login(respond=self.deny)
        self.assertIn("##", self.seen["screen"], "qr=auto showed no ASCII QR code to the ssh client")
        self.check_qr(s)
        self.assertRefused(s)


class SshdLoginGraceTimeTest(SshLoginMixin, unittest.TestCase):
    """sshd's LoginGraceTime (4 s) ends a login that waits at pam_ory's
    prompt (timeout = 10 s) before the module's own timeout."""

    GRACE = 4

    @classmethod
    def setUpClass(cls):
        require_setup()
        require_sshd_setup()
        cls.idp = Idp().start()
        try:
            cls.sshd = Sshd(conf_for(cls.idp, ["timeout = 10"]), options=[f"LoginGraceTime {cls.GRACE}"]).start()
        except BaseException:
            cls.idp.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sshd.stop()
        cls.idp.stop()

    def test_grace_time_ends_an_unapproved_login(self):
        self.idp.reset_stats()
        t0 = time.monotonic()
        timeline = {}

        def wait_for_sshd_to_hang_up(screen):
            # Nobody approves and nobody presses Enter.  sshd must close the
            # connection by itself: its per-connection processes (monitor,
            # pre-auth child and the PAM child running pam_ory) exit and the
            # client's socket sees the FIN (CLOSE-WAIT).
            deadline = t0 + 15
            while time.monotonic() < deadline:
                if not self.sshd.children() and TCP_CLOSE_WAIT in client_socket_states(self.sshd.port):
                    timeline["closed"] = time.monotonic() - t0
                    break
                time.sleep(0.1)
            # The client sits in its prompt and does not notice by itself;
            # give it a second to prove that, then press Enter.
            time.sleep(1)
            timeline["client_still_waiting"] = TCP_CLOSE_WAIT in client_socket_states(self.sshd.port)

        # sshd's processes are gone before Enter: the log is complete, and
        # it has no closing line to wait for (see below).
        s = self.login(before_enter=wait_for_sshd_to_hang_up, timeout=30, log_end=None)
        self.assertIsNotNone(self.seen["code"], "no user code on the client's screen")
        self.assertIn("closed", timeline, f"sshd kept the connection for 15 s\n--- sshd:\n{self.sshd.log()}")
        self.assertGreaterEqual(timeline["closed"], self.GRACE - 0.5)
        self.assertLess(timeline["closed"], 15)
        self.assertLess(s.elapsed, 20)
        self.assertRefused(s)
        self.assertEqual(s.returncode, 255, s.output)   # ssh: connection lost
        # Debian 12's sshd no longer logs "Timeout before authentication" (the
        # CVE-2024-6387 fix removed logging from the SIGALRM handler), so the
        # log can only show that authentication never finished.
        self.assertIn("Postponed keyboard-interactive for alice", s.log)
        self.assertNotRegex(s.log, r"Accepted|Failed keyboard-interactive")
        # The module is killed (SIGTERM to sshd's process group) while it
        # waits in pam_prompt(), so the line it logged when the flow started
        # is the trace an administrator finds; nothing was accepted.
        self.assertTrue(any("device flow started for alice from 127.0.0.1" in l for l in s.syslog), s.syslog)
        self.assertFalse(any("login accepted" in l for l in s.syslog), s.syslog)


if __name__ == "__main__":
    unittest.main()
