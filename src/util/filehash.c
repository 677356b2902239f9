/* filehash.c — cached SHA-256 of whole files (filehash.h). */
#define _POSIX_C_SOURCE 200809L
#include "util/filehash.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/hash.h"     /* sha256_* */
#include "util/jsonfile.h" /* json_load_path */
#include "util/outfile.h"  /* outfile_* */
#include "util/path.h"     /* path_join */

#define BLOCK ((size_t)1 << 20)

/* What identifies a file's version without reading it. */
typedef struct file_stamp {
    long long size, mtime_ns, ctime_ns, inode;
} file_stamp;

static file_stamp stamp_of(const struct stat *st)
{
    file_stamp s = {(long long)st->st_size, (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec,
                    (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec, (long long)st->st_ino};
    return s;
}

static int stamp_equal(const file_stamp *a, const file_stamp *b)
{
    return a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns && a->inode == b->inode;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- one file ---- */

static void to_hex(const uint8_t d[32], char hex[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* Read and hash path; *stamp gets its stamp, which must hold from the
 * first byte read to the last. */
static int hash_file(const char *path, char hex[65], file_stamp *stamp, mn_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat before, after;
    int rc = 0;
    if (fstat(fd, &before) || !S_ISREG(before.st_mode)) {
        close(fd);
        return mn_errf(err, MN_EIO, "%s: not a regular file", path);
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    uint8_t *buf = xmalloc(BLOCK), d[32];
    sha256_ctx c;
    sha256_init(&c);
    for (;;) {
        ssize_t got = read(fd, buf, BLOCK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = mn_errf(err, MN_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        sha256_update(&c, buf, (size_t)got);
    }
    free(buf);
    if (!rc && fstat(fd, &after))
        rc = mn_errf(err, MN_EIO, "%s: fstat: %s", path, strerror(errno));
    close(fd);
    if (rc)
        return rc;
    *stamp = stamp_of(&before);
    file_stamp s2 = stamp_of(&after);
    if (!stamp_equal(stamp, &s2) || c.total != (uint64_t)before.st_size)
        return mn_errf(err, MN_EIO, "%s: the file changed while it was hashed (%lld -> %lld bytes); rerun once it is "
                       "complete", path, stamp->size, s2.size);
    sha256_final(&c, d);
    to_hex(d, hex);
    return 0;
}

/* ---- caches ---- */

typedef struct cache {
    char *file;   /* the cache file's path */
    json_t *root; /* its "files" object (owned), empty when unreadable */
    int dirty;    /* entries added */
    int beside;   /* names are base names (else realpaths) */
} cache;

typedef struct cache_set {
    cache *c;
    size_t n, cap;
} cache_set;

/* The "files" object of the cache file at path, or a new empty one. */
static json_t *cache_read(const char *path)
{
    json_t *j = NULL, *files;
    if (access(path, F_OK) || json_load_path(path, &j, NULL))
        return json_object();
    files = json_object_get(j, "files");
    if (!json_is_object(files) || json_integer_value(json_object_get(j, "version")) != 1)
        files = NULL;
    files = files ? json_incref(files) : json_object();
    json_decref(j);
    return files;
}

/* The cache kept in dir (loaded once per call). */
static cache *cache_get(cache_set *cs, const char *dir, int beside)
{
    char *file = path_join(dir, FILEHASH_CACHE_NAME);
    for (size_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->c[i].file, file)) {
            free(file);
            return &cs->c[i];
        }
    if (cs->n == cs->cap)
        cs->c = xrealloc(cs->c, (cs->cap = cs->cap ? 2 * cs->cap : 4) * sizeof *cs->c);
    cache *c = &cs->c[cs->n++];
    *c = (cache){file, cache_read(file), 0, beside};
    return c;
}

static int entry_matches(json_t *e, const file_stamp *s, char hex[65])
{
    const char *h = json_string_value(json_object_get(e, "sha256"));
    file_stamp t = {json_integer_value(json_object_get(e, "size")), json_integer_value(json_object_get(e, "mtime_ns")),
                    json_integer_value(json_object_get(e, "ctime_ns")), json_integer_value(json_object_get(e, "inode"))};
    if (!h || strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64 || !stamp_equal(&t, s))
        return 0;
    memcpy(hex, h, 65);
    return 1;
}

static void entry_put(cache *c, const char *name, const file_stamp *s, const char *hex)
{
    json_object_set_new(c->root, name,
                        json_pack("{s:I, s:I, s:I, s:I, s:s}", "size", (json_int_t)s->size, "mtime_ns",
                                  (json_int_t)s->mtime_ns, "ctime_ns", (json_int_t)s->ctime_ns, "inode",
                                  (json_int_t)s->inode, "sha256", hex));
    c->dirty = 1;
}

/* Write c (merged over what another process may have written meanwhile);
 * 0 or -1. */
static int cache_write(cache *c)
{
    json_t *now = cache_read(c->file);
    json_object_update(now, c->root);
    json_t *doc = json_pack("{s:s, s:i, s:o}", "format", "mnemo-sha256-cache", "version", 1, "files", now);
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(doc);
    outfile o;
    int rc = text ? outfile_open(&o, c->file, NULL) : -1;
    if (!rc && (outfile_write(&o, text, strlen(text), NULL) || outfile_write(&o, "\n", 1, NULL))) {
        outfile_abort(&o);
        rc = -1;
    } else if (!rc) {
        rc = outfile_commit(&o, NULL) ? -1 : 0;
    }
    free(text);
    return rc;
}

static void cache_set_free(cache_set *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        free(cs->c[i].file);
        json_decref(cs->c[i].root);
    }
    free(cs->c);
}

/* The folder of path ("." for a bare name) and its last component. */
static char *dir_of(const char *path, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash)
        return xstrdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = xmalloc(n + 1);
    memcpy(d, path, n);
    d[n] = 0;
    return d;
}

/* ---- the call ---- */

typedef struct job_ {
    const char *path;
    char *dir;        /* its folder (owned) */
    const char *base; /* its name */
    char *real;       /* realpath (owned), NULL when unknown */
    file_stamp stamp;
    int hit;
    int rc;
    mn_err err;
} job_;

int filehash_sha256(const char *const *paths, size_t n, int beside, const char *fallback_dir, char (*hex)[65],
                    filehash_stats *st, mn_err *err)
{
    job_ *jobs = xcalloc(n ? n : 1, sizeof *jobs);
    cache_set cs = {0};
    cache *fb = fallback_dir ? cache_get(&cs, fallback_dir, 0) : NULL;
    size_t misses = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) { /* look every file up */
        job_ *j = &jobs[i];
        struct stat sb;
        j->path = paths[i];
        j->dir = dir_of(paths[i], &j->base);
        j->real = realpath(paths[i], NULL);
        if (stat(paths[i], &sb) || !S_ISREG(sb.st_mode)) {
            rc = mn_errf(err, MN_EIO, "%s: %s", paths[i], errno == ENOENT ? "does not exist" : "not a regular file");
            goto done;
        }
        j->stamp = stamp_of(&sb);
        cache *c = beside ? cache_get(&cs, j->dir, 1) : NULL;
        fb = fallback_dir ? cache_get(&cs, fallback_dir, 0) : NULL; /* cache_get may move the array */
        j->hit = (c && entry_matches(json_object_get(c->root, j->base), &j->stamp, hex[i])) ||
                 (fb && j->real && entry_matches(json_object_get(fb->root, j->real), &j->stamp, hex[i]));
        misses += !j->hit;
    }
    double t0 = now_s();
#pragma omp parallel for schedule(dynamic, 1) if (misses > 1)
    for (size_t i = 0; i < n; i++)
        if (!jobs[i].hit)
            jobs[i].rc = hash_file(jobs[i].path, hex[i], &jobs[i].stamp, &jobs[i].err);
    double dt = now_s() - t0;
    for (size_t i = 0; i < n && !rc; i++)
        if (jobs[i].rc) {
            rc = jobs[i].rc;
            if (err)
                *err = jobs[i].err;
        }
    if (rc)
        goto done;
    for (size_t i = 0; i < n; i++) { /* record the new hashes, beside the file when possible */
        job_ *j = &jobs[i];
        if (st) {
            st->hashed_files += !j->hit;
            st->hashed_bytes += j->hit ? 0 : (uint64_t)j->stamp.size;
            st->cached_files += j->hit != 0;
            st->cached_bytes += j->hit ? (uint64_t)j->stamp.size : 0;
        }
        if (!j->hit && beside)
            entry_put(cache_get(&cs, j->dir, 1), j->base, &j->stamp, hex[i]);
        else if (!j->hit && fallback_dir && j->real)
            entry_put(cache_get(&cs, fallback_dir, 0), j->real, &j->stamp, hex[i]);
    }
    if (st)
        st->hash_seconds += dt;
    for (size_t k = 0; k < cs.n; k++) {
        if (!cs.c[k].dirty || !cs.c[k].beside || !cache_write(&cs.c[k]))
            continue;
        /* that folder is read-only: keep its entries in the fallback cache */
        for (size_t i = 0; i < n; i++) {
            char *f = path_join(jobs[i].dir, FILEHASH_CACHE_NAME);
            cache *c = &cs.c[k];
            int here = !strcmp(f, c->file) && !jobs[i].hit && jobs[i].real;
            free(f);
            if (here && fallback_dir)
                entry_put(cache_get(&cs, fallback_dir, 0), jobs[i].real, &jobs[i].stamp, hex[i]);
        }
    }
    fb = fallback_dir ? cache_get(&cs, fallback_dir, 0) : NULL;
    if (fb && fb->dirty)
        cache_write(fb); /* a cache that cannot be written only costs time */
done:
    for (size_t i = 0; i < n; i++) {
        free(jobs[i].dir);
        free(jobs[i].real);
    }
    free(jobs);
    cache_set_free(&cs);
    return rc;
}
