/*
 * JWKS (RFC 7517, RFC 7518 section 6) to OpenSSL 3 public keys, built with
 * OSSL_PARAM_BLD and EVP_PKEY_fromdata only.  A key we cannot or must not use
 * is skipped with a debug line naming its kid; the set stays usable.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "flow/sanitize.h"
#include "json.h"
#include "token/base64url.h"
#include "token/jwks.h"

#define RSA_MIN_BITS 2048

/* The curves we verify on, their OpenSSL group names and coordinate sizes. */
static const struct curve {
    const char *crv;
    const char *group;
    size_t len;
} curves[] = {
    { "P-256", "prime256v1", 32 },
    { "P-384", "secp384r1", 48 },
    { "P-521", "secp521r1", 66 },
};

/* Members that only a private (or symmetric) key has. */
static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

/*
 * A base64url member decoded to bytes, or NULL if missing, not a string or
 * not strictly base64url.  Empty values count as malformed.
 */
static unsigned char *member_bytes(json_object *jwk, const char *name, size_t *len)
{
    const char *s;
    unsigned char *bytes;

    if (pamory_json_string(jwk, name, &s) != PAMORY_JSON_OK)
        return NULL;
    bytes = pamory_b64url_decode(s, strlen(s), len);
    if (bytes != NULL && *len == 0) {
        free(bytes);
        return NULL;
    }
    return bytes;
}

/* A base64url member as an unsigned big-endian number. */
static BIGNUM *member_bn(json_object *jwk, const char *name)
{
    size_t len;
    unsigned char *bytes = member_bytes(jwk, name, &len);
    BIGNUM *bn;

    if (bytes == NULL)
        return NULL;
    bn = BN_bin2bn(bytes, (int)len, NULL);
    free(bytes);
    return bn;
}

/* One EVP_PKEY_fromdata call, shared by RSA and EC: a public key of type name. */
static EVP_PKEY *pkey_from_params(const char *name, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    EVP_PKEY *pkey = NULL;

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

/*
 * RSA from n and e.  Moduli under 2048 bits are refused (RFC 7518 3.3
 * requires 2048); an even or unit exponent cannot be a real RSA key.
 */
static EVP_PKEY *rsa_key(json_object *jwk, const char **why)
{
    BIGNUM *n = member_bn(jwk, "n");
    BIGNUM *e = member_bn(jwk, "e");
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (n == NULL || e == NULL)
        *why = "RSA n or e missing or not base64url";
    else if (BN_num_bits(n) < RSA_MIN_BITS)
        *why = "RSA modulus shorter than 2048 bits";
    else if (!BN_is_odd(e) || BN_is_one(e))
        *why = "RSA exponent invalid";
    else if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
             (pkey = pkey_from_params("RSA", bld)) == NULL)
        *why = "RSA key rejected by OpenSSL";
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

/* Our entry for a JWK "crv", or NULL. */
static const struct curve *find_curve(const char *crv)
{
    size_t i;

    for (i = 0; crv != NULL && i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(curves[i].crv, crv) == 0)
            return &curves[i];
    }
    return NULL;
}

/*
 * Is the point really on the curve?  An off-curve point is the opening for
 * invalid-curve attacks, so it is checked here even if import checked it.
 */
static int ec_point_valid(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/*
 * The uncompressed point 04 || x || y that OpenSSL imports.  RFC 7518 6.2.1
 * fixes x and y at the full coordinate size, so other lengths are malformed.
 */
static unsigned char *ec_point(json_object *jwk, const struct curve *c, size_t *len,
                               const char **why)
{
    size_t xlen = 0, ylen = 0;
    unsigned char *x = member_bytes(jwk, "x", &xlen);
    unsigned char *y = member_bytes(jwk, "y", &ylen);
    unsigned char *pt = NULL;

    if (x == NULL || y == NULL)
        *why = "EC x or y missing or not base64url";
    else if (xlen != c->len || ylen != c->len)
        *why = "EC coordinate of the wrong length";
    else if ((pt = malloc(1 + 2 * c->len)) != NULL) {
        pt[0] = 0x04;
        memcpy(pt + 1, x, c->len);
        memcpy(pt + 1 + c->len, y, c->len);
        *len = 1 + 2 * c->len;
    } else
        *why = "out of memory";
    free(x);
    free(y);
    return pt;
}

/* EC from crv, x and y, on P-256, P-384 or P-521 only. */
static EVP_PKEY *ec_key(json_object *jwk, const char **crv_out, const char **why)
{
    const char *crv = NULL;
    const struct curve *c;
    unsigned char *pt;
    size_t ptlen = 0;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (pamory_json_string(jwk, "crv", &crv) != PAMORY_JSON_OK || (c = find_curve(crv)) == NULL) {
        *why = "EC curve missing or unsupported";
        return NULL;
    }
    pt = ec_point(jwk, c, &ptlen, why);
    if (pt == NULL)
        return NULL;
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen) != 1 ||
        (pkey = pkey_from_params("EC", bld)) == NULL || !ec_point_valid(pkey)) {
        *why = "EC point not on the curve";
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_PARAM_BLD_free(bld);
    free(pt);
    *crv_out = c->crv;
    return pkey;
}

/*
 * Members that decide whether a key is ours to use at all, before any
 * cryptography: an encryption key, a private key or an optional member of
 * the wrong type is skipped.
 */
static int usable(json_object *jwk, const char **why)
{
    const char *use = NULL;
    const char *dummy;
    enum pamory_json_get r = pamory_json_string(jwk, "use", &use);
    size_t i;

    if (r == PAMORY_JSON_WRONG_TYPE || (r == PAMORY_JSON_OK && strcmp(use, "sig") != 0)) {
        *why = "use is not \"sig\"";
        return 0;
    }
    for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        if (json_object_object_get_ex(jwk, private_members[i], NULL)) {
            *why = "has private key members";
            return 0;
        }
    }
    if (pamory_json_string(jwk, "kid", &dummy) == PAMORY_JSON_WRONG_TYPE ||
        pamory_json_string(jwk, "alg", &dummy) == PAMORY_JSON_WRONG_TYPE) {
        *why = "kid or alg is not a string";
        return 0;
    }
    return 1;
}

/* The copies a struct pamory_jwk owns next to its key. */
static int copy_names(json_object *jwk, const char *crv, struct pamory_jwk *out,
                      const char **why)
{
    out->kid = pamory_json_strdup(jwk, "kid");
    out->alg = pamory_json_strdup(jwk, "alg");
    out->crv = crv != NULL ? strdup(crv) : NULL;
    if ((out->kid == NULL && json_object_object_get_ex(jwk, "kid", NULL)) ||
        (out->alg == NULL && json_object_object_get_ex(jwk, "alg", NULL)) ||
        (out->crv == NULL && crv != NULL)) {
        *why = "out of memory";
        return -1;
    }
    return 0;
}

/* Back to all-zero, so that a half-built key and a freed set are both safe to free again. */
static void jwk_clear(struct pamory_jwk *k)
{
    free(k->kid);
    free(k->alg);
    free(k->crv);
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof(*k));
}

/* One JWK to a struct pamory_jwk: 0, or -1 with why it was skipped. */
static int jwk_from_json(json_object *jwk, struct pamory_jwk *out, const char **why)
{
    const char *kty = NULL;
    const char *crv = NULL;

    memset(out, 0, sizeof(*out));
    if (!json_object_is_type(jwk, json_type_object)) {
        *why = "not a JSON object";
        return -1;
    }
    if (pamory_json_string(jwk, "kty", &kty) != PAMORY_JSON_OK) {
        *why = "kty missing";
        return -1;
    }
    if (strcmp(kty, "RSA") == 0) {
        out->kty = PAMORY_KTY_RSA;
    } else if (strcmp(kty, "EC") == 0) {
        out->kty = PAMORY_KTY_EC;
    } else {
        *why = "unsupported kty";
        return -1;
    }
    if (!usable(jwk, why))
        return -1;
    if (out->kty == PAMORY_KTY_RSA)
        out->pkey = rsa_key(jwk, why);
    else
        out->pkey = ec_key(jwk, &crv, why);
    if (out->pkey == NULL || copy_names(jwk, crv, out, why) != 0) {
        jwk_clear(out);
        return -1;
    }
    return 0;
}

/* Says which key was left out and why; kids come from the IdP, so sanitized. */
static void log_skipped(const struct pamory_log *log, json_object *jwk, size_t idx,
                        const char *why)
{
    const char *kid = NULL;
    char safe[65];

    if (json_object_is_type(jwk, json_type_object))
        (void)pamory_json_string(jwk, "kid", &kid);
    pamory_sanitize_into(kid, safe, sizeof(safe));
    pamory_debug(log, "JWKS: skipping key #%zu (kid \"%s\"): %s", idx, safe, why);
}

int pamory_jwks_parse(const struct pamory_log *log, const char *json, size_t len,
                      struct pamory_jwks *out)
{
    json_object *doc, *keys;
    size_t i, n;

    memset(out, 0, sizeof(*out));
    doc = pamory_json_parse_object(json, len);
    if (doc == NULL) {
        pamory_err(log, "JWKS is not a JSON object");
        return -1;
    }
    if (pamory_json_array(doc, "keys", &keys) != PAMORY_JSON_OK) {
        pamory_err(log, "JWKS has no \"keys\" array");
        json_object_put(doc);
        return -1;
    }
    n = json_object_array_length(keys);
    out->keys = calloc(n > 0 ? n : 1, sizeof(*out->keys));
    if (out->keys == NULL) {
        pamory_err(log, "JWKS: out of memory");
        json_object_put(doc);
        return -1;
    }
    for (i = 0; i < n; i++) {
        json_object *jwk = json_object_array_get_idx(keys, i);
        const char *why = "invalid";

        if (jwk_from_json(jwk, &out->keys[out->n], &why) == 0)
            out->n++;
        else
            log_skipped(log, jwk, i, why);
    }
    json_object_put(doc);
    return 0;
}

const struct pamory_jwk *pamory_jwks_find(const struct pamory_jwks *set, const char *kid)
{
    size_t i;

    if (set == NULL)
        return NULL;
    if (kid == NULL)
        return set->n == 1 ? &set->keys[0] : NULL;
    /* Hydra lists the newest key first, so the first match is the right one. */
    for (i = 0; i < set->n; i++) {
        if (set->keys[i].kid != NULL && strcmp(set->keys[i].kid, kid) == 0)
            return &set->keys[i];
    }
    return NULL;
}

void pamory_jwks_free(struct pamory_jwks *set)
{
    size_t i;

    if (set == NULL)
        return;
    for (i = 0; i < set->n; i++)
        jwk_clear(&set->keys[i]);
    free(set->keys);
    set->keys = NULL;
    set->n = 0;
}
