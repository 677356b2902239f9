/* manifest.c — DB configuration and manifest.json; see manifest.h. */
#include "retrieval/manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/hash.h"    /* hash64 */
#include "util/mapfile.h" /* file_read_all */
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

/* ---- content hash ---------------------------------------------------- */

/* The seeds of ingest's hashes: part of the on-disk format. */
#define SEED_TEXT 0 /* dedup key and shard choice */
#define SEED_DOCID 0x1d5eedULL
#define SEED_LO 0xc0ffee01ULL
#define SEED_HI 0xc0ffee02ULL

uint64_t db_text_hash(const char *text, size_t len)
{
    return hash64(text, len, SEED_TEXT);
}

void db_chunk_hash(uint64_t id, const char *text, size_t text_len, const char *doc_id, size_t doc_id_len,
                   uint64_t *hi, uint64_t *lo)
{
    /* hashed as three native u64s, as ingest does (little-endian hosts) */
    uint64_t rec[3] = {id, hash64(text, text_len, SEED_TEXT), hash64(doc_id, doc_id_len, SEED_DOCID)};
    *lo = hash64(rec, sizeof rec, SEED_LO);
    *hi = hash64(rec, sizeof rec, SEED_HI);
}

/* ---- reading manifest.json ------------------------------------------- */

struct db_manifest {
    char *path;             /* DIR/manifest.json */
    char *text;             /* the file, NUL-terminated */
    uint32_t nshards;
    manifest_counts *sh;    /* [nshards] shard_stats */
    manifest_counts total;
    uint64_t docs, bytes;
    char *inputs;           /* paths NUL-terminated back to back */
    size_t inputs_len, ninputs;
    db_identity id;
};

void manifest_free(db_manifest *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->text);
    free(m->sh);
    free(m->inputs);
    free(m);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "32 lower-case hex digits" into hi, lo; -1 if s is anything else. */
static int parse_hash(const char *s, uint64_t *hi, uint64_t *lo)
{
    if (!s || strlen(s) != 32)
        return -1;
    uint64_t w[2] = {0, 0};
    for (int i = 0; i < 32; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return -1;
        w[i / 16] = w[i / 16] << 4 | (uint64_t)d;
    }
    *hi = w[0], *lo = w[1];
    return 0;
}

/* obj[key] as a non-negative integer into *v; -1 if absent or not one. */
static int get_count(json_t *obj, const char *key, uint64_t *v)
{
    json_t *j = json_object_get(obj, key);
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return -1;
    *v = (uint64_t)json_integer_value(j);
    return 0;
}

/* The counters of a shard_stats entry, or of the root (the totals, which
 * have no "segments"). */
static int get_counts(json_t *obj, int entry, manifest_counts *c, const char **bad)
{
    static const char *keys[5] = {"chunks", "duplicates", "indexed_chunks", "total_terms", "segments"};
    uint64_t *dst[5] = {&c->chunks, &c->dups, &c->ndocs, &c->total_len, &c->segments};
    for (int k = 0; k < (entry ? 5 : 4); k++)
        if (get_count(obj, keys[k], dst[k])) {
            *bad = keys[k];
            return -1;
        }
    if (parse_hash(json_string_value(json_object_get(obj, "content_hash")), &c->hash_hi, &c->hash_lo)) {
        *bad = "content_hash";
        return -1;
    }
    return 0;
}

/* The manifest's settings against the shards' configuration. */
static int check_settings(const db_manifest *m, json_t *root, const db_config *cfg, mn_err *err)
{
    const char *fmt = json_string_value(json_object_get(root, "format"));
    uint64_t version = 0, shards = 0, size = 0, overlap = 0;
    json_t *ch = json_object_get(root, "chunking");
    if (!fmt || strcmp(fmt, "mnemo-retrieval-db") || get_count(root, "version", &version) || version != 1)
        return mn_errf(err, MN_EFORMAT, "%s: not a mnemo-retrieval-db manifest of version 1", m->path);
    if (get_count(root, "shards", &shards) || shards != cfg->nshards)
        return mn_errf(err, MN_EMISMATCH, "%s: \"shards\" is not the DB's %u shards", m->path, cfg->nshards);
    const char *unit = strcmp(cfg->tokenizer, "none") ? "tokens" : "words";
    const struct {
        const char *key, *want, *got;
    } str[5] = {
        {"analyzer", cfg->analyzer, json_string_value(json_object_get(root, "analyzer"))},
        {"tokenizer_sha256", cfg->tokenizer, json_string_value(json_object_get(root, "tokenizer_sha256"))},
        {"chunking.unit", unit, json_string_value(json_object_get(ch, "unit"))},
        {"text_field", cfg->text_field, json_string_value(json_object_get(root, "text_field"))},
        {"id_field", cfg->id_field, json_string_value(json_object_get(root, "id_field"))},
    };
    for (int i = 0; i < 5; i++)
        if (!str[i].got || strcmp(str[i].got, str[i].want))
            return mn_errf(err, MN_EMISMATCH, "%s: %s is '%s', the shards' is '%s'", m->path, str[i].key,
                           str[i].got ? str[i].got : "(missing)", str[i].want);
    if (get_count(ch, "size", &size) || get_count(ch, "overlap", &overlap) || size != cfg->chunk_size ||
        overlap != cfg->overlap)
        return mn_errf(err, MN_EMISMATCH, "%s: chunking size/overlap differ from the shards' %u/%u", m->path,
                       cfg->chunk_size, cfg->overlap);
    return 0;
}

/* shard_stats, the totals (the entries' sums) and the input list. */
static int read_counts(db_manifest *m, json_t *root, mn_err *err)
{
    json_t *arr = json_object_get(root, "shard_stats"), *in = json_object_get(root, "inputs");
    const char *bad = NULL;
    if (!json_is_array(arr) || json_array_size(arr) != m->nshards)
        return mn_errf(err, MN_EFORMAT, "%s: shard_stats is not an array of %u entries", m->path, m->nshards);
    manifest_counts sum = {0};
    for (uint32_t i = 0; i < m->nshards; i++) {
        json_t *e = json_array_get(arr, i);
        uint64_t idx;
        manifest_counts *c = &m->sh[i];
        if (get_count(e, "shard", &idx) || idx != i || get_counts(e, 1, c, &bad))
            return mn_errf(err, MN_EFORMAT, "%s: shard_stats[%u]: %s missing or malformed", m->path, i,
                           bad ? bad : "shard");
        sum.chunks += c->chunks, sum.dups += c->dups, sum.ndocs += c->ndocs, sum.total_len += c->total_len;
        sum.segments += c->segments;
        sum.hash_hi += c->hash_hi, sum.hash_lo += c->hash_lo;
    }
    if (get_counts(root, 0, &m->total, &bad) || get_count(root, "documents", &m->docs) ||
        get_count(root, "bytes", &m->bytes))
        return mn_errf(err, MN_EFORMAT, "%s: %s missing or malformed", m->path, bad ? bad : "documents/bytes");
    m->total.segments = sum.segments;
    if (m->total.chunks != sum.chunks || m->total.dups != sum.dups || m->total.ndocs != sum.ndocs ||
        m->total.total_len != sum.total_len || m->total.hash_hi != sum.hash_hi || m->total.hash_lo != sum.hash_lo)
        return mn_errf(err, MN_EFORMAT, "%s: the totals are not the sums of shard_stats (the file was edited or "
                       "damaged)", m->path);
    if (!json_is_array(in))
        return mn_errf(err, MN_EFORMAT, "%s: inputs is not an array", m->path);
    size_t len = 0;
    for (size_t i = 0; i < json_array_size(in); i++) {
        const char *p = json_string_value(json_array_get(in, i));
        if (!p)
            return mn_errf(err, MN_EFORMAT, "%s: inputs[%zu] is not a string", m->path, i);
        len += strlen(p) + 1;
    }
    m->inputs = xmalloc(len + 1);
    for (size_t i = 0, o = 0; i < json_array_size(in); i++) {
        const char *p = json_string_value(json_array_get(in, i));
        memcpy(m->inputs + o, p, strlen(p) + 1);
        o += strlen(p) + 1;
    }
    m->inputs_len = len;
    m->ninputs = json_array_size(in);
    return 0;
}

int manifest_read(const char *dir, const db_config *cfg, db_manifest **out, mn_err *err)
{
    *out = NULL;
    db_manifest *m = xcalloc(1, sizeof *m);
    size_t plen = strlen(dir) + 32, len;
    m->path = xmalloc(plen);
    snprintf(m->path, plen, "%s/manifest.json", dir);
    json_t *root = NULL;
    struct stat st;
    int rc;
    if (stat(m->path, &st) && errno == ENOENT) {
        rc = mn_errf(err, MN_EIO,
                     "%s: no manifest.json: no ingest has finished into this DB (one failed or is still running); "
                     "rerun mnemo ingest", dir);
        goto fail;
    }
    if ((rc = file_read_all(m->path, &m->text, &len, err)))
        goto fail;
    json_error_t je;
    root = json_loadb(m->text, len, 0, &je);
    if (!root || !json_is_object(root)) {
        rc = mn_errf(err, MN_EFORMAT, "%s: line %d: column %d: %s", m->path, je.line, je.column,
                     root ? "not a JSON object" : je.text);
        goto fail;
    }
    m->nshards = cfg->nshards;
    m->sh = xcalloc(cfg->nshards, sizeof *m->sh);
    if ((rc = check_settings(m, root, cfg, err)) || (rc = read_counts(m, root, err)))
        goto fail;
    manifest_hash_hex(m->total.hash_hi, m->total.hash_lo, m->id.content_hash);
    m->id.chunks = m->total.chunks;
    m->id.shards = cfg->nshards;
    snprintf(m->id.analyzer, sizeof m->id.analyzer, "%s", cfg->analyzer);
    snprintf(m->id.tokenizer_sha256, sizeof m->id.tokenizer_sha256, "%s", cfg->tokenizer);
    json_decref(root);
    *out = m;
    return 0;
fail:
    json_decref(root);
    manifest_free(m);
    return rc;
}

/* Does the manifest's input list end where the shard's does (0), is it a
 * proper prefix of it (1), or neither (-1)?  NULL inputs: 0. */
static int inputs_cmp(const db_manifest *m, const char *inputs, size_t len)
{
    if (!inputs)
        return 0;
    if (len < m->inputs_len || memcmp(inputs, m->inputs, m->inputs_len))
        return -1;
    return len > m->inputs_len;
}

/* The counters of shard s against its entry: each as [manifest, shard]. */
static int counter_pairs(const db_manifest *m, uint32_t s, const store_meta *meta, uint64_t pair[][2])
{
    const manifest_counts *c = &m->sh[s];
    uint64_t v[7][2] = {{c->chunks, meta->chunks}, {c->dups, meta->dups}, {c->ndocs, meta->ndocs},
                        {c->total_len, meta->total_len}, {c->segments, meta->segments},
                        {m->docs, meta->docs}, {m->bytes, meta->bytes}};
    int n = s == 0 ? 7 : 5; /* documents and bytes are shard 0's */
    memcpy(pair, v, sizeof v);
    return n;
}

int manifest_shard_ahead(const db_manifest *m, uint32_t s, const store_meta *meta, const char *inputs, size_t len)
{
    uint64_t pair[7][2];
    int n = counter_pairs(m, s, meta, pair), grown = 0, in = inputs_cmp(m, inputs, len);
    if (in < 0)
        return 0;
    for (int i = 0; i < n; i++) {
        if (pair[i][1] < pair[i][0])
            return 0;
        grown |= pair[i][1] > pair[i][0];
    }
    return grown || in == 1;
}

/* The paths in a NUL-separated list. */
static size_t count_paths(const char *list, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += list[i] == 0;
    return n;
}

int manifest_check_shard(const db_manifest *m, uint32_t s, const store_meta *meta, const char *inputs, size_t len,
                         mn_err *err)
{
    static const char *names[7] = {"chunks", "duplicates", "indexed chunks", "total terms", "segments",
                                   "documents", "bytes"};
    const manifest_counts *c = &m->sh[s];
    uint64_t pair[7][2];
    int n = counter_pairs(m, s, meta, pair), diff = -1;
    for (int i = 0; i < n && diff < 0; i++)
        if (pair[i][0] != pair[i][1])
            diff = i;
    int hash_differs = c->hash_hi != meta->hash_hi || c->hash_lo != meta->hash_lo;
    if (diff < 0 && !hash_differs && inputs_cmp(m, inputs, len) == 0)
        return 0;
    char what[256], hm[33], hs[33];
    manifest_hash_hex(c->hash_hi, c->hash_lo, hm);
    manifest_hash_hex(meta->hash_hi, meta->hash_lo, hs);
    if (diff > 0) /* chunks agree: name the counter that does not */
        snprintf(what, sizeof what, "shard %u: %s %llu, the manifest says %llu", s, names[diff],
                 (unsigned long long)pair[diff][1], (unsigned long long)pair[diff][0]);
    else if (diff == 0 || hash_differs)
        snprintf(what, sizeof what, "shard %u holds %llu chunks (content hash %s), the manifest says %llu (%s)", s,
                 (unsigned long long)meta->chunks, hs, (unsigned long long)c->chunks, hm);
    else
        snprintf(what, sizeof what, "shard %u lists %zu inputs (%zu bytes), the manifest %zu (%zu bytes)", s,
                 count_paths(inputs, len), len, m->ninputs, m->inputs_len);
    if (manifest_shard_ahead(m, s, meta, inputs, len))
        return mn_errf(err, MN_EMISMATCH, "%s: %s: an ingest was interrupted after the manifest was written; rerun it",
                       m->path, what);
    return mn_errf(err, MN_EMISMATCH,
                   "%s: %s: the shard is not the one the manifest was written for (restored from another copy, or "
                   "damaged); check it with mnemo stats --deep", m->path, what);
}

const char *manifest_text(const db_manifest *m)
{
    return m->text;
}

void manifest_identity(const db_manifest *m, db_identity *id)
{
    *id = m->id;
}

const manifest_counts *manifest_shard_counts(const db_manifest *m, uint32_t s)
{
    return &m->sh[s];
}

const manifest_counts *manifest_total_counts(const db_manifest *m)
{
    return &m->total;
}

void manifest_doc_counts(const db_manifest *m, uint64_t *docs, uint64_t *bytes)
{
    *docs = m->docs;
    *bytes = m->bytes;
}

const char *manifest_inputs(const db_manifest *m, size_t *len, size_t *n)
{
    *len = m->inputs_len;
    *n = m->ninputs;
    return m->inputs;
}
