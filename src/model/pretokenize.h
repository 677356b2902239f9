/* pretokenize.h — the text stages of a tokenizer.json between the
 * added-token split and the BPE model: the normalizer, the pre-tokenizer
 * (Split by regex, ByteLevel) and GPT-2's byte-to-unicode alphabet.
 *
 * Semantics follow Hugging Face `tokenizers` 0.23: normalizers NFC, NFD,
 * NFKC, NFKD (via utf8proc) and Sequence; pre-tokenizers Sequence, Split
 * (Regex or String pattern, every SplitDelimiterBehavior, invert) and
 * ByteLevel (add_prefix_space, use_regex with GPT-2's pattern).  HF compiles
 * patterns with Oniguruma; we use PCRE2 (UTF + UCP, JIT) after rewriting the
 * escapes whose meaning differs between the two (\s \S \h \H \w \W, see
 * pretokenize.c).  Anything else is MN_EUNSUPPORTED at load time, naming the
 * type.  Non-goals: offsets, Metaspace/WordPiece-style pre-tokenizers. */
#ifndef MNEMO_MODEL_PRETOKENIZE_H
#define MNEMO_MODEL_PRETOKENIZE_H

#include <jansson.h>
#include <stdint.h>

#include "model/tokenizer_int.h" /* tok_pieces */
#include "util/err.h"            /* mn_err */

typedef struct tok_normalizer tok_normalizer;
typedef struct tok_pretok tok_pretok;

/* Build the normalizer described by j (the "normalizer" value; NULL or JSON
 * null means none: *out = NULL).  what names the file and key in messages
 * ("tok.json: normalizer").  Errors: MN_EFORMAT (missing/mistyped "type"),
 * MN_EUNSUPPORTED (a type we do not implement, named).  Free with
 * tok_normalizer_free. */
int tok_normalizer_parse(const char *what, const json_t *j, tok_normalizer **out, mn_err *err);
void tok_normalizer_free(tok_normalizer *n);

/* Normalize valid UTF-8 s[0..len) into a new malloc'd buffer *out (*out_len
 * bytes, not NUL-terminated; caller frees).  U+0000 is kept.  Errors:
 * MN_EFORMAT when utf8proc rejects the text (cannot happen for valid
 * UTF-8). */
int tok_normalize(const tok_normalizer *n, const char *s, size_t len, char **out, size_t *out_len,
                  mn_err *err);

/* Build the pre-tokenizer described by j ("pre_tokenizer" value; NULL or
 * JSON null: *out = NULL, i.e. the whole piece goes to the model).  Regexes
 * are compiled here.  Errors: MN_EFORMAT (bad structure, bad regex with its
 * byte offset in the pattern), MN_EUNSUPPORTED (unknown type or behavior).
 * Free with tok_pretok_free. */
int tok_pretok_parse(const char *what, const json_t *j, tok_pretok **out, mn_err *err);
void tok_pretok_free(tok_pretok *pt);

/* Run every step on the text pieces of *pieces (tokens pass through);
 * scratch is a second list used for double buffering; the result is left
 * in *pieces.  pt may be NULL (nothing happens).  The pieces must be valid
 * UTF-8.  Thread-safe for concurrent calls on one pt.  Errors: MN_ENOMEM or
 * MN_EFORMAT when PCRE2 gives up on a match (resource limits), naming the
 * regex step. */
int tok_pretok_apply(const tok_pretok *pt, tok_pieces *pieces, tok_pieces *scratch, mn_err *err);

/* GPT-2's bytes_to_unicode: the code point standing for byte b ... */
uint32_t tok_bytelevel_char(uint8_t b);
/* ... and back: the byte a code point stands for, or -1 when cp is not in
 * the 256-character alphabet. */
int tok_bytelevel_byte(uint32_t cp);

#endif
