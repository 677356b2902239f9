/* porter.h — the original Porter stemmer (M.F. Porter, "An algorithm for
 * suffix stripping", Program 14(3), 1980), as Lucene's PorterStemFilter and
 * Martin Porter's reference ANSI C implementation apply it.
 *
 * Written from the published algorithm description.  Like the reference
 * implementation (and Lucene's PorterStemmer, which is derived from it) it
 * keeps the reference's documented departures from the 1980 paper:
 *   - words of one or two characters are returned unchanged;
 *   - step 2 has (m>0) BLI -> BLE instead of (m>0) ABLI -> ABLE;
 *   - step 2 has the extra rule (m>0) LOGI -> LOG.
 * (Snowball's "porter" algorithm follows the paper instead, so it differs on
 * exactly these words; tests/retrieval/test_porter.c cross-checks against it.)
 *
 * Input is expected lower-case.  Lucene stems UTF-16 code units: a letter
 * other than a, e, i, o, u (and y after a vowel) is a consonant, whatever
 * script it is in, and a supplementary-plane character counts as two
 * consonant units.  porter_stem() reproduces that exactly for UTF-8 input by
 * working on UTF-16 units internally, so its output is always valid UTF-8
 * when its input is.  Non-goals: the Porter2 ("english") stemmer,
 * upper-case input, protected-word lists. */
#ifndef MNEMO_RETRIEVAL_PORTER_H
#define MNEMO_RETRIEVAL_PORTER_H

#include <stddef.h>

/* Stem the lower-case UTF-8 word in word[0..len) in place and return its
 * new length (never more than len: every rule shortens or keeps the word).
 * The caller guarantees word[0..len) is valid UTF-8 (the analyzer does);
 * words of up to 1024 bytes are stemmed without allocating, longer ones
 * with one temporary allocation. */
size_t porter_stem(char *word, size_t len);

#endif
