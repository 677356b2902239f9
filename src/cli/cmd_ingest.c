/* cmd_ingest.c — `mnemo ingest`: build or extend a sharded retrieval DB
 * from corpus files and archives (see retrieval/ingest.h for the pipeline,
 * the resume rules and the layout).
 *
 *   mnemo ingest --db DIR [--shards S] [--tokenizer FILE]
 *                [--chunk-tokens 256] [--overlap 32]
 *                [--text-field text] [--id-field id] [--stem none|porter]
 *                [--stopwords none|en] [--on-error fail|skip] [--batch N]
 *                INPUT...
 *
 * Without --tokenizer, --chunk-tokens and --overlap count words.  Adding
 * inputs to an existing DB needs none of the chunking and analyzer flags:
 * those not given take the DB's recorded values (a DB built with
 * --tokenizer needs that tokenizer again, as the file itself is not kept);
 * a flag given with another value than the DB's is an error.  Progress
 * goes to stderr (util/progress.h): on a terminal a bar over the inputs'
 * bytes with MB/s and ETA, else a log line every 10 s (documents, chunks,
 * duplicates), and a final summary; skipped records (--on-error skip) are
 * printed as "mnemo: skipped: REASON".  Rerunning an interrupted
 * command resumes it; naming new inputs appends them. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "retrieval/chunker.h"
#include "retrieval/ingest.h"
#include "util/progress.h"

typedef struct log_state {
    progress bar;    /* input bytes consumed against the inputs' total size */
    int started;
} log_state;

static void log_progress(void *ctx, const ingest_progress *p)
{
    log_state *ls = ctx;
    char note[160];
    if (!ls->started) {
        progress_init(&ls->bar, "ingest", (double)p->in_total, 1e6, "MB");
        ls->started = 1;
    }
    snprintf(note, sizeof note, "input %zu/%zu, %llu docs, %llu chunks, %llu duplicates", p->input + 1, p->ninputs,
             (unsigned long long)p->docs, (unsigned long long)p->chunks, (unsigned long long)p->dups);
    progress_update(&ls->bar, (double)p->in_done, note);
}

static void log_skip(void *ctx, const mn_err *why)
{
    log_state *ls = ctx;
    if (ls->started)
        progress_line(&ls->bar, "mnemo: skipped: %s", why->msg);
    else
        fprintf(stderr, "mnemo: skipped: %s\n", why->msg);
}

static const arg_spec spec[] = {
    {"db", 1, "DB directory (created if missing)"},
    {"shards", 1, "number of shards of a new DB (default 1; an existing DB keeps its own: see mnemo reshard)"},
    {"tokenizer", 1, "tokenizer.json: chunk by tokens (default: by words)"},
    {"chunk-tokens", 1, "tokens (or words) per chunk (default 256, or the DB's)"},
    {"overlap", 1, "tokens (or words) shared by consecutive chunks (default 32, or the DB's)"},
    {"text-field", 1, "JSONL field holding the text (default text, or the DB's)"},
    {"id-field", 1, "JSONL field holding the document id (default id, or the DB's)"},
    {"stem", 1, "none|porter (default none, or the DB's)"},
    {"stopwords", 1, "none|en (default none, or the DB's)"},
    {"on-error", 1, "fail|skip a bad record (default fail)"},
    {"batch", 1, "documents per commit (default 10000; also every 32 MiB)"},
    {"help", 0, "show this help"},
};
#define NSPEC ((int)(sizeof spec / sizeof spec[0]))
#define SYNOPSIS "--db DIR [--shards S] [--tokenizer FILE] [--chunk-tokens N --overlap N] INPUT..."

/* The options whose flags were typed: the others take an existing DB's
 * recorded values (a new DB: the defaults). */
static unsigned given_flags(const args *a)
{
    static const struct { const char *flag; unsigned bit; } F[] = {
        {"tokenizer", INGEST_GIVEN_TOKENIZER},   {"chunk-tokens", INGEST_GIVEN_CHUNK_SIZE},
        {"overlap", INGEST_GIVEN_OVERLAP},       {"text-field", INGEST_GIVEN_TEXT_FIELD},
        {"id-field", INGEST_GIVEN_ID_FIELD},     {"stem", INGEST_GIVEN_STEM},
        {"stopwords", INGEST_GIVEN_STOP},
    };
    unsigned given = 0;
    for (size_t i = 0; i < sizeof F / sizeof F[0]; i++)
        if (args_get(a, F[i].flag))
            given |= F[i].bit;
    return given;
}

static int parse_opts(const args *a, ingest_opts *o, mn_err *err)
{
    long v;
    int rc;
    const char *s;
    ingest_opts_default(o);
    o->given = given_flags(a);
    v = 0;
    if ((rc = args_int(a, "shards", 1, 4096, &v, err)))
        return rc;
    o->shards = (uint32_t)v;
    v = CHUNK_SIZE_DEFAULT;
    if ((rc = args_int(a, "chunk-tokens", 1, 1L << 24, &v, err)))
        return rc;
    o->chunk_size = (size_t)v;
    v = CHUNK_OVERLAP_DEFAULT;
    if ((rc = args_int(a, "overlap", 0, 1L << 24, &v, err)))
        return rc;
    o->overlap = (size_t)v;
    /* with one of the two left to the DB, ingest checks the pair it gets */
    if ((o->given & INGEST_GIVEN_CHUNK_SIZE) && (o->given & INGEST_GIVEN_OVERLAP) && o->overlap >= o->chunk_size)
        return mn_errf(err, MN_EUSAGE, "--overlap %zu must be smaller than --chunk-tokens %zu", o->overlap,
                       o->chunk_size);
    v = INGEST_BATCH_DEFAULT;
    if ((rc = args_int(a, "batch", 1, 1L << 30, &v, err)))
        return rc;
    o->batch_docs = (size_t)v;
    o->tokenizer_path = args_get(a, "tokenizer");
    o->text_field = args_get(a, "text-field");
    o->id_field = args_get(a, "id-field");
    if ((s = args_get(a, "stem")) && (rc = analyzer_stem_parse(s, &o->analyzer.stem, err)))
        return rc;
    if ((s = args_get(a, "stopwords")) && (rc = analyzer_stop_parse(s, &o->analyzer.stop, err)))
        return rc;
    if ((s = args_get(a, "on-error"))) {
        if (!strcmp(s, "skip"))
            o->on_error = DOCSOURCE_SKIP;
        else if (strcmp(s, "fail"))
            return mn_errf(err, MN_EUSAGE, "--on-error: '%s' is not fail or skip", s);
    }
    if (a->npos == 0)
        return mn_errf(err, MN_EUSAGE, "no INPUT given");
    return 0;
}

int cmd_ingest(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    const char *dir;
    int rc = args_parse(&a, spec, NSPEC, argc, argv, &err);
    if (rc) {
        args_usage("ingest", SYNOPSIS, spec, NSPEC);
        return cli_fail(rc, err.msg);
    }
    if (args_get(&a, "help")) {
        args_usage("ingest", SYNOPSIS, spec, NSPEC);
        args_free(&a);
        return 0;
    }
    ingest_opts o;
    log_state ls = {0};
    if ((rc = args_require(&a, "db", &dir, &err)) || (rc = parse_opts(&a, &o, &err))) {
        args_usage("ingest", SYNOPSIS, spec, NSPEC);
        args_free(&a);
        return cli_fail(rc, err.msg);
    }
    o.progress = log_progress;
    o.on_skip = log_skip;
    o.ctx = &ls;
    ingest_progress res;
    rc = ingest_run(dir, &o, a.pos, (size_t)a.npos, &res, &err);
    if (ls.started)
        progress_finish(&ls.bar, (double)res.in_done, rc ? "stopped" : NULL);
    if (!rc)
        fprintf(stderr, "mnemo: ingest: done: %llu docs, %llu new chunks, %llu duplicates, %.1f MB in %.2f s\n",
                (unsigned long long)res.docs, (unsigned long long)res.chunks, (unsigned long long)res.dups,
                (double)res.bytes / 1e6, res.seconds);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}
