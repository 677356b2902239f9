/* mapfile.c — read-only mmap of whole files. */
#include "util/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int mapfile_open(mapfile *m, const char *path, mn_err *err)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        return mn_errf(err, MN_EIO, "%s: not a regular file%s%s", path,
                       e ? ": " : "", e ? strerror(e) : "");
    }
    m->size = (size_t)st.st_size;
    if (m->size > 0) {
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return mn_errf(err, MN_EIO, "%s: cannot mmap %zu bytes: %s", path, m->size, strerror(e));
        }
        m->data = p;
    }
    close(fd);
    m->path = xstrdup(path);
    return MN_OK;
}

void mapfile_close(mapfile *m)
{
    if (m->data)
        munmap((void *)m->data, m->size);
    free(m->path);
    memset(m, 0, sizeof *m);
}

int file_read_all(const char *path, char **out, size_t *len, mn_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return mn_errf(err, MN_EIO, "%s: read error", path);
    }
    buf[n] = 0;
    *out = buf;
    if (len)
        *len = n;
    return MN_OK;
}
