/* mapfile.h — a whole file mapped read-only (safetensors shards, tokenizer
 * files).  The mapping is borrowed by whoever reads through it and stays
 * valid until mapfile_close(). */
#ifndef MNEMO_UTIL_MAPFILE_H
#define MNEMO_UTIL_MAPFILE_H

#include <stddef.h>

#include "util/err.h" /* mn_err */

typedef struct mapfile {
    const unsigned char *data; /* NULL for an empty file */
    size_t size;
    char *path;                /* owned copy, for error messages */
} mapfile;

/* Map path read-only.  Errors: MN_EIO (with errno text).  An empty file maps
 * to data == NULL, size == 0 (not an error here; parsers decide). */
int mapfile_open(mapfile *m, const char *path, mn_err *err);
void mapfile_close(mapfile *m);

/* Read a whole (small) file into a NUL-terminated malloc'd buffer; *len gets
 * its length.  Caller frees.  Errors: MN_EIO. */
int file_read_all(const char *path, char **out, size_t *len, mn_err *err);

#endif
