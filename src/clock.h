/*
 * The clock deadlines are measured on: CLOCK_MONOTONIC, in whole seconds,
 * so that an administrator setting the wall clock mid-login neither cuts a
 * login short nor stretches it.
 */
#ifndef PAMORY_CLOCK_H
#define PAMORY_CLOCK_H

#include <time.h>

static inline time_t pamory_monotonic_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

#endif
