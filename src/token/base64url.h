/* base64url without padding (RFC 7515 section 2), as used by JWS and JWK. */
#ifndef PAMORY_BASE64URL_H
#define PAMORY_BASE64URL_H

#include <stddef.h>

/*
 * Decode len characters of base64url.  Padding ('=') and any character
 * outside the URL-safe alphabet are rejected, as are impossible lengths
 * (len % 4 == 1) and non-zero trailing bits.  Returns a heap buffer of *outlen
 * bytes plus a NUL (so decoded JSON can be parsed as a string), or NULL.
 */
unsigned char *pamory_b64url_decode(const char *in, size_t len, size_t *outlen);

/* Encode len bytes; returns a NUL-terminated heap string or NULL. */
char *pamory_b64url_encode(const unsigned char *in, size_t len);

#endif
