/*
 * A JSON Web Key Set (RFC 7517) turned into OpenSSL public keys.
 * Only signature keys of the kinds we verify are kept: RSA (>= 2048 bits) and
 * EC on P-256, P-384 and P-521.  Keys with "use" other than "sig", private
 * parts, unknown kty, or malformed members are skipped (debug-logged), so one
 * odd key does not make the whole set unusable.
 */
#ifndef PAMORY_JWKS_H
#define PAMORY_JWKS_H

#include <stddef.h>
#include <openssl/evp.h>
#include "log.h"

enum pamory_kty { PAMORY_KTY_RSA, PAMORY_KTY_EC };

struct pamory_jwk {
    char *kid;            /* may be NULL */
    char *alg;            /* the key's "alg" member, may be NULL */
    enum pamory_kty kty;
    char *crv;            /* EC only: "P-256", "P-384", "P-521" */
    EVP_PKEY *pkey;
};

struct pamory_jwks {
    struct pamory_jwk *keys;
    size_t n;
};

/*
 * Parse a JWKS document.  Returns 0 (possibly with n == 0 keys) or -1 after
 * logging why the document as a whole is unusable (not JSON, no "keys" array).
 */
int pamory_jwks_parse(const struct pamory_log *log, const char *json, size_t len,
                      struct pamory_jwks *out);

/*
 * The key with this kid, or NULL.  A NULL kid matches only when the set has
 * exactly one key (RFC 7515 allows omitting kid then).
 */
const struct pamory_jwk *pamory_jwks_find(const struct pamory_jwks *set, const char *kid);

void pamory_jwks_free(struct pamory_jwks *set);

#endif
