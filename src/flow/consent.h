/*
 * sudo authorized by a Hydra consent session (mode=consent): the IdP holds a
 * standing, revocable, time-boxed grant of a scope (default "sudo") to our
 * client, and pam_ory asks Hydra's admin API whether it is there right now.
 * No prompt: revoking the consent in Hydra takes sudo away at once.
 * Hydra's shapes and validity rule: shared reference hydra-api.md section 5.
 */
#ifndef PAMORY_CONSENT_H
#define PAMORY_CONSENT_H

#include <stddef.h>
#include <time.h>
#include "context.h"
#include "http.h"

/* What makes a consent session grant: hydra-api.md 5.3. */
struct pamory_consent_rule {
    const char *subject;     /* the Hydra subject of the PAM user */
    const char *client_id;   /* consent_client, default client_id */
    const char *scope;       /* consent_scope, default "sudo" */
    unsigned max_age;        /* consent_max_age: seconds since handled_at; 0 = off */
    time_t now;              /* wall clock */
};

/* Most pages we follow: 100 pages of 500 is far beyond any real subject. */
#define PAMORY_CONSENT_MAX_PAGES 100

/*
 * Does one page of GET /admin/oauth2/auth/sessions/consent (a JSON array)
 * hold a session that grants?  Returns 1 (and logs which one, by
 * consent_request_id), 0 (nothing grants; *closest names why the nearest
 * candidate did not, or NULL if no entry was for our client), or -1 after
 * logging a malformed page.
 */
int pamory_consent_page_grants(const struct pamory_log *log, const char *json, size_t len,
                               const struct pamory_consent_rule *rule, const char **closest);

/*
 * The rel="next" target of an HTTP Link header value, as a heap string, or
 * NULL when there is none.
 */
char *pamory_link_next(const char *link);

/*
 * Seconds since the epoch of an RFC 3339 date-time such as
 * "2026-07-24T10:00:05Z" or "2026-07-24T12:00:05.123+02:00"; -1 if malformed.
 */
time_t pamory_rfc3339_parse(const char *s);

/*
 * The Hydra subject of the PAM user: with map_file, the one subject mapped to
 * the user (none or several is refused); without map_file and with
 * username_claim=sub, the user name itself; any other username_claim cannot
 * be reversed and is refused.  Returns PAM_SUCCESS and a heap *subject,
 * PAM_AUTH_ERR, or PAM_SERVICE_ERR (unreadable map file); logs the refusal.
 */
int pamory_consent_subject(struct pamory_ctx *ctx, char **subject);

/*
 * The whole check: the subject, then every page of the consent list until a
 * granting session is found.  PAM_SUCCESS, PAM_AUTH_ERR (none grants),
 * PAM_AUTHINFO_UNAVAIL (admin API unreachable or 5xx: an administrator can
 * stack a fallback), PAM_SERVICE_ERR (admin_url unset, credentials refused).
 */
int pamory_consent_check(struct pamory_ctx *ctx, const struct pamory_http *http);

#endif
