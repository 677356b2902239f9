/* test_dense.c — dense retrieval pieces: exact sgemm top-k against a
 * float64 brute-force reference (same ranking, scores within 1e-5), the
 * embedding files (round trip, atomic commit, corrupt files), the writer's
 * durable blocks (a resume gives the uninterrupted run's bytes; another job
 * or damaged part files start over, saying why; dead processes' temporary
 * files go), and batched
 * embedding against engine_embed on a fixture model. */
#include "retrieval/dense.h"

#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* A job for 3-float rows, batch 2, of a shard with 13 local ids and 6 chunks. */
static dense_job small_job(void)
{
    dense_job job = {.batch = 2, .shard_hash = {0x1234, 0x5678}};
    strcpy(job.want.model_sha256, "ab12");
    strcpy(job.want.model_dir, "/models/x");
    job.want.pooling = EMBED_POOL_MEAN;
    job.want.max_tokens = 77;
    job.want.dim = 3;
    job.want.count = 6;
    job.want.next_local = 13;
    return job;
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
    dense_job job = small_job();
    dense_resume res;
    dense_writer *w;
    CHECK(dense_writer_open(dir, &job, &w, &res, &err) == 0);
    CHECK(res.rows == 0 && !res.why[0]);
    CHECK(dense_writer_add(w, x, ids, 4, &err) == 0);
    uint64_t back[1] = {3};
    CHECK(dense_writer_add(w, x, back, 1, &err) == MN_EUSAGE); /* 3 after 8 */
    CHECK(dense_writer_add(w, x + 12, ids + 4, 2, &err) == 0);
    CHECK(dense_writer_commit(w, 2, 0, &err) == 0);
    CHECK(dense_shard_open(dir, &s, &err) == 0);
    const dense_meta *r = dense_shard_meta(s);
    CHECK(r->count == 6 && r->dim == 3 && r->pooling == EMBED_POOL_MEAN && r->max_tokens == 77);
    CHECK(r->truncated == 2 && r->next_local == 13 && !strcmp(r->model_sha256, "ab12"));
    CHECK(!memcmp(dense_shard_matrix(s), x, sizeof(float) * 18));
    CHECK(!memcmp(dense_shard_ids(s), ids, sizeof ids));
    dense_shard_close(s);
    /* the commit leaves neither part files nor a progress record */
    snprintf(path, sizeof path, "%s/%s", dir, DENSE_MATRIX_PART);
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof path, "%s/%s", dir, DENSE_PROGRESS_FILE);
    CHECK(access(path, F_OK) != 0);
    /* an aborted rewrite leaves no sidecar: the shard reads as not embedded */
    CHECK(dense_writer_open(dir, &job, &w, &res, &err) == 0);
    CHECK(dense_writer_add(w, x, ids, 2, &err) == 0);
    dense_writer_abort(w);
    CHECK(dense_shard_open(dir, &s, &err) == MN_EIO);
    snprintf(path, sizeof path, "%s/%s", dir, DENSE_MATRIX_PART);
    CHECK(access(path, F_OK) != 0);
    /* rewrite, then truncate the matrix file: sizes disagree */
    CHECK(dense_writer_open(dir, &job, &w, &res, &err) == 0);
    CHECK(dense_writer_add(w, x, ids, 6, &err) == 0);
    CHECK(dense_writer_commit(w, 2, 0, &err) == 0);
    snprintf(path, sizeof path, "%s/%s", dir, DENSE_MATRIX_FILE);
    CHECK(truncate(path, 20) == 0);
    CHECK(dense_shard_open(dir, &s, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, DENSE_MATRIX_FILE);
    /* ids from another run: the hash catches it */
    CHECK(dense_writer_open(dir, &job, &w, &res, &err) == 0);
    CHECK(dense_writer_add(w, x, ids, 6, &err) == 0);
    CHECK(dense_writer_commit(w, 2, 0, &err) == 0);
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
    dense_meta m;
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

/* Read a whole file (n bytes) into a fresh buffer; NULL when unreadable. */
static unsigned char *slurp(const char *dir, const char *name, size_t *n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n ? *n : 1);
    if (fread(b, 1, *n, f) != *n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

/* dir's embedding files equal ref's, byte for byte. */
static int same_files(const char *dir, const char *ref)
{
    static const char *names[] = {DENSE_MATRIX_FILE, DENSE_IDS_FILE, DENSE_META_FILE};
    for (int i = 0; i < 3; i++) {
        size_t na, nb;
        unsigned char *a = slurp(dir, names[i], &na), *b = slurp(ref, names[i], &nb);
        int same = a && b && na == nb && !memcmp(a, b, na);
        free(a);
        free(b);
        if (!same) {
            fprintf(stderr, "%s differs\n", names[i]);
            return 0;
        }
    }
    return 1;
}

/* Write rows [0, 6) of x in batches of 2 with a durable block after rows
 * 2 and 4 ("uninterrupted") into dir and commit. */
static int write_uninterrupted(const char *dir, const float *x, const uint64_t *ids, mn_err *err)
{
    dense_job job = small_job();
    dense_resume res;
    dense_writer *w;
    int rc = dense_writer_open(dir, &job, &w, &res, err);
    for (int b = 0; !rc && b < 3; b++) {
        rc = dense_writer_add(w, x + 6 * b, ids + 2 * b, 2, err);
        if (!rc && b < 2)
            rc = dense_writer_sync(w, (uint64_t)b, 0, err);
    }
    return rc ? rc : dense_writer_commit(w, 2, 0, err);
}

/* The writer tests' material: six random 3-float rows x with their ids,
 * the uninterrupted run's files in ref, and an empty folder dir. */
typedef struct writer_fixture {
    char *ref, *dir;
    float *x;
    uint64_t ids[6];
} writer_fixture;

static int writer_fixture_init(writer_fixture *f)
{
    static const uint64_t ids[6] = {1, 2, 5, 8, 9, 12};
    mn_err err = {0};
    rng_state = 9;
    f->x = unit_rows(6, 3);
    memcpy(f->ids, ids, sizeof ids);
    f->ref = tmpdir_make();
    f->dir = tmpdir_make();
    if (f->ref && f->dir && !write_uninterrupted(f->ref, f->x, f->ids, &err))
        return 0;
    fprintf(stderr, "writer fixture: %s\n", err.msg);
    return -1;
}

static void writer_fixture_free(writer_fixture *f)
{
    if (f->ref)
        rm_rf(f->ref);
    if (f->dir)
        rm_rf(f->dir);
    free(f->ref);
    free(f->dir);
    free(f->x);
}

static void test_dense_writer_resumes_after_the_last_durable_block(void)
{
    writer_fixture fx;
    CHECK(writer_fixture_init(&fx) == 0);
    const char *dir = fx.dir;
    const float *x = fx.x;
    const uint64_t *ids = fx.ids;
    char path[600];
    mn_err err = {0};
    /* rows 0-3 durable, rows 4-5 written after the last block, then a stop */
    dense_job job = small_job();
    dense_resume res;
    dense_writer *w;
    CHECK(dense_writer_open(dir, &job, &w, &res, &err) == 0);
    CHECK(dense_writer_add(w, x, ids, 2, &err) == 0);
    CHECK(dense_writer_add(w, x + 6, ids + 2, 1, &err) == 0);
    CHECK(dense_writer_add(w, x + 9, ids + 3, 1, &err) == 0);
    CHECK(dense_writer_sync(w, 1, 0, &err) == 0);
    CHECK(dense_writer_add(w, x + 12, ids + 4, 2, &err) == 0);
    dense_writer_close(w);
    snprintf(path, sizeof path, "%s/%s", dir, DENSE_PROGRESS_FILE);
    CHECK(access(path, F_OK) == 0);
    /* the same job continues after row 4 (the 2 rows past the block are cut) */
    CHECK(dense_writer_open(dir, &job, &w, &res, &err) == 0);
    CHECK_MSG(res.rows == 4 && res.last_id == 8 && res.truncated == 1 && !res.why[0], "rows %llu last %llu why '%s'",
              (unsigned long long)res.rows, (unsigned long long)res.last_id, res.why);
    uint64_t back[1] = {8};
    CHECK(dense_writer_add(w, x, back, 1, &err) == MN_EUSAGE); /* ids go on above the resumed ones */
    CHECK(dense_writer_add(w, x + 12, ids + 4, 2, &err) == 0);
    CHECK(dense_writer_commit(w, 2, 0, &err) == 0);
    CHECK(same_files(dir, fx.ref));
    writer_fixture_free(&fx);
}

/* Leave dir with rows 0-3 durable (batch 2) and return the writer's job. */
static dense_job leave_progress(const char *dir, const float *x, const uint64_t *ids)
{
    dense_job job = small_job();
    dense_resume res;
    dense_writer *w;
    mn_err err = {0};
    if (dense_writer_open(dir, &job, &w, &res, &err) || dense_writer_add(w, x, ids, 4, &err) ||
        dense_writer_sync(w, 0, 0, &err))
        fprintf(stderr, "leave_progress: %s\n", err.msg);
    dense_writer_close(w);
    return job;
}

static void test_dense_writer_starts_over_for_another_job_or_damaged_parts(void)
{
    writer_fixture fx;
    CHECK(writer_fixture_init(&fx) == 0);
    struct {
        const char *what, *why;
    } cases[] = {
        {"shard grew", "shard_chunks 6 (this run: 7)"},
        {"shard content", "shard_hash"},
        {"model", "model_config_sha256"},
        {"matrix flipped", "rows differ"},
        {"ids part cut", "shorter"},
        {"record damaged", DENSE_PROGRESS_FILE},
        {"no part files", "missing"},
    };
    char path[600];
    mn_err err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dense_job job = leave_progress(fx.dir, fx.x, fx.ids);
        if (!strcmp(cases[i].what, "shard grew"))
            job.want.count = 7;
        else if (!strcmp(cases[i].what, "shard content"))
            job.shard_hash[0] ^= 1;
        else if (!strcmp(cases[i].what, "model"))
            strcpy(job.want.model_sha256, "cd34");
        snprintf(path, sizeof path, "%s/%s", fx.dir, DENSE_MATRIX_PART);
        if (!strcmp(cases[i].what, "matrix flipped")) {
            FILE *f = fopen(path, "r+b");
            fseek(f, 13, SEEK_SET);
            fputc(0x5a, f);
            fclose(f);
        }
        if (!strcmp(cases[i].what, "no part files"))
            unlink(path);
        snprintf(path, sizeof path, "%s/%s", fx.dir, DENSE_IDS_PART);
        if (!strcmp(cases[i].what, "ids part cut"))
            CHECK(truncate(path, 20) == 0);
        snprintf(path, sizeof path, "%s/%s", fx.dir, DENSE_PROGRESS_FILE);
        if (!strcmp(cases[i].what, "record damaged"))
            CHECK(truncate(path, 30) == 0);
        dense_resume res;
        dense_writer *w;
        CHECK(dense_writer_open(fx.dir, &job, &w, &res, &err) == 0);
        CHECK_MSG(res.rows == 0 && strstr(res.why, cases[i].why), "%s: rows %llu, why '%s'", cases[i].what,
                  (unsigned long long)res.rows, res.why);
        dense_writer_close(w);
    }
    /* after starting over, the files are an uninterrupted run's */
    dense_job job = small_job();
    dense_resume res;
    dense_writer *w;
    CHECK(dense_writer_open(fx.dir, &job, &w, &res, &err) == 0);
    CHECK(res.rows == 0);
    for (int b = 0; b < 3; b++)
        CHECK(dense_writer_add(w, fx.x + 6 * b, fx.ids + 2 * b, 2, &err) == 0);
    CHECK(dense_writer_commit(w, 2, 0, &err) == 0);
    CHECK(same_files(fx.dir, fx.ref));
    writer_fixture_free(&fx);
}

static void test_dense_writer_full_disk_is_enospace(void)
{
    writer_fixture fx;
    CHECK(writer_fixture_init(&fx) == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/%s", fx.dir, DENSE_MATRIX_PART);
    if (symlink("/dev/full", path)) { /* writes there fail with ENOSPC */
        fprintf(stderr, "skipped: no /dev/full symlink\n");
        writer_fixture_free(&fx);
        return;
    }
    dense_job job = small_job();
    dense_resume res;
    dense_writer *w;
    mn_err err = {0};
    CHECK(dense_writer_open(fx.dir, &job, &w, &res, &err) == 0);
    int rc = dense_writer_add(w, fx.x, fx.ids, 2, &err);
    if (!rc) /* buffered by the device? then the sync must fail */
        rc = dense_writer_sync(w, 0, 0, &err);
    dense_writer_close(w);
    CHECK_EQ_INT(rc, MN_ENOSPACE);
    CHECK_STR_CONTAINS(err.msg, DENSE_MATRIX_PART);
    writer_fixture_free(&fx);
}

/* touch dir/name */
static int touch(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    return f && !fclose(f);
}

static int exists(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return !access(path, F_OK);
}

static void test_dense_leftovers_of_dead_processes_are_removed(void)
{
    char *dir = tmpdir_make();
    CHECK(dir);
    /* a pid that is surely dead: a child that has exited and been reaped */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    CHECK(child > 0 && waitpid(child, NULL, 0) == child);
    char dead_f32[64], dead_rec[64], live_ids[64], other[64];
    snprintf(dead_f32, sizeof dead_f32, "%s.tmp.%ld", DENSE_MATRIX_FILE, (long)child);
    snprintf(dead_rec, sizeof dead_rec, "%s.tmp.%ld", DENSE_PROGRESS_FILE, (long)child);
    snprintf(live_ids, sizeof live_ids, "%s.tmp.%ld", DENSE_IDS_FILE, (long)getppid()); /* alive */
    snprintf(other, sizeof other, "notes.txt.tmp.%ld", (long)child);                     /* not ours */
    CHECK(touch(dir, dead_f32) && touch(dir, dead_rec) && touch(dir, live_ids) && touch(dir, other));
    CHECK(touch(dir, DENSE_MATRIX_PART) && touch(dir, DENSE_PROGRESS_FILE));
    size_t removed = 0;
    mn_err err = {0};
    CHECK(dense_leftovers_remove(dir, 0, &removed, &err) == 0);
    CHECK_EQ_INT(removed, 2);
    CHECK(!exists(dir, dead_f32) && !exists(dir, dead_rec));
    CHECK(exists(dir, live_ids) && exists(dir, other));
    CHECK(exists(dir, DENSE_MATRIX_PART) && exists(dir, DENSE_PROGRESS_FILE)); /* kept for a resume */
    CHECK(dense_leftovers_remove(dir, 1, &removed, &err) == 0);
    CHECK_EQ_INT(removed, 2);
    CHECK(!exists(dir, DENSE_MATRIX_PART) && !exists(dir, DENSE_PROGRESS_FILE));
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
          TEST(test_dense_files_round_trip_and_corruption),
          TEST(test_dense_writer_resumes_after_the_last_durable_block),
          TEST(test_dense_writer_starts_over_for_another_job_or_damaged_parts),
          TEST(test_dense_writer_full_disk_is_enospace), TEST(test_dense_leftovers_of_dead_processes_are_removed),
          TEST(test_dense_embed_batch_matches_engine_embed))
