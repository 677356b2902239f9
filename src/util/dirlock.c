/* dirlock.c — one writer per directory (dirlock.h). */
#define _POSIX_C_SOURCE 200809L
#include "util/dirlock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct dirlock {
    int fd;
    int flocked; /* 0: the fallback, where the file's existence is the lock */
    char *path;
};

static char *lock_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Test hook: MNEMO_DIRLOCK_NOFLOCK=1 behaves as a file system without
 * flock, so that the fallback is tested on every machine. */
static int lock_file(int fd, int op)
{
    const char *no = getenv("MNEMO_DIRLOCK_NOFLOCK");
    if (no && *no == '1') {
        errno = ENOLCK;
        return -1;
    }
    return flock(fd, op);
}

static int flock_unsupported(int e)
{
    return e == ENOSYS || e == EOPNOTSUPP || e == ENOLCK || e == EINVAL;
}

/* The holder line of fd, without its newline ("" when empty or unreadable). */
static void read_holder(int fd, char *out, size_t cap)
{
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = 0;
    out[strcspn(out, "\n")] = 0;
}

static int write_holder(int fd, const char *what, const char *path, mn_err *err)
{
    char host[256] = "?", when[32], line[DIRLOCK_HOLDER_MAX];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(line, sizeof line, "host=%s pid=%ld started=%s what=%s\n", host, (long)getpid(), when, what);
    if (ftruncate(fd, 0))
        return mn_errf(err, MN_EIO, "%s: cannot write the holder: %s", path, strerror(errno));
    ssize_t w = pwrite(fd, line, (size_t)n, 0);
    if (w == n)
        return 0;
    int e = w < 0 ? errno : ENOSPC; /* a short write: the disk is full */
    if (e == ENOSPC || e == EDQUOT)
        return mn_errf(err, MN_ENOSPACE, "%s: cannot write the holder: no space left on the device%s", path,
                       e == EDQUOT ? " (disk quota exceeded)" : "");
    return mn_errf(err, MN_EIO, "%s: cannot write the holder: %s", path, strerror(e));
}

/* "held by mnemo run, pid 12 on host h since T" from a holder line. */
static void describe(const char *holder, char *out, size_t cap)
{
    char host[256] = "", when[32] = "", what[32] = "";
    long pid = 0;
    if (sscanf(holder, "host=%255s pid=%ld started=%31s what=%31s", host, &pid, when, what) == 4)
        snprintf(out, cap, "held by mnemo %s, pid %ld on host %s since %s", what, pid, host, when);
    else
        snprintf(out, cap, "held by another process");
}

/* Does the holder line name a process of this host that is gone? */
static int holder_dead_here(const char *holder)
{
    char host[256] = "", me[256] = "";
    long pid = 0;
    gethostname(me, sizeof me - 1);
    if (sscanf(holder, "host=%255s pid=%ld", host, &pid) != 2 || strcmp(host, me) || pid <= 0)
        return 0;
    return kill((pid_t)pid, 0) && errno == ESRCH;
}

/* Without flock: O_EXCL creation, or a takeover from a dead holder here. */
static int take_fallback(dirlock *l, const char *what, mn_err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            l->fd = fd;
            return write_holder(fd, what, l->path, err);
        }
        if (errno != EEXIST)
            return mn_errf(err, MN_EIO, "%s: cannot create: %s", l->path, strerror(errno));
        char holder[DIRLOCK_HOLDER_MAX] = "", who[DIRLOCK_HOLDER_MAX + 64];
        fd = open(l->path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            read_holder(fd, holder, sizeof holder);
            close(fd);
        }
        if (holder[0] && !holder_dead_here(holder)) { /* empty: released under flock */
            describe(holder, who, sizeof who);
            return mn_errf(err, MN_EBUSY,
                           "%s: %s (this file system has no flock: remove the file once that process is known to "
                           "be gone)", l->path, who);
        }
        unlink(l->path); /* the holder died: take over */
    }
    return mn_errf(err, MN_EBUSY, "%s: taken by another process meanwhile", l->path);
}

int dirlock_take(const char *dir, const char *name, const char *what, dirlock **out, mn_err *err)
{
    *out = NULL;
    dirlock *l = xcalloc(1, sizeof *l);
    l->path = lock_path(dir, name);
    l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    int rc = 0;
    if (l->fd < 0) {
        rc = mn_errf(err, MN_EIO, "%s: cannot create: %s", l->path, strerror(errno));
    } else if (lock_file(l->fd, LOCK_EX | LOCK_NB) == 0) {
        l->flocked = 1;
        rc = write_holder(l->fd, what, l->path, err);
    } else if (errno == EWOULDBLOCK) {
        char holder[DIRLOCK_HOLDER_MAX], who[DIRLOCK_HOLDER_MAX + 64];
        read_holder(l->fd, holder, sizeof holder);
        describe(holder, who, sizeof who);
        rc = mn_errf(err, MN_EBUSY, "%s: %s; wait for it to finish, or use another folder", l->path, who);
    } else if (flock_unsupported(errno)) {
        close(l->fd);
        l->fd = -1;
        rc = take_fallback(l, what, err);
    } else {
        rc = mn_errf(err, MN_EIO, "%s: flock: %s", l->path, strerror(errno));
    }
    if (rc) { /* the file is another process's: leave it as it is */
        if (l->fd >= 0)
            close(l->fd);
        free(l->path);
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void dirlock_release(dirlock *l)
{
    if (!l)
        return;
    if (l->fd >= 0) {
        if (l->flocked) {
            if (ftruncate(l->fd, 0)) { /* an empty holder line is only cosmetic */
            }
        } else {
            unlink(l->path);
        }
        close(l->fd); /* drops the flock */
    }
    free(l->path);
    free(l);
}

int dirlock_probe(const char *dir, const char *name, char *holder, size_t cap, mn_err *err)
{
    char *path = lock_path(dir, name);
    if (cap)
        holder[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    if (fd < 0) {
        rc = errno == ENOENT ? 0 : mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    char line[DIRLOCK_HOLDER_MAX];
    read_holder(fd, line, sizeof line);
    if (lock_file(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
    } else if (errno == EWOULDBLOCK) {
        rc = 1;
    } else if (flock_unsupported(errno)) {
        rc = line[0] && !holder_dead_here(line);
    } else {
        rc = mn_errf(err, MN_EIO, "%s: flock: %s", path, strerror(errno));
    }
    if (rc == 1 && cap)
        snprintf(holder, cap, "%s", line);
    close(fd);
    free(path);
    return rc;
}
