"""Token mode (the password is a token), introspection, acct_mgmt, and the
cross-process JWKS/discovery cache, through real libpam against the dev IdP."""
import base64
import glob
import json
import os
import threading
import unittest

from harness import CLIENT_SECRETS, MODULE, PAM_TEXT, IdpTestCase, run_pamtester
from tokens import PAM_CODES, introspect, obtain_tokens, pam_token_login


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_kid(jwt: str, kid: str) -> str:
    """The same token with another kid in its header: a forgery whose key
    lookup fails (and whose signature would not verify anyway)."""
    head, payload, sig = jwt.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    header["kid"] = kid
    return ".".join([b64url(json.dumps(header).encode()), payload, sig])


class TokenCase(IdpTestCase):
    def setUp(self):
        super().setUp()
        self.cache = self.pam.path("cache")

    def configure(self, *extra, args="", service="token-test", client="pam-ory-public"):
        self.pam.configure(service, [f"issuer = {self.idp.issuer}", f"client_id = {client}", "mode = token",
                                     f"admin_url = {self.idp.issuer}", f"cache_dir = {self.cache}", *extra], args)

    def login(self, token, user="alice", ops=("authenticate",), service="token-test"):
        return pam_token_login(self.pam, service, user, token, ops)

    def assertRc(self, result, name, step="authenticate"):
        self.assertEqual(result.rc, PAM_CODES[name], f"expected {name}:\n" + "\n".join(result.syslog))
        if name != "PAM_SUCCESS":
            self.assertEqual(result.failed, step)


    def stats(self):
        return self.idp.stats()

    def assertNoSecret(self, result, *secrets):
        for s in secrets:
            self.assertNotIn(s, result.stderr)


class TokenModeTest(TokenCase):
    def test_opaque_access_token_through_pamtester(self):
        tokens = obtain_tokens(self.idp)
        self.assertTrue(tokens["access_token"].startswith("ory_at_"))
        self.configure()
        r = run_pamtester(self.pam, "token-test", "alice", None, ops=("authenticate",),
                          stdin_text=tokens["access_token"] + "\n")
        self.assertIn(PAM_TEXT["PAM_SUCCESS"], r.output)
        self.assertNotIn(tokens["access_token"], r.output)

    def test_opaque_token_of_another_user(self):
        tokens = obtain_tokens(self.idp, sub="bob")
        self.configure()
        r = self.login(tokens["access_token"], user="alice")
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"is not user alice")

    def test_opaque_token_of_another_client(self):
        """A token some other application obtained is not a login token here."""
        token = obtain_tokens(self.idp)["access_token"]   # issued to pam-ory-public
        secret = self.pam.write_file("basic.secret", CLIENT_SECRETS["pam-ory-basic"], 0o600)
        self.configure(f"client_secret_file = {secret}", client="pam-ory-basic")
        r = self.login(token)
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"neither client_id nor in allowed_clients")
        self.configure(f"client_secret_file = {secret}", "allowed_clients = pam-ory-public",
                       client="pam-ory-basic")
        self.assertRc(self.login(token), "PAM_SUCCESS")

    def test_freshness_checks_need_a_jwt(self):
        token = obtain_tokens(self.idp)["access_token"]
        self.configure("max_auth_age = 3600")
        r = self.login(token)
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"need a JWT")

    def test_jwt_id_token_and_jwt_access_token(self):
        self.configure()
        id_token = obtain_tokens(self.idp)["id_token"]
        self.assertRc(self.login(id_token), "PAM_SUCCESS")
        jwt_at = obtain_tokens(self.idp, client="pam-ory-jwt", scope="openid sudo")["access_token"]
        self.assertEqual(jwt_at.count("."), 2)
        # Issued to another client: refused until allowed_clients names it.
        r = self.login(jwt_at)
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"allowed client")
        self.configure("allowed_clients = pam-ory-jwt")
        r = self.login(jwt_at)
        self.assertRc(r, "PAM_SUCCESS")
        self.assertNoSecret(r, jwt_at, id_token)

    def test_required_scope_on_a_jwt(self):
        self.configure("required_scope = sudo", "allowed_clients = pam-ory-jwt")
        good = obtain_tokens(self.idp, client="pam-ory-jwt", scope="openid sudo")["access_token"]
        self.assertRc(self.login(good), "PAM_SUCCESS")
        bare = obtain_tokens(self.idp, client="pam-ory-jwt", scope="openid")["access_token"]
        r = self.login(bare)
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"scope")

    def test_expired_and_tampered_jwts(self):
        self.configure()
        for tamper, why in (("expired", "expired"), ("signature", "signature")):
            with self.subTest(tamper=tamper):
                token = obtain_tokens(self.idp, tamper=tamper)["id_token"]
                r = self.login(token)
                self.assertRc(r, "PAM_AUTH_ERR")
                self.assertLogged(r, why)

    def test_garbage_and_oversized_input(self):
        self.configure()
        r = self.login("not-a-token")
        self.assertRc(r, "PAM_AUTH_ERR")
        r = self.login("eyJ" + "A" * 200000 + ".x.y")
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"too long")
        r = self.login("")
        self.assertRc(r, "PAM_AUTH_ERR")

    def test_refresh_token_refused(self):
        tokens = obtain_tokens(self.idp, scope="openid offline_access")
        self.configure()
        r = self.login(tokens["refresh_token"])
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"refresh token, not an access token")

    def test_revoked_token_refused(self):
        tokens = obtain_tokens(self.idp)
        self.idp.post("/oauth2/revoke", token=tokens["access_token"], client_id="pam-ory-public")
        self.configure()
        r = self.login(tokens["access_token"])
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"not active|inactive")

    def test_malformed_introspection_answers(self):
        tokens = obtain_tokens(self.idp, scope="openid")
        good = introspect(self.idp, tokens["access_token"])
        self.assertIs(good["active"], True)
        self.configure("allowed_clients = pam-ory-public", "required_scope = openid")
        cases = {
            "active as a string": dict(good, active="true"),
            "no exp": {k: v for k, v in good.items() if k != "exp"},
            "expired": dict(good, exp=1000),
            "wrong client": dict(good, client_id="someone-else"),
            "missing scope": dict(good, scope="profile"),
            "refresh token": dict(good, token_use="refresh_token"),
            "no token_use": {k: v for k, v in good.items() if k != "token_use"},
            "other issuer": dict(good, iss="https://evil.example.com/"),
        }
        for name, body in cases.items():
            with self.subTest(name):
                self.idp.post("/test/introspect-next", body=json.dumps(body))
                r = self.login(tokens["access_token"])
                self.assertRc(r, "PAM_AUTH_ERR")
        self.idp.post("/test/introspect-next", clear="1")
        self.assertRc(self.login(tokens["access_token"]), "PAM_SUCCESS")

    def test_use_first_pass(self):
        tokens = obtain_tokens(self.idp)
        conf = self.pam.write_file("first.conf", "\n".join([
            f"issuer = {self.idp.issuer}", "client_id = pam-ory-public", "mode = token",
            f"admin_url = {self.idp.issuer}", f"cache_dir = {self.cache}"]) + "\n")
        # pam_unix asks for the password and keeps it as PAM_AUTHTOK; it fails
        # (alice has no password), and pam_ory takes the token from there.
        self.pam.write_service("first-pass", "auth optional pam_unix.so\n"
                               f"auth required {MODULE} config={conf} use_first_pass\n")
        self.assertRc(pam_token_login(self.pam, "first-pass", "alice", tokens["access_token"]), "PAM_SUCCESS")

    def test_acct_mgmt_sees_revocation(self):
        """With introspect=yes, acct_mgmt asks the IdP again: a consent revoked
        between authenticate and acct_mgmt (here by pam_exec, right after
        pam_ory in the auth stack) ends the login there."""
        tokens = obtain_tokens(self.idp, sub="alice")
        conf = self.pam.write_file("acct.conf", "\n".join([
            f"issuer = {self.idp.issuer}", "client_id = pam-ory-public", "mode = token", "introspect = yes",
            f"admin_url = {self.idp.issuer}", f"cache_dir = {self.cache}"]) + "\n")
        line = f"{MODULE} config={conf}"
        self.pam.write_service("acct", f"auth required {line}\naccount required {line}\n")
        self.assertRc(pam_token_login(self.pam, "acct", "alice", tokens["access_token"],
                                      ("authenticate", "acct_mgmt")), "PAM_SUCCESS")
        revoke = self.pam.write_file("revoke.py", "#!/usr/bin/python3\nimport urllib.request\n"
                                     "urllib.request.urlopen(urllib.request.Request("
                                     f"'{self.idp.issuer}admin/oauth2/auth/sessions/consent?subject=alice&all=true',"
                                     " method='DELETE'), timeout=10)\n", 0o755)
        self.pam.write_service("acct", f"auth required {line}\nauth optional pam_exec.so {revoke}\n"
                               f"account required {line}\n")
        tokens = obtain_tokens(self.idp, sub="alice")
        r = pam_token_login(self.pam, "acct", "alice", tokens["access_token"], ("authenticate", "acct_mgmt"))
        self.assertRc(r, "PAM_PERM_DENIED", step="acct_mgmt")
        self.assertLogged(r, r"no longer active|not active")

    def test_acct_mgmt_ignores_other_modules_logins(self):
        self.pam.write_service("other-auth", "auth required pam_permit.so\n"
                               f"account required pam_permit.so\naccount required {MODULE} "
                               f"issuer={self.idp.issuer} client_id=pam-ory-public\n")
        # pam_ory's PAM_IGNORE leaves the account stack to pam_permit.
        self.assertRc(pam_token_login(self.pam, "other-auth", "alice", "x", ("authenticate", "acct_mgmt")),
                      "PAM_SUCCESS")


class BearerKeyTest(TokenCase):
    """Ory Network: the admin API wants an API key as a bearer token."""
    idp_env = {"ADMIN_TOKEN": "ory_pat_test_key_0123456789"}

    def test_bearer_key_sent_and_required(self):
        tokens = obtain_tokens(self.idp)
        key = self.pam.write_file("admin.key", "ory_pat_test_key_0123456789\n", 0o600)
        self.configure(f"admin_token_file = {key}")
        r = self.login(tokens["access_token"])
        self.assertRc(r, "PAM_SUCCESS")
        self.assertNoSecret(r, "ory_pat_test_key_0123456789")
        self.configure()
        r = self.login(tokens["access_token"])
        self.assertRc(r, "PAM_SERVICE_ERR")
        self.assertLogged(r, r"refused|401")


class CacheTest(TokenCase):
    """One JWKS and discovery fetch serves every process on the host."""
    idp_env = {"JWKS_MAX_AGE": "300"}

    def test_parallel_logins_share_one_fetch(self):
        token = obtain_tokens(self.idp)["id_token"]
        self.configure()
        self.idp.reset_stats()
        # 16: pam_wrapper names each process's config copy /tmp/pam.<one char>,
        # so far more wrapped processes at once collide (bench/ runs 50 without it).
        results = [None] * 16
        def one(i):
            results[i] = self.login(token)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertTrue(all(r.rc == 0 for r in results), [r.syslog for r in results if r.rc])
        s = self.stats()
        print(f"\n  16 concurrent token logins: discovery {s['discovery']}, jwks {s['jwks']} requests", end=" ")
        self.assertEqual(s["discovery"], 1)
        self.assertEqual(s["jwks"], 1)
        for f in glob.glob(os.path.join(self.cache, "*.json")):
            st = os.stat(f)
            self.assertEqual(st.st_mode & 0o777, 0o600, f)
        self.assertEqual(os.stat(self.cache).st_mode & 0o777, 0o700)

    def test_forged_kids_cause_at_most_one_fetch(self):
        token = obtain_tokens(self.idp)["id_token"]
        self.configure()
        self.assertRc(self.login(token), "PAM_SUCCESS")   # warm the cache
        self.idp.reset_stats()
        for i in range(25):
            r = self.login(with_kid(token, f"forged-{i}"))
            self.assertRc(r, "PAM_AUTH_ERR")
        s = self.stats()
        print(f"\n  25 forged kids: jwks {s['jwks']} requests", end=" ")
        self.assertLessEqual(s["jwks"], 1)
        self.assertLogged(r, r"kid")


class RotationTest(TokenCase):
    """Keys rotate at the IdP mid-run."""
    idp_env = {"JWKS_MAX_AGE": "300"}

    def test_rotation(self):
        self.configure()
        old = obtain_tokens(self.idp)["id_token"]
        self.assertRc(self.login(old), "PAM_SUCCESS")   # JWKS with the old key is cached
        self.idp.post("/test/rotate-key", drop_old="1")
        new = obtain_tokens(self.idp)["id_token"]
        self.idp.reset_stats()
        self.assertRc(self.login(new), "PAM_SUCCESS")   # unknown kid: one refetch
        self.assertEqual(self.stats()["jwks"], 1)
        r = self.login(old)                             # its key is gone from the JWKS
        self.assertRc(r, "PAM_AUTH_ERR")
        self.assertLogged(r, r"kid")
        self.assertEqual(self.stats()["jwks"], 1)       # rate-limited: no second fetch


class StaleCacheTest(TokenCase):
    """The IdP goes away: a cached JWKS may still verify, for jwks_max_stale."""
    idp_env = {"JWKS_MAX_AGE": "1", "DISCOVERY_MAX_AGE": "1"}

    def age_cache(self, seconds):
        """Make every entry look fetched `seconds` earlier (as time passing would)."""
        for f in glob.glob(os.path.join(self.cache, "*.json")):
            with open(f) as fh:
                entry = json.load(fh)
            for k in ("fetched", "expires"):
                if isinstance(entry.get(k), int):
                    entry[k] -= seconds
            with open(f, "w") as fh:
                json.dump(entry, fh)

    def test_stale_cache_when_idp_down(self):
        token = obtain_tokens(self.idp)["id_token"]
        self.configure("jwks_max_stale = 3600")
        self.assertRc(self.login(token), "PAM_SUCCESS")
        self.idp.stop()
        self.age_cache(600)         # expired 10 minutes ago, within jwks_max_stale
        r = self.login(token)
        self.assertRc(r, "PAM_SUCCESS")
        self.assertLogged(r, r"cached")
        self.age_cache(7200)        # beyond jwks_max_stale
        r = self.login(token)
        self.assertRc(r, "PAM_AUTHINFO_UNAVAIL")


if __name__ == "__main__":
    unittest.main()
