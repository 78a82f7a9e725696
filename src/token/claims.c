/*
 * ID token claim checks (OIDC Core 3.1.3.7), run only after the signature
 * verified.  Each rule is one small function; pamory_claims_check runs them
 * in order and reports the first that fails by a static name, which the
 * caller logs next to the token's fingerprint.
 */
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "token/claims.h"

typedef int (*claim_check)(json_object *claims, const struct pamory_claims_expect *expect,
                           const char **why);

/* iss must be the configured issuer byte for byte: no normalising of slashes or case. */
static int check_iss(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    const char *iss;

    switch (pamory_json_string(claims, "iss", &iss)) {
    case PAMORY_JSON_OK:
        break;
    case PAMORY_JSON_MISSING:
        *why = "iss missing";
        return -1;
    default:
        *why = "iss is not a string";
        return -1;
    }
    if (expect->issuer == NULL || strcmp(iss, expect->issuer) != 0) {
        *why = "issuer mismatch";
        return -1;
    }
    return 0;
}

/* Is v a JSON string equal to client_id? */
static int is_client_id(json_object *v, const char *client_id)
{
    return json_object_is_type(v, json_type_string) &&
           strcmp(json_object_get_string(v), client_id) == 0;
}

/*
 * aud is a string or an array of strings (RFC 7519 4.1.3; Hydra sends an
 * array) and must name our client.  An array with a non-string member is
 * malformed, so the whole token is refused rather than the member skipped.
 */
static int check_aud(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    json_object *aud;
    size_t i, n;
    int found = 0;

    if (!json_object_object_get_ex(claims, "aud", &aud) || aud == NULL) {
        *why = "aud missing";
        return -1;
    }
    if (expect->client_id == NULL) {
        *why = "audience does not contain client_id";
        return -1;
    }
    if (json_object_is_type(aud, json_type_string)) {
        found = is_client_id(aud, expect->client_id);
    } else if (json_object_is_type(aud, json_type_array)) {
        n = json_object_array_length(aud);
        for (i = 0; i < n; i++) {
            json_object *v = json_object_array_get_idx(aud, i);

            if (!json_object_is_type(v, json_type_string)) {
                *why = "aud is not a string or an array of strings";
                return -1;
            }
            found |= is_client_id(v, expect->client_id);
        }
    } else {
        *why = "aud is not a string or an array of strings";
        return -1;
    }
    if (!found) {
        *why = "audience does not contain client_id";
        return -1;
    }
    return 0;
}

/*
 * A NumericDate member as seconds.  JSON numbers only: "1700000000" as a
 * string is a different type and is refused, not converted.
 */
static int numeric_date(json_object *claims, const char *name, int64_t *out,
                        const char *why_missing, const char *why_type, const char **why)
{
    switch (pamory_json_int64(claims, name, out)) {
    case PAMORY_JSON_OK:
        return 0;
    case PAMORY_JSON_MISSING:
        *why = why_missing;
        return -1;
    default:
        *why = why_type;
        return -1;
    }
}

/* exp is required (OIDC) and must not have passed, allowing for clock skew. */
static int check_exp(json_object *claims, const struct pamory_claims_expect *expect,
                     const char **why)
{
    int64_t exp;

    if (numeric_date(claims, "exp", &exp, "exp missing", "exp is not an integer", why) != 0)
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

    if (numeric_date(claims, "iat", &iat, "iat missing", "iat is not an integer", why) != 0)
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
    if (numeric_date(claims, "nbf", &nbf, "nbf is null", "nbf is not an integer", why) != 0)
        return -1;
    if (nbf > (int64_t)expect->now + PAMORY_CLOCK_SKEW) {
        *why = "not yet valid";
        return -1;
    }
    return 0;
}

int pamory_claims_check(json_object *claims, const struct pamory_claims_expect *expect,
                        const char **why)
{
    static const claim_check checks[] = { check_iss, check_aud, check_exp, check_iat, check_nbf };
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
