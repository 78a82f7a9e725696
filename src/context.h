/*
 * The per-call context: everything one PAM call needs, threaded through the
 * flow, token and account code.  There is no global state in pam_ory; a
 * context lives on the stack of one pam_sm_* call.
 */
#ifndef PAMORY_CONTEXT_H
#define PAMORY_CONTEXT_H

#include <time.h>
#include "config.h"
#include "log.h"

struct pamory_ctx {
    struct pamory_log log;
    struct pamory_config cfg;
    const char *user;        /* PAM_USER, borrowed from libpam */
    const char *service;     /* PAM_SERVICE, borrowed from libpam */
    time_t deadline;         /* CLOCK_MONOTONIC second by which the flow must end */
};

#endif
