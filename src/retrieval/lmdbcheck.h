/* lmdbcheck.h — structural checks of an LMDB data file (liblmdb 0.9 format,
 * 64-bit little-endian), done by our own parser over pread and a read-only
 * map, never through LMDB: LMDB trusts its pages, and a damaged page sends
 * its cursors out of the file (SIGSEGV) or past its end (SIGBUS).
 *
 * Two depths:
 *
 *   quick (flags 0): what must hold before LMDB maps the file.  Both meta
 *     pages (read with pread): magic 0xBEEFC0DE, data version 1, page size a
 *     power of two in [512, 32768] and the same in both, the txnid parity of
 *     each meta's slot; the newer one (by txnid, as mdb_env_pick_meta) is
 *     "the snapshot".  Its FREE and MAIN records: root and depth in range
 *     (root < last page + 1, depth <= 32, an empty tree has no root and no
 *     entries), flags those mnemo writes; the root pages' headers (page
 *     number and branch/leaf flag for the depth); the MAIN tree walked as
 *     below, with each named DB's record (48 bytes, flags 0, root in range,
 *     root page header).  The file size must cover (last page + 1) x page
 *     size, except that the tail past the end may hold pages the FREE DB
 *     lists (LMDB never writes a page that was freed in the transaction
 *     that allocated it), which is then checked by walking the FREE DB.
 *     Cost: a few page reads, whatever the file's size.
 *
 *   full (LMDB_CHECK_FULL): additionally every page reachable from the
 *     FREE and MAIN roots and from every named DB: page number equal to its
 *     position, flags valid for the level (branch above, leaf at the tree's
 *     depth, so all leaves sit at the recorded depth), mp_lower/mp_upper in
 *     bounds, every node pointer and node (header + key + data, or the
 *     8-byte overflow page number of an F_BIGDATA node) inside the page,
 *     keys in strictly increasing order within a page and within the range
 *     the parent's separators give, overflow runs (P_OVERFLOW, mp_pages)
 *     inside the file and large enough for their data, branch children in
 *     range, no page reached twice (cycles, pages shared between trees),
 *     entries and branch/leaf/overflow page counts equal to the records,
 *     FREE DB values well-formed page lists (count, strictly descending,
 *     within range, never a page in use or listed twice), and every page up
 *     to the last one either in a tree or free (nothing lost).  Cost: one
 *     pass over the pages in use (overflow data is not read): about 1.2 GB
 *     of file per CPU second from the page cache (a 200 MB shard of a
 *     synthetic corpus), and disk-bound when cold.
 *
 * What mnemo never writes is refused as damage: sorted duplicates
 * (MDB_DUPSORT/DUPFIXED, F_DUPDATA, P_LEAF2/P_SUBP pages), integer or
 * reverse keys in user tables, a FIXEDMAP environment.
 *
 * Errors fill err with one line naming the file, the page and byte and the
 * reason, and what to do, e.g.
 *
 *   D/shard-001/data.mdb: damaged: the file has 2900000 bytes but its last
 *   committed page ends at byte 3006464 (truncated?); rebuild the shard or
 *   restore it from a copy ('mnemo stats --deep --db D' lists what is
 *   damaged)
 *
 * Thread safety: none needed (no shared state).  A full check of a file that
 * a writer is changing must pin the snapshot it checks (store_check does it
 * with a read transaction and passes its txnid). */
#ifndef MNEMO_RETRIEVAL_LMDBCHECK_H
#define MNEMO_RETRIEVAL_LMDBCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* What a check saw (filled as far as the check got). */
typedef struct lmdb_check_stats {
    uint64_t file_bytes;  /* size of the file or image */
    uint32_t page_size;   /* from the meta pages */
    uint64_t txnid;       /* the snapshot checked */
    uint64_t last_page;   /* its mm_last_pg */
    uint32_t tables;      /* named DBs (records of the MAIN DB) */
    /* full check only: */
    uint64_t pages_used;  /* branch + leaf + overflow pages in the trees */
    uint64_t pages_free;  /* pages the FREE DB lists */
    uint64_t entries;     /* records in the named DBs */
} lmdb_check_stats;

#define LMDB_CHECK_FULL 1

/* Check the LMDB data file at path (e.g. DIR/data.mdb).  flags: 0 or
 * LMDB_CHECK_FULL.  txnid 0 checks the newest snapshot; otherwise the meta
 * page holding exactly that txnid (a snapshot a read transaction pins).  st
 * may be NULL.  Returns 0 (sound), MN_EFORMAT (damaged; an empty file too),
 * MN_EIO (cannot open, stat, read or map it), MN_ENOMEM (the page bitmaps
 * of a full check), MN_EBUSY (txnid given and no meta page holds it any
 * more: a writer moved on; take a new snapshot and check again). */
int lmdb_check_file(const char *path, int flags, uint64_t txnid, lmdb_check_stats *st, mn_err *err);

/* The same on an image of the file in memory: img[0..n), named label in
 * messages (borrowed for the call). */
int lmdb_check_image(const uint8_t *img, size_t n, const char *label, int flags, uint64_t txnid,
                     lmdb_check_stats *st, mn_err *err);

#endif
