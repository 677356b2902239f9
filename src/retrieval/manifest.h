/* manifest.h — what a retrieval DB is: its build configuration (kept in
 * every shard's meta, checked on every open) and DIR/manifest.json, the
 * human-readable summary written atomically at the end of each successful
 * ingest.
 *
 * The configuration fixes everything that changes the chunks or the terms:
 * shard count, analyzer (canonical string, analyzer.h), tokenizer (sha256
 * of the tokenizer.json, or "none" for word chunking), chunk size and
 * overlap, JSONL text and id fields.  Opening a DB with different values is
 * MN_EMISMATCH naming the key and both values.
 *
 * Content hash: each chunk contributes H(chunk id, hash of its doc id, hash
 * of its text) (two hash64 seeds = 128 bits); a shard's accumulator is
 * the sum mod 2^64 of each half, the DB's the sum of the shards'.  Chunk
 * ids are deterministic for a given input order, so an interrupted and
 * resumed ingest, or one fed its inputs over several runs, ends with the
 * same hash as one uninterrupted run.  Source paths are not hashed (the
 * same corpus elsewhere gives the same hash).
 *
 * manifest.json:
 *   {"format": "mnemo-retrieval-db", "version": 1, "shards": S,
 *    "analyzer": "...", "tokenizer_sha256": "..."|"none",
 *    "chunking": {"unit": "tokens"|"words", "size": N, "overlap": N},
 *    "text_field": "text", "id_field": "id", "inputs": ["/abs/path", ...],
 *    "documents": D, "bytes": B, "chunks": C, "duplicates": X,
 *    "indexed_chunks": N, "total_terms": T, "content_hash": "32 hex",
 *    "shard_stats": [{"shard": 0, "chunks": .., "duplicates": ..,
 *                     "indexed_chunks": .., "total_terms": .., "segments": ..,
 *                     "content_hash": ".."}, ...]}
 *
 * Readers (search.h) check the manifest against the shards on every open
 * (manifest_read, manifest_check_shard), so that an unfinished or
 * interrupted ingest is refused rather than read.
 *
 * Non-goals: schema migration. */
#ifndef MNEMO_RETRIEVAL_MANIFEST_H
#define MNEMO_RETRIEVAL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "retrieval/analyzer.h"
#include "retrieval/store.h"
#include "util/err.h"

#define DB_FIELD_MAX 128
#define DB_MAX_SHARDS 4096

typedef struct db_config {
    uint32_t nshards;                       /* 1..DB_MAX_SHARDS */
    char analyzer[ANALYZER_CONFIG_STR_MAX]; /* canonical analyzer string */
    char tokenizer[65];                     /* sha256 hex, or "none" (word chunking) */
    uint32_t chunk_size, overlap;
    char text_field[DB_FIELD_MAX], id_field[DB_FIELD_MAX];
} db_config;

/* Serialise as "key=value\n" lines (the meta "config" entry); *out is
 * malloc'd and NUL-terminated. */
char *db_config_encode(const db_config *c);

/* Parse what db_config_encode wrote (from `where`).  MN_EFORMAT. */
int db_config_decode(const char *s, size_t len, const char *where, db_config *c, mn_err *err);

/* MN_EMISMATCH when asked differs from built: "DIR: the DB was built with
 * KEY 'X'; this run asks for 'Y'".  asked->nshards == 0 means "any". */
int db_config_check(const db_config *built, const db_config *asked, const char *dir, mn_err *err);

/* DIR/shard-NNN into out (cap >= strlen(dir) + 16). */
void db_shard_path(const char *dir, uint32_t shard, char *out, size_t cap);

/* Write DIR/manifest.json atomically from the config, the input list and
 * the shards' metas (m[0..cfg->nshards)).  MN_EIO. */
int manifest_write(const char *dir, const db_config *cfg, const char *const *inputs, size_t ninputs,
                   const store_meta *m, mn_err *err);

/* ---- a chunk's contribution to the content hash ---------------------- */

/* The 64-bit hash of a chunk's text: its dedup key and its shard
 * (db_text_hash(text) % nshards).  Part of the on-disk format. */
uint64_t db_text_hash(const char *text, size_t len);

/* The content-hash contribution of chunk `id` with the given text and
 * document id (the doc id's bytes, no NUL): exactly what ingest adds to
 * the shard's accumulator (store_meta hash_hi / hash_lo, sums mod 2^64)
 * when it stores the chunk.  `mnemo stats --deep` recomputes every
 * shard's sum with it. */
void db_chunk_hash(uint64_t id, const char *text, size_t text_len, const char *doc_id, size_t doc_id_len,
                   uint64_t *hi, uint64_t *lo);

/* ---- reading manifest.json ------------------------------------------- */

/* The identity of a DB as its manifest states it.  Plain data. */
typedef struct db_identity {
    char content_hash[33];                  /* 32 hex digits */
    uint64_t chunks;                        /* total chunks over every shard */
    uint32_t shards;
    char analyzer[ANALYZER_CONFIG_STR_MAX]; /* canonical analyzer string */
    char tokenizer_sha256[65];              /* sha256 hex of tokenizer.json, or "none" */
} db_identity;

/* One shard_stats entry (or the totals, whose segments is the entries' sum) as numbers. */
typedef struct manifest_counts {
    uint64_t chunks, dups, ndocs, total_len, segments, hash_hi, hash_lo;
} manifest_counts;

/* A parsed DIR/manifest.json (opaque). */
typedef struct db_manifest db_manifest;

/* Read DIR/manifest.json and check it against the DB's configuration cfg
 * (as the shards hold it): format and version, shard count, analyzer,
 * tokenizer, chunking and field names equal to cfg's, one well-formed
 * shard_stats entry per shard, and totals equal to the entries' sums (so
 * shards checked one by one against their entries, e.g. by several ranks,
 * check the totals too).  Caller frees *out with manifest_free.
 * Errors: MN_EIO ("DIR: no manifest.json: no ingest has finished into this
 * DB (one failed or is still running); rerun mnemo ingest", or a read
 * error), MN_EFORMAT (not JSON, a missing or malformed field, totals that
 * are not the entries' sums), MN_EMISMATCH (a setting that differs from
 * the shards'). */
int manifest_read(const char *dir, const db_config *cfg, db_manifest **out, mn_err *err);
void manifest_free(db_manifest *m);

/* Check shard s's committed state against its shard_stats entry: the
 * counters of meta (chunks, duplicates, indexed chunks, total terms,
 * segments, content hash; for shard 0 also documents and bytes) and, when
 * inputs is not NULL, its input list (the meta "inputs" entry
 * inputs[0..len): NUL-terminated paths back to back) against the
 * manifest's.  Errors: MN_EMISMATCH, "DIR/manifest.json: shard S ...: an
 * ingest was interrupted after the manifest was written; rerun it" when
 * the shard is ahead of the manifest (manifest_shard_ahead), else "...: the
 * shard is not the one the manifest was written for (restored from another
 * copy, or damaged); check it with mnemo stats --deep". */
int manifest_check_shard(const db_manifest *m, uint32_t s, const store_meta *meta, const char *inputs, size_t len,
                         mn_err *err);

/* 1 when shard s differs from its entry the way an ingest that committed
 * after the manifest was written leaves it: no counter below the
 * manifest's, the manifest's input list a prefix of the shard's (inputs may
 * be NULL: not compared), and something added.  0 otherwise. */
int manifest_shard_ahead(const db_manifest *m, uint32_t s, const store_meta *meta, const char *inputs, size_t len);

/* The file's text (NUL-terminated; borrowed until manifest_free). */
const char *manifest_text(const db_manifest *m);
/* The identity the manifest states (check the shards before trusting it). */
void manifest_identity(const db_manifest *m, db_identity *id);
/* Shard s's entry (s < shards) and the totals (borrowed). */
const manifest_counts *manifest_shard_counts(const db_manifest *m, uint32_t s);
const manifest_counts *manifest_total_counts(const db_manifest *m);
/* The manifest's "documents" and "bytes" (shard 0's counters). */
void manifest_doc_counts(const db_manifest *m, uint64_t *docs, uint64_t *bytes);
/* The manifest's input list laid out as the meta "inputs" entry stores it
 * (paths NUL-terminated back to back, *len bytes, *n paths; borrowed until
 * manifest_free). */
const char *manifest_inputs(const db_manifest *m, size_t *len, size_t *n);

/* 32 hex digits of a 128-bit content hash. */
void manifest_hash_hex(uint64_t hi, uint64_t lo, char out[33]);

#endif
