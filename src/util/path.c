/* path.c — paths without silent truncation; see path.h. */
#include "util/path.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = xmalloc(a + b + 2);
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int path_format(char *out, size_t cap, mn_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < cap)
        return 0;
    /* name the start of the path: enough to find it, the message stays one line */
    int rc = mn_errf(err, MN_EIO, "path too long: %d bytes, at most %zu: %.200s...", n, cap ? cap - 1 : 0, out);
    if (cap)
        out[0] = '\0';
    return rc;
}
