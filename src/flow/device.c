/*
 * RFC 8628 against Hydra (see shared reference hydra-api.md section 1):
 * client_id always in the body, "interval" optional (5 s default), +5 s on
 * slow_down, our own deadline because Hydra keeps answering
 * authorization_pending for an expired code, and never a poll after success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <security/pam_modules.h>

#include "clock.h"
#include "flow/device.h"
#include "flow/sanitize.h"
#include "json.h"
#include "secret.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define MAX_INTERVAL 60L   /* a server asking for more is broken; the deadline bounds us anyway */

/* ------------------------------------------------------------ requests */

/* Shared (device.h): the introspection request authenticates the same way. */
int pamory_post_as_client(const struct pamory_http *http, const char *url,
                          const struct pamory_client *client,
                          struct pamory_form_field *fields, size_t n,
                          struct pamory_http_response *resp)
{
    struct pamory_basic_auth basic = { client->client_id, client->secret };

    /* Callers leave room for two more fields. */
    fields[n++] = (struct pamory_form_field){ "client_id", client->client_id };
    if (client->method == PAMORY_CLIENT_AUTH_POST)
        fields[n++] = (struct pamory_form_field){ "client_secret", client->secret };
    return pamory_http_post_form(http, url, fields, n,
                                 client->method == PAMORY_CLIENT_AUTH_BASIC ? &basic : NULL, NULL, resp);
}

const char *pamory_oauth_error(json_object *body, char *text, size_t len)
{
    const char *error = NULL, *desc = NULL;
    char e[100], d[200] = "";

    text[0] = '\0';
    if (pamory_json_string(body, "error", &error) != PAMORY_JSON_OK)
        return NULL;
    pamory_sanitize_into(error, e, sizeof(e));
    if (pamory_json_string(body, "error_description", &desc) == PAMORY_JSON_OK && desc[0] != '\0')
        pamory_sanitize_into(desc, d, sizeof(d));
    snprintf(text, len, ": %s%s%s", e, d[0] ? ": " : "", d);
    return error;
}

/* ----------------------------------------------- device authorization */

/* Copy a display string from the response, sanitized for the terminal. */
static int take_display(json_object *body, const char *key, int required, char **out)
{
    const char *v;

    *out = NULL;
    if (pamory_json_string(body, key, &v) != PAMORY_JSON_OK || v[0] == '\0')
        return required ? -1 : 0;
    *out = pamory_sanitize(v);
    return *out != NULL ? 0 : -1;
}

/* Fill out from a 200 response; -1 names the bad field in *bad. */
static int parse_device_auth(json_object *body, struct pamory_device_auth *out, const char **bad)
{
    int64_t expires_in, interval;

    *bad = "device_code";
    if ((out->device_code = pamory_json_strdup(body, "device_code")) == NULL || !out->device_code[0])
        return -1;
    *bad = "user_code";
    if (take_display(body, "user_code", 1, &out->user_code) != 0)
        return -1;
    *bad = "verification_uri";
    if (take_display(body, "verification_uri", 1, &out->verification_uri) != 0 ||
        !pamory_url_allowed(out->verification_uri))
        return -1;
    *bad = "verification_uri_complete";
    if (take_display(body, "verification_uri_complete", 0, &out->verification_uri_complete) != 0)
        return -1;
    if (out->verification_uri_complete != NULL && !pamory_url_allowed(out->verification_uri_complete)) {
        free(out->verification_uri_complete);   /* not fatal: we just show no QR code */
        out->verification_uri_complete = NULL;
    }
    *bad = "expires_in";
    if (pamory_json_int64(body, "expires_in", &expires_in) != PAMORY_JSON_OK || expires_in <= 0)
        return -1;
    out->expires_in = expires_in > 86400 ? 86400 : (long)expires_in;
    /* Hydra omits interval when configured below 1 s; RFC 8628 says 5 then. */
    if (pamory_json_int64(body, "interval", &interval) != PAMORY_JSON_OK || interval < 1)
        interval = PAMORY_DEVICE_DEFAULT_INTERVAL;
    out->interval = interval > MAX_INTERVAL ? MAX_INTERVAL : (long)interval;
    return 0;
}

/*
 * An error answer to the device authorization request.  The IdP refusing our
 * client or scope is a configuration problem; anything else means the IdP is
 * not working.
 */
static int device_auth_refused(struct pamory_ctx *ctx, const struct pamory_http_response *resp)
{
    json_object *body = pamory_json_parse_object(resp->body, resp->len);
    char text[320];
    const char *error = pamory_oauth_error(body, text, sizeof(text));
    int r = PAM_AUTHINFO_UNAVAIL;

    /* 429 is the IdP's load, not our configuration. */
    if (error != NULL && resp->status >= 400 && resp->status < 500 && resp->status != 429) {
        pamory_err(&ctx->log, "the IdP refused the device authorization request for client_id \"%s\"%s"
                   " (check client_id, client_auth_method, the client secret and scope)",
                   ctx->cfg.client_id, text);
        r = PAM_SERVICE_ERR;
    } else {
        pamory_err(&ctx->log, "device authorization request failed: HTTP %ld%s", resp->status, text);
    }
    json_object_put(body);
    return r;
}

int pamory_device_start(struct pamory_ctx *ctx, const struct pamory_http *http,
                        const struct pamory_discovery *disc, const struct pamory_client *client,
                        struct pamory_device_auth *out)
{
    struct pamory_form_field fields[3] = { { "scope", ctx->cfg.scope } };
    struct pamory_http_response resp;
    json_object *body;
    const char *bad = NULL;
    char fp[PAMORY_FINGERPRINT_LEN];
    int r;

    memset(out, 0, sizeof(*out));
    if (disc->device_authorization_endpoint == NULL) {
        pamory_err(&ctx->log, "issuer %s advertises no device_authorization_endpoint", ctx->cfg.issuer);
        return PAM_AUTHINFO_UNAVAIL;
    }
    if (pamory_post_as_client(http, disc->device_authorization_endpoint, client, fields, 1, &resp) != 0)
        return PAM_AUTHINFO_UNAVAIL;
    if (resp.status != 200) {
        r = device_auth_refused(ctx, &resp);
        pamory_http_response_free(&resp);
        return r;
    }
    body = pamory_json_parse_object(resp.body, resp.len);
    r = body != NULL && parse_device_auth(body, out, &bad) == 0 ? PAM_SUCCESS : PAM_AUTHINFO_UNAVAIL;
    pamory_json_put_wiped(body);   /* it held the device code */
    pamory_http_response_free(&resp);
    if (r != PAM_SUCCESS) {
        pamory_err(&ctx->log, "device authorization response is unusable: %s",
                   bad ? bad : "not a JSON object");
        pamory_device_auth_free(out);
        return r;
    }
    out->issued_at = pamory_monotonic_now();
    pamory_fingerprint(out->device_code, fp);
    pamory_debug(&ctx->log, "device authorization started: device_code %s, expires in %ld s, interval %ld s",
                 fp, out->expires_in, out->interval);
    return PAM_SUCCESS;
}

/* --------------------------------------------------------------- polling */

/* What one poll of the token endpoint said. */
enum poll_result {
    POLL_TOKENS,       /* done: tokens in hand */
    POLL_PENDING,      /* ask again after the interval */
    POLL_SLOW_DOWN,    /* ask again, 5 s slower from now on */
    POLL_UNREACHABLE,  /* transport failure or server error: try again */
    POLL_FAILED        /* final: *rc holds the PAM result */
};

/* Fill tokens from a 200 response.  An answer without an ID token is useless to us. */
static int parse_tokens(struct pamory_ctx *ctx, json_object *body, struct pamory_tokens *out)
{
    const char *type;
    int64_t expires_in = 0;

    if (pamory_json_string(body, "token_type", &type) != PAMORY_JSON_OK || strcasecmp(type, "bearer") != 0) {
        pamory_err(&ctx->log, "token response: token_type is not bearer");
        return PAM_AUTH_ERR;
    }
    out->access_token = pamory_json_strdup(body, "access_token");
    out->id_token = pamory_json_strdup(body, "id_token");
    out->refresh_token = pamory_json_strdup(body, "refresh_token");
    out->scope = pamory_json_strdup(body, "scope");
    if (pamory_json_int64(body, "expires_in", &expires_in) == PAMORY_JSON_OK)
        out->expires_in = (long)expires_in;
    if (out->access_token == NULL) {
        pamory_err(&ctx->log, "token response has no access_token");
        return PAM_AUTH_ERR;
    }
    if (out->id_token == NULL) {
        pamory_err(&ctx->log, "token response has no id_token: the scope must include \"openid\" and the "
                   "consent must grant it (scope is \"%s\")", ctx->cfg.scope);
        return PAM_AUTH_ERR;
    }
    return PAM_SUCCESS;
}

/* Map a token-endpoint error to the next step (RFC 8628 3.5, hydra-api.md 1.5). */
static enum poll_result poll_error(struct pamory_ctx *ctx, long status, json_object *body, int *rc)
{
    char text[320];
    const char *error = pamory_oauth_error(body, text, sizeof(text));

    /*
     * A struggling server (5xx, with or without an OAuth body such as
     * server_error or temporarily_unavailable) gets another try later; a
     * rate limit is slow_down by another name.
     */
    if (status >= 500)
        return POLL_UNREACHABLE;
    if (status == 429 || (error != NULL && strcmp(error, "slow_down") == 0))
        return POLL_SLOW_DOWN;
    if (error == NULL) {
        pamory_err(&ctx->log, "token endpoint answered HTTP %ld without an OAuth error", status);
        *rc = PAM_AUTH_ERR;
        return POLL_FAILED;
    }
    if (strcmp(error, "authorization_pending") == 0)
        return POLL_PENDING;
    if (strcmp(error, "access_denied") == 0)
        pamory_notice(&ctx->log, "login for %s was denied at the IdP", ctx->user);
    else if (strcmp(error, "expired_token") == 0)
        pamory_notice(&ctx->log, "login for %s failed: the device code expired before it was redeemed", ctx->user);
    else if (strcmp(error, "invalid_client") == 0 || strcmp(error, "unauthorized_client") == 0) {
        pamory_err(&ctx->log, "the IdP refused client_id \"%s\" at the token endpoint%s",
                   ctx->cfg.client_id, text);
        *rc = PAM_SERVICE_ERR;
        return POLL_FAILED;
    } else
        pamory_notice(&ctx->log, "login for %s failed at the token endpoint%s", ctx->user, text);
    *rc = PAM_AUTH_ERR;
    return POLL_FAILED;
}

/* One request to the token endpoint with the device code. */
static enum poll_result poll_once(struct pamory_ctx *ctx, const struct pamory_http *http,
                                  const struct pamory_discovery *disc, const struct pamory_client *client,
                                  const struct pamory_device_auth *auth, struct pamory_tokens *out, int *rc)
{
    struct pamory_form_field fields[4] = {
        { "grant_type", DEVICE_GRANT },
        { "device_code", auth->device_code },
    };
    struct pamory_http_response resp;
    enum poll_result result;
    json_object *body;

    if (pamory_post_as_client(http, disc->token_endpoint, client, fields, 2, &resp) != 0)
        return POLL_UNREACHABLE;
    body = pamory_json_parse_object(resp.body, resp.len);
    if (resp.status == 200 && body != NULL) {
        *rc = parse_tokens(ctx, body, out);
        result = *rc == PAM_SUCCESS ? POLL_TOKENS : POLL_FAILED;
    } else if (resp.status == 200) {
        pamory_err(&ctx->log, "token response is not a JSON object");
        *rc = PAM_AUTH_ERR;
        result = POLL_FAILED;
    } else {
        result = poll_error(ctx, resp.status, body, rc);
    }
    pamory_json_put_wiped(body);   /* it held tokens */
    pamory_http_response_free(&resp);
    return result;
}

/* Sleep until the monotonic second `until`, through signals. */
static void sleep_until(time_t until)
{
    struct timespec ts = { .tv_sec = until, .tv_nsec = 0 };

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Why polling stopped without an answer: log it and pick the PAM result. */
static int poll_gave_up(struct pamory_ctx *ctx, const struct pamory_device_auth *auth, int unreachable)
{
    if (unreachable) {
        pamory_err(&ctx->log, "login for %s failed: the token endpoint could not be reached", ctx->user);
        return PAM_AUTHINFO_UNAVAIL;
    }
    if (auth->issued_at + auth->expires_in <= ctx->deadline)
        pamory_notice(&ctx->log, "login for %s failed: not approved before the device code expired (%ld s)",
                      ctx->user, auth->expires_in);
    else
        pamory_notice(&ctx->log, "login for %s failed: not approved within timeout=%u s",
                      ctx->user, ctx->cfg.timeout);
    return PAM_AUTH_ERR;
}

int pamory_device_poll(struct pamory_ctx *ctx, const struct pamory_http *http,
                       const struct pamory_discovery *disc, const struct pamory_client *client,
                       const struct pamory_device_auth *auth, struct pamory_tokens *out)
{
    time_t deadline = auth->issued_at + auth->expires_in;
    time_t next = auth->issued_at + auth->interval;
    long interval = auth->interval;
    int rc = PAM_AUTH_ERR, unreachable = 0, polls = 0;

    memset(out, 0, sizeof(*out));
    if (ctx->deadline < deadline)
        deadline = ctx->deadline;
    for (;;) {
        time_t now = pamory_monotonic_now();

        if (next < now)
            next = now;
        if (next >= deadline)
            return poll_gave_up(ctx, auth, unreachable);
        sleep_until(next);
        polls++;
        switch (poll_once(ctx, http, disc, client, auth, out, &rc)) {
        case POLL_TOKENS:
            pamory_debug(&ctx->log, "tokens received after %d poll(s)", polls);
            return PAM_SUCCESS;   /* and never poll again: a replay revokes the grant */
        case POLL_FAILED:
            pamory_tokens_free(out);
            return rc;
        case POLL_SLOW_DOWN:
            interval += PAMORY_DEVICE_SLOW_DOWN_STEP;
            pamory_debug(&ctx->log, "slow_down: polling every %ld s now", interval);
            unreachable = 0;
            break;
        case POLL_UNREACHABLE:
            unreachable = 1;
            break;
        case POLL_PENDING:
            unreachable = 0;
            break;
        }
        next = pamory_monotonic_now() + interval;
    }
}

void pamory_device_auth_free(struct pamory_device_auth *auth)
{
    if (auth == NULL)
        return;
    pamory_secret_free(auth->device_code);
    free(auth->user_code);
    free(auth->verification_uri);
    free(auth->verification_uri_complete);
    memset(auth, 0, sizeof(*auth));
}

void pamory_tokens_free(struct pamory_tokens *tokens)
{
    if (tokens == NULL)
        return;
    pamory_secret_free(tokens->access_token);
    pamory_secret_free(tokens->id_token);
    pamory_secret_free(tokens->refresh_token);
    free(tokens->scope);
    memset(tokens, 0, sizeof(*tokens));
}
