/* dirlock.h — one writer per directory: a lock file that names its holder.
 *
 * dirlock_take() creates (or reuses) DIR/NAME, takes an exclusive flock(2)
 * on it without waiting and writes the holder into it:
 *
 *   host=HOSTNAME pid=PID started=2026-12-07T21:31:29Z what=WHAT\n
 *
 * The kernel drops a flock when its holder dies (SIGKILL included), so a
 * lock left by a dead process is taken over at once; a live holder gives
 * MN_EBUSY naming it.  dirlock_probe() tells, without taking it, whether a
 * live process holds the lock, and who.
 *
 * File systems without working flock (some Lustre mounts: ENOSYS,
 * EOPNOTSUPP, ENOLCK) fall back to the holder line alone: the lock is
 * taken when the file is absent (O_EXCL), or names this host and a pid that
 * no longer exists; a holder on another host cannot be checked from here,
 * so the message says which file to remove once that run is known to be
 * gone.
 *
 * Non-goals: waiting for a lock, shared (reader) locks, locks across
 * fork (the descriptor is O_CLOEXEC and belongs to the process that took it). */
#ifndef MNEMO_UTIL_DIRLOCK_H
#define MNEMO_UTIL_DIRLOCK_H

#include <stddef.h>

#include "util/err.h"

typedef struct dirlock dirlock;

#define DIRLOCK_HOLDER_MAX 512

/* Take DIR/NAME (DIR must exist).  what: a short word for the holder line
 * and messages ("run", "ingest").  Errors: MN_EBUSY ("DIR/NAME: held by
 * mnemo WHAT, pid P on host H since T; wait for it to finish or use another
 * folder"), MN_EIO (cannot create or write the file). */
int dirlock_take(const char *dir, const char *name, const char *what, dirlock **out, mn_err *err);

/* Release and free the lock (NULL is fine).  The file stays, empty of a
 * holder, so that a concurrent taker never races an unlink. */
void dirlock_release(dirlock *l);

/* Is DIR/NAME held by a live process?  Returns 1 (held; holder gets the
 * holder line without its newline, "" when unknown), 0 (free or absent),
 * or MN_EIO. */
int dirlock_probe(const char *dir, const char *name, char *holder, size_t cap, mn_err *err);

#endif
