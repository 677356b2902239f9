/* ivf.h — an inverted-file (IVF) index over unit vectors for approximate
 * inner-product top-k: spherical k-means centroids, every vector in the
 * list of its best centroid, and a search that scans only the nprobe lists
 * whose centroids score best against the query.
 *
 * Training: a seeded sample of at most max_train vectors (all of them when
 * fewer); centroids start as nlist distinct sampled vectors (a seeded
 * partial Fisher-Yates shuffle: random-sample init, not k-means++, because
 * k-means++ costs nlist sequential passes over the data), then `iters`
 * Lloyd iterations: assignment by the largest inner product (one
 * cblas_sgemm per block of vectors against all centroids; ties to the
 * smaller centroid), each centroid the normalised mean of its members; an
 * empty cluster is re-seeded with a random sampled vector.  Then every
 * vector is assigned.  Same inputs and seed give the same index.
 *
 * The index keeps its own copy of the vectors in list order (rows of one
 * list are contiguous, in increasing row order), so scanning a list is a
 * contiguous read; this doubles the disk space of a shard's embeddings.
 * A batch of queries is searched list by list: the queries probing a list
 * are gathered and scored against its rows by one cblas_sgemm per block,
 * so each probed list is read once per batch rather than once per query.
 *
 * File DIR/shard-NNN/ivf.bin (little-endian), written atomically:
 *   header 64 bytes: "MNIVF01\n", u32 dim, u32 nlist, u64 n,
 *                    u64 source hash (dense.h's content_hash of the
 *                    embeddings it was built from), u64 seed, u32 iters,
 *                    20 bytes zero
 *   u64 offsets[nlist + 1]   list l holds rows offsets[l] .. offsets[l+1]
 *   u64 ids[n]               chunk ids in list order
 *   f32 centroids[nlist, dim]
 *   f32 vectors[n, dim]      in list order
 * Every size and offset is checked on open (a truncated or corrupt file is
 * MN_EFORMAT, never a crash).
 *
 * Non-goals: product quantisation, incremental updates (rebuild instead),
 * multi-threaded k-means beyond what OpenBLAS does inside sgemm. */
#ifndef MNEMO_RETRIEVAL_IVF_H
#define MNEMO_RETRIEVAL_IVF_H

#include <stddef.h>
#include <stdint.h>

#include "retrieval/bm25.h" /* bm25_topk */
#include "util/err.h"

#define IVF_FILE "ivf.bin"

typedef struct ivf_params {
    uint32_t nlist;   /* lists wanted (clamped to n when n is smaller; >= 1) */
    uint32_t iters;   /* Lloyd iterations (e.g. 10) */
    uint64_t seed;    /* sampling and init seed */
    size_t max_train; /* vectors used for training (0: 256 x nlist, at least 65536; never below nlist) */
} ivf_params;

typedef struct ivf ivf;

/* Build an index over x[n, dim] (unit rows) with chunk ids ids[n]
 * (increasing).  source_hash is recorded (dense_meta.content_hash).  Errors:
 * MN_ERANGE (nlist or iters 0, dim 0), MN_ENOMEM. */
int ivf_build(const float *x, const uint64_t *ids, size_t n, size_t dim, const ivf_params *p, uint64_t source_hash,
              ivf **out, mn_err *err);

/* Write ix to path atomically (util/outfile.h).  MN_EIO. */
int ivf_write(const ivf *ix, const char *path, mn_err *err);

/* Map and check path.  MN_EIO, MN_EFORMAT. */
int ivf_open(const char *path, ivf **out, mn_err *err);
void ivf_free(ivf *ix);

uint32_t ivf_nlist(const ivf *ix);
size_t ivf_count(const ivf *ix);
size_t ivf_dim(const ivf *ix);
uint64_t ivf_source_hash(const ivf *ix);
/* Rows in list l < nlist. */
size_t ivf_list_size(const ivf *ix, uint32_t l);

/* Top-k of queries q[Q, dim] scanning the nprobe (>= 1; nprobe >= nlist
 * scans every list) best lists of each query (by centroid inner product,
 * ties to the smaller list); scores (float32, from sgemm) go to topk[qi]
 * (initialised by the caller).  MN_ERANGE (nprobe 0), MN_ENOMEM. */
int ivf_search(const ivf *ix, const float *q, size_t Q, size_t nprobe, bm25_topk *topk, mn_err *err);

#endif
