/* cmd_run.c — `mnemo run JOB`: an evaluation job from a job file, on one
 * process or under `mpirun -np R` / `srun` (run/run.h does the work).
 *
 *   mnemo run JOB.yaml [--out DIR] [--task T|all] [--force] [--threads N]
 *
 * Exit status: 0 done; 75 stopped by SIGTERM/SIGUSR1/SIGINT with every
 * finished chunk committed (rerun to resume; Slurm templates requeue on
 * it); 1 / 2 errors, reported once by rank 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "run/run.h"

static const arg_spec spec[] = {
    {"out", 1, "output directory (default: the job's out)"},
    {"task", 1, "combination of a sweep job, or 'all' for each in turn (default: SLURM_ARRAY_TASK_ID, or 0 for a single job)"},
    {"force", 0, "reuse a directory whose records came from another job spec or other inputs: they are set aside "
                 "in OUT/set-aside/ and redone"},
    {"threads", 1, "threads per rank (default: the job's, else cores / ranks on the node)"},
    {"help", 0, "show this help"},
};
#define NSPEC ((int)(sizeof spec / sizeof spec[0]))
#define SYNOPSIS "JOB.yaml [--out DIR] [--task T|all] [--force] [--threads N]"

/* Threads per rank when neither the flag nor the job sets them: Slurm's
 * CPUs per task, else the node's cores shared by its ranks. */
static int default_threads(void)
{
    const char *cpt = getenv("SLURM_CPUS_PER_TASK"), *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (cpt && atoi(cpt) > 0)
        return atoi(cpt);
    if (getenv("OMP_NUM_THREADS") || getenv("OPENBLAS_NUM_THREADS") || !local || atoi(local) < 1)
        return 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long t = cores / atoi(local);
    return t > 0 ? (int)t : 1;
}

static int parse(const args *a, run_opts *o, mn_err *err)
{
    long v = -1;
    memset(o, 0, sizeof *o);
    const char *task = args_get(a, "task");
    int rc = task && !strcmp(task, "all") ? 0 : args_int(a, "task", 0, 1L << 30, &v, err);
    o->task = task && !strcmp(task, "all") ? RUN_TASK_ALL : v;
    if (rc)
        return rc;
    v = 0;
    if ((rc = args_int(a, "threads", 0, 4096, &v, err)))
        return rc;
    o->threads = v ? (int)v : default_threads();
    o->out = args_get(a, "out");
    o->force = args_get(a, "force") != NULL;
    if (a->npos == 0)
        return mn_errf(err, MN_EUSAGE, "run: no JOB file given (mnemo run --help)");
    if (a->npos > 1)
        return mn_errf(err, MN_EUSAGE, "run: one JOB file, got %d arguments (mnemo run --help)", a->npos);
    o->job = a->pos[0];
    return 0;
}

int cmd_run(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    dist *d = NULL;
    run_opts o;
    int rc = dist_init(NULL, NULL, &d, &err), interrupted = 0;
    if (rc) {
        dist_finalize(d);
        return cli_fail(rc, err.msg);
    }
    int rank = dist_rank(d);
    rc = args_parse(&a, spec, NSPEC, argc, argv, &err);
    if (!rc && args_get(&a, "help")) {
        if (rank == 0)
            args_usage("run", SYNOPSIS, spec, NSPEC);
        args_free(&a);
        dist_finalize(d);
        return 0;
    }
    if (!rc)
        rc = parse(&a, &o, &err);
    if (!rc)
        rc = run_job(d, &o, &interrupted, &err);
    args_free(&a); /* zeroed by a failed args_parse: safe */
    dist_finalize(d);
    /* failures are agreed on every rank; rank 0 reports (see cmd_search) */
    if (rank != 0)
        return rc ? 0 : interrupted ? RUN_EXIT_INTERRUPTED : 0;
    if (rc)
        return cli_fail(rc, err.msg);
    return interrupted ? RUN_EXIT_INTERRUPTED : 0;
}
