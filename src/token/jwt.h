/*
 * Verifying a JWT from the issuer, the core shared by ID tokens and tokens
 * presented as the password: parse the compact JWS; check the header (alg
 * on our allow-list, and for ID tokens on discovery's list too; optionally
 * typ); take the key named by kid from the issuer's JWKS through the cache,
 * with one refresh when the cached set cannot answer (the IdP may have
 * rotated keys; the cache limits such refreshes to one per
 * PAMORY_CACHE_REFRESH_INTERVAL per issuer, across processes); verify the
 * signature; then the claims (token/claims.h).
 *
 * Every refusal is one log line naming the check and the token's
 * fingerprint; the token, or any piece of it but a sanitized kid, is never
 * logged.  All entry points return PAM_SUCCESS and *claims (the payload, the
 * caller releases it with json_object_put or pamory_json_put_wiped) when the
 * token is valid; PAM_AUTH_ERR when it is not; PAM_AUTHINFO_UNAVAIL when no
 * JWKS can be had, not even a stale cached one.
 */
#ifndef PAMORY_JWT_H
#define PAMORY_JWT_H

#include <stdbool.h>
#include <json-c/json.h>
#include "cache.h"
#include "discovery.h"
#include "http.h"
#include "token/claims.h"

/* How one kind of token is verified. */
struct pamory_jwt_rules {
    const char *what;                   /* "ID token", "token": names it in log lines */
    bool discovery_algs;                /* alg must also be in id_token_signing_alg_values_supported */
    bool check_typ;                     /* typ, when present, must be JWT or at+jwt */
    struct pamory_claims_expect claims; /* issuer, now and alg are filled in here */
};

int pamory_jwt_verify(const struct pamory_http *http, const struct pamory_cache *cache,
                      const struct pamory_discovery *disc, const struct pamory_jwt_rules *rules,
                      const char *token, json_object **claims);

/* What token mode asks of a JWT presented as the password. */
struct pamory_jwt_token_expect {
    const char *client_id;
    const char *allowed_clients;  /* space-separated; NULL = only client_id */
    const char *required_scope;   /* space-separated; NULL = none */
    unsigned max_auth_age;        /* seconds since auth_time; 0 = no check */
    const char *required_acr;     /* space-separated acceptable values; NULL = no check */
};

/*
 * Token mode: the password is a JWT access token or an ID token of this
 * issuer.  Accepted when aud or the client_id claim names client_id or one
 * of allowed_clients, every required scope is in scp or scope, and
 * max_auth_age and required_acr hold (an access token has no auth_time or
 * acr, so with those set only an ID token can pass).  The alg must be on our
 * allow-list (discovery lists none for access tokens); a typ other than
 * JWT or at+jwt is refused.
 */
int pamory_jwt_token_verify(const struct pamory_http *http, const struct pamory_cache *cache,
                            const struct pamory_discovery *disc,
                            const struct pamory_jwt_token_expect *expect,
                            const char *token, json_object **claims);

#endif
