/*
 * Wiping secrets.  Tokens, device codes and client secrets are heap strings;
 * they are overwritten before their memory goes back to the allocator so that
 * a later core dump or heap read cannot recover them.
 */
#ifndef PAMORY_SECRET_H
#define PAMORY_SECRET_H

#include <stdlib.h>
#include <string.h>

/* Overwrite and free a NUL-terminated secret; NULL is fine. */
static inline void pamory_secret_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* Overwrite and free a secret buffer of known length; NULL is fine. */
static inline void pamory_secret_free_n(void *p, size_t len)
{
    if (p != NULL) {
        explicit_bzero(p, len);
        free(p);
    }
}

#endif
