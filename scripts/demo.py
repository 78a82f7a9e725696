"""scripts/demo, after the build: start the dev IdP, set up a PAM service
using pam_ory under pam_wrapper, and run pamtester as alice."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import Idp, PamEnv, run_pamtester  # noqa: E402

SERVICE = "pam_ory-demo"


def main():
    approve = "--approve" in sys.argv[1:]
    if not approve and not sys.stdin.isatty():
        sys.exit("demo: no terminal to press Enter in; run 'scripts/demo --approve' instead")
    idp = Idp(PORT=os.environ.get("DEMO_PORT", "0"), DEVICE_INTERVAL="2").start()
    pam = PamEnv()
    try:
        pam.configure(SERVICE, [f"issuer = {idp.issuer}", "client_id = pam-ory-public", "qr = auto"])
        print(f"demo: dev IdP at {idp.issuer}; PAM service '{SERVICE}' uses pam_ory; logging in as alice\n")
        if approve:
            result = run_pamtester(pam, SERVICE, "alice", lambda code: print_and_approve(idp, code))
            print(readable(result.stderr + "\n" + result.stdout))
            rc = result.returncode
        else:
            print("demo: open the URL below in a browser on this machine, log in as 'alice' (any password),")
            print("      allow the request, then come back and press Enter.\n")
            env = pam.environ()
            env["PAM_WRAPPER_DEBUGLEVEL"] = "1"   # keep the screen readable; errors still show
            rc = subprocess.call(["pamtester", "-v", SERVICE, "alice", "authenticate", "acct_mgmt"], env=env)
        print("\ndemo: " + ("login succeeded" if rc == 0 else f"login failed (pamtester exit {rc})"))
        return rc
    finally:
        pam.cleanup()
        idp.stop()


def readable(text):
    """pamtester's output without pam_wrapper's chatter; the module's syslog
    lines (pam_wrapper prints them as "PWRAP_... SYSLOG(n): text") as "syslog: text"."""
    lines = []
    for line in text.splitlines():
        head, sep, tail = line.partition("PWRAP_")
        if sep:
            if head.strip():
                lines.append(head)
            m = re.search(r"SYSLOG\(\d\): (.*)", tail)
            if m:
                lines.append("syslog: " + m.group(1))
        else:
            lines.append(line)
    return "\n".join(lines)


def print_and_approve(idp, code):
    print(f"demo: approving user code {code} at the dev IdP as alice (what you would do on your phone)")
    status, body = idp.post("/test/approve", user_code=code, sub="alice")
    if status != 200:
        print(f"demo: approval failed: {status} {body}")


if __name__ == "__main__":
    sys.exit(main())
