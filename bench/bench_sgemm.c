/* bench_sgemm.c — what OpenBLAS sgemm delivers on this machine, in GFLOP/s:
 * the compute ceiling that prefill is measured against.
 *
 *   bench_sgemm [--threads N] [--reps R]
 *
 * Shapes M×K×N, computed the way the engine computes a linear layer,
 * Y[M,N] = X[M,K] · W[N,K]ᵀ (W in nn.Linear's [out, in] layout, i.e.
 * cblas_sgemm(RowMajor, NoTrans, Trans)): 2048³ (the classic figure), the
 * transformer shapes 512×768×768, 512×768×3072, 512×3072×768, and the
 * benchmark model's own 512×768×256 (k/v), 512×768×2048 (gate/up),
 * 512×2048×768 (down).  Each shape: one warm-up call, then R timed calls
 * (default: as many as fit in ~1 s, at least 5); prints min/median/max.
 *
 * Output, one line per shape (parsed by bench/run_engine_bench.sh):
 *   sgemm threads=N shape=MxKxN min=G median=G max=G unit=GFLOP/s
 *
 * Non-goals: other BLAS libraries, double precision, accuracy checks.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h" /* now_s, cmp_double */
#include "util/err.h"

static void fill(float *p, size_t n, unsigned *seed)
{
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        p[i] = (float)((*seed >> 8) & 0xFFFF) / 65536.0f - 0.5f;
    }
}

static void bench_shape(int threads, int M, int K, int N, int reps_arg)
{
    float *x = xmalloc((size_t)M * K * sizeof *x);
    float *w = xmalloc((size_t)N * K * sizeof *w);
    float *y = xmalloc((size_t)M * N * sizeof *y);
    unsigned seed = 12345u;
    fill(x, (size_t)M * K, &seed);
    fill(w, (size_t)N * K, &seed);
    double flop = 2.0 * M * K * N;

    double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
    double warm = now_s() - t0;
    int reps = reps_arg;
    if (reps <= 0) {
        reps = warm > 0 ? (int)(1.0 / warm) : 100;
        if (reps < 5) reps = 5;
        if (reps > 200) reps = 200;
    }
    double *g = xmalloc((size_t)reps * sizeof *g);
    for (int r = 0; r < reps; r++) {
        t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
        g[r] = flop / (now_s() - t0) / 1e9;
    }
    qsort(g, (size_t)reps, sizeof *g, cmp_double);
    printf("sgemm threads=%d shape=%dx%dx%d min=%.1f median=%.1f max=%.1f unit=GFLOP/s reps=%d\n",
           threads, M, K, N, g[0], g[reps / 2], g[reps - 1], reps);
    fflush(stdout);
    free(g);
    free(x);
    free(w);
    free(y);
}

int main(int argc, char **argv)
{
    int threads = 1, reps = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--threads"))
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--reps"))
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "bench_sgemm: argument %d: '%s' unknown (usage: bench_sgemm "
                    "[--threads N] [--reps R])\n", i, argv[i]);
            return 2;
        }
    }
    if (threads < 1 || threads > 256 || reps < 0) {
        fprintf(stderr, "bench_sgemm: --threads must be in [1, 256], --reps >= 0\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    printf("# OpenBLAS %s, core %s\n", openblas_get_config(), openblas_get_corename());
    static const int shapes[][3] = {
        {2048, 2048, 2048},
        {512, 768, 768}, {512, 768, 3072}, {512, 3072, 768},
        {512, 768, 256}, {512, 768, 2048}, {512, 2048, 768},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        bench_shape(threads, shapes[s][0], shapes[s][1], shapes[s][2], reps);
    return 0;
}
