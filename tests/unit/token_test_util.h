/*
 * Helpers shared by the token unit tests: keys generated with OpenSSL at test
 * time, their public JWKs, and compact JWSs signed here, so that every
 * accept/refuse case is built from real signatures rather than stored blobs.
 * All functions are static inline so a test may use any subset of them.
 */
#ifndef PAMORY_TOKEN_TEST_UTIL_H
#define PAMORY_TOKEN_TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "token/base64url.h"
#include "token/jwks.h"

/* Logs of the code under test go to stderr, debug lines included. */
static inline const struct pamory_log *tu_log(void)
{
    static const struct pamory_log log = { NULL, true };

    return &log;
}

static inline EVP_PKEY *tu_rsa(unsigned int bits)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

/* group: "prime256v1", "secp384r1" or "secp521r1". */
static inline EVP_PKEY *tu_ec(const char *group)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
}

/* asprintf that aborts the test program on failure: helpers return only good strings. */
#define tu_sprintf(...) tu_check_str(tu_asprintf(__VA_ARGS__))
static inline char *tu_check_str(char *s)
{
    if (s == NULL)
        abort();
    return s;
}
static inline char *tu_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *tu_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static inline char *tu_b64(const void *data, size_t len)
{
    return tu_check_str(pamory_b64url_encode(data, len));
}

/* A bignum parameter of pkey, big-endian in exactly len bytes (0: minimal). */
static inline char *tu_b64_param(EVP_PKEY *pkey, const char *name, size_t len)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    char *s;
    int n;

    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        abort();
    n = len > 0 ? BN_bn2binpad(bn, buf, (int)len) : BN_bn2bin(bn, buf);
    BN_free(bn);
    if (n <= 0)
        abort();
    s = tu_b64(buf, (size_t)n);
    return s;
}

/* Coordinate (and ECDSA r, s) size of an EC key. */
static inline size_t tu_ec_len(EVP_PKEY *pkey)
{
    return ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
}

static inline const char *tu_crv(EVP_PKEY *pkey)
{
    switch (EVP_PKEY_get_bits(pkey)) {
    case 256:
        return "P-256";
    case 384:
        return "P-384";
    default:
        return "P-521";
    }
}

/*
 * The public JWK of pkey as JSON text.  extra is spliced in verbatim after
 * the key members, e.g. ",\"alg\":\"RS256\"" or ",\"use\":\"enc\"".
 */
static inline char *tu_jwk(EVP_PKEY *pkey, const char *kid, const char *extra)
{
    char *a, *b, *jwk;

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        a = tu_b64_param(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        b = tu_b64_param(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        jwk = tu_sprintf("{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}", kid, a, b,
                         extra);
    } else {
        a = tu_b64_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, tu_ec_len(pkey));
        b = tu_b64_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, tu_ec_len(pkey));
        jwk = tu_sprintf("{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}",
                         kid, tu_crv(pkey), a, b, extra);
    }
    free(a);
    free(b);
    return jwk;
}

/* Parse one JWK (as a one-key set) with the code under test; returns set->n. */
static inline size_t tu_parse_jwk(const char *jwk, struct pamory_jwks *set)
{
    char *doc = tu_sprintf("{\"keys\":[%s]}", jwk);

    if (pamory_jwks_parse(tu_log(), doc, strlen(doc), set) != 0)
        abort();
    free(doc);
    return set->n;
}

/* "<b64 header>.<b64 payload>" */
static inline char *tu_signing_input(const char *header, const char *payload)
{
    char *h = tu_b64(header, strlen(header));
    char *p = tu_b64(payload, strlen(payload));
    char *in = tu_sprintf("%s.%s", h, p);

    free(h);
    free(p);
    return in;
}

/* DER ECDSA signature to JWS r || s of len bytes each. */
static inline size_t tu_der_to_raw(const unsigned char *der, size_t der_len, size_t len,
                                   unsigned char *raw)
{
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &der, (long)der_len);

    if (es == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)len) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + len, (int)len) < 0)
        abort();
    ECDSA_SIG_free(es);
    return 2 * len;
}

/*
 * Sign input as alg says ("RS256", "PS384", "ES512", ...), whatever the
 * header claims: tests of confusion sign with one alg and label another.
 * Returns the base64url signature.  raw_ecdsa 0 leaves ES signatures in DER.
 */
static inline char *tu_sig(EVP_PKEY *pkey, const char *alg, const char *input, int raw_ecdsa)
{
    char md[8];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[2048], raw[2048];
    size_t len = sizeof(sig);
    char *out;

    snprintf(md, sizeof(md), "SHA%s", alg + 2);
    if (ctx == NULL || EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, pkey, NULL) != 1)
        abort();
    if (alg[0] == 'P' && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                          EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                          EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) != 1))
        abort();
    if (EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input, strlen(input)) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
    if (alg[0] == 'E' && raw_ecdsa) {
        len = tu_der_to_raw(sig, len, tu_ec_len(pkey), raw);
        return tu_b64(raw, len);
    }
    out = tu_b64(sig, len);
    return out;
}

/* A compact JWS of header and payload (JSON text), signed with pkey as alg. */
static inline char *tu_sign(EVP_PKEY *pkey, const char *alg, const char *header,
                            const char *payload)
{
    char *in = tu_signing_input(header, payload);
    char *sig = tu_sig(pkey, alg, in, 1);
    char *jws = tu_sprintf("%s.%s", in, sig);

    free(in);
    free(sig);
    return jws;
}

/* An HMAC-SHA256 JWS keyed with secret: the forger's tool in alg-confusion tests. */
static inline char *tu_sign_hs256(const void *secret, size_t secret_len, const char *header,
                                  const char *payload)
{
    char *in = tu_signing_input(header, payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t len = 0;
    char *sig, *jws;

    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secret_len,
                  (const unsigned char *)in, strlen(in), mac, sizeof(mac), &len) == NULL)
        abort();
    sig = tu_b64(mac, len);
    jws = tu_sprintf("%s.%s", in, sig);
    free(in);
    free(sig);
    return jws;
}

/* The public key as PEM text, what "HS256 with the RSA public key" forgers use as secret. */
static inline char *tu_public_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *pem;
    long n;

    if (bio == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1)
        abort();
    n = BIO_get_mem_data(bio, &data);
    pem = tu_check_str(strndup(data, (size_t)n));
    BIO_free(bio);
    return pem;
}

/*
 * A file of tests/unit/data, read whole with trailing newlines cut.
 * PAMORY_SRCDIR is set by make check; "." is for running from the source tree.
 */
static inline char *tu_fixture(const char *name)
{
    const char *srcdir = getenv("PAMORY_SRCDIR");
    char *path = tu_sprintf("%s/tests/unit/data/%s", srcdir != NULL ? srcdir : ".", name);
    FILE *f = fopen(path, "r");
    char *buf = malloc(1024 * 1024);
    size_t n;

    if (f == NULL || buf == NULL) {
        fprintf(stderr, "cannot read fixture %s\n", path);
        abort();
    }
    n = fread(buf, 1, 1024 * 1024 - 1, f);
    fclose(f);
    free(path);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return buf;
}

#endif
