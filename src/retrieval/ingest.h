/* ingest.h — the ingest pipeline of `mnemo ingest`: inputs (docsource.h)
 * -> documents -> chunks (chunker.h) -> exact dedup -> shard -> batched
 * LMDB transactions (store.h), then DIR/manifest.json (manifest.h).
 *
 * Layout: DIR/shard-000 .. shard-(S-1), each an independent store; a chunk
 * goes to shard hash64(text) mod S, so exact duplicates meet in one shard
 * and dedup is shard-local (the first occurrence in input order is kept; on
 * a 64-bit hash hit the texts are compared, and a colliding different text
 * is stored without a dedup entry).  Chunk id = shard << 40 | the shard's
 * next local sequence number: deterministic for the same inputs in the
 * same order.
 *
 * Positions and resume.  Inputs keep their order of first appearance: the
 * DB records its input list (absolute paths, realpath) in every shard; a
 * run's inputs not yet in the list are appended (an input named twice is
 * read once), so rerunning the same command resumes and naming new inputs
 * extends the DB.  Document j (1-based, delivery order) of input i has
 * position (i, j); (i + 1, 0) means "all of input i".  Every B documents
 * (--batch) or 64 MiB of pending text, and at the end of each input, every
 * shard whose progress is behind commits ONE transaction holding its new
 * chunks, postings segment (merged into the term's last segment when that
 * is under 16 KiB), doclens, counters and its new progress.  A
 * crash between two shards' commits leaves some shards ahead: on resume
 * each shard only takes the chunks of documents past its own progress, so
 * every shard ends holding exactly the chunks of an uninterrupted run.
 * Inputs every shard has finished are not reopened; the rest are re-read
 * from their start (documents up to the least progress are skipped without
 * chunking).
 *
 * Durability: LMDB syncs each commit.  The manifest is rewritten at the
 * end of a successful run; until then `mnemo stats` reports the DB as
 * unfinished.  A failed commit (a full disk: MN_ENOSPACE) names the shard
 * and the batch; every batch committed before it stays, so the same
 * command resumes once there is room.  DIR/ingest.lock (util/dirlock.h,
 * what "ingest") stops two concurrent writers of one DB and names the live
 * holder (host, pid); a dead holder's lock is taken over.
 *
 * Options the caller did not give (ingest_opts.given) take the existing
 * DB's recorded values, so adding an input needs no chunking flags; only
 * given options are compared with the DB (MN_EMISMATCH on a conflict).
 *
 * Test hook: environment MNEMO_INGEST_CRASH_AFTER=N makes the process
 * _exit(137) right after its N-th shard commit (simulated SIGKILL).
 *
 * Inputs must not change between the runs that build a DB: resume trusts
 * the recorded positions (an edited input is not detected).
 *
 * Non-goals: parallel chunking/analysis, deleting documents, near-dup
 * detection. */
#ifndef MNEMO_RETRIEVAL_INGEST_H
#define MNEMO_RETRIEVAL_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "retrieval/analyzer.h"
#include "retrieval/docsource.h"
#include "util/err.h"

#define INGEST_BATCH_DEFAULT 10000
#define INGEST_BATCH_BYTES ((size_t)32 << 20)

typedef struct ingest_progress {
    uint64_t docs;     /* documents read this run (including skipped-as-done ones) */
    uint64_t chunks;   /* chunks stored this run */
    uint64_t dups;     /* duplicates dropped this run */
    uint64_t bytes;    /* document bytes read this run */
    uint64_t commits;  /* shard transactions committed this run */
    size_t input, ninputs; /* current input index, number of inputs */
    uint64_t in_done;  /* input file bytes consumed (compressed sizes), inputs skipped as done included */
    uint64_t in_total; /* sum of the input files' sizes */
    double seconds;    /* since the start of the run */
} ingest_progress;

/* Bits of ingest_opts.given: the options the user set.  An option whose
 * bit is clear takes the existing DB's value (a new DB: the value in the
 * opts, i.e. the default).  --shards needs no bit: shards 0 means unset. */
enum {
    INGEST_GIVEN_TOKENIZER = 1,  /* tokenizer_path (NULL given: chunk by words) */
    INGEST_GIVEN_CHUNK_SIZE = 2,
    INGEST_GIVEN_OVERLAP = 4,
    INGEST_GIVEN_TEXT_FIELD = 8,
    INGEST_GIVEN_ID_FIELD = 16,
    INGEST_GIVEN_STEM = 32,      /* analyzer.stem */
    INGEST_GIVEN_STOP = 64,      /* analyzer.stop */
    INGEST_GIVEN_ALL = 127
};

typedef struct ingest_opts {
    uint32_t shards;            /* 0: the existing DB's (a new DB gets 1) */
    const char *tokenizer_path; /* tokenizer.json: chunk by tokens; NULL: by words */
    size_t chunk_size;          /* units per chunk (CHUNK_SIZE_DEFAULT) */
    size_t overlap;             /* units shared by consecutive chunks (CHUNK_OVERLAP_DEFAULT) */
    const char *text_field;     /* NULL = "text" */
    const char *id_field;       /* NULL = "id" */
    analyzer_config analyzer;
    docsource_on_error on_error;
    size_t batch_docs;          /* commit every N documents (or 32 MiB); 0 = INGEST_BATCH_DEFAULT */
    unsigned given;             /* INGEST_GIVEN_* bits; ingest_opts_default sets them all */
    void (*progress)(void *ctx, const ingest_progress *p); /* after every batch, may be NULL */
    void (*on_skip)(void *ctx, const mn_err *why);         /* skipped records (SKIP), may be NULL */
    void *ctx;
} ingest_opts;

/* Defaults: 0 shards (DB's or 1), words, 256/32, "text"/"id", default
 * analyzer, FAIL, 10000 documents per batch, every option marked given (a
 * library caller's options are all compared with an existing DB; a CLI
 * clears the bits of the flags its user did not type). */
void ingest_opts_default(ingest_opts *o);

/* Ingest inputs[0..n) into the DB at dir (created if missing) and rewrite
 * its manifest.  On error, every batch committed before it stays (rerun
 * resumes).  Errors: MN_EMISMATCH (the DB was built with another
 * configuration: names the key and both values; the DB is the output of an
 * unfinished `mnemo reshard`), MN_EBUSY (another live
 * ingest or reshard holds the DB: names its host and pid), MN_EIO (cannot
 * create or open; an input that does not exist), MN_ENOSPACE (a commit
 * found the disk or the shard's map full: names the shard and the batch),
 * the docsource's errors (named by source, member, line), MN_EUSAGE (bad
 * options; the DB chunks by tokens and no tokenizer was given). *res (may be NULL) gets the
 * final counters of this run. */
int ingest_run(const char *dir, const ingest_opts *o, const char *const *inputs, size_t n, ingest_progress *res,
               mn_err *err);

#endif
