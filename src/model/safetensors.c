/* safetensors.c — validate and index mmap'd safetensors files.
 *
 * Layout of one file: u64 little-endian N, then N bytes of JSON header
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
 * {str: str}}, then the data area; offsets are relative to the data area.
 * Every check happens in st_parse() before a tensor is handed out, so a
 * hostile file yields an error message, never an out-of-bounds read.
 * Tensors are kept sorted by name for bsearch lookups.
 *
 * Non-goals: writing safetensors, dtypes beyond widening F16/BF16 to F32,
 * the "no holes in the data area" rule of the reference implementation
 * (gaps are harmless to a reader; overlaps are not).
 */
#include "model/safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/jsonfile.h" /* json_load_path */
#include "util/mapfile.h"  /* mapfile_open, mapfile_close */
#include "util/path.h"     /* path_join */

/* The reference implementation refuses headers above 100 MB as well. */
#define ST_MAX_HEADER 100000000ULL

struct st_model {
    mapfile *maps;   /* [nmaps] owned mappings; none for st_parse() on a caller buffer */
    int nmaps;
    st_tensor *t;    /* [n] sorted by name; names owned */
    size_t n;
    char *source;    /* index file or single file path (owned) */
};

/* ------------------------------------------------------------------ */
/* dtypes                                                               */
/* ------------------------------------------------------------------ */

static const struct {
    const char *name;
    size_t size;
} DTYPES[] = {
    [ST_F32] = {"F32", 4},     [ST_F16] = {"F16", 2},         [ST_BF16] = {"BF16", 2},
    [ST_F64] = {"F64", 8},     [ST_I64] = {"I64", 8},         [ST_I32] = {"I32", 4},
    [ST_I16] = {"I16", 2},     [ST_I8] = {"I8", 1},           [ST_U8] = {"U8", 1},
    [ST_BOOL] = {"BOOL", 1},   [ST_U16] = {"U16", 2},         [ST_U32] = {"U32", 4},
    [ST_U64] = {"U64", 8},     [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};
#define N_DTYPES (sizeof DTYPES / sizeof DTYPES[0])

size_t st_dtype_size(st_dtype t) { return (unsigned)t < N_DTYPES ? DTYPES[t].size : 0; }
const char *st_dtype_name(st_dtype t) { return (unsigned)t < N_DTYPES ? DTYPES[t].name : "?"; }

static int dtype_lookup(const char *s, st_dtype *out)
{
    for (size_t i = 0; i < N_DTYPES; i++)
        if (strcmp(s, DTYPES[i].name) == 0) {
            *out = (st_dtype)i;
            return 1;
        }
    return 0;
}

/* ------------------------------------------------------------------ */
/* lifecycle helpers                                                    */
/* ------------------------------------------------------------------ */

static void tensors_free(st_tensor *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)t[i].name);
    free(t);
}

void st_close(st_model *st)
{
    if (!st)
        return;
    tensors_free(st->t, st->n);
    for (int i = 0; i < st->nmaps; i++)
        mapfile_close(&st->maps[i]);
    free(st->maps);
    free(st->source);
    free(st);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

const st_tensor *st_find(const st_model *st, const char *name)
{
    if (!st || st->n == 0)
        return NULL;
    st_tensor key = {.name = name};
    return bsearch(&key, st->t, st->n, sizeof *st->t, cmp_name);
}

size_t st_count(const st_model *st) { return st ? st->n : 0; }
const st_tensor *st_at(const st_model *st, size_t i) { return st && i < st->n ? &st->t[i] : NULL; }
const char *st_source(const st_model *st) { return st ? st->source : NULL; }

/* ------------------------------------------------------------------ */
/* header validation                                                    */
/* ------------------------------------------------------------------ */

/* A tensor entry while parsing: the byte range relative to the data area. */
typedef struct range {
    uint64_t begin, end;
    size_t idx;
} range;

static int cmp_begin(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

/* A non-negative JSON integer. */
static int get_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    *out = (uint64_t)json_integer_value(v);
    return 1;
}

static void shape_str(const st_tensor *t, char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < t->ndim && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, d ? ", %lld" : "%lld", (long long)t->shape[d]);
    if (k < cap)
        snprintf(buf + k, cap - k, "]");
}

/* Validate one tensor entry of the header and fill *t / *r. */
static int parse_entry(const char *what, const char *name, const json_t *v, const unsigned char *data,
                       uint64_t data_size, st_tensor *t, range *r, mn_err *err)
{
    if (!json_is_object(v))
        return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': expected an object with dtype, shape and data_offsets",
                       what, name);
    const json_t *jd = json_object_get(v, "dtype"), *js = json_object_get(v, "shape"),
                 *jo = json_object_get(v, "data_offsets");
    if (!json_is_string(jd))
        return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': 'dtype' missing or not a string", what, name);
    if (!dtype_lookup(json_string_value(jd), &t->dtype))
        return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': unknown dtype '%.40s'", what, name,
                       json_string_value(jd));
    if (!json_is_array(js))
        return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': 'shape' missing or not a list", what, name);
    if (json_array_size(js) > ST_MAX_DIMS)
        return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': shape has %zu dimensions (at most %d)", what, name,
                       json_array_size(js), ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    uint64_t numel = 1, nbytes;
    int overflow = 0;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t x;
        if (!get_u64(json_array_get(js, (size_t)d), &x))
            return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': shape[%d] is not a non-negative integer", what,
                           name, d);
        t->shape[d] = (int64_t)x;
        overflow |= __builtin_mul_overflow(numel, x, &numel);
    }
    overflow |= __builtin_mul_overflow(numel, (uint64_t)st_dtype_size(t->dtype), &nbytes);
    uint64_t b, e;
    if (!json_is_array(jo) || json_array_size(jo) != 2 || !get_u64(json_array_get(jo, 0), &b) ||
        !get_u64(json_array_get(jo, 1), &e))
        return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': 'data_offsets' must be two non-negative integers",
                       what, name);
    if (b > e)
        return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': data_offsets [%llu, %llu]: begin is after end", what,
                       name, (unsigned long long)b, (unsigned long long)e);
    if (e > data_size)
        return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': data_offsets [%llu, %llu] out of data area (%llu bytes)",
                       what, name, (unsigned long long)b, (unsigned long long)e, (unsigned long long)data_size);
    if (overflow || nbytes != e - b) {
        char sh[256];
        shape_str(t, sh, sizeof sh);
        if (overflow)
            return mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': shape %s of %s overflows 64-bit byte counts", what,
                           name, sh, st_dtype_name(t->dtype));
        return mn_errf(err, MN_EFORMAT,
                       "%s: tensor '%.200s': shape %s of %s needs %llu bytes but data_offsets [%llu, %llu] span %llu",
                       what, name, sh, st_dtype_name(t->dtype), (unsigned long long)nbytes,
                       (unsigned long long)b, (unsigned long long)e, (unsigned long long)(e - b));
    }
    t->data = data ? data + b : NULL;
    t->nbytes = (size_t)nbytes;
    r->begin = b, r->end = e;
    return 0;
}

/* "__metadata__": a flat {string: string} map. */
static int check_metadata(const char *what, const json_t *v, mn_err *err)
{
    const char *k;
    json_t *x;
    if (!json_is_object(v))
        return mn_errf(err, MN_EFORMAT, "%s: '__metadata__': expected an object of strings", what);
    json_object_foreach((json_t *)v, k, x)
        if (!json_is_string(x))
            return mn_errf(err, MN_EFORMAT, "%s: '__metadata__': key '%.100s': value is not a string", what, k);
    return 0;
}

/* Sort the byte ranges and report the first pair that overlaps.  Empty
 * tensors occupy no bytes and overlap nothing. */
static int check_overlaps(const char *what, const st_tensor *t, range *r, size_t n, mn_err *err)
{
    qsort(r, n, sizeof *r, cmp_begin);
    const range *last = NULL; /* the non-empty range reaching furthest so far */
    for (size_t i = 0; i < n; i++) {
        if (r[i].begin == r[i].end)
            continue;
        if (last && r[i].begin < last->end) {
            uint64_t stop = r[i].end < last->end ? r[i].end : last->end;
            return mn_errf(err, MN_EFORMAT, "%s: tensors '%.200s' and '%.200s' overlap at bytes [%llu, %llu)", what,
                           t[last->idx].name, t[r[i].idx].name, (unsigned long long)r[i].begin,
                           (unsigned long long)stop);
        }
        if (!last || r[i].end > last->end)
            last = &r[i];
    }
    return 0;
}

/* Turn a jansson error on the header into a message with the file byte. */
static int header_json_error(const char *what, const json_error_t *je, mn_err *err)
{
    size_t at = 8 + (size_t)je->position;
    if (json_error_code(je) == json_error_duplicate_key) {
        /* jansson says: duplicate object key near '"NAME"' */
        const char *q = strstr(je->text, "'\""), *e = strrchr(je->text, '"');
        if (q && e > q + 1)
            return mn_errf(err, MN_EFORMAT, "%s: byte %zu: duplicate tensor name '%.*s'", what, at,
                           (int)(e - q - 2), q + 2);
        return mn_errf(err, MN_EFORMAT, "%s: byte %zu: duplicate tensor name (%s)", what, at, je->text);
    }
    return mn_errf(err, MN_EFORMAT, "%s: byte %zu: header is not valid JSON: %s", what, at, je->text);
}

int st_parse(const char *what, const unsigned char *buf, size_t size, st_model **out, mn_err *err)
{
    json_t *root = NULL;
    st_tensor *t = NULL;
    range *r = NULL;
    size_t n = 0;
    int rc;
    if (out)
        *out = NULL;
    if (size < 8)
        return mn_errf(err, MN_EFORMAT, "%s: byte 0: file is %zu bytes, too short for the 8-byte header length",
                       what, size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | buf[i];
    if (hlen > ST_MAX_HEADER)
        return mn_errf(err, MN_EFORMAT, "%s: byte 0: header length %llu is absurdly large (limit %llu)", what,
                       (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > size - 8)
        return mn_errf(err, MN_EFORMAT, "%s: byte 8: header length %llu runs past end of file (%zu bytes)", what,
                       (unsigned long long)hlen, size);
    if (hlen < 2)
        return mn_errf(err, MN_EFORMAT, "%s: byte 8: header length %llu is too short for a JSON object", what,
                       (unsigned long long)hlen);

    json_error_t je;
    root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return header_json_error(what, &je, err);
    if (!json_is_object(root)) {
        rc = mn_errf(err, MN_EFORMAT, "%s: byte 8: header is not a JSON object", what);
        goto fail;
    }

    const unsigned char *data = buf + 8 + hlen;
    uint64_t data_size = size - 8 - hlen;
    size_t cap = json_object_size(root);
    t = xcalloc(cap ? cap : 1, sizeof *t);
    r = xcalloc(cap ? cap : 1, sizeof *r);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            if ((rc = check_metadata(what, v, err)))
                goto fail;
            continue;
        }
        if ((rc = parse_entry(what, key, v, data, data_size, &t[n], &r[n], err)))
            goto fail;
        t[n].name = xstrdup(key);
        r[n].idx = n;
        n++;
    }
    if ((rc = check_overlaps(what, t, r, n, err)))
        goto fail;
    qsort(t, n, sizeof *t, cmp_name);
    free(r);
    json_decref(root);
    if (!out) {
        tensors_free(t, n);
        return 0;
    }
    st_model *st = xcalloc(1, sizeof *st);
    st->t = t, st->n = n;
    st->source = xstrdup(what);
    *out = st;
    return 0;
fail:
    tensors_free(t, n);
    free(r);
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------ */
/* files and directories                                                */
/* ------------------------------------------------------------------ */

int st_open_file(const char *path, st_model **out, mn_err *err)
{
    mapfile mf;
    *out = NULL;
    int rc = mapfile_open(&mf, path, err);
    if (rc)
        return rc;
    st_model *st;
    if ((rc = st_parse(mf.path, mf.data, mf.size, &st, err))) {
        mapfile_close(&mf);
        return rc;
    }
    st->maps = xmalloc(sizeof *st->maps);
    st->maps[0] = mf;
    st->nmaps = 1;
    for (size_t i = 0; i < st->n; i++)
        st->t[i].file = st->maps[0].path;
    *out = st;
    return 0;
}

/* Move every shard's tensors and mappings into one st_model and reject a
 * tensor stored in two shards.  Consumes shards[]. */
static int merge_shards(const char *index_path, st_model **shards, int nshards, st_model **out, mn_err *err)
{
    st_model *st = xcalloc(1, sizeof *st);
    size_t total = 0;
    for (int i = 0; i < nshards; i++)
        total += shards[i]->n;
    st->t = xcalloc(total ? total : 1, sizeof *st->t);
    st->maps = xcalloc((size_t)nshards, sizeof *st->maps);
    st->source = xstrdup(index_path);
    for (int i = 0; i < nshards; i++) {
        st->maps[st->nmaps++] = shards[i]->maps[0];
        memcpy(st->t + st->n, shards[i]->t, shards[i]->n * sizeof *st->t);
        st->n += shards[i]->n;
        free(shards[i]->t);
        free(shards[i]->maps);
        free(shards[i]->source);
        free(shards[i]);
        shards[i] = NULL;
    }
    qsort(st->t, st->n, sizeof *st->t, cmp_name);
    for (size_t i = 1; i < st->n; i++)
        if (strcmp(st->t[i - 1].name, st->t[i].name) == 0) {
            int rc = mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s' is stored in both %s and %s", index_path,
                             st->t[i].name, st->t[i - 1].file, st->t[i].file);
            st_close(st);
            return rc;
        }
    *out = st;
    return 0;
}

/* A sharded checkpoint: weight_map names each tensor's file; every named
 * file is opened once and must hold the tensors mapped to it. */
static int open_index(const char *dir, const char *index_path, st_model **out, mn_err *err)
{
    json_t *root = NULL;
    const char **files = NULL;
    st_model **shards = NULL;
    int nfiles = 0, rc;
    if ((rc = json_load_path(index_path, &root, err)))
        return rc;
    const json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm)) {
        rc = mn_errf(err, MN_EFORMAT, "%s: key 'weight_map': missing or not an object", index_path);
        goto fail;
    }
    files = xcalloc(json_object_size(wm) + 1, sizeof *files);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)wm, key, v) {
        if (!json_is_string(v)) {
            rc = mn_errf(err, MN_EFORMAT, "%s: weight_map '%.200s': file name is not a string", index_path, key);
            goto fail;
        }
        const char *f = json_string_value(v);
        if (!*f || strchr(f, '/') || strcmp(f, "..") == 0) {
            rc = mn_errf(err, MN_EFORMAT, "%s: weight_map '%.200s': '%.200s' is not a file name in the checkpoint directory",
                         index_path, key, f);
            goto fail;
        }
        int k = 0;
        while (k < nfiles && strcmp(files[k], f) != 0)
            k++;
        if (k == nfiles)
            files[nfiles++] = f;
    }
    shards = xcalloc((size_t)nfiles + 1, sizeof *shards);
    for (int i = 0; i < nfiles; i++) {
        char *p = path_join(dir, files[i]);
        rc = st_open_file(p, &shards[i], err);
        free(p);
        if (rc) {
            if (rc == MN_EIO && err) {
                size_t k = strlen(err->msg);
                snprintf(err->msg + k, sizeof err->msg - k, " (named by %s)", index_path);
            }
            goto fail;
        }
    }
    json_object_foreach((json_t *)wm, key, v) {
        int k = 0;
        while (strcmp(files[k], json_string_value(v)) != 0)
            k++;
        if (!st_find(shards[k], key)) {
            rc = mn_errf(err, MN_EFORMAT, "%s: tensor '%.200s': not found, but %s maps it to this file",
                         shards[k]->maps[0].path, key, index_path);
            goto fail;
        }
    }
    rc = merge_shards(index_path, shards, nfiles, out, err);
    nfiles = 0; /* consumed */
fail:
    for (int i = 0; i < nfiles && shards; i++)
        st_close(shards[i]);
    free(shards);
    free(files);
    json_decref(root);
    return rc;
}

int st_open_dir(const char *dir, st_model **out, mn_err *err)
{
    *out = NULL;
    char *index = path_join(dir, "model.safetensors.index.json");
    struct stat sb;
    int rc;
    if (stat(index, &sb) == 0) {
        rc = open_index(dir, index, out, err);
    } else {
        char *single = path_join(dir, "model.safetensors");
        rc = st_open_file(single, out, err);
        if (rc == MN_EIO && stat(single, &sb) != 0 && err) {
            size_t k = strlen(err->msg);
            snprintf(err->msg + k, sizeof err->msg - k, " (and no model.safetensors.index.json)");
        }
        free(single);
    }
    free(index);
    return rc;
}

/* ------------------------------------------------------------------ */
/* widening                                                             */
/* ------------------------------------------------------------------ */

/* IEEE half -> single, exact for every input: normals rebias the exponent,
 * subnormals (m * 2^-24) are renormalised, inf/nan keep sign and payload. */
float st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13;
    } else if (exp != 0) {
        bits = sign | (exp + 112) << 23 | mant << 13;
    } else if (mant == 0) {
        bits = sign;
    } else {
        int e = -1; /* shift the leading 1 up to bit 10 */
        do {
            mant <<= 1;
            e++;
        } while (!(mant & 0x400));
        bits = sign | (uint32_t)(112 - e) << 23 | (mant & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float st_bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

int st_to_f32_at(const st_tensor *t, size_t first, float *dst, size_t n)
{
    size_t es = st_dtype_size(t->dtype);
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
        return MN_EUNSUPPORTED;
    if (first > t->nbytes / es || n > t->nbytes / es - first)
        return MN_ERANGE;
    const unsigned char *src = (const unsigned char *)t->data + first * es;
    if (t->dtype == ST_F32) {
        memcpy(dst, src, n * 4); /* also right for a misaligned source */
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, src + 2 * i, 2); /* safetensors is little-endian, as is every host we build for */
        dst[i] = t->dtype == ST_F16 ? st_f16_to_f32(h) : st_bf16_to_f32(h);
    }
    return 0;
}

int st_to_f32(const st_tensor *t, float *dst, size_t n) { return st_to_f32_at(t, 0, dst, n); }
