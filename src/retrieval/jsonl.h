/* jsonl.h — one JSON Lines corpus record (a line of a `.jsonl` shard) to
 * document text + id.
 *
 * A record is a JSON object; its text is the string under a configurable
 * field ("text" by default) and its id the string or integer under another
 * ("id" by default; absent or null means "no id": the caller synthesizes
 * one).  Strings may contain U+0000 (the text length is authoritative).
 * The line is checked to be UTF-8 before parsing so that a bad byte is
 * reported by its position, not as a generic JSON error.
 *
 * Non-goals: reading lines (linereader does that), nested field paths,
 * streaming a single huge JSON value (lines are bounded by the caller). */
#ifndef MNEMO_RETRIEVAL_JSONL_H
#define MNEMO_RETRIEVAL_JSONL_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h" /* mn_err */

typedef struct jsonl_record {
    json_t *root;     /* owned; keeps text/id alive; NULL when cleared */
    const char *text; /* [len] borrowed from root, NUL-terminated */
    size_t len;
    const char *id;   /* NUL-terminated: from root or idbuf; NULL: no id */
    char idbuf[24];   /* integer ids are formatted here */
} jsonl_record;

/* Parse line[0..len) (no trailing newline needed; surrounding whitespace
 * is fine).  text_field must be non-empty; id_field NULL or "" means ids
 * are never read.  Returns 1 with *rec filled (free with
 * jsonl_record_clear), 0 when the line is blank (only JSON whitespace:
 * nothing to deliver, *rec cleared), or MN_EFORMAT with err holding the
 * reason without any file/line prefix (the caller adds its position):
 *   "invalid UTF-8 at byte 12 of the line"
 *   "invalid JSON: column 7: unexpected token near 'x'"
 *   "not a JSON object (found array)"
 *   "missing text field 'text'"
 *   "text field 'text' is not a string (found number)"
 *   "id field 'id' is not a string or an integer (found object)"
 * *rec is always left cleared on error. */
int jsonl_parse_line(const char *line, size_t len, const char *text_field, const char *id_field,
                     jsonl_record *rec, mn_err *err);

/* Release rec->root; safe on a cleared or zeroed record. */
void jsonl_record_clear(jsonl_record *rec);

#endif
