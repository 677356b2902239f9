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
 * dense_writer removes the sidecar before writing anything and writes each
 * file through util/outfile.h, so a run killed at any point leaves either
 * no sidecar (the shard is "not embedded") or a complete, consistent set;
 * readers check the file sizes and the ids hash against the sidecar.  The
 * content hash (chained hash64 over every row's id and floats) identifies
 * one embedding run's output: an IVF index records it, so an index built
 * from other embeddings (even of the same chunks) is detected.  Readers do
 * not recompute it (that would page in the whole matrix).
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

#include <stddef.h>
#include <stdint.h>

#include "model/embed.h"    /* embed_pooling */
#include "model/forward.h"  /* engine */
#include "retrieval/bm25.h" /* bm25_topk, bm25_hit: the generic (chunk id, score) top-k */
#include "util/err.h"

#define DENSE_MATRIX_FILE "embeddings.f32"
#define DENSE_IDS_FILE "embeddings.ids"
#define DENSE_META_FILE "embeddings.json"
#define DENSE_MODEL_DIR_MAX 1024

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

/* Streaming writer of one shard's embedding files. */
typedef struct dense_writer dense_writer;

/* Remove shard_dir's sidecar, then open the matrix and ids files for
 * writing rows of dim floats.  MN_EIO. */
int dense_writer_open(const char *shard_dir, uint32_t dim, dense_writer **out, mn_err *err);
/* Append n rows x[n, dim] with their chunk ids (increasing).  MN_EIO,
 * MN_EUSAGE (ids not increasing). */
int dense_writer_add(dense_writer *w, const float *x, const uint64_t *ids, size_t n, mn_err *err);
/* Commit the two data files, then the sidecar from *m (count, dim,
 * ids_hash and content_hash are filled in by the writer).  Frees w.  MN_EIO. */
int dense_writer_commit(dense_writer *w, const dense_meta *m, mn_err *err);
/* Drop everything written (no sidecar is left).  NULL is ok. */
void dense_writer_abort(dense_writer *w);

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
