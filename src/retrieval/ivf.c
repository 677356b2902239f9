/* ivf.c — IVF build (spherical k-means), file format, probe search; see
 * ivf.h. */
#include "retrieval/ivf.h"

#include <cblas.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mapfile.h"
#include "util/outfile.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ivf files are written as the host's floats and integers, which must be little-endian"
#endif

#define IVF_MAGIC "MNIVF01\n"
#define IVF_HEADER 64
#define ASSIGN_BLOCK 4096
#define GEMM_MIN_QUERIES 8 /* queries probing one list below which a list is scanned by sgemv per query */

struct ivf {
    uint32_t dim, nlist, iters;
    uint64_t n, source_hash, seed;
    const uint64_t *off;  /* [nlist + 1] */
    const uint64_t *ids;  /* [n] */
    const float *cent;    /* [nlist, dim] */
    const float *vec;     /* [n, dim] */
    void *owned[4];       /* built in memory: the four arrays */
    mapfile map;          /* opened from a file */
};

/* The one sgemm of this file: c[m, n] = a[m, k] . b[n, k]^T. */
static void gemm_nt(const float *a, size_t m, const float *b, size_t n, size_t k, float *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b, (int)k, 0.0f,
                c, (int)n);
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t rand_below(uint64_t *s, size_t n)
{
    return (size_t)(splitmix64(s) % n);
}

/* best[i] = argmax_l x[i] . cent[l] for rows x[n, dim] (ties: smaller l). */
static int assign(const float *x, size_t n, size_t dim, const float *cent, uint32_t nlist, uint32_t *best,
                  mn_err *err)
{
    size_t B = n < ASSIGN_BLOCK ? n : ASSIGN_BLOCK;
    float *s = malloc((B ? B : 1) * nlist * sizeof *s); /* [B, nlist] */
    if (!s)
        return mn_errf(err, MN_ENOMEM, "IVF: out of memory for a %zu x %u assignment block", B, nlist);
    for (size_t r0 = 0; r0 < n; r0 += B) {
        size_t nb = n - r0 < B ? n - r0 : B;
        gemm_nt(x + r0 * dim, nb, cent, nlist, dim, s);
        for (size_t r = 0; r < nb; r++) {
            const float *row = s + r * nlist;
            uint32_t b = 0;
            for (uint32_t l = 1; l < nlist; l++)
                if (row[l] > row[b])
                    b = l;
            best[r0 + r] = b;
        }
    }
    free(s);
    return 0;
}

/* Normalise v[dim] in place (a zero vector stays zero). */
static void normalise(float *v, const double *acc, size_t dim)
{
    double norm = 0.0;
    for (size_t d = 0; d < dim; d++)
        norm += acc[d] * acc[d];
    norm = sqrt(norm);
    for (size_t d = 0; d < dim; d++)
        v[d] = (float)(norm > 0.0 ? acc[d] / norm : 0.0);
}

/* Spherical k-means over the training rows t[nt, dim] into cent[nlist, dim]. */
static int kmeans(const float *t, size_t nt, size_t dim, uint32_t nlist, uint32_t iters, uint64_t *rng, float *cent,
                  mn_err *err)
{
    /* init: nlist distinct training rows (partial Fisher-Yates) */
    size_t *perm = xmalloc(nt * sizeof *perm);
    for (size_t i = 0; i < nt; i++)
        perm[i] = i;
    for (uint32_t l = 0; l < nlist; l++) {
        size_t j = l + rand_below(rng, nt - l), tmp = perm[l];
        perm[l] = perm[j];
        perm[j] = tmp;
        memcpy(cent + (size_t)l * dim, t + perm[l] * dim, dim * sizeof *cent);
    }
    free(perm);
    uint32_t *best = xmalloc(nt * sizeof *best);
    double *acc = xcalloc((size_t)nlist * dim, sizeof *acc); /* [nlist, dim] */
    size_t *cnt = xcalloc(nlist, sizeof *cnt);
    int rc = 0;
    for (uint32_t it = 0; it < iters && !rc; it++) {
        if ((rc = assign(t, nt, dim, cent, nlist, best, err)))
            break;
        memset(acc, 0, (size_t)nlist * dim * sizeof *acc);
        memset(cnt, 0, nlist * sizeof *cnt);
        for (size_t i = 0; i < nt; i++) {
            double *a = acc + (size_t)best[i] * dim;
            const float *v = t + i * dim;
            for (size_t d = 0; d < dim; d++)
                a[d] += v[d];
            cnt[best[i]]++;
        }
        for (uint32_t l = 0; l < nlist; l++) {
            if (cnt[l])
                normalise(cent + (size_t)l * dim, acc + (size_t)l * dim, dim);
            else /* empty: re-seed with a random training row */
                memcpy(cent + (size_t)l * dim, t + rand_below(rng, nt) * dim, dim * sizeof *cent);
        }
    }
    free(best);
    free(acc);
    free(cnt);
    return rc;
}

int ivf_build(const float *x, const uint64_t *ids, size_t n, size_t dim, const ivf_params *p, uint64_t source_hash,
              ivf **out, mn_err *err)
{
    *out = NULL;
    if (!p->nlist || !p->iters || !dim)
        return mn_errf(err, MN_ERANGE, "ivf: nlist %u, iters %u, dim %zu: each must be >= 1", p->nlist, p->iters,
                       dim);
    uint32_t nlist = n < p->nlist ? (uint32_t)(n ? n : 1) : p->nlist;
    size_t max_train = p->max_train ? p->max_train : (size_t)nlist * 256;
    if (!p->max_train && max_train < 65536)
        max_train = 65536;
    if (max_train < nlist) /* k-means needs nlist distinct training rows */
        max_train = nlist;
    ivf *ix = xcalloc(1, sizeof *ix);
    ix->dim = (uint32_t)dim;
    ix->nlist = nlist;
    ix->iters = p->iters;
    ix->n = n;
    ix->seed = p->seed;
    ix->source_hash = source_hash;
    uint64_t *off = xcalloc((size_t)nlist + 1, sizeof *off);
    uint64_t *lids = xmalloc((n ? n : 1) * sizeof *lids);
    float *cent = calloc((size_t)nlist * dim, sizeof *cent);
    float *vec = malloc((n ? n : 1) * dim * sizeof *vec);
    float *train = NULL;
    uint32_t *best = NULL;
    ix->owned[0] = off, ix->owned[1] = lids, ix->owned[2] = cent, ix->owned[3] = vec;
    ix->off = off, ix->ids = lids, ix->cent = cent, ix->vec = vec;
    int rc = 0;
    if (!cent || !vec) {
        rc = mn_errf(err, MN_ENOMEM, "IVF: out of memory for a copy of %zu x %zu vectors", n, dim);
        goto done;
    }
    if (n) {
        uint64_t rng = p->seed ^ 0x6D6E656D6F495646ull; /* "mnemoIVF" */
        const float *t = x;
        size_t nt = n;
        if (n > max_train) { /* seeded sample without replacement, kept in row order */
            nt = max_train;
            train = malloc(nt * dim * sizeof *train);
            if (!train) {
                rc = mn_errf(err, MN_ENOMEM, "IVF: out of memory for %zu training vectors", nt);
                goto done;
            }
            size_t need = nt, got = 0;
            for (size_t i = 0; i < n && got < nt; i++) /* selection sampling (Knuth's Algorithm S) */
                if (rand_below(&rng, n - i) < need) {
                    memcpy(train + got++ * dim, x + i * dim, dim * sizeof *train);
                    need--;
                }
            t = train;
        }
        if ((rc = kmeans(t, nt, dim, nlist, p->iters, &rng, cent, err)))
            goto done;
        best = xmalloc(n * sizeof *best);
        if ((rc = assign(x, n, dim, cent, nlist, best, err)))
            goto done;
        for (size_t i = 0; i < n; i++)
            off[best[i] + 1]++;
        for (uint32_t l = 0; l < nlist; l++)
            off[l + 1] += off[l];
        uint64_t *pos = xmalloc((size_t)nlist * sizeof *pos);
        memcpy(pos, off, (size_t)nlist * sizeof *pos);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = pos[best[i]]++;
            lids[r] = ids[i];
            memcpy(vec + r * dim, x + i * dim, dim * sizeof *vec);
        }
        free(pos);
    }
done:
    free(train);
    free(best);
    if (rc)
        ivf_free(ix);
    else
        *out = ix;
    return rc;
}

void ivf_free(ivf *ix)
{
    if (!ix)
        return;
    for (int i = 0; i < 4; i++)
        free(ix->owned[i]);
    mapfile_close(&ix->map);
    free(ix);
}

uint32_t ivf_nlist(const ivf *ix) { return ix->nlist; }
size_t ivf_count(const ivf *ix) { return (size_t)ix->n; }
size_t ivf_dim(const ivf *ix) { return ix->dim; }
uint64_t ivf_source_hash(const ivf *ix) { return ix->source_hash; }
size_t ivf_list_size(const ivf *ix, uint32_t l) { return (size_t)(ix->off[l + 1] - ix->off[l]); }

/* ---------------------------------------------------------------------------
 * file
 */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

int ivf_write(const ivf *ix, const char *path, mn_err *err)
{
    uint8_t h[IVF_HEADER] = {0};
    memcpy(h, IVF_MAGIC, 8);
    put32(h + 8, ix->dim);
    put32(h + 12, ix->nlist);
    put64(h + 16, ix->n);
    put64(h + 24, ix->source_hash);
    put64(h + 32, ix->seed);
    put32(h + 40, ix->iters);
    outfile o = {0};
    int rc = outfile_open(&o, path, err);
    if (rc)
        return rc;
    if ((rc = outfile_write(&o, h, sizeof h, err)) ||
        (rc = outfile_write(&o, ix->off, ((size_t)ix->nlist + 1) * 8, err)) ||
        (rc = outfile_write(&o, ix->ids, ix->n * 8, err)) ||
        (rc = outfile_write(&o, ix->cent, (size_t)ix->nlist * ix->dim * sizeof(float), err)) ||
        (rc = outfile_write(&o, ix->vec, ix->n * ix->dim * sizeof(float), err))) {
        outfile_abort(&o);
        return rc;
    }
    return outfile_commit(&o, err);
}

int ivf_open(const char *path, ivf **out, mn_err *err)
{
    *out = NULL;
    ivf *ix = xcalloc(1, sizeof *ix);
    int rc = mapfile_open(&ix->map, path, err);
    if (rc)
        goto fail;
    const uint8_t *d = ix->map.data;
    size_t size = ix->map.size;
    if (size < IVF_HEADER || memcmp(d, IVF_MAGIC, 8)) {
        rc = mn_errf(err, MN_EFORMAT, "%s: byte 0: not an IVF index (bad magic or shorter than the header)", path);
        goto fail;
    }
    ix->dim = get32(d + 8);
    ix->nlist = get32(d + 12);
    ix->n = get64(d + 16);
    ix->source_hash = get64(d + 24);
    ix->seed = get64(d + 32);
    ix->iters = get32(d + 40);
    if (!ix->dim || ix->dim > (1u << 20) || !ix->nlist || ix->nlist > (1u << 24) || ix->n > (1ull << 40)) {
        rc = mn_errf(err, MN_EFORMAT, "%s: byte 8: implausible header (dim %u, nlist %u, n %" PRIu64 ")", path,
                     ix->dim, ix->nlist, ix->n);
        goto fail;
    }
    uint64_t want = IVF_HEADER + ((uint64_t)ix->nlist + 1) * 8 + ix->n * 8 +
                    ((uint64_t)ix->nlist + ix->n) * ix->dim * sizeof(float);
    if (size != want) {
        rc = mn_errf(err, MN_EFORMAT, "%s: %zu bytes, the header implies %" PRIu64 " (truncated?)", path, size,
                     want);
        goto fail;
    }
    ix->off = (const uint64_t *)(d + IVF_HEADER);
    ix->ids = ix->off + ix->nlist + 1;
    ix->cent = (const float *)(ix->ids + ix->n);
    ix->vec = ix->cent + (size_t)ix->nlist * ix->dim;
    if (ix->off[0] != 0 || ix->off[ix->nlist] != ix->n) {
        rc = mn_errf(err, MN_EFORMAT, "%s: list offsets do not span the %" PRIu64 " rows", path, ix->n);
        goto fail;
    }
    for (uint32_t l = 0; l < ix->nlist; l++)
        if (ix->off[l + 1] < ix->off[l]) {
            rc = mn_errf(err, MN_EFORMAT, "%s: list %u: offsets decrease", path, l);
            goto fail;
        }
    *out = ix;
    return 0;
fail:
    ivf_free(ix);
    return rc;
}

/* ---------------------------------------------------------------------------
 * search
 */

/* Score the queries qb[m, dim] (their indices qidx[m]) against list l's
 * rows, in blocks of ASSIGN_BLOCK rows, into topk; s has room for
 * m x ASSIGN_BLOCK floats. */
static void scan_list(const ivf *ix, uint32_t l, const float *qb, const uint32_t *qidx, size_t m, float *s,
                      bm25_topk *topk)
{
    size_t dim = ix->dim;
    for (uint64_t r0 = ix->off[l]; r0 < ix->off[l + 1]; r0 += ASSIGN_BLOCK) {
        size_t nb = ix->off[l + 1] - r0 < ASSIGN_BLOCK ? (size_t)(ix->off[l + 1] - r0) : ASSIGN_BLOCK;
        if (m >= GEMM_MIN_QUERIES)
            gemm_nt(qb, m, ix->vec + r0 * dim, nb, dim, s);
        else /* sgemm would pack the rows for too little reuse */
            for (size_t i = 0; i < m; i++)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)dim, 1.0f, ix->vec + r0 * dim, (int)dim,
                            qb + i * dim, 1, 0.0f, s + i * nb, 1);
        for (size_t i = 0; i < m; i++) {
            bm25_topk *t = &topk[qidx[i]];
            const float *row = s + i * nb;
            for (size_t r = 0; r < nb; r++) {
                if (t->n == t->k && t->k && (double)row[r] < t->hit[0].score)
                    continue;
                bm25_topk_push(t, ix->ids[r0 + r], (double)row[r]);
            }
        }
    }
}

int ivf_search(const ivf *ix, const float *q, size_t Q, size_t nprobe, bm25_topk *topk, mn_err *err)
{
    if (!nprobe)
        return mn_errf(err, MN_ERANGE, "ivf: nprobe must be >= 1");
    if (!Q || !ix->n)
        return 0;
    size_t np = nprobe < ix->nlist ? nprobe : ix->nlist, dim = ix->dim, nl = ix->nlist;
    float *cs = malloc(Q * nl * sizeof *cs);             /* [Q, nlist] centroid scores */
    float *s = malloc(Q * ASSIGN_BLOCK * sizeof *s);     /* [m <= Q, block] list scores */
    float *qb = malloc(Q * dim * sizeof *qb);            /* [m <= Q, dim] queries probing one list */
    uint32_t *probe = malloc(Q * np * sizeof *probe);    /* [Q, np] lists probed by each query */
    size_t *start = calloc(nl + 1, sizeof *start);       /* [nlist + 1] CSR of the queries per list */
    uint32_t *qidx = malloc(Q * np * sizeof *qidx);      /* [Q * np] */
    bm25_topk lists = {0};
    int rc = 0;
    if (!cs || !s || !qb || !probe || !start || !qidx) {
        rc = mn_errf(err, MN_ENOMEM, "IVF: out of memory for the search buffers of %zu queries", Q);
        goto done;
    }
    if ((rc = bm25_topk_init(&lists, np, err)))
        goto done;
    gemm_nt(q, Q, ix->cent, nl, dim, cs);
    for (size_t qi = 0; qi < Q; qi++) {
        /* the np best lists (ties: smaller list index), by the generic top-k */
        lists.n = 0;
        for (uint32_t l = 0; l < nl; l++)
            bm25_topk_push(&lists, l, (double)cs[qi * nl + l]);
        for (size_t j = 0; j < np; j++) {
            probe[qi * np + j] = (uint32_t)lists.hit[j].doc;
            start[lists.hit[j].doc + 1]++;
        }
    }
    for (size_t l = 0; l < nl; l++)
        start[l + 1] += start[l];
    for (size_t qi = 0; qi < Q; qi++) /* queries of each list, in query order */
        for (size_t j = 0; j < np; j++)
            qidx[start[probe[qi * np + j]]++] = (uint32_t)qi;
    for (size_t l = nl; l > 0; l--) /* undo the shift of the fill */
        start[l] = start[l - 1];
    start[0] = 0;
    /* one sgemm per (list, row block) for all the queries probing the list:
     * the rows are read once per batch, not once per query */
    for (uint32_t l = 0; l < nl; l++) {
        size_t m = start[l + 1] - start[l];
        if (!m || ix->off[l + 1] == ix->off[l])
            continue;
        for (size_t i = 0; i < m; i++)
            memcpy(qb + i * dim, q + (size_t)qidx[start[l] + i] * dim, dim * sizeof *qb);
        scan_list(ix, l, qb, qidx + start[l], m, s, topk);
    }
done:
    bm25_topk_free(&lists);
    free(cs);
    free(s);
    free(qb);
    free(probe);
    free(start);
    free(qidx);
    return rc;
}
