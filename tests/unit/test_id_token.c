/*
 * Unit tests for the JWT core (src/token/jwt.c) through its two entry
 * points, pamory_id_token_verify and pamory_jwt_token_verify: the whole
 * sequence, with HTTP replaced by a scripted fake so that JWKS fetches (and
 * refreshes on an unknown kid, through the file cache) can be counted.
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

#include "tmpdir.h"

#include "json.h"
#include "token/id_token.h"
#include "token/jwt.h"
#include "token_test_util.h"

#define ISSUER "https://idp.example.com/"
#define CLIENT "pam-client"
#define JWKS_URI "https://idp.example.com/.well-known/jwks.json"
#define ACCESS_TOKEN "ory_at_abc.def"

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
    resp->max_age = -1;
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
    EVP_PKEY *old_key, *new_key, *p384;
    char *jwks_old;        /* only the old key */
    char *jwks_rotated;    /* new key first, old key kept (Hydra's order), and a P-384 key */
    char root[64];         /* temporary directory for cache directories */
    unsigned ncaches;
    char cache_dir[128];   /* the current test's cache directory */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char *a, *b, *c;

    if (f == NULL)
        return -1;
    f->old_key = tu_rsa(2048);
    f->new_key = tu_rsa(2048);
    f->p384 = tu_ec("secp384r1");
    if (f->old_key == NULL || f->new_key == NULL || f->p384 == NULL)
        return -1;
    a = tu_jwk(f->old_key, "old-kid", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    b = tu_jwk(f->new_key, "new-kid", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    c = tu_jwk(f->p384, "ec-kid", ",\"use\":\"sig\"");
    f->jwks_old = tu_sprintf("{\"keys\":[%s]}", a);
    f->jwks_rotated = tu_sprintf("{\"keys\":[%s,%s,%s]}", b, a, c);
    free(a);
    free(b);
    free(c);
    snprintf(f->root, sizeof(f->root), "/tmp/pamory-idtoken-XXXXXX");
    if (mkdtemp(f->root) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tmpdir_remove(f->root);
    EVP_PKEY_free(f->old_key);
    EVP_PKEY_free(f->new_key);
    EVP_PKEY_free(f->p384);
    free(f->jwks_old);
    free(f->jwks_rotated);
    free(f);
    return 0;
}

/* A new, empty cache directory for this test (created by the cache itself). */
static struct pamory_cache new_cache(struct fixture *f)
{
    struct pamory_cache c;

    snprintf(f->cache_dir, sizeof(f->cache_dir), "%s/c%u", f->root, f->ncaches++);
    c.dir = f->cache_dir;
    c.max_stale = 3600;
    return c;
}

static const struct pamory_cache no_cache = { NULL, 0 };

/* ------------------------------------------------------------ tokens */

/*
 * A JWT with the defaults every token here shares (iss, sub, exp, iat
 * relative to now) and the members in more (JSON object members, each
 * starting with a comma).  typ NULL leaves typ out of the header.
 */
static char *jwt(EVP_PKEY *key, const char *alg, const char *kid, const char *typ,
                 long exp_in, const char *iss, const char *more)
{
    char *typ_member = typ != NULL ? tu_sprintf(",\"typ\":\"%s\"", typ) : tu_sprintf("%s", "");
    char *header = tu_sprintf("{\"alg\":\"%s\",\"kid\":\"%s\"%s}", alg, kid, typ_member);
    long now = (long)time(NULL);
    char *payload = tu_sprintf("{\"iss\":\"%s\",\"sub\":\"alice\",\"exp\":%ld,\"iat\":%ld,"
                               "\"jti\":\"j\"%s}", iss, now + exp_in, now, more);
    char *t = tu_sign(key, alg, header, payload);

    free(typ_member);
    free(header);
    free(payload);
    return t;
}

/* An ID token as Hydra makes it, plus more. */
static char *id_token_with(EVP_PKEY *key, const char *alg, const char *kid, const char *more)
{
    char *all = tu_sprintf(",\"aud\":[\"" CLIENT "\"]%s", more);
    char *t = jwt(key, alg, kid, "JWT", 600, ISSUER, all);

    free(all);
    return t;
}

static char *id_token(EVP_PKEY *key, const char *alg, const char *kid, long exp_in,
                      const char *iss)
{
    return jwt(key, alg, kid, "JWT", exp_in, iss, ",\"aud\":[\"" CLIENT "\"]");
}

/* A JWT access token as Hydra makes it (aud [], client_id, scp), plus more. */
static char *access_token(EVP_PKEY *key, const char *typ, const char *more)
{
    char *all = tu_sprintf(",\"aud\":[],\"client_id\":\"" CLIENT "\",\"nbf\":%ld%s",
                           (long)time(NULL), more);
    char *t = jwt(key, "RS256", "old-kid", typ, 600, ISSUER, all);

    free(all);
    return t;
}

/* base64url(left half of the alg's hash of token): what at_hash should be. */
static char *at_hash(const char *token, const char *md_name)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    assert_int_equal(EVP_Digest(token, strlen(token), md, &n, EVP_get_digestbyname(md_name), NULL), 1);
    return tu_b64(md, n / 2);
}

/* --------------------------------------------------------- verifying */

/* A discovery document that advertises alg (NULL: none). */
static struct pamory_discovery discovery(char **algs, const char *alg)
{
    struct pamory_discovery disc = { (char *)(uintptr_t)ISSUER, NULL, NULL,
                                     (char *)(uintptr_t)JWKS_URI, algs, alg != NULL ? 1 : 0 };

    algs[0] = (char *)(uintptr_t)alg;
    return disc;
}

static int verify_full(const struct pamory_cache *cache, const char *token, const char *alg,
                       const struct pamory_id_token_expect *expect, json_object **claims)
{
    const struct pamory_http http = { tu_log(), NULL, 0 };
    char *algs[1];
    struct pamory_discovery disc = discovery(algs, alg);
    int rc = pamory_id_token_verify(&http, cache, &disc, expect, token, claims);

    if (rc != PAM_SUCCESS)
        assert_null(*claims);
    return rc;
}

/* The ID token checks as device mode runs them with default configuration. */
static int verify(const char *token, const char *alg, json_object **claims)
{
    const struct pamory_id_token_expect expect = { CLIENT, NULL, 0, NULL };

    return verify_full(&no_cache, token, alg, &expect, claims);
}

/* Verify, release the claims, and give the verdict. */
static int verdict(const char *token, const struct pamory_id_token_expect *expect)
{
    json_object *claims = NULL;
    int rc = verify_full(&no_cache, token, "RS256", expect, &claims);

    json_object_put(claims);
    return rc;
}

/* Token mode, with discovery advertising only RS256 for ID tokens. */
static int token_verdict(const struct pamory_cache *cache, const char *token,
                         const struct pamory_jwt_token_expect *expect)
{
    const struct pamory_http http = { tu_log(), NULL, 0 };
    char *algs[1];
    struct pamory_discovery disc = discovery(algs, "RS256");
    json_object *claims = NULL;
    int rc = pamory_jwt_token_verify(&http, cache, &disc, expect, token, &claims);

    if (rc == PAM_SUCCESS)
        assert_non_null(claims);
    else
        assert_null(claims);
    json_object_put(claims);
    return rc;
}

/* ----------------------------------------------------- ID token tests */

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

/*
 * Key rotation through the cache: the cached JWKS lacks the new kid, one
 * refresh brings it; a forged kid right after costs no request at all.
 */
static void test_rotation_through_cache(void **state)
{
    struct fixture *f = *state;
    const struct pamory_cache cache = new_cache(f);
    const struct pamory_id_token_expect expect = { CLIENT, NULL, 0, NULL };
    char *old = id_token(f->old_key, "RS256", "old-kid", 600, ISSUER);
    char *new = id_token(f->new_key, "RS256", "new-kid", 600, ISSUER);
    char *forged = id_token(f->new_key, "RS256", "forged-kid\x1b[2J", 600, ISSUER);
    json_object *claims = NULL;

    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verify_full(&cache, old, "RS256", &expect, &claims), PAM_SUCCESS);
    json_object_put(claims);
    assert_int_equal(fake.calls, 1);
    script(200, f->jwks_rotated, 0, NULL);
    assert_int_equal(verify_full(&cache, old, "RS256", &expect, &claims), PAM_SUCCESS);
    json_object_put(claims);
    assert_int_equal(fake.calls, 0);                      /* cached */
    assert_int_equal(verify_full(&cache, new, "RS256", &expect, &claims), PAM_SUCCESS);
    json_object_put(claims);
    assert_int_equal(fake.calls, 1);                      /* one refresh */
    assert_int_equal(verify_full(&cache, forged, "RS256", &expect, &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 1);                      /* rate-limited: no request */
    assert_int_equal(verify_full(&cache, new, "RS256", &expect, &claims), PAM_SUCCESS);
    json_object_put(claims);
    assert_int_equal(fake.calls, 1);
    free(old);
    free(new);
    free(forged);
}

/* A set this call has just fetched is not fetched again for an unknown kid. */
static void test_unknown_kid_after_fresh_fetch(void **state)
{
    struct fixture *f = *state;
    const struct pamory_cache cache = new_cache(f);
    const struct pamory_id_token_expect expect = { CLIENT, NULL, 0, NULL };
    char *t = id_token(f->new_key, "RS256", "forged-kid", 600, ISSUER);
    json_object *claims = NULL;

    script(200, f->jwks_rotated, 200, f->jwks_rotated);
    assert_int_equal(verify(t, "RS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 1);
    script(200, f->jwks_rotated, 200, f->jwks_rotated);
    assert_int_equal(verify_full(&cache, t, "RS256", &expect, &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 1);                      /* cold cache: one fetch */
    assert_int_equal(verify_full(&cache, t, "RS256", &expect, &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 2);                      /* warm cache: one refresh */
    assert_int_equal(verify_full(&cache, t, "RS256", &expect, &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 2);                      /* then none for a while */
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
    /* A set without the key, just fetched, is an answer: the kid is unknown. */
    script(200, "{\"keys\":[]}", 0, NULL);
    assert_int_equal(verify(t, "RS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 1);
    free(t);
}

/* A cached document that cannot answer (not a JWKS) gets one refresh. */
static void test_unusable_cached_jwks_refreshed(void **state)
{
    struct fixture *f = *state;
    const struct pamory_cache cache = new_cache(f);
    const struct pamory_id_token_expect expect = { CLIENT, NULL, 0, NULL };
    char *t = id_token(f->old_key, "RS256", "old-kid", 600, ISSUER);
    json_object *claims = NULL;

    script(200, "<html>", 0, NULL);
    assert_int_equal(verify_full(&cache, t, "RS256", &expect, &claims), PAM_AUTHINFO_UNAVAIL);
    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verify_full(&cache, t, "RS256", &expect, &claims), PAM_SUCCESS);
    assert_int_equal(fake.calls, 1);
    json_object_put(claims);
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

/* at_hash binds the ID token to the access token; hashed by the alg's size. */
static void test_at_hash(void **state)
{
    struct fixture *f = *state;
    const struct pamory_id_token_expect with_at = { CLIENT, ACCESS_TOKEN, 0, NULL };
    const struct pamory_id_token_expect without_at = { CLIENT, NULL, 0, NULL };
    char *good_hash = at_hash(ACCESS_TOKEN, "SHA256");
    char *other_hash = at_hash("ory_at_other", "SHA256");
    char *hash384 = at_hash(ACCESS_TOKEN, "SHA384");
    char *more;
    char *good, *bad, *absent, *not_string, *es384, *es384_wrong;
    json_object *claims = NULL;

    more = tu_sprintf(",\"at_hash\":\"%s\"", good_hash);
    good = id_token_with(f->old_key, "RS256", "old-kid", more);
    free(more);
    more = tu_sprintf(",\"at_hash\":\"%s\"", other_hash);
    bad = id_token_with(f->old_key, "RS256", "old-kid", more);
    free(more);
    absent = id_token_with(f->old_key, "RS256", "old-kid", "");
    not_string = id_token_with(f->old_key, "RS256", "old-kid", ",\"at_hash\":42");
    more = tu_sprintf(",\"at_hash\":\"%s\"", hash384);
    es384 = id_token_with(f->p384, "ES384", "ec-kid", more);
    free(more);
    more = tu_sprintf(",\"at_hash\":\"%s\"", good_hash);
    es384_wrong = id_token_with(f->p384, "ES384", "ec-kid", more);
    free(more);

    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verdict(good, &with_at), PAM_SUCCESS);
    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verdict(bad, &with_at), PAM_AUTH_ERR);
    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verdict(not_string, &with_at), PAM_AUTH_ERR);
    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verdict(absent, &with_at), PAM_SUCCESS);   /* nothing to compare */
    script(200, f->jwks_old, 0, NULL);
    assert_int_equal(verdict(bad, &without_at), PAM_SUCCESS);   /* no access token at hand */
    script(200, f->jwks_rotated, 0, NULL);
    assert_int_equal(verify_full(&no_cache, es384, "ES384", &with_at, &claims), PAM_SUCCESS);
    json_object_put(claims);
    script(200, f->jwks_rotated, 0, NULL);
    assert_int_equal(verify_full(&no_cache, es384_wrong, "ES384", &with_at, &claims), PAM_AUTH_ERR);
    free(good_hash);
    free(other_hash);
    free(hash384);
    free(good);
    free(bad);
    free(absent);
    free(not_string);
    free(es384);
    free(es384_wrong);
}

/* A token with auth_time offset seconds from now ("" for none at all). */
static char *with_auth_time(struct fixture *f, long offset, int present)
{
    char *more = present ? tu_sprintf(",\"auth_time\":%ld", (long)time(NULL) + offset)
                         : tu_sprintf("%s", "");
    char *t = id_token_with(f->old_key, "RS256", "old-kid", more);

    free(more);
    return t;
}

static void test_max_auth_age(void **state)
{
    struct fixture *f = *state;
    const struct pamory_id_token_expect hour = { CLIENT, NULL, 3600, NULL };
    const struct pamory_id_token_expect off = { CLIENT, NULL, 0, NULL };
    char *recent = with_auth_time(f, -600, 1);
    char *old = with_auth_time(f, -3700, 1);
    char *future = with_auth_time(f, 120, 1);
    char *skewed = with_auth_time(f, 30, 1);
    char *missing = with_auth_time(f, 0, 0);
    char *text = id_token_with(f->old_key, "RS256", "old-kid", ",\"auth_time\":\"1700000000\"");
    const struct { const char *token; const struct pamory_id_token_expect *e; int rc; } cases[] = {
        { recent, &hour, PAM_SUCCESS },
        { skewed, &hour, PAM_SUCCESS },
        { old, &hour, PAM_AUTH_ERR },
        { future, &hour, PAM_AUTH_ERR },
        { missing, &hour, PAM_AUTH_ERR },
        { text, &hour, PAM_AUTH_ERR },
        { old, &off, PAM_SUCCESS },
        { missing, &off, PAM_SUCCESS },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        script(200, f->jwks_old, 0, NULL);
        assert_int_equal(verdict(cases[i].token, cases[i].e), cases[i].rc);
    }
    free(recent);
    free(old);
    free(future);
    free(skewed);
    free(missing);
    free(text);
}

static void test_required_acr(void **state)
{
    struct fixture *f = *state;
    const struct pamory_id_token_expect mfa = { CLIENT, NULL, 0, "aal2  aal3" };
    const struct pamory_id_token_expect off = { CLIENT, NULL, 0, NULL };
    char *aal2 = id_token_with(f->old_key, "RS256", "old-kid", ",\"acr\":\"aal2\"");
    char *aal3 = id_token_with(f->old_key, "RS256", "old-kid", ",\"acr\":\"aal3\"");
    char *aal1 = id_token_with(f->old_key, "RS256", "old-kid", ",\"acr\":\"aal1\"");
    char *prefix = id_token_with(f->old_key, "RS256", "old-kid", ",\"acr\":\"aal\"");
    char *both = id_token_with(f->old_key, "RS256", "old-kid", ",\"acr\":\"aal2 aal3\"");
    char *array = id_token_with(f->old_key, "RS256", "old-kid", ",\"acr\":[\"aal2\"]");
    char *none = id_token_with(f->old_key, "RS256", "old-kid", "");
    const struct { const char *token; const struct pamory_id_token_expect *e; int rc; } cases[] = {
        { aal2, &mfa, PAM_SUCCESS },
        { aal3, &mfa, PAM_SUCCESS },
        { aal1, &mfa, PAM_AUTH_ERR },
        { prefix, &mfa, PAM_AUTH_ERR },
        { both, &mfa, PAM_AUTH_ERR },
        { array, &mfa, PAM_AUTH_ERR },
        { none, &mfa, PAM_AUTH_ERR },
        { aal1, &off, PAM_SUCCESS },
        { none, &off, PAM_SUCCESS },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        script(200, f->jwks_old, 0, NULL);
        assert_int_equal(verdict(cases[i].token, cases[i].e), cases[i].rc);
    }
    free(aal2);
    free(aal3);
    free(aal1);
    free(prefix);
    free(both);
    free(array);
    free(none);
}

/* ------------------------------------------------------ token mode */

/* Token mode against the rotated set, without a cache: one fetch per verdict. */
static int token_mode(struct fixture *f, const char *token, const struct pamory_jwt_token_expect *e)
{
    script(200, f->jwks_rotated, 0, NULL);
    return token_verdict(&no_cache, token, e);
}

/* Who may have issued the token: aud, or the client_id claim, or allowed_clients. */
static void test_token_mode_clients(void **state)
{
    struct fixture *f = *state;
    const struct pamory_jwt_token_expect plain = { CLIENT, NULL, NULL, 0, NULL };
    const struct pamory_jwt_token_expect allowed = { CLIENT, "web  cli", NULL, 0, NULL };
    char *id = id_token(f->old_key, "RS256", "old-kid", 600, ISSUER);
    char *at = access_token(f->old_key, "JWT", ",\"scp\":[\"openid\"]");
    char *cli = jwt(f->old_key, "RS256", "old-kid", "JWT", 600, ISSUER,
                    ",\"aud\":[],\"client_id\":\"cli\"");
    char *aud_web = jwt(f->old_key, "RS256", "old-kid", "JWT", 600, ISSUER,
                        ",\"aud\":[\"other\",\"web\"],\"client_id\":\"x\"");
    char *aud_str = jwt(f->old_key, "RS256", "old-kid", "JWT", 600, ISSUER, ",\"aud\":\"web\"");
    char *stranger = jwt(f->old_key, "RS256", "old-kid", "JWT", 600, ISSUER,
                         ",\"aud\":[\"other\"],\"client_id\":\"evil\"");
    char *neither = jwt(f->old_key, "RS256", "old-kid", "JWT", 600, ISSUER, "");
    char *prefix = jwt(f->old_key, "RS256", "old-kid", "JWT", 600, ISSUER,
                       ",\"client_id\":\"we\"");
    char *bad_aud = jwt(f->old_key, "RS256", "old-kid", "JWT", 600, ISSUER,
                        ",\"aud\":[5],\"client_id\":\"" CLIENT "\"");

    assert_int_equal(token_mode(f, id, &plain), PAM_SUCCESS);        /* aud */
    assert_int_equal(token_mode(f, at, &plain), PAM_SUCCESS);        /* client_id claim */
    assert_int_equal(token_mode(f, cli, &plain), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, cli, &allowed), PAM_SUCCESS);
    assert_int_equal(token_mode(f, aud_web, &plain), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, aud_web, &allowed), PAM_SUCCESS);
    assert_int_equal(token_mode(f, aud_str, &allowed), PAM_SUCCESS);
    assert_int_equal(token_mode(f, stranger, &allowed), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, neither, &allowed), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, prefix, &allowed), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, bad_aud, &plain), PAM_AUTH_ERR);  /* malformed aud */
    free(id);
    free(at);
    free(cli);
    free(aud_web);
    free(aud_str);
    free(stranger);
    free(neither);
    free(prefix);
    free(bad_aud);
}

/* required_scope: every word in scp (array) or scope (string). */
static void test_token_mode_scope(void **state)
{
    struct fixture *f = *state;
    const struct pamory_jwt_token_expect sudo = { CLIENT, NULL, "sudo", 0, NULL };
    const struct pamory_jwt_token_expect two = { CLIENT, NULL, " openid  sudo ", 0, NULL };
    char *scp = access_token(f->old_key, "JWT", ",\"scp\":[\"openid\",\"sudo\"]");
    char *scope = access_token(f->old_key, "JWT", ",\"scope\":\"openid sudo\"");
    char *split = access_token(f->old_key, "JWT", ",\"scp\":[\"openid\"],\"scope\":\"sudo\"");
    char *lacking = access_token(f->old_key, "JWT", ",\"scp\":[\"openid\",\"sudoers\"]");
    char *lacking_str = access_token(f->old_key, "JWT", ",\"scope\":\"openid sudo-x\"");
    char *none = access_token(f->old_key, "JWT", "");
    char *bad_scp = access_token(f->old_key, "JWT", ",\"scp\":\"openid sudo\"");
    char *bad_member = access_token(f->old_key, "JWT", ",\"scp\":[\"sudo\",1]");
    char *id = id_token(f->old_key, "RS256", "old-kid", 600, ISSUER);

    assert_int_equal(token_mode(f, scp, &sudo), PAM_SUCCESS);
    assert_int_equal(token_mode(f, scp, &two), PAM_SUCCESS);
    assert_int_equal(token_mode(f, scope, &two), PAM_SUCCESS);
    assert_int_equal(token_mode(f, split, &two), PAM_SUCCESS);
    assert_int_equal(token_mode(f, lacking, &sudo), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, lacking_str, &sudo), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, none, &sudo), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, bad_scp, &sudo), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, bad_member, &sudo), PAM_AUTH_ERR);
    /* An ID token carries no scopes: with required_scope it never passes. */
    assert_int_equal(token_mode(f, id, &sudo), PAM_AUTH_ERR);
    free(scp);
    free(scope);
    free(split);
    free(lacking);
    free(lacking_str);
    free(none);
    free(bad_scp);
    free(bad_member);
    free(id);
}

/* typ: JWT and at+jwt (with or without application/), or none; nothing else. */
static void test_token_mode_typ(void **state)
{
    struct fixture *f = *state;
    const struct pamory_jwt_token_expect plain = { CLIENT, NULL, NULL, 0, NULL };
    static const char *const good[] = { "JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", NULL };
    static const char *const bad[] = { "foo", "logout+jwt", "", "JWTX", "application/foo" };
    char *t;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        t = access_token(f->old_key, good[i], "");
        assert_int_equal(token_mode(f, t, &plain), PAM_SUCCESS);
        free(t);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = access_token(f->old_key, bad[i], "");
        script(200, f->jwks_rotated, 0, NULL);
        assert_int_equal(token_verdict(&no_cache, t, &plain), PAM_AUTH_ERR);
        assert_int_equal(fake.calls, 0);    /* refused on the header alone */
        free(t);
    }
}

/* max_auth_age and required_acr: an access token has neither claim, so it is refused. */
static void test_token_mode_auth_time_and_acr(void **state)
{
    struct fixture *f = *state;
    const struct pamory_jwt_token_expect age = { CLIENT, NULL, NULL, 3600, NULL };
    const struct pamory_jwt_token_expect acr = { CLIENT, NULL, NULL, 0, "aal2" };
    char *at = access_token(f->old_key, "JWT", ",\"scp\":[\"openid\"]");
    char *more = tu_sprintf(",\"auth_time\":%ld,\"acr\":\"aal2\"", (long)time(NULL) - 60);
    char *id = id_token_with(f->old_key, "RS256", "old-kid", more);

    assert_int_equal(token_mode(f, at, &age), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, at, &acr), PAM_AUTH_ERR);
    assert_int_equal(token_mode(f, id, &age), PAM_SUCCESS);
    assert_int_equal(token_mode(f, id, &acr), PAM_SUCCESS);
    free(at);
    free(more);
    free(id);
}

/*
 * Algs: discovery lists none for access tokens, so token mode takes any alg
 * on the allow-list (here ES384 while discovery lists RS256); an ID token
 * in such an alg is refused by the device-mode check.
 */
static void test_token_mode_algs(void **state)
{
    struct fixture *f = *state;
    const struct pamory_jwt_token_expect plain = { CLIENT, NULL, NULL, 0, NULL };
    char *es = jwt(f->p384, "ES384", "ec-kid", "at+jwt", 600, ISSUER,
                   ",\"aud\":[],\"client_id\":\"" CLIENT "\"");
    char *id_es = id_token(f->p384, "ES384", "ec-kid", 600, ISSUER);
    char *hs;
    char *pem = tu_public_pem(f->old_key);
    json_object *claims = NULL;

    assert_int_equal(token_mode(f, es, &plain), PAM_SUCCESS);
    script(200, f->jwks_rotated, 0, NULL);
    assert_int_equal(verify(id_es, "RS256", &claims), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 0);
    hs = tu_sign_hs256(pem, strlen(pem), "{\"alg\":\"HS256\",\"kid\":\"old-kid\",\"typ\":\"JWT\"}",
                       "{\"iss\":\"" ISSUER "\",\"client_id\":\"" CLIENT "\"}");
    script(200, f->jwks_rotated, 0, NULL);
    assert_int_equal(token_verdict(&no_cache, hs, &plain), PAM_AUTH_ERR);
    assert_int_equal(fake.calls, 0);
    free(es);
    free(id_es);
    free(hs);
    free(pem);
}

/* Token mode shares the cache and its rate limit with device mode. */
static void test_token_mode_forged_kids(void **state)
{
    struct fixture *f = *state;
    const struct pamory_cache cache = new_cache(f);
    const struct pamory_jwt_token_expect plain = { CLIENT, NULL, NULL, 0, NULL };
    char *good = access_token(f->old_key, "JWT", "");
    char *forged[5];
    size_t i;

    script(200, f->jwks_rotated, 200, f->jwks_rotated);
    assert_int_equal(token_verdict(&cache, good, &plain), PAM_SUCCESS);
    for (i = 0; i < 5; i++) {
        char kid[32];

        snprintf(kid, sizeof(kid), "forged-%zu", i);
        forged[i] = jwt(f->new_key, "RS256", kid, "JWT", 600, ISSUER,
                        ",\"client_id\":\"" CLIENT "\"");
        assert_int_equal(token_verdict(&cache, forged[i], &plain), PAM_AUTH_ERR);
        free(forged[i]);
    }
    assert_int_equal(fake.calls, 2);   /* the warm-up, and one refresh */
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_rotation_through_cache),
        cmocka_unit_test(test_unknown_kid_after_fresh_fetch),
        cmocka_unit_test(test_jwks_unavailable),
        cmocka_unit_test(test_unusable_cached_jwks_refreshed),
        cmocka_unit_test(test_refused_without_fetch),
        cmocka_unit_test(test_signature_and_claims),
        cmocka_unit_test(test_at_hash),
        cmocka_unit_test(test_max_auth_age),
        cmocka_unit_test(test_required_acr),
        cmocka_unit_test(test_token_mode_clients),
        cmocka_unit_test(test_token_mode_scope),
        cmocka_unit_test(test_token_mode_typ),
        cmocka_unit_test(test_token_mode_auth_time_and_acr),
        cmocka_unit_test(test_token_mode_algs),
        cmocka_unit_test(test_token_mode_forged_kids),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
