/* Unit tests for the map-file matching in src/account.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mapped_pairs_are_allowed),
        cmocka_unit_test(other_pairs_are_not),
        cmocka_unit_test(malformed_lines_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
