/* Unit tests for the map-file matching in src/account.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "account.h"

static const struct pamory_log quiet = { NULL, false };

static const char map[] =
    "# subject            local user\n"
    "\n"
    "user-123 alice\n"
    "  user-456\tbob   \n"
    "user-123 alice-admin\r\n"
    "#user-789 carol\n";

static void mapped_pairs_are_allowed(void **state)
{
    (void)state;
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-123", "alice"), 1);
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-456", "bob"), 1);
    /* One identity may map to several accounts. */
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-123", "alice-admin"), 1);
}

static void other_pairs_are_not(void **state)
{
    (void)state;
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-123", "bob"), 0);
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-456", "alice"), 0);
    /* Commented out lines do not count, and nothing matches by prefix. */
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-789", "carol"), 0);
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-12", "alice"), 0);
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-123", "alic"), 0);
    assert_int_equal(pamory_map_allows(&quiet, "map", map, "user-123", "ALICE"), 0);
    assert_int_equal(pamory_map_allows(&quiet, "map", "", "user-123", "alice"), 0);
}

static void malformed_lines_are_errors(void **state)
{
    (void)state;
    assert_int_equal(pamory_map_allows(&quiet, "map", "user-123\n", "user-123", "alice"), -1);
    assert_int_equal(pamory_map_allows(&quiet, "map", "user-123 alice extra\n", "user-123", "alice"), -1);
    /* A broken line anywhere is an error, even after a matching line would
     * have been found: the file as a whole is not trustworthy. */
    assert_int_equal(pamory_map_allows(&quiet, "map", "a b\nbroken\n", "x", "y"), -1);
    assert_int_equal(pamory_map_allows(&quiet, "map", "x y\nbroken\n", "x", "y"), -1);
}

/* What pamory_map_each reported, for the iterator tests. */
struct seen {
    int n;
    int lineno[8];
    char claim[8][32];
    char user[8][32];
    int stop_at;   /* return -7 on this call number (1-based); 0: never */
};

static int record(void *arg, int lineno, const char *claim, const char *user)
{
    struct seen *s = arg;

    if (s->n < 8) {
        s->lineno[s->n] = lineno;
        snprintf(s->claim[s->n], sizeof(s->claim[0]), "%s", claim);
        snprintf(s->user[s->n], sizeof(s->user[0]), "%s", user);
    }
    s->n++;
    return s->n == s->stop_at ? -7 : 0;
}

static void each_visits_every_pair_with_its_line(void **state)
{
    struct seen s = { 0 };

    (void)state;
    assert_int_equal(pamory_map_each(&quiet, "map", map, record, &s), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.lineno[0], 3);
    assert_string_equal(s.claim[0], "user-123");
    assert_string_equal(s.user[0], "alice");
    assert_int_equal(s.lineno[1], 4);
    assert_string_equal(s.claim[1], "user-456");
    assert_string_equal(s.user[1], "bob");
    assert_int_equal(s.lineno[2], 5);
    assert_string_equal(s.user[2], "alice-admin");   /* the CR of a CRLF line is not part of it */

    memset(&s, 0, sizeof(s));
    assert_int_equal(pamory_map_each(&quiet, "map", "", record, &s), 0);
    assert_int_equal(s.n, 0);
}

static void each_reads_past_malformed_lines(void **state)
{
    struct seen s = { 0 };

    (void)state;
    /* Every good line is still visited, so a checker can report everything. */
    assert_int_equal(pamory_map_each(&quiet, "map", "broken\na b\nx y z\nc d\n", record, &s), -1);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.lineno[0], 2);
    assert_string_equal(s.user[0], "b");
    assert_int_equal(s.lineno[1], 4);
    assert_string_equal(s.user[1], "d");
}

static void each_stops_when_told(void **state)
{
    struct seen s = { .stop_at = 1 };

    (void)state;
    assert_int_equal(pamory_map_each(&quiet, "map", map, record, &s), -7);
    assert_int_equal(s.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mapped_pairs_are_allowed),
        cmocka_unit_test(other_pairs_are_not),
        cmocka_unit_test(malformed_lines_are_errors),
        cmocka_unit_test(each_visits_every_pair_with_its_line),
        cmocka_unit_test(each_reads_past_malformed_lines),
        cmocka_unit_test(each_stops_when_told),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
