/* Space-separated word lists, matched exactly. */
#include <string.h>

#include "words.h"

#define BLANKS " \t"

bool pamory_word_in(const char *list, const char *word, size_t len)
{
    size_t n;

    while (list != NULL && *list != '\0') {
        list += strspn(list, BLANKS);
        n = strcspn(list, BLANKS);
        if (n > 0 && n == len && memcmp(list, word, n) == 0)
            return true;
        list += n;
    }
    return false;
}

const char *pamory_words_missing(const char *need, const char *have, size_t *len)
{
    size_t n;

    while (need != NULL && *need != '\0') {
        need += strspn(need, BLANKS);
        n = strcspn(need, BLANKS);
        if (n > 0 && !pamory_word_in(have, need, n)) {
            *len = n;
            return need;
        }
        need += n;
    }
    return NULL;
}
