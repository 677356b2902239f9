/* eval.h — one evaluation run: a model on a benchmark, optionally with
 * passages retrieved from a corpus DB and with test-time compute, written
 * as per-item records plus summaries.  `mnemo eval` is a thin layer over
 * it; the cluster runner (issue 5) reuses the per-item pieces.
 *
 * Flow (eval_run):
 *   1. load the items (bench_load; --limit keeps the first N) and the
 *      few-shot pool (MMLU: the dev split of the same release, by subject;
 *      other kinds: --shots-from);
 *   2. retrieval (when a DB is given): the item's question is the query;
 *      BM25, dense or hybrid top-k; the chunk ids and scores are recorded;
 *      with a reranker (--rerank) the first stage passes on rerank_depth
 *      candidates (default max(k, 20), as `mnemo search`), decontamination
 *      (if on) drops passages first, then the reranker scores the rest and
 *      the best k (ties: first-stage order) go into the prompt, best first:
 *        self      query likelihood with the evaluated model (UPR,
 *                  bench/rerank_upr.h): mean log P(question | passage
 *                  template), one pair at a time;
 *        MODEL_DIR a Qwen3-Reranker-style model (retrieval/rerank.h):
 *                  P(yes) for (query = the question, doc = the passage));
 *      reranking happens when a block of items is scored (so `mnemo run`
 *      reranks on the rank that scores the chunk), one item at a time,
 *      and gives the same records whatever the batch size or rank count;
 *   3. prompts (prompt.h) with the passages under a token budget, in the
 *      chat format asked for;
 *   4. scoring, by the item's kind and the method:
 *      - multiple choice by log-likelihood (default for items with
 *        choices): llreq.h requests in batches; metrics acc and acc_norm
 *        (lm-eval's definitions);
 *      - generation (free-form items, or --method generate): samples by
 *        the test-time-compute setting, answer extraction, a vote:
 *          greedy     one greedy sample
 *          sc:K       K samples (temperature default 0.7 when K > 1; K = 1
 *                     is greedy unless --temperature is given) sharing one
 *                     prefill, majority vote over normalised answers
 *          docsc      one greedy sample per retrieved passage (a prompt with
 *                     that passage alone), majority vote
 *          bestofn:N  N samples; the one with the best verifier score wins
 *                     (a Qwen3-Reranker-style model judging (question,
 *                     response) with --verifier; without one, the mean
 *                     token log-probability)
 *        metrics: math500 exact_match by math_equiv; MC by generation acc
 *        (letter); SimpleQA / generic free-form exact_match and f1 (SQuAD
 *        normalisation) and rouge_l_f;
 *   5. outputs in DIR: items.jsonl (one record per item, in item order),
 *      summary.json (summary.h) and lm-eval's results layout in
 *      DIR/<model name>/results_<date>.json.
 * Deterministic for a seed: sample j of item `id` uses ttc_seed(seed, id,
 * j), whatever the batch size or item order. */
#ifndef MNEMO_BENCH_EVAL_H
#define MNEMO_BENCH_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bench/loader.h" /* bench_load_opts */
#include "bench/prompt.h" /* prompt_rag_order, prompt_style */
#include "util/err.h"
#include "util/filehash.h" /* filehash_stats */

typedef enum eval_method { EVAL_METHOD_AUTO, EVAL_METHOD_LOGLIK, EVAL_METHOD_GENERATE } eval_method;
typedef enum eval_ttc { EVAL_TTC_GREEDY, EVAL_TTC_SC, EVAL_TTC_DOCSC, EVAL_TTC_BESTOFN } eval_ttc;
typedef enum eval_retrieval_mode { EVAL_RETR_BM25, EVAL_RETR_DENSE, EVAL_RETR_HYBRID } eval_retrieval_mode;

typedef struct eval_opts {
    const char *model_dir;      /* checkpoint directory */
    const char *tokenizer;      /* tokenizer.json; NULL: model_dir/tokenizer.json */
    const char *bench;          /* KIND:PATH */
    bench_load_opts load;
    const char *shots_from;     /* KIND:PATH few-shot pool for non-MMLU kinds, or NULL */
    size_t shots;               /* few-shot examples */
    size_t limit;               /* first N items; 0: all */
    eval_method method;
    const char *style;          /* prompt style name (prompt_style_parse) or NULL: by kind and method */
    const char *chat;           /* "none" (default), "auto" (by model type), "chatml", "llama3", "custom:..." */
    const char *system;         /* system prompt or NULL */
    int math_cot;               /* math: zero-shot \boxed{} chain-of-thought prompt */
    int add_bos;                /* prepend the tokenizer's BOS to every prompt (lm-eval add_bos_token) */
    /* retrieval */
    const char *db;             /* DB directory or NULL */
    size_t k;                   /* passages retrieved (default 3) */
    eval_retrieval_mode mode;
    const char *embed_model;    /* dense / hybrid: the model the DB was embedded with */
    size_t budget;              /* passage tokens in the prompt (default 1024) */
    prompt_rag_order order;
    size_t decontaminate;       /* N > 0: drop passages sharing a word N-gram with the item (decontam.h);
                                   EVAL_DECONTAM_EXTRA more passages are retrieved to make up for them */
    const char *rerank;         /* NULL: no reranking; "self": query likelihood with the evaluated
                                   model (UPR); else a Qwen3-Reranker-style model directory */
    size_t rerank_depth;        /* first-stage candidates reranked (>= k); 0: max(k, 20) */
    /* test-time compute */
    eval_ttc ttc;
    int ttc_n;                  /* K of sc:K, N of bestofn:N */
    const char *verifier;       /* bestofn: reranker-style model dir or NULL */
    double temperature;         /* < 0: the setting's default */
    double top_p;               /* (0, 1] */
    int top_k;                  /* 0: off */
    int max_new;                /* new tokens per sample */
    uint64_t seed;
    int batch;                  /* questions (loglik) or sequences (greedy) per engine pass */
    int threads;                /* 0: default */
    size_t chunk;               /* items scored together (a unit of work and of commit); results
                                   depend only on the chunking, not on which process scores it */
    const char *out_dir;
    const char *created;        /* ISO 8601 time for the summaries; NULL: now */
} eval_opts;

#define EVAL_DECONTAM_EXTRA 10

#define EVAL_RERANK_DEPTH_MIN 20 /* the default rerank depth is max(k, this) */

/* Candidates the first stage passes on after decontamination: k without a
 * reranker, with one rerank_depth (0: max(k, EVAL_RERANK_DEPTH_MIN)). */
size_t eval_rerank_depth(const eval_opts *o);

/* Passages to retrieve per item: eval_rerank_depth(o), plus
 * EVAL_DECONTAM_EXTRA when decontaminating. */
size_t eval_retrieval_depth(const eval_opts *o);

/* The defaults: method auto, chat none, k 3, bm25, budget 1024, best
 * first, greedy, temperature -1 (by setting), top_p 1, max_new 256, seed
 * 1234, batch 8. */
void eval_opts_default(eval_opts *o);

/* Parse "greedy", "sc:K", "docsc", "bestofn:N" into o->ttc / o->ttc_n.
 * MN_EUSAGE. */
int eval_ttc_parse(const char *s, eval_opts *o, mn_err *err);

/* ---- the pieces, for callers that distribute the items (src/run/) ----
 * A session holds the items, the model and the prompts' inputs of one
 * evaluation (eval_opts, borrowed: it must outlive the session). */
typedef struct eval_ctx eval_session;

/* Load the items, the few-shot pool, the model, tokenizer, verifier and
 * reranker; no retrieval yet.  Errors: those of the loaders and the models;
 * MN_EUSAGE for a reranker without o->db, a rerank_depth without a
 * reranker or below k. */
int eval_session_open(const eval_opts *o, eval_session **out, mn_err *err);
void eval_session_close(eval_session *s);
size_t eval_session_count(const eval_session *s);
const char *eval_session_item_id(const eval_session *s, size_t i);
/* Item i's content hash (identity_item_sha256, the records' "item_sha256"),
 * borrowed until eval_session_close. */
const char *eval_session_item_sha256(const eval_session *s, size_t i);
/* The identity of the session's inputs (bench/identity.h: the model,
 * tokenizer, benchmark and few-shot items, DB, reranker, verifier,
 * embedding model), built on the first call (hashes cached beside the
 * models, else in cache_dir; st may be NULL) and kept: *out is borrowed
 * until eval_session_close.  eval_session_write records it in
 * summary.json ("inputs") and the lm-eval file ("mnemo_inputs").  Errors:
 * identity_build's. */
int eval_session_identity(eval_session *s, const char *cache_dir, filehash_stats *st, const json_t **out,
                          mn_err *err);
/* The retrieval query of item i (its question). */
const char *eval_session_query(const eval_session *s, size_t i);
/* Retrieve every item's passages in this process (no-op without o->db). */
int eval_session_retrieve(eval_session *s, mn_err *err);
/* Give item i the passages retrieved elsewhere (copied): chunk ids,
 * scores and texts text[j][0..len[j]), best first: the first stage's
 * eval_retrieval_depth(o) hits (decontaminated and trimmed here; reranked
 * when the item is scored). */
void eval_session_set_passages(eval_session *s, size_t i, size_t n, const uint64_t *chunk, const double *score,
                               const char *const *text, const size_t *len);
/* Score items [first, first + n) (reranking their passages first when
 * o->rerank): recs[j] gets item first + j's record (a new reference).  The
 * same range gives the same records in any process.
 * On error every recs[j] is NULL. */
int eval_session_score(eval_session *s, size_t first, size_t n, json_t **recs, mn_err *err);
/* Write o->out_dir/items.jsonl from recs[0..count) (item order) and the
 * summaries. */
int eval_session_write(eval_session *s, json_t *const *recs, mn_err *err);
/* Share of items correct in the last eval_session_write. */
double eval_session_accuracy(const eval_session *s);

/* Run the evaluation and write the outputs into o->out_dir (created).
 * *n_items / *accuracy (may be NULL) get the totals.  Errors: any
 * module's (loading, retrieval, model, scoring), with the item named. */
int eval_run(const eval_opts *o, size_t *n_items, double *accuracy, mn_err *err);

#endif
