/* test_loader_longline.c — a JSON line over opts.max_field is refused
 * while it is read, never buffered whole: a .jsonl.gz whose second line is
 * 40 MB (generated here through gzip, never committed) fails under FAIL
 * with the exact line and length, loads the other items under SKIP, and
 * the loader's peak memory (VmHWM) stays near the 16 MiB limit instead of
 * the line's size; and the limit's edges (a BOM and a '\r' do not count, a
 * blank line is skipped, a last line without '\n', line numbers after a
 * dropped line, archive members and .json MMLU files) give the messages
 * they gave when the whole source was read first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/loader.h"
#include "retrieval/corpus_build.h" /* cb_build, cb_save, cb_tmpdir */
#include "test.h"

#define BIG ((size_t)40 << 20)

/* VmHWM (peak resident set) of this process, in bytes; -1 when unknown. */
static long long peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* Reset VmHWM to the current RSS (Linux >= 4.0); 0 when done. */
static int reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* path.jsonl.gz: a good item, one BIG-byte line, a good item; streamed
 * through gzip so that this process never holds the line. */
static const char *write_big_gz(size_t *line2_len)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/big.jsonl.gz", cb_tmpdir());
    char cmd[700];
    snprintf(cmd, sizeof cmd, "gzip -c > '%s'", path);
    FILE *p = popen(cmd, "w");
    if (!p)
        return NULL;
    fputs("{\"id\": \"a\", \"question\": \"first?\", \"answer\": \"1\"}\n", p);
    const char *head = "{\"id\": \"b\", \"question\": \"", *tail = "\", \"answer\": \"2\"}";
    fputs(head, p);
    static char block[1 << 16];
    memset(block, 'q', sizeof block);
    for (size_t done = 0; done < BIG; done += sizeof block)
        fwrite(block, 1, sizeof block, p);
    fputs(tail, p);
    fputs("\n{\"id\": \"c\", \"question\": \"third?\", \"answer\": \"3\"}\n", p);
    *line2_len = strlen(head) + BIG + strlen(tail);
    return pclose(p) == 0 ? path : NULL;
}

static void test_loader_longline_gz_not_buffered(void)
{
    size_t len2 = 0;
    const char *path = write_big_gz(&len2);
    CHECK_MSG(path != NULL, "cannot run gzip");
    if (!path)
        return;
    char spec[700], want[200];
    snprintf(spec, sizeof spec, "jsonl:%s", path);
    snprintf(want, sizeof want, "line 2: line of %zu bytes exceeds the limit of %zu bytes", len2,
             BENCH_MAX_FIELD_DEFAULT);

    int reset = reset_peak();
    long long before = peak_rss();
    bench_set s;
    mn_err err = {0};
    CHECK_EQ_INT(bench_load(spec, NULL, &s, &err), MN_ERANGE);
    long long peak = peak_rss();
    CHECK_STR_CONTAINS(err.msg, "big.jsonl.gz");
    CHECK_STR_CONTAINS(err.msg, want);
    /* the old loader held the whole 40 MiB line (and more while growing) */
    long long grew = peak - before;
    fprintf(stderr, "  40 MiB line: peak RSS grew by %.1f MiB (%s)\n", (double)grew / (1 << 20),
            reset ? "VmHWM not reset: an upper bound" : "VmHWM reset before");
    if (TEST_UNDER_ASAN) /* realloc copies, freed blocks are quarantined */
        fprintf(stderr, "  (AddressSanitizer build: the memory bound is not checked)\n");
    else
        CHECK_MSG(before > 0 && grew < (24LL << 20), "peak RSS grew by %lld bytes loading a %zu-byte line", grew,
                  len2);

    bench_load_opts o;
    bench_load_opts_default(&o);
    o.on_error = BENCH_ON_ERROR_SKIP;
    CHECK_EQ_INT(bench_load(spec, &o, &s, &err), 0);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_INT(s.skipped, 1);
    CHECK(s.n == 2 && strcmp(s.items[0].id, "a") == 0 && strcmp(s.items[1].id, "c") == 0);
    CHECK(s.first_skip_msg && strstr(s.first_skip_msg, want));
    bench_set_free(&s);
}

/* One case of the limit's edges: data loaded as kind from a source named
 * name, under on_error, with max_field 64. */
typedef struct edge {
    const char *what, *kind, *name, *data;
    size_t len; /* 0: strlen */
    int on_error, rc;
    size_t items, skipped;
    const char *msg; /* in err (FAIL) or first_skip_msg (SKIP) */
} edge;

static void check_edge(const edge *e)
{
    bench_load_opts o;
    bench_load_opts_default(&o);
    o.max_field = 64;
    o.on_error = e->on_error;
    bench_set s;
    mn_err err = {0};
    int rc = bench_load_memory(e->kind, e->name, e->data, e->len ? e->len : strlen(e->data), &o, &s, &err);
    CHECK_MSG(rc == e->rc, "%s: rc %d, want %d (%s)", e->what, rc, e->rc, err.msg);
    if (rc == 0) {
        CHECK_MSG(s.n == e->items && s.skipped == e->skipped, "%s: %zu items %zu skipped, want %zu and %zu", e->what,
                  s.n, s.skipped, e->items, e->skipped);
        if (e->msg)
            CHECK_MSG(s.first_skip_msg && strstr(s.first_skip_msg, e->msg), "%s: skip message '%s' lacks '%s'",
                      e->what, s.first_skip_msg ? s.first_skip_msg : "(none)", e->msg);
        bench_set_free(&s);
    } else if (e->msg) {
        CHECK_MSG(strstr(err.msg, e->msg) != NULL, "%s: '%s' lacks '%s'", e->what, err.msg, e->msg);
    }
}

#define Q64 "{\"question\": \"012345678901234567890123456789012\", \"answer\": \"x\"}" /* 64 bytes */
#define Q65 "{\"question\": \"0123456789012345678901234567890123\", \"answer\": \"x\"}" /* 65 bytes */
#define LONG200 /* 200 bytes */ \
    "{\"question\": \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678\", \"answer\": \"x\"}"

static void test_loader_longline_edges(void)
{
    static char blank[1000 + 2];
    memset(blank, ' ', 1000);
    blank[1000] = '\n';
    static char blank_then_item[sizeof blank + sizeof Q64 + 1];
    snprintf(blank_then_item, sizeof blank_then_item, "%s%s\n", blank, Q64);
    static char tar_member[sizeof LONG200 + sizeof Q64 + 2];
    snprintf(tar_member, sizeof tar_member, "%s\n%s\n", LONG200, Q64);
    cb_member m = {"items.jsonl", tar_member, 0};
    cb_buf tar = cb_build("tar", NULL, &m, 1);
    cb_buf gz = cb_build("raw", "gzip", &m, 1);
    cb_member mg = {"items.jsonl.gz", gz.data, gz.len};
    cb_buf tar_gz_member = cb_build("tar", NULL, &mg, 1);
    const edge E[] = {
        {"64 bytes", "jsonl", "a.jsonl", Q64 "\n", 0, BENCH_ON_ERROR_FAIL, 0, 1, 0, NULL},
        {"64 bytes and CR", "jsonl", "a.jsonl", Q64 "\r\n" Q64 "\r\n", 0, BENCH_ON_ERROR_FAIL, 0, 2, 0, NULL},
        {"BOM and 64 bytes", "jsonl", "a.jsonl", "\xEF\xBB\xBF" Q64 "\r\n", 0, BENCH_ON_ERROR_FAIL, 0, 1, 0, NULL},
        {"65 bytes", "jsonl", "a.jsonl", Q64 "\n" Q65 "\n", 0, BENCH_ON_ERROR_FAIL, MN_ERANGE, 0, 0,
         "a.jsonl: line 2: line of 65 bytes exceeds the limit of 64 bytes"},
        {"200 bytes, no newline at the end", "jsonl", "a.jsonl", Q64 "\n" LONG200, 0, BENCH_ON_ERROR_FAIL, MN_ERANGE,
         0, 0, "line 2: line of 200 bytes exceeds"},
        {"200 bytes and CR", "jsonl", "a.jsonl", LONG200 "\r\n" Q64, 0, BENCH_ON_ERROR_FAIL, MN_ERANGE, 0, 0,
         "line 1: line of 200 bytes exceeds"},
        {"BOM and 200 bytes", "jsonl", "a.jsonl", "\xEF\xBB\xBF" LONG200 "\n" Q64, 0, BENCH_ON_ERROR_FAIL, MN_ERANGE,
         0, 0, "line 1: line of 200 bytes exceeds"},
        {"a long blank line is blank", "jsonl", "a.jsonl", blank_then_item, 0, BENCH_ON_ERROR_FAIL, 0, 1, 0, NULL},
        {"an error after a dropped line keeps its number", "jsonl", "a.jsonl", LONG200 "\n" Q64 "\n{oops\n" Q64,
         0, BENCH_ON_ERROR_SKIP, 0, 2, 2, "line 1: line of 200 bytes"},
        {"bad JSON before a long line comes first", "jsonl", "a.jsonl", "{oops\n" LONG200 "\n", 0,
         BENCH_ON_ERROR_FAIL, MN_EFORMAT, 0, 0, "line 1, column"},
        {"math500", "math500", "m.jsonl", "{\"problem\": \"01234567890123456789012345678901234567890123456789012345678901234\"}\n", 0,
         BENCH_ON_ERROR_FAIL, MN_ERANGE, 0, 0, "line 1: line of 80 bytes exceeds the limit of 64"},
        {"tar member", "jsonl", "t.tar", tar.data, tar.len, BENCH_ON_ERROR_SKIP, 0, 1, 1,
         "t.tar:items.jsonl: line 1: line of 200 bytes"},
        {"compressed tar member", "jsonl", "t.tar", tar_gz_member.data, tar_gz_member.len, BENCH_ON_ERROR_SKIP, 0, 1,
         1, "t.tar:items.jsonl.gz: line 1: line of 200 bytes"},
    };
    for (size_t i = 0; i < sizeof E / sizeof E[0]; i++)
        check_edge(&E[i]);
    free(tar.data);
    free(gz.data);
    free(tar_gz_member.data);
}

TEST_MAIN(TEST(test_loader_longline_gz_not_buffered), TEST(test_loader_longline_edges))
