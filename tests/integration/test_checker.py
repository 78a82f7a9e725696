"""pam_ory_check against the dev IdP: a good configuration passes, and each
kind of problem is reported on a line of its own with exit status 1.

pam_ory_check runs without nss_wrapper, as an administrator would run it, so
the map-file cases use real system users: root, and a name that does not
exist.  The empty-JWKS cases need an IdP that serves such a set, which the
dev IdP never does; a small http.server on 127.0.0.1 plays that IdP.
"""
import http.server
import json
import os
import pwd
import re
import socket
import subprocess
import threading
import unittest

from harness import CLIENT_SECRETS, IdpTestCase

BUILDDIR = os.environ.get("PAMORY_BUILDDIR",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
CHECKER = os.path.join(BUILDDIR, "pam_ory_check")
SECRET = CLIENT_SECRETS["pam-ory-basic"]
MISSING_USER = "pamory-no-such-user-7f3a"


def a_normal_user():
    """A real, non-root account of this machine, for a good map file."""
    for pw in pwd.getpwall():
        if pw.pw_uid != 0 and re.fullmatch(r"[a-z_][a-z0-9_-]*", pw.pw_name):
            return pw.pw_name
    raise RuntimeError("no non-root user in the passwd database")


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeIdp:
    """Serves a discovery document and a fixed JWKS on 127.0.0.1 (plain http)."""

    def __init__(self, jwks):
        body = json.dumps(jwks).encode()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    self.reply(json.dumps(outer.discovery).encode())
                elif self.path == "/jwks.json":
                    self.reply(body)
                else:
                    self.send_error(404)

            def reply(self, data):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.discovery = {
            "issuer": self.issuer,
            "jwks_uri": self.issuer + "jwks.json",
            "token_endpoint": self.issuer + "oauth2/token",
            "device_authorization_endpoint": self.issuer + "oauth2/device/auth",
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class CheckerTest(IdpTestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(CHECKER, os.X_OK):
            raise RuntimeError(f"{CHECKER} is not built (PAMORY_BUILDDIR={BUILDDIR})")
        super().setUpClass()

    # -- helpers ---------------------------------------------------------
    def conf(self, *extra, issuer=None, client="pam-ory-public", mode=0o644):
        lines = [f"issuer = {issuer or self.idp.issuer}", f"client_id = {client}", "qr = off",
                 *extra]
        return self.pam.write_file("pam_ory.conf", "".join(l + "\n" for l in lines), mode)

    def secret_file(self, mode=0o600):
        return self.pam.write_file("client.secret", SECRET + "\n", mode)

    def check(self, conf, *args, expect):
        r = subprocess.run([CHECKER, "--config", conf, *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, expect, out)
        self.assertNotIn(SECRET, out)   # whatever else happens, never the secret
        return r.stdout, out

    def assertProblem(self, out, pattern):
        lines = [l for l in out.splitlines() if l.startswith("problem: ")]
        self.assertTrue(any(re.search(pattern, l) for l in lines),
                        f"no problem line matches {pattern!r}:\n{out}")

    def assertSummary(self, out, problems):
        m = re.search(r"^summary: (\d+) ok, (\d+) problems?, (\d+) skipped$", out, re.M)
        self.assertIsNotNone(m, out)
        self.assertEqual(int(m.group(2)), problems, out)
        self.assertEqual(out.count("\nproblem: ") + out.startswith("problem: "), problems, out)

    # -- a good configuration ----------------------------------------------
    def test_good_config_passes_and_shows_effective_config(self):
        user = a_normal_user()
        secret = self.secret_file()
        mapf = self.pam.write_file("map", f"# subject user\nuser-123 {user}\n")
        conf = self.conf(f"client_secret_file = {secret}", f"map_file = {mapf}",
                         client="pam-ory-basic")
        out, _ = self.check(conf, "timeout=60", expect=0)
        self.assertSummary(out, 0)
        for what in (r"^ok: configuration: .*pam_ory\.conf and 1 module argument",
                     r"^ok: client_secret_file .*client\.secret",
                     r"^ok: map_file .*1 mapping",
                     r"^ok: issuer .*issuer matches",
                     r"^ok: JWKS .*[1-9]\d* usable signing key",
                     r"^ok: client_id pam-ory-basic: the device authorization endpoint accepts"):
            self.assertRegex(out, re.compile(what, re.M))
        self.assertIn(f"effective configuration ({conf}, then module arguments):", out)
        self.assertIn(f"    issuer = {self.idp.issuer}\n", out)
        self.assertIn("    timeout = 60\n", out)   # the argument won over the default
        self.assertIn(f"    client_secret_file = {secret} (ok)\n", out)
        self.assertIn(f"    map_file = {mapf} (ok)\n", out)
        self.assertIn("    scope = openid\n", out)
        self.assertIn("    admin_url = (not set)\n", out)

    def test_public_client_without_files(self):
        out, _ = self.check(self.conf(), expect=0)
        self.assertRegex(out, r"(?m)^ok: client_id pam-ory-public")
        self.assertSummary(out, 0)

    # -- configuration problems ---------------------------------------------
    def test_unknown_key(self):
        out, _ = self.check(self.conf("frobnicate = 1"), expect=1)
        self.assertProblem(out, r"^problem: configuration: .*line 4: frobnicate: unknown key")
        # The IdP is still checked: every problem, not just the first.
        self.assertRegex(out, r"(?m)^ok: issuer ")
        self.assertSummary(out, 1)

    def test_bad_value(self):
        out, _ = self.check(self.conf("timeout = soon"), expect=1)
        self.assertProblem(out, r"timeout: \"soon\" is not a whole number")
        self.assertSummary(out, 1)

    def test_every_problem_is_reported(self):
        secret = self.secret_file(0o644)
        conf = self.conf("frobnicate = 1", "qr = sometimes", f"client_secret_file = {secret}",
                         issuer=f"http://127.0.0.1:{closed_port()}/", client="pam-ory-basic")
        out, _ = self.check(conf, expect=1)
        self.assertProblem(out, r"frobnicate: unknown key")
        self.assertProblem(out, r"qr: \"sometimes\" is not one of")
        self.assertProblem(out, r"^problem: client_secret_file: .*unsafe mode 0644")
        self.assertProblem(out, r"^problem: issuer unreachable")
        self.assertSummary(out, 4)

    def test_group_writable_config_file(self):
        out, _ = self.check(self.conf(mode=0o664), expect=1)
        self.assertProblem(out, r"^problem: configuration: .*pam_ory\.conf: unsafe mode 0664")

    def test_module_argument_problem(self):
        out, _ = self.check(self.conf(), "timeout=5", expect=1)
        self.assertProblem(out, r"module argument: timeout: 5 is out of range")

    # -- files ---------------------------------------------------------------
    def test_secret_file_readable_by_others(self):
        secret = self.secret_file(0o644)
        conf = self.conf(f"client_secret_file = {secret}", client="pam-ory-basic")
        out, _ = self.check(conf, expect=1)
        self.assertProblem(out, r"^problem: client_secret_file: .*client\.secret: unsafe mode 0644")
        self.assertIn(f"    client_secret_file = {secret} (problem)\n", out)
        # Without the secret there is no way to try the client.
        self.assertRegex(out, r"(?m)^skipped: client: ")

    def test_missing_ca_file(self):
        out, _ = self.check(self.conf(f"ca_file = {self.pam.path('no-such-ca.pem')}"), expect=1)
        self.assertProblem(out, r"^problem: ca_file .*no-such-ca\.pem: cannot read")

    def test_map_file_with_missing_user_and_root(self):
        mapf = self.pam.write_file("map", f"user-1 {MISSING_USER}\n\nuser-2 root\nbroken line here\n")
        out, _ = self.check(self.conf(f"map_file = {mapf}"), expect=1)
        self.assertProblem(out, rf"map_file .*line 1: user \"{MISSING_USER}\" does not exist")
        self.assertProblem(out, r"map_file .*line 3: user \"root\" has uid 0")
        self.assertProblem(out, r"map_file: .*line 4: expected")
        self.assertIn(f"    map_file = {mapf} (problem)\n", out)
        self.assertSummary(out, 3)

    def test_root_in_map_file_with_allow_root(self):
        mapf = self.pam.write_file("map", "user-2 root\n")
        out, _ = self.check(self.conf(f"map_file = {mapf}", "allow_root = yes"), expect=0)
        self.assertRegex(out, r"(?m)^ok: map_file ")

    # -- the identity provider ------------------------------------------------
    def test_unreachable_issuer(self):
        out, _ = self.check(self.conf(issuer=f"http://127.0.0.1:{closed_port()}/"), expect=1)
        self.assertProblem(out, r"^problem: issuer unreachable: ")
        self.assertRegex(out, r"(?m)^skipped: JWKS and client: ")
        self.assertSummary(out, 1)

    def test_discovery_issuer_mismatch(self):
        issuer = self.idp.issuer.rstrip("/")
        out, _ = self.check(self.conf(issuer=issuer), expect=1)
        self.assertProblem(out, r"^problem: discovery issuer mismatch: ")
        self.assertIn(f'hint: the two differ only in the trailing slash; write "issuer = {self.idp.issuer}"',
                      out)

    def test_empty_jwks(self):
        with FakeIdp({"keys": []}) as fake:
            out, _ = self.check(self.conf(issuer=fake.issuer), expect=1)
        self.assertProblem(out, r"^problem: JWKS .*jwks\.json: empty or unusable")

    def test_jwks_without_usable_keys(self):
        keys = {"keys": [{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
                         {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}]}
        with FakeIdp(keys) as fake:
            out, _ = self.check(self.conf(issuer=fake.issuer), expect=1)
        self.assertProblem(out, r"^problem: JWKS .*empty or unusable")

    def test_client_refused(self):
        out, _ = self.check(self.conf(client="no-such-client"), expect=1)
        self.assertProblem(out, r"^problem: client refused: .*no-such-client.*invalid_client")
        self.assertSummary(out, 1)

    def test_scope_refused(self):
        out, _ = self.check(self.conf("scope = openid no-such-scope"), expect=1)
        self.assertProblem(out, r"^problem: client refused: .*invalid_scope")

    # -- command line ----------------------------------------------------------
    def test_usage(self):
        r = subprocess.run([CHECKER, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: pam_ory_check", r.stdout)
        r = subprocess.run([CHECKER, "--bogus"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option --bogus", r.stderr)
        r = subprocess.run([CHECKER, "--config"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)

    def test_missing_explicit_config_file(self):
        out, _ = self.check(self.pam.path("nonexistent.conf"), expect=1)
        self.assertProblem(out, r"^problem: configuration: .*nonexistent\.conf: cannot open")


if __name__ == "__main__":
    unittest.main()
