/* Unit tests for flow/sanitize.c: nothing but printable ASCII reaches a terminal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "flow/sanitize.h"

/* Sanitize in, compare, free: the shape of every case below. */
static void expect_sanitized(const char *in, const char *want)
{
    char *out = pamory_sanitize(in);

    assert_non_null(out);
    assert_string_equal(out, want);
    assert_true(pamory_is_printable_ascii(out));
    free(out);
}

static void test_clean_unchanged(void **state)
{
    (void)state;
    expect_sanitized("https://auth.example.com/oauth2/device/verify?user_code=pXk3fQaM",
                     "https://auth.example.com/oauth2/device/verify?user_code=pXk3fQaM");
    expect_sanitized(" !~", " !~");
    expect_sanitized("", "");
    assert_true(pamory_is_printable_ascii("ABCD-EFGH"));
}

static void test_escape_sequences(void **state)
{
    (void)state;
    /* Clear screen and move the cursor home, then a fake URL. */
    expect_sanitized("\x1b[2J\x1b[Hhttps://evil", "?[2J?[Hhttps://evil");
    /* OSC 8 hyperlink, terminated by BEL. */
    expect_sanitized("\x1b]8;;https://evil\x07x", "?]8;;https://evil?x");
    assert_false(pamory_is_printable_ascii("\x1b[31mred"));
}

static void test_control_characters(void **state)
{
    (void)state;
    expect_sanitized("a\rb", "a?b");
    expect_sanitized("a\nb", "a?b");
    expect_sanitized("a\tb", "a?b");
    expect_sanitized("a\x7f" "b", "a?b");
    expect_sanitized("\x01\x1f", "??");
    assert_false(pamory_is_printable_ascii("a\rb"));
    assert_false(pamory_is_printable_ascii("a\x7f"));
}

static void test_c1_controls(void **state)
{
    (void)state;
    /* 0x9b is CSI on terminals that honour 8-bit controls. */
    expect_sanitized("\x9b" "2J", "?2J");
    expect_sanitized("\x80\x9f", "??");
    assert_false(pamory_is_printable_ascii("\x9b" "2J"));
}

static void test_utf8_multibyte(void **state)
{
    (void)state;
    /* "é" is two bytes, "€" three, and "😀" four: one '?' per byte. */
    expect_sanitized("caf\xc3\xa9", "caf??");
    expect_sanitized("\xe2\x82\xac", "???");
    expect_sanitized("\xf0\x9f\x98\x80", "????");
    /* An overlong encoding of ESC must not survive either. */
    expect_sanitized("\xc0\x9b", "??");
    assert_false(pamory_is_printable_ascii("caf\xc3\xa9"));
}

static void test_null(void **state)
{
    (void)state;
    assert_null(pamory_sanitize(NULL));
    assert_false(pamory_is_printable_ascii(NULL));
}

/* The buffer variant: same rule, cut to fit, "-" for NULL, never past the buffer. */
static void test_sanitize_into(void **state)
{
    char out[8];

    (void)state;
    pamory_sanitize_into("ab\x1b[2Jc", out, sizeof(out));
    assert_string_equal(out, "ab?[2Jc");
    pamory_sanitize_into("0123456789", out, sizeof(out));
    assert_string_equal(out, "0123456");
    pamory_sanitize_into(NULL, out, sizeof(out));
    assert_string_equal(out, "-");
    pamory_sanitize_into("x", out, 1);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_unchanged),
        cmocka_unit_test(test_sanitize_into),
        cmocka_unit_test(test_escape_sequences),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_c1_controls),
        cmocka_unit_test(test_utf8_multibyte),
        cmocka_unit_test(test_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
