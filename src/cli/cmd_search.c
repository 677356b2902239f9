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
 * Under `mpirun -np R mnemo search ...` rank r searches the shards s with
 * s mod R == r and rank 0 prints exactly what one process would print
 * (see "Distributed search" below; --rerank runs on rank 0).
 *
 *   mnemo stats --db DIR [--deep]
 * prints DIR/manifest.json after verifying it against every shard's
 * committed counters (search_db_open's check: an ingest interrupted after
 * the last manifest, or never finished, is an error; one still running,
 * DIR/ingest.lock held, says so).  --deep reads every record
 * (retrieval/dbcheck.h) and prints the manifest with a "deep" report added
 * ({"ok", "problems", "digest", "chunks", "content_hash", "shards": [per
 * shard counts], "problem_list": [{"shard", "table", "key", "reason"}]}),
 * one stderr line per problem (the first 50), and exits 1 when anything is
 * wrong.  The walk runs in a child process: a crash inside LMDB on a
 * damaged page becomes a message naming the shard and table. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "dist/dist.h"
#include "dist/dsearch.h"
#include "util/msgbuf.h"
#include "retrieval/dbcheck.h" /* db_check_run: stats --deep */
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
    {"nolock", 0, "open the shards with MDB_NOLOCK (shared or read-only file systems; nothing may write the DB meanwhile)"},
    {"help", 0, "show this help"},
};
#define SEARCH_NSPEC ((int)(sizeof search_spec / sizeof search_spec[0]))
#define SEARCH_SYNOPSIS                                                                                  \
    "--db DIR (--query TEXT | --queries FILE.jsonl) [--k K] [--mode bm25|dense|hybrid] [--k1 0.9 --b 0.4] " \
    "[--model MODEL_DIR] [--nprobe N] [--fusion rrf|score] [--alpha 0.5] [--depth N] " \
    "[--rerank MODEL_DIR [--rerank-depth N]] [--nolock]"


/* Distributed search (dist/dsearch.h): under `mpirun -np R` rank r opens
 * the shards s with s mod R == r; rank 0 reads the queries, broadcasts them
 * in one batch, and prints the merged hits of each query. */

/* Print the final hits of query qid as JSON lines. */
static int print_hits(json_t *qid, const dsearch_result *res, const char *where, mn_err *err)
{
    for (size_t i = 0; i < res->n; i++) {
        const dsearch_hit *h = &res->hit[i];
        json_t *o = json_pack("{s:O, s:I, s:I, s:f, s:s%}", "query_id", qid, "rank", (json_int_t)(i + 1),
                              "chunk_id", (json_int_t)h->doc, "score", h->score, "text", h->text, h->len);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(o);
        if (!s)
            return mn_errf(err, MN_ENOMEM, "%s: cannot format hit %zu", where, i + 1);
        puts(s);
        free(s);
    }
    return 0;
}

/* Search one query on every rank; rank 0 prints its hits.  qid is the
 * JSON query id (borrowed; used on rank 0). */
static int run_query(dist *d, search_db *db, const dsearch_opts *o, json_t *qid, const char *text, size_t len,
                     const char *where, mn_err *err)
{
    dsearch_result res;
    int rc = dsearch_query(d, db, o, text, len, where, &res, err);
    if (!rc && dist_rank(d) == 0)
        rc = print_hits(qid, &res, where, err);
    rc = dist_agree(d, rc, err);
    dsearch_result_free(&res);
    return rc;
}

/* Rank 0: the queries of --query or --queries as a batch message
 * (count, then per query: id as JSON, "where", text).  A bad line ends the
 * batch: its error goes to *qrc/qerr, returned after the queries before it
 * ran (as a line-by-line reader would). */
static void read_queries(const char *q, const char *path, wbuf *b, int *qrc, mn_err *qerr)
{
    wbuf body = {0};
    uint64_t count = 0;
    *qrc = 0;
    if (q) {
        wb_u64(&body, 1);
        wb_put(&body, "0", 1);
        wb_u64(&body, 7);
        wb_put(&body, "--query", 7);
        wb_u64(&body, strlen(q));
        wb_put(&body, q, strlen(q));
        count = 1;
    }
    FILE *f = q ? NULL : fopen(path, "r");
    if (!q && !f)
        *qrc = mn_errf(qerr, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL, where[4200];
    size_t cap = 0;
    ssize_t got;
    long line = 0;
    while (f && !*qrc && (got = getline(&buf, &cap, f)) >= 0) {
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
        char *ids = NULL;
        if (!j)
            *qrc = mn_errf(qerr, MN_EFORMAT, "%s: column %d: invalid JSON: %s", where, je.column, je.text);
        else if (!json_is_object(j) || !json_is_string(text) || !(json_is_string(id) || json_is_integer(id)))
            *qrc = mn_errf(qerr, MN_EFORMAT, "%s: expected {\"id\": string or integer, \"text\": string}", where);
        else if (!(ids = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT)))
            *qrc = mn_errf(qerr, MN_ENOMEM, "%s: cannot format the id", where);
        else {
            wb_u64(&body, strlen(ids));
            wb_put(&body, ids, strlen(ids));
            wb_u64(&body, strlen(where));
            wb_put(&body, where, strlen(where));
            wb_u64(&body, json_string_length(text));
            wb_put(&body, json_string_value(text), json_string_length(text));
            count++;
        }
        free(ids);
        json_decref(j);
    }
    free(buf);
    if (f && !*qrc && ferror(f))
        *qrc = mn_errf(qerr, MN_EIO, "%s: line %ld: read error", path, line + 1);
    if (f)
        fclose(f);
    wb_u64(b, count);
    wb_put(b, body.p, body.n);
    free(body.p);
}

/* Run the broadcast batch bat[0..n) on every rank. */
static int run_batch(dist *d, search_db *db, const dsearch_opts *o, const char *bat, size_t n, mn_err *err)
{
    rbuf r = {bat, n, 0, 0};
    uint64_t count = rb_u64(&r);
    int rc = 0;
    for (uint64_t i = 0; i < count && !rc; i++) {
        uint64_t il = rb_u64(&r);
        const char *id = rb_get(&r, (size_t)il);
        uint64_t wl = rb_u64(&r);
        const char *w = rb_get(&r, (size_t)wl);
        uint64_t tl = rb_u64(&r);
        const char *text = rb_get(&r, (size_t)tl);
        if (r.bad)
            return mn_errf(err, MN_EFORMAT, "query batch: truncated at query %llu", (unsigned long long)i + 1);
        char where[4200];
        snprintf(where, sizeof where, "%.*s", (int)wl, w);
        json_t *qid = json_loadb(id, (size_t)il, JSON_DECODE_ANY, NULL);
        if (!qid)
            return mn_errf(err, MN_EFORMAT, "%s: bad query id in the batch", where);
        char *t = xmalloc((size_t)tl + 1); /* NUL-terminated for the reranker */
        memcpy(t, text, (size_t)tl);
        t[tl] = 0;
        rc = run_query(d, db, o, qid, t, (size_t)tl, where, err);
        free(t);
        json_decref(qid);
    }
    return rc;
}

/* --mode and its companion flags into o; *model gets --model (dense/hybrid). */
static int parse_opts(const args *a, dsearch_opts *o, const char **model, long *nprobe, mn_err *err)
{
    const char *mode = args_get(a, "mode"), *fusion = args_get(a, "fusion");
    long k = 10, depth = 0, rdepth = 0;
    int rc;
    o->mode = DSEARCH_BM25;
    if (mode && !strcmp(mode, "dense"))
        o->mode = DSEARCH_DENSE;
    else if (mode && !strcmp(mode, "hybrid"))
        o->mode = DSEARCH_HYBRID;
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
    o->rerank = args_get(a, "rerank") != NULL;
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
    if (o->mode != DSEARCH_BM25 && !*model)
        return mn_errf(err, MN_EUSAGE, "--mode %s needs --model MODEL_DIR (the model the DB was embedded with)",
                       mode);
    if (o->mode == DSEARCH_BM25 && (*model || *nprobe))
        return mn_errf(err, MN_EUSAGE, "--model and --nprobe are for --mode dense or hybrid");
    if (o->mode != DSEARCH_HYBRID && (fusion || args_get(a, "alpha") || depth))
        return mn_errf(err, MN_EUSAGE, "--fusion, --alpha and --depth are for --mode hybrid");
    return 0;
}

static int search_main(dist *d, const args *a, mn_err *err)
{
    const char *dir, *q = args_get(a, "query"), *qf = args_get(a, "queries"), *model = NULL;
    dsearch_opts o;
    long nprobe;
    int rc, qrc = 0;
    mn_err qerr = {0};
    if ((rc = args_require(a, "db", &dir, err)) || (rc = parse_opts(a, &o, &model, &nprobe, err)))
        return rc;
    if (!q == !qf)
        return mn_errf(err, MN_EUSAGE, "give exactly one of --query and --queries");
    if (a->npos)
        return mn_errf(err, MN_EUSAGE, "argument '%s': unexpected", a->pos[0]);
    search_db *db = NULL;
    int rank = dist_rank(d);
    wbuf bat = {0};
    rc = search_db_open_part(dir, (uint32_t)rank, (uint32_t)dist_size(d), args_get(a, "nolock") ? SEARCH_DB_NOLOCK : 0,
                             &db, err);
    if (!rc && model)
        rc = search_dense_attach(db, model, (size_t)nprobe, err);
    const char *rerank_dir = args_get(a, "rerank");
    if (!rc && rerank_dir && rank == 0) /* reranking happens on rank 0 */
        rc = reranker_open(rerank_dir, NULL, &o.rr, err);
    if ((rc = dist_agree(d, rc, err)))
        goto done;
    if (rank == 0)
        read_queries(q, qf, &bat, &qrc, &qerr);
    if ((rc = dist_bcast_bytes(d, &bat.p, &bat.n, err)))
        goto done;
    rc = run_batch(d, db, &o, bat.p, bat.n, err);
    if (!rc && qrc) {
        rc = qrc;
        *err = qerr;
    }
done:
    if (o.rr)
        reranker_close(o.rr);
    free(bat.p);
    search_db_close(db);
    if (fflush(stdout) && !rc)
        rc = mn_errf(err, MN_EIO, "stdout: write failed");
    return rc;
}

int cmd_search(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    dist *d = NULL;
    int rc = dist_init(NULL, NULL, &d, &err);
    if (rc) {
        dist_finalize(d);
        return cli_fail(rc, err.msg);
    }
    int rank = dist_rank(d); /* only rank 0 prints */
    rc = args_parse(&a, search_spec, SEARCH_NSPEC, argc, argv, &err);
    if (rc) {
        if (rank == 0)
            args_usage("search", SEARCH_SYNOPSIS, search_spec, SEARCH_NSPEC);
        dist_finalize(d);
        return rank == 0 ? cli_fail(rc, err.msg) : 0; /* rank 0 reports it */
    }
    if (args_get(&a, "help")) {
        if (rank == 0)
            args_usage("search", SEARCH_SYNOPSIS, search_spec, SEARCH_NSPEC);
        args_free(&a);
        dist_finalize(d);
        return 0;
    }
    rc = search_main(d, &a, &err);
    if (rc == MN_EUSAGE && rank == 0)
        args_usage("search", SEARCH_SYNOPSIS, search_spec, SEARCH_NSPEC);
    args_free(&a);
    dist_finalize(d);
    /* every failure is agreed on (dist_agree) or the same on every rank,
     * and rank 0 reports it: the others exit 0, since a rank's non-zero
     * exit makes mpirun kill rank 0, possibly before it printed */
    if (rank != 0)
        return 0;
    return rc ? cli_fail(rc, err.msg) : 0;
}

static const arg_spec stats_spec[] = {
    {"db", 1, "DB directory"},
    {"deep", 0, "read every record and check it (content hash, lengths, postings, dedup); slower"},
    {"help", 0, "show this help"},
};
#define STATS_NSPEC ((int)(sizeof stats_spec / sizeof stats_spec[0]))

/* The deep report as JSON. */
static json_t *deep_json(const db_check *c)
{
    char h[33];
    uint64_t chunks = 0;
    json_t *shards = json_array(), *probs = json_array();
    for (uint32_t s = 0; s < c->nshards; s++) {
        const db_check_shard *r = &c->sh[s];
        chunks += r->chunks;
        manifest_hash_hex(r->hash_hi, r->hash_lo, h);
        json_array_append_new(shards, json_pack("{s:I, s:b, s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "shard",
                                                (json_int_t)s, "walked", r->walked, "chunks", (json_int_t)r->chunks,
                                                "indexed_chunks", (json_int_t)r->ndocs, "total_terms",
                                                (json_int_t)r->total_len, "content_hash", h, "doclen_entries",
                                                (json_int_t)r->doclens, "dedup_entries", (json_int_t)r->dedups,
                                                "terms", (json_int_t)r->terms, "segments", (json_int_t)r->segments,
                                                "postings", (json_int_t)r->postings));
    }
    for (size_t i = 0; i < c->nprob; i++) {
        const db_problem *p = &c->prob[i];
        json_array_append_new(probs, json_pack("{s:o, s:s, s:s, s:s}", "shard",
                                               p->shard < 0 ? json_null() : json_integer(p->shard), "table", p->table,
                                               "key", p->key, "reason", p->reason));
    }
    manifest_hash_hex(c->hash_hi, c->hash_lo, h);
    return json_pack("{s:b, s:I, s:s, s:I, s:s, s:o, s:o}", "ok", c->problems == 0, "problems",
                     (json_int_t)c->problems, "digest", c->digest, "chunks", (json_int_t)chunks, "content_hash", h,
                     "shards", shards, "problem_list", probs);
}

#define STATS_PROBLEM_LINES 50 /* problems printed on stderr; the JSON lists more */

/* One stderr line per problem (the first STATS_PROBLEM_LINES): where
 * (shard directory or manifest), table, key, reason. */
static void print_problems(const char *dir, const db_check *c)
{
    size_t shown = c->nprob < STATS_PROBLEM_LINES ? c->nprob : STATS_PROBLEM_LINES;
    for (size_t i = 0; i < shown; i++) {
        const db_problem *p = &c->prob[i];
        if (p->shard < 0)
            fprintf(stderr, "mnemo: %s\n", p->reason); /* names the manifest already */
        else
            fprintf(stderr, "mnemo: %s/shard-%03lld: %s: %s%s%s\n", dir, (long long)p->shard, p->table, p->key,
                    p->key[0] ? ": " : "", p->reason);
    }
    if (c->problems > shown)
        fprintf(stderr, "mnemo: %s: %llu more problems (the first %d are in the report's deep.problem_list)\n", dir,
                (unsigned long long)(c->problems - shown), DBCHECK_PROBLEMS_MAX);
}

/* Before each table: "SHARD TABLE\n" down the pipe to the parent. */
static void tell_parent(void *ctx, uint32_t shard, const char *table)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%u %s\n", shard, table);
    if (write(*(int *)ctx, line, (size_t)n) != n) { /* the parent only loses a name for its message */
    }
}

/* stats --deep: the manifest (as verified, else as found) with the deep
 * report added under "deep"; problems on stderr.  A failure of the quick
 * check counts as a problem when the walk finds nothing else; a live
 * ingest stops it (nothing to check yet). */
static int stats_deep(const char *dir, int fd, mn_err *err)
{
    mn_err open_err = {0};
    search_db *db = NULL;
    int open_rc = search_db_open(dir, &db, &open_err);
    if (open_rc == MN_EBUSY) {
        *err = open_err;
        return open_rc;
    }
    /* the verified manifest, then the handle closed: the walk opens every
     * shard itself, and LMDB cannot open one environment twice in a process */
    char *verified = db ? xstrdup(search_db_manifest(db)) : NULL;
    search_db_close(db);
    db_check c;
    int rc = db_check_run(dir, tell_parent, &fd, &c, err);
    if (rc) {
        db_check_free(&c);
        free(verified);
        return rc;
    }
    if (open_rc && !c.problems) {
        c.prob = xrealloc(c.prob, sizeof *c.prob);
        c.prob[0] = (db_problem){.shard = -1, .table = "manifest"};
        snprintf(c.prob[0].reason, sizeof c.prob[0].reason, "%s", open_err.msg);
        c.nprob = c.problems = 1;
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *root = verified ? json_loads(verified, 0, NULL) : json_load_file(path, 0, NULL);
    free(verified);
    if (!json_is_object(root)) {
        json_decref(root);
        root = json_object();
    }
    json_object_set_new(root, "deep", deep_json(&c));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(root);
    if (text) {
        puts(text);
        free(text);
    }
    print_problems(dir, &c);
    rc = !text ? mn_errf(err, MN_ENOMEM, "%s: cannot format the report", dir)
         : c.problems ? mn_errf(err, MN_EFORMAT, "%s: stats --deep found %llu problem%s", dir,
                                (unsigned long long)c.problems, c.problems == 1 ? "" : "s")
                      : 0;
    db_check_free(&c);
    return rc;
}

/* stats --deep in a child process: LMDB trusts its pages, so a damaged
 * page can crash the reader; the parent then names the shard and table
 * being read instead of dying with it.  Returns the exit status. */
static int stats_deep_isolated(const char *dir)
{
    int pfd[2];
    mn_err err = {0};
    fflush(stdout);
    fflush(stderr);
    if (pipe(pfd)) {
        mn_errf(&err, MN_EIO, "pipe: %s", strerror(errno));
        return cli_fail(err.code, err.msg);
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        int rc = stats_deep(dir, pfd[1], &err);
        if (fflush(stdout) && !rc)
            rc = mn_errf(&err, MN_EIO, "stdout: write failed");
        _exit(rc ? cli_fail(rc, err.msg) : 0);
    }
    close(pfd[1]);
    if (pid < 0) {
        close(pfd[0]);
        mn_errf(&err, MN_EIO, "fork: %s", strerror(errno));
        return cli_fail(err.code, err.msg);
    }
    /* the last "SHARD TABLE" line the child sent */
    char last[64] = "", cur[64];
    size_t n = 0;
    char ch;
    ssize_t got;
    while ((got = read(pfd[0], &ch, 1)) == 1 || (got < 0 && errno == EINTR)) {
        if (got != 1)
            continue;
        if (ch == '\n') {
            cur[n] = 0;
            memcpy(last, cur, n + 1);
            n = 0;
        } else if (n < sizeof cur - 1) {
            cur[n++] = ch;
        }
    }
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    unsigned shard = 0;
    char table[32] = "?";
    sscanf(last, "%u %31s", &shard, table);
    mn_errf(&err, MN_EFORMAT,
            "%s/shard-%03u: %s: reading the table crashed (signal %d; LMDB trusts its pages): the shard's pages "
            "are damaged; restore the shard from a copy or rebuild the DB",
            dir, shard, table, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return cli_fail(err.code, err.msg);
}

/* Every page of every shard through our own LMDB parser (about a second
 * per GB): the structure LMDB would follow blindly.  Records themselves
 * are --deep's. */
static int check_pages(const char *dir, const search_db *db, mn_err *err)
{
    char path[PATH_MAX + 32];
    int rc = 0;
    for (uint32_t s = 0; !rc && s < search_db_config(db)->nshards; s++) {
        db_shard_path(dir, s, path, sizeof path);
        rc = store_check(path, STORE_CHECK_FULL, err);
    }
    return rc;
}

int cmd_stats(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    const char *dir;
    search_db *db = NULL;
    int rc = args_parse(&a, stats_spec, STATS_NSPEC, argc, argv, &err);
    if (rc) {
        args_usage("stats", "--db DIR [--deep]", stats_spec, STATS_NSPEC);
        return cli_fail(rc, err.msg);
    }
    if (args_get(&a, "help")) {
        args_usage("stats", "--db DIR [--deep]", stats_spec, STATS_NSPEC);
        args_free(&a);
        return 0;
    }
    if (!(rc = args_require(&a, "db", &dir, &err)) && a.npos)
        rc = mn_errf(&err, MN_EUSAGE, "argument '%s': unexpected", a.pos[0]);
    if (!rc && args_get(&a, "deep")) {
        int status = stats_deep_isolated(dir);
        args_free(&a);
        return status;
    }
    if (!rc && !(rc = search_db_open(dir, &db, &err)) && !(rc = check_pages(dir, db, &err)))
        fputs(search_db_manifest(db), stdout);
    search_db_close(db);
    args_free(&a);
    if (fflush(stdout) && !rc)
        rc = mn_errf(&err, MN_EIO, "stdout: write failed");
    return rc ? cli_fail(rc, err.msg) : 0;
}
