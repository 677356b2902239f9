/* linear.h — every matrix product of the engine, and the only file that calls
 * OpenBLAS.
 *
 * linear() is nn.Linear: y = x W^T + b, with W in Hugging Face's [out, in]
 * layout.  The rows of x come in pieces (linear_spans(): the tokens of one
 * sequence in one forward chunk), and the kernel is chosen per piece:
 *   - pieces of <= LINEAR_SMALL_T rows (decode steps, short continuations):
 *     a weight-streaming kernel that reads each weight once and applies it
 *     to up to LINEAR_SMALL_T rows at a time, the rows of neighbouring small
 *     pieces together (bandwidth-bound; OpenBLAS sgemm with M = 1 runs at a
 *     tenth of sgemv's speed, and sgemv cannot share one pass over W among
 *     rows);
 *   - larger pieces (prefill): cblas_sgemm on fixed tiles of the piece.
 *
 * Batch invariance.  An output's bits depend only on its own row and its
 * piece, never on the other rows of the batch or on the thread count: the
 * streaming kernel does the same operations per output whatever the number
 * of rows it is given, and a large piece is always cut into the same sgemm
 * tiles (linear.c explains why OpenBLAS needs that).  So a sequence scored
 * in a batch gets exactly the numbers it gets alone, provided the engine
 * cuts it into the same pieces (forward.c cuts sequences at fixed offsets).
 *
 * linear_many() runs several products of the same input (q/k/v, gate/up) as
 * one parallel loop: one OpenMP fork and barrier instead of one per product.
 * linear_mm_nt / linear_mm_nn are the two GEMM shapes attention needs (Q K^T
 * and P V over a strided slice of the KV cache), one single-threaded call
 * each (attention runs them from its own parallel tasks).
 * linear_ref() is the plain-loop reference the tests compare against.
 * The weight-streaming kernel uses fused multiply-add instructions where the
 * target has them (AVX-512F or FMA; -DMNEMO_LINEAR_PORTABLE turns them off);
 * linear_small_portable() is its portable multiply-then-add version, always
 * compiled, so that tests check it on every machine.
 *
 * Threading: the OpenMP thread count of util/threads.h; OpenBLAS runs
 * single-threaded inside the work items (one thread pool only), which
 * threads_set() arranges: call it first (engine_create does), since an
 * OpenBLAS left multi-threaded splits tiles its own way.  Called
 * from inside a parallel region, a product runs on the calling thread.
 * Dimension letters: T rows (tokens), in/out the layer's widths.
 */
#ifndef MNEMO_MODEL_LINEAR_H
#define MNEMO_MODEL_LINEAR_H

/* Row counts up to this use the weight-streaming kernel, larger use sgemm. */
#define LINEAR_SMALL_T 12

/* y[T, out] = x[T, in] · W[out, in]^T + b[out] (b may be NULL), the T rows
 * being one piece.  x, W, b are read, y is written; y must not alias x.
 * T, in, out >= 1. */
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

/* Rows [row0, row0 + n) of x: one piece (n >= 1). */
typedef struct linear_span {
    int row0, n;
} linear_span;

/* linear_many() over rows cut into pieces: spans[0..nspans) in row order,
 * not overlapping (rows outside every span are left alone).  Each output
 * row gets the bits it would get as linear() of its own piece alone. */
void linear_spans(const linear_op *ops, int n, const float *x, int in, const linear_span *spans, int nspans);

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
