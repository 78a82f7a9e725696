/*
 * An ID token, end to end: parse → alg allowed and advertised → key by kid
 * from the JWKS (refetched once for key rotation) → signature → claims.
 * Every refusal is one log line with the token's fingerprint and a reason;
 * the token itself, or any piece of it but a sanitized kid, is never logged.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <security/pam_modules.h>

#include "flow/sanitize.h"
#include "token/claims.h"
#include "token/id_token.h"
#include "token/jwks.h"
#include "token/jws.h"

/* How much of a kid goes into a log line: Hydra's are 36-character UUIDs. */
#define KID_LOG_MAX 64

/* Everything one verification needs to carry between its steps. */
struct verification {
    const struct pamory_http *http;
    const struct pamory_discovery *disc;
    char fp[PAMORY_FINGERPRINT_LEN];   /* the token's fingerprint, for logs */
    struct pamory_jws jws;
    struct pamory_jwks jwks;
};

/* The one shape of a refusal: PAM_AUTH_ERR and a line naming the token by fingerprint. */
static int refuse(const struct verification *v, const char *why)
{
    pamory_notice(v->http->log, "ID token %s refused: %s", v->fp, why);
    return PAM_AUTH_ERR;
}

/*
 * Our allow-list first, then discovery's id_token_signing_alg_values_supported
 * when the IdP advertises it: Hydra lists exactly the alg of its current key,
 * so a token in any other alg did not come from its ID token signer.
 */
static int check_alg(const struct verification *v)
{
    size_t i;

    if (!pamory_jws_alg_allowed(v->jws.alg))
        return refuse(v, "alg not allowed");
    if (v->disc->n_id_token_algs == 0)
        return PAM_SUCCESS;
    for (i = 0; i < v->disc->n_id_token_algs; i++) {
        if (v->disc->id_token_algs[i] != NULL && strcmp(v->disc->id_token_algs[i], v->jws.alg) == 0)
            return PAM_SUCCESS;
    }
    return refuse(v, "alg not advertised by discovery");
}

/*
 * GET and parse the JWKS into v->jwks.  A transport error, an error status
 * or an unusable document all mean the IdP is unavailable, not that the
 * user failed: PAM_AUTHINFO_UNAVAIL.
 */
static int fetch_jwks(struct verification *v)
{
    struct pamory_http_response resp;
    int rc = PAM_AUTHINFO_UNAVAIL;

    memset(&resp, 0, sizeof(resp));
    pamory_jwks_free(&v->jwks);
    if (pamory_http_get(v->http, v->disc->jwks_uri, &resp) != 0) {
        /* pamory_http_get has logged why. */
    } else if (resp.status != 200) {
        pamory_err(v->http->log, "JWKS endpoint answered HTTP %ld", resp.status);
    } else if (pamory_jwks_parse(v->http->log, resp.body, resp.len, &v->jwks) == 0) {
        rc = PAM_SUCCESS;
    }
    pamory_http_response_free(&resp);
    return rc;
}

/* The refusal for a kid we could not find, naming the kid safely. */
static int refuse_unknown_kid(const struct verification *v)
{
    char *safe;

    if (v->jws.kid == NULL)
        return refuse(v, "no kid, and the JWKS does not hold exactly one key");
    safe = pamory_sanitize(v->jws.kid);
    pamory_notice(v->http->log, "ID token %s refused: no key with kid \"%.*s\"%s", v->fp,
                  KID_LOG_MAX, safe != NULL ? safe : "?",
                  strlen(v->jws.kid) > KID_LOG_MAX ? "..." : "");
    free(safe);
    return PAM_AUTH_ERR;
}

/*
 * The key named by the token's kid.  An unknown kid gets exactly one more
 * fetch: after a rotation Hydra signs with a key our copy may not hold yet.
 * One retry, not a loop, so a forged kid costs the IdP one extra request.
 */
static int find_key(struct verification *v, const struct pamory_jwk **key)
{
    int attempt, rc;

    for (attempt = 0; attempt < 2; attempt++) {
        rc = fetch_jwks(v);
        if (rc != PAM_SUCCESS)
            return rc;
        *key = pamory_jwks_find(&v->jwks, v->jws.kid);
        if (*key != NULL)
            return PAM_SUCCESS;
        if (attempt == 0)
            pamory_debug(v->http->log, "ID token %s: kid not in the JWKS, fetching it again",
                         v->fp);
    }
    return refuse_unknown_kid(v);
}

/* Signature first, claims only once they are known to come from the IdP. */
static int check_token(struct verification *v, const char *client_id)
{
    const struct pamory_jwk *key = NULL;
    struct pamory_claims_expect expect;
    const char *why;
    int rc;

    rc = check_alg(v);
    if (rc == PAM_SUCCESS)
        rc = find_key(v, &key);
    if (rc != PAM_SUCCESS)
        return rc;
    if (pamory_jws_verify(&v->jws, key, &why) != 0)
        return refuse(v, why);
    expect.issuer = v->disc->issuer;
    expect.client_id = client_id;
    expect.now = time(NULL);
    if (pamory_claims_check(v->jws.payload, &expect, &why) != 0)
        return refuse(v, why);
    return PAM_SUCCESS;
}

int pamory_id_token_verify(const struct pamory_http *http, const struct pamory_discovery *disc,
                           const char *client_id, const char *id_token, json_object **claims)
{
    struct verification v;
    const char *why;
    int rc;

    *claims = NULL;
    memset(&v, 0, sizeof(v));
    v.http = http;
    v.disc = disc;
    pamory_fingerprint(id_token, v.fp);
    if (disc->jwks_uri == NULL) {
        pamory_err(http->log, "discovery has no jwks_uri; cannot verify ID token %s", v.fp);
        return PAM_AUTHINFO_UNAVAIL;
    }
    if (pamory_jws_parse(id_token, &v.jws, &why) != 0)
        return refuse(&v, why);
    if (v.jws.payload == NULL)
        rc = refuse(&v, "payload is not a JSON object");
    else
        rc = check_token(&v, client_id);
    if (rc == PAM_SUCCESS) {
        *claims = json_object_get(v.jws.payload);
        pamory_debug(http->log, "ID token %s verified (%s)", v.fp, v.jws.alg);
    }
    pamory_jwks_free(&v.jwks);
    pamory_jws_free(&v.jws);
    return rc;
}
