/*
 * Verifying an ID token end to end: parse the JWS, take the key named by its
 * kid from the issuer's JWKS (fetched from discovery's jwks_uri; fetched once
 * more when the kid is unknown, because the IdP may have rotated keys), check
 * that the alg is allowed and advertised by discovery, verify the signature,
 * then the claims.
 */
#ifndef PAMORY_ID_TOKEN_H
#define PAMORY_ID_TOKEN_H

#include <json-c/json.h>
#include "discovery.h"
#include "http.h"

/*
 * Returns PAM_SUCCESS and *claims (owned by the caller, json_object_put) when
 * the token is valid; PAM_AUTH_ERR after logging the reason when it is not;
 * PAM_AUTHINFO_UNAVAIL when the JWKS cannot be fetched.
 */
int pamory_id_token_verify(const struct pamory_http *http, const struct pamory_discovery *disc,
                           const char *client_id, const char *id_token, json_object **claims);

#endif
