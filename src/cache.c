/*
 * The file cache behind pamory_cached_get.  One entry per URL, named by the
 * URL's hash, with a lock file beside it.  Every file is opened relative to
 * a descriptor of the checked cache directory, and every entry is checked on
 * its open descriptor, so nothing can be swapped in between check and use.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "cache.h"
#include "clock.h"
#include "json.h"

#define NAME_HEX 32                 /* hex digits of SHA-256(url) in an entry's name */
#define NAME_MAX_LEN (NAME_HEX + 48) /* "<hash>.json", "<hash>.lock", "<hash>.<pid>.<ns>.tmp" */
#define LOCK_POLL_NS 50000000L      /* between attempts at a busy lock */
/* An entry is a response body, JSON-escaped, plus a few members. */
#define ENTRY_MAX (2 * PAMORY_HTTP_MAX_BODY + 64 * 1024)

/* A parsed entry file; body is borrowed from doc. */
struct entry {
    json_object *doc;
    const char *body;
    size_t len;
    int64_t fetched, expires, forced;
};

/* One call's view of the cache. */
struct lookup {
    const struct pamory_http *http;
    const struct pamory_cache *cache;
    const char *url;
    int dirfd;
    char name[NAME_HEX + 1];
    struct entry entry;       /* entry.doc == NULL: no usable entry */
    int told;                 /* an ignored entry was logged already */
};

/* ------------------------------------------------------------ the directory */

/*
 * The cache directory, created if missing, as an open descriptor; or -1
 * after one line saying why caching is off.  The same rules as for our
 * config files: only root or we ourselves may own it, and nobody else may
 * even list it, since a planted entry would be a planted signing key.
 */
static int open_dir(const struct pamory_log *log, const char *dir)
{
    struct stat st;
    int fd;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        pamory_err(log, "cache_dir %s: cannot create: %s; not caching", dir, strerror(errno));
        return -1;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        /* O_NOFOLLOW | O_DIRECTORY on a symlink fails with ENOTDIR or ELOOP. */
        pamory_err(log, "cache_dir %s: cannot open: %s; not caching", dir,
                   errno == ELOOP || errno == ENOTDIR ? "not a directory (symbolic links are not followed)"
                                                      : strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) ||
        (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 077) != 0) {
        pamory_err(log, "cache_dir %s: must be a directory owned by root with no access for "
                   "group or others (chmod 0700); not caching", dir);
        close(fd);
        return -1;
    }
    return fd;
}

/* The file name stem for url: the first NAME_HEX hex digits of its SHA-256. */
static int entry_name(const char *url, char out[NAME_HEX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int i;

    if (EVP_Digest(url, strlen(url), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen * 2 < NAME_HEX)
        return -1;
    for (i = 0; i < NAME_HEX / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* ----------------------------------------------------------------- entries */

static void entry_clear(struct entry *e)
{
    json_object_put(e->doc);
    memset(e, 0, sizeof(*e));
}

/*
 * Say once per call why an entry is not used.  A file that fails the owner
 * and mode rules was not written by us: that is worth a notice.  A corrupt
 * one is most likely a write cut short by a crash: debug.
 */
static void ignore(struct lookup *l, int suspicious, const char *why)
{
    if (l->told++)
        return;
    if (suspicious)
        pamory_notice(l->http->log, "cache entry %s for %.200s ignored: %s; it will be replaced",
                      l->name, l->url, why);
    else
        pamory_debug(l->http->log, "cache entry %s for %.200s ignored: %s", l->name, l->url, why);
}

/*
 * The whole file into a heap buffer of size+1 bytes; the extra byte catches
 * a file that grew after fstat.  NULL on any failure.
 */
static char *read_all(int fd, size_t size)
{
    char *buf = malloc(size + 1);
    size_t n = 0;
    ssize_t r;

    while (buf != NULL && n <= size) {
        r = read(fd, buf + n, size + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    if (buf != NULL && n != size) {
        free(buf);
        return NULL;
    }
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

/* Turn an entry file's text into l->entry, if it is one of ours for this URL. */
static void parse_entry(struct lookup *l, const char *text, size_t len)
{
    struct entry *e = &l->entry;
    json_object *body;
    const char *url;

    e->doc = pamory_json_parse_object(text, len);
    if (e->doc == NULL ||
        pamory_json_string(e->doc, "url", &url) != PAMORY_JSON_OK ||
        pamory_json_int64(e->doc, "fetched", &e->fetched) != PAMORY_JSON_OK ||
        pamory_json_int64(e->doc, "expires", &e->expires) != PAMORY_JSON_OK ||
        pamory_json_int64(e->doc, "forced", &e->forced) != PAMORY_JSON_OK ||
        !json_object_object_get_ex(e->doc, "body", &body) ||
        !json_object_is_type(body, json_type_string)) {
        entry_clear(e);
        ignore(l, 0, "not a valid entry");
        return;
    }
    if (strcmp(url, l->url) != 0) {
        entry_clear(e);
        ignore(l, 1, "it is for another URL");
        return;
    }
    e->body = json_object_get_string(body);
    e->len = (size_t)json_object_get_string_len(body);
}

/*
 * Read the entry for l->url into l->entry, or leave it empty.  An entry is
 * trusted only as a regular file of our own uid that nobody else can read
 * or write: anything else may have been planted, and is ignored.
 */
static void read_entry(struct lookup *l)
{
    char path[NAME_MAX_LEN];
    struct stat st;
    char *text = NULL;
    int fd;

    entry_clear(&l->entry);
    snprintf(path, sizeof(path), "%s.json", l->name);
    fd = openat(l->dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno != ENOENT)
            ignore(l, errno == ELOOP, errno == ELOOP ? "is a symbolic link" : strerror(errno));
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        ignore(l, 1, "not a regular file");
    else if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
        ignore(l, 1, "wrong owner or mode");
    else if (st.st_size > ENTRY_MAX)
        ignore(l, 1, "too large");
    else if ((text = read_all(fd, (size_t)st.st_size)) == NULL)
        ignore(l, 0, "cannot be read");
    else
        parse_entry(l, text, (size_t)st.st_size);
    free(text);
    close(fd);
}

/*
 * Can the entry answer without a request?  In USE mode while fresh; in
 * REFRESH mode when some process force-fetched it moments ago, which is the
 * rate limit on refetches for unknown kids.  A time ahead of the clock (the
 * clock was set back) counts as neither fresh nor recent.
 */
static int entry_answers(const struct entry *e, enum pamory_cache_mode mode)
{
    int64_t now = (int64_t)time(NULL);

    if (e->doc == NULL)
        return 0;
    if (mode == PAMORY_CACHE_REFRESH)
        return e->forced != 0 && e->forced <= now && now - e->forced < PAMORY_CACHE_REFRESH_INTERVAL;
    return e->fetched <= now && now < e->expires;
}

/* A heap copy of the entry's document for the caller. */
static int give_entry(const struct lookup *l, char **body, size_t *len)
{
    *body = malloc(l->entry.len + 1);
    if (*body == NULL) {
        pamory_err(l->http->log, "out of memory");
        return -1;
    }
    memcpy(*body, l->entry.body, l->entry.len);
    (*body)[l->entry.len] = '\0';
    *len = l->entry.len;
    return 0;
}

/* ------------------------------------------------------------------ writing */

/* Seconds a response stays fresh: its max-age up to a day, else the default. */
static int64_t freshness(long max_age)
{
    if (max_age < 0)
        return PAMORY_CACHE_DEFAULT_TTL;
    return max_age < PAMORY_CACHE_MAX_TTL ? max_age : PAMORY_CACHE_MAX_TTL;
}

/* The entry's text, or NULL.  The caller frees it. */
static char *entry_text(const char *url, int64_t now, int64_t expires, int64_t forced,
                        const struct pamory_http_response *resp)
{
    json_object *o = json_object_new_object();
    const char *s;
    char *text = NULL;

    if (o != NULL &&
        json_object_object_add(o, "url", json_object_new_string(url)) == 0 &&
        json_object_object_add(o, "fetched", json_object_new_int64(now)) == 0 &&
        json_object_object_add(o, "expires", json_object_new_int64(expires)) == 0 &&
        json_object_object_add(o, "forced", json_object_new_int64(forced)) == 0 &&
        json_object_object_add(o, "body", json_object_new_string_len(resp->body, (int)resp->len)) == 0 &&
        (s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                               JSON_C_TO_STRING_NOSLASHESCAPE)) != NULL)
        text = strdup(s);
    json_object_put(o);
    return text;
}

/* write() all of it, or fail. */
static int write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * Replace the entry atomically: a new 0600 file beside it, then rename().
 * Readers see the old entry or the new one, never half of one; and rename()
 * replaces whatever sat at the name, a planted symlink or file included.
 */
static void write_entry(struct lookup *l, const char *text)
{
    char tmp[NAME_MAX_LEN], path[NAME_MAX_LEN];
    struct timespec ts;
    int fd, ok;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(tmp, sizeof(tmp), "%s.%ld.%ld.tmp", l->name, (long)getpid(), (long)ts.tv_nsec);
    snprintf(path, sizeof(path), "%s.json", l->name);
    fd = openat(l->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        pamory_notice(l->http->log, "cannot write cache entry %s: %s", l->name, strerror(errno));
        return;
    }
    /* 0600 whatever the umask: a stricter mode would lock a non-root reader out. */
    ok = fchmod(fd, 0600) == 0 && write_all(fd, text, strlen(text)) == 0;
    ok = close(fd) == 0 && ok;
    if (ok && renameat(l->dirfd, tmp, l->dirfd, path) == 0)
        return;
    pamory_notice(l->http->log, "cannot write cache entry %s: %s", l->name, strerror(errno));
    unlinkat(l->dirfd, tmp, 0);
}

/*
 * Store a 200 answer.  A forced fetch records its time, so other processes
 * skip theirs for a while; a plain one keeps the previous forced time.
 * no-store and no-cache arrive as max-age 0: stored anyway, stale at once,
 * but there to stand in when the IdP is down.
 */
static void store(struct lookup *l, enum pamory_cache_mode mode,
                  const struct pamory_http_response *resp)
{
    int64_t now = (int64_t)time(NULL);
    int64_t forced = mode == PAMORY_CACHE_REFRESH ? now : l->entry.doc != NULL ? l->entry.forced : 0;
    char *text = entry_text(l->url, now, now + freshness(resp->max_age), forced, resp);

    if (text == NULL)
        pamory_notice(l->http->log, "cannot write cache entry %s: out of memory", l->name);
    else if (strlen(text) > ENTRY_MAX)
        pamory_debug(l->http->log, "not caching %.200s: too large", l->url);
    else
        write_entry(l, text);
    free(text);
}

/* ----------------------------------------------------------------- fetching */

/* GET url; 0 only for an HTTP 200 answer, else -1 after one line saying why. */
static int fetch(const struct pamory_http *http, const char *url, struct pamory_http_response *resp)
{
    if (pamory_http_get(http, url, resp) != 0)
        return -1;   /* logged */
    if (resp->status == 200)
        return 0;
    pamory_err(http->log, "%.200s answered HTTP %ld", url, resp->status);
    return -1;
}

/* Hand the response body to the caller, who frees it. */
static void give_body(struct pamory_http_response *resp, char **body, size_t *len)
{
    *body = resp->body;
    *len = resp->len;
    resp->body = NULL;
    resp->len = 0;
}

/* No cache: a plain GET. */
static int fetch_uncached(const struct pamory_http *http, const char *url,
                          char **body, size_t *len)
{
    struct pamory_http_response resp;
    int r = fetch(http, url, &resp);

    if (r == 0)
        give_body(&resp, body, len);
    pamory_http_response_free(&resp);
    return r;
}

/*
 * The IdP did not answer: an entry no more than max_stale past its expiry
 * may stand in, so a short outage does not lock everybody out.
 */
static int stand_in(const struct lookup *l, char **body, size_t *len)
{
    int64_t now = (int64_t)time(NULL);

    if (l->entry.doc == NULL)
        return -1;
    if (now - l->entry.expires > (int64_t)l->cache->max_stale) {
        pamory_err(l->http->log, "the cached copy of %.200s expired %" PRId64 " s ago, "
                   "longer than jwks_max_stale allows", l->url, now - l->entry.expires);
        return -1;
    }
    pamory_notice(l->http->log, "using cached %.200s from %" PRId64 " s ago: the IdP could "
                  "not be reached", l->url, now - l->entry.fetched);
    return give_entry(l, body, len);
}

/* Fetch, store and hand out; or fall back on the entry. */
static int refresh(struct lookup *l, enum pamory_cache_mode mode, char **body, size_t *len)
{
    struct pamory_http_response resp;
    int r;

    if (fetch(l->http, l->url, &resp) == 0) {
        store(l, mode, &resp);
        give_body(&resp, body, len);
        r = 0;
    } else {
        r = stand_in(l, body, len);
    }
    pamory_http_response_free(&resp);
    return r;
}

/*
 * The lock that lets one process fetch while the others wait for its
 * result: polled, so the wait is bounded by PAMORY_CACHE_LOCK_WAIT and by
 * the login's deadline.  -1 when it cannot be had in time; the caller then
 * fetches anyway, because a stuck lock must not block logins.
 */
static int take_lock(const struct lookup *l)
{
    const struct timespec pause = { 0, LOCK_POLL_NS };
    time_t until = pamory_monotonic_now() + PAMORY_CACHE_LOCK_WAIT;
    char path[NAME_MAX_LEN];
    int fd;

    if (l->http->deadline != 0 && l->http->deadline < until)
        until = l->http->deadline;
    snprintf(path, sizeof(path), "%s.lock", l->name);
    fd = openat(l->dirfd, path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
    if (fd < 0) {
        pamory_notice(l->http->log, "cannot open cache lock %s: %s; fetching without it",
                      path, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || pamory_monotonic_now() >= until) {
            pamory_notice(l->http->log, "cache lock %s not free in time; fetching without it", path);
            close(fd);
            return -1;
        }
        nanosleep(&pause, NULL);
    }
    return fd;
}

/* Through the cache: the entry if it answers, else one process fetches for all. */
static int cached(struct lookup *l, enum pamory_cache_mode mode, char **body, size_t *len,
                  bool *fetched)
{
    int lock, r;

    read_entry(l);
    if (entry_answers(&l->entry, mode))
        return give_entry(l, body, len);
    lock = take_lock(l);
    read_entry(l);   /* whoever held the lock may just have refreshed it */
    if (entry_answers(&l->entry, mode)) {
        r = give_entry(l, body, len);
    } else {
        *fetched = true;
        r = refresh(l, mode, body, len);
    }
    if (lock >= 0)
        close(lock);   /* releases the flock */
    return r;
}

int pamory_cached_get(const struct pamory_http *http, const struct pamory_cache *cache,
                      const char *url, enum pamory_cache_mode mode,
                      char **body, size_t *len, bool *fetched)
{
    struct lookup l;
    bool made_request = false;
    int r;

    *body = NULL;
    *len = 0;
    memset(&l, 0, sizeof(l));
    l.http = http;
    l.cache = cache;
    l.url = url;
    l.dirfd = -1;
    if (cache != NULL && cache->dir != NULL && entry_name(url, l.name) == 0)
        l.dirfd = open_dir(http->log, cache->dir);
    if (l.dirfd < 0) {
        made_request = true;
        r = fetch_uncached(http, url, body, len);
    } else {
        r = cached(&l, mode, body, len, &made_request);
        entry_clear(&l.entry);
        close(l.dirfd);
    }
    if (fetched != NULL)
        *fetched = made_request;
    return r;
}
