/* results.h — the durable per-item records of a `mnemo run` output
 * directory, and what resuming reads back.
 *
 *   DIR/job.json          the effective job spec (canonical JSON) the
 *                         directory belongs to; a rerun with another spec is
 *                         refused unless forced
 *   DIR/parts/S-rR.jsonl  the records rank R of session S committed: per
 *                         chunk, one line per item record then a commit line
 *                         {"chunk": C, "items": N}, appended with one write()
 *                         and fsync'd before the chunk counts as done
 *
 * A run killed at any moment leaves at most a torn tail in each part file
 * (lines after the last commit line, or a last line without its newline):
 * those records are ignored and their chunk is redone.  A chunk's records
 * only count when its commit line follows them in the same file, so a chunk
 * is done whole or not at all — which keeps every record independent of
 * how the work was split (results depend on the chunk, not on the rank or
 * the number of ranks).  Each session writes new part files, never
 * appending to an old one.
 *
 * DIR/items.jsonl, summary.json and the lm-eval file are written at the
 * end from the committed records (eval_session_write).
 *
 * What the records were made from is DIR/identity.json (bench/identity.h);
 * each record carries its item's content hash ("item_sha256"), so a commit
 * whose items changed since is not taken for a finished chunk. */
#ifndef MNEMO_RUN_RESULTS_H
#define MNEMO_RUN_RESULTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* ---- binding a directory to a job ---- */

/* Make dir and dir/parts (with their parents).  MN_EIO. */
int results_prepare(const char *dir, mn_err *err);

/* Compare dir/job.json with canonical: 0 when it holds the same text,
 * 1 when there is none, MN_EMISMATCH when it differs (err: "DIR: the job
 * changed (key 'ttc.n': 4 now, 8 in DIR/job.json)", naming the first
 * differing key), MN_EIO. */
int results_job_check(const char *dir, const char *canonical, mn_err *err);

/* Write dir/job.json atomically.  MN_EIO. */
int results_job_write(const char *dir, const char *canonical, mn_err *err);

typedef struct results_writer results_writer;

/* A new part file dir/parts/<session>-r<rank>.jsonl.  MN_EIO. */
int results_writer_open(const char *dir, const char *session, int rank, results_writer **out, mn_err *err);
/* Append recs[0..n) (the records of chunk `chunk`) and the commit line in
 * one write, then fsync.  MN_EIO. */
int results_writer_commit(results_writer *w, uint64_t chunk, json_t *const *recs, size_t n, mn_err *err);
void results_writer_close(results_writer *w);

/* ---- reading back ---- */

/* What results_scan found besides the records. */
typedef struct results_scan_info {
    size_t kept;     /* records of the chunks with a valid commit */
    size_t invalid;  /* records of commits that are not valid, in chunks without a valid one */
    size_t nbad;     /* those commits, each as one line "FILE: line L: chunk C: reason" */
    char **bad;
} results_scan_info;

/* Free info's lines (the struct itself is the caller's). */
void results_scan_info_free(results_scan_info *info);

/* Every valid commit under dir/parts.  A commit of chunk c is valid when
 * the records between the previous commit line (or the start of the file)
 * and its commit line are exactly the items [c*chunk, (c+1)*chunk) ∩
 * [0, n) of ids[0..n) (ids unique), each once, all of them parseable, and
 * — when hashes is not NULL — each record's "item_sha256" is hashes[i] of
 * its item.  Anything else (a duplicated or missing record, a record of
 * another item, a line that is not a record, a count that disagrees, a
 * chunk outside the job, records of items that changed since) makes the
 * commit invalid: it is ignored, its chunk is redone, and info (may be
 * NULL) lists it.  recs[i] gets item i's record from the first valid commit
 * of its chunk (files in name order), NULL when none; done[c] = 1 for
 * every chunk with a valid commit (done has ceil(n / chunk) entries; may be
 * NULL).  A torn tail (records after the last commit line, a last line
 * without its newline) is the normal trace of a killed writer: ignored, not
 * listed.  Errors: MN_EIO. */
int results_scan(const char *dir, const char *const *ids, const char *const *hashes, size_t n, size_t chunk,
                 json_t **recs, uint8_t *done, results_scan_info *info, mn_err *err);

/* ---- starting over ---- */

/* Set aside what earlier sessions left in dir, so that none of it mixes
 * with the records to come: the records of the chunks c with keep[c] (keep
 * may be NULL: none; recs[0..n) as results_scan gave them) are first
 * copied to a new part file parts/<session>-kept.jsonl, then every other
 * part file, items.jsonl, summary.json, run-stats.json, the lm-eval files
 * (dir/<folder>/results_*.json), dir/contam and copies of job.json and
 * identity.json move to dir/set-aside/<session>/ (renames: nothing is
 * deleted).  *where (malloc'd) names that folder.  A crash half-way leaves
 * every record either in place or set aside, and job.json and
 * identity.json as they were (the caller rewrites them afterwards), so a
 * rerun sees the same change again.  MN_EIO. */
int results_set_aside(const char *dir, const char *session, json_t *const *recs, const uint8_t *keep, size_t n,
                      size_t chunk, char **where, mn_err *err);

#endif
