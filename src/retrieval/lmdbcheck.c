/* lmdbcheck.c — our own reader of LMDB's on-disk format (liblmdb 0.9,
 * libraries/liblmdb/mdb.c), to tell whether LMDB can be let loose on a
 * file; see lmdbcheck.h for what is checked.
 *
 * The layout, for 64-bit little-endian hosts (pgno_t = size_t = 8 bytes,
 * indx_t = 2 bytes; LMDB writes host order):
 *
 *   MDB_page header (PAGEHDRSZ = 16): pgno u64 @0, mp_pad u16 @8,
 *     mp_flags u16 @10, mp_lower u16 @12 and mp_upper u16 @14 (overflow
 *     pages: mp_pages u32 @12), then mp_ptrs[] u16: node offsets from the
 *     page start, NUMKEYS = (mp_lower - 16) / 2.
 *   MDB_node (NODESIZE = 8): mn_lo u16 @0, mn_hi u16 @2, mn_flags u16 @4,
 *     mn_ksize u16 @6, key @8, then the data.  Leaf: data size lo | hi<<16;
 *     F_BIGDATA: the data is a u64 overflow page number.  Branch: child page
 *     lo | hi<<16 | flags<<32.
 *   MDB_db (48 bytes): md_pad u32 @0, md_flags u16 @4, md_depth u16 @6,
 *     branch @8, leaf @16, overflow @24 pages, entries @32, root @40.
 *   MDB_meta at byte 16 of pages 0 and 1: magic u32 @0, version u32 @4,
 *     address @8, mapsize @16, FREE db @24, MAIN db @72 (FREE's md_pad is
 *     the page size), last_pg @120, txnid @128.
 *   A FREE DB record: key = a txnid (8 bytes, integer order), value = an
 *     IDL: count n, then n page numbers in descending order; LMDB may
 *     reserve a longer value than (n + 1) x 8 bytes.
 *
 * Non-goals: sorted-duplicate tables, big-endian or 32-bit files, repair. */
#include "retrieval/lmdbcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/faultguard.h" /* faultguard_watch: a file truncated during the walk */

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || __SIZEOF_SIZE_T__ != 8
#error "lmdbcheck reads the LMDB layout of 64-bit little-endian hosts"
#endif

#define PAGEHDRSZ 16
#define NODESIZE 8
#define META_BYTES (PAGEHDRSZ + 136)
#define DB_BYTES 48
#define P_BRANCH 0x01
#define P_LEAF 0x02
#define P_OVERFLOW 0x04
#define P_META 0x08
#define F_BIGDATA 0x01
#define F_SUBDATA 0x02
#define MDB_MAGIC 0xBEEFC0DEu
#define MDB_DATA_VERSION 1
#define CURSOR_STACK 32 /* LMDB's cursors hold at most 32 levels */
#define MAXKEYSIZE 511
#define P_INVALID UINT64_MAX
#define MIN_PAGESIZE 512
#define MAX_PAGESIZE 0x8000 /* mp_upper is 16 bits (PAGEBASE 0) */
#define DB_INTEGERKEY 0x08  /* the FREE DB's keys; also MDB_INTEGERKEY */
#define ENV_NOSUBDIR 0x4000 /* an environment flag LMDB keeps in the FREE DB's flags */

static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

typedef struct db_rec {
    uint16_t flags, depth;
    uint64_t branch, leaf, overflow, entries, root;
} db_rec;

static db_rec db_parse(const uint8_t *p)
{
    return (db_rec){rd16(p + 4), rd16(p + 6), rd64(p + 8), rd64(p + 16), rd64(p + 24), rd64(p + 32), rd64(p + 40)};
}

typedef struct meta_rec {
    uint64_t pgno;
    uint16_t page_flags;
    uint32_t magic, version, psize;
    db_rec free, main;
    uint64_t last_pg, txnid;
} meta_rec;

static meta_rec meta_parse(const uint8_t b[META_BYTES])
{
    const uint8_t *m = b + PAGEHDRSZ;
    return (meta_rec){.pgno = rd64(b), .page_flags = rd16(b + 10), .magic = rd32(m), .version = rd32(m + 4),
                      .psize = rd32(m + 24), .free = db_parse(m + 24), .main = db_parse(m + 72),
                      .last_pg = rd64(m + 120), .txnid = rd64(m + 128)};
}

/* ---- the checker ---- */

typedef struct checker {
    const char *label;
    int fd;                /* >= 0: read meta pages with pread */
    const uint8_t *img;    /* the file's bytes [0, file_bytes), or NULL before mapping */
    uint64_t file_bytes;
    uint32_t psize;
    uint64_t file_pages;   /* whole pages inside the file */
    uint64_t npages;       /* the snapshot's last page + 1 */
    uint8_t *used, *freed; /* bitmaps [npages]: in a tree / listed free */
    int full;
    lmdb_check_stats *st;
    mn_err *err;
} checker;

enum { TREE_FREE, TREE_MAIN, TREE_TABLE };

/* One B-tree being walked, with what it has shown so far. */
typedef struct tree {
    int kind;
    char what[96]; /* "the FREE DB", "the MAIN DB", "table 'chunks'" */
    db_rec db;
    uint64_t branch, leaf, overflow, entries;
} tree;

/* A key bound from a parent's separators; p NULL: unbounded. */
typedef struct bound {
    const uint8_t *p;
    size_t n;
} bound;

/* "rebuild ... ('mnemo stats --deep --db DB' ...)", DB taken from a label
 * DB/shard-NNN/data.mdb when it has that shape. */
static void what_to_do(const char *label, char *out, size_t cap)
{
    size_t n = strlen(label);
    const char *tail = "/data.mdb";
    size_t tl = strlen(tail);
    const char *db = "DB";
    int dbn = 2;
    if (n > tl && !strcmp(label + n - tl, tail)) {
        size_t end = n - tl; /* label[0..end) is the shard dir */
        size_t slash = end;
        while (slash > 0 && label[slash - 1] != '/')
            slash--;
        if (slash > 1 && !strncmp(label + slash, "shard-", 6)) {
            db = label;
            dbn = (int)(slash - 1);
        } else if (slash == 0 && !strncmp(label, "shard-", 6)) {
            db = ".";
            dbn = 1;
        }
    }
    snprintf(out, cap, "rebuild the shard or restore it from a copy ('mnemo stats --deep --db %.*s' lists what is damaged)",
             dbn, db);
}

static int damaged(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int damaged(checker *c, const char *fmt, ...)
{
    char reason[512], advice[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    what_to_do(c->label, advice, sizeof advice);
    return mn_errf(c->err, MN_EFORMAT, "%s: damaged: %s; %s", c->label, reason, advice);
}

#define PAGE_FMT "page %llu (byte %llu) of %s"
#define PAGE_ARGS(c, t, pg) (unsigned long long)(pg), (unsigned long long)(pg) * (c)->psize, (t)->what

static int bit_get(const uint8_t *b, uint64_t i)
{
    return b[i >> 3] >> (i & 7) & 1;
}

static void bit_set(uint8_t *b, uint64_t i)
{
    b[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Page pgno, reached from page `from` (0: from the meta page), becomes part
 * of tree t: in range, inside the file, and reached only once. */
static int claim(checker *c, tree *t, uint64_t pgno, uint64_t from)
{
    const char *src = from ? "a pointer on page" : "the meta page";
    if (pgno < 2 || pgno >= c->npages)
        return damaged(c, "%s %llu: %s points to page %llu, outside pages 2..%llu", src,
                       (unsigned long long)from, t->what, (unsigned long long)pgno,
                       (unsigned long long)c->npages - 1);
    if (pgno >= c->file_pages)
        return damaged(c, "the file has %llu bytes but its last committed page ends at byte %llu (truncated?): " PAGE_FMT
                       " lies past the end", (unsigned long long)c->file_bytes,
                       (unsigned long long)c->npages * c->psize, PAGE_ARGS(c, t, pgno));
    if (bit_get(c->used, pgno))
        return damaged(c, PAGE_FMT " is reached twice (a cycle, or a page shared by two trees)",
                       PAGE_ARGS(c, t, pgno));
    if (bit_get(c->freed, pgno))
        return damaged(c, PAGE_FMT " is in use but the FREE DB lists it as free", PAGE_ARGS(c, t, pgno));
    bit_set(c->used, pgno);
    return 0;
}

static int key_cmp(int intkey, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    if (intkey && an == 8 && bn == 8) {
        uint64_t x = rd64(a), y = rd64(b);
        return (x > y) - (x < y);
    }
    int r = memcmp(a, b, an < bn ? an : bn);
    return r ? r : (an > bn) - (an < bn);
}

/* The value of a leaf node: in the page, or on the overflow run its
 * F_BIGDATA page number names (checked and claimed here). */
static int node_value(checker *c, tree *t, uint64_t pgno, const uint8_t *node, unsigned i, const uint8_t **val,
                      uint64_t *len)
{
    uint16_t flags = rd16(node + 4), ksize = rd16(node + 6);
    uint64_t dsize = (uint64_t)rd16(node) | (uint64_t)rd16(node + 2) << 16;
    const uint8_t *data = node + NODESIZE + ksize;
    *len = dsize;
    if (!(flags & F_BIGDATA)) {
        *val = data;
        return 0;
    }
    uint64_t ov = rd64(data);
    int rc = claim(c, t, ov, pgno);
    if (rc)
        return rc;
    const uint8_t *op = c->img + ov * c->psize;
    uint64_t pages = rd32(op + 12);
    if (rd64(op) != ov || rd16(op + 10) != P_OVERFLOW)
        return damaged(c, PAGE_FMT ": node %u's overflow page %llu has page number %llu and flags 0x%x",
                       PAGE_ARGS(c, t, pgno), i, (unsigned long long)ov, (unsigned long long)rd64(op), rd16(op + 10));
    if (pages == 0 || pages > c->npages - ov || pages * c->psize - PAGEHDRSZ < dsize)
        return damaged(c, PAGE_FMT ": node %u's overflow run of %llu pages at page %llu cannot hold its %llu bytes",
                       PAGE_ARGS(c, t, pgno), i, (unsigned long long)pages, (unsigned long long)ov,
                       (unsigned long long)dsize);
    for (uint64_t k = 1; k < pages; k++)
        if ((rc = claim(c, t, ov + k, ov)))
            return rc;
    t->overflow += pages;
    *val = op + PAGEHDRSZ;
    return 0;
}

/* A FREE DB value: an IDL of pages, each now marked free. */
static int free_list(checker *c, tree *t, uint64_t pgno, const uint8_t *v, uint64_t len)
{
    if (len < 8 || len % 8)
        return damaged(c, PAGE_FMT ": a free-page list of %llu bytes", PAGE_ARGS(c, t, pgno), (unsigned long long)len);
    uint64_t n = rd64(v);
    if (n > len / 8 - 1)
        return damaged(c, PAGE_FMT ": a free-page list claims %llu pages in %llu bytes", PAGE_ARGS(c, t, pgno),
                       (unsigned long long)n, (unsigned long long)len);
    uint64_t prev = UINT64_MAX;
    for (uint64_t k = 1; k <= n; k++) {
        uint64_t p = rd64(v + 8 * k);
        if (p >= prev || p < 2 || p >= c->npages)
            return damaged(c, PAGE_FMT ": free-page list entry %llu is page %llu (after %llu; pages are 2..%llu, descending)",
                           PAGE_ARGS(c, t, pgno), (unsigned long long)k, (unsigned long long)p,
                           (unsigned long long)prev, (unsigned long long)c->npages - 1);
        if (bit_get(c->used, p) || bit_get(c->freed, p))
            return damaged(c, PAGE_FMT ": lists page %llu as free, but it is %s", PAGE_ARGS(c, t, pgno),
                           (unsigned long long)p, bit_get(c->used, p) ? "in use" : "already listed");
        bit_set(c->freed, p);
        prev = p;
    }
    return 0;
}

static int walk_tree(checker *c, tree *t, uint64_t from);

/* A named DB's record on a MAIN DB leaf: 48 bytes of sane fields; the full
 * check walks its tree, the quick one looks at its root page. */
static int table_record(checker *c, tree *main, uint64_t pgno, const uint8_t *key, size_t klen, const uint8_t *v,
                        uint64_t len)
{
    if (len != DB_BYTES)
        return damaged(c, PAGE_FMT ": the record of table '%.*s' has %llu bytes, not %d", PAGE_ARGS(c, main, pgno),
                       (int)(klen < 64 ? klen : 64), key, (unsigned long long)len, DB_BYTES);
    tree sub = {.kind = TREE_TABLE, .db = db_parse(v)};
    snprintf(sub.what, sizeof sub.what, "table '%.*s'", (int)(klen < 64 ? klen : 64), key);
    if (c->st)
        c->st->tables++;
    int rc = walk_tree(c, &sub, pgno);
    if (!rc && c->full && c->st)
        c->st->entries += sub.entries;
    return rc;
}

static int walk_page(checker *c, tree *t, uint64_t pgno, uint64_t from, unsigned level, bound lo, bound hi);

/* The nodes of page p (already claimed and its header checked). */
static int walk_nodes(checker *c, tree *t, uint64_t pgno, const uint8_t *p, unsigned level, bound lo, bound hi)
{
    int branch = level < t->db.depth, intkey = t->kind == TREE_FREE, rc;
    unsigned lower = rd16(p + 12), upper = rd16(p + 14), n = (lower - PAGEHDRSZ) / 2;
    bound prev = lo;
    int prev_is_bound = 1; /* the lower bound is inclusive, earlier keys are not */
    for (unsigned i = 0; i < n; i++) {
        unsigned off = rd16(p + PAGEHDRSZ + 2 * i);
        if (off < upper || off % 2 || off + NODESIZE > c->psize)
            return damaged(c, PAGE_FMT ": node %u at offset %u lies outside the node area %u..%u",
                           PAGE_ARGS(c, t, pgno), i, off, upper, c->psize);
        const uint8_t *node = p + off;
        uint16_t flags = rd16(node + 4), ksize = rd16(node + 6);
        uint64_t room = c->psize - off - NODESIZE;
        if (ksize > MAXKEYSIZE || ksize > room || (!branch && ksize == 0))
            return damaged(c, PAGE_FMT ": node %u has a key of %u bytes", PAGE_ARGS(c, t, pgno), i, ksize);
        bound key = {node + NODESIZE, ksize};
        if (intkey && ksize != 8 && !(branch && i == 0))
            return damaged(c, PAGE_FMT ": node %u has a %u-byte key, not a txnid", PAGE_ARGS(c, t, pgno), i, ksize);
        /* keys increase: a branch's first key is ignored (it stands for the lower bound) */
        if (!(branch && i == 0)) {
            int cmp = prev.p ? key_cmp(intkey, prev.p, prev.n, key.p, key.n) : -1;
            if (prev_is_bound ? cmp > 0 : cmp >= 0)
                return damaged(c, PAGE_FMT ": node %u's key is out of order", PAGE_ARGS(c, t, pgno), i);
            if (hi.p && key_cmp(intkey, key.p, key.n, hi.p, hi.n) >= 0)
                return damaged(c, PAGE_FMT ": node %u's key is beyond the parent's separator", PAGE_ARGS(c, t, pgno), i);
            prev = key;
            prev_is_bound = 0;
        }
        if (branch) {
            uint64_t child = (uint64_t)rd16(node) | (uint64_t)rd16(node + 2) << 16 | (uint64_t)flags << 32;
            bound clo = i == 0 ? lo : key, chi = hi;
            if (i + 1 < n) {
                unsigned noff = rd16(p + PAGEHDRSZ + 2 * (i + 1));
                if (noff < upper || noff % 2 || noff + NODESIZE > c->psize ||
                    rd16(p + noff + 6) > c->psize - noff - NODESIZE)
                    return damaged(c, PAGE_FMT ": node %u lies outside the page", PAGE_ARGS(c, t, pgno), i + 1);
                chi = (bound){p + noff + NODESIZE, rd16(p + noff + 6)};
            }
            if ((rc = walk_page(c, t, child, pgno, level + 1, clo, chi)))
                return rc;
            continue;
        }
        uint64_t dsize = (uint64_t)rd16(node) | (uint64_t)rd16(node + 2) << 16;
        uint16_t allowed = F_BIGDATA | (t->kind == TREE_MAIN ? F_SUBDATA : 0);
        if (flags & ~allowed || flags == (F_BIGDATA | F_SUBDATA))
            return damaged(c, PAGE_FMT ": node %u has flags 0x%x, which mnemo never writes there",
                           PAGE_ARGS(c, t, pgno), i, flags);
        if ((flags & F_BIGDATA ? 8 : dsize) > room - ksize)
            return damaged(c, PAGE_FMT ": node %u's %llu data bytes run past the page", PAGE_ARGS(c, t, pgno), i,
                           (unsigned long long)(flags & F_BIGDATA ? 8 : dsize));
        t->entries++;
        /* values the check must read: FREE lists, table records; the full
         * check also claims every overflow run */
        if (t->kind == TREE_FREE || c->full || (t->kind == TREE_MAIN && flags & F_SUBDATA)) {
            const uint8_t *val = NULL;
            uint64_t vlen = 0;
            if ((rc = node_value(c, t, pgno, node, i, &val, &vlen)))
                return rc;
            if (t->kind == TREE_FREE)
                rc = free_list(c, t, pgno, val, vlen);
            else if (flags & F_SUBDATA)
                rc = table_record(c, t, pgno, key.p, key.n, val, vlen);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int walk_page(checker *c, tree *t, uint64_t pgno, uint64_t from, unsigned level, bound lo, bound hi)
{
    int rc = claim(c, t, pgno, from);
    if (rc)
        return rc;
    const uint8_t *p = c->img + pgno * c->psize;
    int branch = level < t->db.depth;
    uint16_t want = branch ? P_BRANCH : P_LEAF;
    if (rd64(p) != pgno)
        return damaged(c, PAGE_FMT " says it is page %llu", PAGE_ARGS(c, t, pgno), (unsigned long long)rd64(p));
    if (rd16(p + 10) != want)
        return damaged(c, PAGE_FMT " has flags 0x%x where a %s page (level %u of %u) belongs", PAGE_ARGS(c, t, pgno),
                       rd16(p + 10), branch ? "branch" : "leaf", level, t->db.depth);
    unsigned lower = rd16(p + 12), upper = rd16(p + 14);
    if (lower < PAGEHDRSZ + 2 || lower % 2 || lower > upper || upper > c->psize)
        return damaged(c, PAGE_FMT ": mp_lower %u / mp_upper %u out of bounds (an empty page, or not a page)",
                       PAGE_ARGS(c, t, pgno), lower, upper);
    if (branch)
        t->branch++;
    else
        t->leaf++;
    return walk_nodes(c, t, pgno, p, level, lo, hi);
}

/* Check a tree's record, then walk it: the quick check walks the FREE DB
 * only when the file is shorter than the snapshot, the MAIN DB always (it
 * is a page or two), a table only its root page's header. */
static int walk_tree(checker *c, tree *t, uint64_t from)
{
    const db_rec *d = &t->db;
    uint16_t want_flags = t->kind == TREE_FREE ? DB_INTEGERKEY : 0;
    uint16_t flags = t->kind == TREE_FREE ? (uint16_t)(d->flags & ~ENV_NOSUBDIR) : d->flags;
    const char *where = from ? "its record" : "the meta page";
    if (flags != want_flags)
        return damaged(c, "%s of %s has flags 0x%x, not 0x%x (mnemo writes no sorted duplicates or integer keys)",
                       where, t->what, d->flags, want_flags);
    if (d->root == P_INVALID) {
        if (d->depth || d->entries || d->branch || d->leaf || d->overflow)
            return damaged(c, "%s of %s records no root but a depth of %u and %llu entries", where, t->what, d->depth,
                           (unsigned long long)d->entries);
        return 0;
    }
    if (d->depth < 1 || d->depth > CURSOR_STACK || d->root < 2 || d->root >= c->npages)
        return damaged(c, "%s of %s records root page %llu and depth %u (pages are 2..%llu, depths 1..%d)", where,
                       t->what, (unsigned long long)d->root, d->depth, (unsigned long long)c->npages - 1,
                       CURSOR_STACK);
    if (d->branch > c->npages || d->leaf > c->npages || d->overflow > c->npages)
        return damaged(c, "%s of %s counts more pages than the file has", where, t->what);
    int walk = c->full || t->kind == TREE_MAIN || (t->kind == TREE_FREE && c->file_pages < c->npages);
    if (!walk) {
        /* the root page's header only */
        if (d->root >= c->file_pages)
            return damaged(c, "the file has %llu bytes but its last committed page ends at byte %llu (truncated?): "
                           "the root page %llu of %s lies past the end", (unsigned long long)c->file_bytes,
                           (unsigned long long)c->npages * c->psize, (unsigned long long)d->root, t->what);
        const uint8_t *p = c->img + d->root * c->psize;
        uint16_t want = d->depth > 1 ? P_BRANCH : P_LEAF;
        if (rd64(p) != d->root || rd16(p + 10) != want)
            return damaged(c, "the root page %llu (byte %llu) of %s says it is page %llu with flags 0x%x",
                           (unsigned long long)d->root, (unsigned long long)d->root * c->psize, t->what,
                           (unsigned long long)rd64(p), rd16(p + 10));
        return 0;
    }
    bound none = {NULL, 0};
    int rc = walk_page(c, t, d->root, from, 1, none, none);
    if (rc)
        return rc;
    if (t->entries != d->entries)
        return damaged(c, "%s holds %llu entries but its record says %llu", t->what, (unsigned long long)t->entries,
                       (unsigned long long)d->entries);
    if (c->full && (t->branch != d->branch || t->leaf != d->leaf || t->overflow != d->overflow))
        return damaged(c, "%s has %llu branch, %llu leaf, %llu overflow pages but its record says %llu, %llu, %llu",
                       t->what, (unsigned long long)t->branch, (unsigned long long)t->leaf,
                       (unsigned long long)t->overflow, (unsigned long long)d->branch, (unsigned long long)d->leaf,
                       (unsigned long long)d->overflow);
    if (c->st && c->full)
        c->st->pages_used += t->branch + t->leaf + t->overflow;
    return 0;
}

/* ---- meta pages ---- */

/* Read the page header and meta at byte off into b: 1, 0 (the file ends
 * first) or MN_EIO. */
static int read_meta(checker *c, uint64_t off, uint8_t b[META_BYTES])
{
    if (c->fd < 0) {
        if (off > c->file_bytes || c->file_bytes - off < META_BYTES)
            return 0;
        memcpy(b, c->img + off, META_BYTES);
        return 1;
    }
    ssize_t got = pread(c->fd, b, META_BYTES, (off_t)off);
    if (got < 0)
        return mn_errf(c->err, MN_EIO, "%s: read at byte %llu: %s", c->label, (unsigned long long)off,
                       strerror(errno));
    return got == META_BYTES;
}

static int meta_check(checker *c, int slot, const meta_rec *m, uint64_t off)
{
    if (m->pgno != (uint64_t)slot || m->page_flags != P_META)
        return damaged(c, "meta page %d (byte %llu) says it is page %llu with flags 0x%x, not a meta page", slot,
                       (unsigned long long)off, (unsigned long long)m->pgno, m->page_flags);
    if (m->magic != MDB_MAGIC)
        return damaged(c, "meta page %d (byte %llu): magic 0x%08x, not an LMDB file (0xBEEFC0DE)", slot,
                       (unsigned long long)off, m->magic);
    if (m->version != MDB_DATA_VERSION)
        return damaged(c, "meta page %d (byte %llu): data format version %u, liblmdb 0.9 writes %d", slot,
                       (unsigned long long)off, m->version, MDB_DATA_VERSION);
    if (m->psize < MIN_PAGESIZE || m->psize > MAX_PAGESIZE || (m->psize & (m->psize - 1)))
        return damaged(c, "meta page %d (byte %llu): page size %u (LMDB uses a power of two in %d..%d)", slot,
                       (unsigned long long)off, m->psize, MIN_PAGESIZE, MAX_PAGESIZE);
    /* transaction t writes meta page t % 2; a new file has txnid 0 in both */
    if (m->txnid && (m->txnid & 1) != (uint64_t)slot)
        return damaged(c, "meta page %d (byte %llu) holds transaction %llu, which belongs in meta page %d", slot,
                       (unsigned long long)off, (unsigned long long)m->txnid, (int)(m->txnid & 1));
    return 0;
}

/* Both meta pages, as mdb_env_read_header reads them; *pick is the one
 * LMDB uses (the newer, as mdb_env_pick_meta), or the one with txnid. */
static int metas_read(checker *c, uint64_t txnid, meta_rec *pick)
{
    uint8_t b[META_BYTES];
    meta_rec m[2];
    uint64_t off = 0;
    for (int i = 0; i < 2; i++) {
        int rc = read_meta(c, off, b);
        if (rc < 0)
            return rc;
        if (!rc)
            return damaged(c, "the file has %llu bytes, too short for meta page %d at byte %llu",
                           (unsigned long long)c->file_bytes, i, (unsigned long long)off);
        m[i] = meta_parse(b);
        if ((rc = meta_check(c, i, &m[i], off)))
            return rc;
        off += m[0].psize;
    }
    if (m[1].psize != m[0].psize)
        return damaged(c, "the meta pages disagree on the page size (%u and %u)", m[0].psize, m[1].psize);
    int which = m[0].txnid < m[1].txnid;
    if (txnid) {
        if (m[0].txnid != txnid && m[1].txnid != txnid)
            return mn_errf(c->err, MN_EBUSY, "%s: the snapshot of transaction %llu is gone (a writer committed meanwhile)",
                           c->label, (unsigned long long)txnid);
        which = m[1].txnid == txnid;
    }
    *pick = m[which];
    c->psize = pick->psize;
    if (c->st) {
        c->st->page_size = pick->psize;
        c->st->txnid = pick->txnid;
        c->st->last_page = pick->last_pg;
    }
    return 0;
}

/* ---- the snapshot ---- */

/* Size checks that need no page, then the bitmaps. */
static int snapshot_begin(checker *c, const meta_rec *m)
{
    c->file_pages = c->file_bytes / c->psize;
    if (m->last_pg < 1 || m->last_pg >= UINT64_MAX / c->psize - 1)
        return damaged(c, "the meta page records last page %llu", (unsigned long long)m->last_pg);
    c->npages = m->last_pg + 1;
    uint64_t need = c->npages * c->psize;
    /* A tail past the end of the file can only be pages that the FREE DB
     * lists, and each of those takes 8 bytes of a list on its pages. */
    uint64_t free_pages = m->free.leaf + m->free.overflow;
    if (free_pages > c->file_pages || free_pages < m->free.leaf)
        free_pages = c->file_pages;
    if (c->npages > c->file_pages && c->npages - c->file_pages > free_pages * (c->psize / 8))
        return damaged(c, "the file has %llu bytes but its last committed page ends at byte %llu (truncated?)",
                       (unsigned long long)c->file_bytes, (unsigned long long)need);
    size_t bytes = (size_t)(c->npages + 7) / 8;
    c->used = calloc(bytes, 1);
    c->freed = calloc(bytes, 1);
    if (!c->used || !c->freed)
        return mn_errf(c->err, MN_ENOMEM, "%s: out of memory for the page bitmaps (%zu bytes)", c->label, 2 * bytes);
    return 0;
}

static int snapshot_check(checker *c, const meta_rec *m)
{
    int rc = snapshot_begin(c, m);
    if (rc)
        return rc;
    tree fr = {.kind = TREE_FREE, .what = "the FREE DB", .db = m->free};
    tree mn = {.kind = TREE_MAIN, .what = "the MAIN DB", .db = m->main};
    if ((rc = walk_tree(c, &fr, 0)))
        return rc;
    if ((rc = walk_tree(c, &mn, 0)))
        return rc;
    /* a tail past the end of the file must be free pages only */
    for (uint64_t p = c->file_pages < 2 ? 2 : c->file_pages; p < c->npages; p++)
        if (!bit_get(c->freed, p))
            return damaged(c, "the file has %llu bytes but its last committed page ends at byte %llu (truncated?)",
                           (unsigned long long)c->file_bytes, (unsigned long long)c->npages * c->psize);
    if (!c->full)
        return 0;
    uint64_t nfree = 0;
    for (uint64_t p = 2; p < c->npages; p++) {
        if (bit_get(c->freed, p)) {
            nfree++;
        } else if (!bit_get(c->used, p)) {
            return damaged(c, "page %llu (byte %llu) is neither in a tree nor free (lost: a damaged pointer or record)",
                           (unsigned long long)p, (unsigned long long)p * c->psize);
        }
    }
    if (c->st)
        c->st->pages_free = nfree;
    return 0;
}

static int empty_file(checker *c)
{
    return damaged(c, "the file is empty (no transaction was ever committed to it)");
}

int lmdb_check_image(const uint8_t *img, size_t n, const char *label, int flags, uint64_t txnid,
                     lmdb_check_stats *st, mn_err *err)
{
    if (st) {
        memset(st, 0, sizeof *st);
        st->file_bytes = n;
    }
    checker c = {.label = label, .fd = -1, .img = img, .file_bytes = n, .full = flags & LMDB_CHECK_FULL,
                 .st = st, .err = err};
    if (n == 0)
        return empty_file(&c);
    meta_rec m;
    int rc = metas_read(&c, txnid, &m);
    if (!rc)
        rc = snapshot_check(&c, &m);
    free(c.used);
    free(c.freed);
    return rc;
}

int lmdb_check_file(const char *path, int flags, uint64_t txnid, lmdb_check_stats *st, mn_err *err)
{
    if (st)
        memset(st, 0, sizeof *st);
    checker c = {.label = path, .fd = -1, .full = flags & LMDB_CHECK_FULL, .st = st, .err = err};
    c.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (c.fd < 0)
        return mn_errf(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    int rc;
    if (fstat(c.fd, &sb)) {
        rc = mn_errf(err, MN_EIO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    c.file_bytes = (uint64_t)sb.st_size;
    if (st)
        st->file_bytes = c.file_bytes;
    meta_rec m;
    if (c.file_bytes == 0) {
        rc = empty_file(&c);
        goto done;
    }
    if ((rc = metas_read(&c, txnid, &m)))
        goto done;
    /* the pages through a read-only map of exactly the file: every access
     * is checked against its size first; the guard covers a truncation
     * while we walk */
    void *map = mmap(NULL, (size_t)c.file_bytes, PROT_READ, MAP_SHARED, c.fd, 0);
    if (map == MAP_FAILED) {
        rc = mn_errf(err, MN_EIO, "%s: cannot map %llu bytes: %s", path, (unsigned long long)c.file_bytes,
                     strerror(errno));
        goto done;
    }
    if (c.full) /* the walk goes in tree order: read the file ahead in one sweep */
        madvise(map, (size_t)c.file_bytes, MADV_WILLNEED);
    int watch = faultguard_watch(map, (size_t)c.file_bytes, path);
    c.img = map;
    rc = snapshot_check(&c, &m);
    faultguard_unwatch(watch);
    munmap(map, (size_t)c.file_bytes);
    free(c.used);
    free(c.freed);
done:
    close(c.fd);
    return rc;
}
