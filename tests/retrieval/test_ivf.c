/* test_ivf.c — the IVF index on synthetic clustered unit vectors (20000 x
 * 64 around 100 random centres, noise sigma 0.2 per coordinate): recall@10 against exact search (>= 0.9 at
 * nprobe 16 of 128 lists), nprobe = nlist giving exactly the exact results,
 * the file round trip, determinism, a truncated file, and tiny inputs. */
#include "retrieval/ivf.h"

#include <stdint.h>
#include <unistd.h>

#include "../test.h"
#include "retrieval/dense.h"
#include "util/mapfile.h"

#define N 20000
#define DIM 64
#define NQ 100
#define K 10

static uint64_t rng_state;
static double urand(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
    double u = urand() + 1e-300, v = urand();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void normalise(float *v, size_t dim)
{
    double s = 0;
    for (size_t d = 0; d < dim; d++)
        s += (double)v[d] * v[d];
    for (size_t d = 0; d < dim; d++)
        v[d] = (float)(v[d] / sqrt(s));
}

/* n points around 100 centres (noise sigma per coordinate), unit norm. */
static float *clustered(size_t n, const float *centres, double sigma)
{
    float *x = malloc(n * DIM * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        const float *c = centres + (size_t)(urand() * 100) * DIM;
        for (size_t d = 0; d < DIM; d++)
            x[i * DIM + d] = (float)(c[d] + sigma * gauss());
        normalise(x + i * DIM, DIM);
    }
    return x;
}

typedef struct fixture {
    float *x, *q;
    uint64_t *ids;
} fixture;

static fixture make_fixture(void)
{
    fixture f;
    rng_state = 2024;
    float *centres = malloc(100 * DIM * sizeof *centres);
    for (size_t i = 0; i < 100 * DIM; i++)
        centres[i] = (float)gauss();
    for (size_t c = 0; c < 100; c++)
        normalise(centres + c * DIM, DIM);
    f.x = clustered(N, centres, 0.2);
    f.q = clustered(NQ, centres, 0.2);
    f.ids = malloc(N * sizeof *f.ids);
    for (size_t i = 0; i < N; i++)
        f.ids[i] = (1ull << 40) | (2 * i);
    free(centres);
    return f;
}

static void free_fixture(fixture *f)
{
    free(f->x);
    free(f->q);
    free(f->ids);
}

/* topk[NQ] of k each, initialised */
static bm25_topk *topks(size_t k)
{
    bm25_topk *t = calloc(NQ, sizeof *t);
    mn_err err;
    for (int i = 0; i < NQ; i++)
        bm25_topk_init(&t[i], k, &err);
    return t;
}

static void free_topks(bm25_topk *t)
{
    for (int i = 0; i < NQ; i++)
        bm25_topk_free(&t[i]);
    free(t);
}

static double recall(bm25_topk *approx, bm25_topk *exact)
{
    size_t hit = 0, tot = 0;
    for (int i = 0; i < NQ; i++) {
        for (size_t a = 0; a < exact[i].n; a++)
            for (size_t b = 0; b < approx[i].n; b++)
                hit += exact[i].hit[a].doc == approx[i].hit[b].doc;
        tot += exact[i].n;
    }
    return tot ? (double)hit / tot : 0;
}

static void test_ivf_recall_and_full_probe_equals_exact(void)
{
    fixture f = make_fixture();
    mn_err err = {0};
    ivf *ix = NULL;
    ivf_params p = {128, 10, 1, 0};
    CHECK_MSG(ivf_build(f.x, f.ids, N, DIM, &p, 99, &ix, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(ivf_nlist(ix), 128);
    size_t tot = 0, nonempty = 0;
    for (uint32_t l = 0; l < 128; l++) {
        tot += ivf_list_size(ix, l);
        nonempty += ivf_list_size(ix, l) > 0;
    }
    CHECK_EQ_INT(tot, N);
    CHECK(nonempty > 64);
    bm25_topk *ex = topks(K);
    CHECK(dense_topk_exact(f.x, f.ids, N, DIM, f.q, NQ, ex, &err) == 0);
    for (int i = 0; i < NQ; i++)
        bm25_topk_sort(&ex[i]);
    double r16 = 0;
    for (size_t np = 1; np <= 32; np *= 2) {
        bm25_topk *ap = topks(K);
        CHECK(ivf_search(ix, f.q, NQ, np, ap, &err) == 0);
        for (int i = 0; i < NQ; i++)
            bm25_topk_sort(&ap[i]);
        double r = recall(ap, ex);
        fprintf(stderr, "nlist 128 nprobe %2zu: recall@10 %.4f\n", np, r);
        if (np == 16)
            r16 = r;
        free_topks(ap);
    }
    CHECK_MSG(r16 >= 0.9, "recall@10 at nprobe 16 is %.4f", r16);
    /* nprobe = nlist (and beyond): the exact results */
    for (size_t np = 128; np <= 1000; np += 872) {
        bm25_topk *all = topks(K);
        CHECK(ivf_search(ix, f.q, NQ, np, all, &err) == 0);
        for (int i = 0; i < NQ; i++) {
            CHECK_EQ_INT(bm25_topk_sort(&all[i]), ex[i].n);
            for (size_t r = 0; r < ex[i].n; r++)
                CHECK_MSG(all[i].hit[r].doc == ex[i].hit[r].doc && fabs(all[i].hit[r].score - ex[i].hit[r].score) < 1e-6,
                          "nprobe %zu query %d rank %zu: %llu %.9f vs exact %llu %.9f", np, i, r + 1,
                          (unsigned long long)all[i].hit[r].doc, all[i].hit[r].score,
                          (unsigned long long)ex[i].hit[r].doc, ex[i].hit[r].score);
        }
        free_topks(all);
    }
    CHECK(ivf_search(ix, f.q, NQ, 0, ex, &err) == MN_ERANGE);
    free_topks(ex);
    ivf_free(ix);
    free_fixture(&f);
}

static void test_ivf_file_round_trip_deterministic_and_truncated(void)
{
    fixture f = make_fixture();
    mn_err err = {0};
    ivf *a = NULL, *b = NULL, *c = NULL;
    ivf_params p = {32, 5, 7, 4096}; /* a training sample smaller than n */
    CHECK(ivf_build(f.x, f.ids, N, DIM, &p, 1234, &a, &err) == 0);
    CHECK(ivf_build(f.x, f.ids, N, DIM, &p, 1234, &b, &err) == 0);
    char tmpl[] = "/tmp/mnemo-ivf-XXXXXX", pa[128], pb[128];
    CHECK(mkdtemp(tmpl));
    snprintf(pa, sizeof pa, "%s/a.bin", tmpl);
    snprintf(pb, sizeof pb, "%s/b.bin", tmpl);
    CHECK(ivf_write(a, pa, &err) == 0 && ivf_write(b, pb, &err) == 0);
    char *da, *db;
    size_t la, lb;
    CHECK(file_read_all(pa, &da, &la, &err) == 0 && file_read_all(pb, &db, &lb, &err) == 0);
    CHECK(la == lb && !memcmp(da, db, la)); /* same seed, same bytes */
    free(da);
    free(db);
    CHECK(ivf_open(pa, &c, &err) == 0);
    CHECK(ivf_nlist(c) == 32 && ivf_count(c) == N && ivf_dim(c) == DIM && ivf_source_hash(c) == 1234);
    bm25_topk *ta = topks(K), *tc = topks(K);
    CHECK(ivf_search(a, f.q, NQ, 3, ta, &err) == 0 && ivf_search(c, f.q, NQ, 3, tc, &err) == 0);
    for (int i = 0; i < NQ; i++) {
        CHECK(bm25_topk_sort(&ta[i]) == bm25_topk_sort(&tc[i]));
        CHECK(!memcmp(ta[i].hit, tc[i].hit, ta[i].n * sizeof *ta[i].hit));
    }
    free_topks(ta);
    free_topks(tc);
    ivf_free(c);
    CHECK(truncate(pa, 1000) == 0);
    CHECK(ivf_open(pa, &c, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "truncated");
    CHECK(truncate(pa, 10) == 0);
    CHECK(ivf_open(pa, &c, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "not an IVF index");
    unlink(pa);
    unlink(pb);
    rmdir(tmpl);
    ivf_free(a);
    ivf_free(b);
    free_fixture(&f);
}

static void test_ivf_tiny_inputs(void)
{
    float x[3 * 2] = {1, 0, 0, 1, 0.6f, 0.8f}, q[2] = {0, 1};
    uint64_t ids[3] = {4, 5, 6};
    mn_err err = {0};
    ivf *ix = NULL;
    ivf_params p = {16, 3, 0, 0};
    CHECK(ivf_build(x, ids, 3, 2, &p, 0, &ix, &err) == 0);
    CHECK_EQ_INT(ivf_nlist(ix), 3); /* clamped to n */
    bm25_topk t;
    CHECK(bm25_topk_init(&t, 5, &err) == 0);
    CHECK(ivf_search(ix, q, 1, 3, &t, &err) == 0);
    CHECK_EQ_INT(bm25_topk_sort(&t), 3);
    CHECK(t.hit[0].doc == 5 && t.hit[1].doc == 6 && t.hit[2].doc == 4);
    bm25_topk_free(&t);
    ivf_free(ix);
    CHECK(ivf_build(x, ids, 0, 2, &p, 0, &ix, &err) == 0); /* empty shard */
    CHECK(bm25_topk_init(&t, 5, &err) == 0);
    CHECK(ivf_search(ix, q, 1, 1, &t, &err) == 0);
    CHECK_EQ_INT(bm25_topk_sort(&t), 0);
    bm25_topk_free(&t);
    ivf_free(ix);
    p.max_train = 1; /* below nlist: raised to nlist */
    CHECK(ivf_build(x, ids, 3, 2, &p, 0, &ix, &err) == 0);
    CHECK_EQ_INT(ivf_nlist(ix), 3);
    ivf_free(ix);
    p.nlist = 0;
    CHECK(ivf_build(x, ids, 3, 2, &p, 0, &ix, &err) == MN_ERANGE);
}

TEST_MAIN(TEST(test_ivf_recall_and_full_probe_equals_exact), TEST(test_ivf_file_round_trip_deterministic_and_truncated),
          TEST(test_ivf_tiny_inputs))
