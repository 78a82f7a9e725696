/* mode=token: verify the token the user typed instead of a password. */
#include <stdlib.h>
#include <string.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "discovery.h"
#include "json.h"
#include "secret.h"
#include "token/introspect.h"
#include "token/jwt.h"
#include "token/token_login.h"

#define B64URL_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* Compact JWS: three base64url parts.  Hydra's opaque tokens have one dot at most. */
static int looks_like_jwt(const char *s)
{
    size_t a = strspn(s, B64URL_CHARS);
    size_t b = s[a] == '.' ? strspn(s + a + 1, B64URL_CHARS) : 0;
    const char *third = s + a + 1 + b;

    return a > 0 && s[a] == '.' && *third == '.' && third[1 + strspn(third + 1, B64URL_CHARS)] == '\0';
}

/*
 * The token: PAM_AUTHTOK as an earlier module left it (use_first_pass), or
 * asked for now.  A heap copy in *token.
 */
static int read_token(struct pamory_ctx *ctx, char **token)
{
    const void *item = NULL;
    const char *tok = NULL;
    size_t len;
    int r;

    if (ctx->cfg.use_first_pass) {
        r = pam_get_item(ctx->log.pamh, PAM_AUTHTOK, &item);
        tok = item;
        if (r != PAM_SUCCESS || tok == NULL) {
            pamory_notice(&ctx->log, "token login for %s: use_first_pass, but no earlier module read a password",
                          ctx->user);
            return PAM_AUTH_ERR;
        }
    } else if ((r = pam_get_authtok(ctx->log.pamh, PAM_AUTHTOK, &tok, "Token: ")) != PAM_SUCCESS) {
        pamory_notice(&ctx->log, "token login for %s: cannot read the token: %s", ctx->user,
                      pam_strerror(ctx->log.pamh, r));
        return r == PAM_CONV_ERR ? PAM_CONV_ERR : PAM_AUTH_ERR;
    }
    len = tok != NULL ? strnlen(tok, PAMORY_TOKEN_MAX_LEN + 1) : 0;
    if (len == 0 || len > PAMORY_TOKEN_MAX_LEN) {
        pamory_notice(&ctx->log, "token login for %s: the token is %s", ctx->user,
                      len == 0 ? "empty" : "too long (more than 16384 bytes)");
        return PAM_AUTH_ERR;
    }
    if ((*token = strdup(tok)) == NULL)
        return PAM_BUF_ERR;
    return PAM_SUCCESS;
}

/* A JWT: the issuer's keys and token-mode rules decide. */
static int verify_jwt(struct pamory_ctx *ctx, const struct pamory_http *http,
                      const struct pamory_cache *cache, const char *token, json_object **claims)
{
    struct pamory_discovery disc;
    struct pamory_jwt_token_expect expect = {
        .client_id = ctx->cfg.client_id,
        .allowed_clients = ctx->cfg.allowed_clients,
        .required_scope = ctx->cfg.required_scope,
        .max_auth_age = ctx->cfg.max_auth_age,
        .required_acr = ctx->cfg.required_acr,
    };
    int r = pamory_discovery_fetch(http, cache, ctx->cfg.issuer, &disc);

    if (r == PAM_SUCCESS)
        r = pamory_jwt_token_verify(http, cache, &disc, &expect, token, claims);
    pamory_discovery_free(&disc);
    return r;
}

int pamory_token_login(struct pamory_ctx *ctx, const struct pamory_http *http,
                       const struct pamory_cache *cache, const struct pamory_client *client,
                       json_object **claims, char **token)
{
    json_object *answer = NULL;
    int r, jwt;

    *claims = NULL;
    *token = NULL;
    r = read_token(ctx, token);
    if (r != PAM_SUCCESS)
        return r;
    jwt = looks_like_jwt(*token);
    if (!jwt && (ctx->cfg.max_auth_age > 0 || ctx->cfg.required_acr != NULL)) {
        /* Introspection reports neither auth_time nor acr: what cannot be checked is refused. */
        pamory_notice(&ctx->log, "token login for %s refused: max_auth_age and required_acr need a JWT; "
                      "an opaque token does not carry auth_time or acr", ctx->user);
        r = PAM_AUTH_ERR;
    } else {
        r = jwt ? verify_jwt(ctx, http, cache, *token, claims)
                : pamory_introspect(ctx, http, client, *token, claims);
    }
    /* introspect=yes: Hydra also says whether a JWT is still active (not revoked). */
    if (r == PAM_SUCCESS && jwt && ctx->cfg.introspect) {
        r = pamory_introspect(ctx, http, client, *token, &answer);
        pamory_json_put_wiped(answer);
    }
    if (r != PAM_SUCCESS) {
        pamory_json_put_wiped(*claims);
        *claims = NULL;
        pamory_secret_free(*token);
        *token = NULL;
    }
    return r;
}
