/*
 * pam_ory: the PAM ABI and nothing else.  Each entry point hands its call to
 * auth.c; only these symbols leave the shared object (see pam_ory.map).
 */
#include <security/pam_modules.h>

#include "auth.h"

#define PAMORY_EXPORT __attribute__((visibility("default")))

PAMORY_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return pamory_authenticate(pamh, flags, argc, argv);
}

PAMORY_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return pamory_setcred(pamh, flags, argc, argv);
}

PAMORY_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    return pamory_acct_mgmt(pamh, flags, argc, argv);
}
