/*
 * A JWT, end to end: parse → header (alg allowed and, if asked, advertised;
 * typ) → key by kid from the cached JWKS (refreshed once when the cached
 * set cannot answer) → signature → claims.  Every refusal is one log line
 * with the token's fingerprint and a reason.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <security/pam_modules.h>

#include "flow/sanitize.h"
#include "token/jwks.h"
#include "token/jws.h"
#include "token/jwt.h"

/* How much of a kid goes into a log line: Hydra's are 36-character UUIDs. */
#define KID_LOG_MAX 64

/* Everything one verification needs to carry between its steps. */
struct verification {
    const struct pamory_http *http;
    const struct pamory_cache *cache;
    const struct pamory_discovery *disc;
    const struct pamory_jwt_rules *rules;
    char fp[PAMORY_FINGERPRINT_LEN];   /* the token's fingerprint, for logs */
    struct pamory_jws jws;
    struct pamory_jwks jwks;
};

/* The one shape of a refusal: PAM_AUTH_ERR and a line naming the token by fingerprint. */
static int refuse(const struct verification *v, const char *why)
{
    pamory_notice(v->http->log, "%s %s refused: %s", v->rules->what, v->fp, why);
    return PAM_AUTH_ERR;
}

/* Is typ this media type, with or without "application/" (RFC 7515 4.1.9)? */
static int typ_is(const char *typ, const char *type)
{
    if (strncasecmp(typ, "application/", 12) == 0)
        typ += 12;
    return strcasecmp(typ, type) == 0;
}

/*
 * typ, when present, must say JWT (Hydra, for both ID and access tokens) or
 * at+jwt (RFC 9068): a JWT typed as anything else (a logout token, some
 * other protocol's object) was not meant to be a login credential.
 */
static int check_typ(const struct verification *v)
{
    const char *typ = v->jws.typ;

    if (!v->rules->check_typ || typ == NULL || typ_is(typ, "JWT") || typ_is(typ, "at+jwt"))
        return PAM_SUCCESS;
    return refuse(v, "typ is neither JWT nor at+jwt");
}

/*
 * Our allow-list first, then, for ID tokens, discovery's
 * id_token_signing_alg_values_supported when the IdP advertises it: Hydra
 * lists exactly the alg of its current key, so a token in any other alg did
 * not come from its ID token signer.
 */
static int check_alg(const struct verification *v)
{
    size_t i;

    if (!pamory_jws_alg_allowed(v->jws.alg))
        return refuse(v, "alg not allowed");
    if (!v->rules->discovery_algs || v->disc->n_id_token_algs == 0)
        return PAM_SUCCESS;
    for (i = 0; i < v->disc->n_id_token_algs; i++) {
        if (v->disc->id_token_algs[i] != NULL && strcmp(v->disc->id_token_algs[i], v->jws.alg) == 0)
            return PAM_SUCCESS;
    }
    return refuse(v, "alg not advertised by discovery");
}

/*
 * The JWKS into v->jwks, through the cache.  No document at all, or an
 * unusable one, means the IdP is unavailable, not that the user failed:
 * PAM_AUTHINFO_UNAVAIL.
 */
static int load_jwks(struct verification *v, enum pamory_cache_mode mode, bool *fetched)
{
    char *doc = NULL;
    size_t len = 0;
    int rc = PAM_AUTHINFO_UNAVAIL;

    pamory_jwks_free(&v->jwks);
    if (pamory_cached_get(v->http, v->cache, v->disc->jwks_uri, mode, &doc, &len, fetched) == 0 &&
        pamory_jwks_parse(v->http->log, doc, len, &v->jwks) == 0)
        rc = PAM_SUCCESS;
    free(doc);
    return rc;
}

/* The refusal for a kid we could not find, naming the kid safely. */
static int refuse_unknown_kid(const struct verification *v)
{
    char safe[KID_LOG_MAX + 1];

    if (v->jws.kid == NULL)
        return refuse(v, "no kid, and the JWKS does not hold exactly one key");
    pamory_sanitize_into(v->jws.kid, safe, sizeof(safe));
    pamory_notice(v->http->log, "%s %s refused: no key with kid \"%s\"%s", v->rules->what, v->fp,
                  safe, strlen(v->jws.kid) > KID_LOG_MAX ? "..." : "");
    return PAM_AUTH_ERR;
}

/*
 * The key named by the token's kid.  When the set came from the cache and
 * cannot answer (no such kid, or an unusable document), it is refreshed
 * once: after a rotation Hydra signs with a key our copy may not hold yet.
 * The cache turns the refresh into a request at most once per interval per
 * issuer, so a stream of forged kids costs the IdP next to nothing.  A set
 * this call has just fetched is as new as it gets: no second request.
 */
static int find_key(struct verification *v, const struct pamory_jwk **key)
{
    bool fetched = false;
    int rc = load_jwks(v, PAMORY_CACHE_USE, &fetched);

    if (rc == PAM_SUCCESS && (*key = pamory_jwks_find(&v->jwks, v->jws.kid)) != NULL)
        return PAM_SUCCESS;
    if (!fetched) {
        pamory_debug(v->http->log, "%s %s: the cached JWKS cannot answer, refreshing it",
                     v->rules->what, v->fp);
        rc = load_jwks(v, PAMORY_CACHE_REFRESH, NULL);
        if (rc == PAM_SUCCESS && (*key = pamory_jwks_find(&v->jwks, v->jws.kid)) != NULL)
            return PAM_SUCCESS;
    }
    return rc == PAM_SUCCESS ? refuse_unknown_kid(v) : rc;
}

/* Header, then signature, then claims only once they are known to come from the IdP. */
static int check_token(struct verification *v)
{
    const struct pamory_jwk *key = NULL;
    struct pamory_claims_expect expect = v->rules->claims;
    const char *why;
    int rc;

    rc = check_typ(v);
    if (rc == PAM_SUCCESS)
        rc = check_alg(v);
    if (rc == PAM_SUCCESS)
        rc = find_key(v, &key);
    if (rc != PAM_SUCCESS)
        return rc;
    if (pamory_jws_verify(&v->jws, key, &why) != 0)
        return refuse(v, why);
    expect.issuer = v->disc->issuer;
    expect.alg = v->jws.alg;
    expect.now = time(NULL);
    if (pamory_claims_check(v->jws.payload, &expect, &why) != 0)
        return refuse(v, why);
    return PAM_SUCCESS;
}

int pamory_jwt_verify(const struct pamory_http *http, const struct pamory_cache *cache,
                      const struct pamory_discovery *disc, const struct pamory_jwt_rules *rules,
                      const char *token, json_object **claims)
{
    struct verification v;
    const char *why;
    int rc;

    *claims = NULL;
    memset(&v, 0, sizeof(v));
    v.http = http;
    v.cache = cache;
    v.disc = disc;
    v.rules = rules;
    pamory_fingerprint(token, v.fp);
    if (disc->jwks_uri == NULL) {
        pamory_err(http->log, "discovery has no jwks_uri; cannot verify %s %s", rules->what, v.fp);
        return PAM_AUTHINFO_UNAVAIL;
    }
    if (pamory_jws_parse(token, &v.jws, &why) != 0)
        return refuse(&v, why);
    if (v.jws.payload == NULL)
        rc = refuse(&v, "payload is not a JSON object");
    else
        rc = check_token(&v);
    if (rc == PAM_SUCCESS) {
        *claims = json_object_get(v.jws.payload);
        pamory_debug(http->log, "%s %s verified (%s)", rules->what, v.fp, v.jws.alg);
    }
    pamory_jwks_free(&v.jwks);
    pamory_jws_free(&v.jws);
    return rc;
}

int pamory_jwt_token_verify(const struct pamory_http *http, const struct pamory_cache *cache,
                            const struct pamory_discovery *disc,
                            const struct pamory_jwt_token_expect *expect,
                            const char *token, json_object **claims)
{
    struct pamory_jwt_rules rules = { .what = "token", .check_typ = true };

    rules.claims.client_id = expect->client_id;
    rules.claims.any_client = true;
    rules.claims.allowed_clients = expect->allowed_clients;
    rules.claims.required_scope = expect->required_scope;
    rules.claims.max_auth_age = expect->max_auth_age;
    rules.claims.required_acr = expect->required_acr;
    return pamory_jwt_verify(http, cache, disc, &rules, token, claims);
}
