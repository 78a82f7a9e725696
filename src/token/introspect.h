/*
 * OAuth 2.0 token introspection (RFC 7662) against Hydra's admin API:
 * POST <admin_url>/admin/oauth2/introspect with token= (and scope= when
 * required_scope is set; Hydra then demands every listed scope).
 *
 * Authentication, first that applies: "Authorization: Bearer <key>" from
 * admin_token_file (Ory Network); the client's own credentials when the
 * client has a secret (client_secret_basic or _post, as configured); none
 * (self-hosted Hydra's admin port takes none).
 *
 * An answer is accepted only when: "active" is the JSON literal true;
 * "token_use" is "access_token" (refresh tokens are refused); "exp" is a
 * number in the future; "sub" is a non-empty string; "iss", if present,
 * equals the configured issuer; "client_id" is in allowed_clients when that
 * key is set; and every scope of required_scope is in "scope".
 */
#ifndef PAMORY_INTROSPECT_H
#define PAMORY_INTROSPECT_H

#include <json-c/json.h>
#include "context.h"
#include "flow/device.h"
#include "http.h"

/*
 * Returns PAM_SUCCESS and *answer (the introspection object, the caller
 * releases it with pamory_json_put_wiped) when the token passes;
 * PAM_AUTH_ERR after logging which check failed; PAM_AUTHINFO_UNAVAIL when
 * the admin API cannot be reached or answers 5xx; PAM_SERVICE_ERR when
 * admin_url is not set, the bearer key cannot be read, or the admin API
 * refuses our credentials (401/403).  The token is never logged, only its
 * fingerprint.
 */
int pamory_introspect(struct pamory_ctx *ctx, const struct pamory_http *http,
                      const struct pamory_client *client, const char *token,
                      json_object **answer);

#endif
