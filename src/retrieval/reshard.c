/* reshard.c — copy a DB into another number of shards (see reshard.h).
 *
 * Source side: the DB opened read-only and verified (search.h), its input
 * list from the verified manifest, one cursor per old shard (the local
 * sequence number of its next chunk; a shard's chunks are numbered without
 * gaps, in input order) and a binary heap of the cursors by the position of
 * their chunk.  Output side: ingest's writer (ingest_int.h), fed one chunk
 * at a time and flushed at document boundaries. */
#include "retrieval/reshard.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "retrieval/ingest_int.h" /* ingest_writer_* */
#include "retrieval/manifest.h"   /* db_config, db_shard_path, manifest_hash_hex */
#include "retrieval/search.h"     /* search_db_open, search_db_verify_manifest, search_db_chunk */
#include "retrieval/store.h"      /* store_chunk, store_meta */

/* The source DB: verified, with its input list and totals. */
typedef struct source {
    const char *dir;
    search_db *db;
    const db_config *cfg;
    char **inputs;
    size_t ninputs;
    uint64_t chunks, dups, ndocs, total_len; /* sums over its shards */
    char hash[33];
} source;

/* One old shard's read position and the chunk there. */
typedef struct cursor {
    uint32_t shard;
    uint64_t next, end; /* local numbers: the loaded chunk's, one past the last */
    int loaded;         /* c holds a chunk (checked against the next one's order) */
    store_chunk c;      /* borrowed from the source (valid until search_db_close) */
} cursor;

typedef struct pos3 {
    uint64_t input, doc, index;
} pos3;

static int pos_cmp(pos3 a, pos3 b)
{
    if (a.input != b.input)
        return a.input < b.input ? -1 : 1;
    if (a.doc != b.doc)
        return a.doc < b.doc ? -1 : 1;
    return a.index < b.index ? -1 : a.index > b.index;
}

static pos3 chunk_pos(const store_chunk *c)
{
    return (pos3){c->input, c->doc, c->index};
}

static void source_close(source *s)
{
    for (size_t i = 0; i < s->ninputs; i++)
        free(s->inputs[i]);
    free(s->inputs);
    search_db_close(s->db);
    memset(s, 0, sizeof *s);
}

/* The input list of the verified manifest text. */
static int source_inputs(source *s, const char *text, mn_err *err)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je), *in = json_object_get(root, "inputs");
    int rc = 0;
    if (!json_is_array(in) || json_array_size(in) == 0) {
        rc = mn_errf(err, MN_EFORMAT, "%s/manifest.json: no input list", s->dir);
        goto done;
    }
    s->inputs = xcalloc(json_array_size(in), sizeof *s->inputs);
    for (size_t i = 0; i < json_array_size(in); i++) {
        const char *p = json_string_value(json_array_get(in, i));
        if (!p) {
            rc = mn_errf(err, MN_EFORMAT, "%s/manifest.json: inputs[%zu] is not a string", s->dir, i);
            goto done;
        }
        s->inputs[s->ninputs++] = xstrdup(p);
    }
done:
    json_decref(root);
    return rc;
}

/* Open and verify the source: the check `mnemo stats` makes, then every
 * shard's progress at the end of the last input (an ingest that stopped
 * before committing anything new leaves the counters, and the manifest,
 * as they were).  The shards' read transactions, opened before the
 * manifest is read, stay open until the end: what is copied is the state
 * that was verified, whatever an ingest commits to the source meanwhile
 * (a state in between fails the check). */
static int source_open(source *s, const char *dir, mn_err *err)
{
    char *text = NULL;
    s->dir = dir;
    int rc = search_db_open(dir, &s->db, err);
    if (!rc)
        rc = search_db_verify_manifest(s->db, dir, &text, err);
    if (!rc)
        rc = source_inputs(s, text, err);
    free(text);
    if (rc)
        return rc;
    s->cfg = search_db_config(s->db);
    uint64_t hi = 0, lo = 0;
    for (uint32_t i = 0; i < s->cfg->nshards; i++) {
        const store_meta *m = search_db_meta(s->db, i);
        if (m->prog_input != s->ninputs || m->prog_doc != 0)
            return mn_errf(err, MN_EMISMATCH,
                           "%s: shard %u has not finished input %" PRIu64 " of %zu: an ingest was interrupted; rerun it",
                           dir, i, m->prog_input + (m->prog_doc ? 1 : 0), s->ninputs);
        s->chunks += m->chunks, s->dups += m->dups, s->ndocs += m->ndocs, s->total_len += m->total_len;
        hi += m->hash_hi, lo += m->hash_lo;
    }
    manifest_hash_hex(hi, lo, s->hash);
    return 0;
}

/* The chunk at cur->next into cur->c: 1, or 0 past the shard's end.  Checks
 * that the shard's chunks come in input order. */
static int cursor_load(source *s, cursor *cur, mn_err *err)
{
    if (cur->next >= cur->end)
        return 0;
    uint64_t id = (uint64_t)cur->shard << STORE_SHARD_BITS | cur->next;
    pos3 prev = chunk_pos(&cur->c);
    int first = !cur->loaded;
    int rc = search_db_chunk(s->db, id, &cur->c, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return mn_errf(err, MN_EFORMAT, "%s: shard %u: chunk %" PRIu64 " is missing (the shard has %" PRIu64 ")",
                       s->dir, cur->shard, id, cur->end);
    if (!first && pos_cmp(prev, chunk_pos(&cur->c)) >= 0)
        return mn_errf(err, MN_EFORMAT, "%s: shard %u: chunk %" PRIu64 " is out of input order", s->dir, cur->shard,
                       id);
    if (cur->c.input >= s->ninputs || cur->c.source_len != strlen(s->inputs[cur->c.input]) ||
        memcmp(cur->c.source, s->inputs[cur->c.input], cur->c.source_len))
        return mn_errf(err, MN_EFORMAT, "%s: shard %u: chunk %" PRIu64 ": its source is not input %" PRIu64
                       " of the manifest", s->dir, cur->shard, id, cur->c.input);
    cur->loaded = 1;
    return 1;
}

/* The first local number of shard sh whose chunk's document is after
 * (in, doc): the chunks before it are in the output already. */
static int first_after(source *s, uint32_t sh, uint64_t end, uint64_t in, uint64_t doc, uint64_t *out, mn_err *err)
{
    uint64_t lo = 0, hi = end;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        store_chunk c;
        int rc = search_db_chunk(s->db, (uint64_t)sh << STORE_SHARD_BITS | mid, &c, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return mn_errf(err, MN_EFORMAT, "%s: shard %u: chunk %" PRIu64 " is missing", s->dir, sh, mid);
        if (c.input > in || (c.input == in && c.doc > doc))
            hi = mid;
        else
            lo = mid + 1;
    }
    *out = lo;
    return 0;
}

/* ---- a binary min-heap of cursors by chunk position ---- */

static int cur_less(const cursor *a, const cursor *b)
{
    int c = pos_cmp(chunk_pos(&a->c), chunk_pos(&b->c));
    return c < 0 || (c == 0 && a->shard < b->shard);
}

static void heap_down(cursor **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && cur_less(h[l], h[m]))
            m = l;
        if (l + 1 < n && cur_less(h[l + 1], h[m]))
            m = l + 1;
        if (m == i)
            return;
        cursor *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* ---- the copy ---- */

/* The least progress of the output's shards: every document up to it is in
 * every shard. */
static void least_progress(const ingest *g, uint64_t *in, uint64_t *doc)
{
    const store_meta *m = ingest_writer_meta(g, 0);
    *in = m->prog_input, *doc = m->prog_doc;
    for (uint32_t s = 1; s < ingest_writer_shards(g); s++) {
        m = ingest_writer_meta(g, s);
        if (m->prog_input < *in || (m->prog_input == *in && m->prog_doc < *doc))
            *in = m->prog_input, *doc = m->prog_doc;
    }
}

/* Replay the source's chunks in input order through the writer. */
static int replay(source *s, ingest *g, const reshard_opts *o, reshard_result *r, mn_err *err)
{
    uint32_t S = s->cfg->nshards;
    uint64_t min_in, min_doc, done = 0;
    least_progress(g, &min_in, &min_doc);
    cursor *cur = xcalloc(S, sizeof *cur);
    cursor **heap = xcalloc(S, sizeof *heap);
    size_t n = 0, batch = o->batch_chunks ? o->batch_chunks : RESHARD_BATCH_DEFAULT;
    int rc = 0;
    for (uint32_t i = 0; i < S && rc >= 0; i++) {
        cur[i].shard = i;
        cur[i].end = search_db_meta(s->db, i)->next_local;
        if (!(rc = first_after(s, i, cur[i].end, min_in, min_doc, &cur[i].next, err)) &&
            (rc = cursor_load(s, &cur[i], err)) == 1)
            heap[n++] = &cur[i];
        done += cur[i].next;
    }
    for (size_t i = n; i-- > 0;)
        heap_down(heap, n, i);
    while (rc >= 0 && n > 0) {
        cursor *c = heap[0];
        uint64_t in = c->c.input, doc = c->c.doc;
        ingest_writer_add(g, &c->c);
        done++;
        c->next++;
        if ((rc = cursor_load(s, c, err)) < 0)
            break;
        if (rc == 0)
            heap[0] = heap[--n];
        heap_down(heap, n, 0);
        /* a document's chunks are all queued once the next chunk is another's */
        int boundary = n == 0 || heap[0]->c.input != in || heap[0]->c.doc != doc;
        size_t chunks, bytes;
        ingest_writer_pending(g, &chunks, &bytes);
        if (boundary && (chunks >= batch || bytes >= INGEST_BATCH_BYTES)) {
            ingest_writer_set_work(g, done, s->chunks);
            rc = ingest_writer_flush(g, in, doc, err);
        }
    }
    if (rc >= 0) {
        ingest_writer_set_work(g, done, s->chunks);
        rc = ingest_writer_flush(g, s->ninputs, 0, err);
    }
    r->chunks = ingest_writer_counters(g)->chunks;
    free(heap);
    free(cur);
    return rc < 0 ? rc : 0;
}

/* After the copy: the same chunks and BM25 statistics as the source, then
 * the carried-over counters, the manifest, and the "done" mark. */
static int finish(source *s, ingest *g, reshard_result *r, mn_err *err)
{
    uint64_t chunks = 0, dups = 0, ndocs = 0, total_len = 0, hi = 0, lo = 0;
    for (uint32_t i = 0; i < ingest_writer_shards(g); i++) {
        const store_meta *m = ingest_writer_meta(g, i);
        chunks += m->chunks, dups += m->dups, ndocs += m->ndocs, total_len += m->total_len;
        hi += m->hash_hi, lo += m->hash_lo;
    }
    if (chunks != s->chunks || ndocs != s->ndocs || total_len != s->total_len)
        return mn_errf(err, MN_EFORMAT,
                       "reshard of %s: the copy holds %" PRIu64 " chunks (%" PRIu64 " with terms, %" PRIu64
                       " terms), the source %" PRIu64 " (%" PRIu64 ", %" PRIu64 ")",
                       s->dir, chunks, ndocs, total_len, s->chunks, s->ndocs, s->total_len);
    const store_meta *src0 = search_db_meta(s->db, 0), *m0 = ingest_writer_meta(g, 0);
    uint64_t dups0 = m0->dups + (s->dups > dups ? s->dups - dups : 0);
    int rc;
    if ((rc = ingest_writer_set_counters(g, src0->docs, src0->bytes, dups0, err)) ||
        (rc = ingest_writer_manifest(g, err)) || (rc = ingest_writer_kv_put(g, 0, INGEST_KEY_RESHARD_DONE, "1", err)))
        return rc;
    manifest_hash_hex(hi, lo, r->content_hash);
    return 0;
}

/* What the output's shard 0 holds (looked at under the output's lock): 0
 * nothing yet (or nothing committed), 1 an unfinished reshard of this
 * source into S2 shards, 2 a finished one; anything else is refused. */
static int check_target(const char *dst, const source *s, const char *marker, uint32_t S2, mn_err *err)
{
    char path[PATH_MAX + 32];
    struct stat st;
    db_shard_path(dst, 0, path, sizeof path);
    if (stat(path, &st))
        return 0;
    store *st0;
    int rc = store_open(path, 0, &st0, err);
    if (rc)
        return rc;
    const char *v, *mark, *done;
    size_t len, mlen, dlen;
    db_config built;
    if ((rc = store_begin(st0, 0, err)))
        goto out;
    if ((rc = store_kv_get(st0, "config", &v, &len, err)) <= 0)
        goto out; /* no config: created, never committed */
    if ((rc = db_config_decode(v, len, path, &built, err)) ||
        (rc = store_kv_get(st0, INGEST_KEY_RESHARD, &mark, &mlen, err)) < 0 ||
        (rc = store_kv_get(st0, INGEST_KEY_RESHARD_DONE, &done, &dlen, err)) < 0)
        goto out;
    if (!mark)
        rc = mn_errf(err, MN_EMISMATCH, "%s: already holds a retrieval DB that is not a reshard of %s: give --out a new directory",
                     dst, s->dir);
    else if (mlen != strlen(marker) || memcmp(mark, marker, mlen))
        rc = mn_errf(err, MN_EMISMATCH,
                     "%s: holds a reshard of another DB (%.*s); %s has %s: give --out a new directory", dst,
                     (int)(mlen < 200 ? mlen : 200), mark, s->dir, marker);
    else if (built.nshards != S2)
        rc = mn_errf(err, MN_EMISMATCH,
                     "%s: holds a reshard of %s into %u shards; this run asks for %u: give --out a new directory (or "
                     "--shards %u to resume)",
                     dst, s->dir, built.nshards, S2, built.nshards);
    else
        rc = done ? 2 : 1;
out:
    store_abort(st0);
    store_close(st0);
    return rc;
}

/* Is b the same directory as a (b may not exist)? */
static int same_dir(const char *a, const char *b)
{
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb && !strcmp(ra, rb);
    free(ra);
    free(rb);
    return same;
}

int reshard_run(const char *src, const char *dst, const reshard_opts *o, reshard_result *res, mn_err *err)
{
    reshard_result r = {0};
    source s = {0};
    ingest *g = NULL;
    struct timespec t0, t1;
    int rc;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (o->shards < 1 || o->shards > DB_MAX_SHARDS) {
        rc = mn_errf(err, MN_EUSAGE, "--shards: %u is not in 1..%d", o->shards, DB_MAX_SHARDS);
        goto out;
    }
    if (same_dir(src, dst)) {
        rc = mn_errf(err, MN_EUSAGE, "--out %s is the DB itself: give a new directory", dst);
        goto out;
    }
    if ((rc = source_open(&s, src, err)))
        goto out;
    r.total = s.chunks;
    char marker[128];
    snprintf(marker, sizeof marker, "content_hash=%s chunks=%" PRIu64, s.hash, s.chunks);
    ingest_opts wo;
    ingest_opts_default(&wo);
    wo.progress = o->progress;
    wo.ctx = o->ctx;
    if ((rc = ingest_writer_lock(dst, &wo, "reshard", &g, err)) ||
        (rc = check_target(dst, &s, marker, o->shards, err)) < 0)
        goto out;
    if (rc == 2) {
        r.already_done = 1;
        rc = 0;
        goto out;
    }
    db_config cfg = *s.cfg;
    cfg.nshards = o->shards;
    if (!(rc = ingest_writer_shards_open(g, &cfg, marker, err)) &&
        !(rc = ingest_writer_inputs(g, (const char *const *)s.inputs, s.ninputs, err)) &&
        !(rc = replay(&s, g, o, &r, err)))
        rc = finish(&s, g, &r, err);
    r.commits = g ? ingest_writer_counters(g)->commits : 0;
out:
    ingest_writer_close(g);
    source_close(&s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r.seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (res)
        *res = r;
    return rc;
}
