/* err.h — the one error convention of mnemo.
 *
 * A function that can fail returns int: 0 on success, a negative MN_E* code
 * on failure.  The function that finds the problem fills the caller's mn_err
 * with one line naming the file, the position (byte offset, line:column,
 * tensor name, record number, argument) and the reason, e.g.
 *
 *   models/x/model.safetensors: byte 8: header length 912345 runs past end of file (4096 bytes)
 *
 * Library code never prints and never exits; the CLI verb prints err.msg once
 * (prefixed "mnemo: ") and exits with mn_exit_code(code).
 */
#ifndef MNEMO_UTIL_ERR_H
#define MNEMO_UTIL_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum {
    MN_OK = 0,
    MN_EUSAGE = -1,       /* bad command line: unknown flag, missing value */
    MN_EIO = -2,          /* open/read/write/mmap failed (errno in the text) */
    MN_EFORMAT = -3,      /* malformed file contents */
    MN_ERANGE = -4,       /* a value outside its allowed range (token id >= vocab) */
    MN_EUNSUPPORTED = -5, /* well-formed but not supported (architecture, dtype) */
    MN_ENOMEM = -6,       /* a large allocation failed */
    MN_EMISMATCH = -7,    /* files disagree with each other (shape vs config) */
    MN_ENOSPACE = -8,     /* no room: the disk is full, or an LMDB shard's map is used up */
    MN_EBUSY = -9,        /* another live process holds the resource (a lock) */
};

#define MN_ERR_MSG_MAX 1024

typedef struct mn_err {
    int code;                  /* one of MN_E*, 0 when nothing failed */
    char msg[MN_ERR_MSG_MAX];  /* "WHERE: reason", one line, no trailing newline */
} mn_err;

/* Fill err (may be NULL) with code and a printf-style message; returns code,
 * so callers write `return mn_errf(err, MN_EFORMAT, "%s: byte %zu: ...", ...)`.
 * Newlines in the formatted text are replaced by spaces to keep it one line;
 * other control characters and ill-formed UTF-8 bytes are written as \xNN
 * (names from untrusted files must not drive the user's terminal). */
int mn_errf(mn_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mn_verrf(mn_err *err, int code, const char *fmt, va_list ap);

/* Prefix an existing message with more context ("while loading X: ..."),
 * keeping the code; returns err->code. */
int mn_err_prefix(mn_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Short name of a code, e.g. "format error". */
const char *mn_strerror(int code);

/* Process exit status for a code: 2 for usage errors, 1 for everything else,
 * 0 for MN_OK. */
int mn_exit_code(int code);

/* Allocation for small bookkeeping that cannot fail: on failure it prints
 * "mnemo: out of memory allocating N bytes" (one line), runs the cleanup set
 * with xalloc_set_oom_cleanup and ends the process with status 1 (_exit: no
 * atexit handlers, no signal).  Large buffers use malloc and report
 * MN_ENOMEM instead.  A size of 0 allocates 1 byte (never NULL). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* The function the out-of-memory exit above runs before _exit (one; a later
 * call replaces it): util/outfile.c sets it to remove its temporary files.
 * It must not allocate. */
void xalloc_set_oom_cleanup(void (*fn)(void));

#endif
