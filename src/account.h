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
 * The one map-file parser.  Lines are "<claim value> <local user>": two
 * fields separated by blanks; '#' comment lines and blank lines are ignored.
 * Calls fn(arg, lineno, claim, user) for every well-formed line, in order,
 * and logs every malformed line (by its number; path is only used in log
 * lines).  Every line is visited even after a malformed one, so a tool can
 * report them all.  fn returns 0 to go on; a negative value stops the walk
 * and is returned.  Otherwise returns 0, or -1 if any line was malformed
 * (or memory ran out).
 */
int pamory_map_each(const struct pamory_log *log, const char *path, const char *text,
                    int (*fn)(void *arg, int lineno, const char *claim, const char *user),
                    void *arg);

/*
 * Does a map file's text hold the line "<claim value> <local user>"?  One
 * claim value may map to several local users (one person, two accounts), so
 * the question is about this pair.  Returns 1 when mapped, 0 when not, -1
 * after logging the malformed lines (pamory_map_each): a malformed line
 * anywhere makes the whole file untrustworthy, even after a match.
 */
int pamory_map_allows(const struct pamory_log *log, const char *path, const char *map_text,
                      const char *claim_value, const char *local_user);

/*
 * Map verified ID-token claims to the local account and require it to be the
 * PAM user.  Returns PAM_SUCCESS, PAM_AUTH_ERR (claim missing, not mapped,
 * another user, root refused), PAM_USER_UNKNOWN, or PAM_SERVICE_ERR (map file
 * unreadable or malformed); each decision logged once.
 */
int pamory_account_match(struct pamory_ctx *ctx, json_object *claims);

#endif
