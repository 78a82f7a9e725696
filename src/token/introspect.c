/*
 * RFC 7662 introspection against Hydra's admin API (shared reference
 * hydra-api.md section 2): one request, then a fixed list of checks on the
 * answer.  Every refusal is one log line with the token's fingerprint and the
 * check that failed; the token and the API key are never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <security/pam_modules.h>

#include "flow/sanitize.h"
#include "json.h"
#include "safe_file.h"
#include "secret.h"
#include "token/introspect.h"
#include "words.h"

#define INTROSPECT_PATH "/admin/oauth2/introspect"

/* A refusal reason, for the log line: long enough for two sanitized values. */
#define WHY_LEN 384

/* ------------------------------------------------------------- helpers */

/* An optional string key counts as set only when it holds something. */
static int is_set(const char *value)
{
    return value != NULL && value[0] != '\0';
}

/* --------------------------------------------------------------- request */

/* Does the client authenticate with a secret of its own? */
static int has_credentials(const struct pamory_client *client)
{
    return client != NULL && client->secret != NULL && client->method != PAMORY_CLIENT_AUTH_NONE;
}

/* Which authentication the request used, for the log line when it is refused: never the key. */
static void auth_used(const struct pamory_ctx *ctx, const struct pamory_client *client,
                      char *out, size_t len)
{
    if (is_set(ctx->cfg.admin_token_file))
        snprintf(out, len, "bearer key from %s", ctx->cfg.admin_token_file);
    else if (has_credentials(client))
        snprintf(out, len, "client credentials of client_id \"%s\" (%s)", client->client_id,
                 client->method == PAMORY_CLIENT_AUTH_POST ? "client_secret_post" : "client_secret_basic");
    else
        snprintf(out, len, "none");
}

/*
 * POST token= (and scope=) with the first authentication that applies:
 * bearer key, client credentials, none.  Returns PAM_SUCCESS when an answer
 * arrived; otherwise the PAM result, logged.  resp must be freed in all cases.
 */
static int send_request(struct pamory_ctx *ctx, const struct pamory_http *http,
                        const struct pamory_client *client, const char *url, const char *token,
                        struct pamory_http_response *resp)
{
    struct pamory_form_field fields[4] = { { "token", token } };   /* room for post_as_client */
    size_t n = 1;
    char *key = NULL;
    int r;

    memset(resp, 0, sizeof(*resp));
    /* Hydra then demands every listed scope itself; we check again below. */
    if (is_set(ctx->cfg.required_scope))
        fields[n++] = (struct pamory_form_field){ "scope", ctx->cfg.required_scope };
    if (is_set(ctx->cfg.admin_token_file)) {
        if (pamory_read_secret(&ctx->log, ctx->cfg.admin_token_file, &key) != 0)
            return PAM_SERVICE_ERR;
        r = pamory_http_post_form(http, url, fields, n, NULL, key, resp);
        pamory_secret_free(key);
    } else if (has_credentials(client)) {
        r = pamory_post_as_client(http, url, client, fields, n, resp);
    } else {
        r = pamory_http_post_form(http, url, fields, n, NULL, NULL, resp);
    }
    return r == 0 ? PAM_SUCCESS : PAM_AUTHINFO_UNAVAIL;
}

/*
 * A non-200 answer, as a PAM result with one log line.  Our credentials or
 * request being refused is a configuration problem; a server error or rate
 * limit (429, the Ory Network admin bucket) means the API is unavailable now.
 */
static int admin_refused(struct pamory_ctx *ctx, const struct pamory_client *client,
                         const struct pamory_http_response *resp, const char *fp)
{
    json_object *body = pamory_json_parse_object(resp->body, resp->len);
    char error[320], auth[300];
    long status = resp->status;

    pamory_oauth_error(body, error, sizeof(error));
    pamory_json_put_wiped(body);
    if (status == 401 || status == 403) {
        auth_used(ctx, client, auth, sizeof(auth));
        pamory_err(&ctx->log, "introspection of token %s: the admin API refused our credentials "
                   "(HTTP %ld%s); authentication used: %s", fp, status, error, auth);
        return PAM_SERVICE_ERR;
    }
    if (status >= 500 || status == 429) {
        pamory_err(&ctx->log, "introspection of token %s: the admin API answered HTTP %ld%s",
                   fp, status, error);
        return PAM_AUTHINFO_UNAVAIL;
    }
    if (status >= 400) {
        pamory_err(&ctx->log, "introspection of token %s: the admin API refused the request "
                   "(HTTP %ld%s); check admin_url and required_scope", fp, status, error);
        return PAM_SERVICE_ERR;
    }
    pamory_err(&ctx->log, "introspection of token %s: unexpected HTTP %ld from the admin API", fp, status);
    return PAM_AUTHINFO_UNAVAIL;
}

/* ---------------------------------------------------------------- checks */

/*
 * One check on the introspection answer: 0 when it passes, else -1 with the
 * reason in why.  They run in the order of the table below.
 */
typedef int check_fn(const struct pamory_config *cfg, json_object *a, time_t now,
                     char *why, size_t len);

/* Only the JSON literal true: "true" or 1 would be a broken or forged answer. */
static int check_active(const struct pamory_config *cfg, json_object *a, time_t now,
                        char *why, size_t len)
{
    bool active = false;
    enum pamory_json_get g = pamory_json_bool(a, "active", &active);

    (void)cfg;
    (void)now;
    if (g != PAMORY_JSON_OK)
        snprintf(why, len, "\"active\" is %s, not the JSON literal true",
                 g == PAMORY_JSON_MISSING ? "missing" : "not a boolean");
    else if (!active)
        snprintf(why, len, "not active (expired, revoked, unknown, not an access or refresh token, "
                 "or a required scope not granted)");
    return g == PAMORY_JSON_OK && active ? 0 : -1;
}

/* Hydra also says active for an unexpired refresh token; only access tokens log anyone in. */
static int check_token_use(const struct pamory_config *cfg, json_object *a, time_t now,
                           char *why, size_t len)
{
    const char *use = NULL;
    enum pamory_json_get g = pamory_json_string(a, "token_use", &use);
    char clean[64];

    (void)cfg;
    (void)now;
    if (g == PAMORY_JSON_OK && strcmp(use, "access_token") == 0)
        return 0;
    if (g == PAMORY_JSON_MISSING) {
        snprintf(why, len, "token_use is missing, so it may not be an access token");
    } else if (g != PAMORY_JSON_OK) {
        snprintf(why, len, "token_use is not a string");
    } else if (strcmp(use, "refresh_token") == 0) {
        snprintf(why, len, "it is a refresh token, not an access token");
    } else {
        pamory_sanitize_into(use, clean, sizeof(clean));
        snprintf(why, len, "token_use is \"%s\", not access_token", clean);
    }
    return -1;
}

/* Hydra checks expiry too; a missing or past exp means the answer cannot be trusted. */
static int check_exp(const struct pamory_config *cfg, json_object *a, time_t now,
                     char *why, size_t len)
{
    int64_t exp = 0;
    enum pamory_json_get g = pamory_json_int64(a, "exp", &exp);

    (void)cfg;
    if (g == PAMORY_JSON_OK && exp > (int64_t)now)
        return 0;
    if (g != PAMORY_JSON_OK)
        snprintf(why, len, "exp is %s", g == PAMORY_JSON_MISSING ? "missing" : "not a whole number");
    else
        snprintf(why, len, "expired %lld s ago", (long long)((int64_t)now - exp));
    return -1;
}

/* The subject is who logs in: without one there is nobody to map to a user. */
static int check_sub(const struct pamory_config *cfg, json_object *a, time_t now,
                     char *why, size_t len)
{
    const char *sub = NULL;

    (void)cfg;
    (void)now;
    if (pamory_json_string(a, "sub", &sub) == PAMORY_JSON_OK && sub[0] != '\0')
        return 0;
    snprintf(why, len, "sub is missing, empty or not a string");
    return -1;
}

/* A token of another issuer (a second Hydra behind the same admin URL) does not count. */
static int check_iss(const struct pamory_config *cfg, json_object *a, time_t now,
                     char *why, size_t len)
{
    const char *iss = NULL;
    enum pamory_json_get g = pamory_json_string(a, "iss", &iss);
    char clean[160];

    (void)now;
    if (g == PAMORY_JSON_MISSING || (g == PAMORY_JSON_OK && cfg->issuer != NULL &&
                                     strcmp(iss, cfg->issuer) == 0))
        return 0;
    if (g != PAMORY_JSON_OK) {
        snprintf(why, len, "iss is not a string");
    } else {
        pamory_sanitize_into(iss, clean, sizeof(clean));
        snprintf(why, len, "iss \"%s\" is not the configured issuer \"%s\"", clean,
                 cfg->issuer != NULL ? cfg->issuer : "");
    }
    return -1;
}

/* With allowed_clients set, only tokens issued to those clients count. */
static int check_client(const struct pamory_config *cfg, json_object *a, time_t now,
                        char *why, size_t len)
{
    const char *client_id = NULL;
    char clean[160];

    (void)now;
    if (pamory_json_string(a, "client_id", &client_id) != PAMORY_JSON_OK) {
        snprintf(why, len, "client_id is missing or not a string");
        return -1;
    }
    /* As for JWTs: our own client, or one the administrator named. */
    if (strcmp(client_id, cfg->client_id) == 0 ||
        pamory_word_in(cfg->allowed_clients, client_id, strlen(client_id)))
        return 0;
    pamory_sanitize_into(client_id, clean, sizeof(clean));
    snprintf(why, len, "client_id \"%s\" is neither client_id nor in allowed_clients", clean);
    return -1;
}

/* Every word of required_scope must be granted: Hydra checks it for us, but we do not rely on that. */
static int check_scope(const struct pamory_config *cfg, json_object *a, time_t now,
                       char *why, size_t len)
{
    const char *scope = NULL, *missing;
    size_t n = 0;

    (void)now;
    if (!is_set(cfg->required_scope))
        return 0;
    if (pamory_json_string(a, "scope", &scope) != PAMORY_JSON_OK)
        scope = "";
    if ((missing = pamory_words_missing(cfg->required_scope, scope, &n)) == NULL)
        return 0;
    snprintf(why, len, "scope \"%.*s\" of required_scope is not granted", (int)n, missing);
    return -1;
}

static check_fn *const checks[] = {
    check_active, check_token_use, check_exp, check_sub, check_iss, check_client, check_scope,
};

/* Run the checks on a 200 answer.  PAM_SUCCESS, or PAM_AUTH_ERR after one log line. */
static int judge(struct pamory_ctx *ctx, json_object *a, const char *fp)
{
    char why[WHY_LEN];
    time_t now = time(NULL);
    size_t i;

    for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (checks[i](&ctx->cfg, a, now, why, sizeof(why)) != 0) {
            pamory_notice(&ctx->log, "introspection refused token %s: %s", fp, why);
            return PAM_AUTH_ERR;
        }
    }
    return PAM_SUCCESS;
}

/* --------------------------------------------------------------- the call */

/* The answer to a request that arrived: non-200, not an object, or judged. */
static int read_answer(struct pamory_ctx *ctx, const struct pamory_client *client,
                       const struct pamory_http_response *resp, const char *fp, json_object **answer)
{
    json_object *a;
    int r;

    if (resp->status != 200)
        return admin_refused(ctx, client, resp, fp);
    if ((a = pamory_json_parse_object(resp->body, resp->len)) == NULL) {
        pamory_err(&ctx->log, "introspection of token %s: the admin API answered HTTP 200 "
                   "without a JSON object", fp);
        return PAM_AUTHINFO_UNAVAIL;
    }
    if ((r = judge(ctx, a, fp)) != PAM_SUCCESS) {
        pamory_json_put_wiped(a);
        return r;
    }
    *answer = a;
    return PAM_SUCCESS;
}

int pamory_introspect(struct pamory_ctx *ctx, const struct pamory_http *http,
                      const struct pamory_client *client, const char *token,
                      json_object **answer)
{
    struct pamory_http_response resp;
    char fp[PAMORY_FINGERPRINT_LEN];
    char *url;
    int r;

    *answer = NULL;
    if (!is_set(ctx->cfg.admin_url)) {
        pamory_err(&ctx->log, "introspection needs admin_url (Hydra's admin API base URL)");
        return PAM_SERVICE_ERR;
    }
    pamory_fingerprint(token, fp);
    if (token == NULL || token[0] == '\0') {
        pamory_notice(&ctx->log, "introspection refused token %s: the token is empty", fp);
        return PAM_AUTH_ERR;
    }
    if ((url = pamory_url_join(ctx->cfg.admin_url, INTROSPECT_PATH)) == NULL) {
        pamory_err(&ctx->log, "out of memory");
        return PAM_BUF_ERR;
    }
    r = send_request(ctx, http, client, url, token, &resp);
    free(url);
    if (r == PAM_SUCCESS)
        r = read_answer(ctx, client, &resp, fp, answer);
    else if (r == PAM_AUTHINFO_UNAVAIL)
        pamory_err(&ctx->log, "introspection of token %s: the admin API could not be reached", fp);
    pamory_http_response_free(&resp);
    if (r == PAM_SUCCESS)
        pamory_debug(&ctx->log, "introspection accepted token %s", fp);
    return r;
}
