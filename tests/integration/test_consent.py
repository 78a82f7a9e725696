"""mode=consent: sudo authorized by a Hydra consent session, checked over
the admin API.  Every rule is tested through pamtester under pam_wrapper
(where the module's log lines are visible), and the decisive cases through
the real sudo in a private mount namespace."""
import os
import unittest

from harness import MODULE, PAM_TEXT, IdpTestCase, run_pamtester
from sudo_ns import SudoNamespace

SUBJECT = "sub-alice-123"


class ConsentCase(IdpTestCase):
    idp_env = {"CONSENT_PAGE_SIZE": "1"}   # so that a few consents span several pages

    def setUp(self):
        super().setUp()
        self.map = self.pam.write_file("map", f"{SUBJECT} alice\nsub-bob-456 bob\n")
        self.conf_lines = [f"issuer = {self.idp.issuer}", "client_id = pam-ory-public", "mode = consent",
                           f"admin_url = {self.idp.issuer}", f"map_file = {self.map}"]
        self.conf = self.pam.configure("sudo-test", self.conf_lines)
        self.revoke_all()

    def tearDown(self):
        self.revoke_all()
        super().tearDown()

    def revoke_all(self):
        for sub in (SUBJECT, "sub-bob-456"):
            self.idp.delete(f"/admin/oauth2/auth/sessions/consent?subject={sub}&all=true")

    def consent(self, client="pam-ory-public", scope="openid sudo", remember="true", remember_for=0,
                subject=SUBJECT, **extra):
        status, body = self.idp.post("/test/consent", subject=subject, client_id=client, grant_scope=scope,
                                     remember=remember, remember_for=str(remember_for), **extra)
        self.assertEqual(status, 200, body)
        return body["consent_request_id"]

    def pam_sudo(self, user="alice"):
        r = run_pamtester(self.pam, "sudo-test", user, None, ops=("authenticate",), stdin_text="")
        return r

    def assertPam(self, r, code):
        self.assertIn(PAM_TEXT[code], r.output, r.output)



class ConsentRulesTest(ConsentCase):
    def test_valid_consent_no_prompt(self):
        self.consent()
        r = self.pam_sudo()
        self.assertPam(r, "PAM_SUCCESS")
        self.assertNotIn("Press Enter", r.output)
        self.assertLogged(r, r"consent")

    def test_no_consent(self):
        r = self.pam_sudo()
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"no consent session")

    def test_revoked_consent(self):
        self.consent()
        self.assertPam(self.pam_sudo(), "PAM_SUCCESS")
        self.revoke_all()
        self.assertPam(self.pam_sudo(), "PAM_AUTH_ERR")

    def test_refusals(self):
        cases = [
            (dict(client="pam-ory-basic"), None),
            (dict(scope="openid profile"), "scope not granted"),
            (dict(remember="false"), "not remembered"),
            (dict(remember_for=60, handled_at="1000000000", requested_at="1000000000"), None),
        ]
        for kwargs, why in cases:
            with self.subTest(**kwargs):
                self.revoke_all()
                self.consent(**kwargs)
                r = self.pam_sudo()
                self.assertPam(r, "PAM_AUTH_ERR")
                if why:
                    self.assertLogged(r, why)

    def test_consent_max_age(self):
        self.consent(handled_at="1600000000", requested_at="1600000000")   # years ago, remember_for 0
        self.assertPam(self.pam_sudo(), "PAM_SUCCESS")
        self.pam.configure("sudo-test", self.conf_lines + ["consent_max_age = 3600"])
        r = self.pam_sudo()
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, "consent_max_age")

    def test_match_on_page_three(self):
        self.consent(client="pam-ory-basic")
        self.consent(scope="openid")
        self.consent()                       # the matching one, third of three
        self.idp.reset_stats()
        r = self.pam_sudo()
        self.assertPam(r, "PAM_SUCCESS")
        pages = self.idp.stats()["consent_list"]
        print(f"\n  consent on page 3 of 3: {pages} admin API requests", end=" ")
        self.assertEqual(pages, 3)

    def test_other_users_consent(self):
        self.consent(subject="sub-bob-456")
        self.assertPam(self.pam_sudo("alice"), "PAM_AUTH_ERR")

    def test_unmapped_user(self):
        r = self.pam_sudo("carol")
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"carol")

    def test_ambiguous_mapping(self):
        self.pam.write_file("map", f"{SUBJECT} alice\nsub-alice-other alice\n")
        r = self.pam_sudo()
        self.assertPam(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"ambiguous|several")

    def test_admin_api_unreachable(self):
        self.pam.configure("sudo-test", self.conf_lines[:3] + ["admin_url = http://127.0.0.1:9/",
                                                               f"map_file = {self.map}"])
        r = self.pam_sudo()
        self.assertPam(r, "PAM_AUTHINFO_UNAVAIL")


class BearerConsentTest(ConsentCase):
    idp_env = {"CONSENT_PAGE_SIZE": "1", "ADMIN_TOKEN": "ory_pat_consent_key_42"}

    def revoke_all(self):
        for sub in (SUBJECT, "sub-bob-456"):
            self.idp.delete(f"/admin/oauth2/auth/sessions/consent?subject={sub}&all=true",
                            bearer="ory_pat_consent_key_42")

    def test_bearer_key(self):
        self.consent()
        r = self.pam_sudo()
        self.assertPam(r, "PAM_SERVICE_ERR")            # no key configured: 401
        key = self.pam.write_file("key", "ory_pat_consent_key_42\n", 0o600)
        self.pam.configure("sudo-test", self.conf_lines + [f"admin_token_file = {key}"])
        r = self.pam_sudo()
        self.assertPam(r, "PAM_SUCCESS")
        self.assertNotIn("ory_pat_consent_key_42", r.output)


class RealSudoTest(ConsentCase):
    """The same decisions through /usr/bin/sudo itself."""

    def setUp(self):
        super().setUp()
        # sudo is setuid: no sanitizer runtime can be preloaded into it, so the
        # ASan pass of scripts/test points this at the normal build.
        module = os.environ.get("PAMORY_SUDO_MODULE", MODULE)
        self.ns = SudoNamespace(f"auth required {module} config={self.conf}\n"
                                "account required pam_permit.so\nsession required pam_permit.so\n")

    def tearDown(self):
        self.ns.cleanup()
        super().tearDown()

    def sudo(self, user="alice"):
        return self.ns.run_sudo(user)

    def test_sudo_with_consent_then_revoked(self):
        self.consent()
        r = self.sudo()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "0")          # the command ran as root, no prompt
        self.assertTrue(any("consent" in l for l in self.ns.log_lines), self.ns.log_lines)
        self.revoke_all()
        r = self.sudo()
        self.assertNotEqual(r.returncode, 0)
        self.assertNotEqual(r.stdout.strip(), "0")
        self.assertTrue(any("no consent session" in l for l in self.ns.log_lines), self.ns.log_lines)

    def test_sudo_refusals(self):
        for kwargs in (dict(client="pam-ory-basic"), dict(scope="openid"),
                       dict(remember_for=60, handled_at="1000000000", requested_at="1000000000")):
            with self.subTest(**kwargs):
                self.revoke_all()
                self.consent(**kwargs)
                r = self.sudo()
                self.assertNotEqual(r.returncode, 0)
                self.assertNotEqual(r.stdout.strip(), "0")

    def test_sudo_consent_on_page_three(self):
        self.consent(client="pam-ory-basic")
        self.consent(scope="openid")
        self.consent()
        r = self.sudo()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "0")


if __name__ == "__main__":
    unittest.main()
