/* cmd_embed_db.c — `mnemo embed --db`: embed every chunk of every shard of
 * a retrieval DB (dense.h's files), and optionally build IVF indexes.
 *
 *   mnemo embed --db DIR --model MODEL_DIR [--pooling last|mean] [--batch 16]
 *               [--max-tokens N] [--threads N] [--ivf NLIST [--ivf-iters 10]
 *               [--ivf-seed 1]]
 *
 * Chunk texts are tokenized with MODEL_DIR/tokenizer.json (required), cut
 * to --max-tokens (default max_position_embeddings; the sidecar records the
 * limit and how many chunks were cut) and embedded --batch chunks per
 * forward pass (one KV slot each).  One embed per DB at a time (DIR/embed.lock).
 *
 * Resumable at two levels.  A shard whose sidecar is complete and matches
 * this run (model config hash, pooling, max tokens, the shard's chunk
 * counters) is skipped; a DB that grew since is embedded again.  Inside a
 * shard, the rows are made durable in blocks (every EMBED_BLOCK_ROWS rows
 * or EMBED_BLOCK_SECONDS, and at a stop) with a progress record (dense.h),
 * and a rerun of the same configuration (the same --batch included, so the
 * batches fall as before and the files come out byte for byte the same)
 * continues after the last durable block; another configuration, or a
 * shard that changed, starts that shard over.
 *
 * SIGTERM, SIGINT and SIGUSR1 stop it cleanly (util/stopsig.h): the batch
 * in hand is finished and made durable, and the verb exits 75 like
 * `mnemo run`.  Temporary files of dead processes (earlier versions wrote
 * embeddings.*.tmp.PID) are removed at the start.
 *
 * --ivf NLIST then builds DIR/shard-NNN/ivf.bin for every shard whose index
 * is missing or was built from other embeddings or with another nlist
 * (nlist is clamped to the shard's row count).  Progress lines (chunks/s,
 * ETA) go to stderr.
 *
 * Test hooks: MNEMO_EMBED_BLOCK_ROWS=N (rows per durable block),
 * MNEMO_EMBED_SIGNAL_AFTER=N with MNEMO_EMBED_SIGNAL=TERM|INT|KILL|STOP
 * (default TERM): raise that signal right after the N-th full batch this
 * process writes, before the block check (STOP lets a test send a real
 * signal from outside at that point, then SIGCONT); dense.h's
 * MNEMO_EMBED_KILL_AT. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "retrieval/dense.h"
#include "retrieval/ivf.h"
#include "retrieval/search.h"
#include "util/dirlock.h"  /* dirlock_take: one embed per DB */
#include "util/path.h"     /* path_join */
#include "util/progress.h"
#include "util/stopsig.h"  /* stopsig_catch, stopsig_caught, STOPSIG_EXIT */
#include "util/threads.h"
#include "util/tmpfiles.h" /* tmpfiles_remove_dead */

#define EMBED_BLOCK_ROWS 4096   /* rows per durable block (at most) */
#define EMBED_BLOCK_SECONDS 60  /* or this long since the last one */
#define EMBED_LOCK_FILE "embed.lock"

static const arg_spec embed_db_spec[] = {
    {"db", 1, "DB directory"},
    {"model", 1, "checkpoint directory (config.json, *.safetensors, tokenizer.json)"},
    {"pooling", 1, "last (default) or mean"},
    {"batch", 1, "chunks per forward pass (default 16)"},
    {"max-tokens", 1, "cut chunks to this many tokens (default max_position_embeddings)"},
    {"threads", 1, "threads for OpenBLAS and OpenMP (default: OPENBLAS_NUM_THREADS or all CPUs)"},
    {"ivf", 1, "also build an IVF index with NLIST lists per shard"},
    {"ivf-iters", 1, "k-means iterations (default 10)"},
    {"ivf-seed", 1, "k-means seed (default 1)"},
    {"help", 0, "show this help"},
};
#define EMBED_DB_NSPEC ((int)(sizeof embed_db_spec / sizeof embed_db_spec[0]))
#define EMBED_DB_SYNOPSIS                                                                                       \
    "--db DIR --model MODEL_DIR [--pooling last|mean] [--batch N] [--max-tokens N] [--threads N] [--ivf NLIST " \
    "[--ivf-iters N] [--ivf-seed N]]"

/* One run's fixed state. */
typedef struct embed_run {
    model *m;
    tokenizer *tok;
    engine *e;
    int e_len, batch;
    dense_meta want;     /* model hash, dir, pooling, max_tokens */
    uint64_t block_rows; /* rows per durable block */
    unsigned batches;    /* batches written by this process (for the test hook) */
    unsigned signal_after;
    int signal_no;
} embed_run;

/* One shard's pass: the writer and the counters over the rows it holds. */
typedef struct shard_pass {
    dense_writer *w;
    uint64_t done, truncated, empty; /* rows written, texts cut, empty texts */
    uint64_t since;                  /* rows since the last durable block */
    double synced_at;                /* when that block was made durable */
} shard_pass;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* The test hooks of the file comment, read once. */
static void read_test_hooks(embed_run *r)
{
    const char *rows = getenv("MNEMO_EMBED_BLOCK_ROWS"), *after = getenv("MNEMO_EMBED_SIGNAL_AFTER"),
               *sig = getenv("MNEMO_EMBED_SIGNAL");
    r->block_rows = EMBED_BLOCK_ROWS;
    if (rows && strtoull(rows, NULL, 10) > 0)
        r->block_rows = strtoull(rows, NULL, 10);
    r->signal_after = after ? (unsigned)strtoul(after, NULL, 10) : 0;
    r->signal_no = !sig || !strcmp(sig, "TERM") ? SIGTERM
                   : !strcmp(sig, "INT")       ? SIGINT
                   : !strcmp(sig, "STOP")      ? SIGSTOP
                                               : SIGKILL;
}

/* Grow the engine to B slots of >= len positions. */
static int ensure_engine(embed_run *r, int len, mn_err *err)
{
    if (r->e && len <= r->e_len)
        return 0;
    engine_free(r->e);
    r->e = NULL;
    r->e_len = 0;
    int rc = engine_create(r->m, 512, r->batch, len, &r->e, err);
    if (!rc)
        r->e_len = len;
    return rc;
}

/* Tokenize, embed and write the batch held in ids[0..nb). */
static int flush_batch(embed_run *r, int32_t **ids, int *n, uint64_t *cid, int nb, float *out, dense_writer *w,
                       mn_err *err)
{
    int maxn = 1;
    for (int b = 0; b < nb; b++)
        if (n[b] > maxn)
            maxn = n[b];
    int rc = ensure_engine(r, maxn, err);
    if (!rc)
        rc = dense_embed_batch(r->e, (const int32_t *const *)ids, n, nb, r->want.pooling, out, err);
    if (!rc)
        rc = dense_writer_add(w, out, cid, (size_t)nb, err);
    for (int b = 0; b < nb; b++) {
        free(ids[b]);
        ids[b] = NULL;
    }
    return rc;
}

/* After a full batch: the test hook, then a durable block when one is due
 * or a stop was asked for (*stopped then says so). */
static int after_batch(embed_run *r, shard_pass *p, int *stopped, mn_err *err)
{
    if (++r->batches == r->signal_after)
        raise(r->signal_no);
    *stopped = stopsig_caught() != 0;
    if (!*stopped && p->since < r->block_rows && now_s() - p->synced_at < EMBED_BLOCK_SECONDS)
        return 0;
    int rc = dense_writer_sync(p->w, p->truncated, p->empty, err);
    p->since = 0;
    p->synced_at = now_s();
    return rc;
}

/* Open shard s's writer: resume an earlier run's progress or start over
 * (saying which on stderr). */
static int shard_open(embed_run *r, const store_meta *sm, const char *path, uint32_t s, uint32_t S, shard_pass *p,
                      uint64_t *next, mn_err *err)
{
    dense_job job = {.want = r->want, .batch = (uint32_t)r->batch, .shard_hash = {sm->hash_lo, sm->hash_hi}};
    job.want.dim = (uint32_t)r->m->cfg.C;
    job.want.count = sm->chunks;
    job.want.next_local = sm->next_local;
    dense_resume res;
    int rc = dense_writer_open(path, &job, &p->w, &res, err);
    if (rc)
        return rc;
    if (res.why[0])
        fprintf(stderr, "mnemo embed: shard %u/%u: starting over (earlier progress not used: %s)\n", s + 1, S,
                res.why);
    if (res.rows)
        fprintf(stderr, "mnemo embed: shard %u/%u: resuming after row %llu of %llu (chunk id %llu)\n", s + 1, S,
                (unsigned long long)res.rows, (unsigned long long)sm->chunks, (unsigned long long)res.last_id);
    p->done = res.rows;
    p->truncated = res.truncated;
    p->empty = res.empty;
    p->synced_at = now_s();
    *next = res.rows ? (res.last_id & ((1ull << STORE_SHARD_BITS) - 1)) + 1 : 0;
    return 0;
}

/* Embed shard s of db into its embedding files, from where an earlier run
 * stopped.  Chunks are read through db's read transaction (one consistent
 * snapshot; the shard's LMDB environment must not be opened a second time
 * in this process).  *stopped: a signal stopped it after a durable block. */
static int embed_shard(embed_run *r, search_db *db, const char *path, uint32_t s, uint32_t S, int *stopped,
                       mn_err *err)
{
    const store_meta *sm = search_db_meta(db, s);
    shard_pass p = {0};
    uint64_t local = 0;
    int rc = shard_open(r, sm, path, s, S, &p, &local, err);
    if (rc)
        return rc;
    int B = r->batch, C = r->m->cfg.C, nb = 0;
    int32_t **ids = xcalloc((size_t)B, sizeof *ids);
    int *n = xcalloc((size_t)B, sizeof *n);
    uint64_t *cid = xcalloc((size_t)B, sizeof *cid), resumed = p.done;
    float *out = xmalloc((size_t)B * C * sizeof *out); /* [B, C] */
    double t0 = now_s();
    char label[48];
    snprintf(label, sizeof label, "embed shard %u/%u", s + 1, S);
    progress bar;
    progress_init(&bar, label, (double)(sm->chunks - resumed), 1, "chunks");
    for (; !rc && !*stopped && local < sm->next_local; local++) {
        uint64_t id = (uint64_t)s << STORE_SHARD_BITS | local;
        store_chunk c;
        int got = search_db_chunk(db, id, &c, err);
        if (got <= 0) {
            rc = got;
            continue;
        }
        size_t nt;
        if ((rc = tokenizer_encode(r->tok, c.text, c.text_len, 0, &ids[nb], &nt, err))) {
            mn_err_prefix(err, "%s: chunk %llu: ", path, (unsigned long long)id);
            break;
        }
        if (nt > r->want.max_tokens) {
            nt = r->want.max_tokens;
            p.truncated++;
        }
        p.empty += nt == 0;
        n[nb] = (int)nt;
        cid[nb++] = id;
        if (nb == B) {
            rc = flush_batch(r, ids, n, cid, nb, out, p.w, err);
            p.done += (uint64_t)nb;
            p.since += (uint64_t)nb;
            nb = 0;
            if (!rc)
                rc = after_batch(r, &p, stopped, err);
            if (!rc)
                progress_update(&bar, (double)(p.done - resumed), NULL);
        }
    }
    if (!rc && !*stopped && nb) {
        rc = flush_batch(r, ids, n, cid, nb, out, p.w, err);
        p.done += (uint64_t)nb;
        nb = 0;
    }
    if (!rc && !*stopped && p.done != sm->chunks)
        rc = mn_errf(err, MN_EFORMAT, "%s: found %llu chunks, the shard's counters say %llu", path,
                     (unsigned long long)p.done, (unsigned long long)sm->chunks);
    if (!rc && !*stopped) {
        rc = dense_writer_commit(p.w, p.truncated, p.empty, err);
        p.w = NULL;
    }
    progress_finish(&bar, (double)(p.done - resumed), rc || *stopped ? "stopped" : NULL);
    if (!rc && *stopped)
        fprintf(stderr,
                "mnemo embed: shard %u/%u: stopped after row %llu of %llu (durable; %llu embedded in this run)\n",
                s + 1, S, (unsigned long long)p.done, (unsigned long long)sm->chunks,
                (unsigned long long)(p.done - resumed));
    else if (!rc)
        fprintf(stderr,
                "mnemo embed: shard %u/%u: %llu chunks embedded in %.1fs (%llu in this run; %llu cut to %u tokens, "
                "%llu empty)\n",
                s + 1, S, (unsigned long long)p.done, now_s() - t0, (unsigned long long)(p.done - resumed),
                (unsigned long long)p.truncated, r->want.max_tokens, (unsigned long long)p.empty);
    for (int b = 0; b < nb; b++)
        free(ids[b]);
    dense_writer_close(p.w); /* after a stop or an error: the durable blocks stay for a resume */
    free(ids);
    free(n);
    free(cid);
    free(out);
    return rc;
}

/* Build shard_dir's IVF index unless a current one with this nlist exists. */
static int build_ivf(const char *shard_dir, uint32_t s, uint32_t S, const ivf_params *p, mn_err *err)
{
    dense_shard *d;
    int rc = dense_shard_open(shard_dir, &d, err);
    if (rc)
        return rc;
    const dense_meta *m = dense_shard_meta(d);
    char *path = path_join(shard_dir, IVF_FILE);
    uint32_t nlist = m->count < p->nlist ? (uint32_t)(m->count ? m->count : 1) : p->nlist;
    ivf *ix = NULL;
    mn_err ignore = {0};
    if (!ivf_open(path, &ix, &ignore) && ivf_source_hash(ix) == m->content_hash && ivf_nlist(ix) == nlist &&
        ivf_count(ix) == m->count) {
        fprintf(stderr, "mnemo embed: shard %u/%u: IVF index is current (%u lists)\n", s + 1, S, nlist);
        ivf_free(ix);
        dense_shard_close(d);
        free(path);
        return 0;
    }
    ivf_free(ix);
    ix = NULL;
    double t0 = now_s();
    rc = ivf_build(dense_shard_matrix(d), dense_shard_ids(d), m->count, m->dim, p, m->content_hash, &ix, err);
    if (rc) /* the shard the index is for */
        mn_err_prefix(err, "%s: ", shard_dir);
    if (!rc)
        rc = ivf_write(ix, path, err);
    if (!rc)
        fprintf(stderr, "mnemo embed: shard %u/%u: IVF index with %u lists over %llu rows in %.1fs\n", s + 1, S,
                ivf_nlist(ix), (unsigned long long)m->count, now_s() - t0);
    ivf_free(ix);
    dense_shard_close(d);
    free(path);
    return rc;
}

/* Is the shard's sidecar complete and made by this very configuration? */
static int shard_current(const char *path, const dense_meta *want, const store_meta *sm)
{
    dense_meta have;
    mn_err ignore = {0};
    if (dense_meta_read(path, &have, &ignore) != 1)
        return 0;
    dense_shard *d;
    if (dense_shard_open(path, &d, &ignore))
        return 0; /* files damaged or from another run: redo */
    dense_shard_close(d);
    return !strcmp(have.model_sha256, want->model_sha256) && have.pooling == want->pooling &&
           have.max_tokens == want->max_tokens && have.next_local == sm->next_local && have.count == sm->chunks;
}

/* DIR/shard-NNN in a fresh string (caller frees): sized so that it always
 * fits ("/shard-" and a uint32 are at most 17 bytes). */
static char *shard_dir_path(const char *dir, uint32_t s)
{
    size_t cap = strlen(dir) + 32;
    char *p = xmalloc(cap);
    db_shard_path(dir, s, p, cap);
    return p;
}

/* The model directory as an absolute path for the sidecar.  realpath()
 * allocates (a fixed buffer smaller than PATH_MAX could overflow: issue 12,
 * finding 9); a path that does not fit the sidecar's field is an error,
 * never cut. */
static int resolve_model_dir(const char *mdir, char out[DENSE_MODEL_DIR_MAX], mn_err *err)
{
    char *abs = realpath(mdir, NULL);
    if (!abs)
        return mn_errf(err, MN_EIO, "--model %s: cannot resolve the path: %s", mdir, strerror(errno));
    size_t len = strlen(abs);
    int rc = 0;
    if (len >= DENSE_MODEL_DIR_MAX)
        rc = mn_errf(err, MN_EUSAGE,
                     "--model %.200s...: the absolute path has %zu bytes, the embeddings sidecar keeps at most %d", abs,
                     len, DENSE_MODEL_DIR_MAX - 1);
    else
        memcpy(out, abs, len + 1);
    free(abs);
    return rc;
}

/* Remove what earlier runs left in shard s's directory (temporary files of
 * dead processes; with current, the part files and progress record of a
 * run killed during its commit), saying so. */
static int tidy_shard(const char *spath, int current, uint32_t s, uint32_t S, mn_err *err)
{
    static const char *const ivf_temp[] = {IVF_FILE};
    size_t a = 0, b = 0;
    int rc = dense_leftovers_remove(spath, current, &a, err);
    if (!rc)
        rc = tmpfiles_remove_dead(spath, ivf_temp, 1, &b, err);
    if (!rc && a + b)
        fprintf(stderr, "mnemo embed: shard %u/%u: removed %zu files left by an earlier run\n", s + 1, S, a + b);
    return rc;
}

/* Has a stop been asked for before the next piece of work?  (A signal
 * that comes after the last piece leaves nothing to resume: exit 0.) */
static int stop_before_next(int *stopped)
{
    return *stopped = *stopped || stopsig_caught() != 0;
}

/* Embed every shard that is not current, then build the IVF indexes;
 * *stopped when a signal stopped it with work left. */
static int embed_shards(embed_run *r, search_db *db, const char *dir, long nlist, long iters, long seed, int *stopped,
                        mn_err *err)
{
    uint32_t S = search_db_config(db)->nshards;
    int rc = 0;
    for (uint32_t s = 0; s < S && !rc && !stop_before_next(stopped); s++) {
        char *spath = shard_dir_path(dir, s);
        int current = shard_current(spath, &r->want, search_db_meta(db, s));
        rc = tidy_shard(spath, current, s, S, err);
        if (!rc && current)
            fprintf(stderr, "mnemo embed: shard %u/%u: embeddings are current, skipped\n", s + 1, S);
        else if (!rc)
            rc = embed_shard(r, db, spath, s, S, stopped, err);
        free(spath);
    }
    ivf_params p = {(uint32_t)nlist, (uint32_t)iters, (uint64_t)seed, 0};
    for (uint32_t s = 0; nlist && s < S && !rc && !stop_before_next(stopped); s++) {
        char *spath = shard_dir_path(dir, s);
        rc = build_ivf(spath, s, S, &p, err);
        free(spath);
    }
    return rc;
}

static int embed_db_main(const args *a, int *stopped, mn_err *err)
{
    const char *dir, *mdir, *pooling = args_get(a, "pooling");
    long threads = 0, batch = 16, max_tokens = 0, nlist = 0, iters = 10, seed = 1;
    embed_run r = {0};
    search_db *db = NULL;
    dirlock *lock = NULL;
    int rc;
    if ((rc = args_require(a, "db", &dir, err)) || (rc = args_require(a, "model", &mdir, err)) ||
        (rc = args_int(a, "threads", 1, 4096, &threads, err)) || (rc = args_int(a, "batch", 1, 4096, &batch, err)) ||
        (rc = args_int(a, "max-tokens", 1, INT_MAX, &max_tokens, err)) ||
        (rc = args_int(a, "ivf", 1, 1L << 24, &nlist, err)) || (rc = args_int(a, "ivf-iters", 1, 1000, &iters, err)) ||
        (rc = args_int(a, "ivf-seed", 0, LONG_MAX, &seed, err)))
        return rc;
    if (a->npos)
        return mn_errf(err, MN_EUSAGE, "argument '%s': unexpected", a->pos[0]);
    if ((args_get(a, "ivf-iters") || args_get(a, "ivf-seed")) && !nlist)
        return mn_errf(err, MN_EUSAGE, "--ivf-iters and --ivf-seed need --ivf NLIST");
    r.want.pooling = EMBED_POOL_LAST;
    if (pooling && !strcmp(pooling, "mean"))
        r.want.pooling = EMBED_POOL_MEAN;
    else if (pooling && strcmp(pooling, "last"))
        return mn_errf(err, MN_EUSAGE, "--pooling: '%s' is not 'last' or 'mean'", pooling);
    r.batch = (int)batch;
    read_test_hooks(&r);
    threads_set((int)threads);
    char *tpath = path_join(mdir, "tokenizer.json");
    if ((rc = search_db_open(dir, &db, err)) || (rc = dirlock_take(dir, EMBED_LOCK_FILE, "embed", &lock, err)) ||
        (rc = dense_model_hash(mdir, r.want.model_sha256, err)) ||
        (rc = resolve_model_dir(mdir, r.want.model_dir, err)) ||
        (rc = tokenizer_load(tpath, &r.tok, err)) || (rc = model_load(mdir, &r.m, err)))
        goto done;
    r.want.max_tokens = (uint32_t)r.m->cfg.max_pos;
    if (max_tokens && (uint32_t)max_tokens < r.want.max_tokens)
        r.want.max_tokens = (uint32_t)max_tokens;
    if (max_tokens > r.m->cfg.max_pos)
        fprintf(stderr, "mnemo embed: --max-tokens %ld exceeds max_position_embeddings %d: using %d\n", max_tokens,
                r.m->cfg.max_pos, r.m->cfg.max_pos);
    rc = embed_shards(&r, db, dir, nlist, iters, seed, stopped, err);
done:
    free(tpath);
    engine_free(r.e);
    model_free(r.m);
    tokenizer_free(r.tok);
    dirlock_release(lock);
    search_db_close(db);
    return rc;
}

int cmd_embed_db(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    int rc = args_parse(&a, embed_db_spec, EMBED_DB_NSPEC, argc, argv, &err);
    if (rc) {
        args_usage("embed", EMBED_DB_SYNOPSIS, embed_db_spec, EMBED_DB_NSPEC);
        return cli_fail(rc, err.msg);
    }
    if (args_get(&a, "help")) {
        args_usage("embed", EMBED_DB_SYNOPSIS, embed_db_spec, EMBED_DB_NSPEC);
        args_free(&a);
        return 0;
    }
    stopsig_saved saved;
    stopsig_catch(&saved);
    int stopped = 0;
    rc = embed_db_main(&a, &stopped, &err);
    stopsig_restore(&saved);
    if (rc == MN_EUSAGE)
        args_usage("embed", EMBED_DB_SYNOPSIS, embed_db_spec, EMBED_DB_NSPEC);
    args_free(&a);
    if (!rc && stopped) {
        fprintf(stderr,
                "mnemo: embed: stopped by a signal; durable blocks are kept, rerun the same command to resume\n");
        return STOPSIG_EXIT;
    }
    return rc ? cli_fail(rc, err.msg) : 0;
}
