/* Temporary directories for unit tests: made fresh, removed with everything in them. */
#ifndef PAMORY_TEST_TMPDIR_H
#define PAMORY_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int tmpdir_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything below it, symlinks not followed.  0 on success. */
static inline int tmpdir_remove(const char *dir)
{
    return nftw(dir, tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
