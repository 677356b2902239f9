/* cmd_reshard.c — `mnemo reshard`: copy a finished retrieval DB into
 * another number of shards (see retrieval/reshard.h for the guarantees).
 *
 *   mnemo reshard --db DIR --shards S2 --out DIR2 [--batch N]
 *
 * DIR2 ends as what `mnemo ingest --shards S2` of DIR's inputs with DIR's
 * chunking flags would build (same chunk ids, manifest content_hash and
 * search results); DIR is only read.  Progress goes to stderr
 * (util/progress.h) over the source's chunks, then a summary line.
 * Rerunning an interrupted command resumes it; rerunning a finished one
 * says so and changes nothing. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "retrieval/reshard.h"
#include "util/progress.h"

typedef struct log_state {
    progress bar; /* source chunks copied (or found copied) against all of them */
    int started;
    double done;  /* the last report's */
} log_state;

static void log_progress(void *ctx, const ingest_progress *p)
{
    log_state *ls = ctx;
    char note[96];
    if (!ls->started) {
        progress_init(&ls->bar, "reshard", (double)p->in_total, 1, "chunks");
        ls->started = 1;
    }
    snprintf(note, sizeof note, "%llu commits", (unsigned long long)p->commits);
    ls->done = (double)p->in_done;
    progress_update(&ls->bar, ls->done, note);
}

static const arg_spec spec[] = {
    {"db", 1, "the DB to copy (finished: mnemo stats accepts it)"},
    {"shards", 1, "number of shards of the copy (1..4096)"},
    {"out", 1, "directory of the copy (new, or an interrupted reshard of the same DB to resume)"},
    {"batch", 1, "chunks per commit (default 100000; also every 32 MiB of text)"},
    {"help", 0, "show this help"},
};
#define NSPEC ((int)(sizeof spec / sizeof spec[0]))
#define SYNOPSIS "--db DIR --shards S2 --out DIR2"

static int parse(const args *a, const char **db, const char **out, reshard_opts *o, mn_err *err)
{
    long v = 0;
    int rc;
    memset(o, 0, sizeof *o);
    if ((rc = args_require(a, "db", db, err)) || (rc = args_require(a, "out", out, err)) ||
        (rc = args_require(a, "shards", &(const char *){NULL}, err)) ||
        (rc = args_int(a, "shards", 1, 4096, &v, err)))
        return rc;
    o->shards = (uint32_t)v;
    v = RESHARD_BATCH_DEFAULT;
    if ((rc = args_int(a, "batch", 1, 1L << 30, &v, err)))
        return rc;
    o->batch_chunks = (size_t)v;
    if (a->npos)
        return mn_errf(err, MN_EUSAGE, "argument '%s': unexpected", a->pos[0]);
    return 0;
}

/* A usage error in one line, pointing at --help. */
static int usage_fail(args *a, mn_err *err)
{
    args_free(a);
    mn_err_prefix(err, "reshard: ");
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, " (mnemo reshard --help: %s)", SYNOPSIS);
    return cli_fail(err->code, err->msg);
}

int cmd_reshard(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    const char *db = NULL, *out = NULL;
    reshard_opts o;
    log_state ls = {0};
    int rc = args_parse(&a, spec, NSPEC, argc, argv, &err);
    if (rc)
        return usage_fail(&a, &err);
    if (args_get(&a, "help")) {
        args_usage("reshard", SYNOPSIS, spec, NSPEC);
        args_free(&a);
        return 0;
    }
    if ((rc = parse(&a, &db, &out, &o, &err)))
        return usage_fail(&a, &err);
    o.progress = log_progress;
    o.ctx = &ls;
    reshard_result res;
    rc = reshard_run(db, out, &o, &res, &err);
    if (ls.started)
        progress_finish(&ls.bar, ls.done, rc ? "stopped" : NULL);
    if (!rc && res.already_done)
        fprintf(stderr, "mnemo: reshard: %s already holds the finished copy of %s; nothing to do\n", out, db);
    else if (!rc)
        fprintf(stderr, "mnemo: reshard: done: %llu chunks copied into %u shards (%llu commits) in %.2f s, content_hash %s\n",
                (unsigned long long)res.chunks, o.shards, (unsigned long long)res.commits, res.seconds,
                res.content_hash);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}
