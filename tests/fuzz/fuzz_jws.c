/*
 * libFuzzer target for the token parsers: the input is tried as a compact
 * JWS (parsed, then verified against the RFC 7520 keys) and as a JWKS
 * document.  Not part of the build; run by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc $(pkg-config --cflags json-c) \
 *       tests/fuzz/fuzz_jws.c src/token/base64url.c src/token/jwks.c src/token/jws.c \
 *       src/token/claims.c src/json.c src/log.c src/flow/sanitize.c \
 *       $(pkg-config --libs json-c libcrypto) -lpam -o /tmp/fuzz_jws
 *   /tmp/fuzz_jws -max_total_time=30 -max_len=8192
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token/claims.h"
#include "token/jwks.h"
#include "token/jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 7520 3.4 (RSA) and 3.2 (EC P-521) public keys; both have the same kid. */
static const char rfc7520_jwks[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"bilbo.baggins@hobbiton.example\",\"use\":\"sig\","
    "\"n\":\"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEi"
    "ZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHY"
    "pPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_"
    "3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw\",\"e\":\"AQAB\"},"
    "{\"kty\":\"EC\",\"kid\":\"bilbo.baggins@hobbiton.example\",\"use\":\"sig\",\"crv\":\"P-521\","
    "\"x\":\"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt\","
    "\"y\":\"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1\"}]}";

/* The parsed keys, made on the first call and kept for the process (a fuzzer's lifetime). */
static const struct pamory_jwks *keys(void)
{
    static struct pamory_jwks set;
    static int ready;

    if (!ready) {
        if (pamory_jwks_parse(NULL, rfc7520_jwks, sizeof(rfc7520_jwks) - 1, &set) != 0 ||
            set.n != 2)
            abort();
        ready = 1;
    }
    return &set;
}

/* Parse as a JWS; when that works, verify with each key and check the claims. */
static void try_jws(const char *text)
{
    const struct pamory_jwks *set = keys();
    const struct pamory_claims_expect expect = { "https://idp.example", "client", 1700000000 };
    struct pamory_jws jws;
    const char *why;
    size_t i;

    if (pamory_jws_parse(text, &jws, &why) != 0)
        return;
    (void)pamory_jws_alg_allowed(jws.alg);
    (void)pamory_jwks_find(set, jws.kid);
    for (i = 0; i < set->n; i++)
        (void)pamory_jws_verify(&jws, &set->keys[i], &why);
    if (jws.payload != NULL)
        (void)pamory_claims_check(jws.payload, &expect, &why);
    pamory_jws_free(&jws);
}

/* Parse as a JWKS document and look a kid up in it. */
static void try_jwks(const char *text, size_t len)
{
    struct pamory_jwks set;

    if (pamory_jwks_parse(NULL, text, len, &set) == 0) {
        (void)pamory_jwks_find(&set, NULL);
        (void)pamory_jwks_find(&set, "bilbo.baggins@hobbiton.example");
        pamory_jwks_free(&set);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    try_jws(text);
    try_jwks(text, size);
    free(text);
    return 0;
}
