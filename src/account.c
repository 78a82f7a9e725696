/*
 * Account checks: the identity the IdP vouched for must be the local account
 * being logged in to, and root only when the administrator said so.
 */
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "account.h"
#include "json.h"
#include "safe_file.h"

/* The passwd entry of name; through libpam when there is a handle (it caches). */
static struct passwd *lookup_user(struct pamory_ctx *ctx, const char *name)
{
    if (ctx->log.pamh != NULL)
        return pam_modutil_getpwnam(ctx->log.pamh, name);
    return getpwnam(name);
}

int pamory_account_precheck(struct pamory_ctx *ctx)
{
    struct passwd *pw = lookup_user(ctx, ctx->user);

    if (pw == NULL) {
        pamory_notice(&ctx->log, "user %s is unknown to this system", ctx->user);
        return PAM_USER_UNKNOWN;
    }
    if (pw->pw_uid == 0 && !ctx->cfg.allow_root) {
        pamory_notice(&ctx->log, "refusing login as %s: uid 0 needs allow_root=yes", ctx->user);
        return PAM_AUTH_ERR;
    }
    return PAM_SUCCESS;
}

/* Split line (modified in place) into exactly two blank-separated fields. */
static int two_fields(char *line, char **first, char **second)
{
    static const char blanks[] = " \t\r";
    char *save = NULL;

    *first = strtok_r(line, blanks, &save);
    *second = strtok_r(NULL, blanks, &save);
    return *first != NULL && *second != NULL && strtok_r(NULL, blanks, &save) == NULL;
}

int pamory_map_each(const struct pamory_log *log, const char *path, const char *text,
                    int (*fn)(void *arg, int lineno, const char *claim, const char *user),
                    void *arg)
{
    char *copy = strdup(text), *line, *next, *claim, *user;
    int lineno = 0, r = 0;

    if (copy == NULL) {
        pamory_err(log, "out of memory");
        return -1;
    }
    /* Walk lines by hand: strtok_r would skip blank lines and break line numbers. */
    for (line = copy; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        line += strspn(line, " \t\r");
        if (*line == '\0' || *line == '#')
            continue;
        if (!two_fields(line, &claim, &user)) {
            pamory_err(log, "%s line %d: expected \"<claim value> <local user>\"", path, lineno);
            r = -1;
        } else {
            int stop = fn(arg, lineno, claim, user);

            if (stop < 0) {
                r = stop;
                break;
            }
        }
    }
    free(copy);
    return r;
}

/* The pair pamory_map_allows looks for, and whether it was seen. */
struct wanted_pair {
    const char *claim;
    const char *user;
    bool found;
};

static int match_pair(void *arg, int lineno, const char *claim, const char *user)
{
    struct wanted_pair *want = arg;

    (void)lineno;
    if (strcmp(claim, want->claim) == 0 && strcmp(user, want->user) == 0)
        want->found = true;
    return 0;   /* read on: a malformed line further down still fails the file */
}

int pamory_map_allows(const struct pamory_log *log, const char *path, const char *map_text,
                      const char *claim_value, const char *local_user)
{
    struct wanted_pair want = { claim_value, local_user, false };

    if (pamory_map_each(log, path, map_text, match_pair, &want) != 0)
        return -1;
    return want.found ? 1 : 0;
}

/* Is claim_value allowed to be ctx->user according to map_file? */
static int check_map(struct pamory_ctx *ctx, const char *claim_value, const char *fp)
{
    char *text = NULL;
    int r;

    if (pamory_read_file(&ctx->log, ctx->cfg.map_file, PAMORY_FILE_POLICY, false, &text, NULL) != 0)
        return PAM_SERVICE_ERR;
    r = pamory_map_allows(&ctx->log, ctx->cfg.map_file, text, claim_value, ctx->user);
    free(text);
    if (r < 0)
        return PAM_SERVICE_ERR;
    if (r == 0) {
        pamory_notice(&ctx->log, "login refused: %s %s is not mapped to user %s in %s",
                      ctx->cfg.username_claim, fp, ctx->user, ctx->cfg.map_file);
        return PAM_AUTH_ERR;
    }
    return PAM_SUCCESS;
}

int pamory_account_match(struct pamory_ctx *ctx, json_object *claims)
{
    const char *value = NULL;
    char fp[PAMORY_FINGERPRINT_LEN];
    enum pamory_json_get got = pamory_json_string(claims, ctx->cfg.username_claim, &value);

    if (got != PAMORY_JSON_OK || value[0] == '\0') {
        pamory_notice(&ctx->log, "login refused for %s: the ID token's \"%s\" claim is %s",
                      ctx->user, ctx->cfg.username_claim,
                      got == PAMORY_JSON_OK ? "empty" : pamory_json_get_str(got));
        return PAM_AUTH_ERR;
    }
    /* The claim value may be a subject: log a fingerprint, not the value. */
    pamory_fingerprint(value, fp);
    if (ctx->cfg.map_file != NULL)
        return check_map(ctx, value, fp);
    if (strcmp(value, ctx->user) != 0) {
        pamory_notice(&ctx->log, "login refused: %s %s is not user %s",
                      ctx->cfg.username_claim, fp, ctx->user);
        return PAM_AUTH_ERR;
    }
    return PAM_SUCCESS;
}
