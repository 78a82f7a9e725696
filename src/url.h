/*
 * URLs pam_ory may contact, and building them.  Only https is allowed,
 * except plain http to a loopback host (127.0.0.0/8, ::1, localhost) for
 * tests and the dev IdP: tokens and secrets never cross a network in clear.
 */
#ifndef PAMORY_URL_H
#define PAMORY_URL_H

#include <stddef.h>

/* Is url https://, or http:// to a loopback host?  Logs nothing. */
int pamory_url_allowed(const char *url);

/* base + path, without doubling base's trailing slashes; heap string or NULL. */
char *pamory_url_join(const char *base, const char *path);

/* s percent-encoded for a query value or form field; heap string or NULL. */
char *pamory_url_escape(const char *s);

/* The length of url's "scheme://authority" part (its origin). */
size_t pamory_url_origin_len(const char *url);

#endif
