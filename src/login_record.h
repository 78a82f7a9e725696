/*
 * What a successful authenticate leaves for acct_mgmt in the same PAM
 * handle (pam_set_data): the verified claims, to check the account mapping
 * again, and the access token, to ask the IdP again whether it is still
 * active.  The record is wiped when libpam drops it.
 *
 * sshd runs pam_authenticate in a child process and pam_acct_mgmt in its
 * monitor, so there the record is never seen: everything is checked during
 * authenticate instead.
 */
#ifndef PAMORY_LOGIN_RECORD_H
#define PAMORY_LOGIN_RECORD_H

#include <json-c/json.h>
#include <security/pam_modules.h>
#include "config.h"

struct pamory_login_record {
    enum pamory_mode mode;
    json_object *claims;    /* NULL in consent mode */
    char *access_token;     /* SECRET; NULL when there is none */
};

/*
 * Hand the record to libpam, which owns *claims and *access_token from then
 * on (both are moved: set to NULL here, whatever the result).  PAM_SUCCESS
 * or PAM_BUF_ERR.
 */
int pamory_login_record_set(pam_handle_t *pamh, enum pamory_mode mode, json_object **claims,
                            char **access_token);

/* This handle's record, or NULL when pam_ory did not authenticate it (here). */
const struct pamory_login_record *pamory_login_record_get(pam_handle_t *pamh);

#endif
