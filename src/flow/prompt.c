/*
 * The device-flow prompt: where to go, which code to enter, on whose behalf,
 * and an optional QR code, all in the one text sshd can deliver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/prompt.h"

/*
 * Does the locale name a UTF-8 charset?  glibc writes "UTF-8" but accepts
 * "utf8" and any case ("en_US.utf8" is what locale -a prints).
 */
static int locale_is_utf8(const char *locale)
{
    return locale != NULL &&
           (strcasestr(locale, "UTF-8") != NULL || strcasestr(locale, "UTF8") != NULL);
}

/*
 * A remote or sshd login gets ASCII even in a UTF-8 locale: the locale is
 * the server's, and OpenSSH clients show non-ASCII prompt bytes as escapes.
 */
int pamory_qr_resolve(enum pamory_qr qr, const char *service, const char *rhost,
                      const char *locale, enum pamory_qr_style *style)
{
    switch (qr) {
    case PAMORY_QR_OFF:
        return -1;
    case PAMORY_QR_UTF8:
        *style = PAMORY_QR_STYLE_UTF8;
        return 0;
    case PAMORY_QR_ASCII:
        *style = PAMORY_QR_STYLE_ASCII;
        return 0;
    case PAMORY_QR_AUTO:
        break;
    }
    if ((rhost != NULL && *rhost != '\0') ||
        (service != NULL && strcmp(service, "sshd") == 0))
        *style = PAMORY_QR_STYLE_ASCII;
    else
        *style = locale_is_utf8(locale) ? PAMORY_QR_STYLE_UTF8 : PAMORY_QR_STYLE_ASCII;
    return 0;
}

/* Host, user and service are for the human; an unknown one is said so. */
static const char *or_unknown(const char *s)
{
    return s != NULL && *s != '\0' ? s : "(unknown)";
}

/*
 * The complete URL (which carries the code) comes after the short one, with
 * the QR code if there is one: the QR code is a convenience, the URL and code
 * above it are what works everywhere.  A QR code that cannot be rendered is
 * left out rather than failing the login.
 */
static void write_complete_uri(FILE *f, const char *uri_complete,
                               const enum pamory_qr_style *qr_style)
{
    char *qr = NULL;

    if (uri_complete == NULL)
        return;
    if (qr_style != NULL)
        qr = pamory_qr_render(uri_complete, *qr_style);
    if (qr != NULL) {
        fprintf(f, "%s\n  Or scan the QR code above, which opens:\n", qr);
        free(qr);
    } else {
        fputs("  Or open this link, which fills in the code for you:\n", f);
    }
    fprintf(f, "  %s\n\n", uri_complete);
}

/*
 * Built with a memory stream so the layout reads top to bottom like the text
 * it produces.  The final line is the prompt itself, without a newline.
 */
char *pamory_prompt_text(const struct pamory_prompt_info *info,
                         const enum pamory_qr_style *qr_style)
{
    char *text = NULL;
    size_t len = 0;
    const char *host;
    int failed;
    FILE *f;

    if (info == NULL || info->verification_uri == NULL || info->user_code == NULL)
        return NULL;
    f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    host = or_unknown(info->host);
    fprintf(f, "To log in to %s as %s (service %s), sign in with your Ory account.\n\n",
            host, or_unknown(info->user), or_unknown(info->service));
    fprintf(f, "  Open:  %s\n", info->verification_uri);
    fprintf(f, "  Code:  %s\n\n", info->user_code);
    write_complete_uri(f, info->verification_uri_complete, qr_style);
    fprintf(f, "Approve only if you started this login on %s yourself.\n", host);
    fputs("Press Enter after you have approved: ", f);
    failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        free(text);
        return NULL;
    }
    return text;
}
