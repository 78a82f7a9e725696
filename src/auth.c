/*
 * The work behind the PAM entry points.  Data flows one way:
 * configuration -> flow -> token -> account -> PAM result, each step
 * returning a PAM code and logging its own reason when it says no.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "clock.h"
#include "account.h"
#include "auth.h"
#include "context.h"
#include "discovery.h"
#include "flow/consent.h"
#include "flow/device.h"
#include "flow/login.h"
#include "json.h"
#include "login_record.h"
#include "safe_file.h"
#include "secret.h"
#include "token/id_token.h"
#include "token/introspect.h"
#include "token/token_login.h"
#include "words.h"

/*
 * Configuration, user and service for this call.  A configuration problem
 * is PAM_SERVICE_ERR: the administrator has to fix it, and the log says how.
 */
static int begin(pam_handle_t *pamh, int argc, const char **argv, struct pamory_ctx *ctx)
{
    const void *service = NULL;
    int r;

    memset(ctx, 0, sizeof(*ctx));
    ctx->log.pamh = pamh;
    if (pamory_config_load(&ctx->log, argc, argv, &ctx->cfg) != 0)
        return PAM_SERVICE_ERR;
    ctx->log.debug = ctx->cfg.debug;
    r = pam_get_user(pamh, &ctx->user, NULL);
    if (r != PAM_SUCCESS || ctx->user == NULL || ctx->user[0] == '\0') {
        pamory_notice(&ctx->log, "cannot determine the user name: %s", pam_strerror(pamh, r));
        return r == PAM_SUCCESS ? PAM_USER_UNKNOWN : r;
    }
    if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS || service == NULL)
        service = "unknown";
    ctx->service = service;
    ctx->deadline = pamory_monotonic_now() + (time_t)ctx->cfg.timeout;
    return PAM_SUCCESS;
}

/* How we authenticate to the IdP: a public client, or one with a secret from its file. */
static int load_client(struct pamory_ctx *ctx, struct pamory_client *client)
{
    client->client_id = ctx->cfg.client_id;
    client->method = ctx->cfg.client_auth_method;
    if (client->method == PAMORY_CLIENT_AUTH_DEFAULT)
        client->method = ctx->cfg.client_secret_file != NULL ? PAMORY_CLIENT_AUTH_BASIC
                                                             : PAMORY_CLIENT_AUTH_NONE;
    if (client->method == PAMORY_CLIENT_AUTH_NONE)
        return PAM_SUCCESS;
    if (pamory_read_secret(&ctx->log, ctx->cfg.client_secret_file, &client->secret) != 0)
        return PAM_SERVICE_ERR;
    return PAM_SUCCESS;
}

/*
 * Step-up: with required_scope, the consent behind the fresh tokens must
 * have granted it.  A token response without "scope" granted what was
 * asked for (RFC 6749 5.1).
 */
static int check_granted_scope(struct pamory_ctx *ctx, const struct pamory_tokens *tokens)
{
    const char *granted = tokens->scope != NULL ? tokens->scope : ctx->cfg.scope;
    const char *missing;
    size_t n = 0;

    missing = pamory_words_missing(ctx->cfg.required_scope, granted, &n);
    if (missing == NULL)
        return PAM_SUCCESS;
    pamory_notice(&ctx->log, "login refused for %s: scope \"%.*s\" of required_scope was not granted",
                  ctx->user, (int)n, missing);
    return PAM_AUTH_ERR;
}

/* introspect=yes: the IdP also says the fresh access token is active (client not disabled, ...). */
static int introspect_fresh(struct pamory_ctx *ctx, const struct pamory_http *http,
                            const struct pamory_client *client, const char *access_token)
{
    json_object *answer = NULL;
    int r = pamory_introspect(ctx, http, client, access_token, &answer);

    pamory_json_put_wiped(answer);
    return r;
}

/*
 * mode=device: the device flow, then the ID token, then (optionally) the
 * granted scope and introspection.  On success *claims are the ID token's
 * and *access_token is moved out for the login record.
 */
static int device_authenticate(struct pamory_ctx *ctx, const struct pamory_http *http,
                               const struct pamory_cache *cache, const struct pamory_client *client,
                               json_object **claims, char **access_token)
{
    struct pamory_discovery disc = { 0 };
    struct pamory_tokens tokens = { 0 };
    struct pamory_id_token_expect expect;
    int r = pamory_discovery_fetch(http, cache, ctx->cfg.issuer, &disc);

    if (r == PAM_SUCCESS)
        r = pamory_device_login(ctx, http, &disc, client, &tokens);
    if (r == PAM_SUCCESS) {
        expect = (struct pamory_id_token_expect){ ctx->cfg.client_id, tokens.access_token,
                                                  ctx->cfg.max_auth_age, ctx->cfg.required_acr };
        r = pamory_id_token_verify(http, cache, &disc, &expect, tokens.id_token, claims);
    }
    if (r == PAM_SUCCESS)
        r = check_granted_scope(ctx, &tokens);
    if (r == PAM_SUCCESS && ctx->cfg.introspect)
        r = introspect_fresh(ctx, http, client, tokens.access_token);
    if (r == PAM_SUCCESS) {
        *access_token = tokens.access_token;
        tokens.access_token = NULL;
    }
    pamory_tokens_free(&tokens);
    pamory_discovery_free(&disc);
    return r;
}

/* The one line that says a login succeeded; failures were logged where they happened. */
static void log_accepted(struct pamory_ctx *ctx, json_object *claims)
{
    const char *sub = NULL;
    char fp[PAMORY_FINGERPRINT_LEN];

    pamory_json_string(claims, "sub", &sub);
    pamory_fingerprint(sub, fp);
    pamory_info(&ctx->log, "login accepted: user %s, subject %s, %s at %s", ctx->user, fp,
                ctx->cfg.mode == PAMORY_MODE_TOKEN ? "token" : "device flow", ctx->cfg.issuer);
}

/*
 * The summary line of a failed login, in the spirit of pam_unix's
 * "authentication failure" line, so log watchers find every failure in one
 * shape; the step that failed has already logged the reason.
 */
static void log_failed(struct pamory_ctx *ctx, int r)
{
    const void *rhost = NULL;

    if (ctx->user == NULL)
        return;   /* configuration error: already logged, and no user to name */
    pam_get_item(ctx->log.pamh, PAM_RHOST, &rhost);
    pamory_notice(&ctx->log, "authentication failure: user %s, rhost %s: %s", ctx->user,
                  rhost != NULL && *(const char *)rhost ? (const char *)rhost : "-",
                  pam_strerror(ctx->log.pamh, r));
}

/* The mode's own work; device and token modes end with verified claims. */
static int authenticate_mode(struct pamory_ctx *ctx, const struct pamory_client *client,
                             json_object **claims, char **access_token)
{
    struct pamory_http http = { &ctx->log, ctx->cfg.ca_file, ctx->deadline };
    struct pamory_cache cache = { ctx->cfg.cache_dir, (time_t)ctx->cfg.jwks_max_stale };

    switch (ctx->cfg.mode) {
    case PAMORY_MODE_DEVICE:
        return device_authenticate(ctx, &http, &cache, client, claims, access_token);
    case PAMORY_MODE_TOKEN:
        return pamory_token_login(ctx, &http, &cache, client, claims, access_token);
    case PAMORY_MODE_CONSENT:
        return pamory_consent_check(ctx, &http);
    }
    return PAM_SERVICE_ERR;
}

int pamory_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct pamory_ctx ctx;
    struct pamory_client client = { 0 };
    json_object *claims = NULL;
    char *access_token = NULL;
    int r;

    (void)flags;
    r = begin(pamh, argc, argv, &ctx);
    if (r == PAM_SUCCESS)
        r = pamory_account_precheck(&ctx);
    if (r == PAM_SUCCESS)
        r = load_client(&ctx, &client);
    if (r == PAM_SUCCESS)
        r = authenticate_mode(&ctx, &client, &claims, &access_token);
    if (r == PAM_SUCCESS && claims != NULL) {
        r = pamory_account_match(&ctx, claims);
        if (r == PAM_SUCCESS)
            log_accepted(&ctx, claims);
    }
    if (r == PAM_SUCCESS)
        r = pamory_login_record_set(pamh, ctx.cfg.mode, &claims, &access_token);
    if (r != PAM_SUCCESS)
        log_failed(&ctx, r);
    pamory_json_put_wiped(claims);
    pamory_secret_free(access_token);
    pamory_secret_free(client.secret);
    pamory_config_free(&ctx.cfg);
    return r;
}

/*
 * pam_ory establishes no credentials, so there is nothing to do, and
 * PAM_SUCCESS is the answer whoever authenticated: sshd calls setcred in
 * another process than authenticate, where nothing pam_ory set is visible,
 * and PAM_IGNORE from the only module of a stack would fail the login.
 * pam_unix answers the same way.
 */
int pamory_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

/*
 * Check again what may have changed since authenticate: the account mapping
 * (map_file edited) and, with introspect=yes, whether the IdP still holds
 * the access token active (consent revoked, client disabled).
 */
static int recheck(struct pamory_ctx *ctx, const struct pamory_login_record *rec)
{
    struct pamory_client client = { 0 };
    struct pamory_http http = { &ctx->log, ctx->cfg.ca_file, ctx->deadline };
    int r = PAM_SUCCESS;

    if (rec->claims != NULL && pamory_account_match(ctx, rec->claims) != PAM_SUCCESS) {
        pamory_notice(&ctx->log, "account check failed for %s: the identity no longer maps to this user",
                      ctx->user);
        return PAM_PERM_DENIED;
    }
    if (!ctx->cfg.introspect || rec->access_token == NULL)
        return PAM_SUCCESS;
    r = load_client(ctx, &client);
    if (r == PAM_SUCCESS)
        r = introspect_fresh(ctx, &http, &client, rec->access_token);
    pamory_secret_free(client.secret);
    if (r == PAM_AUTH_ERR) {
        pamory_notice(&ctx->log, "account check failed for %s: the access token is no longer active at the IdP",
                      ctx->user);
        return PAM_PERM_DENIED;
    }
    return r == PAM_SUCCESS ? PAM_SUCCESS : PAM_AUTH_ERR;   /* cannot tell: fail closed */
}

/*
 * Nothing to say (PAM_IGNORE) when pam_ory did not authenticate this handle
 * here: another module did, or sshd ran authenticate in another process, in
 * which case every check already ran there.
 */
int pamory_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const struct pamory_login_record *rec = pamory_login_record_get(pamh);
    struct pamory_ctx ctx;
    int r;

    (void)flags;
    if (rec == NULL)
        return PAM_IGNORE;
    r = begin(pamh, argc, argv, &ctx);
    if (r == PAM_SUCCESS)
        r = recheck(&ctx, rec);
    pamory_config_free(&ctx.cfg);
    return r;
}
