/* Unit tests for JWKS parsing and key lookup (src/token/jwks.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token_test_util.h"

/* Keys generated once for the whole group: RSA generation is slow. */
struct keys {
    EVP_PKEY *rsa1024, *rsa2048, *rsa4096, *p256, *p384, *p521;
};

static int setup(void **state)
{
    struct keys *k = calloc(1, sizeof(*k));

    if (k == NULL)
        return -1;
    k->rsa1024 = tu_rsa(1024);
    k->rsa2048 = tu_rsa(2048);
    k->rsa4096 = tu_rsa(4096);
    k->p256 = tu_ec("prime256v1");
    k->p384 = tu_ec("secp384r1");
    k->p521 = tu_ec("secp521r1");
    *state = k;
    return k->rsa1024 && k->rsa2048 && k->rsa4096 && k->p256 && k->p384 && k->p521 ? 0 : -1;
}

static int teardown(void **state)
{
    struct keys *k = *state;

    EVP_PKEY_free(k->rsa1024);
    EVP_PKEY_free(k->rsa2048);
    EVP_PKEY_free(k->rsa4096);
    EVP_PKEY_free(k->p256);
    EVP_PKEY_free(k->p384);
    EVP_PKEY_free(k->p521);
    free(k);
    return 0;
}

/* How many keys of this one-key set survive parsing. */
static size_t kept(const char *jwk)
{
    struct pamory_jwks set;
    size_t n = tu_parse_jwk(jwk, &set);

    pamory_jwks_free(&set);
    return n;
}

/* kept() of pkey's JWK with extra members, freeing the text. */
static size_t kept_key(EVP_PKEY *pkey, const char *extra)
{
    char *jwk = tu_jwk(pkey, "k1", extra);
    size_t n = kept(jwk);

    free(jwk);
    return n;
}

/* RFC 7520 3.2, 3.4 and 3.5: the EC and RSA keys are kept, the oct key is skipped. */
static void test_rfc7520_set(void **state)
{
    char *doc = tu_fixture("rfc7520/jwks.json");
    struct pamory_jwks set;

    (void)state;
    assert_int_equal(pamory_jwks_parse(tu_log(), doc, strlen(doc), &set), 0);
    assert_int_equal(set.n, 2);
    assert_int_equal(set.keys[0].kty, PAMORY_KTY_RSA);
    assert_string_equal(set.keys[0].kid, "bilbo.baggins@hobbiton.example");
    assert_null(set.keys[0].alg);
    assert_null(set.keys[0].crv);
    assert_int_equal(EVP_PKEY_get_bits(set.keys[0].pkey), 2048);
    assert_int_equal(set.keys[1].kty, PAMORY_KTY_EC);
    assert_string_equal(set.keys[1].crv, "P-521");
    assert_true(EVP_PKEY_is_a(set.keys[1].pkey, "EC"));
    assert_null(pamory_jwks_find(&set, "018c0ae5-4d9b-471b-bfd6-eef314bc7037"));
    pamory_jwks_free(&set);
    assert_int_equal(set.n, 0);
    assert_null(set.keys);
    free(doc);
}

static void test_document_errors(void **state)
{
    static const char *const bad[] = { "", "not json", "[]", "{}", "{\"keys\":{}}",
                                       "{\"keys\":\"x\"}", "{\"keys\":[]} trailing" };
    struct pamory_jwks set;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pamory_jwks_parse(tu_log(), bad[i], strlen(bad[i]), &set), -1);
        assert_int_equal(set.n, 0);
    }
    assert_int_equal(pamory_jwks_parse(tu_log(), "{\"keys\":[]}", 11, &set), 0);
    assert_int_equal(set.n, 0);
    pamory_jwks_free(&set);
}

/* One odd key never spoils the set: junk entries are skipped, the good key stays. */
static void test_junk_entries_skipped(void **state)
{
    struct keys *k = *state;
    char *good = tu_jwk(k->p256, "good", "");
    char *doc = tu_sprintf("{\"keys\":[1,null,\"x\",[],{},{\"kty\":7},%s,{\"kty\":\"RSA\"}]}", good);
    struct pamory_jwks set;

    assert_int_equal(pamory_jwks_parse(tu_log(), doc, strlen(doc), &set), 0);
    assert_int_equal(set.n, 1);
    assert_string_equal(set.keys[0].kid, "good");
    pamory_jwks_free(&set);
    free(good);
    free(doc);
}

static void test_rsa_sizes(void **state)
{
    struct keys *k = *state;

    assert_int_equal(kept_key(k->rsa1024, ""), 0);
    assert_int_equal(kept_key(k->rsa2048, ""), 1);
    assert_int_equal(kept_key(k->rsa4096, ""), 1);
}

/* e must be odd and more than 1; n and e strictly base64url. */
static void test_rsa_malformed(void **state)
{
    struct keys *k = *state;
    char *jwk = tu_jwk(k->rsa2048, "k1", "");
    char *n_start = strstr(jwk, "\"n\":\"") + 5;
    char *e_start = strstr(jwk, "\"e\":\"") + 5;

    assert_int_equal(kept(jwk), 1);
    memcpy(e_start, "AQAA", 4);        /* 65536: even */
    assert_int_equal(kept(jwk), 0);
    memcpy(e_start, "AQAB", 4);
    n_start[0] = '+';                  /* not URL-safe */
    assert_int_equal(kept(jwk), 0);
    free(jwk);
    assert_int_equal(kept("{\"kty\":\"RSA\",\"n\":\"AQAB\"}"), 0);
    assert_int_equal(kept("{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}"), 0);
    assert_int_equal(kept("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQ==\"}"), 0);
}

static void test_ec_curves(void **state)
{
    struct keys *k = *state;
    struct pamory_jwks set;
    char *jwk = tu_jwk(k->p384, "k384", "");

    assert_int_equal(kept_key(k->p256, ""), 1);
    assert_int_equal(kept_key(k->p384, ""), 1);
    assert_int_equal(kept_key(k->p521, ""), 1);
    assert_int_equal(tu_parse_jwk(jwk, &set), 1);
    assert_string_equal(set.keys[0].crv, "P-384");
    assert_int_equal(set.keys[0].kty, PAMORY_KTY_EC);
    pamory_jwks_free(&set);
    free(jwk);
}

/* The P-256 coordinates labelled with another curve name. */
static void test_ec_wrong_or_unknown_curve(void **state)
{
    struct keys *k = *state;
    char *jwk = tu_jwk(k->p256, "k1", "");
    char *crv = strstr(jwk, "P-256");

    memcpy(crv, "P-384", 5);
    assert_int_equal(kept(jwk), 0);
    memcpy(crv, "P-192", 5);
    assert_int_equal(kept(jwk), 0);
    memcpy(crv, "X-256", 5);
    assert_int_equal(kept(jwk), 0);
    free(jwk);
}

/* RFC 7518 6.2.1.2: x and y are exactly the coordinate size, no shorter, no longer. */
static void test_ec_coordinate_length(void **state)
{
    struct keys *k = *state;
    unsigned char x[33] = { 0 }, y[32] = { 0 }, xy[64];
    char *bx, *by, *jwk;
    BIGNUM *bn = NULL;

    assert_int_equal(EVP_PKEY_get_bn_param(k->p256, OSSL_PKEY_PARAM_EC_PUB_X, &bn), 1);
    BN_bn2binpad(bn, x + 1, 32);       /* a leading zero byte: 33 bytes */
    BN_free(bn);
    bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k->p256, OSSL_PKEY_PARAM_EC_PUB_Y, &bn), 1);
    BN_bn2binpad(bn, y, 32);
    BN_free(bn);
    bx = tu_b64(x, 33);
    by = tu_b64(y, 32);
    jwk = tu_sprintf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", bx, by);
    assert_int_equal(kept(jwk), 0);
    free(jwk);
    free(bx);
    /* The same point with the correct 32-byte x is fine: the test above is about length. */
    bx = tu_b64(x + 1, 32);
    jwk = tu_sprintf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", bx, by);
    assert_int_equal(kept(jwk), 1);
    free(jwk);
    free(bx);
    free(by);
    /* The right 64 bytes split wrongly: x short by its last byte, y long by it. */
    memcpy(xy, x + 1, 32);
    memcpy(xy + 32, y, 32);
    bx = tu_b64(xy, 31);
    by = tu_b64(xy + 31, 33);
    jwk = tu_sprintf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", bx, by);
    assert_int_equal(kept(jwk), 0);
    free(jwk);
    free(bx);
    free(by);
}

/* A point off the curve (y changed in its last bit) is refused. */
static void test_ec_point_not_on_curve(void **state)
{
    struct keys *k = *state;
    EVP_PKEY *keys[] = { k->p256, k->p384, k->p521 };
    unsigned char y[66];
    size_t i, len;
    BIGNUM *bn = NULL;

    for (i = 0; i < 3; i++) {
        char *jwk = tu_jwk(keys[i], "k1", "");
        char *y_start = strstr(jwk, "\"y\":\"") + 5;
        char *by;

        len = tu_ec_len(keys[i]);
        assert_int_equal(EVP_PKEY_get_bn_param(keys[i], OSSL_PKEY_PARAM_EC_PUB_Y, &bn), 1);
        BN_bn2binpad(bn, y, (int)len);
        BN_free(bn);
        bn = NULL;
        y[len - 1] ^= 1;
        by = tu_b64(y, len);
        memcpy(y_start, by, strlen(by));
        assert_int_equal(kept(jwk), 0);
        free(by);
        free(jwk);
    }
    /* The point at infinity has no uncompressed form: all zeroes is off the curve too. */
    assert_int_equal(kept("{\"kty\":\"EC\",\"crv\":\"P-256\","
                          "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                          "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"),
                     0);
}

/* A JWK that carries private members is not for us to hold; it is skipped, not used. */
static void test_private_key_skipped(void **state)
{
    struct keys *k = *state;

    assert_int_equal(kept_key(k->rsa2048, ",\"d\":\"AQAB\""), 0);
    assert_int_equal(kept_key(k->rsa2048, ",\"p\":\"AQAB\",\"q\":\"AQAB\""), 0);
    assert_int_equal(kept_key(k->rsa2048, ",\"qi\":\"AQAB\""), 0);
    assert_int_equal(kept_key(k->p256, ",\"d\":\"AQAB\""), 0);
    assert_int_equal(kept_key(k->p256, ""), 1);
}

static void test_use(void **state)
{
    struct keys *k = *state;

    assert_int_equal(kept_key(k->p256, ",\"use\":\"sig\""), 1);
    assert_int_equal(kept_key(k->p256, ",\"use\":\"enc\""), 0);
    assert_int_equal(kept_key(k->p256, ",\"use\":\"SIG\""), 0);
    assert_int_equal(kept_key(k->p256, ",\"use\":1"), 0);
    assert_int_equal(kept_key(k->rsa2048, ",\"use\":\"enc\""), 0);
}

static void test_unsupported_kty_skipped(void **state)
{
    (void)state;
    assert_int_equal(kept("{\"kty\":\"oct\",\"k\":\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}"), 0);
    assert_int_equal(kept("{\"kty\":\"oct\",\"alg\":\"HS256\"}"), 0);
    assert_int_equal(kept("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"),
                     0);
    assert_int_equal(kept("{\"kty\":\"rsa\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"), 0);
    assert_int_equal(kept("{\"n\":\"AQAB\",\"e\":\"AQAB\"}"), 0);
}

/* kid and alg are copied; a non-string kid or alg makes the key unusable. */
static void test_kid_and_alg_members(void **state)
{
    struct keys *k = *state;
    char *jwk = tu_jwk(k->rsa2048, "my-kid", ",\"alg\":\"PS256\"");
    char *nokid;
    struct pamory_jwks set;

    assert_int_equal(tu_parse_jwk(jwk, &set), 1);
    assert_string_equal(set.keys[0].kid, "my-kid");
    assert_string_equal(set.keys[0].alg, "PS256");
    pamory_jwks_free(&set);
    free(jwk);
    assert_int_equal(kept_key(k->p256, ",\"alg\":256"), 0);
    jwk = tu_jwk(k->p256, "x", "");
    nokid = tu_sprintf("{\"kty\":\"EC\",%s", strstr(jwk, "\"crv\""));   /* no kid member */
    assert_int_equal(tu_parse_jwk(nokid, &set), 1);
    assert_null(set.keys[0].kid);
    pamory_jwks_free(&set);
    free(nokid);
    nokid = tu_sprintf("{\"kty\":\"EC\",\"kid\":5,%s", strstr(jwk, "\"crv\""));
    assert_int_equal(kept(nokid), 0);
    free(nokid);
    free(jwk);
}

/* A set of three keys, two without kid in some tests. */
static struct pamory_jwks set_of(EVP_PKEY *a, const char *kid_a, EVP_PKEY *b, const char *kid_b,
                                 EVP_PKEY *c, const char *kid_c)
{
    char *ja = tu_jwk(a, kid_a, ""), *jb = tu_jwk(b, kid_b, ""), *jc = tu_jwk(c, kid_c, "");
    char *doc = tu_sprintf("{\"keys\":[%s,%s,%s]}", ja, jb, jc);
    struct pamory_jwks set;

    if (pamory_jwks_parse(tu_log(), doc, strlen(doc), &set) != 0 || set.n != 3)
        abort();
    free(ja);
    free(jb);
    free(jc);
    free(doc);
    return set;
}

static void test_find_by_kid(void **state)
{
    struct keys *k = *state;
    struct pamory_jwks set = set_of(k->rsa4096, "new", k->rsa2048, "old", k->p256, "ec");

    assert_ptr_equal(pamory_jwks_find(&set, "new"), &set.keys[0]);
    assert_ptr_equal(pamory_jwks_find(&set, "old"), &set.keys[1]);
    assert_ptr_equal(pamory_jwks_find(&set, "ec"), &set.keys[2]);
    assert_null(pamory_jwks_find(&set, "missing"));
    assert_null(pamory_jwks_find(&set, "ol"));
    assert_null(pamory_jwks_find(&set, "older"));
    assert_null(pamory_jwks_find(&set, ""));
    /* No kid in the token: ambiguous with three keys. */
    assert_null(pamory_jwks_find(&set, NULL));
    pamory_jwks_free(&set);
    assert_null(pamory_jwks_find(NULL, "new"));
}

/* Rotation keeps old keys after the new one; a repeated kid resolves to the first (newest). */
static void test_duplicate_kid_first_wins(void **state)
{
    struct keys *k = *state;
    struct pamory_jwks set = set_of(k->rsa4096, "same", k->rsa2048, "same", k->p256, "other");

    assert_ptr_equal(pamory_jwks_find(&set, "same"), &set.keys[0]);
    pamory_jwks_free(&set);
}

/* RFC 7515 4.1.4: without a kid, the key is unambiguous only in a one-key set. */
static void test_no_kid_single_key_rule(void **state)
{
    struct keys *k = *state;
    char *jwk = tu_jwk(k->p256, "only", "");
    char *two = tu_sprintf("{\"keys\":[%s,{\"kty\":\"oct\",\"k\":\"AQAB\"}]}", jwk);
    struct pamory_jwks set;

    assert_int_equal(tu_parse_jwk(jwk, &set), 1);
    assert_ptr_equal(pamory_jwks_find(&set, NULL), &set.keys[0]);
    assert_ptr_equal(pamory_jwks_find(&set, "only"), &set.keys[0]);
    assert_null(pamory_jwks_find(&set, "other"));
    pamory_jwks_free(&set);
    /* A skipped key does not count: the set still holds one usable key. */
    assert_int_equal(pamory_jwks_parse(tu_log(), two, strlen(two), &set), 0);
    assert_int_equal(set.n, 1);
    assert_ptr_equal(pamory_jwks_find(&set, NULL), &set.keys[0]);
    pamory_jwks_free(&set);
    assert_int_equal(pamory_jwks_parse(tu_log(), "{\"keys\":[]}", 11, &set), 0);
    assert_null(pamory_jwks_find(&set, NULL));
    pamory_jwks_free(&set);
    free(two);
    free(jwk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7520_set),
        cmocka_unit_test(test_document_errors),
        cmocka_unit_test(test_junk_entries_skipped),
        cmocka_unit_test(test_rsa_sizes),
        cmocka_unit_test(test_rsa_malformed),
        cmocka_unit_test(test_ec_curves),
        cmocka_unit_test(test_ec_wrong_or_unknown_curve),
        cmocka_unit_test(test_ec_coordinate_length),
        cmocka_unit_test(test_ec_point_not_on_curve),
        cmocka_unit_test(test_private_key_skipped),
        cmocka_unit_test(test_use),
        cmocka_unit_test(test_unsupported_kty_skipped),
        cmocka_unit_test(test_kid_and_alg_members),
        cmocka_unit_test(test_find_by_kid),
        cmocka_unit_test(test_duplicate_kid_first_wins),
        cmocka_unit_test(test_no_kid_single_key_rule),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
