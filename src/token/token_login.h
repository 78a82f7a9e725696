/*
 * mode=token: the password is a token.  A JWT (an ID token or a JWT access
 * token) is verified locally against the issuer's JWKS; anything else is an
 * opaque token, such as Hydra's ory_at_..., and goes to introspection.
 *
 * Size: PAM conversations built on libpam_misc (su, login, pamtester) cut
 * answers at PAM_MAX_RESP_SIZE (512 bytes) and OpenSSH's password
 * authentication at 1024; a Hydra JWT signed with a 4096-bit key is 1-2 KiB.
 * Hydra's opaque tokens (about 90 bytes) fit everywhere; JWTs need a
 * conversation that passes long answers, or use_first_pass after a module
 * that does.
 */
#ifndef PAMORY_TOKEN_LOGIN_H
#define PAMORY_TOKEN_LOGIN_H

#include <json-c/json.h>
#include "cache.h"
#include "context.h"
#include "flow/device.h"
#include "http.h"

/* Longest token we look at; anything longer is refused unread. */
#define PAMORY_TOKEN_MAX_LEN 16384

/*
 * Read the token (the PAM conversation, or PAM_AUTHTOK with use_first_pass)
 * and verify it.  Returns PAM_SUCCESS with *claims (the JWT's claims or the
 * introspection answer; release with pamory_json_put_wiped) and *token (a
 * heap copy, a secret: for acct_mgmt's later introspection); or the PAM
 * error of the step that refused, logged.
 */
int pamory_token_login(struct pamory_ctx *ctx, const struct pamory_http *http,
                       const struct pamory_cache *cache, const struct pamory_client *client,
                       json_object **claims, char **token);

#endif
