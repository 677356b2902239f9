/* analyzer.h — turns text into the terms that BM25 indexes and queries.
 *
 * One pipeline, fixed by a small config that is recorded in the DB manifest
 * (as its canonical string) so that queries are analyzed exactly like the
 * documents were:
 *
 *   1. split: a token is a maximal run of code points of Unicode general
 *      category L* (letters) or N* (digits, letter numbers, other numbers);
 *      a combining mark (M*) continues the token it follows, so decomposed
 *      "é" (e + U+0301), Devanagari vowel signs and Thai tone marks stay in
 *      their word; a mark with no token to attach to (after a space,
 *      punctuation or at the start) is dropped like punctuation.
 *      Everything else separates tokens and is dropped: punctuation
 *      (including ' - _ .), symbols and emoji, spaces, controls.
 *   2. lower-case: utf8proc_tolower() per code point, Unicode's simple
 *      lower-case mapping, the same as Java's Character.toLowerCase() that
 *      Lucene's LowerCaseFilter applies ("ΣΑΣ" -> "σασ", no final-sigma
 *      rule; no case folding, so "ß" stays "ß").  No normalization (NFC/NFKC).
 *   3. stop words (optional, stop=en): drop Lucene's 33 English stop words
 *      (stopwords.h); positions keep counting over them, as Lucene's
 *      position increments do.
 *   4. stemming (optional, stem=porter): the original Porter stemmer
 *      (porter.h), after stop-word removal as in Lucene's EnglishAnalyzer.
 *
 * Differences from Lucene's StandardTokenizer (UAX #29 word breaks), on
 * purpose, for a simple and fast rule: "don't" -> "don" "t", "3.14" -> "3"
 * "14", "e-mail" -> "e" "mail"; a run of CJK ideographs, Hiragana or Thai
 * letters is one token (StandardTokenizer makes one token per ideograph);
 * no EnglishPossessiveFilter ("john's" -> "john" "s").  Terms are at most
 * ANALYZER_MAX_TERM_BYTES bytes (a longer run is cut into several tokens at
 * code point boundaries, as StandardTokenizer cuts at maxTokenLength), so
 * every term fits in an LMDB key with room for a prefix.
 *
 * Canonical config strings (the only ones analyzer_config_parse accepts):
 *   lower+unicode-split;stem=none;stop=none;v1      (the default)
 *   lower+unicode-split;stem=porter;stop=none;v1
 *   lower+unicode-split;stem=none;stop=en;v1
 *   lower+unicode-split;stem=porter;stop=en;v1
 * "v1" names the rules above; changing any of them needs a new version.
 * The Unicode tables are utf8proc's (utf8proc_unicode_version()).
 *
 * Non-goals: language detection, n-grams, synonyms, UAX #29. */
#ifndef MNEMO_RETRIEVAL_ANALYZER_H
#define MNEMO_RETRIEVAL_ANALYZER_H

#include <stddef.h>

#include "util/err.h"

/* Longest term in bytes; longer letter/digit runs are split. */
#define ANALYZER_MAX_TERM_BYTES 255

/* Room for the canonical config string and its NUL. */
#define ANALYZER_CONFIG_STR_MAX 64

typedef enum analyzer_stem {
    ANALYZER_STEM_NONE = 0,
    ANALYZER_STEM_PORTER = 1,
} analyzer_stem;

typedef enum analyzer_stop {
    ANALYZER_STOP_NONE = 0,
    ANALYZER_STOP_EN = 1,
} analyzer_stop;

/* Plain data; zero-initialised it is the default analyzer. */
typedef struct analyzer_config {
    analyzer_stem stem;
    analyzer_stop stop;
} analyzer_config;

/* One token.  Its term is tokens->terms[term_off .. term_off+term_len),
 * not NUL-terminated. */
typedef struct analyzer_token {
    size_t term_off; /* byte offset of the term in analyzer_tokens.terms */
    size_t term_len; /* 1..ANALYZER_MAX_TERM_BYTES */
    size_t pos;      /* token position, counting removed stop words too */
    size_t start;    /* byte range [start, end) of the token in the input */
    size_t end;
} analyzer_token;

/* A reusable token list: analyze many texts into one, and buffers only
 * grow, so the hot path does not allocate once they are large enough.
 * Initialise with {0} (or analyzer_tokens_init), release with
 * analyzer_tokens_free. */
typedef struct analyzer_tokens {
    char *terms;         /* [terms_len] the terms' bytes, back to back */
    size_t terms_len, terms_cap;
    analyzer_token *tok; /* [n] tokens in text order */
    size_t n, cap;
} analyzer_tokens;

/* Write the canonical string of cfg ("lower+unicode-split;stem=...;stop=...;v1")
 * into out, NUL-terminated. */
void analyzer_config_string(const analyzer_config *cfg, char out[ANALYZER_CONFIG_STR_MAX]);

/* Parse a canonical config string s (as read from a manifest at `where`,
 * used in the message).  Returns 0 and fills *cfg, or MN_EUNSUPPORTED for
 * a string that is not one of the four canonical forms (the message quotes
 * it and says which part is unknown). */
int analyzer_config_parse(const char *s, const char *where, analyzer_config *cfg, mn_err *err);

/* Parse the value of --stem ("none" or "porter") into *out; MN_EUSAGE
 * otherwise. */
int analyzer_stem_parse(const char *s, analyzer_stem *out, mn_err *err);

/* Parse the value of --stopwords ("none" or "en") into *out; MN_EUSAGE
 * otherwise. */
int analyzer_stop_parse(const char *s, analyzer_stop *out, mn_err *err);

/* Empty token list, no memory held. */
void analyzer_tokens_init(analyzer_tokens *t);

/* Release the list's buffers; t is empty afterwards (and reusable). */
void analyzer_tokens_free(analyzer_tokens *t);

/* Analyze text[0..len) (UTF-8, not NUL-terminated; NUL bytes are
 * separators) with cfg, REPLACING the contents of out.  `where` names the
 * text in error messages (e.g. "wiki.jsonl: line 12").  Returns 0, or
 * MN_EFORMAT on invalid UTF-8 ("WHERE: byte N: invalid UTF-8", N the offset
 * of the first bad byte), or MN_ENOMEM; on error out is left empty. */
int analyzer_analyze(const analyzer_config *cfg, const char *text, size_t len, const char *where,
                     analyzer_tokens *out, mn_err *err);

#endif
