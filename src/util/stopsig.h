/* stopsig.h — a clean stop on SIGTERM, SIGINT and SIGUSR1.
 *
 * Slurm warns a job before preempting it (SIGTERM, or SIGUSR1 with
 * --signal), and a user presses Ctrl-C (SIGINT).  A verb that can stop with
 * its work committed calls stopsig_catch() at its start: from then on these
 * signals only set a flag, which the verb reads with stopsig_caught() at
 * the points where it can stop (after a batch is written and made
 * durable); it then ends with exit status STOPSIG_EXIT (75, EX_TEMPFAIL:
 * "rerun the same command to resume", as `mnemo run` does) and
 * stopsig_restore() puts the old handlers back.  SIGKILL cannot be caught:
 * what is durable is what the verb made durable before.
 *
 * Non-goals: more than one catcher at a time (the flag is process-wide),
 * signals other than the three above. */
#ifndef MNEMO_UTIL_STOPSIG_H
#define MNEMO_UTIL_STOPSIG_H

#include <signal.h>

#define STOPSIG_EXIT 75 /* EX_TEMPFAIL; the same value as RUN_EXIT_INTERRUPTED */

/* The handlers in place before stopsig_catch(). */
typedef struct stopsig_saved {
    struct sigaction old[3];
} stopsig_saved;

/* Clear the flag and catch SIGTERM, SIGINT and SIGUSR1 (SA_RESTART: system
 * calls in flight go on); the previous handlers go to *saved. */
void stopsig_catch(stopsig_saved *saved);

/* The signal that asked to stop since stopsig_catch(), or 0. */
int stopsig_caught(void);

/* Put the handlers of *saved back (the flag stays as it was). */
void stopsig_restore(const stopsig_saved *saved);

#endif
