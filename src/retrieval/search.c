/* search.c — BM25 over all shards; see search.h. */
#include "retrieval/search.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/model.h"
#include "model/tokenizer.h"
#include "retrieval/analyzer.h"
#include "retrieval/dense.h"
#include "retrieval/fusion.h"
#include "retrieval/ivf.h"
#include "retrieval/postings.h"
#include "util/dirlock.h"  /* dirlock_probe */
#include "util/mapfile.h"  /* file_read_all */

_Static_assert(STORE_DOCLEN_NONE == BM25_DOCLEN_NONE, "store's and bm25's missing-length markers agree");

/* A term's whole list in one shard: its segments decoded and appended. */
typedef struct plist {
    posting *p; /* [n] of [cap] */
    size_t n, cap;
} plist;

/* A distinct query term: its text (in the handle's analyzer tokens),
 * count in the query and df over the handle's shards. */
typedef struct qterm {
    const char *term;
    size_t len;
    uint32_t qtf;
    uint64_t df;
} qterm;

/* The dense side of a search_db (search_dense_attach). */
typedef struct dense_side {
    dense_shard **sh; /* [nshards] */
    ivf **ix;         /* [nshards] when nprobe > 0, else NULL */
    size_t nprobe;
    dense_meta meta;  /* shard 0's (all agree) */
    model *m;
    tokenizer *tok;
    engine *e;
    int e_len;        /* positions of the engine's slot (grown on demand) */
    float *q;         /* [meta.dim] the last query's embedding (search_dense_candidates) */
} dense_side;

struct search_db {
    char *dir;
    db_config cfg;
    analyzer_config an;
    store **sh;       /* [nsh], NULL for shards of other ranks */
    uint32_t nsh;     /* slots in sh and lens: nshards once the configuration is read */
    uint8_t *own;     /* [nshards] 1: this handle searches the shard */
    uint32_t nown;    /* shards owned */
    store_meta *meta; /* [nshards], zero for shards of other ranks */
    uint32_t **lens;  /* [nshards][meta.next_local] chunk lengths (store_doclen_load) */
    bm25_stats st;
    analyzer_tokens toks;
    plist *pl;        /* [npl] decoded lists, kept across queries (no page faults per query) */
    size_t npl;
    qterm *qt;        /* [nq] the distinct terms of the last search_bm25_terms query */
    size_t nq;
    dense_side *dn;   /* NULL until search_dense_attach */
    char *manifest;   /* the manifest.json text the open verified */
    db_identity id;   /* and the identity it states */
};

static void dense_side_free(dense_side *d, uint32_t nshards)
{
    if (!d)
        return;
    for (uint32_t s = 0; s < nshards; s++) {
        if (d->sh && d->sh[s])
            dense_shard_close(d->sh[s]);
        if (d->ix && d->ix[s])
            ivf_free(d->ix[s]);
    }
    free(d->sh);
    free(d->ix);
    free(d->q);
    engine_free(d->e);
    tokenizer_free(d->tok);
    model_free(d->m);
    free(d);
}

void search_db_close(search_db *db)
{
    if (!db)
        return;
    for (uint32_t s = 0; db->sh && s < db->nsh; s++)
        store_close(db->sh[s]);
    for (uint32_t s = 0; db->lens && s < db->nsh; s++)
        free(db->lens[s]);
    free(db->lens);
    for (size_t i = 0; i < db->npl; i++)
        free(db->pl[i].p);
    free(db->pl);
    free(db->qt);
    free(db->own);
    dense_side_free(db->dn, db->cfg.nshards);
    free(db->sh);
    free(db->meta);
    free(db->dir);
    free(db->manifest);
    analyzer_tokens_free(&db->toks);
    free(db);
}

static int read_config(store *s, const char *path, db_config *c, mn_err *err)
{
    const char *v;
    size_t len;
    int rc = store_kv_get(s, "config", &v, &len, err);
    if (rc == 0)
        return mn_errf(err, MN_EFORMAT, "%s: no DB configuration (an ingest never started here)", path);
    return rc < 0 ? rc : db_config_decode(v, len, path, c, err);
}

int search_db_open(const char *dir, search_db **out, mn_err *err)
{
    return search_db_open_part(dir, 0, 1, 0, out, err);
}

/* Open shard i (i > 0) of the DB and check its configuration. */
static int open_shard(search_db *db, uint32_t i, int mode, const char *path, mn_err *err)
{
    struct stat st;
    db_config c;
    int rc;
    if (stat(path, &st))
        return mn_errf(err, MN_EIO, "%s: missing (the DB has %u shards)", path, db->cfg.nshards);
    if ((rc = store_open(path, mode, &db->sh[i], err)) || (rc = store_begin(db->sh[i], 0, err)) ||
        (rc = read_config(db->sh[i], path, &c, err)) || (rc = db_config_check(&db->cfg, &c, path, err)))
        return rc;
    return 0;
}

/* Shard i's committed counters and input list against the manifest;
 * *ahead = 1 when the shard is ahead of it (an ingest committed since). */
static int check_shard(search_db *db, const db_manifest *man, uint32_t i, const char *path, int *ahead, mn_err *err)
{
    const char *inputs;
    size_t len;
    int rc = store_meta_get(db->sh[i], &db->meta[i], err);
    if (rc < 0)
        return rc;
    if (db->meta[i].shard != i || db->meta[i].nshards != db->cfg.nshards)
        return mn_errf(err, MN_EFORMAT, "%s: meta says shard %llu of %llu", path,
                       (unsigned long long)db->meta[i].shard, (unsigned long long)db->meta[i].nshards);
    if ((rc = store_kv_get(db->sh[i], "inputs", &inputs, &len, err)) < 0)
        return rc;
    if ((rc = manifest_check_shard(man, i, &db->meta[i], inputs, len, err)))
        *ahead = manifest_shard_ahead(man, i, &db->meta[i], inputs, len);
    return rc;
}

/* One attempt at search_db_open_part.  *unfinished = 1 when the failure is
 * what an unfinished ingest leaves (no shard yet, no configuration, no
 * manifest, shards ahead of the manifest); *seen = the manifest text read
 * (NULL when none), for the caller's retry. */
static int open_part_once(search_db *db, uint32_t part, uint32_t nparts, int mode, int lengths, int *unfinished,
                          char **seen,
                          mn_err *err)
{
    const char *dir = db->dir;
    char path[PATH_MAX + 32];
    db_manifest *man = NULL;
    int rc;
    struct stat st;
    *unfinished = 0;
    *seen = NULL;
    size_t len;
    mn_err ignored;
    /* the manifest before any shard's snapshot: a shard can then only be
     * ahead of it (ingest commits, then writes the manifest) */
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (file_read_all(path, seen, &len, &ignored))
        *seen = NULL;
    db_shard_path(dir, 0, path, sizeof path);
    if (stat(path, &st)) {
        *unfinished = stat(dir, &st) == 0;
        return mn_errf(err, MN_EIO, "%s: not a mnemo DB (no shard-000%s)", dir, *seen ? "" : ", no manifest.json");
    }
    db->sh = xcalloc(1, sizeof *db->sh); /* shard 0 until the shard count is known */
    db->nsh = 1;
    const char *v;
    if ((rc = store_open(path, mode, &db->sh[0], err)) || (rc = store_begin(db->sh[0], 0, err)) ||
        (rc = store_kv_get(db->sh[0], "config", &v, &len, err)) < 0)
        return rc;
    if (rc == 0 && *seen)
        return mn_errf(err, MN_EFORMAT, "%s: no DB configuration, but %s/manifest.json exists (damaged?)", path, dir);
    if (rc == 0) { /* an ingest created the shard and was stopped before its first commit */
        *unfinished = 1;
        return mn_errf(err, MN_EIO, "%s: no manifest.json: no ingest has finished into this DB (one failed or is "
                       "still running); rerun mnemo ingest", dir);
    }
    if ((rc = db_config_decode(v, len, path, &db->cfg, err)))
        return rc;
    if ((rc = analyzer_config_parse(db->cfg.analyzer, path, &db->an, err)))
        return rc;
    store *s0 = db->sh[0];
    free(db->sh);
    db->sh = xcalloc(db->cfg.nshards, sizeof *db->sh);
    db->sh[0] = s0;
    db->nsh = db->cfg.nshards;
    db->meta = xcalloc(db->cfg.nshards, sizeof *db->meta);
    db->lens = xcalloc(db->cfg.nshards, sizeof *db->lens);
    db->own = xcalloc(db->cfg.nshards, 1);
    if (part >= nparts)
        return mn_errf(err, MN_ERANGE, "%s: part %u of %u", dir, part, nparts);
    if ((rc = manifest_read(dir, &db->cfg, &man, err))) {
        *unfinished = rc == MN_EIO;
        return rc;
    }
    if (!*seen || strcmp(*seen, manifest_text(man))) { /* written meanwhile: the caller tries again */
        *unfinished = 1;
        manifest_free(man);
        return mn_errf(err, MN_EMISMATCH, "%s/manifest.json: rewritten while the DB was being opened", dir);
    }
    for (uint32_t i = 0; i < db->cfg.nshards && !rc; i++) {
        db->own[i] = i % nparts == part;
        db->nown += db->own[i];
        if (!db->own[i])
            continue;
        db_shard_path(dir, i, path, sizeof path);
        if ((i > 0 && (rc = open_shard(db, i, mode, path, err))) ||
            (rc = check_shard(db, man, i, path, unfinished, err)))
            break;
        /* every chunk length in memory: scoring reads one per matching
         * document, far too many for an LMDB lookup each */
        if (lengths && (rc = store_doclen_load(db->sh[i], i, db->meta[i].next_local, &db->lens[i], err)))
            break;
        db->st.N += db->meta[i].ndocs;
        db->st.total_len += db->meta[i].total_len;
    }
    if (!rc) {
        db->manifest = xstrdup(manifest_text(man));
        manifest_identity(man, &db->id);
        if (!db->own[0]) { /* opened for the configuration only */
            store_close(db->sh[0]);
            db->sh[0] = NULL;
        }
    }
    manifest_free(man);
    return rc;
}

/* "DIR: an ingest is running (pid P on host H since T); wait for it to
 * finish" from DIR/ingest.lock's holder line ("" when it names none). */
static int ingest_running(const char *dir, const char *holder, mn_err *err)
{
    char host[256], when[64];
    long pid;
    if (sscanf(holder, "host=%255s pid=%ld started=%63s", host, &pid, when) == 3)
        return mn_errf(err, MN_EBUSY, "%s: an ingest is running (pid %ld on host %s since %s); wait for it to finish",
                       dir, pid, host, when);
    return mn_errf(err, MN_EBUSY, "%s: an ingest is running; wait for it to finish", dir);
}

/* 1 when a live process holds DIR/ingest.lock (holder[] its line); a lock
 * file that cannot be read counts as free: the open's own checks decide. */
static int ingest_live(const char *dir, char *holder, size_t cap)
{
    mn_err ignored;
    return dirlock_probe(dir, "ingest.lock", holder, cap, &ignored) == 1;
}

/* Has DIR/manifest.json changed since `seen` (NULL: it was absent)? */
static int manifest_changed(const char *dir, const char *seen)
{
    char path[PATH_MAX + 32], *now = NULL;
    size_t len;
    mn_err ignored;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    int absent = file_read_all(path, &now, &len, &ignored) != 0;
    int changed = absent ? seen != NULL : !seen || strcmp(now, seen);
    free(now);
    return changed;
}

/* An unfinished DB is refused; while an ingest holds DIR/ingest.lock the
 * message says so (MN_EBUSY) instead of "interrupted".  An ingest that
 * finishes while the open reads (new manifest between the shards'
 * snapshots and the manifest read) is not an interruption: the open is
 * tried again, twice at most. */
int search_db_open_part(const char *dir, uint32_t part, uint32_t nparts, int flags, search_db **out, mn_err *err)
{
    int mode = STORE_RDONLY | (flags & SEARCH_DB_NOLOCK ? STORE_NOLOCK : 0);
    char holder[DIRLOCK_HOLDER_MAX];
    *out = NULL;
    /* without LMDB's reader table a live writer may reuse the pages read */
    if ((flags & SEARCH_DB_NOLOCK) && ingest_live(dir, holder, sizeof holder))
        return ingest_running(dir, holder, err);
    for (int attempt = 0;; attempt++) {
        search_db *db = xcalloc(1, sizeof *db);
        db->dir = xstrdup(dir);
        analyzer_tokens_init(&db->toks);
        int unfinished;
        char *seen;
        int rc = open_part_once(db, part, nparts, mode, !(flags & SEARCH_DB_VERIFY_ONLY), &unfinished, &seen, err);
        if (!rc) {
            free(seen);
            *out = db;
            return 0;
        }
        search_db_close(db);
        if (unfinished && ingest_live(dir, holder, sizeof holder))
            rc = ingest_running(dir, holder, err);
        else if (unfinished && attempt < 2 && manifest_changed(dir, seen))
            rc = 1; /* try again */
        free(seen);
        if (rc != 1)
            return rc;
    }
}

const db_config *search_db_config(const search_db *db)
{
    return &db->cfg;
}

const store_meta *search_db_meta(const search_db *db, uint32_t s)
{
    return &db->meta[s];
}

const char *search_db_manifest(const search_db *db)
{
    return db->manifest;
}

void search_db_identity(const search_db *db, db_identity *id)
{
    *id = db->id;
}

int search_db_verify_manifest(const search_db *db, const char *dir, char **text, mn_err *err)
{
    *text = NULL;
    db_manifest *man;
    int rc = manifest_read(dir, &db->cfg, &man, err);
    for (uint32_t s = 0; !rc && s < db->cfg.nshards; s++)
        if (db->own[s])
            rc = manifest_check_shard(man, s, &db->meta[s], NULL, 0, err);
    if (!rc)
        *text = xstrdup(manifest_text(man));
    manifest_free(man);
    return rc;
}

bm25_stats search_db_stats(const search_db *db)
{
    return db->st;
}

int search_db_chunk(search_db *db, uint64_t id, store_chunk *c, mn_err *err)
{
    uint64_t s = id >> STORE_SHARD_BITS;
    if (s >= db->cfg.nshards || !db->sh[s]) {
        memset(c, 0, sizeof *c);
        return 0;
    }
    return store_chunk_get(db->sh[s], id, c, err);
}


static int add_segment(void *ctx, uint32_t seg, const void *buf, size_t n, mn_err *err)
{
    plist *l = ctx;
    postings_iter it;
    size_t got;
    int rc = postings_iter_init(&it, buf, n, "postings segment", err);
    if (rc)
        return rc;
    /* the count was checked against the bytes present: bounded growth */
    if (it.count > l->cap - l->n) {
        size_t cap = l->n + it.count;
        cap = cap < 2 * l->cap ? 2 * l->cap : cap;
        l->p = xrealloc(l->p, cap * sizeof *l->p);
        l->cap = cap;
    }
    if ((rc = postings_decode(buf, n, "postings segment", l->p + l->n, l->cap - l->n, &got, err)))
        return rc;
    /* segments come in batch order: each must continue the list */
    if (got && l->n && l->p[l->n].doc <= l->p[l->n - 1].doc)
        return mn_errf(err, MN_EFORMAT, "postings segment %u: first doc %llu not above the previous segment's %llu",
                       seg, (unsigned long long)l->p[l->n].doc, (unsigned long long)l->p[l->n - 1].doc);
    l->n += got;
    return 0;
}

int search_bm25_terms(search_db *db, const char *query, size_t len, uint64_t **df, size_t *nterms, mn_err *err)
{
    *df = NULL;
    *nterms = 0;
    uint32_t S = db->cfg.nshards;
    size_t nq = 0;
    plist *w;
    int rc;
    db->nq = 0;
    if ((rc = analyzer_analyze(&db->an, query, len, "query", &db->toks, err)))
        return rc;
    /* distinct terms in order of first occurrence, with their counts */
    qterm *qt = db->qt = xrealloc(db->qt, (db->toks.n ? db->toks.n : 1) * sizeof *qt);
    for (size_t i = 0; i < db->toks.n; i++) {
        const char *t = db->toks.terms + db->toks.tok[i].term_off;
        size_t tl = db->toks.tok[i].term_len, j = 0;
        while (j < nq && !(qt[j].len == tl && !memcmp(qt[j].term, t, tl)))
            j++;
        if (j == nq)
            qt[nq++] = (qterm){t, tl, 0, 0};
        qt[j].qtf++;
    }
    /* every owned shard's list of every term, and the df over them */
    if (db->npl < (size_t)S * nq) {
        db->pl = xrealloc(db->pl, (size_t)S * nq * sizeof *db->pl);
        memset(db->pl + db->npl, 0, ((size_t)S * nq - db->npl) * sizeof *db->pl);
        db->npl = (size_t)S * nq;
    }
    w = db->pl;
    for (size_t i = 0; i < (size_t)S * nq; i++)
        w[i].n = 0;
    for (uint32_t s = 0; s < S; s++)
        for (size_t t = 0; t < nq && db->own[s]; t++) {
            plist *pl = &w[s * nq + t];
            if ((rc = store_postings_each(db->sh[s], qt[t].term, qt[t].len, add_segment, pl, err))) {
                mn_err_prefix(err, "%s: term \"%.*s\": ", store_path(db->sh[s]), (int)qt[t].len, qt[t].term);
                return rc;
            }
            qt[t].df += pl->n;
        }
    db->nq = nq;
    *nterms = nq;
    *df = xmalloc((nq ? nq : 1) * sizeof **df);
    for (size_t t = 0; t < nq; t++)
        (*df)[t] = qt[t].df;
    return 0;
}

int search_bm25_scored(search_db *db, const bm25_params *p, const bm25_stats *st, const uint64_t *df, size_t k,
                       bm25_hit **hits, size_t *n, mn_err *err)
{
    *hits = NULL;
    *n = 0;
    uint32_t S = db->cfg.nshards;
    size_t nq = db->nq;
    bm25_list *bl = NULL;
    bm25_topk topk = {0};
    int rc;
    if ((rc = bm25_params_check(p, err)) || (rc = bm25_topk_init(&topk, k, err)))
        goto done;
    bl = xcalloc(nq + 1, sizeof *bl);
    /* a document lives in one shard: its score sums its terms in query
     * order whichever shards this handle owns */
    for (uint32_t s = 0; s < S; s++) {
        size_t m = 0;
        for (size_t t = 0; t < nq && db->own[s]; t++) {
            plist *pl = &db->pl[s * nq + t];
            if (pl->n)
                bl[m++] = (bm25_list){pl->p, pl->n, df[t], db->qt[t].qtf, store_path(db->sh[s])};
        }
        if (!m)
            continue;
        bm25_doclens dl = {db->lens[s], (uint64_t)s << STORE_SHARD_BITS, db->meta[s].next_local,
                           store_path(db->sh[s])};
        if ((rc = bm25_search_lists(p, st, bl, m, &dl, &topk, err)))
            goto done;
    }
    *n = bm25_topk_sort(&topk);
    if (*n) {
        *hits = xmalloc(*n * sizeof **hits);
        memcpy(*hits, topk.hit, *n * sizeof **hits);
    }
done:
    free(bl);
    bm25_topk_free(&topk);
    return rc;
}

int search_bm25(search_db *db, const bm25_params *p, const char *query, size_t len, size_t k, bm25_hit **hits,
                size_t *n, mn_err *err)
{
    *hits = NULL;
    *n = 0;
    uint64_t *df = NULL;
    size_t nq;
    int rc = bm25_params_check(p, err);
    if (!rc && !(rc = search_bm25_terms(db, query, len, &df, &nq, err)))
        rc = search_bm25_scored(db, p, &db->st, df, k, hits, n, err);
    free(df);
    return rc;
}

/* ---------------------------------------------------------------------------
 * dense and hybrid
 */

/* Shard s's embeddings agree with shard 0's and with the shard itself. */
static int dense_check_shard(search_db *db, uint32_t s, const char *path, mn_err *err)
{
    const dense_meta *m = dense_shard_meta(db->dn->sh[s]), *m0 = &db->dn->meta;
    if (strcmp(m->model_sha256, m0->model_sha256) || m->pooling != m0->pooling || m->dim != m0->dim ||
        m->max_tokens != m0->max_tokens)
        return mn_errf(err, MN_EMISMATCH,
                       "%s: embeddings built with model %s (config sha256 %.12s, %s pooling, %u tokens), shard 0's "
                       "with %s (%.12s, %s, %u): embed the DB again",
                       path, m->model_dir, m->model_sha256, dense_pooling_name(m->pooling), m->max_tokens,
                       m0->model_dir, m0->model_sha256, dense_pooling_name(m0->pooling), m0->max_tokens);
    if (m->next_local != db->meta[s].next_local || m->count != db->meta[s].chunks)
        return mn_errf(err, MN_EMISMATCH,
                       "%s: embeddings cover %llu chunks (ids below %llu) but the shard holds %llu (below %llu): "
                       "run mnemo embed --db again",
                       path, (unsigned long long)m->count, (unsigned long long)m->next_local,
                       (unsigned long long)db->meta[s].chunks, (unsigned long long)db->meta[s].next_local);
    if (!db->dn->ix)
        return 0;
    char ipath[PATH_MAX + 64];
    snprintf(ipath, sizeof ipath, "%s/%s", path, IVF_FILE);
    int rc = ivf_open(ipath, &db->dn->ix[s], err);
    if (rc == MN_EIO)
        mn_err_prefix(err, "--nprobe needs an IVF index (mnemo embed --db DIR --model M --ivf NLIST): ");
    if (!rc && (ivf_source_hash(db->dn->ix[s]) != m->content_hash || ivf_dim(db->dn->ix[s]) != m->dim))
        rc = mn_errf(err, MN_EMISMATCH, "%s: built from other embeddings than the current ones: rebuild it (--ivf)",
                     ipath);
    return rc;
}

int search_dense_attach(search_db *db, const char *model_dir, size_t nprobe, mn_err *err)
{
    if (db->dn)
        return mn_errf(err, MN_EUSAGE, "%s: dense search already attached", db->dir);
    uint32_t S = db->cfg.nshards;
    dense_side *d = db->dn = xcalloc(1, sizeof *d);
    d->sh = xcalloc(S, sizeof *d->sh);
    d->ix = nprobe ? xcalloc(S, sizeof *d->ix) : NULL;
    d->nprobe = nprobe;
    char path[PATH_MAX + 32], hash[65];
    int rc = 0;
    int first = 1;
    if (!db->nown) /* a part with no shards has nothing to search */
        return 0;
    for (uint32_t s = 0; s < S && !rc; s++) {
        if (!db->own[s])
            continue;
        db_shard_path(db->dir, s, path, sizeof path);
        if (!(rc = dense_shard_open(path, &d->sh[s], err))) {
            if (first)
                d->meta = *dense_shard_meta(d->sh[s]);
            first = 0;
            rc = dense_check_shard(db, s, path, err);
        }
    }
    if (!rc && !(rc = dense_model_hash(model_dir, hash, err)) && strcmp(hash, d->meta.model_sha256))
        rc = mn_errf(err, MN_EMISMATCH,
                     "--model %s (config.json sha256 %.16s) is not the model %s's embeddings were built with (%s, "
                     "config.json sha256 %.16s)",
                     model_dir, hash, db->dir, d->meta.model_dir, d->meta.model_sha256);
    if (!rc)
        rc = model_load(model_dir, &d->m, err);
    if (!rc && (uint32_t)d->m->cfg.C != d->meta.dim)
        rc = mn_errf(err, MN_EMISMATCH, "--model %s: width %d, the embeddings have dim %u", model_dir, d->m->cfg.C,
                     d->meta.dim);
    if (!rc) {
        snprintf(path, sizeof path, "%s/tokenizer.json", model_dir);
        rc = tokenizer_load(path, &d->tok, err);
    }
    if (!rc)
        d->q = xcalloc(d->meta.dim ? d->meta.dim : 1, sizeof *d->q);
    if (rc) {
        dense_side_free(d, S);
        db->dn = NULL;
    }
    return rc;
}

/* The query's embedding into q[dim]; *empty = 1 when it has no tokens. */
static int embed_query(dense_side *d, const char *query, size_t len, float *q, int *empty, mn_err *err)
{
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = tokenizer_encode(d->tok, query, len, 0, &ids, &n, err);
    if (rc)
        return rc;
    if (n > d->meta.max_tokens)
        n = d->meta.max_tokens;
    *empty = n == 0;
    if (n && (int)n > d->e_len) { /* (re)create the engine for this length */
        engine_free(d->e);
        d->e = NULL;
        d->e_len = 0;
        if (!(rc = engine_create(d->m, (int)n < 512 ? (int)n : 512, 1, (int)n, &d->e, err)))
            d->e_len = (int)n;
    }
    if (!rc && n) {
        const int32_t *p = ids;
        int ni = (int)n;
        rc = dense_embed_batch(d->e, &p, &ni, 1, d->meta.pooling, q, err);
    }
    free(ids);
    return rc;
}

static int hit_cmp(const void *a, const void *b)
{
    const bm25_hit *x = a, *y = b;
    return bm25_hit_before(x, y) ? -1 : bm25_hit_before(y, x) ? 1 : 0;
}

int search_dense_rescore(search_db *db, const bm25_hit *hits, size_t n, double *s64, mn_err *err)
{
    dense_side *d = db->dn;
    if (!d)
        return mn_errf(err, MN_EUSAGE, "%s: dense search needs a model (search_dense_attach)", db->dir);
    const float *q = d->q;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = hits[i].doc >> STORE_SHARD_BITS;
        if (s >= db->cfg.nshards || !d->sh[s])
            return mn_errf(err, MN_EFORMAT, "hit chunk %llu: not in this handle's shards", (unsigned long long)hits[i].doc);
        const dense_shard *sh = d->sh[s];
        const uint64_t *ids = dense_shard_ids(sh);
        size_t lo = 0, hi = dense_shard_meta(sh)->count;
        while (lo < hi) { /* ids increase: binary search */
            size_t mid = lo + (hi - lo) / 2;
            if (ids[mid] < hits[i].doc)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == dense_shard_meta(sh)->count || ids[lo] != hits[i].doc)
            return mn_errf(err, MN_EFORMAT, "shard %llu: hit chunk %llu has no embedding row",
                           (unsigned long long)s, (unsigned long long)hits[i].doc);
        const float *row = dense_shard_matrix(sh) + lo * d->meta.dim;
        double acc = 0.0;
        for (uint32_t c = 0; c < d->meta.dim; c++)
            acc += (double)q[c] * row[c];
        s64[i] = acc;
    }
    return 0;
}

int search_dense_candidates(search_db *db, const char *query, size_t len, size_t k, bm25_hit **hits, size_t *n,
                            mn_err *err)
{
    *hits = NULL;
    *n = 0;
    dense_side *d = db->dn;
    if (!d)
        return mn_errf(err, MN_EUSAGE, "%s: dense search needs a model (search_dense_attach)", db->dir);
    if (!db->nown)
        return 0;
    bm25_topk t = {0};
    int empty = 0, rc = embed_query(d, query, len, d->q, &empty, err);
    if (!rc)
        rc = bm25_topk_init(&t, empty ? 0 : k, err);
    for (uint32_t s = 0; !rc && s < db->cfg.nshards; s++) {
        if (!db->own[s])
            continue;
        if (d->ix)
            rc = ivf_search(d->ix[s], d->q, 1, d->nprobe, &t, err);
        else
            rc = dense_topk_exact(dense_shard_matrix(d->sh[s]), dense_shard_ids(d->sh[s]),
                                  dense_shard_meta(d->sh[s])->count, d->meta.dim, d->q, 1, &t, err);
    }
    if (!rc && (*n = bm25_topk_sort(&t))) {
        *hits = xmalloc(*n * sizeof **hits);
        memcpy(*hits, t.hit, *n * sizeof **hits);
    }
    bm25_topk_free(&t);
    return rc;
}

/* The candidates' scores recomputed in float64 from the stored rows and
 * re-sorted: exact and IVF search then print identical scores for the
 * same hits (sgemm and sgemv round differently in float32). */
int search_dense(search_db *db, const char *query, size_t len, size_t k, bm25_hit **hits, size_t *n, mn_err *err)
{
    int rc = search_dense_candidates(db, query, len, k, hits, n, err);
    double *s64 = rc ? NULL : xmalloc((*n ? *n : 1) * sizeof *s64);
    if (!rc && !(rc = search_dense_rescore(db, *hits, *n, s64, err))) {
        for (size_t i = 0; i < *n; i++)
            (*hits)[i].score = s64[i];
        qsort(*hits, *n, sizeof **hits, hit_cmp);
    }
    if (rc) {
        free(*hits);
        *hits = NULL;
        *n = 0;
    }
    free(s64);
    return rc;
}

void search_hits_sort(bm25_hit *hits, size_t n)
{
    qsort(hits, n, sizeof *hits, hit_cmp);
}

int search_fuse(const bm25_hit *lb, size_t nb, const bm25_hit *ld, size_t nd, search_fusion fusion, double alpha,
                size_t k, bm25_hit **hits, size_t *n, mn_err *err)
{
    *hits = NULL;
    *n = 0;
    if (!(alpha >= 0.0 && alpha <= 1.0))
        return mn_errf(err, MN_ERANGE, "hybrid: alpha %g outside [0, 1]", alpha);
    const bm25_hit *lists[2] = {lb, ld};
    size_t ns[2] = {nb, nd};
    double w[2] = {1.0 - alpha, alpha};
    return fusion == SEARCH_FUSION_RRF ? fusion_rrf(lists, ns, 2, FUSION_RRF_K, k, hits, n, err)
                                       : fusion_score(lists, ns, 2, w, k, hits, n, err);
}

int search_hybrid(search_db *db, const bm25_params *p, const char *query, size_t len, size_t k, size_t depth,
                  search_fusion fusion, double alpha, bm25_hit **hits, size_t *n, mn_err *err)
{
    *hits = NULL;
    *n = 0;
    if (!(alpha >= 0.0 && alpha <= 1.0))
        return mn_errf(err, MN_ERANGE, "hybrid: alpha %g outside [0, 1]", alpha);
    bm25_hit *lb = NULL, *ld = NULL;
    size_t nb = 0, nd = 0;
    int rc = search_bm25(db, p, query, len, depth, &lb, &nb, err);
    if (!rc)
        rc = search_dense(db, query, len, depth, &ld, &nd, err);
    if (!rc)
        rc = search_fuse(lb, nb, ld, nd, fusion, alpha, k, hits, n, err);
    free(lb);
    free(ld);
    return rc;
}
