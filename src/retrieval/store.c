/* store.c — one LMDB shard; see store.h. */
#include "retrieval/store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/le.h" /* le_put64, le_get64: values are little-endian */

struct store {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi chunks, dedup, postings, doclen, meta;
    int readonly;
    char *path;
};

_Static_assert(sizeof(store_meta) == STORE_META_WORDS * sizeof(uint64_t), "store_meta is u64 words");

/* 64 GiB of address space, sparse: the file grows with the data. */
#define STORE_MAPSIZE ((size_t)64 << 30)

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int lmdb_fail(store *s, mn_err *err, int rc, const char *what)
{
    return mn_errf(err, MN_EIO, "%s: %s: %s", s->path, what, mdb_strerror(rc));
}

static int need_txn(store *s, int write, mn_err *err)
{
    if (!s->txn)
        return mn_errf(err, MN_EUSAGE, "%s: no open transaction", s->path);
    if (write && s->readonly)
        return mn_errf(err, MN_EUSAGE, "%s: store opened read-only", s->path);
    return 0;
}

const char *store_path(const store *s)
{
    return s->path;
}

int store_open(const char *dir, int mode, store **out, mn_err *err)
{
    int readonly = mode & STORE_RDONLY;
    *out = NULL;
    store *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(dir);
    s->readonly = readonly;
    int rc;
    if (!readonly && mkdir(dir, 0777) && errno != EEXIST) {
        rc = mn_errf(err, MN_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
        goto fail;
    }
    if ((rc = mdb_env_create(&s->env))) {
        rc = lmdb_fail(s, err, rc, "mdb_env_create");
        goto fail;
    }
    size_t mapsize = sizeof(size_t) >= 8 ? STORE_MAPSIZE : ((size_t)1 << 30);
    mdb_env_set_mapsize(s->env, mapsize);
    mdb_env_set_maxdbs(s->env, 8);
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        rc = mn_errf(err, MN_EIO, "%s: not a shard directory", dir);
        goto fail;
    }
    if ((rc = mdb_env_open(s->env, dir, readonly ? MDB_RDONLY | MDB_NORDAHEAD | (mode & STORE_NOLOCK ? MDB_NOLOCK : 0) : 0, 0666))) {
        rc = lmdb_fail(s, err, rc, "cannot open LMDB environment");
        goto fail;
    }
    MDB_txn *txn;
    if ((rc = mdb_txn_begin(s->env, NULL, readonly ? MDB_RDONLY : 0, &txn))) {
        rc = lmdb_fail(s, err, rc, "mdb_txn_begin");
        goto fail;
    }
    static const char *names[5] = {"chunks", "dedup", "postings", "doclen", "meta"};
    MDB_dbi *dbis[5] = {&s->chunks, &s->dedup, &s->postings, &s->doclen, &s->meta};
    for (int i = 0; i < 5; i++) {
        if ((rc = mdb_dbi_open(txn, names[i], readonly ? 0 : MDB_CREATE, dbis[i]))) {
            mdb_txn_abort(txn);
            rc = rc == MDB_NOTFOUND ? mn_errf(err, MN_EFORMAT, "%s: not a mnemo shard: no '%s' table", dir, names[i])
                                    : lmdb_fail(s, err, rc, "mdb_dbi_open");
            goto fail;
        }
    }
    if ((rc = mdb_txn_commit(txn))) {
        rc = lmdb_fail(s, err, rc, "mdb_txn_commit");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    store_close(s);
    return rc;
}

void store_close(store *s)
{
    if (!s)
        return;
    store_abort(s);
    if (s->env)
        mdb_env_close(s->env);
    free(s->path);
    free(s);
}

int store_begin(store *s, int write, mn_err *err)
{
    if (s->txn)
        return mn_errf(err, MN_EUSAGE, "%s: a transaction is already open", s->path);
    if (write && s->readonly)
        return mn_errf(err, MN_EUSAGE, "%s: store opened read-only", s->path);
    int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &s->txn);
    if (rc) {
        s->txn = NULL;
        return lmdb_fail(s, err, rc, "mdb_txn_begin");
    }
    return 0;
}

int store_commit(store *s, mn_err *err)
{
    int rc;
    if ((rc = need_txn(s, 0, err)))
        return rc;
    rc = mdb_txn_commit(s->txn);
    s->txn = NULL;
    return rc ? lmdb_fail(s, err, rc, "commit") : 0;
}

void store_abort(store *s)
{
    if (s->txn)
        mdb_txn_abort(s->txn);
    s->txn = NULL;
}

static int get(store *s, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v, const char *what, mn_err *err)
{
    int rc = need_txn(s, 0, err);
    if (rc)
        return rc;
    MDB_val key = {klen, (void *)k};
    rc = mdb_get(s->txn, dbi, &key, v);
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc ? lmdb_fail(s, err, rc, what) : 1;
}

static int put(store *s, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen, const char *what,
               mn_err *err)
{
    int rc = need_txn(s, 1, err);
    if (rc)
        return rc;
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    rc = mdb_put(s->txn, dbi, &key, &val, 0);
    return rc ? lmdb_fail(s, err, rc, what) : 0;
}

int store_meta_get(store *s, store_meta *m, mn_err *err)
{
    MDB_val v;
    memset(m, 0, sizeof *m);
    int rc = get(s, s->meta, "stats", 5, &v, "meta", err);
    if (rc <= 0)
        return rc;
    if (v.mv_size != sizeof *m)
        return mn_errf(err, MN_EFORMAT, "%s: meta 'stats': %zu bytes, expected %zu", s->path, v.mv_size,
                       sizeof *m);
    uint64_t w[STORE_META_WORDS];
    for (int i = 0; i < STORE_META_WORDS; i++)
        w[i] = le_get64((const uint8_t *)v.mv_data + 8 * i);
    memcpy(m, w, sizeof w);
    if (m->version != STORE_VERSION)
        return mn_errf(err, MN_EFORMAT, "%s: meta 'stats': version %llu, this build reads %d", s->path,
                       (unsigned long long)m->version, STORE_VERSION);
    return 1;
}

int store_meta_put(store *s, const store_meta *m, mn_err *err)
{
    uint64_t w[STORE_META_WORDS];
    uint8_t buf[sizeof w];
    memcpy(w, m, sizeof w);
    w[0] = STORE_VERSION;
    for (int i = 0; i < STORE_META_WORDS; i++)
        le_put64(buf + 8 * i, w[i]);
    return put(s, s->meta, "stats", 5, buf, sizeof buf, "meta", err);
}

int store_kv_get(store *s, const char *key, const char **val, size_t *len, mn_err *err)
{
    MDB_val v;
    *val = NULL;
    *len = 0;
    int rc = get(s, s->meta, key, strlen(key), &v, "meta", err);
    if (rc == 1) {
        *val = v.mv_data;
        *len = v.mv_size;
    }
    return rc;
}

int store_kv_put(store *s, const char *key, const void *val, size_t len, mn_err *err)
{
    return put(s, s->meta, key, strlen(key), val, len, "meta", err);
}

#define CHUNK_WORDS 8

int store_chunk_put(store *s, uint64_t id, const store_chunk *c, mn_err *err)
{
    const char *str[4] = {c->text, c->doc_id, c->source, c->member};
    size_t len[4] = {c->text_len, c->doc_id_len, c->source_len, c->member_len};
    size_t total = CHUNK_WORDS * 8;
    for (int i = 0; i < 4; i++) {
        if (len[i] >= STORE_MEMBER_NONE)
            return mn_errf(err, MN_ERANGE, "%s: chunk %llu: a string of %zu bytes is over 4 GiB", s->path,
                           (unsigned long long)id, len[i]);
        total += 4 + (str[i] ? len[i] : 0);
    }
    uint8_t *buf = malloc(total);
    if (!buf)
        return mn_errf(err, MN_ENOMEM, "%s: chunk %llu: out of memory (%zu bytes)", s->path,
                       (unsigned long long)id, total);
    uint64_t w[CHUNK_WORDS] = {c->input, c->doc, c->line, c->record, c->offset, c->index, 0, c->kind};
    size_t o = 0;
    for (int i = 0; i < CHUNK_WORDS; i++, o += 8)
        le_put64(buf + o, w[i]);
    for (int i = 0; i < 4; i++) {
        uint32_t l = str[i] ? (uint32_t)len[i] : STORE_MEMBER_NONE;
        for (int b = 0; b < 4; b++)
            buf[o++] = (uint8_t)(l >> (8 * b));
        if (str[i] && len[i]) {
            memcpy(buf + o, str[i], len[i]);
            o += len[i];
        }
    }
    uint8_t key[8];
    put_be64(key, id);
    int rc = put(s, s->chunks, key, 8, buf, o, "chunks", err);
    free(buf);
    return rc;
}

/* Parse a chunk record p[0..n) of chunk id into *c (strings borrowed from p). */
static int chunk_parse(store *s, uint64_t id, const uint8_t *p, size_t n, store_chunk *c, mn_err *err)
{
    size_t o = CHUNK_WORDS * 8;
    memset(c, 0, sizeof *c);
    if (n < o)
        return mn_errf(err, MN_EFORMAT, "%s: chunk %llu: record of %zu bytes is truncated", s->path,
                       (unsigned long long)id, n);
    uint64_t w[CHUNK_WORDS];
    for (int i = 0; i < CHUNK_WORDS; i++)
        w[i] = le_get64(p + 8 * i);
    c->input = w[0], c->doc = w[1], c->line = w[2], c->record = w[3], c->offset = w[4], c->index = w[5];
    c->kind = w[7];
    const char **str[4] = {&c->text, &c->doc_id, &c->source, &c->member};
    size_t *len[4] = {&c->text_len, &c->doc_id_len, &c->source_len, &c->member_len};
    for (int i = 0; i < 4; i++) {
        if (n - o < 4)
            return mn_errf(err, MN_EFORMAT, "%s: chunk %llu: byte %zu: record truncated", s->path,
                           (unsigned long long)id, o);
        uint32_t l = (uint32_t)p[o] | (uint32_t)p[o + 1] << 8 | (uint32_t)p[o + 2] << 16 | (uint32_t)p[o + 3] << 24;
        o += 4;
        if (l == STORE_MEMBER_NONE) {
            *str[i] = NULL;
            *len[i] = 0;
            continue;
        }
        if (l > n - o)
            return mn_errf(err, MN_EFORMAT, "%s: chunk %llu: byte %zu: string of %u bytes runs past the record",
                           s->path, (unsigned long long)id, o, l);
        *str[i] = (const char *)p + o;
        *len[i] = l;
        o += l;
    }
    if (o != n || !c->text)
        return mn_errf(err, MN_EFORMAT, "%s: chunk %llu: byte %zu: malformed record", s->path,
                       (unsigned long long)id, o);
    return 1;
}

int store_chunk_get(store *s, uint64_t id, store_chunk *c, mn_err *err)
{
    uint8_t key[8];
    MDB_val v;
    memset(c, 0, sizeof *c);
    put_be64(key, id);
    int rc = get(s, s->chunks, key, 8, &v, "chunks", err);
    if (rc <= 0)
        return rc;
    return chunk_parse(s, id, v.mv_data, v.mv_size, c, err);
}

int store_dedup_get(store *s, uint64_t hash, uint64_t *id, mn_err *err)
{
    uint8_t key[8];
    MDB_val v;
    put_be64(key, hash);
    int rc = get(s, s->dedup, key, 8, &v, "dedup", err);
    if (rc <= 0)
        return rc;
    if (v.mv_size != 8)
        return mn_errf(err, MN_EFORMAT, "%s: dedup entry of %zu bytes", s->path, v.mv_size);
    *id = get_be64(v.mv_data);
    return 1;
}

int store_dedup_put(store *s, uint64_t hash, uint64_t id, mn_err *err)
{
    uint8_t key[8], val[8];
    put_be64(key, hash);
    put_be64(val, id);
    return put(s, s->dedup, key, 8, val, 8, "dedup", err);
}

int store_doclen_get(store *s, uint64_t id, uint32_t *len, mn_err *err)
{
    uint8_t key[8];
    MDB_val v;
    put_be64(key, id);
    int rc = get(s, s->doclen, key, 8, &v, "doclen", err);
    if (rc <= 0)
        return rc;
    if (v.mv_size != 4)
        return mn_errf(err, MN_EFORMAT, "%s: doclen of chunk %llu: %zu bytes", s->path, (unsigned long long)id,
                       v.mv_size);
    const uint8_t *p = v.mv_data;
    *len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 1;
}

int store_doclen_put(store *s, uint64_t id, uint32_t len, mn_err *err)
{
    uint8_t key[8], val[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    put_be64(key, id);
    return put(s, s->doclen, key, 8, val, 4, "doclen", err);
}

int store_doclen_load(store *s, uint64_t shard, uint64_t n, uint32_t **out, mn_err *err)
{
    int rc;
    *out = NULL;
    if ((rc = need_txn(s, 0, err)))
        return rc;
    MDB_stat ms;
    if ((rc = mdb_stat(s->txn, s->chunks, &ms)))
        return lmdb_fail(s, err, rc, "chunks stat");
    if (n > ms.ms_entries)
        return mn_errf(err, MN_EFORMAT, "%s: meta says %llu chunk ids but %zu chunks are stored", s->path,
                       (unsigned long long)n, ms.ms_entries);
    uint32_t *lens = malloc((n ? n : 1) * sizeof *lens);
    if (!lens)
        return mn_errf(err, MN_ENOMEM, "%s: out of memory for %llu chunk lengths", s->path, (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++)
        lens[i] = STORE_DOCLEN_NONE;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(s->txn, s->doclen, &cur))) {
        free(lens);
        return lmdb_fail(s, err, rc, "doclen cursor");
    }
    MDB_val k, v;
    const uint64_t mask = ((uint64_t)1 << STORE_SHARD_BITS) - 1;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || v.mv_size != 4) {
            rc = mn_errf(err, MN_EFORMAT, "%s: doclen entry with a %zu-byte key and a %zu-byte value", s->path,
                         k.mv_size, v.mv_size);
            goto done;
        }
        uint64_t id = get_be64(k.mv_data), local = id & mask;
        if (id >> STORE_SHARD_BITS != shard || local >= n) {
            rc = mn_errf(err, MN_EFORMAT, "%s: doclen of chunk %llu: not a chunk of shard %llu below local %llu",
                         s->path, (unsigned long long)id, (unsigned long long)shard, (unsigned long long)n);
            goto done;
        }
        const uint8_t *p = v.mv_data;
        uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (len == STORE_DOCLEN_NONE) {
            rc = mn_errf(err, MN_EFORMAT, "%s: doclen of chunk %llu: %u terms", s->path, (unsigned long long)id,
                         len);
            goto done;
        }
        lens[local] = len;
    }
    rc = rc == MDB_NOTFOUND || rc == 0 ? 0 : lmdb_fail(s, err, rc, "doclen cursor");
done:
    mdb_cursor_close(cur);
    if (rc)
        free(lens);
    else
        *out = lens;
    return rc;
}

static int term_check(store *s, const char *term, size_t len, mn_err *err)
{
    if (len == 0 || len > 255 || memchr(term, 0, len))
        return mn_errf(err, MN_ERANGE, "%s: postings: bad term of %zu bytes", s->path, len);
    return 0;
}

int store_postings_put(store *s, const char *term, size_t len, uint32_t seg, const void *buf, size_t n,
                       mn_err *err)
{
    int rc = term_check(s, term, len, err);
    if (rc)
        return rc;
    uint8_t key[261];
    memcpy(key, term, len);
    key[len] = 0;
    for (int i = 0; i < 4; i++)
        key[len + 1 + i] = (uint8_t)(seg >> (24 - 8 * i));
    return put(s, s->postings, key, len + 5, buf, n, "postings", err);
}

int store_postings_each(store *s, const char *term, size_t len, store_segment_fn fn, void *ctx, mn_err *err)
{
    int rc;
    if ((rc = term_check(s, term, len, err)) || (rc = need_txn(s, 0, err)))
        return rc;
    uint8_t key[261];
    memcpy(key, term, len);
    key[len] = 0;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(s->txn, s->postings, &cur)))
        return lmdb_fail(s, err, rc, "postings cursor");
    MDB_val k = {len + 1, key}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= len + 1 || memcmp(k.mv_data, key, len + 1))
            break;
        if (k.mv_size != len + 5) {
            rc = mn_errf(err, MN_EFORMAT, "%s: postings key of %zu bytes for a term of %zu", s->path, k.mv_size,
                         len);
            goto done;
        }
        const uint8_t *kp = k.mv_data;
        uint32_t seg = (uint32_t)kp[len + 1] << 24 | (uint32_t)kp[len + 2] << 16 | (uint32_t)kp[len + 3] << 8 | kp[len + 4];
        if ((rc = fn(ctx, seg, v.mv_data, v.mv_size, err)))
            goto done;
    }
    rc = rc == MDB_NOTFOUND || rc == 0 ? 0 : lmdb_fail(s, err, rc, "postings cursor");
done:
    mdb_cursor_close(cur);
    return rc;
}

static size_t postings_key(uint8_t key[261], const char *term, size_t len, uint32_t seg)
{
    memcpy(key, term, len);
    key[len] = 0;
    for (int i = 0; i < 4; i++)
        key[len + 1 + i] = (uint8_t)(seg >> (24 - 8 * i));
    return len + 5;
}

int store_postings_last(store *s, const char *term, size_t len, uint32_t *seg, const void **buf, size_t *n,
                        mn_err *err)
{
    int rc;
    if ((rc = term_check(s, term, len, err)) || (rc = need_txn(s, 0, err)))
        return rc;
    uint8_t key[261];
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(s->txn, s->postings, &cur)))
        return lmdb_fail(s, err, rc, "postings cursor");
    MDB_val k = {postings_key(key, term, len, UINT32_MAX), key}, v;
    /* the term's last key is the one before the first key > term 0x00 FFFFFFFF */
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == len + 5 && !memcmp(k.mv_data, key, len + 5))
        rc = 0; /* segment 0xFFFFFFFF itself */
    else if (rc == 0 || rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
    if (rc == MDB_NOTFOUND) {
        rc = 0;
    } else if (rc) {
        rc = lmdb_fail(s, err, rc, "postings cursor");
    } else if (k.mv_size == len + 5 && !memcmp(k.mv_data, key, len + 1)) {
        const uint8_t *kp = k.mv_data;
        *seg = (uint32_t)kp[len + 1] << 24 | (uint32_t)kp[len + 2] << 16 | (uint32_t)kp[len + 3] << 8 | kp[len + 4];
        *buf = v.mv_data;
        *n = v.mv_size;
        rc = 1;
    }
    mdb_cursor_close(cur);
    return rc;
}

int store_postings_del(store *s, const char *term, size_t len, uint32_t seg, mn_err *err)
{
    int rc;
    if ((rc = term_check(s, term, len, err)) || (rc = need_txn(s, 1, err)))
        return rc;
    uint8_t key[261];
    MDB_val k = {postings_key(key, term, len, seg), key};
    rc = mdb_del(s->txn, s->postings, &k, NULL);
    return rc && rc != MDB_NOTFOUND ? lmdb_fail(s, err, rc, "postings delete") : 0;
}

/* ---- whole-table iteration (stats --deep) ---- */

/* Walk every entry of table dbi in key order, calling each(ctx, k, v). */
typedef int (*entry_fn)(store *s, void *ctx, const MDB_val *k, const MDB_val *v, mn_err *err);

static int each_entry(store *s, MDB_dbi dbi, const char *what, entry_fn each, void *ctx, mn_err *err)
{
    int rc;
    if ((rc = need_txn(s, 0, err)))
        return rc;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(s->txn, dbi, &cur)))
        return lmdb_fail(s, err, rc, what);
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if ((rc = each(s, ctx, &k, &v, err)))
            break;
    if (rc == MDB_NOTFOUND)
        rc = 0;
    else if (rc > 0)
        rc = lmdb_fail(s, err, rc, what);
    mdb_cursor_close(cur);
    return rc;
}

typedef struct chunk_walk {
    store_chunk_fn fn;
    void *ctx;
} chunk_walk;

static int chunk_entry(store *s, void *ctx, const MDB_val *k, const MDB_val *v, mn_err *err)
{
    chunk_walk *w = ctx;
    if (k->mv_size != 8)
        return mn_errf(err, MN_EFORMAT, "%s: chunks: a key of %zu bytes", s->path, k->mv_size);
    uint64_t id = get_be64(k->mv_data);
    store_chunk c;
    int rc = chunk_parse(s, id, v->mv_data, v->mv_size, &c, err);
    return rc < 0 ? rc : w->fn(w->ctx, id, &c, err);
}

int store_chunk_each(store *s, store_chunk_fn fn, void *ctx, mn_err *err)
{
    chunk_walk w = {fn, ctx};
    return each_entry(s, s->chunks, "chunks cursor", chunk_entry, &w, err);
}

typedef struct pair_walk {
    store_pair_fn fn;
    void *ctx;
    size_t vsize;
    const char *table;
} pair_walk;

static int pair_entry(store *s, void *ctx, const MDB_val *k, const MDB_val *v, mn_err *err)
{
    pair_walk *w = ctx;
    if (k->mv_size != 8 || v->mv_size != w->vsize)
        return mn_errf(err, MN_EFORMAT, "%s: %s: an entry with a %zu-byte key and a %zu-byte value", s->path,
                       w->table, k->mv_size, v->mv_size);
    const uint8_t *p = v->mv_data;
    uint64_t val = w->vsize == 8 ? get_be64(p)
                                 : (uint64_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                              (uint32_t)p[3] << 24);
    return w->fn(w->ctx, get_be64(k->mv_data), val, err);
}

int store_doclen_each(store *s, store_pair_fn fn, void *ctx, mn_err *err)
{
    pair_walk w = {fn, ctx, 4, "doclen"};
    return each_entry(s, s->doclen, "doclen cursor", pair_entry, &w, err);
}

int store_dedup_each(store *s, store_pair_fn fn, void *ctx, mn_err *err)
{
    pair_walk w = {fn, ctx, 8, "dedup"};
    return each_entry(s, s->dedup, "dedup cursor", pair_entry, &w, err);
}

typedef struct term_walk {
    store_term_fn fn;
    void *ctx;
} term_walk;

static int term_entry(store *s, void *ctx, const MDB_val *k, const MDB_val *v, mn_err *err)
{
    term_walk *w = ctx;
    const uint8_t *kp = k->mv_data;
    size_t len = k->mv_size < 5 ? 0 : k->mv_size - 5;
    if (len == 0 || len > 255 || kp[len] != 0 || memchr(kp, 0, len))
        return mn_errf(err, MN_EFORMAT, "%s: postings: a malformed key of %zu bytes", s->path, k->mv_size);
    uint32_t seg = (uint32_t)kp[len + 1] << 24 | (uint32_t)kp[len + 2] << 16 | (uint32_t)kp[len + 3] << 8 | kp[len + 4];
    return w->fn(w->ctx, (const char *)kp, len, seg, v->mv_data, v->mv_size, err);
}

int store_postings_scan(store *s, store_term_fn fn, void *ctx, mn_err *err)
{
    term_walk w = {fn, ctx};
    return each_entry(s, s->postings, "postings cursor", term_entry, &w, err);
}
