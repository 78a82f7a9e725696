/*
 * From an OIDC identity to a local account.  The value of username_claim (or,
 * with map_file, the local user it maps to) must be the PAM user, which must
 * exist in NSS; uid 0 only with allow_root.
 */
#ifndef PAMORY_ACCOUNT_H
#define PAMORY_ACCOUNT_H

#include <json-c/json.h>
#include "context.h"

/*
 * Checks on the PAM user before any flow starts: it exists (else
 * PAM_USER_UNKNOWN) and is not uid 0 unless allow_root (else PAM_AUTH_ERR).
 */
int pamory_account_precheck(struct pamory_ctx *ctx);

/*
 * Look claim_value up in a map file's text: lines "<claim value> <local user>",
 * '#' comments and blank lines ignored.  Returns 0 and a heap copy of the
 * local user in *local; 1 if the value is not mapped; -1 after logging a
 * malformed line (with its line number).
 */
int pamory_map_lookup(const struct pamory_log *log, const char *map_text,
                      const char *claim_value, char **local);

/*
 * Map verified ID-token claims to the local account and require it to be the
 * PAM user.  Returns PAM_SUCCESS, PAM_AUTH_ERR (claim missing, not mapped,
 * another user, root refused), PAM_USER_UNKNOWN, or PAM_SERVICE_ERR (map file
 * unreadable or malformed); each decision logged once.
 */
int pamory_account_match(struct pamory_ctx *ctx, json_object *claims);

#endif
