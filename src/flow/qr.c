/*
 * QR codes as text.  The code is drawn on a square canvas: the symbol from
 * libqrencode surrounded by a light quiet zone of PAMORY_QR_MARGIN modules,
 * without which many phone scanners fail to find the code at all.
 */
#include <stdlib.h>
#include <string.h>
#include <qrencode.h>

#include "flow/qr.h"

/* UTF-8 blocks, as in qrencode -t UTF8: each paints the LIGHT half. */
#define BLOCK_FULL  "\xe2\x96\x88"   /* U+2588: both rows light */
#define BLOCK_UPPER "\xe2\x96\x80"   /* U+2580: upper row light, lower dark */
#define BLOCK_LOWER "\xe2\x96\x84"   /* U+2584: upper row dark, lower light */
#define BLOCK_NONE  " "              /* both rows dark */
#define BLOCK_MAX   3                /* bytes in the widest of them */

/*
 * Is the module at canvas position (x, y) dark?  The canvas is the symbol
 * plus the margin on every side; anything outside the symbol, including
 * positions past the canvas edge, is light, so callers need no bounds logic.
 */
static int dark(const QRcode *qr, int margin, int x, int y)
{
    int sx = x - margin;
    int sy = y - margin;

    if (sx < 0 || sy < 0 || sx >= qr->width || sy >= qr->width)
        return 0;
    return qr->data[sy * qr->width + sx] & 1;
}

/*
 * The quiet zone of an ASCII code: PAMORY_QR_MARGIN modules, or one when two
 * would push the code past 80 columns.  Ory Network verification URLs
 * (https://<project>.projects.oryapis.com/...?user_code=...) need a version 5
 * symbol, 37 modules; at two characters a module only a one-module margin
 * fits, and the blank terminal around the code widens it in practice.
 */
static int ascii_margin(const QRcode *qr)
{
    return (qr->width + 2 * PAMORY_QR_MARGIN) * 2 <= 80 ? PAMORY_QR_MARGIN : 1;
}

/* One text line per module row, two characters per module. */
static char *render_ascii(const QRcode *qr)
{
    int margin = ascii_margin(qr);
    int size = qr->width + 2 * margin;
    char *out = malloc((size_t)size * ((size_t)size * 2 + 1) + 1);
    char *p = out;
    int x, y;

    if (out == NULL)
        return NULL;
    for (y = 0; y < size; y++) {
        for (x = 0; x < size; x++) {
            memcpy(p, dark(qr, margin, x, y) ? "##" : "  ", 2);
            p += 2;
        }
        *p++ = '\n';
    }
    *p = '\0';
    return out;
}

/* The block character for a module pair: light halves are painted. */
static const char *half_block(int upper_dark, int lower_dark)
{
    if (upper_dark)
        return lower_dark ? BLOCK_NONE : BLOCK_LOWER;
    return lower_dark ? BLOCK_UPPER : BLOCK_FULL;
}

/*
 * Two module rows per text line.  The canvas height is odd, so the last line
 * pairs the bottom margin row with a light row beyond it, which only widens
 * the quiet zone, exactly as qrencode does.
 */
static char *render_utf8(const QRcode *qr)
{
    int margin = PAMORY_QR_MARGIN;
    int size = qr->width + 2 * margin;
    int lines = (size + 1) / 2;
    char *out = malloc((size_t)lines * ((size_t)size * BLOCK_MAX + 1) + 1);
    char *p = out;
    int x, y;

    if (out == NULL)
        return NULL;
    for (y = 0; y < size; y += 2) {
        for (x = 0; x < size; x++) {
            const char *block = half_block(dark(qr, margin, x, y), dark(qr, margin, x, y + 1));
            size_t n = strlen(block);

            memcpy(p, block, n);
            p += n;
        }
        *p++ = '\n';
    }
    *p = '\0';
    return out;
}

/*
 * Byte mode and ECC level L keep a 70-character URL at 33 modules, which fits
 * an 80-column terminal in ASCII; a phone screen or terminal is not a dirty
 * label, so the higher correction levels would only make the code bigger.
 */
char *pamory_qr_render(const char *text, enum pamory_qr_style style)
{
    QRcode *qr;
    char *out;

    if (text == NULL || *text == '\0')
        return NULL;
    qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (qr == NULL)
        return NULL;
    out = style == PAMORY_QR_STYLE_UTF8 ? render_utf8(qr) : render_ascii(qr);
    QRcode_free(qr);
    return out;
}
