/*
 * An ID token from the device flow: the JWT core with the ID-token rules.
 * Discovery's alg list applies, because Hydra advertises exactly the alg of
 * its ID-token key; aud must name our client.
 */
#include "token/id_token.h"
#include "token/jwt.h"

int pamory_id_token_verify(const struct pamory_http *http, const struct pamory_cache *cache,
                           const struct pamory_discovery *disc,
                           const struct pamory_id_token_expect *expect,
                           const char *id_token, json_object **claims)
{
    struct pamory_jwt_rules rules = { .what = "ID token", .discovery_algs = true };

    rules.claims.client_id = expect->client_id;
    rules.claims.access_token = expect->access_token;
    rules.claims.max_auth_age = expect->max_auth_age;
    rules.claims.required_acr = expect->required_acr;
    return pamory_jwt_verify(http, cache, disc, &rules, id_token, claims);
}
