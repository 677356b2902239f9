/* ingest.c — the ingest pipeline; see ingest.h. */
#include "retrieval/ingest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/tokenizer.h"
#include "retrieval/chunker.h"
#include "retrieval/ingest_int.h" /* the writer half, shared with reshard.c */
#include "retrieval/manifest.h"
#include "retrieval/postings.h"
#include "retrieval/store.h"
#include "util/dirlock.h" /* dirlock_take, dirlock_release */
#include "util/hash.h"
#include "util/mapfile.h"

#define INGEST_MERGE_BELOW 16384 /* bytes: a last segment this small is merged */

/* A chunk waiting for its shard's commit. */
typedef struct pending {
    uint64_t input, doc, line, record, offset, index, kind, hash;
    uint32_t shard;
    size_t text_off, text_len, id_off, id_len, member_off, member_len; /* into arena; member_len SIZE_MAX: none */
} pending;

typedef struct pdoc {
    uint64_t input, doc, bytes;
} pdoc;

/* One term of a shard's batch: its postings so far. */
typedef struct tentry {
    size_t off, len;  /* term bytes in tm.arena */
    uint64_t cur_doc; /* chunk being counted; cur_tf 0: none */
    uint32_t cur_tf;
    postings_writer w;
} tentry;

typedef struct termmap {
    tentry *e;
    size_t n, nalloc;
    uint32_t *slot; /* [cap] entry index + 1, 0 empty */
    size_t cap;
    char *arena;
    size_t arena_len, arena_cap;
} termmap;

struct ingest {
    const char *dir;
    dirlock *lock;
    db_config cfg;
    uint32_t S;
    store **sh;
    store_meta *meta; /* committed state of each shard */
    char **inputs;
    size_t ninputs;
    tokenizer *tok;
    chunker ch;
    analyzer_config an;
    analyzer_tokens toks;
    pending *pend;
    size_t npend, cappend;
    /* the document of the last queued chunk: its id and member are in the
     * arena once, shared by its chunks (valid while ref_set) */
    int ref_set;
    uint64_t ref_in, ref_doc;
    size_t ref_id_off, ref_id_len, ref_mem_off, ref_mem_len;
    pdoc *docs;
    size_t ndocs, capdocs;
    char *arena;
    size_t arena_len, arena_cap;
    termmap tm;
    postings_writer scratch; /* merging a last segment with a batch */
    long crash_after;
    ingest_progress prog;
    uint64_t *in_size;     /* [ninputs] file sizes, for progress */
    uint64_t in_before;    /* sizes of the inputs before the current one */
    docsource *cur;        /* the input being read, or NULL */
    struct timespec t0;
    const ingest_opts *o;
};

static int pos_after(uint64_t ai, uint64_t ad, uint64_t bi, uint64_t bd)
{
    return ai > bi || (ai == bi && ad > bd);
}

static size_t arena_add(ingest *g, const void *p, size_t n)
{
    if (g->arena_len + n > g->arena_cap) {
        g->arena_cap = 2 * (g->arena_len + n) + 4096;
        g->arena = xrealloc(g->arena, g->arena_cap);
    }
    size_t off = g->arena_len;
    if (n)
        memcpy(g->arena + off, p, n);
    g->arena_len += n;
    return off;
}

/* ---- term map ---- */

static void tm_reset(termmap *t)
{
    for (size_t i = 0; i < t->n; i++)
        postings_writer_reset(&t->e[i].w);
    t->n = 0;
    t->arena_len = 0;
    if (t->slot)
        memset(t->slot, 0, t->cap * sizeof *t->slot);
}

static void tm_free(termmap *t)
{
    for (size_t i = 0; i < t->nalloc; i++)
        postings_writer_free(&t->e[i].w);
    free(t->e);
    free(t->slot);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

static void tm_rehash(termmap *t, size_t cap)
{
    free(t->slot);
    t->cap = cap;
    t->slot = xcalloc(cap, sizeof *t->slot);
    for (size_t i = 0; i < t->n; i++) {
        size_t h = hash64(t->arena + t->e[i].off, t->e[i].len, 0) & (cap - 1);
        while (t->slot[h])
            h = (h + 1) & (cap - 1);
        t->slot[h] = (uint32_t)(i + 1);
    }
}

static tentry *tm_get(termmap *t, const char *term, size_t len)
{
    if (2 * (t->n + 1) > t->cap)
        tm_rehash(t, t->cap ? 2 * t->cap : 1024);
    size_t h = hash64(term, len, 0) & (t->cap - 1);
    for (; t->slot[h]; h = (h + 1) & (t->cap - 1)) {
        tentry *e = &t->e[t->slot[h] - 1];
        if (e->len == len && !memcmp(t->arena + e->off, term, len))
            return e;
    }
    if (t->n == t->nalloc) {
        size_t na = t->nalloc ? 2 * t->nalloc : 1024;
        t->e = xrealloc(t->e, na * sizeof *t->e);
        for (size_t i = t->nalloc; i < na; i++)
            postings_writer_init(&t->e[i].w);
        t->nalloc = na;
    }
    if (t->arena_len + len > t->arena_cap) {
        t->arena_cap = 2 * (t->arena_len + len) + 4096;
        t->arena = xrealloc(t->arena, t->arena_cap);
    }
    tentry *e = &t->e[t->n];
    e->off = t->arena_len;
    e->len = len;
    e->cur_tf = 0;
    e->cur_doc = 0;
    memcpy(t->arena + t->arena_len, term, len);
    t->arena_len += len;
    t->slot[h] = (uint32_t)(++t->n);
    return e;
}

static int tm_flush_entry(tentry *e, mn_err *err)
{
    int rc = 0;
    if (e->cur_tf)
        rc = postings_writer_add(&e->w, e->cur_doc, e->cur_tf, err);
    e->cur_tf = 0;
    return rc;
}

/* ---- applying a batch to one shard ---- */

static int index_chunk(ingest *g, uint64_t id, const char *text, size_t len, store_meta *m, mn_err *err)
{
    int rc = analyzer_analyze(&g->an, text, len, "chunk", &g->toks, err);
    if (rc)
        return rc;
    if (g->toks.n > UINT32_MAX)
        return mn_errf(err, MN_ERANGE, "chunk %llu: %zu terms, more than 2^32", (unsigned long long)id, g->toks.n);
    for (size_t i = 0; i < g->toks.n; i++) {
        const analyzer_token *tk = &g->toks.tok[i];
        tentry *e = tm_get(&g->tm, g->toks.terms + tk->term_off, tk->term_len);
        if (e->cur_tf && e->cur_doc == id) {
            e->cur_tf++;
            continue;
        }
        if ((rc = tm_flush_entry(e, err)))
            return rc;
        e->cur_doc = id;
        e->cur_tf = 1;
    }
    if ((rc = store_doclen_put(g->sh[m->shard], id, (uint32_t)g->toks.n, err)))
        return rc;
    if (g->toks.n) {
        m->ndocs++;
        m->total_len += g->toks.n;
    }
    return 0;
}

static int apply_chunk(ingest *g, const pending *p, store_meta *m, mn_err *err)
{
    store *s = g->sh[p->shard];
    const char *text = g->arena + p->text_off;
    uint64_t old;
    int rc = store_dedup_get(s, p->hash, &old, err), collision = 0;
    if (rc < 0)
        return rc;
    if (rc == 1) {
        store_chunk c;
        if ((rc = store_chunk_get(s, old, &c, err)) < 0)
            return rc;
        if (rc == 1 && c.text_len == p->text_len && (!p->text_len || !memcmp(c.text, text, p->text_len))) {
            m->dups++;
            g->prog.dups++;
            return 0;
        }
        collision = 1;
    }
    if (m->next_local >> STORE_SHARD_BITS)
        return mn_errf(err, MN_ERANGE, "%s: more than 2^40 chunks in one shard", store_path(s));
    uint64_t id = (uint64_t)p->shard << STORE_SHARD_BITS | m->next_local++;
    store_chunk c = {
        .text = text, .text_len = p->text_len, .doc_id = g->arena + p->id_off, .doc_id_len = p->id_len,
        .source = g->inputs[p->input], .source_len = strlen(g->inputs[p->input]),
        .member = p->member_len == SIZE_MAX ? NULL : g->arena + p->member_off,
        .member_len = p->member_len == SIZE_MAX ? 0 : p->member_len,
        .input = p->input, .doc = p->doc, .line = p->line, .record = p->record, .offset = p->offset,
        .index = p->index, .kind = p->kind,
    };
    if ((rc = store_chunk_put(s, id, &c, err)))
        return rc;
    if (!collision && (rc = store_dedup_put(s, p->hash, id, err)))
        return rc;
    if ((rc = index_chunk(g, id, text, p->text_len, m, err)))
        return rc;
    uint64_t hi, lo;
    db_chunk_hash(id, text, p->text_len, c.doc_id, c.doc_id_len, &hi, &lo); /* what stats --deep recomputes */
    m->hash_lo += lo;
    m->hash_hi += hi;
    m->chunks++;
    g->prog.chunks++;
    return 0;
}

static int write_segment(ingest *g, store *s, store_meta *m, mn_err *err)
{
    if (!g->tm.n)
        return 0;
    if (m->segments >= UINT32_MAX)
        return mn_errf(err, MN_ERANGE, "%s: postings segment numbers exhausted", store_path(s));
    int rc;
    for (size_t i = 0; i < g->tm.n; i++) {
        tentry *e = &g->tm.e[i];
        if ((rc = tm_flush_entry(e, err)))
            return rc;
        size_t len;
        const uint8_t *buf = postings_writer_finish(&e->w, &len);
        const char *term = g->tm.arena + e->off;
        /* a small last segment absorbs this batch's postings, so rare and
         * mid-frequency terms do not fragment into one key per batch, and
         * long lists are never rewritten */
        uint32_t last;
        const void *ob;
        size_t on;
        if ((rc = store_postings_last(s, term, e->len, &last, &ob, &on, err)) < 0)
            return rc;
        if (rc == 1 && on < INGEST_MERGE_BELOW) {
            postings_writer_reset(&g->scratch);
            if ((rc = postings_writer_add_encoded(&g->scratch, ob, on, store_path(s), err)) ||
                (rc = postings_writer_add_encoded(&g->scratch, buf, len, store_path(s), err)) ||
                (rc = store_postings_del(s, term, e->len, last, err)))
                return rc;
            buf = postings_writer_finish(&g->scratch, &len);
        }
        if ((rc = store_postings_put(s, term, e->len, (uint32_t)m->segments, buf, len, err)))
            return rc;
    }
    m->segments++;
    return 0;
}

static int apply_shard_once(ingest *g, uint32_t sh, uint64_t end_in, uint64_t end_doc, mn_err *err)
{
    const store_meta *old = &g->meta[sh];
    if (!pos_after(end_in, end_doc, old->prog_input, old->prog_doc))
        return 0;
    store *s = g->sh[sh];
    store_meta m = *old;
    int rc = store_begin(s, 1, err);
    if (rc)
        return rc;
    tm_reset(&g->tm);
    for (size_t i = 0; i < g->npend; i++) {
        const pending *p = &g->pend[i];
        if (p->shard == sh && pos_after(p->input, p->doc, old->prog_input, old->prog_doc) &&
            (rc = apply_chunk(g, p, &m, err)))
            goto fail;
    }
    if (sh == 0)
        for (size_t i = 0; i < g->ndocs; i++)
            if (pos_after(g->docs[i].input, g->docs[i].doc, old->prog_input, old->prog_doc)) {
                m.docs++;
                m.bytes += g->docs[i].bytes;
            }
    if ((rc = write_segment(g, s, &m, err)))
        goto fail;
    m.prog_input = end_in;
    m.prog_doc = end_doc;
    if ((rc = store_meta_put(s, &m, err)) || (rc = store_commit(s, err)))
        goto fail;
    g->meta[sh] = m;
    g->prog.commits++;
    if (g->crash_after > 0 && (long)g->prog.commits == g->crash_after)
        _exit(137);
    return 0;
fail:
    store_abort(s);
    return rc;
}

/* apply_shard_once, redone after growing the map while the shard reports
 * a full map: the batch's pending chunks are still in memory and a failed
 * attempt aborted back to the shard's committed state. */
static int apply_shard(ingest *g, uint32_t sh, uint64_t end_in, uint64_t end_doc, mn_err *err)
{
    const ingest_progress prog = g->prog; /* a redone batch counts once */
    int rc;
    while ((rc = apply_shard_once(g, sh, end_in, end_doc, err)) == MN_ENOSPACE && store_map_full(g->sh[sh])) {
        if ((rc = store_grow(g->sh[sh], err)))
            break;
        g->prog = prog;
    }
    return rc;
}

static double elapsed(const ingest *g)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - g->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - g->t0.tv_nsec);
}

/* Count a commit made outside apply_shard, with the crash test hook. */
static void commit_done(ingest *g)
{
    g->prog.commits++;
    if (g->crash_after > 0 && (long)g->prog.commits == g->crash_after)
        _exit(137);
}

/* A failed batch: add the shard and the batch to the store's message (a
 * full disk says there what is free) and, for a full disk, what to do. */
static int batch_error(const ingest *g, uint32_t sh, uint64_t end_in, uint64_t end_doc, mn_err *err)
{
    char why[MN_ERR_MSG_MAX], batch[PATH_MAX + 96] = "";
    snprintf(why, sizeof why, "%s", err->msg);
    if (end_doc && end_in < g->ninputs)
        snprintf(batch, sizeof batch, ", batch up to document %llu of %s", (unsigned long long)end_doc,
                 g->inputs[end_in]);
    else if (end_in > 0 && end_in <= g->ninputs)
        snprintf(batch, sizeof batch, ", batch to the end of %s", g->inputs[end_in - 1]);
    return mn_errf(err, err->code, "%s (shard %u of %u%s)%s", why, sh, g->S, batch,
                   err->code == MN_ENOSPACE
                       ? "; the batches committed before are kept: make room, then rerun the same command to resume"
                       : "");
}

int ingest_writer_flush(ingest *g, uint64_t end_in, uint64_t end_doc, mn_err *err)
{
    for (uint32_t s = 0; s < g->S; s++) {
        int rc = apply_shard(g, s, end_in, end_doc, err);
        if (rc)
            return batch_error(g, s, end_in, end_doc, err);
    }
    g->npend = g->ndocs = g->arena_len = 0;
    g->ref_set = 0;
    g->prog.seconds = elapsed(g);
    docsource_stats ds = {0};
    if (g->cur)
        docsource_stats_get(g->cur, &ds);
    g->prog.in_done = g->in_before + ds.input_bytes;
    if (g->o->progress)
        g->o->progress(g->o->ctx, &g->prog);
    return 0;
}

void ingest_writer_add(ingest *g, const store_chunk *c)
{
    uint64_t h = db_text_hash(c->text, c->text_len);
    uint32_t sh = (uint32_t)(h % g->S);
    if (!pos_after(c->input, c->doc, g->meta[sh].prog_input, g->meta[sh].prog_doc))
        return; /* this shard already holds the document's chunks */
    if (!g->ref_set || g->ref_in != c->input || g->ref_doc != c->doc) {
        g->ref_id_off = arena_add(g, c->doc_id, c->doc_id_len);
        g->ref_id_len = c->doc_id_len;
        g->ref_mem_off = 0;
        g->ref_mem_len = SIZE_MAX;
        if (c->member) {
            g->ref_mem_len = c->member_len;
            g->ref_mem_off = arena_add(g, c->member, c->member_len);
        }
        g->ref_set = 1;
        g->ref_in = c->input;
        g->ref_doc = c->doc;
    }
    if (g->npend == g->cappend) {
        g->cappend = g->cappend ? 2 * g->cappend : 1024;
        g->pend = xrealloc(g->pend, g->cappend * sizeof *g->pend);
    }
    pending *p = &g->pend[g->npend++];
    *p = (pending){.input = c->input, .doc = c->doc, .line = c->line, .record = c->record, .offset = c->offset,
                   .index = c->index, .kind = c->kind, .hash = h, .shard = sh,
                   .text_off = arena_add(g, c->text, c->text_len), .text_len = c->text_len,
                   .id_off = g->ref_id_off, .id_len = g->ref_id_len, .member_off = g->ref_mem_off,
                   .member_len = g->ref_mem_len};
}

void ingest_writer_pending(const ingest *g, size_t *chunks, size_t *bytes)
{
    *chunks = g->npend;
    *bytes = g->arena_len;
}

void ingest_writer_set_work(ingest *g, uint64_t done, uint64_t total)
{
    g->in_before = done;
    g->prog.in_done = done;
    g->prog.in_total = total;
}

int ingest_writer_set_counters(ingest *g, uint64_t docs, uint64_t bytes, uint64_t dups, mn_err *err)
{
    store *s = g->sh[0];
    store_meta m = g->meta[0];
    m.docs = docs;
    m.bytes = bytes;
    m.dups = dups;
    int rc = store_begin(s, 1, err);
    if (rc)
        return rc;
    if ((rc = store_meta_put(s, &m, err)) || (rc = store_commit(s, err))) {
        store_abort(s);
        return rc;
    }
    g->meta[0] = m;
    commit_done(g);
    return 0;
}

int ingest_writer_kv_put(ingest *g, uint32_t s, const char *key, const char *val, mn_err *err)
{
    int rc = store_begin(g->sh[s], 1, err);
    if (rc)
        return rc;
    if ((rc = store_kv_put(g->sh[s], key, val, strlen(val), err)) || (rc = store_commit(g->sh[s], err))) {
        store_abort(g->sh[s]);
        return rc;
    }
    commit_done(g);
    return 0;
}

uint32_t ingest_writer_shards(const ingest *g)
{
    return g->S;
}

const store_meta *ingest_writer_meta(const ingest *g, uint32_t s)
{
    return &g->meta[s];
}

const ingest_progress *ingest_writer_counters(const ingest *g)
{
    return &g->prog;
}

int ingest_writer_manifest(ingest *g, mn_err *err)
{
    return manifest_write(g->dir, &g->cfg, (const char *const *)g->inputs, g->ninputs, g->meta, err);
}

/* ---- reading ---- */

static int add_doc(ingest *g, uint64_t in, uint64_t dn, const docsource_doc *d, mn_err *err)
{
    int rc = chunker_split(&g->ch, d->text, d->len, d->id, err);
    if (rc)
        return rc;
    store_chunk c = {.input = in, .doc = dn, .line = d->line, .record = d->record, .offset = d->offset,
                     .kind = (uint64_t)d->kind, .doc_id = d->id, .doc_id_len = strlen(d->id), .member = d->member,
                     .member_len = d->member ? strlen(d->member) : 0};
    for (size_t i = 0; i < g->ch.n; i++) {
        c.index = i;
        c.text = chunker_text(&g->ch, d->text, i);
        c.text_len = g->ch.chunk[i].len;
        ingest_writer_add(g, &c);
    }
    if (g->ndocs == g->capdocs) {
        g->capdocs = g->capdocs ? 2 * g->capdocs : 1024;
        g->docs = xrealloc(g->docs, g->capdocs * sizeof *g->docs);
    }
    g->docs[g->ndocs++] = (pdoc){in, dn, d->len};
    return 0;
}

static int ingest_input(ingest *g, size_t in, uint64_t min_in, uint64_t min_doc, mn_err *err)
{
    docsource_opts dopt;
    docsource_opts_default(&dopt);
    dopt.text_field = g->cfg.text_field;
    dopt.id_field = g->cfg.id_field;
    dopt.on_error = g->o->on_error;
    dopt.on_skip = g->o->on_skip;
    dopt.skip_ctx = g->o->ctx;
    docsource *ds = NULL;
    g->prog.input = in;
    int rc = docsource_open(g->inputs[in], &dopt, &ds, err);
    if (rc)
        return rc;
    g->cur = ds;
    uint64_t dn = 0;
    size_t batch = g->o->batch_docs ? g->o->batch_docs : INGEST_BATCH_DEFAULT;
    docsource_doc d;
    int store_failed = 0;
    while ((rc = docsource_next(ds, &d, err)) == 1) {
        dn++;
        g->prog.docs++;
        g->prog.bytes += d.len;
        if (!pos_after(in, dn, min_in, min_doc))
            continue;
        if ((rc = add_doc(g, in, dn, &d, err)))
            break;
        if ((g->ndocs >= batch || g->arena_len >= INGEST_BATCH_BYTES) &&
            (rc = store_failed = ingest_writer_flush(g, in, dn, err)))
            break;
    }
    docsource_close(ds);
    g->cur = NULL;
    g->in_before += g->in_size[in];
    if (store_failed) /* a failed commit leaves LMDB unusable: its message is the one to keep */
        return rc;
    if (rc < 0) {
        /* an input error: keep the valid documents read before it */
        mn_err keep = *err;
        uint64_t last = g->ndocs ? g->docs[g->ndocs - 1].doc : 0;
        if (g->ndocs && ingest_writer_flush(g, in, last, err))
            return err->code;
        *err = keep;
        return rc;
    }
    return ingest_writer_flush(g, in + 1, 0, err);
}

/* ---- setup ---- */

/* The shards' input list (the longest one; they are prefixes of each
 * other): NUL-terminated paths back to back, into g->inputs. */
static int read_inputs(ingest *g, mn_err *err)
{
    const char *best = NULL;
    size_t best_len = 0;
    int rc;
    for (uint32_t s = 0; s < g->S; s++) {
        const char *v;
        size_t len;
        if ((rc = store_begin(g->sh[s], 0, err)))
            return rc;
        rc = store_kv_get(g->sh[s], "inputs", &v, &len, err);
        if (rc >= 0 && len > best_len) {
            free((void *)best);
            best = xmalloc(len);
            memcpy((void *)best, v, len);
            best_len = len;
        }
        store_abort(g->sh[s]);
        if (rc < 0)
            return rc;
    }
    for (size_t o = 0; o < best_len;) {
        const char *e = memchr(best + o, 0, best_len - o);
        if (!e) {
            free((void *)best);
            return mn_errf(err, MN_EFORMAT, "%s: meta 'inputs' is not NUL-terminated", g->dir);
        }
        g->inputs = xrealloc(g->inputs, (g->ninputs + 1) * sizeof *g->inputs);
        g->inputs[g->ninputs++] = xstrdup(best + o);
        o = (size_t)(e - best) + 1;
    }
    free((void *)best);
    return 0;
}

int ingest_writer_inputs(ingest *g, const char *const *paths, size_t n, mn_err *err)
{
    int rc = read_inputs(g, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < g->ninputs && strcmp(g->inputs[j], paths[i]))
            j++;
        if (j < g->ninputs)
            continue;
        g->inputs = xrealloc(g->inputs, (g->ninputs + 1) * sizeof *g->inputs);
        g->inputs[g->ninputs++] = xstrdup(paths[i]);
    }
    /* record the list in every shard whose list is shorter */
    size_t len = 0;
    for (size_t i = 0; i < g->ninputs; i++)
        len += strlen(g->inputs[i]) + 1;
    char *buf = xmalloc(len + 1);
    for (size_t i = 0, o = 0; i < g->ninputs; i++) {
        size_t l = strlen(g->inputs[i]) + 1;
        memcpy(buf + o, g->inputs[i], l);
        o += l;
    }
    rc = 0;
    for (uint32_t s = 0; s < g->S && !rc; s++) {
        const char *v;
        size_t vl;
        if ((rc = store_begin(g->sh[s], 1, err)))
            break;
        rc = store_kv_get(g->sh[s], "inputs", &v, &vl, err);
        if (rc >= 0 && vl > len)
            rc = mn_errf(err, MN_EFORMAT, "%s: shard %u: input list longer than the DB's", g->dir, s);
        else if (rc >= 0 && vl && memcmp(v, buf, vl))
            rc = mn_errf(err, MN_EFORMAT, "%s: shard %u: input list disagrees with the other shards", g->dir, s);
        else if (rc >= 0 && vl < len)
            rc = store_kv_put(g->sh[s], "inputs", buf, len, err);
        if (rc >= 0)
            rc = store_commit(g->sh[s], err);
        else
            store_abort(g->sh[s]);
    }
    free(buf);
    g->prog.ninputs = g->ninputs;
    return rc < 0 ? rc : 0;
}

/* Options the caller did not give take the values the DB was built with. */
static int resolve_unset(const ingest *g, const db_config *built, db_config *asked, mn_err *err)
{
    unsigned given = g->o->given;
    if (!(given & INGEST_GIVEN_TOKENIZER) && !g->o->tokenizer_path) {
        if (strcmp(built->tokenizer, "none"))
            return mn_errf(err, MN_EUSAGE,
                           "%s: the DB chunks by tokens (tokenizer.json sha256 %s): give --tokenizer with that file",
                           g->dir, built->tokenizer);
        strcpy(asked->tokenizer, built->tokenizer);
    }
    if (!(given & INGEST_GIVEN_CHUNK_SIZE))
        asked->chunk_size = built->chunk_size;
    if (!(given & INGEST_GIVEN_OVERLAP))
        asked->overlap = built->overlap;
    if (!(given & INGEST_GIVEN_TEXT_FIELD))
        strcpy(asked->text_field, built->text_field);
    if (!(given & INGEST_GIVEN_ID_FIELD))
        strcpy(asked->id_field, built->id_field);
    if ((given & (INGEST_GIVEN_STEM | INGEST_GIVEN_STOP)) != (INGEST_GIVEN_STEM | INGEST_GIVEN_STOP)) {
        analyzer_config b, a = g->o->analyzer;
        int rc = analyzer_config_parse(built->analyzer, g->dir, &b, err);
        if (rc)
            return rc;
        if (!(given & INGEST_GIVEN_STEM))
            a.stem = b.stem;
        if (!(given & INGEST_GIVEN_STOP))
            a.stop = b.stop;
        analyzer_config_string(&a, asked->analyzer);
    }
    return 0;
}

/* The existing DB's configuration (shard 0) into *built: 1, or 0 when
 * there is none yet.  Refuses (MN_EMISMATCH) the output of an unfinished
 * reshard unless reshard_of is set. */
static int read_built(ingest *g, const char *path, const char *reshard_of, db_config *built, mn_err *err)
{
    struct stat st;
    store *s0;
    if (stat(path, &st))
        return 0;
    int rc = store_open(path, 0, &s0, err);
    if (rc)
        return rc;
    const char *v, *done;
    size_t len, dlen;
    if (!(rc = store_begin(s0, 0, err))) {
        rc = store_kv_get(s0, "config", &v, &len, err);
        if (rc == 1 && !(rc = db_config_decode(v, len, path, built, err)))
            rc = 1;
        int r2 = rc == 1 && !reshard_of ? store_kv_get(s0, INGEST_KEY_RESHARD, &v, &len, err) : 0;
        if (r2 == 1 && (r2 = store_kv_get(s0, INGEST_KEY_RESHARD_DONE, &done, &dlen, err)) == 0)
            rc = mn_errf(err, MN_EMISMATCH,
                         "%s: this DB is the output of a `mnemo reshard` that has not finished (%.*s): rerun that "
                         "reshard first",
                         g->dir, (int)(len < 400 ? len : 400), v);
        else if (r2 < 0)
            rc = r2;
        store_abort(s0);
    }
    store_close(s0);
    return rc;
}

/* An existing shard of a reshard's output must name the same source. */
static int check_reshard_of(store *s, const char *path, const char *reshard_of, mn_err *err)
{
    const char *v;
    size_t len;
    int rc = store_kv_get(s, INGEST_KEY_RESHARD, &v, &len, err);
    if (rc < 0)
        return rc;
    if (rc == 0 || len != strlen(reshard_of) || memcmp(v, reshard_of, len))
        return mn_errf(err, MN_EMISMATCH, "%s: holds another DB than this reshard's output (%s)", path, reshard_of);
    return 0;
}

/* Open (creating) every shard, checking or writing its config (and, for a
 * reshard's output, its source marker). */
static int open_shards(ingest *g, db_config *asked, const char *reshard_of, mn_err *err)
{
    char path[PATH_MAX + 32];
    int rc;
    db_shard_path(g->dir, 0, path, sizeof path);
    db_config built;
    int exists = read_built(g, path, reshard_of, &built, err);
    if (exists < 0)
        return exists;
    uint32_t S = asked->nshards;
    if (exists) {
        if ((rc = resolve_unset(g, &built, asked, err)))
            return rc;
        if (asked->nshards && asked->nshards != built.nshards)
            return mn_errf(err, MN_EMISMATCH,
                           "%s: the DB was built with --shards %u; this run asks for %u (`mnemo reshard` copies a "
                           "DB into another number of shards)",
                           g->dir, built.nshards, asked->nshards);
        if ((rc = db_config_check(&built, asked, g->dir, err)))
            return rc;
        S = built.nshards;
    } else if (asked->overlap >= asked->chunk_size) {
        return mn_errf(err, MN_EUSAGE, "--overlap %u must be smaller than --chunk-tokens %u", asked->overlap,
                       asked->chunk_size);
    }
    if (!S)
        S = 1;
    asked->nshards = S;
    g->cfg = *asked;
    g->S = S;
    g->sh = xcalloc(S, sizeof *g->sh);
    g->meta = xcalloc(S, sizeof *g->meta);
    char *enc = db_config_encode(&g->cfg);
    rc = 0;
    for (uint32_t i = 0; i < S && !rc; i++) {
        db_shard_path(g->dir, i, path, sizeof path);
        if ((rc = store_open(path, 0, &g->sh[i], err)) || (rc = store_begin(g->sh[i], 1, err)))
            break;
        const char *v;
        size_t len;
        rc = store_kv_get(g->sh[i], "config", &v, &len, err);
        if (rc == 1) {
            if (!(rc = db_config_decode(v, len, path, &built, err)) &&
                !(rc = db_config_check(&built, &g->cfg, g->dir, err)) && reshard_of)
                rc = check_reshard_of(g->sh[i], path, reshard_of, err);
        } else if (rc == 0 && !(rc = store_kv_put(g->sh[i], "config", enc, strlen(enc), err))) {
            store_meta m = {.shard = i, .nshards = S};
            rc = store_meta_put(g->sh[i], &m, err);
            if (!rc && reshard_of)
                rc = store_kv_put(g->sh[i], INGEST_KEY_RESHARD, reshard_of, strlen(reshard_of), err);
        }
        if (rc >= 0 && (rc = store_meta_get(g->sh[i], &g->meta[i], err)) == 1 &&
            (g->meta[i].shard != i || g->meta[i].nshards != S))
            rc = mn_errf(err, MN_EFORMAT, "%s: meta says shard %llu of %llu", path,
                         (unsigned long long)g->meta[i].shard, (unsigned long long)g->meta[i].nshards);
        if (rc >= 0)
            rc = store_commit(g->sh[i], err);
        else
            store_abort(g->sh[i]);
    }
    free(enc);
    return rc < 0 ? rc : 0;
}

void ingest_opts_default(ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->chunk_size = CHUNK_SIZE_DEFAULT;
    o->overlap = CHUNK_OVERLAP_DEFAULT;
    o->on_error = DOCSOURCE_FAIL;
    o->batch_docs = INGEST_BATCH_DEFAULT;
    o->given = INGEST_GIVEN_ALL;
}

/* The configuration the options ask for (unset ones at their defaults;
 * overlap < chunk size is checked once the DB's values are known). */
static int make_config(const ingest_opts *o, db_config *c, mn_err *err)
{
    memset(c, 0, sizeof *c);
    c->nshards = o->shards;
    if (o->shards > DB_MAX_SHARDS)
        return mn_errf(err, MN_EUSAGE, "--shards: %u is over the limit of %d", o->shards, DB_MAX_SHARDS);
    if (o->chunk_size < 1 || o->chunk_size > UINT32_MAX || o->overlap > UINT32_MAX)
        return mn_errf(err, MN_EUSAGE, "--chunk-tokens %zu / --overlap %zu: out of range", o->chunk_size,
                       o->overlap);
    c->chunk_size = (uint32_t)o->chunk_size;
    c->overlap = (uint32_t)o->overlap;
    analyzer_config_string(&o->analyzer, c->analyzer);
    const char *tf = o->text_field ? o->text_field : "text", *idf = o->id_field ? o->id_field : "id";
    if (strlen(tf) >= DB_FIELD_MAX || strlen(idf) >= DB_FIELD_MAX || strchr(tf, '\n') || strchr(idf, '\n'))
        return mn_errf(err, MN_EUSAGE, "--text-field/--id-field: names must be under %d bytes, without newlines",
                       DB_FIELD_MAX);
    strcpy(c->text_field, tf);
    strcpy(c->id_field, idf);
    strcpy(c->tokenizer, "none");
    if (o->tokenizer_path) {
        char *buf;
        size_t len;
        int rc = file_read_all(o->tokenizer_path, &buf, &len, err);
        if (rc)
            return rc;
        sha256_hex(buf, len, c->tokenizer);
        free(buf);
    }
    return 0;
}

int ingest_writer_lock(const char *dir, const ingest_opts *o, const char *what, ingest **out, mn_err *err)
{
    *out = NULL;
    ingest *g = xcalloc(1, sizeof *g);
    g->dir = dir;
    g->o = o;
    g->an = o->analyzer;
    clock_gettime(CLOCK_MONOTONIC, &g->t0);
    const char *crash = getenv("MNEMO_INGEST_CRASH_AFTER");
    g->crash_after = crash ? strtol(crash, NULL, 10) : 0;
    analyzer_tokens_init(&g->toks);
    postings_writer_init(&g->scratch);
    int rc = 0;
    if (mkdir(dir, 0777) && errno != EEXIST)
        rc = mn_errf(err, MN_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
    if (!rc)
        rc = dirlock_take(dir, "ingest.lock", what, &g->lock, err);
    if (rc) {
        ingest_writer_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

int ingest_writer_shards_open(ingest *g, db_config *asked, const char *reshard_of, mn_err *err)
{
    int rc = open_shards(g, asked, reshard_of, err);
    return rc ? rc : analyzer_config_parse(g->cfg.analyzer, g->dir, &g->an, err);
}

int ingest_writer_open(const char *dir, const ingest_opts *o, const char *what, db_config *asked,
                       const char *reshard_of, ingest **out, mn_err *err)
{
    int rc = ingest_writer_lock(dir, o, what, out, err);
    if (!rc && (rc = ingest_writer_shards_open(*out, asked, reshard_of, err))) {
        ingest_writer_close(*out);
        *out = NULL;
    }
    return rc;
}

void ingest_writer_close(ingest *g)
{
    if (!g)
        return;
    for (uint32_t s = 0; g->sh && s < g->S; s++)
        store_close(g->sh[s]);
    free(g->sh);
    free(g->meta);
    for (size_t i = 0; i < g->ninputs; i++)
        free(g->inputs[i]);
    free(g->inputs);
    free(g->in_size);
    tokenizer_free(g->tok);
    chunker_free(&g->ch);
    analyzer_tokens_free(&g->toks);
    tm_free(&g->tm);
    postings_writer_free(&g->scratch);
    free(g->pend);
    free(g->docs);
    free(g->arena);
    dirlock_release(g->lock);
    free(g);
}

/* The inputs as absolute paths (realpath): every one must exist. */
static int absolute_inputs(const char *const *inputs, size_t n, char ***out, mn_err *err)
{
    char **abs = xcalloc(n ? n : 1, sizeof *abs);
    for (size_t i = 0; i < n; i++)
        if (!(abs[i] = realpath(inputs[i], NULL))) {
            int rc = mn_errf(err, MN_EIO, "%s: cannot open input: %s", inputs[i], strerror(errno));
            for (size_t j = 0; j < i; j++)
                free(abs[j]);
            free(abs);
            return rc;
        }
    *out = abs;
    return 0;
}

/* Read every input not finished by every shard (see ingest.h). */
static int ingest_all(ingest *g, mn_err *err)
{
    uint64_t min_in = g->meta[0].prog_input, min_doc = g->meta[0].prog_doc;
    for (uint32_t s = 1; s < g->S; s++)
        if (pos_after(min_in, min_doc, g->meta[s].prog_input, g->meta[s].prog_doc))
            min_in = g->meta[s].prog_input, min_doc = g->meta[s].prog_doc;
    g->in_size = xcalloc(g->ninputs ? g->ninputs : 1, sizeof *g->in_size);
    for (size_t i = 0; i < g->ninputs; i++) {
        struct stat st;
        g->in_size[i] = stat(g->inputs[i], &st) ? 0 : (uint64_t)st.st_size;
        g->prog.in_total += g->in_size[i];
    }
    for (size_t i = 0; i < g->ninputs; i++) {
        if (i < min_in) {
            g->in_before += g->in_size[i];
            continue; /* every shard has all of it */
        }
        int rc = ingest_input(g, i, min_in, min_doc, err);
        if (rc)
            return rc;
    }
    return 0;
}

int ingest_run(const char *dir, const ingest_opts *o, const char *const *inputs, size_t n, ingest_progress *res,
               mn_err *err)
{
    db_config asked;
    ingest *g = NULL;
    char **abs = NULL;
    int rc;
    if (!(rc = make_config(o, &asked, err)) && !(rc = absolute_inputs(inputs, n, &abs, err)) &&
        !(rc = ingest_writer_open(dir, o, "ingest", &asked, NULL, &g, err)) &&
        !(rc = ingest_writer_inputs(g, (const char *const *)abs, n, err)) &&
        !(rc = o->tokenizer_path ? tokenizer_load(o->tokenizer_path, &g->tok, err) : 0) &&
        !(rc = chunker_init(&g->ch, g->cfg.chunk_size, g->cfg.overlap, g->tok, err)) && !(rc = ingest_all(g, err)))
        rc = ingest_writer_manifest(g, err);
    if (res)
        *res = g ? g->prog : (ingest_progress){0};
    ingest_writer_close(g);
    for (size_t i = 0; abs && i < n; i++)
        free(abs[i]);
    free(abs);
    return rc;
}
