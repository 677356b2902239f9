/* bench_dense.c — how fast dense retrieval runs here: exact top-k by blocked
 * sgemm (dense_topk_exact) against the sgemm peak, and the IVF index
 * (ivf_build / ivf_search): build time, recall@10 against exact search and
 * speed-up over it, for several nprobe.
 *
 *   bench_dense [--n N] [--dim D] [--centres C] [--noise S] [--queries Q]
 *               [--single S] [--nlist L] [--iters I] [--train T]
 *               [--nprobe 8,16,32,64,128] [--threads 1,2] [--reps R]
 *               [--check K] [--seed X]
 *
 * Defaults: N = 1,000,000 vectors of D = 256, C = 1000 Gaussian centres,
 * noise S = 2.0, Q = 1000 queries, S = 20 single queries (exact; IVF uses
 * 10·S), L = 4096 lists (≈ 4·√N), I = 10 Lloyd iterations on T = 262,144
 * training vectors (64 per list), R = 3 timed repetitions after one
 * warm-up, K = 5 queries checked against float64, seed 1.
 *
 * Data (synthetic, fixed seed): C centres drawn N(0, I) and normalised;
 * each vector is a uniformly chosen centre plus N(0, S²/D · I) noise (a
 * noise vector of norm ≈ S), normalised; each query is drawn the same way
 * (fresh noise, not a copy of a data vector).  A vector's cosine to its
 * own centre is ≈ 1/√(1 + S²) (0.45 at S = 2), to another centre ≈ 0 ±
 * 1/√D.  S sets how hard the data is for IVF: at S = 1 the clusters are so
 * far apart that nprobe = 8 finds every neighbour; at S = 3 the vectors are
 * nearly uniform on the sphere and no list structure helps.  Chunk ids are
 * the row numbers.
 *
 * Checks first (exit status 1 if wrong): the exact top-10 of K queries
 * equals a float64 brute force over all N rows — same ids in the same order,
 * except where two neighbours' float64 scores are within 1e-6 (a tie at
 * float32 resolution) — and the exact top-10 at every thread count equals
 * that of the first.
 *
 * Then, per thread count t: the sgemm peak at the exact search's own shape
 * (Q×D×4096: queries × dim × one block of DENSE_BLOCK_ROWS rows, computed as
 * dense.c does, cblas_sgemm(RowMajor, NoTrans, Trans)) and at 2048³; exact
 * search of the Q queries in one batch (GFLOP/s = 2·N·D·Q / time, and its
 * ratio to the peak) and of S queries one at a time; an IVF build; for each
 * nprobe, IVF search of the Q queries in one batch and of 10·S one at a time:
 * recall@10 against the exact top-10 and speed-up over the exact search of
 * the same kind.  Each time: one warm-up run, R timed runs, median.
 *
 * Threads: retrieval has no OpenMP regions of its own: its only parallelism
 * is OpenBLAS's inside sgemm.  threads_set(t) keeps OpenBLAS single-threaded
 * (for the engine's sake, see util/threads.h), so this program calls
 * threads_set(t) and then openblas_set_num_threads(t).
 *
 * Output, one line per figure:
 *   dense check queries=K exact_equals_f64=yes|no ties=N max_abs_err=E
 *   dense sgemm threads=t shape=QxDx4096 median=G (and shape=2048x2048x2048)
 *   dense exact threads=t mode=batch|single ... median_s=.. gflops=.. ratio=.. qps=..
 *   dense ivf_build threads=t nlist=L ... seconds=.. lists_min=.. lists_max=..
 *   dense ivf threads=t nprobe=P mode=batch|single recall10=.. median_s=.. qps=.. speedup=..
 *   dense ivf_target threads=t mode=batch|single first_nprobe_recall_0.95=P speedup=.. met=yes|no
 *
 * Non-goals: embedding texts (that is the engine's speed), the on-disk
 * shard files (dense_shard_open only maps them), real embedding data.
 */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h" /* now_s, cmp_double */
#include "retrieval/bm25.h"
#include "retrieval/dense.h"
#include "retrieval/ivf.h"
#include "util/err.h"
#include "util/threads.h"

#define K_TOP 10
#define MAX_LIST 16

static int bd_failed; /* a check after the first failed: exit status 1 at the end */

typedef struct bd_opts {
    size_t n, dim, centres, queries, single, train, check;
    double noise;
    uint32_t nlist, iters;
    int reps;
    uint64_t seed;
    size_t nprobe[MAX_LIST], n_nprobe;
    int threads[MAX_LIST];
    size_t n_threads;
} bd_opts;

static uint64_t bd_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double bd_unif(uint64_t *s) { return ((double)(bd_rand(s) >> 11) + 0.5) / 9007199254740992.0; }

/* v[dim] = N(0, sd²) per coordinate (Box-Muller, both values used). */
static void bd_gauss(uint64_t *s, float *v, size_t dim, double sd)
{
    for (size_t d = 0; d < dim; d += 2) {
        double r = sqrt(-2.0 * log(bd_unif(s))), a = 6.283185307179586 * bd_unif(s);
        v[d] = (float)(sd * r * cos(a));
        if (d + 1 < dim)
            v[d + 1] = (float)(sd * r * sin(a));
    }
}

static void bd_normalise(float *v, size_t dim)
{
    double norm = 0.0;
    for (size_t d = 0; d < dim; d++)
        norm += (double)v[d] * v[d];
    norm = sqrt(norm);
    for (size_t d = 0; d < dim; d++)
        v[d] = (float)(norm > 0.0 ? v[d] / norm : 0.0);
}

/* rows out[m, dim]: a random centre of cent[C, dim] plus noise, normalised. */
static void bd_draw(uint64_t *s, const float *cent, size_t C, size_t dim, double noise, float *out, size_t m)
{
    double sd = noise / sqrt((double)dim);
    for (size_t i = 0; i < m; i++) {
        float *v = out + i * dim;
        const float *c = cent + (size_t)(bd_rand(s) % C) * dim;
        bd_gauss(s, v, dim, sd);
        for (size_t d = 0; d < dim; d++)
            v[d] += c[d];
        bd_normalise(v, dim);
    }
}

/* Parse "8,16,32" into out (at most MAX_LIST values >= 1); 0 on success. */
static int bd_parse_list(const char *s, long *out, size_t *n)
{
    *n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || *n >= MAX_LIST)
            return -1;
        out[(*n)++] = v;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return *n ? 0 : -1;
}

static int bd_usage(int i, const char *a)
{
    fprintf(stderr, "bench_dense: argument %d: '%s' unknown or bad (usage: bench_dense [--n N] [--dim D] "
            "[--centres C] [--noise S] [--queries Q] [--single S] [--nlist L] [--iters I] [--train T] "
            "[--nprobe 8,16,...] [--threads 1,2] [--reps R] [--check K] [--seed X])\n", i, a);
    return 2;
}

static int bd_parse(int argc, char **argv, bd_opts *o)
{
    *o = (bd_opts){.n = 1000000, .dim = 256, .centres = 1000, .queries = 1000, .single = 20, .train = 262144,
                   .check = 5, .noise = 2.0, .nlist = 4096, .iters = 10, .reps = 3, .seed = 1};
    long list[MAX_LIST];
    size_t nl;
    bd_parse_list("8,16,32,64,128", list, &nl);
    for (size_t i = 0; i < nl; i++)
        o->nprobe[i] = (size_t)list[i];
    o->n_nprobe = nl;
    o->threads[0] = 1, o->threads[1] = 2, o->n_threads = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            return bd_usage(i, a);
        const char *v = argv[++i];
        char *end;
        double x = strtod(v, &end);
        int num = *v && !*end && x >= 0 && x < 1e12;
        if (!strcmp(a, "--nprobe") || !strcmp(a, "--threads")) {
            if (bd_parse_list(v, list, &nl))
                return bd_usage(i, v);
            for (size_t j = 0; j < nl; j++) {
                if (a[2] == 'n')
                    o->nprobe[j] = (size_t)list[j];
                else if (list[j] > 256)
                    return bd_usage(i, v);
                else
                    o->threads[j] = (int)list[j];
            }
            if (a[2] == 'n')
                o->n_nprobe = nl;
            else
                o->n_threads = nl;
        } else if (!num)
            return bd_usage(i, v);
        else if (!strcmp(a, "--noise"))
            o->noise = x;
        else if (x != floor(x))
            return bd_usage(i, v);
        else if (!strcmp(a, "--n") && x >= 1)
            o->n = (size_t)x;
        else if (!strcmp(a, "--dim") && x >= 1 && x <= 65536)
            o->dim = (size_t)x;
        else if (!strcmp(a, "--centres") && x >= 1)
            o->centres = (size_t)x;
        else if (!strcmp(a, "--queries") && x >= 1)
            o->queries = (size_t)x;
        else if (!strcmp(a, "--single") && x >= 1)
            o->single = (size_t)x;
        else if (!strcmp(a, "--nlist") && x >= 1 && x <= 1e9)
            o->nlist = (uint32_t)x;
        else if (!strcmp(a, "--iters") && x >= 1 && x <= 1000)
            o->iters = (uint32_t)x;
        else if (!strcmp(a, "--train"))
            o->train = (size_t)x;
        else if (!strcmp(a, "--reps") && x >= 1 && x <= 1000)
            o->reps = (int)x;
        else if (!strcmp(a, "--check"))
            o->check = (size_t)x;
        else if (!strcmp(a, "--seed"))
            o->seed = (uint64_t)x;
        else
            return bd_usage(i - 1, a);
    }
    if (o->single > o->queries)
        o->single = o->queries;
    if (o->check > o->queries)
        o->check = o->queries;
    return 0;
}

/* Q accumulators of k = K_TOP. */
static bm25_topk *bd_topk_new(size_t Q)
{
    bm25_topk *t = xcalloc(Q, sizeof *t);
    mn_err err;
    for (size_t i = 0; i < Q; i++)
        if (bm25_topk_init(&t[i], K_TOP, &err)) {
            fprintf(stderr, "bench_dense: %s\n", err.msg);
            exit(1);
        }
    return t;
}

static void bd_topk_free(bm25_topk *t, size_t Q)
{
    for (size_t i = 0; i < Q; i++)
        bm25_topk_free(&t[i]);
    free(t);
}

/* Sort every accumulator and copy its ids into out[Q, K_TOP] (missing: UINT64_MAX). */
static void bd_topk_ids(bm25_topk *t, size_t Q, uint64_t *out)
{
    for (size_t i = 0; i < Q; i++) {
        size_t n = bm25_topk_sort(&t[i]);
        for (size_t j = 0; j < K_TOP; j++)
            out[i * K_TOP + j] = j < n ? t[i].hit[j].doc : UINT64_MAX;
    }
}

static void bd_die(const char *what, const mn_err *err)
{
    fprintf(stderr, "bench_dense: %s: %s\n", what, err->msg);
    exit(1);
}

/* One search of the kind below, into ids out[Q, K_TOP] (may be NULL). */
typedef struct bd_data {
    const bd_opts *o;
    const float *x, *q;
    const uint64_t *ids;
    const ivf *ix;
} bd_data;

/* Exact (ix == NULL) or IVF search of queries q0 .. q0+nq, one batch or one
 * query per call; returns the seconds taken; ids into out when non-NULL. */
static double bd_search(const bd_data *d, size_t q0, size_t nq, int single, size_t nprobe, uint64_t *out)
{
    size_t D = d->o->dim;
    bm25_topk *t = bd_topk_new(nq);
    mn_err err;
    double t0 = now_s();
    for (size_t i = 0; i < nq; i += single ? 1 : nq) {
        size_t m = single ? 1 : nq;
        const float *q = d->q + (q0 + i) * D;
        int rc = d->ix ? ivf_search(d->ix, q, m, nprobe, t + i, &err)
                       : dense_topk_exact(d->x, d->ids, d->o->n, D, q, m, t + i, &err);
        if (rc)
            bd_die(d->ix ? "ivf_search" : "dense_topk_exact", &err);
    }
    double dt = now_s() - t0;
    if (out)
        bd_topk_ids(t, nq, out);
    bd_topk_free(t, nq);
    return dt;
}

/* Warm-up, then reps timed runs; median seconds.  ids of the last run into out. */
static double bd_time(const bd_data *d, size_t q0, size_t nq, int single, size_t nprobe, uint64_t *out)
{
    int R = d->o->reps;
    double *s = xmalloc((size_t)R * sizeof *s);
    bd_search(d, q0, nq, single, nprobe, NULL);
    for (int r = 0; r < R; r++)
        s[r] = bd_search(d, q0, nq, single, nprobe, r == R - 1 ? out : NULL);
    qsort(s, (size_t)R, sizeof *s, cmp_double);
    double med = s[R / 2];
    free(s);
    return med;
}

/* Median GFLOP/s of sgemm(RowMajor, NoTrans, Trans) M×K×N, as dense.c calls it. */
static double bd_sgemm(int M, int K, int N, int reps)
{
    float *a = xmalloc((size_t)M * K * sizeof *a), *b = xmalloc((size_t)N * K * sizeof *b);
    float *c = xmalloc((size_t)M * N * sizeof *c);
    uint64_t s = 99;
    bd_gauss(&s, a, (size_t)M * K, 1.0);
    bd_gauss(&s, b, (size_t)N * K, 1.0);
    double *g = xmalloc((size_t)reps * sizeof *g);
    for (int r = -1; r < reps; r++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
        if (r >= 0)
            g[r] = 2.0 * M * K * N / (now_s() - t0) / 1e9;
    }
    qsort(g, (size_t)reps, sizeof *g, cmp_double);
    double med = g[reps / 2];
    free(g);
    free(a);
    free(b);
    free(c);
    return med;
}

/* Check the exact top-10 of the first K queries against a float64 brute
 * force; exact[Q, K_TOP] holds the float32 search's ids.  Returns 0 if equal. */
static int bd_check_f64(const bd_data *d, const uint64_t *exact)
{
    size_t D = d->o->dim, N = d->o->n, K = d->o->check;
    int bad = 0, ties = 0;
    double max_err = 0.0;
    for (size_t qi = 0; qi < K; qi++) {
        const float *q = d->q + qi * D;
        bm25_topk t = {0};
        mn_err err;
        if (bm25_topk_init(&t, K_TOP, &err))
            bd_die("check", &err);
        for (size_t r = 0; r < N; r++) {
            const float *x = d->x + r * D;
            double s = 0.0;
            for (size_t c = 0; c < D; c++)
                s += (double)q[c] * x[c];
            bm25_topk_push(&t, d->ids[r], s);
        }
        size_t n = bm25_topk_sort(&t);
        for (size_t j = 0; j < n; j++) {
            uint64_t got = exact[qi * K_TOP + j];
            /* float32 score of the f64 neighbour, for the error figure */
            const float *x = d->x + t.hit[j].doc * D;
            float s32 = 0.0f;
            for (size_t c = 0; c < D; c++)
                s32 += q[c] * x[c];
            if (fabs((double)s32 - t.hit[j].score) > max_err)
                max_err = fabs((double)s32 - t.hit[j].score);
            if (got == t.hit[j].doc)
                continue;
            /* a swap of neighbours whose float64 scores tie at float32 resolution */
            int tie = 0;
            for (size_t k = 0; k < n; k++)
                if (t.hit[k].doc == got && fabs(t.hit[k].score - t.hit[j].score) < 1e-6)
                    tie = 1;
            if (tie)
                ties++;
            else {
                if (!bad)
                    fprintf(stderr, "bench_dense: query %zu rank %zu: exact search gives id %llu, float64 "
                            "gives %llu (score %.9f)\n", qi, j + 1, (unsigned long long)got,
                            (unsigned long long)t.hit[j].doc, t.hit[j].score);
                bad = 1;
            }
        }
        bm25_topk_free(&t);
    }
    printf("dense check queries=%zu exact_equals_f64=%s ties=%d max_abs_err_f32_vs_f64=%.2e\n", K,
           bad ? "no" : "yes", ties, max_err);
    fflush(stdout);
    return bad;
}

/* Mean over queries of |found ∩ truth| / K_TOP, both [nq, K_TOP]. */
static double bd_recall(const uint64_t *found, const uint64_t *truth, size_t nq)
{
    size_t hit = 0;
    for (size_t i = 0; i < nq; i++)
        for (size_t j = 0; j < K_TOP; j++)
            for (size_t k = 0; k < K_TOP; k++)
                if (found[i * K_TOP + j] != UINT64_MAX && found[i * K_TOP + j] == truth[i * K_TOP + k]) {
                    hit++;
                    break;
                }
    return (double)hit / (double)(nq * K_TOP);
}

static void bd_run_threads(const bd_data *d0, int t, uint64_t *truth, int first)
{
    const bd_opts *o = d0->o;
    bd_data d = *d0;
    size_t Q = o->queries, D = o->dim, S = o->single, SI = 10 * o->single < Q ? 10 * o->single : Q;
    threads_set(t);
    openblas_set_num_threads(t); /* retrieval's only parallelism is OpenBLAS's (see the header) */

    double peak = bd_sgemm((int)Q, (int)D, DENSE_BLOCK_ROWS, 5 * o->reps);
    double big = bd_sgemm(2048, 2048, 2048, o->reps);
    printf("dense sgemm threads=%d shape=%zux%zux%d median=%.1f unit=GFLOP/s\n", t, Q, D, DENSE_BLOCK_ROWS, peak);
    printf("dense sgemm threads=%d shape=2048x2048x2048 median=%.1f unit=GFLOP/s\n", t, big);
    fflush(stdout);

    /* exact, one batch */
    uint64_t *ids = xmalloc(Q * K_TOP * sizeof *ids);
    double eb = bd_time(&d, 0, Q, 0, 0, ids);
    double flop = 2.0 * (double)o->n * (double)D * (double)Q;
    printf("dense exact threads=%d mode=batch queries=%zu median_s=%.3f gflops=%.1f peak=%.1f ratio=%.3f "
           "ratio_2048=%.3f qps=%.1f\n", t, Q, eb, flop / eb / 1e9, peak, flop / eb / 1e9 / peak,
           flop / eb / 1e9 / big, Q / eb);
    fflush(stdout);
    if (first) {
        memcpy(truth, ids, Q * K_TOP * sizeof *ids);
        if (bd_check_f64(&d, truth))
            exit(1);
    } else if (memcmp(truth, ids, Q * K_TOP * sizeof *ids)) {
        fprintf(stderr, "bench_dense: exact top-10 at %d threads differs from the first thread count's\n", t);
        bd_failed = 1;
    }

    /* exact, one query at a time */
    double es = bd_time(&d, 0, S, 1, 0, ids) / (double)S;
    double flop1 = 2.0 * (double)o->n * (double)D;
    printf("dense exact threads=%d mode=single queries=%zu median_ms=%.2f gflops=%.1f gbps=%.1f qps=%.1f "
           "same_as_batch=%s\n", t, S, 1e3 * es, flop1 / es / 1e9, (double)o->n * D * 4 / es / 1e9, 1.0 / es,
           memcmp(ids, truth, S * K_TOP * sizeof *ids) ? "no" : "yes");
    fflush(stdout);

    /* IVF */
    ivf_params p = {.nlist = o->nlist, .iters = o->iters, .seed = o->seed, .max_train = o->train};
    ivf *ix;
    mn_err err;
    double t0 = now_s();
    if (ivf_build(d.x, d.ids, o->n, D, &p, 0, &ix, &err))
        bd_die("ivf_build", &err);
    double bt = now_s() - t0;
    size_t lmin = SIZE_MAX, lmax = 0;
    for (uint32_t l = 0; l < ivf_nlist(ix); l++) {
        size_t s = ivf_list_size(ix, l);
        lmin = s < lmin ? s : lmin;
        lmax = s > lmax ? s : lmax;
    }
    printf("dense ivf_build threads=%d nlist=%u iters=%u train=%zu seconds=%.1f lists_min=%zu lists_mean=%.0f "
           "lists_max=%zu\n", t, ivf_nlist(ix), o->iters, o->train < o->n ? o->train : o->n, bt, lmin,
           (double)o->n / ivf_nlist(ix), lmax);
    fflush(stdout);
    d.ix = ix;
    /* per mode (0 batch, 1 single): the first nprobe reaching recall 0.95 */
    size_t hit_np[2] = {0, 0};
    double hit_rec[2] = {0, 0}, hit_sp[2] = {0, 0};
    for (size_t i = 0; i < o->n_nprobe; i++) {
        size_t np = o->nprobe[i];
        double ib = bd_time(&d, 0, Q, 0, np, ids), rb = bd_recall(ids, truth, Q);
        printf("dense ivf threads=%d nprobe=%zu mode=batch queries=%zu recall10=%.4f median_s=%.4f qps=%.1f "
               "speedup=%.2f\n", t, np, Q, rb, ib, Q / ib, eb / ib);
        fflush(stdout);
        double is = bd_time(&d, 0, SI, 1, np, ids) / (double)SI, rs = bd_recall(ids, truth, SI);
        printf("dense ivf threads=%d nprobe=%zu mode=single queries=%zu recall10=%.4f median_ms=%.3f qps=%.1f "
               "speedup=%.2f\n", t, np, SI, rs, 1e3 * is, 1.0 / is, es / is);
        fflush(stdout);
        double rec[2] = {rb, rs}, sp[2] = {eb / ib, es / is};
        for (int m = 0; m < 2; m++)
            if (!hit_np[m] && rec[m] >= 0.95)
                hit_np[m] = np, hit_rec[m] = rec[m], hit_sp[m] = sp[m];
    }
    for (int m = 0; m < 2; m++) {
        if (hit_np[m])
            printf("dense ivf_target threads=%d mode=%s first_nprobe_recall_0.95=%zu recall10=%.4f speedup=%.2f "
                   "met=%s\n", t, m ? "single" : "batch", hit_np[m], hit_rec[m], hit_sp[m],
                   hit_sp[m] >= 5.0 ? "yes" : "no");
        else
            printf("dense ivf_target threads=%d mode=%s first_nprobe_recall_0.95=none met=no\n", t,
                   m ? "single" : "batch");
    }
    fflush(stdout);
    ivf_free(ix);
    free(ids);
}

int main(int argc, char **argv)
{
    bd_opts o;
    int rc = bd_parse(argc, argv, &o);
    if (rc)
        return rc;
    printf("# OpenBLAS %s, core %s\n", openblas_get_config(), openblas_get_corename());
    printf("dense data n=%zu dim=%zu centres=%zu noise=%.3f queries=%zu seed=%llu\n", o.n, o.dim, o.centres,
           o.noise, o.queries, (unsigned long long)o.seed);
    fflush(stdout);
    double t0 = now_s();
    uint64_t s = o.seed;
    float *cent = xmalloc(o.centres * o.dim * sizeof *cent);
    for (size_t c = 0; c < o.centres; c++) {
        bd_gauss(&s, cent + c * o.dim, o.dim, 1.0);
        bd_normalise(cent + c * o.dim, o.dim);
    }
    float *x = xmalloc(o.n * o.dim * sizeof *x);
    float *q = xmalloc(o.queries * o.dim * sizeof *q);
    uint64_t *ids = xmalloc(o.n * sizeof *ids);
    bd_draw(&s, cent, o.centres, o.dim, o.noise, x, o.n);
    bd_draw(&s, cent, o.centres, o.dim, o.noise, q, o.queries);
    for (size_t i = 0; i < o.n; i++)
        ids[i] = i;
    printf("dense data generated seconds=%.1f\n", now_s() - t0);
    fflush(stdout);

    bd_data d = {.o = &o, .x = x, .q = q, .ids = ids};
    uint64_t *truth = xmalloc(o.queries * K_TOP * sizeof *truth);
    for (size_t i = 0; i < o.n_threads; i++)
        bd_run_threads(&d, o.threads[i], truth, i == 0);
    free(truth);
    free(ids);
    free(q);
    free(x);
    free(cent);
    return bd_failed;
}
