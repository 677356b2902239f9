/* tmpfiles.h — temporary files of dead processes.
 *
 * util/outfile.h writes PATH through "PATH.tmp.PID" and renames it into
 * place; a process killed with SIGKILL (or by a power cut) leaves that file
 * behind, and no later run would ever look at it again.  A verb that is the
 * one writer of a folder (it holds the folder's lock) calls
 * tmpfiles_remove_dead() for the names it writes, so such leftovers go away
 * on the next run.
 *
 * "Dead" means: PID is not this process and kill(PID, 0) says no such
 * process on this host.  A file whose PID is alive here is kept (it may be
 * another process's work in progress, or a PID that was reused: either way
 * it is not provably stale).  Non-goals: processes on other hosts sharing
 * the folder (the caller's lock keeps them out). */
#ifndef MNEMO_UTIL_TMPFILES_H
#define MNEMO_UTIL_TMPFILES_H

#include <stddef.h>

#include "util/err.h" /* mn_err */

/* Remove DIR/BASE.tmp.PID for every BASE of bases[0..n) (every BASE when
 * bases is NULL: a folder the caller alone writes) whose PID (digits only)
 * is dead (see above); *removed (may be NULL) gets how many.  A missing DIR
 * is not an error.  Errors: MN_EIO (DIR cannot be listed, or a
 * file cannot be removed: naming it). */
int tmpfiles_remove_dead(const char *dir, const char *const *bases, size_t n, size_t *removed, mn_err *err);

/* Is pid a live process on this host (kill(pid, 0) succeeds or says
 * EPERM)?  pid <= 0 is not. */
int tmpfiles_pid_alive(long pid);

#endif
