/*
 * Reading files that decide who may log in (the config file, map_file) or
 * that hold secrets (client_secret_file, admin_token_file).
 *
 * A file is trusted only if it is a regular file reached without following a
 * symlink in its last component, owned by root or by the process's own
 * effective uid (a non-root caller such as a test or a screen locker can gain
 * nothing from its own files), and not writable by group or others.  Secret
 * files must in addition not be readable or writable by others.
 */
#ifndef PAMORY_SAFE_FILE_H
#define PAMORY_SAFE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include "log.h"

enum pamory_file_kind {
    PAMORY_FILE_POLICY,   /* config, map file: may be world-readable */
    PAMORY_FILE_SECRET    /* secrets: no access at all for others */
};

/* Largest file we read; a config or secret file is never this large. */
#define PAMORY_FILE_MAX (256 * 1024)

/*
 * Read the whole file at path (absolute) into a NUL-terminated heap buffer.
 * On success returns 0 and sets *out (and *len if not NULL); the caller frees
 * it (with pamory_secret_free for secrets).  Returns -1 after logging one line
 * that names the file and the problem (missing, not regular, wrong owner,
 * unsafe mode, too large, unreadable, contains a NUL byte).
 * If missing_ok and the file does not exist, returns 1 without logging.
 */
int pamory_read_file(const struct pamory_log *log, const char *path,
                     enum pamory_file_kind kind, bool missing_ok,
                     char **out, size_t *len);

/*
 * Read a secret file holding one secret on its first line: the trailing
 * newline (and CR) is removed.  An empty secret is an error.
 * Same return values as pamory_read_file (never 1).
 */
int pamory_read_secret(const struct pamory_log *log, const char *path, char **secret);

/* Like pamory_read_secret, but a NULL or empty path is no secret: 0 with *secret NULL. */
int pamory_read_optional_secret(const struct pamory_log *log, const char *path, char **secret);

#endif
