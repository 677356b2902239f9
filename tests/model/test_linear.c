/* test_linear.c — linear() (weight-streaming kernel for small T, sgemm
 * above) and its portable no-FMA kernels against the plain-loop
 * linear_ref(), linear_many() against separate calls, and the attention
 * GEMMs against loops. */
#include "test.h"

#include <stdint.h>

#include "model/linear.h"
#include "util/threads.h"

static float *random_floats(size_t n, uint32_t seed)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 8) * (1.0 / 16777216.0) * 2.0 - 1.0);
    }
    return x;
}

/* max |y - ref| / max |ref| */
static double rel_err(const float *y, const float *ref, size_t n)
{
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)y[i] - ref[i]);
        e = d > e || isnan(d) ? d : e;
        m = fabs(ref[i]) > m ? fabs(ref[i]) : m;
    }
    return m > 0 ? e / m : e;
}

/* Every small-T kernel and the sgemm path, widths that are and are not
 * multiples of 16 and of the kernels' row blocks, with and without bias. */
static void test_linear_matches_reference(void)
{
    static const int shapes[][2] = {{64, 64}, {37, 29}, {16, 7}, {5, 3}, {768, 256}, {160, 130}};
    static const int Ts[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 33, 100};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++)
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                int in = shapes[s][0], out = shapes[s][1], T = Ts[ti];
                float *x = random_floats((size_t)T * in, 1 + (uint32_t)ti);
                float *W = random_floats((size_t)out * in, 7 + (uint32_t)s);
                float *b = with_bias ? random_floats((size_t)out, 99) : NULL;
                float *y = malloc((size_t)T * out * sizeof *y), *ref = malloc((size_t)T * out * sizeof *ref);
                linear(y, x, W, b, T, in, out);
                linear_ref(ref, x, W, b, T, in, out);
                double e = rel_err(y, ref, (size_t)T * out);
                CHECK_MSG(e < 1e-5, "T=%d in=%d out=%d bias=%d: rel err %.3g", T, in, out, with_bias, e);
                free(x);
                free(W);
                free(b);
                free(y);
                free(ref);
            }
    printf("  linear vs linear_ref: %zu shapes x %zu row counts x bias on/off within 1e-5\n",
           sizeof shapes / sizeof shapes[0], sizeof Ts / sizeof Ts[0]);
}

/* The small-T kernel gives the same bits with 1 and 2 threads (each output
 * is one thread's dot product), so results do not depend on --threads. */
static void test_linear_small_kernel_independent_of_threads(void)
{
    int T = 4, in = 768, out = 1000;
    float *x = random_floats((size_t)T * in, 3), *W = random_floats((size_t)out * in, 4);
    float *y1 = malloc((size_t)T * out * sizeof *y1), *y2 = malloc((size_t)T * out * sizeof *y2);
    int before = threads_get();
    threads_set(1);
    linear(y1, x, W, NULL, T, in, out);
    threads_set(2);
    linear(y2, x, W, NULL, T, in, out);
    threads_set(before);
    CHECK(memcmp(y1, y2, (size_t)T * out * sizeof *y1) == 0);
    free(x);
    free(W);
    free(y1);
    free(y2);
}

/* The portable multiply-then-add kernels (linear()'s fallback without FMA)
 * against the reference, on every machine, for every small T. */
static void test_linear_portable_kernel_matches_reference(void)
{
    static const int shapes[][2] = {{64, 64}, {37, 29}, {16, 7}, {768, 256}, {160, 130}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int T = 1; T <= LINEAR_SMALL_T; T++) {
            int in = shapes[s][0], out = shapes[s][1];
            float *x = random_floats((size_t)T * in, 5 + (uint32_t)T);
            float *W = random_floats((size_t)out * in, 11 + (uint32_t)s), *b = random_floats((size_t)out, 3);
            float *y = malloc((size_t)T * out * sizeof *y), *ref = malloc((size_t)T * out * sizeof *ref);
            linear_small_portable(y, x, W, b, T, in, out);
            linear_ref(ref, x, W, b, T, in, out);
            double e = rel_err(y, ref, (size_t)T * out);
            CHECK_MSG(e < 1e-5, "portable T=%d in=%d out=%d: rel err %.3g", T, in, out, e);
            free(x);
            free(W);
            free(b);
            free(y);
            free(ref);
        }
}

/* Row t of a T-row product is bit-identical to the same row multiplied
 * alone, for every small T and both kernel families: a batched decode step
 * then gives each sequence exactly the logits it gets alone (bench_engine
 * and the engine tests rely on it).  Widths as in real models (multiples of
 * 16 and of every kernel's row block) and odd ones: out = 37 leaves rows
 * after the last full block of every kernel (they used to be summed by a
 * plain loop, so their bits depended on T: issue 12, finding 8), in = 100 a
 * scalar tail. */
static void test_linear_small_rows_independent_of_batch(void)
{
    static const int shapes[][2] = {{768, 320}, {100, 37}, {29, 203}, {16, 7}};
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        int in = shapes[sh][0], out = shapes[sh][1];
        float *W = random_floats((size_t)out * in, 21), *b = random_floats((size_t)out, 22);
        float *x = random_floats((size_t)LINEAR_SMALL_T * in, 23);
        float *y = malloc((size_t)LINEAR_SMALL_T * out * sizeof *y), *one = malloc((size_t)out * sizeof *one);
        for (int portable = 0; portable < 2; portable++)
            for (int T = 2; T <= LINEAR_SMALL_T; T++) {
                (portable ? linear_small_portable : linear)(y, x, W, b, T, in, out);
                for (int t = 0; t < T; t++) {
                    (portable ? linear_small_portable : linear)(one, x + (size_t)t * in, W, b, 1, in, out);
                    CHECK_MSG(memcmp(one, y + (size_t)t * out, (size_t)out * sizeof *one) == 0,
                              "%dx%d %s kernel: row %d of T=%d differs from the row alone", in, out,
                              portable ? "portable" : "default", t, T);
                }
            }
        free(W);
        free(b);
        free(x);
        free(y);
        free(one);
    }
}

/* linear_spans(): each piece's outputs are bit-identical to the piece run
 * alone, whatever pieces surround it and whatever the thread count: small
 * pieces (streaming kernel, grouped with their neighbours) and large ones
 * (sgemm tiles: 300 rows span two row tiles, out = 600 three column
 * tiles). */
static void test_linear_spans_pieces_independent_of_batch(void)
{
    enum { IN = 72, OUT = 600, NP = 7 };
    static const int lens[NP] = {1, 300, 1, 12, 13, 5, 40};
    int rows = 0, row0[NP];
    for (int p = 0; p < NP; p++) {
        row0[p] = rows;
        rows += lens[p];
    }
    float *W = random_floats((size_t)OUT * IN, 41), *b = random_floats(OUT, 42);
    float *x = random_floats((size_t)rows * IN, 43);
    float *y = malloc((size_t)rows * OUT * sizeof *y), *alone = malloc((size_t)rows * OUT * sizeof *alone);
    threads_set(1); /* also keeps OpenBLAS single-threaded, as the engine does */
    for (int p = 0; p < NP; p++)
        linear(alone + (size_t)row0[p] * OUT, x + (size_t)row0[p] * IN, W, b, lens[p], IN, OUT);
    linear_span sp[NP];
    for (int threads = 1; threads <= 2; threads++) {
        threads_set(threads);
        for (int p = 0; p < NP; p++)
            sp[p] = (linear_span){row0[p], lens[p]};
        linear_op op = {y, W, b, OUT};
        memset(y, 0, (size_t)rows * OUT * sizeof *y);
        linear_spans(&op, 1, x, IN, sp, NP);
        for (int p = 0; p < NP; p++)
            CHECK_MSG(memcmp(y + (size_t)row0[p] * OUT, alone + (size_t)row0[p] * OUT,
                             (size_t)lens[p] * OUT * sizeof *y) == 0,
                      "%d threads: piece %d (%d rows) differs from the piece alone", threads, p, lens[p]);
        CHECK(rel_err(y, alone, (size_t)rows * OUT) == 0.0);
    }
    threads_set(1);
    free(W);
    free(b);
    free(x);
    free(y);
    free(alone);
}

/* linear_many() gives the bits of separate linear() calls, on the small-T
 * path (one shared parallel loop) and the sgemm path, for products of
 * different widths, with and without bias. */
static void test_linear_many_matches_separate_calls(void)
{
    enum { IN = 96, N = 3 };
    static const int outs[N] = {200, 64, 37}, Ts[] = {1, 5, 8, 12, 33};
    float *W[N], *bias[N], *y[N], *sep = malloc((size_t)33 * 200 * sizeof *sep);
    for (int i = 0; i < N; i++) {
        W[i] = random_floats((size_t)outs[i] * IN, 31 + (uint32_t)i);
        bias[i] = i == 1 ? NULL : random_floats((size_t)outs[i], 41 + (uint32_t)i);
        y[i] = malloc((size_t)33 * outs[i] * sizeof *y[i]);
    }
    for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++) {
        int T = Ts[ti];
        float *x = random_floats((size_t)T * IN, 50 + (uint32_t)T);
        linear_op ops[N];
        for (int i = 0; i < N; i++)
            ops[i] = (linear_op){y[i], W[i], bias[i], outs[i]};
        linear_many(ops, N, x, T, IN);
        for (int i = 0; i < N; i++) {
            linear(sep, x, W[i], bias[i], T, IN, outs[i]);
            CHECK_MSG(memcmp(sep, y[i], (size_t)T * outs[i] * sizeof *sep) == 0,
                      "T=%d product %d (out %d) differs from linear()", T, i, outs[i]);
        }
        free(x);
    }
    for (int i = 0; i < N; i++) {
        free(W[i]);
        free(bias[i]);
        free(y[i]);
    }
    free(sep);
}

/* Q K^T and P V over strided slices, as attention uses them. */
static void test_linear_attention_gemms_with_strides(void)
{
    int M = 5, N = 9, K = 4, lda = 12, ldb = 10, ldc = 11;
    float *A = random_floats((size_t)M * lda, 1), *B = random_floats((size_t)N * ldb, 2);
    float *Cm = malloc((size_t)M * ldc * sizeof *Cm);
    linear_mm_nt(M, N, K, 0.5f, A, lda, B, ldb, Cm, ldc);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)A[i * lda + k] * B[j * ldb + k];
            CHECK(fabs(Cm[i * ldc + j] - 0.5 * s) < 1e-5);
        }
    /* C[M, K] = P[M, N] V[N, K] with V rows of stride ldb */
    linear_mm_nn(M, K, N, A, lda, B, ldb, Cm, ldc);
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) {
            double s = 0;
            for (int j = 0; j < N; j++)
                s += (double)A[i * lda + j] * B[j * ldb + k];
            CHECK(fabs(Cm[i * ldc + k] - s) < 1e-5);
        }
    free(A);
    free(B);
    free(Cm);
}

TEST_MAIN(TEST(test_linear_matches_reference), TEST(test_linear_spans_pieces_independent_of_batch), TEST(test_linear_small_kernel_independent_of_threads),
          TEST(test_linear_portable_kernel_matches_reference),
          TEST(test_linear_small_rows_independent_of_batch), TEST(test_linear_many_matches_separate_calls),
          TEST(test_linear_attention_gemms_with_strides))
