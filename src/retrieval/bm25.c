/* bm25.c — Lucene-style BM25 (formulas and tie rule in bm25.h), a binary
 * min-heap top-k, and an exhaustive document-at-a-time evaluator. */
#include "retrieval/bm25.h"

#include <math.h>
#include <stdlib.h>

bm25_params bm25_params_default(void)
{
    return (bm25_params){BM25_K1_DEFAULT, BM25_B_DEFAULT};
}

int bm25_params_check(const bm25_params *p, mn_err *err)
{
    if (!isfinite(p->k1) || p->k1 < 0)
        return mn_errf(err, MN_ERANGE, "bm25: k1 = %g: must be a finite number >= 0", p->k1);
    if (!(p->b >= 0 && p->b <= 1))
        return mn_errf(err, MN_ERANGE, "bm25: b = %g: must be within [0, 1]", p->b);
    return 0;
}

double bm25_idf(uint64_t N, uint64_t df)
{
    return log(1.0 + ((double)N - (double)df + 0.5) / ((double)df + 0.5));
}

double bm25_term_score(const bm25_params *p, double weight, uint32_t tf, uint32_t dl, double avgdl)
{
    return weight * (double)tf / ((double)tf + p->k1 * (1.0 - p->b + p->b * (double)dl / avgdl));
}

int bm25_topk_init(bm25_topk *t, size_t k, mn_err *err)
{
    t->k = k;
    t->n = 0;
    t->hit = NULL;
    if (k && !(t->hit = malloc(k * sizeof *t->hit)))
        return mn_errf(err, MN_ENOMEM, "bm25: out of memory for top-%zu", k);
    return 0;
}

void bm25_topk_free(bm25_topk *t)
{
    free(t->hit);
    t->hit = NULL;
    t->k = t->n = 0;
}

/* Heap order: a parent ranks AFTER (is worse than) its children. */
static void sift_down(bm25_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && bm25_hit_before(&h[w], &h[l]))
            w = l;
        if (r < n && bm25_hit_before(&h[w], &h[r]))
            w = r;
        if (w == i)
            return;
        bm25_hit tmp = h[i];
        h[i] = h[w];
        h[w] = tmp;
        i = w;
    }
}

void bm25_topk_push(bm25_topk *t, uint64_t doc, double score)
{
    bm25_hit x = {doc, score};
    if (t->n < t->k) { /* sift up */
        size_t i = t->n++;
        while (i > 0 && bm25_hit_before(&t->hit[(i - 1) / 2], &x)) {
            t->hit[i] = t->hit[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        t->hit[i] = x;
    } else if (t->k > 0 && bm25_hit_before(&x, &t->hit[0])) {
        t->hit[0] = x;
        sift_down(t->hit, t->n, 0);
    }
}

size_t bm25_topk_sort(bm25_topk *t)
{
    /* heapsort: repeatedly move the worst to the end */
    for (size_t n = t->n; n > 1; n--) {
        bm25_hit tmp = t->hit[0];
        t->hit[0] = t->hit[n - 1];
        t->hit[n - 1] = tmp;
        sift_down(t->hit, n - 1, 0);
    }
    return t->n;
}

/* The evaluator behind both entry points, document at a time over decoded
 * lists: lengths from dls when non-NULL, else from the callback (a
 * predictable branch per document). */
static int search(const bm25_params *p, const bm25_stats *st, const bm25_list *l, size_t nl,
                  const bm25_doclens *dls, bm25_doclen_fn doclen, void *ctx, bm25_topk *topk, mn_err *err)
{
    double *weight = NULL;
    size_t *pos = NULL;
    int rc;

    if ((rc = bm25_params_check(p, err)))
        return rc;
    if (st->N == 0 || nl == 0)
        return 0; /* nothing indexed: no document can match */
    double avgdl = (double)st->total_len / (double)st->N;
    weight = malloc(nl * sizeof *weight);
    pos = calloc(nl, sizeof *pos);
    if (!weight || !pos) {
        rc = mn_errf(err, MN_ENOMEM, "bm25: out of memory for %zu query terms", nl);
        goto done;
    }
    for (size_t t = 0; t < nl; t++) {
        if (l[t].qtf == 0) {
            rc = mn_errf(err, MN_ERANGE, "bm25: query term %zu: qtf 0 (must be >= 1)", t);
            goto done;
        }
        if (l[t].df > st->N) {
            rc = mn_errf(err, MN_EFORMAT, "%s: df %llu exceeds the collection's %llu documents",
                         l[t].where ? l[t].where : "postings", (unsigned long long)l[t].df,
                         (unsigned long long)st->N);
            goto done;
        }
        weight[t] = (double)l[t].qtf * bm25_idf(st->N, l[t].df);
    }
    for (;;) {
        /* the smallest current doc id over the lists not yet exhausted */
        int any = 0;
        uint64_t doc = 0;
        for (size_t t = 0; t < nl; t++)
            if (pos[t] < l[t].n && (!any || l[t].p[pos[t]].doc < doc)) {
                doc = l[t].p[pos[t]].doc;
                any = 1;
            }
        if (!any)
            break;
        uint32_t dl;
        if (dls) {
            uint64_t i = doc - dls->base; /* wraps for doc < base: out of range */
            if (i >= dls->nlens || (dl = dls->lens[i]) == BM25_DOCLEN_NONE) {
                rc = mn_errf(err, MN_EFORMAT, "%s: chunk %llu is in the postings but has no length",
                             dls->where ? dls->where : "doclen", (unsigned long long)doc);
                goto done;
            }
        } else if ((rc = doclen(ctx, doc, &dl, err))) {
            goto done;
        }
        double score = 0;
        for (size_t t = 0; t < nl; t++) {
            if (pos[t] >= l[t].n || l[t].p[pos[t]].doc != doc)
                continue;
            uint32_t tf = l[t].p[pos[t]++].tf;
            if (tf > dl) {
                rc = mn_errf(err, MN_EFORMAT, "%s: doc %llu: term frequency %u exceeds the document length %u",
                             l[t].where ? l[t].where : "postings", (unsigned long long)doc, tf, dl);
                goto done;
            }
            score += bm25_term_score(p, weight[t], tf, dl, avgdl);
        }
        bm25_topk_push(topk, doc, score);
    }
    rc = 0;
done:
    free(weight);
    free(pos);
    return rc;
}

int bm25_search(const bm25_params *p, const bm25_stats *st, bm25_query_term *terms, size_t nterms,
                bm25_doclen_fn doclen, void *ctx, bm25_topk *topk, mn_err *err)
{
    int rc;
    if ((rc = bm25_params_check(p, err)))
        return rc;
    if (st->N == 0 || nterms == 0)
        return 0; /* nothing indexed: no document can match */
    bm25_list *l = calloc(nterms, sizeof *l);
    if (!l)
        return mn_errf(err, MN_ENOMEM, "bm25: out of memory for %zu query terms", nterms);
    /* decode each iterator's remaining postings; its count was checked
     * against the bytes present, so the allocation is bounded by them */
    for (size_t t = 0; t < nterms; t++) {
        postings_iter *it = terms[t].it;
        uint64_t left = it->count - it->seen;
        posting *pl = malloc((left ? left : 1) * sizeof *pl);
        l[t] = (bm25_list){pl, 0, terms[t].df, terms[t].qtf, it->where};
        if (!pl) {
            rc = mn_errf(err, MN_ENOMEM, "bm25: out of memory for %llu postings", (unsigned long long)left);
            goto done;
        }
        while (l[t].n < left && (rc = postings_iter_next(it, err)) == 1)
            pl[l[t].n++] = (posting){it->doc, it->tf};
        if (l[t].n == left)
            rc = postings_iter_next(it, err); /* 0 once no bytes follow the last */
        if (rc < 0)
            goto done;
    }
    rc = search(p, st, l, nterms, NULL, doclen, ctx, topk, err);
done:
    for (size_t t = 0; t < nterms; t++)
        free((void *)l[t].p);
    free(l);
    return rc;
}

int bm25_search_lists(const bm25_params *p, const bm25_stats *st, const bm25_list *lists, size_t nlists,
                      const bm25_doclens *dl, bm25_topk *topk, mn_err *err)
{
    return search(p, st, lists, nlists, dl, NULL, NULL, topk, err);
}
