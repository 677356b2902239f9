/* search.h — BM25 search over every shard of a retrieval DB, with the
 * scores one index over all of them would give.
 *
 * search_db_open opens DIR/shard-* read-only (one LMDB read transaction
 * per shard for the handle's lifetime: a consistent snapshot), checks that
 * the shards agree on the configuration, and sums the collection
 * statistics (N = chunks with >= 1 term, total terms).  A query is
 * analyzed with the DB's analyzer, repeated tokens become one term with its
 * count (qtf), each term's postings segments are concatenated per shard,
 * df is summed over the shards, and every shard is evaluated exhaustively
 * (bm25.h) into one top-k heap.  Ties rank the smaller chunk id first.
 *
 * Non-goals (for now): dense and hybrid search, reranking, WAND pruning,
 * MPI distribution. */
#ifndef MNEMO_RETRIEVAL_SEARCH_H
#define MNEMO_RETRIEVAL_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "retrieval/bm25.h"
#include "retrieval/manifest.h"
#include "retrieval/store.h"
#include "util/err.h"

typedef struct search_db search_db;

/* Open the DB at dir.  Errors: MN_EIO (no such DB / shard), MN_EFORMAT
 * (not a DB, corrupt meta), MN_EMISMATCH (shards disagree). */
int search_db_open(const char *dir, search_db **out, mn_err *err);
void search_db_close(search_db *db);

const db_config *search_db_config(const search_db *db);
/* Committed counters of shard s < config->nshards. */
const store_meta *search_db_meta(const search_db *db, uint32_t s);
/* Collection-wide BM25 statistics. */
bm25_stats search_db_stats(const search_db *db);

/* The best k chunks for query[0..len) under params p (bm25_params_check'ed).
 * *hits (malloc'd, caller frees; NULL when *n == 0) gets up to k hits best
 * first.  Errors: MN_EFORMAT (invalid UTF-8 in the query, corrupt
 * postings), MN_ERANGE (bad k1/b), MN_EIO. */
int search_bm25(search_db *db, const bm25_params *p, const char *query, size_t len, size_t k, bm25_hit **hits,
                size_t *n, mn_err *err);

/* Chunk by id: 1 and *c (borrowed until search_db_close), 0 no such
 * chunk, or an error. */
int search_db_chunk(search_db *db, uint64_t id, store_chunk *c, mn_err *err);

#endif
