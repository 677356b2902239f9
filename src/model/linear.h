/* linear.h — every matrix product of the engine, and the only file that calls
 * OpenBLAS.
 *
 * linear() is nn.Linear: y = x W^T + b, with W in Hugging Face's [out, in]
 * layout.  It picks the kernel by the number of rows T:
 *   - T <= LINEAR_SMALL_T (single-sequence and small batched decode): a
 *     weight-streaming kernel that reads each weight once and applies it to
 *     all T rows (bandwidth-bound; OpenBLAS sgemm with M = 1 runs at a tenth
 *     of sgemv's speed, and sgemv cannot share one pass over W among rows);
 *   - larger T (prefill): cblas_sgemm.
 * linear_many() runs several products of the same input (q/k/v, gate/up) as
 * one parallel loop: one OpenMP fork and barrier instead of one per product.
 * linear_mm_nt / linear_mm_nn are the two GEMM shapes attention needs (Q K^T
 * and P V over a strided slice of the KV cache).
 * linear_ref() is the plain-loop reference the tests compare against.
 * The weight-streaming kernel uses fused multiply-add instructions where the
 * target has them (AVX-512F or FMA; -DMNEMO_LINEAR_PORTABLE turns them off);
 * linear_small_portable() is its portable multiply-then-add version, always
 * compiled, so that tests check it on every machine.
 *
 * Threading: the OpenMP thread count of util/threads.h.  Large products are
 * split across OpenMP threads here, each calling a single-threaded OpenBLAS
 * (one thread pool only); called from inside a parallel region, they run on
 * the calling thread.
 * Dimension letters: T rows (tokens), in/out the layer's widths.
 */
#ifndef MNEMO_MODEL_LINEAR_H
#define MNEMO_MODEL_LINEAR_H

/* Row counts up to this use the weight-streaming kernel, larger use sgemm. */
#define LINEAR_SMALL_T 12

/* y[T, out] = x[T, in] · W[out, in]^T + b[out] (b may be NULL).
 * x, W, b are read, y is written; y must not alias x.  T, in, out >= 1. */
void linear(float *y, const float *x, const float *W, const float *b, int T, int in, int out);

/* One product of a linear_many() group: y[T, out] = x W[out, in]^T + b[out]
 * (b may be NULL).  W, b are read, y is written. */
typedef struct linear_op {
    float *y;       /* [T, out] */
    const float *W; /* [out, in] */
    const float *b; /* [out] or NULL */
    int out;        /* >= 1 */
} linear_op;

/* linear() for each of ops[0..n) with the same x[T, in]: the same results,
 * bit for bit, as n calls of linear(), but small-T products share one
 * parallel loop.  No y may alias x or another y.  n, T, in >= 1. */
void linear_many(const linear_op *ops, int n, const float *x, int T, int in);

/* linear() for T <= LINEAR_SMALL_T computed by the weight-streaming kernel
 * with a separate multiply and add (no fused multiply-add): the fallback
 * linear() uses where the target has no FMA, callable on every machine for
 * the tests.  Same arguments and threading as linear(). */
void linear_small_portable(float *y, const float *x, const float *W, const float *b, int T, int in,
                           int out);

/* The same computed with plain loops and double accumulators (reference). */
void linear_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out);

/* C[M, N] = alpha · A[M, K] · B[N, K]^T, row-major with leading dimensions
 * lda, ldb, ldc (elements).  Used for attention scores Q K^T. */
void linear_mm_nt(int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                  float *C, int ldc);

/* C[M, N] = A[M, K] · B[K, N], row-major with leading dimensions.  Used for
 * attention outputs P V. */
void linear_mm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                  int ldc);

#endif
