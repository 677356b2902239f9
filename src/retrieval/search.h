/* search.h — BM25 search over every shard of a retrieval DB, with the
 * scores one index over all of them would give.
 *
 * search_db_open opens DIR/shard-* read-only (one LMDB read transaction
 * per shard for the handle's lifetime: a consistent snapshot), checks that
 * the shards agree on the configuration and match DIR/manifest.json (an
 * unfinished, interrupted or running ingest is refused), sums the collection statistics
 * (N = chunks with >= 1 term, total terms), and loads every chunk's length
 * into memory (4 bytes per chunk id: scoring needs one per matching chunk,
 * far too many for an LMDB lookup each).  A query is analyzed with the
 * DB's analyzer, repeated tokens become one term with its count (qtf),
 * each term's postings segments are decoded and concatenated per shard
 * (the decoded lists are kept in the handle for the next query), df is
 * summed over the shards, and every shard is evaluated exhaustively
 * (bm25.h) into one top-k heap.  Ties rank the smaller chunk id first.
 *
 * Dense search (after search_dense_attach): the query is tokenized with
 * MODEL_DIR/tokenizer.json, cut to the embeddings' max_tokens, embedded
 * with the pooling the DB's embeddings were built with (dense.h), and
 * scored against every shard's matrix: exactly (blocked sgemm) or, with
 * nprobe > 0, through each shard's IVF index (ivf.h).  Hybrid search
 * fuses the BM25 and dense top-`depth` lists (fusion.h).
 *
 * Distribution (src/dist/, cmd_search.c): search_db_open_part opens only
 * the shards s with s mod nparts == part; the split-up BM25 entries
 * (search_bm25_terms, then search_bm25_scored with statistics summed over
 * all parts) and dense entries (search_dense_candidates, then
 * search_dense_rescore) let a caller merge the parts' lists into exactly
 * the single-handle result.
 *
 * Non-goals (for now): reranking, WAND pruning,
 * batching several queries into one sgemm (the library supports it; the
 * CLI searches one query at a time). */
#ifndef MNEMO_RETRIEVAL_SEARCH_H
#define MNEMO_RETRIEVAL_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "retrieval/bm25.h"
#include "retrieval/manifest.h"
#include "retrieval/store.h"
#include "util/err.h"

typedef struct search_db search_db;

/* Open the DB at dir, after checking that it is complete: every reader of a
 * DB (search, eval --retrieval, run, contam --db, embed --db) opens it
 * here, so none reads an unfinished or interrupted ingest.  The open
 * verifies, as `mnemo stats` does: DIR/manifest.json present and
 * well-formed, its settings (shard count, analyzer, tokenizer, chunking,
 * fields) equal to the shards' configuration, its totals the sums of its
 * shard_stats, and every shard the handle opens holding exactly what its
 * shard_stats entry says (chunks, duplicates, indexed chunks, total terms,
 * segments, content hash; shard 0 also documents and bytes) with the same
 * input list (manifest.h: manifest_read, manifest_check_shard).
 * Errors:
 *   MN_EIO       no such DB / shard; no manifest ("DIR: no manifest.json: no
 *                ingest has finished into this DB (one failed or is still
 *                running); rerun mnemo ingest")
 *   MN_EMISMATCH shards disagree; shards ahead of the manifest ("...: an
 *                ingest was interrupted after the manifest was written;
 *                rerun it") or unlike it ("...: check it with mnemo stats
 *                --deep"); manifest settings unlike the shards'
 *   MN_EBUSY     instead of the two "unfinished" cases above while a live
 *                process holds DIR/ingest.lock: "DIR: an ingest is running
 *                (pid P on host H since T); wait for it to finish"
 *   MN_EFORMAT   not a DB, corrupt meta, chunk lengths or manifest
 *   MN_ENOMEM    no room for the chunk lengths
 * An ingest that finishes during the open (the manifest rewritten between
 * the shards' snapshots) is not refused: the open is tried again. */
int search_db_open(const char *dir, search_db **out, mn_err *err);
/* Open part `part` of nparts: only the shards s with s mod nparts == part
 * (shard 0 is read for the configuration, then closed when not owned).
 * Searches see only those shards; search_db_stats sums only them;
 * search_db_meta is zero for the others and search_db_chunk finds no chunk
 * of theirs.  The manifest is checked as by search_db_open, but each part
 * checks only its own shards against their entries (the parts together
 * check them all, and the totals are checked to be the entries' sums):
 * callers agree on the parts' results (dist_agree) before trusting the
 * identity.  Errors: those of search_db_open, MN_ERANGE (part >= nparts). */
int search_db_open_part(const char *dir, uint32_t part, uint32_t nparts, int flags, search_db **out, mn_err *err);
/* flags of search_db_open_part: open the shards with MDB_NOLOCK (store.h's
 * STORE_NOLOCK: shared or read-only file systems; nothing may write the
 * DB meanwhile, so a live ingest, i.e. a held DIR/ingest.lock, is refused
 * at once with MN_EBUSY). */
#define SEARCH_DB_NOLOCK 1
/* ... and verify only: every check of an open, without loading the chunk
 * lengths (no search on the handle: for search_db_identity,
 * search_db_manifest and search_db_meta, at the cost of reading each
 * shard's meta). */
#define SEARCH_DB_VERIFY_ONLY 2
void search_db_close(search_db *db);

const db_config *search_db_config(const search_db *db);
/* Committed counters of shard s < config->nshards. */
const store_meta *search_db_meta(const search_db *db, uint32_t s);

/* The identity of the DB this handle verified at open, for the records of
 * the results made from it (summary.json, run identities): the manifest's
 * content_hash, total chunks, shard count, analyzer and tokenizer sha256,
 * as checked against the shards the handle opened (for a part, together
 * with the other parts; see search_db_open_part).  Use this rather than
 * reading manifest.json again later: the file may have changed since (an
 * ingest finished meanwhile), the handle's snapshot has not. */
void search_db_identity(const search_db *db, db_identity *id);
/* The manifest.json text the open verified (NUL-terminated; borrowed until
 * search_db_close). */
const char *search_db_manifest(const search_db *db);

/* Read dir/manifest.json again and check it against the counters of the
 * handle's shards (as at open, without the input lists): has the file
 * changed in a way the snapshot does not match?  On success *text is the
 * manifest's text (caller frees).  Errors: those of manifest_read and
 * manifest_check_shard. */
int search_db_verify_manifest(const search_db *db, const char *dir, char **text, mn_err *err);
/* Collection-wide BM25 statistics. */
bm25_stats search_db_stats(const search_db *db);

/* The best k chunks for query[0..len) under params p (bm25_params_check'ed).
 * *hits (malloc'd, caller frees; NULL when *n == 0) gets up to k hits best
 * first.  Errors: MN_EFORMAT (invalid UTF-8 in the query, corrupt
 * postings), MN_ERANGE (bad k1/b), MN_EIO. */
int search_bm25(search_db *db, const bm25_params *p, const char *query, size_t len, size_t k, bm25_hit **hits,
                size_t *n, mn_err *err);

/* Analyze query[0..len) and decode its terms' postings in the handle's
 * shards (kept in the handle for search_bm25_scored): *nterms distinct
 * terms in order of first occurrence, *df (malloc'd [nterms], caller frees)
 * their document frequencies over the handle's shards.  Errors: MN_EFORMAT
 * (invalid UTF-8, corrupt postings), MN_EIO. */
int search_bm25_terms(search_db *db, const char *query, size_t len, uint64_t **df, size_t *nterms, mn_err *err);
/* Score the last search_bm25_terms query over the handle's shards with
 * collection statistics st and per-term df[nterms] (e.g. summed over every
 * part), best k into *hits as search_bm25.  A document's score sums its
 * terms in query order whatever the shard split.  Errors: MN_ERANGE (bad
 * k1/b), MN_EFORMAT, MN_ENOMEM. */
int search_bm25_scored(search_db *db, const bm25_params *p, const bm25_stats *st, const uint64_t *df, size_t k,
                       bm25_hit **hits, size_t *n, mn_err *err);

/* Attach the dense side: open every shard's embeddings (and, when
 * nprobe > 0, its IVF index), check them against each other and against
 * the shards (an embedding made before more chunks were ingested is
 * MN_EMISMATCH: "embed again"), check that model_dir/config.json has the
 * SHA-256 the embeddings were built with (MN_EMISMATCH naming both model
 * directories and hashes), then load the model and model_dir/tokenizer.json.
 * Errors: MN_EIO (a shard not embedded, no IVF index, no tokenizer.json),
 * MN_EFORMAT, MN_EMISMATCH, the model's load errors. */
int search_dense_attach(search_db *db, const char *model_dir, size_t nprobe, mn_err *err);

/* The best k chunks by dense score (cosine), ties to the smaller chunk
 * id.  Candidates are chosen by float32 scores (sgemm / IVF sgemv); the k
 * chosen are rescored in float64 from the stored rows and re-sorted, so
 * exact and full-probe IVF searches print the same scores.  A query that encodes to no tokens has no hits.  Needs
 * search_dense_attach (else MN_EUSAGE).  Errors: MN_EFORMAT (invalid
 * UTF-8), the engine's errors, MN_ENOMEM. */
int search_dense(search_db *db, const char *query, size_t len, size_t k, bm25_hit **hits, size_t *n, mn_err *err);
/* search_dense's two steps.  Candidates: the best k by float32 score over
 * the handle's shards (hit.score the float32 score), best first; the
 * query's embedding is kept for the rescoring.  Rescore: s64[i] = the
 * float64 score of hits[i] (in the handle's shards) against the last
 * candidates' query, hits unchanged.  A handle with no shards has no
 * candidates.  Errors: as search_dense; MN_EFORMAT (a hit not in the
 * handle's shards). */
int search_dense_candidates(search_db *db, const char *query, size_t len, size_t k, bm25_hit **hits, size_t *n,
                            mn_err *err);
int search_dense_rescore(search_db *db, const bm25_hit *hits, size_t n, double *s64, mn_err *err);
/* Sort hits best first (bm25_hit_before: higher score, then smaller id). */
void search_hits_sort(bm25_hit *hits, size_t n);

typedef enum search_fusion { SEARCH_FUSION_RRF, SEARCH_FUSION_SCORE } search_fusion;

/* Fuse a BM25 list lb[nb] and a dense list ld[nd] (best first) into the
 * best k as search_hybrid does.  Errors: MN_ERANGE (alpha), MN_ENOMEM. */
int search_fuse(const bm25_hit *lb, size_t nb, const bm25_hit *ld, size_t nd, search_fusion fusion, double alpha,
                size_t k, bm25_hit **hits, size_t *n, mn_err *err);

/* BM25 (params p) and dense top-`depth` lists fused into the best k:
 * reciprocal-rank fusion (k = 60) or normalised-score fusion with weight
 * alpha for dense and 1 - alpha for BM25.  Errors: those of search_bm25
 * and search_dense, MN_ERANGE (alpha outside [0, 1]). */
int search_hybrid(search_db *db, const bm25_params *p, const char *query, size_t len, size_t k, size_t depth,
                  search_fusion fusion, double alpha, bm25_hit **hits, size_t *n, mn_err *err);

/* Chunk by id: 1 and *c (borrowed until search_db_close), 0 no such
 * chunk, or an error. */
int search_db_chunk(search_db *db, uint64_t id, store_chunk *c, mn_err *err);

#endif
