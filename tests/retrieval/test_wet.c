/* test_wet.c — Common Crawl WET records through docsource: conversion
 * records become documents (ids, URIs, record numbers, offsets), warcinfo
 * is skipped, every malformed or truncated record is reported with its
 * record number, and SKIP mode re-synchronises on the next record. */
#include <string.h>

#include "corpus_build.h"
#include "retrieval/docsource.h"
#include "test.h"

/* Append one record to buf (a growing string); returns its offset. */
static size_t rec(char *buf, const char *type, const char *uri, const char *id, const char *body, long clen)
{
    size_t off = strlen(buf);
    char *p = buf + off;
    p += sprintf(p, "WARC/1.0\r\nWARC-Type: %s\r\n", type);
    if (uri)
        p += sprintf(p, "WARC-Target-URI: %s\r\n", uri);
    p += sprintf(p, "WARC-Date: 2024-01-01T00:00:00Z\r\n");
    if (id)
        p += sprintf(p, "WARC-Record-ID: <%s>\r\n", id);
    p += sprintf(p, "Content-Type: text/plain\r\n");
    if (clen >= 0)
        p += sprintf(p, "Content-Length: %ld\r\n", clen);
    sprintf(p, "\r\n%s\r\n\r\n", body);
    return off;
}

#define LEN(s) ((long)strlen(s))

static void test_wet_conversion_records(void)
{
    static char buf[8192];
    buf[0] = 0;
    const char *info = "software: test\r\nformat: WARC File Format 1.0\r\n";
    const char *b1 = "Caf\xc3\xa9 page\nsecond line";
    const char *b2 = "plain";
    const char *b3 = "no id here";
    rec(buf, "warcinfo", NULL, "urn:uuid:info", info, LEN(info));
    size_t o2 = rec(buf, "conversion", "http://a.example/", "urn:uuid:aaa", b1, LEN(b1));
    size_t o3 = rec(buf, "conversion", "http://b.example/x?y=1", NULL, b2, LEN(b2));
    size_t o4 = rec(buf, "conversion", NULL, NULL, b3, LEN(b3));
    rec(buf, "metadata", "http://b.example/", "urn:uuid:m", "k: v", 4);
    cb_docs got = cb_collect_mem("CC-MAIN-1.warc.wet", buf, strlen(buf), NULL);
    CHECK_MSG(got.rc == 0, "rc %d: %s", got.rc, got.err.msg);
    CHECK_EQ_INT(got.n, 3);
    CHECK(strcmp(got.d[0].text, b1) == 0 && strcmp(got.d[0].id, "urn:uuid:aaa") == 0);
    CHECK(strcmp(got.d[0].uri, "http://a.example/") == 0);
    CHECK_EQ_INT(got.d[0].record, 2);
    CHECK_EQ_INT(got.d[0].offset, o2);
    CHECK(strcmp(got.d[1].text, b2) == 0 && strcmp(got.d[1].id, "http://b.example/x?y=1") == 0);
    CHECK_EQ_INT(got.d[1].record, 3);
    CHECK_EQ_INT(got.d[1].offset, o3);
    CHECK(strcmp(got.d[2].id, "CC-MAIN-1.warc.wet:4") == 0 && got.d[2].uri == NULL);
    CHECK_EQ_INT(got.d[2].offset, o4);
    CHECK_EQ_INT(got.st.records_ignored, 2);
    CHECK(got.d[0].line == 0 && got.d[0].member == NULL);
    cb_docs_free(&got);
}

/* LF-only line ends, lower-case header names, no blank lines between
 * records, an empty body, inside a tar.gz as member "x.wet.gz". */
static void test_wet_lenient_layout_in_archive(void)
{
    const char wet[] = "WARC/1.0\nwarc-type: conversion\nwarc-record-id: <urn:x:1>\ncontent-length: 3\n\nabc"
                       "WARC/1.1\nWARC-Type: conversion\nContent-Length: 0\n\n\n"
                       "WARC/1.0\nWARC-Type: conversion\nWARC-Record-ID: <urn:x:3>\nContent-Length:   2 \n\nhi\n\n";
    cb_member m = {"x", wet, 0};
    cb_buf gz = cb_build("raw", "gzip", &m, 1);
    cb_member t[] = {{"seg/x.wet.gz", gz.data, gz.len}};
    cb_buf tar = cb_build("tar", "gzip", t, 1);
    free(gz.data);
    cb_docs got = cb_collect_mem("seg.tar.gz", tar.data, tar.len, NULL);
    free(tar.data);
    CHECK_MSG(got.rc == 0, "rc %d: %s", got.rc, got.err.msg);
    CHECK_EQ_INT(got.n, 3);
    CHECK(strcmp(got.d[0].text, "abc") == 0 && strcmp(got.d[0].id, "urn:x:1") == 0);
    CHECK(got.d[1].len == 0 && strcmp(got.d[1].id, "seg/x.wet.gz:2") == 0);
    CHECK(strcmp(got.d[2].text, "hi") == 0 && got.d[2].record == 3);
    CHECK(strcmp(got.d[2].member, "seg/x.wet.gz") == 0);
    cb_docs_free(&got);
}

typedef struct wcase {
    const char *what;
    int code;
    const char *msg;
} wcase;

/* Record errors under FAIL: the good record before is delivered, then the
 * error names the record number and the reason. */
static void test_wet_record_errors(void)
{
    static char bufs[8][4096];
    size_t good_len = 0;
    for (int i = 0; i < 8; i++) {
        bufs[i][0] = 0;
        rec(bufs[i], "conversion", "http://ok/", "urn:ok", "good", 4);
        good_len = strlen(bufs[i]);
    }
    rec(bufs[0], "conversion", "http://t/", "urn:t", "short", 50);
    bufs[0][strlen(bufs[0]) - 4] = 0; /* drop the trailing CRLFs: body is 5 of 50 */
    strcat(bufs[1], "WARC/1.0\r\nWARC-Type: conversion\r\nContent-Le");
    rec(bufs[2], "conversion", "http://n/", "urn:n", "no length", -1);
    strcat(bufs[3], "WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 12x\r\n\r\nabc\r\n");
    strcat(bufs[4], "garbage line\r\n");
    rec(bufs[5], "conversion", "http://u/", "urn:u", "ab\xff", 3);
    rec(bufs[6], "conversion", "http://big/", "urn:big", "0123456789012345678901234567890123456789", 40);
    rec(bufs[7], "conversion", "http://s/", "urn:s", "longer body than said", 6);
    rec(bufs[7], "conversion", "http://ok/", "urn:ok", "good", 4);
    static const wcase K[] = {
        {"truncated body", MN_EFORMAT, "truncated: Content-Length 50 but the stream ends after 5 bytes of body"},
        {"truncated header", MN_EFORMAT, "truncated: the stream ends inside the record header"},
        {"no length", MN_EFORMAT, "missing Content-Length header"},
        {"bad length", MN_EFORMAT, "bad Content-Length 'Content-Length: 12x'"},
        {"no version", MN_EFORMAT, "expected a 'WARC/1.0' version line, found 'garbage line'"},
        {"utf8", MN_EFORMAT, "invalid UTF-8 at byte 2 of the body"},
        {"too long", MN_ERANGE, "Content-Length 40 exceeds the limit of 32 bytes"},
        {"short length", MN_EFORMAT, "expected a 'WARC/1.0' version line, found ' body than said'"},
    };
    for (int i = 0; i < 8; i++) {
        docsource_opts o;
        docsource_opts_default(&o);
        o.max_record = 32;
        cb_docs got = cb_collect_mem("w.wet", bufs[i], strlen(bufs[i]), &o);
        int want_n = i == 7 ? 2 : 1;
        CHECK_MSG(got.rc == K[i].code, "%s: rc %d (%s)", K[i].what, got.rc, got.err.msg);
        CHECK_MSG(got.n == want_n && strcmp(got.d[0].text, "good") == 0, "%s: %d docs", K[i].what, got.n);
        CHECK_MSG(strstr(got.err.msg, K[i].msg) != NULL, "%s: '%s' lacks '%s'", K[i].what, got.err.msg, K[i].msg);
        char at[64]; /* the bad record starts right after the good one */
        size_t junk = (size_t)(strstr(bufs[7], " body than said") - bufs[7]);
        snprintf(at, sizeof at, "w.wet: record %d at byte %zu: ", i == 7 ? 3 : 2, i == 7 ? junk : good_len);
        CHECK_MSG(strstr(got.err.msg, at) != NULL, "%s: '%s' lacks '%s'", K[i].what, got.err.msg, at);
        cb_docs_free(&got);
    }
}

/* SKIP: bad records are counted; the reader finds the next "WARC/" line
 * and every good record after them is delivered. */
static void test_wet_skip_resynchronises(void)
{
    static char buf[8192];
    buf[0] = 0;
    rec(buf, "warcinfo", NULL, NULL, "x", 1);
    rec(buf, "conversion", "http://1/", "urn:1", "one", 3);
    rec(buf, "conversion", "http://2/", "urn:2", "no length here\r\nWARC-ish text", -1);
    rec(buf, "conversion", "http://3/", "urn:3", "three", 5);
    rec(buf, "conversion", "http://4/", "urn:4", "bad \xc3(", 6);
    rec(buf, "conversion", "http://5/", "urn:5", "five and more", 4); /* short: rest is junk */
    rec(buf, "conversion", "http://6/", "urn:6", "six", 3);
    docsource_opts o;
    docsource_opts_default(&o);
    o.on_error = DOCSOURCE_SKIP;
    cb_docs got = cb_collect_mem("s.warc.wet", buf, strlen(buf), &o);
    CHECK_MSG(got.rc == 0, "rc %d: %s", got.rc, got.err.msg);
    static const char *texts[] = {"one", "three", "five", "six"};
    static const uint64_t recs[] = {2, 4, 6, 7};
    CHECK_EQ_INT(got.n, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_MSG(strcmp(got.d[i].text, texts[i]) == 0, "doc %d: '%s'", i, got.d[i].text);
        CHECK_EQ_INT(got.d[i].record, recs[i]);
    }
    CHECK_EQ_INT(got.st.skipped, 3); /* no length, bad UTF-8, junk after the short body */
    cb_docs_free(&got);
}

TEST_MAIN(TEST(test_wet_conversion_records), TEST(test_wet_lenient_layout_in_archive), TEST(test_wet_record_errors),
          TEST(test_wet_skip_resynchronises))
