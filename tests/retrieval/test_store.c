/* test_store.c — one LMDB shard (store.h) round trip, its error paths,
 * and the hashes of util/hash.h that the on-disk format depends on. */
#include "retrieval/store.h"

#include <stdint.h>

#include "corpus_build.h" /* cb_path */
#include "retrieval/postings.h"
#include "test.h"
#include "util/hash.h"

#define HASH64_EMPTY 0x9353dfc8a195f3e2ULL
#define HASH64_HELLO 0x5090f6cd8af0164bULL

typedef struct seglog {
    uint32_t seg[8];
    size_t len[8];
    int n;
} seglog;

static int log_seg(void *ctx, uint32_t seg, const void *buf, size_t n, mn_err *err)
{
    (void)buf, (void)err;
    seglog *l = ctx;
    if (l->n < 8) {
        l->seg[l->n] = seg;
        l->len[l->n] = n;
    }
    l->n++;
    return 0;
}

static void test_store_round_trip(void)
{
    const char *dir = cb_path("rt");
    store *s;
    mn_err err = {0};
    CHECK_EQ_INT(store_open(dir, 0, &s, &err), 0);
    CHECK_EQ_INT(store_begin(s, 1, &err), 0);
    store_meta m = {.shard = 2, .nshards = 3, .next_local = 5, .chunks = 4, .hash_lo = UINT64_MAX, .prog_input = 7,
                    .prog_doc = 9};
    CHECK_EQ_INT(store_meta_put(s, &m, &err), 0);
    CHECK_EQ_INT(store_kv_put(s, "config", "a=b\n", 4, &err), 0);
    store_chunk c = {.text = "hello\0world", .text_len = 11, .doc_id = "doc-1", .doc_id_len = 5,
                     .source = "/x/in.tar", .source_len = 9, .member = "m.jsonl", .member_len = 7,
                     .input = 1, .doc = 2, .line = 3, .record = 0, .offset = 44, .index = 6, .kind = 1};
    CHECK_EQ_INT(store_chunk_put(s, (uint64_t)2 << 40 | 17, &c, &err), 0);
    store_chunk c2 = {.text = "", .text_len = 0, .doc_id = "", .source = "p", .source_len = 1};
    CHECK_EQ_INT(store_chunk_put(s, 3, &c2, &err), 0);
    CHECK_EQ_INT(store_dedup_put(s, 0xdeadbeefcafeULL, 99, &err), 0);
    CHECK_EQ_INT(store_doclen_put(s, 99, 123456, &err), 0);
    posting p1[2] = {{1, 1}, {5, 3}}, p2[1] = {{9, 2}};
    uint8_t b1[64], b2[64];
    size_t l1, l2;
    CHECK_EQ_INT(postings_encode(p1, 2, b1, sizeof b1, &l1, &err), 0);
    CHECK_EQ_INT(postings_encode(p2, 1, b2, sizeof b2, &l2, &err), 0);
    /* written out of order, and a neighbour term sharing the prefix */
    CHECK_EQ_INT(store_postings_put(s, "ab", 2, 300, b2, l2, &err), 0);
    CHECK_EQ_INT(store_postings_put(s, "ab", 2, 2, b1, l1, &err), 0);
    CHECK_EQ_INT(store_postings_put(s, "abc", 3, 0, b1, l1, &err), 0);
    CHECK_EQ_INT(store_postings_put(s, "a", 1, 1, b2, l2, &err), 0);
    CHECK(store_postings_put(s, "a\0b", 3, 1, b2, l2, &err) == MN_ERANGE);
    CHECK_EQ_INT(store_commit(s, &err), 0);
    store_close(s);

    CHECK_EQ_INT(store_open(dir, 1, &s, &err), 0);
    CHECK_EQ_INT(store_begin(s, 1, &err), MN_EUSAGE); /* read-only */
    CHECK_EQ_INT(store_begin(s, 0, &err), 0);
    store_meta r;
    CHECK_EQ_INT(store_meta_get(s, &r, &err), 1);
    CHECK(r.version == STORE_VERSION && r.shard == 2 && r.nshards == 3 && r.next_local == 5 && r.chunks == 4 &&
          r.hash_lo == UINT64_MAX && r.prog_input == 7 && r.prog_doc == 9);
    const char *v;
    size_t vl;
    CHECK_EQ_INT(store_kv_get(s, "config", &v, &vl, &err), 1);
    CHECK(vl == 4 && !memcmp(v, "a=b\n", 4));
    CHECK_EQ_INT(store_kv_get(s, "nope", &v, &vl, &err), 0);
    store_chunk g;
    CHECK_EQ_INT(store_chunk_get(s, (uint64_t)2 << 40 | 17, &g, &err), 1);
    CHECK(g.text_len == 11 && !memcmp(g.text, "hello\0world", 11));
    CHECK(g.doc_id_len == 5 && !memcmp(g.doc_id, "doc-1", 5));
    CHECK(g.source_len == 9 && !memcmp(g.source, "/x/in.tar", 9));
    CHECK(g.member && g.member_len == 7 && !memcmp(g.member, "m.jsonl", 7));
    CHECK(g.input == 1 && g.doc == 2 && g.line == 3 && g.offset == 44 && g.index == 6 && g.kind == 1);
    CHECK_EQ_INT(store_chunk_get(s, 3, &g, &err), 1);
    CHECK(g.text_len == 0 && g.member == NULL && g.source_len == 1);
    CHECK_EQ_INT(store_chunk_get(s, 4, &g, &err), 0);
    uint64_t id;
    CHECK_EQ_INT(store_dedup_get(s, 0xdeadbeefcafeULL, &id, &err), 1);
    CHECK(id == 99);
    CHECK_EQ_INT(store_dedup_get(s, 1, &id, &err), 0);
    uint32_t dl;
    CHECK_EQ_INT(store_doclen_get(s, 99, &dl, &err), 1);
    CHECK(dl == 123456);
    seglog lg = {0};
    CHECK_EQ_INT(store_postings_each(s, "ab", 2, log_seg, &lg, &err), 0);
    CHECK_EQ_INT(lg.n, 2);
    CHECK(lg.seg[0] == 2 && lg.len[0] == l1 && lg.seg[1] == 300 && lg.len[1] == l2);
    lg.n = 0;
    CHECK_EQ_INT(store_postings_each(s, "a", 1, log_seg, &lg, &err), 0);
    CHECK(lg.n == 1 && lg.seg[0] == 1);
    lg.n = 0;
    CHECK_EQ_INT(store_postings_each(s, "b", 1, log_seg, &lg, &err), 0);
    CHECK_EQ_INT(lg.n, 0);
    uint32_t last;
    const void *lb;
    size_t ln;
    CHECK_EQ_INT(store_postings_last(s, "ab", 2, &last, &lb, &ln, &err), 1);
    CHECK(last == 300 && ln == l2 && !memcmp(lb, b2, l2));
    CHECK_EQ_INT(store_postings_last(s, "abc", 3, &last, &lb, &ln, &err), 1);
    CHECK(last == 0 && ln == l1);
    CHECK_EQ_INT(store_postings_last(s, "a", 1, &last, &lb, &ln, &err), 1);
    CHECK(last == 1);
    CHECK_EQ_INT(store_postings_last(s, "aa", 2, &last, &lb, &ln, &err), 0); /* between terms */
    CHECK_EQ_INT(store_postings_last(s, "zz", 2, &last, &lb, &ln, &err), 0); /* past the last key */
    CHECK_EQ_INT(store_postings_last(s, "0", 1, &last, &lb, &ln, &err), 0);  /* before the first */
    store_abort(s);
    CHECK_EQ_INT(store_chunk_get(s, 3, &g, &err), MN_EUSAGE); /* no transaction */
    store_close(s);
}

static void test_store_postings_delete(void)
{
    const char *dir = cb_path("del");
    store *s;
    mn_err err = {0};
    CHECK_EQ_INT(store_open(dir, 0, &s, &err), 0);
    CHECK_EQ_INT(store_begin(s, 1, &err), 0);
    CHECK_EQ_INT(store_postings_put(s, "t", 1, 4, "\x01\x03", 2, &err), 0);
    CHECK_EQ_INT(store_postings_put(s, "t", 1, 9, "\x01\x05", 2, &err), 0);
    CHECK_EQ_INT(store_postings_del(s, "t", 1, 9, &err), 0);
    CHECK_EQ_INT(store_postings_del(s, "t", 1, 77, &err), 0); /* absent: fine */
    uint32_t last;
    const void *b;
    size_t n;
    CHECK_EQ_INT(store_postings_last(s, "t", 1, &last, &b, &n, &err), 1);
    CHECK_EQ_INT(last, 4);
    CHECK_EQ_INT(store_commit(s, &err), 0);
    store_close(s);
}

static void test_store_abort_discards(void)
{
    const char *dir = cb_path("ab");
    store *s;
    mn_err err = {0};
    CHECK_EQ_INT(store_open(dir, 0, &s, &err), 0);
    CHECK_EQ_INT(store_begin(s, 1, &err), 0);
    CHECK_EQ_INT(store_doclen_put(s, 1, 5, &err), 0);
    store_abort(s);
    CHECK_EQ_INT(store_begin(s, 0, &err), 0);
    uint32_t dl;
    CHECK_EQ_INT(store_doclen_get(s, 1, &dl, &err), 0);
    store_meta m;
    CHECK_EQ_INT(store_meta_get(s, &m, &err), 0);
    store_close(s);
}

static void test_store_open_errors(void)
{
    store *s;
    mn_err err = {0};
    int rc = store_open(cb_path("missing/deeper"), 1, &s, &err);
    CHECK(rc == MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "missing/deeper");
    /* an empty LMDB environment is not a shard */
    const char *dir = cb_path("empty");
    CHECK_EQ_INT(mkdir(dir, 0777), 0);
    FILE *f = fopen(cb_path("empty/data.mdb"), "wb");
    CHECK(f);
    fputs("this is not an LMDB file, it is text that is long enough to be read as a header............", f);
    fclose(f);
    rc = store_open(dir, 1, &s, &err);
    CHECK(rc == MN_EIO || rc == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "empty");
}

static void test_store_hash_known_values(void)
{
    char hex[65];
    sha256_hex("abc", 3, hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    sha256_hex("", 0, hex);
    CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    static char a[1000];
    memset(a, 'a', sizeof a);
    /* incremental, across block boundaries */
    sha256_ctx c;
    uint8_t d[32];
    sha256_init(&c);
    sha256_update(&c, a, 1);
    sha256_update(&c, a, 63);
    sha256_update(&c, a, 936);
    sha256_final(&c, d);
    sha256_hex(a, sizeof a, hex);
    CHECK(!strcmp(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"));
    CHECK(d[0] == 0x41 && d[31] == 0xa3);
    /* hash64 is part of the DB format: pinned */
    CHECK_MSG(hash64("", 0, 0) == HASH64_EMPTY, "%016llx", (unsigned long long)hash64("", 0, 0));
    CHECK_MSG(hash64("hello world", 11, 0) == HASH64_HELLO, "%016llx", (unsigned long long)hash64("hello world", 11, 0));
    CHECK(hash64("hello world", 11, 1) != hash64("hello world", 11, 0));
    CHECK(hash64("hello worle", 11, 0) != hash64("hello world", 11, 0));
    CHECK(hash64("a\0", 2, 0) != hash64("a", 1, 0));
}

TEST_MAIN(TEST(test_store_round_trip), TEST(test_store_postings_delete), TEST(test_store_abort_discards), TEST(test_store_open_errors),
          TEST(test_store_hash_known_values))
