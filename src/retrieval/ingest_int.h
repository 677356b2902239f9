/* ingest_int.h — the "chunks -> shards" half of the ingest pipeline,
 * shared by ingest.c (chunks from the chunker) and reshard.c (chunks
 * replayed from another DB).  Not for use outside src/retrieval/.
 *
 * The writer owns a DB directory: its lock (DIR/ingest.lock), its shards,
 * their input list and their pending batch.  A chunk handed to
 * ingest_writer_add goes to shard hash64(text) mod S unless that shard's
 * progress already covers its document (a resumed run); ingest_writer_flush
 * commits every shard whose progress is behind the given position, with
 * exact dedup, chunk ids, postings, doclens and counters (see ingest.h).
 * Whatever feeds the writer must hand it chunks in (input, document, chunk
 * index) order and flush only at document boundaries: a shard's progress
 * (input, doc) means "every chunk of every document up to here is in".
 *
 *   ingest_writer_open -> ingest_writer_inputs -> (ingest_writer_add ...
 *   ingest_writer_flush)* -> ingest_writer_manifest -> ingest_writer_close */
#ifndef MNEMO_RETRIEVAL_INGEST_INT_H
#define MNEMO_RETRIEVAL_INGEST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "retrieval/ingest.h"   /* ingest_opts, ingest_progress */
#include "retrieval/manifest.h" /* db_config */
#include "retrieval/store.h"    /* store_meta, store_chunk */
#include "util/err.h"

typedef struct ingest ingest;

/* Meta keys of a `mnemo reshard` output: "reshard" in every shard (written
 * with the config when the shard is created) holds the source's identity;
 * "reshard_done" in shard 0 marks a finished reshard.  An ingest refuses a
 * DB that has the first and not the second. */
#define INGEST_KEY_RESHARD "reshard"
#define INGEST_KEY_RESHARD_DONE "reshard_done"

/* Create dir if missing, take dir/ingest.lock (dirlock, holder word
 * `what`: "ingest", "reshard"), then open every shard, creating the missing
 * ones with the configuration *asked.  An existing DB's configuration
 * fills the options o->given leaves unset, then must equal *asked
 * (MN_EMISMATCH naming the key); *asked gets the resolved configuration.
 * reshard_of: NULL for an ingest (which refuses the target of an unfinished
 * reshard: MN_EMISMATCH); else the value of INGEST_KEY_RESHARD written into
 * every shard created here, and required in every existing one.  o is
 * borrowed until ingest_writer_close (its progress callback, ctx, batch
 * size).  Errors: MN_EBUSY (a live holder of the lock), MN_EIO,
 * MN_EFORMAT, MN_EMISMATCH, MN_EUSAGE.  On error *out is NULL and nothing
 * is held. */
int ingest_writer_open(const char *dir, const ingest_opts *o, const char *what, db_config *asked,
                       const char *reshard_of, ingest **out, mn_err *err);

/* ingest_writer_open in two steps, for a caller that must look at the DB
 * under the lock before its shards are opened (a writer opening an LMDB
 * environment can wait on another process's write transaction, so nothing
 * opens the shards before holding the lock).  ingest_writer_lock: the
 * directory and the lock (MN_EIO, MN_EBUSY); ingest_writer_shards_open: the
 * rest (on error, close g with ingest_writer_close). */
int ingest_writer_lock(const char *dir, const ingest_opts *o, const char *what, ingest **out, mn_err *err);
int ingest_writer_shards_open(ingest *g, db_config *asked, const char *reshard_of, mn_err *err);

/* Record the input list: the DB's list plus those of paths[0..n) (absolute,
 * compared as strings) not in it yet, in order; written into every shard
 * whose list is shorter.  Errors: MN_EFORMAT (the shards' lists disagree),
 * MN_EIO. */
int ingest_writer_inputs(ingest *g, const char *const *paths, size_t n, mn_err *err);

/* Queue one chunk for its shard (skipped when that shard already holds its
 * document): its text, doc id, member and provenance are copied; c->source
 * is ignored (the stored source is the DB's input c->input).  Never fails
 * (aborts on out of memory, as xmalloc). */
void ingest_writer_add(ingest *g, const store_chunk *c);

/* Commit the queued chunks: every shard whose progress is before
 * (end_in, end_doc) commits one transaction and moves its progress there.
 * Errors: those of the store (MN_ENOSPACE, MN_EIO, ...), with the shard and
 * the batch named; every shard committed before stays. */
int ingest_writer_flush(ingest *g, uint64_t end_in, uint64_t end_doc, mn_err *err);

/* Chunks and bytes queued since the last flush (for batch decisions). */
void ingest_writer_pending(const ingest *g, size_t *chunks, size_t *bytes);

/* Units of work for the progress callback: done and total replace the
 * input-bytes counters (in_done, in_total) of the next reports. */
void ingest_writer_set_work(ingest *g, uint64_t done, uint64_t total);

/* Set shard 0's document counters (documents, bytes) and the duplicates
 * count of shard 0 in one transaction: a reshard carries them over.  Errors:
 * those of the store. */
int ingest_writer_set_counters(ingest *g, uint64_t docs, uint64_t bytes, uint64_t dups, mn_err *err);

/* Write one meta entry of shard s in its own transaction.  Errors: the store's. */
int ingest_writer_kv_put(ingest *g, uint32_t s, const char *key, const char *val, mn_err *err);

/* The state: shard count, the committed meta of shard s, this run's counters. */
uint32_t ingest_writer_shards(const ingest *g);
const store_meta *ingest_writer_meta(const ingest *g, uint32_t s);
const ingest_progress *ingest_writer_counters(const ingest *g);

/* Rewrite dir/manifest.json from the shards' committed state.  MN_EIO. */
int ingest_writer_manifest(ingest *g, mn_err *err);

/* Close the shards, release the lock, free g (NULL is fine). */
void ingest_writer_close(ingest *g);

#endif
