/* results.c — durable chunk records of a run directory (results.h). */
#define _POSIX_C_SOURCE 200809L
#include "run/results.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mapfile.h" /* file_read_all */
#include "util/outfile.h"
#include "util/path.h" /* path_format: paths never silently cut */

static int make_dir(const char *path, mn_err *err)
{
    return make_dirs(path, err); /* a sweep's OUT/<model>/<bench> needs its parents */
}

/* The dotted path of the first key whose value differs between a and b
 * (objects compared key by key, in a's order then b's extra keys). */
static int first_difference(json_t *a, json_t *b, char *path, size_t len, json_t **va, json_t **vb)
{
    const char *k;
    json_t *v;
    if (!json_is_object(a) || !json_is_object(b)) {
        if (json_equal(a, b))
            return 0;
        *va = a;
        *vb = b;
        return 1;
    }
    json_object_foreach(a, k, v) {
        size_t n = strlen(path);
        snprintf(path + n, len - n, "%s%s", n ? "." : "", k);
        json_t *w = json_object_get(b, k);
        if (!w) {
            *va = v;
            *vb = NULL;
            return 1;
        }
        if (first_difference(v, w, path, len, va, vb))
            return 1;
        path[n] = '\0';
    }
    json_object_foreach(b, k, v) {
        if (!json_object_get(a, k)) {
            size_t n = strlen(path);
            snprintf(path + n, len - n, "%s%s", n ? "." : "", k);
            *va = NULL;
            *vb = v;
            return 1;
        }
    }
    return 0;
}

static int write_spec(const char *path, const char *canonical, mn_err *err)
{
    outfile o;
    int rc = outfile_open(&o, path, err);
    if (!rc && !(rc = outfile_write(&o, canonical, strlen(canonical), err)) && !(rc = outfile_write(&o, "\n", 1, err)))
        return outfile_commit(&o, err);
    if (!rc)
        return 0;
    outfile_abort(&o);
    return rc;
}

int results_prepare(const char *dir, mn_err *err)
{
    char path[PATH_MAX];
    int rc = path_format(path, sizeof path, err, "%s/parts", dir);
    if (rc)
        return rc;
    rc = make_dir(dir, err);
    return rc ? rc : make_dir(path, err);
}

int results_job_write(const char *dir, const char *canonical, mn_err *err)
{
    char path[PATH_MAX];
    int rc = path_format(path, sizeof path, err, "%s/job.json", dir);
    return rc ? rc : write_spec(path, canonical, err);
}

int results_job_check(const char *dir, const char *canonical, mn_err *err)
{
    char path[PATH_MAX];
    char *old = NULL;
    size_t len;
    int rc = path_format(path, sizeof path, err, "%s/job.json", dir);
    if (rc)
        return rc;
    if (access(path, F_OK))
        return 1;
    rc = file_read_all(path, &old, &len, err);
    if (rc)
        return rc;
    while (len && (old[len - 1] == '\n' || old[len - 1] == ' '))
        old[--len] = '\0';
    if (!strcmp(old, canonical)) {
        free(old);
        return 0;
    }
    json_t *a = json_loads(canonical, 0, NULL), *b = json_loads(old, 0, NULL), *va = NULL, *vb = NULL;
    char key[256] = "";
    if (a && b && first_difference(a, b, key, sizeof key, &va, &vb)) {
        char *sa = va ? json_dumps(va, JSON_ENCODE_ANY | JSON_COMPACT) : xstrdup("absent");
        char *sb = vb ? json_dumps(vb, JSON_ENCODE_ANY | JSON_COMPACT) : xstrdup("absent");
        rc = mn_errf(err, MN_EMISMATCH, "%s: the job changed (key '%s': %.60s now, %.60s in %s)", dir, key, sa, sb, path);
        free(sa);
        free(sb);
    } else {
        rc = mn_errf(err, MN_EMISMATCH, "%s: the job changed (%s differs)", dir, path);
    }
    json_decref(a);
    json_decref(b);
    free(old);
    return rc;
}

/* ---- writing ---- */

struct results_writer {
    int fd;
    char *path;
};

int results_writer_open(const char *dir, const char *session, int rank, results_writer **out, mn_err *err)
{
    char path[PATH_MAX];
    *out = NULL;
    int prc = path_format(path, sizeof path, err, "%s/parts/%s-r%d.jsonl", dir, session, rank);
    if (prc)
        return prc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0)
        return mn_errf(err, MN_EIO, "%s: cannot create: %s", path, strerror(errno));
    results_writer *w = xcalloc(1, sizeof *w);
    w->fd = fd;
    w->path = xstrdup(path);
    *out = w;
    return 0;
}

int results_writer_commit(results_writer *w, uint64_t chunk, json_t *const *recs, size_t n, mn_err *err)
{
    size_t len = 0, cap = 4096;
    char *buf = xmalloc(cap);
    for (size_t i = 0; i <= n; i++) {
        char *line = i < n ? json_dumps(recs[i], JSON_COMPACT) : NULL, tail[96];
        if (i == n) {
            snprintf(tail, sizeof tail, "{\"chunk\":%llu,\"items\":%zu}", (unsigned long long)chunk, n);
            line = xstrdup(tail);
        }
        size_t k = strlen(line);
        while (len + k + 1 > cap)
            buf = xrealloc(buf, cap *= 2);
        memcpy(buf + len, line, k);
        buf[len + k] = '\n';
        len += k + 1;
        free(line);
    }
    int rc = 0;
    for (size_t off = 0; off < len && !rc;) {
        ssize_t got = write(w->fd, buf + off, len - off);
        if (got < 0 && errno != EINTR)
            rc = mn_errf(err, MN_EIO, "%s: write failed: %s", w->path, strerror(errno));
        off += got > 0 ? (size_t)got : 0;
    }
    if (!rc && fsync(w->fd))
        rc = mn_errf(err, MN_EIO, "%s: fsync failed: %s", w->path, strerror(errno));
    free(buf);
    return rc;
}

void results_writer_close(results_writer *w)
{
    if (!w)
        return;
    close(w->fd);
    free(w->path);
    free(w);
}

/* ---- reading ---- */

typedef struct id_index {
    const char *id;
    size_t i;
} id_index;

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const id_index *)a)->id, ((const id_index *)b)->id);
}

static long find_id(const id_index *ix, size_t n, const char *id)
{
    id_index key = {id, 0};
    const id_index *hit = bsearch(&key, ix, n, sizeof *ix, cmp_id);
    return hit ? (long)hit->i : -1;
}

/* An invalid commit, until we know whether its chunk was done elsewhere. */
typedef struct bad_commit {
    long long chunk; /* -1: outside the job */
    size_t records;
    char *msg;
} bad_commit;

typedef struct scan_ctx {
    const id_index *ix;
    const char *const *hashes;
    size_t n, chunk, nchunks;
    json_t **recs;
    uint8_t *done;     /* [nchunks] */
    uint8_t *seen;     /* [chunk] scratch */
    json_t **pend;     /* records since the last commit */
    size_t npend, cap;
    long bad_line;     /* a line since the last commit that is no record (0: none) */
    size_t kept;
    bad_commit *bad;
    size_t nbad, capbad;
} scan_ctx;

static void pend_clear(scan_ctx *s)
{
    for (size_t i = 0; i < s->npend; i++)
        json_decref(s->pend[i]);
    s->npend = 0;
    s->bad_line = 0;
}

/* Why the pending records are not exactly chunk c's items (NULL: they
 * are), into why[cap]. */
static const char *check_group(scan_ctx *s, long long c, long long items, char *why, size_t cap)
{
    if (s->bad_line) {
        snprintf(why, cap, "line %ld is not a JSON record", s->bad_line);
        return why;
    }
    if (c < 0 || (uint64_t)c >= s->nchunks) {
        snprintf(why, cap, "outside the job's %zu chunks", s->nchunks);
        return why;
    }
    size_t first = (size_t)c * s->chunk, m = s->n - first < s->chunk ? s->n - first : s->chunk;
    if (items < 0 || (uint64_t)items != s->npend || s->npend != m) {
        snprintf(why, cap, "%zu records precede the commit line, which says %lld; the chunk has %zu items", s->npend,
                 items, m);
        return why;
    }
    memset(s->seen, 0, m);
    for (size_t j = 0; j < s->npend; j++) {
        const char *id = json_string_value(json_object_get(s->pend[j], "id"));
        long i = id ? find_id(s->ix, s->n, id) : -1;
        if (i < 0 || (size_t)i < first || (size_t)i >= first + m) {
            snprintf(why, cap, "holds a record of item '%.200s', which is not one of its items", id ? id : "(no id)");
            return why;
        }
        if (s->seen[(size_t)i - first]++) {
            snprintf(why, cap, "holds item '%.200s' twice", id);
            return why;
        }
        const char *h = json_string_value(json_object_get(s->pend[j], "item_sha256"));
        if (s->hashes && (!h || strcmp(h, s->hashes[i]))) {
            snprintf(why, cap, "item '%.200s' %s", id, h ? "changed since (item_sha256 differs)" : "has no item_sha256");
            return why;
        }
    }
    return NULL;
}

/* A commit line of chunk c at line `line` of file. */
static void commit(scan_ctx *s, const char *file, long line, long long c, long long items)
{
    char why[320];
    if (!check_group(s, c, items, why, sizeof why)) {
        if (!s->done[c]) { /* the first valid commit of a chunk wins */
            for (size_t j = 0; j < s->npend; j++) {
                long i = find_id(s->ix, s->n, json_string_value(json_object_get(s->pend[j], "id")));
                s->recs[i] = json_incref(s->pend[j]);
            }
            s->done[c] = 1;
            s->kept += s->npend;
        }
    } else {
        mn_err e; /* mn_errf escapes what a hand-edited file may hold */
        mn_errf(&e, MN_EFORMAT, "%s: line %ld: chunk %lld: %s", file, line, c, why);
        if (s->nbad == s->capbad)
            s->bad = xrealloc(s->bad, (s->capbad = s->capbad ? 2 * s->capbad : 8) * sizeof *s->bad);
        s->bad[s->nbad++] = (bad_commit){c >= 0 && (uint64_t)c < s->nchunks ? c : -1, s->npend, xstrdup(e.msg)};
    }
    pend_clear(s);
}

static int scan_file(scan_ctx *s, const char *path, mn_err *err)
{
    char *text = NULL;
    size_t len;
    int rc = file_read_all(path, &text, &len, err);
    long line = 0;
    for (size_t off = 0; !rc && off < len;) {
        const char *nl = memchr(text + off, '\n', len - off);
        if (!nl)
            break; /* a torn last line: ignored, its chunk is redone */
        line++;
        json_t *j = json_loadb(text + off, (size_t)(nl - text - off), 0, NULL);
        off = (size_t)(nl - text) + 1;
        json_t *c = json_object_get(j, "chunk");
        if (!json_is_object(j)) {
            if (!s->bad_line)
                s->bad_line = line; /* damage, or the torn tail of a killed writer */
        } else if (json_is_integer(c) && !json_object_get(j, "id")) {
            json_t *items = json_object_get(j, "items");
            commit(s, path, line, json_integer_value(c), json_is_integer(items) ? json_integer_value(items) : -1);
        } else {
            if (s->npend == s->cap)
                s->pend = xrealloc(s->pend, (s->cap = s->cap ? 2 * s->cap : 16) * sizeof *s->pend);
            s->pend[s->npend++] = json_incref(j);
        }
        json_decref(j);
    }
    pend_clear(s); /* records without their commit line */
    free(text);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's entries ending in suffix, sorted; *n gets the count. */
static int list_names(const char *dir, const char *suffix, char ***out, size_t *n, mn_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : mn_errf(err, MN_EIO, "%s: cannot open: %s", dir, strerror(errno));
    size_t cap = 0, sl = strlen(suffix);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l <= sl || strcmp(e->d_name + l - sl, suffix))
            continue;
        if (*n == cap)
            *out = xrealloc(*out, (cap = cap ? 2 * cap : 16) * sizeof **out);
        (*out)[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n) /* qsort's array must not be NULL, even for 0 elements */
        qsort(*out, *n, sizeof **out, cmp_str);
    return 0;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void results_scan_info_free(results_scan_info *info)
{
    if (!info)
        return;
    free_names(info->bad, info->nbad);
    memset(info, 0, sizeof *info);
}

int results_scan(const char *dir, const char *const *ids, const char *const *hashes, size_t n, size_t chunk,
                 json_t **recs, uint8_t *done, results_scan_info *info, mn_err *err)
{
    char path[PATH_MAX];
    size_t nchunks = (n + chunk - 1) / chunk, nn = 0;
    char **names = NULL;
    for (size_t i = 0; i < n; i++)
        recs[i] = NULL;
    if (info)
        memset(info, 0, sizeof *info);
    int rc = path_format(path, sizeof path, err, "%s/parts", dir);
    if (!rc)
        rc = list_names(path, ".jsonl", &names, &nn, err);
    if (rc)
        return rc;
    id_index *ix = xmalloc((n ? n : 1) * sizeof *ix);
    for (size_t i = 0; i < n; i++)
        ix[i] = (id_index){ids[i], i};
    if (n)
        qsort(ix, n, sizeof *ix, cmp_id);
    scan_ctx s = {.ix = ix, .hashes = hashes, .n = n, .chunk = chunk, .nchunks = nchunks, .recs = recs,
                  .done = xcalloc(nchunks ? nchunks : 1, 1), .seen = xcalloc(chunk ? chunk : 1, 1)};
    for (size_t f = 0; f < nn && !rc; f++) { /* names in order: a deterministic "first" */
        char *file = path_join(path, names[f]);
        rc = scan_file(&s, file, err);
        free(file);
    }
    for (size_t b = 0; b < s.nbad; b++) { /* invalid commits of chunks still to do */
        if (!rc && info && (s.bad[b].chunk < 0 || !s.done[s.bad[b].chunk])) {
            info->invalid += s.bad[b].records;
            info->bad = xrealloc(info->bad, (info->nbad + 1) * sizeof *info->bad);
            info->bad[info->nbad++] = s.bad[b].msg;
        } else {
            free(s.bad[b].msg);
        }
    }
    if (info)
        info->kept = s.kept;
    if (done && !rc)
        memcpy(done, s.done, nchunks);
    free_names(names, nn);
    free(s.bad);
    free(s.pend);
    free(s.done);
    free(s.seen);
    free(ix);
    if (rc) {
        results_scan_info_free(info);
        for (size_t i = 0; i < n; i++) {
            json_decref(recs[i]);
            recs[i] = NULL;
        }
    }
    return rc;
}

/* ---- starting over ---- */

/* Rename dir/name to to/name when it exists.  MN_EIO. */
static int move_if_there(const char *dir, const char *name, const char *to, mn_err *err)
{
    char *a = path_join(dir, name), *b = path_join(to, name);
    int rc = 0;
    if (!access(a, F_OK) && rename(a, b))
        rc = mn_errf(err, MN_EIO, "%s: cannot move to %s: %s", a, to, strerror(errno));
    free(a);
    free(b);
    return rc;
}

/* Copy dir/name to to/name when it exists.  MN_EIO. */
static int copy_if_there(const char *dir, const char *name, const char *to, mn_err *err)
{
    char *a = path_join(dir, name), *b = path_join(to, name), *text = NULL;
    size_t len;
    int rc = 0;
    outfile o;
    if (!access(a, F_OK) && !(rc = file_read_all(a, &text, &len, err)) && !(rc = outfile_open(&o, b, err))) {
        if ((rc = outfile_write(&o, text, len, err)))
            outfile_abort(&o);
        else
            rc = outfile_commit(&o, err);
    }
    free(text);
    free(a);
    free(b);
    return rc;
}

/* Copy the records of the kept chunks to parts/<session>-kept-r0.jsonl. */
static int write_kept(const char *dir, const char *session, json_t *const *recs, const uint8_t *keep, size_t n,
                      size_t chunk, mn_err *err)
{
    size_t nchunks = (n + chunk - 1) / chunk, any = 0;
    for (size_t c = 0; keep && c < nchunks; c++)
        any += keep[c];
    if (!any)
        return 0;
    char name[256];
    snprintf(name, sizeof name, "%s-kept", session);
    results_writer *w = NULL;
    int rc = results_writer_open(dir, name, 0, &w, err);
    for (size_t c = 0; !rc && c < nchunks; c++)
        if (keep[c]) {
            size_t first = c * chunk, m = n - first < chunk ? n - first : chunk;
            rc = results_writer_commit(w, c, recs + first, m, err);
        }
    results_writer_close(w);
    return rc;
}

/* Move the lm-eval files (dir/<folder>/results_*.json) into to/<folder>/. */
static int move_lm_eval_files(const char *dir, const char *to, mn_err *err)
{
    char **subs = NULL;
    size_t ns = 0;
    int rc = list_names(dir, "", &subs, &ns, err);
    for (size_t i = 0; !rc && i < ns; i++) {
        char *sub = path_join(dir, subs[i]), *dest = path_join(to, subs[i]), **files = NULL;
        size_t nf = 0;
        struct stat sb;
        if (strcmp(subs[i], "parts") && strcmp(subs[i], "set-aside") && !stat(sub, &sb) && S_ISDIR(sb.st_mode) &&
            !(rc = list_names(sub, ".json", &files, &nf, err)))
            for (size_t k = 0; !rc && k < nf; k++)
                if (!strncmp(files[k], "results_", 8) && !(rc = make_dirs(dest, err)))
                    rc = move_if_there(sub, files[k], dest, err);
        free_names(files, nf);
        free(sub);
        free(dest);
    }
    free_names(subs, ns);
    return rc;
}

int results_set_aside(const char *dir, const char *session, json_t *const *recs, const uint8_t *keep, size_t n,
                      size_t chunk, char **where, mn_err *err)
{
    char to[PATH_MAX], parts[PATH_MAX], to_parts[PATH_MAX + 8];
    char **names = NULL;
    size_t nn = 0;
    *where = NULL;
    int rc = path_format(to, sizeof to, err, "%s/set-aside/%s", dir, session);
    if (!rc)
        rc = path_format(parts, sizeof parts, err, "%s/parts", dir);
    if (!rc)
        rc = path_format(to_parts, sizeof to_parts, err, "%s/parts", to);
    if (rc)
        return rc;
    rc = make_dirs(to_parts, err);
    if (!rc && !(rc = copy_if_there(dir, "job.json", to, err)))
        rc = copy_if_there(dir, "identity.json", to, err);
    if (!rc) /* the files to move, listed before the kept records get theirs */
        rc = list_names(parts, ".jsonl", &names, &nn, err);
    if (!rc)
        rc = write_kept(dir, session, recs, keep, n, chunk, err);
    for (size_t i = 0; !rc && i < nn; i++)
        rc = move_if_there(parts, names[i], to_parts, err);
    static const char *const outputs[] = {"items.jsonl", "summary.json", "run-stats.json", "contam"};
    for (size_t i = 0; !rc && i < sizeof outputs / sizeof *outputs; i++)
        rc = move_if_there(dir, outputs[i], to, err);
    if (!rc)
        rc = move_lm_eval_files(dir, to, err);
    free_names(names, nn);
    if (!rc)
        *where = xstrdup(to);
    return rc;
}
