/*
 * JWS compact serialization (RFC 7515): parsing and signature verification
 * with OpenSSL 3.
 *
 * Algorithms are allow-listed: RS256/384/512, PS256/384/512, ES256/384/512.
 * "none" and every HMAC algorithm are refused, whatever the key.  The header
 * "alg" must fit the key: RS and PS need an RSA key, ES256 a P-256 key, ES384
 * P-384, ES512 P-521; and when the JWK names an "alg", it must be the same.
 * A header with "crit" is refused (we understand no extensions).
 */
#ifndef PAMORY_JWS_H
#define PAMORY_JWS_H

#include <stddef.h>
#include <json-c/json.h>
#include "token/jwks.h"

struct pamory_jws {
    json_object *header;        /* parsed protected header (owned) */
    json_object *payload;       /* parsed payload if it is a JSON object, else NULL (owned) */
    unsigned char *payload_raw; /* decoded payload bytes (owned), payload_len bytes + NUL */
    size_t payload_len;
    const char *alg;            /* header "alg" (borrowed from header) */
    const char *kid;            /* header "kid" or NULL (borrowed) */
    const char *typ;            /* header "typ" or NULL (borrowed) */
    char *signing_input;        /* "<b64 header>.<b64 payload>" (owned) */
    unsigned char *sig;         /* decoded signature (owned) */
    size_t sig_len;
};

/* Largest compact JWS we look at; Hydra's ID tokens are a few KiB. */
#define PAMORY_JWS_MAX_LEN (64 * 1024)

/*
 * Split and decode a compact JWS.  Returns 0, or -1 and sets *why to a static
 * reason ("not three parts", "header is not JSON", "no alg", ...).
 */
int pamory_jws_parse(const char *compact, struct pamory_jws *out, const char **why);

/* Is alg one we verify?  (never true for "none" or HS*) */
int pamory_jws_alg_allowed(const char *alg);

/*
 * Verify jws's signature with key.  Returns 0 only for a valid signature by
 * an allowed alg that fits the key; -1 with a static *why otherwise.
 */
int pamory_jws_verify(const struct pamory_jws *jws, const struct pamory_jwk *key,
                      const char **why);

void pamory_jws_free(struct pamory_jws *jws);

#endif
