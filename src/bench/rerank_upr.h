/* rerank_upr.h — query-likelihood passage reranking with a causal LM (UPR:
 * Sachan et al. 2022, "Improving Passage Retrieval with Zero-Shot Question
 * Generation"): a passage is as relevant as it makes the question likely.
 *
 * For a (question, passage) pair the log-likelihood request (llreq.h, so
 * lm-eval's encoding: the continuation's tokens are those of the joint
 * encoding after the context's) is
 *
 *   context      "Passage: {passage}\nPlease write a question based on this passage.\nQuestion:"
 *   continuation " {question}"
 *
 * plain text, no chat template, BOS as the llreq_ids say.  The score is the
 * mean per-token log-probability of the continuation,
 *
 *   score = (1 / |q|) sum_i log P(q_i | context, q_<i)
 *
 * computed by engine_loglik (loglik.h) one request at a time on slot 0, so a
 * score depends only on its own (question, passage) pair: never on the batch
 * size, the other candidates or the process that computes it.
 *
 * A request longer than max_len positions (n_ctx + n_cont - 1 > max_len)
 * has its passage cut from the right, at a UTF-8 character boundary, to the
 * longest prefix that fits (the template and the question stay whole); when
 * even an empty passage does not fit, the oldest context tokens are dropped
 * (llreq_truncate_left) and a question longer than the model is an error.
 *
 * Non-goals: ranking (the caller sorts), batching several pairs into one
 * forward pass (results would then depend on float rounding of the batch
 * shape), other templates. */
#ifndef MNEMO_BENCH_RERANK_UPR_H
#define MNEMO_BENCH_RERANK_UPR_H

#include <stddef.h>

#include "bench/llreq.h"     /* llreq, llreq_ids */
#include "model/forward.h"   /* engine */
#include "model/tokenizer.h" /* tokenizer */
#include "util/err.h"

#define UPR_PREFIX "Passage: "
#define UPR_SUFFIX "\nPlease write a question based on this passage.\nQuestion:"

/* The request of (question, passage[0..len)) into *r (free with
 * llreq_free), its passage cut so that it fits max_len positions (max_len
 * <= 0: no limit).  *kept (may be NULL) gets the passage bytes used.
 * Errors: llreq_encode's (invalid UTF-8: MN_EFORMAT; a question that
 * encodes to no tokens: MN_ERANGE), MN_ERANGE when the question alone does
 * not fit.  On error *r is empty. */
int upr_request(const tokenizer *tok, const llreq_ids *ids, const char *question, const char *passage, size_t len,
                int max_len, llreq *r, size_t *kept, mn_err *err);

/* The score of request r (mean log-probability per continuation token) on
 * slot 0 of e, which must hold r->n_ctx + r->n_cont - 1 positions; the slot
 * is cleared afterwards.  Errors: engine_loglik's (MN_ERANGE, MN_ENOMEM). */
int upr_score(engine *e, const llreq *r, double *score, mn_err *err);

#endif
