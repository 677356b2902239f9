/* identity.c — the content identity of an evaluation's inputs
 * (identity.h): building it, comparing two, reading and writing it. */
#define _POSIX_C_SOURCE 200809L
#include "bench/identity.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "retrieval/dense.h"    /* dense_meta_read */
#include "retrieval/manifest.h" /* db_shard_path */
#include "retrieval/search.h"   /* search_db_open_part, search_db_identity */
#include "util/hash.h"          /* sha256_* */
#include "util/jsonfile.h"      /* json_load_path */
#include "util/outfile.h"
#include "util/version.h"       /* MNEMO_VERSION */
#include "util/path.h"     /* path_join */

/* Entry ids and their names in messages, in the order they are written. */
static const struct {
    const char *id, *what;
} ENTRIES[] = {
    {"model.weights", "model weights"},
    {"model.config", "model config.json"},
    {"tokenizer", "tokenizer"},
    {"benchmark", "benchmark"},
    {"few_shot", "few-shot examples"},
    {"db", "retrieval DB"},
    {"db.embeddings", "DB embeddings"},
    {"embed_model.weights", "embedding model weights"},
    {"embed_model.config", "embedding model config.json"},
    {"embed_model.tokenizer", "embedding model tokenizer"},
    {"reranker.weights", "reranker weights"},
    {"reranker.config", "reranker config.json"},
    {"reranker.tokenizer", "reranker tokenizer"},
    {"verifier.weights", "verifier weights"},
    {"verifier.config", "verifier config.json"},
    {"verifier.tokenizer", "verifier tokenizer"},
    {"mnemo", "mnemo version"},
};
#define NENTRIES (sizeof ENTRIES / sizeof ENTRIES[0])

/* The fields compared, in the order a difference is reported. */
static const char *const COMPARED[] = {"sha256", "content_hash", "analyzer", "items_sha256", "version", NULL};

/* ---- helpers ---- */

static void hex_of(sha256_ctx *c, char out[65])
{
    uint8_t d[32];
    sha256_final(c, d);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A list of files with one hash over them: "sha256" (the file's own when
 * there is one, else that of the sorted "HEX  NAME\n" listing) and
 * "files" [{"name", "bytes", "sha256"}].  names[i] is files[i] relative to
 * base; both sorted together by name. */
static int hash_files(char **files, char **names, size_t n, int beside, const char *cache_dir, filehash_stats *st,
                      json_t *entry, mn_err *err)
{
    char(*hex)[65] = xcalloc(n ? n : 1, sizeof *hex);
    int rc = filehash_sha256((const char *const *)files, n, beside, cache_dir, hex, st, err);
    if (rc) {
        free(hex);
        return rc;
    }
    json_t *list = json_array();
    sha256_ctx c;
    sha256_init(&c);
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        long long bytes = stat(files[i], &sb) ? -1 : (long long)sb.st_size;
        json_array_append_new(list, json_pack("{s:s, s:I, s:s}", "name", names[i], "bytes", (json_int_t)bytes, "sha256",
                                              hex[i]));
        sha256_update(&c, hex[i], 64);
        sha256_update(&c, "  ", 2);
        sha256_update(&c, names[i], strlen(names[i]));
        sha256_update(&c, "\n", 1);
    }
    char all[65];
    if (n == 1)
        memcpy(all, hex[0], 65);
    else
        hex_of(&c, all);
    json_object_set_new(entry, "sha256", json_string(all));
    json_object_set_new(entry, "files", list);
    free(hex);
    return 0;
}

/* A file and its name in the listing. */
typedef struct named_file {
    char *file, *name;
} named_file;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const named_file *)a)->name, ((const named_file *)b)->name);
}

/* Sort files[0..n) by name, keeping names[] alongside. */
static void sort_pairs(char **files, char **names, size_t n)
{
    named_file *p = xmalloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (named_file){files[i], names[i]};
    if (n)
        qsort(p, n, sizeof *p, cmp_name);
    for (size_t i = 0; i < n; i++) {
        files[i] = p[i].file;
        names[i] = p[i].name;
    }
    free(p);
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- model folders ---- */

/* The checkpoint's files: model.safetensors, or the index and every shard
 * it names. */
static int weight_files(const char *dir, char ***files, char ***names, size_t *n, mn_err *err)
{
    char *index = path_join(dir, "model.safetensors.index.json");
    *files = NULL;
    *names = NULL;
    *n = 0;
    if (access(index, F_OK)) {
        free(index);
        *files = xcalloc(1, sizeof **files);
        *names = xcalloc(1, sizeof **names);
        (*files)[0] = path_join(dir, "model.safetensors");
        (*names)[0] = xstrdup("model.safetensors");
        *n = 1;
        return 0;
    }
    json_t *root = NULL;
    int rc = json_load_path(index, &root, err);
    json_t *wm = rc ? NULL : json_object_get(root, "weight_map");
    if (!rc && !json_is_object(wm))
        rc = mn_errf(err, MN_EFORMAT, "%s: key 'weight_map': missing or not an object", index);
    size_t cap = (rc ? 0 : json_object_size(wm)) + 1, k = 0;
    char **nm = xcalloc(cap, sizeof *nm);
    nm[k++] = xstrdup("model.safetensors.index.json");
    const char *key;
    json_t *v;
    if (!rc)
        json_object_foreach(wm, key, v) {
            const char *f = json_string_value(v);
            if (!f || !*f || strchr(f, '/')) {
                rc = mn_errf(err, MN_EFORMAT, "%s: weight_map '%.200s': not a file name in the checkpoint folder", index,
                             key);
                break;
            }
            size_t i = 0;
            while (i < k && strcmp(nm[i], f))
                i++;
            if (i == k)
                nm[k++] = xstrdup(f);
        }
    json_decref(root);
    free(index);
    if (rc) {
        free_list(nm, k);
        return rc;
    }
    qsort(nm, k, sizeof *nm, cmp_str);
    *files = xcalloc(k, sizeof **files);
    for (size_t i = 0; i < k; i++)
        (*files)[i] = path_join(dir, nm[i]);
    *names = nm;
    *n = k;
    return 0;
}

/* One file: {"path", "sha256"}. */
static int file_entry(const char *path, const char *cache_dir, filehash_stats *st, json_t **out, mn_err *err)
{
    char hex[65];
    const char *p = path;
    int rc = filehash_sha256(&p, 1, 0, cache_dir, &hex, st, err);
    if (rc)
        return rc;
    *out = json_pack("{s:s, s:s}", "path", path, "sha256", hex);
    return 0;
}

/* PREFIX.weights, PREFIX.config (and PREFIX.tokenizer when tokenizer is
 * given) of the model in dir. */
static int model_entries(json_t *inputs, const char *prefix, const char *dir, const char *tokenizer,
                         const char *cache_dir, filehash_stats *st, mn_err *err)
{
    char **files, **names, id[64];
    size_t n;
    int rc = weight_files(dir, &files, &names, &n, err);
    if (rc)
        return rc;
    json_t *w = json_pack("{s:s}", "path", dir), *e = NULL;
    rc = hash_files(files, names, n, 1, cache_dir, st, w, err); /* large, shared: cached beside */
    free_list(files, n);
    free_list(names, n);
    if (rc) {
        json_decref(w);
        return rc;
    }
    snprintf(id, sizeof id, "%s.weights", prefix);
    json_object_set_new(inputs, id, w);
    char *config = path_join(dir, "config.json");
    rc = file_entry(config, cache_dir, st, &e, err);
    free(config);
    if (rc)
        return rc;
    snprintf(id, sizeof id, "%s.config", prefix);
    json_object_set_new(inputs, id, e);
    if (!tokenizer)
        return 0;
    if ((rc = file_entry(tokenizer, cache_dir, st, &e, err)))
        return rc;
    if (!strcmp(prefix, "model"))
        snprintf(id, sizeof id, "tokenizer"); /* the model's tokenizer may be a file of its own */
    else
        snprintf(id, sizeof id, "%s.tokenizer", prefix);
    json_object_set_new(inputs, id, e);
    return 0;
}

/* ---- benchmarks ---- */

void identity_item_sha256(const bench_item *it, char out[65])
{
    json_t *choices = json_array();
    for (size_t i = 0; i < it->nchoices; i++)
        json_array_append_new(choices, json_string(it->choices[i]));
#define S(x) ((x) ? json_string(x) : json_null())
    json_t *j = json_pack("{s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o}", "id", S(it->id), "question", S(it->question),
                          "choices", it->choices ? choices : json_null(), "answer_index", it->answer_index, "answer",
                          S(it->answer), "subject", S(it->subject), "level", S(it->level), "solution", S(it->solution),
                          "meta", S(it->meta));
#undef S
    if (!it->choices)
        json_decref(choices);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        abort(); /* jansson fails only when out of memory */
    sha256_hex(text, strlen(text), out);
    free(text);
    json_decref(j);
}

/* The file an item came from: its source "FILE[:MEMBER]:LINE" without the
 * line and member, checked to be a regular file.  NULL when it cannot be
 * told. */
static char *source_file(const char *source)
{
    char *s = xstrdup(source);
    char *colon = strrchr(s, ':');
    if (colon)
        *colon = 0; /* the line */
    for (;;) {
        struct stat sb;
        if (!stat(s, &sb) && S_ISREG(sb.st_mode))
            return s;
        if (!(colon = strrchr(s, ':')))
            break;
        *colon = 0; /* an archive member */
    }
    free(s);
    return NULL;
}

/* The entry of a benchmark (or few-shot pool) spec whose items are set:
 * its files and their hash, and the items' hash. */
static int bench_entry(const char *spec, const bench_set *set, const char *cache_dir, filehash_stats *st,
                       json_t **out, mn_err *err)
{
    const char *path = strchr(spec, ':') ? strchr(spec, ':') + 1 : spec;
    size_t plen = strlen(path), n = 0, cap = 8;
    char **files = xcalloc(cap, sizeof *files), **names;
    struct stat sb;
    int rc = 0;
    if (!stat(path, &sb) && S_ISREG(sb.st_mode)) {
        files[n++] = xstrdup(path);
    } else { /* a folder: every file that gave an item */
        for (size_t i = 0; i < set->n && !rc; i++) {
            const char *src = set->items[i].source ? set->items[i].source : "";
            size_t l = n ? strlen(files[n - 1]) : 0;
            if (n && !strncmp(src, files[n - 1], l) && src[l] == ':')
                continue; /* the same file as the item before */
            char *f = source_file(src);
            if (!f) {
                rc = mn_errf(err, MN_EIO, "%s: item '%s': cannot tell which file it came from (%s)", path,
                             set->items[i].id, src);
                break;
            }
            size_t k = 0;
            while (k < n && strcmp(files[k], f))
                k++;
            if (k < n) {
                free(f);
                continue;
            }
            if (n == cap)
                files = xrealloc(files, (cap *= 2) * sizeof *files);
            files[n++] = f;
        }
    }
    names = xcalloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        const char *f = files[i];
        if (!strncmp(f, path, plen) && f[plen] == '/')
            f += plen + 1;
        else if (n == 1 && strrchr(f, '/'))
            f = strrchr(f, '/') + 1;
        names[i] = xstrdup(f);
    }
    sort_pairs(files, names, n);
    json_t *e = json_pack("{s:s}", "path", path);
    if (!rc)
        rc = hash_files(files, names, n, 0, cache_dir, st, e, err);
    free_list(files, n);
    free_list(names, n);
    if (rc) {
        json_decref(e);
        return rc;
    }
    sha256_ctx c;
    char h[65];
    sha256_init(&c);
    for (size_t i = 0; i < set->n; i++) {
        identity_item_sha256(&set->items[i], h);
        sha256_update(&c, set->items[i].id, strlen(set->items[i].id));
        sha256_update(&c, "\t", 1);
        sha256_update(&c, h, 64);
        sha256_update(&c, "\n", 1);
    }
    hex_of(&c, h);
    json_object_set_new(e, "items", json_integer((json_int_t)set->n));
    json_object_set_new(e, "items_sha256", json_string(h));
    *out = e;
    return 0;
}

/* ---- the retrieval DB ---- */

int identity_db(const char *db, json_t **out, mn_err *err)
{
    search_db *h = NULL; /* verified as every reader does, without loading the chunk lengths */
    int rc = search_db_open_part(db, 0, 1, SEARCH_DB_NOLOCK | SEARCH_DB_VERIFY_ONLY, &h, err);
    if (rc)
        return rc;
    db_identity v;
    search_db_identity(h, &v);
    search_db_close(h);
    *out = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "path", db, "content_hash", v.content_hash, "analyzer",
                     v.analyzer, "tokenizer_sha256", v.tokenizer_sha256, "chunks", (json_int_t)v.chunks, "shards",
                     (json_int_t)v.shards);
    return *out ? 0 : mn_errf(err, MN_ENOMEM, "%s: cannot build the DB's identity", db);
}

int identity_db_check(const json_t *identity, const char *db, const db_identity *v, mn_err *err)
{
    json_t *e = json_object_get(json_object_get(identity, "inputs"), "db");
    const char *hash = json_string_value(json_object_get(e, "content_hash"));
    const char *an = json_string_value(json_object_get(e, "analyzer"));
    const char *tok = json_string_value(json_object_get(e, "tokenizer_sha256"));
    json_int_t chunks = json_integer_value(json_object_get(e, "chunks"));
    json_int_t shards = json_integer_value(json_object_get(e, "shards"));
    if (hash && an && tok && !strcmp(hash, v->content_hash) && !strcmp(an, v->analyzer) &&
        !strcmp(tok, v->tokenizer_sha256) && chunks == (json_int_t)v->chunks && shards == (json_int_t)v->shards)
        return 0;
    return mn_errf(err, MN_EMISMATCH,
                   "%s: the DB changed after the run recorded its identity (content hash %s, %lld chunks recorded; "
                   "%s, %llu chunks verified at open): an ingest finished meanwhile; rerun",
                   db, hash ? hash : "(none)", (long long)chunks, v->content_hash, (unsigned long long)v->chunks);
}

/* The embedding matrices of every shard of db (identity_db's "shards"). */
static int embeddings_entry(const char *db, json_int_t shards, json_t **out, mn_err *err)
{
    sha256_ctx c;
    char line[256], hex[65];
    size_t cap = strlen(db) + 32;
    char *dir = xmalloc(cap);
    int rc = 0;
    sha256_init(&c);
    for (json_int_t s = 0; s < shards && !rc; s++) {
        dense_meta m;
        db_shard_path(db, (uint32_t)s, dir, cap);
        int got = dense_meta_read(dir, &m, err);
        if (got < 0)
            rc = got;
        else if (got == 0)
            snprintf(line, sizeof line, "%lld none\n", (long long)s);
        else
            snprintf(line, sizeof line, "%lld %016llx %s %llu\n", (long long)s, (unsigned long long)m.content_hash,
                     m.model_sha256, (unsigned long long)m.count);
        if (got >= 0)
            sha256_update(&c, line, strlen(line));
    }
    free(dir);
    if (rc)
        return rc;
    hex_of(&c, hex);
    *out = json_pack("{s:s, s:s, s:I}", "path", db, "sha256", hex, "shards", shards);
    return 0;
}

/* ---- building ---- */

int identity_build(const identity_inputs *in, filehash_stats *st, json_t **out, mn_err *err)
{
    json_t *inputs = json_object(), *e = NULL;
    *out = NULL;
    int rc = model_entries(inputs, "model", in->model_dir, in->tokenizer, in->cache_dir, st, err);
    if (!rc && !(rc = bench_entry(in->bench, in->items, in->cache_dir, st, &e, err)))
        json_object_set_new(inputs, "benchmark", e);
    if (!rc && in->pool && in->pool->n &&
        !(rc = bench_entry(in->shots_from ? in->shots_from : in->bench, in->pool, in->cache_dir, st, &e, err)))
        json_object_set_new(inputs, "few_shot", e);
    if (!rc && in->db && !(rc = identity_db(in->db, &e, err))) {
        json_int_t shards = json_integer_value(json_object_get(e, "shards"));
        json_object_set_new(inputs, "db", e);
        if (in->dense && !(rc = embeddings_entry(in->db, shards, &e, err)))
            json_object_set_new(inputs, "db.embeddings", e);
    }
    char *tok;
    if (!rc && in->embed_model) {
        tok = path_join(in->embed_model, "tokenizer.json");
        rc = model_entries(inputs, "embed_model", in->embed_model, tok, in->cache_dir, st, err);
        free(tok);
    }
    if (!rc && in->reranker) {
        tok = path_join(in->reranker, "tokenizer.json");
        rc = model_entries(inputs, "reranker", in->reranker, tok, in->cache_dir, st, err);
        free(tok);
    }
    if (!rc && in->verifier) {
        tok = path_join(in->verifier, "tokenizer.json");
        rc = model_entries(inputs, "verifier", in->verifier, tok, in->cache_dir, st, err);
        free(tok);
    }
    json_object_set_new(inputs, "mnemo", json_pack("{s:s}", "version", MNEMO_VERSION));
    if (rc) {
        json_decref(inputs);
        return rc;
    }
    *out = json_pack("{s:s, s:i, s:o}", "format", "mnemo-inputs", "version", 1, "inputs", inputs);
    return 0;
}

/* ---- comparing ---- */

static const char *what_of(const char *id)
{
    for (size_t i = 0; i < NENTRIES; i++)
        if (!strcmp(ENTRIES[i].id, id))
            return ENTRIES[i].what;
    return id;
}

/* A value for a message: a hash cut to 12 digits, other text as it is
 * (cut to fit). */
static void shown(const json_t *v, char *out, size_t cap)
{
    const char *s = json_string_value(v);
    if (!v) {
        snprintf(out, cap, "none");
    } else if (s && strlen(s) >= 32 && strspn(s, "0123456789abcdef") == strlen(s)) {
        snprintf(out, cap, "%.12s\u2026", s);
    } else if (s) {
        snprintf(out, cap, "'%.*s'", (int)(cap > 4 ? cap - 4 : 0), s);
    } else {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(out, cap, "%s", t ? t : "?");
        free(t);
    }
}

/* Where entry now's current value comes from: the first of its files
 * whose hash is new or differs from old's, else its path (a DB: its
 * manifest). */
static void where_of(const char *id, const json_t *old, const json_t *now, char *out, size_t cap)
{
    const char *path = json_string_value(json_object_get(now ? now : old, "path"));
    json_t *files = json_object_get(now, "files"), *f;
    size_t i;
    path = path ? path : "?";
    json_array_foreach(files, i, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        const json_t *same = NULL, *g;
        size_t k;
        json_array_foreach(json_object_get(old, "files"), k, g)
            if (name && json_equal(json_object_get(g, "name"), json_object_get(f, "name")))
                same = g;
        if (name && (!same || !json_equal(json_object_get(same, "sha256"), json_object_get(f, "sha256")))) {
            struct stat sb;
            if (!stat(path, &sb) && S_ISREG(sb.st_mode))
                snprintf(out, cap, "%s", path);
            else
                snprintf(out, cap, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", name);
            return;
        }
    }
    snprintf(out, cap, "%s%s", path, !strcmp(id, "db") ? "/manifest.json" : "");
}

/* The first compared field where entries a (old) and b (now) differ. */
static const char *field_differs(const json_t *a, const json_t *b)
{
    for (int k = 0; COMPARED[k]; k++) {
        const json_t *x = json_object_get(a, COMPARED[k]), *y = json_object_get(b, COMPARED[k]);
        if ((x || y) && !(x && y && json_equal(x, y)))
            return COMPARED[k];
    }
    return NULL;
}

static void fill_change(identity_change *c, const char *id, const json_t *a, const json_t *b, const char *field)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->what, sizeof c->what, "%s", what_of(id));
    snprintf(c->field, sizeof c->field, "%s", field ? field : "");
    if (field) {
        shown(json_object_get(a, field), c->old, sizeof c->old);
        shown(json_object_get(b, field), c->now, sizeof c->now);
    } else {
        snprintf(c->old, sizeof c->old, "%s", a ? "used" : "none");
        snprintf(c->now, sizeof c->now, "%s", b ? "used" : "none");
    }
    where_of(id, a, b, c->where, sizeof c->where);
}

/* Compare entry id of the two "inputs" objects: 1 (and *c) when it differs. */
static int entry_differs(const json_t *ia, const json_t *ib, const char *id, identity_change *c)
{
    const json_t *a = json_object_get(ia, id), *b = json_object_get(ib, id);
    if (!a && !b)
        return 0;
    const char *field = a && b ? field_differs(a, b) : NULL;
    if (a && b && !field)
        return 0;
    fill_change(c, id, a, b, field);
    return 1;
}

int identity_diff(const json_t *old, const json_t *now, identity_change *c)
{
    const json_t *ia = json_object_get(old, "inputs"), *ib = json_object_get(now, "inputs");
    const char *id;
    json_t *v;
    for (size_t i = 0; i < NENTRIES; i++)
        if (strcmp(ENTRIES[i].id, "mnemo") && entry_differs(ia, ib, ENTRIES[i].id, c))
            return 1;
    /* entries this build does not know (written by another version) */
    json_object_foreach((json_t *)ia, id, v)
        if (!json_object_get(ib, id))
            return entry_differs(ia, ib, id, c);
    json_object_foreach((json_t *)ib, id, v)
        if (!json_object_get(ia, id))
            return entry_differs(ia, ib, id, c);
    return entry_differs(ia, ib, "mnemo", c);
}

int identity_only_benchmark_differs(const json_t *old, const json_t *now)
{
    const json_t *ia = json_object_get(old, "inputs"), *ib = json_object_get(now, "inputs");
    json_t *a = json_deep_copy(ia), *b = json_deep_copy(ib);
    int differs = entry_differs(ia, ib, "benchmark", NULL);
    json_object_del(a, "benchmark");
    json_object_del(b, "benchmark");
    json_t *wa = json_pack("{s:o}", "inputs", a), *wb = json_pack("{s:o}", "inputs", b);
    int rest = identity_diff(wa, wb, NULL);
    json_decref(wa);
    json_decref(wb);
    return differs && !rest;
}

/* ---- files ---- */

int identity_read(const char *dir, json_t **out, mn_err *err)
{
    char *path = path_join(dir, IDENTITY_FILE);
    *out = NULL;
    int rc = 0;
    if (access(path, F_OK)) {
        free(path);
        return 0;
    }
    json_t *j = NULL;
    if (!(rc = json_load_path(path, &j, err))) {
        if (!json_is_object(json_object_get(j, "inputs")) || json_integer_value(json_object_get(j, "version")) != 1) {
            rc = mn_errf(err, MN_EFORMAT, "%s: not an input identity of this mnemo (\"inputs\", \"version\": 1)", path);
            json_decref(j);
        } else {
            *out = j;
            rc = 1;
        }
    }
    free(path);
    return rc;
}

int identity_write(const char *dir, const json_t *id, mn_err *err)
{
    char *path = path_join(dir, IDENTITY_FILE);
    char *text = json_dumps(id, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    outfile o = {0};
    int rc = text ? outfile_open(&o, path, err) : mn_errf(err, MN_ENOMEM, "%s: cannot serialise JSON", path);
    if (!rc && !(rc = outfile_write(&o, text, strlen(text), err)) && !(rc = outfile_write(&o, "\n", 1, err)))
        rc = outfile_commit(&o, err);
    else if (!rc || o.f)
        outfile_abort(&o);
    free(text);
    free(path);
    return rc;
}
