/* dbcheck.c — every record of a DB checked (`mnemo stats --deep`); see
 * dbcheck.h for what is checked. */
#include "retrieval/dbcheck.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "retrieval/analyzer.h"  /* analyzer_analyze: the chunks' terms again */
#include "retrieval/docsource.h" /* doc_kind */
#include "retrieval/manifest.h"  /* db_config, db_chunk_hash, db_text_hash, manifest_read */
#include "retrieval/postings.h"  /* postings_iter */
#include "retrieval/store.h"     /* the tables and their walks */
#include "util/hash.h"           /* hash64, sha256 */
#include "util/strtab.h"         /* strtab_intern: per-term counts */

#define SEED_POSTING 0x9057ULL /* posting_hash: (chunk, tf) pairs as a multiset */

/* ---------------------------------------------------------------------------
 * problems and the digest
 */

static void add_problem(db_check *c, int64_t shard, const char *table, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add_problem(db_check *c, int64_t shard, const char *table, const char *key, const char *fmt, ...)
{
    c->problems++;
    if (c->nprob >= DBCHECK_PROBLEMS_MAX)
        return;
    c->prob = xrealloc(c->prob, (c->nprob + 1) * sizeof *c->prob);
    db_problem *p = &c->prob[c->nprob++];
    p->shard = shard;
    snprintf(p->table, sizeof p->table, "%s", table);
    snprintf(p->key, sizeof p->key, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    mn_err e;
    mn_verrf(&e, MN_EFORMAT, fmt, ap); /* one line, control characters escaped */
    va_end(ap);
    snprintf(p->reason, sizeof p->reason, "%s", e.msg);
}

static void dig_u64(sha256_ctx *d, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++, v >>= 8)
        b[i] = (uint8_t)v;
    sha256_update(d, b, 8);
}

/* A string with its length (NULL: a length no string has). */
static void dig_str(sha256_ctx *d, const void *p, size_t n)
{
    dig_u64(d, p ? (uint64_t)n : UINT64_MAX);
    if (p && n)
        sha256_update(d, p, n);
}

/* ---------------------------------------------------------------------------
 * terms: the postings each term should have (from the chunks' texts) and
 * has (in the postings table), as multiset hashes of (chunk, tf) pairs
 */

/* Per distinct term (indexed as the walk's strtab): */
typedef struct tstat {
    uint64_t cur_doc;       /* chunk side: the chunk being counted (cur_tf > 0) */
    uint32_t cur_tf;
    uint64_t nc, np;        /* postings from the texts / in the table */
    uint64_t hc, hp;        /* sums of posting_hash */
    uint64_t xc, xp;        /* xor of their chunk ids */
} tstat;

static uint64_t posting_hash(uint64_t doc, uint32_t tf)
{
    uint64_t v[2] = {doc, tf};
    return hash64(v, sizeof v, SEED_POSTING);
}

/* The chunk side's pending (chunk, tf) of e, counted. */
static void tstat_flush(tstat *e)
{
    if (!e->cur_tf)
        return;
    e->nc++;
    e->hc += posting_hash(e->cur_doc, e->cur_tf);
    e->xc ^= e->cur_doc;
    e->cur_tf = 0;
}

/* ---------------------------------------------------------------------------
 * one shard's walk
 */

enum { CH_ABSENT = 0, CH_OK = 1, CH_BAD = 2 };

typedef struct walk {
    db_check *c;
    db_check_shard *r;
    uint32_t s, S;
    store *st;
    const char *path;
    const db_config *cfg;
    const db_manifest *man;   /* NULL when manifest.json is unusable */
    uint64_t text_bytes;      /* the documents' bytes (manifest), 0: unknown */
    store_meta meta;
    int meta_ok;
    analyzer_config an;
    analyzer_tokens toks;
    const char **in;          /* [nin] the shard's input list (borrowed from its meta entry) */
    size_t *inlen, nin;
    sha256_ctx *dig;
    /* per chunk, indexed by local id: [cap] */
    uint8_t *state;           /* CH_* */
    uint32_t *len;            /* analyzed length */
    uint32_t *tfsum;          /* sum of its tfs in the postings */
    uint8_t *has_doclen;
    uint64_t *th;             /* text hash */
    uint64_t cap, seen;       /* array slots; chunk keys seen */
    uint64_t next;            /* next local id expected */
    /* the previous chunk, for order and same-document checks */
    int have_prev;
    store_chunk prev;
    char *prev_id, *prev_member;
    size_t prev_id_cap, prev_member_cap;
    strtab terms;             /* the shard's distinct terms ... */
    tstat *ts;                /* ... [terms.n] and their postings */
    size_t ts_cap;
    /* postings scan */
    char term[ANALYZER_MAX_TERM_BYTES + 1];
    size_t term_len;
    uint64_t term_last_doc, term_segs, term_bytes;
    int term_open;
    uint64_t max_seg;
    int lists_broken;         /* a list did not decode: per-chunk tf sums are moot */
} walk;

static void keyf(char *key, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void keyf(char *key, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, cap, fmt, ap);
    va_end(ap);
}

#define PROBLEM(w, table, key, ...) add_problem((w)->c, (int64_t)(w)->s, table, key, __VA_ARGS__)

/* Room for local id `local`: arrays grow with the chunks seen, so a
 * damaged key or counter never makes them huge.  0: no room (refused). */
static int room_for(walk *w, uint64_t local)
{
    if (local < w->cap)
        return 1;
    if (local > 2 * w->seen + 4096 || (w->meta_ok && local >= w->meta.next_local))
        return 0;
    uint64_t cap = local + 1 > 2 * w->cap ? local + 1 : 2 * w->cap;
    w->state = xrealloc(w->state, cap);
    w->len = xrealloc(w->len, cap * sizeof *w->len);
    w->tfsum = xrealloc(w->tfsum, cap * sizeof *w->tfsum);
    w->has_doclen = xrealloc(w->has_doclen, cap);
    w->th = xrealloc(w->th, cap * sizeof *w->th);
    for (uint64_t i = w->cap; i < cap; i++) {
        w->state[i] = CH_ABSENT;
        w->len[i] = 0;
        w->tfsum[i] = 0;
        w->has_doclen[i] = 0;
        w->th[i] = 0;
    }
    w->cap = cap;
    return 1;
}

/* The counts of a term, added (zeroed) when new. */
static tstat *term_stat(walk *w, const char *term, size_t len)
{
    int added;
    size_t i = strtab_intern(&w->terms, term, len, &added);
    if (i >= w->ts_cap) {
        w->ts_cap = w->ts_cap ? 2 * w->ts_cap : 1024;
        w->ts = xrealloc(w->ts, w->ts_cap * sizeof *w->ts);
    }
    if (added)
        memset(&w->ts[i], 0, sizeof w->ts[i]);
    return &w->ts[i];
}

static int str_eq(const char *a, size_t al, const char *b, size_t bl)
{
    return (a == NULL) == (b == NULL) && al == bl && (!al || !memcmp(a, b, al));
}

static void keep_str(char **dst, size_t *cap, const char *src, size_t n)
{
    if (n + 1 > *cap) {
        *cap = n + 1;
        *dst = xrealloc(*dst, *cap);
    }
    if (n)
        memcpy(*dst, src, n);
}

/* The chunk's provenance against the input list, its kind, the previous
 * chunk and the progress marker. */
static void check_provenance(walk *w, const store_chunk *c, const char *key)
{
    if (c->input >= w->nin || !str_eq(c->source, c->source_len, w->in[c->input], w->inlen[c->input]))
        PROBLEM(w, "chunks", key, "source '%.*s' is not input %llu of the shard's %zu", (int)c->source_len,
                c->source ? c->source : "", (unsigned long long)c->input, w->nin);
    int kind_ok = (c->kind == DOC_JSONL && c->line >= 1 && c->record == 0) ||
                  (c->kind == DOC_TEXT && c->line == 0 && c->record == 0 && c->offset == 0) ||
                  (c->kind == DOC_WET && c->line == 0 && c->record >= 1);
    /* a plain input is one stream: document n is on line (record) n or later */
    if (!c->member && ((c->kind == DOC_JSONL && c->line < c->doc) || (c->kind == DOC_WET && c->record < c->doc)))
        kind_ok = 0;
    /* chunk k of a document starts at word (token) k x stride, and a word
     * or token is at least a byte: k x stride < the document's bytes */
    uint64_t stride = w->cfg->chunk_size > w->cfg->overlap ? w->cfg->chunk_size - w->cfg->overlap : 1;
    if (w->text_bytes && c->index > w->text_bytes / stride)
        PROBLEM(w, "chunks", key, "chunk index %llu: the DB's documents hold %llu bytes in all",
                (unsigned long long)c->index, (unsigned long long)w->text_bytes);
    if (!kind_ok || c->doc < 1)
        PROBLEM(w, "chunks", key, "kind %llu with doc %llu, line %llu, record %llu, offset %llu is not what a "
                "document reader records", (unsigned long long)c->kind, (unsigned long long)c->doc,
                (unsigned long long)c->line, (unsigned long long)c->record, (unsigned long long)c->offset);
    if (w->meta_ok && (c->input > w->meta.prog_input || (c->input == w->meta.prog_input && c->doc > w->meta.prog_doc)))
        PROBLEM(w, "chunks", key, "document (%llu, %llu) is past the shard's progress marker (%llu, %llu)",
                (unsigned long long)c->input, (unsigned long long)c->doc, (unsigned long long)w->meta.prog_input,
                (unsigned long long)w->meta.prog_doc);
    const store_chunk *p = &w->prev;
    if (w->have_prev) {
        int same_doc = c->input == p->input && c->doc == p->doc;
        int after = c->input > p->input || (c->input == p->input && c->doc > p->doc) ||
                    (same_doc && c->index > p->index);
        if (!after)
            PROBLEM(w, "chunks", key, "position (input %llu, doc %llu, chunk %llu) is not after the previous "
                    "chunk's (%llu, %llu, %llu)", (unsigned long long)c->input, (unsigned long long)c->doc,
                    (unsigned long long)c->index, (unsigned long long)p->input, (unsigned long long)p->doc,
                    (unsigned long long)p->index);
        else if (same_doc && (!str_eq(c->doc_id, c->doc_id_len, w->prev_id, p->doc_id_len) ||
                              !str_eq(c->member, c->member_len, p->member ? w->prev_member : NULL, p->member_len) ||
                              c->line != p->line || c->record != p->record || c->offset != p->offset ||
                              c->kind != p->kind))
            PROBLEM(w, "chunks", key, "its document's id, member or position differs from the previous chunk's, "
                    "a chunk of the same document");
        else if (!same_doc && c->input == p->input && c->kind == p->kind && c->kind != DOC_TEXT &&
                 str_eq(c->member, c->member_len, p->member ? w->prev_member : NULL, p->member_len) &&
                 (c->line < p->line || c->record < p->record || c->offset <= p->offset))
            PROBLEM(w, "chunks", key, "line %llu, record %llu, offset %llu of doc %llu do not follow doc %llu's "
                    "(%llu, %llu, %llu) in the same member", (unsigned long long)c->line,
                    (unsigned long long)c->record, (unsigned long long)c->offset, (unsigned long long)c->doc,
                    (unsigned long long)p->doc, (unsigned long long)p->line, (unsigned long long)p->record,
                    (unsigned long long)p->offset);
    }
    w->prev = *c;
    keep_str(&w->prev_id, &w->prev_id_cap, c->doc_id, c->doc_id_len);
    if (c->member)
        keep_str(&w->prev_member, &w->prev_member_cap, c->member, c->member_len);
    w->have_prev = 1;
}

/* The chunk's text hash against its dedup entry. */
static void check_dedup_of(walk *w, uint64_t id, const store_chunk *c, uint64_t th, const char *key)
{
    mn_err e;
    uint64_t first;
    int rc = store_dedup_get(w->st, th, &first, &e);
    if (rc < 0) {
        PROBLEM(w, "dedup", key, "%s", e.msg);
        return;
    }
    if (rc == 0) {
        PROBLEM(w, "dedup", key, "no dedup entry for its text hash %016llx", (unsigned long long)th);
        return;
    }
    if (first == id)
        return;
    if (first > id) {
        PROBLEM(w, "dedup", key, "the entry of its text hash names chunk %llu, not the first chunk with it",
                (unsigned long long)first);
        return;
    }
    store_chunk o;
    if (store_chunk_get(w->st, first, &o, &e) == 1 && str_eq(o.text, o.text_len, c->text, c->text_len))
        PROBLEM(w, "dedup", key, "the same text as chunk %llu is stored twice", (unsigned long long)first);
}

/* The terms of the chunk's text, counted for the postings comparison;
 * returns the chunk's length in terms, or UINT32_MAX when its text does
 * not analyze. */
static uint32_t count_terms(walk *w, uint64_t id, const store_chunk *c, const char *key)
{
    mn_err e;
    if (analyzer_analyze(&w->an, c->text, c->text_len, "text", &w->toks, &e)) {
        PROBLEM(w, "chunks", key, "%s", e.msg);
        return UINT32_MAX;
    }
    if (w->toks.n >= UINT32_MAX) {
        PROBLEM(w, "chunks", key, "%zu terms", w->toks.n);
        return UINT32_MAX;
    }
    for (size_t i = 0; i < w->toks.n; i++) {
        const analyzer_token *t = &w->toks.tok[i];
        tstat *ts = term_stat(w, w->toks.terms + t->term_off, t->term_len);
        if (ts->cur_tf && ts->cur_doc == id) {
            ts->cur_tf++;
            continue;
        }
        tstat_flush(ts);
        ts->cur_doc = id;
        ts->cur_tf = 1;
    }
    return (uint32_t)w->toks.n;
}

/* Every check of one readable chunk record. */
static int visit_chunk(void *ctx, uint64_t id, const store_chunk *c, mn_err *err)
{
    (void)err;
    walk *w = ctx;
    char key[64];
    keyf(key, sizeof key, "chunk %llu", (unsigned long long)id);
    uint64_t local = id & (((uint64_t)1 << STORE_SHARD_BITS) - 1);
    sha256_ctx *d = w->dig;
    uint64_t words[8] = {id, c->input, c->doc, c->line, c->record, c->offset, c->index, c->kind};
    for (int i = 0; i < 8; i++)
        dig_u64(d, words[i]);
    dig_str(d, c->text, c->text_len);
    dig_str(d, c->doc_id, c->doc_id_len);
    dig_str(d, c->source, c->source_len);
    dig_str(d, c->member, c->member_len);
    w->seen++;
    if (id >> STORE_SHARD_BITS != w->s) {
        PROBLEM(w, "chunks", key, "the id is shard %llu's", (unsigned long long)(id >> STORE_SHARD_BITS));
        return 0;
    }
    if (!room_for(w, local)) {
        PROBLEM(w, "chunks", key, "local id %llu is out of sequence (next_local %llu)", (unsigned long long)local,
                (unsigned long long)w->meta.next_local);
        return 0;
    }
    if (local > w->next)
        PROBLEM(w, "chunks", key, "chunks %llu..%llu are missing (ids are never skipped)",
                (unsigned long long)(id - (local - w->next)), (unsigned long long)(id - 1));
    if (local >= w->next)
        w->next = local + 1;
    if (w->meta_ok && local >= w->meta.next_local)
        PROBLEM(w, "chunks", key, "local id %llu is not below next_local %llu", (unsigned long long)local,
                (unsigned long long)w->meta.next_local);
    store_chunk again;
    mn_err e;
    if (store_chunk_get(w->st, id, &again, &e) != 1 || again.text != c->text)
        PROBLEM(w, "chunks", key, "the record is not found again by its key (a damaged index page)");
    uint64_t th = db_text_hash(c->text, c->text_len);
    if (th % w->S != w->s)
        PROBLEM(w, "chunks", key, "its text hashes to shard %llu", (unsigned long long)(th % w->S));
    check_provenance(w, c, key);
    check_dedup_of(w, id, c, th, key);
    uint32_t n = count_terms(w, id, c, key);
    uint64_t hi, lo;
    db_chunk_hash(id, c->text, c->text_len, c->doc_id, c->doc_id_len, &hi, &lo);
    w->r->hash_hi += hi;
    w->r->hash_lo += lo;
    w->r->chunks++;
    w->state[local] = CH_OK;
    w->th[local] = th;
    w->len[local] = n == UINT32_MAX ? 0 : n;
    if (n != UINT32_MAX && n) {
        w->r->ndocs++;
        w->r->total_len += n;
    }
    return 0;
}

/* The chunks table: a cursor walk, then (after a record that does not
 * parse stopped it) every remaining id looked up by key. */
static void walk_chunks(walk *w)
{
    mn_err e;
    int rc = store_chunk_each(w->st, visit_chunk, w, &e);
    if (!rc)
        return;
    char key[64];
    keyf(key, sizeof key, "after chunk %llu", (unsigned long long)((uint64_t)w->s << STORE_SHARD_BITS | w->next) - 1);
    PROBLEM(w, "chunks", w->next ? key : "", "%s", e.msg);
    uint64_t end = w->meta_ok ? w->meta.next_local : 0;
    for (uint64_t local = w->next; local < end && room_for(w, local); local++) {
        uint64_t id = (uint64_t)w->s << STORE_SHARD_BITS | local;
        store_chunk c;
        keyf(key, sizeof key, "chunk %llu", (unsigned long long)id);
        rc = store_chunk_get(w->st, id, &c, &e);
        if (rc == 1) {
            visit_chunk(w, id, &c, &e);
        } else {
            if (rc < 0) {
                w->state[local] = CH_BAD;
                w->next = local + 1;
            }
            PROBLEM(w, "chunks", key, "%s", rc < 0 ? e.msg : "missing (ids are never skipped)");
        }
    }
}

/* What the chunk walk found of chunk id: CH_OK / CH_BAD (with *local its
 * slot) or CH_ABSENT (not this shard's, or not stored). */
static int held(const walk *w, uint64_t id, uint64_t *local)
{
    *local = id & (((uint64_t)1 << STORE_SHARD_BITS) - 1);
    return id >> STORE_SHARD_BITS != w->s || *local >= w->cap ? CH_ABSENT : w->state[*local];
}

/* A doclen entry (key, value) or a dedup entry, into the digest. */
static void dig_pair(walk *w, uint64_t key, uint64_t val)
{
    dig_u64(w->dig, key);
    dig_u64(w->dig, val);
}

static int visit_doclen(void *ctx, uint64_t id, uint64_t val, mn_err *err)
{
    (void)err;
    walk *w = ctx;
    char key[64];
    uint64_t local;
    keyf(key, sizeof key, "chunk %llu", (unsigned long long)id);
    dig_pair(w, id, val);
    w->r->doclens++;
    int st = held(w, id, &local);
    if (st == CH_ABSENT)
        PROBLEM(w, "doclen", key, "a length for a chunk this shard does not hold");
    else
        w->has_doclen[local] = 1;
    if (st == CH_OK && val != w->len[local])
        PROBLEM(w, "doclen", key, "length %llu, the text has %u terms", (unsigned long long)val, w->len[local]);
    return 0;
}

static int visit_dedup(void *ctx, uint64_t hash, uint64_t id, mn_err *err)
{
    (void)err;
    walk *w = ctx;
    char key[64];
    uint64_t local;
    keyf(key, sizeof key, "text hash %016llx", (unsigned long long)hash);
    dig_pair(w, hash, id);
    w->r->dedups++;
    int st = held(w, id, &local);
    if (st == CH_ABSENT)
        PROBLEM(w, "dedup", key, "names chunk %llu, which this shard does not hold", (unsigned long long)id);
    else if (st == CH_OK && w->th[local] != hash)
        PROBLEM(w, "dedup", key, "names chunk %llu, whose text hash is %016llx", (unsigned long long)id,
                (unsigned long long)w->th[local]);
    return 0;
}

/* store_postings_each over the term: what a reader finds by the key. */
typedef struct seg_count {
    uint64_t segs, bytes;
} seg_count;

static int count_segment(void *ctx, uint32_t seg, const void *buf, size_t n, mn_err *err)
{
    (void)seg, (void)buf, (void)err;
    seg_count *k = ctx;
    k->segs++;
    k->bytes += n;
    return 0;
}

/* The scan's last term is complete: readers must find the same segments. */
static void close_term(walk *w)
{
    if (!w->term_open)
        return;
    w->term_open = 0;
    seg_count k = {0, 0};
    mn_err e;
    char key[DBCHECK_KEY_MAX];
    keyf(key, sizeof key, "term \"%.*s\"", (int)w->term_len, w->term);
    if (store_postings_each(w->st, w->term, w->term_len, count_segment, &k, &e))
        PROBLEM(w, "postings", key, "%s", e.msg);
    else if (k.segs != w->term_segs || k.bytes != w->term_bytes)
        PROBLEM(w, "postings", key, "a lookup by the term finds %llu segments (%llu bytes), the scan %llu (%llu): "
                "a damaged index page", (unsigned long long)k.segs, (unsigned long long)k.bytes,
                (unsigned long long)w->term_segs, (unsigned long long)w->term_bytes);
}

static int visit_segment(void *ctx, const char *term, size_t len, uint32_t seg, const void *buf, size_t n,
                         mn_err *err)
{
    (void)err;
    walk *w = ctx;
    char key[DBCHECK_KEY_MAX];
    keyf(key, sizeof key, "term \"%.*s\" segment %u", (int)len, term, seg);
    dig_str(w->dig, term, len);
    dig_str(w->dig, buf, n); /* not the segment number: readers only see the order */
    w->r->segments++;
    int new_term = !w->term_open || len != w->term_len || memcmp(term, w->term, len);
    if (new_term) {
        close_term(w);
        memcpy(w->term, term, len);
        w->term_len = len;
        w->term_last_doc = 0;
        w->term_segs = w->term_bytes = 0;
        w->term_open = 1;
        w->r->terms++;
    }
    w->term_segs++;
    w->term_bytes += n;
    if (seg > w->max_seg || w->r->segments == 1)
        w->max_seg = seg;
    if (w->meta_ok && seg >= w->meta.segments)
        PROBLEM(w, "postings", key, "segment number not below the meta's %llu", (unsigned long long)w->meta.segments);
    tstat *ts = term_stat(w, term, len);
    postings_iter it;
    mn_err e;
    int rc = postings_iter_init(&it, buf, n, "list", &e);
    int first = 1;
    uint64_t foreign = 0, first_foreign = 0;
    while (!rc && (rc = postings_iter_next(&it, &e)) == 1) {
        uint64_t doc = it.doc, local;
        rc = 0;
        if (!new_term && first && doc <= w->term_last_doc) {
            PROBLEM(w, "postings", key, "first chunk %llu is not above the previous segment's last %llu",
                    (unsigned long long)doc, (unsigned long long)w->term_last_doc);
        }
        first = 0;
        w->term_last_doc = doc;
        w->r->postings++;
        ts->np++;
        ts->hp += posting_hash(doc, it.tf);
        ts->xp ^= doc;
        if (held(w, doc, &local) == CH_ABSENT) {
            first_foreign = foreign++ ? first_foreign : doc;
            continue;
        }
        w->tfsum[local] = w->tfsum[local] + it.tf < w->tfsum[local] ? UINT32_MAX : w->tfsum[local] + it.tf;
    }
    if (foreign)
        PROBLEM(w, "postings", key, "%llu postings name chunks this shard does not hold (the first %llu)",
                (unsigned long long)foreign, (unsigned long long)first_foreign);
    if (rc < 0) {
        PROBLEM(w, "postings", key, "%s", e.msg);
        w->lists_broken = 1;
    }
    return 0;
}

/* Per term, the postings of the texts against those of the table. */
static void compare_terms(walk *w)
{
    for (size_t i = 0; i < w->terms.n; i++)
        tstat_flush(&w->ts[i]);
    for (size_t i = 0; i < w->terms.n; i++) {
        const tstat *t = &w->ts[i];
        if (t->nc == t->np && t->hc == t->hp && t->xc == t->xp)
            continue;
        char key[DBCHECK_KEY_MAX], which[96] = "";
        size_t len;
        const char *term = strtab_str(&w->terms, i, &len);
        keyf(key, sizeof key, "term \"%.*s\"", (int)len, term);
        if (t->nc == t->np + 1 || t->np == t->nc + 1)
            snprintf(which, sizeof which, " (chunk %llu)", (unsigned long long)(t->xc ^ t->xp));
        PROBLEM(w, "postings", key, "the chunks' texts give %llu postings, the table holds %llu%s%s",
                (unsigned long long)t->nc, (unsigned long long)t->np, t->nc == t->np ? " that differ" : "", which);
    }
}

/* Per chunk: its postings' tfs sum to its length; every chunk with terms
 * has a doclen entry. */
static void compare_chunks(walk *w)
{
    for (uint64_t l = 0; l < w->cap; l++) {
        if (w->state[l] != CH_OK)
            continue;
        char key[64];
        keyf(key, sizeof key, "chunk %llu", (unsigned long long)((uint64_t)w->s << STORE_SHARD_BITS | l));
        if (w->len[l] && !w->has_doclen[l])
            PROBLEM(w, "doclen", key, "no length entry for a chunk of %u terms", w->len[l]);
        if (!w->lists_broken && w->tfsum[l] != w->len[l])
            PROBLEM(w, "postings", key, "its postings count %u terms, its text has %u", w->tfsum[l], w->len[l]);
    }
}

/* The meta's counters against what was recomputed, and the manifest's
 * entry against both. */
static void compare_counters(walk *w)
{
    const db_check_shard *r = w->r;
    const store_meta *m = &w->meta;
    char hm[33], hr[33];
    if (w->meta_ok) {
        struct {
            const char *name;
            uint64_t meta, found;
        } v[4] = {{"chunks", m->chunks, r->chunks},
                  {"next_local", m->next_local, w->next},
                  {"indexed chunks", m->ndocs, r->ndocs},
                  {"total terms", m->total_len, r->total_len}};
        for (int i = 0; i < 4; i++)
            if (v[i].meta != v[i].found)
                PROBLEM(w, "meta", "stats", "%s %llu, the shard holds %llu", v[i].name, (unsigned long long)v[i].meta,
                        (unsigned long long)v[i].found);
        if (m->hash_hi != r->hash_hi || m->hash_lo != r->hash_lo) {
            manifest_hash_hex(m->hash_hi, m->hash_lo, hm);
            manifest_hash_hex(r->hash_hi, r->hash_lo, hr);
            PROBLEM(w, "meta", "stats", "content hash %s, the chunks sum to %s", hm, hr);
        }
        if (r->segments && w->max_seg >= m->segments)
            PROBLEM(w, "meta", "stats", "segments %llu, a segment numbered %llu exists",
                    (unsigned long long)m->segments, (unsigned long long)w->max_seg);
        if (m->reserved[0] || m->reserved[1])
            PROBLEM(w, "meta", "stats", "reserved words are not zero");
    }
    if (!w->man)
        return;
    const manifest_counts *e = manifest_shard_counts(w->man, w->s);
    if (e->chunks != r->chunks || e->ndocs != r->ndocs || e->total_len != r->total_len || e->hash_hi != r->hash_hi ||
        e->hash_lo != r->hash_lo) {
        manifest_hash_hex(e->hash_hi, e->hash_lo, hm);
        manifest_hash_hex(r->hash_hi, r->hash_lo, hr);
        add_problem(w->c, (int64_t)w->s, "manifest", "shard_stats",
                    "%llu chunks, %llu indexed, %llu terms, content hash %s; the shard holds %llu, %llu, %llu, %s",
                    (unsigned long long)e->chunks, (unsigned long long)e->ndocs, (unsigned long long)e->total_len, hm,
                    (unsigned long long)r->chunks, (unsigned long long)r->ndocs, (unsigned long long)r->total_len,
                    hr);
    }
    const char *inputs;
    size_t len, n;
    mn_err err;
    if (w->meta_ok && store_kv_get(w->st, "inputs", &inputs, &len, &err) >= 0 &&
        manifest_check_shard(w->man, w->s, m, inputs, len, &err))
        add_problem(w->c, (int64_t)w->s, "manifest", "shard_stats", "%s", err.msg);
    manifest_inputs(w->man, &len, &n);
    if (w->meta_ok && (m->prog_input != n || m->prog_doc != 0))
        PROBLEM(w, "meta", "stats", "progress marker (%llu, %llu); a finished ingest of %zu inputs leaves (%zu, 0)",
                (unsigned long long)m->prog_input, (unsigned long long)m->prog_doc, n, n);
}

/* The meta entries: configuration, counters, input list. */
static void read_meta(walk *w)
{
    const char *v;
    size_t len;
    mn_err e;
    db_config cfg;
    sha256_ctx *d = w->dig;
    int rc = store_kv_get(w->st, "config", &v, &len, &e);
    dig_str(d, rc == 1 ? v : NULL, len);
    if (rc < 0)
        PROBLEM(w, "meta", "config", "%s", e.msg);
    else if (rc == 0)
        PROBLEM(w, "meta", "config", "missing");
    else if (db_config_decode(v, len, w->path, &cfg, &e) || db_config_check(w->cfg, &cfg, w->path, &e))
        PROBLEM(w, "meta", "config", "%s", e.msg);
    rc = store_meta_get(w->st, &w->meta, &e);
    const uint64_t *words = (const uint64_t *)&w->meta;
    for (int i = 0; i < STORE_META_WORDS; i++)
        dig_u64(d, words[i]);
    if (rc <= 0)
        PROBLEM(w, "meta", "stats", "%s", rc < 0 ? e.msg : "missing");
    else if (w->meta.shard != w->s || w->meta.nshards != w->S)
        PROBLEM(w, "meta", "stats", "says shard %llu of %llu", (unsigned long long)w->meta.shard,
                (unsigned long long)w->meta.nshards);
    else
        w->meta_ok = 1;
    rc = store_kv_get(w->st, "inputs", &v, &len, &e);
    dig_str(d, rc == 1 ? v : NULL, len);
    if (rc < 0) {
        PROBLEM(w, "meta", "inputs", "%s", e.msg);
        return;
    }
    for (size_t o = 0; o < len;) { /* NUL-terminated paths back to back */
        const char *end = memchr(v + o, 0, len - o);
        if (!end) {
            PROBLEM(w, "meta", "inputs", "the last path is not NUL-terminated");
            break;
        }
        w->in = xrealloc(w->in, (w->nin + 1) * sizeof *w->in);
        w->inlen = xrealloc(w->inlen, (w->nin + 1) * sizeof *w->inlen);
        w->in[w->nin] = v + o;
        w->inlen[w->nin++] = (size_t)(end - (v + o));
        o = (size_t)(end - v) + 1;
    }
}

static void walk_free(walk *w)
{
    free(w->state);
    free(w->len);
    free(w->tfsum);
    free(w->has_doclen);
    free(w->th);
    free(w->prev_id);
    free(w->prev_member);
    free(w->in);
    free(w->inlen);
    strtab_free(&w->terms);
    free(w->ts);
    analyzer_tokens_free(&w->toks);
}

/* Every shard the check reads is opened here (read-only, registered in
 * LMDB's reader table). */
static int open_shard(const char *path, store **out, mn_err *err)
{
    *out = NULL;
    /* LMDB trusts its pages: walk them with our own parser first, so that
     * a damaged page is reported as the shard's "lmdb" problem instead of
     * being followed (check_shard then skips the record walk) */
    int rc = store_check(path, STORE_CHECK_FULL, err);
    if (rc)
        return rc;
    return store_open(path, STORE_RDONLY, out, err);
}

typedef struct step_note {
    db_check_step_fn fn;
    void *ctx;
} step_note;

static void note(const step_note *n, uint32_t s, const char *table)
{
    if (n->fn)
        n->fn(n->ctx, s, table);
}

static void check_shard(db_check *c, uint32_t s, const db_config *cfg, const analyzer_config *an,
                        const db_manifest *man, sha256_ctx *dig, const char *dir, const step_note *n)
{
    char path[PATH_MAX + 32];
    mn_err e;
    db_shard_path(dir, s, path, sizeof path);
    walk w = {.c = c, .r = &c->sh[s], .s = s, .S = cfg->nshards, .path = path, .cfg = cfg, .man = man,
              .an = *an, .dig = dig};
    analyzer_tokens_init(&w.toks);
    if (man) {
        uint64_t docs;
        manifest_doc_counts(man, &docs, &w.text_bytes);
    }
    dig_u64(dig, s);
    if (open_shard(path, &w.st, &e) || store_begin(w.st, 0, &e)) {
        add_problem(c, s, "lmdb", "", "%s", e.msg);
        store_close(w.st);
        return;
    }
    c->sh[s].walked = 1;
    note(n, s, "meta");
    read_meta(&w);
    note(n, s, "chunks");
    walk_chunks(&w);
    note(n, s, "doclen");
    if (store_doclen_each(w.st, visit_doclen, &w, &e))
        PROBLEM(&w, "doclen", "", "%s", e.msg);
    note(n, s, "dedup");
    if (store_dedup_each(w.st, visit_dedup, &w, &e))
        PROBLEM(&w, "dedup", "", "%s", e.msg);
    note(n, s, "postings");
    if (store_postings_scan(w.st, visit_segment, &w, &e))
        PROBLEM(&w, "postings", "", "%s", e.msg);
    close_term(&w);
    compare_terms(&w);
    compare_chunks(&w);
    compare_counters(&w);
    store_close(w.st);
    walk_free(&w);
}

/* ---------------------------------------------------------------------------
 * the DB
 */

void db_check_free(db_check *c)
{
    if (!c)
        return;
    free(c->sh);
    free(c->prob);
    memset(c, 0, sizeof *c);
}

/* Shard 0's configuration: what every shard and the manifest must match. */
static int read_config0(const char *dir, db_config *cfg, mn_err *err)
{
    char path[PATH_MAX + 32];
    struct stat st;
    store *s0 = NULL;
    const char *v;
    size_t len;
    db_shard_path(dir, 0, path, sizeof path);
    if (stat(path, &st))
        return mn_errf(err, MN_EIO, "%s: not a mnemo DB (no shard-000)", dir);
    int rc = open_shard(path, &s0, err);
    if (!rc && !(rc = store_begin(s0, 0, err)) && (rc = store_kv_get(s0, "config", &v, &len, err)) >= 0)
        rc = rc == 0 ? mn_errf(err, MN_EFORMAT, "%s: no DB configuration (an ingest never started here)", path)
                     : db_config_decode(v, len, path, cfg, err);
    store_close(s0);
    return rc;
}

int db_check_run(const char *dir, db_check_step_fn step, void *ctx, db_check *out, mn_err *err)
{
    memset(out, 0, sizeof *out);
    step_note n = {step, ctx};
    note(&n, 0, "meta");
    db_config cfg;
    analyzer_config an;
    int rc;
    if ((rc = read_config0(dir, &cfg, err)) || (rc = analyzer_config_parse(cfg.analyzer, dir, &an, err)))
        return rc;
    out->nshards = cfg.nshards;
    out->sh = xcalloc(cfg.nshards, sizeof *out->sh);
    db_manifest *man = NULL;
    mn_err e;
    if (manifest_read(dir, &cfg, &man, &e))
        add_problem(out, -1, "manifest", "", "%s", e.msg);
    sha256_ctx dig;
    sha256_init(&dig);
    for (uint32_t s = 0; s < cfg.nshards; s++) {
        check_shard(out, s, &cfg, &an, man, &dig, dir, &n);
        out->hash_hi += out->sh[s].hash_hi;
        out->hash_lo += out->sh[s].hash_lo;
    }
    uint8_t h[32];
    sha256_final(&dig, h);
    for (int i = 0; i < 32; i++)
        snprintf(out->digest + 2 * i, 3, "%02x", h[i]);
    manifest_free(man);
    return 0;
}
