/* corpus_build.h — build test corpora in memory with libarchive's writer:
 * tar / zip / raw (single file) containers, optionally gzip- or
 * zstd-compressed, so no binary fixtures need to be committed.
 *
 *   cb_member m[] = {{"a.jsonl", "{\"text\":\"x\"}\n"}, {"d/", NULL}};
 *   cb_buf b = cb_build("tar", "gzip", m, 2);   // b.data, b.len; free(b.data)
 *   cb_save(dir, "corpus.tar.gz", &b);          // returns the path (static)
 *   cb_path("db");                               // a path in the same temp dir */
#ifndef MNEMO_TESTS_CORPUS_BUILD_H
#define MNEMO_TESTS_CORPUS_BUILD_H

#include <archive.h>
#include <archive_entry.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "retrieval/docsource.h" /* docsource_open, docsource_next */

typedef struct cb_member {
    const char *name; /* ending in '/' makes a directory */
    const char *data; /* NUL-terminated unless len is given */
    size_t len;       /* 0: strlen(data) */
} cb_member;

typedef struct cb_buf {
    char *data;
    size_t len, cap;
} cb_buf;

static inline la_ssize_t cb_write_cb_(struct archive *a, void *ctx, const void *buf, size_t n)
{
    (void)a;
    cb_buf *b = ctx;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 1024;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, buf, n);
    b->len += n;
    return (la_ssize_t)n;
}

/* format: "tar", "zip" (deflate), "zip-store" or "raw" (exactly one member); filter: NULL, "gzip"
 * or "zstd".  Aborts on any libarchive failure (tests only). */
static inline cb_buf cb_build(const char *format, const char *filter, const cb_member *m, int n)
{
    cb_buf b = {0};
    struct archive *a = archive_write_new();
    int r = !strcmp(format, "tar")   ? archive_write_set_format_pax_restricted(a)
          : !strncmp(format, "zip", 3) ? archive_write_set_format_zip(a)
                                     : archive_write_set_format_raw(a);
    if (r == ARCHIVE_OK && !strcmp(format, "zip-store"))
        r = archive_write_set_options(a, "zip:compression=store");
    if (r == ARCHIVE_OK && filter)
        r = !strcmp(filter, "gzip") ? archive_write_add_filter_gzip(a) : archive_write_add_filter_zstd(a);
    if (r == ARCHIVE_OK)
        r = archive_write_set_bytes_in_last_block(a, 1);
    if (r == ARCHIVE_OK)
        r = archive_write_open(a, &b, NULL, cb_write_cb_, NULL);
    for (int i = 0; r == ARCHIVE_OK && i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        size_t len = m[i].len ? m[i].len : (m[i].data ? strlen(m[i].data) : 0);
        int dir = m[i].name[strlen(m[i].name) - 1] == '/';
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(e, dir ? 0755 : 0644);
        archive_entry_set_size(e, dir ? 0 : (la_int64_t)len);
        archive_entry_set_mtime(e, 1700000000, 0);
        r = archive_write_header(a, e);
        if (r == ARCHIVE_OK && !dir && len && archive_write_data(a, m[i].data, len) != (la_ssize_t)len)
            r = ARCHIVE_FATAL;
        archive_entry_free(e);
    }
    if (r == ARCHIVE_OK)
        r = archive_write_close(a);
    if (r != ARCHIVE_OK) {
        fprintf(stderr, "cb_build(%s, %s): %s\n", format, filter ? filter : "-", archive_error_string(a));
        abort();
    }
    archive_write_free(a);
    return b;
}

static char cb_dir_[256];

static inline int cb_rm_(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static inline void cb_cleanup_(void) { nftw(cb_dir_, cb_rm_, 8, FTW_DEPTH | FTW_PHYS); }

/* A fresh temporary directory (static buffer; one per test program),
 * removed with its contents at exit. */
static inline const char *cb_tmpdir(void)
{
    char *dir = cb_dir_;
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof cb_dir_, "%s/mnemo-corpus-XXXXXX", t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(cb_cleanup_);
    }
    return dir;
}

/* The path of name inside cb_tmpdir() (rotating static buffers), e.g. for
 * a DB directory. */
static inline const char *cb_path(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", cb_tmpdir(), name);
    return p;
}

/* Write data[0..len) to dir/name; returns the path (rotating static buffers). */
static inline const char *cb_save(const char *name, const void *data, size_t len)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", cb_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(p);
        abort();
    }
    return p;
}

/* Every document of a source, copied, plus how the stream ended. */
typedef struct cb_doc {
    char *text, *id, *member, *uri;
    size_t len;
    uint64_t line, record, offset;
} cb_doc;

typedef struct cb_docs {
    cb_doc *d;
    int n;
    int rc;            /* open's error, else the final docsource_next result */
    mn_err err;
    docsource_stats st;
} cb_docs;

static inline char *cb_dup_(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static inline void cb_drain_(docsource *ds, cb_docs *out)
{
    docsource_doc doc;
    int r;
    while ((r = docsource_next(ds, &doc, &out->err)) == 1) {
        out->d = realloc(out->d, (size_t)(out->n + 1) * sizeof *out->d);
        cb_doc *c = &out->d[out->n++];
        c->text = cb_dup_(doc.text, doc.len);
        c->len = doc.len;
        c->id = cb_dup_(doc.id, strlen(doc.id));
        c->member = doc.member ? cb_dup_(doc.member, strlen(doc.member)) : NULL;
        c->uri = doc.uri ? cb_dup_(doc.uri, strlen(doc.uri)) : NULL;
        c->line = doc.line;
        c->record = doc.record;
        c->offset = doc.offset;
    }
    out->rc = r;
    docsource_stats_get(ds, &out->st);
    docsource_close(ds);
}

static inline cb_docs cb_collect_path(const char *path, const docsource_opts *opts)
{
    cb_docs out = {0};
    docsource *ds;
    out.rc = docsource_open(path, opts, &ds, &out.err);
    if (out.rc == 0)
        cb_drain_(ds, &out);
    return out;
}

static inline cb_docs cb_collect_mem(const char *name, const void *buf, size_t len, const docsource_opts *opts)
{
    cb_docs out = {0};
    docsource *ds;
    out.rc = docsource_open_memory(name, buf, len, opts, &ds, &out.err);
    if (out.rc == 0)
        cb_drain_(ds, &out);
    return out;
}

static inline void cb_docs_free(cb_docs *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->d[i].text);
        free(c->d[i].id);
        free(c->d[i].member);
        free(c->d[i].uri);
    }
    free(c->d);
    memset(c, 0, sizeof *c);
}

#endif
