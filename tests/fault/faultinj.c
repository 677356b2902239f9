/* faultinj.c — the fault injector of the test-only executable mnemo-fi.
 *
 * mnemo-fi is src/main.c + the mnemo_core library + this file.  It behaves
 * like build/mnemo, except that the calls through which output reaches the
 * disk, and mnemo's allocations, are counted per operation and the N-th one
 * can be made to fail, as SQLite's test suite does ("fail at call N", for
 * every N).  Non-goals: it is never installed and never part of build/mnemo;
 * it does not simulate power loss (what reaches the platter), only the
 * failures a process sees.
 *
 * Operations (OP below):
 *   write   write, pwrite, pwrite64, writev, pwritev, ftruncate on a regular file
 *   fsync   fsync, fdatasync on a regular file or a directory; msync
 *   rename  rename, renameat, renameat2
 *   open    open/openat/creat of a file for writing, mkdir
 *   alloc   malloc, calloc, realloc, strdup called from mnemo's own objects
 *           (linked with -Wl,--wrap=...) and jansson's allocations
 *           (json_set_alloc_funcs); the allocations of the other libraries
 *           (LMDB, OpenBLAS, MPI, libc internals) are not counted
 *
 * The file operations are defined here and exported from the executable
 * (--export-dynamic-symbol), so that liblmdb's calls come here too; each
 * forwards to the next definition (dlsym RTLD_NEXT: libc's, or gcc's
 * dynamic sanitizer runtime's interceptor, which then calls libc's; clang's
 * static runtime defines its interceptors weak, so ours replace them).
 * Calls on fds 0-2 are never counted, nor calls on other kinds of files
 * (pipes, sockets).  glibc's own stdio streams write through an internal
 * __write that nothing can interpose: util/outfile writes through write(2).
 *
 * Control, by environment (read once, at start-up):
 *   MNEMO_FAULT=OP:N[:ERRNO[:MODE]]
 *       the N-th call (from 1) of OP fails with ERRNO (a name: EIO, the
 *       default, ENOSPC, EDQUOT, EROFS, EMFILE, ENOMEM...; alloc ignores it
 *       and returns NULL).  MODE "sticky": every later call of OP fails too
 *       (a full disk stays full).  MODE "full" (write only): the N-th write
 *       writes half its bytes and returns that short count, as a write that
 *       fills the disk does; every later write fails with ERRNO (ENOSPC
 *       unless given).
 *   MNEMO_FAULT_DIR=DIR[:DIR...]
 *       count only files under these directories (symlinks resolved when
 *       they exist); unset, every regular file counts.  Keeps the counts
 *       independent of files that MPI or the system write elsewhere.
 *   MNEMO_FAULT_COUNT=FILE
 *       at exit, write "OP COUNT" lines (one per OP) and "fired 0|1" to
 *       FILE (FILE.RANK under an MPI launcher that sets the rank's variable).
 *   MNEMO_FAULT_LOG=FILE
 *       when the fault fires, append "OP:N ERRNO PATH" (PATH "-" for alloc)
 *       to FILE, so a loop can name the call that failed.
 *   MNEMO_FAULT_RANK=R
 *       under MPI, only rank R injects (every rank counts).
 *
 * Counting is deterministic for a given command run as a single process with
 * one thread (OMP_NUM_THREADS=1); counters are atomic in any case.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, off64_t (CMake passes -D_GNU_SOURCE too) */
#endif
/* This file defines open() itself: the fortified inline wrapper must not be
 * declared here.  (Callers built with _FORTIFY_SOURCE call __open_2 and
 * friends, which are interposed below too.) */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
 * configuration and counters
 */

enum { OP_WRITE, OP_FSYNC, OP_RENAME, OP_OPEN, OP_ALLOC, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"write", "fsync", "rename", "open", "alloc"};

enum { MODE_ONCE, MODE_STICKY, MODE_FULL };

#define MAX_DIRS 8

static struct {
    int ready;            /* the environment has been read */
    int op;               /* the op to fail, -1 for none */
    unsigned long n;      /* at its n-th call */
    int err;              /* with this errno */
    int mode;             /* MODE_* */
    int inject;           /* this process injects (MNEMO_FAULT_RANK) */
    int fired;            /* the fault has fired at least once */
    int ndirs;
    char dirs[MAX_DIRS][PATH_MAX];
    const char *count_file, *log_file, *rank;
} cfg = {.op = -1};

static unsigned long counts[OP_COUNT];

static const struct {
    const char *name;
    int value;
} errno_names[] = {
    {"EIO", EIO},       {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS},   {"EMFILE", EMFILE},
    {"ENFILE", ENFILE}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES}, {"EPERM", EPERM},   {"EFBIG", EFBIG},
    {"EINTR", EINTR},   {"EXDEV", EXDEV},   {"EBUSY", EBUSY},   {"ENOENT", ENOENT}, {"EAGAIN", EAGAIN},
};

/* The real functions, resolved on first use. */
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_msync)(void *, size_t, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_creat)(const char *, mode_t);
static int (*real___open_2)(const char *, int);
static int (*real___open64_2)(const char *, int);
static int (*real___openat_2)(int, const char *, int);
static int (*real_mkdir)(const char *, mode_t);

/* dlsym returns an object pointer; POSIX guarantees it converts. */
#define RESOLVE(fn)                                                    \
    do {                                                               \
        if (!real_##fn) {                                              \
            void *sym_ = dlsym(RTLD_NEXT, #fn);                        \
            memcpy(&real_##fn, &sym_, sizeof sym_);                    \
            if (!real_##fn)                                            \
                fi_die("cannot resolve " #fn);                         \
        }                                                              \
    } while (0)

static void fi_die(const char *what)
{
    static const char pre[] = "mnemo-fi: ";
    (void)!write(2, pre, sizeof pre - 1); /* our write: fd 2 is never counted */
    (void)!write(2, what, strlen(what));
    (void)!write(2, "\n", 1);
    _exit(99);
}

static void fi_usage(const char *what, const char *value)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s: bad value '%s' (see tests/fault/faultinj.c)", what, value);
    fi_die(msg);
}

static int errno_from_name(const char *s)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (!strcmp(s, errno_names[i].name))
            return errno_names[i].value;
    return 0;
}

static const char *errno_name(int e)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (errno_names[i].value == e)
            return errno_names[i].name;
    return "E?";
}

/* MNEMO_FAULT=OP:N[:ERRNO[:MODE]] */
static void parse_fault(const char *spec)
{
    char buf[128], *save = NULL;
    if (strlen(spec) >= sizeof buf)
        fi_usage("MNEMO_FAULT", spec);
    strcpy(buf, spec);
    char *op = strtok_r(buf, ":", &save), *n = strtok_r(NULL, ":", &save);
    char *e = strtok_r(NULL, ":", &save), *mode = strtok_r(NULL, ":", &save);
    if (!op || !n)
        fi_usage("MNEMO_FAULT", spec);
    for (int i = 0; i < OP_COUNT; i++)
        if (!strcmp(op, op_names[i]))
            cfg.op = i;
    char *end;
    cfg.n = strtoul(n, &end, 10);
    if (cfg.op < 0 || *end || cfg.n == 0)
        fi_usage("MNEMO_FAULT", spec);
    cfg.mode = !mode ? MODE_ONCE : !strcmp(mode, "sticky") ? MODE_STICKY : !strcmp(mode, "full") ? MODE_FULL : -1;
    if (cfg.mode < 0 || (cfg.mode == MODE_FULL && cfg.op != OP_WRITE))
        fi_usage("MNEMO_FAULT mode", mode);
    cfg.err = e && *e ? errno_from_name(e) : cfg.mode == MODE_FULL ? ENOSPC : EIO;
    if (!cfg.err)
        fi_usage("MNEMO_FAULT errno", e);
}

static void absolute(int dirfd, const char *path, char *out, size_t len);

static void parse_dirs(const char *list)
{
    char buf[MAX_DIRS * PATH_MAX], *save = NULL;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (cfg.ndirs == MAX_DIRS)
            fi_usage("MNEMO_FAULT_DIR (at most 8 directories)", list);
        if (!realpath(d, cfg.dirs[cfg.ndirs])) /* not there yet: as given, made absolute */
            absolute(AT_FDCWD, d, cfg.dirs[cfg.ndirs], sizeof cfg.dirs[0]);
        cfg.ndirs++;
    }
}

static const char *rank_env(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (getenv(names[i]))
            return getenv(names[i]);
    return NULL;
}

static void fi_init(void)
{
    if (cfg.ready)
        return;
    cfg.ready = 1;
    const char *s = getenv("MNEMO_FAULT");
    if (s && *s)
        parse_fault(s);
    if ((s = getenv("MNEMO_FAULT_DIR")) && *s)
        parse_dirs(s);
    cfg.count_file = getenv("MNEMO_FAULT_COUNT");
    cfg.log_file = getenv("MNEMO_FAULT_LOG");
    cfg.rank = rank_env();
    const char *want = getenv("MNEMO_FAULT_RANK");
    cfg.inject = !want || !*want || (cfg.rank && !strcmp(want, cfg.rank));
}

/* ---------------------------------------------------------------------------
 * which calls count
 */

/* An absolute version of path (not normalised beyond that). */
static void absolute(int dirfd, const char *path, char *out, size_t len)
{
    if (path[0] == '/') {
        snprintf(out, len, "%s", path);
        return;
    }
    char base[PATH_MAX] = "";
    if (dirfd == AT_FDCWD) {
        if (!getcwd(base, sizeof base))
            base[0] = 0;
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, base, sizeof base - 1);
        base[n > 0 ? n : 0] = 0;
    }
    snprintf(out, len, "%s/%s", base, path);
}

static int under_dirs(const char *abs)
{
    if (!cfg.ndirs)
        return 1;
    for (int i = 0; i < cfg.ndirs; i++) {
        size_t n = strlen(cfg.dirs[i]);
        if (!strncmp(abs, cfg.dirs[i], n) && (abs[n] == '/' || abs[n] == 0))
            return 1;
    }
    return 0;
}

/* A write-side call on fd counts when fd > 2 is a regular file (or, with
 * dirs_too, a directory) under MNEMO_FAULT_DIR; path receives its name. */
static int fd_counts(int fd, int dirs_too, char *path, size_t len)
{
    struct stat st;
    path[0] = 0;
    if (fd <= 2 || fstat(fd, &st) || !(S_ISREG(st.st_mode) || (dirs_too && S_ISDIR(st.st_mode))))
        return 0;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, len - 1);
    path[n > 0 ? n : 0] = 0;
    return under_dirs(path);
}

static int path_counts(int dirfd, const char *p, char *path, size_t len)
{
    absolute(dirfd, p, path, len);
    return under_dirs(path);
}

static void log_fire(int op, unsigned long n, int e, const char *path)
{
    if (!cfg.log_file)
        return;
    RESOLVE(open);
    RESOLVE(write);
    int fd = real_open(cfg.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0)
        return;
    char line[PATH_MAX + 128];
    int k = snprintf(line, sizeof line, "%s:%lu %s %s\n", op_names[op], n, errno_name(e), path && *path ? path : "-");
    (void)!real_write(fd, line, (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
    close(fd);
}

/* Count one call of op; 1 when it must fail (errno is then set), 2 when it
 * must write only part of its bytes (MODE_FULL's first call). */
static int fi_hit(int op, const char *path)
{
    fi_init();
    unsigned long n = __atomic_add_fetch(&counts[op], 1, __ATOMIC_RELAXED);
    if (op != cfg.op || !cfg.inject || n < cfg.n || (n > cfg.n && cfg.mode == MODE_ONCE))
        return 0;
    if (n == cfg.n)
        log_fire(op, n, cfg.err, path);
    __atomic_store_n(&cfg.fired, 1, __ATOMIC_RELAXED);
    if (n == cfg.n && cfg.mode == MODE_FULL)
        return 2;
    errno = op == OP_ALLOC ? ENOMEM : cfg.err;
    return 1;
}

/* ---------------------------------------------------------------------------
 * file operations: one verdict helper per kind of call, then the thin
 * definitions that consult it and forward to the real function
 */

/* A write-side call of *n bytes on fd: -1 when it must fail (errno set);
 * else 0, with *n halved when it must be short (MODE_FULL's first write). */
static int write_verdict(int fd, size_t *n)
{
    char path[PATH_MAX];
    if (!fd_counts(fd, 0, path, sizeof path))
        return 0;
    int f = fi_hit(OP_WRITE, path);
    if (f == 1)
        return -1;
    if (f == 2 && *n > 1)
        *n /= 2;
    return 0;
}

/* writev/pwritev: a short write keeps half of the first buffer only. */
static int writev_verdict(int fd, const struct iovec *iov, int cnt, struct iovec *half)
{
    size_t n = cnt > 0 ? iov[0].iov_len : 0, want = n;
    if (write_verdict(fd, &n))
        return -1;
    if (n == want)
        return 0;
    *half = (struct iovec){iov[0].iov_base, n};
    return 1;
}

static int sync_fails(int fd)
{
    char path[PATH_MAX];
    return fd_counts(fd, 1, path, sizeof path) && fi_hit(OP_FSYNC, path);
}

static int rename_fails(int tofd, const char *to)
{
    char path[PATH_MAX];
    return path_counts(tofd, to, path, sizeof path) && fi_hit(OP_RENAME, path);
}

static int opens_for_writing(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC));
}

static int open_fails(int dirfd, const char *p, int flags)
{
    char path[PATH_MAX];
    return opens_for_writing(flags) && path_counts(dirfd, p, path, sizeof path) && fi_hit(OP_OPEN, path);
}

static mode_t open_mode(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    RESOLVE(write);
    return write_verdict(fd, &n) ? -1 : real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    RESOLVE(pwrite);
    return write_verdict(fd, &n) ? -1 : real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    RESOLVE(pwrite64);
    return write_verdict(fd, &n) ? -1 : real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    struct iovec half;
    RESOLVE(writev);
    switch (writev_verdict(fd, iov, cnt, &half)) {
    case -1: return -1;
    case 1: return real_writev(fd, &half, 1);
    default: return real_writev(fd, iov, cnt);
    }
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    struct iovec half;
    RESOLVE(pwritev);
    switch (writev_verdict(fd, iov, cnt, &half)) {
    case -1: return -1;
    case 1: return real_pwritev(fd, &half, 1, off);
    default: return real_pwritev(fd, iov, cnt, off);
    }
}

/* MODE_FULL's short write has no meaning for a size change: it fails. */
int ftruncate(int fd, off_t len)
{
    size_t n = 2, want = n;
    RESOLVE(ftruncate);
    if (write_verdict(fd, &n))
        return -1;
    if (n != want) {
        errno = cfg.err;
        return -1;
    }
    return real_ftruncate(fd, len);
}

int fsync(int fd)
{
    RESOLVE(fsync);
    return sync_fails(fd) ? -1 : real_fsync(fd);
}

int fdatasync(int fd)
{
    RESOLVE(fdatasync);
    return sync_fails(fd) ? -1 : real_fdatasync(fd);
}

/* A mapping's file is not known here; every msync counts (only liblmdb's
 * MDB_WRITEMAP mode calls it). */
int msync(void *addr, size_t len, int flags)
{
    RESOLVE(msync);
    return fi_hit(OP_FSYNC, "(msync)") ? -1 : real_msync(addr, len, flags);
}

int rename(const char *from, const char *to)
{
    RESOLVE(rename);
    return rename_fails(AT_FDCWD, to) ? -1 : real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    RESOLVE(renameat);
    return rename_fails(tofd, to) ? -1 : real_renameat(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
    RESOLVE(renameat2);
    return rename_fails(tofd, to) ? -1 : real_renameat2(fromfd, from, tofd, to, flags);
}

int open(const char *p, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    RESOLVE(open);
    return open_fails(AT_FDCWD, p, flags) ? -1 : real_open(p, flags, mode);
}

int open64(const char *p, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    RESOLVE(open64);
    return open_fails(AT_FDCWD, p, flags) ? -1 : real_open64(p, flags, mode);
}

int openat(int dirfd, const char *p, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    RESOLVE(openat);
    return open_fails(dirfd, p, flags) ? -1 : real_openat(dirfd, p, flags, mode);
}

/* _FORTIFY_SOURCE's checked variants (no O_CREAT: no mode). */
int __open_2(const char *p, int flags);
int __open64_2(const char *p, int flags);
int __openat_2(int dirfd, const char *p, int flags);

int __open_2(const char *p, int flags)
{
    RESOLVE(__open_2);
    return open_fails(AT_FDCWD, p, flags) ? -1 : real___open_2(p, flags);
}

int __open64_2(const char *p, int flags)
{
    RESOLVE(__open64_2);
    return open_fails(AT_FDCWD, p, flags) ? -1 : real___open64_2(p, flags);
}

int __openat_2(int dirfd, const char *p, int flags)
{
    RESOLVE(__openat_2);
    return open_fails(dirfd, p, flags) ? -1 : real___openat_2(dirfd, p, flags);
}

int creat(const char *p, mode_t mode)
{
    RESOLVE(creat);
    return open_fails(AT_FDCWD, p, O_CREAT | O_WRONLY) ? -1 : real_creat(p, mode);
}

/* Only a mkdir that would create something counts: the kernel answers
 * EEXIST before it looks for space. */
int mkdir(const char *p, mode_t mode)
{
    struct stat st;
    RESOLVE(mkdir);
    return lstat(p, &st) != 0 && open_fails(AT_FDCWD, p, O_CREAT) ? -1 : real_mkdir(p, mode);
}

/* ---------------------------------------------------------------------------
 * allocation (mnemo's objects are linked with --wrap=malloc,...; jansson's
 * allocations are routed here by json_set_alloc_funcs at start-up)
 */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

void *__wrap_malloc(size_t n)
{
    return fi_hit(OP_ALLOC, NULL) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fi_hit(OP_ALLOC, NULL) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fi_hit(OP_ALLOC, NULL) ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fi_hit(OP_ALLOC, NULL) ? NULL : __real_strdup(s);
}

static void *json_alloc(size_t n)
{
    return __wrap_malloc(n);
}

/* ---------------------------------------------------------------------------
 * start-up and exit
 */

/* Runs before main: reads the environment and routes jansson's allocations
 * through the counted malloc.  (If mnemo installs its own jansson
 * allocators later, they call malloc from mnemo's objects: still counted.) */
__attribute__((constructor)) static void fi_start(void)
{
    fi_init();
    json_set_alloc_funcs(json_alloc, free);
}

/* At exit (a normal return from main or exit(), not _exit): the counts. */
__attribute__((destructor)) static void fi_report(void)
{
    if (!cfg.count_file)
        return;
    char name[PATH_MAX + 32], text[512];
    if (cfg.rank)
        snprintf(name, sizeof name, "%s.%s", cfg.count_file, cfg.rank);
    else
        snprintf(name, sizeof name, "%s", cfg.count_file);
    size_t k = 0;
    for (int i = 0; i < OP_COUNT; i++)
        k += (size_t)snprintf(text + k, sizeof text - k, "%s %lu\n", op_names[i], counts[i]);
    k += (size_t)snprintf(text + k, sizeof text - k, "fired %d\n", cfg.fired);
    RESOLVE(open);
    RESOLVE(write);
    int fd = real_open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return;
    (void)!real_write(fd, text, k);
    close(fd);
}
