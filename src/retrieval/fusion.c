/* fusion.c — reciprocal-rank and normalised-score fusion; see fusion.h. */
#include "retrieval/fusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Order by chunk id, then score (positions in first_occurrences; the
 * contributions in reduce, so their sum does not depend on qsort's order). */
static int by_id(const void *a, const void *b)
{
    const bm25_hit *x = a, *y = b;
    if (x->doc != y->doc)
        return x->doc < y->doc ? -1 : 1;
    return x->score < y->score ? -1 : x->score > y->score;
}

/* Sum contributions per chunk id: all[0..m) holds (id, contribution) pairs
 * from every list (a chunk's first occurrence in a list only); sort by id,
 * add up, keep the best k. */
static int reduce(bm25_hit *all, size_t m, size_t k, bm25_hit **out, size_t *nout, mn_err *err)
{
    qsort(all, m, sizeof *all, by_id);
    bm25_topk t = {0};
    int rc = bm25_topk_init(&t, k, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        double s = 0.0;
        for (; j < m && all[j].doc == all[i].doc; j++)
            s += all[j].score;
        bm25_topk_push(&t, all[i].doc, s);
        i = j;
    }
    *nout = bm25_topk_sort(&t);
    if (*nout) {
        *out = xmalloc(*nout * sizeof **out);
        memcpy(*out, t.hit, *nout * sizeof **out);
    }
    bm25_topk_free(&t);
    return 0;
}

/* keep[i] = 1 unless list[i].doc already occurred in list[0..i). */
static unsigned char *first_occurrences(const bm25_hit *list, size_t n)
{
    unsigned char *keep = xmalloc(n ? n : 1);
    bm25_hit *c = xmalloc((n ? n : 1) * sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = (bm25_hit){list[i].doc, (double)i}; /* (id, position) */
    qsort(c, n, sizeof *c, by_id);
    for (size_t i = 0; i < n; i++)
        keep[(size_t)c[i].score] = i == 0 || c[i].doc != c[i - 1].doc;
    free(c);
    return keep;
}

static size_t total(const size_t *n, int nlists)
{
    size_t m = 0;
    for (int l = 0; l < nlists; l++)
        m += n[l];
    return m;
}

int fusion_rrf(const bm25_hit *const *lists, const size_t *n, int nlists, double rrf_k, size_t k, bm25_hit **out,
               size_t *nout, mn_err *err)
{
    *out = NULL;
    *nout = 0;
    if (!isfinite(rrf_k) || rrf_k < 0)
        return mn_errf(err, MN_ERANGE, "fusion: rrf k %g must be finite and >= 0", rrf_k);
    size_t m = 0, cap = total(n, nlists);
    bm25_hit *all = xmalloc((cap ? cap : 1) * sizeof *all);
    for (int l = 0; l < nlists; l++) {
        unsigned char *keep = first_occurrences(lists[l], n[l]);
        for (size_t i = 0; i < n[l]; i++)
            if (keep[i])
                all[m++] = (bm25_hit){lists[l][i].doc, 1.0 / (rrf_k + (double)(i + 1))};
        free(keep);
    }
    int rc = reduce(all, m, k, out, nout, err);
    free(all);
    return rc;
}

int fusion_score(const bm25_hit *const *lists, const size_t *n, int nlists, const double *weights, size_t k,
                 bm25_hit **out, size_t *nout, mn_err *err)
{
    *out = NULL;
    *nout = 0;
    for (int l = 0; l < nlists; l++)
        if (!isfinite(weights[l]))
            return mn_errf(err, MN_ERANGE, "fusion: weight of list %d is not finite", l);
    size_t m = 0, cap = total(n, nlists);
    bm25_hit *all = xmalloc((cap ? cap : 1) * sizeof *all);
    for (int l = 0; l < nlists; l++) {
        if (!n[l])
            continue;
        double lo = lists[l][0].score, hi = lo;
        for (size_t i = 1; i < n[l]; i++) {
            lo = fmin(lo, lists[l][i].score);
            hi = fmax(hi, lists[l][i].score);
        }
        unsigned char *keep = first_occurrences(lists[l], n[l]);
        for (size_t i = 0; i < n[l]; i++)
            if (keep[i]) {
                double norm = hi > lo ? (lists[l][i].score - lo) / (hi - lo) : 1.0;
                all[m++] = (bm25_hit){lists[l][i].doc, weights[l] * norm};
            }
        free(keep);
    }
    int rc = reduce(all, m, k, out, nout, err);
    free(all);
    return rc;
}
