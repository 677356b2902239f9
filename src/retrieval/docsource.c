/* docsource.c — files and archives to documents (see docsource.h).
 *
 * Layers, outermost first: libarchive (container + compression) gives
 * members; a member named "*.gz" etc. gets a second libarchive reader (raw
 * format) that decompresses it on the fly; a linereader bounds memory; the
 * jsonl / wet / whole-text readers turn bytes into documents.  A docsource
 * is a small state machine: NEED_MEMBER -> IN_MEMBER -> ... -> DONE, with
 * a sticky final result (end or error). */
#include "retrieval/docsource.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "retrieval/jsonl.h"      /* jsonl_parse_line, jsonl_record */
#include "retrieval/linereader.h" /* linereader */
#include "retrieval/wet.h"        /* wet_reader */
#include "util/utf8.h"            /* utf8_valid_prefix */

#define DS_BLOCK ((size_t)64 << 10)

enum { ST_NEED_MEMBER, ST_IN_MEMBER, ST_FINAL };

struct docsource {
    char *source;          /* path or name, for messages and provenance */
    docsource_opts opts;   /* field names point at the owned copies below */
    char *text_field, *id_field;
    struct archive *a;     /* the input */
    const void *mem;       /* docsource_open_memory's buffer (borrowed), else NULL */
    size_t mem_len;
    int raw_only;          /* the input was reopened as a single file (no tar/zip) */
    int state;
    int final_rc;          /* ST_FINAL: what every later call returns */
    mn_err final_err;
    int headers;           /* headers read so far */
    int raw;               /* the input is a single (maybe compressed) file */

    /* current member */
    char *member;          /* member name; NULL for a raw input */
    char *prev_member;     /* last member name, for header errors */
    const char *name;      /* what ids and types are derived from: member or source */
    doc_kind kind;
    struct archive *inner; /* decompressor of a "*.gz" member, or NULL */
    int outer_failed;      /* inner's source (the outer archive) failed */
    char *ibuf;            /* [DS_BLOCK] inner reader's input block */
    uint64_t member_bytes; /* decompressed bytes read from the member */
    linereader lr;
    uint64_t line;         /* JSONL lines read */
    int text_done;         /* TEXT: the document was delivered */
    jsonl_record rec;      /* JSONL: keeps the current text alive */
    wet_reader wet;
    char *idbuf;
    size_t idcap;

    docsource_stats st;
};

/* ------------------------------------------------------------------ */
/* names */

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && strncasecmp(s + n - k, suf, k) == 0;
}

static const char *const COMPRESSED[] = {".gz", ".zst", ".zstd", ".xz", ".bz2", ".lz4", ".lzma", ".lz", ".Z"};

/* Document kind of a name (0: none) and whether it carries a compression
 * suffix. */
static doc_kind classify(const char *name, int *compressed)
{
    size_t n = strlen(name);
    *compressed = 0;
    for (size_t i = 0; i < sizeof COMPRESSED / sizeof COMPRESSED[0]; i++)
        if (ends_with(name, n, COMPRESSED[i])) {
            n -= strlen(COMPRESSED[i]);
            *compressed = 1;
            break;
        }
    if (ends_with(name, n, ".jsonl") || ends_with(name, n, ".ndjson"))
        return DOC_JSONL;
    if (ends_with(name, n, ".txt") || ends_with(name, n, ".md"))
        return DOC_TEXT;
    if (ends_with(name, n, ".wet"))
        return DOC_WET;
    return 0;
}

/* Does the name say tar ("x.tar", "x.tar.gz", "x.tgz", ...)? */
static int name_says_tar(const char *name)
{
    static const char *const SHORT[] = {".tgz", ".taz", ".tbz", ".tbz2", ".tb2", ".txz", ".tlz", ".tzst", ".tZ"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof SHORT / sizeof SHORT[0]; i++)
        if (ends_with(name, n, SHORT[i]))
            return 1;
    for (size_t i = 0; i < sizeof COMPRESSED / sizeof COMPRESSED[0]; i++)
        if (ends_with(name, n, COMPRESSED[i])) {
            n -= strlen(COMPRESSED[i]);
            break;
        }
    return ends_with(name, n, ".tar");
}

static int is_junk(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return strncmp(base, "._", 2) == 0 || strncmp(name, "__MACOSX/", 9) == 0 || strstr(name, "/__MACOSX/");
}

/* ------------------------------------------------------------------ */
/* libarchive plumbing */

static void support_filters(struct archive *a)
{
    /* in-process decoders only: filter_all would also enable lrzip, lzop and
     * grzip, which run external programs */
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_lzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_lz4(a);
    archive_read_support_filter_compress(a);
}

/* The inner reader's source: blocks of the outer archive's current member. */
static la_ssize_t inner_read_cb(struct archive *inner, void *ctx, const void **buffer)
{
    docsource *ds = ctx;
    la_ssize_t r = archive_read_data(ds->a, ds->ibuf, DS_BLOCK);
    if (r < 0) {
        ds->outer_failed = 1;
        archive_set_error(inner, archive_errno(ds->a) > 0 ? archive_errno(ds->a) : EILSEQ, "%s",
                          archive_error_string(ds->a) ? archive_error_string(ds->a) : "read error");
        return -1;
    }
    *buffer = ds->ibuf;
    return r;
}

/* The linereader's source: decompressed bytes of the current member. */
static ssize_t member_read(void *ctx, char *buf, size_t n)
{
    docsource *ds = ctx;
    la_ssize_t r = archive_read_data(ds->inner ? ds->inner : ds->a, buf, n);
    if (r > 0) {
        ds->member_bytes += (uint64_t)r;
        ds->st.bytes += (uint64_t)r;
    }
    return r < 0 ? -1 : r;
}

/* The archive whose error explains a failed read. */
static struct archive *failed_archive(docsource *ds)
{
    return ds->inner && !ds->outer_failed ? ds->inner : ds->a;
}

/* A system errno from the file means I/O; libarchive's own codes
 * (ARCHIVE_ERRNO_MISC = -1, ARCHIVE_ERRNO_FILE_FORMAT = EILSEQ, EINVAL for
 * bad data handed to a decoder) mean damaged contents. */
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

/* "SOURCE: member 'M': " or "SOURCE: " into buf. */
static const char *where(const docsource *ds, char *buf, size_t cap)
{
    if (ds->member)
        snprintf(buf, cap, "%s: member '%s'", ds->source, ds->member);
    else
        snprintf(buf, cap, "%s", ds->source);
    return buf;
}

/* Make the stream's result final (sticky) and return it. */
static int finish(docsource *ds, int rc, mn_err *err)
{
    ds->state = ST_FINAL;
    ds->final_rc = rc;
    if (rc < 0 && err)
        ds->final_err = *err;
    return rc;
}

static int source_error(docsource *ds, mn_err *err)
{
    struct archive *fa = failed_archive(ds);
    char w[1200];
    mn_errf(err, archive_code(fa), "%s: byte %" PRIu64 ": archive error: %s (compressed byte %" PRId64 ")",
            where(ds, w, sizeof w), ds->member_bytes, archive_msg(fa), (int64_t)archive_filter_bytes(ds->a, -1));
    return finish(ds, err->code, err);
}

/* (Re)open the input (the file ds->source, or ds->mem): containers (tar,
 * zip) and single files, or with raw_only single files only.  Returns
 * libarchive's status; the reader is ds->a either way. */
static int reader_open(docsource *ds, int raw_only)
{
    if (ds->a)
        archive_read_free(ds->a);
    ds->a = archive_read_new();
    ds->raw_only = raw_only;
    ds->headers = 0;
    support_filters(ds->a);
    if (!raw_only) {
        archive_read_support_format_tar(ds->a);
        archive_read_support_format_zip(ds->a);
    }
    archive_read_support_format_empty(ds->a);
    archive_read_support_format_raw(ds->a);
    if (ds->mem)
        return archive_read_open_memory(ds->a, ds->mem, ds->mem_len);
    return archive_read_open_filename(ds->a, ds->source, DS_BLOCK);
}

/* The input could not be opened: the final error. */
static int open_error(docsource *ds, const char *pos, mn_err *err)
{
    mn_errf(err, ds->mem ? MN_EFORMAT : archive_code(ds->a), "%s: %s (compressed byte %" PRId64 "): archive error: %s",
            ds->source, pos, (int64_t)archive_filter_bytes(ds->a, -1), archive_msg(ds->a));
    return finish(ds, err->code, err);
}

/* ------------------------------------------------------------------ */
/* members */

static void member_end(docsource *ds)
{
    if (ds->lr.peak > ds->st.peak_buffer)
        ds->st.peak_buffer = ds->lr.peak;
    linereader_free(&ds->lr);
    jsonl_record_clear(&ds->rec);
    wet_reader_free(&ds->wet);
    if (ds->inner) {
        archive_read_free(ds->inner);
        ds->inner = NULL;
    }
    free(ds->prev_member);
    ds->prev_member = ds->member;
    ds->member = NULL;
    ds->state = ST_NEED_MEMBER;
}

/* Set up a reader for a member (or the raw input) of the given kind. */
static int member_begin(docsource *ds, const char *member, doc_kind kind, int compressed, mn_err *err)
{
    ds->member = member ? xstrdup(member) : NULL;
    ds->name = ds->member ? ds->member : ds->source;
    ds->kind = kind;
    ds->member_bytes = 0;
    ds->line = 0;
    ds->text_done = 0;
    ds->outer_failed = 0;
    wet_reader_init(&ds->wet);
    linereader_init(&ds->lr, member_read, ds, ds->opts.max_record);
    ds->state = ST_IN_MEMBER;
    ds->st.members++;
    if (!compressed || !member)
        return 0; /* a raw input is decompressed by the outer reader */
    if (!ds->ibuf)
        ds->ibuf = xmalloc(DS_BLOCK);
    ds->inner = archive_read_new();
    support_filters(ds->inner);
    archive_read_support_format_raw(ds->inner);
    archive_read_support_format_empty(ds->inner);
    struct archive_entry *e;
    int r = archive_read_open(ds->inner, ds, NULL, inner_read_cb, NULL);
    if (r == ARCHIVE_OK)
        r = archive_read_next_header(ds->inner, &e);
    if (r == ARCHIVE_EOF) { /* decompresses to nothing */
        ds->lr.eof = 1;
        return 0;
    }
    if (r < ARCHIVE_WARN)
        return source_error(ds, err);
    return 0;
}

/* Read headers until a member to read; 1 = in a member, 0 = end. */
static int next_member(docsource *ds, mn_err *err)
{
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(ds->a, &e);
        if (r == ARCHIVE_EOF && ds->headers == 0 && !ds->raw_only &&
            (archive_format(ds->a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR && !name_says_tar(ds->source)) {
            /* libarchive's tar reader outbids the raw one on an all-zero
             * first block (an empty tar's end marker), so data that merely
             * starts with 512 zero bytes reads as an empty archive.  Unless
             * the name says tar, read the input again as one (maybe
             * compressed) file. */
            if (reader_open(ds, 1) != ARCHIVE_OK)
                return open_error(ds, "at the start", err);
            continue;
        }
        if (r == ARCHIVE_EOF)
            return finish(ds, 0, NULL);
        if (r < ARCHIVE_WARN) {
            char pos[1200];
            if (ds->prev_member)
                snprintf(pos, sizeof pos, "after member '%s'", ds->prev_member);
            else
                snprintf(pos, sizeof pos, "%s", ds->headers ? "after the first member" : "at the start");
            mn_errf(err, archive_code(ds->a), "%s: %s (compressed byte %" PRId64 "): archive error: %s", ds->source,
                    pos, (int64_t)archive_filter_bytes(ds->a, -1), archive_msg(ds->a));
            return finish(ds, err->code, err);
        }
        int first = ds->headers++ == 0;
        int compressed;
        if (first && archive_format(ds->a) == ARCHIVE_FORMAT_RAW) {
            ds->raw = 1;
            doc_kind kind = classify(ds->source, &compressed);
            if (!kind) {
                mn_errf(err, MN_EUNSUPPORTED,
                        "%s: not an archive (tar, zip) and not a .jsonl, .ndjson, .txt, .md, .wet or .warc.wet file (optionally compressed)",
                        ds->source);
                return finish(ds, err->code, err);
            }
            r = member_begin(ds, NULL, kind, compressed, err);
            return r < 0 ? r : 1;
        }
        const char *name = archive_entry_pathname(e);
        if (!name)
            name = "";
        doc_kind kind = classify(name, &compressed);
        if (archive_entry_filetype(e) != AE_IFREG || !kind || is_junk(name)) {
            ds->st.members_other++;
            free(ds->prev_member);
            ds->prev_member = xstrdup(name);
            continue;
        }
        if (archive_entry_is_encrypted(e)) {
            mn_errf(err, MN_EUNSUPPORTED, "%s: member '%s': encrypted members are not supported", ds->source, name);
            return finish(ds, err->code, err);
        }
        r = member_begin(ds, name, kind, compressed, err);
        return r < 0 ? r : 1;
    }
}

/* ------------------------------------------------------------------ */
/* documents */

static const char *synth_id(docsource *ds, uint64_t n)
{
    size_t need = strlen(ds->name) + 24;
    if (ds->idcap < need) {
        ds->idbuf = xrealloc(ds->idbuf, need);
        ds->idcap = need;
    }
    if (n)
        snprintf(ds->idbuf, ds->idcap, "%s:%" PRIu64, ds->name, n);
    else
        snprintf(ds->idbuf, ds->idcap, "%s", ds->name);
    return ds->idbuf;
}

static void doc_fill(docsource *ds, docsource_doc *out, const char *text, size_t len, uint64_t off)
{
    out->text = text;
    out->len = len;
    out->source = ds->source;
    out->member = ds->member;
    out->kind = ds->kind;
    out->offset = off;
    ds->st.docs++;
}

/* A record error: fail, or count and report it and go on (returns 0). */
static int record_error(docsource *ds, mn_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int record_error(docsource *ds, mn_err *err, int code, const char *fmt, ...)
{
    char w[1200], reason[MN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    mn_err tmp;
    mn_errf(&tmp, code, "%s: %s", where(ds, w, sizeof w), reason);
    if (ds->opts.on_error == DOCSOURCE_SKIP) {
        ds->st.skipped++;
        if (ds->opts.on_skip)
            ds->opts.on_skip(ds->opts.skip_ctx, &tmp);
        return 0;
    }
    if (err)
        *err = tmp;
    return finish(ds, code, &tmp);
}

static size_t bom_len(const char *s, size_t len)
{
    return len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* 1 = document, 0 = member finished, < 0 = error (already final). */
static int next_jsonl(docsource *ds, docsource_doc *out, mn_err *err)
{
    for (;;) {
        const char *line;
        size_t len;
        uint64_t off;
        int r = linereader_line(&ds->lr, &line, &len, &off);
        if (r == 0)
            return 0;
        if (r == LR_ESOURCE)
            return source_error(ds, err);
        ds->line++;
        if (r == LR_ETOOLONG) {
            if ((r = record_error(ds, err, MN_ERANGE, "line %" PRIu64 ": line of %zu bytes exceeds the limit of %zu bytes",
                                  ds->line, len, ds->opts.max_record)) < 0)
                return r;
            continue;
        }
        if (ds->line == 1) {
            size_t b = bom_len(line, len);
            line += b;
            len -= b;
        }
        mn_err why;
        r = jsonl_parse_line(line, len, ds->opts.text_field, ds->opts.id_field, &ds->rec, &why);
        if (r == 0)
            continue;
        if (r < 0) {
            if ((r = record_error(ds, err, r, "line %" PRIu64 ": %s", ds->line, why.msg)) < 0)
                return r;
            continue;
        }
        doc_fill(ds, out, ds->rec.text, ds->rec.len, off);
        out->line = ds->line;
        out->id = ds->rec.id ? ds->rec.id : synth_id(ds, ds->line);
        return 1;
    }
}

static int next_text(docsource *ds, docsource_doc *out, mn_err *err)
{
    if (ds->text_done)
        return 0;
    ds->text_done = 1;
    const char *data;
    size_t len;
    uint64_t off;
    int r = linereader_rest(&ds->lr, &data, &len, &off);
    if (r == LR_ESOURCE)
        return source_error(ds, err);
    if (r == LR_ETOOLONG)
        return record_error(ds, err, MN_ERANGE, "text of %zu bytes exceeds the limit of %zu bytes", len,
                            ds->opts.max_record);
    size_t b = bom_len(data, len);
    data += b;
    len -= b;
    if (len == 0)
        return 0;
    size_t ok = utf8_valid_prefix(data, len);
    if (ok < len)
        return record_error(ds, err, MN_EFORMAT, "invalid UTF-8 at byte %zu", ok + b);
    doc_fill(ds, out, data, len, 0);
    out->id = synth_id(ds, 0);
    return 1;
}

static int next_wet(docsource *ds, docsource_doc *out, mn_err *err)
{
    for (;;) {
        wet_record rec;
        mn_err why;
        uint64_t ignored = ds->wet.ignored;
        int r = wet_reader_next(&ds->wet, &ds->lr, &rec, &why);
        ds->st.records_ignored += ds->wet.ignored - ignored;
        if (r == 0)
            return 0;
        if (r == LR_ESOURCE)
            return source_error(ds, err);
        if (r < 0) {
            if ((r = record_error(ds, err, r, "%s", why.msg)) < 0)
                return r;
            continue;
        }
        doc_fill(ds, out, rec.text, rec.len, rec.offset);
        out->record = rec.record;
        out->uri = rec.uri;
        out->id = rec.id ? rec.id : synth_id(ds, rec.record);
        return 1;
    }
}

int docsource_next(docsource *ds, docsource_doc *out, mn_err *err)
{
    memset(out, 0, sizeof *out);
    jsonl_record_clear(&ds->rec);
    for (;;) {
        if (ds->state == ST_FINAL) {
            if (ds->final_rc < 0 && err)
                *err = ds->final_err;
            return ds->final_rc;
        }
        if (ds->state == ST_NEED_MEMBER) {
            int r = next_member(ds, err);
            if (r <= 0)
                return r;
            continue;
        }
        int r = ds->kind == DOC_JSONL ? next_jsonl(ds, out, err)
              : ds->kind == DOC_WET   ? next_wet(ds, out, err)
                                      : next_text(ds, out, err);
        if (r != 0)
            return r;
        if (ds->state == ST_FINAL)
            continue;
        member_end(ds);
    }
}

/* ------------------------------------------------------------------ */
/* lifecycle */

void docsource_opts_default(docsource_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->text_field = "text";
    opts->id_field = "id";
    opts->on_error = DOCSOURCE_FAIL;
    opts->max_record = DOCSOURCE_MAX_RECORD_DEFAULT;
}

static int ds_new(const char *name, const docsource_opts *opts, docsource **out, mn_err *err)
{
    docsource_opts o;
    if (opts)
        o = *opts;
    else
        docsource_opts_default(&o);
    if (o.text_field && !*o.text_field)
        return mn_errf(err, MN_EUSAGE, "%s: the text field name is empty", name);
    if (o.on_error != DOCSOURCE_FAIL && o.on_error != DOCSOURCE_SKIP)
        return mn_errf(err, MN_EUSAGE, "%s: bad on_error value %d", name, (int)o.on_error);
    docsource *ds = xcalloc(1, sizeof *ds);
    ds->source = xstrdup(name);
    ds->text_field = xstrdup(o.text_field ? o.text_field : "text");
    ds->id_field = xstrdup(o.id_field ? o.id_field : "id");
    o.text_field = ds->text_field;
    o.id_field = ds->id_field;
    if (!o.max_record)
        o.max_record = DOCSOURCE_MAX_RECORD_DEFAULT;
    ds->opts = o;
    *out = ds;
    return 0;
}

int docsource_open(const char *path, const docsource_opts *opts, docsource **out, mn_err *err)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return mn_errf(err, MN_EIO, "%s: is a directory (give the files in it)", path);
    docsource *ds;
    int rc = ds_new(path, opts, &ds, err);
    if (rc < 0)
        return rc;
    if (reader_open(ds, 0) != ARCHIVE_OK) {
        rc = open_error(ds, "at the start", err);
        docsource_close(ds);
        return rc;
    }
    *out = ds;
    return 0;
}

int docsource_open_memory(const char *name, const void *buf, size_t len, const docsource_opts *opts,
                          docsource **out, mn_err *err)
{
    *out = NULL;
    docsource *ds;
    int rc = ds_new(name, opts, &ds, err);
    if (rc < 0)
        return rc;
    ds->mem = buf;
    ds->mem_len = len;
    if (reader_open(ds, 0) != ARCHIVE_OK) {
        rc = open_error(ds, "at the start", err);
        docsource_close(ds);
        return rc;
    }
    *out = ds;
    return 0;
}

void docsource_stats_get(const docsource *ds, docsource_stats *out)
{
    *out = ds->st;
    la_int64_t in = ds->a ? archive_filter_bytes(ds->a, -1) : 0;
    out->input_bytes = in > 0 ? (uint64_t)in : 0;
    if (ds->lr.peak > out->peak_buffer)
        out->peak_buffer = ds->lr.peak;
}

void docsource_close(docsource *ds)
{
    if (!ds)
        return;
    linereader_free(&ds->lr);
    jsonl_record_clear(&ds->rec);
    wet_reader_free(&ds->wet);
    if (ds->inner)
        archive_read_free(ds->inner);
    archive_read_free(ds->a);
    free(ds->member);
    free(ds->prev_member);
    free(ds->ibuf);
    free(ds->idbuf);
    free(ds->text_field);
    free(ds->id_field);
    free(ds->source);
    free(ds);
}
