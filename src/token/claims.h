/*
 * Claim checks for an ID token (OIDC Core 3.1.3.7), after its signature was
 * verified: iss exact, aud contains client_id (string or array), exp in the
 * future, iat present and not in the future, nbf (if present) not in the
 * future; each time check with PAMORY_CLOCK_SKEW seconds of leeway.  Numeric
 * dates must be JSON numbers.
 */
#ifndef PAMORY_CLAIMS_H
#define PAMORY_CLAIMS_H

#include <time.h>
#include <json-c/json.h>

#define PAMORY_CLOCK_SKEW 60

struct pamory_claims_expect {
    const char *issuer;
    const char *client_id;
    time_t now;   /* wall clock, seconds since the epoch */
};

/* 0 when every check passes; -1 with a static *why naming the failed check. */
int pamory_claims_check(json_object *claims, const struct pamory_claims_expect *expect,
                        const char **why);

#endif
