/* jsonfile.h — load JSON documents (jansson) with errors in mnemo's
 * convention: "PATH: line L, column C: reason". */
#ifndef MNEMO_UTIL_JSONFILE_H
#define MNEMO_UTIL_JSONFILE_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h" /* mn_err */

/* Parse the file at path.  Strings may hold U+0000 (JSON_ALLOW_NUL): read
 * them with json_string_length().  Caller owns *out (json_decref).
 * Errors: MN_EIO, MN_EFORMAT. */
int json_load_path(const char *path, json_t **out, mn_err *err);

/* Parse len bytes; `what` names the source in messages (a file name, or
 * "stdin line 3").  Errors: MN_EFORMAT. */
int json_load_mem(const char *what, const char *buf, size_t len, json_t **out, mn_err *err);

#endif
