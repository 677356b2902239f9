/* test_lmdbcheck.c — retrieval/lmdbcheck.c and the checks store.c runs with
 * it.  A real shard is built with the store API (multi-level trees,
 * overflow pages, free pages); each case damages one structure in a copy of
 * its data.mdb and expects the quick and/or full check to name it.  Sound
 * files must pass: LMDB files after a random workload of puts, deletes and
 * overwrites (checked after every commit), and a file that LMDB itself
 * leaves shorter than its last page (freed pages it never wrote). */
#include "retrieval/lmdbcheck.h"

#include <lmdb.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpus_build.h" /* cb_path, cb_save */
#include "retrieval/store.h"
#include "test.h"

#define PS 4096

/* ---- little readers/writers of the layout (lmdbcheck.c's header comment) ---- */

static uint16_t r16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static uint64_t r64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void w16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void w64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

typedef struct image {
    uint8_t *b;
    size_t n;
} image;

static image load(const char *path)
{
    image m = {0};
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    fseek(f, 0, SEEK_END);
    m.n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    m.b = malloc(m.n);
    if (fread(m.b, 1, m.n, f) != m.n)
        abort();
    fclose(f);
    return m;
}

static image copy(const image *m)
{
    image c = {malloc(m->n), m->n};
    memcpy(c.b, m->b, m->n);
    return c;
}

static uint8_t *page(const image *m, uint64_t pg)
{
    return m->b + pg * PS;
}

/* The newer meta (as LMDB picks it): its MDB_meta bytes. */
static uint8_t *meta(const image *m)
{
    uint8_t *m0 = m->b + 16, *m1 = m->b + PS + 16;
    return r64(m0 + 128) < r64(m1 + 128) ? m1 : m0;
}

static uint8_t *node(const image *m, uint64_t pg, unsigned i)
{
    uint8_t *p = page(m, pg);
    return p + r16(p + 16 + 2 * i);
}

static unsigned nkeys(const image *m, uint64_t pg)
{
    return (r16(page(m, pg) + 12) - 16) / 2;
}

/* The 48-byte record of table name on the MAIN DB's root leaf. */
static uint8_t *table(const image *m, const char *name)
{
    uint64_t root = r64(meta(m) + 72 + 40);
    for (unsigned i = 0; i < nkeys(m, root); i++) {
        uint8_t *n = node(m, root, i);
        if (r16(n + 6) == strlen(name) && !memcmp(n + 8, name, strlen(name)))
            return n + 8 + r16(n + 6);
    }
    abort();
}

/* The leftmost leaf of a table, and a branch page above it (0: none). */
static uint64_t first_leaf(const image *m, const char *name, uint64_t *branch)
{
    uint8_t *rec = table(m, name);
    uint64_t pg = r64(rec + 40);
    *branch = 0;
    for (unsigned level = 1; level < r16(rec + 6); level++) {
        *branch = pg;
        uint8_t *n = node(m, pg, 0);
        pg = (uint64_t)r16(n) | (uint64_t)r16(n + 2) << 16 | (uint64_t)r16(n + 4) << 32;
    }
    return pg;
}

/* ---- a real shard ---- */

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A shard in dir: 400 chunks (a few of them on overflow pages), postings
 * rewritten and deleted over 6 commits (free pages), doclen, dedup, meta. */
static void build_shard(const char *dir)
{
    store *s;
    mn_err err = {0};
    if (store_open(dir, 0, &s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    static char text[20000];
    uint64_t r = 42;
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + next_rand(&r) % 26);
    uint64_t id = 0;
    for (int txn = 0; txn < 6; txn++) {
        if (store_begin(s, 1, &err))
            abort();
        for (int i = 0; i < 70; i++, id++) {
            size_t len = id % 97 == 5 ? 15000 : 200 + next_rand(&r) % 1500;
            store_chunk c = {.text = text, .text_len = len, .doc_id = "d", .doc_id_len = 1, .source = "s",
                             .source_len = 1, .doc = id};
            if (store_chunk_put(s, id, &c, &err) || store_doclen_put(s, id, (uint32_t)len, &err) ||
                store_dedup_put(s, next_rand(&r), id, &err))
                abort();
        }
        for (int t = 0; t < 60; t++) {
            char term[16];
            int tl = snprintf(term, sizeof term, "term%d", (int)(next_rand(&r) % 90));
            if (store_postings_put(s, term, (size_t)tl, (uint32_t)txn, text, 50 + next_rand(&r) % 900, &err))
                abort();
            if (txn > 1 && t % 3 == 0 && store_postings_del(s, term, (size_t)tl, (uint32_t)txn - 1, &err))
                abort();
        }
        store_meta m = {.shard = 0, .nshards = 1, .next_local = id, .chunks = id};
        if (store_meta_put(s, &m, &err) || store_commit(s, &err))
            abort();
    }
    store_close(s);
}

static const image *base_image(void)
{
    static image m;
    if (!m.b) {
        const char *dir = cb_path("base-shard");
        build_shard(dir);
        char path[600];
        snprintf(path, sizeof path, "%s/data.mdb", dir);
        m = load(path);
    }
    return &m;
}

/* Run the quick (full 0) or full check on an image; 0 or the code, with
 * the message in msg. */
static int check_image(const image *m, int full, char msg[MN_ERR_MSG_MAX])
{
    mn_err err = {0};
    int rc = lmdb_check_image(m->b, m->n, "D/shard-001/data.mdb", full ? LMDB_CHECK_FULL : 0, 0, NULL, &err);
    memcpy(msg, err.msg, MN_ERR_MSG_MAX);
    return rc;
}

#define EXPECT_DAMAGE(img, full, fragment)                                                                   \
    do {                                                                                                      \
        char msg_[MN_ERR_MSG_MAX];                                                                            \
        int rc_ = check_image(&(img), (full), msg_);                                                          \
        CHECK_MSG(rc_ == MN_EFORMAT, "%s check: rc %d (%s), expected damage '%s'", (full) ? "full" : "quick", \
                  rc_, msg_, (fragment));                                                                     \
        CHECK_STR_CONTAINS(msg_, (fragment));                                                                 \
        CHECK_STR_CONTAINS(msg_, "D/shard-001/data.mdb: damaged: ");                                          \
        CHECK_STR_CONTAINS(msg_, "'mnemo stats --deep --db D'");                                              \
    } while (0)

#define EXPECT_SOUND(img, full)                                                                              \
    do {                                                                                                      \
        char msg_[MN_ERR_MSG_MAX];                                                                            \
        int rc_ = check_image(&(img), (full), msg_);                                                          \
        CHECK_MSG(rc_ == 0, "%s check: rc %d: %s", (full) ? "full" : "quick", rc_, msg_);                    \
    } while (0)

/* ---- sound files ---- */

static void test_lmdbcheck_real_shard_is_sound(void)
{
    image m = copy(base_image());
    lmdb_check_stats st;
    mn_err err = {0};
    CHECK_EQ_INT(lmdb_check_image(m.b, m.n, "x", LMDB_CHECK_FULL, 0, &st, &err), 0);
    CHECK_EQ_INT(st.page_size, PS);
    CHECK_EQ_INT(st.tables, 5);
    CHECK_EQ_INT(st.txnid, 7); /* the tables' commit, then 6 */
    CHECK_EQ_INT(st.pages_used + st.pages_free + 2, st.last_page + 1);
    CHECK(st.pages_free > 0);
    CHECK_EQ_INT(st.entries, 420 + 420 + 420 + 1 + (uint64_t)r64(table(&m, "postings") + 32));
    uint64_t branch;
    first_leaf(&m, "chunks", &branch);
    CHECK(branch != 0); /* the walk went through a branch level */
    EXPECT_SOUND(m, 0);
    free(m.b);
}

/* A new LMDB environment in cb_path(name) (MDB_env straight, no store);
 * path gets its data.mdb.  NULL on failure. */
static MDB_env *lmdb_env(const char *name, size_t mapsize, char path[600])
{
    const char *dir = cb_path(name);
    mkdir(dir, 0777);
    snprintf(path, 600, "%s/data.mdb", dir);
    MDB_env *env;
    if (mdb_env_create(&env))
        return NULL;
    mdb_env_set_maxdbs(env, 4);
    mdb_env_set_mapsize(env, mapsize);
    if (mdb_env_open(env, dir, 0, 0644)) {
        mdb_env_close(env);
        return NULL;
    }
    return env;
}

/* A random workload straight through LMDB (puts, deletes, overwrites,
 * values on overflow pages, a reader pinning an old snapshot for a while):
 * after every commit both checks pass, so the invariants checked (keys in
 * order, counts, every page in a tree or free exactly once) are LMDB's. */
static void test_lmdbcheck_random_workload_stays_sound(void)
{
    char path[600];
    MDB_env *env = lmdb_env("random-lmdb", (size_t)256 << 20, path);
    MDB_txn *txn, *reader = NULL;
    MDB_dbi dbi[3];
    CHECK(env != NULL);
    static char val[30000];
    memset(val, 'v', sizeof val);
    uint64_t r = 7;
    for (int t = 0; t < 40; t++) {
        CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
        for (int d = 0; d < 3; d++) {
            char name[8];
            snprintf(name, sizeof name, "t%d", d);
            CHECK_EQ_INT(mdb_dbi_open(txn, name, MDB_CREATE, &dbi[d]), 0);
        }
        for (int i = 0; i < 300; i++) {
            char key[32];
            int kl = snprintf(key, sizeof key, "k%05d", (int)(next_rand(&r) % 3000));
            MDB_val k = {(size_t)kl, key};
            MDB_dbi d = dbi[next_rand(&r) % 3];
            if (next_rand(&r) % 4 == 0) {
                int rc = mdb_del(txn, d, &k, NULL);
                CHECK(rc == 0 || rc == MDB_NOTFOUND);
            } else {
                size_t n = next_rand(&r) % 50 == 0 ? 3000 + next_rand(&r) % 25000 : 1 + next_rand(&r) % 600;
                MDB_val v = {n, val};
                CHECK_EQ_INT(mdb_put(txn, d, &k, &v, 0), 0);
            }
        }
        CHECK_EQ_INT(mdb_txn_commit(txn), 0);
        if (t == 10)
            CHECK_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &reader), 0);
        if (t == 25)
            mdb_txn_abort(reader);
        for (int full = 0; full < 2; full++) {
            mn_err err = {0};
            CHECK_MSG(!lmdb_check_file(path, full, 0, NULL, &err), "after commit %d, %s check: %s", t,
                      full ? "full" : "quick", err.msg);
        }
    }
    mdb_env_close(env);
}

/* LMDB returns overflow pages that a transaction allocated and freed again
 * to its free list without writing them; when they were the last pages,
 * the file ends before the meta's last page.  That file is sound (readers
 * never touch free pages); cutting one more page off is not. */
static void test_lmdbcheck_free_tail_past_eof_is_sound(void)
{
    char path[600];
    MDB_env *env = lmdb_env("short-lmdb", (size_t)64 << 20, path);
    MDB_txn *txn;
    MDB_dbi d;
    CHECK(env != NULL);
    static char big[100000];
    memset(big, 'y', sizeof big);
    const char *keys[4] = {"aaa", "aab", "aac", NULL}; /* each commit frees pages the next-but-one may reuse */
    for (int t = 0; t < 4; t++) {
        CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
        CHECK_EQ_INT(mdb_dbi_open(txn, "a", MDB_CREATE, &d), 0);
        if (t == 0) {
            for (int i = 0; i < 50; i++) {
                char kb[16];
                snprintf(kb, sizeof kb, "k%05d", i);
                MDB_val k = {strlen(kb), kb}, v = {1000, big};
                CHECK_EQ_INT(mdb_put(txn, d, &k, &v, 0), 0);
            }
        } else {
            MDB_val k = {3, (void *)keys[t - 1]}, v = {3, "abc"};
            CHECK_EQ_INT(mdb_put(txn, d, &k, &v, 0), 0);
        }
        if (t == 3) { /* 25 overflow pages at the end, freed before the commit */
            MDB_val k = {3, "big"}, v = {sizeof big, big};
            CHECK_EQ_INT(mdb_put(txn, d, &k, &v, 0), 0);
            CHECK_EQ_INT(mdb_del(txn, d, &k, NULL), 0);
        }
        CHECK_EQ_INT(mdb_txn_commit(txn), 0);
    }
    MDB_envinfo info;
    mdb_env_info(env, &info);
    mdb_env_close(env);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_MSG((uint64_t)st.st_size < (info.me_last_pgno + 1) * PS, "file %lld bytes, last page %zu: not short",
              (long long)st.st_size, info.me_last_pgno);
    for (int full = 0; full < 2; full++) {
        mn_err err = {0};
        CHECK_MSG(!lmdb_check_file(path, full, 0, NULL, &err), "%s: %s", full ? "full" : "quick", err.msg);
    }
    image m = load(path);
    m.n -= PS; /* now a page in use is missing too */
    EXPECT_DAMAGE(m, 0, "(truncated?)");
    free(m.b);
}

/* ---- damage: the meta pages and the file ---- */

static void test_lmdbcheck_truncated_file(void)
{
    image m = copy(base_image());
    size_t full = m.n;
    m.n = full * 96 / 100;
    char want[200];
    snprintf(want, sizeof want, "the file has %zu bytes but its last committed page ends at byte %zu (truncated?)",
             m.n, full);
    EXPECT_DAMAGE(m, 0, want);
    EXPECT_DAMAGE(m, 1, want);
    m.n = 100;
    EXPECT_DAMAGE(m, 0, "too short for meta page 0");
    m.n = 0;
    EXPECT_DAMAGE(m, 0, "the file is empty");
    free(m.b);
}

static void test_lmdbcheck_meta_pages(void)
{
    const image *b = base_image();
    image m = copy(b);
    m.b[16] ^= 0x40; /* magic of meta 0 */
    EXPECT_DAMAGE(m, 0, "meta page 0 (byte 0): magic 0xbeefc09e, not an LMDB file");
    memcpy(m.b, b->b, m.n);
    m.b[PS + 16 + 4] = 2; /* version of meta 1 */
    EXPECT_DAMAGE(m, 0, "meta page 1 (byte 4096): data format version 2");
    memcpy(m.b, b->b, m.n);
    w64(m.b + 16 + 24, 3000); /* page size of meta 0 (FREE's md_pad) */
    EXPECT_DAMAGE(m, 0, "page size 3000");
    memcpy(m.b, b->b, m.n);
    m.b[PS + 16 + 24 + 1] = 0x20; /* meta 1: 8192 */
    EXPECT_DAMAGE(m, 0, "disagree on the page size (4096 and 8192)");
    memcpy(m.b, b->b, m.n);
    w64(m.b + 16 + 128, 9); /* an odd txnid in meta 0 */
    EXPECT_DAMAGE(m, 0, "meta page 0 (byte 0) holds transaction 9, which belongs in meta page 1");
    memcpy(m.b, b->b, m.n);
    m.b[10] = 0x02; /* page 0 is a leaf? */
    EXPECT_DAMAGE(m, 0, "meta page 0 (byte 0) says it is page 0 with flags 0x2");
    memcpy(m.b, b->b, m.n);
    w64(meta(&m) + 72 + 40, 1u << 20); /* MAIN root */
    EXPECT_DAMAGE(m, 0, "the meta page of the MAIN DB records root page 1048576");
    memcpy(m.b, b->b, m.n);
    w16(meta(&m) + 72 + 6, 40); /* MAIN depth */
    EXPECT_DAMAGE(m, 0, "depths 1..32");
    memcpy(m.b, b->b, m.n);
    w16(meta(&m) + 24 + 4, 0x08 | 0x04); /* FREE DB with sorted duplicates */
    EXPECT_DAMAGE(m, 0, "the meta page of the FREE DB has flags 0xc, not 0x8");
    memcpy(m.b, b->b, m.n);
    w64(meta(&m) + 120, 1u << 30); /* last page */
    EXPECT_DAMAGE(m, 0, "(truncated?)");
    free(m.b);
}

static void test_lmdbcheck_snapshot_by_txnid(void)
{
    const image *b = base_image();
    mn_err err = {0};
    CHECK_EQ_INT(lmdb_check_image(b->b, b->n, "x", LMDB_CHECK_FULL, 6, NULL, &err), 0); /* the older meta */
    CHECK_EQ_INT(lmdb_check_image(b->b, b->n, "x", 0, 99, NULL, &err), MN_EBUSY);
    CHECK_STR_CONTAINS(err.msg, "x: the snapshot of transaction 99 is gone");
}

/* ---- damage: tables ---- */

static void test_lmdbcheck_table_records(void)
{
    const image *b = base_image();
    image m = copy(b);
    w64(table(&m, "chunks") + 32, r64(table(&m, "chunks") + 32) + 1); /* entries */
    EXPECT_SOUND(m, 0);
    EXPECT_DAMAGE(m, 1, "table 'chunks' holds 420 entries but its record says 421");
    memcpy(m.b, b->b, m.n);
    w64(table(&m, "doclen") + 16, r64(table(&m, "doclen") + 16) + 1); /* leaf pages */
    EXPECT_DAMAGE(m, 1, "table 'doclen' has ");
    memcpy(m.b, b->b, m.n);
    w16(table(&m, "chunks") + 6, 1); /* depth 1 but the root is a branch */
    EXPECT_DAMAGE(m, 0, "of table 'chunks' says it is page");
    memcpy(m.b, b->b, m.n);
    w64(table(&m, "dedup") + 40, 1u << 30); /* root */
    EXPECT_DAMAGE(m, 0, "its record of table 'dedup' records root page 1073741824");
    memcpy(m.b, b->b, m.n);
    w16(table(&m, "meta") + 4, 0x04); /* DUPSORT */
    EXPECT_DAMAGE(m, 0, "its record of table 'meta' has flags 0x4, not 0x0");
    memcpy(m.b, b->b, m.n);
    uint8_t *rec = table(&m, "dedup");
    w16(rec - 8 - 5, 47); /* the node's data size (key "dedup" is 5 bytes) */
    EXPECT_DAMAGE(m, 0, "the record of table 'dedup' has 47 bytes, not 48");
    free(m.b);
}

static void test_lmdbcheck_pages_and_nodes(void)
{
    const image *b = base_image();
    image m = copy(b);
    uint64_t branch, leaf = first_leaf(&m, "chunks", &branch);
    uint8_t *p = page(&m, leaf);
    w64(p, leaf + 1);
    EXPECT_SOUND(m, 0); /* an interior page: only the full check sees it */
    EXPECT_DAMAGE(m, 1, "says it is page");
    memcpy(m.b, b->b, m.n);
    w16(p + 12, r16(p + 14) + 2); /* mp_lower past mp_upper */
    EXPECT_DAMAGE(m, 1, "out of bounds");
    memcpy(m.b, b->b, m.n);
    w16(p + 16, 6); /* node 0 inside the header */
    EXPECT_DAMAGE(m, 1, "node 0 at offset 6 lies outside the node area");
    memcpy(m.b, b->b, m.n);
    uint16_t a = r16(p + 16), c = r16(p + 18); /* swap nodes 0 and 1 */
    w16(p + 16, c), w16(p + 18, a);
    EXPECT_DAMAGE(m, 1, "node 1's key is out of order");
    memcpy(m.b, b->b, m.n);
    w16(node(&m, leaf, 1) + 4, 0x04); /* F_DUPDATA */
    EXPECT_DAMAGE(m, 1, "node 1 has flags 0x4, which mnemo never writes there");
    memcpy(m.b, b->b, m.n);
    w16(node(&m, leaf, 1) + 6, 0); /* empty key */
    EXPECT_DAMAGE(m, 1, "node 1 has a key of 0 bytes");
    memcpy(m.b, b->b, m.n);
    uint8_t *n1 = node(&m, leaf, 1);
    if (!(r16(n1 + 4) & 1)) {
        w16(n1, 0xffff); /* data size beyond the page */
        EXPECT_DAMAGE(m, 1, "data bytes run past the page");
    }
    memcpy(m.b, b->b, m.n);
    uint8_t *bn = node(&m, branch, 1); /* a branch child pointing back at its parent: a cycle */
    w16(bn, (uint16_t)branch), w16(bn + 2, (uint16_t)(branch >> 16)), w16(bn + 4, 0);
    EXPECT_DAMAGE(m, 1, "is reached twice");
    memcpy(m.b, b->b, m.n);
    memcpy(table(&m, "dedup"), table(&m, "doclen"), 48); /* two tables on the same pages */
    EXPECT_SOUND(m, 0);
    EXPECT_DAMAGE(m, 1, "of table 'doclen' is reached twice");
    memcpy(m.b, b->b, m.n);
    w16(bn, 0xffff), w16(bn + 2, 0x00ff); /* child past the last page */
    EXPECT_DAMAGE(m, 1, "points to page 16777215, outside pages 2..");
    free(m.b);
}

/* A leaf node whose value lives on overflow pages (F_BIGDATA): a chunk. */
static uint8_t *big_node(const image *m)
{
    for (uint64_t pg = 2; pg < m->n / PS; pg++) {
        uint8_t *p = page(m, pg);
        if (r16(p + 10) != 0x02)
            continue;
        for (unsigned i = 0; i < nkeys(m, pg); i++) {
            uint8_t *n = node(m, pg, i);
            if (r16(n + 4) == 1 && r16(n + 6) == 8)
                return n;
        }
    }
    abort();
}

static void test_lmdbcheck_overflow_pages(void)
{
    const image *b = base_image();
    image m = copy(b);
    uint8_t *n = big_node(&m);
    uint64_t ov = r64(n + 8 + 8);
    CHECK_EQ_INT(r16(page(&m, ov) + 10), 0x04);
    w64(n + 16, r64(meta(&m) + 120) + 5);
    EXPECT_DAMAGE(m, 1, "outside pages 2..");
    memcpy(m.b, b->b, m.n);
    w64(page(&m, ov) + 12, 1); /* mp_pages */
    EXPECT_DAMAGE(m, 1, "overflow run of 1 pages");
    memcpy(m.b, b->b, m.n);
    m.n = (ov + 2) * PS; /* the run crosses the end of the file */
    EXPECT_DAMAGE(m, 1, "(truncated?)");
    free(m.b);
}

/* The first FREE DB record with at least 2 pages: its IDL. */
static uint8_t *free_list(const image *m)
{
    uint8_t *fr = meta(m) + 24;
    if (r16(fr + 6) != 1) /* the test shard's FREE DB is one leaf */
        return NULL;
    uint64_t root = r64(fr + 40);
    for (unsigned i = 0; i < nkeys(m, root); i++) {
        uint8_t *n = node(m, root, i);
        if (!(r16(n + 4) & 1) && r64(n + 8 + 8) >= 2)
            return n + 8 + 8;
    }
    return NULL;
}

static void test_lmdbcheck_free_pages(void)
{
    const image *b = base_image();
    image m = copy(b);
    uint8_t *idl = free_list(&m);
    CHECK(idl != NULL);
    uint64_t n = r64(idl);
    w64(idl + 8, r64(meta(&m) + 120) + 7); /* past the last page */
    EXPECT_SOUND(m, 0); /* the quick check reads the FREE DB only for a short file */
    EXPECT_DAMAGE(m, 1, "free-page list entry 1");
    memcpy(m.b, b->b, m.n);
    w64(idl + 8 * n, r64(idl + 8)); /* not descending */
    EXPECT_DAMAGE(m, 1, "free-page list entry");
    memcpy(m.b, b->b, m.n);
    w64(idl, n - 1); /* the smallest page is no longer listed: lost */
    EXPECT_SOUND(m, 0);
    EXPECT_DAMAGE(m, 1, "is neither in a tree nor free");
    memcpy(m.b, b->b, m.n);
    w64(idl, 1);
    w64(idl + 8, r64(table(&m, "chunks") + 40)); /* the chunks root, listed free */
    EXPECT_DAMAGE(m, 1, "is in use but the FREE DB lists it as free");
    memcpy(m.b, b->b, m.n);
    w64(idl, 1u << 20); /* a count longer than the value */
    EXPECT_DAMAGE(m, 1, "a free-page list claims 1048576 pages");
    free(m.b);
}

/* ---- through the store ---- */

static void test_store_open_refuses_damage_and_check_walks(void)
{
    const image *b = base_image();
    const char *dir = cb_path("shard-007");
    mkdir(dir, 0777);
    char path[600];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    image m = copy(b);
    m.n = m.n * 96 / 100;
    cb_save("shard-007/data.mdb", m.b, m.n);
    store *s = NULL;
    mn_err err = {0};
    CHECK_EQ_INT(store_open(dir, STORE_RDONLY | STORE_NOLOCK, &s, &err), MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, path);
    CHECK_STR_CONTAINS(err.msg, "(truncated?)");
    CHECK_EQ_INT(store_open(dir, 0, &s, &err), MN_EFORMAT); /* writers too */
    CHECK_EQ_INT(store_check(dir, 0, &err), MN_EFORMAT);
    /* interior damage: store_open lets it through, the full check does not */
    memcpy(m.b, b->b, b->n);
    m.n = b->n;
    uint64_t branch, leaf = first_leaf(&m, "chunks", &branch);
    w16(node(&m, leaf, 1) + 4, 0x04);
    cb_save("shard-007/data.mdb", m.b, m.n);
    CHECK_EQ_INT(store_open(dir, 0, &s, &err), MN_EFORMAT); /* a writer walks every page */
    CHECK_STR_CONTAINS(err.msg, "node 1 has flags 0x4");
    CHECK_EQ_INT(store_open(dir, STORE_RDONLY, &s, &err), 0);
    CHECK_EQ_INT(store_verify(s, 0, &err), 0);
    CHECK_EQ_INT(store_verify(s, 1, &err), MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "node 1 has flags 0x4");
    store_close(s);
    CHECK_EQ_INT(store_check(dir, 0, &err), 0);
    CHECK_EQ_INT(store_check(dir, STORE_CHECK_FULL, &err), MN_EFORMAT);
    CHECK_EQ_INT(store_check(dir, STORE_CHECK_FULL | STORE_NOLOCK, &err), MN_EFORMAT);
    cb_save("shard-007/data.mdb", b->b, b->n);
    CHECK_EQ_INT(store_check(dir, STORE_CHECK_FULL, &err), 0);
    cb_save("shard-007/data.mdb", "", 0);
    CHECK_EQ_INT(store_open(dir, STORE_RDONLY, &s, &err), MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "the file is empty");
    free(m.b);
}

/* A record whose size runs past the map reaches no caller: the value is
 * refused before chunk_parse (or search.c) reads it. */
static void test_store_value_outside_the_map_is_refused(void)
{
    const image *b = base_image();
    const char *dir = cb_path("shard-008");
    mkdir(dir, 0777);
    image m = copy(b);
    uint64_t branch, leaf = first_leaf(&m, "chunks", &branch);
    uint8_t *n = node(&m, leaf, nkeys(&m, leaf) - 1);
    CHECK(!(r16(n + 4) & 1));
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = id << 8 | n[8 + i];
    w16(n, 0xffff), w16(n + 2, 0x7fff); /* 2 GiB of chunk record */
    cb_save("shard-008/data.mdb", m.b, m.n);
    store *s;
    mn_err err = {0};
    CHECK_EQ_INT(store_open(dir, STORE_RDONLY | STORE_NOLOCK, &s, &err), 0);
    CHECK_EQ_INT(store_begin(s, 0, &err), 0);
    store_chunk c;
    CHECK_EQ_INT(store_chunk_get(s, id, &c, &err), MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "lies outside the file");
    store_close(s);
    free(m.b);
}

TEST_MAIN(TEST(test_lmdbcheck_real_shard_is_sound), TEST(test_lmdbcheck_random_workload_stays_sound),
          TEST(test_lmdbcheck_free_tail_past_eof_is_sound), TEST(test_lmdbcheck_truncated_file),
          TEST(test_lmdbcheck_meta_pages), TEST(test_lmdbcheck_snapshot_by_txnid),
          TEST(test_lmdbcheck_table_records), TEST(test_lmdbcheck_pages_and_nodes),
          TEST(test_lmdbcheck_overflow_pages), TEST(test_lmdbcheck_free_pages),
          TEST(test_store_open_refuses_damage_and_check_walks), TEST(test_store_value_outside_the_map_is_refused))
