/* test_results.c — reading a run folder's part files back (run/results.h):
 * which commits count (exactly the chunk's unchanged items, each once),
 * which are listed as invalid and which are silently a torn tail; the first
 * valid commit wins; setting a folder aside (kept chunks copied first). */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/results.h"
#include "test.h"

static char dir[64];
static const char *IDS[] = {"a", "b", "c", "d", "e"}; /* chunk 2: chunks {a,b} {c,d} {e} */
static const char *HASH[] = {"ha", "hb", "hc", "hd", "he"};

/* Replace dir/parts with one file NAME holding text. */
static void part(const char *name, const char *text)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/parts/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

#define R(id) "{\"id\":\"" id "\",\"item_sha256\":\"h" id "\",\"correct\":true}\n"
#define C(c, n) "{\"chunk\":" #c ",\"items\":" #n "}\n"

typedef struct scan_case {
    const char *name, *text;
    const char *done;   /* "110": chunks done */
    size_t kept, invalid;
    const char *bad;    /* fragment of the first invalid commit's line, or NULL */
} scan_case;

static const scan_case CASES[] = {
    {"valid", R("a") R("b") C(0, 2) R("e") C(2, 1), "101", 3, 0, NULL},
    {"torn tail", R("a") R("b") C(0, 2) R("c") "{\"id\":\"d\",\"item", "100", 2, 0, NULL},
    {"torn tail after a bad line", R("a") R("b") C(0, 2) "xx\n" R("c"), "100", 2, 0, NULL},
    {"duplicate, count right", R("a") R("a") C(0, 2), "000", 0, 2, "line 3: chunk 0: holds item 'a' twice"},
    {"repeated line", R("a") R("b") R("b") C(0, 2), "000", 0, 3, "line 4: chunk 0: 3 records precede the commit line, which says 2"},
    {"missing record", R("a") C(0, 1), "000", 0, 1, "1 records precede the commit line, which says 1; the chunk has 2 items"},
    {"foreign record", R("a") R("c") C(0, 2), "000", 0, 2, "holds a record of item 'c', which is not one of its items"},
    {"unknown id", R("a") R("zz") C(0, 2), "000", 0, 2, "holds a record of item 'zz'"},
    {"changed item", R("a") "{\"id\":\"b\",\"item_sha256\":\"old\"}\n" C(0, 2), "000", 0, 2, "item 'b' changed since"},
    {"no item hash", R("a") "{\"id\":\"b\"}\n" C(0, 2), "000", 0, 2, "item 'b' has no item_sha256"},
    {"bad line inside", R("a") "{oops\n" R("b") C(0, 2), "000", 0, 2, "line 4: chunk 0: line 2 is not a JSON record"},
    {"chunk outside", R("e") C(7, 1), "000", 0, 1, "chunk 7: outside the job's 3 chunks"},
    {"invalid then valid", R("a") R("a") C(0, 2) R("a") R("b") C(0, 2), "100", 2, 0, NULL},
    {"valid then invalid", R("a") R("b") C(0, 2) R("b") R("b") C(0, 2), "100", 2, 0, NULL},
};

static void test_results_scan_cases(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "results"));
    mn_err err = {0};
    CHECK(results_prepare(dir, &err) == 0);
    for (size_t k = 0; k < sizeof CASES / sizeof *CASES; k++) {
        const scan_case *t = &CASES[k];
        part("s-r0.jsonl", t->text);
        json_t *recs[5];
        uint8_t done[3];
        results_scan_info info;
        int rc = results_scan(dir, IDS, HASH, 5, 2, recs, done, &info, &err);
        CHECK_MSG(rc == 0, "%s: %s", t->name, err.msg);
        char got[4] = {(char)('0' + done[0]), (char)('0' + done[1]), (char)('0' + done[2]), 0};
        CHECK_MSG(!strcmp(got, t->done), "%s: done %s, want %s", t->name, got, t->done);
        CHECK_MSG(info.kept == t->kept && info.invalid == t->invalid, "%s: kept %zu invalid %zu", t->name, info.kept,
                  info.invalid);
        CHECK_MSG(t->bad ? info.nbad == 1 && strstr(info.bad[0], t->bad) : info.nbad == 0, "%s: %zu invalid: %s", t->name,
                  info.nbad, info.nbad ? info.bad[0] : "");
        for (int i = 0; i < 5; i++) {
            int chunk_done = done[i / 2];
            CHECK_MSG((recs[i] != NULL) == chunk_done, "%s: record %d", t->name, i);
            json_decref(recs[i]);
        }
        results_scan_info_free(&info);
    }
    /* without hashes, the item check is off */
    part("s-r0.jsonl", R("a") "{\"id\":\"b\"}\n" C(0, 2));
    json_t *recs[5];
    CHECK(results_scan(dir, IDS, NULL, 5, 2, recs, NULL, NULL, &err) == 0 && recs[0] && recs[1]);
    for (int i = 0; i < 5; i++)
        json_decref(recs[i]);
    test_rmdir(dir);
}

/* The first valid commit in file-name order gives the records. */
static void test_results_first_valid_commit_wins(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "results"));
    mn_err err = {0};
    CHECK(results_prepare(dir, &err) == 0);
    part("1-r0.jsonl", R("a") "{\"id\":\"b\",\"item_sha256\":\"hb\",\"correct\":false}\n" C(0, 2));
    part("2-r0.jsonl", R("a") R("b") C(0, 2));
    json_t *recs[5];
    CHECK(results_scan(dir, IDS, HASH, 5, 2, recs, NULL, NULL, &err) == 0);
    CHECK(json_is_false(json_object_get(recs[1], "correct")));
    for (int i = 0; i < 5; i++)
        json_decref(recs[i]);
    test_rmdir(dir);
}

static int exists(const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return access(p, F_OK) == 0;
}

/* Everything moves under set-aside/S/; the kept chunk is copied first and
 * reads back as committed. */
static void test_results_set_aside(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "results"));
    mn_err err = {0};
    CHECK(results_prepare(dir, &err) == 0);
    part("1-r0.jsonl", R("a") R("b") C(0, 2) R("c") R("d") C(1, 2));
    char p[PATH_MAX];
    static const char *const files[] = {"items.jsonl", "summary.json", "job.json", "identity.json", "m/results_x.json"};
    snprintf(p, sizeof p, "%s/m", dir);
    CHECK(mkdir(p, 0777) == 0);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w");
        CHECK(f != NULL);
        fputs("{}\n", f);
        fclose(f);
    }
    json_t *recs[5];
    uint8_t done[3], keep[3] = {0, 1, 0};
    CHECK(results_scan(dir, IDS, HASH, 5, 2, recs, done, NULL, &err) == 0 && done[0] && done[1]);
    char *where = NULL;
    CHECK_MSG(results_set_aside(dir, "S", recs, keep, 5, 2, &where, &err) == 0, "%s", err.msg);
    snprintf(p, sizeof p, "%s/set-aside/S", dir);
    CHECK(where && !strcmp(where, p));
    free(where);
    for (int i = 0; i < 5; i++)
        json_decref(recs[i]);
    CHECK(exists("set-aside/S/parts/1-r0.jsonl") && !exists("parts/1-r0.jsonl"));
    CHECK(exists("set-aside/S/items.jsonl") && !exists("items.jsonl") && !exists("summary.json"));
    CHECK(exists("set-aside/S/m/results_x.json") && !exists("m/results_x.json"));
    CHECK(exists("set-aside/S/job.json") && exists("job.json") && exists("set-aside/S/identity.json"));
    CHECK(exists("parts/S-kept-r0.jsonl"));
    results_scan_info info;
    CHECK(results_scan(dir, IDS, HASH, 5, 2, recs, done, &info, &err) == 0);
    CHECK(!done[0] && done[1] && !done[2] && info.kept == 2 && info.nbad == 0);
    CHECK(recs[2] && recs[3] && !recs[0]);
    for (int i = 0; i < 5; i++)
        json_decref(recs[i]);
    results_scan_info_free(&info);
    test_rmdir(dir);
}

static void test_results_job_check(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "results"));
    mn_err err = {0};
    CHECK_EQ_INT(results_job_check(dir, "{\"a\":1,\"b\":{\"c\":2}}", &err), 1);
    CHECK(results_job_write(dir, "{\"a\":1,\"b\":{\"c\":2}}", &err) == 0);
    CHECK_EQ_INT(results_job_check(dir, "{\"a\":1,\"b\":{\"c\":2}}", &err), 0);
    CHECK_EQ_INT(results_job_check(dir, "{\"a\":1,\"b\":{\"c\":3}}", &err), MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "the job changed (key 'b.c': 3 now, 2 in ");
    test_rmdir(dir);
}

TEST_MAIN(TEST(test_results_scan_cases), TEST(test_results_first_valid_commit_wins), TEST(test_results_set_aside),
          TEST(test_results_job_check))
