/* filehash.h — SHA-256 of whole files, computed once and cached, so that
 * recording the identity of a 15 GB checkpoint costs a stat() on a rerun.
 *
 * The cache is a JSON file, FILEHASH_CACHE_NAME, beside the hashed file
 * (its directory: for checkpoints, which are large and shared by many runs)
 * when the caller asks for that and the directory is writable, else in a
 * folder the caller names (mnemo uses the output folder):
 *
 *   {"format": "mnemo-sha256-cache", "version": 1,
 *    "files": {"NAME": {"size": B, "mtime_ns": T, "ctime_ns": C,
 *                       "inode": I, "sha256": "64 hex"}, ...}}
 *
 * NAME is the file's name in a cache beside it (so the folder can move or
 * be mounted elsewhere), its realpath() in the fallback cache.  An entry is
 * used only while size, mtime, ctime and inode are all unchanged.  ctime
 * cannot be set from user space, so a copy that preserves the mtime (cp -p,
 * rsync -t) or a same-size rewrite still misses the cache; a rename over the
 * file changes the inode.  Writes go through util/outfile.h (temporary name,
 * rename): concurrent writers may lose each other's entries (the file is
 * then hashed again), never corrupt the cache.  A cache that cannot be read
 * or written is ignored: it only ever saves time.
 *
 * Files are read with read(2) in 1 MiB blocks (no mmap: a file truncated
 * meanwhile gives an error, not SIGBUS); several files are hashed in
 * parallel on the OpenMP pool (util/threads.h).  A file whose size, mtime
 * or ctime change while it is read is an error naming it.
 *
 * Non-goals: hashing directories (callers list the files), other digests. */
#ifndef MNEMO_UTIL_FILEHASH_H
#define MNEMO_UTIL_FILEHASH_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define FILEHASH_CACHE_NAME ".mnemo-sha256.json"

/* What the calls did, summed over calls (the caller zeroes it). */
typedef struct filehash_stats {
    uint64_t hashed_files, hashed_bytes; /* read and hashed */
    uint64_t cached_files, cached_bytes; /* taken from a cache */
    double hash_seconds;                 /* wall time spent reading and hashing */
} filehash_stats;

/* SHA-256 of each file paths[0..n) as 64 lower-case hex digits into
 * hex[i], from a cache when it is valid, else by reading the file (misses
 * in parallel), then recorded in the cache beside the file (when beside is
 * non-zero and that folder is writable) or else in fallback_dir (NULL:
 * nowhere).  st may be NULL.  Errors: MN_EIO naming the file (missing,
 * unreadable, not a regular file, changed while read). */
int filehash_sha256(const char *const *paths, size_t n, int beside, const char *fallback_dir, char (*hex)[65],
                    filehash_stats *st, mn_err *err);

#endif
