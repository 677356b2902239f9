/* dense.c — embedding files, exact sgemm top-k, batched embedding; see
 * dense.h. */
#include "retrieval/dense.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/kvcache.h"
#include "util/hash.h"     /* hash64 */
#include "util/jsonfile.h" /* json_load_path */
#include "util/mapfile.h"  /* mapfile, file_read_all */
#include "util/outfile.h"  /* outfile: temporary file, fsync, rename */
#include "util/path.h"     /* path_join */
#include "util/tmpfiles.h" /* tmpfiles_remove_dead */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "embedding files are written as the host's floats and integers, which must be little-endian"
#endif

const char *dense_pooling_name(embed_pooling p)
{
    return p == EMBED_POOL_MEAN ? "mean" : "last";
}

int dense_model_hash(const char *model_dir, char out[65], mn_err *err)
{
    char *path = path_join(model_dir, "config.json"), *buf;
    size_t len;
    int rc = file_read_all(path, &buf, &len, err);
    free(path);
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

/* A "16 hex" string member into *v. */
static int get_hex64(json_t *j, const char *key, const char *path, uint64_t *v, mn_err *err)
{
    char hex[17], *end;
    int rc = get_str(j, key, path, hex, sizeof hex, err);
    if (rc)
        return rc;
    errno = 0;
    *v = strtoull(hex, &end, 16);
    if (errno || *end || end == hex)
        return mn_errf(err, MN_EFORMAT, "%s: key \"%s\": '%s' is not hex", path, key, hex);
    return 0;
}

/* Parse the sidecar at path into *m. */
static int meta_parse(const char *path, dense_meta *m, mn_err *err)
{
    char pool[8];
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
    if (!rc)
        rc = get_hex64(j, "ids_hash", path, &m->ids_hash, err);
    if (!rc)
        rc = get_hex64(j, "content_hash", path, &m->content_hash, err);
    m->dim = (uint32_t)dim;
    m->max_tokens = (uint32_t)mt;
    json_decref(j);
    return rc;
}

int dense_meta_read(const char *shard_dir, dense_meta *m, mn_err *err)
{
    memset(m, 0, sizeof *m);
    char *path = path_join(shard_dir, DENSE_META_FILE);
    int present = !access(path, F_OK);
    int rc = present ? meta_parse(path, m, err) : 0;
    free(path);
    return rc ? rc : present;
}

/* Write the text s + "\n" to path atomically (util/outfile.h).  kill_at:
 * the test hook point between the temporary file and the rename (or NULL). */
static void kill_point(const char *point);
static int text_write(const char *path, const char *s, const char *kill_at, mn_err *err)
{
    outfile o = {0};
    int rc = outfile_open(&o, path, err);
    if (rc)
        return rc;
    if ((rc = outfile_write(&o, s, strlen(s), err)) || (rc = outfile_write(&o, "\n", 1, err))) {
        outfile_abort(&o);
        return rc;
    }
    if (kill_at) {
        fflush(o.f);
        kill_point(kill_at);
    }
    return outfile_commit(&o, err);
}

static int meta_write(const char *shard_dir, const dense_meta *m, mn_err *err)
{
    char *path = path_join(shard_dir, DENSE_META_FILE), ih[17], ch[17];
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
    int rc = s ? text_write(path, s, NULL, err)
               : mn_errf(err, MN_ENOMEM, "%s: cannot format the sidecar (model_dir not UTF-8?)", path);
    free(s);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------------------
 * writer: part files, durable blocks, the progress record (see dense.h)
 */

/* Test hook MNEMO_EMBED_KILL_AT=POINT[:N]: SIGKILL at the N-th visit of
 * POINT (dense.h lists the points). */
static void kill_point(const char *point)
{
    static unsigned visits;
    const char *at = getenv("MNEMO_EMBED_KILL_AT");
    size_t len = strlen(point);
    if (!at || strncmp(at, point, len) || (at[len] && at[len] != ':'))
        return;
    unsigned n = at[len] == ':' ? (unsigned)strtoul(at + len + 1, NULL, 10) : 1;
    if (++visits == n)
        raise(SIGKILL);
}

/* The code for a failed write or fsync: a full disk is MN_ENOSPACE. */
static int write_code(int e)
{
    return e == ENOSPC || e == EDQUOT ? MN_ENOSPACE : MN_EIO;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -1 : (errno = EIO, -1);
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Read n bytes at off; -1 with errno, or with errno 0 at a short file. */
static int pread_all(int fd, void *buf, size_t n, off_t off)
{
    char *p = buf;
    while (n) {
        ssize_t k = pread(fd, p, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -1 : (errno = 0, -1);
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

/* Make the renames and creations in dir durable. */
static int fsync_dir(const char *dir, mn_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) && errno != EINVAL)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return mn_errf(err, MN_EIO, "%s: cannot sync the directory: %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

static int unlink_file(const char *dir, const char *name, size_t *removed, mn_err *err)
{
    char *path = path_join(dir, name);
    int rc = 0;
    if (!unlink(path)) {
        if (removed)
            ++*removed;
    } else if (errno != ENOENT) {
        rc = mn_errf(err, MN_EIO, "%s: cannot remove: %s", path, strerror(errno));
    }
    free(path);
    return rc;
}

struct dense_writer {
    char *dir, *mat_path, *ids_path; /* the part files' paths */
    dense_job job;
    int fmat, fids; /* part files, positioned at their ends (-1: closed) */
    uint64_t count, last_id, content_hash;
    uint8_t *hbuf; /* every id written, for the ids hash (hash64 is not streaming) */
    size_t hlen, hcap;
};

/* The job's identity as the progress record writes it.  model_dir (the
 * same model moved elsewhere resumes) and the batch are not part of it:
 * the engine's numbers do not depend on the batch or the thread count
 * (model/linear.h), so a requeued job with other --batch or --threads
 * continues and still writes the same bytes. */
static json_t *job_json(const dense_job *job)
{
    char sh[33];
    snprintf(sh, sizeof sh, "%016" PRIx64 "%016" PRIx64, job->shard_hash[1], job->shard_hash[0]);
    const dense_meta *w = &job->want;
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "model_config_sha256", w->model_sha256, "pooling",
                     dense_pooling_name(w->pooling), "max_tokens", (json_int_t)w->max_tokens, "dim",
                     (json_int_t)w->dim, "shard_next_local", (json_int_t)w->next_local, "shard_chunks",
                     (json_int_t)w->count, "shard_hash", sh);
}

/* Replace the progress record with the state after w->count rows. */
static int progress_write(dense_writer *w, uint64_t truncated, uint64_t empty, mn_err *err)
{
    char ih[17], ch[17];
    snprintf(ih, sizeof ih, "%016" PRIx64, hash64(w->hbuf, w->hlen, 0));
    snprintf(ch, sizeof ch, "%016" PRIx64, w->content_hash);
    json_t *j = json_pack("{s:s, s:i, s:s, s:I}", "format", "mnemo-embeddings-progress", "version", 1, "model_dir",
                          w->job.want.model_dir, "batch", (json_int_t)w->job.batch);
    json_t *id = job_json(&w->job);
    json_t *rows = json_pack("{s:I, s:I, s:I, s:I, s:s, s:s}", "rows", (json_int_t)w->count, "last_id",
                             (json_int_t)w->last_id, "truncated", (json_int_t)truncated, "empty",
                             (json_int_t)empty, "ids_hash", ih, "content_hash", ch);
    char *s = NULL;
    if (j && id && rows && !json_object_update(j, id) && !json_object_update(j, rows))
        s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    json_decref(id);
    json_decref(rows);
    char *path = path_join(w->dir, DENSE_PROGRESS_FILE);
    int rc = s ? text_write(path, s, "record-tmp", err)
               : mn_errf(err, MN_ENOMEM, "%s: cannot format the record (model_dir not UTF-8?)", path);
    if (!rc)
        rc = fsync_dir(w->dir, err);
    free(s);
    free(path);
    return rc;
}

/* The first key of want whose value differs in rec: "KEY X (this run: Y)". */
static void job_diff(json_t *rec, json_t *want, char *why, size_t cap)
{
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v) {
        json_t *r = json_object_get(rec, key);
        if (r && json_equal(r, v))
            continue;
        char *a = r ? json_dumps(r, JSON_ENCODE_ANY) : NULL, *b = json_dumps(v, JSON_ENCODE_ANY);
        snprintf(why, cap, "made with %s %.80s (this run: %.80s)", key, a ? a : "(missing)", b ? b : "?");
        free(a);
        free(b);
        return;
    }
}

/* Read the progress record of shard_dir when it is this job's: 1 with
 * r->rows, last_id and the counters and the two hashes; 0 (r->why says why
 * when there is a record) otherwise. */
static int progress_read(const char *shard_dir, const dense_job *job, dense_resume *r, uint64_t *ids_hash,
                         uint64_t *content_hash)
{
    char *path = path_join(shard_dir, DENSE_PROGRESS_FILE);
    json_t *j = NULL, *want = job_json(job);
    mn_err e = {0};
    int ok = 0;
    if (access(path, F_OK))
        goto done;
    if (json_load_path(path, &j, &e))
        goto bad;
    json_t *fmt = json_object_get(j, "format"), *ver = json_object_get(j, "version");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "mnemo-embeddings-progress") ||
        json_integer_value(ver) != 1) {
        mn_errf(&e, MN_EFORMAT, "not a version 1 progress record");
        goto bad;
    }
    job_diff(j, want, r->why, sizeof r->why);
    if (r->why[0])
        goto done;
    if (get_u64(j, "rows", path, &r->rows, &e) || get_u64(j, "last_id", path, &r->last_id, &e) ||
        get_u64(j, "truncated", path, &r->truncated, &e) || get_u64(j, "empty", path, &r->empty, &e) ||
        get_hex64(j, "ids_hash", path, ids_hash, &e) || get_hex64(j, "content_hash", path, content_hash, &e))
        goto bad;
    if (r->rows > job->want.count) {
        mn_errf(&e, MN_EFORMAT, "%" PRIu64 " rows: more than the shard holds", r->rows);
        goto bad;
    }
    ok = 1;
    goto done;
bad:
    snprintf(r->why, sizeof r->why, "%s: %.280s", DENSE_PROGRESS_FILE, e.msg); /* a message: cut is fine */
done:
    json_decref(j);
    json_decref(want);
    free(path);
    if (!ok)
        r->rows = r->last_id = r->truncated = r->empty = 0;
    return ok;
}

/* Open a part file for writing: O_TRUNC when starting over. */
static int part_open(const char *path, int trunc, int *fd, mn_err *err)
{
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (trunc ? O_TRUNC : 0), 0666);
    if (*fd < 0)
        return mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    return 0;
}

/* Do the part files hold the r->rows rows the record describes?  Reads the
 * ids into w->hbuf and recomputes the content hash.  1 yes (both files cut
 * to those rows, positioned at their ends), 0 no (r->why), or MN_EIO. */
static int parts_verify(dense_writer *w, dense_resume *r, uint64_t ids_hash, uint64_t content_hash, mn_err *err)
{
    uint64_t R = r->rows;
    size_t row_bytes = (size_t)w->job.want.dim * sizeof(float);
    struct stat st_mat, st_ids;
    if (stat(w->mat_path, &st_mat) || stat(w->ids_path, &st_ids)) {
        snprintf(r->why, sizeof r->why, "part files missing");
        return 0;
    }
    if ((uint64_t)st_ids.st_size < R * 8 || (uint64_t)st_mat.st_size / row_bytes < R) {
        snprintf(r->why, sizeof r->why, "part files shorter (%lld and %lld bytes) than %" PRIu64 " rows",
                 (long long)st_mat.st_size, (long long)st_ids.st_size, R);
        return 0;
    }
    int rc = part_open(w->ids_path, 0, &w->fids, err);
    if (!rc)
        rc = part_open(w->mat_path, 0, &w->fmat, err);
    if (rc)
        return rc;
    w->hcap = w->hlen = R * 8;
    w->hbuf = xmalloc(w->hcap ? w->hcap : 1);
    if (pread_all(w->fids, w->hbuf, w->hlen, 0))
        return mn_errf(err, MN_EIO, "%s: read failed: %s", w->ids_path, strerror(errno ? errno : EIO));
    const uint64_t *ids = (const uint64_t *)w->hbuf;
    if (hash64(w->hbuf, w->hlen, 0) != ids_hash || (R && ids[R - 1] != r->last_id)) {
        snprintf(r->why, sizeof r->why, "%s: ids differ from the progress record's", DENSE_IDS_PART);
        return 0;
    }
    /* the content hash over the first R rows, in reads of up to 4 MiB */
    size_t per = row_bytes >= (4u << 20) ? 1 : (4u << 20) / row_bytes;
    float *buf = xmalloc(per * row_bytes);
    uint64_t h = 0;
    for (uint64_t i0 = 0; i0 < R && !rc; i0 += per) {
        size_t n = R - i0 < per ? (size_t)(R - i0) : per;
        if (pread_all(w->fmat, buf, n * row_bytes, (off_t)(i0 * row_bytes))) {
            rc = mn_errf(err, MN_EIO, "%s: read failed: %s", w->mat_path, strerror(errno ? errno : EIO));
            break;
        }
        for (size_t i = 0; i < n; i++) {
            h = hash64(&ids[i0 + i], 8, h);
            h = hash64(buf + i * w->job.want.dim, row_bytes, h);
        }
    }
    free(buf);
    if (rc)
        return rc;
    if (h != content_hash) {
        snprintf(r->why, sizeof r->why, "%s: rows differ from the progress record's", DENSE_MATRIX_PART);
        return 0;
    }
    /* drop what was written after the last durable block */
    if (ftruncate(w->fmat, (off_t)(R * row_bytes)) || lseek(w->fmat, 0, SEEK_END) < 0)
        return mn_errf(err, MN_EIO, "%s: cannot cut to %" PRIu64 " rows: %s", w->mat_path, R, strerror(errno));
    if (ftruncate(w->fids, (off_t)(R * 8)) || lseek(w->fids, 0, SEEK_END) < 0)
        return mn_errf(err, MN_EIO, "%s: cannot cut to %" PRIu64 " ids: %s", w->ids_path, R, strerror(errno));
    w->count = R;
    w->last_id = r->last_id;
    w->content_hash = h;
    return 1;
}

/* Close the part files (their data stays). */
static void parts_close(dense_writer *w)
{
    if (w->fmat >= 0)
        close(w->fmat);
    if (w->fids >= 0)
        close(w->fids);
    w->fmat = w->fids = -1;
}

/* Forget any resumed state and start the shard over: the old record goes
 * first (it must never describe the new part files), then the parts are
 * truncated. */
static int start_over(dense_writer *w, mn_err *err)
{
    parts_close(w);
    free(w->hbuf);
    w->hbuf = NULL;
    w->hlen = w->hcap = 0;
    w->count = w->last_id = w->content_hash = 0;
    int rc = unlink_file(w->dir, DENSE_PROGRESS_FILE, NULL, err);
    if (!rc)
        rc = part_open(w->ids_path, 1, &w->fids, err);
    if (!rc)
        rc = part_open(w->mat_path, 1, &w->fmat, err);
    return rc;
}

static void writer_free(dense_writer *w)
{
    parts_close(w);
    free(w->hbuf);
    free(w->dir);
    free(w->mat_path);
    free(w->ids_path);
    free(w);
}

int dense_writer_open(const char *shard_dir, const dense_job *job, dense_writer **out, dense_resume *resume,
                      mn_err *err)
{
    *out = NULL;
    memset(resume, 0, sizeof *resume);
    if (!job->batch || !job->want.dim)
        return mn_errf(err, MN_EUSAGE, "%s: embedding job with batch %u, dim %u", shard_dir, job->batch,
                       job->want.dim);
    int rc = unlink_file(shard_dir, DENSE_META_FILE, NULL, err);
    if (rc)
        return rc;
    dense_writer *w = xcalloc(1, sizeof *w);
    w->dir = xstrdup(shard_dir);
    w->mat_path = path_join(shard_dir, DENSE_MATRIX_PART);
    w->ids_path = path_join(shard_dir, DENSE_IDS_PART);
    w->job = *job;
    w->fmat = w->fids = -1;
    uint64_t ids_hash = 0, content_hash = 0;
    rc = progress_read(shard_dir, job, resume, &ids_hash, &content_hash);
    if (rc == 1)
        rc = parts_verify(w, resume, ids_hash, content_hash, err);
    if (rc == 0) {
        resume->rows = resume->last_id = resume->truncated = resume->empty = 0;
        rc = start_over(w, err);
    } else if (rc == 1) {
        rc = 0;
    }
    if (rc) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int dense_writer_add(dense_writer *w, const float *x, const uint64_t *ids, size_t n, mn_err *err)
{
    for (size_t i = 0; i < n; i++)
        if ((w->count + i > 0 && ids[i] <= (i ? ids[i - 1] : w->last_id)))
            return mn_errf(err, MN_EUSAGE, "%s: row %" PRIu64 ": chunk id %" PRIu64 " not above %" PRIu64,
                           w->dir, w->count + i, ids[i], i ? ids[i - 1] : w->last_id);
    size_t row_bytes = (size_t)w->job.want.dim * sizeof(float);
    if (write_all(w->fmat, x, n * row_bytes))
        return mn_errf(err, write_code(errno), "%s: write failed: %s", w->mat_path, strerror(errno));
    if (write_all(w->fids, ids, n * sizeof(uint64_t)))
        return mn_errf(err, write_code(errno), "%s: write failed: %s", w->ids_path, strerror(errno));
    if (w->hlen + n * 8 > w->hcap) {
        w->hcap = (w->hlen + n * 8) * 2;
        w->hbuf = xrealloc(w->hbuf, w->hcap);
    }
    memcpy(w->hbuf + w->hlen, ids, n * 8);
    for (size_t i = 0; i < n; i++) {
        w->content_hash = hash64(&ids[i], 8, w->content_hash);
        w->content_hash = hash64(x + i * w->job.want.dim, row_bytes, w->content_hash);
    }
    w->hlen += n * 8;
    w->count += n;
    if (n)
        w->last_id = ids[n - 1];
    return 0;
}

/* fsync both part files. */
static int parts_sync(dense_writer *w, mn_err *err)
{
    if (fsync(w->fmat))
        return mn_errf(err, write_code(errno), "%s: sync failed: %s", w->mat_path, strerror(errno));
    if (fsync(w->fids))
        return mn_errf(err, write_code(errno), "%s: sync failed: %s", w->ids_path, strerror(errno));
    return 0;
}

int dense_writer_sync(dense_writer *w, uint64_t truncated, uint64_t empty, mn_err *err)
{
    int rc = parts_sync(w, err);
    return rc ? rc : progress_write(w, truncated, empty, err);
}

/* Rename part file `part` over `final` in w->dir. */
static int part_rename(dense_writer *w, const char *part, const char *final, mn_err *err)
{
    char *from = path_join(w->dir, part), *to = path_join(w->dir, final);
    int rc = rename(from, to) ? mn_errf(err, MN_EIO, "%s: rename failed: %s", to, strerror(errno)) : 0;
    free(from);
    free(to);
    return rc;
}

int dense_writer_commit(dense_writer *w, uint64_t truncated, uint64_t empty, mn_err *err)
{
    dense_meta mm = w->job.want;
    mm.count = w->count;
    mm.truncated = truncated;
    mm.empty = empty;
    mm.ids_hash = hash64(w->hbuf, w->hlen, 0);
    mm.content_hash = w->content_hash;
    int rc = parts_sync(w, err);
    parts_close(w);
    if (!rc && !(rc = part_rename(w, DENSE_IDS_PART, DENSE_IDS_FILE, err)) &&
        !(rc = part_rename(w, DENSE_MATRIX_PART, DENSE_MATRIX_FILE, err)) && !(rc = fsync_dir(w->dir, err))) {
        kill_point("commit-renamed");
        if (!(rc = meta_write(w->dir, &mm, err)) && !(rc = fsync_dir(w->dir, err))) {
            kill_point("commit-sidecar");
            rc = unlink_file(w->dir, DENSE_PROGRESS_FILE, NULL, err);
        }
    }
    writer_free(w);
    return rc;
}

void dense_writer_close(dense_writer *w)
{
    if (w)
        writer_free(w);
}

void dense_writer_abort(dense_writer *w)
{
    if (!w)
        return;
    parts_close(w);
    unlink_file(w->dir, DENSE_PROGRESS_FILE, NULL, NULL);
    unlink(w->mat_path);
    unlink(w->ids_path);
    writer_free(w);
}

int dense_leftovers_remove(const char *shard_dir, int drop_progress, size_t *removed, mn_err *err)
{
    static const char *const temps[] = {DENSE_MATRIX_FILE, DENSE_IDS_FILE, DENSE_META_FILE, DENSE_PROGRESS_FILE};
    size_t n = 0;
    int rc = tmpfiles_remove_dead(shard_dir, temps, sizeof temps / sizeof temps[0], &n, err);
    if (!rc && drop_progress && !(rc = unlink_file(shard_dir, DENSE_PROGRESS_FILE, &n, err)) &&
        !(rc = unlink_file(shard_dir, DENSE_MATRIX_PART, &n, err)))
        rc = unlink_file(shard_dir, DENSE_IDS_PART, &n, err);
    if (removed)
        *removed = n;
    return rc;
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
    char *path = NULL;
    int rc = dense_meta_read(shard_dir, &s->meta, err);
    if (rc == 0)
        rc = mn_errf(err, MN_EIO, "%s: no %s: not embedded (run mnemo embed --db)", shard_dir, DENSE_META_FILE);
    if (rc < 0)
        goto fail;
    path = path_join(shard_dir, DENSE_MATRIX_FILE);
    if ((rc = mapfile_open(&s->mat, path, err)))
        goto fail;
    if (s->mat.size / sizeof(float) / s->meta.dim != s->meta.count ||
        s->mat.size != s->meta.count * s->meta.dim * sizeof(float)) {
        rc = mn_errf(err, MN_EFORMAT, "%s: %zu bytes, the sidecar says %" PRIu64 " rows of %u floats", path,
                     s->mat.size, s->meta.count, s->meta.dim);
        goto fail;
    }
    free(path);
    path = path_join(shard_dir, DENSE_IDS_FILE);
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
    free(path);
    *out = s;
    return 0;
fail:
    free(path);
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
