/*
 * Claim checks for a JWT, after its signature was verified.
 *
 * Always: iss exact; exp in the future, iat present and not in the future,
 * nbf (if present) not in the future, each time check with
 * PAMORY_CLOCK_SKEW seconds of leeway; numeric dates must be JSON numbers.
 *
 * The audience: for an ID token, aud contains client_id (OIDC Core
 * 3.1.3.7).  For a token presented as a password (any_client), aud or the
 * client_id claim names client_id or one of allowed_clients: Hydra's JWT
 * access tokens carry the client in client_id and often an empty aud.
 *
 * Optional, each off while its member of the expectation is 0 or NULL:
 * at_hash (when the claim is present) matches access_token; every word of
 * required_scope is in scp (array) or scope (space-separated string);
 * auth_time is present and at most max_auth_age seconds old; acr is present
 * and one of the words of required_acr.
 */
#ifndef PAMORY_CLAIMS_H
#define PAMORY_CLAIMS_H

#include <stdbool.h>
#include <time.h>
#include <json-c/json.h>

#define PAMORY_CLOCK_SKEW 60

struct pamory_claims_expect {
    const char *issuer;
    const char *client_id;
    time_t now;                   /* wall clock, seconds since the epoch */
    bool any_client;              /* the token-mode audience rule, not the ID-token one */
    const char *allowed_clients;  /* space-separated, with any_client; NULL = only client_id */
    const char *access_token;     /* the at_hash check's input, NULL = no check */
    const char *alg;              /* the JWS alg, which picks at_hash's hash */
    const char *required_scope;   /* space-separated */
    unsigned max_auth_age;        /* seconds */
    const char *required_acr;     /* space-separated acceptable values */
};

/* 0 when every check passes; -1 with a static *why naming the failed check. */
int pamory_claims_check(json_object *claims, const struct pamory_claims_expect *expect,
                        const char **why);

#endif
