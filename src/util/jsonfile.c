/* jsonfile.c — jansson loading with mnemo error messages. */
#include "util/jsonfile.h"

#include <errno.h>
#include <string.h>

#include "util/mapfile.h" /* file_read_all */

int json_load_mem(const char *what, const char *buf, size_t len, json_t **out, mn_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return mn_errf(err, MN_EFORMAT, "%s: line %d, column %d: invalid JSON: %s", what,
                       je.line, je.column, je.text);
    *out = j;
    return MN_OK;
}

int json_load_path(const char *path, json_t **out, mn_err *err)
{
    char *buf;
    size_t len;
    int rc = file_read_all(path, &buf, &len, err);
    if (rc)
        return rc;
    if (len == 0) {
        free(buf);
        return mn_errf(err, MN_EFORMAT, "%s: byte 0: empty file, expected JSON", path);
    }
    rc = json_load_mem(path, buf, len, out, err);
    free(buf);
    return rc;
}
