/*
 * Unit tests for the file cache (src/cache.c): freshness, stale fallback,
 * the refresh rate limit, the owner and mode rules for entries and for
 * cache_dir, and the lock that makes concurrent processes share one fetch.
 *
 * This program defines pamory_http_get and pamory_http_response_free itself,
 * so the linker never pulls http.o out of libpamory.  Requests are counted
 * in a file, so that forked children count too.  Timestamps are moved by
 * rewriting entries rather than by sleeping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir.h"
#include <openssl/evp.h>

#include "cache.h"
#include "clock.h"
#include "json.h"

#define URL "https://idp.example.com/.well-known/jwks.json"
#define OTHER_URL "https://idp.example.com/.well-known/openid-configuration"
#define DOC "{\"keys\":[]}"

static const struct pamory_log quiet = { NULL, true };

/* ---------------------------------------------------------- fake HTTP */

/* What the fake IdP answers; the same for every request. */
static struct {
    long status;        /* 0: transport failure */
    const char *body;
    long max_age;
    unsigned delay_ms;  /* how long a request takes */
    char counter[256];  /* a file that grows by one byte per request */
} idp;

int pamory_http_get(const struct pamory_http *http, const char *url,
                    struct pamory_http_response *resp)
{
    struct timespec ts = { idp.delay_ms / 1000, (long)(idp.delay_ms % 1000) * 1000000L };
    int fd = open(idp.counter, O_WRONLY | O_APPEND | O_CREAT, 0600);

    (void)http;
    (void)url;
    if (fd < 0 || write(fd, "x", 1) != 1)
        abort();
    close(fd);
    nanosleep(&ts, NULL);
    memset(resp, 0, sizeof(*resp));
    resp->max_age = -1;
    if (idp.status == 0)
        return -1;
    resp->status = idp.status;
    resp->body = strdup(idp.body);
    resp->len = strlen(idp.body);
    resp->max_age = idp.max_age;
    return 0;
}

void pamory_http_response_free(struct pamory_http_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

/* Requests made so far, by every process. */
static long requests(void)
{
    struct stat st;

    return stat(idp.counter, &st) == 0 ? (long)st.st_size : 0;
}

/* ----------------------------------------------------------- fixture */

struct fixture {
    char root[64];        /* a fresh temporary directory */
    char dir[128];        /* cache_dir below it, not yet created */
    struct pamory_cache cache;
    struct pamory_http http;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->root, sizeof(f->root), "/tmp/pamory-cache-XXXXXX");
    if (mkdtemp(f->root) == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/cache", f->root);
    f->cache.dir = f->dir;
    f->cache.max_stale = 3600;
    f->http.log = &quiet;
    memset(&idp, 0, sizeof(idp));
    idp.status = 200;
    idp.body = DOC;
    idp.max_age = -1;
    snprintf(idp.counter, sizeof(idp.counter), "%s/requests", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tmpdir_remove(f->root);
    free(f);
    return 0;
}

/* ----------------------------------------------------------- helpers */

/* pamory_cached_get, returning the body (or NULL on failure) and whether it fetched. */
static char *get(struct fixture *f, const char *url, enum pamory_cache_mode mode, bool *fetched)
{
    char *body = NULL;
    size_t len = 0;
    bool dummy;

    if (pamory_cached_get(&f->http, &f->cache, url, mode, &body, &len, fetched ? fetched : &dummy) != 0) {
        assert_null(body);
        return NULL;
    }
    assert_non_null(body);
    assert_int_equal(len, strlen(body));
    return body;
}

/* A get answers want_body (NULL: fails), making a request or not as said. */
static void expect_get(struct fixture *f, enum pamory_cache_mode mode, const char *want_body,
                       bool want_fetched)
{
    bool fetched = !want_fetched;
    char *body = get(f, URL, mode, &fetched);

    if (want_body == NULL) {
        assert_null(body);
    } else {
        assert_non_null(body);
        assert_string_equal(body, want_body);
    }
    assert_int_equal(fetched, want_fetched);
    free(body);
}

/* The entry file for url in f's cache. */
static void entry_path(const struct fixture *f, const char *url, char *out, size_t outlen)
{
    unsigned char md[32];
    unsigned int n = 0;
    char hex[33];
    int i;

    assert_int_equal(EVP_Digest(url, strlen(url), md, &n, EVP_sha256(), NULL), 1);
    for (i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(out, outlen, "%s/%s.json", f->dir, hex);
}

/* The entry for URL, parsed. */
static json_object *read_entry(const struct fixture *f)
{
    char path[256], buf[8192];
    ssize_t n;
    int fd;

    entry_path(f, URL, path, sizeof(path));
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf));
    close(fd);
    assert_true(n > 0);
    return pamory_json_parse_object(buf, (size_t)n);
}

static int64_t member(json_object *entry, const char *name)
{
    int64_t v = 0;

    assert_int_equal(pamory_json_int64(entry, name, &v), PAMORY_JSON_OK);
    return v;
}

/* Write an entry file by hand: the way tests move time and plant files. */
static void write_entry_file(const char *path, const char *url, int64_t fetched, int64_t expires,
                             int64_t forced, const char *body, mode_t mode)
{
    json_object *o = json_object_new_object();
    const char *text;
    int fd;

    json_object_object_add(o, "url", json_object_new_string(url));
    json_object_object_add(o, "fetched", json_object_new_int64(fetched));
    json_object_object_add(o, "expires", json_object_new_int64(expires));
    json_object_object_add(o, "forced", json_object_new_int64(forced));
    json_object_object_add(o, "body", json_object_new_string(body));
    text = json_object_to_json_string(o);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    json_object_put(o);
}

/* Shift the entry for URL into the past by secs (fetched, expires and forced alike). */
static void age_entry(const struct fixture *f, int64_t secs)
{
    json_object *e = read_entry(f);
    const char *body = NULL;
    int64_t forced = member(e, "forced");
    char path[256];

    entry_path(f, URL, path, sizeof(path));
    assert_int_equal(pamory_json_string(e, "body", &body), PAMORY_JSON_OK);
    write_entry_file(path, URL, member(e, "fetched") - secs, member(e, "expires") - secs,
                     forced != 0 ? forced - secs : 0, body, 0600);
    json_object_put(e);
}

/* The entry is ours: a 0600 regular file of our uid holding want_body. */
static void assert_entry_sound(const struct fixture *f, const char *want_body)
{
    char path[256];
    struct stat st;
    json_object *e;
    const char *body = NULL;

    entry_path(f, URL, path, sizeof(path));
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, geteuid());
    e = read_entry(f);
    assert_non_null(e);
    assert_int_equal(pamory_json_string(e, "body", &body), PAMORY_JSON_OK);
    assert_string_equal(body, want_body);
    json_object_put(e);
}

/* ------------------------------------------------------------- tests */

static void miss_fetches_and_writes(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    json_object *e;
    const char *url = NULL;
    time_t now = time(NULL);

    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    assert_int_equal(requests(), 1);
    assert_int_equal(stat(f->dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_entry_sound(f, DOC);
    e = read_entry(f);
    assert_int_equal(pamory_json_string(e, "url", &url), PAMORY_JSON_OK);
    assert_string_equal(url, URL);
    assert_true(member(e, "fetched") >= now && member(e, "fetched") <= now + 2);
    assert_int_equal(member(e, "expires") - member(e, "fetched"), PAMORY_CACHE_DEFAULT_TTL);
    assert_int_equal(member(e, "forced"), 0);
    json_object_put(e);
}

static void fresh_hit_makes_no_request(void **state)
{
    struct fixture *f = *state;

    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    idp.body = "{\"keys\":[{}]}";
    expect_get(f, PAMORY_CACHE_USE, DOC, false);
    expect_get(f, PAMORY_CACHE_USE, DOC, false);
    assert_int_equal(requests(), 1);
}

/* Another URL is another entry. */
static void entries_are_per_url(void **state)
{
    struct fixture *f = *state;
    bool fetched = false;
    char *body;

    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    idp.body = "{\"keys\":[{}]}";
    body = get(f, OTHER_URL, PAMORY_CACHE_USE, &fetched);
    assert_true(fetched);
    assert_string_equal(body, "{\"keys\":[{}]}");
    free(body);
    expect_get(f, PAMORY_CACHE_USE, DOC, false);
    assert_int_equal(requests(), 2);
}

/* The entry's lifetime is max-age, capped at a day; without one, the default. */
static void max_age_honoured(void **state)
{
    struct fixture *f = *state;
    json_object *e;

    idp.max_age = 1;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    e = read_entry(f);
    assert_int_equal(member(e, "expires") - member(e, "fetched"), 1);
    json_object_put(e);
    age_entry(f, 2);                      /* as if two seconds had passed */
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    assert_int_equal(requests(), 2);

    idp.max_age = 10L * PAMORY_CACHE_MAX_TTL;
    age_entry(f, 2);
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    e = read_entry(f);
    assert_int_equal(member(e, "expires") - member(e, "fetched"), PAMORY_CACHE_MAX_TTL);
    json_object_put(e);
    expect_get(f, PAMORY_CACHE_USE, DOC, false);
}

/* no-store / no-cache (max_age 0): stale at once, but stored to stand in later. */
static void no_store_is_stored_but_stale(void **state)
{
    struct fixture *f = *state;

    idp.max_age = 0;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    assert_entry_sound(f, DOC);
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    assert_int_equal(requests(), 2);
    idp.status = 0;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);   /* stands in */
}

static void stale_entry_stands_in_while_idp_down(void **state)
{
    struct fixture *f = *state;

    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    age_entry(f, PAMORY_CACHE_DEFAULT_TTL + 600);   /* expired 10 minutes ago */
    idp.status = 0;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    idp.status = 503;
    idp.body = "{\"error\":\"down\"}";
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    assert_entry_sound(f, DOC);                     /* an error answer is never stored */
    f->cache.max_stale = 599;                       /* now too old to stand in */
    expect_get(f, PAMORY_CACHE_USE, NULL, true);
    idp.status = 0;
    expect_get(f, PAMORY_CACHE_USE, NULL, true);
    f->cache.max_stale = 660;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    /* The IdP is back: the new document replaces the stale one. */
    idp.status = 200;
    idp.body = "{\"keys\":[1]}";
    expect_get(f, PAMORY_CACHE_USE, "{\"keys\":[1]}", true);
    expect_get(f, PAMORY_CACHE_USE, "{\"keys\":[1]}", false);
}

static void nothing_cached_and_idp_down(void **state)
{
    struct fixture *f = *state;
    char path[256];

    idp.status = 0;
    expect_get(f, PAMORY_CACHE_USE, NULL, true);
    idp.status = 500;
    idp.body = "oops";
    expect_get(f, PAMORY_CACHE_USE, NULL, true);
    expect_get(f, PAMORY_CACHE_REFRESH, NULL, true);
    entry_path(f, URL, path, sizeof(path));
    assert_int_equal(access(path, F_OK), -1);
}

/* REFRESH: one request per interval per URL, whoever asks. */
static void refresh_is_rate_limited(void **state)
{
    struct fixture *f = *state;
    json_object *e;
    time_t now = time(NULL);

    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    idp.body = "{\"keys\":[2]}";
    expect_get(f, PAMORY_CACHE_REFRESH, "{\"keys\":[2]}", true);  /* a fresh entry is no excuse */
    e = read_entry(f);
    assert_true(member(e, "forced") >= now && member(e, "forced") <= now + 2);
    json_object_put(e);
    idp.body = "{\"keys\":[3]}";
    expect_get(f, PAMORY_CACHE_REFRESH, "{\"keys\":[2]}", false);
    expect_get(f, PAMORY_CACHE_REFRESH, "{\"keys\":[2]}", false);
    expect_get(f, PAMORY_CACHE_USE, "{\"keys\":[2]}", false);
    assert_int_equal(requests(), 2);
    age_entry(f, PAMORY_CACHE_REFRESH_INTERVAL);
    expect_get(f, PAMORY_CACHE_REFRESH, "{\"keys\":[3]}", true);
    assert_int_equal(requests(), 3);
}

/* A plain fetch of an expired entry keeps the last forced time: the limit still holds. */
static void use_fetch_keeps_forced_time(void **state)
{
    struct fixture *f = *state;
    time_t now = time(NULL);
    char path[256];
    json_object *e;

    assert_int_equal(mkdir(f->dir, 0700), 0);
    entry_path(f, URL, path, sizeof(path));
    write_entry_file(path, URL, now - 700, now - 100, now - 5, DOC, 0600);
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    e = read_entry(f);
    assert_int_equal(member(e, "forced"), now - 5);
    json_object_put(e);
    expect_get(f, PAMORY_CACHE_REFRESH, DOC, false);
    assert_int_equal(requests(), 1);
}

static void refresh_on_cold_cache_and_down_idp(void **state)
{
    struct fixture *f = *state;

    expect_get(f, PAMORY_CACHE_REFRESH, DOC, true);
    idp.status = 0;
    age_entry(f, PAMORY_CACHE_REFRESH_INTERVAL + 1);
    expect_get(f, PAMORY_CACHE_REFRESH, DOC, true);  /* fresh entry stands in for a failed refresh */
}

static void no_cache_dir_always_fetches(void **state)
{
    struct fixture *f = *state;

    f->cache.dir = NULL;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    expect_get(f, PAMORY_CACHE_REFRESH, DOC, true);
    expect_get(f, PAMORY_CACHE_REFRESH, DOC, true);
    assert_int_equal(requests(), 4);
    idp.status = 0;
    expect_get(f, PAMORY_CACHE_USE, NULL, true);
    assert_int_equal(access(f->dir, F_OK), -1);
    /* No cache at all (NULL) behaves the same. */
    {
        char *body = NULL;
        size_t len;

        idp.status = 200;
        assert_int_equal(pamory_cached_get(&f->http, NULL, URL, PAMORY_CACHE_USE, &body, &len, NULL), 0);
        assert_string_equal(body, DOC);
        free(body);
    }
}

/* Plant a fresh entry with the body "planted" in one of several unsafe shapes. */
enum plant { PLANT_MODE, PLANT_OWNER, PLANT_SYMLINK, PLANT_CORRUPT, PLANT_OTHER_URL,
             PLANT_EMPTY, PLANT_FIFO };

static void plant(struct fixture *f, enum plant how)
{
    char path[256], target[300];
    time_t now = time(NULL);

    assert_int_equal(mkdir(f->dir, 0700), 0);
    entry_path(f, URL, path, sizeof(path));
    switch (how) {
    case PLANT_MODE:
        write_entry_file(path, URL, now, now + 600, 0, "planted", 0644);
        break;
    case PLANT_OWNER:
        write_entry_file(path, URL, now, now + 600, 0, "planted", 0600);
        assert_int_equal(chown(path, 65534, 65534), 0);
        break;
    case PLANT_SYMLINK:
        snprintf(target, sizeof(target), "%s/elsewhere.json", f->root);
        write_entry_file(target, URL, now, now + 600, 0, "planted", 0600);
        assert_int_equal(symlink(target, path), 0);
        break;
    case PLANT_CORRUPT:
        write_entry_file(path, URL, now, now + 600, 0, "planted", 0600);
        assert_int_equal(truncate(path, 20), 0);
        break;
    case PLANT_OTHER_URL:
        write_entry_file(path, OTHER_URL, now, now + 600, 0, "planted", 0600);
        break;
    case PLANT_EMPTY:
        write_entry_file(path, URL, now, now + 600, 0, "planted", 0600);
        assert_int_equal(truncate(path, 0), 0);
        break;
    case PLANT_FIFO:
        assert_int_equal(mkfifo(path, 0600), 0);
        break;
    }
}

/* An entry we did not write, or cannot read as ours, is ignored and replaced. */
static void unsafe_entries_ignored_and_replaced(void **state)
{
    struct fixture *f = *state;
    enum plant how;

    for (how = PLANT_MODE; how <= PLANT_FIFO; how++) {
        if (how == PLANT_OWNER && geteuid() != 0)
            continue;   /* chown needs root */
        teardown(state);
        assert_int_equal(setup(state), 0);
        f = *state;
        plant(f, how);
        expect_get(f, PAMORY_CACHE_USE, DOC, true);
        assert_entry_sound(f, DOC);
        expect_get(f, PAMORY_CACHE_USE, DOC, false);
        /* An unsafe entry does not stand in either. */
        teardown(state);
        assert_int_equal(setup(state), 0);
        f = *state;
        plant(f, how);
        idp.status = 0;
        expect_get(f, PAMORY_CACHE_USE, NULL, true);
    }
}

/* A cache_dir that others could write to (or read) is not used; requests still work. */
static void unsafe_cache_dir_means_no_cache(void **state)
{
    struct fixture *f = *state;
    char path[256], link[160];

    assert_int_equal(mkdir(f->dir, 0755), 0);
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    entry_path(f, URL, path, sizeof(path));
    assert_int_equal(access(path, F_OK), -1);

    assert_int_equal(chmod(f->dir, 0700), 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(f->dir, 65534, 65534), 0);
        expect_get(f, PAMORY_CACHE_USE, DOC, true);
        expect_get(f, PAMORY_CACHE_USE, DOC, true);
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(chown(f->dir, 0, 0), 0);
    }

    /* A symlink to a good directory is refused too: it might be swapped. */
    snprintf(link, sizeof(link), "%s/link", f->root);
    assert_int_equal(symlink(f->dir, link), 0);
    f->cache.dir = link;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    expect_get(f, PAMORY_CACHE_USE, DOC, true);

    /* A parent that does not exist is not created. */
    snprintf(link, sizeof(link), "%s/no/such/dir", f->root);
    f->cache.dir = link;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    assert_int_equal(access(link, F_OK), -1);
    f->cache.dir = f->dir;
    expect_get(f, PAMORY_CACHE_USE, DOC, true);   /* the good one caches */
    expect_get(f, PAMORY_CACHE_USE, DOC, false);
}

/* Eight processes on a cold cache, each request 300 ms long: exactly one fetches. */
static void concurrent_processes_share_one_fetch(void **state)
{
    struct fixture *f = *state;
    pid_t pids[8];
    int i, status, ok = 0;

    idp.delay_ms = 300;
    for (i = 0; i < 8; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char *body = NULL;
            size_t len;
            int r = pamory_cached_get(&f->http, &f->cache, URL, PAMORY_CACHE_USE, &body, &len, NULL);

            _exit(r == 0 && body != NULL && strcmp(body, DOC) == 0 ? 0 : 1);
        }
    }
    for (i = 0; i < 8; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    assert_int_equal(ok, 8);
    assert_int_equal(requests(), 1);
}

/* The same for a stream of unknown kids: REFRESH from many processes, one request. */
static void concurrent_refreshes_share_one_fetch(void **state)
{
    struct fixture *f = *state;
    pid_t pids[8];
    int i, status, ok = 0;

    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    idp.delay_ms = 300;
    for (i = 0; i < 8; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char *body = NULL;
            size_t len;

            _exit(pamory_cached_get(&f->http, &f->cache, URL, PAMORY_CACHE_REFRESH, &body, &len,
                                    NULL) == 0 ? 0 : 1);
        }
    }
    for (i = 0; i < 8; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    assert_int_equal(ok, 8);
    assert_int_equal(requests(), 2);
}

/* A lock held forever does not block a login past its deadline: the fetch goes ahead. */
static void stuck_lock_does_not_block(void **state)
{
    struct fixture *f = *state;
    char path[256];
    size_t n;
    time_t start;
    int fd;

    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    age_entry(f, PAMORY_CACHE_DEFAULT_TTL + 1);
    entry_path(f, URL, path, sizeof(path));
    n = strlen(path);
    memcpy(path + n - 5, ".lock", 6);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    f->http.deadline = pamory_monotonic_now() + 1;
    start = pamory_monotonic_now();
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    assert_true(pamory_monotonic_now() - start <= 2);
    assert_int_equal(requests(), 2);
    assert_entry_sound(f, DOC);
    close(fd);
}

/* A clock set back leaves entries "from the future": not trusted as fresh. */
static void entry_from_the_future_is_not_fresh(void **state)
{
    struct fixture *f = *state;

    expect_get(f, PAMORY_CACHE_REFRESH, DOC, true);
    age_entry(f, -3600);
    expect_get(f, PAMORY_CACHE_USE, DOC, true);
    age_entry(f, -3600);
    expect_get(f, PAMORY_CACHE_REFRESH, DOC, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(miss_fetches_and_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(fresh_hit_makes_no_request, setup, teardown),
        cmocka_unit_test_setup_teardown(entries_are_per_url, setup, teardown),
        cmocka_unit_test_setup_teardown(max_age_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(no_store_is_stored_but_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_entry_stands_in_while_idp_down, setup, teardown),
        cmocka_unit_test_setup_teardown(nothing_cached_and_idp_down, setup, teardown),
        cmocka_unit_test_setup_teardown(refresh_is_rate_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(use_fetch_keeps_forced_time, setup, teardown),
        cmocka_unit_test_setup_teardown(refresh_on_cold_cache_and_down_idp, setup, teardown),
        cmocka_unit_test_setup_teardown(no_cache_dir_always_fetches, setup, teardown),
        cmocka_unit_test_setup_teardown(unsafe_entries_ignored_and_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(unsafe_cache_dir_means_no_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_processes_share_one_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_refreshes_share_one_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(stuck_lock_does_not_block, setup, teardown),
        cmocka_unit_test_setup_teardown(entry_from_the_future_is_not_fresh, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
