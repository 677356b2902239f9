/* bench_bm25.c — BM25 query latency inside one process, per query: what
 * `mnemo search --queries` does for each line minus the JSON printing
 * (analyze, fetch and merge postings, score, top-k, fetch each hit's chunk
 * text), timed with the monotonic clock around each query.
 *
 *   bench_bm25 DB_DIR QUERIES.jsonl [K 10] [K1 0.9] [B 0.4]
 *
 * QUERIES.jsonl lines are {"id": ..., "text": ...} as for mnemo search.
 * Every query is run once as a warm-up pass (pages of the mmap'd DB
 * faulted in, as in a long-lived search process), then timed once.  Prints
 * one JSON line: {"queries", "seconds", "qps", "p50_us", "p99_us",
 * "mean_hits", "maxrss_kb" (peak RSS), "rss_anon_kb" / "rss_file_kb" (RSS
 * at the end split into heap and mapped DB pages, which the kernel can
 * drop), "open_s"}.  Driven by bench/bench_bm25.sh.
 *
 * Non-goals: multi-threaded query throughput, the CLI's output cost (the
 * bench script times `mnemo search` as a whole for that). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "retrieval/search.h"

typedef struct query {
    char *text;
    size_t len;
} query;

/* Load the query texts of path into *out (malloc'd); returns the count or
 * -1 after printing why. */
static long load_queries(const char *path, query **out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_bm25: %s: cannot open\n", path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    long n = 0, ln = 0, room = 0;
    query *q = NULL;
    while (getline(&line, &cap, f) >= 0) {
        ln++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je), *t = json_object_get(j, "text");
        if (!json_is_string(t)) {
            fprintf(stderr, "bench_bm25: %s: line %ld: expected {\"id\": ..., \"text\": string}\n", path, ln);
            json_decref(j);
            free(line);
            fclose(f);
            for (long i = 0; i < n; i++)
                free(q[i].text);
            free(q);
            return -1;
        }
        if (n == room) {
            room = room ? 2 * room : 1024;
            q = realloc(q, (size_t)room * sizeof *q);
            if (!q) {
                fprintf(stderr, "bench_bm25: out of memory\n");
                exit(1);
            }
        }
        q[n].len = json_string_length(t);
        q[n].text = malloc(q[n].len + 1);
        if (!q[n].text) {
            fprintf(stderr, "bench_bm25: out of memory\n");
            exit(1);
        }
        memcpy(q[n].text, json_string_value(t), q[n].len + 1);
        n++;
        json_decref(j);
    }
    free(line);
    fclose(f);
    *out = q;
    return n;
}

/* Current value of a "Key:   N kB" line of /proc/self/status, or -1. */
static long proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* One query: search, then touch every hit's text as the CLI would. */
static int run_one(search_db *db, const bm25_params *p, const query *q, size_t k, size_t *nhits,
                   size_t *sink, mn_err *err)
{
    bm25_hit *hits;
    size_t n;
    int rc = search_bm25(db, p, q->text, q->len, k, &hits, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        store_chunk c;
        rc = search_db_chunk(db, hits[i].doc, &c, err);
        if (rc == 1)
            *sink += c.text_len ? (unsigned char)c.text[c.text_len - 1] : 0;
    }
    free(hits);
    *nhits = n;
    return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 6) {
        fprintf(stderr, "usage: bench_bm25 DB_DIR QUERIES.jsonl [K 10] [K1 0.9] [B 0.4]\n");
        return 2;
    }
    size_t k = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 10;
    bm25_params p = bm25_params_default();
    if (argc > 4)
        p.k1 = strtod(argv[4], NULL);
    if (argc > 5)
        p.b = strtod(argv[5], NULL);
    query *q = NULL;
    long nq = load_queries(argv[2], &q);
    if (nq <= 0) {
        if (nq == 0)
            fprintf(stderr, "bench_bm25: %s: no queries\n", argv[2]);
        return 1;
    }
    mn_err err = {0};
    search_db *db;
    double t0 = now_s();
    if (search_db_open(argv[1], &db, &err)) {
        fprintf(stderr, "bench_bm25: %s\n", err.msg);
        return 1;
    }
    double open_s = now_s() - t0;
    double *lat = malloc((size_t)nq * sizeof *lat);
    size_t sink = 0, total_hits = 0, nh;
    int rc = 0;
    if (!lat) {
        fprintf(stderr, "bench_bm25: out of memory\n");
        return 1;
    }
    for (long i = 0; i < nq && !rc; i++) /* warm-up */
        rc = run_one(db, &p, &q[i], k, &nh, &sink, &err);
    double start = now_s();
    for (long i = 0; i < nq && !rc; i++) {
        double s = now_s();
        rc = run_one(db, &p, &q[i], k, &nh, &sink, &err);
        lat[i] = now_s() - s;
        total_hits += nh;
    }
    double seconds = now_s() - start;
    if (rc) {
        fprintf(stderr, "bench_bm25: %s\n", err.msg);
    } else {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        qsort(lat, (size_t)nq, sizeof *lat, cmp_double);
        printf("{\"queries\": %ld, \"seconds\": %.4f, \"qps\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, "
               "\"mean_hits\": %.2f, \"maxrss_kb\": %ld, \"rss_anon_kb\": %ld, \"rss_file_kb\": %ld, "
               "\"open_s\": %.4f, \"sink\": %zu}\n",
               nq, seconds, (double)nq / seconds, 1e6 * lat[nq / 2], 1e6 * lat[(size_t)(0.99 * (double)nq)],
               (double)total_hits / (double)nq, ru.ru_maxrss, proc_status_kb("RssAnon"), proc_status_kb("RssFile"),
               open_s, sink % 10);
    }
    search_db_close(db);
    for (long i = 0; i < nq; i++)
        free(q[i].text);
    free(q);
    free(lat);
    return rc ? 1 : 0;
}
