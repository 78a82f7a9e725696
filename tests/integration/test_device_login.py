"""Device-flow login through real libpam and pamtester against the dev IdP.

Each test configures a PAM service using pam_ory, runs pamtester as the
user, plays the user's phone (approve / deny / nothing) when the prompt
shows the user code, and checks the PAM result, what the user saw, and the
module's syslog lines.
"""
import os
import re
import socket
import subprocess
import time
import unittest

from harness import (CLIENT_SECRETS, PAM_TEXT, Idp, IdpTestCase, PamEnv, require_setup, run_pamtester)


def conf_for(idp, client="pam-ory-public", extra=()):
    return [f"issuer = {idp.issuer}", f"client_id = {client}", "qr = off", *extra]


class DeviceLoginTest(IdpTestCase):
    """Cases sharing one IdP with a 600 s device-code lifetime."""

    # -- helpers ---------------------------------------------------------
    def approve(self, sub="alice", **extra):
        def respond(code):
            status, body = self.idp.post("/test/approve", user_code=code, sub=sub, **extra)
            self.assertEqual(status, 200, body)
        return respond

    def deny(self, code):
        status, body = self.idp.post("/test/deny", user_code=code)
        self.assertEqual(status, 200, body)

    def login(self, user="alice", respond=None, conf=None, args="", service="login-test", **kw):
        self.pam.configure(service, conf if conf is not None else conf_for(self.idp), args)
        return run_pamtester(self.pam, service, user, respond, **kw)

    def assertPam(self, result, code):
        self.assertIn(PAM_TEXT[code], result.output,
                      f"expected {code}; rc={result.returncode}\n{result.output}")
        self.assertEqual(result.returncode == 0, code == "PAM_SUCCESS", result.output)


    # -- success ---------------------------------------------------------
    def test_success_public_client(self):
        r = self.login(respond=self.approve("alice"))
        self.assertPam(r, "PAM_SUCCESS")
        self.assertIn("account management done", r.output)   # acct_mgmt after our authenticate
        self.assertLogged(r, r"login accepted: user alice, subject sha256:[0-9a-f]{8}")

    def test_prompt_shows_host_service_url_and_code(self):
        r = self.login(respond=self.approve("alice"))
        self.assertPam(r, "PAM_SUCCESS")
        self.assertRegex(r.user_code, r"^[abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679]{8}$")
        self.assertIn(socket.gethostname(), r.prompt)
        self.assertIn("login-test", r.prompt)
        self.assertIn("alice", r.prompt)
        self.assertIn(self.idp.issuer + "oauth2/device/verify", r.prompt)
        self.assertTrue(r.prompt.rstrip().endswith("Press Enter after you have approved:"), r.prompt)

    def test_qr_ascii_is_in_the_same_prompt(self):
        conf = conf_for(self.idp)[:-1] + ["qr = ascii"]
        r = self.login(respond=self.approve("alice"), conf=conf)
        self.assertPam(r, "PAM_SUCCESS")
        self.assertIn("##", r.prompt)
        self.assertTrue(all(c == "\n" or 0x20 <= ord(c) < 0x7f for c in r.prompt), "non-ASCII in prompt")

    def test_success_client_secret_basic_es256(self):
        secret = self.pam.write_file("basic.secret", CLIENT_SECRETS["pam-ory-basic"] + "\n", 0o600)
        conf = conf_for(self.idp, "pam-ory-basic", [f"client_secret_file = {secret}"])
        r = self.login(respond=self.approve("alice"), conf=conf)
        self.assertPam(r, "PAM_SUCCESS")

    def test_success_client_secret_post(self):
        secret = self.pam.write_file("post.secret", CLIENT_SECRETS["pam-ory-post"], 0o600)
        conf = conf_for(self.idp, "pam-ory-post",
                        [f"client_secret_file = {secret}", "client_auth_method = client_secret_post"])
        r = self.login(respond=self.approve("alice"), conf=conf)
        self.assertPam(r, "PAM_SUCCESS")

    def test_module_arguments_override_the_file(self):
        conf = conf_for(self.idp, "no-such-client")
        r = self.login(respond=self.approve("alice"), conf=conf, args="client_id=pam-ory-public")
        self.assertPam(r, "PAM_SUCCESS")

    def test_map_file_maps_subject_to_user(self):
        mapf = self.pam.write_file("map", "# subject  local user\nuser-123 alice\nuser-456 bob\n")
        conf = conf_for(self.idp, extra=[f"map_file = {mapf}"])
        r = self.login(respond=self.approve("user-123"), conf=conf)
        self.assertPam(r, "PAM_SUCCESS")
        r = self.login("bob", respond=self.approve("user-123"), conf=conf)
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"is not mapped to user bob")

    def test_username_claim(self):
        conf = conf_for(self.idp, extra=["username_claim = preferred_username"])
        r = self.login(respond=self.approve("user-789", claims='{"preferred_username":"alice"}'), conf=conf)
        self.assertPam(r, "PAM_SUCCESS")

    def test_step_up_requires_granted_scope(self):
        """sudo by step-up: the fresh tokens' granted scope must hold required_scope."""
        conf = conf_for(self.idp, extra=["scope = openid sudo", "required_scope = sudo"])
        r = self.login(respond=self.approve("alice", scope="openid"), conf=conf)
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r'scope "sudo" of required_scope was not granted')
        r = self.login(respond=self.approve("alice"), conf=conf)
        self.assertPam(r, "PAM_SUCCESS")

    def test_max_auth_age_and_acr(self):
        """Freshness and assurance level from the ID token (step-up policies)."""
        conf = conf_for(self.idp, extra=["max_auth_age = 300"])
        r = self.login(respond=self.approve("alice", auth_time="1000000000"), conf=conf)
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"older than max_auth_age")
        conf = conf_for(self.idp, extra=["required_acr = mfa"])
        r = self.login(respond=self.approve("alice", acr="pwd"), conf=conf)
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"acr")
        r = self.login(respond=self.approve("alice", acr="mfa"), conf=conf)
        self.assertPam(r, "PAM_SUCCESS")

    def test_root_allowed_only_with_allow_root(self):
        r = self.login("root", respond=self.approve("root"))
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertIsNone(r.user_code, "a device flow was started for a refused root login")
        self.assertLogged(r, r"uid 0 needs allow_root=yes")
        conf = conf_for(self.idp, extra=["allow_root = yes"])
        r = self.login("root", respond=self.approve("root"), conf=conf)
        self.assertPam(r, "PAM_SUCCESS")

    # -- failures --------------------------------------------------------
    def test_denied(self):
        r = self.login(respond=self.deny)
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"denied at the IdP")

    def test_other_users_identity_is_refused(self):
        r = self.login("alice", respond=self.approve("bob"))
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"sub sha256:[0-9a-f]{8} is not user alice")

    def test_unknown_user_starts_no_flow(self):
        self.idp.reset_stats()
        r = self.login("mallory", respond=self.approve("mallory"))
        self.assertPam(r, "PAM_USER_UNKNOWN")
        self.assertEqual(self.idp.stats()["device_auth"], 0)
        self.assertLogged(r, r"user mallory is unknown")

    def test_bad_signature(self):
        r = self.login(respond=self.approve("alice", tamper="signature"))
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"signature")

    def test_wrong_audience_and_issuer_and_expiry(self):
        for tamper, why in (("audience", "audience"), ("issuer", "issuer"), ("expired", "expired")):
            with self.subTest(tamper=tamper):
                r = self.login(respond=self.approve("alice", tamper=tamper))
                self.assertPam(r, "PAM_AUTH_ERR")
                self.assertLogged(r, why)

    def test_unknown_config_key(self):
        conf = conf_for(self.idp, extra=["colour = blue"])
        r = self.login(respond=self.approve("alice"), conf=conf)
        self.assertPam(r, "PAM_SERVICE_ERR")
        self.assertLogged(r, r"colour")

    def test_missing_issuer(self):
        r = self.login(respond=self.approve("alice"), conf=["client_id = pam-ory-public"])
        self.assertPam(r, "PAM_SERVICE_ERR")
        self.assertLogged(r, r"issuer")

    def test_unsafe_config_file_refused(self):
        conf = self.pam.configure("login-test", conf_for(self.idp))
        os.chmod(conf, 0o666)
        r = run_pamtester(self.pam, "login-test", "alice", self.approve("alice"))
        self.assertPam(r, "PAM_SERVICE_ERR")
        self.assertLogged(r, re.escape(conf))

    def test_consent_mode_needs_admin_url(self):
        r = self.login(conf=conf_for(self.idp, extra=["mode = consent"]))
        self.assertPam(r, "PAM_SERVICE_ERR")
        self.assertLogged(r, r"mode=consent needs admin_url")

    def test_client_refused_by_idp_is_a_config_error(self):
        r = self.login(conf=conf_for(self.idp, "no-such-client"))
        self.assertPam(r, "PAM_SERVICE_ERR")
        self.assertLogged(r, r"refused the device authorization request.*invalid_client")

    def test_timeout(self):
        t0 = time.monotonic()
        r = self.login(respond=None, conf=conf_for(self.idp, extra=["timeout = 10"]))
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"not approved within timeout=10 s")
        self.assertLess(time.monotonic() - t0, 30)

    def test_slow_down_adds_five_seconds(self):
        self.idp.post("/test/slow-down", count="1")
        self.idp.reset_stats()
        r = self.login(respond=self.approve("alice"))
        self.assertPam(r, "PAM_SUCCESS")
        # interval 1 s: the first poll gets slow_down, the next one waits 1 + 5 s.
        self.assertGreaterEqual(r.elapsed, 6)
        self.assertEqual(self.idp.stats()["token"], 2)

    def test_requests_per_login(self):
        """A cold cache costs one discovery and one JWKS fetch; a warm one none."""
        self.idp.reset_stats()
        self.assertPam(self.login(respond=self.approve("alice")), "PAM_SUCCESS")
        cold = self.idp.stats()
        self.idp.reset_stats()
        self.assertPam(self.login(respond=self.approve("alice")), "PAM_SUCCESS")
        warm = self.idp.stats()
        print(f"\n  one device login: cold cache {cold}, warm cache {warm}", end=" ")
        self.assertEqual((cold["discovery"], cold["jwks"], cold["device_auth"], cold["token"]), (1, 1, 1, 1))
        self.assertEqual((warm["discovery"], warm["jwks"], warm["device_auth"], warm["token"]), (0, 0, 1, 1))

    def test_tokens_stay_valid_no_poll_after_success(self):
        self.idp.reset_stats()
        r = self.login(respond=self.approve("alice"))
        self.assertPam(r, "PAM_SUCCESS")
        # One poll got the tokens; another would be a replay that revokes the grant.
        self.assertEqual(self.idp.stats()["token"], 1)

    def test_no_secret_in_any_output(self):
        secret = self.pam.write_file("basic.secret", CLIENT_SECRETS["pam-ory-basic"] + "\n", 0o600)
        conf = conf_for(self.idp, "pam-ory-basic", [f"client_secret_file = {secret}"])
        outputs = [self.login(respond=self.approve("alice"), conf=conf, args="debug"),
                   self.login(respond=self.approve("bob"), conf=conf, args="debug"),
                   self.login(respond=self.approve("alice", tamper="signature"), conf=conf, args="debug"),
                   self.login(respond=self.deny, conf=conf, args="debug")]
        secrets = self.idp.issued_secrets()
        self.assertGreater(len(secrets), 4)
        for r in outputs:
            self.assertTrue(any("debug" in l or "device_code" in l for l in r.syslog) or r.syslog)
            for s in secrets:
                if len(s) >= 8:
                    self.assertNotIn(s, r.output, "a token or secret reached the output or log")


class ExpiryTest(IdpTestCase):
    """A device code that expires before anyone approves it (Hydra keeps
    answering authorization_pending; the module must stop by itself)."""
    idp_env = {"DEVICE_CODE_TTL": 4}

    def test_expired_code(self):
        self.pam.configure("login-test", conf_for(self.idp))
        r = run_pamtester(self.pam, "login-test", "alice", None)
        self.assertIn(PAM_TEXT["PAM_AUTH_ERR"], r.output)
        self.assertLogged(r, "device code expired")
        self.assertLess(r.elapsed, 20)


class IdpDownTest(unittest.TestCase):
    def test_unreachable_idp(self):
        require_setup()
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()   # nothing listens there now
        pam = PamEnv()
        try:
            pam.configure("login-test", [f"issuer = http://127.0.0.1:{port}/", "client_id = pam-ory-public"])
            r = run_pamtester(pam, "login-test", "alice", None)
            self.assertIn(PAM_TEXT["PAM_AUTHINFO_UNAVAIL"], r.output)
            self.assertTrue(any("failed" in l and f"127.0.0.1:{port}" in l for l in r.syslog), r.syslog)
        finally:
            pam.cleanup()


class TlsTest(unittest.TestCase):
    """The IdP over HTTPS with a private CA: trusted only through ca_file."""

    @classmethod
    def setUpClass(cls):
        require_setup()
        cls.pki = PamEnv()   # just a temp dir
        d = cls.pki.dir
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", "/CN=pam_ory test CA",
                        "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem"], check=True, capture_output=True)
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", "/CN=127.0.0.1", "-keyout", f"{d}/srv.key", "-out", f"{d}/srv.csr"],
                       check=True, capture_output=True)
        with open(f"{d}/ext", "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        subprocess.run(["openssl", "x509", "-req", "-in", f"{d}/srv.csr", "-CA", f"{d}/ca.pem",
                        "-CAkey", f"{d}/ca.key", "-CAcreateserial", "-days", "2", "-extfile", f"{d}/ext",
                        "-out", f"{d}/srv.pem"], check=True, capture_output=True)
        cls.idp = Idp(TLS_CERT=f"{d}/srv.pem", TLS_KEY=f"{d}/srv.key")
        cls.idp.cafile = f"{d}/ca.pem"
        cls.idp.start()

    @classmethod
    def tearDownClass(cls):
        cls.idp.stop()
        cls.pki.cleanup()

    def run_login(self, extra):
        pam = PamEnv()
        try:
            pam.configure("login-test", conf_for(self.idp, extra=extra))
            return run_pamtester(pam, "login-test", "alice",
                                 lambda code: self.idp.post("/test/approve", user_code=code, sub="alice"))
        finally:
            pam.cleanup()

    def test_https_with_ca_file(self):
        self.assertTrue(self.idp.issuer.startswith("https://127.0.0.1:"))
        r = self.run_login([f"ca_file = {self.idp.cafile}"])
        self.assertIn(PAM_TEXT["PAM_SUCCESS"], r.output)

    def test_https_untrusted_without_ca_file(self):
        r = self.run_login([])
        self.assertIn(PAM_TEXT["PAM_AUTHINFO_UNAVAIL"], r.output)
        self.assertTrue(any("certificate" in l.lower() for l in r.syslog), r.syslog)


if __name__ == "__main__":
    unittest.main()
