/* rerank_upr.c — query-likelihood (UPR) scores of passages for a question
 * (see rerank_upr.h).  Non-goals: sorting, batching. */
#include "bench/rerank_upr.h"

#include <stdlib.h>
#include <string.h>

#include "model/kvcache.h" /* kvcache_set_len */
#include "model/loglik.h"  /* engine_loglik */
#include "util/strbuf.h"

/* The request with passage[0..len): context and continuation encoded. */
static int build(const tokenizer *tok, const llreq_ids *ids, const char *cont, const char *passage, size_t len,
                 llreq *r, mn_err *err)
{
    strbuf ctx = {0};
    strbuf_puts(&ctx, UPR_PREFIX);
    strbuf_put(&ctx, passage, len);
    strbuf_puts(&ctx, UPR_SUFFIX);
    int rc = llreq_encode(tok, ids, strbuf_str(&ctx), cont, r, err);
    free(ctx.p);
    return rc;
}

static int fits(const llreq *r, int max_len)
{
    return max_len <= 0 || (long)r->n_ctx + r->n_cont - 1 <= max_len;
}

/* The largest b <= len at a UTF-8 character boundary of s. */
static size_t char_floor(const char *s, size_t b)
{
    while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
        b--;
    return b;
}

int upr_request(const tokenizer *tok, const llreq_ids *ids, const char *question, const char *passage, size_t len,
                int max_len, llreq *r, size_t *kept, mn_err *err)
{
    size_t ql = strlen(question);
    char *cont = xmalloc(ql + 2);
    cont[0] = ' ';
    memcpy(cont + 1, question, ql + 1);
    int rc = build(tok, ids, cont, passage, len, r, err);
    size_t used = len;
    if (!rc && !fits(r, max_len)) {
        /* binary search for the longest passage prefix that fits: lo fits
         * (or is 0), hi does not */
        size_t lo = 0, hi = len;
        llreq t;
        while (!rc && hi - lo > 1) {
            size_t mid = char_floor(passage, lo + (hi - lo) / 2);
            if (mid <= lo) /* inside the character starting at lo: the next boundary */
                for (mid = lo + 1; mid < hi && ((unsigned char)passage[mid] & 0xC0) == 0x80;)
                    mid++;
            if (mid >= hi) /* no character boundary strictly between lo and hi */
                break;
            if (!(rc = build(tok, ids, cont, passage, mid, &t, err))) {
                if (fits(&t, max_len))
                    lo = mid;
                else
                    hi = mid;
                llreq_free(&t);
            }
        }
        llreq_free(r);
        used = lo;
        if (!rc)
            rc = build(tok, ids, cont, passage, lo, r, err);
        if (!rc && !fits(r, max_len) && llreq_truncate_left(r, max_len) < 0) {
            rc = mn_errf(err, MN_ERANGE, "rerank: the question's %d tokens do not fit the model's %d positions",
                         r->n_cont, max_len);
            llreq_free(r);
        }
    }
    free(cont);
    if (!rc && kept)
        *kept = used;
    return rc;
}

int upr_score(engine *e, const llreq *r, double *score, mn_err *err)
{
    double lp = 0;
    int greedy = 0;
    int rc = engine_loglik(e, 0, r->ctx, r->n_ctx, r->cont, r->n_cont, &lp, &greedy, NULL, err);
    kvcache_set_len(engine_kv(e), 0, 0);
    *score = rc ? 0.0 : lp / (double)r->n_cont;
    return rc;
}
