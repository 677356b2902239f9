/* run.c — one job over R ranks, durable and resumable (run.h). */
#define _POSIX_C_SOURCE 200809L
#include "run/run.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/eval.h"
#include "bench/identity.h"
#include "contam/audit.h"
#include "dist/dsearch.h"
#include "run/jobspec.h"
#include "run/results.h"
#include "util/dirlock.h"
#include "util/mapfile.h"
#include "util/msgbuf.h"
#include "util/outfile.h"
#include "util/progress.h"

enum { Q_NEXT, Q_STOP, Q_ITEMS, Q_TOKENS }; /* dist_queue slots */

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    g_signal = sig;
}

static void catch_signals(struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old[0]);
    sigaction(SIGUSR1, &sa, &old[1]);
    sigaction(SIGINT, &sa, &old[2]);
}

static void restore_signals(const struct sigaction *old)
{
    sigaction(SIGTERM, &old[0], NULL);
    sigaction(SIGUSR1, &old[1], NULL);
    sigaction(SIGINT, &old[2], NULL);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Everything one rank holds for the run. */
typedef struct run_state {
    dist *d;
    const run_opts *o;
    job *j;
    eval_opts eo;
    char out[PATH_MAX];
    eval_session *s;
    size_t n, chunk, nchunks;
    uint8_t *done;       /* [nchunks] committed by earlier sessions */
    size_t *pending;      /* [npending] chunk indices still to do, ascending */
    size_t npending;
    double busy_s;       /* seconds scoring and committing */
    double work_s;       /* seconds in phase 2 (taking, scoring, committing chunks) */
    double work_comm_s;  /* of which in MPI calls, waiting included */
    size_t my_chunks, my_items;
    size_t combos;       /* combinations of the job (models x benchmarks) */
    size_t task;         /* the combination run */
    dirlock *lock;       /* rank 0: the output folder's writer lock */
    filehash_stats hs;   /* rank 0: what recording the inputs' identity hashed */
    double identity_s;   /* rank 0: seconds it took */
} run_state;

/* ---- phase 0 ---- */

static int load_job(run_state *r, mn_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = 0, rank = dist_rank(r->d);
    if (rank == 0)
        rc = file_read_all(r->o->job, &buf, &len, err);
    if ((rc = dist_agree(r->d, rc, err)) || (rc = dist_bcast_bytes(r->d, &buf, &len, err)))
        goto done;
    rc = job_load_memory(r->o->job, buf ? buf : "", len, rank == 0, &r->j, err);
    if ((rc = dist_agree(r->d, rc, err)))
        goto done;
    long t = r->o->task;
    const char *env = getenv("SLURM_ARRAY_TASK_ID");
    if (t < 0)
        t = env ? strtol(env, NULL, 10) : 0;
    size_t combos = r->combos = job_combos(r->j);
    if (t < 0 || (size_t)t >= combos)
        rc = mn_errf(err, MN_EUSAGE, "%s: task %ld: the job has %zu combinations (models x benchmarks): 0..%zu",
                     r->o->job, t, combos, combos - 1);
    else if (combos > 1 && r->o->task < 0 && !env)
        rc = mn_errf(err, MN_EUSAGE,
                     "%s: a sweep of %zu combinations: give --task T (or all) or run it as a Slurm array job",
                     r->o->job, combos);
    if (!rc)
        rc = job_eval_opts(r->j, (size_t)t, r->o->out, &r->eo, r->out, sizeof r->out, err);
    if (!rc) {
        r->eo.chunk = job_chunk(r->j); /* the unit of work and of commit */
        r->task = (size_t)t;
        if (r->o->threads > 0)
            r->eo.threads = r->o->threads;
    }
    rc = dist_agree(r->d, rc, err);
done:
    free(buf);
    return rc;
}

/* Rank 0 makes the output folder and takes its writer lock, held to the
 * end of the run: a second run on the folder fails here, naming the first. */
static int lock_out(run_state *r, mn_err *err)
{
    int rc = 0;
    if (dist_rank(r->d) == 0 && !(rc = results_prepare(r->eo.out_dir, err)))
        if (!(rc = dirlock_take(r->eo.out_dir, ".mnemo.lock", "run", &r->lock, err)))
            rc = outfile_clean_dead(r->eo.out_dir, err); /* a killed writer's temporary files */
    return dist_agree(r->d, rc, err);
}

/* The item ids and content hashes of the session, as arrays. */
static void item_keys(const run_state *r, const char ***ids, const char ***hashes)
{
    *ids = xcalloc(r->n ? r->n : 1, sizeof **ids);
    *hashes = xcalloc(r->n ? r->n : 1, sizeof **hashes);
    for (size_t i = 0; i < r->n; i++) {
        (*ids)[i] = eval_session_item_id(r->s, i);
        (*hashes)[i] = eval_session_item_sha256(r->s, i);
    }
}

/* Every rank records the identity of the inputs it loaded (rank 0 first, so
 * that the others find its hashes in the caches); rank 0 checks that all
 * ranks read the same (node-local copies can differ). */
static int identify_inputs(run_state *r, mn_err *err)
{
    const json_t *id = NULL;
    int rank = dist_rank(r->d), rc = 0;
    double t0 = now_s();
    if (rank == 0)
        rc = eval_session_identity(r->s, r->eo.out_dir, &r->hs, &id, err);
    r->identity_s = now_s() - t0;
    if ((rc = dist_agree(r->d, rc, err)) || dist_size(r->d) == 1)
        return rc;
    if (rank != 0)
        rc = eval_session_identity(r->s, r->eo.out_dir, NULL, &id, err);
    if ((rc = dist_agree(r->d, rc, err)))
        return rc;
    char host[256] = "?", *text = json_dumps(id, JSON_COMPACT), **all = NULL;
    size_t *lens = NULL;
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    wbuf b = {0};
    wb_str(&b, host, strlen(host));
    wb_str(&b, text, strlen(text));
    free(text);
    rc = dist_gather_bytes(r->d, b.p, b.n, &all, &lens, err);
    free(b.p);
    for (int k = 1; !rc && rank == 0 && k < dist_size(r->d); k++) {
        rbuf rb = {all[k], lens[k], 0, 0};
        size_t hl, tl;
        const char *h = rb_str(&rb, &hl), *t = rb_str(&rb, &tl);
        json_t *other = rb.bad ? NULL : json_loadb(t, tl, 0, NULL);
        identity_change c;
        if (other && identity_diff(id, other, &c))
            rc = mn_errf(err, MN_EMISMATCH, "%s: rank %d (host %.*s) reads other inputs than rank 0: %s %s %s (rank 0) vs "
                         "%s (rank %d: %s); give every node the same files", r->eo.out_dir, k, (int)hl, h, c.what,
                         c.field, c.old, c.now, k, c.where);
        else if (!other)
            rc = mn_errf(err, MN_EFORMAT, "%s: rank %d: unreadable identity message", r->eo.out_dir, k);
        json_decref(other);
    }
    for (int k = 0; all && k < dist_size(r->d); k++)
        free(all[k]);
    free(all);
    free(lens);
    return dist_agree(r->d, rc, err);
}

/* "DIR: the inputs changed since the committed records were made: model
 * weights sha256 3f2a… (DIR/identity.json) vs 9c1b… now (MODEL/...)". */
static void describe_change(const char *dir, const identity_change *c, char *out, size_t cap)
{
    if (c->field[0])
        snprintf(out, cap, "%s: the inputs changed since the committed records were made: %s %s %s (%s/%s) vs %s now (%s)",
                 dir, c->what, c->field, c->old, dir, IDENTITY_FILE, c->now, c->where);
    else
        snprintf(out, cap, "%s: the inputs changed since the committed records were made: %s %s (%s/%s), %s now (%s)",
                 dir, c->what, !strcmp(c->old, "none") ? "not used" : "used", dir, IDENTITY_FILE,
                 !strcmp(c->now, "none") ? "not used" : "used", c->where);
}

/* What the output folder holds against what this run would make. */
typedef struct binding {
    int job;              /* results_job_check: 0 the same job, 1 none yet, MN_EMISMATCH another */
    mn_err jerr;          /* the job's difference */
    json_t *old;          /* OUT/identity.json, NULL when absent or unreadable */
    mn_err ierr;          /* why it is unreadable (code 0: it is absent) */
    const json_t *now;    /* this run's identity (borrowed from the session) */
    results_scan_info info;
    int differs;          /* the identities differ (or there is no old one) */
    int bench_only;       /* ... in the benchmark alone: its chunks are checked one by one */
    size_t affected;      /* committed records that do not belong to this run */
    char why[MN_ERR_MSG_MAX + 64];
} binding;

/* Which committed records do not belong to this run, and why. */
static void judge(const char *dir, binding *b)
{
    identity_change ch;
    size_t committed = b->info.kept + b->info.invalid;
    b->differs = !b->old || identity_diff(b->old, b->now, &ch);
    b->bench_only = b->old && b->differs && identity_only_benchmark_differs(b->old, b->now);
    b->affected = committed;
    if (b->job == MN_EMISMATCH)
        snprintf(b->why, sizeof b->why, "%s", b->jerr.msg);
    else if (!b->old && b->ierr.code)
        snprintf(b->why, sizeof b->why, "%s: the committed records carry no readable input identity (%s)", dir,
                 b->ierr.msg);
    else if (!b->old)
        snprintf(b->why, sizeof b->why, "%s: the committed records carry no input identity (no %s/%s: made by an older "
                 "mnemo?)", dir, dir, IDENTITY_FILE);
    else if (b->differs)
        describe_change(dir, &ch, b->why, sizeof b->why);
    else
        b->affected = 0;
    if (b->job != MN_EMISMATCH && b->bench_only)
        b->affected = b->info.invalid; /* the chunks whose items changed */
}

/* Rank 0: bind the output folder to the job and its inputs.  Committed
 * records made from other settings or inputs are refused, or with --force
 * set aside (an edited benchmark: only the chunks whose items changed);
 * then job.json and identity.json describe what the folder's records come
 * from. */
static int bind_outputs(run_state *r, const char *session, mn_err *err)
{
    const char *dir = r->eo.out_dir, **ids, **hashes;
    json_t **recs = xcalloc(r->n ? r->n : 1, sizeof *recs);
    uint8_t *done = xcalloc(r->nchunks ? r->nchunks : 1, 1);
    char *canon = job_canonical(r->j, r->task), *where = NULL;
    binding b = {0};
    item_keys(r, &ids, &hashes);
    int rc = 0;
    if ((b.job = results_job_check(dir, canon, &b.jerr)) < 0 && b.job != MN_EMISMATCH) {
        *err = b.jerr;
        rc = b.job;
    }
    if (!rc && !(rc = eval_session_identity(r->s, dir, NULL, &b.now, err))) {
        int got = identity_read(dir, &b.old, &b.ierr);
        if (got < 0 && got != MN_EFORMAT) { /* a damaged one is no identity: refused below */
            *err = b.ierr;
            rc = got;
        }
    }
    if (!rc && !(rc = results_scan(dir, ids, hashes, r->n, r->chunk, recs, done, &b.info, err)))
        judge(dir, &b);
    if (!rc && b.affected && !r->o->force) {
        if (b.bench_only)
            rc = mn_errf(err, MN_EMISMATCH, "%s; rerun with --force to set aside the %zu committed records of the chunks "
                         "whose items changed and redo them (%zu others are kept), or use another --out", b.why,
                         b.affected, b.info.kept);
        else
            rc = mn_errf(err, MN_EMISMATCH, "%s; rerun with --force to discard the %zu committed records and start over, "
                         "or use another --out", b.why, b.affected);
    }
    /* the reason without its "DIR: " */
    size_t dl = strlen(dir);
    const char *reason = !strncmp(b.why, dir, dl) && !strncmp(b.why + dl, ": ", 2) ? b.why + dl + 2 : b.why;
    if (!rc && b.affected &&
        !(rc = results_set_aside(dir, session, recs, b.bench_only ? done : NULL, r->n, r->chunk, &where, err)))
        fprintf(stderr, "mnemo: run: --force: %s; %zu committed records set aside in %s, those items are redone\n",
                reason, b.affected, where);
    else if (!rc && b.bench_only && b.info.kept)
        fprintf(stderr, "mnemo: run: note: %s; none of the %zu committed records is affected\n", reason, b.info.kept);
    if (!rc && b.job != 0)
        rc = results_job_write(dir, canon, err);
    if (!rc && b.differs)
        rc = identity_write(dir, b.now, err);
    for (size_t i = 0; i < r->n; i++)
        json_decref(recs[i]);
    free(recs);
    free(done);
    free(ids);
    free(hashes);
    free(canon);
    free(where);
    json_decref(b.old);
    results_scan_info_free(&b.info);
    return rc;
}

/* Rank 0 reads the committed chunks (and warns once about each damaged
 * commit, whose chunk is redone); every rank gets the to-do list. */
static int find_pending(run_state *r, mn_err *err)
{
    char *done = NULL;
    size_t len = r->nchunks;
    int rc = 0;
    if (dist_rank(r->d) == 0) {
        const char **ids, **hashes;
        json_t **recs = xcalloc(r->n ? r->n : 1, sizeof *recs);
        results_scan_info info;
        item_keys(r, &ids, &hashes);
        done = xcalloc(len ? len : 1, 1);
        rc = results_scan(r->eo.out_dir, ids, hashes, r->n, r->chunk, recs, (uint8_t *)done, &info, err);
        for (size_t b = 0; !rc && b < info.nbad; b++)
            fprintf(stderr, "mnemo: run: warning: %s: a damaged commit, ignored; the chunk is redone\n", info.bad[b]);
        results_scan_info_free(&info);
        for (size_t i = 0; i < r->n; i++)
            json_decref(recs[i]);
        free(recs);
        free(ids);
        free(hashes);
    }
    if ((rc = dist_agree(r->d, rc, err)) || (rc = dist_bcast_bytes(r->d, &done, &len, err))) {
        free(done);
        return rc;
    }
    r->done = (uint8_t *)done;
    r->pending = xcalloc(r->nchunks ? r->nchunks : 1, sizeof *r->pending);
    for (size_t c = 0; c < r->nchunks; c++)
        if (!r->done || !r->done[c])
            r->pending[r->npending++] = c;
    return 0;
}

/* The folder's job, inputs and records (collective). */
static int check_outputs(run_state *r, const char *session, mn_err *err)
{
    r->n = eval_session_count(r->s);
    r->chunk = r->eo.chunk;
    r->nchunks = (r->n + r->chunk - 1) / r->chunk;
    int rc = identify_inputs(r, err);
    if (!rc)
        rc = dist_agree(r->d, dist_rank(r->d) == 0 ? bind_outputs(r, session, err) : 0, err);
    return rc ? rc : find_pending(r, err);
}

/* Items in the chunks still to do (the last chunk may be short). */
static size_t pending_items(const run_state *r)
{
    size_t total = 0;
    for (size_t t = 0; t < r->npending; t++) {
        size_t first = r->pending[t] * r->chunk;
        total += r->n - first < r->chunk ? r->n - first : r->chunk;
    }
    return total;
}

/* ---- phase 1 ---- */

static dsearch_opts search_opts_of(const eval_opts *eo)
{
    dsearch_opts o;
    memset(&o, 0, sizeof o);
    o.mode = eo->mode == EVAL_RETR_BM25 ? DSEARCH_BM25 : eo->mode == EVAL_RETR_DENSE ? DSEARCH_DENSE : DSEARCH_HYBRID;
    o.p = bm25_params_default();
    o.k = eval_retrieval_depth(eo); /* the session decontaminates, trims and reranks */
    o.depth = o.k > 100 ? o.k : 100;
    o.fusion = SEARCH_FUSION_RRF;
    o.alpha = 0.5;
    return o;
}

/* Rank 0's message of every searched item's passages: (item, n, then per
 * hit chunk id, score, text). */
static void pack_passages(wbuf *b, size_t item, const dsearch_result *res)
{
    wb_u64(b, item);
    wb_u64(b, res->n);
    for (size_t h = 0; h < res->n; h++) {
        wb_u64(b, res->hit[h].doc);
        wb_f64(b, res->hit[h].score);
        wb_str(b, res->hit[h].text, res->hit[h].len);
    }
}

static int unpack_passages(run_state *r, const char *msg, size_t len, mn_err *err)
{
    rbuf rb = {msg, len, 0, 0};
    while (!rb.bad && rb.off < rb.n) {
        uint64_t item = rb_u64(&rb), n = rb_u64(&rb);
        if (rb.bad || item >= r->n || n > 1u << 20)
            break;
        uint64_t *chunk = xcalloc(n ? n : 1, sizeof *chunk);
        double *score = xcalloc(n ? n : 1, sizeof *score);
        const char **text = xcalloc(n ? n : 1, sizeof *text);
        size_t *tl = xcalloc(n ? n : 1, sizeof *tl);
        for (uint64_t h = 0; h < n; h++) {
            chunk[h] = rb_u64(&rb);
            score[h] = rb_f64(&rb);
            text[h] = rb_str(&rb, &tl[h]);
        }
        if (!rb.bad)
            eval_session_set_passages(r->s, (size_t)item, (size_t)n, chunk, score, text, tl);
        free(chunk);
        free(score);
        free(text);
        free(tl);
    }
    return rb.bad || rb.off != rb.n ? mn_errf(err, MN_EFORMAT, "retrieval: truncated passage message") : 0;
}

static int retrieve(run_state *r, mn_err *err)
{
    if (!r->eo.db)
        return 0;
    search_db *db = NULL;
    int R = dist_size(r->d), rank = dist_rank(r->d);
    int rc = search_db_open_part(r->eo.db, (uint32_t)rank, (uint32_t)R, SEARCH_DB_NOLOCK, &db, err);
    const json_t *id = NULL;
    if (!rc && !(rc = eval_session_identity(r->s, r->eo.out_dir, NULL, &id, err))) {
        db_identity v; /* each rank checks what it opened against the recorded identity */
        search_db_identity(db, &v);
        rc = identity_db_check(id, r->eo.db, &v, err);
    }
    if (!rc && r->eo.mode != EVAL_RETR_BM25)
        rc = search_dense_attach(db, r->eo.embed_model, 0, err);
    if ((rc = dist_agree(r->d, rc, err))) {
        search_db_close(db);
        return rc;
    }
    dsearch_opts so = search_opts_of(&r->eo);
    wbuf msg = {0};
    progress bar;
    progress_init(&bar, "retrieval", (double)pending_items(r), 1, "items");
    size_t searched = 0;
    for (size_t t = 0; !rc && t < r->npending; t++)
        for (size_t i = r->pending[t] * r->chunk; !rc && i < r->n && i < (r->pending[t] + 1) * r->chunk; i++) {
            const char *q = eval_session_query(r->s, i);
            char where[96];
            snprintf(where, sizeof where, "item '%.60s'", eval_session_item_id(r->s, i));
            dsearch_result res;
            if (!(rc = dsearch_query(r->d, db, &so, q, strlen(q), where, &res, err)) && rank == 0)
                pack_passages(&msg, i, &res);
            dsearch_result_free(&res);
            if (rank == 0)
                progress_update(&bar, (double)++searched, NULL);
        }
    if (!rc && rank == 0)
        progress_finish(&bar, (double)searched, NULL);
    search_db_close(db);
    if (!rc && !(rc = dist_bcast_bytes(r->d, &msg.p, &msg.n, err)))
        rc = unpack_passages(r, msg.p, msg.n, err);
    free(msg.p);
    return dist_agree(r->d, rc, err);
}

/* ---- phase 2 ---- */

/* Tokens a record stands for: its prompt plus every sample's new tokens. */
static int64_t record_tokens(const json_t *rec)
{
    int64_t t = json_integer_value(json_object_get(rec, "prompt_tokens"));
    json_t *s, *samples = json_object_get(rec, "samples");
    size_t i;
    json_array_foreach(samples, i, s)
        t += json_integer_value(json_object_get(s, "tokens"));
    return t;
}

/* Test hook: MNEMO_RUN_KILL_AFTER=N (and MNEMO_RUN_KILL_RANK=R, default
 * any) makes the rank SIGKILL itself right after its N-th commit, so tests
 * can kill a chosen rank at a chosen point.  MNEMO_RUN_KILL_SIGNAL=TERM
 * sends SIGTERM instead (a clean stop after that chunk), STOP freezes the
 * process there (a live run holding its folder, until the test kills it). */
static void kill_hook(const run_state *r)
{
    const char *after = getenv("MNEMO_RUN_KILL_AFTER"), *rank = getenv("MNEMO_RUN_KILL_RANK");
    const char *sig = getenv("MNEMO_RUN_KILL_SIGNAL");
    if (after && *after && (size_t)atol(after) == r->my_chunks && (!rank || !*rank || atoi(rank) == dist_rank(r->d)))
        raise(!sig ? SIGKILL : !strcmp(sig, "TERM") ? SIGTERM : !strcmp(sig, "STOP") ? SIGSTOP : SIGKILL);
}

/* Score chunk c and commit it. */
static int do_chunk(run_state *r, results_writer *w, dist_queue *q, size_t c, mn_err *err)
{
    size_t first = c * r->chunk, m = r->n - first < r->chunk ? r->n - first : r->chunk;
    json_t **recs = xcalloc(m, sizeof *recs);
    double t0 = now_s();
    int rc = eval_session_score(r->s, first, m, recs, err);
    if (!rc)
        rc = results_writer_commit(w, c, recs, m, err);
    r->busy_s += now_s() - t0;
    int64_t tokens = 0, old;
    for (size_t j = 0; j < m; j++) {
        tokens += recs[j] ? record_tokens(recs[j]) : 0;
        json_decref(recs[j]);
    }
    free(recs);
    if (!rc) {
        r->my_chunks++;
        r->my_items += m;
        kill_hook(r);
        if (!(rc = dist_queue_add(q, Q_ITEMS, (int64_t)m, &old, err)))
            rc = dist_queue_add(q, Q_TOKENS, tokens, &old, err);
    }
    return rc;
}

static void report(run_state *r, dist_queue *q, progress *bar)
{
    int64_t items = 0, tokens = 0;
    mn_err e;
    if (dist_queue_add(q, Q_ITEMS, 0, &items, &e) || dist_queue_add(q, Q_TOKENS, 0, &tokens, &e))
        return;
    char note[80];
    double t = progress_elapsed(bar);
    snprintf(note, sizeof note, "%.0f tokens/s, %d ranks", t > 0 ? (double)tokens / t : 0.0, dist_size(r->d));
    progress_update(bar, (double)items, note);
}

/* Take chunks until none is left or the stop flag is up. *stopped: a
 * signal stopped the run (on any rank). */
static int work(run_state *r, const char *session, int *stopped, mn_err *err)
{
    results_writer *w = NULL;
    dist_queue *q = NULL;
    int rc = results_writer_open(r->eo.out_dir, session, dist_rank(r->d), &w, err);
    rc = dist_agree(r->d, rc, err);
    if (!rc)
        rc = dist_queue_create(r->d, &q, err);
    progress bar;
    progress_init(&bar, "run", (double)pending_items(r), 1, "items");
    if (dist_rank(r->d) != 0)
        bar.style = PROGRESS_OFF;
    int64_t next = 0, stop = 0;
    while (!rc) {
        if (g_signal && (rc = dist_queue_add(q, Q_STOP, 1, &stop, err)))
            break;
        if ((rc = dist_queue_add(q, Q_STOP, 0, &stop, err)) || stop)
            break;
        if ((rc = dist_queue_add(q, Q_NEXT, 1, &next, err)) || (size_t)next >= r->npending)
            break;
        rc = do_chunk(r, w, q, r->pending[next], err);
        report(r, q, &bar);
    }
    /* a failure on one rank must not leave the others waiting for chunks:
     * raise the flag, then agree on the outcome */
    int64_t old;
    if (rc && q)
        dist_queue_add(q, Q_STOP, 1, &old, NULL);
    rc = dist_agree(r->d, rc, err);
    if (!rc)
        rc = dist_barrier(r->d, err);
    if (!rc && q)
        rc = dist_queue_add(q, Q_STOP, 0, &stop, err);
    *stopped = stop != 0;
    if (!rc && !*stopped) {
        int64_t items = 0;
        dist_queue_add(q, Q_ITEMS, 0, &items, NULL);
        progress_finish(&bar, (double)items, NULL);
    }
    if (q)
        dist_queue_free(q, NULL);
    results_writer_close(w);
    return rc;
}

/* ---- phase 3 ---- */

static int write_stats(run_state *r, const char *session, double wall, mn_err *err)
{
    wbuf b = {0};
    char **all = NULL;
    size_t *lens = NULL;
    wb_u64(&b, r->my_chunks);
    wb_u64(&b, r->my_items);
    wb_f64(&b, r->busy_s);
    wb_f64(&b, dist_comm_seconds(r->d));
    wb_f64(&b, r->work_s);
    wb_f64(&b, r->work_comm_s);
    int rc = dist_gather_bytes(r->d, b.p, b.n, &all, &lens, err);
    free(b.p);
    if (rc || dist_rank(r->d) != 0)
        return rc;
    json_t *ranks = json_array();
    for (int k = 0; k < dist_size(r->d); k++) {
        rbuf rb = {all[k], lens[k], 0, 0};
        uint64_t ch = rb_u64(&rb), it = rb_u64(&rb);
        double busy = rb_f64(&rb), comm = rb_f64(&rb), work = rb_f64(&rb), wcomm = rb_f64(&rb);
        json_array_append_new(ranks, json_pack("{s:i, s:I, s:I, s:f, s:f, s:f, s:f}", "rank", k, "chunks",
                                               (json_int_t)ch, "items", (json_int_t)it, "work_s", work, "busy_s", busy,
                                               "work_comm_s", wcomm, "comm_s", comm));
        free(all[k]);
    }
    free(all);
    free(lens);
    json_t *id = json_pack("{s:f, s:I, s:I, s:I, s:I}", "seconds", r->identity_s, "hashed_files",
                           (json_int_t)r->hs.hashed_files, "hashed_bytes", (json_int_t)r->hs.hashed_bytes, "cached_files",
                           (json_int_t)r->hs.cached_files, "cached_bytes", (json_int_t)r->hs.cached_bytes);
    json_t *st = json_pack("{s:s, s:i, s:I, s:I, s:I, s:f, s:o, s:o}", "session", session, "ranks", dist_size(r->d),
                           "items", (json_int_t)r->n, "chunk", (json_int_t)r->chunk, "chunks_run",
                           (json_int_t)r->npending, "wall_s", wall, "identity", id, "per_rank", ranks);
    char path[PATH_MAX + 32], *text = json_dumps(st, JSON_INDENT(2));
    snprintf(path, sizeof path, "%s/run-stats.json", r->eo.out_dir);
    outfile of;
    if (!(rc = outfile_open(&of, path, err)) && !(rc = outfile_write(&of, text, strlen(text), err)))
        rc = outfile_commit(&of, err);
    else if (!rc)
        outfile_abort(&of);
    free(text);
    json_decref(st);
    return rc;
}

static int finish(run_state *r, mn_err *err)
{
    if (dist_rank(r->d) != 0)
        return 0;
    const char **ids, **hashes;
    json_t **recs = xcalloc(r->n ? r->n : 1, sizeof *recs);
    item_keys(r, &ids, &hashes);
    int rc = results_scan(r->eo.out_dir, ids, hashes, r->n, r->chunk, recs, NULL, NULL, err);
    for (size_t i = 0; !rc && i < r->n; i++)
        if (!recs[i])
            rc = mn_errf(err, MN_EFORMAT, "%s: item '%s' has no committed record after the run", r->eo.out_dir, ids[i]);
    if (!rc)
        rc = eval_session_write(r->s, recs, err);
    if (!rc)
        fprintf(stderr, "mnemo: run: %zu items, accuracy %.4f; results in %s\n", r->n, eval_session_accuracy(r->s),
                r->eo.out_dir);
    for (size_t i = 0; i < r->n; i++)
        json_decref(recs[i]);
    free(recs);
    free(ids);
    free(hashes);
    return rc;
}

/* The job's contamination phase: the benchmark against the retrieval DB,
 * into OUT/contam, joined with the run's items.jsonl (collective). */
static int contam_phase(run_state *r, mn_err *err)
{
    const job_contam_opts *jc = job_contam(r->j);
    char out[PATH_MAX + 16];
    contam_audit_opts co;
    contam_audit_opts_default(&co);
    snprintf(out, sizeof out, "%s/contam", r->eo.out_dir);
    co.bench = r->eo.bench;
    co.load = r->eo.load;
    co.db = r->eo.db;
    co.n = jc->n;
    co.threshold = jc->threshold;
    co.rule = jc->rule;
    co.retrieval_k = jc->retrieval_check;
    co.eval_dir = r->eo.out_dir;
    co.out = out;
    co.skip_bad = r->eo.load.on_error == BENCH_ON_ERROR_SKIP;
    size_t flagged = 0, items = 0;
    int rc = contam_audit_run(r->d, &co, &flagged, &items, err);
    if (!rc && dist_rank(r->d) == 0)
        fprintf(stderr, "mnemo: run: contamination: %zu of %zu items flagged; report in %s\n", flagged, items, out);
    return rc;
}

/* A session name unique to this run: time and rank 0's pid. */
static int make_session(dist *d, char **out, mn_err *err)
{
    char *s = NULL;
    size_t len = 0;
    if (dist_rank(d) == 0) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        s = xmalloc(64);
        len = (size_t)snprintf(s, 64, "%lld%03ld-%ld", (long long)t.tv_sec, t.tv_nsec / 1000000, (long)getpid()) + 1;
    }
    int rc = dist_bcast_bytes(d, &s, &len, err);
    *out = s;
    return rc;
}

/* One combination of the job (o->task); *combos gets the job's count. */
static int run_task(dist *d, const run_opts *o, int *interrupted, size_t *combos, mn_err *err)
{
    run_state r;
    memset(&r, 0, sizeof r);
    r.d = d;
    r.o = o;
    *interrupted = 0;
    struct sigaction old[3];
    catch_signals(old);
    g_signal = 0;
    double t0 = now_s();
    char *session = NULL;
    int stopped = 0;
    int rc = load_job(&r, err);
    if (!rc)
        rc = make_session(d, &session, err);
    if (!rc)
        rc = lock_out(&r, err);
    if (!rc)
        rc = dist_agree(d, eval_session_open(&r.eo, &r.s, err), err);
    if (!rc)
        rc = check_outputs(&r, session, err);
    if (!rc)
        rc = retrieve(&r, err);
    double tw = now_s(), cw = dist_comm_seconds(d);
    if (!rc)
        rc = work(&r, session, &stopped, err);
    r.work_s = now_s() - tw;
    r.work_comm_s = dist_comm_seconds(d) - cw;
    if (!rc && !stopped)
        rc = dist_agree(d, finish(&r, err), err);
    if (!rc && !stopped && job_contam(r.j)->enabled)
        rc = contam_phase(&r, err);
    if (!rc)
        rc = write_stats(&r, session, now_s() - t0, err);
    *interrupted = stopped;
    if (!rc && stopped && dist_rank(d) == 0)
        fprintf(stderr, "mnemo: run: stopped by a signal; committed chunks are kept, rerun the same command to resume\n");
    free(session);
    free(r.done);
    free(r.pending);
    eval_session_close(r.s);
    dirlock_release(r.lock);
    job_free(r.j);
    restore_signals(old);
    *combos = r.combos;
    return rc;
}

int run_job(dist *d, const run_opts *o, int *interrupted, mn_err *err)
{
    size_t combos = 0;
    if (o->task != RUN_TASK_ALL)
        return run_task(d, o, interrupted, &combos, err);
    run_opts one = *o;
    int rc = 0;
    *interrupted = 0;
    for (size_t t = 0; !rc && !*interrupted && (t == 0 || t < combos); t++) {
        one.task = (long)t;
        rc = run_task(d, &one, interrupted, &combos, err);
    }
    return rc;
}
