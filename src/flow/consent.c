/*
 * mode=consent: is there, right now, a Hydra consent session in which the
 * PAM user's subject granted consent_scope to consent_client?
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <security/pam_modules.h>

#include "account.h"
#include "flow/consent.h"
#include "json.h"
#include "safe_file.h"
#include "secret.h"

/* ------------------------------------------------------------ RFC 3339 */

/* Read exactly n digits at *p into *out and advance. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;

    while (n-- > 0) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (*(*p)++ - '0');
    }
    *out = v;
    return 0;
}

/* "Z", "+hh:mm" or "-hh:mm": seconds east of UTC. */
static int utc_offset(const char *p, long *offset)
{
    int sign, hh, mm;

    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *offset = 0;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return -1;
    sign = *p++ == '-' ? -1 : 1;
    if (digits(&p, 2, &hh) != 0 || *p++ != ':' || digits(&p, 2, &mm) != 0 || *p != '\0' ||
        hh > 23 || mm > 59)
        return -1;
    *offset = sign * (hh * 3600L + mm * 60L);
    return 0;
}

time_t pamory_rfc3339_parse(const char *s)
{
    struct tm tm;
    const char *p = s;
    int year, mon, day, hh, mm, ss;
    long offset;
    time_t t;

    if (s == NULL || digits(&p, 4, &year) != 0 || *p++ != '-' || digits(&p, 2, &mon) != 0 ||
        *p++ != '-' || digits(&p, 2, &day) != 0 || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &hh) != 0 || *p++ != ':' || digits(&p, 2, &mm) != 0 || *p++ != ':' ||
        digits(&p, 2, &ss) != 0)
        return -1;
    if (*p == '.')   /* fractions of a second do not matter here */
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (utc_offset(p, &offset) != 0 || mon < 1 || mon > 12 || day < 1 || day > 31 ||
        hh > 23 || mm > 59 || ss > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    t = timegm(&tm);
    return t == (time_t)-1 ? -1 : t - offset;
}

/* ------------------------------------------------------------ Link header */

/* Does the parameter list of one link-value (after '>') say rel="next"? */
static int rel_is_next(const char *params, size_t len)
{
    char buf[256];
    const char *rel;

    snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) - 1 ? len : sizeof(buf) - 1), params);
    for (rel = strcasestr(buf, "rel="); rel != NULL; rel = strcasestr(rel + 4, "rel=")) {
        const char *v = rel + 4;
        if (*v == '"')
            v++;
        /* rel may hold several space-separated types: "next" must be one of them. */
        while (*v != '\0' && *v != '"' && *v != ';' && *v != ',') {
            size_t n = strcspn(v, " \";,");
            if (n == 4 && strncasecmp(v, "next", 4) == 0)
                return 1;
            v += n;
            v += strspn(v, " ");
        }
    }
    return 0;
}

char *pamory_link_next(const char *link)
{
    const char *p = link;

    /* link-value = "<" URI-Reference ">" *( ";" link-param ), comma-separated (RFC 8288). */
    while (p != NULL && (p = strchr(p, '<')) != NULL) {
        const char *end = strchr(p, '>');
        const char *next;

        if (end == NULL)
            return NULL;
        next = strchr(end, '<');   /* URIs cannot hold '<', so this starts the next value */
        if (rel_is_next(end + 1, next != NULL ? (size_t)(next - end - 1) : strlen(end + 1)))
            return strndup(p + 1, (size_t)(end - p - 1));
        p = next;
    }
    return NULL;
}

/* --------------------------------------------------------- validity rule */

/* Is word in the JSON array of strings arr? (exact match: no wildcard scopes) */
static int array_has(json_object *arr, const char *word)
{
    size_t i, n = json_object_array_length(arr);

    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), word) == 0)
            return 1;
    }
    return 0;
}

/*
 * Does this entry grant?  NULL when it does; otherwise why not (static).
 * hydra-api.md 5.3: client, subject, scope, remember, remember_for against
 * handled_at, and our own maximum age.
 */
static const char *entry_refusal(json_object *e, const struct pamory_consent_rule *rule)
{
    json_object *req = NULL, *client = NULL, *grant = NULL;
    const char *client_id = NULL, *subject = NULL, *handled = NULL;
    bool remember = false;
    int64_t remember_for = -1;
    time_t handled_at;

    if (!json_object_object_get_ex(e, "consent_request", &req) ||
        !json_object_object_get_ex(req, "client", &client) ||
        pamory_json_string(client, "client_id", &client_id) != PAMORY_JSON_OK)
        return "malformed entry (no consent_request.client.client_id)";
    if (strcmp(client_id, rule->client_id) != 0)
        return "another client";
    if (pamory_json_string(req, "subject", &subject) != PAMORY_JSON_OK || strcmp(subject, rule->subject) != 0)
        return "another subject";
    if (pamory_json_array(e, "grant_scope", &grant) != PAMORY_JSON_OK || !array_has(grant, rule->scope))
        return "scope not granted";
    if (pamory_json_bool(e, "remember", &remember) != PAMORY_JSON_OK || !remember)
        return "not remembered (remember is false)";
    if (pamory_json_int64(e, "remember_for", &remember_for) != PAMORY_JSON_OK || remember_for < 0)
        return "remember_for missing or negative";
    if (pamory_json_string(e, "handled_at", &handled) != PAMORY_JSON_OK ||
        (handled_at = pamory_rfc3339_parse(handled)) < 0)
        return "handled_at missing or malformed";
    if (remember_for > 0 && handled_at + remember_for <= rule->now)
        return "expired (handled_at + remember_for has passed)";
    if (rule->max_age > 0 && rule->now - handled_at > (time_t)rule->max_age)
        return "older than consent_max_age";
    return NULL;
}

int pamory_consent_page_grants(const struct pamory_log *log, const char *json, size_t len,
                               const struct pamory_consent_rule *rule, const char **closest)
{
    json_object *page = pamory_json_parse(json, len);
    size_t i, n;
    int r = 0;

    if (page == NULL || !json_object_is_type(page, json_type_array)) {
        pamory_err(log, "consent session list is not a JSON array");
        json_object_put(page);
        return -1;
    }
    n = json_object_array_length(page);
    for (i = 0; i < n && r == 0; i++) {
        json_object *e = json_object_array_get_idx(page, i);
        const char *why = entry_refusal(e, rule);
        const char *id = NULL;

        if (why == NULL) {
            pamory_json_string(e, "consent_request_id", &id);
            pamory_debug(log, "consent session %.64s grants %s", id ? id : "(no id)", rule->scope);
            r = 1;
        } else if (strcmp(why, "another client") != 0 && strcmp(why, "another subject") != 0) {
            *closest = why;   /* a session for us that fails a later check: worth telling */
        }
    }
    json_object_put(page);
    return r;
}

/* ------------------------------------------------------------ subject */

struct reverse_map {
    const char *user;
    char *subject;    /* the first subject mapped to user */
    int found;        /* how many lines map a subject to user */
};

static int collect_subject(void *arg, int lineno, const char *claim, const char *user)
{
    struct reverse_map *m = arg;

    (void)lineno;
    if (strcmp(user, m->user) != 0)
        return 0;
    if (m->found++ == 0 && (m->subject = strdup(claim)) == NULL)
        return -2;
    return 0;
}

/*
 * The reverse of the login mapping.  sudo must know which Hydra subject
 * stands behind the local user before asking Hydra; a user that several
 * subjects map to would let any of them grant sudo, so that is refused.
 */
int pamory_consent_subject(struct pamory_ctx *ctx, char **subject)
{
    struct reverse_map m = { .user = ctx->user };
    char *text = NULL;
    int r;

    *subject = NULL;
    if (ctx->cfg.map_file == NULL) {
        if (strcmp(ctx->cfg.username_claim, "sub") != 0) {
            pamory_err(&ctx->log, "mode=consent needs map_file when username_claim is not sub: "
                       "a %s value cannot be turned back into a subject", ctx->cfg.username_claim);
            return PAM_SERVICE_ERR;
        }
        *subject = strdup(ctx->user);
        return *subject != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
    }
    if (pamory_read_file(&ctx->log, ctx->cfg.map_file, PAMORY_FILE_POLICY, false, &text, NULL) != 0)
        return PAM_SERVICE_ERR;
    r = pamory_map_each(&ctx->log, ctx->cfg.map_file, text, collect_subject, &m);
    free(text);
    if (r != 0) {
        free(m.subject);
        return r == -2 ? PAM_BUF_ERR : PAM_SERVICE_ERR;
    }
    if (m.found != 1) {
        pamory_notice(&ctx->log, "sudo refused for %s: %s in %s", ctx->user,
                      m.found == 0 ? "no subject is mapped to this user"
                                   : "several subjects are mapped to this user (ambiguous)",
                      ctx->cfg.map_file);
        free(m.subject);
        return PAM_AUTH_ERR;
    }
    *subject = m.subject;
    return PAM_SUCCESS;
}

/* ------------------------------------------------------------ the check */

/* "<admin_url>/admin/oauth2/auth/sessions/consent?subject=<S>", S url-encoded. */
static char *first_page_url(const char *admin_url, const char *subject)
{
    char *escaped = pamory_url_escape(subject), *path = NULL, *url = NULL;

    if (escaped != NULL && asprintf(&path, "/admin/oauth2/auth/sessions/consent?subject=%s", escaped) >= 0)
        url = pamory_url_join(admin_url, path);
    free(path);
    free(escaped);
    return url;
}

/*
 * The next page's URL from the Link header: a path is resolved against
 * admin_url; an absolute URL must stay on admin_url's origin, so a
 * tampered header cannot send our API key elsewhere.
 */
static char *next_page_url(const char *admin_url, const char *link)
{
    char *next = pamory_link_next(link), *url = NULL;
    size_t origin = pamory_url_origin_len(admin_url);

    if (next == NULL)
        return NULL;
    if (next[0] == '/') {
        if (asprintf(&url, "%.*s%s", (int)origin, admin_url, next) < 0)
            url = NULL;
    } else if (strncmp(next, admin_url, origin) == 0 && (next[origin] == '/' || next[origin] == '?')) {
        url = strdup(next);
    }
    free(next);
    return url;
}

/*
 * One page.  Returns a PAM code for the request (PAM_SUCCESS when the page
 * was read); *granted when a session on it grants, else *next is the next
 * page's URL or NULL.
 */
static int check_page(struct pamory_ctx *ctx, const struct pamory_http *http, const char *url,
                      const char *bearer, const struct pamory_consent_rule *rule,
                      const char **closest, bool *granted, char **next)
{
    struct pamory_http_response resp;
    int r = PAM_SUCCESS, found;

    *next = NULL;
    if (pamory_http_get_bearer(http, url, bearer, &resp) != 0)
        return PAM_AUTHINFO_UNAVAIL;
    if (resp.status != 200) {
        pamory_err(&ctx->log, "consent session list: admin API answered HTTP %ld%s", resp.status,
                   resp.status == 401 || resp.status == 403 ? " (check admin_token_file)" : "");
        /* 5xx and 429 are the admin API's trouble, not our configuration. */
        r = resp.status >= 500 || resp.status == 429 ? PAM_AUTHINFO_UNAVAIL : PAM_SERVICE_ERR;
    } else if ((found = pamory_consent_page_grants(&ctx->log, resp.body, resp.len, rule, closest)) < 0) {
        r = PAM_AUTHINFO_UNAVAIL;   /* a broken admin API is not the user's fault */
    } else {
        *granted = found == 1;
        if (!*granted && resp.link != NULL)
            *next = next_page_url(ctx->cfg.admin_url, resp.link);
    }
    pamory_http_response_free(&resp);
    return r;
}

/* The decision's log line and PAM result, once every page that mattered was read. */
static int decide(struct pamory_ctx *ctx, const struct pamory_consent_rule *rule, bool granted,
                  const char *closest, int pages)
{
    char fp[PAMORY_FINGERPRINT_LEN];

    pamory_fingerprint(rule->subject, fp);
    if (granted) {
        pamory_info(&ctx->log, "sudo granted: user %s, subject %s has a consent session granting \"%s\" "
                    "to %s (%d page(s) read)", ctx->user, fp, rule->scope, rule->client_id, pages);
        return PAM_SUCCESS;
    }
    pamory_notice(&ctx->log, "sudo refused: user %s, subject %s: no consent session grants \"%s\" to %s%s%s",
                  ctx->user, fp, rule->scope, rule->client_id, closest ? "; closest: " : "",
                  closest ? closest : "");
    return PAM_AUTH_ERR;
}

int pamory_consent_check(struct pamory_ctx *ctx, const struct pamory_http *http)
{
    struct pamory_consent_rule rule = {
        .client_id = ctx->cfg.consent_client != NULL ? ctx->cfg.consent_client : ctx->cfg.client_id,
        .scope = ctx->cfg.consent_scope,
        .max_age = ctx->cfg.consent_max_age,
        .now = time(NULL),
    };
    const char *closest = NULL;
    char *subject = NULL, *bearer = NULL, *url = NULL, *next = NULL;
    bool granted = false;
    int r, pages = 0;

    if (ctx->cfg.admin_url == NULL) {
        pamory_err(&ctx->log, "mode=consent needs admin_url (Hydra's admin API)");
        return PAM_SERVICE_ERR;
    }
    r = pamory_consent_subject(ctx, &subject);
    if (r == PAM_SUCCESS)
        r = pamory_read_optional_secret(&ctx->log, ctx->cfg.admin_token_file, &bearer) == 0
                ? PAM_SUCCESS : PAM_SERVICE_ERR;
    if (r == PAM_SUCCESS && (url = first_page_url(ctx->cfg.admin_url, subject)) == NULL)
        r = PAM_BUF_ERR;
    rule.subject = subject;
    /* Hydra pages by an internal key, not by time: a match may be on any page. */
    while (r == PAM_SUCCESS && url != NULL && !granted && pages < PAMORY_CONSENT_MAX_PAGES) {
        pages++;
        r = check_page(ctx, http, url, bearer, &rule, &closest, &granted, &next);
        free(url);
        url = next;
    }
    if (r == PAM_SUCCESS)
        r = decide(ctx, &rule, granted, closest, pages);
    free(url);
    free(subject);
    pamory_secret_free(bearer);
    return r;
}
