/* Unit tests for flow/prompt.c: the QR style rule and the one prompt text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <cmocka.h>

#include "flow/prompt.h"

#define VERIFY "https://auth.example.com/oauth2/device/verify"
#define COMPLETE VERIFY "?user_code=pXk3fQaM"
#define FINAL_LINE "Press Enter after you have approved: "

static const struct pamory_prompt_info info = {
    .host = "build-07.example.net",
    .service = "sshd",
    .user = "alice",
    .verification_uri = VERIFY,
    .verification_uri_complete = COMPLETE,
    .user_code = "pXk3fQaM",
};

/* Resolve and return the style, or -1 for "no QR code". */
static int resolve(enum pamory_qr qr, const char *service, const char *rhost, const char *locale)
{
    enum pamory_qr_style style;

    if (pamory_qr_resolve(qr, service, rhost, locale, &style) != 0)
        return -1;
    return (int)style;
}

static void test_resolve_explicit(void **state)
{
    (void)state;
    assert_int_equal(resolve(PAMORY_QR_OFF, "login", NULL, "C.UTF-8"), -1);
    assert_int_equal(resolve(PAMORY_QR_ASCII, "login", NULL, "C.UTF-8"), PAMORY_QR_STYLE_ASCII);
    assert_int_equal(resolve(PAMORY_QR_UTF8, "sshd", "192.0.2.1", "C"), PAMORY_QR_STYLE_UTF8);
}

static void test_resolve_auto(void **state)
{
    (void)state;
    /* Remote or sshd: ASCII whatever the locale. */
    assert_int_equal(resolve(PAMORY_QR_AUTO, "sshd", NULL, "en_US.UTF-8"), PAMORY_QR_STYLE_ASCII);
    assert_int_equal(resolve(PAMORY_QR_AUTO, "login", "192.0.2.1", "en_US.UTF-8"),
                     PAMORY_QR_STYLE_ASCII);
    /* Local: the locale decides, in any spelling of UTF-8. */
    assert_int_equal(resolve(PAMORY_QR_AUTO, "login", "", "en_US.UTF-8"), PAMORY_QR_STYLE_UTF8);
    assert_int_equal(resolve(PAMORY_QR_AUTO, "sudo", NULL, "de_DE.utf8"), PAMORY_QR_STYLE_UTF8);
    assert_int_equal(resolve(PAMORY_QR_AUTO, "sudo", NULL, "C.Utf-8"), PAMORY_QR_STYLE_UTF8);
    assert_int_equal(resolve(PAMORY_QR_AUTO, "sudo", NULL, "C"), PAMORY_QR_STYLE_ASCII);
    assert_int_equal(resolve(PAMORY_QR_AUTO, "sudo", NULL, "en_US.ISO-8859-1"),
                     PAMORY_QR_STYLE_ASCII);
    assert_int_equal(resolve(PAMORY_QR_AUTO, NULL, NULL, NULL), PAMORY_QR_STYLE_ASCII);
}

/* The user code as a script would find it: "Code:" then blanks then the code. */
static char *extract_code(const char *text)
{
    regex_t re;
    regmatch_t m[2];
    char *code = NULL;

    assert_int_equal(regcomp(&re, "Code:[[:space:]]+([^[:space:]]+)", REG_EXTENDED), 0);
    if (regexec(&re, text, 2, m, 0) == 0)
        code = strndup(text + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
    regfree(&re);
    return code;
}

static void assert_ends_with_prompt(const char *text)
{
    size_t len = strlen(text), flen = strlen(FINAL_LINE);

    assert_true(len > flen);
    assert_string_equal(text + len - flen, FINAL_LINE);
    assert_int_equal(text[len - flen - 1], '\n');
}

static void test_text_without_qr(void **state)
{
    char *text = pamory_prompt_text(&info, NULL);
    char *code;

    (void)state;
    assert_non_null(text);
    assert_non_null(strstr(text, "build-07.example.net"));
    assert_non_null(strstr(text, "sshd"));
    assert_non_null(strstr(text, "alice"));
    assert_non_null(strstr(text, VERIFY "\n"));
    assert_non_null(strstr(text, COMPLETE));
    assert_null(strstr(text, "##"));
    assert_null(strstr(text, "QR"));
    code = extract_code(text);
    assert_non_null(code);
    assert_string_equal(code, "pXk3fQaM");
    assert_ends_with_prompt(text);
    free(code);
    free(text);
}

static void test_text_with_ascii_qr(void **state)
{
    enum pamory_qr_style style = PAMORY_QR_STYLE_ASCII;
    char *text = pamory_prompt_text(&info, &style);
    char *qr = pamory_qr_render(COMPLETE, PAMORY_QR_STYLE_ASCII);
    const char *p;

    (void)state;
    assert_non_null(text);
    assert_non_null(qr);
    assert_non_null(strstr(text, qr));
    assert_non_null(strstr(text, "scan the QR code"));
    assert_non_null(strstr(text, COMPLETE));
    for (p = text; *p != '\0'; p++)
        assert_true(*p == '\n' || (*p >= 0x20 && *p <= 0x7e));
    assert_ends_with_prompt(text);
    free(qr);
    free(text);
}

static void test_text_with_utf8_qr(void **state)
{
    enum pamory_qr_style style = PAMORY_QR_STYLE_UTF8;
    char *text = pamory_prompt_text(&info, &style);
    char *qr = pamory_qr_render(COMPLETE, PAMORY_QR_STYLE_UTF8);

    (void)state;
    assert_non_null(text);
    assert_non_null(qr);
    assert_non_null(strstr(text, qr));
    assert_ends_with_prompt(text);
    free(qr);
    free(text);
}

/* Without a complete URI: no QR code and no second URL, even if asked for. */
static void test_text_without_complete_uri(void **state)
{
    struct pamory_prompt_info short_info = info;
    enum pamory_qr_style style = PAMORY_QR_STYLE_ASCII;
    char *text;

    (void)state;
    short_info.verification_uri_complete = NULL;
    text = pamory_prompt_text(&short_info, &style);
    assert_non_null(text);
    assert_null(strstr(text, "##"));
    assert_null(strstr(text, "user_code="));
    assert_non_null(strstr(text, VERIFY));
    assert_non_null(strstr(text, "pXk3fQaM"));
    assert_ends_with_prompt(text);
    free(text);
}

static void test_text_needs_uri_and_code(void **state)
{
    struct pamory_prompt_info bad = info;

    (void)state;
    assert_null(pamory_prompt_text(NULL, NULL));
    bad.user_code = NULL;
    assert_null(pamory_prompt_text(&bad, NULL));
    bad = info;
    bad.verification_uri = NULL;
    assert_null(pamory_prompt_text(&bad, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_explicit),
        cmocka_unit_test(test_resolve_auto),
        cmocka_unit_test(test_text_without_qr),
        cmocka_unit_test(test_text_with_ascii_qr),
        cmocka_unit_test(test_text_with_utf8_qr),
        cmocka_unit_test(test_text_without_complete_uri),
        cmocka_unit_test(test_text_needs_uri_and_code),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
