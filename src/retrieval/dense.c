/* dense.c — embedding files, exact sgemm top-k, batched embedding; see
 * dense.h. */
#include "retrieval/dense.h"

#include <cblas.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/kvcache.h"
#include "util/hash.h"
#include "util/jsonfile.h"
#include "util/mapfile.h"
#include "util/outfile.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "embedding files are written as the host's floats and integers, which must be little-endian"
#endif

#define PATHCAP 4352

const char *dense_pooling_name(embed_pooling p)
{
    return p == EMBED_POOL_MEAN ? "mean" : "last";
}

int dense_model_hash(const char *model_dir, char out[65], mn_err *err)
{
    char path[PATHCAP];
    snprintf(path, sizeof path, "%s/config.json", model_dir);
    char *buf;
    size_t len;
    int rc = file_read_all(path, &buf, &len, err);
    if (rc)
        return rc;
    sha256_hex(buf, len, out);
    free(buf);
    return 0;
}

/* ---------------------------------------------------------------------------
 * sidecar
 */

static int get_u64(json_t *j, const char *key, const char *path, uint64_t *v, mn_err *err)
{
    json_t *x = json_object_get(j, key);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return mn_errf(err, MN_EFORMAT, "%s: key \"%s\": missing or not a non-negative integer", path, key);
    *v = (uint64_t)json_integer_value(x);
    return 0;
}

static int get_str(json_t *j, const char *key, const char *path, char *out, size_t cap, mn_err *err)
{
    json_t *x = json_object_get(j, key);
    if (!json_is_string(x) || json_string_length(x) >= cap)
        return mn_errf(err, MN_EFORMAT, "%s: key \"%s\": missing, not a string or too long", path, key);
    memcpy(out, json_string_value(x), json_string_length(x) + 1);
    return 0;
}

int dense_meta_read(const char *shard_dir, dense_meta *m, mn_err *err)
{
    char path[PATHCAP], pool[8], ih[17], ch[17];
    snprintf(path, sizeof path, "%s/%s", shard_dir, DENSE_META_FILE);
    memset(m, 0, sizeof *m);
    if (access(path, F_OK))
        return 0;
    json_t *j;
    int rc = json_load_path(path, &j, err);
    if (rc)
        return rc;
    uint64_t ver = 0, dim = 0, mt = 0;
    json_t *fmt = json_object_get(j, "format");
    if (!json_is_object(j) || !json_is_string(fmt) || strcmp(json_string_value(fmt), "mnemo-embeddings"))
        rc = mn_errf(err, MN_EFORMAT, "%s: not a mnemo embeddings sidecar (\"format\")", path);
    if (!rc && !(rc = get_u64(j, "version", path, &ver, err)) && ver != 1)
        rc = mn_errf(err, MN_EFORMAT, "%s: key \"version\": %" PRIu64 " (this build reads 1)", path, ver);
    if (!rc)
        rc = get_str(j, "model_config_sha256", path, m->model_sha256, sizeof m->model_sha256, err);
    if (!rc)
        rc = get_str(j, "model_dir", path, m->model_dir, sizeof m->model_dir, err);
    if (!rc && !(rc = get_str(j, "pooling", path, pool, sizeof pool, err))) {
        if (!strcmp(pool, "last") || !strcmp(pool, "mean"))
            m->pooling = strcmp(pool, "mean") ? EMBED_POOL_LAST : EMBED_POOL_MEAN;
        else
            rc = mn_errf(err, MN_EFORMAT, "%s: key \"pooling\": '%s' is not last or mean", path, pool);
    }
    if (!rc && !(rc = get_u64(j, "dim", path, &dim, err)) && (dim == 0 || dim > (1u << 20)))
        rc = mn_errf(err, MN_EFORMAT, "%s: key \"dim\": %" PRIu64 " outside [1, 2^20]", path, dim);
    if (!rc && !(rc = get_u64(j, "max_tokens", path, &mt, err)) && mt > UINT32_MAX)
        rc = mn_errf(err, MN_EFORMAT, "%s: key \"max_tokens\": %" PRIu64 " too large", path, mt);
    if (!rc)
        rc = get_u64(j, "count", path, &m->count, err);
    if (!rc)
        rc = get_u64(j, "truncated", path, &m->truncated, err);
    if (!rc)
        rc = get_u64(j, "empty", path, &m->empty, err);
    if (!rc)
        rc = get_u64(j, "next_local", path, &m->next_local, err);
    if (!rc && !(rc = get_str(j, "ids_hash", path, ih, sizeof ih, err))) {
        char *end;
        errno = 0;
        m->ids_hash = strtoull(ih, &end, 16);
        if (errno || *end || end == ih)
            rc = mn_errf(err, MN_EFORMAT, "%s: key \"ids_hash\": '%s' is not hex", path, ih);
    }
    if (!rc && !(rc = get_str(j, "content_hash", path, ch, sizeof ch, err))) {
        char *end;
        errno = 0;
        m->content_hash = strtoull(ch, &end, 16);
        if (errno || *end || end == ch)
            rc = mn_errf(err, MN_EFORMAT, "%s: key \"content_hash\": '%s' is not hex", path, ch);
    }
    m->dim = (uint32_t)dim;
    m->max_tokens = (uint32_t)mt;
    json_decref(j);
    return rc ? rc : 1;
}

static int meta_write(const char *shard_dir, const dense_meta *m, mn_err *err)
{
    char path[PATHCAP], ih[17], ch[17];
    snprintf(path, sizeof path, "%s/%s", shard_dir, DENSE_META_FILE);
    snprintf(ih, sizeof ih, "%016" PRIx64, m->ids_hash);
    snprintf(ch, sizeof ch, "%016" PRIx64, m->content_hash);
    json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s}", "format",
                          "mnemo-embeddings", "version", 1, "model_config_sha256", m->model_sha256, "model_dir",
                          m->model_dir, "pooling", dense_pooling_name(m->pooling), "dim", (json_int_t)m->dim,
                          "count", (json_int_t)m->count, "max_tokens", (json_int_t)m->max_tokens, "truncated",
                          (json_int_t)m->truncated, "empty", (json_int_t)m->empty, "next_local",
                          (json_int_t)m->next_local, "ids_hash", ih, "content_hash", ch);
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s)
        return mn_errf(err, MN_ENOMEM, "%s: cannot format the sidecar (model_dir not UTF-8?)", path);
    outfile o = {0};
    int rc = outfile_open(&o, path, err);
    if (!rc) {
        if (!(rc = outfile_write(&o, s, strlen(s), err)) && !(rc = outfile_write(&o, "\n", 1, err)))
            rc = outfile_commit(&o, err);
        else
            outfile_abort(&o);
    }
    free(s);
    return rc;
}

/* ---------------------------------------------------------------------------
 * writer
 */

struct dense_writer {
    char *dir;
    uint32_t dim;
    outfile mat, ids;
    int mat_open, ids_open;
    uint64_t count, last_id, content_hash;
    uint8_t *hbuf; /* every id written, for the ids hash (hash64 is not streaming) */
    size_t hlen, hcap;
};

int dense_writer_open(const char *shard_dir, uint32_t dim, dense_writer **out, mn_err *err)
{
    *out = NULL;
    char path[PATHCAP];
    snprintf(path, sizeof path, "%s/%s", shard_dir, DENSE_META_FILE);
    if (unlink(path) && errno != ENOENT)
        return mn_errf(err, MN_EIO, "%s: cannot remove: %s", path, strerror(errno));
    dense_writer *w = xcalloc(1, sizeof *w);
    w->dir = xstrdup(shard_dir);
    w->dim = dim;
    int rc;
    snprintf(path, sizeof path, "%s/%s", shard_dir, DENSE_MATRIX_FILE);
    if ((rc = outfile_open(&w->mat, path, err)))
        goto fail;
    w->mat_open = 1;
    snprintf(path, sizeof path, "%s/%s", shard_dir, DENSE_IDS_FILE);
    if ((rc = outfile_open(&w->ids, path, err)))
        goto fail;
    w->ids_open = 1;
    *out = w;
    return 0;
fail:
    dense_writer_abort(w);
    return rc;
}

int dense_writer_add(dense_writer *w, const float *x, const uint64_t *ids, size_t n, mn_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (w->count + i > 0 && ids[i] <= w->last_id)
            return mn_errf(err, MN_EUSAGE, "%s: row %" PRIu64 ": chunk id %" PRIu64 " not above %" PRIu64,
                           w->dir, w->count + i, ids[i], w->last_id);
        w->last_id = ids[i];
    }
    int rc = outfile_write(&w->mat, x, n * w->dim * sizeof(float), err);
    if (!rc)
        rc = outfile_write(&w->ids, ids, n * sizeof(uint64_t), err);
    if (rc)
        return rc;
    if (w->hlen + n * 8 > w->hcap) {
        w->hcap = (w->hlen + n * 8) * 2;
        w->hbuf = xrealloc(w->hbuf, w->hcap);
    }
    memcpy(w->hbuf + w->hlen, ids, n * 8);
    for (size_t i = 0; i < n; i++) {
        w->content_hash = hash64(&ids[i], 8, w->content_hash);
        w->content_hash = hash64(x + i * w->dim, w->dim * sizeof(float), w->content_hash);
    }
    w->hlen += n * 8;
    w->count += n;
    return 0;
}

int dense_writer_commit(dense_writer *w, const dense_meta *m, mn_err *err)
{
    dense_meta mm = *m;
    mm.dim = w->dim;
    mm.count = w->count;
    mm.ids_hash = hash64(w->hbuf, w->hlen, 0);
    mm.content_hash = w->content_hash;
    int rc = outfile_commit(&w->mat, err);
    w->mat_open = 0;
    if (!rc) {
        rc = outfile_commit(&w->ids, err);
        w->ids_open = 0;
    }
    if (!rc)
        rc = meta_write(w->dir, &mm, err);
    dense_writer_abort(w);
    return rc;
}

void dense_writer_abort(dense_writer *w)
{
    if (!w)
        return;
    if (w->mat_open)
        outfile_abort(&w->mat);
    if (w->ids_open)
        outfile_abort(&w->ids);
    free(w->hbuf);
    free(w->dir);
    free(w);
}

/* ---------------------------------------------------------------------------
 * reader
 */

struct dense_shard {
    dense_meta meta;
    mapfile mat, ids;
};

int dense_shard_open(const char *shard_dir, dense_shard **out, mn_err *err)
{
    *out = NULL;
    dense_shard *s = xcalloc(1, sizeof *s);
    char path[PATHCAP];
    int rc = dense_meta_read(shard_dir, &s->meta, err);
    if (rc == 0)
        rc = mn_errf(err, MN_EIO, "%s: no %s: not embedded (run mnemo embed --db)", shard_dir, DENSE_META_FILE);
    if (rc < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/%s", shard_dir, DENSE_MATRIX_FILE);
    if ((rc = mapfile_open(&s->mat, path, err)))
        goto fail;
    if (s->mat.size / sizeof(float) / s->meta.dim != s->meta.count ||
        s->mat.size != s->meta.count * s->meta.dim * sizeof(float)) {
        rc = mn_errf(err, MN_EFORMAT, "%s: %zu bytes, the sidecar says %" PRIu64 " rows of %u floats", path,
                     s->mat.size, s->meta.count, s->meta.dim);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/%s", shard_dir, DENSE_IDS_FILE);
    if ((rc = mapfile_open(&s->ids, path, err)))
        goto fail;
    if (s->ids.size != s->meta.count * 8) {
        rc = mn_errf(err, MN_EFORMAT, "%s: %zu bytes, the sidecar says %" PRIu64 " ids", path, s->ids.size,
                     s->meta.count);
        goto fail;
    }
    if (hash64(s->ids.data, s->ids.size, 0) != s->meta.ids_hash) {
        rc = mn_errf(err, MN_EFORMAT, "%s: ids hash differs from the sidecar's (files from different runs?)",
                     path);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    dense_shard_close(s);
    return rc;
}

void dense_shard_close(dense_shard *s)
{
    if (!s)
        return;
    mapfile_close(&s->mat);
    mapfile_close(&s->ids);
    free(s);
}

const dense_meta *dense_shard_meta(const dense_shard *s)
{
    return &s->meta;
}

const float *dense_shard_matrix(const dense_shard *s)
{
    return (const float *)s->mat.data;
}

const uint64_t *dense_shard_ids(const dense_shard *s)
{
    return (const uint64_t *)s->ids.data;
}

/* ---------------------------------------------------------------------------
 * exact top-k
 */

/* The one sgemm of this file: c[m, n] = a[m, k] . b[n, k]^T. */
static void gemm_nt(const float *a, size_t m, const float *b, size_t n, size_t k, float *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)k, b, (int)k, 0.0f,
                c, (int)n);
}

int dense_topk_exact(const float *x, const uint64_t *ids, size_t n, size_t dim, const float *q, size_t Q,
                     bm25_topk *topk, mn_err *err)
{
    if (!n || !Q)
        return 0;
    size_t B = n < DENSE_BLOCK_ROWS ? n : DENSE_BLOCK_ROWS;
    float *s = malloc(Q * B * sizeof *s); /* [Q, B] scores of one block */
    if (!s)
        return mn_errf(err, MN_ENOMEM, "dense search: %zu x %zu score block", Q, B);
    for (size_t r0 = 0; r0 < n; r0 += B) {
        size_t nb = n - r0 < B ? n - r0 : B;
        gemm_nt(q, Q, x + r0 * dim, nb, dim, s);
        for (size_t qi = 0; qi < Q; qi++) {
            const float *row = s + qi * nb;
            bm25_topk *t = &topk[qi];
            for (size_t r = 0; r < nb; r++) {
                /* cheap reject before the heap: worse than the worst kept */
                if (t->n == t->k && t->k && (double)row[r] < t->hit[0].score)
                    continue;
                bm25_topk_push(t, ids[r0 + r], (double)row[r]);
            }
        }
    }
    free(s);
    return 0;
}

/* ---------------------------------------------------------------------------
 * batched embedding
 */

int dense_embed_batch(engine *e, const int32_t *const *ids, const int *n, int B, embed_pooling pool, float *out,
                      mn_err *err)
{
    int C = engine_model(e)->cfg.C;
    engine_seg *seg = xmalloc((size_t)(B ? B : 1) * sizeof *seg);
    size_t T = 0;
    int ns = 0;
    for (int b = 0; b < B; b++) {
        memset(out + (size_t)b * C, 0, (size_t)C * sizeof *out);
        if (n[b] > 0) {
            kvcache_set_len(engine_kv(e), b, 0);
            seg[ns++] = (engine_seg){b, n[b], ids[b]};
            T += (size_t)n[b];
        }
    }
    if (!ns) {
        free(seg);
        return 0;
    }
    float *h = malloc(T * C * sizeof *h); /* [T, C] final hidden states, segments in order */
    if (!h) {
        free(seg);
        return mn_errf(err, MN_ENOMEM, "embed: hidden states of %zu tokens need %.1f MiB", T,
                       (double)T * C * sizeof(float) / (1024.0 * 1024.0));
    }
    int rc = engine_forward(e, seg, ns, ENGINE_HIDDEN_FINAL, NULL, h, err);
    double *acc = xcalloc((size_t)C, sizeof *acc); /* [C] */
    size_t t = 0;
    for (int i = 0; !rc && i < ns; i++) {
        int len = seg[i].n, t0 = pool == EMBED_POOL_LAST ? len - 1 : 0;
        memset(acc, 0, (size_t)C * sizeof *acc);
        for (int u = t0; u < len; u++)
            for (int c = 0; c < C; c++)
                acc[c] += h[(t + (size_t)u) * C + c];
        double norm = 0.0;
        for (int c = 0; c < C; c++) {
            acc[c] /= len - t0;
            norm += acc[c] * acc[c];
        }
        norm = sqrt(norm);
        float *o = out + (size_t)seg[i].slot * C;
        for (int c = 0; c < C; c++)
            o[c] = (float)(norm > 0.0 ? acc[c] / norm : 0.0);
        t += (size_t)len;
    }
    free(acc);
    free(h);
    free(seg);
    return rc;
}
