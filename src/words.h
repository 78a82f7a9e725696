/*
 * Space-separated word lists: scopes ("openid sudo"), allowed_clients,
 * required_acr.  Matching is exact, word by word: "sudo" is not in
 * "sudo.read", and no wildcard rules apply.
 */
#ifndef PAMORY_WORDS_H
#define PAMORY_WORDS_H

#include <stdbool.h>
#include <stddef.h>

/* Is the len-byte word one of the words of list?  A NULL list holds none. */
bool pamory_word_in(const char *list, const char *word, size_t len);

/*
 * The first word of need that is not in have, or NULL when every one is.
 * *len receives the missing word's length.
 */
const char *pamory_words_missing(const char *need, const char *have, size_t *len);

#endif
