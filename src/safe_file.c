/*
 * Reading trusted files: the config file and map file decide who may log in,
 * the secret files hold credentials.  Every check is made on the open file
 * descriptor, never on the path, so the file cannot be swapped between the
 * check and the read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_file.h"
#include "secret.h"

/*
 * O_NOFOLLOW refuses a symlink as the last component; O_NONBLOCK keeps a
 * FIFO planted at the path from blocking the login (fstat then refuses it).
 */
static int open_file(const struct pamory_log *log, const char *path, bool missing_ok)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd >= 0)
        return fd;
    if (errno == ENOENT && missing_ok)
        return -2;
    if (errno == ELOOP)
        pamory_err(log, "%s: is a symbolic link, refusing to follow it", path);
    else
        pamory_err(log, "%s: cannot open: %s", path, strerror(errno));
    return -1;
}

/*
 * Owner and mode rules.  The owner may be root or ourselves: a non-root
 * process (a test, a screen locker) gains nothing by trusting its own files,
 * while anyone else could have planted them.
 */
static int check_stat(const struct pamory_log *log, const char *path,
                      const struct stat *st, enum pamory_file_kind kind)
{
    mode_t perm = st->st_mode & 07777;

    if (!S_ISREG(st->st_mode)) {
        pamory_err(log, "%s: not a regular file", path);
        return -1;
    }
    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        pamory_err(log, "%s: owned by uid %lu, must be owned by root",
                   path, (unsigned long)st->st_uid);
        return -1;
    }
    if (kind == PAMORY_FILE_SECRET && (perm & 0027) != 0) {
        pamory_err(log, "%s: unsafe mode %04o for a secret: no group write and no access "
                   "for others allowed (chmod 0600)", path, (unsigned)perm);
        return -1;
    }
    if ((perm & 0022) != 0) {
        pamory_err(log, "%s: unsafe mode %04o: writable by group or others (chmod go-w)",
                   path, (unsigned)perm);
        return -1;
    }
    if (st->st_size > PAMORY_FILE_MAX) {
        pamory_err(log, "%s: too large (%lld bytes, at most %d)",
                   path, (long long)st->st_size, PAMORY_FILE_MAX);
        return -1;
    }
    return 0;
}

/*
 * Read everything into buf (cap bytes).  Reading one byte more than fstat
 * promised tells a file that grew meanwhile, which is refused rather than
 * silently cut.  Returns the byte count or -1.
 */
static ssize_t read_all(const struct pamory_log *log, const char *path, int fd,
                        char *buf, size_t cap)
{
    size_t n = 0;

    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);

        if (r == 0)
            return (ssize_t)n;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            pamory_err(log, "%s: cannot read: %s", path, strerror(errno));
            return -1;
        }
        n += (size_t)r;
    }
    pamory_err(log, "%s: changed while being read", path);
    return -1;
}

/* Every buffer is wiped on error: it may hold (part of) a secret. */
int pamory_read_file(const struct pamory_log *log, const char *path,
                     enum pamory_file_kind kind, bool missing_ok,
                     char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = -1;
    int fd;

    *out = NULL;
    if (path == NULL || path[0] != '/') {
        pamory_err(log, "%s: not an absolute path", path != NULL ? path : "(null)");
        return -1;
    }
    fd = open_file(log, path, missing_ok);
    if (fd == -2)
        return 1;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0)
        pamory_err(log, "%s: cannot stat: %s", path, strerror(errno));
    else if (check_stat(log, path, &st, kind) == 0) {
        cap = (size_t)st.st_size + 1;
        buf = malloc(cap);
        if (buf == NULL)
            pamory_err(log, "%s: out of memory", path);
        else
            n = read_all(log, path, fd, buf, cap);
    }
    close(fd);
    if (n >= 0 && memchr(buf, '\0', (size_t)n) != NULL) {
        pamory_err(log, "%s: contains a NUL byte", path);
        n = -1;
    }
    if (n < 0) {
        pamory_secret_free_n(buf, cap);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    if (len != NULL)
        *len = (size_t)n;
    return 0;
}

/*
 * Exactly one line: editors add a final newline (and Windows ones a CR), so
 * one is dropped; a second line would mean the file is not what we think.
 */
int pamory_read_secret(const struct pamory_log *log, const char *path, char **secret)
{
    char *buf;
    size_t len;

    *secret = NULL;
    if (pamory_read_file(log, path, PAMORY_FILE_SECRET, false, &buf, &len) != 0)
        return -1;
    if (len > 0 && buf[len - 1] == '\n') {
        buf[--len] = '\0';
        if (len > 0 && buf[len - 1] == '\r')
            buf[--len] = '\0';
    }
    if (len == 0) {
        pamory_err(log, "%s: the secret is empty", path);
        pamory_secret_free(buf);
        return -1;
    }
    if (strpbrk(buf, "\r\n") != NULL) {
        pamory_err(log, "%s: holds more than one line; the secret must be its only line", path);
        pamory_secret_free(buf);
        return -1;
    }
    *secret = buf;
    return 0;
}

int pamory_read_optional_secret(const struct pamory_log *log, const char *path, char **secret)
{
    *secret = NULL;
    if (path == NULL || path[0] == '\0')
        return 0;
    return pamory_read_secret(log, path, secret);
}
