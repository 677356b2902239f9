/* tmpfiles.c — remove the temporary files of dead processes; see
 * tmpfiles.h. */
#include "util/tmpfiles.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tmpfiles_pid_alive(long pid)
{
    if (pid <= 0 || (long)(pid_t)pid != pid)
        return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* The PID spelled by digits (the whole rest of a name), else -1. */
static long pid_of_digits(const char *digits)
{
    size_t len = strlen(digits);
    if (!len || len > 18 || strspn(digits, "0123456789") != len)
        return -1;
    return strtol(digits, NULL, 10);
}

/* The PID of name when it is "BASE.tmp.DIGITS" for one of bases (any BASE
 * when bases is NULL: the last ".tmp." of the name), else -1. */
static long temp_pid(const char *name, const char *const *bases, size_t n)
{
    if (!bases) {
        const char *t = strstr(name, ".tmp.");
        while (t && strstr(t + 1, ".tmp."))
            t = strstr(t + 1, ".tmp.");
        return t && t != name ? pid_of_digits(t + 5) : -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(bases[i]);
        if (!strncmp(name, bases[i], len) && !strncmp(name + len, ".tmp.", 5))
            return pid_of_digits(name + len + 5);
    }
    return -1;
}

int tmpfiles_remove_dead(const char *dir, const char *const *bases, size_t n, size_t *removed, mn_err *err)
{
    if (removed)
        *removed = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : mn_errf(err, MN_EIO, "%s: cannot list: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        long pid = temp_pid(e->d_name, bases, n);
        if (pid <= 0 || pid == (long)getpid() || tmpfiles_pid_alive(pid))
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = xmalloc(len);
        snprintf(path, len, "%s/%s", dir, e->d_name);
        if (unlink(path) && errno != ENOENT)
            rc = mn_errf(err, MN_EIO, "%s: cannot remove (left by dead process %ld): %s", path, pid, strerror(errno));
        else if (removed)
            ++*removed;
        free(path);
    }
    closedir(d);
    return rc;
}
