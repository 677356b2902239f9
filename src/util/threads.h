/* threads.h — how many threads mnemo's numeric code uses, set in one place.
 *
 * All numeric parallelism runs on OpenMP's thread pool: the small-batch
 * matrix kernel, the GEMMs (split across OpenMP threads by model/linear.c,
 * each thread calling OpenBLAS), attention and element-wise loops.  OpenBLAS
 * itself is kept single-threaded: its pthreads pool and OpenMP's both spin
 * while waiting for work, and two spinning pools on two cores starve each
 * other (a 512-token prefill ran 4x slower on 2 threads than on 1).
 * threads_set() sets both.  Non-goals: pinning, NUMA placement.
 */
#ifndef MNEMO_UTIL_THREADS_H
#define MNEMO_UTIL_THREADS_H

/* The thread count to use when the user gave none: OPENBLAS_NUM_THREADS if
 * set to a positive integer, else OMP_NUM_THREADS, else the number of online
 * CPUs.  Always >= 1. */
int threads_default(void);

/* Use n OpenMP threads, and one OpenBLAS thread per caller (n <= 0:
 * threads_default()).  Returns n.  Call before the engine runs, from the
 * main thread. */
int threads_set(int n);

/* The count last set by threads_set() (threads_default() before any call). */
int threads_get(void);

#endif
