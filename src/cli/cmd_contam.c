/* cmd_contam.c — `mnemo contam`: the contamination audit of a benchmark
 * against a retrieval DB or raw corpus files, on one process or under
 * `mpirun -np R` (contam/audit.h does the work).
 *
 *   mnemo contam --bench KIND:PATH (--db DIR | --corpus INPUT...) [--n 13]
 *                [--threshold 0.5] [--rule overlap|gpt3|palm|llama2-dirty|massiveds]
 *                [--retrieval-check K] [--eval DIR] [--on-error fail|skip] --out DIR
 *
 * Rank 0 holds DIR/.mnemo.lock (util/dirlock.h) while the audit writes DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "contam/audit.h"
#include "util/dirlock.h" /* dirlock_take: one writer per output folder */
#include "util/outfile.h" /* make_dirs, outfile_clean_dead */

static const arg_spec spec[] = {
    {"bench", 1, "KIND:PATH of the benchmark (mmlu, gpqa, math500, simpleqa, jsonl)"},
    {"db", 1, "retrieval DB to scan (each rank scans its shards)"},
    {"corpus", 0, "scan the positional INPUTs (files or archives) instead of a DB"},
    {"n", 1, "n-gram length, 8..50 (default 13)"},
    {"threshold", 1, "flag items whose n-gram overlap is >= this (default 0.5; --rule overlap)"},
    {"rule", 1, "overlap (default), gpt3, palm, llama2-dirty or massiveds, optionally @question|@answer|@any"},
    {"retrieval-check", 1, "also the top K BM25 chunks per item with longest common run and ROUGE-L (--db only)"},
    {"eval", 1, "an eval/run output directory: accuracy on the clean and contaminated items in the report"},
    {"on-error", 1, "fail (default) or skip unreadable inputs and malformed items (listed in the report)"},
    {"out", 1, "output directory: contamination.jsonl, skipped.jsonl, contam-summary.json, report.md, report.html"},
    {"help", 0, "show this help"},
};
#define NSPEC ((int)(sizeof spec / sizeof spec[0]))
#define SYNOPSIS "--bench KIND:PATH (--db DIR | --corpus INPUT...) [--n 13] [--threshold 0.5] --out DIR"

static int parse(const args *a, contam_audit_opts *o, mn_err *err)
{
    long v;
    int rc;
    const char *s;
    contam_audit_opts_default(o);
    if ((rc = args_require(a, "bench", &o->bench, err)) || (rc = args_require(a, "out", &o->out, err)))
        return rc;
    o->db = args_get(a, "db");
    o->eval_dir = args_get(a, "eval");
    if (args_get(a, "corpus")) {
        o->corpus = a->pos;
        o->ncorpus = (size_t)a->npos;
        if (!a->npos)
            return mn_errf(err, MN_EUSAGE, "--corpus: no INPUT files given");
    } else if (a->npos) {
        return mn_errf(err, MN_EUSAGE, "argument '%s': unexpected (inputs need --corpus)", a->pos[0]);
    }
    v = o->n;
    if ((rc = args_int(a, "n", 8, 50, &v, err)))
        return rc;
    o->n = (unsigned)v;
    v = 0;
    if ((rc = args_int(a, "retrieval-check", 0, 100, &v, err)))
        return rc;
    o->retrieval_k = (size_t)v;
    if ((rc = args_double(a, "threshold", 0, 1, &o->threshold, err)))
        return rc;
    if ((s = args_get(a, "rule")))
        o->rule = s;
    if ((s = args_get(a, "on-error"))) {
        if (!strcmp(s, "skip"))
            o->skip_bad = 1;
        else if (strcmp(s, "fail"))
            return mn_errf(err, MN_EUSAGE, "--on-error: '%s' is not fail or skip", s);
    }
    if (o->retrieval_k && !o->db)
        return mn_errf(err, MN_EUSAGE, "--retrieval-check needs --db");
    return 0;
}

int cmd_contam(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    dist *d = NULL;
    contam_audit_opts o;
    size_t flagged = 0, items = 0;
    int rc = dist_init(NULL, NULL, &d, &err);
    if (rc) {
        dist_finalize(d);
        return cli_fail(rc, err.msg);
    }
    int rank = dist_rank(d);
    rc = args_parse(&a, spec, NSPEC, argc, argv, &err);
    if (!rc && args_get(&a, "help")) {
        if (rank == 0)
            args_usage("contam", SYNOPSIS, spec, NSPEC);
        args_free(&a);
        dist_finalize(d);
        return 0;
    }
    if (!rc)
        rc = parse(&a, &o, &err);
    dirlock *lock = NULL; /* rank 0 holds the output folder's lock; the others learn a failure from dist_agree */
    if (!rc) { /* the arguments parse alike on every rank */
        if (rank == 0 && !(rc = make_dirs(o.out, &err)))
            if (!(rc = dirlock_take(o.out, ".mnemo.lock", "contam", &lock, &err)))
                rc = outfile_clean_dead(o.out, &err); /* a killed writer's temporary files */
        rc = dist_agree(d, rc, &err);
    }
    if (!rc)
        rc = contam_audit_run(d, &o, &flagged, &items, &err);
    if (!rc && rank == 0)
        fprintf(stderr, "mnemo: contam: %zu items, %zu flagged; results in %s\n", items, flagged, o.out);
    dirlock_release(lock);
    args_free(&a);
    dist_finalize(d);
    if (rank != 0) /* failures are agreed; rank 0 reports */
        return 0;
    return rc ? cli_fail(rc, err.msg) : 0;
}
