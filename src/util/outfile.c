/* outfile.c — write-to-temp-then-rename output files (outfile.h).
 *
 * Sections: the registry of open temporary files; errors; the stdio stream
 * over a plain descriptor; the outfile lifecycle; make_dirs. */
#include "util/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/path.h"     /* path_join */
#include "util/tmpfiles.h" /* tmpfiles_remove_dead */

/* ---------------------------------------------------------------------------
 * registry: every temporary file that exists and is not yet renamed or
 * removed.  A node owns the name; outfile.tmp points into it.
 */

typedef struct tmp_node {
    struct tmp_node *prev, *next;
    char name[]; /* "PATH.tmp.PID" */
} tmp_node;

static tmp_node *registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

static void registry_setup(void)
{
    atexit(outfile_remove_temps);
    xalloc_set_oom_cleanup(outfile_remove_temps);
}

static tmp_node *node_of(char *tmp)
{
    return (tmp_node *)(tmp - offsetof(tmp_node, name));
}

static void registry_add(tmp_node *n)
{
    pthread_once(&registry_once, registry_setup);
    pthread_mutex_lock(&registry_lock);
    n->prev = NULL;
    n->next = registry;
    if (registry)
        registry->prev = n;
    registry = n;
    pthread_mutex_unlock(&registry_lock);
}

static void registry_remove(tmp_node *n)
{
    pthread_mutex_lock(&registry_lock);
    if (n->prev)
        n->prev->next = n->next;
    else
        registry = n->next;
    if (n->next)
        n->next->prev = n->prev;
    pthread_mutex_unlock(&registry_lock);
}

/* On a fatal path the lock may be held by the thread that failed (or a
 * thread killed mid-update): take it if free, walk the list anyway. */
void outfile_remove_temps(void)
{
    int locked = pthread_mutex_trylock(&registry_lock) == 0;
    for (tmp_node *n = registry; n; n = n->next)
        unlink(n->name);
    if (locked)
        pthread_mutex_unlock(&registry_lock);
}

/* ---------------------------------------------------------------------------
 * errors
 */

/* "PATH: WHAT failed: REASON": a full disk or quota is MN_ENOSPACE with a
 * reason that says so, anything else MN_EIO with the system's text. */
static int io_error(mn_err *err, const char *path, const char *what, int e)
{
    if (e == ENOSPC)
        return mn_errf(err, MN_ENOSPACE, "%s: %s failed: no space left on the device", path, what);
    if (e == EDQUOT)
        return mn_errf(err, MN_ENOSPACE, "%s: %s failed: disk quota exceeded", path, what);
    return mn_errf(err, MN_EIO, "%s: %s failed: %s", path, what, strerror(e ? e : EIO));
}

/* ---------------------------------------------------------------------------
 * the stream: stdio buffering over a plain descriptor (fopencookie), so that
 * every byte goes out through write(2) and a failed write keeps its errno.
 */

typedef struct fd_cookie {
    int fd;
} fd_cookie;

/* All n bytes, or 0 with errno set: fopencookie(3) wants 0 for an error
 * (glibc's fwrite miscounts a negative return), and a short count would be
 * an error without an errno. */
static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
    int fd = ((fd_cookie *)c)->fd;
    for (size_t off = 0; off < n;) {
        ssize_t got = write(fd, buf + off, n - off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0) /* no progress and no error: report one */
                errno = EIO;
            return 0;
        }
        off += (size_t)got;
    }
    return (ssize_t)n;
}

static int cookie_close(void *c)
{
    int rc = close(((fd_cookie *)c)->fd);
    free(c);
    return rc;
}

/* ---------------------------------------------------------------------------
 * lifecycle
 */

int outfile_open(outfile *o, const char *path, mn_err *err)
{
    memset(o, 0, sizeof *o);
    size_t n = strlen(path) + 32;
    tmp_node *node = xmalloc(sizeof *node + n);
    snprintf(node->name, n, "%s.tmp.%ld", path, (long)getpid());
    fd_cookie *c = xmalloc(sizeof *c);
    c->fd = open(node->name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (c->fd < 0) {
        int e = errno;
        free(c);
        free(node);
        if (e == ENOSPC || e == EDQUOT)
            return io_error(err, path, "create", e);
        return mn_errf(err, MN_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    registry_add(node);
    o->tmp = node->name;
    o->fd = c->fd;
    cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
    o->f = fopencookie(c, "w", io);
    if (!o->f) {
        cookie_close(c);
        unlink(node->name);
        registry_remove(node);
        free(node);
        memset(o, 0, sizeof *o);
        return mn_errf(err, MN_ENOMEM, "%s: cannot create a stream: out of memory", path);
    }
    o->path = xstrdup(path);
    return MN_OK;
}

int outfile_write(outfile *o, const void *data, size_t n, mn_err *err)
{
    errno = 0;
    if (n && fwrite(data, 1, n, o->f) != n)
        return io_error(err, o->path, "write", errno);
    return MN_OK;
}

/* fsync the directory holding path, so that the rename into it is durable.
 * A directory that cannot be opened for reading (mode -wx) cannot be
 * synced: the rename stands, as it would without this step. */
static int sync_parent(const char *path, mn_err *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return MN_OK;
    int rc = MN_OK;
    if (fsync(fd) != 0 && errno != EINVAL) /* EINVAL: the file system cannot sync directories */
        rc = io_error(err, path, "fsync of its directory", errno);
    close(fd);
    return rc;
}

/* Checks in order, stopping at the first failure: flush (write), fsync,
 * close (some file systems report write errors only there), rename. */
int outfile_commit(outfile *o, mn_err *err)
{
    int rc = MN_OK;
    errno = 0;
    if (fflush(o->f) != 0 || ferror(o->f))
        rc = io_error(err, o->path, "write", errno);
    else if (fsync(o->fd) != 0)
        rc = io_error(err, o->path, "fsync", errno);
    errno = 0;
    if (fclose(o->f) != 0 && rc == MN_OK)
        rc = io_error(err, o->path, "close", errno);
    o->f = NULL;
    if (rc == MN_OK && rename(o->tmp, o->path) != 0)
        rc = io_error(err, o->path, "rename", errno);
    if (rc != MN_OK)
        unlink(o->tmp);
    tmp_node *node = node_of(o->tmp);
    registry_remove(node);
    if (rc == MN_OK)
        rc = sync_parent(o->path, err);
    free(node);
    free(o->path);
    memset(o, 0, sizeof *o);
    return rc;
}

void outfile_abort(outfile *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp) {
        unlink(o->tmp);
        tmp_node *node = node_of(o->tmp);
        registry_remove(node);
        free(node);
    }
    free(o->path);
    memset(o, 0, sizeof *o);
}

/* ---------------------------------------------------------------------------
 * directories
 */

int make_dirs(const char *path, mn_err *err)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return mn_errf(err, MN_EIO, "%s: bad directory name", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) && errno != EEXIST) {
            int e = errno;
            if (e == ENOSPC || e == EDQUOT)
                return io_error(err, buf, "mkdir", e);
            return mn_errf(err, MN_EIO, "%s: cannot create directory: %s", buf, strerror(e));
        }
        buf[i] = c;
    }
    return 0;
}

int outfile_clean_dead(const char *dir, mn_err *err)
{
    int rc = tmpfiles_remove_dead(dir, NULL, 0, NULL, err);
    DIR *d = rc ? NULL : opendir(dir);
    struct dirent *e;
    while (d && !rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *sub = path_join(dir, e->d_name);
        struct stat st;
        if (!lstat(sub, &st) && S_ISDIR(st.st_mode))
            rc = tmpfiles_remove_dead(sub, NULL, 0, NULL, err);
        free(sub);
    }
    if (d)
        closedir(d);
    return rc;
}
