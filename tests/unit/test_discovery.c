/*
 * Unit tests for discovery (src/discovery.c): parsing, then fetching through
 * the cache from a one-shot HTTP server on 127.0.0.1, which also checks that
 * src/http.c reads Cache-Control the way the cache needs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir.h"
#include <security/pam_modules.h>

#include "discovery.h"
#include "json.h"

static const struct pamory_log quiet = { NULL, false };

#define ISSUER "https://auth.example.com/"

/* Hydra's document, trimmed to what matters (hydra-api.md section 4). */
static const char hydra[] =
    "{\"issuer\":\"https://auth.example.com/\","
    "\"authorization_endpoint\":\"https://auth.example.com/oauth2/auth\","
    "\"device_authorization_endpoint\":\"https://auth.example.com/oauth2/device/auth\","
    "\"token_endpoint\":\"https://auth.example.com/oauth2/token\","
    "\"jwks_uri\":\"https://auth.example.com/.well-known/jwks.json\","
    "\"id_token_signing_alg_values_supported\":[\"RS256\"],"
    "\"subject_types_supported\":[\"public\"]}";

static int parse(const char *doc, const char *issuer, struct pamory_discovery *d)
{
    return pamory_discovery_parse(&quiet, doc, strlen(doc), issuer, d);
}

static void hydra_document(void **state)
{
    struct pamory_discovery d;

    (void)state;
    assert_int_equal(parse(hydra, ISSUER, &d), 0);
    assert_string_equal(d.issuer, ISSUER);
    assert_string_equal(d.device_authorization_endpoint, "https://auth.example.com/oauth2/device/auth");
    assert_string_equal(d.token_endpoint, "https://auth.example.com/oauth2/token");
    assert_string_equal(d.jwks_uri, "https://auth.example.com/.well-known/jwks.json");
    assert_int_equal(d.n_id_token_algs, 1);
    assert_string_equal(d.id_token_algs[0], "RS256");
    pamory_discovery_free(&d);
}

static void issuer_must_match_exactly(void **state)
{
    struct pamory_discovery d;

    (void)state;
    /* Hydra's default issuer has a trailing slash: without it, it is another issuer. */
    assert_int_equal(parse(hydra, "https://auth.example.com", &d), -1);
    assert_int_equal(parse(hydra, "https://AUTH.example.com/", &d), -1);
    assert_int_equal(parse(hydra, "https://evil.example.com/", &d), -1);
}

static void endpoints_must_be_https(void **state)
{
    struct pamory_discovery d;
    const char *doc =
        "{\"issuer\":\"https://auth.example.com/\",\"token_endpoint\":\"http://auth.example.com/t\","
        "\"jwks_uri\":\"https://auth.example.com/j\"}";
    const char *loopback =
        "{\"issuer\":\"http://127.0.0.1:4444/\",\"token_endpoint\":\"http://127.0.0.1:4444/t\","
        "\"jwks_uri\":\"http://localhost:4444/j\"}";

    (void)state;
    assert_int_equal(parse(doc, ISSUER, &d), -1);
    assert_int_equal(parse(loopback, "http://127.0.0.1:4444/", &d), 0);
    assert_null(d.device_authorization_endpoint);   /* optional here; the device flow says so */
    assert_int_equal(d.n_id_token_algs, 0);
    pamory_discovery_free(&d);
}

static void required_members(void **state)
{
    struct pamory_discovery d;

    (void)state;
    assert_int_equal(parse("{\"issuer\":\"https://auth.example.com/\",\"jwks_uri\":\"https://a/j\"}", ISSUER, &d), -1);
    assert_int_equal(parse("{\"issuer\":\"https://auth.example.com/\",\"token_endpoint\":\"https://a/t\"}", ISSUER, &d), -1);
    assert_int_equal(parse("{\"token_endpoint\":\"https://a/t\",\"jwks_uri\":\"https://a/j\"}", ISSUER, &d), -1);
    assert_int_equal(parse("{\"issuer\":1}", ISSUER, &d), -1);
    assert_int_equal(parse("[]", ISSUER, &d), -1);
    assert_int_equal(parse("{\"issuer\":\"https://auth.example.com/\"", ISSUER, &d), -1);
    assert_int_equal(parse("{} trailing", ISSUER, &d), -1);
}

static void url_policy(void **state)
{
    (void)state;
    assert_true(pamory_url_allowed("https://auth.example.com/x"));
    assert_true(pamory_url_allowed("http://127.0.0.1:4444/"));
    assert_true(pamory_url_allowed("http://127.9.9.9/"));
    assert_true(pamory_url_allowed("http://localhost/"));
    assert_true(pamory_url_allowed("http://[::1]:8080/"));
    assert_false(pamory_url_allowed("http://auth.example.com/"));
    assert_false(pamory_url_allowed("http://128.0.0.1/"));
    assert_false(pamory_url_allowed("http://127.0.0.1.evil.com/"));
    assert_false(pamory_url_allowed("http://localhost.evil.com/"));
    assert_false(pamory_url_allowed("ftp://auth.example.com/"));
    assert_false(pamory_url_allowed("file:///etc/passwd"));
    assert_false(pamory_url_allowed("javascript:alert(1)"));
    assert_false(pamory_url_allowed("/relative"));
    assert_false(pamory_url_allowed(NULL));
}

/* ------------------------------------------------- a one-shot HTTP server */

struct server {
    pid_t pid;
    int port;
};

/* Read one request's head (up to the blank line); the body, if any, is ignored. */
static void read_request(int fd)
{
    char buf[8192];
    size_t n = 0;
    ssize_t r;

    while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0) {
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL)
            return;
    }
}

/* A listening socket on 127.0.0.1 and its port, before any document names the port. */
static struct server listener(int *lfd)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t alen = sizeof(addr);
    struct server srv = { 0, 0 };

    *lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*lfd >= 0);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(*lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(*lfd, 8), 0);
    assert_int_equal(getsockname(*lfd, (struct sockaddr *)&addr, &alen), 0);
    srv.port = ntohs(addr.sin_port);
    return srv;
}

/* One canned 200 response (extra header lines, then body) on a fresh connection. */
static int answer(int lfd, const char *headers, const char *body)
{
    int fd = accept(lfd, NULL, NULL);
    char *resp;
    int ok;

    if (fd < 0)
        return -1;
    read_request(fd);
    ok = asprintf(&resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%s"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                  headers, strlen(body), body) > 0 &&
         write(fd, resp, strlen(resp)) == (ssize_t)strlen(resp);
    free(resp);
    close(fd);
    return ok ? 0 : -1;
}

/*
 * Answer the next n connections, one response each, in a child process,
 * then close the socket and exit.  A request beyond the n finds no server:
 * that is how tests see a request that should not have been made.
 */
static void serve(struct server *srv, int lfd, const char *const *headers,
                  const char *const *bodies, size_t n)
{
    size_t i;

    srv->pid = fork();
    assert_true(srv->pid >= 0);
    if (srv->pid == 0) {
        alarm(20);   /* never outlive a failed test */
        for (i = 0; i < n; i++) {
            if (answer(lfd, headers[i], bodies[i]) != 0)
                _exit(1);
        }
        _exit(0);
    }
    close(lfd);
}

static void server_done(struct server srv)
{
    int status;

    assert_int_equal(waitpid(srv.pid, &status, 0), srv.pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* max-age as src/http.c reads it from one response with these header lines. */
static long max_age_of(const char *header)
{
    const char *const bodies[] = { "{}" };
    int lfd;
    struct server srv = listener(&lfd);
    const struct pamory_http http = { &quiet, NULL, 0 };
    struct pamory_http_response resp;
    char url[64];
    long max_age;

    serve(&srv, lfd, &header, bodies, 1);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", srv.port);
    assert_int_equal(pamory_http_get(&http, url, &resp), 0);
    assert_int_equal(resp.status, 200);
    max_age = resp.max_age;
    pamory_http_response_free(&resp);
    server_done(srv);
    return max_age;
}

static void cache_control_parsed(void **state)
{
    (void)state;
    assert_int_equal(max_age_of(""), -1);
    assert_int_equal(max_age_of("Cache-Control: max-age=120\r\n"), 120);
    assert_int_equal(max_age_of("cache-control: public, max-age=5, must-revalidate\r\n"), 5);
    assert_int_equal(max_age_of("Cache-Control: max-age=0\r\n"), 0);
    assert_int_equal(max_age_of("Cache-Control: no-store\r\n"), 0);
    assert_int_equal(max_age_of("Cache-Control: max-age=60, No-Cache\r\n"), 0);
    assert_int_equal(max_age_of("Cache-Control: max-age=60\r\nCache-Control: no-cache\r\n"), 0);
    assert_int_equal(max_age_of("Cache-Control: max-age=60\r\nCache-Control: max-age=30\r\n"), 30);
    assert_int_equal(max_age_of("Cache-Control: max-age=abc\r\n"), -1);
    assert_int_equal(max_age_of("Cache-Control: max-age=-5\r\n"), -1);
    assert_int_equal(max_age_of("Cache-Control: max-age=\r\n"), -1);
    assert_int_equal(max_age_of("Cache-Control: s-maxage=10, private\r\n"), -1);
    assert_int_equal(max_age_of("X-Cache-Control: max-age=10\r\n"), -1);
    assert_int_equal(max_age_of("Cache-Control: max-age=99999999999999999999999\r\n"), LONG_MAX);
}

/* --------------------------------------------------- fetching through the cache */

/* A discovery document for the loopback issuer on port. */
static char *loopback_doc(int port, const char *issuer_path)
{
    char *doc;

    assert_true(asprintf(&doc, "{\"issuer\":\"http://127.0.0.1:%d/%s\","
                         "\"token_endpoint\":\"http://127.0.0.1:%d/oauth2/token\","
                         "\"jwks_uri\":\"http://127.0.0.1:%d/.well-known/jwks.json\"}",
                         port, issuer_path, port, port) > 0);
    return doc;
}

/* The one entry in dir, parsed. */
static json_object *only_entry(const char *dir)
{
    char pattern[256], text[4096];
    glob_t g;
    FILE *fp;
    size_t n;

    snprintf(pattern, sizeof(pattern), "%s/*.json", dir);
    assert_int_equal(glob(pattern, 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, 1);
    fp = fopen(g.gl_pathv[0], "r");
    assert_non_null(fp);
    n = fread(text, 1, sizeof(text), fp);
    fclose(fp);
    globfree(&g);
    return pamory_json_parse_object(text, n);
}

/* A temporary directory, and cache_dir below it. */
static void temp_cache(char root[32], char dir[64])
{
    snprintf(root, 32, "/tmp/pamory-disc-XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(dir, 64, "%s/cache", root);
}

/* One request, then the cache answers for max-age seconds; the copy is re-checked each time. */
static void fetched_once_then_cached(void **state)
{
    char root[32], dir[64], issuer[64];
    const struct pamory_http http = { &quiet, NULL, 0 };
    const struct pamory_cache cache = { dir, 3600 };
    const char *headers[] = { "Cache-Control: max-age=300\r\n" };
    const char *bodies[1];
    struct pamory_discovery d;
    int64_t fetched = 0, expires = 0;
    json_object *e;
    int lfd;
    struct server srv = listener(&lfd);
    char *doc = loopback_doc(srv.port, "");

    (void)state;
    temp_cache(root, dir);
    bodies[0] = doc;
    serve(&srv, lfd, headers, bodies, 1);
    snprintf(issuer, sizeof(issuer), "http://127.0.0.1:%d/", srv.port);
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_SUCCESS);
    pamory_discovery_free(&d);
    server_done(srv);
    /* The server is gone: only the cache can answer now. */
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_SUCCESS);
    assert_string_equal(d.issuer, issuer);
    assert_string_equal(d.jwks_uri + strlen(d.jwks_uri) - 22, "/.well-known/jwks.json");
    pamory_discovery_free(&d);
    e = only_entry(dir);
    assert_int_equal(pamory_json_int64(e, "fetched", &fetched), PAMORY_JSON_OK);
    assert_int_equal(pamory_json_int64(e, "expires", &expires), PAMORY_JSON_OK);
    assert_int_equal(expires - fetched, 300);
    json_object_put(e);
    /*
     * The same URL for an issuer configured without the slash: the cached
     * document is checked again, fails, and nothing can replace it.
     */
    snprintf(issuer, sizeof(issuer), "http://127.0.0.1:%d", srv.port);
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_AUTHINFO_UNAVAIL);
    free(doc);
    tmpdir_remove(root);
}

/* A cached document that no longer passes is refreshed once, not kept until it expires. */
static void bad_cached_document_refreshed(void **state)
{
    char root[32], dir[64], issuer[64];
    const struct pamory_http http = { &quiet, NULL, 0 };
    const struct pamory_cache cache = { dir, 3600 };
    const char *headers[] = { "", "" };
    const char *bodies[2];
    struct pamory_discovery d;
    int lfd;
    struct server srv = listener(&lfd);
    char *bad = loopback_doc(srv.port, "other/");
    char *good = loopback_doc(srv.port, "");

    (void)state;
    temp_cache(root, dir);
    bodies[0] = bad;
    bodies[1] = good;
    serve(&srv, lfd, headers, bodies, 2);
    snprintf(issuer, sizeof(issuer), "http://127.0.0.1:%d/", srv.port);
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_SUCCESS);
    pamory_discovery_free(&d);
    server_done(srv);
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_SUCCESS);
    pamory_discovery_free(&d);
    free(bad);
    free(good);
    tmpdir_remove(root);
}

/* Without a cache every call asks the IdP. */
static void no_cache_fetches_every_time(void **state)
{
    char issuer[64];
    const struct pamory_http http = { &quiet, NULL, 0 };
    const struct pamory_cache cache = { NULL, 0 };
    const char *headers[] = { "", "" };
    const char *bodies[2];
    struct pamory_discovery d;
    int lfd;
    struct server srv = listener(&lfd);
    char *doc = loopback_doc(srv.port, "");

    (void)state;
    bodies[0] = bodies[1] = doc;
    serve(&srv, lfd, headers, bodies, 2);
    snprintf(issuer, sizeof(issuer), "http://127.0.0.1:%d/", srv.port);
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_SUCCESS);
    pamory_discovery_free(&d);
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_SUCCESS);
    pamory_discovery_free(&d);
    server_done(srv);
    assert_int_equal(pamory_discovery_fetch(&http, &cache, issuer, &d), PAM_AUTHINFO_UNAVAIL);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hydra_document),
        cmocka_unit_test(issuer_must_match_exactly),
        cmocka_unit_test(endpoints_must_be_https),
        cmocka_unit_test(required_members),
        cmocka_unit_test(url_policy),
        cmocka_unit_test(cache_control_parsed),
        cmocka_unit_test(fetched_once_then_cached),
        cmocka_unit_test(bad_cached_document_refreshed),
        cmocka_unit_test(no_cache_fetches_every_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
