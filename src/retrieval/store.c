/* store.c — one LMDB shard; see store.h.
 *
 * A damaged shard must end in one line and exit status 1, never in a
 * signal.  Three layers, outermost first:
 *   1. store_open runs lmdb_check_file (quick: meta pages, roots, file size)
 *      before LMDB maps the file;
 *   2. every key and value LMDB hands a read transaction is checked to lie
 *      inside the map, so callers reading borrowed bytes stay in the file;
 *   3. every LMDB call runs marked with faultguard_enter and the map is
 *      registered with faultguard_watch, so a fault the checks missed is
 *      reported by the CLI's guard (main.c) instead of crashing.
 * store_check adds the full structural walk (lmdbcheck.h). */
#include "retrieval/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "retrieval/lmdbcheck.h" /* lmdb_check_file: the shard's pages before LMDB sees them */
#include "util/faultguard.h"     /* faultguard_enter/leave around LMDB calls, faultguard_watch of the map */
#include "util/le.h"             /* le_put64, le_get64: values are little-endian */

struct store {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi chunks, dedup, postings, doclen, meta;
    int readonly, nolock;
    int txn_write; /* the open transaction writes */
    int map_full;  /* the last put or commit failed with MDB_MAP_FULL */
    int broken;    /* a failed remap left LMDB without a map: only store_close is safe */
    char *path;    /* the shard directory */
    char *label;   /* path/data.mdb, for damage messages and the fault guard */
    size_t mapsize;
    uintptr_t map_lo, map_hi; /* the map's addresses; 0, 0: unknown (values unchecked) */
    int watch;                /* faultguard handle of the map, -1: none */
    dev_t dev;                /* the shard directory's identity, while registered */
    ino_t ino;
    store *next_open;         /* open_list */
    int registered;
};

_Static_assert(sizeof(store_meta) == STORE_META_WORDS * sizeof(uint64_t), "store_meta is u64 words");

/* A writer's map starts at max(2 x the file, STORE_MAP_MIN); MNEMO_STORE_MAP_MIN
 * (bytes) lowers the floor so that tests reach a full map quickly. */
#define STORE_MAP_MIN ((size_t)1 << 30)
#define STORE_MAP_ALIGN ((size_t)1 << 20)
/* A commit that fails with EIO while less than this is free on the file
 * system ran out of space: LMDB reports a short write as EIO. */
#define STORE_DISK_LOW ((unsigned long long)16 << 20)

static size_t round_up(size_t n, size_t to)
{
    return n > SIZE_MAX - to ? SIZE_MAX / to * to : (n + to - 1) / to * to;
}

static size_t map_floor(void)
{
    const char *e = getenv("MNEMO_STORE_MAP_MIN");
    char *end;
    unsigned long long v = e ? strtoull(e, &end, 10) : 0;
    if (!e || end == e || *end || v < 65536)
        return STORE_MAP_MIN;
    return (size_t)v;
}

static size_t writer_mapsize(uint64_t file_bytes)
{
    size_t want = file_bytes > SIZE_MAX / 4 ? SIZE_MAX / 2 : (size_t)file_bytes * 2, floor = map_floor();
    return round_up(want < floor ? floor : want, STORE_MAP_ALIGN);
}

/* Readers map the file as it is: LMDB raises a smaller size to the pages
 * the snapshot uses, and a writer's growth is met with MDB_MAP_RESIZED. */
static size_t reader_mapsize(uint64_t file_bytes)
{
    return round_up(file_bytes < 8192 ? 8192 : (size_t)file_bytes, 4096);
}

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

/* After LMDB's EIO: does writing still work in dir?  LMDB reports a short
 * write (how a full disk or an exceeded quota usually shows) as EIO and
 * drops the errno, and statvfs cannot see a user's quota, so write 1 MiB
 * to a scratch file there and see: ENOSPC or EDQUOT, else 0 (a real I/O
 * error, or nothing learnt). */
static int probe_space(const char *dir)
{
    char path[PATH_MAX + 64];
    if ((size_t)snprintf(path, sizeof path, "%s/.space-probe.%ld", dir, (long)getpid()) >= sizeof path)
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), e = 0;
    if (fd < 0)
        return errno == ENOSPC || errno == EDQUOT ? errno : 0;
    static const char zero[64 << 10];
    for (int i = 0; i < 16 && !e; i++)
        if (write(fd, zero, sizeof zero) != (ssize_t)sizeof zero)
            e = errno == ENOSPC || errno == EDQUOT ? errno : ENOSPC; /* a short write: the disk filled */
    close(fd);
    unlink(path);
    return e;
}

/* An LMDB failure as one line.  A full map and a full disk become
 * MN_ENOSPACE with what to do; LMDB reports a short write (the usual form
 * of a full disk) as EIO, so EIO counts as a full disk when little is free
 * or when a probe write in the shard's directory runs out of room. */
static int lmdb_fail(store *s, mn_err *err, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL) {
        s->map_full = 1;
        return mn_errf(err, MN_ENOSPACE, "%s: %s: the shard's LMDB map (%zu MiB) is full; run the command again "
                       "(a new run maps twice the file)", s->path, what, s->mapsize >> 20);
    }
    struct statvfs fs;
    if ((rc == ENOSPC || rc == EDQUOT || rc == EIO) && !statvfs(s->path, &fs)) {
        unsigned long long avail = (unsigned long long)(geteuid() == 0 ? fs.f_bfree : fs.f_bavail) * fs.f_frsize;
        int probed = rc == EIO && avail >= STORE_DISK_LOW && !s->readonly ? probe_space(s->path) : 0;
        if (probed)
            rc = probed;
        if (rc != EIO || avail < STORE_DISK_LOW)
            return mn_errf(err, MN_ENOSPACE, "%s: %s: no space left on the device (%llu MB free on the file system of %s)%s",
                           s->path, what, avail / 1000000, s->path, rc == EDQUOT ? " (disk quota exceeded)" : "");
    }
    return mn_errf(err, MN_EIO, "%s: %s: %s", s->path, what, mdb_strerror(rc));
}

static int need_txn(store *s, int write, mn_err *err)
{
    if (!s->txn)
        return mn_errf(err, MN_EUSAGE, "%s: no open transaction", s->path);
    if (write && !s->txn_write)
        return mn_errf(err, MN_EUSAGE, "%s: %s", s->path,
                       s->readonly ? "store opened read-only" : "a read transaction is open");
    return 0;
}

const char *store_path(const store *s)
{
    return s->path;
}

/* ---- LMDB calls, each marked for the fault guard ---- */

static int lm_get(store *s, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
    const char *prev = faultguard_enter(s->label);
    int rc = mdb_get(s->txn, dbi, k, v);
    faultguard_leave(prev);
    return rc;
}

static int lm_put(store *s, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
    const char *prev = faultguard_enter(s->label);
    int rc = mdb_put(s->txn, dbi, k, v, 0);
    faultguard_leave(prev);
    return rc;
}

static int lm_del(store *s, MDB_dbi dbi, MDB_val *k)
{
    const char *prev = faultguard_enter(s->label);
    int rc = mdb_del(s->txn, dbi, k, NULL);
    faultguard_leave(prev);
    return rc;
}

static int lm_stat(store *s, MDB_dbi dbi, MDB_stat *ms)
{
    const char *prev = faultguard_enter(s->label);
    int rc = mdb_stat(s->txn, dbi, ms);
    faultguard_leave(prev);
    return rc;
}

static int lm_commit(store *s, MDB_txn *txn)
{
    const char *prev = faultguard_enter(s->label);
    int rc = mdb_txn_commit(txn);
    faultguard_leave(prev);
    return rc;
}

/* A key or value LMDB returned must lie inside the map when it comes from
 * a read transaction (a write transaction's may sit in LMDB's dirty pages
 * in memory): a damaged node size would otherwise send the caller, e.g.
 * search.c decoding a borrowed postings list, past the end of the map. */
static int in_map(store *s, const MDB_val *v, const char *what, mn_err *err)
{
    if (s->txn_write || !s->map_hi)
        return 0;
    uintptr_t p = (uintptr_t)v->mv_data;
    if (p >= s->map_lo && p <= s->map_hi && v->mv_size <= s->map_hi - p)
        return 0;
    return mn_errf(err, MN_EFORMAT,
                   "%s: damaged: a %s record of %zu bytes lies outside the file; rebuild the shard or restore it "
                   "from a copy ('mnemo stats --deep' lists what is damaged)",
                   s->label, what, v->mv_size);
}

/* mdb_cursor_get: 1 (found, k and v checked), 0 (no more), < 0 (error). */
static int cur_get(store *s, MDB_cursor *cur, MDB_val *k, MDB_val *v, MDB_cursor_op op, const char *what,
                   mn_err *err)
{
    const char *prev = faultguard_enter(s->label);
    int rc = mdb_cursor_get(cur, k, v, op);
    faultguard_leave(prev);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return lmdb_fail(s, err, rc, what);
    return (rc = in_map(s, k, what, err)) || (rc = in_map(s, v, what, err)) ? rc : 1;
}

static int cur_open(store *s, MDB_dbi dbi, MDB_cursor **cur, const char *what, mn_err *err)
{
    const char *prev = faultguard_enter(s->label);
    int rc = mdb_cursor_open(s->txn, dbi, cur);
    faultguard_leave(prev);
    return rc ? lmdb_fail(s, err, rc, what) : 0;
}

/* ---- the map ---- */

static void map_unwatch(store *s)
{
    faultguard_unwatch(s->watch);
    s->watch = -1;
    s->map_lo = s->map_hi = 0;
}

/* Register the map with the fault guard and remember its bounds.  LMDB
 * does not tell where it mapped the file (mdb_env_info's me_mapaddr is only
 * the fixed-map hint), so take a key of the MAIN DB, which a read
 * transaction sees in the map, and find the region of /proc/self/maps that
 * holds it: the map of offset 0 and me_mapsize bytes.  Without one (no
 * /proc, an empty environment) values go unchecked and only faults inside
 * store calls are reported. */
static void map_watch(store *s)
{
    map_unwatch(s);
    MDB_envinfo info;
    if (!mdb_env_info(s->env, &info))
        s->mapsize = info.me_mapsize;
    uintptr_t ptr = 0;
    MDB_txn *txn;
    MDB_dbi main;
    MDB_cursor *cur;
    MDB_val k, v;
    const char *prev = faultguard_enter(s->label);
    if (!mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) {
        if (!mdb_dbi_open(txn, NULL, 0, &main) && !mdb_cursor_open(txn, main, &cur)) {
            if (!mdb_cursor_get(cur, &k, &v, MDB_FIRST))
                ptr = (uintptr_t)k.mv_data;
            mdb_cursor_close(cur);
        }
        mdb_txn_abort(txn);
    }
    faultguard_leave(prev);
    FILE *f = ptr ? fopen("/proc/self/maps", "r") : NULL;
    if (!f)
        return;
    char line[4096 + 256];
    unsigned long lo, hi;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && ptr >= lo && ptr < hi) {
            s->map_lo = lo;
            s->map_hi = hi;
            s->watch = faultguard_watch((const void *)lo, hi - lo, s->label);
            break;
        }
    fclose(f);
}

/* Map size bytes instead (no transaction may be open).  A failed remap
 * leaves LMDB without a map, so the store is then broken. */
static int remap(store *s, size_t size, mn_err *err)
{
    map_unwatch(s);
    const char *prev = faultguard_enter(s->label);
    int rc = mdb_env_set_mapsize(s->env, size);
    faultguard_leave(prev);
    if (rc) {
        s->broken = 1;
        return mn_errf(err, MN_ENOSPACE, "%s: cannot map %zu MiB of the shard: %s", s->path, size >> 20,
                       mdb_strerror(rc));
    }
    map_watch(s);
    return 0;
}

static uint64_t data_size(store *s)
{
    struct stat st;
    return stat(s->label, &st) ? 0 : (uint64_t)st.st_size;
}

/* Clear the reader slots of dead processes (a search killed with SIGKILL
 * keeps its slot and, with it, the snapshot it read, which stops writers
 * from reusing the pages freed since: the file grows).  Needs the lock
 * file, so not with STORE_NOLOCK. */
static void reader_check(store *s)
{
    int dead;
    if (!s->nolock)
        mdb_reader_check(s->env, &dead);
}

/* mdb_txn_begin, through what a live environment may answer: a writer
 * that grew the file (MDB_MAP_RESIZED: map it again), a reader table full
 * of dead readers (MDB_READERS_FULL: clear them). */
static int txn_begin(store *s, int write, MDB_txn **txn, mn_err *err)
{
    if (s->broken)
        return mn_errf(err, MN_EUSAGE, "%s: the shard's map was lost after a failed resize; reopen it", s->path);
    for (int tries = 0;; tries++) {
        if (write)
            reader_check(s);
        const char *prev = faultguard_enter(s->label);
        int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
        faultguard_leave(prev);
        if (rc == MDB_MAP_RESIZED && tries < 3) {
            uint64_t file = data_size(s);
            size_t want = s->readonly ? reader_mapsize(file) : writer_mapsize(file);
            if ((rc = remap(s, want > s->mapsize ? want : s->mapsize, err)))
                return rc;
            continue;
        }
        if (rc == MDB_READERS_FULL && tries < 3 && !s->nolock) {
            int dead = 0;
            mdb_reader_check(s->env, &dead);
            if (dead)
                continue;
        }
        if (rc)
            *txn = NULL;
        return rc ? lmdb_fail(s, err, rc, "begin a transaction") : 0;
    }
}

/* ---- open, close ---- */

static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER; /* open_list and checked[] */

/* Files a full check passed in this process (ingest opens shard 0 twice):
 * device, inode, size and the newest txnid identify the snapshot. */
typedef struct checked_file {
    dev_t dev;
    ino_t ino;
    uint64_t bytes, txnid;
} checked_file;
static checked_file checked[64];
static unsigned checked_next;

static int checked_find(const struct stat *st, const lmdb_check_stats *q)
{
    for (unsigned i = 0; i < sizeof checked / sizeof checked[0]; i++)
        if (checked[i].ino == st->st_ino && checked[i].dev == st->st_dev && checked[i].bytes == q->file_bytes &&
            checked[i].txnid == q->txnid)
            return 1;
    return 0;
}

/* The quick check before every open; a writer walks every page too: LMDB
 * would write into damaged trees and hand out pages a damaged free list
 * names, spreading the damage into commits that look sound (a full check
 * costs about a second per GB, once per ingest run, against the ingest's
 * minutes per GB).  No pin is needed: the ingest lock keeps other writers
 * out, and readers change nothing. */
static int check_before_open(store *s, const struct stat *st, mn_err *err)
{
    lmdb_check_stats q;
    int rc = lmdb_check_file(s->label, 0, 0, &q, err);
    if (rc || s->readonly)
        return rc;
    pthread_mutex_lock(&open_mu);
    int known = checked_find(st, &q);
    pthread_mutex_unlock(&open_mu);
    if (known || (rc = lmdb_check_file(s->label, LMDB_CHECK_FULL, q.txnid, NULL, err)))
        return rc == MN_EBUSY ? mn_errf(err, MN_EBUSY, "%s: changed while it was checked: another writer?", s->label)
                              : rc;
    pthread_mutex_lock(&open_mu);
    checked[checked_next++ % (sizeof checked / sizeof checked[0])] =
        (checked_file){st->st_dev, st->st_ino, q.file_bytes, q.txnid};
    pthread_mutex_unlock(&open_mu);
    return 0;
}

/* The shards this process has open with a lock file, by directory: LMDB
 * must not have one environment open twice in a process.  A second
 * mdb_env_open would get the "only user" lock through the first one's and
 * reset the reader table under live readers of other processes, and
 * closing either drops the other's locks. */
static store *open_list;

static store *open_find(dev_t dev, ino_t ino)
{
    store *s = open_list;
    while (s && !(s->dev == dev && s->ino == ino))
        s = s->next_open;
    return s;
}

static int open_register(store *s, const struct stat *dir, mn_err *err)
{
    pthread_mutex_lock(&open_mu);
    int busy = open_find(dir->st_dev, dir->st_ino) != NULL;
    if (!busy) {
        s->dev = dir->st_dev;
        s->ino = dir->st_ino;
        s->next_open = open_list;
        open_list = s;
        s->registered = 1;
    }
    pthread_mutex_unlock(&open_mu);
    return busy ? mn_errf(err, MN_EBUSY, "%s: the shard is already open in this process (LMDB cannot open one "
                                         "environment twice: close the other handle first)",
                          s->path)
                : 0;
}

static void open_unregister(store *s)
{
    if (!s->registered)
        return;
    pthread_mutex_lock(&open_mu);
    store **p = &open_list;
    while (*p && *p != s)
        p = &(*p)->next_open;
    if (*p)
        *p = s->next_open;
    pthread_mutex_unlock(&open_mu);
    s->registered = 0;
}

/* Open the five tables (created in a writer), in one transaction. */
static int open_tables(store *s, mn_err *err)
{
    MDB_txn *txn;
    int rc = txn_begin(s, !s->readonly, &txn, err);
    if (rc)
        return rc;
    static const char *names[5] = {"chunks", "dedup", "postings", "doclen", "meta"};
    MDB_dbi *dbis[5] = {&s->chunks, &s->dedup, &s->postings, &s->doclen, &s->meta};
    const char *prev = faultguard_enter(s->label);
    int i = 0;
    while (i < 5 && !(rc = mdb_dbi_open(txn, names[i], s->readonly ? 0 : MDB_CREATE, dbis[i])))
        i++;
    faultguard_leave(prev);
    if (rc) {
        mdb_txn_abort(txn);
        if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
            return mn_errf(err, MN_EFORMAT, "%s: not a mnemo shard: no '%s' table", s->path, names[i]);
        return lmdb_fail(s, err, rc, "mdb_dbi_open");
    }
    return (rc = lm_commit(s, txn)) ? lmdb_fail(s, err, rc, "commit the tables") : 0;
}

int store_open(const char *dir, int mode, store **out, mn_err *err)
{
    *out = NULL;
    store *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(dir);
    s->readonly = mode & STORE_RDONLY;
    s->nolock = s->readonly && (mode & STORE_NOLOCK);
    s->watch = -1;
    size_t dl = strlen(dir);
    s->label = xmalloc(dl + sizeof "/data.mdb");
    memcpy(s->label, dir, dl);
    memcpy(s->label + dl, "/data.mdb", sizeof "/data.mdb");
    int rc;
    struct stat st;
    if (!s->readonly && mkdir(dir, 0777) && errno != EEXIST) {
        rc = mn_errf(err, MN_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
        goto fail;
    }
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        rc = mn_errf(err, MN_EIO, "%s: not a shard directory", dir);
        goto fail;
    }
    if (!s->nolock && (rc = open_register(s, &st, err)))
        goto fail;
    /* the file's pages before LMDB maps them (a writer may start from an
     * empty file: LMDB initialises it) */
    int have = !stat(s->label, &st);
    uint64_t file = have ? (uint64_t)st.st_size : 0;
    if (have && !s->readonly && file > 0 && file < 2 * (uint64_t)sysconf(_SC_PAGESIZE)) {
        /* shorter than LMDB's two meta pages: its creation was cut short (a
         * full disk), and no transaction can have been committed (the
         * first commit writes beyond them); start the file again rather
         * than refuse it as damaged forever */
        if (truncate(s->label, 0)) {
            rc = mn_errf(err, MN_EIO, "%s: cannot reset an unfinished shard file: %s", s->label, strerror(errno));
            goto fail;
        }
        file = 0;
    }
    if (have && (s->readonly || file > 0) && (rc = check_before_open(s, &st, err)))
        goto fail;
    if ((rc = mdb_env_create(&s->env))) {
        rc = lmdb_fail(s, err, rc, "mdb_env_create");
        goto fail;
    }
    s->mapsize = s->readonly ? reader_mapsize(file) : writer_mapsize(file);
    mdb_env_set_mapsize(s->env, s->mapsize);
    mdb_env_set_maxdbs(s->env, 8);
    unsigned flags = s->readonly ? MDB_RDONLY | MDB_NORDAHEAD | (s->nolock ? MDB_NOLOCK : 0) : 0;
    const char *prev = faultguard_enter(s->label);
    rc = mdb_env_open(s->env, dir, flags, 0666);
    faultguard_leave(prev);
    if (rc) {
        rc = lmdb_fail(s, err, rc, "cannot open LMDB environment");
        goto fail;
    }
    reader_check(s);
    if ((rc = open_tables(s, err)))
        goto fail;
    map_watch(s);
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
    map_unwatch(s);
    if (s->env)
        mdb_env_close(s->env);
    open_unregister(s);
    free(s->label);
    free(s->path);
    free(s);
}

/* ---- transactions ---- */

int store_begin(store *s, int write, mn_err *err)
{
    if (s->txn)
        return mn_errf(err, MN_EUSAGE, "%s: a transaction is already open", s->path);
    if (write && s->readonly)
        return mn_errf(err, MN_EUSAGE, "%s: store opened read-only", s->path);
    int rc = txn_begin(s, write, &s->txn, err);
    if (rc)
        return rc;
    s->txn_write = write;
    s->map_full = 0;
    return 0;
}

int store_commit(store *s, mn_err *err)
{
    int rc;
    if ((rc = need_txn(s, 0, err)))
        return rc;
    rc = lm_commit(s, s->txn);
    s->txn = NULL;
    return rc ? lmdb_fail(s, err, rc, "commit") : 0;
}

void store_abort(store *s)
{
    if (s->txn)
        mdb_txn_abort(s->txn);
    s->txn = NULL;
}

int store_map_full(const store *s)
{
    return s->map_full;
}

int store_grow(store *s, mn_err *err)
{
    if (s->txn || s->readonly)
        return mn_errf(err, MN_EUSAGE, "%s: store_grow needs a writer without an open transaction", s->path);
    if (s->broken)
        return mn_errf(err, MN_EUSAGE, "%s: the shard's map was lost after a failed resize; reopen it", s->path);
    size_t want = s->mapsize > SIZE_MAX / 2 ? SIZE_MAX : round_up(s->mapsize * 2, STORE_MAP_ALIGN);
    /* ask the address space first: a remap that LMDB cannot make leaves the
     * environment without a map (the probe needs the old map too, so it
     * errs on the side of refusing) */
    void *probe = mmap(NULL, want, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (probe == MAP_FAILED)
        return mn_errf(err, MN_ENOSPACE,
                       "%s: the shard's LMDB map is full at %zu MiB and the address space refuses %zu MiB (%s; "
                       "raise ulimit -v, or spread the DB over more shards)",
                       s->path, s->mapsize >> 20, want >> 20, strerror(errno));
    munmap(probe, want);
    int rc = remap(s, want, err);
    if (!rc)
        s->map_full = 0;
    return rc;
}

/* ---- checks ---- */

int store_verify(store *s, int full, mn_err *err)
{
    if (s->txn && s->txn_write)
        return mn_errf(err, MN_EUSAGE, "%s: store_verify inside a write transaction", s->path);
    int own = !s->txn, rc;
    for (int tries = 0;; tries++) {
        if (own && (rc = store_begin(s, 0, err)))
            return rc;
        /* the read transaction pins its snapshot: a writer cannot reuse its
         * pages while we walk them */
        rc = lmdb_check_file(s->label, full ? LMDB_CHECK_FULL : 0, mdb_txn_id(s->txn), NULL, err);
        if (own)
            store_abort(s);
        if (rc != MN_EBUSY || !own || tries == 3)
            return rc;
    }
}

int store_check(const char *dir, int flags, mn_err *err)
{
    size_t dl = strlen(dir);
    char *label = xmalloc(dl + sizeof "/data.mdb");
    memcpy(label, dir, dl);
    memcpy(label + dl, "/data.mdb", sizeof "/data.mdb");
    int rc = lmdb_check_file(label, 0, 0, NULL, err);
    free(label);
    if (rc || !(flags & STORE_CHECK_FULL))
        return rc;
    /* a shard this process has open: check through that handle */
    struct stat st;
    store *open = NULL;
    if (!stat(dir, &st)) {
        pthread_mutex_lock(&open_mu);
        open = open_find(st.st_dev, st.st_ino);
        pthread_mutex_unlock(&open_mu);
    }
    if (open)
        return store_verify(open, 1, err);
    store *s;
    if ((rc = store_open(dir, STORE_RDONLY | (flags & STORE_NOLOCK), &s, err)))
        return rc;
    rc = store_verify(s, 1, err);
    store_close(s);
    return rc;
}

/* ---- records ---- */

static int get(store *s, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v, const char *what, mn_err *err)
{
    int rc = need_txn(s, 0, err);
    if (rc)
        return rc;
    MDB_val key = {klen, (void *)k};
    rc = lm_get(s, dbi, &key, v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return lmdb_fail(s, err, rc, what);
    return (rc = in_map(s, v, what, err)) ? rc : 1;
}

static int put(store *s, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen, const char *what,
               mn_err *err)
{
    int rc = need_txn(s, 1, err);
    if (rc)
        return rc;
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    rc = lm_put(s, dbi, &key, &val);
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
    if ((rc = lm_stat(s, s->chunks, &ms)))
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
    if ((rc = cur_open(s, s->doclen, &cur, "doclen cursor", err))) {
        free(lens);
        return rc;
    }
    MDB_val k, v;
    const uint64_t mask = ((uint64_t)1 << STORE_SHARD_BITS) - 1;
    for (rc = cur_get(s, cur, &k, &v, MDB_FIRST, "doclen", err); rc == 1;
         rc = cur_get(s, cur, &k, &v, MDB_NEXT, "doclen", err)) {
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
    if ((rc = cur_open(s, s->postings, &cur, "postings cursor", err)))
        return rc;
    MDB_val k = {len + 1, key}, v;
    for (rc = cur_get(s, cur, &k, &v, MDB_SET_RANGE, "postings", err); rc == 1;
         rc = cur_get(s, cur, &k, &v, MDB_NEXT, "postings", err)) {
        if (k.mv_size <= len + 1 || memcmp(k.mv_data, key, len + 1)) {
            rc = 0;
            break;
        }
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
    if ((rc = cur_open(s, s->postings, &cur, "postings cursor", err)))
        return rc;
    MDB_val k = {postings_key(key, term, len, UINT32_MAX), key}, v;
    /* the term's last key is the one before the first key > term 0x00 FFFFFFFF */
    rc = cur_get(s, cur, &k, &v, MDB_SET_RANGE, "postings", err);
    if (rc == 1 && k.mv_size == len + 5 && !memcmp(k.mv_data, key, len + 5))
        rc = 1; /* segment 0xFFFFFFFF itself */
    else if (rc >= 0)
        rc = cur_get(s, cur, &k, &v, rc == 1 ? MDB_PREV : MDB_LAST, "postings", err);
    if (rc == 1 && k.mv_size == len + 5 && !memcmp(k.mv_data, key, len + 1)) {
        const uint8_t *kp = k.mv_data;
        *seg = (uint32_t)kp[len + 1] << 24 | (uint32_t)kp[len + 2] << 16 | (uint32_t)kp[len + 3] << 8 | kp[len + 4];
        *buf = v.mv_data;
        *n = v.mv_size;
    } else if (rc == 1) {
        rc = 0; /* the key before belongs to another term */
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
    rc = lm_del(s, s->postings, &k);
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
    if ((rc = cur_open(s, dbi, &cur, what, err)))
        return rc;
    MDB_val k, v;
    for (rc = cur_get(s, cur, &k, &v, MDB_FIRST, what, err); rc == 1; rc = cur_get(s, cur, &k, &v, MDB_NEXT, what, err))
        if ((rc = each(s, ctx, &k, &v, err)))
            break;
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
