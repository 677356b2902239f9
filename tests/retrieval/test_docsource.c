/* test_docsource.c — corpus inputs to documents: every container (tar,
 * tar.gz, tar.zst, zip, single .gz/.zst, plain files), provenance (member,
 * line, offset), field options, every error with its message and code,
 * SKIP mode, empty inputs, data starting with zeros (not an empty tar),
 * truncated and corrupt archives, the line limit and its memory bound
 * (plain and inside a .gz).  Inputs are built at test time (corpus_build.h). */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "corpus_build.h"
#include "retrieval/docsource.h"
#include "test.h"

static const char JSONL_A[] = "{\"id\":\"a1\",\"text\":\"alpha one\"}\n{\"id\":\"a2\",\"text\":\"alpha two\"}\n";
static const char TXT_B[] = "bee text\nsecond line\n";
static const char MD_C[] = "# Title\n\nbody \xc3\xa9\n";
static const char JSONL_D[] = "{\"text\":\"delta\"}\n\n{\"text\":\"delta 2\",\"id\":9}";
static const char WET_E[] =
    "WARC/1.0\r\nWARC-Type: warcinfo\r\nContent-Length: 9\r\n\r\nisPartOf:\r\n\r\n"
    "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://e.org/\r\n"
    "WARC-Record-ID: <urn:uuid:e1>\r\nContent-Length: 8\r\n\r\nepsilon!\r\n\r\n";

typedef struct want {
    const char *text, *id, *member;
    uint64_t line, record, offset;
} want;

/* The documents of the mixed archive, in archive order. */
static const want MIXED[] = {
    {"alpha one", "a1", "dir/a.jsonl", 1, 0, 0},
    {"alpha two", "a2", "dir/a.jsonl", 2, 0, 31},
    {TXT_B, "dir/b.txt", "dir/b.txt", 0, 0, 0},
    {MD_C, "c.md", "c.md", 0, 0, 0},
    {"delta", "shard.jsonl.gz:1", "shard.jsonl.gz", 1, 0, 0},
    {"delta 2", "9", "shard.jsonl.gz", 3, 0, 18},
    {"epsilon!", "urn:uuid:e1", "e.warc.wet", 0, 2, 65},
};
#define N_MIXED ((int)(sizeof MIXED / sizeof MIXED[0]))

static cb_buf mixed_archive(const char *format, const char *filter)
{
    cb_member gz = {"x.jsonl", JSONL_D, 0};
    cb_buf inner = cb_build("raw", "gzip", &gz, 1);
    cb_member m[] = {
        {"dir/", NULL, 0},          {"dir/a.jsonl", JSONL_A, 0}, {"dir/b.txt", TXT_B, 0},
        {"c.md", MD_C, 0},          {"notes.csv", "a,b\n", 0},   {"dir/._a.jsonl", "\x00\x05\x16\x07", 4},
        {"shard.jsonl.gz", inner.data, inner.len}, {"e.warc.wet", WET_E, 0},
    };
    cb_buf b = cb_build(format, filter, m, (int)(sizeof m / sizeof m[0]));
    free(inner.data);
    return b;
}

/* Compare collected documents with want[0..n); prints the first mismatch. */
static int docs_match(const cb_docs *got, const want *w, int n, const char *what)
{
    if (got->n != n) {
        fprintf(stderr, "%s: %d documents, want %d (rc %d: %s)\n", what, got->n, n, got->rc, got->err.msg);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const cb_doc *d = &got->d[i];
        int ok = d->len == strlen(w[i].text) && memcmp(d->text, w[i].text, d->len) == 0 &&
                 strcmp(d->id, w[i].id) == 0 && d->line == w[i].line && d->record == w[i].record &&
                 d->offset == w[i].offset &&
                 (w[i].member ? d->member && strcmp(d->member, w[i].member) == 0 : d->member == NULL);
        if (!ok) {
            fprintf(stderr,
                    "%s: doc %d: text '%s' id '%s' member '%s' line %llu record %llu offset %llu;\n"
                    "  want text '%s' id '%s' member '%s' line %llu record %llu offset %llu\n",
                    what, i, d->text, d->id, d->member ? d->member : "(null)", (unsigned long long)d->line,
                    (unsigned long long)d->record, (unsigned long long)d->offset, w[i].text, w[i].id,
                    w[i].member ? w[i].member : "(null)", (unsigned long long)w[i].line,
                    (unsigned long long)w[i].record, (unsigned long long)w[i].offset);
            return 0;
        }
    }
    return 1;
}

static void test_docsource_archives_all_containers(void)
{
    static const struct { const char *format, *filter, *file; } K[] = {
        {"tar", NULL, "mixed.tar"},
        {"tar", "gzip", "mixed.tar.gz"},
        {"tar", "zstd", "mixed.tar.zst"},
        {"zip", NULL, "mixed.zip"},
        {"zip-store", NULL, "mixed-store.zip"},
    };
    for (size_t k = 0; k < sizeof K / sizeof K[0]; k++) {
        cb_buf b = mixed_archive(K[k].format, K[k].filter);
        const char *path = cb_save(K[k].file, b.data, b.len);
        free(b.data);
        cb_docs got = cb_collect_path(path, NULL);
        CHECK_MSG(got.rc == 0, "%s: rc %d: %s", K[k].file, got.rc, got.err.msg);
        CHECK(docs_match(&got, MIXED, N_MIXED, K[k].file));
        CHECK_EQ_INT(got.st.docs, N_MIXED);
        CHECK_EQ_INT(got.st.members, 5);
        CHECK_EQ_INT(got.st.members_other, 3); /* dir/, notes.csv, ._a.jsonl */
        CHECK_EQ_INT(got.st.records_ignored, 1);
        CHECK_EQ_INT(got.st.skipped, 0);
        CHECK(got.d[6].uri && strcmp(got.d[6].uri, "http://e.org/") == 0);
        cb_docs_free(&got);
    }
}

/* Single files: plain and compressed with .gz/.zst; member is NULL and the
 * synthesized ids use the path. */
static void test_docsource_single_files(void)
{
    static const struct { const char *file, *filter, *data; } K[] = {
        {"one.jsonl", NULL, JSONL_D},       {"one.jsonl.gz", "gzip", JSONL_D}, {"one.jsonl.zst", "zstd", JSONL_D},
        {"one.ndjson", NULL, JSONL_D},      {"one.txt", NULL, TXT_B},         {"one.md", NULL, MD_C},
        {"one.txt.gz", "gzip", TXT_B},      {"one.warc.wet", NULL, WET_E},    {"one.warc.wet.gz", "gzip", WET_E},
        {"one.wet.zst", "zstd", WET_E},
    };
    for (size_t k = 0; k < sizeof K / sizeof K[0]; k++) {
        const char *path;
        if (K[k].filter) {
            cb_member m = {"data", K[k].data, 0};
            cb_buf b = cb_build("raw", K[k].filter, &m, 1);
            path = cb_save(K[k].file, b.data, b.len);
            free(b.data);
        } else {
            path = cb_save(K[k].file, K[k].data, strlen(K[k].data));
        }
        char id1[600], id3[600];
        snprintf(id1, sizeof id1, "%s:1", path);
        snprintf(id3, sizeof id3, "%s", path);
        want w[2];
        int n;
        if (K[k].data == JSONL_D) {
            w[0] = (want){"delta", id1, NULL, 1, 0, 0};
            w[1] = (want){"delta 2", "9", NULL, 3, 0, 18};
            n = 2;
        } else if (K[k].data == WET_E) {
            w[0] = (want){"epsilon!", "urn:uuid:e1", NULL, 0, 2, 65};
            n = 1;
        } else {
            w[0] = (want){K[k].data, id3, NULL, 0, 0, 0};
            n = 1;
        }
        cb_docs got = cb_collect_path(path, NULL);
        CHECK_MSG(got.rc == 0, "%s: rc %d: %s", K[k].file, got.rc, got.err.msg);
        CHECK(docs_match(&got, w, n, K[k].file));
        CHECK_EQ_INT(got.st.members, 1);
        cb_docs_free(&got);
    }
}

static void test_docsource_custom_fields(void)
{
    const char data[] = "{\"content\":\"c1\",\"doc_id\":7,\"id\":\"no\"}\n{\"content\":\"c2\",\"id\":\"no\"}\n";
    docsource_opts o;
    docsource_opts_default(&o);
    o.text_field = "content";
    o.id_field = "doc_id";
    cb_docs got = cb_collect_mem("x.jsonl", data, strlen(data), &o);
    const want w[] = {{"c1", "7", NULL, 1, 0, 0}, {"c2", "x.jsonl:2", NULL, 2, 0, 38}};
    CHECK_EQ_INT(got.rc, 0);
    CHECK(docs_match(&got, w, 2, "custom fields"));
    cb_docs_free(&got);

    o.id_field = ""; /* never read ids */
    got = cb_collect_mem("x.jsonl", data, strlen(data), &o);
    CHECK_EQ_INT(got.n, 2);
    CHECK(strcmp(got.d[0].id, "x.jsonl:1") == 0);
    cb_docs_free(&got);

    o.text_field = "";
    docsource *ds;
    mn_err err = {0};
    CHECK_EQ_INT(docsource_open_memory("x.jsonl", data, strlen(data), &o, &ds, &err), MN_EUSAGE);
    CHECK_STR_CONTAINS(err.msg, "text field name is empty");
}

/* The message of the issue: file, member, line, reason; documents before
 * the bad line delivered; the error is sticky. */
static void test_docsource_bad_json_line_names_member_and_line(void)
{
    char shard[4096] = "";
    for (int i = 1; i <= 20; i++) {
        char line[64];
        snprintf(line, sizeof line, i == 17 ? "{\"text\": \"doc %d\",}\n" : "{\"text\": \"doc %d\"}\n", i);
        strcat(shard, line);
    }
    cb_member m[] = {{"shard-01.jsonl", shard, 0}};
    cb_buf b = cb_build("tar", "gzip", m, 1);
    const char *path = cb_save("corpus.tar.gz", b.data, b.len);
    free(b.data);
    docsource *ds;
    mn_err err = {0};
    CHECK_EQ_INT(docsource_open(path, NULL, &ds, &err), 0);
    docsource_doc doc;
    int n = 0, rc;
    while ((rc = docsource_next(ds, &doc, &err)) == 1)
        n++;
    CHECK_EQ_INT(n, 16);
    CHECK_EQ_INT(rc, MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "corpus.tar.gz: member 'shard-01.jsonl': line 17: invalid JSON");
    mn_err again = {0};
    CHECK_EQ_INT(docsource_next(ds, &doc, &again), MN_EFORMAT);
    CHECK(strcmp(again.msg, err.msg) == 0);
    docsource_close(ds);
}

typedef struct err_case {
    const char *name, *data;
    size_t max_record;
    int code, n_before;
    const char *msg;
} err_case;

static void test_docsource_record_errors_fail(void)
{
    static const err_case K[] = {
        {"e.jsonl", "{\"text\":\"ok\"}\n{\"body\":\"x\"}\n", 0, MN_EFORMAT, 1, "e.jsonl: line 2: missing text field 'text'"},
        {"e.jsonl", "{\"text\":\"ok\"}\n{\"text\":[1]}\n", 0, MN_EFORMAT, 1, "e.jsonl: line 2: text field 'text' is not a string (found array)"},
        {"e.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"b\xe9t\"}\n", 0, MN_EFORMAT, 1, "e.jsonl: line 2: invalid UTF-8 at byte 10 of the line"},
        {"e.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"ok\",\"id\":true}\n", 0, MN_EFORMAT, 1, "line 2: id field 'id' is not a string or an integer (found boolean)"},
        {"e.jsonl", "{\"text\":\"ok\"}\n[]\n", 0, MN_EFORMAT, 1, "line 2: not a JSON object"},
        {"e.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"0123456789012345678901234567890123456789\"}\n{\"text\":\"ok\"}\n", 32, MN_ERANGE, 1,
         "e.jsonl: line 2: line of 51 bytes exceeds the limit of 32 bytes"},
        {"e.txt", "caf\xc3\xa9 \xc3(", 0, MN_EFORMAT, 0, "e.txt: invalid UTF-8 at byte 6"},
        {"e.md", "0123456789abcdefX", 16, MN_ERANGE, 0, "e.md: text of 17 bytes exceeds the limit of 16 bytes"},
    };
    for (size_t k = 0; k < sizeof K / sizeof K[0]; k++) {
        docsource_opts o;
        docsource_opts_default(&o);
        if (K[k].max_record)
            o.max_record = K[k].max_record;
        cb_docs got = cb_collect_mem(K[k].name, K[k].data, strlen(K[k].data), &o);
        CHECK_MSG(got.rc == K[k].code, "case %zu: rc %d want %d (%s)", k, got.rc, K[k].code, got.err.msg);
        CHECK_MSG(got.n == K[k].n_before, "case %zu: %d docs before the error, want %d", k, got.n, K[k].n_before);
        CHECK_MSG(strstr(got.err.msg, K[k].msg) != NULL, "case %zu: '%s' lacks '%s'", k, got.err.msg, K[k].msg);
        cb_docs_free(&got);
    }
}

/* A line of exactly max_record bytes is fine; one byte more is not. */
static void test_docsource_limit_boundary(void)
{
    const char data[] = "{\"text\":\"0123456789\"}\n{\"text\":\"01234567890\"}\n";
    docsource_opts o;
    docsource_opts_default(&o);
    o.max_record = 21;
    cb_docs got = cb_collect_mem("b.jsonl", data, strlen(data), &o);
    CHECK_EQ_INT(got.n, 1);
    CHECK_EQ_INT(got.rc, MN_ERANGE);
    CHECK_STR_CONTAINS(got.err.msg, "line 2: line of 22 bytes exceeds the limit of 21 bytes");
    cb_docs_free(&got);
}

typedef struct skip_log {
    int n;
    char msgs[8][MN_ERR_MSG_MAX];
} skip_log;

static void on_skip(void *ctx, const mn_err *why)
{
    skip_log *l = ctx;
    if (l->n < 8)
        snprintf(l->msgs[l->n], MN_ERR_MSG_MAX, "%s", why->msg);
    l->n++;
}

/* SKIP: every valid line around the bad ones is delivered, in order, with
 * its own line number; the bad ones are counted and reported. */
static void test_docsource_skip_mode_keeps_valid_documents(void)
{
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char data[8192];
    snprintf(data, sizeof data,
             "{\"text\":\"one\"}\n"
             "{\"text\":\"two\"\n"
             "{\"text\":\"three\"}\n"
             "{\"txt\":\"four\"}\n"
             "{\"text\":\"five\"}\n"
             "{\"text\":\"s\xffix\"}\n"
             "{\"text\":\"seven\"}\n"
             "{\"text\":\"%s\"}\n"
             "{\"text\":\"nine\"}",
             big);
    cb_member m[] = {{"s.jsonl", data, 0}, {"t.txt", "bad \xc0\xaf", 0}, {"u.txt", "fine", 0}};
    cb_buf b = cb_build("tar", "zstd", m, 3);
    skip_log log = {0};
    docsource_opts o;
    docsource_opts_default(&o);
    o.on_error = DOCSOURCE_SKIP;
    o.max_record = 1024;
    o.on_skip = on_skip;
    o.skip_ctx = &log;
    cb_docs got = cb_collect_mem("s.tar.zst", b.data, b.len, &o);
    free(b.data);
    CHECK_MSG(got.rc == 0, "rc %d: %s", got.rc, got.err.msg);
    static const char *texts[] = {"one", "three", "five", "seven", "nine", "fine"};
    static const uint64_t lines[] = {1, 3, 5, 7, 9, 0};
    CHECK_EQ_INT(got.n, 6);
    for (int i = 0; i < 6; i++) {
        CHECK_MSG(strcmp(got.d[i].text, texts[i]) == 0, "doc %d: '%s'", i, got.d[i].text);
        CHECK_EQ_INT(got.d[i].line, lines[i]);
    }
    CHECK_EQ_INT(got.st.skipped, 5);
    CHECK_EQ_INT(log.n, 5);
    CHECK_STR_CONTAINS(log.msgs[0], "s.tar.zst: member 's.jsonl': line 2: invalid JSON");
    CHECK_STR_CONTAINS(log.msgs[1], "line 4: missing text field 'text'");
    CHECK_STR_CONTAINS(log.msgs[2], "line 6: invalid UTF-8 at byte 10 of the line (0xff)");
    CHECK_STR_CONTAINS(log.msgs[3], "line 8: line of 5010 bytes exceeds the limit of 1024 bytes");
    CHECK_STR_CONTAINS(log.msgs[4], "member 't.txt': invalid UTF-8 at byte 4");
    cb_docs_free(&got);
}

/* A 4 MiB line with a 1 KiB limit: reported, and never buffered whole. */
static void test_docsource_huge_line_memory_bounded(void)
{
    size_t big = (size_t)4 << 20;
    char *data = malloc(big + 64);
    size_t n = (size_t)sprintf(data, "{\"text\":\"");
    memset(data + n, 'y', big);
    n += big;
    n += (size_t)sprintf(data + n, "\"}\n{\"text\":\"after\"}\n");
    docsource_opts o;
    docsource_opts_default(&o);
    o.max_record = 1024;
    o.on_error = DOCSOURCE_SKIP;
    cb_docs got = cb_collect_mem("h.jsonl", data, n, &o);
    free(data);
    CHECK_EQ_INT(got.rc, 0);
    CHECK_EQ_INT(got.n, 1);
    CHECK(strcmp(got.d[0].text, "after") == 0 && got.d[0].line == 2);
    CHECK_EQ_INT(got.st.skipped, 1);
    CHECK_MSG(got.st.peak_buffer <= 1025, "peak buffer %zu bytes for a 1024-byte limit", got.st.peak_buffer);
    cb_docs_free(&got);
}

/* Data that starts with a 512-byte block of zeros is not an empty tar
 * unless the name says tar: libarchive's tar reader bids on such a block
 * (an end-of-archive marker) over the raw reader, which read "x.txt.gz"
 * and "x.jsonl.gz" files starting with zeros as "0 documents" with no
 * error.  Files and memory, compressed and plain. */
static void test_docsource_zero_block_is_not_an_empty_tar(void)
{
    static const char tail_txt[] = "text after zeros";
    static const char tail_jsonl[] = "\n{\"text\":\"after\"}\n";
    char txt[1024 + sizeof tail_txt], jsonl[700 + sizeof tail_jsonl];
    memset(txt, 0, 1024);
    memcpy(txt + 1024, tail_txt, sizeof tail_txt - 1);
    memset(jsonl, 0, 700);
    memcpy(jsonl + 700, tail_jsonl, sizeof tail_jsonl - 1);
    size_t txt_len = 1024 + sizeof tail_txt - 1, jsonl_len = 700 + sizeof tail_jsonl - 1;
    cb_member mt = {"d", txt, txt_len}, mj = {"d", jsonl, jsonl_len};
    cb_buf gt = cb_build("raw", "gzip", &mt, 1), gj = cb_build("raw", "gzip", &mj, 1);
    cb_buf zt = cb_build("raw", "zstd", &mt, 1);

    /* a text file: one document, the zeros included (U+0000 is valid UTF-8) */
    const struct { const char *name; const char *data; size_t len; } T[] = {
        {"zeros.txt.gz", gt.data, gt.len}, {"zeros.txt.zst", zt.data, zt.len}, {"zeros.txt", txt, txt_len}};
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        for (int mem = 0; mem < 2; mem++) {
            cb_docs got = mem ? cb_collect_mem(T[k].name, T[k].data, T[k].len, NULL)
                              : cb_collect_path(cb_save(T[k].name, T[k].data, T[k].len), NULL);
            CHECK_MSG(got.rc == 0 && got.n == 1, "%s (%s): rc %d, %d docs: %s", T[k].name, mem ? "memory" : "file",
                      got.rc, got.n, got.err.msg);
            if (got.n == 1)
                CHECK(got.d[0].len == txt_len && memcmp(got.d[0].text, txt, txt_len) == 0);
            cb_docs_free(&got);
        }
    }
    /* a JSONL file: line 1 (the zeros) is a bad record, line 2 a document */
    const char *pj = cb_save("zeros.jsonl.gz", gj.data, gj.len);
    cb_docs got = cb_collect_path(pj, NULL);
    CHECK_MSG(got.rc == MN_EFORMAT && got.n == 0, "rc %d, %d docs", got.rc, got.n);
    CHECK_STR_CONTAINS(got.err.msg, "zeros.jsonl.gz: line 1");
    cb_docs_free(&got);
    docsource_opts o;
    docsource_opts_default(&o);
    o.on_error = DOCSOURCE_SKIP;
    got = cb_collect_path(pj, &o);
    CHECK_MSG(got.rc == 0 && got.n == 1 && got.st.skipped == 1, "skip: rc %d, %d docs", got.rc, got.n);
    if (got.n == 1)
        CHECK(strcmp(got.d[0].text, "after") == 0 && got.d[0].line == 2);
    cb_docs_free(&got);

    /* zeros named tar are an empty tar; zeros under another name are no
     * archive (an error, not "0 documents") */
    got = cb_collect_path(cb_save("zeros.tar.gz", gt.data, gt.len), NULL);
    CHECK_MSG(got.rc == 0 && got.n == 0, "zeros.tar.gz: rc %d, %d docs: %s", got.rc, got.n, got.err.msg);
    cb_docs_free(&got);
    got = cb_collect_mem("zeros.tgz", gt.data, gt.len, NULL);
    CHECK_MSG(got.rc == 0 && got.n == 0, "zeros.tgz: rc %d, %d docs: %s", got.rc, got.n, got.err.msg);
    cb_docs_free(&got);
    got = cb_collect_path(cb_save("zeros.bin.gz", gt.data, gt.len), NULL);
    CHECK_EQ_INT(got.rc, MN_EUNSUPPORTED);
    CHECK_STR_CONTAINS(got.err.msg, "zeros.bin.gz: not an archive");
    cb_docs_free(&got);
    free(gt.data);
    free(gj.data);
    free(zt.data);
}

/* A 40 MiB line inside a .jsonl.gz with a 1 MiB limit: reported and
 * skipped while decompressing, never held whole. */
static void test_docsource_huge_line_in_gzip_memory_bounded(void)
{
    size_t big = (size_t)40 << 20;
    char *data = malloc(big + 64);
    size_t n = (size_t)sprintf(data, "{\"text\":\"");
    memset(data + n, 'z', big);
    n += big;
    n += (size_t)sprintf(data + n, "\"}\n{\"text\":\"after\"}\n");
    cb_member m = {"d", data, n};
    cb_buf gz = cb_build("raw", "gzip", &m, 1);
    free(data);
    docsource_opts o;
    docsource_opts_default(&o);
    o.max_record = (size_t)1 << 20;
    o.on_error = DOCSOURCE_SKIP;
    cb_docs got = cb_collect_path(cb_save("huge.jsonl.gz", gz.data, gz.len), &o);
    free(gz.data);
    CHECK_EQ_INT(got.rc, 0);
    CHECK_EQ_INT(got.n, 1);
    CHECK(got.n == 1 && strcmp(got.d[0].text, "after") == 0 && got.d[0].line == 2);
    CHECK_EQ_INT(got.st.skipped, 1);
    CHECK_MSG(got.st.peak_buffer <= o.max_record + 1, "peak buffer %zu bytes for a %zu-byte limit",
              got.st.peak_buffer, o.max_record);
    cb_docs_free(&got);
}

static void test_docsource_empty_inputs(void)
{
    cb_member none = {"data", "", 0};
    cb_buf gz = cb_build("raw", "gzip", &none, 1);
    cb_buf tar = cb_build("tar", NULL, NULL, 0);
    cb_buf tgz = cb_build("tar", "gzip", NULL, 0);
    cb_member em[] = {{"e.jsonl", "", 0}, {"e.txt", "", 0}, {"e.wet", "", 0}, {"b.jsonl", "\n\n  \n", 0}};
    cb_buf tar2 = cb_build("tar", NULL, em, 4);
    const char *paths[] = {
        cb_save("empty.jsonl", "", 0),     cb_save("empty.txt", "", 0),       cb_save("empty.jsonl.gz", gz.data, gz.len),
        cb_save("empty.tar", tar.data, tar.len), cb_save("empty.tar.gz", tgz.data, tgz.len),
        cb_save("members.tar", tar2.data, tar2.len), cb_save("bom.txt", "\xEF\xBB\xBF", 3),
    };
    free(gz.data);
    free(tar.data);
    free(tgz.data);
    free(tar2.data);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        cb_docs got = cb_collect_path(paths[i], NULL);
        CHECK_MSG(got.rc == 0 && got.n == 0, "%s: rc %d, %d docs: %s", paths[i], got.rc, got.n, got.err.msg);
        cb_docs_free(&got);
    }
}

/* BOM at the start of a JSONL/text member is dropped; CRLF lines work. */
static void test_docsource_bom_and_crlf(void)
{
    const char data[] = "\xEF\xBB\xBF{\"text\":\"a\"}\r\n{\"text\":\"b\"}\r\n";
    cb_docs got = cb_collect_mem("w.jsonl", data, strlen(data), NULL);
    CHECK_EQ_INT(got.rc, 0);
    CHECK_EQ_INT(got.n, 2);
    CHECK(strcmp(got.d[0].text, "a") == 0 && strcmp(got.d[1].text, "b") == 0);
    CHECK_EQ_INT(got.d[1].offset, 17); /* BOM 3 + 12 + CRLF */
    cb_docs_free(&got);
    got = cb_collect_mem("w.txt", "\xEF\xBB\xBFhi", 5, NULL);
    CHECK(got.n == 1 && strcmp(got.d[0].text, "hi") == 0);
    cb_docs_free(&got);
}

/* Deterministic pseudo-random words: incompressible enough that a cut in
 * the middle of the .tar.gz lands in the middle of the members. */
static cb_buf many_members(int members, int lines, const char *filter)
{
    cb_member *m = calloc((size_t)members, sizeof *m);
    char **bufs = calloc((size_t)members, sizeof *bufs);
    uint64_t s = 88172645463325252ull;
    for (int i = 0; i < members; i++) {
        bufs[i] = malloc((size_t)lines * 400 + 1);
        size_t n = 0;
        for (int l = 0; l < lines; l++) {
            n += (size_t)sprintf(bufs[i] + n, "{\"id\":\"m%d-%d\",\"text\":\"", i, l);
            for (int w = 0; w < 40; w++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                bufs[i][n++] = (char)('a' + s % 26);
                bufs[i][n++] = (char)('a' + (s >> 8) % 26);
                bufs[i][n++] = (char)('a' + (s >> 16) % 26);
                bufs[i][n++] = ' ';
            }
            n += (size_t)sprintf(bufs[i] + n, "\"}\n");
        }
        static char names[1000][32];
        snprintf(names[i], 32, "shard-%03d.jsonl", i);
        m[i] = (cb_member){names[i], bufs[i], n};
    }
    cb_buf b = cb_build("tar", filter, m, members);
    for (int i = 0; i < members; i++)
        free(bufs[i]);
    free(bufs);
    free(m);
    return b;
}

static int same_doc(const cb_doc *a, const cb_doc *b)
{
    return a->len == b->len && memcmp(a->text, b->text, a->len) == 0 && strcmp(a->id, b->id) == 0 &&
           strcmp(a->member, b->member) == 0 && a->line == b->line && a->offset == b->offset;
}

/* Cut a tar.gz in half: the documents before the cut come out intact and in
 * order, then an archive error naming the file and the member reached.
 * libarchive's gzip/zstd filters decode in 64 KiB output blocks and drop a
 * block that hits the truncation, so the documents in the last < 64 KiB
 * (decompressed) before the cut are not delivered: ~460 documents lie
 * wholly before the cut, > 400 must come out. */
static void test_docsource_truncated_archive(void)
{
    cb_buf b = many_members(200, 5, "gzip");
    cb_docs full = cb_collect_path(cb_save("full.tar.gz", b.data, b.len), NULL);
    CHECK_EQ_INT(full.rc, 0);
    CHECK_EQ_INT(full.n, 1000);
    const char *cut = cb_save("cut.tar.gz", b.data, b.len / 2);
    free(b.data);
    cb_docs got = cb_collect_path(cut, NULL);
    CHECK_MSG(got.rc < 0, "rc %d after %d docs", got.rc, got.n);
    CHECK_MSG(got.n > 400 && got.n < 1000, "%d documents before the cut", got.n);
    for (int i = 0; i < got.n; i++)
        CHECK_MSG(same_doc(&got.d[i], &full.d[i]), "doc %d differs", i);
    CHECK_STR_CONTAINS(got.err.msg, cut);
    CHECK_STR_CONTAINS(got.err.msg, "archive error");
    CHECK_MSG(strstr(got.err.msg, "member 'shard-") || strstr(got.err.msg, "after member 'shard-"), "%s",
              got.err.msg);
    fprintf(stderr, "  truncated: %d of 1000 documents, then: %s\n", got.n, got.err.msg);
    cb_docs_free(&got);
    cb_docs_free(&full);
}

/* Damage in the middle of the compressed stream is an error too.  (The
 * archive spans several of libarchive's 64 KiB output blocks: a block that
 * fails to decompress is dropped whole, so damage inside the first block
 * already fails at the start.) */
static void test_docsource_corrupt_archive(void)
{
    cb_buf b = many_members(400, 2, "gzip");
    for (size_t i = b.len / 2; i < b.len / 2 + 64; i++)
        b.data[i] ^= 0x5a;
    const char *path = cb_save("corrupt.tar.gz", b.data, b.len);
    free(b.data);
    cb_docs got = cb_collect_path(path, NULL);
    CHECK_MSG(got.rc < 0, "rc %d after %d docs", got.rc, got.n);
    CHECK(got.n >= 1 && strcmp(got.d[0].id, "m0-0") == 0);
    CHECK_STR_CONTAINS(got.err.msg, "corrupt.tar.gz");
    fprintf(stderr, "  corrupt: %d documents, then: %s\n", got.n, got.err.msg);
    cb_docs_free(&got);

    /* zip: one byte of a stored member changed -> CRC error */
    cb_member m[] = {{"a.jsonl", "{\"text\":\"first\"}\n", 0}, {"b.jsonl", "{\"text\":\"second\"}\n", 0}};
    cb_buf z = cb_build("zip-store", NULL, m, 2);
    char *p = memmem(z.data, z.len, "second", 6);
    CHECK(p != NULL);
    p[0] = 'S';
    got = cb_collect_mem("bad.zip", z.data, z.len, NULL);
    free(z.data);
    CHECK_MSG(got.rc < 0, "rc %d", got.rc);
    CHECK(got.n >= 1 && strcmp(got.d[0].text, "first") == 0);
    CHECK_STR_CONTAINS(got.err.msg, "bad.zip");
    cb_docs_free(&got);
}

static void test_docsource_open_errors(void)
{
    docsource *ds = (docsource *)1;
    mn_err err = {0};
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such.jsonl", cb_tmpdir());
    CHECK_EQ_INT(docsource_open(missing, NULL, &ds, &err), MN_EIO);
    CHECK(ds == NULL);
    CHECK_STR_CONTAINS(err.msg, missing);
    CHECK_STR_CONTAINS(err.msg, "No such file");
    CHECK_EQ_INT(docsource_open(cb_tmpdir(), NULL, &ds, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "is a directory");

    cb_docs got = cb_collect_path(cb_save("data.csv", "a,b\n1,2\n", 8), NULL);
    CHECK_EQ_INT(got.rc, MN_EUNSUPPORTED);
    CHECK_STR_CONTAINS(got.err.msg, "data.csv: not an archive");
    cb_docs_free(&got);
}

TEST_MAIN(TEST(test_docsource_archives_all_containers), TEST(test_docsource_single_files),
          TEST(test_docsource_custom_fields), TEST(test_docsource_bad_json_line_names_member_and_line),
          TEST(test_docsource_record_errors_fail), TEST(test_docsource_limit_boundary),
          TEST(test_docsource_skip_mode_keeps_valid_documents), TEST(test_docsource_huge_line_memory_bounded),
          TEST(test_docsource_zero_block_is_not_an_empty_tar), TEST(test_docsource_huge_line_in_gzip_memory_bounded),
          TEST(test_docsource_empty_inputs), TEST(test_docsource_bom_and_crlf),
          TEST(test_docsource_truncated_archive), TEST(test_docsource_corrupt_archive),
          TEST(test_docsource_open_errors))
