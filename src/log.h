/*
 * Logging for pam_ory.
 *
 * Every message goes through pam_syslog() when there is a PAM handle, so it
 * carries libpam's "pam_ory(service:type):" prefix.  Tools and unit tests have
 * no handle; they get the same text on stderr.  Decisions and errors are logged
 * unconditionally; pamory_debug() only when the "debug" option is on.
 *
 * Never pass a token, device code, refresh token or secret to these functions,
 * not even under debug: log pamory_fingerprint() of it instead.
 */
#ifndef PAMORY_LOG_H
#define PAMORY_LOG_H

#include <stdbool.h>
#include <security/pam_modules.h>

struct pamory_log {
    pam_handle_t *pamh;   /* NULL outside libpam: write to stderr */
    bool debug;
};

#define PAMORY_PRINTF(f, a) __attribute__((format(printf, f, a)))

void pamory_err(const struct pamory_log *log, const char *fmt, ...) PAMORY_PRINTF(2, 3);
void pamory_notice(const struct pamory_log *log, const char *fmt, ...) PAMORY_PRINTF(2, 3);
void pamory_info(const struct pamory_log *log, const char *fmt, ...) PAMORY_PRINTF(2, 3);
void pamory_debug(const struct pamory_log *log, const char *fmt, ...) PAMORY_PRINTF(2, 3);

/* Size of a fingerprint string: "sha256:" + 8 hex digits + NUL. */
#define PAMORY_FINGERPRINT_LEN 16

/*
 * A short, non-reversible name for a secret or an identifier, for logs:
 * "sha256:" and the first 8 hex digits of the SHA-256 of value.
 * value may be NULL ("-" is written then).
 */
void pamory_fingerprint(const char *value, char out[PAMORY_FINGERPRINT_LEN]);

#endif
