/* run.h — `mnemo run JOB`: one evaluation job on R ranks (R = 1 without a
 * launcher), durable and resumable.
 *
 *   phase 0  rank 0 reads the job file and broadcasts its bytes; every rank
 *            parses it (rank 0 also checks that the files exist); rank 0
 *            takes the output folder's lock (OUT/.mnemo.lock, util/dirlock.h:
 *            a second run on the folder fails naming this one); every rank
 *            loads the session and records the content identity of its
 *            inputs (bench/identity.h; rank 0 first, then the others, which
 *            must read the same); rank 0 binds the output directory to the
 *            job and the inputs (OUT/job.json, OUT/identity.json: committed
 *            records made from another spec or other inputs are refused, or
 *            with --force set aside in OUT/set-aside/ and redone) and reads
 *            what earlier sessions committed (results.h: a damaged commit
 *            is redone, with one warning); the set of finished chunks is
 *            broadcast;
 *   phase 1  retrieval for the items still to do: every rank opens its
 *            shards (s mod R == rank, MDB_RDONLY | MDB_NOLOCK), each query
 *            is searched by all ranks and merged on rank 0 (dist/dsearch.h);
 *            rank 0 broadcasts every item's passages;
 *   phase 2  the chunks still to do (fixed ranges of `chunk` items) are
 *            handed out by a shared atomic counter (dist_queue): every rank,
 *            rank 0 included, takes the next chunk when it is free, so
 *            faster ranks take more; each chunk's records are committed to
 *            the rank's part file (fsync) as soon as it is scored;
 *   phase 3  rank 0 reads every committed record back and writes
 *            items.jsonl (item order), summary.json and the lm-eval file,
 *            plus run-stats.json (per rank: chunks, items, busy and
 *            communication seconds).
 *
 * Records depend only on the chunk (engine numerics are independent of the
 * thread count and of which process runs a chunk), so R = 1, 2, 4 and any
 * interrupted-and-resumed sequence of sessions give the same files.
 *
 * SIGTERM, SIGUSR1 or SIGINT (Slurm's warning before preemption or the time
 * limit): the rank raises the shared stop flag; every rank finishes the
 * chunk it is on, commits it, and the run ends with RUN_EXIT_INTERRUPTED so
 * that a requeued job resumes.  SIGKILL loses at most the chunks in flight. */
#ifndef MNEMO_RUN_RUN_H
#define MNEMO_RUN_RUN_H

#include "dist/dist.h"
#include "util/err.h"

#define RUN_TASK_ALL (-2L)    /* run_opts.task: every combination in turn */
#define RUN_EXIT_INTERRUPTED 75 /* EX_TEMPFAIL: stopped by a signal, rerun to resume */

typedef struct run_opts {
    const char *job;   /* job file (YAML, src/run/jobspec.h) */
    const char *out;   /* output directory override, or NULL */
    long task;         /* combination of a sweep job; -1: SLURM_ARRAY_TASK_ID, else 0 for a single job;
                          RUN_TASK_ALL: every combination, one after another */
    int force;         /* reuse a directory whose records came from another spec or other
                          inputs: they are set aside (moved to OUT/set-aside/) and redone */
    int threads;       /* per rank; 0: the job's, else the default */
} run_opts;

/* Run the job on every rank of d (collective).  With o->task ==
 * RUN_TASK_ALL the combinations run in order, each into its own folder as
 * with --task T, stopping at the first error or signal (a rerun resumes:
 * finished combinations are complete and cost only their check).
 * *interrupted = 1 when a signal stopped it (results so far are committed).  Errors: any phase's,
 * the same on every rank; the message names the file, key or item. */
int run_job(dist *d, const run_opts *o, int *interrupted, mn_err *err);

#endif
