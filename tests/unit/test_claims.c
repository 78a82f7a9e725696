/*
 * Unit tests for ID token claim checks (src/token/claims.c).  Every time rule
 * is tested on both sides of its boundary, with PAMORY_CLOCK_SKEW = 60 s.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "token/claims.h"

#define ISSUER "https://idp.example.com"
#define CLIENT "pam-client"
#define NOW 1700000000L

static const struct pamory_claims_expect expect = { ISSUER, CLIENT, NOW };

/*
 * Claims of a valid Hydra-like ID token, with the members of more added or
 * replacing the defaults; a member whose value is the string "DROP" is
 * removed instead.
 */
static json_object *claims(const char *more)
{
    char text[2048];
    json_object *base, *extra;

    snprintf(text, sizeof(text),
             "{\"iss\":\"" ISSUER "\",\"sub\":\"alice\",\"aud\":[\"" CLIENT "\"],"
             "\"exp\":%ld,\"iat\":%ld,\"jti\":\"x\"}",
             NOW + 600, NOW);
    base = pamory_json_parse_object(text, strlen(text));
    extra = pamory_json_parse_object(more, strlen(more));
    assert_non_null(base);
    assert_non_null(extra);
    json_object_object_foreach(extra, key, val) {
        if (json_object_is_type(val, json_type_string) &&
            strcmp(json_object_get_string(val), "DROP") == 0)
            json_object_object_del(base, key);
        else
            json_object_object_add(base, key, json_object_get(val));
    }
    json_object_put(extra);
    return base;
}

/* The check's verdict on the defaults changed by more: NULL when it passes, else why. */
static const char *verdict_with(const char *more, const struct pamory_claims_expect *e)
{
    json_object *c = claims(more);
    const char *why = NULL;
    int rc = pamory_claims_check(c, e, &why);

    json_object_put(c);
    if (rc == 0)
        return NULL;
    assert_int_equal(rc, -1);
    assert_non_null(why);
    return why;
}

static const char *verdict(const char *more)
{
    return verdict_with(more, &expect);
}

/* A member set to a time relative to NOW. */
static const char *verdict_at(const char *name, long offset)
{
    char more[128];

    snprintf(more, sizeof(more), "{\"%s\":%ld}", name, NOW + offset);
    return verdict(more);
}

#define assert_passes(v) assert_null(v)
#define assert_fails(v, why) do { const char *w_ = (v); assert_non_null(w_); \
                                  assert_string_equal(w_, why); } while (0)

static void test_valid(void **state)
{
    (void)state;
    assert_passes(verdict("{}"));
}

static void test_not_an_object(void **state)
{
    json_object *arr = json_object_new_array();
    const char *why = NULL;

    (void)state;
    assert_int_equal(pamory_claims_check(NULL, &expect, &why), -1);
    assert_int_equal(pamory_claims_check(arr, &expect, &why), -1);
    assert_string_equal(why, "claims are not a JSON object");
    json_object_put(arr);
}

/* iss is compared exactly: Hydra's default issuer ends in '/', and that matters. */
static void test_iss(void **state)
{
    struct pamory_claims_expect slash = expect;

    (void)state;
    slash.issuer = ISSUER "/";
    assert_fails(verdict("{\"iss\":\"" ISSUER "/\"}"), "issuer mismatch");
    assert_fails(verdict_with("{}", &slash), "issuer mismatch");
    assert_passes(verdict_with("{\"iss\":\"" ISSUER "/\"}", &slash));
    assert_fails(verdict("{\"iss\":\"https://IDP.example.com\"}"), "issuer mismatch");
    assert_fails(verdict("{\"iss\":\"https://idp.example.co\"}"), "issuer mismatch");
    assert_fails(verdict("{\"iss\":\"\"}"), "issuer mismatch");
    assert_fails(verdict("{\"iss\":\"DROP\"}"), "iss missing");
    assert_fails(verdict("{\"iss\":[\"" ISSUER "\"]}"), "iss is not a string");
    assert_fails(verdict("{\"iss\":null}"), "iss missing");
}

static void test_aud_string_and_array(void **state)
{
    (void)state;
    assert_passes(verdict("{\"aud\":\"" CLIENT "\"}"));
    assert_passes(verdict("{\"aud\":[\"" CLIENT "\"]}"));
    assert_passes(verdict("{\"aud\":[\"other\",\"" CLIENT "\",\"third\"]}"));
}

static void test_aud_without_client_id(void **state)
{
    (void)state;
    assert_fails(verdict("{\"aud\":\"other\"}"), "audience does not contain client_id");
    assert_fails(verdict("{\"aud\":[\"other\",\"third\"]}"), "audience does not contain client_id");
    assert_fails(verdict("{\"aud\":[]}"), "audience does not contain client_id");
    assert_fails(verdict("{\"aud\":\"" CLIENT "x\"}"), "audience does not contain client_id");
    assert_fails(verdict("{\"aud\":[\"pam-clien\"]}"), "audience does not contain client_id");
    assert_fails(verdict("{\"aud\":\"" CLIENT " other\"}"), "audience does not contain client_id");
}

static void test_aud_malformed(void **state)
{
    (void)state;
    assert_fails(verdict("{\"aud\":\"DROP\"}"), "aud missing");
    assert_fails(verdict("{\"aud\":null}"), "aud missing");
    assert_fails(verdict("{\"aud\":5}"), "aud is not a string or an array of strings");
    assert_fails(verdict("{\"aud\":{\"" CLIENT "\":1}}"), "aud is not a string or an array of strings");
    assert_fails(verdict("{\"aud\":[\"" CLIENT "\",5]}"), "aud is not a string or an array of strings");
    assert_fails(verdict("{\"aud\":[[\"" CLIENT "\"]]}"), "aud is not a string or an array of strings");
}

/*
 * exp must be after now - skew (RFC 7519 4.1.4: now must be before exp; the
 * skew extends that by 60 s).  At exactly now - 60 the token has expired.
 */
static void test_exp_boundary(void **state)
{
    (void)state;
    assert_passes(verdict_at("exp", 3600));
    assert_passes(verdict_at("exp", 0));
    assert_passes(verdict_at("exp", -59));
    assert_fails(verdict_at("exp", -60), "expired");
    assert_fails(verdict_at("exp", -61), "expired");
    assert_fails(verdict_at("exp", -NOW), "expired");
}

static void test_exp_type(void **state)
{
    char more[128];

    (void)state;
    assert_fails(verdict("{\"exp\":\"DROP\"}"), "exp missing");
    assert_fails(verdict("{\"exp\":null}"), "exp missing");
    snprintf(more, sizeof(more), "{\"exp\":\"%ld\"}", NOW + 600);
    assert_fails(verdict(more), "exp is not an integer");
    assert_fails(verdict("{\"exp\":true}"), "exp is not an integer");
    assert_fails(verdict("{\"exp\":[1800000000]}"), "exp is not an integer");
    /* Some servers write whole numbers in exponent form; that is still a number. */
    assert_passes(verdict("{\"exp\":1.8e9}"));
    assert_fails(verdict("{\"exp\":1.6e9}"), "expired");
    assert_fails(verdict("{\"exp\":1800000000.5}"), "exp is not an integer");
}

/* iat at most now + skew: a token from further in the future is refused. */
static void test_iat_boundary(void **state)
{
    (void)state;
    assert_passes(verdict_at("iat", -3600));
    assert_passes(verdict_at("iat", 0));
    assert_passes(verdict_at("iat", 59));
    assert_passes(verdict_at("iat", 60));
    assert_fails(verdict_at("iat", 61), "issued in the future");
}

static void test_iat_required_and_numeric(void **state)
{
    char more[128];

    (void)state;
    assert_fails(verdict("{\"iat\":\"DROP\"}"), "iat missing");
    snprintf(more, sizeof(more), "{\"iat\":\"%ld\"}", NOW);
    assert_fails(verdict(more), "iat is not an integer");
}

static void test_nbf(void **state)
{
    char more[128];

    (void)state;
    assert_passes(verdict("{}"));                  /* absent: fine, as from Hydra */
    assert_passes(verdict_at("nbf", -600));
    assert_passes(verdict_at("nbf", 60));
    assert_fails(verdict_at("nbf", 61), "not yet valid");
    assert_fails(verdict_at("nbf", 3600), "not yet valid");
    snprintf(more, sizeof(more), "{\"nbf\":\"%ld\"}", NOW);
    assert_fails(verdict(more), "nbf is not an integer");
    assert_fails(verdict("{\"nbf\":null}"), "nbf is null");
}

/* Checks run in a fixed order; the first failure is the one reported. */
static void test_first_failure_reported(void **state)
{
    (void)state;
    assert_fails(verdict("{\"iss\":\"x\",\"aud\":\"y\",\"exp\":1}"), "issuer mismatch");
    assert_fails(verdict("{\"aud\":\"y\",\"exp\":1}"), "audience does not contain client_id");
}

static void test_missing_expectations(void **state)
{
    struct pamory_claims_expect e = expect;

    (void)state;
    e.client_id = NULL;
    assert_fails(verdict_with("{}", &e), "audience does not contain client_id");
    e = expect;
    e.issuer = NULL;
    assert_fails(verdict_with("{}", &e), "issuer mismatch");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_iss),
        cmocka_unit_test(test_aud_string_and_array),
        cmocka_unit_test(test_aud_without_client_id),
        cmocka_unit_test(test_aud_malformed),
        cmocka_unit_test(test_exp_boundary),
        cmocka_unit_test(test_exp_type),
        cmocka_unit_test(test_iat_boundary),
        cmocka_unit_test(test_iat_required_and_numeric),
        cmocka_unit_test(test_nbf),
        cmocka_unit_test(test_first_failure_reported),
        cmocka_unit_test(test_missing_expectations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
