/*
 * JWT claim checks (OIDC Core 3.1.3.7 for ID tokens, RFC 9068 and Hydra's
 * shape for access tokens), run only after the signature verified.  Each
 * rule is one small function; pamory_claims_check runs them in order and
 * reports the first that fails by a static name, which the caller logs next
 * to the token's fingerprint.  A rule whose expectation is unset passes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "json.h"
#include "token/base64url.h"
#include "token/claims.h"
#include "words.h"

typedef int (*claim_check)(json_object *claims, const struct pamory_claims_expect *expect,
                           const char **why);

/*
 * 0 when a claim getter found its claim; otherwise -1 with *why naming what
 * was wrong with it: missing, or of the wrong type.  Dates go through
 * pamory_json_int64, so "1700000000" as a string is refused, not converted.
 */
static int claim_found(enum pamory_json_get got, const char *if_missing, const char *if_wrong_type,
                       const char **why)
{
    if (got == PAMORY_JSON_OK)
        return 0;
    *why = got == PAMORY_JSON_MISSING ? if_missing : if_wrong_type;
    return -1;
}

/* iss must be the configured issuer byte for byte: no normalising of slashes or case. */
static int check_iss(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    const char *iss;

    if (claim_found(pamory_json_string(claims, "iss", &iss), "iss missing", "iss is not a string", why) != 0)
        return -1;
    if (expect->issuer == NULL || strcmp(iss, expect->issuer) != 0) {
        *why = "issuer mismatch";
        return -1;
    }
    return 0;
}

/*
 * Is v a JSON string naming a client whose tokens we take: client_id, and
 * under the token-mode rule also one of allowed_clients?
 */
static int names_client(json_object *v, const struct pamory_claims_expect *expect)
{
    const char *s;

    if (!json_object_is_type(v, json_type_string) || expect->client_id == NULL)
        return 0;
    s = json_object_get_string(v);
    return strcmp(s, expect->client_id) == 0 ||
           (expect->any_client && pamory_word_in(expect->allowed_clients, s, strlen(s)));
}

/*
 * Does aud name one of our clients?  aud is a string or an array of strings
 * (RFC 7519 4.1.3; Hydra sends an array).  An array with a non-string member
 * is malformed, so the whole token is refused rather than the member skipped.
 * 1 yes, 0 no, -1 malformed.
 */
static int aud_names_client(json_object *aud, const struct pamory_claims_expect *expect)
{
    size_t i, n;
    int found = 0;

    if (json_object_is_type(aud, json_type_string))
        return names_client(aud, expect);
    if (!json_object_is_type(aud, json_type_array))
        return -1;
    n = json_object_array_length(aud);
    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(aud, i);

        if (!json_object_is_type(v, json_type_string))
            return -1;
        found |= names_client(v, expect);
    }
    return found;
}

/* ID token: aud is required and must name our client (OIDC Core 3.1.3.7 item 3). */
static int check_id_token_aud(json_object *claims, const struct pamory_claims_expect *expect,
                              const char **why)
{
    json_object *aud;
    int r;

    if (!json_object_object_get_ex(claims, "aud", &aud) || aud == NULL) {
        *why = "aud missing";
        return -1;
    }
    r = aud_names_client(aud, expect);
    if (r < 0) {
        *why = "aud is not a string or an array of strings";
        return -1;
    }
    if (r == 0) {
        *why = "audience does not contain client_id";
        return -1;
    }
    return 0;
}

/*
 * Token mode: Hydra's JWT access tokens name their client in client_id and
 * carry the granted audience in aud, often []; an ID token names the client
 * in aud.  Either may vouch, but a malformed aud is never overlooked.
 */
static int check_any_client(json_object *claims, const struct pamory_claims_expect *expect,
                            const char **why)
{
    json_object *aud = NULL, *cid = NULL;
    int r = 0;

    if (json_object_object_get_ex(claims, "aud", &aud) && aud != NULL &&
        (r = aud_names_client(aud, expect)) < 0) {
        *why = "aud is not a string or an array of strings";
        return -1;
    }
    if (r == 0 && !(json_object_object_get_ex(claims, "client_id", &cid) && names_client(cid, expect))) {
        *why = "neither aud nor client_id names an allowed client";
        return -1;
    }
    return 0;
}

/* The audience rule the expectation asks for. */
static int check_aud(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    if (expect->any_client)
        return check_any_client(claims, expect, why);
    return check_id_token_aud(claims, expect, why);
}

/* exp is required (OIDC) and must not have passed, allowing for clock skew. */
static int check_exp(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    int64_t exp;

    if (claim_found(pamory_json_int64(claims, "exp", &exp), "exp missing", "exp is not an integer", why) != 0)
        return -1;
    if (!(exp > (int64_t)expect->now - PAMORY_CLOCK_SKEW)) {
        *why = "expired";
        return -1;
    }
    return 0;
}

/* iat is required (OIDC) and a token from the future means a wrong clock or a forgery. */
static int check_iat(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    int64_t iat;

    if (claim_found(pamory_json_int64(claims, "iat", &iat), "iat missing", "iat is not an integer", why) != 0)
        return -1;
    if (iat > (int64_t)expect->now + PAMORY_CLOCK_SKEW) {
        *why = "issued in the future";
        return -1;
    }
    return 0;
}

/* nbf is optional (Hydra does not send it in ID tokens); when present it is honoured. */
static int check_nbf(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    int64_t nbf;

    if (!json_object_object_get_ex(claims, "nbf", NULL))
        return 0;
    if (claim_found(pamory_json_int64(claims, "nbf", &nbf), "nbf is null", "nbf is not an integer", why) != 0)
        return -1;
    if (nbf > (int64_t)expect->now + PAMORY_CLOCK_SKEW) {
        *why = "not yet valid";
        return -1;
    }
    return 0;
}

/* The hash at_hash is made with: the alg's own (RS256, PS256, ES256: SHA-256, ...). */
static const EVP_MD *at_hash_md(const char *alg)
{
    size_t n = alg != NULL ? strlen(alg) : 0;

    if (n < 3)
        return NULL;
    if (strcmp(alg + n - 3, "256") == 0)
        return EVP_sha256();
    if (strcmp(alg + n - 3, "384") == 0)
        return EVP_sha384();
    if (strcmp(alg + n - 3, "512") == 0)
        return EVP_sha512();
    return NULL;
}

/*
 * base64url of the left half of hash(access_token), the at_hash an ID token
 * issued with it carries (OIDC Core 3.1.3.8); NULL when the alg has no hash.
 */
static char *at_hash_of(const char *access_token, const char *alg)
{
    const EVP_MD *md = at_hash_md(alg);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (md == NULL ||
        EVP_Digest(access_token, strlen(access_token), digest, &len, md, NULL) != 1)
        return NULL;
    return pamory_b64url_encode(digest, len / 2);
}

/*
 * at_hash binds the ID token to the access token that came with it: when
 * both are at hand they must belong together.  Hydra always sends it in the
 * device flow; a token without one has nothing to check here.
 */
static int check_at_hash(json_object *claims, const struct pamory_claims_expect *expect,
                         const char **why)
{
    const char *at_hash;
    char *want;
    int ok;

    if (expect->access_token == NULL || !json_object_object_get_ex(claims, "at_hash", NULL))
        return 0;
    if (pamory_json_string(claims, "at_hash", &at_hash) != PAMORY_JSON_OK) {
        *why = "at_hash is not a string";
        return -1;
    }
    want = at_hash_of(expect->access_token, expect->alg);
    ok = want != NULL && strcmp(want, at_hash) == 0;
    free(want);
    if (!ok) {
        *why = "at_hash does not match the access token";
        return -1;
    }
    return 0;
}

/* Is scp (NULL: absent) an array holding the wlen-byte word? */
static int scp_has(json_object *scp, const char *word, size_t wlen)
{
    size_t i, n = scp != NULL ? json_object_array_length(scp) : 0;

    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(scp, i);

        if (json_object_get_string_len(v) == (int)wlen &&
            memcmp(json_object_get_string(v), word, wlen) == 0)
            return 1;
    }
    return 0;
}

/* The scp claim: NULL when absent; an array of strings only, else -1. */
static int get_scp(json_object *claims, json_object **scp)
{
    size_t i, n;

    *scp = NULL;
    switch (pamory_json_array(claims, "scp", scp)) {
    case PAMORY_JSON_OK:
        break;
    case PAMORY_JSON_MISSING:
        *scp = NULL;
        return 0;
    default:
        return -1;
    }
    n = json_object_array_length(*scp);
    for (i = 0; i < n; i++) {
        if (!json_object_is_type(json_object_array_get_idx(*scp, i), json_type_string))
            return -1;
    }
    return 0;
}

/*
 * Every word of required_scope must be granted.  Hydra writes the granted
 * scopes as an scp array, a space-separated scope string, or both
 * (strategies.jwt.scope_claim); a scope in either counts.  An ID token has
 * neither, so with required_scope set it never passes.
 */
static int check_scope(json_object *claims, const struct pamory_claims_expect *expect,
                       const char **why)
{
    const char *list = expect->required_scope, *scope = NULL;
    json_object *scp;
    size_t n;

    if (list == NULL)
        return 0;
    if (get_scp(claims, &scp) != 0) {
        *why = "scp is not an array of strings";
        return -1;
    }
    if (pamory_json_string(claims, "scope", &scope) == PAMORY_JSON_WRONG_TYPE) {
        *why = "scope is not a string";
        return -1;
    }
    while (*(list += strspn(list, " \t")) != '\0') {
        n = strcspn(list, " \t");
        if (!scp_has(scp, list, n) && !pamory_word_in(scope, list, n)) {
            *why = scp == NULL && scope == NULL ? "no scp or scope claim, but required_scope is set"
                                                : "a scope of required_scope was not granted";
            return -1;
        }
        list += n;
    }
    return 0;
}

/*
 * max_auth_age: the person authenticated at the IdP recently enough.  The
 * token's own age says nothing about that; auth_time does, so without it
 * (an access token has none) the token is refused.
 */
static int check_auth_time(json_object *claims, const struct pamory_claims_expect *expect,
                           const char **why)
{
    int64_t auth_time;

    if (expect->max_auth_age == 0)
        return 0;
    if (claim_found(pamory_json_int64(claims, "auth_time", &auth_time), "no auth_time, but max_auth_age is set",
                     "auth_time is not an integer", why) != 0)
        return -1;
    if (auth_time > (int64_t)expect->now + PAMORY_CLOCK_SKEW) {
        *why = "auth_time in the future";
        return -1;
    }
    if ((int64_t)expect->now - auth_time > (int64_t)expect->max_auth_age) {
        *why = "authentication older than max_auth_age";
        return -1;
    }
    return 0;
}

/* required_acr: the IdP says the login met one of the levels we accept. */
static int check_acr(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    const char *acr;

    if (expect->required_acr == NULL)
        return 0;
    if (claim_found(pamory_json_string(claims, "acr", &acr), "no acr, but required_acr is set",
                    "acr is not a string", why) != 0)
        return -1;
    if (!pamory_word_in(expect->required_acr, acr, strlen(acr))) {
        *why = "acr is not one of required_acr";
        return -1;
    }
    return 0;
}

int pamory_claims_check(json_object *claims, const struct pamory_claims_expect *expect,
                        const char **why)
{
    static const claim_check checks[] = {
        check_iss, check_aud, check_exp, check_iat, check_nbf,
        check_at_hash, check_scope, check_auth_time, check_acr,
    };
    size_t i;

    if (expect == NULL || !json_object_is_type(claims, json_type_object)) {
        *why = "claims are not a JSON object";
        return -1;
    }
    for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (checks[i](claims, expect, why) != 0)
            return -1;
    }
    return 0;
}
