/*
 * The hardened libcurl wrapper.  Every request pam_ory makes goes through
 * request() below, which is the one place that decides TLS, timeouts,
 * redirects and size limits.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "clock.h"
#include "http.h"
#include "url.h"
#include "secret.h"

/* -------------------------------------------------------------- responses */

/*
 * libcurl write callback: append to the response, refusing to grow past the
 * cap.  The buffer is grown by copy-and-wipe rather than realloc(), so no
 * stale copy of a token is left behind in freed memory.
 */
static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
    struct pamory_http_response *resp = userp;
    size_t n = size * nmemb;
    char *grown;

    if (n == 0)
        return 0;
    if (n > PAMORY_HTTP_MAX_BODY || resp->len + n > PAMORY_HTTP_MAX_BODY)
        return 0;   /* libcurl aborts with CURLE_WRITE_ERROR */
    grown = malloc(resp->len + n + 1);
    if (grown == NULL)
        return 0;
    if (resp->body != NULL) {
        memcpy(grown, resp->body, resp->len);
        pamory_secret_free_n(resp->body, resp->len + 1);
    }
    memcpy(grown + resp->len, data, n);
    resp->len += n;
    grown[resp->len] = '\0';
    resp->body = grown;
    return n;
}

/* A delta-seconds value (RFC 9111 1.2.2): digits only, huge ones clamped; -1 if malformed. */
static long delta_seconds(const char *s)
{
    long v = 0;

    if (*s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        v = v > (LONG_MAX - 9) / 10 ? LONG_MAX : v * 10 + (*s - '0');
    }
    return v;
}

/*
 * The freshness one Cache-Control value grants (RFC 9111 5.2.2): max-age=N,
 * or 0 for no-store and no-cache.  Across directives and repeated headers
 * the most cautious one wins, so a no-store is never outvoted by a max-age.
 */
static void cache_control(const char *value, size_t len, struct pamory_http_response *resp)
{
    char buf[1024], *dir, *save = NULL;
    long v;

    if (len >= sizeof(buf))
        return;   /* no IdP sends such a header; better ignored than read cut short */
    memcpy(buf, value, len);
    buf[len] = '\0';
    for (dir = strtok_r(buf, ", \t\r\n", &save); dir != NULL; dir = strtok_r(NULL, ", \t\r\n", &save)) {
        if (strcasecmp(dir, "no-store") == 0 || strcasecmp(dir, "no-cache") == 0)
            v = 0;
        else if (strncasecmp(dir, "max-age=", 8) == 0)
            v = delta_seconds(dir + 8);
        else
            continue;
        if (v >= 0 && (resp->max_age < 0 || v < resp->max_age))
            resp->max_age = v;
    }
}

/* Append one Link header's value (several Link headers make one comma-separated list). */
static int add_link(struct pamory_http_response *resp, const char *value, size_t len)
{
    char *joined = NULL;

    while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n'))
        len--;
    if (asprintf(&joined, "%s%s%.*s", resp->link ? resp->link : "", resp->link ? "," : "",
                 (int)len, value) < 0)
        return -1;
    free(resp->link);
    resp->link = joined;
    return 0;
}

/*
 * libcurl header callback: Cache-Control (for the cache) and Link (for
 * Hydra's pagination) matter to us.  A status line
 * starts a new response (after a 100 Continue, say), so it forgets what the
 * previous one said.
 */
static size_t collect_header(char *data, size_t size, size_t nmemb, void *userp)
{
    static const char name[] = "Cache-Control:";
    struct pamory_http_response *resp = userp;
    size_t n = size * nmemb;

    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        resp->max_age = -1;
        free(resp->link);
        resp->link = NULL;
    } else if (n >= sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        cache_control(data + sizeof(name) - 1, n - (sizeof(name) - 1), resp);
    } else if (n > 5 && strncasecmp(data, "Link:", 5) == 0 && add_link(resp, data + 5, n - 5) != 0) {
        return 0;   /* out of memory: abort rather than lose a page */
    }
    return n;
}

void pamory_http_response_free(struct pamory_http_response *resp)
{
    if (resp == NULL)
        return;
    pamory_secret_free_n(resp->body, resp->len + 1);
    resp->body = NULL;
    resp->len = 0;
    resp->status = 0;
    resp->max_age = -1;
    free(resp->link);
    resp->link = NULL;
}

/* -------------------------------------------------------------- requests */

/*
 * Seconds this request may take: the per-request cap, shortened so the whole
 * flow still ends by the caller's deadline.  0 means the deadline has passed.
 */
static long request_budget(const struct pamory_http *http)
{
    long budget = PAMORY_HTTP_REQUEST_TIMEOUT;

    if (http->deadline != 0) {
        long left = (long)(http->deadline - pamory_monotonic_now());
        if (left < budget)
            budget = left;
    }
    return budget > 0 ? budget : 0;
}

/* The options every request gets.  Returns CURLE_OK or the first failure. */
static CURLcode harden(CURL *curl, const struct pamory_http *http, long budget,
                       struct pamory_http_response *resp, char *errbuf)
{
    CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(curl, opt, val); } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);                  /* no SIGALRM games inside sshd */
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");   /* http only reaches here for loopback */
    SET(CURLOPT_FOLLOWLOCATION, 0L);            /* an IdP endpoint never needs a redirect */
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (http->ca_file != NULL)
        SET(CURLOPT_CAINFO, http->ca_file);
    SET(CURLOPT_CONNECTTIMEOUT, budget < PAMORY_HTTP_CONNECT_TIMEOUT ? budget : PAMORY_HTTP_CONNECT_TIMEOUT);
    SET(CURLOPT_TIMEOUT, budget);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PAMORY_HTTP_MAX_BODY);
    SET(CURLOPT_USERAGENT, "pam_ory/" PACKAGE_VERSION);
    SET(CURLOPT_WRITEFUNCTION, collect);
    SET(CURLOPT_WRITEDATA, resp);
    SET(CURLOPT_HEADERFUNCTION, collect_header);
    SET(CURLOPT_HEADERDATA, resp);
#undef SET
    return rc;
}

/* The scheme://host[:port] part of url, for log lines (never a query string). */
static void url_origin(const char *url, char *out, size_t outlen)
{
    size_t n = strcspn(url, "?#");
    const char *path = strstr(url, "://");

    if (path != NULL && (path = strchr(path + 3, '/')) != NULL && (size_t)(path - url) < n)
        n = (size_t)(path - url);
    snprintf(out, outlen, "%.*s", (int)(n < 200 ? n : 200), url);
}

/*
 * Perform one request on a prepared handle.  Returns 0 when a response
 * arrived, -1 after one log line saying why not.
 */
static int request(const struct pamory_http *http, CURL *curl, const char *url,
                   struct curl_slist *headers, struct pamory_http_response *resp)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    char origin[256];
    long budget = request_budget(http);
    CURLcode rc;

    url_origin(url, origin, sizeof(origin));
    if (!pamory_url_allowed(url)) {
        pamory_err(http->log, "refusing to contact %s: only https (or http to a loopback address) is allowed",
                   origin);
        return -1;
    }
    if (budget == 0) {
        pamory_err(http->log, "time is up before contacting %s", origin);
        return -1;
    }
    rc = harden(curl, http, budget, resp, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_URL, url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        rc = curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (rc != CURLE_OK) {
        pamory_err(http->log, "request to %s failed: %s", origin,
                   rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED
                       ? "response too large" : (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
        pamory_http_response_free(resp);
        return -1;
    }
    pamory_debug(http->log, "%s answered HTTP %ld (%zu bytes)", origin, resp->status, resp->len);
    return 0;
}

/* A fresh easy handle.  curl_global_init is reference-counted and never undone here. */
static CURL *new_handle(const struct pamory_http *http)
{
    CURL *curl;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (curl = curl_easy_init()) == NULL) {
        pamory_err(http->log, "cannot initialise libcurl");
        return NULL;
    }
    return curl;
}

/* ----------------------------------------------------------- form posts */

/*
 * Append "name=value" (url-encoded, '&'-separated) to a growing buffer.  The
 * body carries secrets, so growth copies and wipes rather than realloc()s.
 */
static int append_field(CURL *curl, char **body, size_t *len, const struct pamory_form_field *f)
{
    char *name = curl_easy_escape(curl, f->name, 0);
    char *value = curl_easy_escape(curl, f->value, 0);
    size_t add, newlen;
    char *grown = NULL;

    if (name != NULL && value != NULL) {
        add = strlen(name) + 1 + strlen(value) + (*len ? 1 : 0);
        newlen = *len + add;
        grown = malloc(newlen + 1);
    }
    if (grown != NULL) {
        snprintf(grown, newlen + 1, "%s%s%s=%s", *body ? *body : "", *len ? "&" : "", name, value);
        pamory_secret_free_n(*body, *len + 1);
        *body = grown;
        *len = newlen;
    }
    if (value != NULL) {
        explicit_bzero(value, strlen(value));
        curl_free(value);
    }
    curl_free(name);
    return grown != NULL ? 0 : -1;
}

/*
 * "Authorization: Basic base64(urlencode(user) ":" urlencode(password))":
 * RFC 6749 2.3.1 form-encodes both parts first, and Hydra decodes them, so a
 * secret with '%' or '+' in it would otherwise be mangled.
 */
static char *basic_header(CURL *curl, const struct pamory_basic_auth *basic)
{
    static const char prefix[] = "Authorization: Basic ";
    char *user = curl_easy_escape(curl, basic->user, 0);
    char *pass = curl_easy_escape(curl, basic->password, 0);
    char *plain = NULL, *header = NULL;
    size_t plen = 0;

    if (user != NULL && pass != NULL) {
        plen = strlen(user) + 1 + strlen(pass);
        plain = malloc(plen + 1);
    }
    if (plain != NULL) {
        snprintf(plain, plen + 1, "%s:%s", user, pass);
        header = malloc(sizeof(prefix) + 4 * ((plen + 2) / 3) + 1);
    }
    if (header != NULL) {
        memcpy(header, prefix, sizeof(prefix) - 1);
        EVP_EncodeBlock((unsigned char *)header + sizeof(prefix) - 1, (unsigned char *)plain, (int)plen);
    }
    pamory_secret_free_n(plain, plen + 1);
    if (pass != NULL) {
        explicit_bzero(pass, strlen(pass));
        curl_free(pass);
    }
    curl_free(user);
    return header;
}

/* Free a header list whose strings may hold credentials: wipe them first. */
static void free_headers(struct curl_slist *headers)
{
    struct curl_slist *h;

    for (h = headers; h != NULL; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
}

/*
 * "Authorization: Bearer <token>".  A CR or LF in the token would smuggle in
 * another header, so such a token is refused (NULL), as is out of memory.
 */
static char *bearer_header(const char *token)
{
    static const char prefix[] = "Authorization: Bearer ";
    size_t len = sizeof(prefix) + strlen(token);
    char *header;

    if (strpbrk(token, "\r\n") != NULL || (header = malloc(len)) == NULL)
        return NULL;
    snprintf(header, len, "%s%s", prefix, token);
    return header;
}

/* The request headers: JSON accepted, and Basic or Bearer auth if given. */
static struct curl_slist *request_headers(CURL *curl, const struct pamory_basic_auth *basic,
                                       const char *bearer)
{
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    struct curl_slist *more;
    char *auth;

    if (headers == NULL || (basic == NULL && bearer == NULL))
        return headers;
    auth = basic != NULL ? basic_header(curl, basic) : bearer_header(bearer);
    more = auth != NULL ? curl_slist_append(headers, auth) : NULL;
    pamory_secret_free(auth);
    if (more == NULL) {
        free_headers(headers);
        return NULL;
    }
    return more;
}

int pamory_http_get_bearer(const struct pamory_http *http, const char *url, const char *bearer,
                           struct pamory_http_response *resp)
{
    struct curl_slist *headers;
    CURL *curl;
    int r = -1;

    memset(resp, 0, sizeof(*resp));
    resp->max_age = -1;
    if ((curl = new_handle(http)) == NULL)
        return -1;
    if ((headers = request_headers(curl, NULL, bearer)) != NULL)
        r = request(http, curl, url, headers, resp);
    else
        pamory_err(http->log, "out of memory building a request");
    free_headers(headers);
    curl_easy_cleanup(curl);
    return r;
}

int pamory_http_get(const struct pamory_http *http, const char *url,
                    struct pamory_http_response *resp)
{
    return pamory_http_get_bearer(http, url, NULL, resp);
}

int pamory_http_post_form(const struct pamory_http *http, const char *url,
                          const struct pamory_form_field *fields, size_t nfields,
                          const struct pamory_basic_auth *basic, const char *bearer,
                          struct pamory_http_response *resp)
{
    struct curl_slist *headers = NULL;
    char *body = NULL;
    size_t len = 0, i;
    CURL *curl;
    int r = -1, built = 1;

    memset(resp, 0, sizeof(*resp));
    resp->max_age = -1;
    if (basic != NULL && bearer != NULL) {
        pamory_err(http->log, "internal error: a request with both Basic and Bearer authentication");
        return -1;
    }
    if ((curl = new_handle(http)) == NULL)
        return -1;
    for (i = 0; i < nfields && built; i++)
        built = append_field(curl, &body, &len, &fields[i]) == 0;
    if (built)
        built = (headers = request_headers(curl, basic, bearer)) != NULL;
    if (built)
        built = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body != NULL ? body : "") == CURLE_OK &&
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK;
    if (built)
        r = request(http, curl, url, headers, resp);
    else
        pamory_err(http->log, "cannot build the request: out of memory, or a line break in a bearer token");
    free_headers(headers);
    curl_easy_cleanup(curl);
    pamory_secret_free_n(body, len + 1);
    return r;
}
