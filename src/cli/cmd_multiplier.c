/* cmd_multiplier.c — `mnemo multiplier`: the compute-multiplier study over
 * result directories (study/multiplier.h) and its report
 * (report/multiplier_report.h).
 *
 *   mnemo multiplier RESULT_DIR... --out DIR [--contam DIR] [--planted FILE]
 *                    [--bootstrap N] [--seed S] [--ceiling C] [--floor F]
 *                    [--title T] [--clean]
 *
 * --clean leaves out, from every result, the items the contamination audit
 * (--contam) flagged: the study of the clean items.
 *
 * Prints one line per augmented result on stdout (benchmark, configuration,
 * model, compute, accuracy, multiplier and its interval, note).  Holds
 * DIR/.mnemo.lock (util/dirlock.h) while it writes DIR. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "report/multiplier_report.h" /* mult_report_write */
#include "study/multiplier.h"         /* mult_study_run, mult_contam_load */
#include "util/dirlock.h"             /* dirlock_take: one writer per output folder */
#include "util/outfile.h"             /* make_dirs, outfile_clean_dead */

static const arg_spec spec[] = {
    {"out", 1, "output directory: multiplier.json, report.md, report.html"},
    {"contam", 1, "a `mnemo contam` output directory: contamination section (contam-summary.json, contamination.jsonl)"},
    {"planted", 1, "file of planted benchmark item ids, one per line ('#' comments): precision / recall (needs --contam)"},
    {"bootstrap", 1, "paired bootstrap resamples of the items, 0..100000 (default 1000; 0: no intervals)"},
    {"seed", 1, "bootstrap seed (default 1234)"},
    {"ceiling", 1, "sigmoid ceiling, (0, 1] (default 1)"},
    {"floor", 1, "sigmoid floor, [0, 1) (default: chance; 1/options for multiple choice, 0 free-form)"},
    {"title", 1, "report title (default \"Compute multipliers\")"},
    {"clean", 0, "leave out the items --contam flagged (a study of the clean items)"},
    {"help", 0, "show this help"},
};
#define NSPEC ((int)(sizeof spec / sizeof spec[0]))
#define SYNOPSIS "RESULT_DIR... --out DIR [--contam DIR [--planted FILE]] [--bootstrap 1000] [--seed 1234] " \
                 "[--ceiling 1] [--floor F] [--title T] [--clean]"

static int parse(const args *a, mult_opts *o, const char **out, mn_err *err)
{
    long v;
    int rc;
    mult_opts_default(o);
    if ((rc = args_require(a, "out", out, err)))
        return rc;
    if (!a->npos)
        return mn_errf(err, MN_EUSAGE, "no RESULT_DIR given");
    v = (long)o->resamples;
    if ((rc = args_int(a, "bootstrap", 0, 100000, &v, err)))
        return rc;
    o->resamples = (size_t)v;
    v = (long)o->seed;
    if ((rc = args_int(a, "seed", 0, 0x7fffffffL, &v, err)))
        return rc;
    o->seed = (uint64_t)v;
    if ((rc = args_double(a, "ceiling", 0, 1, &o->ceiling, err)))
        return rc;
    if (!(o->ceiling > 0))
        return mn_errf(err, MN_EUSAGE, "--ceiling: must be > 0");
    if ((rc = args_double(a, "floor", 0, 1, &o->floor, err)))
        return rc;
    if (isfinite(o->floor) && !(o->floor < o->ceiling))
        return mn_errf(err, MN_EUSAGE, "--floor: %g is not below the ceiling %g", o->floor, o->ceiling);
    if (args_get(a, "planted") && !args_get(a, "contam"))
        return mn_errf(err, MN_EUSAGE, "--planted needs --contam");
    if (args_get(a, "clean") && !args_get(a, "contam"))
        return mn_errf(err, MN_EUSAGE, "--clean needs --contam");
    return 0;
}

static void print_value(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else if (isinf(v))
        snprintf(buf, n, "inf");
    else
        snprintf(buf, n, "%.3g", v);
}

/* The short table on stdout. */
static void print_table(const mult_study *s)
{
    printf("%-24s %-24s %-28s %10s %8s %10s %23s  %s\n", "benchmark", "config", "model", "compute", "accuracy",
           "multiplier", "95% CI", "note");
    for (size_t i = 0; i < s->nentries; i++) {
        const mult_entry *e = &s->entries[i];
        char m[32], lo[32], hi[32], ci[80];
        print_value(m, sizeof m, e->multiplier);
        print_value(lo, sizeof lo, e->ci_low);
        print_value(hi, sizeof hi, e->ci_high);
        snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
        printf("%-24s %-24s %-28s %10.3g %8.3f %10s %23s  %s\n", s->bench[e->bench].benchmark, e->config, e->model,
               e->compute, e->accuracy, m, ci,
               e->beyond_ceiling ? "beyond ceiling"
               : e->below_floor  ? "below floor"
               : e->extrapolated ? "extrapolated"
                                 : "");
    }
}

int cmd_multiplier(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    mult_opts o;
    const char *out = NULL;
    mult_study *s = NULL;
    mult_contam c;
    int have_contam = 0;
    int rc = args_parse(&a, spec, NSPEC, argc, argv, &err);
    if (!rc && args_get(&a, "help")) {
        args_usage("multiplier", SYNOPSIS, spec, NSPEC);
        args_free(&a);
        return 0;
    }
    if (!rc)
        rc = parse(&a, &o, &out, &err);
    if (rc) {
        mn_err_prefix(&err, "multiplier: ");
        snprintf(err.msg + strlen(err.msg), sizeof err.msg - strlen(err.msg), " (mnemo multiplier --help)");
        args_free(&a);
        return cli_fail(rc, err.msg);
    }
    mult_report_opts ro = {.title = args_get(&a, "title"), .contam_dir = args_get(&a, "contam"),
                           .planted_path = args_get(&a, "planted")};
    if (ro.contam_dir && !(rc = mult_contam_load(ro.contam_dir, ro.planted_path, &c, &err))) {
        have_contam = 1;
        ro.contam = &c;
        if (args_get(&a, "clean")) {
            o.exclude = (const char *const *)c.flagged_ids;
            o.nexclude = c.flagged;
        }
    }
    dirlock *lock = NULL;
    if (!rc && !(rc = make_dirs(out, &err)))
        if (!(rc = dirlock_take(out, ".mnemo.lock", "multiplier", &lock, &err)))
            rc = outfile_clean_dead(out, &err); /* a killed writer's temporary files */
    if (!rc)
        rc = mult_study_run((const char *const *)a.pos, (size_t)a.npos, &o, &s, &err);
    if (!rc)
        rc = mult_report_write(out, s, &ro, &err);
    if (!rc) {
        print_table(s);
        fprintf(stderr, "mnemo: multiplier: %zu benchmark(s), %zu augmented result(s); report in %s\n", s->nbench,
                s->nentries, out);
    }
    dirlock_release(lock);
    if (have_contam)
        mult_contam_free(&c);
    mult_study_free(s);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}
