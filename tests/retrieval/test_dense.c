/* test_dense.c — dense retrieval pieces: exact sgemm top-k against a
 * float64 brute-force reference (same ranking, scores within 1e-5), the
 * embedding files (round trip, atomic commit, corrupt files), and batched
 * embedding against engine_embed on a fixture model. */
#include "retrieval/dense.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "model/model.h"

static uint64_t rng_state;
static double urand(void) /* splitmix64 -> [0, 1) */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* n random unit rows of dim floats */
static float *unit_rows(size_t n, size_t dim)
{
    float *x = malloc(n * dim * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t d = 0; d < dim; d++) {
            x[i * dim + d] = (float)(urand() * 2 - 1);
            s += (double)x[i * dim + d] * x[i * dim + d];
        }
        for (size_t d = 0; d < dim; d++)
            x[i * dim + d] = (float)(x[i * dim + d] / sqrt(s));
    }
    return x;
}

typedef struct ref_hit {
    uint64_t id;
    double s;
} ref_hit;

static int ref_cmp(const void *a, const void *b)
{
    const ref_hit *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void test_dense_exact_matches_float64_reference(void)
{
    rng_state = 42;
    size_t n = 10000, dim = 48, Q = 7, k = 10; /* 10000 rows: blocks of 4096 and a tail */
    float *x = unit_rows(n, dim), *q = unit_rows(Q, dim);
    uint64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = (3ull << 40) | (i * 3 + 1);
    bm25_topk t[7];
    mn_err err = {0};
    for (size_t qi = 0; qi < Q; qi++)
        CHECK(bm25_topk_init(&t[qi], k, &err) == 0);
    CHECK(dense_topk_exact(x, ids, n, dim, q, Q, t, &err) == 0);
    ref_hit *ref = malloc(n * sizeof *ref);
    double max_err = 0;
    int bad = 0;
    for (size_t qi = 0; qi < Q && !bad; qi++) {
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t d = 0; d < dim; d++)
                s += (double)q[qi * dim + d] * x[i * dim + d];
            ref[i] = (ref_hit){ids[i], s};
        }
        qsort(ref, n, sizeof *ref, ref_cmp);
        size_t got = bm25_topk_sort(&t[qi]);
        if (got != k) {
            fprintf(stderr, "query %zu: %zu hits\n", qi, got);
            bad = 1;
        }
        for (size_t r = 0; r < got && !bad; r++) {
            double e = fabs(t[qi].hit[r].score - ref[r].s);
            max_err = e > max_err ? e : max_err;
            if (t[qi].hit[r].doc != ref[r].id || e > 1e-5) {
                fprintf(stderr, "query %zu rank %zu: got %llu %.9f, reference %llu %.9f\n", qi, r + 1,
                        (unsigned long long)t[qi].hit[r].doc, t[qi].hit[r].score, (unsigned long long)ref[r].id,
                        ref[r].s);
                bad = 1;
            }
        }
    }
    fprintf(stderr, "dense exact vs float64: max abs score error %.3g\n", max_err);
    for (size_t qi = 0; qi < Q; qi++)
        bm25_topk_free(&t[qi]);
    free(ref);
    free(x);
    free(q);
    free(ids);
    CHECK(!bad);
}

static void test_dense_exact_ties_go_to_smaller_id_and_k_over_n(void)
{
    /* 5 identical rows: every score ties; k = 8 > n */
    float x[5 * 4], q[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    uint64_t ids[5] = {9, 11, 20, 31, 40};
    for (int i = 0; i < 20; i++)
        x[i] = 0.5f;
    bm25_topk t;
    mn_err err = {0};
    CHECK(bm25_topk_init(&t, 3, &err) == 0);
    CHECK(dense_topk_exact(x, ids, 5, 4, q, 1, &t, &err) == 0);
    CHECK_EQ_INT(bm25_topk_sort(&t), 3);
    CHECK(t.hit[0].doc == 9 && t.hit[1].doc == 11 && t.hit[2].doc == 20);
    bm25_topk_free(&t);
    CHECK(bm25_topk_init(&t, 8, &err) == 0);
    CHECK(dense_topk_exact(x, ids, 5, 4, q, 1, &t, &err) == 0);
    CHECK_EQ_INT(bm25_topk_sort(&t), 5);
    CHECK(fabs(t.hit[4].score - 1.0) < 1e-6);
    bm25_topk_free(&t);
}

static char *tmpdir_make(void)
{
    char tmpl[] = "/tmp/mnemo-dense-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static void rm_rf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", d);
}

static void test_dense_files_round_trip_and_corruption(void)
{
    char *dir = tmpdir_make();
    CHECK(dir);
    char path[600];
    mn_err err = {0};
    dense_shard *s = NULL;
    CHECK(dense_shard_open(dir, &s, &err) == MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "not embedded");
    rng_state = 7;
    float *x = unit_rows(6, 3);
    uint64_t ids[6] = {1, 2, 5, 8, 9, 12};
    dense_writer *w;
    CHECK(dense_writer_open(dir, 3, &w, &err) == 0);
    CHECK(dense_writer_add(w, x, ids, 4, &err) == 0);
    uint64_t back[1] = {3};
    CHECK(dense_writer_add(w, x, back, 1, &err) == MN_EUSAGE); /* 3 after 8 */
    CHECK(dense_writer_add(w, x + 12, ids + 4, 2, &err) == 0);
    dense_meta m = {0};
    strcpy(m.model_sha256, "ab12");
    strcpy(m.model_dir, "/models/x");
    m.pooling = EMBED_POOL_MEAN;
    m.max_tokens = 77;
    m.truncated = 2;
    m.next_local = 13;
    CHECK(dense_writer_commit(w, &m, &err) == 0);
    CHECK(dense_shard_open(dir, &s, &err) == 0);
    const dense_meta *r = dense_shard_meta(s);
    CHECK(r->count == 6 && r->dim == 3 && r->pooling == EMBED_POOL_MEAN && r->max_tokens == 77);
    CHECK(r->truncated == 2 && r->next_local == 13 && !strcmp(r->model_sha256, "ab12"));
    CHECK(!memcmp(dense_shard_matrix(s), x, sizeof(float) * 18));
    CHECK(!memcmp(dense_shard_ids(s), ids, sizeof ids));
    dense_shard_close(s);
    /* an aborted rewrite leaves no sidecar: the shard reads as not embedded */
    CHECK(dense_writer_open(dir, 3, &w, &err) == 0);
    CHECK(dense_writer_add(w, x, ids, 2, &err) == 0);
    dense_writer_abort(w);
    CHECK(dense_shard_open(dir, &s, &err) == MN_EIO);
    /* rewrite, then truncate the matrix file: sizes disagree */
    CHECK(dense_writer_open(dir, 3, &w, &err) == 0);
    CHECK(dense_writer_add(w, x, ids, 6, &err) == 0);
    CHECK(dense_writer_commit(w, &m, &err) == 0);
    snprintf(path, sizeof path, "%s/%s", dir, DENSE_MATRIX_FILE);
    CHECK(truncate(path, 20) == 0);
    CHECK(dense_shard_open(dir, &s, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, DENSE_MATRIX_FILE);
    /* ids from another run: the hash catches it */
    CHECK(dense_writer_open(dir, 3, &w, &err) == 0);
    CHECK(dense_writer_add(w, x, ids, 6, &err) == 0);
    CHECK(dense_writer_commit(w, &m, &err) == 0);
    snprintf(path, sizeof path, "%s/%s", dir, DENSE_IDS_FILE);
    FILE *f = fopen(path, "r+b");
    CHECK(f);
    uint64_t other = 4;
    fseek(f, 16, SEEK_SET);
    fwrite(&other, 8, 1, f);
    fclose(f);
    CHECK(dense_shard_open(dir, &s, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "ids hash");
    /* a malformed sidecar names the key */
    snprintf(path, sizeof path, "%s/%s", dir, DENSE_META_FILE);
    f = fopen(path, "w");
    fputs("{\"format\": \"mnemo-embeddings\", \"version\": 1, \"model_config_sha256\": 5}", f);
    fclose(f);
    CHECK(dense_meta_read(dir, &m, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "model_config_sha256");
    free(x);
    rm_rf(dir);
    free(dir);
}

static void test_dense_embed_batch_matches_engine_embed(void)
{
    model *m;
    mn_err err = {0};
    CHECK_MSG(model_load(fixture_path("tests/fixtures/models/qwen3_tiny"), &m, &err) == 0, "%s", err.msg);
    int C = m->cfg.C;
    int32_t a[5] = {1, 17, 300, 42, 5}, b[2] = {400, 9}, c[9] = {3, 1, 4, 1, 5, 9, 2, 6, 5};
    const int32_t *ids[4] = {a, NULL, b, c};
    int n[4] = {5, 0, 2, 9};
    engine *e;
    CHECK(engine_create(m, 7, 4, 16, &e, &err) == 0); /* 7-token chunks: batches split mid-segment */
    float *out = malloc(4 * (size_t)C * sizeof *out), *ref = malloc((size_t)C * sizeof *ref);
    double max_err = 0;
    int bad = 0;
    for (int pool = 0; pool < 2 && !bad; pool++) {
        embed_pooling p = pool ? EMBED_POOL_MEAN : EMBED_POOL_LAST;
        if (dense_embed_batch(e, ids, n, 4, p, out, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            bad = 1;
            break;
        }
        for (int i = 0; i < 4; i++) {
            if (n[i] == 0) {
                for (int d = 0; d < C; d++)
                    bad |= out[(size_t)i * C + d] != 0.0f;
                continue;
            }
            double norm = 0;
            for (int d = 0; d < C; d++)
                norm += (double)out[(size_t)i * C + d] * out[(size_t)i * C + d];
            CHECK_MSG(fabs(norm - 1.0) < 1e-5, "row %d: squared norm %g", i, norm);
            CHECK(engine_embed(e, 0, ids[i], n[i], p, ref, &err) == 0);
            for (int d = 0; d < C; d++) {
                double x = fabs((double)out[(size_t)i * C + d] - ref[d]);
                max_err = x > max_err ? x : max_err;
            }
        }
    }
    fprintf(stderr, "batched vs single embedding: max abs error %.3g\n", max_err);
    free(out);
    free(ref);
    engine_free(e);
    model_free(m);
    CHECK(!bad);
    CHECK(max_err < 1e-5);
}

TEST_MAIN(TEST(test_dense_exact_matches_float64_reference), TEST(test_dense_exact_ties_go_to_smaller_id_and_k_over_n),
          TEST(test_dense_files_round_trip_and_corruption), TEST(test_dense_embed_batch_matches_engine_embed))
