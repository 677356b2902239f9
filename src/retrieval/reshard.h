/* reshard.h — `mnemo reshard`: copy a finished retrieval DB into another
 * number of shards, so that a DB that outgrew its shards (a shard holds at
 * most its LMDB map size) never has to be rebuilt from its inputs.
 *
 * The copy is what a fresh `mnemo ingest --shards S2` of the same inputs
 * with the same chunking would build: the same chunks with the same ids,
 * the same BM25 postings, the same manifest content_hash, the same search
 * results.  That follows from replaying the stored chunks in their original
 * order through ingest's own "chunks -> shards" half (ingest_int.h: shard
 * assignment by text hash, exact dedup, chunk ids, batching):
 *
 *   - every chunk record stores its position (input index, document index,
 *     chunk index in the document), and every shard holds its chunks in
 *     that order (ids are given in input order), so a k-way merge over the
 *     old shards by (input, doc, index) yields the chunks in the order the
 *     first ingest produced them;
 *   - a duplicate the first ingest dropped is stored nowhere, and the
 *     dedup of the stored chunks decides as it did the first time (a
 *     text's dedup entry lives in the shard of its hash, whatever the shard
 *     count), so nothing is dropped or added on the way.
 *
 * The manifest's documents and bytes counters, the input list and the
 * chunking/analyzer configuration are carried over.  Per-shard counters
 * that depend on the batching or on dropped duplicates are not part of the
 * DB's identity: "segments" follows the reshard's own batches (as an
 * ingest's follows --batch), and the total "duplicates" is kept in shard 0
 * (which shard a dropped duplicate would fall into is not recorded).
 *
 * Resume.  The output's shards record their progress exactly as an ingest
 * does; a killed reshard (SIGKILL, MNEMO_INGEST_CRASH_AFTER) is resumed by
 * the same command and ends identical.  Every output shard carries the
 * source's identity (meta "reshard": its content hash and chunk count);
 * shard 0 gets "reshard_done" once the manifest is written.  An output
 * holding another DB, a reshard of another source, or another shard count
 * is refused; `mnemo ingest` refuses an unfinished reshard's output.
 *
 * The source must be finished and verified: the manifest-vs-shards check of
 * `mnemo stats` (search_db_verify_manifest, same message), and every shard's
 * progress at the end of its last input.  It is only read (its chunk
 * lengths are loaded: 4 bytes a chunk), through LMDB read transactions held
 * for the whole copy: the copy is of the state that was verified, even if
 * an ingest extends the source meanwhile (a later run into the same output
 * then refuses it as another source's).  The output's ingest.lock is taken
 * (what "reshard"); the source's is not, so readers of the source are not
 * told an ingest is running.
 *
 * Non-goals: changing the chunking, analyzer or tokenizer (that needs the
 * inputs: ingest again), resharding in place, merging DBs. */
#ifndef MNEMO_RETRIEVAL_RESHARD_H
#define MNEMO_RETRIEVAL_RESHARD_H

#include <stddef.h>
#include <stdint.h>

#include "retrieval/ingest.h" /* ingest_progress */
#include "util/err.h"

#define RESHARD_BATCH_DEFAULT 100000 /* chunks per commit (or INGEST_BATCH_BYTES of text) */

typedef struct reshard_opts {
    uint32_t shards;      /* S2, 1..DB_MAX_SHARDS */
    size_t batch_chunks;  /* commit after this many chunks (at a document's end); 0: RESHARD_BATCH_DEFAULT */
    /* After every batch, may be NULL: in_done / in_total count the source's
     * chunks (read or skipped as already copied) of all; chunks, commits
     * and seconds as for ingest. */
    void (*progress)(void *ctx, const ingest_progress *p);
    void *ctx;
} reshard_opts;

typedef struct reshard_result {
    uint64_t chunks;       /* chunks copied by this run */
    uint64_t total;        /* chunks of the source */
    uint64_t commits;      /* transactions committed by this run */
    int already_done;      /* the output was a finished reshard of this source: nothing to do */
    char content_hash[33]; /* the output's (= the source's) content hash */
    double seconds;
} reshard_result;

/* Copy the DB at src into dst with o->shards shards (dst created if
 * missing, or resumed).  *res (may be NULL) gets the counters.  Errors:
 * MN_EUSAGE (bad shard count; dst is src), the source check's errors
 * (MN_EIO "no manifest (has an ingest finished?)", MN_EMISMATCH "… an
 * ingest was interrupted …", MN_EFORMAT), MN_EMISMATCH (dst holds another
 * DB, a reshard of another source or into another shard count), MN_EBUSY (a
 * live ingest or reshard holds src or dst), MN_ENOSPACE and MN_EIO
 * (writing dst: every batch committed stays, rerun resumes). */
int reshard_run(const char *src, const char *dst, const reshard_opts *o, reshard_result *res, mn_err *err);

#endif
