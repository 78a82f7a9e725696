/*
 * Making IdP-supplied text safe for a terminal.  Anything the IdP sends
 * (verification URL, user code) could carry escape sequences that rewrite
 * the user's screen, so only printable ASCII (0x20-0x7e) passes; every other
 * byte becomes '?'.  Verification URLs and user codes are ASCII by spec, so
 * nothing legitimate is lost, and a tampered value stays visibly tampered.
 */
#ifndef PAMORY_SANITIZE_H
#define PAMORY_SANITIZE_H

#include <stddef.h>

/* A sanitized heap copy of s (NULL gives NULL, as does out of memory). */
char *pamory_sanitize(const char *s);

/*
 * The sanitized s in a caller's buffer, cut to len - 1 bytes, for log lines;
 * "-" when s is NULL.  Needs no allocation, so it cannot fail.
 */
void pamory_sanitize_into(const char *s, char *out, size_t len);

/* Does s consist of printable ASCII only? (NULL: no) */
int pamory_is_printable_ascii(const char *s);

#endif
