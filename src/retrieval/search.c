/* search.c — BM25 over all shards; see search.h. */
#include "retrieval/search.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "retrieval/analyzer.h"
#include "retrieval/postings.h"

struct search_db {
    char *dir;
    db_config cfg;
    analyzer_config an;
    store **sh;
    store_meta *meta;
    bm25_stats st;
    analyzer_tokens toks;
};

void search_db_close(search_db *db)
{
    if (!db)
        return;
    for (uint32_t s = 0; db->sh && s < db->cfg.nshards; s++)
        store_close(db->sh[s]);
    free(db->sh);
    free(db->meta);
    free(db->dir);
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
    *out = NULL;
    search_db *db = xcalloc(1, sizeof *db);
    db->dir = xstrdup(dir);
    analyzer_tokens_init(&db->toks);
    char path[PATH_MAX + 32];
    store *s0 = NULL;
    int rc;
    struct stat st;
    db_shard_path(dir, 0, path, sizeof path);
    if (stat(path, &st)) {
        rc = mn_errf(err, MN_EIO, "%s: not a mnemo DB (no shard-000)", dir);
        goto fail;
    }
    if ((rc = store_open(path, 1, &s0, err)) || (rc = store_begin(s0, 0, err)) ||
        (rc = read_config(s0, path, &db->cfg, err)))
        goto fail;
    if ((rc = analyzer_config_parse(db->cfg.analyzer, path, &db->an, err)))
        goto fail;
    db->sh = xcalloc(db->cfg.nshards, sizeof *db->sh);
    db->meta = xcalloc(db->cfg.nshards, sizeof *db->meta);
    db->sh[0] = s0;
    s0 = NULL;
    for (uint32_t i = 0; i < db->cfg.nshards; i++) {
        db_shard_path(dir, i, path, sizeof path);
        if (i > 0) {
            if (stat(path, &st)) {
                rc = mn_errf(err, MN_EIO, "%s: missing (the DB has %u shards)", path, db->cfg.nshards);
                goto fail;
            }
            db_config c;
            if ((rc = store_open(path, 1, &db->sh[i], err)) || (rc = store_begin(db->sh[i], 0, err)) ||
                (rc = read_config(db->sh[i], path, &c, err)) || (rc = db_config_check(&db->cfg, &c, path, err)))
                goto fail;
        }
        if ((rc = store_meta_get(db->sh[i], &db->meta[i], err)) < 0)
            goto fail;
        if (db->meta[i].shard != i || db->meta[i].nshards != db->cfg.nshards) {
            rc = mn_errf(err, MN_EFORMAT, "%s: meta says shard %llu of %llu", path,
                         (unsigned long long)db->meta[i].shard, (unsigned long long)db->meta[i].nshards);
            goto fail;
        }
        db->st.N += db->meta[i].ndocs;
        db->st.total_len += db->meta[i].total_len;
    }
    *out = db;
    return 0;
fail:
    store_close(s0);
    search_db_close(db);
    return rc;
}

const db_config *search_db_config(const search_db *db)
{
    return &db->cfg;
}

const store_meta *search_db_meta(const search_db *db, uint32_t s)
{
    return &db->meta[s];
}

bm25_stats search_db_stats(const search_db *db)
{
    return db->st;
}

int search_db_chunk(search_db *db, uint64_t id, store_chunk *c, mn_err *err)
{
    uint64_t s = id >> STORE_SHARD_BITS;
    if (s >= db->cfg.nshards) {
        memset(c, 0, sizeof *c);
        return 0;
    }
    return store_chunk_get(db->sh[s], id, c, err);
}

typedef struct qterm {
    const char *term;
    size_t len;
    uint32_t qtf;
    uint64_t df;
} qterm;

static int add_segment(void *ctx, uint32_t seg, const void *buf, size_t n, mn_err *err)
{
    (void)seg;
    return postings_writer_add_encoded(ctx, buf, n, "postings segment", err);
}

static int doclen_cb(void *ctx, uint64_t doc, uint32_t *dl, mn_err *err)
{
    int rc = store_doclen_get(ctx, doc, dl, err);
    if (rc == 0)
        return mn_errf(err, MN_EFORMAT, "%s: chunk %llu is in the postings but has no length",
                       store_path(ctx), (unsigned long long)doc);
    return rc < 0 ? rc : 0;
}

int search_bm25(search_db *db, const bm25_params *p, const char *query, size_t len, size_t k, bm25_hit **hits,
                size_t *n, mn_err *err)
{
    *hits = NULL;
    *n = 0;
    uint32_t S = db->cfg.nshards;
    qterm *qt = NULL;
    size_t nq = 0;
    postings_writer *w = NULL;
    postings_iter *it = NULL;
    bm25_query_term *bt = NULL;
    bm25_topk topk = {0};
    int rc;
    if ((rc = bm25_params_check(p, err)) || (rc = analyzer_analyze(&db->an, query, len, "query", &db->toks, err)))
        return rc;
    /* distinct terms in order of first occurrence, with their counts */
    qt = xmalloc((db->toks.n ? db->toks.n : 1) * sizeof *qt);
    for (size_t i = 0; i < db->toks.n; i++) {
        const char *t = db->toks.terms + db->toks.tok[i].term_off;
        size_t tl = db->toks.tok[i].term_len, j = 0;
        while (j < nq && !(qt[j].len == tl && !memcmp(qt[j].term, t, tl)))
            j++;
        if (j == nq)
            qt[nq++] = (qterm){t, tl, 0, 0};
        qt[j].qtf++;
    }
    if ((rc = bm25_topk_init(&topk, k, err)))
        goto done;
    /* every shard's list of every term, then the collection-wide df */
    w = xcalloc(S * nq + 1, sizeof *w);
    for (uint32_t s = 0; s < S; s++)
        for (size_t t = 0; t < nq; t++) {
            postings_writer *pw = &w[s * nq + t];
            postings_writer_init(pw);
            if ((rc = store_postings_each(db->sh[s], qt[t].term, qt[t].len, add_segment, pw, err))) {
                mn_err_prefix(err, "%s: term \"%.*s\": ", store_path(db->sh[s]), (int)qt[t].len, qt[t].term);
                goto done;
            }
            qt[t].df += pw->count;
        }
    it = xcalloc(nq + 1, sizeof *it);
    bt = xcalloc(nq + 1, sizeof *bt);
    for (uint32_t s = 0; s < S; s++) {
        size_t m = 0;
        for (size_t t = 0; t < nq; t++) {
            postings_writer *pw = &w[s * nq + t];
            if (!pw->count)
                continue;
            size_t blen;
            const uint8_t *buf = postings_writer_finish(pw, &blen);
            if ((rc = postings_iter_init(&it[m], buf, blen, store_path(db->sh[s]), err)))
                goto done;
            bt[m] = (bm25_query_term){&it[m], qt[t].df, qt[t].qtf};
            m++;
        }
        if (m && (rc = bm25_search(p, &db->st, bt, m, doclen_cb, db->sh[s], &topk, err)))
            goto done;
    }
    *n = bm25_topk_sort(&topk);
    if (*n) {
        *hits = xmalloc(*n * sizeof **hits);
        memcpy(*hits, topk.hit, *n * sizeof **hits);
    }
done:
    for (size_t i = 0; w && i < (size_t)S * nq; i++)
        postings_writer_free(&w[i]);
    free(w);
    free(it);
    free(bt);
    free(qt);
    bm25_topk_free(&topk);
    return rc;
}
