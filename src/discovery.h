/*
 * OIDC discovery: <issuer>/.well-known/openid-configuration.  The document's
 * "issuer" must equal the configured issuer byte for byte (OIDC Discovery
 * 4.3); otherwise a compromised or misconfigured endpoint could point us at
 * another issuer's keys.
 */
#ifndef PAMORY_DISCOVERY_H
#define PAMORY_DISCOVERY_H

#include <stddef.h>
#include "cache.h"
#include "http.h"
#include "log.h"

struct pamory_discovery {
    char *issuer;
    char *device_authorization_endpoint;   /* may be NULL if not advertised */
    char *token_endpoint;
    char *jwks_uri;
    char **id_token_algs;                  /* id_token_signing_alg_values_supported */
    size_t n_id_token_algs;
};

/*
 * Parse a discovery document.  Returns 0, or -1 after logging why (not JSON,
 * issuer mismatch, a required endpoint missing, an endpoint URL that is not
 * https or loopback http).
 */
int pamory_discovery_parse(const struct pamory_log *log, const char *json, size_t len,
                           const char *expected_issuer, struct pamory_discovery *out);

/*
 * The issuer's discovery document, through the cache (a fresh entry answers
 * without a request; a stale one may stand in while the IdP is down), and
 * parsed, with the issuer checked, every time, cached or not.  Returns
 * PAM_SUCCESS; PAM_AUTHINFO_UNAVAIL when there is no document (the IdP
 * cannot be reached or answers with an error status, and no entry may stand
 * in) or after logging a bad one; PAM_BUF_ERR when out of memory.
 */
int pamory_discovery_fetch(const struct pamory_http *http, const struct pamory_cache *cache,
                           const char *issuer, struct pamory_discovery *out);

void pamory_discovery_free(struct pamory_discovery *d);

#endif
