/* cmd_search.c — `mnemo search` (BM25 over a retrieval DB) and `mnemo
 * stats` (print a DB's manifest after checking it against the shards).
 *
 *   mnemo search --db DIR (--query TEXT | --queries FILE.jsonl) [--k 10]
 *                [--mode bm25] [--k1 0.9] [--b 0.4]
 *
 * writes one JSON line per hit, best first per query:
 *   {"query_id": ID, "rank": R, "chunk_id": C, "score": S, "text": T}
 * rank from 1; --queries lines are {"id": ID, "text": T} (ID a string or an
 * integer, echoed as is; blank lines are skipped); a single --query has
 * query_id 0.  Scores are printed with 17 significant digits.
 *
 * Limitation of this build: --mode dense|hybrid and --rerank are
 * MN_EUNSUPPORTED ("not implemented in this build"); only BM25 exists.
 *
 *   mnemo stats --db DIR
 * prints DIR/manifest.json after verifying its chunk counts and content
 * hashes against every shard's committed counters (an ingest interrupted
 * after the last manifest, or never finished, is an error). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "retrieval/search.h"

static const arg_spec search_spec[] = {
    {"db", 1, "DB directory"},
    {"query", 1, "one query text (query_id 0)"},
    {"queries", 1, "JSON lines {\"id\": ..., \"text\": ...}"},
    {"k", 1, "hits per query (default 10)"},
    {"mode", 1, "bm25 (dense and hybrid: not implemented in this build)"},
    {"k1", 1, "BM25 k1 (default 0.9)"},
    {"b", 1, "BM25 b (default 0.4)"},
    {"rerank", 1, "reranker model directory (not implemented in this build)"},
    {"rerank-depth", 1, "hits to rerank (not implemented in this build)"},
    {"help", 0, "show this help"},
};
#define SEARCH_NSPEC ((int)(sizeof search_spec / sizeof search_spec[0]))
#define SEARCH_SYNOPSIS "--db DIR (--query TEXT | --queries FILE.jsonl) [--k K] [--k1 0.9 --b 0.4]"

/* Search one query and print its hits; qid is the JSON query id (borrowed). */
static int run_query(search_db *db, const bm25_params *p, json_t *qid, const char *text, size_t len, size_t k,
                     const char *where, mn_err *err)
{
    bm25_hit *hits;
    size_t n;
    int rc = search_bm25(db, p, text, len, k, &hits, &n, err);
    if (rc) {
        mn_err_prefix(err, "%s: ", where);
        return rc;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        store_chunk c;
        rc = search_db_chunk(db, hits[i].doc, &c, err);
        if (rc == 0)
            rc = mn_errf(err, MN_EFORMAT, "%s: hit chunk %llu is not in the DB", where,
                         (unsigned long long)hits[i].doc);
        if (rc < 0)
            break;
        rc = 0;
        json_t *o = json_pack("{s:O, s:I, s:I, s:f, s:s%}", "query_id", qid, "rank", (json_int_t)(i + 1),
                              "chunk_id", (json_int_t)hits[i].doc, "score", hits[i].score, "text", c.text,
                              c.text_len);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(o);
        if (!s) {
            rc = mn_errf(err, MN_ENOMEM, "%s: cannot format hit %zu", where, i + 1);
            break;
        }
        puts(s);
        free(s);
    }
    free(hits);
    return rc;
}

static int run_queries_file(search_db *db, const bm25_params *p, const char *path, size_t k, mn_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL, where[4200];
    size_t cap = 0;
    ssize_t got;
    long line = 0;
    int rc = 0;
    while (!rc && (got = getline(&buf, &cap, f)) >= 0) {
        line++;
        size_t len = (size_t)got;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
            len--;
        if (!len)
            continue;
        snprintf(where, sizeof where, "%s: line %ld", path, line);
        json_error_t je;
        json_t *j = json_loadb(buf, len, JSON_ALLOW_NUL, &je);
        json_t *id = json_object_get(j, "id"), *text = json_object_get(j, "text");
        if (!j)
            rc = mn_errf(err, MN_EFORMAT, "%s: column %d: invalid JSON: %s", where, je.column, je.text);
        else if (!json_is_object(j) || !json_is_string(text) || !(json_is_string(id) || json_is_integer(id)))
            rc = mn_errf(err, MN_EFORMAT, "%s: expected {\"id\": string or integer, \"text\": string}", where);
        else
            rc = run_query(db, p, id, json_string_value(text), json_string_length(text), k, where, err);
        json_decref(j);
    }
    free(buf);
    if (!rc && ferror(f))
        rc = mn_errf(err, MN_EIO, "%s: line %ld: read error", path, line + 1);
    fclose(f);
    return rc;
}

static int search_main(const args *a, mn_err *err)
{
    const char *dir, *mode = args_get(a, "mode"), *q = args_get(a, "query"), *qf = args_get(a, "queries");
    int rc;
    if ((rc = args_require(a, "db", &dir, err)))
        return rc;
    if (mode && (!strcmp(mode, "dense") || !strcmp(mode, "hybrid")))
        return mn_errf(err, MN_EUNSUPPORTED, "--mode %s: not implemented in this build (only bm25)", mode);
    if (mode && strcmp(mode, "bm25"))
        return mn_errf(err, MN_EUSAGE, "--mode: '%s' is not bm25, dense or hybrid", mode);
    if (args_get(a, "rerank") || args_get(a, "rerank-depth"))
        return mn_errf(err, MN_EUNSUPPORTED, "--rerank: not implemented in this build");
    if (!q == !qf)
        return mn_errf(err, MN_EUSAGE, "give exactly one of --query and --queries");
    if (a->npos)
        return mn_errf(err, MN_EUSAGE, "argument '%s': unexpected", a->pos[0]);
    long k = 10;
    bm25_params p = bm25_params_default();
    if ((rc = args_int(a, "k", 1, 1L << 20, &k, err)) || (rc = args_double(a, "k1", 0, 1e6, &p.k1, err)) ||
        (rc = args_double(a, "b", 0, 1, &p.b, err)))
        return rc;
    search_db *db;
    if ((rc = search_db_open(dir, &db, err)))
        return rc;
    if (q) {
        json_t *zero = json_integer(0);
        rc = run_query(db, &p, zero, q, strlen(q), (size_t)k, "--query", err);
        json_decref(zero);
    } else {
        rc = run_queries_file(db, &p, qf, (size_t)k, err);
    }
    search_db_close(db);
    if (fflush(stdout) && !rc)
        rc = mn_errf(err, MN_EIO, "stdout: write failed");
    return rc;
}

int cmd_search(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    int rc = args_parse(&a, search_spec, SEARCH_NSPEC, argc, argv, &err);
    if (rc) {
        args_usage("search", SEARCH_SYNOPSIS, search_spec, SEARCH_NSPEC);
        return cli_fail(rc, err.msg);
    }
    if (args_get(&a, "help")) {
        args_usage("search", SEARCH_SYNOPSIS, search_spec, SEARCH_NSPEC);
        args_free(&a);
        return 0;
    }
    rc = search_main(&a, &err);
    if (rc == MN_EUSAGE)
        args_usage("search", SEARCH_SYNOPSIS, search_spec, SEARCH_NSPEC);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}

static const arg_spec stats_spec[] = {
    {"db", 1, "DB directory"},
    {"help", 0, "show this help"},
};

int cmd_stats(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    const char *dir;
    search_db *db = NULL;
    char *text = NULL;
    int rc = args_parse(&a, stats_spec, 2, argc, argv, &err);
    if (rc) {
        args_usage("stats", "--db DIR", stats_spec, 2);
        return cli_fail(rc, err.msg);
    }
    if (args_get(&a, "help")) {
        args_usage("stats", "--db DIR", stats_spec, 2);
        args_free(&a);
        return 0;
    }
    if (!(rc = args_require(&a, "db", &dir, &err)) && a.npos)
        rc = mn_errf(&err, MN_EUSAGE, "argument '%s': unexpected", a.pos[0]);
    if (!rc && !(rc = search_db_open(dir, &db, &err))) {
        const db_config *cfg = search_db_config(db);
        store_meta *m = xmalloc(cfg->nshards * sizeof *m);
        for (uint32_t s = 0; s < cfg->nshards; s++)
            m[s] = *search_db_meta(db, s);
        rc = manifest_verify(dir, cfg, m, &text, &err);
        free(m);
    }
    if (!rc)
        fputs(text, stdout);
    free(text);
    search_db_close(db);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}
