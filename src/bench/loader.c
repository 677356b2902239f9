/* loader.c — benchmark specs to item sets (see loader.h): the kind table,
 * finding the inputs (file, directory, archive members), reading them
 * whole through libarchive, and the helpers every parser shares (on_error
 * policy, provenance, duplicate ids, JSON lines).
 *
 * Archives are read in one pass: the members that fit the kind are
 * buffered (decompressing "x.jsonl.gz" members on the way), sorted by name
 * and then parsed one by one, so the item order never depends on the order
 * inside the archive.  Memory: the fitting members of one input at once,
 * each at most opts.max_bytes; a JSON line longer than opts.max_field is
 * dropped while it is read (its error comes at its place when the member
 * is parsed), so it never costs more than max_field of memory. */
#include "bench/loader.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bench/loader_int.h" /* bench_ctx, bench_src, the parsers */
#include "util/hash.h"        /* hash64 */
#include "util/path.h"     /* path_join */
#include "util/utf8.h"        /* utf8_valid_prefix */

#define READ_BLOCK ((size_t)64 << 10)

/* ------------------------------------------------------------------ */
/* the kinds */

enum { LINES_NEVER, LINES_ALWAYS, LINES_BY_NAME }; /* when the parser reads JSON lines */

typedef struct bench_kind {
    const char *name;
    int (*wants)(const bench_ctx *c, const char *name); /* a member / directory entry to read */
    int (*parse)(bench_ctx *c, const bench_src *s);
    int split_dirs;                                     /* look for PATH/<split>, PATH/data/<split> */
    const char *fits;                                   /* what wants accepts, for messages (MMLU: by split) */
    int json_lines;                                     /* LINES_*: BY_NAME for *.jsonl, *.ndjson, *.json */
} bench_kind;

static const bench_kind KINDS[] = {
    {"mmlu", bench_mmlu_wants, bench_parse_mmlu, 1, NULL, LINES_BY_NAME},
    {"gpqa", bench_csv_wants, bench_parse_gpqa, 0, "*.csv", LINES_NEVER},
    {"math500", bench_jsonl_wants, bench_parse_math500, 0, "*.jsonl", LINES_ALWAYS},
    {"simpleqa", bench_csv_wants, bench_parse_simpleqa, 0, "*.csv", LINES_NEVER},
    {"jsonl", bench_jsonl_wants, bench_parse_jsonl, 0, "*.jsonl", LINES_ALWAYS},
};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])

const char *bench_kind_names(void) { return "mmlu | gpqa | math500 | simpleqa | jsonl"; }

static const bench_kind *kind_find(const char *name, size_t len)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strlen(KINDS[i].name) == len && memcmp(KINDS[i].name, name, len) == 0)
            return &KINDS[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* small helpers */

const char *bench_json_kind(const json_t *v)
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

int bench_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != '\f' && *s != '\v')
            return 0;
    return 1;
}

char *bench_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    va_end(ap);
    return s;
}

const char *bench_clip(const char *s, char buf[BENCH_CLIP_CAP])
{
    size_t n = strlen(s);
    if (n <= 40)
        return s;
    n = 40;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* s[n] continues a sequence */
        n--;
    memcpy(buf, s, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

const char *bench_basename(const char *name)
{
    const char *b = strrchr(name, '/');
    return b ? b + 1 : name;
}

int bench_ends_with(const char *name, const char *suf)
{
    size_t n = strlen(name), k = strlen(suf);
    return n >= k && strncasecmp(name + n - k, suf, k) == 0;
}

static const char *const COMPRESSED[] = {".gz", ".zst", ".zstd", ".xz", ".bz2", ".lz4", ".lzma", ".lz", ".Z"};

/* name without a compression suffix (malloc'd); *compressed says whether
 * there was one. */
static char *strip_compression(const char *name, int *compressed)
{
    size_t n = strlen(name);
    *compressed = 0;
    for (size_t i = 0; i < sizeof COMPRESSED / sizeof COMPRESSED[0]; i++)
        if (bench_ends_with(name, COMPRESSED[i]) && n > strlen(COMPRESSED[i])) {
            n -= strlen(COMPRESSED[i]);
            *compressed = 1;
            break;
        }
    char *s = xmalloc(n + 1);
    memcpy(s, name, n);
    s[n] = 0;
    return s;
}

int bench_csv_wants(const bench_ctx *c, const char *name)
{
    (void)c;
    return bench_ends_with(name, ".csv");
}

int bench_jsonl_wants(const bench_ctx *c, const char *name)
{
    (void)c;
    return bench_ends_with(name, ".jsonl") || bench_ends_with(name, ".ndjson");
}

/* macOS resource forks and metadata folders in archives */
static int is_junk(const char *name)
{
    return strncmp(bench_basename(name), "._", 2) == 0 || strncmp(name, "__MACOSX/", 9) == 0 ||
           strstr(name, "/__MACOSX/") != NULL;
}

/* ------------------------------------------------------------------ */
/* errors, provenance, duplicate ids */

int bench_row_error(bench_ctx *c, const bench_src *s, int code, const char *fmt, ...)
{
    char reason[MN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    mn_err tmp;
    mn_errf(&tmp, code, "%s: %s", s->where, reason);
    if (c->o.on_error == BENCH_ON_ERROR_SKIP) {
        c->set->skipped++;
        if (!c->set->first_skip_msg)
            c->set->first_skip_msg = xstrdup(tmp.msg);
        return 0;
    }
    if (c->err)
        *c->err = tmp;
    return code;
}

static uint64_t id_hash(const char *id)
{
    uint64_t h = hash64(id, strlen(id), 0);
    return h ? h : 1;
}

static void idmap_put(bench_idmap *m, uint64_t h, size_t idx)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    while (m->hash[i])
        i = (i + 1) & mask;
    m->hash[i] = h;
    m->idx[i] = idx;
    m->n++;
}

static void idmap_grow(bench_idmap *m)
{
    bench_idmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 256;
    m->hash = xcalloc(m->cap, sizeof *m->hash);
    m->idx = xcalloc(m->cap, sizeof *m->idx);
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.hash[i])
            idmap_put(m, old.hash[i], old.idx[i]);
    free(old.hash);
    free(old.idx);
}

/* The item with this id, or NULL. */
static const bench_item *idmap_find(const bench_ctx *c, const char *id, uint64_t h)
{
    const bench_idmap *m = &c->ids;
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask; m->hash[i]; i = (i + 1) & mask)
        if (m->hash[i] == h && strcmp(c->set->items[m->idx[i]].id, id) == 0)
            return &c->set->items[m->idx[i]];
    return NULL;
}

int bench_emit(bench_ctx *c, const bench_src *s, uint64_t line, bench_item *it)
{
    uint64_t h = id_hash(it->id);
    const bench_item *prev = idmap_find(c, it->id, h);
    if (prev) {
        int rc = mn_errf(c->err, MN_EFORMAT, "%s: line %llu: duplicate id '%s' (first at %s)", s->where,
                         (unsigned long long)line, it->id, prev->source);
        bench_item_free(it);
        return rc;
    }
    it->source = bench_printf("%s:%llu", s->where, (unsigned long long)line);
    if ((c->ids.n + 1) * 2 > c->ids.cap)
        idmap_grow(&c->ids);
    bench_set_add(c->set, it);
    idmap_put(&c->ids, h, c->set->n - 1);
    return 0;
}

/* ------------------------------------------------------------------ */
/* JSON lines */

void bench_lines_init(bench_lines *it, const bench_src *s)
{
    it->p = s->data;
    it->end = s->data + s->len;
    it->line = 0;
    it->next_long = 0;
}

int bench_json_next(bench_ctx *c, const bench_src *s, bench_lines *it, json_t **obj, uint64_t *line)
{
    *obj = NULL;
    while (it->p < it->end) {
        const char *ls = it->p, *b = ls, *nl = memchr(b, '\n', (size_t)(it->end - b));
        size_t len = (size_t)((nl ? nl : it->end) - b);
        it->p = nl ? nl + 1 : it->end;
        unsigned long long ln = ++it->line;
        if (it->next_long < s->nlong && s->long_lines[it->next_long].line == ln) {
            /* dropped while reading (its '\n' is all that is left) */
            size_t big = s->long_lines[it->next_long++].len;
            c->rows++;
            c->src_rows++;
            int rc = bench_row_error(c, s, MN_ERANGE, "line %llu: line of %zu bytes exceeds the limit of %zu bytes", ln,
                                     big, c->o.max_field);
            if (rc < 0)
                return rc;
            continue;
        }
        if (len && b[len - 1] == '\r')
            len--;
        if (ln == 1 && len >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0) {
            b += 3;
            len -= 3;
        }
        size_t k = 0;
        while (k < len && (b[k] == ' ' || b[k] == '\t' || b[k] == '\r'))
            k++;
        if (k == len)
            continue; /* blank line */
        c->rows++;
        c->src_rows++;
        int rc = 0;
        json_error_t je;
        json_t *j = NULL;
        size_t ok = utf8_valid_prefix(b, len);
        if (len > c->o.max_field)
            rc = bench_row_error(c, s, MN_ERANGE, "line %llu: line of %zu bytes exceeds the limit of %zu bytes", ln, len,
                                 c->o.max_field);
        else if (ok < len)
            rc = bench_row_error(c, s, MN_EFORMAT, "line %llu, column %zu: invalid UTF-8 byte 0x%02x", ln,
                                 (size_t)(b - ls) + ok + 1, (unsigned)(unsigned char)b[ok]);
        else if (!(j = json_loadb(b, len, JSON_REJECT_DUPLICATES, &je)))
            rc = bench_row_error(c, s, MN_EFORMAT, "line %llu, column %d: invalid JSON: %s", ln, je.column, je.text);
        else if (!json_is_object(j)) {
            rc = bench_row_error(c, s, MN_EFORMAT, "line %llu: not a JSON object (found %s)", ln, bench_json_kind(j));
            json_decref(j);
            j = NULL;
        }
        if (rc < 0)
            return rc;
        if (!j)
            continue;
        *obj = j;
        *line = ln;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* reading inputs */

typedef struct bench_member {
    char *where; /* "FILE" or "FILE:MEMBER" */
    char *name;  /* without compression suffix */
    char *data;  /* [len + 1], NUL-terminated */
    size_t len;
    bench_longline *long_lines; /* [nlong] JSON lines over max_field, dropped while reading */
    size_t nlong;
} bench_member;

typedef struct member_list {
    bench_member *m;
    size_t n, cap;
} member_list;

static void members_free(member_list *ml)
{
    for (size_t i = 0; i < ml->n; i++) {
        free(ml->m[i].where);
        free(ml->m[i].name);
        free(ml->m[i].data);
        free(ml->m[i].long_lines);
    }
    free(ml->m);
    memset(ml, 0, sizeof *ml);
}

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const bench_member *)a)->where, ((const bench_member *)b)->where);
}

static void support_filters(struct archive *a)
{
    /* in-process decoders only: filter_all would also enable lrzip, lzop and
     * grzip, which run external programs (as in docsource.c) */
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_lzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_lz4(a);
    archive_read_support_filter_compress(a);
}

/* A system errno means I/O; libarchive's own codes mean damaged data. */
static int archive_code(struct archive *a)
{
    int e = archive_errno(a);
    return e > 0 && e != EILSEQ && e != EINVAL ? MN_EIO : MN_EFORMAT;
}

static const char *archive_msg(struct archive *a)
{
    const char *m = archive_error_string(a);
    return m ? m : "unknown error";
}

/* ------------------------------------------------------------------ */
/* JSON lines over max_field, dropped while reading */

/* The line being read and the over-long lines found so far.  A line is
 * kept until it is longer than max_field + 4 bytes (a BOM and a '\r' do not
 * count toward the limit); then its bytes are dropped as they arrive, and
 * only its '\n' is kept, so memory holds at most max_field + 4 bytes of it
 * plus one read block, whatever its length. */
typedef struct line_limit {
    size_t max;             /* opts.max_field */
    uint64_t line;          /* number of the line being read (1-based) */
    size_t start;           /* its offset in the buffer, while kept */
    int dropping;           /* its bytes are being dropped */
    int bom, blank;         /* it is line 1 starting with a BOM; only ' ', '\t', '\r' so far (after a BOM) */
    size_t seen;            /* its bytes so far, while dropping (saturating) */
    char last;              /* its last byte so far */
    bench_longline *list;   /* [n] over-long lines, in order */
    size_t n, cap;
} line_limit;

static int blank_bytes(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

/* The kept line p[0..n) got too long: drop it from here on. */
static void drop_begin(line_limit *ll, const char *p, size_t n)
{
    ll->dropping = 1;
    ll->bom = ll->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0;
    ll->blank = blank_bytes(p + 3 * ll->bom, n - 3 * ll->bom);
    ll->seen = n;
    ll->last = p[n - 1];
}

static void drop_more(line_limit *ll, const char *p, size_t n)
{
    if (!n)
        return;
    ll->blank = ll->blank && blank_bytes(p, n);
    ll->seen = ll->seen > SIZE_MAX - n ? SIZE_MAX : ll->seen + n;
    ll->last = p[n - 1];
}

/* The dropped line ended: record it (a blank line is skipped by the parser
 * anyway) with the length bench_json_next would have measured. */
static void drop_end(line_limit *ll)
{
    if (!ll->blank) {
        if (ll->n == ll->cap) {
            ll->cap = ll->cap ? 2 * ll->cap : 8;
            ll->list = xrealloc(ll->list, ll->cap * sizeof *ll->list);
        }
        size_t len = ll->seen - (ll->last == '\r') - 3 * (size_t)ll->bom;
        ll->list[ll->n++] = (bench_longline){ll->line, len};
    }
    ll->dropping = 0;
}

/* Account for buf[from, to), just read; returns the new end of the kept
 * data (bytes of over-long lines removed). */
static size_t limit_lines(line_limit *ll, char *buf, size_t from, size_t to)
{
    size_t w = from;
    for (size_t i = from; i < to;) {
        char *nl = memchr(buf + i, '\n', to - i);
        size_t end = nl ? (size_t)(nl - buf) : to;
        if (ll->dropping) {
            drop_more(ll, buf + i, end - i);
        } else {
            memmove(buf + w, buf + i, end - i);
            w += end - i;
            if (w - ll->start > ll->max + 4) {
                drop_begin(ll, buf + ll->start, w - ll->start);
                w = ll->start;
            }
        }
        if (!nl)
            break;
        if (ll->dropping)
            drop_end(ll);
        buf[w++] = '\n';
        ll->line++;
        ll->start = w;
        i = end + 1;
    }
    return w;
}

/* The rest of a's current entry into a malloc'd NUL-terminated buffer of
 * at most max_bytes.  With ll (a JSON-lines source), lines longer than
 * max_field are dropped as they are read and listed in ll. */
static int read_entry(bench_ctx *c, struct archive *a, const char *where, line_limit *ll, char **out, size_t *outlen)
{
    size_t cap = READ_BLOCK, len = 0;
    char *buf = malloc(cap + 2);
    if (!buf)
        return mn_errf(c->err, MN_ENOMEM, "%s: out of memory", where);
    for (;;) {
        if (cap - len < READ_BLOCK / 2) {
            size_t ncap = cap * 2;
            if (ncap > c->o.max_bytes + READ_BLOCK)
                ncap = c->o.max_bytes + READ_BLOCK;
            char *nb = ncap > cap ? realloc(buf, ncap + 2) : NULL;
            if (!nb) {
                free(buf);
                return mn_errf(c->err, MN_ENOMEM, "%s: out of memory reading %zu bytes", where, ncap);
            }
            buf = nb;
            cap = ncap;
        }
        /* archive_read_data fills all it is given: a block at a time, so
         * that an over-long line is dropped before it fills the buffer */
        size_t want = ll && cap - len > READ_BLOCK ? READ_BLOCK : cap - len;
        la_ssize_t r = archive_read_data(a, buf + len, want);
        if (r < 0) {
            int rc = mn_errf(c->err, archive_code(a), "%s: byte %zu: archive error: %s", where, len, archive_msg(a));
            free(buf);
            return rc;
        }
        if (r == 0)
            break;
        len = ll ? limit_lines(ll, buf, len, len + (size_t)r) : len + (size_t)r;
        if (len > c->o.max_bytes) {
            free(buf);
            return mn_errf(c->err, MN_ERANGE, "%s: larger than the limit of %zu bytes", where, c->o.max_bytes);
        }
    }
    if (ll && ll->dropping) { /* a last line without '\n': keep one, so the parser meets it */
        drop_end(ll);
        buf[len++] = '\n'; /* room: the buffer has cap + 2 bytes */
    }
    buf[len] = 0;
    *out = buf;
    *outlen = len;
    return 0;
}

/* Does kind k parse a source of this name (compression suffix stripped) as
 * JSON lines? */
static int json_lines(const bench_kind *k, const char *name)
{
    return k->json_lines == LINES_ALWAYS ||
           (k->json_lines == LINES_BY_NAME && (bench_ends_with(name, ".jsonl") || bench_ends_with(name, ".ndjson") ||
                                               bench_ends_with(name, ".json")));
}

static struct archive *reader_new(const bench_ctx *c, int containers)
{
    struct archive *a = archive_read_new();
    support_filters(a);
    if (containers) {
        archive_read_support_format_tar(a);
        archive_read_support_format_zip(a);
        if (c->o.passphrase)
            archive_read_add_passphrase(a, c->o.passphrase);
    }
    archive_read_support_format_empty(a);
    archive_read_support_format_raw(a);
    return a;
}

/* Decompress a "x.jsonl.gz" member's bytes in place of *data (ll as for
 * read_entry). */
static int decompress_member(bench_ctx *c, const char *where, line_limit *ll, char **data, size_t *len)
{
    struct archive *a = reader_new(c, 0);
    struct archive_entry *e;
    int rc = 0;
    char *out = NULL;
    size_t olen = 0;
    int r = archive_read_open_memory(a, *data, *len);
    if (r == ARCHIVE_OK)
        r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) {
        out = xcalloc(1, 1);
    } else if (r < ARCHIVE_WARN) {
        rc = mn_errf(c->err, MN_EFORMAT, "%s: archive error: %s", where, archive_msg(a));
    } else {
        rc = read_entry(c, a, where, ll, &out, &olen);
    }
    archive_read_free(a);
    if (rc < 0)
        return rc;
    free(*data);
    *data = out;
    *len = olen;
    return 0;
}

/* Add a member; takes where, name, data and ll's list (ll may be NULL). */
static void members_push(member_list *ml, char *where, char *name, char *data, size_t len, line_limit *ll)
{
    if (ml->n == ml->cap) {
        ml->cap = ml->cap ? ml->cap * 2 : 16;
        ml->m = xrealloc(ml->m, ml->cap * sizeof *ml->m);
    }
    ml->m[ml->n++] = (bench_member){where, name, data, len, ll ? ll->list : NULL, ll ? ll->n : 0};
}

/* A line limit for a source kind k reads under this name, or NULL. */
static line_limit *line_limit_for(const bench_ctx *c, const bench_kind *k, const char *name, line_limit *ll)
{
    if (!json_lines(k, name))
        return NULL;
    *ll = (line_limit){.max = c->o.max_field, .line = 1};
    return ll;
}

/* Every member of the opened input a (labelled `label`) that fits kind k
 * (a raw input is one member, whatever its name), into ml. */
static int collect(bench_ctx *c, const bench_kind *k, struct archive *a, const char *label, member_list *ml,
                   int *found_member)
{
    for (int first = 1;; first = 0) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        int compressed;
        if (r == ARCHIVE_EOF && first && archive_format(a) == ARCHIVE_FORMAT_EMPTY) {
            /* an empty file (maybe compressed): a source without rows */
            members_push(ml, xstrdup(label), strip_compression(label, &compressed), xcalloc(1, 1), 0, NULL);
            return 0;
        }
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN)
            return mn_errf(c->err, archive_code(a), "%s: %s: archive error: %s", label,
                           ml->n ? "after a member" : "at the start", archive_msg(a));
        if (first && archive_format(a) == ARCHIVE_FORMAT_RAW) {
            char *data, *name = strip_compression(label, &compressed);
            size_t len;
            line_limit lim, *ll = line_limit_for(c, k, name, &lim);
            int rc = read_entry(c, a, label, ll, &data, &len);
            if (rc < 0) {
                free(name);
                free(ll ? ll->list : NULL);
                return rc;
            }
            members_push(ml, xstrdup(label), name, data, len, ll);
            return 0;
        }
        const char *mname = archive_entry_pathname(e);
        if (!mname || archive_entry_filetype(e) != AE_IFREG || is_junk(mname))
            continue;
        char *name = strip_compression(mname, &compressed);
        int want = c->o.member ? strcmp(mname, c->o.member) == 0 : k->wants(c, name);
        if (!want) {
            free(name);
            continue;
        }
        *found_member = 1;
        char *where = bench_printf("%s:%s", label, mname);
        int rc = 0;
        char *data = NULL;
        size_t len = 0;
        line_limit lim, *ll = line_limit_for(c, k, name, &lim);
        if (archive_entry_is_encrypted(e) && !c->o.passphrase)
            rc = mn_errf(c->err, MN_EUNSUPPORTED, "%s: the member is encrypted: give its passphrase (opts.passphrase)",
                         where);
        if (!rc) /* a compressed member's lines are limited once decompressed */
            rc = read_entry(c, a, where, compressed ? NULL : ll, &data, &len);
        if (!rc && compressed)
            rc = decompress_member(c, where, ll, &data, &len);
        if (rc < 0) {
            free(name);
            free(where);
            free(data);
            free(ll ? ll->list : NULL);
            return rc;
        }
        members_push(ml, where, name, data, len, ll);
    }
}

/* Parse one member with the kind's parser; a source without rows is a
 * malformed source ("no items"). */
static int parse_member(bench_ctx *c, const bench_kind *k, const bench_member *m)
{
    bench_src s = {m->where, m->name, m->data, m->len, m->long_lines, m->nlong};
    c->src_rows = 0;
    int rc = k->parse(c, &s);
    if (rc < 0)
        return rc;
    if (c->src_rows == 0)
        return bench_row_error(c, &s, MN_EFORMAT, "no items");
    return 0;
}

/* Read the input at path (buf == NULL) or buf[0..len) named label, then
 * parse its fitting members in name order. */
static int load_input(bench_ctx *c, const bench_kind *k, const char *label, const void *buf, size_t len,
                      size_t *nsources)
{
    struct archive *a = reader_new(c, 1);
    member_list ml = {0};
    int found = 0, rc;
    int r = buf ? archive_read_open_memory(a, buf, len) : archive_read_open_filename(a, label, READ_BLOCK);
    if (r != ARCHIVE_OK)
        rc = mn_errf(c->err, buf ? MN_EFORMAT : archive_code(a), "%s: at the start: archive error: %s", label,
                     archive_msg(a));
    else
        rc = collect(c, k, a, label, &ml, &found);
    int fmt = archive_format(a);
    int is_archive = fmt != ARCHIVE_FORMAT_RAW && fmt != ARCHIVE_FORMAT_EMPTY;
    archive_read_free(a);
    if (rc == 0 && c->o.member && is_archive && !found)
        rc = mn_errf(c->err, MN_EFORMAT, "%s: no member '%s'", label, c->o.member);
    if (rc == 0 && ml.n > 1)
        qsort(ml.m, ml.n, sizeof *ml.m, member_cmp);
    *nsources += ml.n;
    for (size_t i = 0; rc == 0 && i < ml.n; i++) {
        rc = parse_member(c, k, &ml.m[i]);
        free(ml.m[i].data);
        ml.m[i].data = NULL;
    }
    members_free(&ml);
    return rc;
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The directory to list for kind k under path: MMLU looks for the split's
 * folder (PATH/<split>, PATH/data/<split>) before PATH itself. */
static char *resolve_dir(const bench_ctx *c, const bench_kind *k, const char *path)
{
    if (k->split_dirs) {
        char *d = path_join(path, c->o.split);
        if (is_dir(d))
            return d;
        free(d);
        char *sub = bench_printf("data/%s", c->o.split);
        d = path_join(path, sub);
        free(sub);
        if (is_dir(d))
            return d;
        free(d);
    }
    return xstrdup(path);
}

/* Every fitting regular file of a directory, in name order. */
static int load_dir(bench_ctx *c, const bench_kind *k, const char *path, size_t *nsources)
{
    char *dir = resolve_dir(c, k, path);
    DIR *d = opendir(dir);
    if (!d) {
        int rc = mn_errf(c->err, MN_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
        free(dir);
        return rc;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        int compressed;
        char *stripped = strip_compression(nm, &compressed);
        int want = nm[0] != '.' && k->wants(c, stripped);
        free(stripped);
        if (!want)
            continue;
        char *full = path_join(dir, nm);
        struct stat sb;
        if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(full);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n++] = full;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = load_input(c, k, names[i], NULL, 0, nsources);
        free(names[i]);
    }
    free(names);
    free(dir);
    return rc;
}

/* ------------------------------------------------------------------ */
/* entry points */

void bench_load_opts_default(bench_load_opts *o)
{
    memset(o, 0, sizeof *o);
    o->split = "test";
    o->seed = 1234;
    o->on_error = BENCH_ON_ERROR_FAIL;
    o->fields = (bench_fields){"id", "question", "answer", "choices", "subject"};
    o->max_field = BENCH_MAX_FIELD_DEFAULT;
    o->max_bytes = BENCH_MAX_BYTES_DEFAULT;
}

static const char *or_default(const char *v, const char *def) { return v ? v : def; }

/* Copy opts into c with every default filled in; MN_EUSAGE on bad values. */
static int ctx_init(bench_ctx *c, const bench_load_opts *o, bench_set *out, mn_err *err)
{
    memset(c, 0, sizeof *c);
    c->err = err;
    c->set = out;
    if (o)
        c->o = *o;
    else
        bench_load_opts_default(&c->o);
    bench_fields *f = &c->o.fields;
    c->o.split = or_default(c->o.split, "test");
    f->id = or_default(f->id, "id");
    f->question = or_default(f->question, "question");
    f->answer = or_default(f->answer, "answer");
    f->choices = or_default(f->choices, "choices");
    f->subject = or_default(f->subject, "subject");
    if (!c->o.max_field)
        c->o.max_field = BENCH_MAX_FIELD_DEFAULT;
    if (!c->o.max_bytes)
        c->o.max_bytes = BENCH_MAX_BYTES_DEFAULT;
    if (!*c->o.split || strchr(c->o.split, '/'))
        return mn_errf(err, MN_EUSAGE, "bad MMLU split '%s' (expected e.g. test, dev, val)", c->o.split);
    if (!*f->question || !*f->answer)
        return mn_errf(err, MN_EUSAGE, "the jsonl question and answer field names must not be empty");
    if (c->o.on_error != BENCH_ON_ERROR_FAIL && c->o.on_error != BENCH_ON_ERROR_SKIP)
        return mn_errf(err, MN_EUSAGE, "bad on_error value %d", (int)c->o.on_error);
    return 0;
}

/* After the inputs were read: a set without items is an error. */
static int ctx_finish(bench_ctx *c, const bench_kind *k, const char *path, int rc, size_t nsources)
{
    free(c->ids.hash);
    free(c->ids.idx);
    if (rc == 0 && c->set->n == 0) {
        if (c->set->skipped)
            rc = mn_errf(c->err, MN_EFORMAT, "%s: no items (%zu malformed row%s skipped, the first: %s)", path,
                         c->set->skipped, c->set->skipped == 1 ? "" : "s", c->set->first_skip_msg);
        else if (nsources == 0 && k->split_dirs)
            rc = mn_errf(c->err, MN_EFORMAT, "%s: no items (no file fits %s: expected %s/<subject>_%s.csv)", path,
                         k->name, c->o.split, c->o.split);
        else if (nsources == 0)
            rc = mn_errf(c->err, MN_EFORMAT, "%s: no items (no file fits %s: expected %s)", path, k->name, k->fits);
        else
            rc = mn_errf(c->err, MN_EFORMAT, "%s: no items", path);
    }
    if (rc < 0)
        bench_set_free(c->set);
    return rc;
}

static int set_begin(bench_ctx *c, const bench_load_opts *o, bench_set *out, const char *kind, size_t klen,
                     const char *path, mn_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = ctx_init(c, o, out, err);
    if (rc < 0)
        return rc;
    out->kind = xmalloc(klen + 1);
    memcpy(out->kind, kind, klen);
    out->kind[klen] = 0;
    out->path = xstrdup(path);
    return 0;
}

int bench_load(const char *spec, const bench_load_opts *o, bench_set *out, mn_err *err)
{
    memset(out, 0, sizeof *out);
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (!colon || colon == spec || !colon[1])
        return mn_errf(err, MN_EUSAGE, "bad benchmark spec '%s': expected KIND:PATH with KIND one of %s",
                       spec ? spec : "(null)", bench_kind_names());
    const bench_kind *k = kind_find(spec, (size_t)(colon - spec));
    if (!k)
        return mn_errf(err, MN_EUSAGE, "unknown benchmark kind '%.*s' in '%s' (kinds: %s)", (int)(colon - spec), spec,
                       spec, bench_kind_names());
    const char *path = colon + 1;
    bench_ctx c;
    int rc = set_begin(&c, o, out, spec, (size_t)(colon - spec), path, err);
    if (rc < 0)
        return rc;
    struct stat sb;
    size_t nsources = 0;
    if (stat(path, &sb) != 0)
        rc = mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        rc = load_dir(&c, k, path, &nsources);
    else
        rc = load_input(&c, k, path, NULL, 0, &nsources);
    return ctx_finish(&c, k, path, rc, nsources);
}

int bench_load_memory(const char *kind, const char *name, const void *buf, size_t len,
                      const bench_load_opts *o, bench_set *out, mn_err *err)
{
    memset(out, 0, sizeof *out);
    const bench_kind *k = kind_find(kind, strlen(kind));
    if (!k)
        return mn_errf(err, MN_EUSAGE, "unknown benchmark kind '%s' (kinds: %s)", kind, bench_kind_names());
    bench_ctx c;
    int rc = set_begin(&c, o, out, kind, strlen(kind), name, err);
    if (rc < 0)
        return rc;
    static const char empty[1];
    size_t nsources = 0;
    rc = load_input(&c, k, name, len ? buf : empty, len, &nsources);
    return ctx_finish(&c, k, name, rc, nsources);
}
