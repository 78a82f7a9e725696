/*
 * Unit tests for pamory_id_token_verify (src/token/id_token.c): the whole
 * sequence, with HTTP replaced by a scripted fake so that the JWKS fetches
 * (and the one refetch on an unknown kid) can be counted.
 *
 * This program defines pamory_http_get and pamory_http_response_free itself;
 * the linker then never pulls http.o out of libpamory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "json.h"
#include "token/id_token.h"
#include "token_test_util.h"

#define ISSUER "https://idp.example.com/"
#define CLIENT "pam-client"
#define JWKS_URI "https://idp.example.com/.well-known/jwks.json"

/* ---------------------------------------------------------- fake HTTP */

struct scripted {
    long status;        /* 0: transport failure */
    const char *body;
};

static struct {
    struct scripted answers[4];
    size_t n, calls;
} fake;

int pamory_http_get(const struct pamory_http *http, const char *url,
                    struct pamory_http_response *resp)
{
    const struct scripted *a;

    (void)http;
    assert_string_equal(url, JWKS_URI);
    memset(resp, 0, sizeof(*resp));
    assert_true(fake.calls < fake.n);
    a = &fake.answers[fake.calls++];
    if (a->status == 0)
        return -1;
    resp->status = a->status;
    resp->body = strdup(a->body);
    resp->len = strlen(a->body);
    return 0;
}

void pamory_http_response_free(struct pamory_http_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

static void script(long status1, const char *body1, long status2, const char *body2)
{
    memset(&fake, 0, sizeof(fake));
    fake.answers[0].status = status1;
    fake.answers[0].body = body1;
    fake.answers[1].status = status2;
    fake.answers[1].body = body2;
    fake.n = body2 != NULL || status2 != 0 ? 2 : 1;
}

/* ----------------------------------------------------------- fixture */

struct fixture {
    EVP_PKEY *old_key, *new_key;
    char *jwks_old;        /* only the old key */
    char *jwks_rotated;    /* new key first, old key kept (Hydra's order) */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char *a, *b;

    if (f == NULL)
        return -1;
    f->old_key = tu_rsa(2048);
    f->new_key = tu_rsa(2048);
    if (f->old_key == NULL || f->new_key == NULL)
        return -1;
    a = tu_jwk(f->old_key, "old-kid", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    b = tu_jwk(f->new_key, "new-kid", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    f->jwks_old = tu_sprintf("{\"keys\":[%s]}", a);
    f->jwks_rotated = tu_sprintf("{\"keys\":[%s,%s]}", b, a);
    free(a);
    free(b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    EVP_PKEY_free(f->old_key);
    EVP_PKEY_free(f->new_key);
    free(f->jwks_old);
    free(f->jwks_rotated);
    free(f);
    return 0;
}

/* An ID token as Hydra makes it, with exp and iat relative to now. */
static char *id_token(EVP_PKEY *key, const char *alg, const char *kid, long exp_in,
                      const char *iss)
{
    char *header = tu_sprintf("{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid);
    long now = (long)time(NULL);
    char *payload = tu_sprintf("{\"iss\":\"%s\",\"sub\":\"alice\",\"aud\":[\"" CLIENT "\"],"
                               "\"exp\":%ld,\"iat\":%ld,\"jti\":\"j\"}",
                               iss, now + exp_in, now);
    char *t = tu_sign(key, alg, header, payload);

    free(header);
    free(payload);
    return t;
}

/* Run the verification against a discovery that advertises algs (NULL: none). */
static int verify(const char *token, const char *alg, json_object **claims)
{
    const struct pamory_http http = { tu_log(), NULL, 0 };
    char *algs[] = { (char *)(uintptr_t)alg };
    struct pamory_discovery disc = { (char *)(uintptr_t)ISSUER, NULL, NULL,
                                     (char *)(uintptr_t)JWKS_URI, algs, alg != NULL ? 1 : 0 };

    return pamory_id_token_verify(&http, &disc, CLIENT, token, claims);
}

/* ------------------------------------------------------------- tests */

static void test_valid(void **state)
{
    struct fixture *f = *state;
    char *t = id_token(f->old_key, "RS256", "old-kid", 600, ISSUER);
    json_object *claims = NULL;
    const char *sub;

    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verify(t, "RS256", &claims), PAM_SUCCESS);
    assert_int_equal(fake.calls, 1);
    assert_non_null(claims);
    assert_int_equal(pamory_json_string(claims, "sub", &sub), PAMORY_JSON_OK);
    assert_string_equal(sub, "alice");
    json_object_put(claims);
    free(t);
}

/* Key rotation: the first JWKS lacks the kid, the refetched one has it. */
static void test_unknown_kid_refetched_once(void **state)
{
    struct fixture *f = *state;
    char *t = id_token(f->new_key, "RS256", "new-kid", 600, ISSUER);
    json_object *claims = NULL;

    script(200, f->jwks_old, 200, f->jwks_rotated);
    assert_int_equal(verify(t, "RS256", &claims), PAM_SUCCESS);
    assert_int_equal(fake.calls, 2);
    json_object_put(claims);
    free(t);
}

static void test_unknown_kid_after_refetch(void **state)
{
    struct fixture *f = *state;
    char *t = id_token(f->new_key, "RS256", "forged-kid\x1b[2J", 600, ISSUER);
    json_object *claims = NULL;

    script(200, f->jwks_rotated, 200, f->jwks_rotated);
    assert_int_equal(verify(t, "RS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 2);
    assert_null(claims);
    free(t);
}

static void test_jwks_unavailable(void **state)
{
    struct fixture *f = *state;
    char *t = id_token(f->old_key, "RS256", "old-kid", 600, ISSUER);
    json_object *claims = NULL;

    script(0, NULL, 0, NULL);
    fake.n = 1;
    assert_int_equal(verify(t, "RS256", &claims), PAM_AUTHINFO_UNAVAIL);
    script(503, "{}", 0, NULL);
    assert_int_equal(verify(t, "RS256", &claims), PAM_AUTHINFO_UNAVAIL);
    script(200, "<html>", 0, NULL);
    assert_int_equal(verify(t, "RS256", &claims), PAM_AUTHINFO_UNAVAIL);
    /* The refetch failing is the same outage. */
    script(200, "{\"keys\":[]}", 0, NULL);
    fake.n = 2;
    assert_int_equal(verify(t, "RS256", &claims), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(fake.calls, 2);
    assert_null(claims);
    free(t);
}

/* Refused before any fetch: bad syntax, an alg off our list or off discovery's. */
static void test_refused_without_fetch(void **state)
{
    struct fixture *f = *state;
    char *rs384 = id_token(f->old_key, "RS384", "old-kid", 600, ISSUER);
    char *pem = tu_public_pem(f->old_key);
    char *hs = tu_sign_hs256(pem, strlen(pem), "{\"alg\":\"HS256\",\"kid\":\"old-kid\"}",
                             "{\"sub\":\"alice\"}");
    char *text = tu_sign(f->old_key, "RS256", "{\"alg\":\"RS256\",\"kid\":\"old-kid\"}", "x");
    json_object *claims = NULL;

    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verify("not.a.token", "RS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(verify("", "RS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(verify(rs384, "RS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(verify(hs, "HS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(verify(text, "RS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 0);
    /* Without a discovery list, our own allow-list still applies... */
    assert_int_equal(verify(hs, NULL, &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 0);
    /* ... while RS384 gets as far as the key, whose own alg (RS256) refuses it. */
    assert_int_equal(verify(rs384, NULL, &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 1);
    assert_null(claims);
    free(rs384);
    free(pem);
    free(hs);
    free(text);
}

static void test_signature_and_claims(void **state)
{
    struct fixture *f = *state;
    char *wrong_key = id_token(f->new_key, "RS256", "old-kid", 600, ISSUER);
    char *expired = id_token(f->old_key, "RS256", "old-kid", -61, ISSUER);
    char *other_iss = id_token(f->old_key, "RS256", "old-kid", 600, "https://idp.example.com");
    json_object *claims = NULL;

    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verify(wrong_key, "RS256", &claims), PAM_AUTH_ERR);
    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verify(expired, "RS256", &claims), PAM_AUTH_ERR);
    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verify(other_iss, "RS256", &claims), PAM_AUTH_ERR);
    assert_null(claims);
    free(wrong_key);
    free(expired);
    free(other_iss);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_unknown_kid_refetched_once),
        cmocka_unit_test(test_unknown_kid_after_refetch),
        cmocka_unit_test(test_jwks_unavailable),
        cmocka_unit_test(test_refused_without_fetch),
        cmocka_unit_test(test_signature_and_claims),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
