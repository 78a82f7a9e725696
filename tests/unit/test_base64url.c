/* Unit tests for strict base64url (src/token/base64url.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token/base64url.h"

/* Decode a C string; NULL when refused. */
static unsigned char *decode(const char *s, size_t *len)
{
    return pamory_b64url_decode(s, strlen(s), len);
}

static void assert_refused(const char *s)
{
    size_t len = 12345;

    if (decode(s, &len) != NULL)
        fail_msg("\"%s\" was accepted", s);
}

/* RFC 4648 section 10 vectors, without their padding. */
static void test_rfc4648_vectors(void **state)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const coded[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
    size_t i, len;

    (void)state;
    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        char *enc = pamory_b64url_encode((const unsigned char *)plain[i], strlen(plain[i]));
        unsigned char *dec = decode(coded[i], &len);

        assert_non_null(enc);
        assert_string_equal(enc, coded[i]);
        assert_non_null(dec);
        assert_int_equal(len, strlen(plain[i]));
        assert_memory_equal(dec, plain[i], len);
        assert_int_equal(dec[len], '\0');
        free(enc);
        free(dec);
    }
}

/* The two characters that differ from base64: '-' and '_' in, '+' and '/' out. */
static void test_url_safe_alphabet(void **state)
{
    static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
    unsigned char *dec;
    char *enc;
    size_t len;

    (void)state;
    enc = pamory_b64url_encode(bytes, sizeof(bytes));
    assert_string_equal(enc, "-_-_");
    dec = decode(enc, &len);
    assert_non_null(dec);
    assert_int_equal(len, 3);
    assert_memory_equal(dec, bytes, 3);
    free(enc);
    free(dec);
    assert_refused("+/+/");
    assert_refused("-_+_");
    assert_refused("-_-/");
}

/* Every character of the alphabet decodes to its own value and back. */
static void test_whole_alphabet_round_trip(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char *dec;
    char *enc;
    size_t len;

    (void)state;
    dec = decode(alphabet, &len);
    assert_non_null(dec);
    assert_int_equal(len, 48);
    enc = pamory_b64url_encode(dec, len);
    assert_string_equal(enc, alphabet);
    free(enc);
    free(dec);
}

static void test_padding_refused(void **state)
{
    (void)state;
    assert_refused("Zg==");
    assert_refused("Zm8=");
    assert_refused("Zg=");
    assert_refused("Zm9v====");
    assert_refused("=");
}

static void test_impossible_length_refused(void **state)
{
    (void)state;
    assert_refused("Z");
    assert_refused("Zm9vY");
    assert_refused("Zm9vYmFyZ");
    /* Zero-valued leftovers too: the length alone makes them impossible. */
    assert_refused("A");
    assert_refused("AAAAA");
}

/* "Zg" is "f"; "Zh" has the same byte with a spare bit set, a second spelling. */
static void test_nonzero_trailing_bits_refused(void **state)
{
    (void)state;
    assert_refused("Zh");
    assert_refused("Zm9");
    assert_refused("Zm9vYh");
    assert_refused("Zm9vYmF");
}

static void test_foreign_characters_refused(void **state)
{
    size_t len;
    static const char with_nul[] = { 'Z', 'm', '\0', 'v' };

    (void)state;
    assert_refused("Zm9 v");
    assert_refused("Zm9v\n");
    assert_refused("Zm.v");
    assert_refused("Zm\xc3\xa9");
    assert_refused("Zm9\x7f");
    assert_null(pamory_b64url_decode(with_nul, sizeof(with_nul), &len));
    assert_null(pamory_b64url_decode(NULL, 0, &len));
}

/* Only the first len characters count: a token's parts are decoded in place. */
static void test_decode_honours_len(void **state)
{
    size_t len;
    unsigned char *dec = pamory_b64url_decode("Zm9v.garbage", 4, &len);

    (void)state;
    assert_non_null(dec);
    assert_int_equal(len, 3);
    assert_memory_equal(dec, "foo", 4);
    free(dec);
}

static void test_empty(void **state)
{
    size_t len = 99;
    unsigned char *dec = pamory_b64url_decode("", 0, &len);
    char *enc = pamory_b64url_encode(NULL, 0);

    (void)state;
    assert_non_null(dec);
    assert_int_equal(len, 0);
    assert_int_equal(dec[0], '\0');
    assert_string_equal(enc, "");
    free(dec);
    free(enc);
}

/* Every length 0..300 of all byte values survives a round trip. */
static void test_round_trip_lengths(void **state)
{
    unsigned char buf[300];
    size_t n, i, len;

    (void)state;
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 167 + 13);
    for (n = 0; n <= sizeof(buf); n++) {
        char *enc = pamory_b64url_encode(buf, n);
        unsigned char *dec;

        assert_non_null(enc);
        assert_int_equal(strlen(enc), (n * 8 + 5) / 6);
        assert_null(strchr(enc, '='));
        dec = decode(enc, &len);
        assert_non_null(dec);
        assert_int_equal(len, n);
        assert_memory_equal(dec, buf, n);
        free(enc);
        free(dec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_url_safe_alphabet),
        cmocka_unit_test(test_whole_alphabet_round_trip),
        cmocka_unit_test(test_padding_refused),
        cmocka_unit_test(test_impossible_length_refused),
        cmocka_unit_test(test_nonzero_trailing_bits_refused),
        cmocka_unit_test(test_foreign_characters_refused),
        cmocka_unit_test(test_decode_honours_len),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_round_trip_lengths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
