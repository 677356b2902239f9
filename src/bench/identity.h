/* identity.h — the content identity of an evaluation's inputs: everything
 * its records depend on besides the settings (those are job.json's), so
 * that records made from other weights, another corpus or an edited
 * benchmark are never mixed with new ones.
 *
 * An identity is a JSON object (written as OUT/identity.json by `mnemo
 * run`, and as "inputs" in summary.json and the lm-eval results file):
 *
 *   {"format": "mnemo-inputs", "version": 1,
 *    "inputs": {ID: {"path": P, <compared fields>, <details>}, ...}}
 *
 * with these entries, in this order (absent when the run does not use
 * them):
 *
 *   ID                  what                          compared
 *   mnemo               the program                   "version"
 *   model.weights       the checkpoint's tensors      "sha256"
 *   model.config        MODEL/config.json             "sha256"
 *   tokenizer           the tokenizer file            "sha256"
 *   benchmark           the benchmark                 "sha256", "items_sha256"
 *   few_shot            the few-shot pool             "sha256", "items_sha256"
 *   db                  the retrieval DB              "content_hash", "analyzer"
 *   db.embeddings       its embedding matrices        "sha256"
 *   embed_model.*, reranker.*, verifier.*   (weights, config, tokenizer)
 *
 * Hashes (64 lower-case hex digits):
 *   - a file: SHA-256 of its bytes (`sha256sum`), cached (util/filehash.h);
 *   - weights: model.safetensors's SHA-256 (the same as `sha256sum` and
 *     the Hub's LFS id); a sharded checkpoint, the SHA-256 of the listing
 *     "HEX  NAME\n" of model.safetensors.index.json and every shard it
 *     names, sorted by name ("files" lists them with sizes);
 *   - benchmark / few_shot "sha256": that of the one file read, or of the
 *     listing of every file that gave an item (names relative to PATH), in
 *     byte order; "items_sha256": SHA-256 of the lines "ID\tITEM_SHA256\n"
 *     of the items in order (identity_item_sha256), which is what the
 *     records depend on (it also changes when the loader reads the same
 *     bytes differently);
 *   - db: the manifest's 128-bit content hash (32 hex digits) and analyzer,
 *     with chunks and shards for information (identity_db);
 *   - db.embeddings: SHA-256 of "SHARD CONTENT_HASH MODEL_SHA256 COUNT\n"
 *     over the shards' embeddings.json sidecars.
 * Paths are recorded as given and never compared: the same files elsewhere
 * are the same inputs.
 *
 * Non-goals: the settings (job.json), reading the DB's chunks (the
 * manifest's content hash stands for them). */
#ifndef MNEMO_BENCH_IDENTITY_H
#define MNEMO_BENCH_IDENTITY_H

#include <jansson.h>

#include "retrieval/manifest.h" /* db_identity */
#include <stddef.h>

#include "bench/item.h"     /* bench_item, bench_set */
#include "util/err.h"
#include "util/filehash.h"  /* filehash_stats */

#define IDENTITY_FILE "identity.json"

/* What an evaluation reads.  Strings and sets are borrowed for the call. */
typedef struct identity_inputs {
    const char *model_dir;    /* checkpoint folder (required) */
    const char *tokenizer;    /* the tokenizer file used (required) */
    const char *bench;        /* KIND:PATH (required) */
    const bench_set *items;   /* the items as loaded, after any limit (required) */
    const char *shots_from;   /* KIND:PATH of the few-shot pool; NULL: the benchmark's (MMLU dev split) */
    const bench_set *pool;    /* the few-shot pool as loaded; NULL or empty: no few-shot examples */
    const char *db;           /* retrieval DB folder, or NULL */
    int dense;                /* the DB's embedding matrices are searched */
    const char *embed_model;  /* model folders, or NULL */
    const char *reranker;     /* (not "self") */
    const char *verifier;
    const char *cache_dir;    /* where hashes are cached when a model folder is read-only (the output folder), or NULL */
} identity_inputs;

/* Build the identity of in into *out (caller json_decref's it); every file
 * hash goes through filehash_sha256 (st, may be NULL, counts what was
 * hashed and what came from the cache).  Errors: MN_EIO naming a file that
 * cannot be read, MN_EFORMAT (a malformed index or manifest). */
int identity_build(const identity_inputs *in, filehash_stats *st, json_t **out, mn_err *err);

/* SHA-256 (64 hex + NUL) of an item's content: id, question, choices,
 * answer index, answer, subject, level, solution and meta (not its
 * source line).  Records carry it as "item_sha256". */
void identity_item_sha256(const bench_item *it, char out[65]);

/* The retrieval DB's identity {"path", "content_hash", "analyzer",
 * "tokenizer_sha256", "chunks", "shards"} (summary.json's "corpus"), as
 * the DB readers verify it (manifest against every shard; an unfinished,
 * interrupted or running ingest is refused with their messages).  Errors:
 * search_db_open_part's. */
int identity_db(const char *db, json_t **out, mn_err *err);

/* The DB entry of identity (identity_build's object, may lack "db") against
 * the identity the DB readers verified when they opened the shards
 * (search_db_identity): content hash, chunks, shards, analyzer and
 * tokenizer must be equal, else the DB changed between the start of the
 * run and its retrieval (an ingest finished meanwhile) and the records
 * would not match the recorded identity.  MN_EMISMATCH naming both hashes. */
int identity_db_check(const json_t *identity, const char *db, const db_identity *verified, mn_err *err);

/* The first difference between two identities, for messages. */
typedef struct identity_change {
    char id[40];          /* entry id: "model.weights" */
    char what[64];        /* "model weights" */
    char field[24];       /* "sha256", "content_hash", "items_sha256", "version", or "" (entry added/removed) */
    char old[48], now[48]; /* the values, hashes cut to 12 hex digits + "…"; "none" when absent */
    char where[512];      /* where the current value comes from: the changed file, else the entry's path */
} identity_change;

/* Compare two identities entry by entry (either may be NULL: then every
 * entry of the other differs).  Returns 0 when every compared field is
 * equal, else 1 with the first difference in *c (may be NULL); the
 * "mnemo" entry is compared last. */
int identity_diff(const json_t *old, const json_t *now, identity_change *c);

/* 1 when old and now differ in the benchmark's entries only ("benchmark";
 * its items are checked record by record), else 0. */
int identity_only_benchmark_differs(const json_t *old, const json_t *now);

/* Read DIR/identity.json: 1 and *out (caller json_decref's it), 0 when
 * there is none, or MN_EFORMAT / MN_EIO.  Write it atomically: MN_EIO. */
int identity_read(const char *dir, json_t **out, mn_err *err);
int identity_write(const char *dir, const json_t *id, mn_err *err);

#endif
