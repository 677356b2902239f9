/* stopwords.c — Lucene's English stop set, searched by length then bytes.
 * The words are at most 5 bytes long, so a term longer than that is
 * rejected before any comparison (most terms of a real corpus). */
#include "retrieval/stopwords.h"

#include <string.h>

/* Sorted (strcmp order); tests check the order and the count. */
static const char *const en_words[STOPWORDS_EN_COUNT] = {
    "a",    "an",   "and",  "are",   "as",    "at",   "be",   "but",  "by",   "for",  "if",
    "in",   "into", "is",   "it",    "no",    "not",  "of",   "on",   "or",   "such", "that",
    "the",  "their", "then", "there", "these", "they", "this", "to",  "was",  "will", "with",
};

int stopwords_en_contains(const char *term, size_t len)
{
    if (len == 0 || len > 5)
        return 0;
    size_t lo = 0, hi = STOPWORDS_EN_COUNT;
    while (lo < hi) { /* binary search over the sorted table */
        size_t mid = (lo + hi) / 2;
        const char *w = en_words[mid];
        size_t wl = strlen(w);
        int c = memcmp(term, w, len < wl ? len : wl);
        if (c == 0)
            c = (len > wl) - (len < wl);
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

const char *stopwords_en_word(size_t i)
{
    return i < STOPWORDS_EN_COUNT ? en_words[i] : NULL;
}
