/* Unit tests for discovery document parsing (src/discovery.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "discovery.h"

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
    assert_true(pamory_http_url_allowed("https://auth.example.com/x"));
    assert_true(pamory_http_url_allowed("http://127.0.0.1:4444/"));
    assert_true(pamory_http_url_allowed("http://127.9.9.9/"));
    assert_true(pamory_http_url_allowed("http://localhost/"));
    assert_true(pamory_http_url_allowed("http://[::1]:8080/"));
    assert_false(pamory_http_url_allowed("http://auth.example.com/"));
    assert_false(pamory_http_url_allowed("http://128.0.0.1/"));
    assert_false(pamory_http_url_allowed("http://127.0.0.1.evil.com/"));
    assert_false(pamory_http_url_allowed("http://localhost.evil.com/"));
    assert_false(pamory_http_url_allowed("ftp://auth.example.com/"));
    assert_false(pamory_http_url_allowed("file:///etc/passwd"));
    assert_false(pamory_http_url_allowed("javascript:alert(1)"));
    assert_false(pamory_http_url_allowed("/relative"));
    assert_false(pamory_http_url_allowed(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hydra_document),
        cmocka_unit_test(issuer_must_match_exactly),
        cmocka_unit_test(endpoints_must_be_https),
        cmocka_unit_test(required_members),
        cmocka_unit_test(url_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
