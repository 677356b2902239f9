/* bench_filehash.c — what recording a run's inputs costs (util/filehash.h):
 * SHA-256 of whole files the first time, and the cached lookup a rerun
 * pays instead.
 *
 *   bench_filehash FILE... [--repeat N]
 *
 * For each file: the cache beside it is removed, then the file is hashed
 * once uncached (the file is read once before, so the figure is the hash's
 * speed from the page cache, not the disk's), checked against a second
 * uncached hash, then looked up N times (default 20) through the cache.
 * Prints MB/s for the hash and min/median/max microseconds for the cached
 * lookup, on one line per file.  The hash's own reference check is
 * tests/util/test_filehash.c.
 *
 * Non-goals: cold-disk throughput (drop the page cache by hand for that). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "util/filehash.h"

static char *cache_beside(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t d = slash ? (size_t)(slash - path) : 1;
    char *p = malloc(d + sizeof FILEHASH_CACHE_NAME + 2);
    snprintf(p, d + sizeof FILEHASH_CACHE_NAME + 2, "%.*s/%s", (int)d, slash ? path : ".", FILEHASH_CACHE_NAME);
    return p;
}

static int bench_one(const char *path, int repeat)
{
    char a[65], b[65];
    mn_err err = {0};
    char *cache = cache_beside(path);
    filehash_stats st = {0};
    unlink(cache);
    if (filehash_sha256(&path, 1, 0, NULL, &a, NULL, &err)) { /* warm the page cache, no cache file */
        fprintf(stderr, "bench_filehash: %s\n", err.msg);
        free(cache);
        return 1;
    }
    double t0 = now_s();
    int rc = filehash_sha256(&path, 1, 1, NULL, &b, &st, &err);
    double hash_s = now_s() - t0;
    if (rc || strcmp(a, b)) {
        fprintf(stderr, "bench_filehash: %s: %s\n", path, rc ? err.msg : "two hashes differ");
        free(cache);
        return 1;
    }
    double *t = calloc((size_t)repeat, sizeof *t);
    filehash_stats cached = {0};
    for (int i = 0; i < repeat; i++) {
        t0 = now_s();
        filehash_sha256(&path, 1, 1, NULL, &b, &cached, &err);
        t[i] = now_s() - t0;
    }
    qsort(t, (size_t)repeat, sizeof *t, cmp_double);
    printf("%-60s %10.1f MB  hash %7.1f MB/s (%.3f s)  cached %s: min %.0f us, median %.0f us, max %.0f us\n", path,
           (double)st.hashed_bytes / 1e6, (double)st.hashed_bytes / 1e6 / hash_s, hash_s,
           cached.cached_files == (uint64_t)repeat && !strcmp(a, b) ? "hit" : "MISS", 1e6 * t[0],
           1e6 * t[repeat / 2], 1e6 * t[repeat - 1]);
    unlink(cache);
    free(t);
    free(cache);
    return 0;
}

int main(int argc, char **argv)
{
    int repeat = 20, rc = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeat")) {
            i++;
            continue;
        }
        rc |= bench_one(argv[i], repeat);
    }
    if (argc < 2)
        fprintf(stderr, "usage: bench_filehash FILE... [--repeat N]\n");
    return rc || argc < 2;
}
