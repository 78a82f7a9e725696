/*
 * What the user sees during a device-flow login: ONE prompt holding the host
 * and service being logged in to (so nobody is talked into approving another
 * machine's login), the verification URL, the user code, optionally a QR code
 * of the complete verification URL, and "Press Enter after you have approved".
 * It must be one prompt because sshd delivers info text to the client only
 * together with a prompt.
 */
#ifndef PAMORY_PROMPT_H
#define PAMORY_PROMPT_H

#include "config.h"
#include "flow/device.h"
#include "flow/qr.h"

struct pamory_prompt_info {
    const char *host;        /* this machine's name */
    const char *service;     /* PAM service, e.g. "sshd" */
    const char *user;        /* PAM user */
    const char *verification_uri;
    const char *verification_uri_complete;  /* may be NULL: then no QR */
    const char *user_code;
};

/*
 * The QR style for qr=auto/utf8/ascii/off.  Returns 0 and sets *style when a
 * QR code is to be drawn, -1 for none.  auto draws ASCII when the login is
 * remote (rhost set) or the service is sshd, because OpenSSH clients escape
 * non-ASCII in prompts; UTF-8 on a local login whose locale (LC_ALL, LC_CTYPE,
 * LANG, first one set) names UTF-8; ASCII otherwise.
 */
int pamory_qr_resolve(enum pamory_qr qr, const char *service, const char *rhost,
                      const char *locale, enum pamory_qr_style *style);

/*
 * Build the prompt text.  All strings in info must already be sanitized.
 * qr_style is NULL for no QR.  Returns a heap string or NULL.
 */
char *pamory_prompt_text(const struct pamory_prompt_info *info,
                         const enum pamory_qr_style *qr_style);

#endif
