/* test_store_mapsize.c — issue 12 finding 5: a shard's map is no longer a
 * fixed 64 GiB.  A writer starts from max(2 x the file, the floor) and a
 * full map is MN_ENOSPACE with store_map_full(): abort, store_grow, redo.
 * The floor is lowered to 1 MiB here (MNEMO_STORE_MAP_MIN) so the map
 * fills after a few hundred KB.  When the address space refuses to grow
 * (RLIMIT_AS, as `ulimit -v`), store_grow says so with the sizes; the
 * store stays usable at its old size. */
#include "retrieval/store.h"

#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus_build.h" /* cb_path */
#include "test.h"

static char text[1000];

/* One transaction of 100 chunks of 1000 bytes, ids from first. */
static int put_batch(store *s, uint64_t first, mn_err *err)
{
    int rc = store_begin(s, 1, err);
    for (uint64_t id = first; id < first + 100 && !rc; id++) {
        memset(text, 'a' + (int)(id % 26), sizeof text);
        store_chunk c = {.text = text, .text_len = sizeof text, .doc_id = "d", .doc_id_len = 1, .source = "s",
                         .source_len = 1, .doc = id};
        rc = store_chunk_put(s, id, &c, err);
    }
    if (rc) {
        store_abort(s);
        return rc;
    }
    return store_commit(s, err);
}

/* Batches of chunks until `total`, growing the map as ingest does. */
static int fill(store *s, uint64_t total, int *grows, mn_err *err)
{
    *grows = 0;
    for (uint64_t first = 0; first < total;) {
        int rc = put_batch(s, first, err);
        if (rc == MN_ENOSPACE && store_map_full(s)) {
            if ((rc = store_grow(s, err)))
                return rc;
            ++*grows;
            continue; /* redo the batch */
        }
        if (rc)
            return rc;
        first += 100;
    }
    return 0;
}

static void test_store_full_map_grows_and_redoes(void)
{
    setenv("MNEMO_STORE_MAP_MIN", "65536", 1);
    const char *dir = cb_path("grow");
    store *s;
    mn_err err = {0};
    CHECK_EQ_INT(store_open(dir, 0, &s, &err), 0);
    /* a full map first: the message says so */
    int rc = 0;
    uint64_t first = 0;
    while (!(rc = put_batch(s, first, &err)))
        first += 100;
    CHECK_EQ_INT(rc, MN_ENOSPACE);
    CHECK(store_map_full(s));
    CHECK_STR_CONTAINS(err.msg, "the shard's LMDB map (1 MiB) is full");
    CHECK_MSG(first > 0 && first < 1000, "%llu chunks before the map was full", (unsigned long long)first);
    int grows;
    CHECK_MSG(!fill(s, 6000, &grows, &err), "%s", err.msg); /* 6 MB of chunks */
    CHECK_MSG(grows >= 3, "%d grows", grows);
    CHECK(!store_map_full(s));
    CHECK_EQ_INT(store_begin(s, 0, &err), 0);
    for (uint64_t id = 0; id < 6000; id += 599) {
        store_chunk c;
        CHECK_EQ_INT(store_chunk_get(s, id, &c, &err), 1);
        CHECK(c.text_len == 1000 && c.text[0] == 'a' + (int)(id % 26) && c.doc == id);
    }
    store_abort(s);
    CHECK_EQ_INT(store_grow(s, &err), 0);
    CHECK_EQ_INT(store_begin(s, 1, &err), 0);
    CHECK_EQ_INT(store_grow(s, &err), MN_EUSAGE); /* not inside a transaction */
    store_abort(s);
    store_close(s);
    /* a new writer starts from twice the file: no growth for the same work */
    CHECK_EQ_INT(store_open(dir, 0, &s, &err), 0);
    CHECK_MSG(!fill(s, 6000, &grows, &err), "%s", err.msg);
    CHECK_EQ_INT(grows, 0);
    store_close(s);
    CHECK_MSG(!store_check(dir, STORE_CHECK_FULL, &err), "%s", err.msg);
    unsetenv("MNEMO_STORE_MAP_MIN");
}

/* RLIMIT_AS cannot be tested under AddressSanitizer (TEST_UNDER_ASAN). */
#if !TEST_UNDER_ASAN
static size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb << 10;
}
#endif

static void test_store_grow_refused_by_the_address_space(void)
{
#if TEST_UNDER_ASAN
    printf("skipped under AddressSanitizer (its shadow memory needs an unlimited address space)\n");
#else
    setenv("MNEMO_STORE_MAP_MIN", "65536", 1);
    const char *dir = cb_path("ulimit");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        store *s;
        mn_err err = {0};
        if (store_open(dir, 0, &s, &err))
            _exit(2);
        /* room for maps up to ~16 MiB besides what the process has */
        struct rlimit rl = {vm_size() + ((size_t)40 << 20), RLIM_INFINITY};
        if (setrlimit(RLIMIT_AS, &rl))
            _exit(3);
        int grows, rc = fill(s, 100000, &grows, &err);
        fprintf(stderr, "after %d grows: %s\n", grows, err.msg);
        if (rc != MN_ENOSPACE || !strstr(err.msg, "and the address space refuses") || grows < 2)
            _exit(4);
        /* the store goes on at its old size */
        if (store_begin(s, 0, &err))
            _exit(5);
        store_abort(s);
        store_close(s);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x", status);
    CHECK_MSG(!store_check(dir, STORE_CHECK_FULL, NULL), "the shard is damaged after a refused grow");
    unsetenv("MNEMO_STORE_MAP_MIN");
#endif
}

TEST_MAIN(TEST(test_store_full_map_grows_and_redoes), TEST(test_store_grow_refused_by_the_address_space))
