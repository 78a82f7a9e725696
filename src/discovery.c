/* OIDC discovery: fetch (through the cache), check the issuer, keep the endpoints we use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <security/pam_modules.h>

#include "discovery.h"
#include "json.h"

#define WELL_KNOWN "/.well-known/openid-configuration"

/*
 * Copy an endpoint URL out of the document.  Required ones must be present;
 * every one present must be https (or loopback http), because we will send
 * device codes and client secrets to it.
 */
static int take_endpoint(const struct pamory_log *log, json_object *doc, const char *key,
                         int required, char **out)
{
    const char *url;
    enum pamory_json_get r = pamory_json_string(doc, key, &url);

    *out = NULL;
    if (r == PAMORY_JSON_MISSING && !required)
        return 0;
    if (r != PAMORY_JSON_OK) {
        pamory_err(log, "discovery document: \"%s\" is %s", key, pamory_json_get_str(r));
        return -1;
    }
    if (!pamory_url_allowed(url)) {
        pamory_err(log, "discovery document: \"%s\" is not an https URL (or http to loopback)", key);
        return -1;
    }
    if ((*out = strdup(url)) == NULL) {
        pamory_err(log, "out of memory");
        return -1;
    }
    return 0;
}

/* id_token_signing_alg_values_supported, if present: the strings in it. */
static int take_algs(const struct pamory_log *log, json_object *doc, struct pamory_discovery *out)
{
    json_object *arr;
    size_t i, n;

    if (pamory_json_array(doc, "id_token_signing_alg_values_supported", &arr) != PAMORY_JSON_OK)
        return 0;   /* optional: the allow-list in jws.c still applies */
    n = json_object_array_length(arr);
    out->id_token_algs = calloc(n ? n : 1, sizeof(char *));
    if (out->id_token_algs == NULL)
        goto oom;
    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(v, json_type_string))
            continue;
        if ((out->id_token_algs[out->n_id_token_algs] = strdup(json_object_get_string(v))) == NULL)
            goto oom;
        out->n_id_token_algs++;
    }
    return 0;
oom:
    pamory_err(log, "out of memory");
    return -1;
}

int pamory_discovery_parse(const struct pamory_log *log, const char *json, size_t len,
                           const char *expected_issuer, struct pamory_discovery *out)
{
    json_object *doc = pamory_json_parse_object(json, len);
    const char *issuer;
    int r = -1;

    memset(out, 0, sizeof(*out));
    if (doc == NULL) {
        pamory_err(log, "discovery document is not a JSON object");
        return -1;
    }
    if (pamory_json_string(doc, "issuer", &issuer) != PAMORY_JSON_OK) {
        pamory_err(log, "discovery document has no issuer");
    } else if (strcmp(issuer, expected_issuer) != 0) {
        /* Exact match, trailing slash included (OIDC Discovery 4.3). */
        pamory_err(log, "discovery document names issuer \"%.200s\", but issuer is configured as \"%s\"",
                   issuer, expected_issuer);
    } else if ((out->issuer = strdup(issuer)) != NULL &&
               take_endpoint(log, doc, "token_endpoint", 1, &out->token_endpoint) == 0 &&
               take_endpoint(log, doc, "jwks_uri", 1, &out->jwks_uri) == 0 &&
               take_endpoint(log, doc, "device_authorization_endpoint", 0,
                             &out->device_authorization_endpoint) == 0 &&
               take_algs(log, doc, out) == 0) {
        r = 0;
    }
    json_object_put(doc);
    if (r != 0)
        pamory_discovery_free(out);
    return r;
}


/*
 * The document through the cache, parsed.  A cached copy that no longer
 * passes (say the IdP briefly served a wrong issuer and has been fixed) gets
 * one refresh, rate-limited by the cache, rather than failing every login
 * until it expires.
 */
int pamory_discovery_fetch(const struct pamory_http *http, const struct pamory_cache *cache,
                           const char *issuer, struct pamory_discovery *out)
{
    char *url = pamory_url_join(issuer, WELL_KNOWN);
    char *doc = NULL;
    size_t len = 0;
    bool fetched = false;
    int r = PAM_AUTHINFO_UNAVAIL;

    memset(out, 0, sizeof(*out));
    if (url == NULL) {
        pamory_err(http->log, "out of memory");
        return PAM_BUF_ERR;
    }
    if (pamory_cached_get(http, cache, url, PAMORY_CACHE_USE, &doc, &len, &fetched) == 0) {
        if (pamory_discovery_parse(http->log, doc, len, issuer, out) == 0)
            r = PAM_SUCCESS;
        else if (!fetched) {
            free(doc);
            doc = NULL;
            if (pamory_cached_get(http, cache, url, PAMORY_CACHE_REFRESH, &doc, &len, NULL) == 0 &&
                pamory_discovery_parse(http->log, doc, len, issuer, out) == 0)
                r = PAM_SUCCESS;
        }
    }
    free(doc);
    free(url);
    return r;
}

void pamory_discovery_free(struct pamory_discovery *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->n_id_token_algs; i++)
        free(d->id_token_algs[i]);
    free(d->id_token_algs);
    free(d->issuer);
    free(d->device_authorization_endpoint);
    free(d->token_endpoint);
    free(d->jwks_uri);
    memset(d, 0, sizeof(*d));
}
