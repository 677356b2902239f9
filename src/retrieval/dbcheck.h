/* dbcheck.h — `mnemo stats --deep`: read every record of a retrieval DB
 * and check it against everything it can be checked against, to find
 * damage (flipped bytes, lost pages) that the quick manifest-vs-shards
 * check of search_db_open cannot see.
 *
 * Per shard, in one read transaction:
 *   meta     the "config" entry equals shard 0's and the manifest's; the
 *            "stats" counters say this shard of S, reserved words are 0;
 *            the "inputs" list equals the manifest's; after a finished
 *            ingest the progress marker is (number of inputs, 0)
 *   chunks   every record parses; ids are this shard's, dense from 0 and
 *            below next_local; the text hashes to this shard; the source
 *            is the input list's entry of the record's input index; the
 *            kind is a known one with its provenance fields set as the
 *            document reader sets them (a plain input's document n on line
 *            or record n or later; chunk index x stride within the
 *            documents' bytes); (input, doc, chunk index)
 *            increases with the id, chunks of one document agree on its
 *            doc id, source, member and position, and positions increase
 *            along a member; the record is found again by its key
 *   content  each chunk's db_chunk_hash, summed, equals the shard's
 *            content hash (meta) and the manifest's entry
 *   doclen   one entry per chunk with terms (0 or none for a chunk without),
 *            equal to the length the DB's analyzer gives the chunk's text
 *   dedup    every chunk's text hash has an entry naming the first chunk
 *            with that hash and no identical text is stored twice; every
 *            entry names a stored chunk whose text has that hash
 *   postings every segment decodes (postings.h's validation), segment
 *            numbers are below the meta's count, a term's list increases
 *            across its segments and holds only stored chunks of this shard,
 *            the lists found by the term's key equal those of the scan,
 *            and, per term, the (chunk, tf) pairs equal those the analyzer
 *            gives the chunks' texts (so df is right); each chunk's tfs sum
 *            to its length; ndocs and total_len equal the meta's
 * and the meta's and the manifest's counters against what was recomputed.
 *
 * Problems are data (shard, table, key, reason), not output: the caller
 * prints them.  A digest (SHA-256 over every value read, in key order)
 * lets a caller compare two DBs' contents: equal digests mean equal reads.
 *
 * Not checkable from the records alone, so not checked: the duplicates,
 * documents and bytes counters (only against the manifest), and a change
 * of a chunk's line, record, offset or chunk index that keeps them in
 * order and within bounds (nothing stored covers them: about 1 in 300
 * single flipped bytes of a test DB landed there unreported).  An archive
 * holding two members of the same name is reported (positions go back
 * within "one" member), wrongly.  The LMDB page structure itself is
 * store_check's (store.h) job.
 *
 * Non-goals: repairing anything, checking the dense side (embeddings). */
#ifndef MNEMO_RETRIEVAL_DBCHECK_H
#define MNEMO_RETRIEVAL_DBCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define DBCHECK_TABLE_MAX 16
#define DBCHECK_KEY_MAX 320
#define DBCHECK_PROBLEMS_MAX 1000 /* problems kept (all are counted) */

/* One thing found wrong. */
typedef struct db_problem {
    int64_t shard;                 /* -1: the DB as a whole (manifest.json) */
    char table[DBCHECK_TABLE_MAX]; /* manifest, lmdb, meta, chunks, doclen, dedup, postings */
    char key[DBCHECK_KEY_MAX];     /* the entry ("chunk 1099511627790", "term \"river\""), "" for the table */
    char reason[MN_ERR_MSG_MAX];
} db_problem;

/* What the walk of one shard found. */
typedef struct db_check_shard {
    int walked;                  /* 0: the shard could not be opened */
    uint64_t chunks;             /* readable chunk records */
    uint64_t doclens, dedups;    /* entries of those tables */
    uint64_t terms, segments, postings;
    uint64_t ndocs, total_len;   /* recomputed from the chunks' texts */
    uint64_t hash_hi, hash_lo;   /* content hash recomputed */
} db_check_shard;

typedef struct db_check {
    uint32_t nshards;
    db_check_shard *sh;          /* [nshards] */
    db_problem *prob;            /* [nprob] the first DBCHECK_PROBLEMS_MAX found */
    size_t nprob;
    uint64_t problems;           /* all found */
    uint64_t hash_hi, hash_lo;   /* the DB's content hash recomputed */
    char digest[65];             /* SHA-256 hex of every value read */
} db_check;

/* Told before each table of each shard is read (e.g. to name the place if
 * reading it crashes inside LMDB: see cmd_search.c); table is "meta",
 * "chunks", "doclen", "dedup" or "postings" (borrowed for the call). */
typedef void (*db_check_step_fn)(void *ctx, uint32_t shard, const char *table);

/* Check the DB at dir; *out gets what was found (free it with
 * db_check_free, also after an error).  step (may be NULL) is called with
 * ctx before each table is read.  Returns 0 when the walk ran (the DB is
 * sound iff out->problems == 0), or MN_EIO / MN_EFORMAT when there is no
 * DB to walk (no shard-000, or no readable configuration in it).  LMDB
 * trusts its pages: a shard whose page structure is damaged can crash the
 * walk (store_check, store.h, is the guard). */
int db_check_run(const char *dir, db_check_step_fn step, void *ctx, db_check *out, mn_err *err);
void db_check_free(db_check *c);

#endif
