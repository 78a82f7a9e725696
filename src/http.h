/*
 * The one way pam_ory talks HTTP: a hardened libcurl wrapper.
 *
 * TLS peer and host verification are always on (ca_file adds a private CA);
 * plain http:// is accepted only for loopback hosts (127.0.0.0/8, ::1,
 * localhost), for tests and the dev IdP.  Redirects are not followed.  Every
 * request has a connect timeout and a total timeout bounded by the caller's
 * deadline, and a response larger than PAMORY_HTTP_MAX_BODY is refused.
 * Response bodies may hold tokens: they are wiped when freed and never logged.
 */
#ifndef PAMORY_HTTP_H
#define PAMORY_HTTP_H

#include <stddef.h>
#include <time.h>
#include "log.h"
#include "url.h"

#define PAMORY_HTTP_MAX_BODY (1024 * 1024)
#define PAMORY_HTTP_CONNECT_TIMEOUT 5L   /* seconds */
#define PAMORY_HTTP_REQUEST_TIMEOUT 15L  /* seconds, at most, per request */

struct pamory_http {
    const struct pamory_log *log;
    const char *ca_file;   /* NULL: the system's CA store */
    time_t deadline;       /* CLOCK_MONOTONIC; 0 = only the per-request cap */
};

struct pamory_http_response {
    long status;    /* HTTP status code */
    char *body;     /* NUL-terminated, wiped on free */
    size_t len;
    long max_age;   /* Cache-Control max-age in seconds; 0 for no-store or no-cache;
                       -1 when the response says nothing */
    char *link;     /* the Link header (RFC 8288; Hydra's pagination), or NULL */
};

/* One form field of an application/x-www-form-urlencoded body. */
struct pamory_form_field {
    const char *name;
    const char *value;
};

/* Client credentials sent as HTTP Basic (client_secret_basic); NULL for none. */
struct pamory_basic_auth {
    const char *user;
    const char *password;
};

/*
 * GET url.  Returns 0 when a response arrived (any status; see resp->status),
 * or -1 after logging one line when it did not (refused URL, connect failure,
 * TLS failure, timeout, too large).  resp must be freed in both cases.
 */
int pamory_http_get(const struct pamory_http *http, const char *url,
                    struct pamory_http_response *resp);

/* GET with "Authorization: Bearer <bearer>" (the admin API's key); bearer may be NULL. */
int pamory_http_get_bearer(const struct pamory_http *http, const char *url, const char *bearer,
                           struct pamory_http_response *resp);

/*
 * POST a url-encoded form.  At most one of basic and bearer (sent as
 * "Authorization: Bearer <bearer>", e.g. an Ory Network API key) may be
 * non-NULL.  Same contract as GET.
 */
int pamory_http_post_form(const struct pamory_http *http, const char *url,
                          const struct pamory_form_field *fields, size_t nfields,
                          const struct pamory_basic_auth *basic, const char *bearer,
                          struct pamory_http_response *resp);

void pamory_http_response_free(struct pamory_http_response *resp);

#endif
