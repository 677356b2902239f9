/* bench_stream.c — this machine's memory bandwidth in GB/s: the ceiling that
 * single-sequence decode (which streams every weight once per token) is
 * measured against.
 *
 *   bench_stream [--threads N] [--reps R] [--mib M]
 *
 * Two kernels over arrays far larger than the last-level cache (default
 * 1 GiB each, three of them: the machine this was written on reports an L3
 * of 480 MiB, shared with other guests of its host):
 *   triad  a[i] = b[i] + s·c[i] over doubles, counted as STREAM counts it,
 *          24 bytes per element (write-allocate traffic not counted);
 *   read   sum of a float array, 4 bytes per element — the access pattern
 *          of a matrix-vector product over f32 weights.
 * OpenMP with N threads, static schedule, arrays first touched by the same
 * threads.  One warm-up pass, R timed passes (default 10): min/median/max.
 *
 * Output (parsed by bench/run_engine_bench.sh):
 *   stream kernel=triad threads=N min=G median=G max=G unit=GB/s
 *
 * Non-goals: the full STREAM suite (copy/scale/add), NUMA placement.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h" /* now_s, cmp_double */
#include "util/err.h"

typedef float v16f __attribute__((vector_size(64)));

static void report(const char *kernel, int threads, double *g, int reps)
{
    qsort(g, (size_t)reps, sizeof *g, cmp_double);
    printf("stream kernel=%s threads=%d min=%.1f median=%.1f max=%.1f unit=GB/s reps=%d\n",
           kernel, threads, g[0], g[reps / 2], g[reps - 1], reps);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int threads = 1, reps = 10, mib = 1024;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--threads"))
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--reps"))
            reps = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--mib"))
            mib = atoi(argv[++i]);
        else {
            fprintf(stderr, "bench_stream: argument %d: '%s' unknown (usage: bench_stream "
                    "[--threads N] [--reps R] [--mib M])\n", i, argv[i]);
            return 2;
        }
    }
    if (threads < 1 || threads > 256 || reps < 1 || reps > 1000 || mib < 1 || mib > 4096) {
        fprintf(stderr, "bench_stream: --threads in [1, 256], --reps in [1, 1000], --mib in [1, 4096]\n");
        return 2;
    }
    omp_set_num_threads(threads);
    long n = (long)mib * 1024 * 1024 / (long)sizeof(double);
    double *a = xmalloc((size_t)n * sizeof *a);
    double *b = xmalloc((size_t)n * sizeof *b);
    double *c = xmalloc((size_t)n * sizeof *c);
    const double s = 3.0;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    double *g = xmalloc((size_t)reps * sizeof *g);
    for (int r = -1; r < reps; r++) {
        double t0 = now_s();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++)
            a[i] = b[i] + s * c[i];
        double dt = now_s() - t0;
        if (r >= 0)
            g[r] = 24.0 * (double)n / dt / 1e9;
    }
    report("triad", threads, g, reps);

    /* read: the same bytes as b, viewed as floats (2n of them) */
    const float *f = (const float *)b;
    long nf = 2 * n;
    volatile float sink = 0.0f;
    for (int r = -1; r < reps; r++) {
        double t0 = now_s();
        float sum = 0.0f;
        /* four independent 16-float accumulators per thread (nf is a
         * multiple of 64), so the loop is bound by loads, not by the latency
         * of one chain of vector adds; GCC/clang vector extensions keep it
         * vectorized at -O2 */
#pragma omp parallel reduction(+ : sum)
        {
            v16f acc[4] = {{0}};
#pragma omp for schedule(static)
            for (long i = 0; i < nf; i += 64)
                for (int j = 0; j < 4; j++) {
                    v16f x;
                    memcpy(&x, f + i + 16 * j, sizeof x);
                    acc[j] += x;
                }
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 16; k++)
                    sum += acc[j][k];
        }
        double dt = now_s() - t0;
        sink += sum;
        if (r >= 0)
            g[r] = 4.0 * (double)nf / dt / 1e9;
    }
    report("read", threads, g, reps);
    if (a[n / 2] != 7.0 || sink == 0.0f) {
        fprintf(stderr, "bench_stream: triad result %g, expected 7 (sink %g)\n", a[n / 2], (double)sink);
        return 1;
    }
    free(g);
    free(a);
    free(b);
    free(c);
    return 0;
}
