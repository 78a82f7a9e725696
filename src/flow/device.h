/*
 * The OAuth 2.0 Device Authorization Grant (RFC 8628) against Hydra:
 * POST the device authorization request, then poll the token endpoint.
 */
#ifndef PAMORY_DEVICE_H
#define PAMORY_DEVICE_H

#include <time.h>
#include <json-c/json.h>

#include "context.h"
#include "discovery.h"
#include "http.h"

/* RFC 8628 3.5: the poll interval when the server names none, and the slow_down step. */
#define PAMORY_DEVICE_DEFAULT_INTERVAL 5
#define PAMORY_DEVICE_SLOW_DOWN_STEP 5

struct pamory_device_auth {
    char *device_code;                /* SECRET: never logged, wiped on free */
    char *user_code;                  /* sanitized for display */
    char *verification_uri;           /* sanitized for display */
    char *verification_uri_complete;  /* sanitized; NULL if the IdP sent none */
    long expires_in;                  /* seconds */
    long interval;                    /* seconds, >= 1 */
    time_t issued_at;                 /* CLOCK_MONOTONIC when the IdP answered */
};

struct pamory_tokens {
    char *access_token;    /* SECRET */
    char *id_token;        /* SECRET */
    char *refresh_token;   /* SECRET, may be NULL */
    char *scope;           /* granted scope, may be NULL */
    long expires_in;
};

/*
 * How the client authenticates to the IdP, resolved from the configuration:
 * client_id always goes into the form body (Hydra requires it there even with
 * HTTP Basic); the secret goes either in Basic or in the body, or nowhere.
 */
struct pamory_client {
    const char *client_id;
    enum pamory_client_auth method;   /* NONE, BASIC or POST (resolved) */
    char *secret;                     /* SECRET, NULL for NONE */
};

/*
 * POST fields[0..n) plus the client's authentication: client_id in the body,
 * and the secret in HTTP Basic or in the body as the client's method says.
 * fields must have room for two more entries.  Returns what
 * pamory_http_post_form returns.
 */
int pamory_post_as_client(const struct pamory_http *http, const char *url,
                          const struct pamory_client *client,
                          struct pamory_form_field *fields, size_t n,
                          struct pamory_http_response *resp);

/*
 * The OAuth error of an error response body (RFC 6749 5.2): returns the
 * "error" code as sent (borrowed from body, for comparing) or NULL, and
 * writes ": <error>[: <error_description>]", sanitized and short, into text
 * for log lines ("" when there is no error).
 */
const char *pamory_oauth_error(json_object *body, char *text, size_t len);

/*
 * Start a device authorization.  Returns PAM_SUCCESS; PAM_AUTHINFO_UNAVAIL if
 * the IdP cannot be reached or fails (5xx); PAM_SERVICE_ERR if it refuses our
 * client or scope (invalid_client, invalid_scope, unauthorized_client, ...),
 * which is a configuration problem; each after one log line.
 */
int pamory_device_start(struct pamory_ctx *ctx, const struct pamory_http *http,
                        const struct pamory_discovery *disc, const struct pamory_client *client,
                        struct pamory_device_auth *out);

/*
 * Poll the token endpoint until tokens arrive (PAM_SUCCESS), the user denies
 * or the code expires (PAM_AUTH_ERR), or the deadline passes (PAM_AUTH_ERR,
 * or PAM_AUTHINFO_UNAVAIL if the IdP could not be reached at all meanwhile).
 * Never polls again once tokens arrived: a replayed device code revokes them.
 */
int pamory_device_poll(struct pamory_ctx *ctx, const struct pamory_http *http,
                       const struct pamory_discovery *disc, const struct pamory_client *client,
                       const struct pamory_device_auth *auth, struct pamory_tokens *out);

void pamory_device_auth_free(struct pamory_device_auth *auth);
void pamory_tokens_free(struct pamory_tokens *tokens);

#endif
