/* Unit tests for the consent-session rule (src/flow/consent.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flow/consent.h"

static const struct pamory_log quiet = { NULL, false };

#define NOW 1785000000L          /* 2026-07-25T17:20:00Z */
#define NOW_RFC3339 "2026-07-25T17:20:00Z"

/* One consent session as Hydra lists it (hydra-api.md 5.1), with holes to fill. */
static char *entry(const char *client, const char *subject, const char *scopes,
                   const char *remember, long remember_for, const char *handled_at)
{
    char *s = NULL;

    assert_true(asprintf(&s,
        "{\"consent_request_id\":\"c-1\",\"grant_scope\":[%s],\"grant_access_token_audience\":[],"
        "\"session\":{\"access_token\":{},\"id_token\":{}},\"remember\":%s,\"remember_for\":%ld,"
        "\"handled_at\":\"%s\",\"context\":{},\"consent_request\":{\"challenge\":\"\","
        "\"consent_request_id\":\"c-1\",\"requested_scope\":[%s],\"skip\":false,"
        "\"subject\":\"%s\",\"client\":{\"client_id\":\"%s\",\"client_name\":\"x\"}}}",
        scopes, remember, remember_for, handled_at, scopes, subject, client) > 0);
    return s;
}

static int grants(const char *page, unsigned max_age, const char **closest)
{
    struct pamory_consent_rule rule = { "user-123", "pam-host", "sudo", max_age, NOW };

    *closest = NULL;
    return pamory_consent_page_grants(&quiet, page, strlen(page), &rule, closest);
}

/* A page of one entry. */
static int one(const char *client, const char *subject, const char *scopes, const char *remember,
               long remember_for, const char *handled_at, unsigned max_age, const char **closest)
{
    char *e = entry(client, subject, scopes, remember, remember_for, handled_at);
    char *page = NULL;
    int r;

    assert_true(asprintf(&page, "[%s]", e) > 0);
    r = grants(page, max_age, closest);
    free(page);
    free(e);
    return r;
}

static void valid_consent_grants(void **state)
{
    const char *why;

    (void)state;
    /* remember_for = 0 means forever (hydra-api.md 5.2). */
    assert_int_equal(one("pam-host", "user-123", "\"openid\",\"sudo\"", "true", 0, "2020-01-01T00:00:00Z", 0, &why), 1);
    /* Still within remember_for. */
    assert_int_equal(one("pam-host", "user-123", "\"sudo\"", "true", 3600, "2026-07-25T16:30:00Z", 0, &why), 1);
}

static void each_rule_can_refuse(void **state)
{
    const char *why;

    (void)state;
    assert_int_equal(one("other-client", "user-123", "\"sudo\"", "true", 0, NOW_RFC3339, 0, &why), 0);
    assert_null(why);   /* other clients' consents are not "close" */
    assert_int_equal(one("pam-host", "user-999", "\"sudo\"", "true", 0, NOW_RFC3339, 0, &why), 0);
    assert_int_equal(one("pam-host", "user-123", "\"openid\",\"sudo.read\"", "true", 0, NOW_RFC3339, 0, &why), 0);
    assert_string_equal(why, "scope not granted");
    assert_int_equal(one("pam-host", "user-123", "\"sudo\"", "false", 0, NOW_RFC3339, 0, &why), 0);
    assert_string_equal(why, "not remembered (remember is false)");
    /* Expired exactly now: handled_at + remember_for <= now. */
    assert_int_equal(one("pam-host", "user-123", "\"sudo\"", "true", 3000, "2026-07-25T16:30:00Z", 0, &why), 0);
    assert_string_equal(why, "expired (handled_at + remember_for has passed)");
    assert_int_equal(one("pam-host", "user-123", "\"sudo\"", "true", 3001, "2026-07-25T16:30:00Z", 0, &why), 1);
    /* consent_max_age: 50 minutes old against 30 and 60 minutes. */
    assert_int_equal(one("pam-host", "user-123", "\"sudo\"", "true", 0, "2026-07-25T16:30:00Z", 1800, &why), 0);
    assert_string_equal(why, "older than consent_max_age");
    assert_int_equal(one("pam-host", "user-123", "\"sudo\"", "true", 0, "2026-07-25T16:30:00Z", 3600, &why), 1);
    assert_int_equal(one("pam-host", "user-123", "\"sudo\"", "true", 0, "yesterday", 0, &why), 0);
    assert_string_equal(why, "handled_at missing or malformed");
}

static void any_entry_of_a_page_may_grant(void **state)
{
    char *a = entry("other-client", "user-123", "\"sudo\"", "true", 0, NOW_RFC3339);
    char *b = entry("pam-host", "user-123", "\"openid\"", "true", 0, NOW_RFC3339);
    char *c = entry("pam-host", "user-123", "\"sudo\"", "true", 0, NOW_RFC3339);
    char *page = NULL;
    const char *why;

    (void)state;
    assert_true(asprintf(&page, "[%s,%s,%s]", a, b, c) > 0);
    assert_int_equal(grants(page, 0, &why), 1);
    free(page);
    assert_true(asprintf(&page, "[%s,%s]", a, b) > 0);
    assert_int_equal(grants(page, 0, &why), 0);
    assert_string_equal(why, "scope not granted");
    free(page);
    assert_int_equal(grants("[]", 0, &why), 0);
    assert_int_equal(grants("{}", 0, &why), -1);
    assert_int_equal(grants("[", 0, &why), -1);
    free(a);
    free(b);
    free(c);
}

static void link_header(void **state)
{
    char *next;

    (void)state;
    next = pamory_link_next("<http://h/a?page_token=T0&page_size=1>; rel=\"first\","
                            "<http://h/a?page_token=T1&page_size=1>; rel=\"next\"");
    assert_string_equal(next, "http://h/a?page_token=T1&page_size=1");
    free(next);
    next = pamory_link_next("</admin/x?page_token=a>; rel=\"first\", </admin/x?page_token=b>;rel=next");
    assert_string_equal(next, "/admin/x?page_token=b");
    free(next);
    next = pamory_link_next("<http://h/1>; rel=\"prev next\"");
    assert_string_equal(next, "http://h/1");
    free(next);
    assert_null(pamory_link_next("<http://h/a?page_token=T0>; rel=\"first\""));
    assert_null(pamory_link_next("<http://h/next>; rel=\"nextish\""));
    assert_null(pamory_link_next(""));
    assert_null(pamory_link_next(NULL));
    assert_null(pamory_link_next("<broken; rel=next"));
}

static void rfc3339(void **state)
{
    (void)state;
    assert_int_equal(pamory_rfc3339_parse(NOW_RFC3339), NOW);
    assert_int_equal(pamory_rfc3339_parse("2026-07-25T17:20:00.123456Z"), NOW);
    assert_int_equal(pamory_rfc3339_parse("2026-07-25T19:20:00+02:00"), NOW);
    assert_int_equal(pamory_rfc3339_parse("2026-07-25T12:20:00-05:00"), NOW);
    assert_int_equal(pamory_rfc3339_parse("2026-07-25T17:20:00"), -1);
    assert_int_equal(pamory_rfc3339_parse("2026-13-25T17:20:00Z"), -1);
    assert_int_equal(pamory_rfc3339_parse("2026-07-25T17:20:00Zjunk"), -1);
    assert_int_equal(pamory_rfc3339_parse(""), -1);
    assert_int_equal(pamory_rfc3339_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_consent_grants),
        cmocka_unit_test(each_rule_can_refuse),
        cmocka_unit_test(any_entry_of_a_page_may_grant),
        cmocka_unit_test(link_header),
        cmocka_unit_test(rfc3339),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
