/* fuzz_store.c — libFuzzer target: a whole data.mdb image opened through
 * mnemo's store, as a damaged shard on disk would be.  The input is written
 * to DIR/data.mdb of a temporary shard directory and opened read-only with
 * STORE_NOLOCK (store_open runs the quick check of lmdbcheck.h); the full
 * structural check (store_verify) follows, and only a shard that passes it
 * is read the way readers read it: meta, every chunk length, every chunk
 * (by cursor and by id), every postings segment (scan, then per term),
 * every dedup entry.  Whatever the input, nothing may crash or trip a
 * sanitizer: a crash is a hole in the checker (keep the input in
 * fuzz/corpus/store/, which tests/retrieval/test_store_fuzz_seeds.c
 * replays in the normal test run).  The fault guard is not installed here,
 * so every fault reaches the fuzzer.
 *
 * Seeds: fuzz/corpus/store/ — real shards from `mnemo ingest` of tiny
 * corpora, and byte-flipped copies that crashed mnemo before the checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "retrieval/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WALK 20000 /* entries read per table: keep each input quick */

static char shard_dir[256];

static void remove_shard(void)
{
    char p[300];
    snprintf(p, sizeof p, "%s/data.mdb", shard_dir);
    unlink(p);
    rmdir(shard_dir);
}

static const char *temp_shard(void)
{
    if (!shard_dir[0]) {
        const char *t = access("/dev/shm", W_OK) ? (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") : "/dev/shm";
        snprintf(shard_dir, sizeof shard_dir, "%s/fuzz-store-XXXXXX", t);
        if (!mkdtemp(shard_dir))
            abort();
        atexit(remove_shard);
    }
    return shard_dir;
}

static volatile uint8_t sink;

/* Read every borrowed byte: they must lie in the file's map. */
static void touch(const void *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ((const uint8_t *)p)[i];
    sink = sum;
}

/* Errors must come as one of the codes with a message. */
static void expect_error(int rc, const mn_err *err)
{
    if (rc >= 0 || err->code != rc || !err->msg[0])
        abort();
}

typedef struct walk {
    store *s;
    uint64_t n;
    char terms[64][256];
    size_t lens[64];
    int nterms;
} walk;

static int on_chunk(void *ctx, uint64_t id, const store_chunk *c, mn_err *err)
{
    walk *w = ctx;
    touch(c->text, c->text_len);
    touch(c->doc_id, c->doc_id_len);
    touch(c->source, c->source_len);
    if (c->member)
        touch(c->member, c->member_len);
    (void)id, (void)err;
    return ++w->n >= MAX_WALK;
}

static int on_pair(void *ctx, uint64_t key, uint64_t val, mn_err *err)
{
    walk *w = ctx;
    (void)key, (void)val, (void)err;
    return ++w->n >= MAX_WALK;
}

static int on_term(void *ctx, const char *term, size_t len, uint32_t seg, const void *buf, size_t n, mn_err *err)
{
    walk *w = ctx;
    touch(buf, n);
    if (w->nterms < 64 && (!w->nterms || w->lens[w->nterms - 1] != len ||
                           memcmp(w->terms[w->nterms - 1], term, len))) {
        memcpy(w->terms[w->nterms], term, len);
        w->lens[w->nterms++] = len;
    }
    (void)seg, (void)err;
    return ++w->n >= MAX_WALK;
}

static int on_segment(void *ctx, uint32_t seg, const void *buf, size_t n, mn_err *err)
{
    touch(buf, n);
    (void)ctx, (void)seg, (void)err;
    return 0;
}

/* What search, stats and eval read from a shard that passed the checks. */
static void read_like_a_reader(store *s)
{
    mn_err err = {0};
    int rc;
    if ((rc = store_begin(s, 0, &err))) {
        expect_error(rc, &err);
        return;
    }
    store_meta m;
    if ((rc = store_meta_get(s, &m, &err)) < 0)
        expect_error(rc, &err);
    if (rc == 1) {
        uint32_t *lens = NULL;
        if ((rc = store_doclen_load(s, m.shard, m.next_local, &lens, &err)))
            expect_error(rc, &err);
        free(lens);
        for (uint64_t local = 0; local < m.next_local && local < 64; local++) {
            store_chunk c;
            uint64_t id = m.shard << STORE_SHARD_BITS | local;
            if ((rc = store_chunk_get(s, id, &c, &err)) < 0)
                expect_error(rc, &err);
        }
    }
    const char *v;
    size_t vlen;
    if ((rc = store_kv_get(s, "config", &v, &vlen, &err)) < 0)
        expect_error(rc, &err);
    walk w = {.s = s};
    if ((rc = store_chunk_each(s, on_chunk, &w, &err)) < 0)
        expect_error(rc, &err);
    w.n = 0;
    if ((rc = store_doclen_each(s, on_pair, &w, &err)) < 0)
        expect_error(rc, &err);
    w.n = 0;
    if ((rc = store_dedup_each(s, on_pair, &w, &err)) < 0)
        expect_error(rc, &err);
    w.n = 0;
    if ((rc = store_postings_scan(s, on_term, &w, &err)) < 0)
        expect_error(rc, &err);
    for (int i = 0; i < w.nterms; i++) {
        uint32_t seg;
        const void *buf;
        size_t n;
        if ((rc = store_postings_each(s, w.terms[i], w.lens[i], on_segment, NULL, &err)) < 0)
            expect_error(rc, &err);
        if ((rc = store_postings_last(s, w.terms[i], w.lens[i], &seg, &buf, &n, &err)) < 0)
            expect_error(rc, &err);
    }
    store_abort(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = temp_shard();
    char path[300];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
        abort();
    store *s;
    mn_err err = {0};
    int rc = store_open(dir, STORE_RDONLY | STORE_NOLOCK, &s, &err);
    if (rc) {
        expect_error(rc, &err);
        return 0;
    }
    if ((rc = store_verify(s, 1, &err)))
        expect_error(rc, &err);
    else
        read_like_a_reader(s);
    store_close(s);
    return 0;
}
