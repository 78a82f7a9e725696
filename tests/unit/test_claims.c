/*
 * Unit tests for JWT claim checks (src/token/claims.c).  Every time rule is
 * tested on both sides of its boundary, with PAMORY_CLOCK_SKEW = 60 s; each
 * optional check on its own, off and on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "json.h"
#include "token/base64url.h"
#include "token/claims.h"

#define ISSUER "https://idp.example.com"
#define CLIENT "pam-client"
#define NOW 1700000000L

static const struct pamory_claims_expect expect = { .issuer = ISSUER, .client_id = CLIENT, .now = NOW };

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

/* ------------------------------------------------------------- at_hash */

#define ACCESS_TOKEN "ory_at_Zm9vYmFy.c2lnbmF0dXJl"

/* base64url of the left half of the named hash of ACCESS_TOKEN. */
static char *at_hash(const char *md_name, const char *token)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char *s;

    assert_int_equal(EVP_Digest(token, strlen(token), md, &n, EVP_get_digestbyname(md_name), NULL), 1);
    s = pamory_b64url_encode(md, n / 2);
    assert_non_null(s);
    return s;
}

static const char *verdict_at_hash(const char *alg, const char *hash, const char *token)
{
    struct pamory_claims_expect e = expect;
    char more[256];

    e.access_token = token;
    e.alg = alg;
    snprintf(more, sizeof(more), "{\"at_hash\":\"%s\"}", hash);
    return verdict_with(more, &e);
}

static void test_at_hash(void **state)
{
    static const struct { const char *alg, *md; } algs[] = {
        { "RS256", "SHA256" }, { "PS256", "SHA256" }, { "ES256", "SHA256" },
        { "RS384", "SHA384" }, { "PS384", "SHA384" }, { "ES384", "SHA384" },
        { "RS512", "SHA512" }, { "PS512", "SHA512" }, { "ES512", "SHA512" },
    };
    struct pamory_claims_expect e = expect;
    char *h256 = at_hash("SHA256", ACCESS_TOKEN);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char *good = at_hash(algs[i].md, ACCESS_TOKEN);
        char *other = at_hash(algs[i].md, ACCESS_TOKEN "x");

        assert_passes(verdict_at_hash(algs[i].alg, good, ACCESS_TOKEN));
        assert_fails(verdict_at_hash(algs[i].alg, other, ACCESS_TOKEN),
                     "at_hash does not match the access token");
        if (strcmp(algs[i].md, "SHA256") != 0)
            assert_fails(verdict_at_hash(algs[i].alg, h256, ACCESS_TOKEN),
                         "at_hash does not match the access token");
        free(good);
        free(other);
    }
    /* An alg without a known hash cannot vouch for anything. */
    assert_fails(verdict_at_hash("none", h256, ACCESS_TOKEN), "at_hash does not match the access token");
    assert_fails(verdict_at_hash(NULL, h256, ACCESS_TOKEN), "at_hash does not match the access token");
    /* The full hash, or padding, is not the left half. */
    {
        char *full = at_hash("SHA512", ACCESS_TOKEN);   /* 32 bytes: the length of a full SHA-256 */
        char padded[128];

        assert_fails(verdict_at_hash("RS256", full, ACCESS_TOKEN), "at_hash does not match the access token");
        snprintf(padded, sizeof(padded), "%s=", h256);
        assert_fails(verdict_at_hash("RS256", padded, ACCESS_TOKEN), "at_hash does not match the access token");
        free(full);
    }
    /* Absent claim, or no access token at hand: nothing to check. */
    e.access_token = ACCESS_TOKEN;
    e.alg = "RS256";
    assert_passes(verdict_with("{}", &e));
    assert_passes(verdict_at_hash("RS256", "garbage", NULL));
    assert_fails(verdict_with("{\"at_hash\":7}", &e), "at_hash is not a string");
    assert_fails(verdict_with("{\"at_hash\":null}", &e), "at_hash is not a string");
    free(h256);
}

/* ----------------------------------------------------------- audience */

static void test_any_client(void **state)
{
    struct pamory_claims_expect e = expect;

    (void)state;
    e.any_client = true;
    /* aud naming client_id is enough; so is the client_id claim (Hydra's JWT access tokens). */
    assert_passes(verdict_with("{}", &e));
    assert_passes(verdict_with("{\"aud\":[],\"client_id\":\"" CLIENT "\"}", &e));
    assert_passes(verdict_with("{\"aud\":\"DROP\",\"client_id\":\"" CLIENT "\"}", &e));
    assert_fails(verdict_with("{\"aud\":[],\"client_id\":\"web\"}", &e),
                 "neither aud nor client_id names an allowed client");
    assert_fails(verdict_with("{\"aud\":\"DROP\"}", &e),
                 "neither aud nor client_id names an allowed client");
    assert_fails(verdict_with("{\"aud\":[],\"client_id\":[\"" CLIENT "\"]}", &e),
                 "neither aud nor client_id names an allowed client");
    /* allowed_clients adds whole words, in aud or in client_id. */
    e.allowed_clients = " web\tcli ";
    assert_passes(verdict_with("{\"aud\":[],\"client_id\":\"web\"}", &e));
    assert_passes(verdict_with("{\"aud\":[],\"client_id\":\"cli\"}", &e));
    assert_passes(verdict_with("{\"aud\":[\"x\",\"cli\"],\"client_id\":\"y\"}", &e));
    assert_passes(verdict_with("{\"aud\":\"web\"}", &e));
    assert_fails(verdict_with("{\"aud\":[],\"client_id\":\"we\"}", &e),
                 "neither aud nor client_id names an allowed client");
    assert_fails(verdict_with("{\"aud\":[],\"client_id\":\"web cli\"}", &e),
                 "neither aud nor client_id names an allowed client");
    assert_fails(verdict_with("{\"aud\":[],\"client_id\":\"\"}", &e),
                 "neither aud nor client_id names an allowed client");
    /* A malformed aud is refused even when client_id would do. */
    assert_fails(verdict_with("{\"aud\":[1],\"client_id\":\"" CLIENT "\"}", &e),
                 "aud is not a string or an array of strings");
    assert_fails(verdict_with("{\"aud\":{},\"client_id\":\"" CLIENT "\"}", &e),
                 "aud is not a string or an array of strings");
    /* Without any_client, allowed_clients changes nothing: ID tokens name our client. */
    e.any_client = false;
    assert_fails(verdict_with("{\"aud\":\"web\"}", &e), "audience does not contain client_id");
    assert_fails(verdict_with("{\"aud\":[],\"client_id\":\"" CLIENT "\"}", &e),
                 "audience does not contain client_id");
}

/* -------------------------------------------------------------- scope */

static const char *verdict_scope(const char *required, const char *more)
{
    struct pamory_claims_expect e = expect;

    e.required_scope = required;
    return verdict_with(more, &e);
}

static void test_required_scope(void **state)
{
    (void)state;
    assert_passes(verdict_scope(NULL, "{}"));
    assert_passes(verdict_scope(NULL, "{\"scp\":5}"));
    assert_passes(verdict_scope("sudo", "{\"scp\":[\"openid\",\"sudo\"]}"));
    assert_passes(verdict_scope("openid sudo", "{\"scp\":[\"sudo\",\"openid\"]}"));
    assert_passes(verdict_scope("  openid\tsudo  ", "{\"scope\":\"openid offline sudo\"}"));
    assert_passes(verdict_scope("openid sudo", "{\"scp\":[\"openid\"],\"scope\":\"sudo\"}"));
    assert_passes(verdict_scope("", "{}"));
    assert_fails(verdict_scope("sudo", "{\"scp\":[\"openid\",\"sudoers\"]}"),
                 "a scope of required_scope was not granted");
    assert_fails(verdict_scope("sudo", "{\"scp\":[\"openid sudo\"]}"),
                 "a scope of required_scope was not granted");
    assert_fails(verdict_scope("sudo", "{\"scope\":\"openid sud\"}"),
                 "a scope of required_scope was not granted");
    assert_fails(verdict_scope("openid sudo", "{\"scp\":[\"openid\"]}"),
                 "a scope of required_scope was not granted");
    assert_fails(verdict_scope("sudo", "{\"scp\":[]}"), "a scope of required_scope was not granted");
    assert_fails(verdict_scope("sudo", "{}"), "no scp or scope claim, but required_scope is set");
    assert_fails(verdict_scope("sudo", "{\"scp\":null}"), "no scp or scope claim, but required_scope is set");
    assert_fails(verdict_scope("sudo", "{\"scp\":\"sudo\"}"), "scp is not an array of strings");
    assert_fails(verdict_scope("sudo", "{\"scp\":[\"sudo\",null]}"), "scp is not an array of strings");
    assert_fails(verdict_scope("sudo", "{\"scope\":[\"sudo\"]}"), "scope is not a string");
}

/* ---------------------------------------------------------- auth_time */

static const char *verdict_auth_time(unsigned max_age, long offset)
{
    struct pamory_claims_expect e = expect;
    char more[64];

    e.max_auth_age = max_age;
    snprintf(more, sizeof(more), "{\"auth_time\":%ld}", NOW + offset);
    return verdict_with(more, &e);
}

static void test_max_auth_age(void **state)
{
    struct pamory_claims_expect e = expect;

    (void)state;
    assert_passes(verdict_auth_time(0, -100000));
    assert_passes(verdict_auth_time(300, 0));
    assert_passes(verdict_auth_time(300, -300));
    assert_fails(verdict_auth_time(300, -301), "authentication older than max_auth_age");
    assert_passes(verdict_auth_time(300, 60));
    assert_fails(verdict_auth_time(300, 61), "auth_time in the future");
    e.max_auth_age = 300;
    assert_fails(verdict_with("{}", &e), "no auth_time, but max_auth_age is set");
    assert_fails(verdict_with("{\"auth_time\":null}", &e), "no auth_time, but max_auth_age is set");
    assert_fails(verdict_with("{\"auth_time\":\"1700000000\"}", &e), "auth_time is not an integer");
    assert_fails(verdict_with("{\"auth_time\":1699999999.5}", &e), "auth_time is not an integer");
    e.max_auth_age = 0;
    assert_passes(verdict_with("{\"auth_time\":\"x\"}", &e));
}

/* ---------------------------------------------------------------- acr */

static const char *verdict_acr(const char *required, const char *more)
{
    struct pamory_claims_expect e = expect;

    e.required_acr = required;
    return verdict_with(more, &e);
}

static void test_required_acr(void **state)
{
    (void)state;
    assert_passes(verdict_acr(NULL, "{}"));
    assert_passes(verdict_acr(NULL, "{\"acr\":5}"));
    assert_passes(verdict_acr("aal2", "{\"acr\":\"aal2\"}"));
    assert_passes(verdict_acr("aal2 aal3", "{\"acr\":\"aal3\"}"));
    assert_passes(verdict_acr("urn:mace:incommon:iap:silver", "{\"acr\":\"urn:mace:incommon:iap:silver\"}"));
    assert_fails(verdict_acr("aal2 aal3", "{\"acr\":\"aal1\"}"), "acr is not one of required_acr");
    assert_fails(verdict_acr("aal2", "{\"acr\":\"aal\"}"), "acr is not one of required_acr");
    assert_fails(verdict_acr("aal2", "{\"acr\":\"AAL2\"}"), "acr is not one of required_acr");
    assert_fails(verdict_acr("aal2", "{\"acr\":\"\"}"), "acr is not one of required_acr");
    assert_fails(verdict_acr("aal2 aal3", "{\"acr\":\"aal2 aal3\"}"), "acr is not one of required_acr");
    assert_fails(verdict_acr("aal2", "{}"), "no acr, but required_acr is set");
    assert_fails(verdict_acr("aal2", "{\"acr\":[\"aal2\"]}"), "acr is not a string");
}

/* The optional checks run after the common ones, in a fixed order. */
static void test_optional_checks_order(void **state)
{
    struct pamory_claims_expect e = expect;

    (void)state;
    e.required_scope = "sudo";
    e.max_auth_age = 60;
    e.required_acr = "aal2";
    assert_fails(verdict_with("{\"exp\":1}", &e), "expired");
    assert_fails(verdict_with("{}", &e), "no scp or scope claim, but required_scope is set");
    assert_fails(verdict_with("{\"scp\":[\"sudo\"]}", &e), "no auth_time, but max_auth_age is set");
    assert_fails(verdict_with("{\"scp\":[\"sudo\"],\"auth_time\":1700000000}", &e),
                 "no acr, but required_acr is set");
    assert_passes(verdict_with("{\"scp\":[\"sudo\"],\"auth_time\":1700000000,\"acr\":\"aal2\"}", &e));
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
        cmocka_unit_test(test_at_hash),
        cmocka_unit_test(test_any_client),
        cmocka_unit_test(test_required_scope),
        cmocka_unit_test(test_max_auth_age),
        cmocka_unit_test(test_required_acr),
        cmocka_unit_test(test_optional_checks_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
