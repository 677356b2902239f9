/* test_batch_invariance.c — the engine's bits do not depend on the batch:
 * a sequence's logits are bit-identical whether it is run alone or batched
 * with others (in any order, any mix of prefill and decode), whatever the
 * thread count, and on every OpenBLAS kernel this CPU can run.
 *
 * Why it needs its own test: OpenBLAS's result for an output depends on the
 * shape of the sgemm call (edge kernels, a small-matrix path, the AVX2
 * kernels' blocking), so batching rows of several sequences into one call,
 * or splitting a call across threads, used to change the last bits of the
 * logits — `eval --batch 1` and `--batch 8` disagreed in the 8th digit on
 * AMD Zen machines (issue 12, finding 8).  The engine now cuts work into
 * pieces and tiles that depend only on each sequence (linear.h).
 *
 * Kernel paths: the program runs itself once per OPENBLAS_CORETYPE that
 * this CPU supports (the DYNAMIC_ARCH OpenBLAS of Debian picks kernels by
 * that variable), so an Intel AVX-512, an AMD Zen and an AVX2-only machine's
 * kernels are all checked on whichever machine runs the test.
 *
 * Dimension letters: T tokens, V vocab. */
#include "test.h"

#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/forward.h" /* engine_create, engine_forward */
#include "model/model.h"   /* model_load */
#include "util/threads.h"  /* threads_set */

static const char *const MODELS[] = {"llama_tiny", "qwen2_tiny", "qwen3_tiny", "neox_tiny"};
#define N_MODELS 4
#define N_SEQ 7
/* lengths: decode-sized, the streaming kernel's limit and one past it, a
 * prefill longer than the engine's chunk (cut into pieces) */
static const int LENS[N_SEQ] = {1, 5, 12, 13, 40, 100, 150};
#define CHUNK 64 /* engine chunk: the 100- and 150-token sequences span several */
#define MAX_LEN 160

/* Deterministic ids in [0, V) for sequence s. */
static void make_ids(int32_t *ids, int n, int s, int V)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(s + 1);
    for (int i = 0; i < n; i++) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        ids[i] = (int32_t)((x * 0x2545f4914f6cdd1dULL >> 33) % (uint64_t)V);
    }
}

/* Run the sequences order[0..k) in one batch (slot = sequence index), with
 * all logits into out[s] (T x V each), then one decode step of every one of
 * them in one batch into step[s] (V each).  Returns 0 or -1. */
static int run_batch(const model *m, int32_t *const *ids, const int *order, int k, float **out, float **step)
{
    int V = m->cfg.V;
    engine *e;
    mn_err err = {0};
    if (engine_create(m, CHUNK, N_SEQ, MAX_LEN + 1, &e, &err))
        return -1;
    engine_seg seg[N_SEQ];
    long rows = 0;
    for (int i = 0; i < k; i++) {
        seg[i] = (engine_seg){order[i], LENS[order[i]], ids[order[i]]};
        rows += LENS[order[i]];
    }
    float *all = malloc((size_t)rows * V * sizeof *all), *last = malloc((size_t)k * V * sizeof *last);
    int rc = engine_forward(e, seg, k, ENGINE_LOGITS_ALL, all, NULL, &err);
    long r = 0;
    for (int i = 0; !rc && i < k; i++) {
        memcpy(out[order[i]], all + r * V, (size_t)LENS[order[i]] * V * sizeof *all);
        r += LENS[order[i]];
        seg[i] = (engine_seg){order[i], 1, ids[order[i]] + MAX_LEN}; /* the extra token */
    }
    if (!rc)
        rc = engine_forward(e, seg, k, ENGINE_LOGITS_LAST, last, NULL, &err);
    for (int i = 0; !rc && i < k; i++)
        memcpy(step[order[i]], last + (size_t)i * V, (size_t)V * sizeof *last);
    if (rc)
        fprintf(stderr, "engine: %s\n", err.msg);
    free(all);
    free(last);
    engine_free(e);
    return rc ? -1 : 0;
}

static int same(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* Every model: each sequence alone on 1 thread is the reference; batches of
 * all sequences in three orders, and two halves, on 1 and 2 threads, must
 * reproduce it bit for bit (prefill logits and the batched decode step). */
static void test_batch_invariance_all_models(void)
{
    const char *ct = getenv("OPENBLAS_CORETYPE");
    for (int k = 0; k < N_MODELS; k++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", fixture_path("tests/fixtures/models"), MODELS[k]);
        model *m = NULL;
        mn_err err = {0};
        CHECK(model_load(dir, &m, &err) == 0);
        if (!m)
            return;
        int V = m->cfg.V;
        int32_t *ids[N_SEQ];
        float *ref[N_SEQ], *ref_step[N_SEQ], *got[N_SEQ], *got_step[N_SEQ];
        for (int s = 0; s < N_SEQ; s++) {
            ids[s] = malloc((MAX_LEN + 1) * sizeof *ids[s]);
            make_ids(ids[s], MAX_LEN + 1, s, V);
            ids[s][MAX_LEN] = ids[s][LENS[s]]; /* the decode step's token */
            ref[s] = malloc((size_t)LENS[s] * V * sizeof *ref[s]);
            got[s] = malloc((size_t)LENS[s] * V * sizeof *got[s]);
            ref_step[s] = malloc((size_t)V * sizeof *ref_step[s]);
            got_step[s] = malloc((size_t)V * sizeof *got_step[s]);
        }
        threads_set(1);
        for (int s = 0; s < N_SEQ; s++)
            CHECK(run_batch(m, ids, &s, 1, ref, ref_step) == 0);
        static const int orders[4][N_SEQ] = {
            {0, 1, 2, 3, 4, 5, 6}, {6, 5, 4, 3, 2, 1, 0}, {3, 0, 6, 2, 5, 1, 4}, {4, 1, 6, 0, 2, 3, 5}};
        static const int sizes[4] = {N_SEQ, N_SEQ, N_SEQ, 3};
        for (int threads = 1; threads <= 2; threads++) {
            threads_set(threads);
            for (int o = 0; o < 4; o++) {
                CHECK(run_batch(m, ids, orders[o], sizes[o], got, got_step) == 0);
                for (int i = 0; i < sizes[o]; i++) {
                    int s = orders[o][i];
                    CHECK_MSG(same(got[s], ref[s], (size_t)LENS[s] * V),
                              "%s coretype %s, %d threads, order %d: sequence %d (%d tokens) prefill differs",
                              MODELS[k], ct ? ct : "default", threads, o, s, LENS[s]);
                    CHECK_MSG(same(got_step[s], ref_step[s], (size_t)V),
                              "%s coretype %s, %d threads, order %d: sequence %d decode step differs", MODELS[k],
                              ct ? ct : "default", threads, o, s);
                }
            }
        }
        threads_set(1);
        for (int s = 0; s < N_SEQ; s++) {
            free(ids[s]);
            free(ref[s]);
            free(got[s]);
            free(ref_step[s]);
            free(got_step[s]);
        }
        model_free(m);
    }
}

/* Run the test once more under every OpenBLAS core type this CPU can
 * execute (children; the parent's own run covers the default choice). */
static void test_batch_invariance_every_kernel(void)
{
    if (getenv("MNEMO_TEST_CORETYPE_CHILD"))
        return;
    static const struct {
        const char *name, *feature;
    } types[] = {{"Prescott", NULL},     {"Nehalem", NULL},  {"Sandybridge", "avx"}, {"Haswell", "avx2"},
                 {"Zen", "avx2"},        {"SkylakeX", "avx512f"}};
    __builtin_cpu_init();
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        const char *f = types[i].feature;
        int ok = !f || (!strcmp(f, "avx") && __builtin_cpu_supports("avx")) ||
                 (!strcmp(f, "avx2") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ||
                 (!strcmp(f, "avx512f") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"));
        if (!ok) {
            printf("  coretype %-12s not runnable on this CPU: skipped\n", types[i].name);
            continue;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            setenv("OPENBLAS_CORETYPE", types[i].name, 1);
            setenv("MNEMO_TEST_CORETYPE_CHILD", "1", 1);
            execl("/proc/self/exe", "test_batch_invariance", "all_models", (char *)NULL);
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "coretype %s: the batch-invariance run failed",
                  types[i].name);
        printf("  coretype %-12s batch-invariant\n", types[i].name);
    }
}

TEST_MAIN(TEST(test_batch_invariance_all_models), TEST(test_batch_invariance_every_kernel))
