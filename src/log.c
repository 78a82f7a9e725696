/* Logging through pam_syslog, or stderr when there is no PAM handle. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <openssl/evp.h>
#include <security/pam_ext.h>

#include "log.h"

static void vlog(const struct pamory_log *log, int priority, const char *fmt, va_list ap)
    PAMORY_PRINTF(3, 0);

static void vlog(const struct pamory_log *log, int priority, const char *fmt, va_list ap)
{
    if (log != NULL && log->pamh != NULL) {
        pam_vsyslog(log->pamh, priority, fmt, ap);
        return;
    }
    fputs("pam_ory: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

#define DEFINE_LOGGER(name, priority, only_debug)                          \
    void name(const struct pamory_log *log, const char *fmt, ...)         \
    {                                                                      \
        va_list ap;                                                        \
        if ((only_debug) && (log == NULL || !log->debug))                  \
            return;                                                        \
        va_start(ap, fmt);                                                 \
        vlog(log, priority, fmt, ap);                                      \
        va_end(ap);                                                        \
    }

DEFINE_LOGGER(pamory_err, LOG_ERR, 0)
DEFINE_LOGGER(pamory_notice, LOG_NOTICE, 0)
DEFINE_LOGGER(pamory_info, LOG_INFO, 0)
DEFINE_LOGGER(pamory_debug, LOG_DEBUG, 1)

void pamory_fingerprint(const char *value, char out[PAMORY_FINGERPRINT_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (value == NULL ||
        EVP_Digest(value, strlen(value), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 4) {
        snprintf(out, PAMORY_FINGERPRINT_LEN, "-");
        return;
    }
    snprintf(out, PAMORY_FINGERPRINT_LEN, "sha256:%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}
