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

/* Read DIR/manifest.json and check it against the shards' metas: chunk
 * counts and content hashes per shard and in total, shard count.  Returns 0
 * and sets *text (malloc'd, the manifest file's bytes), MN_EIO (no
 * manifest: "ingest has not finished"), MN_EFORMAT, or MN_EMISMATCH
 * ("manifest says C chunks, shard 2 holds D": an ingest that was
 * interrupted after the last manifest). */
int manifest_verify(const char *dir, const db_config *cfg, const store_meta *m, char **text, mn_err *err);

/* 32 hex digits of a 128-bit content hash. */
void manifest_hash_hex(uint64_t hi, uint64_t lo, char out[33]);

#endif
