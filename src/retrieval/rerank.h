/* rerank.h — a causal-LM reranker in the style of Qwen3-Reranker: the
 * relevance of a document to a query is the probability that the model
 * answers "yes" rather than "no" after a judging template.
 *
 * For each (query, document) pair the token sequence is
 *
 *   encode(prefix) + encode(body) + encode(suffix)
 *
 * where body is the body template with {instruction}, {query} and {doc}
 * substituted.  The prefix and suffix are encoded with special-token
 * matching on (so "<|im_start|>" is one token); the body is encoded as ONE
 * string with TOK_PLAIN_SPECIAL, so a special-token string inside the user's
 * query or document stays plain text and the pre-tokenizer sees the
 * substituted text exactly as Hugging Face does for the reference's
 * `tokenizer(pairs)` call.  The score is
 *
 *   P(yes) = exp(l_yes) / (exp(l_yes) + exp(l_no))
 *
 * from the two logits at the last position (computed in double as
 * 1 / (1 + exp(l_no - l_yes)), which never overflows).
 *
 * Reference: Qwen3-Reranker's published transformers usage
 * (format_instruction / process_inputs / compute_logits): the defaults
 * below are its strings, and a pair longer than max_length has its body
 * truncated from the right (truncation='longest_first' on one sequence),
 * which cuts the document's tail while the prefix and suffix stay intact.
 * When the body template has text after {doc}, that text is kept too and
 * only the part up to the end of the document is cut.
 *
 * Batching: up to batch_size pairs go through one engine_forward() call,
 * each in its own KV slot, with logits for the last position only.  Scores
 * do not depend on the batch size (each pair attends only to itself).  The
 * engine is created on first use and grown when a batch needs longer
 * sequences: its KV cache holds batch_size x (longest sequence so far)
 * positions.
 *
 * Non-goals: padding/attention masks (segments make them unnecessary), other
 * reranker families (cross-encoders with a classification head), sorting the
 * documents (the caller ranks by score).  Threads: one reranker is used by
 * one thread at a time; set the numeric thread count with util/threads.h.
 */
#ifndef MNEMO_RETRIEVAL_RERANK_H
#define MNEMO_RETRIEVAL_RERANK_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"     /* model */
#include "model/tokenizer.h" /* tokenizer */
#include "util/err.h"        /* mn_err */

/* Qwen3-Reranker's strings, the defaults of every NULL field below. */
#define RERANK_QWEN3_PREFIX                                                                   \
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the "    \
    "Query and the Instruct provided. Note that the answer can only be \"yes\" or "          \
    "\"no\".<|im_end|>\n<|im_start|>user\n"
#define RERANK_QWEN3_BODY "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"
#define RERANK_QWEN3_SUFFIX "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
#define RERANK_QWEN3_INSTRUCTION                                                              \
    "Given a web search query, retrieve relevant passages that answer the query"
#define RERANK_QWEN3_MAX_LENGTH 8192 /* the reference's max_length */

/* The judging template.  NULL fields take the Qwen3 defaults.  body must
 * contain "{doc}"; "{instruction}" and "{query}" are optional; every
 * occurrence of the three placeholders is substituted in one pass (text
 * coming from the substitution is never substituted again).  yes_token and
 * no_token are token strings as in the vocabulary (tokenizer_token_id), not
 * text to encode. */
typedef struct rerank_template {
    const char *prefix;
    const char *body;
    const char *suffix;
    const char *yes_token; /* "yes" */
    const char *no_token;  /* "no" */
} rerank_template;

/* Options; a zeroed struct (or NULL) means all defaults. */
typedef struct rerank_opts {
    rerank_template tmpl;
    const char *instruction; /* NULL: RERANK_QWEN3_INSTRUCTION */
    int max_length;          /* tokens per pair, template included; 0: the smaller of
                                RERANK_QWEN3_MAX_LENGTH and max_position_embeddings; never
                                more than max_position_embeddings */
    int batch_size;          /* pairs per engine_forward call; 0: 4.  The KV cache holds
                                batch_size x (longest pair so far, rounded up to 256)
                                positions: about 0.9 GiB for Qwen3-Reranker-0.6B at
                                batch 4 x 1024 */
    int max_batch_tokens;    /* engine chunk size (engine_create); 0: 512 */
} rerank_opts;

typedef struct reranker reranker;

/* Load DIR's model (model_load) and DIR/tokenizer.json, and prepare the
 * template.  opts may be NULL; its strings are copied.  *out is owned by the
 * caller (reranker_close).  Errors: those of model_load and tokenizer_load
 * (MN_EIO "DIR/tokenizer.json: ..." when it is missing), MN_EUSAGE (a body
 * without "{doc}", a negative option), MN_EMISMATCH ("DIR/tokenizer.json:
 * reranker yes token 'yes' is not in the vocabulary", a yes/no id outside the
 * model's vocabulary), MN_ERANGE (prefix + suffix leave no room in
 * max_length). */
int reranker_open(const char *model_dir, const rerank_opts *opts, reranker **out, mn_err *err);

/* The same over an already loaded model and tokenizer, borrowed: both must
 * outlive the reranker.  `what` names the tokenizer in messages. */
int reranker_open_with(const model *m, const tokenizer *tok, const char *what,
                       const rerank_opts *opts, reranker **out, mn_err *err);

/* Free everything the reranker owns (the model and tokenizer too when it
 * loaded them).  NULL is ok. */
void reranker_close(reranker *r);

/* Score docs[0..n) against query: scores[i] (caller-owned, [n]) gets
 * P(yes) in [0, 1] for docs[i].  doc_lens may be NULL (each doc is then
 * NUL-terminated); otherwise doc i is docs[i][0..doc_lens[i]) and may contain
 * U+0000.  n == 0 does nothing.  Errors: MN_ERANGE (n < 0), those of
 * tokenizer_encode (invalid UTF-8, named "query" or "doc 3"), engine_create
 * and engine_forward (MN_ENOMEM, token ids outside the model's vocabulary);
 * scores are then unspecified. */
int reranker_score(reranker *r, const char *query, const char *const *docs,
                   const size_t *doc_lens, int n, double *scores, mn_err *err);

/* The token sequence scored for (query, doc[0..doc_len)), after truncation
 * to max_length.  *ids is malloc'd (caller frees), *n its length.  Errors:
 * those of tokenizer_encode. */
int reranker_pair_ids(const reranker *r, const char *query, const char *doc, size_t doc_len,
                      int32_t **ids, size_t *n, mn_err *err);

/* The ids of the yes and no tokens, and the effective max_length. */
int32_t reranker_yes_id(const reranker *r);
int32_t reranker_no_id(const reranker *r);
int reranker_max_length(const reranker *r);

#endif
