/* threads.c — one thread pool for the numeric code (see threads.h). */
#include "util/threads.h"

#include <cblas.h> /* openblas_set_num_threads */
#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

static int threads_current;

static int env_positive(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    long x = strtol(v, &end, 10);
    return (*end == 0 && x > 0 && x <= 4096) ? (int)x : 0;
}

int threads_default(void)
{
    int n = env_positive("OPENBLAS_NUM_THREADS");
    if (!n)
        n = env_positive("OMP_NUM_THREADS");
    if (!n) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 && c <= 4096 ? (int)c : 1;
    }
    return n;
}

int threads_set(int n)
{
    if (n <= 0)
        n = threads_default();
    openblas_set_num_threads(1); /* model/linear.c splits GEMMs across OpenMP threads */
    omp_set_num_threads(n);
    threads_current = n;
    return n;
}

int threads_get(void)
{
    return threads_current ? threads_current : threads_default();
}
