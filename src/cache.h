/*
 * A cache of IdP documents (discovery, JWKS) shared by every process on the
 * host.  sshd forks a process per connection, so an in-memory cache would
 * help nobody; this one lives in files under cache_dir.
 *
 * Safety: cache_dir is created 0700 if missing and must be owned by root (or
 * the process's own uid) with no access for group or others; entries are
 * 0600 files of the process's own uid, written atomically (temporary file +
 * rename).  An entry that is unsafe, corrupt, or names another URL is
 * ignored and replaced, never trusted.  When cache_dir itself is unsafe or
 * cannot be created, the cache is not used at all (one log line) and every
 * request goes to the IdP, as with dir == NULL; REFRESH is then no
 * different from USE.
 *
 * Freshness: an entry is fresh for the response's Cache-Control max-age
 * (capped at a day), or PAMORY_CACHE_DEFAULT_TTL without one.  A stale entry
 * no older than max_stale may stand in when the IdP cannot be reached.
 *
 * Stampedes: one process refreshes an entry while the others wait (up to
 * PAMORY_CACHE_LOCK_WAIT seconds) on a lock file and then read what it wrote.
 */
#ifndef PAMORY_CACHE_H
#define PAMORY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "http.h"

#define PAMORY_CACHE_DEFAULT_TTL 600     /* seconds */
#define PAMORY_CACHE_MAX_TTL 86400       /* seconds */
#define PAMORY_CACHE_LOCK_WAIT 5         /* seconds */
#define PAMORY_CACHE_REFRESH_INTERVAL 30 /* seconds between forced refreshes of one URL */

struct pamory_cache {
    const char *dir;      /* NULL: no cache, always fetch */
    time_t max_stale;     /* seconds an expired entry may still stand in */
};

enum pamory_cache_mode {
    PAMORY_CACHE_USE,     /* a fresh entry answers without a request */
    PAMORY_CACHE_REFRESH  /* fetch now (unknown kid), unless this URL was force-refreshed
                             less than PAMORY_CACHE_REFRESH_INTERVAL seconds ago by any
                             process: then answer from the entry without a request */
};

/*
 * GET url through the cache.  On success returns 0 and *body and *len hold the
 * document (heap, NUL-terminated; the caller frees it).  *fetched (may be
 * NULL) is set to true when this call made a request, answered or not.  Returns -1 after
 * logging when there is neither a usable answer from the IdP (HTTP 200) nor
 * an entry within max_stale.  A non-200 answer is an error, never cached.
 */
int pamory_cached_get(const struct pamory_http *http, const struct pamory_cache *cache,
                      const char *url, enum pamory_cache_mode mode,
                      char **body, size_t *len, bool *fetched);

#endif
