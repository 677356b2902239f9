/* faultguard.h — turn a fault caused by a damaged memory-mapped file into
 * one line and exit status 1 instead of a signal.
 *
 * mnemo reads LMDB shards through mmap.  A shard that is shorter than its
 * pages (truncated) raises SIGBUS when a page past the end is read, and a
 * damaged page can send LMDB's own code to a wild address (SIGSEGV).  The
 * checks in lmdbcheck.c catch what they can before a shard is mapped; this
 * guard is the last line: faultguard_install() sets SIGSEGV and SIGBUS
 * handlers (SA_SIGINFO, on an alternate signal stack) that look at the
 * faulting address and the faulting thread:
 *
 *   - the address lies in a range registered with faultguard_watch() (a
 *     file's map), or
 *   - the thread is inside a call marked with faultguard_enter() (a store
 *     call that runs LMDB code),
 *
 * then the handler writes, with async-signal-safe calls only,
 *
 *   mnemo: DIR/data.mdb: damaged LMDB file: reading byte N faulted (SIGBUS:
 *   the file is shorter than its pages); check it with mnemo stats --deep
 *
 * and calls _exit(1).  Any other fault is a bug in mnemo: the handler puts
 * back the action that was there before (the default, or a sanitizer's
 * handler) and the fault happens again, so real bugs still crash visibly.
 *
 * Only the CLI installs the guard (main.c); libraries register ranges and
 * mark calls whether or not it is installed (both are cheap: a few atomic
 * stores and a thread-local pointer), and libFuzzer targets and tests leave
 * it uninstalled so that the fuzzer sees every fault.
 *
 * Non-goals: recovering from the fault (the process exits), faults in
 * threads while another thread is registering (the table is lock-free; a
 * range registered concurrently with a fault may be missed, and the fault
 * then crashes as a bug would). */
#ifndef MNEMO_UTIL_FAULTGUARD_H
#define MNEMO_UTIL_FAULTGUARD_H

#include <stddef.h>

/* Install the SIGSEGV/SIGBUS handlers and the calling thread's alternate
 * signal stack.  Call once, first thing in main (later calls do nothing).
 * Returns 0, or -1 (errno set) when sigaction/sigaltstack fail; the process
 * then runs without the guard. */
int faultguard_install(void);

/* Register [addr, addr + len) as a map of the file named label (borrowed:
 * it must stay valid until faultguard_unwatch).  A fault at an address in
 * the range reports the byte offset addr_fault - addr, so register maps of
 * a file taken at offset 0.  Returns a handle >= 0 for faultguard_unwatch,
 * or -1 when the table (FAULTGUARD_SLOTS ranges) is full: the range is then
 * not watched, which only weakens the report. */
#define FAULTGUARD_SLOTS 4096
int faultguard_watch(const void *addr, size_t len, const char *label);

/* Forget a range (handle from faultguard_watch; -1 is ignored).  Call
 * before unmapping it. */
void faultguard_unwatch(int handle);

/* Mark the calling thread as running code that reads the file named label
 * (borrowed until the matching faultguard_leave).  Returns the previous
 * mark, which faultguard_leave restores, so marks nest:
 *
 *   const char *prev = faultguard_enter(label);
 *   ... LMDB calls ...
 *   faultguard_leave(prev);
 */
const char *faultguard_enter(const char *label);
void faultguard_leave(const char *prev);

#endif
