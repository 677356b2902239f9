/* manifest.c — DB configuration and manifest.json; see manifest.h. */
#include "retrieval/manifest.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mapfile.h"
#include "util/outfile.h"

char *db_config_encode(const db_config *c)
{
    size_t cap = 512 + 2 * DB_FIELD_MAX;
    char *s = xmalloc(cap);
    snprintf(s, cap, "shards=%u\nanalyzer=%s\ntokenizer=%s\nchunk_size=%u\noverlap=%u\ntext_field=%s\nid_field=%s\n",
             c->nshards, c->analyzer, c->tokenizer, c->chunk_size, c->overlap, c->text_field, c->id_field);
    return s;
}

static int copy_field(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap)
        return -1;
    memcpy(dst, v, n);
    dst[n] = 0;
    return 0;
}

static int parse_u32(const char *v, size_t n, uint32_t *out)
{
    uint64_t x = 0;
    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > UINT32_MAX)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

int db_config_decode(const char *s, size_t len, const char *where, db_config *c, mn_err *err)
{
    memset(c, 0, sizeof *c);
    int seen = 0;
    for (size_t i = 0, line = 1; i < len; line++) {
        const char *nl = memchr(s + i, '\n', len - i);
        if (!nl)
            return mn_errf(err, MN_EFORMAT, "%s: config line %zu: no newline", where, line);
        size_t n = (size_t)(nl - (s + i));
        const char *eq = memchr(s + i, '=', n);
        if (!eq)
            return mn_errf(err, MN_EFORMAT, "%s: config line %zu: no '='", where, line);
        size_t kl = (size_t)(eq - (s + i)), vl = n - kl - 1;
        const char *k = s + i, *v = eq + 1;
        int bad = 0;
#define KEY(name) (kl == strlen(name) && !memcmp(k, name, kl))
        if (KEY("shards"))
            bad = parse_u32(v, vl, &c->nshards), seen |= 1;
        else if (KEY("analyzer"))
            bad = copy_field(c->analyzer, sizeof c->analyzer, v, vl), seen |= 2;
        else if (KEY("tokenizer"))
            bad = copy_field(c->tokenizer, sizeof c->tokenizer, v, vl), seen |= 4;
        else if (KEY("chunk_size"))
            bad = parse_u32(v, vl, &c->chunk_size), seen |= 8;
        else if (KEY("overlap"))
            bad = parse_u32(v, vl, &c->overlap), seen |= 16;
        else if (KEY("text_field"))
            bad = copy_field(c->text_field, sizeof c->text_field, v, vl), seen |= 32;
        else if (KEY("id_field"))
            bad = copy_field(c->id_field, sizeof c->id_field, v, vl), seen |= 64;
        else
            return mn_errf(err, MN_EFORMAT, "%s: config line %zu: unknown key '%.*s'", where, line, (int)kl, k);
#undef KEY
        if (bad)
            return mn_errf(err, MN_EFORMAT, "%s: config line %zu: bad value for '%.*s'", where, line, (int)kl, k);
        i += n + 1;
    }
    if (seen != 127 || c->nshards < 1 || c->nshards > DB_MAX_SHARDS)
        return mn_errf(err, MN_EFORMAT, "%s: config: incomplete or bad shard count", where);
    return 0;
}

int db_config_check(const db_config *b, const db_config *a, const char *dir, mn_err *err)
{
    const char *fmt = "%s: the DB was built with %s '%s'; this run asks for '%s'";
    if (a->nshards && a->nshards != b->nshards)
        return mn_errf(err, MN_EMISMATCH, "%s: the DB was built with --shards %u; this run asks for %u", dir,
                       b->nshards, a->nshards);
    if (strcmp(a->analyzer, b->analyzer))
        return mn_errf(err, MN_EMISMATCH, fmt, dir, "analyzer", b->analyzer, a->analyzer);
    if (strcmp(a->tokenizer, b->tokenizer))
        return mn_errf(err, MN_EMISMATCH, fmt, dir, "tokenizer (sha256)", b->tokenizer, a->tokenizer);
    if (a->chunk_size != b->chunk_size || a->overlap != b->overlap)
        return mn_errf(err, MN_EMISMATCH,
                       "%s: the DB was built with --chunk-tokens %u --overlap %u; this run asks for %u and %u", dir,
                       b->chunk_size, b->overlap, a->chunk_size, a->overlap);
    if (strcmp(a->text_field, b->text_field))
        return mn_errf(err, MN_EMISMATCH, fmt, dir, "--text-field", b->text_field, a->text_field);
    if (strcmp(a->id_field, b->id_field))
        return mn_errf(err, MN_EMISMATCH, fmt, dir, "--id-field", b->id_field, a->id_field);
    return 0;
}

void db_shard_path(const char *dir, uint32_t shard, char *out, size_t cap)
{
    snprintf(out, cap, "%s/shard-%03u", dir, shard);
}

void manifest_hash_hex(uint64_t hi, uint64_t lo, char out[33])
{
    snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, hi, lo);
}

static json_t *shard_json(uint32_t i, const store_meta *m)
{
    char h[33];
    manifest_hash_hex(m->hash_hi, m->hash_lo, h);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "shard", (json_int_t)i, "chunks", (json_int_t)m->chunks,
                     "duplicates", (json_int_t)m->dups, "indexed_chunks", (json_int_t)m->ndocs, "total_terms",
                     (json_int_t)m->total_len, "segments", (json_int_t)m->segments, "content_hash", h);
}

int manifest_write(const char *dir, const db_config *cfg, const char *const *inputs, size_t ninputs,
                   const store_meta *m, mn_err *err)
{
    uint64_t chunks = 0, dups = 0, nd = 0, tl = 0, hi = 0, lo = 0;
    json_t *shards = json_array(), *in = json_array();
    for (uint32_t i = 0; i < cfg->nshards; i++) {
        chunks += m[i].chunks, dups += m[i].dups, nd += m[i].ndocs, tl += m[i].total_len;
        hi += m[i].hash_hi, lo += m[i].hash_lo;
        json_array_append_new(shards, shard_json(i, &m[i]));
    }
    for (size_t i = 0; i < ninputs; i++)
        json_array_append_new(in, json_string(inputs[i]));
    char h[33];
    manifest_hash_hex(hi, lo, h);
    json_t *root = json_pack(
        "{s:s, s:i, s:I, s:s, s:s, s:{s:s, s:I, s:I}, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:o}",
        "format", "mnemo-retrieval-db", "version", 1, "shards", (json_int_t)cfg->nshards, "analyzer", cfg->analyzer,
        "tokenizer_sha256", cfg->tokenizer, "chunking", "unit", strcmp(cfg->tokenizer, "none") ? "tokens" : "words",
        "size", (json_int_t)cfg->chunk_size, "overlap", (json_int_t)cfg->overlap, "text_field", cfg->text_field,
        "id_field", cfg->id_field, "inputs", in, "documents", (json_int_t)m[0].docs, "bytes", (json_int_t)m[0].bytes,
        "chunks", (json_int_t)chunks, "duplicates", (json_int_t)dups, "indexed_chunks", (json_int_t)nd,
        "total_terms", (json_int_t)tl, "content_hash", h, "shard_stats", shards);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
    json_decref(root);
    if (!text)
        return mn_errf(err, MN_ENOMEM, "%s/manifest.json: cannot build the JSON", dir);
    size_t plen = strlen(dir) + 32;
    char *path = xmalloc(plen);
    snprintf(path, plen, "%s/manifest.json", dir);
    outfile o = {0};
    int rc = outfile_open(&o, path, err);
    if (!rc && !(rc = outfile_write(&o, text, strlen(text), err)) && !(rc = outfile_write(&o, "\n", 1, err)))
        rc = outfile_commit(&o, err);
    else
        outfile_abort(&o);
    free(path);
    free(text);
    return rc;
}

static int hash_eq(json_t *obj, uint64_t hi, uint64_t lo)
{
    char h[33];
    manifest_hash_hex(hi, lo, h);
    const char *s = json_string_value(json_object_get(obj, "content_hash"));
    return s && !strcmp(s, h);
}

int manifest_verify(const char *dir, const db_config *cfg, const store_meta *m, char **text, mn_err *err)
{
    *text = NULL;
    size_t plen = strlen(dir) + 32, len;
    char *path = xmalloc(plen), *buf = NULL;
    snprintf(path, plen, "%s/manifest.json", dir);
    json_t *root = NULL;
    int rc = file_read_all(path, &buf, &len, err);
    if (rc) {
        mn_err_prefix(err, "no manifest (has an ingest finished?): ");
        goto done;
    }
    json_error_t je;
    root = json_loadb(buf, len, 0, &je);
    if (!root || !json_is_object(root)) {
        rc = mn_errf(err, MN_EFORMAT, "%s: line %d: column %d: %s", path, je.line, je.column,
                     root ? "not a JSON object" : je.text);
        goto done;
    }
    json_t *shards = json_object_get(root, "shard_stats");
    if (json_integer_value(json_object_get(root, "shards")) != (json_int_t)cfg->nshards || !json_is_array(shards) ||
        json_array_size(shards) != cfg->nshards) {
        rc = mn_errf(err, MN_EMISMATCH, "%s: shard count differs from the DB's %u shards", path, cfg->nshards);
        goto done;
    }
    uint64_t chunks = 0, hi = 0, lo = 0;
    for (uint32_t i = 0; i < cfg->nshards; i++) {
        json_t *s = json_array_get(shards, i);
        json_int_t c = json_integer_value(json_object_get(s, "chunks"));
        if (c != (json_int_t)m[i].chunks || !hash_eq(s, m[i].hash_hi, m[i].hash_lo)) {
            rc = mn_errf(err, MN_EMISMATCH,
                         "%s: shard_stats[%u]: manifest says %lld chunks, shard %u holds %llu (or content hashes "
                         "differ): an ingest was interrupted after the manifest was written; rerun it",
                         path, i, (long long)c, i, (unsigned long long)m[i].chunks);
            goto done;
        }
        chunks += m[i].chunks, hi += m[i].hash_hi, lo += m[i].hash_lo;
    }
    if (json_integer_value(json_object_get(root, "chunks")) != (json_int_t)chunks || !hash_eq(root, hi, lo)) {
        rc = mn_errf(err, MN_EMISMATCH, "%s: total chunks or content hash differ from the shards' sum", path);
        goto done;
    }
    *text = buf;
    buf = NULL;
done:
    json_decref(root);
    free(buf);
    free(path);
    return rc;
}
