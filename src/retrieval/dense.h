/* dense.h — dense retrieval over a DB: per-shard embedding matrices on
 * disk, exact top-k by blocked sgemm, and the batched embedding of texts
 * with the engine.
 *
 * Files of one shard (DIR/shard-NNN/):
 *   embeddings.f32   [count, dim] float32 little-endian, row-major, unit L2
 *                    norm per row (an empty text gives a zero row)
 *   embeddings.ids   [count] uint64 little-endian: the chunk id of each row
 *                    (increasing)
 *   embeddings.json  the sidecar, written LAST: it is the commit marker.
 *                    {"format": "mnemo-embeddings", "version": 1,
 *                     "model_config_sha256": "..", "model_dir": "..",
 *                     "pooling": "last"|"mean", "dim": D, "count": N,
 *                     "max_tokens": M, "truncated": X, "empty": E,
 *                     "next_local": L, "ids_hash": "16 hex",
 *                     "content_hash": "16 hex"}
 * While a shard is being embedded, its rows go to embeddings.{f32,ids}.part
 * and its durable progress to embeddings.progress.json (see "writer"
 * below); the final files appear by rename at the commit, the sidecar last.
 * A run killed at any point therefore leaves either no sidecar (the shard
 * is "not embedded", and a rerun continues from the last durable block) or
 * a complete, consistent set; readers check the file sizes and the ids hash
 * against the sidecar.  The content hash (chained hash64 over every row's
 * id and floats) identifies one embedding run's output: an IVF index
 * records it, so an index built from other embeddings (even of the same
 * chunks) is detected.  Readers do not recompute it (that would page in
 * the whole matrix).
 * Chunk ids are kept in a binary file rather than in the JSON because a
 * shard may hold millions of rows.
 *
 * Model identity is the SHA-256 of MODEL_DIR/config.json: a query must be
 * embedded by a model with the same config hash (this catches another
 * architecture or size, not retrained weights of the same shape).
 *
 * Scores are inner products of unit vectors (cosine), computed in float32
 * by cblas_sgemm and ranked with ties going to the smaller chunk id.
 *
 * Non-goals: quantised matrices, instruction prefixes for queries (the
 * query text is embedded as given), an EOS token appended before pooling. */
#ifndef MNEMO_RETRIEVAL_DENSE_H
#define MNEMO_RETRIEVAL_DENSE_H

#include <limits.h> /* PATH_MAX */
#include <stddef.h>
#include <stdint.h>

#include "model/embed.h"    /* embed_pooling */
#include "model/forward.h"  /* engine */
#include "retrieval/bm25.h" /* bm25_topk, bm25_hit: the generic (chunk id, score) top-k */
#include "util/err.h"

#define DENSE_MATRIX_FILE "embeddings.f32"
#define DENSE_IDS_FILE "embeddings.ids"
#define DENSE_META_FILE "embeddings.json"
#define DENSE_MODEL_DIR_MAX PATH_MAX /* any path realpath() returns fits */

/* The sidecar's contents. */
typedef struct dense_meta {
    char model_sha256[65];              /* sha256 hex of the model's config.json */
    char model_dir[DENSE_MODEL_DIR_MAX]; /* where the model was (informational) */
    embed_pooling pooling;
    uint32_t dim;                       /* D, the model width */
    uint64_t count;                     /* rows */
    uint32_t max_tokens;                /* texts were cut to this many tokens */
    uint64_t truncated;                 /* rows whose text was cut */
    uint64_t empty;                     /* rows whose text encoded to no tokens (zero rows) */
    uint64_t next_local;                /* the shard's next_local counter when embedded */
    uint64_t ids_hash;                  /* hash64 of the ids file's bytes (seed 0) */
    uint64_t content_hash;              /* h = hash64(row floats, hash64(id, h)) chained over the rows from 0 */
} dense_meta;

/* "last" / "mean". */
const char *dense_pooling_name(embed_pooling p);

/* SHA-256 hex of model_dir/config.json into out.  MN_EIO. */
int dense_model_hash(const char *model_dir, char out[65], mn_err *err);

/* Read shard_dir's sidecar: 1 and *m, 0 when there is none, MN_EFORMAT for
 * a malformed one (naming the key). */
int dense_meta_read(const char *shard_dir, dense_meta *m, mn_err *err);

/* ---------------------------------------------------------------------------
 * writer: durable blocks, resumable
 *
 * Rows are appended to DIR/embeddings.f32.part and DIR/embeddings.ids.part
 * (the final files' formats).  dense_writer_sync() makes a block durable:
 * it fsyncs both part files, then replaces DIR/embeddings.progress.json
 * (temporary file, fsync, rename, directory fsync) with the progress record
 *
 *   {"format": "mnemo-embeddings-progress", "version": 1,
 *    "model_dir": "..", "batch": B, "model_config_sha256": "..", "pooling": "last",
 *    "max_tokens": M, "dim": D,
 *    "shard_next_local": L, "shard_chunks": N, "shard_hash": "32 hex",
 *    "rows": R, "last_id": I, "truncated": X, "empty": E,
 *    "ids_hash": "16 hex", "content_hash": "16 hex"}
 *
 * (model_dir and batch for information, the job from model_config_sha256
 * to shard_hash, then the first R rows' state: the last chunk
 * id, the caller's counters, hash64 of the R ids, the content hash chain
 * after R rows).  The record never claims more than the part files durably
 * hold.  dense_writer_open() with the same job continues after row R when
 * the part files agree with the record: at least R rows long (bytes past
 * them, a batch written after the last block, are cut), the same ids hash
 * and last id, and the same content hash recomputed over the first R rows
 * (one sequential read of the matrix part).  Any other state (no record,
 * another job, damaged or missing part files) starts the shard over, saying
 * why.  A resume may use another batch size or thread count, since a chunk's embedding does not
 * depend on the chunks batched with it (model/linear.h): the files come out
 * byte for byte those of an uninterrupted run.  dense_writer_commit()
 * fsyncs the parts, renames them over the final files, fsyncs the
 * directory, writes the sidecar (the commit marker) and removes the
 * progress record.
 *
 * One writer per shard directory at a time (the caller holds a lock).
 * Test hook: MNEMO_EMBED_KILL_AT=POINT[:N] raises SIGKILL the N-th time
 * (default 1) the writer reaches POINT: "record-tmp" (a progress record
 * written to its temporary file, not renamed), "commit-renamed" (part files
 * renamed, no sidecar yet), "commit-sidecar" (sidecar written, progress
 * record not yet removed). */

#define DENSE_MATRIX_PART "embeddings.f32.part"
#define DENSE_IDS_PART "embeddings.ids.part"
#define DENSE_PROGRESS_FILE "embeddings.progress.json"

/* What a shard is embedded with; a resume needs all of it to be equal. */
typedef struct dense_job {
    dense_meta want;        /* model_sha256, model_dir, pooling, max_tokens, dim; count and next_local: the
                               shard's chunks and next_local counters (the rest is ignored) */
    uint32_t batch;         /* rows per forward pass (>= 1): recorded, not compared */
    uint64_t shard_hash[2]; /* the shard's content hash (store_meta hash_lo, hash_hi) */
} dense_job;

/* Where dense_writer_open() starts. */
typedef struct dense_resume {
    uint64_t rows;             /* rows kept from an earlier run (0: from the start) */
    uint64_t last_id;          /* the chunk id of the last of them (when rows > 0) */
    uint64_t truncated, empty; /* the counters recorded with them */
    char why[320];             /* "" or why an earlier run's progress was not used */
} dense_resume;

typedef struct dense_writer dense_writer;

/* Remove shard_dir's sidecar, then continue the progress of an earlier run
 * of this job or start over (truncating the part files; see above).
 * *resume (out) says which.  Errors: MN_EIO (cannot remove, read, create or
 * write the files), MN_EUSAGE (job->batch or want.dim is 0). */
int dense_writer_open(const char *shard_dir, const dense_job *job, dense_writer **out, dense_resume *resume,
                      mn_err *err);
/* Append n rows x[n, dim] with their chunk ids (increasing, above every
 * earlier row's).  Not durable until the next sync or commit.  MN_EIO,
 * MN_ENOSPACE (disk full), MN_EUSAGE (ids not increasing). */
int dense_writer_add(dense_writer *w, const float *x, const uint64_t *ids, size_t n, mn_err *err);
/* Make every row added so far durable with the caller's counters over them
 * (texts cut to max_tokens, empty texts).  MN_EIO, MN_ENOSPACE. */
int dense_writer_sync(dense_writer *w, uint64_t truncated, uint64_t empty, mn_err *err);
/* Commit: the final files, then the sidecar from the job and the counters
 * (count, ids_hash and content_hash are the writer's), then the progress
 * record goes.  Frees w (also on failure: what was durable stays for a
 * resume).  MN_EIO, MN_ENOSPACE. */
int dense_writer_commit(dense_writer *w, uint64_t truncated, uint64_t empty, mn_err *err);
/* Stop without committing: the last durable block stays for a resume, rows
 * after it are dropped by the next open.  Frees w.  NULL is ok. */
void dense_writer_close(dense_writer *w);
/* Drop everything: the part files and the progress record go (no sidecar
 * is left either).  Frees w.  NULL is ok. */
void dense_writer_abort(dense_writer *w);

/* Remove what an earlier run left in shard_dir: the temporary files of dead
 * processes (embeddings.{f32,ids,json}.tmp.PID, written by versions before
 * the part files, and embeddings.progress.json.tmp.PID), and with
 * drop_progress also the part files and the progress record (when the
 * shard's sidecar is current, they are leftovers of a kill during the
 * commit).  *removed (may be NULL) counts the files.  MN_EIO. */
int dense_leftovers_remove(const char *shard_dir, int drop_progress, size_t *removed, mn_err *err);

/* One shard's embeddings, mmap'd read-only. */
typedef struct dense_shard dense_shard;

/* Open shard_dir's embeddings and check them against the sidecar.
 * Errors: MN_EIO (no sidecar: "not embedded; run mnemo embed --db"),
 * MN_EFORMAT (sizes or ids hash disagree with the sidecar). */
int dense_shard_open(const char *shard_dir, dense_shard **out, mn_err *err);
void dense_shard_close(dense_shard *s);
const dense_meta *dense_shard_meta(const dense_shard *s);
const float *dense_shard_matrix(const dense_shard *s); /* [count, dim] (NULL when count == 0) */
const uint64_t *dense_shard_ids(const dense_shard *s);  /* [count] */

/* Rows per sgemm block of the exact search. */
#define DENSE_BLOCK_ROWS 4096

/* Exact top-k: scores of queries q[Q, dim] against rows x[n, dim] (ids
 * ids[n]), in blocks of DENSE_BLOCK_ROWS rows, each block one
 * cblas_sgemm [Q, dim] x [dim, rows]; every score is offered to topk[qi]
 * (initialised by the caller with its k).  MN_ENOMEM. */
int dense_topk_exact(const float *x, const uint64_t *ids, size_t n, size_t dim, const float *q, size_t Q,
                     bm25_topk *topk, mn_err *err);

/* Embed B token sequences in one batched forward (segment b in KV slot b;
 * the engine needs >= B slots of >= max(n[b]) positions): the final hidden
 * states pooled as in engine_embed (last token or mean), L2-normalised, into
 * out[B, C].  A sequence with n[b] == 0 gets a zero row.  Errors: those of
 * engine_forward, MN_ENOMEM. */
int dense_embed_batch(engine *e, const int32_t *const *ids, const int *n, int B, embed_pooling pool, float *out,
                      mn_err *err);

#endif
