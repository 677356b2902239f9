/* stopwords.h — stop-word sets for the analyzer.
 *
 * One set so far: "en", Lucene's EnglishAnalyzer default stop set
 * (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, the 33 words a, an, and, are, as,
 * at, be, but, by, for, if, in, into, is, it, no, not, of, on, or, such,
 * that, the, their, then, there, these, they, this, to, was, will, with),
 * which is also what Pyserini's default English analyzer removes.  The
 * analyzer tests lower-cased tokens against it, before stemming, as
 * Lucene's StopFilter sits before PorterStemFilter.  Non-goals: other
 * languages, user-supplied lists (they would have to be recorded in the DB
 * manifest too). */
#ifndef MNEMO_RETRIEVAL_STOPWORDS_H
#define MNEMO_RETRIEVAL_STOPWORDS_H

#include <stddef.h>

/* Number of words in the English set (33). */
#define STOPWORDS_EN_COUNT 33

/* Is term[0..len) (lower-case UTF-8, not NUL-terminated) an English stop
 * word?  Returns 1 or 0. */
int stopwords_en_contains(const char *term, size_t len);

/* The i-th English stop word (0 <= i < STOPWORDS_EN_COUNT), in sorted
 * order; for tests and documentation. */
const char *stopwords_en_word(size_t i);

#endif
