/* eval_rerank.c — second-stage reranking of an item's retrieved passages
 * (eval.h, step 2): every candidate scored by the evaluated model's
 * query likelihood (self, bench/rerank_upr.h) or a Qwen3-Reranker-style
 * model (retrieval/rerank.h), then the best k kept in score order.
 * One item at a time, each pair scored on its own, so the outcome is the
 * same whatever the batch size, the block or the rank that scores it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/eval_int.h"
#include "bench/rerank_upr.h" /* upr_request, upr_score */

void eval_rerank_clear(eval_item *ev)
{
    free(ev->cand_chunk);
    free(ev->cand_score);
    free(ev->rscore);
    ev->cand_chunk = NULL;
    ev->cand_score = NULL;
    ev->rscore = NULL;
    ev->ncand = 0;
    ev->reranked = 0;
}

/* UPR scores of item i's candidates, one pair at a time. */
static int score_self(eval_ctx *c, size_t i, double *scores, mn_err *err)
{
    const eval_item *ev = &c->ev[i];
    int rc = 0, max_len = c->m->cfg.max_pos;
    for (size_t j = 0; !rc && j < ev->np; j++) {
        llreq r;
        if ((rc = upr_request(c->tok, &c->ids, c->items.items[i].question, ev->ptext[j], strlen(ev->ptext[j]), max_len,
                              &r, NULL, err)))
            return mn_err_prefix(err, "passage %zu: ", j + 1);
        if (!(rc = eval_engine_ensure(c, 1, r.n_ctx + r.n_cont - 1, err)))
            rc = upr_score(c->e, &r, &scores[j], err);
        llreq_free(&r);
    }
    return rc;
}

typedef struct ranked {
    double s;
    size_t j; /* first-stage rank */
} ranked;

/* Best score first; a NaN is below everything; ties by first-stage rank. */
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    double sx = isnan(x->s) ? -INFINITY : x->s, sy = isnan(y->s) ? -INFINITY : y->s;
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return x->j < y->j ? -1 : x->j > y->j;
}

/* Keep the best k of ev's candidates by scores, in score order; the
 * candidates move to cand_*. */
static void keep_best(eval_item *ev, const double *scores, size_t k)
{
    size_t n = ev->np, keep = n < k ? n : k;
    ranked *o = xcalloc(n ? n : 1, sizeof *o);
    for (size_t j = 0; j < n; j++)
        o[j] = (ranked){scores[j], j};
    qsort(o, n, sizeof *o, cmp_ranked);
    uint64_t *chunk = xcalloc(keep ? keep : 1, sizeof *chunk);
    double *score = xcalloc(keep ? keep : 1, sizeof *score), *rs = xcalloc(keep ? keep : 1, sizeof *rs);
    char **ptext = xcalloc(keep ? keep : 1, sizeof *ptext), **pid = xcalloc(keep ? keep : 1, sizeof *pid);
    for (size_t q = 0; q < n; q++) {
        size_t j = o[q].j;
        if (q < keep) {
            chunk[q] = ev->chunk[j];
            score[q] = ev->score[j];
            rs[q] = scores[j];
            ptext[q] = ev->ptext[j];
            pid[q] = ev->pid[j];
        } else {
            free(ev->ptext[j]);
            free(ev->pid[j]);
        }
    }
    free(ev->ptext);
    free(ev->pid);
    ev->cand_chunk = ev->chunk;
    ev->cand_score = ev->score;
    ev->ncand = n;
    ev->chunk = chunk;
    ev->score = score;
    ev->rscore = rs;
    ev->ptext = ptext;
    ev->pid = pid;
    ev->np = keep;
    ev->reranked = 1;
    free(o);
}

int eval_rerank_item(eval_ctx *c, size_t i, mn_err *err)
{
    eval_item *ev = &c->ev[i];
    if (!c->o->rerank || !c->has_passages || ev->reranked)
        return 0;
    double *scores = xcalloc(ev->np ? ev->np : 1, sizeof *scores);
    int rc = 0;
    if (ev->np && c->rerank_self)
        rc = score_self(c, i, scores, err);
    else if (ev->np)
        rc = reranker_score(c->rr, c->items.items[i].question, (const char *const *)ev->ptext, NULL, (int)ev->np,
                            scores, err);
    if (rc)
        mn_err_prefix(err, "item '%s': rerank: ", c->items.items[i].id);
    else
        keep_best(ev, scores, c->o->k);
    free(scores);
    return rc;
}
