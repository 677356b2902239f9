/* outfile.h — output files that appear whole or not at all.
 *
 * Data goes to "PATH.tmp.PID"; outfile_commit() flushes, fsyncs and renames
 * it over PATH, then fsyncs PATH's directory (so a power loss cannot lose
 * the rename); outfile_abort() deletes it.  A run that fails half-way
 * therefore leaves no partial output behind: every open outfile is also
 * listed in a process-wide registry whose temporary files are removed at
 * exit and on the out-of-memory exit of xmalloc (util/err.h), even when a
 * caller forgot outfile_abort().
 *
 * Every byte reaches the disk through write(2) on the temporary file's
 * descriptor (the FILE is a stdio stream over it, not a glibc file stream):
 * errors are those of the system calls, exactly, and a test build can fail
 * any of them (tests/fault/).  A full disk (ENOSPC, EDQUOT) is MN_ENOSPACE
 * with "no space left on the device"; any other failure is MN_EIO with the
 * system's reason.  Not thread-safe per outfile; the registry is.
 */
#ifndef MNEMO_UTIL_OUTFILE_H
#define MNEMO_UTIL_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h" /* mn_err */

typedef struct outfile {
    FILE *f;      /* write through this (or outfile_write); NULL when not open */
    char *path;   /* final name (owned) */
    char *tmp;    /* temporary name (owned) */
    int fd;       /* the temporary file's descriptor (owned through f) */
} outfile;

/* Create the temporary file next to path.  Errors: MN_EIO, MN_ENOSPACE (o is
 * then zeroed: outfile_abort is a no-op on it). */
int outfile_open(outfile *o, const char *path, mn_err *err);
/* Write n bytes.  Errors: MN_EIO, MN_ENOSPACE (the file is left for
 * outfile_abort). */
int outfile_write(outfile *o, const void *data, size_t n, mn_err *err);
/* Flush, fsync and rename into place, fsync the directory; frees o.  Errors:
 * MN_EIO, MN_ENOSPACE; when the failure comes before the rename the
 * temporary file is removed and PATH is untouched; when only the directory's
 * fsync fails, PATH is whole and in place, but its rename may not survive a
 * power loss. */
int outfile_commit(outfile *o, mn_err *err);
/* Close and delete the temporary file; frees o.  Safe on a zeroed outfile. */
void outfile_abort(outfile *o);

/* Remove the temporary file of every outfile still open (neither committed
 * nor aborted); async-signal-safe apart from its lock-free read of the
 * registry, so it may run on a fatal path.  Called at exit and by xmalloc's
 * out-of-memory exit; callers rarely need it. */
void outfile_remove_temps(void);

/* mkdir -p: create path and every missing parent (mode 0777 before the
 * umask).  An existing directory is fine.  MN_EIO (MN_ENOSPACE on a full
 * disk) naming the part that could not be created. */
int make_dirs(const char *path, mn_err *err);

/* After taking a folder's lock (util/dirlock.h): remove the temporary
 * files ("NAME.tmp.PID") that dead processes left in dir and in its
 * immediate subfolders (a run's parts/, contam/, the lm-eval model folder),
 * so that a SIGKILL'd writer's leftovers do not stay forever.  Files of
 * live processes are kept.  Errors: MN_EIO naming a file that cannot be
 * removed. */
int outfile_clean_dead(const char *dir, mn_err *err);

#endif
