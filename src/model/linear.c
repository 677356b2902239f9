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
        /* the rows after the last full block, one at a time with the same     \
         * per-output operations (lanes, tree sum, tail): R differs with T, so   \
         * a scalar loop here would make an output's bits depend on T */         \
        for (; o < o1; o++) {                                                                       \
            v16 acc1[T];                                                                            \
            _Pragma("GCC unroll 16") for (int t = 0; t < (T); t++) acc1[t] = (v16){0};              \
            int k = 0;                                                                              \
            for (; k + 16 <= in; k += 16) {                                                         \
                v16 w = v16_load(W + (size_t)o * in + k);                                           \
                _Pragma("GCC unroll 16") for (int t = 0; t < (T); t++)                              \
                    acc1[t] = MADD(acc1[t], w, v16_load(x + (size_t)t * in + k));                   \
            }                                                                                       \
            for (int t = 0; t < (T); t++) {                                                         \
                float s = v16_sum(acc1[t]);                                                         \
                for (int kk = k; kk < in; kk++)                                                     \
                    s += W[(size_t)o * in + kk] * x[(size_t)t * in + kk];                           \
                y[(size_t)t * out + o] = s + (b ? b[o] : 0.0f);                                     \
            }                                                                                       \
        }                                                                                           \
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

/* Below this much work (multiply-adds) a product is not worth waking a
 * second thread. */
#define PARALLEL_MIN (1L << 16)
/* Output rows per small work item: threads take items dynamically, so a
 * thread that the OS descheduled does not hold the others up at the
 * barrier; 64 rows of W stay in L2 while every small row group streams by. */
#define SMALL_CHUNK 64

/* ---------------------------------------------------------------------------
 * Large pieces: sgemm on fixed tiles.  OpenBLAS's bits for an output depend
 * on the shape of the call that computes it (edge kernels for the last rows
 * or columns of a call, a separate small-matrix path below M*N*K = 10^6 on
 * AVX-512 builds, different blocking on the AVX2 kernels: measured with
 * OPENBLAS_CORETYPE=Haswell/Zen, where even splitting the columns of a call
 * at multiples of 64 changes results).  So every product of a piece is cut
 * into the same TILE_ROWS x TILE_COLS tiles, counted from the piece's first
 * row and the weight's first row, whatever the batch around the piece and
 * the number of threads, and each tile is its own sgemm call: the bits of an
 * output depend only on its piece.  Tiles are also the unit of parallel work
 * (OpenBLAS itself runs single-threaded: util/threads.c).  256 x 256 tiles
 * keep OpenBLAS's per-call packing small against the tile's work (measured
 * in bench/RESULTS.md).
 */
#define TILE_ROWS 256
#define TILE_COLS 256

static void gemm_tile(const linear_op *op, const float *x, int in, int row0, int m, int c0)
{
    int nc = op->out - c0 < TILE_COLS ? op->out - c0 : TILE_COLS;
    float *y = op->y + (size_t)row0 * op->out + c0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nc, in, 1.0f, x + (size_t)row0 * in, in,
                op->W + (size_t)c0 * in, in, 0.0f, y, op->out);
    if (op->b)
        for (int r = 0; r < m; r++) {
            float *row = y + (size_t)r * op->out;
#pragma omp simd
            for (int n = 0; n < nc; n++)
                row[n] += op->b[c0 + n];
        }
}

/* ---------------------------------------------------------------------------
 * Spans: the rows of x come in pieces (linear.h).  Small pieces are gathered
 * into groups of at most LINEAR_SMALL_T consecutive rows for the
 * weight-streaming kernel (its bits do not depend on the group), large ones
 * are tiled.  One parallel loop runs every work item of every product:
 *   small items: (product, SMALL_CHUNK rows of W), each over all groups;
 *   tile items:  (product, large piece, row tile, column tile).
 */
typedef struct plan {
    linear_span group[64]; /* small row groups; more go to extra passes */
    int ngroup;
    const linear_span *big[64];
    int nbig;
} plan;

static int tiles_of(const linear_span *sp, int out)
{
    return ((sp->n + TILE_ROWS - 1) / TILE_ROWS) * ((out + TILE_COLS - 1) / TILE_COLS);
}

static int small_items(int out)
{
    return (out + SMALL_CHUNK - 1) / SMALL_CHUNK;
}

static int items_of(const plan *p, const linear_op *op)
{
    int n = p->ngroup ? small_items(op->out) : 0;
    for (int s = 0; s < p->nbig; s++)
        n += tiles_of(p->big[s], op->out);
    return n;
}

/* Item `it` of product op: rows [o0, o1) of W over every small group, or
 * one tile of a large piece. */
static void run_item(const small_kernel_fn *by_T, const plan *p, const linear_op *op, const float *x, int in,
                     int it)
{
    if (p->ngroup) {
        if (it < small_items(op->out)) {
            int o0 = it * SMALL_CHUNK, o1 = o0 + SMALL_CHUNK < op->out ? o0 + SMALL_CHUNK : op->out;
            for (int g = 0; g < p->ngroup; g++) {
                const linear_span *gr = &p->group[g];
                by_T[gr->n](op->y + (size_t)gr->row0 * op->out, x + (size_t)gr->row0 * in, op->W, op->b, in,
                            op->out, o0, o1);
            }
            return;
        }
        it -= small_items(op->out);
    }
    for (int s = 0; s < p->nbig; s++) {
        int t = tiles_of(p->big[s], op->out);
        if (it < t) {
            int cols = (op->out + TILE_COLS - 1) / TILE_COLS, r0 = (it / cols) * TILE_ROWS;
            int m = p->big[s]->n - r0 < TILE_ROWS ? p->big[s]->n - r0 : TILE_ROWS;
            gemm_tile(op, x, in, p->big[s]->row0 + r0, m, (it % cols) * TILE_COLS);
            return;
        }
        it -= t;
    }
}

/* Run one plan over every product in one parallel loop. */
static void run_plan(const small_kernel_fn *by_T, const plan *p, const linear_op *ops, int n, const float *x,
                     int in)
{
    int items = 0;
    long work = 0, rows = 0;
    for (int g = 0; g < p->ngroup; g++)
        rows += p->group[g].n;
    for (int s = 0; s < p->nbig; s++)
        rows += p->big[s]->n;
    for (int i = 0; i < n; i++) {
        items += items_of(p, &ops[i]);
        work += rows * ops[i].out * in;
    }
#pragma omp parallel for schedule(dynamic, 1) if (work >= PARALLEL_MIN)
    for (int c = 0; c < items; c++) {
        int i = 0, first = 0; /* item c is item c - first of product i */
        while (c - first >= items_of(p, &ops[i]))
            first += items_of(p, &ops[i++]);
        run_item(by_T, p, &ops[i], x, in, c - first);
    }
}

/* Cut the spans into plans of at most 64 small groups and 64 large pieces
 * and run them: consecutive small spans merge into groups of up to
 * LINEAR_SMALL_T rows (a group's rows may come from several pieces). */
static void run_spans(const small_kernel_fn *by_T, const linear_op *ops, int n, const float *x, int in,
                      const linear_span *sp, int nsp)
{
    plan p = {.ngroup = 0, .nbig = 0};
    for (int s = 0; s < nsp; s++) {
        if (sp[s].n > LINEAR_SMALL_T) {
            if (p.nbig == 64) {
                run_plan(by_T, &p, ops, n, x, in);
                p.ngroup = p.nbig = 0;
            }
            p.big[p.nbig++] = &sp[s];
            continue;
        }
        for (int r = 0; r < sp[s].n;) {
            linear_span *last = p.ngroup ? &p.group[p.ngroup - 1] : NULL;
            int row = sp[s].row0 + r;
            if (last && last->row0 + last->n == row && last->n < LINEAR_SMALL_T) {
                int take = LINEAR_SMALL_T - last->n < sp[s].n - r ? LINEAR_SMALL_T - last->n : sp[s].n - r;
                last->n += take;
                r += take;
                continue;
            }
            if (p.ngroup == 64) {
                run_plan(by_T, &p, ops, n, x, in);
                p.ngroup = p.nbig = 0;
            }
            int take = LINEAR_SMALL_T < sp[s].n - r ? LINEAR_SMALL_T : sp[s].n - r;
            p.group[p.ngroup++] = (linear_span){row, take};
            r += take;
        }
    }
    if (p.ngroup || p.nbig)
        run_plan(by_T, &p, ops, n, x, in);
}

/* ---------------------------------------------------------------------------
 * Public entry points.
 */
void linear_spans(const linear_op *ops, int n, const float *x, int in, const linear_span *spans, int nspans)
{
    run_spans(small_fma_by_T, ops, n, x, in, spans, nspans);
}

void linear(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    linear_op op = {y, W, b, out};
    linear_many(&op, 1, x, T, in);
}

void linear_many(const linear_op *ops, int n, const float *x, int T, int in)
{
    linear_span all = {0, T};
    run_spans(small_fma_by_T, ops, n, x, in, &all, 1);
}

void linear_small_portable(float *y, const float *x, const float *W, const float *b, int T, int in,
                           int out)
{
    linear_op op = {y, W, b, out};
    linear_span all = {0, T};
    run_spans(small_portable_by_T, &op, 1, x, in, &all, 1);
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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, alpha, A, lda, B, ldb, 0.0f, C, ldc);
}

void linear_mm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                  int ldc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
}
