/* tokenizer.h — byte-level BPE tokenizers loaded from a Hugging Face
 * tokenizer.json, encoding and decoding exactly like `tokenizers` 0.23
 * (`encode(text, add_special_tokens=False)`, `decode(ids,
 * skip_special_tokens=False)`).
 *
 * Supported: what Qwen2/Qwen3, Llama 3.x and GPT-NeoX (Pythia) files declare.
 *   model         BPE: vocab, merges ("a b" strings or ["a", "b"] pairs),
 *                 ignore_merges, continuing_subword_prefix,
 *                 end_of_word_suffix, unk_token, fuse_unk, byte_fallback
 *   added_tokens  matched in the raw text first (leftmost-longest, HF's
 *                 single_word / lstrip / rstrip / normalized flags)
 *   normalizer    null, NFC, NFD, NFKC, NFKD, Sequence of these
 *   pre_tokenizer null, Split (regex or string), ByteLevel, Sequence
 *   decoder       null, ByteLevel
 * Ignored: truncation, padding, post_processor (except to find the BOS id:
 * the caller adds BOS itself).  Everything else — another model type
 * ("WordPiece", "Unigram"), normalizer, pre-tokenizer or decoder type, BPE
 * dropout — is MN_EUNSUPPORTED at load time, naming it.
 *
 * Ids: the vocabulary is the union of model.vocab and added_tokens;
 * tokenizer_vocab_size() is 1 + the largest id (at most 2^24).  An added
 * token whose "id" differs from the id HF would assign it (its id in
 * model.vocab, else the next free one) is a format error, since HF would
 * silently encode with the other id.
 *
 * Threads: a loaded tokenizer is read-only; encode/decode/lookups may run
 * concurrently on one handle. */
#ifndef MNEMO_MODEL_TOKENIZER_H
#define MNEMO_MODEL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h" /* mn_err */

typedef struct tokenizer tokenizer;

/* Load the tokenizer.json at path.  *out is owned by the caller
 * (tokenizer_free).  Errors (message names the file and the key or
 * line/column): MN_EIO, MN_EFORMAT (invalid JSON, missing "model", a merge
 * naming a token not in the vocab, bad regex with its byte offset, ...),
 * MN_EUNSUPPORTED (a type we do not implement, named). */
int tokenizer_load(const char *path, tokenizer **out, mn_err *err);

/* Same from a buffer: buf[0..len) holds the JSON, `what` names it in
 * messages (a path or "<fuzz input>").  buf is not kept. */
int tokenizer_load_mem(const char *what, const char *buf, size_t len, tokenizer **out,
                       mn_err *err);

void tokenizer_free(tokenizer *tok);

/* Flags of tokenizer_encode. */
enum {
    /* HF `encode_special_tokens = True`: added tokens flagged special are
     * not matched (they are tokenized as text); non-special added tokens
     * still are. */
    TOK_PLAIN_SPECIAL = 1,
};

/* Encode text[0..len) (UTF-8, may contain U+0000) without adding BOS or
 * any template tokens.  *ids gets a malloc'd array of *n ids (caller frees;
 * NULL with *n = 0 for an empty encoding).  Errors: MN_EFORMAT ("text: byte
 * N: invalid UTF-8"), MN_ENOMEM (a regex match hit PCRE2's limits). */
int tokenizer_encode(const tokenizer *tok, const char *text, size_t len, int flags, int32_t **ids,
                     size_t *n, mn_err *err);

/* Decode ids[0..n) to text, keeping special tokens: the tokens' strings
 * are joined and mapped back through the decoder; invalid UTF-8 (a cut
 * multi-byte character) becomes U+FFFD as in HF.  *text is malloc'd and
 * NUL-terminated (it may also contain U+0000: use *len); caller frees.
 * Errors: MN_ERANGE ("ids[3]: token id 200000 is outside the vocabulary
 * (151669 ids)", or an id with no token). */
int tokenizer_decode(const tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len,
                     mn_err *err);

/* Number of ids: 1 + the largest id of model.vocab and added_tokens. */
int32_t tokenizer_vocab_size(const tokenizer *tok);

/* Id of the token whose string is s[0..len) — an added token's content
 * ("<|im_start|>") or a model.vocab entry in its byte-level form ("Ġyes")
 * — or -1.  Added tokens take precedence, as in HF token_to_id. */
int32_t tokenizer_token_id(const tokenizer *tok, const char *s, size_t len);

/* String of token id (the added token's content or the model.vocab key),
 * borrowed from tok, valid until tokenizer_free; not NUL-terminated.
 * Errors: MN_ERANGE for an id outside the vocabulary or without a token. */
int tokenizer_token_str(const tokenizer *tok, int32_t id, const char **s, size_t *len,
                        mn_err *err);

/* 1 if id is an added token flagged "special": true, else 0. */
int tokenizer_is_special(const tokenizer *tok, int32_t id);

/* The BOS id a TemplateProcessing post-processor puts first (Llama 3:
 * <|begin_of_text|> = 128000), or -1 when the file declares none (Qwen).
 * EOS is not in tokenizer.json: read it from config.json /
 * generation_config.json. */
int32_t tokenizer_bos_id(const tokenizer *tok);

#endif
