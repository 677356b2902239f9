/* eval_int.h — what eval.c, eval_mc.c and eval_gen.c share (not for other
 * modules: see eval.h). */
#ifndef MNEMO_BENCH_EVAL_INT_H
#define MNEMO_BENCH_EVAL_INT_H

#include <jansson.h>

#include "bench/chat.h"
#include "bench/eval.h"
#include "bench/item.h"
#include "bench/llreq.h"
#include "bench/prompt.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "retrieval/rerank.h"
#include "retrieval/search.h"

/* One item's retrieval and prompt.  Before reranking the arrays hold the
 * first stage's candidates; after it (eval_rerank_item) they hold the k
 * passages of the prompt in reranked order and cand_* the candidates. */
typedef struct eval_item {
    size_t np;           /* passages for the prompt, best first */
    uint64_t *chunk;     /* [np] chunk ids */
    double *score;       /* [np] first-stage scores */
    char **ptext;        /* [np] passage texts (owned) */
    char **pid;          /* [np] chunk ids as text (owned), for the prompt's {id} */
    size_t dropped;      /* passages dropped by decontamination */
    int reranked;        /* eval_rerank_item ran */
    size_t ncand;        /* first-stage candidates (when reranked) */
    uint64_t *cand_chunk; /* [ncand] their chunk ids, first-stage order */
    double *cand_score;  /* [ncand] their first-stage scores */
    double *rscore;      /* [np] reranker scores of the kept passages (when reranked) */
} eval_item;

typedef struct eval_ctx {
    const eval_opts *o;
    bench_set items;
    bench_set pool;          /* few-shot pool (may be empty) */
    const char *kind;        /* items.kind */
    model *m;
    tokenizer *tok;
    engine *e;
    int e_slots, e_len;      /* the engine's capacity */
    chat_format chat;
    prompt_style mc_style;   /* for choice items */
    prompt_style gen_style;  /* for free-form items */
    int generate_mc;         /* choice items answered by generation */
    llreq_ids ids;
    search_db *db;
    eval_item *ev;           /* [items.n] */
    reranker *verifier;
    reranker *rr;            /* --rerank MODEL_DIR */
    int rerank_self;         /* --rerank self */
    double temperature;      /* resolved */
    size_t correct;          /* items answered correctly */
    int has_passages;        /* retrieval ran (here or elsewhere) */
    char (*item_sha)[65];    /* [items.n] identity_item_sha256 of each item */
    json_t *identity;        /* the inputs' identity (bench/identity.h), once built */
} eval_ctx;

/* The prompt options for item i (few-shot pool of its subject, passages),
 * with rag storage in *rag.  style: the prompt style to use. */
void eval_prompt_opts(eval_ctx *c, size_t i, prompt_style style, prompt_opts *po, prompt_passages *rag);

/* Build item i's prompt for style (and optionally only passage p of its
 * retrieval: p >= 0), its info and SHA-256.  *out malloc'd. */
int eval_build_prompt(eval_ctx *c, size_t i, prompt_style style, long only_passage, char **out, prompt_info *info,
                      char sha[65], mn_err *err);

/* A fresh record for item i with the fields every kind has: id, subject,
 * level, reference, retrieved chunk ids and scores. */
json_t *eval_record_new(eval_ctx *c, size_t i);

/* Record the prompt's hash, token count and the passages it used. */
void eval_record_prompt(json_t *rec, const char *sha, size_t tokens, const prompt_info *info);

/* Make sure the engine has at least `slots` KV slots of `len` positions
 * (recreated larger when not). */
int eval_engine_ensure(eval_ctx *c, int slots, int len, mn_err *err);

/* Rerank item i's passages (o->rerank; a no-op once done or without
 * one): score every candidate, keep the best k in score order (ties: first-
 * stage order).  eval_rerank.c.  Errors: the scorer's, with the item named. */
int eval_rerank_item(eval_ctx *c, size_t i, mn_err *err);

/* Free item i's candidate and rerank arrays (eval_rerank.c). */
void eval_rerank_clear(eval_item *ev);

/* Score items [first, first + n) that have choices by log-likelihood;
 * recs[j] gets item first + j's record.  eval_mc.c. */
int eval_mc_block(eval_ctx *c, size_t first, size_t n, json_t **recs, mn_err *err);

/* Answer items [first, first + n) by generation with the test-time
 * compute setting; recs[j] as above.  eval_gen.c. */
int eval_gen_block(eval_ctx *c, size_t first, size_t n, json_t **recs, mn_err *err);

#endif
