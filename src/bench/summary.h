/* summary.h — the evaluation summary: from per-item records to mnemo's
 * DIR/summary.json and to lm-evaluation-harness's results file.
 *
 * The caller (`mnemo eval`) creates a summary, adds each item's record as
 * it is committed (the same JSON object written to items.jsonl), then
 * writes both outputs.  A record is an object with
 *
 *   "id"       string, unique within the run (required)
 *   "subject"  string, absent or null
 *   "level"    string, absent or null
 *   "correct"  true/false (required): the accuracy
 *   "metrics"  object of per-item numbers (required), e.g. {"acc": 1,
 *              "acc_norm": 0} or {"exact_match": 0, "f1": 0.5}; every
 *              record has the same keys (in any order; the first record's
 *              order is kept).  Keys are non-empty and hold no ','.
 *
 * Other fields are ignored.  Nothing depends on the order of the add calls:
 * items are sorted by id (byte order) before any statistic is computed, so
 * a run whose records arrive in another order (MPI ranks, resume) gives the
 * same files byte for byte.
 *
 * ---- summary.json (mnemo's own) ----
 *
 *   mnemo_version, created      from bench_summary_meta
 *   benchmark, task             the kind and the task (or group) name
 *   output_type, num_fewshot    as in opts
 *   n                           items
 *   accuracy                    mean of "correct" (null when n == 0)
 *   accuracy_stderr             sample std (ddof=1) / sqrt(n) =
 *                               sqrt(p(1-p)/(n-1)); null when n < 2
 *   accuracy_ci                 [lo, hi] percentile bootstrap 95% interval
 *                               (bootstrap.h); null when n == 0 or B == 0
 *   metrics                     {name: {"mean", "stderr", "ci95": [lo, hi]}}
 *   bootstrap                   {"method": "percentile", "level": 0.95,
 *                               "resamples": B, "seed": S, "rng":
 *                               "xoshiro256** seeded by splitmix64",
 *                               "quantile": "linear"}
 *   by_subject                  only when some item has a subject:
 *   by_level                    {name: {"n", "accuracy", "accuracy_stderr",
 *                               "accuracy_ci", "metrics": {name: mean}}};
 *                               items without one are counted under "(none)"
 *   skipped                     meta->skipped, only when given
 *   config, model, corpus       meta (corpus null when not given)
 *   inputs                      meta->inputs, only when given: the content
 *                               identity of every input (bench/identity.h)
 *
 * Every interval starts a fresh generator from the seed (one seed for the
 * whole file).  Undefined numbers are null.
 *
 * ---- lm-evaluation-harness results ----
 *
 * The layout lm_eval writes with --output_path (results_<date>.json),
 * following EleutherAI/lm-evaluation-harness v0.4.12: lm_eval/evaluator.py
 * (simple_evaluate: the "config" block), lm_eval/evaluator_utils.py
 * (EvalAcc._to_eval_results: the top-level keys and their order,
 * _collect_results: per-task entries, n-samples, _propagate_num_fewshot /
 * _propagate_higher_is_better for groups), lm_eval/api/group.py
 * (Group.aggregate: group entries), lm_eval/api/metrics.py (mean_stderr,
 * pooled_sample_stderr, aggregate_subtask_metrics), lm_eval/result_schema.py,
 * lm_eval/loggers/evaluation_tracker.py (json.dumps(indent=2,
 * ensure_ascii=False); model_name, model_name_sanitized) and
 * lm_eval/tasks/mmlu/default/{_mmlu.yaml, _default_template_yaml,
 * mmlu_<subject>.yaml}.  Keys, in this order:
 *
 *   results           {task: {"name": task, "alias": alias, "sample_len": n,
 *                     "M,none": mean, "M_stderr,none": stderr}} for every
 *                     metric M of the records, in record key order.
 *                     stderr = mean_stderr (std ddof=1 / sqrt n), the string
 *                     "N/A" when n < 2 (as lm_eval).  For MMLU, the subject
 *                     tasks (sorted by name) then the group entry.
 *   groups            MMLU only: {group: the group's results entry}: per
 *                     metric the size-weighted mean of the subject means
 *                     (aggregate_subtask_metrics, weight_by_size = true),
 *                     stderr = pooled_sample_stderr over the subjects ("N/A"
 *                     when a subject's is), "sample_len" = sum of sizes,
 *                     "sample_count": {"M,none": sum}.
 *   group_subtasks    MMLU: {group: [subject tasks]}; otherwise {}.
 *   configs           {task: {"task", "task_alias" and "dataset_name" (MMLU:
 *                     the subject), "num_fewshot", "metric_list": [{"metric":
 *                     M, "aggregation": "mean", "higher_is_better": true}],
 *                     "output_type", "repeats": 1, "metadata": {"version":
 *                     V}, then meta->task_config's keys that are not already
 *                     there}, tasks only.
 *   versions          {task or group: V}
 *   n-shot            {task or group: num_fewshot}
 *   higher_is_better  {task or group: {M: true}}
 *   n-samples         {task: {"original": N0, "effective": n}}, tasks only;
 *                     N0 from bench_summary_set_original(), else n.
 *   config            meta->lm_eval_config (model, model_args, batch_size...),
 *                     {} when not given
 *   date              created as Unix seconds (lm_eval: time.time() at
 *                     start); null when created is not given
 *   model_source      "mnemo"
 *   model_name        meta->model_name (null when not given)
 *   model_name_sanitized  lm_eval's sanitize_model_name: every run of
 *                     characters from "<>:/|\?*[] and '"' becomes "__"
 *   mnemo_version
 *   mnemo_inputs      meta->inputs, only when given (not an lm_eval key)
 *
 * Task names: kind "mmlu" is a group named opts.task (default "mmlu") with a
 * task "<group>_<subject>" per subject (alias: the subject, as lm_eval's
 * task_alias); every MMLU record needs a subject.  Other kinds are a single
 * task named opts.task (e.g. "gpqa_main", "math500", "simpleqa", a jsonl
 * file's stem; default: the kind).  lm_eval's own MMLU group nests four
 * category groups (stem, humanities, ...) between mmlu and the subjects;
 * mnemo's group is flat.  With weight_by_size the group's mean is the same
 * either way (v0.4.12 aggregates over leaf tasks).
 *
 * Differences from lm_eval, on purpose: every metric of the records is
 * aggregated in the group (lm_eval's mmlu lists only acc); all metrics are
 * higher-is-better; "git_hash", environment and tokenizer fields, and
 * "task_hashes" are not written.
 *
 * Files: JSON_INDENT(2), keys in the insertion order described above (not
 * sorted), UTF-8 unescaped (as ensure_ascii=False), reals with 16
 * significant digits ("%.16g": 0.95 stays "0.95" and 1/3 is
 * "0.3333333333333333" as Python's repr writes them; a value that needs 17
 * digits reads back within one unit in the last place), a final newline;
 * each file is written to a temporary name and renamed into place
 * (util/outfile.h).
 *
 * Non-goals: reading items.jsonl, scoring, printing tables (report/). */
#ifndef MNEMO_BENCH_SUMMARY_H
#define MNEMO_BENCH_SUMMARY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h" /* mn_err */

typedef struct bench_summary bench_summary;

typedef struct bench_summary_opts {
    const char *kind;        /* "mmlu" | "gpqa" | "math500" | "simpleqa" | "jsonl" (required) */
    const char *task;        /* task (MMLU: group) name; NULL: the kind */
    const char *output_type; /* "multiple_choice" | "generate_until"; NULL: by kind
                                (mmlu, gpqa: multiple_choice; math500, simpleqa:
                                generate_until; jsonl: required) */
    int num_fewshot;         /* k, >= 0; default 0 */
    double version;          /* mnemo's task version ("versions", config metadata); default 1.0 */
    size_t bootstrap_iters;  /* B; default BOOTSTRAP_ITERS_DEFAULT (1000); 0: no intervals */
    uint64_t seed;           /* bootstrap seed; default BENCH_SUMMARY_SEED_DEFAULT */
    const char *source;      /* file named in error messages; default "items.jsonl" */
} bench_summary_opts;

#define BENCH_SUMMARY_SEED_DEFAULT 1234

/* Fill *o with the defaults above (kind NULL: set it). */
void bench_summary_opts_default(bench_summary_opts *o);

/* Create an empty summary; o's strings are copied.  Caller frees *out with
 * bench_summary_free().  Errors: MN_EUSAGE (unknown kind, empty task, bad
 * output_type or none for jsonl, num_fewshot < 0, version not finite). */
int bench_summary_init(bench_summary **out, const bench_summary_opts *o, mn_err *err);

/* Add one item record (borrowed; its values are copied, nothing is kept).
 * Errors (the summary is unchanged): MN_EFORMAT "SOURCE: record N: reason"
 * (N counts add calls from 1, failed ones included): not an object, a
 * missing or mistyped field (see above), an empty id, a metric that is not
 * a finite number, metric keys that differ from the first record's, a key
 * that is empty or holds ',', an MMLU record without a subject.  Duplicate
 * ids are found when the outputs are built. */
int bench_summary_add(bench_summary *s, const json_t *record, mn_err *err);

/* Number of records added so far. */
size_t bench_summary_count(const bench_summary *s);

/* The size of the evaluation split before any limit, for lm_eval's
 * "n-samples" "original": of the subject's task (MMLU: subject required)
 * or of the single task (other kinds: subject NULL).  Setting it again
 * replaces it; subjects without items are not written.
 * Errors: MN_EUSAGE (a subject for a non-MMLU kind, NULL for MMLU). */
int bench_summary_set_original(bench_summary *s, const char *subject, size_t n, mn_err *err);

/* What the caller knows about the run; every pointer is borrowed for the
 * call and deep-copied into the output, NULL where unknown. */
typedef struct bench_summary_meta {
    const char *mnemo_version;    /* "0.1.0" */
    const char *created;          /* ISO 8601 UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z" (also lm_eval "date") */
    const json_t *config;         /* the full configuration (summary.json "config") */
    const json_t *model;          /* model identity: path, model_type, config sha256 ... */
    const json_t *corpus;         /* retrieval DB identity; NULL: null */
    const json_t *skipped;        /* skipped-item counts; NULL: key omitted */
    const json_t *lm_eval_config; /* lm_eval "config": model, model_args, batch_size ... */
    const char *model_name;       /* lm_eval "model_name" */
    const json_t *task_config;    /* object: extra keys for every lm_eval "configs" entry
                                     (dataset_path, generation_kwargs ...) */
    const json_t *inputs;         /* the inputs' content identity (bench/identity.h's "inputs"); NULL: key omitted */
} bench_summary_meta;

/* Build summary.json's object into *out (caller json_decref's it).
 * Errors: MN_EFORMAT (duplicate id: "SOURCE: record N: duplicate id "X"
 * (first in record M)"), MN_EUSAGE (created not in the form above,
 * task_config not an object). */
int bench_summary_build(const bench_summary *s, const bench_summary_meta *m,
                        json_t **out, mn_err *err);

/* Build the lm-evaluation-harness results object into *out (caller
 * json_decref's it).  Errors: as bench_summary_build. */
int bench_summary_build_lm_eval(const bench_summary *s, const bench_summary_meta *m,
                                json_t **out, mn_err *err);

/* Build both objects and write them atomically: results_path (lm_eval
 * layout; NULL: not written) first, then summary_path, so a summary.json
 * that exists belongs to a complete pair.  Directories must exist.
 * Errors: as the builders, MN_EIO. */
int bench_summary_write(const bench_summary *s, const bench_summary_meta *m,
                        const char *summary_path, const char *results_path, mn_err *err);

/* Write j to path atomically in the format described above ("Files").
 * Errors: MN_EIO, MN_ENOMEM (serialisation failed). */
int bench_json_write(const json_t *j, const char *path, mn_err *err);

/* Release s; NULL is fine. */
void bench_summary_free(bench_summary *s);

/* ---- statistics as lm_eval computes them (lm_eval/api/metrics.py) ---- */

/* mean(arr): sum / n; NaN when n == 0. */
double bench_stat_mean(const double *x, size_t n);

/* mean_stderr(arr) = sample_stddev(arr) / sqrt(n), sample_stddev with
 * ddof=1: sqrt(sum (x - mean)^2 / (n - 1)).  NaN when n < 2. */
double bench_stat_mean_stderr(const double *x, size_t n);

/* aggregate_subtask_metrics(metrics, sizes, weight_by_size=True):
 * sum(m_i * n_i) / sum(n_i).  NaN when the sizes sum to 0. */
double bench_stat_weighted_mean(const double *means, const size_t *sizes, size_t k);

/* pooled_sample_stderr(stderrs, sizes):
 * sqrt( sum((n_i - 1) * se_i^2 * n_i) / (sum(n_i) - k) / sum(n_i) ).
 * NaN when sum(n_i) <= k or any se_i is NaN. */
double bench_stat_pooled_stderr(const double *stderrs, const size_t *sizes, size_t k);

#endif
