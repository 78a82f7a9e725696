"""Helpers for token-mode tests: real tokens from the dev IdP, and PAM logins
whose password is a token.

pamtester reads the password through libpam_misc's conversation, which cuts
every answer at PAM_MAX_RESP_SIZE (512) bytes: enough for Hydra's opaque
tokens (about 90 bytes), too little for a JWT.  JWT logins therefore go
through libpamtest (python3-pypamtest), whose conversation passes answers
whole; it drives the same real libpam under pam_wrapper.
"""
import json
import subprocess
import urllib.parse
import urllib.request

from harness import PamEnv

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _post(url, form, headers=None):
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def obtain_tokens(idp, client="pam-ory-public", sub="alice", scope="openid offline_access", **approve):
    """A complete device flow through the IdP's API: what a user's own
    device would have done.  Returns the token response."""
    status, auth = _post(idp.issuer + "oauth2/device/auth", {"client_id": client, "scope": scope})
    assert status == 200, auth
    status, body = idp.post("/test/approve", user_code=auth["user_code"], sub=sub, **approve)
    assert status == 200, body
    status, tokens = _post(idp.issuer + "oauth2/token", {
        "grant_type": DEVICE_GRANT, "device_code": auth["device_code"], "client_id": client})
    assert status == 200, tokens
    return tokens


def introspect(idp, token, bearer=None):
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return _post(idp.issuer + "admin/oauth2/introspect", {"token": token}, headers)[1]


class LoginResult:
    def __init__(self, rc, failed, stderr):
        self.rc = rc            # 0, or the PAM code of the step that failed
        self.failed = failed    # None, "authenticate" or "acct_mgmt"
        self.stderr = stderr

    @property
    def syslog(self):
        return [l for l in self.stderr.splitlines() if "SYSLOG" in l]


PAM_CODES = {"PAM_SUCCESS": 0, "PAM_SERVICE_ERR": 3, "PAM_PERM_DENIED": 6, "PAM_AUTH_ERR": 7,
             "PAM_AUTHINFO_UNAVAIL": 9, "PAM_USER_UNKNOWN": 10, "PAM_IGNORE": 25}

_DRIVER = r'''
import json, re, sys, pypamtest
service, user, ops = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
kinds = {"authenticate": pypamtest.PAMTEST_AUTHENTICATE, "acct_mgmt": pypamtest.PAMTEST_ACCOUNT}
names = {v: k for k, v in kinds.items()}
try:
    pypamtest.run_pamtest(user, service, [pypamtest.TestCase(kinds[o]) for o in ops], [sys.stdin.read()])
    print(json.dumps({"rc": 0, "failed": None}))
except pypamtest.PamTestError as e:
    # "... Test case { pam_operation [N] ... } returned [R]": which step failed, and its PAM code
    m = re.search(r"pam_operation \[(\d+)\].*returned \[(\d+)\]", str(e))
    print(json.dumps({"rc": int(m.group(2)), "failed": names.get(int(m.group(1)))} if m else {"error": str(e)}))
'''


def pam_token_login(pam: PamEnv, service, user, token, ops=("authenticate",), extra_env=None):
    """Authenticate with token as the password through real libpam
    (libpamtest under pam_wrapper).  Returns LoginResult."""
    env = pam.environ()
    env.update(extra_env or {})
    p = subprocess.run(["/usr/bin/python3", "-c", _DRIVER, service, user, ",".join(ops)],
                       input=token, env=env, capture_output=True, text=True, timeout=60)
    try:
        out = json.loads(p.stdout.strip().splitlines()[-1])
        rc, failed = out["rc"], out["failed"]
    except (IndexError, ValueError, KeyError):
        raise AssertionError(f"PAM driver failed: {p.stdout}\n{p.stderr}")
    return LoginResult(rc, failed, p.stderr)
