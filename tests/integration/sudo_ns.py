"""Real sudo, run inside a private mount namespace (unshare -m) so that the
test's own /etc/pam.d/sudo, /etc/sudoers.d, passwd and group are seen by
sudo without changing the host's.  sudo is setuid, so pam_wrapper cannot be
preloaded into it (ld.so ignores LD_PRELOAD); bind mounts can.

sudo's pam_syslog lines go to /dev/log.  The namespace gets a /dev of its
own (a tmpfs with the device nodes sudo needs bound back in) whose /dev/log
is a datagram socket this test reads, so the module's log lines can be
asserted like everywhere else.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading

USERS = {"alice": 2001, "bob": 2002}
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")


class SudoNamespace:
    def __init__(self, pam_stack):
        self.dir = tempfile.mkdtemp(prefix="pamory-sudo-")
        os.chmod(self.dir, 0o755)
        self._write_identity_files()
        self._write("pam.sudo", pam_stack)
        os.mkdir(self._path("sudoers.d"), 0o755)
        names = ",".join(USERS)
        self._write("sudoers.d/pam_ory", f"Defaults:{names} !lecture, timestamp_timeout=0, passwd_tries=1, "
                    "noninteractive_auth\n" + "".join(f"{u} ALL=(ALL:ALL) ALL\n" for u in USERS), 0o440)
        self.log_lines = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self._path("log.sock"))
        os.chmod(self._path("log.sock"), 0o666)
        threading.Thread(target=self._collect, daemon=True).start()

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _write(self, name, text, mode=0o644):
        with open(self._path(name), "w") as f:
            f.write(text)
        os.chmod(self._path(name), mode)

    def _write_identity_files(self):
        with open("/etc/passwd") as f:
            passwd = f.read()
        with open("/etc/group") as f:
            group = f.read()
        passwd += "".join(f"{u}:x:{uid}:{uid}:{u}:/nonexistent:/bin/sh\n" for u, uid in USERS.items())
        group += "".join(f"{u}:x:{uid}:\n" for u, uid in USERS.items())
        self._write("passwd", passwd)
        self._write("group", group)

    def _collect(self):
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                return
            self.log_lines.append(data.decode(errors="replace"))

    def run_sudo(self, user, command=("id", "-u"), timeout=60):
        """sudo -n COMMAND as user: no terminal, no prompt allowed."""
        d = self.dir
        binds = " && ".join([
            f"mount --bind {d}/passwd /etc/passwd", f"mount --bind {d}/group /etc/group",
            f"mount --bind {d}/pam.sudo /etc/pam.d/sudo", f"mount --bind {d}/sudoers.d /etc/sudoers.d",
            f"mkdir -p {d}/olddev", f"mount --bind /dev {d}/olddev",
            "mount -t tmpfs -o mode=755 tmpfs /dev",
            *[f"touch /dev/{n} && mount --bind {d}/olddev/{n} /dev/{n}" for n in DEV_NODES],
            f"touch /dev/log && mount --bind {d}/log.sock /dev/log",
        ])
        uid = USERS[user]
        script = f'{binds} && exec setpriv --reuid={uid} --regid={uid} --clear-groups "$@"'
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_PRELOAD", "PAM_WRAPPER", "NSS_WRAPPER"))}
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                               "sudo", "-n", *command], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, env=env)

    def cleanup(self):
        self._sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)
