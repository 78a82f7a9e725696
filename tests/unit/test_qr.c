/*
 * Unit tests for flow/qr.c.  Each rendering is parsed back into a module
 * matrix and compared with libqrencode's symbol bit for bit, and then drawn
 * as an image and read by a real decoder (zbarimg), so a code that looks
 * right but does not scan cannot pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <qrencode.h>

#include "flow/qr.h"

#define URL "https://auth.example.com/oauth2/device/verify?user_code=pXk3fQaM"
#define SCALE 4   /* pixels per module in the image given to zbarimg */

/* A module matrix: size x size, 1 = dark. */
struct matrix {
    int size;
    unsigned char *dark;
};

/* The expected matrix: libqrencode's symbol inside the quiet zone. */
static struct matrix expected(const char *text)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    struct matrix m;
    int x, y;

    assert_non_null(qr);
    m.size = qr->width + 2 * PAMORY_QR_MARGIN;
    m.dark = calloc((size_t)(m.size * m.size), 1);
    assert_non_null(m.dark);
    for (y = 0; y < qr->width; y++) {
        for (x = 0; x < qr->width; x++) {
            m.dark[(y + PAMORY_QR_MARGIN) * m.size + x + PAMORY_QR_MARGIN] =
                qr->data[y * qr->width + x] & 1;
        }
    }
    QRcode_free(qr);
    return m;
}

/* Parse "##"/"  " lines back into a matrix, insisting on the exact shape. */
static struct matrix parse_ascii(const char *text)
{
    const char *nl = strchr(text, '\n');
    struct matrix m;
    int x, y;

    assert_non_null(nl);
    assert_int_equal((nl - text) % 2, 0);
    m.size = (int)(nl - text) / 2;
    assert_int_equal(strlen(text), (size_t)(m.size * (2 * m.size + 1)));
    m.dark = calloc((size_t)(m.size * m.size), 1);
    assert_non_null(m.dark);
    for (y = 0; y < m.size; y++) {
        const char *row = text + y * (2 * m.size + 1);

        assert_int_equal(row[2 * m.size], '\n');
        for (x = 0; x < m.size; x++) {
            const char *cell = row + 2 * x;

            assert_true(memcmp(cell, "##", 2) == 0 || memcmp(cell, "  ", 2) == 0);
            m.dark[y * m.size + x] = cell[0] == '#';
        }
    }
    return m;
}

/*
 * One half-block cell: sets the light-ness of its upper and lower module and
 * returns the cell's length in bytes.
 */
static size_t parse_block(const char *p, int *upper_light, int *lower_light)
{
    if (strncmp(p, "\xe2\x96\x88", 3) == 0) {
        *upper_light = *lower_light = 1;
        return 3;
    }
    if (strncmp(p, "\xe2\x96\x80", 3) == 0) {
        *upper_light = 1;
        *lower_light = 0;
        return 3;
    }
    if (strncmp(p, "\xe2\x96\x84", 3) == 0) {
        *upper_light = 0;
        *lower_light = 1;
        return 3;
    }
    assert_int_equal(*p, ' ');
    *upper_light = *lower_light = 0;
    return 1;
}

/*
 * Parse half-block lines back into a matrix.  Painted halves are light; the
 * lower half of the last line lies beyond an odd-sized canvas and must be
 * light too (it only widens the quiet zone).
 */
static struct matrix parse_utf8(const char *text, int size)
{
    const char *p = text;
    int lines = (size + 1) / 2;
    struct matrix m = { size, calloc((size_t)(size * size), 1) };
    int x, line;

    assert_non_null(m.dark);
    for (line = 0; line < lines; line++) {
        for (x = 0; x < size; x++) {
            int upper_light, lower_light;
            int y = 2 * line;

            p += parse_block(p, &upper_light, &lower_light);
            m.dark[y * size + x] = !upper_light;
            if (y + 1 < size)
                m.dark[(y + 1) * size + x] = !lower_light;
            else
                assert_true(lower_light);
        }
        assert_int_equal(*p, '\n');
        p++;
    }
    assert_int_equal(*p, '\0');
    return m;
}

static void assert_same(const struct matrix *a, const struct matrix *b)
{
    assert_int_equal(a->size, b->size);
    assert_memory_equal(a->dark, b->dark, (size_t)(a->size * a->size));
}

/* Is zbarimg on PATH?  Missing, it is a broken test machine: fail loudly. */
static void require_zbarimg(void)
{
    if (system("command -v zbarimg >/dev/null 2>&1") != 0)
        fail_msg("zbarimg not found: install zbar-tools (the test scripts do); "
                 "the QR tests must decode the code for real");
}

/* Draw m as a binary PGM, SCALE pixels per module, dark = black. */
static void write_pgm(const struct matrix *m, const char *path)
{
    FILE *f = fopen(path, "wb");
    int px = m->size * SCALE;
    int x, y;

    assert_non_null(f);
    fprintf(f, "P5\n%d %d\n255\n", px, px);
    for (y = 0; y < px; y++) {
        for (x = 0; x < px; x++)
            fputc(m->dark[(y / SCALE) * m->size + x / SCALE] ? 0 : 255, f);
    }
    assert_int_equal(fclose(f), 0);
}

/* Decode m with zbarimg and return what it read (heap string, newline cut). */
static char *zbar_decode(const struct matrix *m)
{
    char path[] = "/tmp/pamory-qr-XXXXXX.pgm";
    char cmd[128], out[1024];
    size_t n;
    FILE *p;
    int fd;

    require_zbarimg();
    fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
    write_pgm(m, path);
    snprintf(cmd, sizeof(cmd), "zbarimg --nodbus --raw -q '%s'", path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    pclose(p);
    unlink(path);
    out[n] = '\0';
    if (n > 0 && out[n - 1] == '\n')
        out[n - 1] = '\0';
    return strdup(out);
}

static void test_ascii_matches_symbol(void **state)
{
    char *text = pamory_qr_render(URL, PAMORY_QR_STYLE_ASCII);
    struct matrix want = expected(URL), got;

    (void)state;
    assert_non_null(text);
    got = parse_ascii(text);
    assert_same(&got, &want);
    free(got.dark);
    free(want.dark);
    free(text);
}

static void test_utf8_matches_symbol(void **state)
{
    char *text = pamory_qr_render(URL, PAMORY_QR_STYLE_UTF8);
    struct matrix want = expected(URL), got;

    (void)state;
    assert_non_null(text);
    got = parse_utf8(text, want.size);
    assert_same(&got, &want);
    free(got.dark);
    free(want.dark);
    free(text);
}

static void test_ascii_scans(void **state)
{
    char *text = pamory_qr_render(URL, PAMORY_QR_STYLE_ASCII);
    struct matrix m;
    char *decoded;

    (void)state;
    assert_non_null(text);
    m = parse_ascii(text);
    decoded = zbar_decode(&m);
    assert_string_equal(decoded, URL);
    free(decoded);
    free(m.dark);
    free(text);
}

/* parse_utf8 already inverts: painted (light on screen) became not dark. */
static void test_utf8_scans(void **state)
{
    char *text = pamory_qr_render(URL, PAMORY_QR_STYLE_UTF8);
    struct matrix want = expected(URL), m;
    char *decoded;

    (void)state;
    assert_non_null(text);
    m = parse_utf8(text, want.size);
    decoded = zbar_decode(&m);
    assert_string_equal(decoded, URL);
    free(decoded);
    free(m.dark);
    free(want.dark);
    free(text);
}

/* OpenSSH escapes non-ASCII prompt bytes, and a prompt must fit 80 columns. */
static void test_ascii_charset_and_width(void **state)
{
    const char *url70 = "https://auth.example.com/oauth2/device/verify?user_code=pXk3fQaM&x=abc";
    char *text = pamory_qr_render(url70, PAMORY_QR_STYLE_ASCII);
    const char *p, *line;

    (void)state;
    assert_int_equal(strlen(url70), 70);
    assert_non_null(text);
    for (p = text; *p != '\0'; p++)
        assert_true(*p == '\n' || (*p >= 0x20 && *p <= 0x7e));
    for (line = text; *line != '\0'; line = strchr(line, '\n') + 1)
        assert_true(strchr(line, '\n') - line <= 80);
    free(text);
}

/*
 * An Ory Network URL (97 characters) needs a 37-module symbol: with the
 * narrowed margin it still fits 80 columns and still scans.
 */
static void test_ascii_long_ory_network_url(void **state)
{
    const char *url = "https://brave-goldberg-x7k2p9q4m1.projects.oryapis.com/oauth2/device/verify"
                      "?user_code=pXk3fQaM";
    char *text = pamory_qr_render(url, PAMORY_QR_STYLE_ASCII);
    struct matrix m;
    char *decoded;

    (void)state;
    assert_non_null(text);
    assert_true(strchr(text, '\n') - text <= 80);
    m = parse_ascii(text);
    assert_int_equal(m.size, 37 + 2);   /* version 5, one-module margin */
    decoded = zbar_decode(&m);
    assert_string_equal(decoded, url);
    free(decoded);
    free(m.dark);
    free(text);
}

static void test_no_input(void **state)
{
    char *huge = malloc(4000);

    (void)state;
    assert_null(pamory_qr_render(NULL, PAMORY_QR_STYLE_ASCII));
    assert_null(pamory_qr_render("", PAMORY_QR_STYLE_UTF8));
    /* More than a version 40 symbol holds at level L. */
    assert_non_null(huge);
    memset(huge, 'a', 3999);
    huge[3999] = '\0';
    assert_null(pamory_qr_render(huge, PAMORY_QR_STYLE_ASCII));
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_matches_symbol),
        cmocka_unit_test(test_utf8_matches_symbol),
        cmocka_unit_test(test_ascii_scans),
        cmocka_unit_test(test_utf8_scans),
        cmocka_unit_test(test_ascii_charset_and_width),
        cmocka_unit_test(test_ascii_long_ory_network_url),
        cmocka_unit_test(test_no_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
