/* linear.c — matrix products: a weight-streaming kernel for small row counts,
 * cblas_sgemm for the rest, and a plain-loop reference (see linear.h).
 *
 * Non-goals: quantised weights, a hand-written large GEMM (OpenBLAS's is
 * within a few percent of the machine's peak).
 */
#include "model/linear.h"

#include <cblas.h>
#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h> /* _mm512_fmadd_ps, _mm256_fmadd_ps */
#endif
#include <omp.h>
#include <stddef.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Small-T kernel.  Decode multiplies a few rows x[T, in] by a weight W[out,
 * in] that is far larger than the caches, so the time is the time to stream
 * W from memory once.  The kernel walks R weight rows at a time, 16 floats
 * at a time, and multiplies each 16-float piece of W into all T rows of x
 * while it is in registers: R x T vector accumulators (<= 24 of the 32 AVX-512
 * registers), R weight loads and T x loads per step.  With few rows in
 * flight the hardware prefetcher leaves the memory bus idle part of the time
 * (T = 8 ran at 2/3 of the bandwidth of T = 1), so each step also prefetches
 * the same offset in the next block's rows.  The GCC vector type
 * v16 compiles to one AVX-512 register (or two AVX2 ones).  Output rows are
 * split across OpenMP threads in chunks of SMALL_CHUNK.
 *
 * Fused multiply-add.  At T = 8 the kernel does 8 multiply-adds per weight
 * loaded, and its arithmetic, not the memory bus, sets the pace.  Strict C11
 * (-std=c11) makes GCC default to -ffp-contract=off, so `acc += w * x`
 * compiles to a multiply and an add: twice the instructions (batched decode
 * ran 9-11% faster with contraction).  v16_fma() asks for the fused
 * instruction explicitly where the compiler targets one (AVX-512F, or FMA
 * on AVX2 machines, as -march=native decides); elsewhere, or when built with
 * -DMNEMO_LINEAR_PORTABLE, it is the multiply and the add.  The kernels are
 * generated twice from one macro: with v16_fma (used by linear()) and with
 * the plain multiply-add (linear_small_portable(), so that the fallback is
 * compiled and tested on every machine).  A fused multiply-add rounds once
 * instead of twice, so the two differ in the last bits, both well within the
 * tests' 1e-5 of linear_ref(); every T of one family uses the same
 * operations per output, so a batched decode step gives the same bits as
 * each sequence alone.
 */
typedef float v16 __attribute__((vector_size(64)));
/* The helpers below pass v16 by value.  Without AVX-512 GCC and clang warn
 * that such calls have a different ABI than with it; these are static inline
 * functions of this file, never called across a compiled interface, so the
 * warning does not apply (and would stop -Werror builds on AVX2 machines). */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

static inline v16 v16_load(const float *p)
{
    v16 v;
    memcpy(&v, p, sizeof v); /* unaligned load */
    return v;
}

/* acc + w * x, multiply and add rounded separately (the portable path). */
static inline v16 v16_madd(v16 acc, v16 w, v16 x)
{
    return acc + w * x;
}

#if defined(__AVX512F__) && !defined(MNEMO_LINEAR_PORTABLE)
/* acc + w * x rounded once: one vfmadd on a zmm register */
static inline v16 v16_fma(v16 acc, v16 w, v16 x)
{
    return (v16)_mm512_fmadd_ps((__m512)w, (__m512)x, (__m512)acc);
}
#elif defined(__FMA__) && !defined(MNEMO_LINEAR_PORTABLE)
/* acc + w * x rounded once: two vfmadd on the ymm halves */
static inline v16 v16_fma(v16 acc, v16 w, v16 x)
{
    __m256 a[2], b[2], c[2];
    memcpy(a, &acc, sizeof a);
    memcpy(b, &w, sizeof b);
    memcpy(c, &x, sizeof c);
    a[0] = _mm256_fmadd_ps(b[0], c[0], a[0]);
    a[1] = _mm256_fmadd_ps(b[1], c[1], a[1]);
    memcpy(&acc, a, sizeof acc);
    return acc;
}
#else
#define v16_fma v16_madd
#endif

/* Sum of the 16 lanes as a tree (three vector adds and a few scalar ones):
 * a lane-by-lane chain would cost 16 dependent adds per output. */
static inline float v16_sum(v16 v)
{
    v8 a, b;
    memcpy(&a, &v, sizeof a);
    memcpy(&b, (const char *)&v + sizeof a, sizeof b);
    a += b;
    v4 c, d;
    memcpy(&c, &a, sizeof c);
    memcpy(&d, (const char *)&a + sizeof c, sizeof d);
    c += d;
    return (c[0] + c[2]) + (c[1] + c[3]);
}

/* NAME##_##T(y, x, W, b, in, out, o0, o1): rows [o0, o1) of
 * y[T, out] = x[T, in] W^T + b, with T and R compile-time constants so the
 * accumulator array acc[R][T] lives in registers, and MADD(acc, w, x) the
 * vector multiply-add.  The tail of `in` that is not a multiple of 16 and the
 * rows after the last full block of R are done with scalar loops. */
#define DEFINE_SMALL_KERNEL(NAME, MADD, T, R)                                                      \
    static void NAME##_##T(float *y, const float *x, const float *W, const float *b, int in,      \
                           int out, int o0, int o1)                                                 \
    {                                                                                               \
        int o = o0;                                                                                 \
        for (; o + (R) <= o1; o += (R)) {                                                           \
            /* the next block's rows, prefetched while this block streams */                       \
            const float *next = W + (size_t)(o + 2 * (R) <= o1 ? o + (R) : o) * in;                 \
            v16 acc[R][T];                                                                          \
            _Pragma("GCC unroll 16") for (int r = 0; r < (R); r++)                                  \
                _Pragma("GCC unroll 16") for (int t = 0; t < (T); t++) acc[r][t] = (v16){0};        \
            int k = 0;                                                                              \
            for (; k + 16 <= in; k += 16) {                                                         \
                v16 w[R];                                                                           \
                _Pragma("GCC unroll 16") for (int r = 0; r < (R); r++) {                            \
                    w[r] = v16_load(W + (size_t)(o + r) * in + k);                                  \
                    __builtin_prefetch(next + (size_t)r * in + k);                                  \
                }                                                                                   \
                _Pragma("GCC unroll 16") for (int t = 0; t < (T); t++) {                            \
                    v16 xv = v16_load(x + (size_t)t * in + k);                                      \
                    _Pragma("GCC unroll 16") for (int r = 0; r < (R); r++)                          \
                        acc[r][t] = MADD(acc[r][t], w[r], xv);                                      \
                }                                                                                   \
            }                                                                                       \
            for (int r = 0; r < (R); r++)                                                           \
                for (int t = 0; t < (T); t++) {                                                     \
                    float s = v16_sum(acc[r][t]);                                                   \
                    for (int kk = k; kk < in; kk++)                                                 \
                        s += W[(size_t)(o + r) * in + kk] * x[(size_t)t * in + kk];                 \
                    y[(size_t)t * out + o + r] = s + (b ? b[o + r] : 0.0f);                         \
                }                                                                                   \
        }                                                                                           \
        for (; o < o1; o++)                                                                         \
            for (int t = 0; t < (T); t++) {                                                         \
                float s = 0.0f;                                                                     \
                for (int k = 0; k < in; k++)                                                        \
                    s += W[(size_t)o * in + k] * x[(size_t)t * in + k];                             \
                y[(size_t)t * out + o] = s + (b ? b[o] : 0.0f);                                     \
            }                                                                                       \
    }

/* R (weight rows per step): enough rows in flight for the memory bus, with
 * R x T <= 24 accumulators (measured: T = 12 with R = 2 beats R = 1 by 30%
 * when the weights are cache-resident, 7% when streamed). */
#define DEFINE_SMALL_KERNELS(NAME, MADD)                                                            \
    DEFINE_SMALL_KERNEL(NAME, MADD, 1, 8)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 2, 8)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 3, 4)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 4, 4)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 5, 2)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 6, 2)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 7, 2)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 8, 2)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 9, 2)                                                           \
    DEFINE_SMALL_KERNEL(NAME, MADD, 10, 2)                                                          \
    DEFINE_SMALL_KERNEL(NAME, MADD, 11, 2)                                                          \
    DEFINE_SMALL_KERNEL(NAME, MADD, 12, 2)                                                          \
    static const small_kernel_fn NAME##_by_T[LINEAR_SMALL_T + 1] = {                                \
        NULL,       NAME##_1, NAME##_2, NAME##_3,  NAME##_4,  NAME##_5,  NAME##_6,                  \
        NAME##_7,   NAME##_8, NAME##_9, NAME##_10, NAME##_11, NAME##_12,                            \
    };

typedef void (*small_kernel_fn)(float *, const float *, const float *, const float *, int, int, int,
                                int);
DEFINE_SMALL_KERNELS(small_fma, v16_fma)       /* small_fma_by_T: what linear() uses */
DEFINE_SMALL_KERNELS(small_portable, v16_madd) /* small_portable_by_T: the fallback */

/* Below this many weights a matrix is not worth waking a second thread. */
#define SMALL_PARALLEL_MIN (1L << 16)
/* Output rows per work item: threads take items dynamically, so a thread
 * that the OS descheduled does not hold the others up at the barrier. */
#define SMALL_CHUNK 64

/* The n products of ops[] (all of width `in`, all with T rows of x) in one
 * parallel loop over their SMALL_CHUNK-row work items, numbered op after op:
 * one fork and one barrier for the group instead of one per product, and no
 * thread idles at the end of each product while the other finishes its last
 * item.  Each output still comes from the same kernel call as with separate
 * products, so the bits do not depend on the grouping. */
static void small_many(const small_kernel_fn *by_T, const linear_op *ops, int n, const float *x,
                       int T, int in)
{
    small_kernel_fn kernel = by_T[T];
    int items = 0;
    long weights = 0;
    for (int i = 0; i < n; i++) {
        items += (ops[i].out + SMALL_CHUNK - 1) / SMALL_CHUNK;
        weights += (long)ops[i].out * in;
    }
#pragma omp parallel for schedule(dynamic, 1) if (weights >= SMALL_PARALLEL_MIN)
    for (int c = 0; c < items; c++) {
        int i = 0, first = 0; /* item c is item c - first of product i */
        while (c - first >= (ops[i].out + SMALL_CHUNK - 1) / SMALL_CHUNK)
            first += (ops[i++].out + SMALL_CHUNK - 1) / SMALL_CHUNK;
        int out = ops[i].out, o0 = (c - first) * SMALL_CHUNK;
        int o1 = o0 + SMALL_CHUNK < out ? o0 + SMALL_CHUNK : out;
        kernel(ops[i].y, x, ops[i].W, ops[i].b, in, out, o0, o1);
    }
}

/* ---------------------------------------------------------------------------
 * Large T: cblas_sgemm, split across the OpenMP threads here rather than by
 * OpenBLAS.  OpenBLAS runs single-threaded (util/threads.c) so that only one
 * thread pool exists: OpenBLAS's pthreads and OpenMP's threads each spin
 * while waiting for work, and with both pools on two cores a 512-token
 * prefill ran 4x slower on 2 threads than on 1.
 * C[M, N] is split by rows when every thread gets at least GEMM_SPLIT_ROWS
 * of them (each thread then packs all of B once, amortised over its rows),
 * else by column blocks of 16.  Inside a parallel region (attention tasks)
 * the call runs on the calling thread alone.
 */
#define GEMM_SPLIT_ROWS 64
#define GEMM_PARALLEL_MIN (1L << 20) /* multiply-adds */

/* C[M, N] = alpha A[M, K] op(B) (+ bias[N] on every row); op(B) = B^T for
 * B [N, K] when trans_b, else B [K, N]. */
static void gemm(int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, const float *bias, float *C, int ldc)
{
    int parallel = !omp_in_parallel() && (long)M * N * K >= GEMM_PARALLEL_MIN;
#pragma omp parallel if (parallel)
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        int m0 = 0, m1 = M, n0 = 0, n1 = N;
        if (M >= GEMM_SPLIT_ROWS * nt) {
            m0 = (int)((long)M * id / nt);
            m1 = (int)((long)M * (id + 1) / nt);
        } else {
            long blocks = (N + 15) / 16;
            n0 = (int)(blocks * id / nt) * 16;
            n1 = (int)(blocks * (id + 1) / nt) * 16;
            n1 = n1 < N ? n1 : N;
        }
        if (m0 < m1 && n0 < n1) {
            const float *Bp = trans_b ? B + (size_t)n0 * ldb : B + n0;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m1 - m0,
                        n1 - n0, K, alpha, A + (size_t)m0 * lda, lda, Bp, ldb, 0.0f,
                        C + (size_t)m0 * ldc + n0, ldc);
            if (bias)
                for (int m = m0; m < m1; m++) {
                    float *row = C + (size_t)m * ldc;
#pragma omp simd
                    for (int n = n0; n < n1; n++)
                        row[n] += bias[n];
                }
        }
    }
}

/* ---------------------------------------------------------------------------
 * Public entry points.
 */
void linear(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    linear_op op = {y, W, b, out};
    linear_many(&op, 1, x, T, in);
}

void linear_many(const linear_op *ops, int n, const float *x, int T, int in)
{
    if (T <= LINEAR_SMALL_T)
        small_many(small_fma_by_T, ops, n, x, T, in);
    else /* y[T, out] = x[T, in] W[out, in]^T + b; sgemm is compute-bound, one product at a time */
        for (int i = 0; i < n; i++)
            gemm(1, T, ops[i].out, in, 1.0f, x, in, ops[i].W, in, ops[i].b, ops[i].y, ops[i].out);
}

void linear_small_portable(float *y, const float *x, const float *W, const float *b, int T, int in,
                           int out)
{
    linear_op op = {y, W, b, out};
    small_many(small_portable_by_T, &op, 1, x, T, in);
}

void linear_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    for (int t = 0; t < T; t++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0;
            for (int k = 0; k < in; k++)
                s += (double)x[(size_t)t * in + k] * W[(size_t)o * in + k];
            y[(size_t)t * out + o] = (float)s;
        }
}

void linear_mm_nt(int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                  float *C, int ldc)
{
    gemm(1, M, N, K, alpha, A, lda, B, ldb, NULL, C, ldc);
}

void linear_mm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                  int ldc)
{
    gemm(0, M, N, K, 1.0f, A, lda, B, ldb, NULL, C, ldc);
}
