/*
 * Verifying the ID token the device flow returned (OIDC Core 3.1.3.7), with
 * the JWT core (token/jwt.h): signature by a key of the issuer's JWKS, alg
 * advertised by discovery, iss, aud containing client_id, exp, iat, nbf;
 * then at_hash against the access token that came with it, and the optional
 * auth_time and acr requirements.
 */
#ifndef PAMORY_ID_TOKEN_H
#define PAMORY_ID_TOKEN_H

#include <json-c/json.h>
#include "cache.h"
#include "discovery.h"
#include "http.h"

struct pamory_id_token_expect {
    const char *client_id;
    const char *access_token;   /* for at_hash; NULL = no at_hash check */
    unsigned max_auth_age;      /* seconds since auth_time; 0 = no check */
    const char *required_acr;   /* space-separated acceptable values; NULL = no check */
};

/*
 * Returns PAM_SUCCESS and *claims (owned by the caller, json_object_put) when
 * the token is valid; PAM_AUTH_ERR after logging the reason when it is not;
 * PAM_AUTHINFO_UNAVAIL when the JWKS cannot be had, not even from the cache.
 */
int pamory_id_token_verify(const struct pamory_http *http, const struct pamory_cache *cache,
                           const struct pamory_discovery *disc,
                           const struct pamory_id_token_expect *expect,
                           const char *id_token, json_object **claims);

#endif
