/*
 * JWS compact serialization: split, decode, and verify with OpenSSL 3.
 *
 * The alg table below is the whole allow-list.  An alg that is not in it
 * ("none", HS256, anything new) fails before any key is looked at, and an
 * alg in it must also fit the key: this is what stops the classic
 * confusions (RS256 public key used as an HMAC secret, ES256 checked on a
 * P-384 key, an RSA token checked with an EC key).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "json.h"
#include "secret.h"
#include "token/base64url.h"
#include "token/jws.h"

#define RSA_MIN_BITS 2048

enum family { FAMILY_RS, FAMILY_PS, FAMILY_ES };

static const struct alg {
    const char *name;
    enum family family;
    const char *digest;
    const char *crv;        /* ES only */
    size_t coord_len;       /* ES only: bytes of r and of s */
} algs[] = {
    { "RS256", FAMILY_RS, "SHA256", NULL, 0 },
    { "RS384", FAMILY_RS, "SHA384", NULL, 0 },
    { "RS512", FAMILY_RS, "SHA512", NULL, 0 },
    { "PS256", FAMILY_PS, "SHA256", NULL, 0 },
    { "PS384", FAMILY_PS, "SHA384", NULL, 0 },
    { "PS512", FAMILY_PS, "SHA512", NULL, 0 },
    { "ES256", FAMILY_ES, "SHA256", "P-256", 32 },
    { "ES384", FAMILY_ES, "SHA384", "P-384", 48 },
    { "ES512", FAMILY_ES, "SHA512", "P-521", 66 },
};

/* The table entry for alg, or NULL: the allow-list check itself. */
static const struct alg *find_alg(const char *alg)
{
    size_t i;

    for (i = 0; alg != NULL && i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcmp(algs[i].name, alg) == 0)
            return &algs[i];
    }
    return NULL;
}

int pamory_jws_alg_allowed(const char *alg)
{
    return find_alg(alg) != NULL;
}

/* ---------------------------------------------------------------- parsing */

/*
 * The protected header: a JSON object with a string alg, optional string kid
 * and typ, and no crit (RFC 7515 4.1.11: a recipient that does not
 * understand a listed extension must reject the JWS, and we understand none).
 */
static int parse_header(const char *b64, size_t len, struct pamory_jws *out, const char **why)
{
    size_t hlen;
    unsigned char *raw = pamory_b64url_decode(b64, len, &hlen);

    if (raw == NULL) {
        *why = "header is not base64url";
        return -1;
    }
    out->header = pamory_json_parse_object((const char *)raw, hlen);
    pamory_secret_free_n(raw, hlen + 1);
    if (out->header == NULL) {
        *why = "header is not a JSON object";
        return -1;
    }
    if (pamory_json_string(out->header, "alg", &out->alg) != PAMORY_JSON_OK) {
        *why = "no alg";
        return -1;
    }
    if (json_object_object_get_ex(out->header, "crit", NULL)) {
        *why = "crit header not supported";
        return -1;
    }
    if (pamory_json_string(out->header, "kid", &out->kid) == PAMORY_JSON_WRONG_TYPE ||
        pamory_json_string(out->header, "typ", &out->typ) == PAMORY_JSON_WRONG_TYPE) {
        *why = "kid or typ is not a string";
        return -1;
    }
    return 0;
}

/* The payload bytes, and their JSON object form when they are one. */
static int parse_payload(const char *b64, size_t len, struct pamory_jws *out, const char **why)
{
    out->payload_raw = pamory_b64url_decode(b64, len, &out->payload_len);
    if (out->payload_raw == NULL) {
        *why = "payload is not base64url";
        return -1;
    }
    out->payload = pamory_json_parse_object((const char *)out->payload_raw, out->payload_len);
    return 0;
}

int pamory_jws_parse(const char *compact, struct pamory_jws *out, const char **why)
{
    const char *dot1, *dot2;
    size_t len;

    memset(out, 0, sizeof(*out));
    if (compact == NULL || (len = strnlen(compact, PAMORY_JWS_MAX_LEN + 1)) == 0) {
        *why = "empty";
        return -1;
    }
    if (len > PAMORY_JWS_MAX_LEN) {
        *why = "too long";
        return -1;
    }
    dot1 = memchr(compact, '.', len);
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - compact)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - compact)) != NULL) {
        *why = "not three parts";
        return -1;
    }
    if (dot1 == compact || dot2 == dot1 + 1 || dot2 + 1 == compact + len) {
        *why = "empty part";
        return -1;
    }
    if (parse_header(compact, (size_t)(dot1 - compact), out, why) != 0 ||
        parse_payload(dot1 + 1, (size_t)(dot2 - dot1 - 1), out, why) != 0)
        goto fail;
    out->sig = pamory_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - compact), &out->sig_len);
    if (out->sig == NULL) {
        *why = "signature is not base64url";
        goto fail;
    }
    out->signing_input = strndup(compact, (size_t)(dot2 - compact));
    if (out->signing_input == NULL) {
        *why = "out of memory";
        goto fail;
    }
    return 0;
fail:
    pamory_jws_free(out);
    return -1;
}

/* ----------------------------------------------------------- verification */

/*
 * Does the key fit the alg?  Checked on our own record of the JWK and on the
 * OpenSSL key itself, and against the JWK's "alg" when it names one.
 */
static int key_fits(const struct alg *a, const struct pamory_jwk *key, const char **why)
{
    if (key->pkey == NULL) {
        *why = "no key";
        return 0;
    }
    if (a->family == FAMILY_ES) {
        if (key->kty != PAMORY_KTY_EC || !EVP_PKEY_is_a(key->pkey, "EC")) {
            *why = "alg needs an EC key";
            return 0;
        }
        if (key->crv == NULL || strcmp(key->crv, a->crv) != 0) {
            *why = "key curve does not fit alg";
            return 0;
        }
    } else {
        if (key->kty != PAMORY_KTY_RSA || !EVP_PKEY_is_a(key->pkey, "RSA")) {
            *why = "alg needs an RSA key";
            return 0;
        }
        if (EVP_PKEY_get_bits(key->pkey) < RSA_MIN_BITS) {
            *why = "RSA key shorter than 2048 bits";
            return 0;
        }
    }
    if (key->alg != NULL && strcmp(key->alg, a->name) != 0) {
        *why = "alg differs from the key's alg";
        return 0;
    }
    return 1;
}

/*
 * JWS carries ECDSA signatures as r || s, each exactly the coordinate size
 * (RFC 7518 3.4); OpenSSL wants DER.  Any other length is refused rather
 * than guessed at.
 */
static unsigned char *ecdsa_der(const struct alg *a, const unsigned char *sig, size_t sig_len,
                                size_t *der_len)
{
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *der = NULL;
    int n;

    if (sig_len != 2 * a->coord_len || (es = ECDSA_SIG_new()) == NULL)
        return NULL;
    r = BN_bin2bn(sig, (int)a->coord_len, NULL);
    s = BN_bin2bn(sig + a->coord_len, (int)a->coord_len, NULL);
    if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return NULL;
    }
    n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (n <= 0)
        return NULL;
    *der_len = (size_t)n;
    return der;
}

/* PS*: PSS with MGF1 on the same hash and a salt as long as the hash (RFC 7518 3.5). */
static int set_pss(EVP_PKEY_CTX *pctx, const struct alg *a)
{
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, a->digest, NULL) == 1;
}

/* One EVP_DigestVerify over the signing input; 1 only for a good signature. */
static int digest_verify(const struct alg *a, EVP_PKEY *pkey, const char *input,
                         const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = md != NULL &&
             EVP_DigestVerifyInit_ex(md, &pctx, a->digest, NULL, NULL, pkey, NULL) == 1 &&
             (a->family != FAMILY_PS || set_pss(pctx, a)) &&
             EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input, strlen(input)) == 1;

    EVP_MD_CTX_free(md);
    return ok;
}

int pamory_jws_verify(const struct pamory_jws *jws, const struct pamory_jwk *key,
                      const char **why)
{
    const struct alg *a;
    unsigned char *der = NULL;
    size_t der_len = 0;
    int ok;

    if (jws == NULL || key == NULL || jws->signing_input == NULL || jws->sig == NULL) {
        *why = "nothing to verify";
        return -1;
    }
    a = find_alg(jws->alg);
    if (a == NULL) {
        *why = "alg not allowed";
        return -1;
    }
    if (!key_fits(a, key, why))
        return -1;
    if (a->family == FAMILY_ES) {
        der = ecdsa_der(a, jws->sig, jws->sig_len, &der_len);
        if (der == NULL) {
            *why = "bad ECDSA signature length";
            return -1;
        }
        ok = digest_verify(a, key->pkey, jws->signing_input, der, der_len);
        OPENSSL_free(der);
    } else {
        ok = digest_verify(a, key->pkey, jws->signing_input, jws->sig, jws->sig_len);
    }
    if (!ok) {
        *why = "bad signature";
        return -1;
    }
    return 0;
}

void pamory_jws_free(struct pamory_jws *jws)
{
    if (jws == NULL)
        return;
    json_object_put(jws->header);
    json_object_put(jws->payload);
    pamory_secret_free_n(jws->payload_raw, jws->payload_len + 1);
    pamory_secret_free(jws->signing_input);
    pamory_secret_free_n(jws->sig, jws->sig_len);
    memset(jws, 0, sizeof(*jws));
}
