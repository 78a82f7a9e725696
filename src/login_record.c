/* The record a successful authenticate leaves in the PAM handle. */
#include <stdlib.h>
#include <security/pam_modules.h>

#include "json.h"
#include "login_record.h"
#include "secret.h"

#define RECORD_KEY "pam_ory_login_record"

/* libpam's cleanup callback: the record holds a token, so it is wiped. */
static void drop_record(pam_handle_t *pamh, void *data, int status)
{
    struct pamory_login_record *rec = data;

    (void)pamh;
    (void)status;
    pamory_json_put_wiped(rec->claims);
    pamory_secret_free(rec->access_token);
    free(rec);
}

int pamory_login_record_set(pam_handle_t *pamh, enum pamory_mode mode, json_object **claims,
                            char **access_token)
{
    struct pamory_login_record *rec = calloc(1, sizeof(*rec));

    if (rec == NULL) {
        pamory_json_put_wiped(*claims);
        pamory_secret_free(*access_token);
        *claims = NULL;
        *access_token = NULL;
        return PAM_BUF_ERR;
    }
    rec->mode = mode;
    rec->claims = *claims;
    rec->access_token = *access_token;
    *claims = NULL;
    *access_token = NULL;
    if (pam_set_data(pamh, RECORD_KEY, rec, drop_record) != PAM_SUCCESS) {
        drop_record(pamh, rec, 0);
        return PAM_BUF_ERR;
    }
    return PAM_SUCCESS;
}

const struct pamory_login_record *pamory_login_record_get(pam_handle_t *pamh)
{
    const void *rec = NULL;

    if (pam_get_data(pamh, RECORD_KEY, &rec) != PAM_SUCCESS)
        return NULL;
    return rec;
}
