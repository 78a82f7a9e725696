/*
 * Unit tests for JWS parsing and verification (src/token/jws.c): the RFC 7520
 * vectors, then tokens signed here with keys generated at test time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token/jws.h"
#include "token_test_util.h"

#define PAYLOAD "{\"iss\":\"https://idp.example\",\"sub\":\"alice\",\"aud\":[\"pam\"]}"

/* Each generated key with its parsed JWK, built once for the whole group. */
struct key {
    EVP_PKEY *pkey;
    struct pamory_jwks set;   /* exactly one key: set.keys[0] */
};

struct fixture {
    struct key rsa2048, rsa4096, p256, p384, p521;
    struct pamory_jwks rfc;   /* RFC 7520: [0] RSA (3.4), [1] EC P-521 (3.2) */
};

static int make_key(struct key *k, EVP_PKEY *pkey)
{
    char *jwk;

    k->pkey = pkey;
    if (pkey == NULL)
        return -1;
    jwk = tu_jwk(pkey, "test-kid", "");
    tu_parse_jwk(jwk, &k->set);
    free(jwk);
    return k->set.n == 1 ? 0 : -1;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char *doc = tu_fixture("rfc7520/jwks.json");
    int rc;

    if (f == NULL)
        return -1;
    *state = f;
    rc = make_key(&f->rsa2048, tu_rsa(2048)) | make_key(&f->rsa4096, tu_rsa(4096)) |
         make_key(&f->p256, tu_ec("prime256v1")) | make_key(&f->p384, tu_ec("secp384r1")) |
         make_key(&f->p521, tu_ec("secp521r1"));
    rc |= pamory_jwks_parse(tu_log(), doc, strlen(doc), &f->rfc);
    free(doc);
    return rc != 0 || f->rfc.n != 2 ? -1 : 0;
}

static void free_key(struct key *k)
{
    EVP_PKEY_free(k->pkey);
    pamory_jwks_free(&k->set);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    free_key(&f->rsa2048);
    free_key(&f->rsa4096);
    free_key(&f->p256);
    free_key(&f->p384);
    free_key(&f->p521);
    pamory_jwks_free(&f->rfc);
    free(f);
    return 0;
}

/* Parse and verify compact with key: 0, or -1 with *why. */
static int check(const char *compact, const struct pamory_jwk *key, const char **why)
{
    struct pamory_jws jws;
    int rc;

    *why = NULL;
    if (pamory_jws_parse(compact, &jws, why) != 0)
        return -1;
    rc = pamory_jws_verify(&jws, key, why);
    pamory_jws_free(&jws);
    return rc;
}

static void assert_verifies(const char *compact, const struct pamory_jwk *key)
{
    const char *why;

    if (check(compact, key, &why) != 0)
        fail_msg("refused: %s", why);
}

static void assert_refused_why(const char *compact, const struct pamory_jwk *key,
                               const char *expected)
{
    const char *why;

    assert_int_equal(check(compact, key, &why), -1);
    assert_non_null(why);
    if (expected != NULL)
        assert_string_equal(why, expected);
}

/* A header naming alg, with a kid and Hydra's typ. */
static char *header(const char *alg)
{
    return tu_sprintf("{\"alg\":\"%s\",\"kid\":\"test-kid\",\"typ\":\"JWT\"}", alg);
}

/* A token signed as sign_alg by pkey whose header says header_alg. */
static char *token_as(EVP_PKEY *pkey, const char *sign_alg, const char *header_alg)
{
    char *h = header(header_alg);
    char *t = tu_sign(pkey, sign_alg, h, PAYLOAD);

    free(h);
    return t;
}

/*
 * compact with one bit of part (0 header, 1 payload, 2 signature) flipped in
 * its decoded bytes and re-encoded, so the text stays valid base64url.
 */
static char *flip_bit(const char *compact, int part, size_t byte, unsigned char mask)
{
    const char *start[3], *end[3];
    unsigned char *raw;
    char *enc, *out;
    size_t len;
    int i;

    start[0] = compact;
    for (i = 0; i < 3; i++) {
        end[i] = i < 2 ? strchr(start[i], '.') : start[i] + strlen(start[i]);
        if (i < 2)
            start[i + 1] = end[i] + 1;
    }
    raw = pamory_b64url_decode(start[part], (size_t)(end[part] - start[part]), &len);
    assert_non_null(raw);
    assert_true(byte < len);
    raw[byte] ^= mask;
    enc = tu_b64(raw, len);
    out = tu_sprintf("%.*s%s%s", (int)(start[part] - compact), compact, enc, end[part]);
    free(raw);
    free(enc);
    return out;
}

/* ------------------------------------------------------------ RFC 7520 */

static void test_rfc7520_rs256(void **state)
{
    struct fixture *f = *state;
    char *t = tu_fixture("rfc7520/4.1-rs256.jws");
    struct pamory_jws jws;
    const char *why;

    assert_verifies(t, &f->rfc.keys[0]);
    assert_int_equal(pamory_jws_parse(t, &jws, &why), 0);
    assert_string_equal(jws.alg, "RS256");
    assert_string_equal(jws.kid, "bilbo.baggins@hobbiton.example");
    assert_null(jws.typ);
    assert_null(jws.payload);              /* text, not JSON */
    assert_int_equal(jws.payload_len, 167);
    assert_memory_equal(jws.payload_raw, "It\xe2\x80\x99s a dangerous business, Frodo", 34);
    assert_int_equal(jws.payload_raw[jws.payload_len], '\0');
    assert_int_equal(jws.sig_len, 256);
    assert_int_equal(strlen(jws.signing_input), strrchr(t, '.') - t);
    pamory_jws_free(&jws);
    free(t);
}

static void test_rfc7520_ps384(void **state)
{
    struct fixture *f = *state;
    char *t = tu_fixture("rfc7520/4.2-ps384.jws");

    assert_verifies(t, &f->rfc.keys[0]);
    free(t);
}

static void test_rfc7520_es512(void **state)
{
    struct fixture *f = *state;
    char *t = tu_fixture("rfc7520/4.3-es512.jws");

    assert_verifies(t, &f->rfc.keys[1]);
    /* Both RFC keys share a kid: the RSA one must not be taken for an ES512 token. */
    assert_refused_why(t, &f->rfc.keys[0], "alg needs an EC key");
    free(t);
}

/* One flipped bit anywhere in the signed data or the signature breaks it. */
static void test_rfc7520_bit_flips(void **state)
{
    struct fixture *f = *state;
    const char *files[] = { "rfc7520/4.1-rs256.jws", "rfc7520/4.2-ps384.jws",
                            "rfc7520/4.3-es512.jws" };
    const struct pamory_jwk *keys[] = { &f->rfc.keys[0], &f->rfc.keys[0], &f->rfc.keys[1] };
    int i, part;

    for (i = 0; i < 3; i++) {
        char *t = tu_fixture(files[i]);

        assert_verifies(t, keys[i]);
        for (part = 0; part < 3; part++) {
            /* Header byte 25 is inside the kid value, so the header stays valid JSON. */
            size_t at[] = { 25, 40, 100 };
            char *bad = flip_bit(t, part, at[part], 0x01);

            assert_refused_why(bad, keys[i], "bad signature");
            free(bad);
        }
        free(t);
    }
}

/* RFC 7520 4.4: HS256 is refused whatever key it meets. */
static void test_rfc7520_hs256_refused(void **state)
{
    struct fixture *f = *state;
    char *t = tu_fixture("rfc7520/4.4-hs256.jws");
    char *rsa_hs256 = tu_jwk(f->rsa2048.pkey, "hs", ",\"alg\":\"HS256\"");
    struct pamory_jwks set;
    struct pamory_jws jws;
    const char *why;

    assert_int_equal(pamory_jws_parse(t, &jws, &why), 0);
    assert_string_equal(jws.alg, "HS256");
    assert_false(pamory_jws_alg_allowed(jws.alg));
    /* The oct key of RFC 7520 3.5 was skipped by the parser. */
    assert_null(pamory_jwks_find(&f->rfc, jws.kid));
    pamory_jws_free(&jws);
    assert_refused_why(t, &f->rfc.keys[0], "alg not allowed");
    assert_refused_why(t, &f->rfc.keys[1], "alg not allowed");
    /* An RSA JWK that itself claims HS256 changes nothing. */
    assert_int_equal(tu_parse_jwk(rsa_hs256, &set), 1);
    assert_refused_why(t, &set.keys[0], "alg not allowed");
    pamory_jwks_free(&set);
    free(rsa_hs256);
    free(t);
}

/* ------------------------------------------------------ generated keys */

static void test_generated_rsa_valid(void **state)
{
    struct fixture *f = *state;
    static const char *const algs[] = { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512" };
    size_t i;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char *a = token_as(f->rsa2048.pkey, algs[i], algs[i]);
        char *b = token_as(f->rsa4096.pkey, algs[i], algs[i]);

        assert_verifies(a, &f->rsa2048.set.keys[0]);
        assert_verifies(b, &f->rsa4096.set.keys[0]);
        /* ... and only with the key that signed. */
        assert_refused_why(a, &f->rsa4096.set.keys[0], "bad signature");
        free(a);
        free(b);
    }
}

static void test_generated_ec_valid(void **state)
{
    struct fixture *f = *state;
    char *t256 = token_as(f->p256.pkey, "ES256", "ES256");
    char *t384 = token_as(f->p384.pkey, "ES384", "ES384");
    char *t521 = token_as(f->p521.pkey, "ES512", "ES512");
    struct pamory_jws jws;
    const char *why;

    assert_verifies(t256, &f->p256.set.keys[0]);
    assert_verifies(t384, &f->p384.set.keys[0]);
    assert_verifies(t521, &f->p521.set.keys[0]);
    assert_int_equal(pamory_jws_parse(t521, &jws, &why), 0);
    assert_int_equal(jws.sig_len, 132);
    assert_string_equal(jws.typ, "JWT");
    assert_non_null(jws.payload);
    assert_true(json_object_is_type(jws.payload, json_type_object));
    pamory_jws_free(&jws);
    free(t256);
    free(t384);
    free(t521);
}

/* PS and RS are different algs on the same key: a PSS signature is no PKCS#1 v1.5 one. */
static void test_rsa_padding_not_interchangeable(void **state)
{
    struct fixture *f = *state;
    char *pss_as_rs = token_as(f->rsa2048.pkey, "PS256", "RS256");
    char *rs_as_ps = token_as(f->rsa2048.pkey, "RS256", "PS256");
    char *sha384_as_256 = token_as(f->rsa2048.pkey, "RS384", "RS256");

    assert_refused_why(pss_as_rs, &f->rsa2048.set.keys[0], "bad signature");
    assert_refused_why(rs_as_ps, &f->rsa2048.set.keys[0], "bad signature");
    assert_refused_why(sha384_as_256, &f->rsa2048.set.keys[0], "bad signature");
    free(pss_as_rs);
    free(rs_as_ps);
    free(sha384_as_256);
}

/* A PS256 signature with salt length saltlen (RFC 7518 3.5 fixes it at the hash size). */
static char *ps256_with_salt(EVP_PKEY *pkey, int saltlen)
{
    char *in = tu_signing_input("{\"alg\":\"PS256\"}", PAYLOAD);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[512];
    size_t len = sizeof(sig);
    char *b64, *t;

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, pkey, NULL), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &len, (const unsigned char *)in, strlen(in)), 1);
    EVP_MD_CTX_free(ctx);
    b64 = tu_b64(sig, len);
    t = tu_sprintf("%s.%s", in, b64);
    free(b64);
    free(in);
    return t;
}

static void test_pss_salt_length(void **state)
{
    struct fixture *f = *state;
    char *ok = ps256_with_salt(f->rsa2048.pkey, 32);
    char *none = ps256_with_salt(f->rsa2048.pkey, 0);
    char *max = ps256_with_salt(f->rsa2048.pkey, RSA_PSS_SALTLEN_MAX);

    assert_verifies(ok, &f->rsa2048.set.keys[0]);
    assert_refused_why(none, &f->rsa2048.set.keys[0], "bad signature");
    assert_refused_why(max, &f->rsa2048.set.keys[0], "bad signature");
    free(ok);
    free(none);
    free(max);
}

static void test_confusion_rs256_with_ec_key(void **state)
{
    struct fixture *f = *state;
    char *t = token_as(f->rsa2048.pkey, "RS256", "RS256");
    char *ps = token_as(f->rsa2048.pkey, "PS256", "PS256");

    assert_refused_why(t, &f->p256.set.keys[0], "alg needs an RSA key");
    assert_refused_why(ps, &f->p521.set.keys[0], "alg needs an RSA key");
    free(t);
    free(ps);
}

static void test_confusion_es_with_wrong_key(void **state)
{
    struct fixture *f = *state;
    char *es256_by_p384 = token_as(f->p384.pkey, "ES384", "ES256");
    char *es256 = token_as(f->p256.pkey, "ES256", "ES256");
    char *es512 = token_as(f->p521.pkey, "ES512", "ES512");

    assert_refused_why(es256_by_p384, &f->p384.set.keys[0], "key curve does not fit alg");
    assert_refused_why(es256, &f->p384.set.keys[0], "key curve does not fit alg");
    assert_refused_why(es512, &f->p256.set.keys[0], "key curve does not fit alg");
    assert_refused_why(es256, &f->rsa2048.set.keys[0], "alg needs an EC key");
    free(es256_by_p384);
    free(es256);
    free(es512);
}

/* The JWK's own alg binds the key: an ES256 token is refused by a key marked RS256 or ES384. */
static void test_confusion_jwk_alg(void **state)
{
    struct fixture *f = *state;
    char *t = token_as(f->p256.pkey, "ES256", "ES256");
    char *jwk_rs = tu_jwk(f->p256.pkey, "k", ",\"alg\":\"RS256\"");
    char *jwk_es = tu_jwk(f->p256.pkey, "k", ",\"alg\":\"ES256\"");
    char *rs = token_as(f->rsa2048.pkey, "RS256", "RS256");
    char *jwk_ps = tu_jwk(f->rsa2048.pkey, "k", ",\"alg\":\"PS256\"");
    struct pamory_jwks a, b, c;

    tu_parse_jwk(jwk_rs, &a);
    tu_parse_jwk(jwk_es, &b);
    tu_parse_jwk(jwk_ps, &c);
    assert_refused_why(t, &a.keys[0], "alg differs from the key's alg");
    assert_verifies(t, &b.keys[0]);
    assert_refused_why(rs, &c.keys[0], "alg differs from the key's alg");
    pamory_jwks_free(&a);
    pamory_jwks_free(&b);
    pamory_jwks_free(&c);
    free(jwk_rs);
    free(jwk_es);
    free(jwk_ps);
    free(rs);
    free(t);
}

static void test_alg_none_refused(void **state)
{
    struct fixture *f = *state;
    char *in = tu_signing_input("{\"alg\":\"none\"}", PAYLOAD);
    char *empty_sig = tu_sprintf("%s.", in);
    char *some_sig = tu_sprintf("%s.AAAA", in);
    char *none_upper = tu_signing_input("{\"alg\":\"None\"}", PAYLOAD);
    char *none_upper_sig = tu_sprintf("%s.AAAA", none_upper);

    assert_false(pamory_jws_alg_allowed("none"));
    assert_false(pamory_jws_alg_allowed(NULL));
    assert_refused_why(empty_sig, &f->rsa2048.set.keys[0], "empty part");
    assert_refused_why(some_sig, &f->rsa2048.set.keys[0], "alg not allowed");
    assert_refused_why(some_sig, &f->p256.set.keys[0], "alg not allowed");
    assert_refused_why(none_upper_sig, &f->rsa2048.set.keys[0], "alg not allowed");
    free(in);
    free(empty_sig);
    free(some_sig);
    free(none_upper);
    free(none_upper_sig);
}

/* The classic forgery: HMAC keyed with the RSA public key, which anyone has. */
static void test_hs256_with_rsa_public_key_refused(void **state)
{
    struct fixture *f = *state;
    char *pem = tu_public_pem(f->rsa2048.pkey);
    char *h = header("HS256");
    char *t = tu_sign_hs256(pem, strlen(pem), h, PAYLOAD);
    static const char *const hmacs[] = { "HS256", "HS384", "HS512", "hs256", "RS1", "ES256K",
                                         "EdDSA", "" };
    size_t i;

    assert_refused_why(t, &f->rsa2048.set.keys[0], "alg not allowed");
    for (i = 0; i < sizeof(hmacs) / sizeof(hmacs[0]); i++)
        assert_false(pamory_jws_alg_allowed(hmacs[i]));
    free(pem);
    free(h);
    free(t);
}

/* An ES signature must be r || s of the exact size; DER or a byte less is refused. */
static void test_ecdsa_signature_length(void **state)
{
    struct fixture *f = *state;
    char *h = header("ES256");
    char *in = tu_signing_input(h, PAYLOAD);
    char *der = tu_sig(f->p256.pkey, "ES256", in, 0);
    char *raw = tu_sig(f->p256.pkey, "ES256", in, 1);
    unsigned char bytes[64];
    size_t n;
    unsigned char *dec = pamory_b64url_decode(raw, strlen(raw), &n);
    char *t_der = tu_sprintf("%s.%s", in, der);
    char *t_raw = tu_sprintf("%s.%s", in, raw);
    char *short_sig, *t_short, *long_sig, *t_long;
    unsigned char longer[65];

    assert_int_equal(n, 64);
    memcpy(bytes, dec, 63);
    short_sig = tu_b64(bytes, 63);
    memcpy(longer, dec, 64);
    longer[64] = 0;
    long_sig = tu_b64(longer, 65);
    t_short = tu_sprintf("%s.%s", in, short_sig);
    t_long = tu_sprintf("%s.%s", in, long_sig);
    assert_verifies(t_raw, &f->p256.set.keys[0]);
    assert_refused_why(t_der, &f->p256.set.keys[0], "bad ECDSA signature length");
    assert_refused_why(t_short, &f->p256.set.keys[0], "bad ECDSA signature length");
    assert_refused_why(t_long, &f->p256.set.keys[0], "bad ECDSA signature length");
    free(dec);
    free(h);
    free(in);
    free(der);
    free(raw);
    free(t_der);
    free(t_raw);
    free(short_sig);
    free(t_short);
    free(long_sig);
    free(t_long);
}

/* ------------------------------------------------------- compact syntax */

static void test_parts(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = { "", ".", "..", "...", "a", "a.b", "a..c", ".b.c", "a.b.",
                                       "a.b.c.d", "a.b.c.d.e" };
    const struct pamory_jwk *key = &f->rsa2048.set.keys[0];
    const char *why;
    struct pamory_jws jws;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused_why(bad[i], key, NULL);
    assert_refused_why("a.b.c.d", key, "not three parts");
    assert_refused_why("a..c", key, "empty part");
    assert_int_equal(pamory_jws_parse(NULL, &jws, &why), -1);
    assert_null(jws.header);
}

static void test_truncated(void **state)
{
    struct fixture *f = *state;
    char *t = token_as(f->rsa2048.pkey, "RS256", "RS256");
    size_t len = strlen(t), cut;

    /* Every shorter prefix is refused, whichever check catches it. */
    for (cut = 0; cut < len; cut++) {
        char *prefix = tu_check_str(strndup(t, cut));

        assert_refused_why(prefix, &f->rsa2048.set.keys[0], NULL);
        free(prefix);
    }
    assert_verifies(t, &f->rsa2048.set.keys[0]);
    free(t);
}

static void test_size_cap(void **state)
{
    struct fixture *f = *state;
    char *big = malloc(PAMORY_JWS_MAX_LEN + 2);
    char *h = header("RS256");
    char *payload, *t, *fill;
    const char *why;
    struct pamory_jws jws;

    assert_non_null(big);
    memset(big, 'A', PAMORY_JWS_MAX_LEN + 1);
    big[10] = '.';
    big[20] = '.';
    big[PAMORY_JWS_MAX_LEN + 1] = '\0';
    assert_refused_why(big, &f->rsa2048.set.keys[0], "too long");
    /* At exactly the cap, the length is not what fails. */
    big[PAMORY_JWS_MAX_LEN] = '\0';
    assert_int_equal(pamory_jws_parse(big, &jws, &why), -1);
    assert_string_not_equal(why, "too long");
    free(big);
    /* A validly signed token just over the cap is refused all the same. */
    fill = malloc(PAMORY_JWS_MAX_LEN);
    assert_non_null(fill);
    memset(fill, 'x', PAMORY_JWS_MAX_LEN * 3 / 4 - 100);
    fill[PAMORY_JWS_MAX_LEN * 3 / 4 - 100] = '\0';
    payload = tu_sprintf("{\"pad\":\"%s\"}", fill);
    t = tu_sign(f->rsa2048.pkey, "RS256", h, payload);
    assert_true(strlen(t) > PAMORY_JWS_MAX_LEN);
    assert_refused_why(t, &f->rsa2048.set.keys[0], "too long");
    free(fill);
    free(payload);
    free(t);
    free(h);
}

/* '=' padding or the '+' '/' alphabet in any part is refused, even with the signature intact. */
static void test_base64_variants_refused(void **state)
{
    struct fixture *f = *state;
    char *t = token_as(f->rsa2048.pkey, "RS256", "RS256");
    char *dot1 = strchr(t, '.');
    char *dot2 = strchr(dot1 + 1, '.');
    char *padded_sig = tu_sprintf("%s==", t);
    char *padded_hdr = tu_sprintf("%.*s=%s", (int)(dot1 - t), t, dot1);
    char *padded_pay = tu_sprintf("%.*s=%s", (int)(dot2 - t), t, dot2);
    char *std = tu_check_str(strdup(t));
    char *p;

    assert_verifies(t, &f->rsa2048.set.keys[0]);
    assert_refused_why(padded_sig, &f->rsa2048.set.keys[0], "signature is not base64url");
    assert_refused_why(padded_hdr, &f->rsa2048.set.keys[0], "header is not base64url");
    assert_refused_why(padded_pay, &f->rsa2048.set.keys[0], "payload is not base64url");
    for (p = std; *p != '\0'; p++) {
        if (*p == '-')
            *p = '+';
        else if (*p == '_')
            *p = '/';
    }
    if (strcmp(std, t) != 0)
        assert_refused_why(std, &f->rsa2048.set.keys[0], NULL);
    free(padded_sig);
    free(padded_hdr);
    free(padded_pay);
    free(std);
    free(t);
}

static void test_crit_refused(void **state)
{
    struct fixture *f = *state;
    char *t = tu_sign(f->rsa2048.pkey, "RS256",
                      "{\"alg\":\"RS256\",\"kid\":\"test-kid\",\"crit\":[\"exp\"],\"exp\":1}", PAYLOAD);
    char *empty = tu_sign(f->rsa2048.pkey, "RS256", "{\"alg\":\"RS256\",\"crit\":[]}", PAYLOAD);

    assert_refused_why(t, &f->rsa2048.set.keys[0], "crit header not supported");
    assert_refused_why(empty, &f->rsa2048.set.keys[0], "crit header not supported");
    free(t);
    free(empty);
}

static void test_header_shape(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *k = f->rsa2048.pkey;
    const struct pamory_jwk *key = &f->rsa2048.set.keys[0];
    char *not_json = tu_sign(k, "RS256", "{alg:RS256}", PAYLOAD);
    char *array = tu_sign(k, "RS256", "[\"RS256\"]", PAYLOAD);
    char *no_alg = tu_sign(k, "RS256", "{\"kid\":\"test-kid\"}", PAYLOAD);
    char *num_alg = tu_sign(k, "RS256", "{\"alg\":256}", PAYLOAD);
    char *num_kid = tu_sign(k, "RS256", "{\"alg\":\"RS256\",\"kid\":1}", PAYLOAD);
    char *trailing = tu_sign(k, "RS256", "{\"alg\":\"RS256\"} x", PAYLOAD);
    char *minimal = tu_sign(k, "RS256", "{\"alg\":\"RS256\"}", PAYLOAD);
    char *text_payload = tu_sign(k, "RS256", "{\"alg\":\"RS256\"}", "not json");
    struct pamory_jws jws;
    const char *why;

    assert_refused_why(not_json, key, "header is not a JSON object");
    assert_refused_why(array, key, "header is not a JSON object");
    assert_refused_why(trailing, key, "header is not a JSON object");
    assert_refused_why(no_alg, key, "no alg");
    assert_refused_why(num_alg, key, "no alg");
    assert_refused_why(num_kid, key, "kid or typ is not a string");
    assert_verifies(minimal, key);
    /* A payload that is not JSON parses (payload NULL) and verifies; callers decide. */
    assert_int_equal(pamory_jws_parse(text_payload, &jws, &why), 0);
    assert_null(jws.payload);
    assert_null(jws.kid);
    assert_string_equal((const char *)jws.payload_raw, "not json");
    assert_int_equal(pamory_jws_verify(&jws, key, &why), 0);
    pamory_jws_free(&jws);
    free(not_json);
    free(array);
    free(no_alg);
    free(num_alg);
    free(num_kid);
    free(trailing);
    free(minimal);
    free(text_payload);
}

/* A token without kid is verified with the key of a one-key set. */
static void test_no_kid_single_key(void **state)
{
    struct fixture *f = *state;
    char *t = tu_sign(f->p384.pkey, "ES384", "{\"alg\":\"ES384\"}", PAYLOAD);
    struct pamory_jws jws;
    const struct pamory_jwk *key;
    const char *why;

    assert_int_equal(pamory_jws_parse(t, &jws, &why), 0);
    assert_null(jws.kid);
    key = pamory_jwks_find(&f->p384.set, jws.kid);
    assert_non_null(key);
    assert_int_equal(pamory_jws_verify(&jws, key, &why), 0);
    assert_null(pamory_jwks_find(&f->rfc, jws.kid));
    pamory_jws_free(&jws);
    free(t);
}

static void test_verify_arguments(void **state)
{
    struct fixture *f = *state;
    struct pamory_jws empty;
    struct pamory_jwk no_key;
    char *t = token_as(f->rsa2048.pkey, "RS256", "RS256");
    struct pamory_jws jws;
    const char *why;

    memset(&empty, 0, sizeof(empty));
    memset(&no_key, 0, sizeof(no_key));
    assert_int_equal(pamory_jws_verify(&empty, &f->rsa2048.set.keys[0], &why), -1);
    assert_int_equal(pamory_jws_parse(t, &jws, &why), 0);
    assert_int_equal(pamory_jws_verify(&jws, NULL, &why), -1);
    assert_int_equal(pamory_jws_verify(&jws, &no_key, &why), -1);
    pamory_jws_free(&jws);
    pamory_jws_free(&jws);   /* idempotent */
    pamory_jws_free(NULL);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7520_rs256),
        cmocka_unit_test(test_rfc7520_ps384),
        cmocka_unit_test(test_rfc7520_es512),
        cmocka_unit_test(test_rfc7520_bit_flips),
        cmocka_unit_test(test_rfc7520_hs256_refused),
        cmocka_unit_test(test_generated_rsa_valid),
        cmocka_unit_test(test_generated_ec_valid),
        cmocka_unit_test(test_rsa_padding_not_interchangeable),
        cmocka_unit_test(test_pss_salt_length),
        cmocka_unit_test(test_confusion_rs256_with_ec_key),
        cmocka_unit_test(test_confusion_es_with_wrong_key),
        cmocka_unit_test(test_confusion_jwk_alg),
        cmocka_unit_test(test_alg_none_refused),
        cmocka_unit_test(test_hs256_with_rsa_public_key_refused),
        cmocka_unit_test(test_ecdsa_signature_length),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_base64_variants_refused),
        cmocka_unit_test(test_crit_refused),
        cmocka_unit_test(test_header_shape),
        cmocka_unit_test(test_no_kid_single_key),
        cmocka_unit_test(test_verify_arguments),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
