/* The device-flow login: the part of the flow the user sees. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "flow/login.h"
#include "flow/prompt.h"
#include "secret.h"

/* The locale the user's terminal is in, as far as this process can tell. */
static const char *user_locale(void)
{
    static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
    size_t i;

    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && v[0] != '\0')
            return v;
    }
    return NULL;
}

/* PAM_RHOST, or NULL for a local login. */
static const char *remote_host(struct pamory_ctx *ctx)
{
    const void *rhost = NULL;

    if (ctx->log.pamh == NULL || pam_get_item(ctx->log.pamh, PAM_RHOST, &rhost) != PAM_SUCCESS)
        return NULL;
    return rhost;
}

/* The prompt text for this login, or NULL when out of memory. */
static char *build_prompt(struct pamory_ctx *ctx, const struct pamory_device_auth *auth)
{
    char host[256] = "this host";
    enum pamory_qr_style style;
    struct pamory_prompt_info info = {
        .host = host,
        .service = ctx->service,
        .user = ctx->user,
        .verification_uri = auth->verification_uri,
        .verification_uri_complete = auth->verification_uri_complete,
        .user_code = auth->user_code,
    };
    int with_qr = auth->verification_uri_complete != NULL &&
                  pamory_qr_resolve(ctx->cfg.qr, ctx->service, remote_host(ctx), user_locale(), &style) == 0;

    if (gethostname(host, sizeof(host) - 1) != 0)
        strcpy(host, "this host");
    host[sizeof(host) - 1] = '\0';
    return pamory_prompt_text(&info, with_qr ? &style : NULL);
}

/*
 * Show the prompt and wait for Enter.  The answer means nothing, but it may
 * be a password the user typed by mistake: wipe it.
 */
static int show_prompt(struct pamory_ctx *ctx, const struct pamory_device_auth *auth)
{
    char *text = build_prompt(ctx, auth);
    char *answer = NULL;
    int r;

    if (text == NULL) {
        pamory_err(&ctx->log, "out of memory");
        return PAM_BUF_ERR;
    }
    /* The leading newline keeps the "(user@host) " that ssh puts before a prompt on a line of its own. */
    r = pam_prompt(ctx->log.pamh, PAM_PROMPT_ECHO_OFF, &answer, "\n%s", text);
    free(text);
    pamory_secret_free(answer);
    if (r != PAM_SUCCESS) {
        pamory_notice(&ctx->log, "login for %s abandoned: the conversation failed (%s)",
                      ctx->user, pam_strerror(ctx->log.pamh, r));
        return PAM_CONV_ERR;
    }
    return PAM_SUCCESS;
}

int pamory_device_login(struct pamory_ctx *ctx, const struct pamory_http *http,
                        const struct pamory_discovery *disc, const struct pamory_client *client,
                        struct pamory_tokens *tokens)
{
    struct pamory_device_auth auth;
    int r;

    memset(tokens, 0, sizeof(*tokens));
    r = pamory_device_start(ctx, http, disc, client, &auth);
    if (r == PAM_SUCCESS) {
        /* If sshd's LoginGraceTime ends the login, this line is the only trace of it. */
        pamory_info(&ctx->log, "device flow started for %s%s%s: waiting for approval", ctx->user,
                    remote_host(ctx) ? " from " : "", remote_host(ctx) ? remote_host(ctx) : "");
        r = show_prompt(ctx, &auth);
    }
    if (r == PAM_SUCCESS)
        r = pamory_device_poll(ctx, http, disc, client, &auth, tokens);
    pamory_device_auth_free(&auth);
    return r;
}
