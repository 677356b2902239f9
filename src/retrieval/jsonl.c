/* jsonl.c — JSON Lines record to text + id (see jsonl.h).  jansson parses
 * the whole line; the UTF-8 pre-check gives bad bytes a precise position. */
#include "retrieval/jsonl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h" /* utf8_valid_prefix */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

void jsonl_record_clear(jsonl_record *rec)
{
    if (rec->root)
        json_decref(rec->root);
    memset(rec, 0, sizeof *rec);
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Fill rec->id from the id field: string as is, integer formatted,
 * absent/null leaves it NULL; anything else is an error. */
static int read_id(jsonl_record *rec, const char *id_field, mn_err *err)
{
    if (!id_field || !*id_field)
        return 0;
    json_t *v = json_object_get(rec->root, id_field);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        rec->id = json_string_value(v);
        return 0;
    }
    if (json_is_integer(v)) {
        snprintf(rec->idbuf, sizeof rec->idbuf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        rec->id = rec->idbuf;
        return 0;
    }
    return mn_errf(err, MN_EFORMAT, "id field '%s' is not a string or an integer (found %s)", id_field,
                   json_kind(v));
}

int jsonl_parse_line(const char *line, size_t len, const char *text_field, const char *id_field,
                     jsonl_record *rec, mn_err *err)
{
    memset(rec, 0, sizeof *rec);
    if (is_blank(line, len))
        return 0;
    size_t ok = utf8_valid_prefix(line, len);
    if (ok < len)
        return mn_errf(err, MN_EFORMAT, "invalid UTF-8 at byte %zu of the line (0x%02x)", ok,
                       (unsigned)(unsigned char)line[ok]);
    json_error_t je;
    rec->root = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!rec->root)
        return mn_errf(err, MN_EFORMAT, "invalid JSON at byte %d of the line: %s", je.position, je.text);
    int rc;
    if (!json_is_object(rec->root)) {
        rc = mn_errf(err, MN_EFORMAT, "not a JSON object (found %s)", json_kind(rec->root));
        goto fail;
    }
    json_t *t = json_object_get(rec->root, text_field);
    if (!t) {
        rc = mn_errf(err, MN_EFORMAT, "missing text field '%s'", text_field);
        goto fail;
    }
    if (!json_is_string(t)) {
        rc = mn_errf(err, MN_EFORMAT, "text field '%s' is not a string (found %s)", text_field, json_kind(t));
        goto fail;
    }
    rec->text = json_string_value(t);
    rec->len = json_string_length(t);
    if ((rc = read_id(rec, id_field, err)) < 0)
        goto fail;
    return 1;
fail:
    jsonl_record_clear(rec);
    return rc;
}
