/* store.h — one shard of a retrieval DB: an LMDB environment in its own
 * directory (DIR/shard-NNN/data.mdb + lock.mdb) holding five named DBs:
 *
 *   chunks    chunk id (8 bytes big-endian) -> chunk record (text + provenance)
 *   dedup     hash64 of the chunk text (8 bytes BE) -> chunk id (8 bytes BE)
 *   postings  term bytes, 0x00, segment number (4 bytes BE) -> postings list
 *             (postings.h) of the chunks of one or more consecutive ingest
 *             batches (ingest merges a small last segment with the next
 *             batch's postings).  Terms never
 *             hold a 0x00 byte (the analyzer splits on it), so a term's
 *             segments are adjacent in key order and come in batch order,
 *             i.e. increasing chunk ids: concatenated they are the term's
 *             whole list.  Long lists are never rewritten.
 *   doclen    chunk id (8 bytes BE) -> its exact length in analyzed terms (4 bytes LE)
 *   meta      "stats" -> store_meta (17 u64 LE); other string keys ->
 *             arbitrary bytes (ingest keeps its config and input list there)
 *
 * The chunk record: 8 u64 LE (input index, doc index, line, record, offset,
 * chunk index within the document, flags (reserved, 0), doc kind), then 4
 * u32-length-prefixed byte strings: text, doc id, source, member (member
 * absent = length 0xFFFFFFFF).
 *
 * One transaction at a time per handle (store_begin .. store_commit or
 * store_abort); every get/put needs one.  Values returned by gets are
 * borrowed from LMDB and valid until the transaction ends.  A committed
 * write transaction is durable (LMDB syncs on commit); a process killed at
 * any moment leaves the last committed state.
 *
 * Damaged shards.  store_open checks the file's meta pages, roots and
 * size against each other before LMDB maps it (lmdbcheck.h, "quick"; a
 * writer also walks every page, once per file and snapshot in a process,
 * since LMDB would spread damage into new commits), and
 * store_check/store_verify walk every page ("full"); damage is MN_EFORMAT
 * with one line naming DIR/data.mdb, the page and byte and what to do.
 * Keys and values that a read transaction returns are checked to lie
 * inside the map, and every LMDB call is marked for the CLI's fault guard
 * (util/faultguard.h), so a fault the checks missed ends in one line and
 * exit status 1 instead of a signal.
 *
 * Readers.  Every open with a lock file (writers and readers, not
 * STORE_NOLOCK) and every write transaction clears the reader slots of
 * dead processes (mdb_reader_check): a reader killed with SIGKILL would
 * otherwise keep its slot (126 of them fill the table: MDB_READERS_FULL)
 * and pin the pages of its snapshot, so that a writer's file keeps
 * growing.
 *
 * Size limits.  A writer maps max(2 x the file, 1 GiB) of address space,
 * not a fixed size; when a put or commit finds the map full it fails with
 * MN_ENOSPACE and store_map_full() true, and store_grow() doubles the map
 * (ingest then redoes the batch).  A shard can thus grow until the disk or
 * the process's address space (ulimit -v; 128 TiB on x86-64 Linux) runs
 * out.  Readers map only the file's size.  A full disk during a commit is MN_ENOSPACE
 * ("no space left on the device (N MB free on the file system of DIR)"),
 * not LMDB's EIO; the shard keeps its last committed state.
 *
 * Non-goals: multi-process writers (LMDB serialises them, ingest does not
 * plan for it), compaction of postings segments, one shard open twice in
 * one process with a lock file (LMDB forbids it: the second open would
 * reset the reader table and closing either drops the other's locks;
 * store_open refuses it with MN_EBUSY). */
#ifndef MNEMO_RETRIEVAL_STORE_H
#define MNEMO_RETRIEVAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct store store;

/* Per-shard counters, updated in the same transaction as the data. */
typedef struct store_meta {
    uint64_t version;     /* STORE_VERSION */
    uint64_t shard;       /* this shard's index */
    uint64_t nshards;     /* shards in the DB */
    uint64_t next_local;  /* next local sequence number for a chunk id */
    uint64_t chunks;      /* chunks stored */
    uint64_t dups;        /* exact duplicate chunks dropped */
    uint64_t ndocs;       /* chunks with >= 1 term (BM25 N) */
    uint64_t total_len;   /* sum of chunk lengths in terms */
    uint64_t segments;    /* next postings segment number (= batches that wrote postings) */
    uint64_t hash_lo;     /* content hash accumulator (sum mod 2^64 of per-chunk hashes) */
    uint64_t hash_hi;
    uint64_t prog_input;  /* applied progress: every document at position */
    uint64_t prog_doc;    /*   (input, doc) <= this one is in the shard */
    uint64_t docs;        /* documents ingested; kept by shard 0 only (others: 0) */
    uint64_t bytes;       /* their text bytes; shard 0 only */
    uint64_t reserved[2];
} store_meta;

#define STORE_VERSION 1
#define STORE_META_WORDS 17
#define STORE_SHARD_BITS 40 /* chunk id = shard << 40 | local sequence */
#define STORE_MEMBER_NONE UINT32_MAX

/* One chunk record as stored.  Strings are not NUL-terminated when read
 * back (use the lengths); member is NULL when absent. */
typedef struct store_chunk {
    const char *text;
    size_t text_len;
    const char *doc_id;
    size_t doc_id_len;
    const char *source;
    size_t source_len;
    const char *member;  /* NULL: none */
    size_t member_len;
    uint64_t input, doc; /* position: input index (0-based), doc index within it (1-based) */
    uint64_t line, record, offset; /* docsource provenance */
    uint64_t index;      /* chunk index within the document, from 0 */
    uint64_t kind;       /* doc_kind */
} store_chunk;

/* Open the shard at dir.  mode 0: read-write, created if missing
 * (directory included); STORE_RDONLY: read-only (MDB_RDONLY); add
 * STORE_NOLOCK for MDB_NOLOCK: no lock file is used or created, as shared
 * file systems (NFS, Lustre) and read-only media need — the caller then
 * guarantees that nothing writes the shard meanwhile.  Errors: MN_EIO
 * (cannot create/open, with LMDB's reason), MN_EFORMAT (damaged: the quick
 * check of lmdbcheck.h failed, an empty data.mdb read-only included; or
 * read-only and a named DB is missing: not a shard), MN_ENOSPACE (the
 * disk is full while a writer creates the tables), MN_EBUSY (the shard is
 * already open in this process without STORE_NOLOCK). */
#define STORE_RDONLY 1
#define STORE_NOLOCK 2
int store_open(const char *dir, int mode, store **out, mn_err *err);
void store_close(store *s);
const char *store_path(const store *s);

/* Transactions.  store_begin: MN_EIO, MN_EUSAGE (one already open, or a
 * write transaction on a read-only store, or a store broken by a failed
 * store_grow).  store_commit: MN_ENOSPACE (the map is full: see
 * store_map_full; or the disk is full), MN_EIO; the transaction is gone
 * either way. */
int store_begin(store *s, int write, mn_err *err);
int store_commit(store *s, mn_err *err);
void store_abort(store *s); /* no-op without a transaction */

/* 1 when the last put or commit of this transaction failed because the map
 * is full (MN_ENOSPACE): abort, store_grow, and redo the transaction. */
int store_map_full(const store *s);

/* Double the writer's map (no transaction may be open).  The address space
 * is asked first; MN_ENOSPACE names the sizes when it refuses (ulimit -v).
 * MN_EUSAGE: a reader, or a transaction is open. */
int store_grow(store *s, mn_err *err);

/* Full structural check of the shard at dir (lmdbcheck.h), for `mnemo
 * stats`: the quick check, then with STORE_CHECK_FULL the walk of every
 * page, on a snapshot pinned by a read transaction so that a live writer
 * does not change it underneath.  flags: STORE_CHECK_FULL, STORE_NOLOCK
 * (no lock file: nothing may write the shard meanwhile).  A shard this
 * process already has open with a lock file is checked through that
 * handle (store_verify, within its open read transaction if it has one;
 * not while another thread uses that handle); otherwise a handle of its
 * own is opened and closed.
 * Returns 0, MN_EFORMAT (damaged: one line naming DIR/data.mdb, the page,
 * the reason and what to do), MN_EIO, MN_ENOMEM, MN_EBUSY (a writer kept
 * replacing the snapshot). */
#define STORE_CHECK_FULL 1
int store_check(const char *dir, int flags, mn_err *err);

/* The same on an open store: the snapshot of its open read transaction, or
 * of a new one (begun and ended here).  full: 0 quick, 1 full.  MN_EUSAGE
 * inside a write transaction. */
int store_verify(store *s, int full, mn_err *err);

/* Meta counters: store_meta_get returns 1 (found), 0 (absent: *m zeroed) or
 * MN_EFORMAT (wrong size or version). */
int store_meta_get(store *s, store_meta *m, mn_err *err);
int store_meta_put(store *s, const store_meta *m, mn_err *err);

/* Raw meta entries under string keys: get returns 1 (*val borrowed), 0
 * absent (*val NULL). */
int store_kv_get(store *s, const char *key, const char **val, size_t *len, mn_err *err);
int store_kv_put(store *s, const char *key, const void *val, size_t len, mn_err *err);

/* Chunks: get returns 1 (*c borrowed), 0 absent, MN_EFORMAT for a corrupt
 * record.  put: MN_ERANGE (a string over 4 GiB), MN_ENOSPACE (map full:
 * store_map_full; disk full), MN_EIO (LMDB).  Every put may fail so. */
int store_chunk_put(store *s, uint64_t id, const store_chunk *c, mn_err *err);
int store_chunk_get(store *s, uint64_t id, store_chunk *c, mn_err *err);

int store_dedup_get(store *s, uint64_t hash, uint64_t *id, mn_err *err); /* 1/0 */
int store_dedup_put(store *s, uint64_t hash, uint64_t id, mn_err *err);

int store_doclen_get(store *s, uint64_t id, uint32_t *len, mn_err *err); /* 1/0 */
int store_doclen_put(store *s, uint64_t id, uint32_t len, mn_err *err);

/* Every chunk length of this shard (shard index `shard`) in one cursor pass
 * over the doclen table, into a new array *lens (n entries, caller frees),
 * indexed by the chunk id's local sequence number (id & (2^40 - 1)); n is
 * next_local (store_meta).  Slots without an entry (e.g. chunks without
 * terms) hold STORE_DOCLEN_NONE: no real length reaches it, since a chunk's
 * text is under 4 GiB and terms are separated by at least one byte.
 * Lengths are exact (the stored u32).  Returns 0, MN_EFORMAT (n exceeds the
 * chunks stored, as ids are never skipped: a corrupt count, refused before
 * allocating; a key of another shard or a local number >= n; a value not 4
 * bytes; a length equal to STORE_DOCLEN_NONE), MN_ENOMEM, MN_EIO (LMDB),
 * MN_EUSAGE (no transaction). */
#define STORE_DOCLEN_NONE UINT32_MAX
int store_doclen_load(store *s, uint64_t shard, uint64_t n, uint32_t **lens, mn_err *err);

/* Write segment seg of term[0..len) (1..255 bytes, no 0x00). */
int store_postings_put(store *s, const char *term, size_t len, uint32_t seg, const void *buf, size_t n,
                       mn_err *err);

/* The last (highest-numbered) segment of term: 1 with *seg and *buf, *n
 * (borrowed until the transaction ends or the next write), 0 if the term
 * has none. */
int store_postings_last(store *s, const char *term, size_t len, uint32_t *seg, const void **buf, size_t *n,
                        mn_err *err);

/* Delete segment seg of term (absent: not an error). */
int store_postings_del(store *s, const char *term, size_t len, uint32_t seg, mn_err *err);

/* Call fn for every segment of term, in segment order, with the borrowed
 * encoded list; stops at fn's first non-zero return (returned). */
typedef int (*store_segment_fn)(void *ctx, uint32_t seg, const void *buf, size_t n, mn_err *err);
int store_postings_each(store *s, const char *term, size_t len, store_segment_fn fn, void *ctx, mn_err *err);

/* Whole-table walks in key order, for checks that read everything (`mnemo
 * stats --deep`).  Each calls fn for every entry and stops at fn's first
 * non-zero return (returned); values are borrowed until fn returns.
 * Errors: MN_EFORMAT (a malformed key, value or chunk record, naming the
 * shard), MN_EIO (LMDB), MN_EUSAGE (no transaction). */
typedef int (*store_chunk_fn)(void *ctx, uint64_t id, const store_chunk *c, mn_err *err);
int store_chunk_each(store *s, store_chunk_fn fn, void *ctx, mn_err *err);
/* doclen: (chunk id, length); dedup: (text hash, chunk id). */
typedef int (*store_pair_fn)(void *ctx, uint64_t key, uint64_t val, mn_err *err);
int store_doclen_each(store *s, store_pair_fn fn, void *ctx, mn_err *err);
int store_dedup_each(store *s, store_pair_fn fn, void *ctx, mn_err *err);
/* postings: every (term, segment) in key order (a term's segments together,
 * in segment order), with the encoded list. */
typedef int (*store_term_fn)(void *ctx, const char *term, size_t len, uint32_t seg, const void *buf, size_t n,
                             mn_err *err);
int store_postings_scan(store *s, store_term_fn fn, void *ctx, mn_err *err);

#endif
