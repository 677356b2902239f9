/* loader_int.h — what the benchmark loaders share among themselves:
 * loader.c finds and reads the files and archive members of a spec and
 * hands each one, whole and decompressed, to its kind's parser
 * (load_<kind>.c); the parsers turn rows into items through the helpers
 * below, which apply the on_error policy, provenance and the duplicate-id
 * check in one place.  Not for use outside src/bench/. */
#ifndef MNEMO_BENCH_LOADER_INT_H
#define MNEMO_BENCH_LOADER_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/loader.h" /* bench_load_opts, bench_set */

/* A line of a JSON-lines source longer than opts.max_field: found while
 * the source was read, its bytes were dropped there (only its '\n' kept, so
 * line numbers hold) and bench_json_next reports it at its place. */
typedef struct bench_longline {
    uint64_t line;      /* 1-based line number */
    size_t len;         /* its length as bench_json_next measures it (saturating) */
} bench_longline;

/* One file or archive member, read whole. */
typedef struct bench_src {
    const char *where;  /* "FILE" or "FILE:MEMBER", for messages and provenance */
    const char *name;   /* member name or file path without its compression suffix */
    const char *data;   /* [len] decompressed contents, borrowed */
    size_t len;
    const bench_longline *long_lines; /* [nlong] in line order: dropped while reading */
    size_t nlong;
} bench_src;

/* Id -> item index, for the duplicate check (open addressing). */
typedef struct bench_idmap {
    uint64_t *hash;     /* [cap] 0 = empty slot */
    size_t *idx;        /* [cap] index into set->items */
    size_t cap, n;
} bench_idmap;

/* Loading state of one bench_load call. */
typedef struct bench_ctx {
    bench_load_opts o;  /* resolved: every default filled in, names non-NULL */
    bench_set *set;
    bench_idmap ids;
    uint64_t rows;      /* data rows seen in the whole load, good and bad */
    uint64_t src_rows;  /* data rows seen in the current source */
    mn_err *err;
} bench_ctx;

/* ------------------------------------------------------------------ */
/* helpers (loader.c) */

/* A malformed row (or source) at s: under FAIL fill c->err with
 * "WHERE: <fmt...>" and return code; under SKIP count it in set->skipped,
 * keep the first message and return 0.  fmt starts with the position,
 * e.g. "line %llu: empty question". */
int bench_row_error(bench_ctx *c, const bench_src *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Add *it (whose id must be set) as read from line `line` of s: sets its
 * source, checks that the id is new and moves it into the set (*it is
 * zeroed).  A duplicate id is fatal: MN_EFORMAT "WHERE: line N: duplicate
 * id 'X' (first at SOURCE)", *it freed. */
int bench_emit(bench_ctx *c, const bench_src *s, uint64_t line, bench_item *it);

/* JSON Lines over a source: each call yields the next non-blank line
 * parsed as a JSON object (caller json_decref's it) with its 1-based line.
 * A leading BOM and CR before LF are dropped.  Bad lines (over max_field,
 * invalid UTF-8, invalid JSON, not an object) go through bench_row_error.
 * Returns 1, 0 at the end, or a negative code (FAIL mode). */
typedef struct bench_lines {
    const char *p, *end;
    uint64_t line;
    size_t next_long;   /* next entry of the source's long_lines */
} bench_lines;
void bench_lines_init(bench_lines *it, const bench_src *s);
int bench_json_next(bench_ctx *c, const bench_src *s, bench_lines *it, json_t **obj, uint64_t *line);

/* JSON type name for messages: "object", "string", "integer", ... */
const char *bench_json_kind(const json_t *v);

/* JSON field readers for the parsers (load_jsonl.c).  Each returns 0 with
 * a malloc'd copy in *out, NULL when the field is absent or null and not
 * required, or -1 with the reason in why[cap] ("missing field 'answer'",
 * "field 'problem' is not a string (found integer)").  bench_json_scalar
 * also takes an integer, formatted in decimal. */
int bench_json_text(const json_t *obj, const char *field, int required, char **out, char *why, size_t cap);
int bench_json_scalar(const json_t *obj, const char *field, int required, char **out, char *why, size_t cap);

/* 1 when s has only ASCII whitespace (or is empty). */
int bench_blank(const char *s);

/* A value quoted in a message: s itself when at most 40 bytes, else its
 * first <= 40 bytes cut at a UTF-8 boundary plus "...", in buf. */
#define BENCH_CLIP_CAP 48
const char *bench_clip(const char *s, char buf[BENCH_CLIP_CAP]);

/* malloc'd printf. */
char *bench_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Last path component of name. */
const char *bench_basename(const char *name);

/* 1 when name ends with suf (ASCII case-insensitive). */
int bench_ends_with(const char *name, const char *suf);

/* ------------------------------------------------------------------ */
/* the kinds: which members they read, and their parsers */

int bench_mmlu_wants(const bench_ctx *c, const char *name);
int bench_csv_wants(const bench_ctx *c, const char *name);
int bench_jsonl_wants(const bench_ctx *c, const char *name);

int bench_parse_mmlu(bench_ctx *c, const bench_src *s);      /* load_mmlu.c: CSV, or the JSON form */
int bench_parse_gpqa(bench_ctx *c, const bench_src *s);      /* load_gpqa.c */
int bench_parse_math500(bench_ctx *c, const bench_src *s);   /* load_math500.c */
int bench_parse_simpleqa(bench_ctx *c, const bench_src *s);  /* load_simpleqa.c */
int bench_parse_jsonl(bench_ctx *c, const bench_src *s);     /* load_jsonl.c: opts.fields */

/* load_jsonl.c: JSON lines with question/answer/choices/subject/id fields
 * named by f.  mmlu_ids: choices are required and absent ids become
 * "<subject>-<k>" (k counting that subject's lines in the source) instead
 * of "jsonl-<row>". */
int bench_parse_jsonl_fields(bench_ctx *c, const bench_src *s, const bench_fields *f, int mmlu_ids);

#endif
