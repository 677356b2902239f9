/* st_build.h — test helpers that write small (often deliberately broken)
 * checkpoints: safetensors files from a tensor list or a raw header,
 * temporary directories, file copies.  Header-only, used by
 * test_safetensors.c and test_model_load.c.  Aborts on I/O failure (tests
 * only). */
#ifndef MNEMO_TESTS_ST_BUILD_H
#define MNEMO_TESTS_ST_BUILD_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/safetensors.h" /* st_model, st_tensor */

typedef struct stb_tensor {
    char name[256];
    char dtype[16];    /* safetensors spelling: "F32", "I64", ... */
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data;  /* borrowed */
    size_t nbytes;
} stb_tensor;

static inline void stb_die(const char *what, const char *path)
{
    fprintf(stderr, "st_build: %s %s failed\n", what, path);
    abort();
}

/* A fresh directory under $TMPDIR (or /tmp); caller frees the string. */
static inline char *stb_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/mnemo-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(p))
        stb_die("mkdtemp", p);
    return p;
}

static inline void stb_rmdir(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "st_build: could not remove %s\n", dir);
    free(dir);
}

static inline const char *stb_path(const char *dir, const char *name)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, 4096, "%s/%s", dir, name);
    return b;
}

static inline void stb_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
        stb_die("write", path);
}

static inline void stb_copy(const char *src, const char *dst)
{
    FILE *f = fopen(src, "rb");
    if (!f)
        stb_die("open", src);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        stb_die("read", src);
    fclose(f);
    stb_write_bytes(dst, buf, (size_t)n);
    free(buf);
}

/* Write a safetensors file: 8-byte length `hlen` (normally strlen(header)),
 * the header text, then `data`.  hlen may lie, to test length checks. */
static inline void stb_write_raw(const char *path, uint64_t hlen, const char *header, const void *data,
                                 size_t ndata)
{
    size_t h = strlen(header);
    unsigned char *buf = malloc(8 + h + ndata + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, header, h);
    if (ndata)
        memcpy(buf + 8 + h, data, ndata);
    stb_write_bytes(path, buf, 8 + h + ndata);
    free(buf);
}

/* The header of t[0..n), data laid out back to back in order, padded with
 * spaces to a multiple of 8 bytes as the reference writer does.  Caller
 * frees. */
static inline char *stb_header(const stb_tensor *t, int n)
{
    json_t *root = json_object();
    json_object_set_new(root, "__metadata__", json_pack("{s:s}", "format", "pt"));
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        json_t *shape = json_array();
        for (int d = 0; d < t[i].ndim; d++)
            json_array_append_new(shape, json_integer(t[i].shape[d]));
        json_object_set_new(root, t[i].name,
                            json_pack("{s:s, s:o, s:[I, I]}", "dtype", t[i].dtype, "shape", shape, "data_offsets",
                                      (json_int_t)off, (json_int_t)(off + t[i].nbytes)));
        off += t[i].nbytes;
    }
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    size_t len = strlen(s), pad = (8 - len % 8) % 8;
    s = realloc(s, len + pad + 1);
    memset(s + len, ' ', pad);
    s[len + pad] = 0;
    return s;
}

/* Concatenated data of t[0..n).  Caller frees. */
static inline unsigned char *stb_data(const stb_tensor *t, int n, size_t *len)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += t[i].nbytes;
    unsigned char *d = malloc(total + 1), *p = d;
    for (int i = 0; i < n; i++) {
        if (t[i].nbytes)
            memcpy(p, t[i].data, t[i].nbytes);
        p += t[i].nbytes;
    }
    *len = total;
    return d;
}

static inline void stb_write(const char *path, const stb_tensor *t, int n)
{
    char *h = stb_header(t, n);
    size_t nd;
    unsigned char *d = stb_data(t, n, &nd);
    stb_write_raw(path, strlen(h), h, d, nd);
    free(h);
    free(d);
}

/* Copy every tensor of an opened checkpoint into an editable list (data
 * borrowed from st).  Returns the count; *out is malloc'd. */
static inline int stb_from_model(const st_model *st, stb_tensor **out)
{
    int n = (int)st_count(st);
    stb_tensor *t = calloc((size_t)n + 8, sizeof *t); /* room to append a few */
    for (int i = 0; i < n; i++) {
        const st_tensor *s = st_at(st, (size_t)i);
        snprintf(t[i].name, sizeof t[i].name, "%s", s->name);
        snprintf(t[i].dtype, sizeof t[i].dtype, "%s", st_dtype_name(s->dtype));
        t[i].ndim = s->ndim;
        memcpy(t[i].shape, s->shape, sizeof s->shape);
        t[i].data = s->data;
        t[i].nbytes = s->nbytes;
    }
    *out = t;
    return n;
}

/* Index of `name` in t[0..n), or -1. */
static inline int stb_find(const stb_tensor *t, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return i;
    return -1;
}

/* Drop t[i], keeping order. */
static inline int stb_remove(stb_tensor *t, int n, int i)
{
    memmove(t + i, t + i + 1, (size_t)(n - i - 1) * sizeof *t);
    return n - 1;
}

#endif
