/*
 * base64url without padding (RFC 7515 section 2, RFC 4648 section 5).
 *
 * Decoding is strict: one encoding per byte string, so that a token cannot be
 * altered in its text (padding, '+', '/', non-zero spare bits) and still
 * verify.  The character lookup has no data-dependent branches, because the
 * input is usually a token, which is a secret.
 */
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "token/base64url.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * All bits set when lo <= c <= hi, else 0, without a branch: both
 * differences are negative exactly when c is inside the range.
 */
static int in_range(int c, int lo, int hi)
{
    return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

/* The 6-bit value of c, or -1 for anything else ('=' and '\0' included). */
static int sextet(unsigned char ch)
{
    int c = ch;
    int v = -1;

    v += in_range(c, 'A', 'Z') & (c - 'A' + 1);
    v += in_range(c, 'a', 'z') & (c - 'a' + 27);
    v += in_range(c, '0', '9') & (c - '0' + 53);
    v += in_range(c, '-', '-') & 63;
    v += in_range(c, '_', '_') & 64;
    return v;
}

/*
 * Four characters carry three bytes; a tail of two or three characters
 * carries one or two.  A single leftover character carries no whole byte,
 * so len % 4 == 1 is never a valid encoding.
 */
static size_t decoded_len(size_t len)
{
    size_t rem = len % 4;

    return len / 4 * 3 + (rem > 1 ? rem - 1 : 0);
}

unsigned char *pamory_b64url_decode(const char *in, size_t len, size_t *outlen)
{
    unsigned char *out;
    size_t cap, i, o = 0;
    unsigned int acc = 0, bits = 0;

    if (in == NULL || outlen == NULL || len % 4 == 1)
        return NULL;
    cap = decoded_len(len);
    out = malloc(cap + 1);
    if (out == NULL)
        return NULL;
    for (i = 0; i < len; i++) {
        int v = sextet((unsigned char)in[i]);

        if (v < 0)
            goto fail;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* The 2 or 4 spare bits of a tail must be zero, or two texts decode alike. */
    if (acc != 0)
        goto fail;
    out[o] = '\0';
    *outlen = o;
    return out;
fail:
    pamory_secret_free_n(out, cap + 1);
    return NULL;
}

char *pamory_b64url_encode(const unsigned char *in, size_t len)
{
    char *out;
    size_t i, o = 0;
    unsigned int acc = 0, bits = 0;

    if (in == NULL && len > 0)
        return NULL;
    if (len > (((size_t)-1) - 4) / 4 * 3)
        return NULL;
    out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    for (i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = alphabet[(acc >> bits) & 0x3f];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (6 - bits)) & 0x3f];
    out[o] = '\0';
    return out;
}
