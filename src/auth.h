/*
 * The work behind the PAM entry points.  Data flows one way:
 * configuration -> flow -> token -> account -> PAM result.
 */
#ifndef PAMORY_AUTH_H
#define PAMORY_AUTH_H

#include <security/pam_modules.h>

int pamory_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv);
int pamory_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv);
int pamory_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv);

#endif
