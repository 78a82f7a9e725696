/*
 * Making IdP-supplied text safe to print on a terminal: every byte outside
 * printable ASCII becomes '?'.  Bytes, not characters, are judged, so a
 * multibyte UTF-8 character turns into several '?' and an invalid or
 * overlong sequence cannot smuggle a C1 control through.
 */
#include <stdlib.h>
#include <string.h>

#include "flow/sanitize.h"

/* The one rule both functions share: space through tilde, nothing else. */
static int printable(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e;
}

/*
 * A copy rather than an in-place edit, because callers hold the IdP's value
 * inside parsed JSON that they do not own.
 */
char *pamory_sanitize(const char *s)
{
    char *copy;
    size_t i;

    if (s == NULL)
        return NULL;
    copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (i = 0; copy[i] != '\0'; i++) {
        if (!printable((unsigned char)copy[i]))
            copy[i] = '?';
    }
    return copy;
}

void pamory_sanitize_into(const char *s, char *out, size_t len)
{
    size_t i;

    if (len == 0)
        return;
    if (s == NULL)
        s = "-";
    for (i = 0; s[i] != '\0' && i < len - 1; i++)
        out[i] = printable((unsigned char)s[i]) ? s[i] : '?';
    out[i] = '\0';
}

/* For callers that refuse tampered input outright instead of displaying it. */
int pamory_is_printable_ascii(const char *s)
{
    if (s == NULL)
        return 0;
    for (; *s != '\0'; s++) {
        if (!printable((unsigned char)*s))
            return 0;
    }
    return 1;
}
