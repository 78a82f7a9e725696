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
#include "flow/device.h"
#include "flow/login.h"
#include "json.h"
#include "safe_file.h"
#include "secret.h"
#include "token/id_token.h"

/* pam_set_data key: present when pam_ory authenticated this handle. */
#define AUTHENTICATED_KEY "pam_ory_authenticated"

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
    if (ctx->cfg.mode != PAMORY_MODE_DEVICE) {
        pamory_err(&ctx->log, "mode=%s is not supported yet; use mode=device",
                   pamory_mode_name(ctx->cfg.mode));
        return PAM_SERVICE_ERR;
    }
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

/* Mark this handle as ours, for setcred and acct_mgmt. */
static void forget(pam_handle_t *pamh, void *data, int status)
{
    (void)pamh;
    (void)status;
    free(data);
}

static int remember_login(struct pamory_ctx *ctx)
{
    char *mark = strdup("device");

    if (mark == NULL || pam_set_data(ctx->log.pamh, AUTHENTICATED_KEY, mark, forget) != PAM_SUCCESS) {
        free(mark);
        pamory_err(&ctx->log, "cannot record the login in the PAM handle");
        return PAM_BUF_ERR;
    }
    return PAM_SUCCESS;
}

/* The one line that says a login succeeded; failures were logged where they happened. */
static void log_accepted(struct pamory_ctx *ctx, json_object *claims)
{
    const char *sub = NULL;
    char fp[PAMORY_FINGERPRINT_LEN];

    pamory_json_string(claims, "sub", &sub);
    pamory_fingerprint(sub, fp);
    pamory_info(&ctx->log, "login accepted: user %s, subject %s, device flow at %s",
                ctx->user, fp, ctx->cfg.issuer);
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

int pamory_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct pamory_ctx ctx;
    struct pamory_client client = { 0 };
    struct pamory_discovery disc = { 0 };
    struct pamory_tokens tokens = { 0 };
    struct pamory_http http;
    json_object *claims = NULL;
    int r;

    (void)flags;
    r = begin(pamh, argc, argv, &ctx);
    http = (struct pamory_http){ &ctx.log, ctx.cfg.ca_file, ctx.deadline };
    if (r == PAM_SUCCESS)
        r = pamory_account_precheck(&ctx);
    if (r == PAM_SUCCESS)
        r = load_client(&ctx, &client);
    if (r == PAM_SUCCESS)
        r = pamory_discovery_fetch(&http, ctx.cfg.issuer, &disc);
    if (r == PAM_SUCCESS)
        r = pamory_device_login(&ctx, &http, &disc, &client, &tokens);
    if (r == PAM_SUCCESS)
        r = pamory_id_token_verify(&http, &disc, ctx.cfg.client_id, tokens.id_token, &claims);
    if (r == PAM_SUCCESS)
        r = pamory_account_match(&ctx, claims);
    if (r == PAM_SUCCESS)
        r = remember_login(&ctx);
    if (r == PAM_SUCCESS)
        log_accepted(&ctx, claims);
    else
        log_failed(&ctx, r);
    pamory_json_put_wiped(claims);
    pamory_tokens_free(&tokens);
    pamory_discovery_free(&disc);
    pamory_secret_free(client.secret);
    pamory_config_free(&ctx.cfg);
    return r;
}

/* Did pam_ory's authenticate succeed on this handle? */
static int authenticated_here(pam_handle_t *pamh)
{
    const void *mark = NULL;

    return pam_get_data(pamh, AUTHENTICATED_KEY, &mark) == PAM_SUCCESS && mark != NULL;
}

/*
 * pam_ory holds no credentials to establish: success after our own
 * authenticate, and no opinion (PAM_IGNORE) when another module did it.
 */
int pamory_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)flags;
    (void)argc;
    (void)argv;
    return authenticated_here(pamh) ? PAM_SUCCESS : PAM_IGNORE;
}

/*
 * The account was checked against the IdP's answer during authenticate; when
 * pam_ory did not authenticate this handle it has nothing to say.
 */
int pamory_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)flags;
    (void)argc;
    (void)argv;
    return authenticated_here(pamh) ? PAM_SUCCESS : PAM_IGNORE;
}
