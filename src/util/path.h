/* path.h — file paths built without a fixed-size buffer, or with one that
 * is checked: a path that does not fit is an error naming it, never a
 * silently shortened name that would open another file. */
#ifndef MNEMO_UTIL_PATH_H
#define MNEMO_UTIL_PATH_H

#include <stddef.h>

#include "util/err.h" /* mn_err */

/* "DIR/NAME" in a fresh string (caller frees; no second '/' when DIR ends
 * with one).  Out of memory aborts. */
char *path_join(const char *dir, const char *name);

/* snprintf into out[cap] for a path: MN_EIO ("path too long: N bytes, at
 * most CAP-1: START...") when it does not fit (out then holds "").  */
int path_format(char *out, size_t cap, mn_err *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
