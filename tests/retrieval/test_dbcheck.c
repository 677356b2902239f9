/* test_dbcheck.c — the DB's content hash recomputed (db_chunk_hash and
 * db_text_hash give exactly what ingest stores, 1 and 3 shards) and
 * `stats --deep`'s walk (dbcheck.h): clean DBs (1 and 3 shards, stemming
 * and stop words, token chunking) have no problem and recompute the
 * manifest's content hash; equal DBs have equal digests; each kind of
 * damage written into a copy through the store (a chunk's text, its
 * provenance and source, a doclen, a dedup entry, a postings list, a meta
 * counter) is reported in the table it hit. */
#include "retrieval/dbcheck.h"

#include <stdio.h>
#include <string.h>

#include "corpus_build.h"
#include "retrieval/ingest.h"
#include "retrieval/manifest.h"
#include "retrieval/postings.h"
#include "retrieval/search.h"
#include "retrieval/store.h"
#include "test.h"

static uint64_t rng_state = 11;
static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

static const char *vocab[] = {"the", "river", "stone", "house", "tree", "blue", "green", "Über", "naïve", "42",
                              "running", "runs", "of", "and", "zeta", "eta", "theta"};
#define NV (sizeof vocab / sizeof vocab[0])

/* A JSONL corpus of n documents, about 1 in 8 repeating an earlier text. */
static const char *corpus(const char *name, int n)
{
    size_t cap = (size_t)n * 800 + 1, len = 0;
    char *out = malloc(cap);
    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(out + len, cap - len, "{\"id\": \"d%d\", \"text\": \"", i);
        int w = i > 0 && rng() % 8 == 0 ? 12 : (int)(rng() % 70);
        uint64_t save = rng_state;
        if (w == 12)
            rng_state = 99; /* the same 12 words again */
        for (int j = 0; j < w; j++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", j ? " " : "", vocab[rng() % NV]);
        if (w == 12)
            rng_state = save;
        len += (size_t)snprintf(out + len, cap - len, "\"}\n");
    }
    const char *p = strdup(cb_save(name, out, len));
    free(out);
    return p;
}

static int ingest(const char *dir, uint32_t shards, analyzer_config an, const char *tok, mn_err *err)
{
    static const char *in;
    if (!in)
        in = corpus("dbcheck.jsonl", 300);
    ingest_opts o;
    ingest_opts_default(&o);
    o.shards = shards, o.chunk_size = 20, o.overlap = 4, o.batch_docs = 40, o.analyzer = an;
    o.tokenizer_path = tok;
    return ingest_run(dir, &o, &in, 1, NULL, err);
}

static store *open_shard(const char *dir, uint32_t s, int write)
{
    char p[600];
    store *st = NULL;
    mn_err err;
    db_shard_path(dir, s, p, sizeof p);
    if (store_open(p, write ? 0 : STORE_RDONLY, &st, &err) || store_begin(st, write, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        store_close(st);
        return NULL;
    }
    return st;
}

/* ---- db_chunk_hash / db_text_hash against what ingest stored ---- */

typedef struct sums {
    uint64_t hi, lo, n;
    uint32_t shard, nshards;
    int bad;
} sums;

static int add_chunk(void *ctx, uint64_t id, const store_chunk *c, mn_err *err)
{
    (void)err;
    sums *s = ctx;
    uint64_t hi, lo;
    db_chunk_hash(id, c->text, c->text_len, c->doc_id, c->doc_id_len, &hi, &lo);
    s->hi += hi, s->lo += lo, s->n++;
    s->bad |= db_text_hash(c->text, c->text_len) % s->nshards != s->shard;
    return 0;
}

typedef struct dedup_ctx {
    store *st;
    int bad;
    uint64_t n;
} dedup_ctx;

static int check_dedup_key(void *ctx, uint64_t hash, uint64_t id, mn_err *err)
{
    dedup_ctx *d = ctx;
    store_chunk c;
    d->n++;
    if (store_chunk_get(d->st, id, &c, err) != 1 || db_text_hash(c.text, c.text_len) != hash)
        d->bad = 1;
    return 0;
}

static void chunk_hash_matches(uint32_t shards)
{
    mn_err err = {0};
    char name[32];
    snprintf(name, sizeof name, "hash%u", shards);
    const char *dir = cb_path(name);
    CHECK_MSG(ingest(dir, shards, (analyzer_config){0}, NULL, &err) == 0, "%s", err.msg);
    uint64_t hi = 0, lo = 0;
    for (uint32_t s = 0; s < shards; s++) {
        store *st = open_shard(dir, s, 0);
        CHECK(st);
        store_meta m;
        sums sum = {.shard = s, .nshards = shards};
        dedup_ctx dd = {.st = st};
        int ok = store_meta_get(st, &m, &err) == 1 && store_chunk_each(st, add_chunk, &sum, &err) == 0 &&
                 store_dedup_each(st, check_dedup_key, &dd, &err) == 0;
        store_close(st);
        CHECK_MSG(ok, "%s", err.msg);
        CHECK_MSG(sum.hi == m.hash_hi && sum.lo == m.hash_lo, "shard %u: recomputed %016llx%016llx, stored %016llx%016llx",
                  s, (unsigned long long)sum.hi, (unsigned long long)sum.lo, (unsigned long long)m.hash_hi,
                  (unsigned long long)m.hash_lo);
        CHECK(sum.n == m.chunks && sum.n > 20 && !sum.bad);
        CHECK(!dd.bad && dd.n > 0);
        hi += sum.hi, lo += sum.lo;
    }
    /* and the manifest's total */
    search_db *db;
    CHECK_MSG(search_db_open(dir, &db, &err) == 0, "%s", err.msg);
    db_identity id;
    search_db_identity(db, &id);
    search_db_close(db);
    char h[33];
    manifest_hash_hex(hi, lo, h);
    CHECK_MSG(!strcmp(h, id.content_hash), "%s != %s", h, id.content_hash);
}

static void test_db_chunk_hash_matches_ingest_1_shard(void)
{
    chunk_hash_matches(1);
}

static void test_db_chunk_hash_matches_ingest_3_shards(void)
{
    chunk_hash_matches(3);
}

/* ---- the deep walk ---- */

static void print_problems(const db_check *c)
{
    for (size_t i = 0; i < c->nprob && i < 20; i++)
        fprintf(stderr, "  shard %lld %s %s: %s\n", (long long)c->prob[i].shard, c->prob[i].table, c->prob[i].key,
                c->prob[i].reason);
}

static int has_problem(const db_check *c, const char *table)
{
    for (size_t i = 0; i < c->nprob; i++)
        if (!strcmp(c->prob[i].table, table))
            return 1;
    return 0;
}

static void clean_db(const char *name, uint32_t shards, analyzer_config an, const char *tok)
{
    mn_err err = {0};
    const char *dir = cb_path(name);
    CHECK_MSG(ingest(dir, shards, an, tok, &err) == 0, "%s", err.msg);
    db_check c;
    int rc = db_check_run(dir, NULL, NULL, &c, &err);
    if (c.problems)
        print_problems(&c);
    int ok = rc == 0 && c.problems == 0 && c.nshards == shards;
    search_db *db;
    db_identity id;
    CHECK_MSG(search_db_open(dir, &db, &err) == 0, "%s", err.msg);
    search_db_identity(db, &id);
    search_db_close(db);
    char h[33];
    manifest_hash_hex(c.hash_hi, c.hash_lo, h);
    uint64_t chunks = 0;
    for (uint32_t s = 0; s < c.nshards; s++)
        chunks += c.sh[s].chunks;
    db_check_free(&c);
    CHECK_MSG(ok, "%s: rc %d, problems found in a clean DB", name, rc);
    CHECK_MSG(!strcmp(h, id.content_hash) && chunks == id.chunks, "%s: recomputed %s, %llu chunks; manifest %s, %llu",
              name, h, (unsigned long long)chunks, id.content_hash, (unsigned long long)id.chunks);
}

static void test_dbcheck_clean_dbs_have_no_problem(void)
{
    clean_db("clean1", 1, (analyzer_config){0}, NULL);
    clean_db("clean3", 3, (analyzer_config){0}, NULL);
    clean_db("clean3ss", 3, (analyzer_config){ANALYZER_STEM_PORTER, ANALYZER_STOP_EN}, NULL);
    clean_db("clean2tok", 2, (analyzer_config){0}, fixture_path("deps/tokenizers/qwen3/tokenizer.json"));
}

static void test_dbcheck_digest_equal_for_equal_dbs(void)
{
    mn_err err = {0};
    const char *a = cb_path("dig-a"), *b = cb_path("dig-b"), *c3 = cb_path("dig-3");
    CHECK_MSG(ingest(a, 2, (analyzer_config){0}, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(ingest(b, 2, (analyzer_config){0}, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(ingest(c3, 3, (analyzer_config){0}, NULL, &err) == 0, "%s", err.msg);
    db_check ca, cb, cc;
    CHECK_EQ_INT(db_check_run(a, NULL, NULL, &ca, &err), 0);
    CHECK_EQ_INT(db_check_run(b, NULL, NULL, &cb, &err), 0);
    CHECK_EQ_INT(db_check_run(c3, NULL, NULL, &cc, &err), 0);
    int same = !strcmp(ca.digest, cb.digest), differ = strcmp(ca.digest, cc.digest) != 0;
    db_check_free(&ca), db_check_free(&cb), db_check_free(&cc);
    CHECK_MSG(same && differ, "equal DBs: same digest %d; 2 vs 3 shards: other digest %d", same, differ);
}

/* ---- damage, one kind per copy, written through the store ---- */

typedef void (*damage_fn)(store *st, uint64_t id0);

/* The first chunk of shard 0 with at least 3 terms, its text copied. */
static uint64_t pick_chunk(store *st, store_chunk *c, char *text, size_t cap)
{
    mn_err err;
    for (uint64_t id = 0;; id++) {
        if (store_chunk_get(st, id, c, &err) != 1)
            return UINT64_MAX;
        if (c->text_len > 20 && c->text_len < cap) {
            memcpy(text, c->text, c->text_len);
            c->text = text;
            return id;
        }
    }
}

static void damage_text(store *st, uint64_t id)
{
    store_chunk c;
    char text[4096];
    mn_err err;
    id = pick_chunk(st, &c, text, sizeof text);
    text[0] = text[0] == 'q' ? 'x' : 'q'; /* another first term */
    store_chunk_put(st, id, &c, &err);
}

static void damage_line(store *st, uint64_t id)
{
    store_chunk c;
    char text[4096];
    mn_err err;
    id = pick_chunk(st, &c, text, sizeof text);
    c.line += 1000000;
    store_chunk_put(st, id, &c, &err);
}

static void damage_source(store *st, uint64_t id)
{
    store_chunk c;
    char text[4096], src[1024];
    mn_err err;
    id = pick_chunk(st, &c, text, sizeof text);
    memcpy(src, c.source, c.source_len);
    src[c.source_len - 1] ^= 1;
    c.source = src;
    store_chunk_put(st, id, &c, &err);
}

static void damage_doclen(store *st, uint64_t id)
{
    uint32_t len = 0;
    mn_err err;
    store_doclen_get(st, id, &len, &err);
    store_doclen_put(st, id, len + 1, &err);
}

static void damage_dedup(store *st, uint64_t id)
{
    store_chunk c;
    mn_err err;
    store_chunk_get(st, id, &c, &err);
    store_dedup_put(st, db_text_hash(c.text, c.text_len), id + 1, &err);
}

static void damage_postings(store *st, uint64_t id)
{
    (void)id;
    uint32_t seg;
    const void *buf;
    size_t n, got;
    mn_err err;
    if (store_postings_last(st, "river", 5, &seg, &buf, &n, &err) != 1)
        return;
    posting p[4096];
    uint8_t out[65536];
    if (postings_decode(buf, n, "river", p, 4096, &got, &err) || got < 2 ||
        postings_encode(p, got - 1, out, sizeof out, &n, &err)) /* the last posting lost */
        return;
    store_postings_put(st, "river", 5, seg, out, n, &err);
}

static void damage_meta(store *st, uint64_t id)
{
    (void)id;
    store_meta m;
    mn_err err;
    store_meta_get(st, &m, &err);
    m.total_len += 3;
    store_meta_put(st, &m, &err);
}

static void damaged_copy_is_reported(const char *name, damage_fn fn, const char *table)
{
    mn_err err = {0};
    const char *dir = cb_path(name);
    CHECK_MSG(ingest(dir, 2, (analyzer_config){0}, NULL, &err) == 0, "%s", err.msg);
    db_check before, after;
    CHECK_EQ_INT(db_check_run(dir, NULL, NULL, &before, &err), 0);
    store *st = open_shard(dir, 0, 1);
    CHECK(st);
    fn(st, 3);
    int rc = store_commit(st, &err);
    store_close(st);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_EQ_INT(db_check_run(dir, NULL, NULL, &after, &err), 0);
    int found = after.problems > 0 && has_problem(&after, table), changed = strcmp(before.digest, after.digest) != 0;
    if (!found)
        print_problems(&after);
    int shard0 = after.nprob > 0 && after.prob[0].shard == 0;
    db_check_free(&before), db_check_free(&after);
    CHECK_MSG(found && shard0, "%s: no problem in table %s", name, table);
    CHECK_MSG(changed, "%s: the digest did not change", name);
}

static void test_dbcheck_reports_each_kind_of_damage(void)
{
    damaged_copy_is_reported("dmg-text", damage_text, "postings");
    damaged_copy_is_reported("dmg-text2", damage_text, "dedup");
    damaged_copy_is_reported("dmg-text3", damage_text, "meta"); /* content hash */
    damaged_copy_is_reported("dmg-line", damage_line, "chunks");
    damaged_copy_is_reported("dmg-source", damage_source, "chunks");
    damaged_copy_is_reported("dmg-doclen", damage_doclen, "doclen");
    damaged_copy_is_reported("dmg-dedup", damage_dedup, "dedup");
    damaged_copy_is_reported("dmg-postings", damage_postings, "postings");
    damaged_copy_is_reported("dmg-meta", damage_meta, "meta");
}

static void test_dbcheck_needs_a_db(void)
{
    db_check c;
    mn_err err = {0};
    CHECK_EQ_INT(db_check_run(cb_path("no-db-here"), NULL, NULL, &c, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "no-db-here");
    db_check_free(&c);
}

TEST_MAIN(TEST(test_db_chunk_hash_matches_ingest_1_shard), TEST(test_db_chunk_hash_matches_ingest_3_shards),
          TEST(test_dbcheck_clean_dbs_have_no_problem), TEST(test_dbcheck_digest_equal_for_equal_dbs),
          TEST(test_dbcheck_reports_each_kind_of_damage), TEST(test_dbcheck_needs_a_db))
