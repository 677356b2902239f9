/* cmd_search.c — `mnemo search` (BM25, dense or hybrid over a retrieval
 * DB) and `mnemo stats` (print a DB's manifest after checking it against
 * the shards).
 *
 *   mnemo search --db DIR (--query TEXT | --queries FILE.jsonl) [--k 10]
 *                [--mode bm25|dense|hybrid] [--k1 0.9] [--b 0.4]
 *                [--model MODEL_DIR] [--nprobe N]
 *                [--fusion rrf|score] [--alpha 0.5] [--depth N]
 *
 * writes one JSON line per hit, best first per query:
 *   {"query_id": ID, "rank": R, "chunk_id": C, "score": S, "text": T}
 * rank from 1; --queries lines are {"id": ID, "text": T} (ID a string or an
 * integer, echoed as is; blank lines are skipped); a single --query has
 * query_id 0.  Scores are printed with 17 significant digits.
 *
 * dense and hybrid need --model (the model the DB was embedded with by
 * `mnemo embed --db`, checked by config hash; its tokenizer.json embeds
 * the query).  --nprobe N > 0 searches each shard's IVF index (built by
 * `mnemo embed --db ... --ivf NLIST`), 0 or absent is exact.  hybrid fuses
 * the BM25 and dense top-depth lists (depth default max(k, 100)) by
 * reciprocal rank (--fusion rrf, the default, k = 60) or min-max
 * normalised scores (--fusion score: alpha x dense + (1 - alpha) x BM25).
 *
 * --rerank MODEL_DIR reranks the first stage's top --rerank-depth hits
 * (default max(k, 20)) with a Qwen3-Reranker-style causal LM
 * (retrieval/rerank.h) and prints the best k of them, scored by P("yes");
 * ties keep the first stage's order.
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
#include "retrieval/rerank.h" /* reranker_open, reranker_score */
#include "retrieval/search.h"

static const arg_spec search_spec[] = {
    {"db", 1, "DB directory"},
    {"query", 1, "one query text (query_id 0)"},
    {"queries", 1, "JSON lines {\"id\": ..., \"text\": ...}"},
    {"k", 1, "hits per query (default 10)"},
    {"mode", 1, "bm25 (default), dense or hybrid"},
    {"k1", 1, "BM25 k1 (default 0.9)"},
    {"b", 1, "BM25 b (default 0.4)"},
    {"model", 1, "dense/hybrid: the model the DB was embedded with (MODEL_DIR with tokenizer.json)"},
    {"nprobe", 1, "dense/hybrid: IVF lists probed per shard (0 or absent: exact search)"},
    {"fusion", 1, "hybrid: rrf (default) or score"},
    {"alpha", 1, "hybrid --fusion score: weight of the dense list (default 0.5)"},
    {"depth", 1, "hybrid: hits taken from each list (default max(k, 100))"},
    {"rerank", 1, "reranker model directory (Qwen3-Reranker style; needs its tokenizer.json)"},
    {"rerank-depth", 1, "first-stage hits to rerank (default max(k, 20))"},
    {"help", 0, "show this help"},
};
#define SEARCH_NSPEC ((int)(sizeof search_spec / sizeof search_spec[0]))
#define SEARCH_SYNOPSIS                                                                                  \
    "--db DIR (--query TEXT | --queries FILE.jsonl) [--k K] [--mode bm25|dense|hybrid] [--k1 0.9 --b 0.4] " \
    "[--model MODEL_DIR] [--nprobe N] [--fusion rrf|score] [--alpha 0.5] [--depth N] " \
    "[--rerank MODEL_DIR [--rerank-depth N]]"

typedef enum search_mode { MODE_BM25, MODE_DENSE, MODE_HYBRID } search_mode;

/* How every query of a run is searched. */
typedef struct search_opts {
    search_mode mode;
    bm25_params p;
    size_t k, depth;
    search_fusion fusion;
    double alpha;
    reranker *rr;       /* NULL: no reranking */
    size_t rerank_depth;
} search_opts;

/* The stored chunk of a hit (borrowed until search_db_close); a hit whose
 * chunk is missing means a damaged DB. */
static int hit_chunk(search_db *db, uint64_t id, store_chunk *c, const char *where, mn_err *err)
{
    int rc = search_db_chunk(db, id, c, err);
    if (rc == 0)
        return mn_errf(err, MN_EFORMAT, "%s: hit chunk %llu is not in the DB", where, (unsigned long long)id);
    return rc < 0 ? rc : 0;
}

/* A reranked hit: higher reranker score first, ties in first-stage order. */
typedef struct ranked {
    double score;
    size_t first_rank;
    uint64_t doc;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->first_rank > y->first_rank) - (x->first_rank < y->first_rank);
}

/* Rescore hits[0..n) with the reranker and keep the best k, reordered;
 * *n shrinks to at most k. */
static int rerank_hits(search_db *db, reranker *rr, const char *query, bm25_hit *hits, size_t *n, size_t k,
                       const char *where, mn_err *err)
{
    const char **texts = xcalloc(*n + 1, sizeof *texts);
    size_t *lens = xcalloc(*n + 1, sizeof *lens);
    double *scores = xcalloc(*n + 1, sizeof *scores);
    ranked *r = xcalloc(*n + 1, sizeof *r);
    int rc = 0;
    for (size_t i = 0; i < *n && !rc; i++) {
        store_chunk c;
        if ((rc = hit_chunk(db, hits[i].doc, &c, where, err)))
            break;
        texts[i] = c.text;
        lens[i] = c.text_len;
    }
    if (!rc && (rc = reranker_score(rr, query, texts, lens, (int)*n, scores, err)))
        mn_err_prefix(err, "%s: --rerank: ", where);
    if (!rc) {
        for (size_t i = 0; i < *n; i++)
            r[i] = (ranked){scores[i], i, hits[i].doc};
        qsort(r, *n, sizeof *r, cmp_ranked);
        if (*n > k)
            *n = k;
        for (size_t i = 0; i < *n; i++) {
            hits[i].doc = r[i].doc;
            hits[i].score = r[i].score;
        }
    }
    free(texts);
    free(lens);
    free(scores);
    free(r);
    return rc;
}

/* Search one query and print its hits; qid is the JSON query id (borrowed). */
static int run_query(search_db *db, const search_opts *o, json_t *qid, const char *text, size_t len,
                     const char *where, mn_err *err)
{
    bm25_hit *hits;
    size_t n, k = o->rr ? o->rerank_depth : o->k;
    int rc = o->mode == MODE_BM25    ? search_bm25(db, &o->p, text, len, k, &hits, &n, err)
             : o->mode == MODE_DENSE ? search_dense(db, text, len, k, &hits, &n, err)
                                     : search_hybrid(db, &o->p, text, len, k, o->depth, o->fusion, o->alpha,
                                                     &hits, &n, err);
    if (rc) {
        mn_err_prefix(err, "%s: ", where);
        return rc;
    }
    if (o->rr && (rc = rerank_hits(db, o->rr, text, hits, &n, o->k, where, err))) {
        free(hits);
        return rc;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        store_chunk c;
        if ((rc = hit_chunk(db, hits[i].doc, &c, where, err)))
            break;
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

static int run_queries_file(search_db *db, const search_opts *o, const char *path, mn_err *err)
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
            rc = run_query(db, o, id, json_string_value(text), json_string_length(text), where, err);
        json_decref(j);
    }
    free(buf);
    if (!rc && ferror(f))
        rc = mn_errf(err, MN_EIO, "%s: line %ld: read error", path, line + 1);
    fclose(f);
    return rc;
}

/* --mode and its companion flags into o; *model gets --model (dense/hybrid). */
static int parse_opts(const args *a, search_opts *o, const char **model, long *nprobe, mn_err *err)
{
    const char *mode = args_get(a, "mode"), *fusion = args_get(a, "fusion");
    long k = 10, depth = 0, rdepth = 0;
    int rc;
    o->mode = MODE_BM25;
    if (mode && !strcmp(mode, "dense"))
        o->mode = MODE_DENSE;
    else if (mode && !strcmp(mode, "hybrid"))
        o->mode = MODE_HYBRID;
    else if (mode && strcmp(mode, "bm25"))
        return mn_errf(err, MN_EUSAGE, "--mode: '%s' is not bm25, dense or hybrid", mode);
    o->p = bm25_params_default();
    o->fusion = SEARCH_FUSION_RRF;
    o->alpha = 0.5;
    *nprobe = 0;
    if ((rc = args_int(a, "k", 1, 1L << 20, &k, err)) || (rc = args_double(a, "k1", 0, 1e6, &o->p.k1, err)) ||
        (rc = args_double(a, "b", 0, 1, &o->p.b, err)) || (rc = args_int(a, "nprobe", 0, 1L << 24, nprobe, err)) ||
        (rc = args_double(a, "alpha", 0, 1, &o->alpha, err)) || (rc = args_int(a, "depth", 1, 1L << 20, &depth, err)) ||
        (rc = args_int(a, "rerank-depth", 1, 1L << 20, &rdepth, err)))
        return rc;
    if (rdepth && !args_get(a, "rerank"))
        return mn_errf(err, MN_EUSAGE, "--rerank-depth is for --rerank MODEL_DIR");
    o->rr = NULL;
    o->rerank_depth = rdepth ? (size_t)rdepth : (k > 20 ? (size_t)k : 20);
    if (o->rerank_depth < (size_t)k)
        return mn_errf(err, MN_EUSAGE, "--rerank-depth %zu is smaller than --k %ld", o->rerank_depth, k);
    if (fusion && !strcmp(fusion, "score"))
        o->fusion = SEARCH_FUSION_SCORE;
    else if (fusion && strcmp(fusion, "rrf"))
        return mn_errf(err, MN_EUSAGE, "--fusion: '%s' is not rrf or score", fusion);
    o->k = (size_t)k;
    o->depth = depth ? (size_t)depth : (k > 100 ? (size_t)k : 100);
    *model = args_get(a, "model");
    if (o->mode != MODE_BM25 && !*model)
        return mn_errf(err, MN_EUSAGE, "--mode %s needs --model MODEL_DIR (the model the DB was embedded with)",
                       mode);
    if (o->mode == MODE_BM25 && (*model || *nprobe))
        return mn_errf(err, MN_EUSAGE, "--model and --nprobe are for --mode dense or hybrid");
    if (o->mode != MODE_HYBRID && (fusion || args_get(a, "alpha") || depth))
        return mn_errf(err, MN_EUSAGE, "--fusion, --alpha and --depth are for --mode hybrid");
    return 0;
}

static int search_main(const args *a, mn_err *err)
{
    const char *dir, *q = args_get(a, "query"), *qf = args_get(a, "queries"), *model = NULL;
    search_opts o;
    long nprobe;
    int rc;
    if ((rc = args_require(a, "db", &dir, err)) || (rc = parse_opts(a, &o, &model, &nprobe, err)))
        return rc;
    if (!q == !qf)
        return mn_errf(err, MN_EUSAGE, "give exactly one of --query and --queries");
    if (a->npos)
        return mn_errf(err, MN_EUSAGE, "argument '%s': unexpected", a->pos[0]);
    search_db *db;
    if ((rc = search_db_open(dir, &db, err)))
        return rc;
    if (model)
        rc = search_dense_attach(db, model, (size_t)nprobe, err);
    const char *rerank_dir = args_get(a, "rerank");
    if (!rc && rerank_dir)
        rc = reranker_open(rerank_dir, NULL, &o.rr, err);
    if (!rc && q) {
        json_t *zero = json_integer(0);
        rc = run_query(db, &o, zero, q, strlen(q), "--query", err);
        json_decref(zero);
    } else if (!rc) {
        rc = run_queries_file(db, &o, qf, err);
    }
    if (o.rr)
        reranker_close(o.rr);
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
