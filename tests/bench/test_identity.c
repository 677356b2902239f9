/* test_identity.c — the content identity of an evaluation's inputs
 * (bench/identity.h): item hashes, the weights of single and sharded
 * checkpoints (sha256sum-compatible), the benchmark files of a folder,
 * comparing two identities (what changed, where), benchmark-only changes,
 * reading and writing identity.json. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/identity.h"
#include "bench/loader.h"
#include "test.h"
#include "util/hash.h"

static char dir[64];

static const char *in_dir(const char *name)
{
    static char buf[6][PATH_MAX];
    static int k;
    char *b = buf[k++ % 6];
    snprintf(b, PATH_MAX, "%s/%s", dir, name);
    return b;
}

static int setup(void)
{
    if (!test_tmpdir(dir, sizeof dir, "identity"))
        return 0;
    char m[PATH_MAX], b[PATH_MAX];
    snprintf(m, sizeof m, "%s/model", dir);
    snprintf(b, sizeof b, "%s/bench", dir);
    if (mkdir(m, 0777) || mkdir(b, 0777))
        return 0;
    test_write_file(in_dir("model/model.safetensors"), "weights");
    test_write_file(in_dir("model/config.json"), "{\"model_type\": \"llama\"}");
    test_write_file(in_dir("model/tokenizer.json"), "{}");
    test_write_file(in_dir("bench/b.jsonl"), "{\"id\": \"b1\", \"question\": \"q b1\", \"answer\": \"1\"}\n");
    test_write_file(in_dir("bench/a.jsonl"), "{\"id\": \"a1\", \"question\": \"q a1\", \"answer\": \"1\"}\n"
                                        "{\"id\": \"a2\", \"question\": \"q a2\", \"answer\": \"2\"}\n");
    test_write_file(in_dir("bench/notes.txt"), "not read by the loader");
    return 1;
}

/* The identity of the model and the jsonl benchmark folder of setup(). */
static json_t *build(bench_set *set, mn_err *err)
{
    char spec[PATH_MAX + 8];
    snprintf(spec, sizeof spec, "jsonl:%s", in_dir("bench"));
    memset(set, 0, sizeof *set);
    if (bench_load(spec, NULL, set, err))
        return NULL;
    identity_inputs in = {.model_dir = in_dir("model"), .tokenizer = in_dir("model/tokenizer.json"), .bench = spec,
                          .items = set, .cache_dir = dir};
    json_t *id = NULL;
    return identity_build(&in, NULL, &id, err) ? NULL : id;
}

static const char *entry_str(const json_t *id, const char *entry, const char *field)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(id, "inputs"), entry), field));
}

static void test_identity_item_hash(void)
{
    char *choices[] = {"x", "y"};
    bench_item a = {.id = "q1", .question = "What?", .choices = choices, .nchoices = 2, .answer_index = 1,
                    .answer = "y", .source = "f.jsonl:1"};
    char h1[65], h2[65];
    identity_item_sha256(&a, h1);
    a.source = "g.jsonl:7"; /* where it came from does not count */
    identity_item_sha256(&a, h2);
    CHECK(!strcmp(h1, h2) && strlen(h1) == 64);
    choices[0] = "z";
    identity_item_sha256(&a, h2);
    CHECK(strcmp(h1, h2));
    choices[0] = "x";
    a.answer_index = 0;
    identity_item_sha256(&a, h2);
    CHECK(strcmp(h1, h2));
    a.answer_index = 1;
    a.meta = "{\"permutation\": [1, 0]}";
    identity_item_sha256(&a, h2);
    CHECK(strcmp(h1, h2));
}

/* Single file: sha256sum's value; the folder's benchmark lists the files
 * that gave items (not notes.txt), in name order. */
static void test_identity_build_single_and_folder(void)
{
    CHECK(setup());
    bench_set set;
    mn_err err = {0};
    json_t *id = build(&set, &err);
    CHECK_MSG(id, "%s", err.msg);
    char want[65];
    sha256_hex("weights", 7, want);
    CHECK(!strcmp(entry_str(id, "model.weights", "sha256"), want));
    CHECK(!strcmp(entry_str(id, "tokenizer", "sha256"), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
    json_t *files = json_object_get(json_object_get(json_object_get(id, "inputs"), "benchmark"), "files");
    CHECK_EQ_INT(json_array_size(files), 2);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(files, 0), "name")), "a.jsonl"));
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(files, 1), "name")), "b.jsonl"));
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(json_object_get(id, "inputs"), "benchmark"), "items")), 3);
    CHECK(!strcmp(entry_str(id, "mnemo", "version") ? "v" : "", "v"));
    CHECK(json_object_get(json_object_get(id, "inputs"), "db") == NULL);
    /* the same inputs again: equal, and nothing differs */
    bench_set set2;
    json_t *again = build(&set2, &err);
    CHECK(again && json_equal(id, again) && !identity_diff(id, again, NULL));
    /* identity.json round trip */
    CHECK(identity_write(dir, id, &err) == 0);
    json_t *back = NULL;
    CHECK_EQ_INT(identity_read(dir, &back, &err), 1);
    CHECK(json_equal(back, id));
    json_decref(back);
    json_decref(again);
    json_decref(id);
    bench_set_free(&set);
    bench_set_free(&set2);
    test_rmdir(dir);
}

/* A sharded checkpoint: the sha256 of the sorted "HEX  NAME" listing of the
 * index and its shards; a changed shard is named as where. */
static void test_identity_sharded_weights(void)
{
    CHECK(setup());
    unlink(in_dir("model/model.safetensors"));
    test_write_file(in_dir("model/model.safetensors.index.json"),
               "{\"weight_map\": {\"a\": \"model-00002-of-00002.safetensors\", \"b\": \"model-00001-of-00002.safetensors\","
               " \"c\": \"model-00002-of-00002.safetensors\"}}");
    test_write_file(in_dir("model/model-00001-of-00002.safetensors"), "one");
    test_write_file(in_dir("model/model-00002-of-00002.safetensors"), "two");
    bench_set set;
    mn_err err = {0};
    json_t *id = build(&set, &err);
    CHECK_MSG(id, "%s", err.msg);
    char h[3][65], listing[512], want[65], idx[512];
    FILE *f = fopen(in_dir("model/model.safetensors.index.json"), "rb");
    size_t n = f ? fread(idx, 1, sizeof idx, f) : 0;
    if (f)
        fclose(f);
    sha256_hex("one", 3, h[0]);
    sha256_hex("two", 3, h[1]);
    sha256_hex(idx, n, h[2]);
    snprintf(listing, sizeof listing, "%s  model-00001-of-00002.safetensors\n%s  model-00002-of-00002.safetensors\n"
             "%s  model.safetensors.index.json\n", h[0], h[1], h[2]);
    sha256_hex(listing, strlen(listing), want);
    CHECK_MSG(!strcmp(entry_str(id, "model.weights", "sha256"), want), "%s", entry_str(id, "model.weights", "sha256"));
    usleep(20000);
    test_write_file(in_dir("model/model-00002-of-00002.safetensors"), "TWO");
    bench_set set2;
    json_t *now = build(&set2, &err);
    identity_change c;
    CHECK(now && identity_diff(id, now, &c) == 1);
    CHECK(!strcmp(c.what, "model weights") && !strcmp(c.field, "sha256"));
    CHECK_MSG(!strcmp(c.where, in_dir("model/model-00002-of-00002.safetensors")), "%s", c.where);
    CHECK(!strncmp(c.old, entry_str(id, "model.weights", "sha256"), 12) && strstr(c.old, "\u2026"));
    CHECK(!identity_only_benchmark_differs(id, now));
    json_decref(id);
    json_decref(now);
    bench_set_free(&set);
    bench_set_free(&set2);
    test_rmdir(dir);
}

/* An edited benchmark: named with the file, and a benchmark-only change;
 * a DB added: "used now"; the version is compared after everything else. */
static void test_identity_diff_cases(void)
{
    CHECK(setup());
    bench_set set, set2;
    mn_err err = {0};
    json_t *id = build(&set, &err);
    CHECK_MSG(id, "%s", err.msg);
    usleep(20000);
    test_write_file(in_dir("bench/b.jsonl"), "{\"id\": \"b1\", \"question\": \"q b1 edited\", \"answer\": \"1\"}\n");
    json_t *now = build(&set2, &err);
    identity_change c;
    CHECK(now && identity_diff(id, now, &c) == 1);
    CHECK(!strcmp(c.what, "benchmark") && !strcmp(c.field, "sha256"));
    CHECK_MSG(!strcmp(c.where, in_dir("bench/b.jsonl")), "%s", c.where);
    CHECK(identity_only_benchmark_differs(id, now));
    /* the same bytes read differently (a loader change): items_sha256 */
    json_t *loader = json_deep_copy(id);
    json_object_set_new(json_object_get(json_object_get(loader, "inputs"), "benchmark"), "items_sha256", json_string("00"));
    CHECK(identity_diff(id, loader, &c) == 1 && !strcmp(c.field, "items_sha256"));
    /* a DB only in the new one */
    json_t *db = json_deep_copy(id);
    json_object_set_new(json_object_get(db, "inputs"), "db",
                        json_pack("{s:s, s:s, s:s}", "path", "/d", "content_hash", "0123456789abcdef0123456789abcdef",
                                  "analyzer", "a"));
    CHECK(identity_diff(id, db, &c) == 1 && !strcmp(c.what, "retrieval DB") && !c.field[0]);
    CHECK(!strcmp(c.old, "none") && !strcmp(c.where, "/d/manifest.json"));
    json_t *db2 = json_deep_copy(db);
    json_object_set_new(json_object_get(json_object_get(db2, "inputs"), "db"), "content_hash",
                        json_string("fedcba9876543210fedcba9876543210"));
    CHECK(identity_diff(db, db2, &c) == 1 && !strcmp(c.field, "content_hash") && !strcmp(c.now, "fedcba987654\u2026"));
    /* mnemo's version: reported only when nothing else differs */
    json_t *ver = json_deep_copy(db2);
    json_object_set_new(json_object_get(json_object_get(ver, "inputs"), "mnemo"), "version", json_string("9.9.9"));
    CHECK(identity_diff(db, ver, &c) == 1 && !strcmp(c.field, "content_hash"));
    CHECK(identity_diff(db2, ver, &c) == 1 && !strcmp(c.what, "mnemo version") && !strcmp(c.now, "'9.9.9'"));
    CHECK(identity_diff(NULL, id, &c) == 1);
    json_decref(ver);
    json_decref(db2);
    json_decref(db);
    json_decref(loader);
    json_decref(id);
    json_decref(now);
    bench_set_free(&set);
    bench_set_free(&set2);
    test_rmdir(dir);
}

static void test_identity_read_errors(void)
{
    CHECK(setup());
    json_t *j = NULL;
    mn_err err = {0};
    CHECK_EQ_INT(identity_read(dir, &j, &err), 0);
    test_write_file(in_dir(IDENTITY_FILE), "{\"version\": 2, \"inputs\": {}}");
    CHECK_EQ_INT(identity_read(dir, &j, &err), MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, IDENTITY_FILE);
    test_write_file(in_dir(IDENTITY_FILE), "{\"version\": 1, \"inp");
    CHECK_EQ_INT(identity_read(dir, &j, &err), MN_EFORMAT);
    CHECK(j == NULL);
    /* a model folder without weights */
    unlink(in_dir("model/model.safetensors"));
    bench_set set;
    CHECK(build(&set, &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "model.safetensors: does not exist");
    bench_set_free(&set);
    test_rmdir(dir);
}

TEST_MAIN(TEST(test_identity_item_hash), TEST(test_identity_build_single_and_folder), TEST(test_identity_sharded_weights),
          TEST(test_identity_diff_cases), TEST(test_identity_read_errors))
