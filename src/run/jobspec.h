/* jobspec.h — job files: a YAML mapping of settings naming one or more
 * models and one or more benchmarks, checked in full at load and expanded
 * into one eval_opts (bench/eval.h) per (model, benchmark) combination.
 *
 * The file (examples in jobs/; jobs/smoke.yaml is the smallest):
 *
 *   name: STRING                  optional; default: the file name without extension
 *   model: PATH | models: [PATH, ...]           exactly one (a sweep over models)
 *   bench: KIND:PATH | benches: [KIND:PATH, ...] exactly one (a sweep over benchmarks)
 *   out: PATH                     the output folder; optional when the command line gives --out
 *   tokenizer: PATH               tokenizer.json (default MODEL/tokenizer.json)
 *   split: STRING  limit: INT>=0  shots: 0..64  shots_from: KIND:PATH
 *   method: auto|loglik|generate  style: mc-letters|mc-texts|mc-generate|math|qa
 *   chat: none|auto|chatml|llama3|custom:TEMPLATE   system: STRING
 *   math_cot: BOOL  add_bos: BOOL  on_error: fail|skip
 *   fields: {id, question, answer, choices, subject: STRING}   (jsonl benchmarks)
 *   gpqa_seed: INT>=0  member: STRING  passphrase: STRING
 *   retrieval: {db: PATH (required), k: 1..1000, mode: bm25|dense|hybrid,
 *               embed_model: PATH, budget: 0..16777216, order: best-first|best-last,
 *               decontaminate: 1..50, rerank: self|PATH (a Qwen3-Reranker-style model),
 *               rerank_depth: 1..10000 (>= k; default max(k, 20); needs rerank)}
 *   ttc: {kind: greedy|sc|docsc|bestofn, n: 1..1024, temperature: 0..100,
 *         top_p: (0, 1], top_k: INT>=0, max_new_tokens: INT>=1, verifier: PATH}
 *   seed: INT>=0  batch: 1..4096  threads: 0..4096 (0: all cores)
 *   chunk: INT>=1 (items per work-queue chunk, default 8)
 *
 * Defaults are eval_opts_default()'s.  Scalars are YAML scalars: integers
 * and numbers are plain (unquoted) decimal text, booleans plain true/false,
 * strings plain or quoted (a plain empty value, ~ or null is no string).
 * Lists and mappings nest at most 64 deep.  Unknown keys, keys given twice, a mapping or list where a scalar belongs
 * (and the reverse), a second YAML document and impossible combinations
 * (ttc.kind docsc without retrieval, dense/hybrid retrieval without
 * embed_model, rerank without retrieval.db, rerank_depth without rerank
 * or below k, ttc.n with greedy or docsc, sc/bestofn without n, sampling
 * with log-likelihood scoring, shots for a non-MMLU benchmark without
 * shots_from, math_cot with shots, a verifier outside bestofn, fields
 * without a jsonl benchmark, a sweep whose output folders would collide)
 * are errors.
 *
 * Paths are taken as written: a relative path is relative to the current
 * directory of the process (as on the mnemo command line), not to the job
 * file's folder.  With file checks on (job_load), each must exist: model,
 * embed_model, verifier and rerank (unless "self") are directories with
 * config.json (rerank also with tokenizer.json; a model
 * without a 'tokenizer' key also needs MODEL/tokenizer.json), tokenizer is
 * a file, the PATH of each KIND:PATH exists, retrieval.db holds
 * manifest.json.
 *
 * Errors are one line naming the file, the position (1-based) and the key:
 *   jobs/x.yaml: line 7, column 3: key 'ttc.tempreature': unknown key (known: kind, n, ...)
 *   jobs/x.yaml: line 4, column 8: key 'limit': expected an integer >= 0, got 'ten'
 *   jobs/x.yaml: line 2: key 'model': tests/x: not a directory with config.json
 *   jobs/x.yaml: key 'model' is missing (or 'models', a list)
 *   jobs/x.yaml: line 3, column 1: YAML syntax error: could not find expected ':' (while scanning a simple key at line 2, column 1)
 *
 * Non-goals: running the evaluations (the runner and eval.h do that),
 * includes or templating between job files, YAML tags and merge keys. */
#ifndef MNEMO_RUN_JOBSPEC_H
#define MNEMO_RUN_JOBSPEC_H

#include <stddef.h>

#include "bench/eval.h" /* eval_opts */
#include "util/err.h"   /* mn_err */

typedef struct job job;

/* ---- loading --------------------------------------------------------- */

/* Read the job file at path, parse and validate it, with file checks.
 * out: on success a new job, freed with job_free(); untouched on failure.
 * Errors: MN_EIO (the file cannot be read), MN_EFORMAT (YAML syntax, an
 * empty file, not a mapping, a second document, a NUL byte in a string),
 * MN_EUSAGE (unknown, duplicate or missing key, wrong type or value, an
 * impossible combination), MN_EIO for a path that fails its check;
 * MN_EFORMAT for nesting deeper than 64 levels ("FILE: line L, column C:
 * YAML nested more than 64 levels deep"), found before the document is
 * built. */
int job_load(const char *path, job **out, mn_err *err);

/* Same on buf[0..len) (borrowed for the call) standing for a file called
 * name (used in messages and for the default job name).  check_files == 0
 * skips the existence checks (for the fuzzer, tests and jobs naming paths
 * of another machine). */
int job_load_memory(const char *name, const char *buf, size_t len, int check_files, job **out,
                    mn_err *err);

/* Release j and every string it owns (NULL is fine).  eval_opts filled
 * from j are dead afterwards. */
void job_free(job *j);

/* ---- reading --------------------------------------------------------- */

/* Number of (model, benchmark) combinations: models x benches (>= 1). */
size_t job_combos(const job *j);

/* Fill *o (all fields, starting from eval_opts_default) for combination t:
 * model t / nbench, benchmark t % nbench.  Strings are borrowed from j
 * (valid until job_free) except o->out_dir for a sweep, which is outbuf.
 * o->out_dir: with one combination the job's out (or out_override when not
 * NULL); with several, "OUT/<model folder name>/<kind>-<bench file stem>"
 * written into outbuf[outlen] (OUT = out_override or the job's out; the
 * stem drops .csv/.jsonl/.ndjson/.json/.tar/.tgz/.zip and compression
 * suffixes: "gpqa:data/gpqa_diamond.csv" -> "gpqa-gpqa_diamond").
 * o->created is NULL.  Errors: MN_ERANGE for t >= job_combos(j) or an
 * outbuf too small (outbuf may be NULL when job_combos(j) == 1); MN_EUSAGE
 * when neither out_override nor the job's 'out' names the folder ("FILE:
 * no output folder: give --out DIR, or the key 'out' in the job file"). */
int job_eval_opts(const job *j, size_t t, const char *out_override, eval_opts *o, char *outbuf,
                  size_t outlen, mn_err *err);

/* The contamination phase (the 'contam' section: n 8..50, default 13;
 * rule, default "overlap"; threshold 0..1, default 0.5; retrieval_check,
 * default 0): after the evaluation, `mnemo run` audits the benchmark against
 * the retrieval DB into OUT/contam (contam/audit.h), joined with the run's
 * items.jsonl.  The section needs retrieval.db. */
typedef struct job_contam_opts {
    int enabled;
    unsigned n;
    const char *rule;     /* borrowed from the job */
    double threshold;
    size_t retrieval_check;
} job_contam_opts;
const job_contam_opts *job_contam(const job *j);

/* Items per work-queue chunk (the 'chunk' key; default 8). */
size_t job_chunk(const job *j);

/* The 'name' key, or the file name without folders and extension
 * ("jobs/smoke.yaml" -> "smoke").  Borrowed from j. */
const char *job_name(const job *j);

/* Canonical JSON text of the settings that decide the results of
 * combination t: every setting after defaults (model, bench, the effective
 * tokenizer path, the effective temperature, ...), keys sorted, compact,
 * one line.  Included: chunk (the unit of commit: a resume must use the
 * same one; records depend on it through float rounding).  Left out: out
 * (and the per-combination folder), name and threads (they do not change
 * any result); passphrase is recorded only as
 * "set" or null, so the text can be stored beside the results.  Equal
 * settings give byte-equal text whatever the key order in the file; used to
 * detect a changed spec on resume.  Returns a malloc'd string (caller
 * frees), or NULL for t >= job_combos(j). */
char *job_canonical(const job *j, size_t t);

#endif
