/* test_linear.c — linear() (weight-streaming kernel for small T, sgemm
 * above) against the plain-loop linear_ref(), and the attention GEMMs
 * against loops. */
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

TEST_MAIN(TEST(test_linear_matches_reference), TEST(test_linear_small_kernel_independent_of_threads),
          TEST(test_linear_attention_gemms_with_strides))
