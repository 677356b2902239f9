/* multiplier.h — the compute-multiplier study: how much pre-training
 * compute an augmentation (retrieval, reranking, self-consistency) is
 * worth, measured against a family of closed-book models.
 *
 * Inputs are result directories of `mnemo eval` / `mnemo run`
 * (docs/eval-results.md): DIR/summary.json and DIR/items.jsonl, and the
 * model's <summary.model.path>/training.json ({"params": N, "tokens": D,
 * "compute": C}; C may be left out when N and D are given: C = 6 N D).
 *
 * Grouping: results are grouped by benchmark, the summary's "config.bench"
 * string.  Within a group each result gets a configuration label built from
 * its config, parts joined by "+" in this order:
 *   "retrieval"          config.retrieval is an object (any k, mode, budget)
 *   "rerank"             ... whose "rerank" is present and not null/false
 *   "decontam:N"         ... whose "decontaminate" is N > 0
 *   "sc:K" / "bestofn:N" / "docsc"   config.ttc.kind "sc" with n > 1,
 *                        "bestofn" (n), "docsc"; greedy and sc with n <= 1
 *                        add nothing
 * A result whose label is empty is closed-book ("closed-book"); all others
 * are augmented configurations, e.g. "retrieval", "retrieval+rerank",
 * "retrieval+sc:5", "sc:5".  One model may have one result per label and
 * benchmark (two are an error naming both directories).
 *
 * Per benchmark: the closed-book family (at least two distinct compute
 * values) gets a sigmoid of accuracy against log10(compute) (study/fit.h)
 * with floor = chance and ceiling 1 unless given: chance is, for multiple
 * choice, the mean over items of 1 / (number of options), the options
 * counted from "choices_loglik" of the first result (in the study's order)
 * that has it on every item, else 0.25 (assumed four options); 0 for
 * free-form output types.  Every augmented result with accuracy a on a
 * model of compute C gets the effective compute E = 10^x where the sigmoid
 * reaches a, multiplier E / C, and the same from the monotone check (null
 * outside the family's accuracy range).
 *
 * Accuracy is the mean of the items' "correct" over items.jsonl (checked
 * against summary.json's n and accuracy).  Every result of a benchmark
 * must hold the same item ids.
 *
 * Intervals: B paired bootstrap resamples of the benchmark's item ids
 * (the same resampled ids for every result of the benchmark; one
 * generator per benchmark, bench/bootstrap.h's xoshiro256** seeded with the
 * seed).  Each resample recomputes every accuracy, refits the closed-book
 * sigmoid and recomputes every multiplier and gain; intervals are the
 * (1 - level)/2 and (1 + level)/2 quantiles (linear interpolation between
 * order statistics, as bootstrap.h) of the resampled values.  Multipliers
 * are interpolated in log10; a resample whose accuracy is at or beyond the
 * ceiling gives an infinite multiplier, so an upper bound can be infinite
 * (then ci_high_unbounded is set).
 *
 * Order: benchmarks by name (byte order); family members by compute, then
 * model path, then directory; entries by benchmark, label, compute, model,
 * directory.  Nothing depends on the order of the input directories.
 *
 * Non-goals: writing files (report/multiplier_report.h), other metrics than
 * accuracy, weighting items. */
#ifndef MNEMO_STUDY_MULTIPLIER_H
#define MNEMO_STUDY_MULTIPLIER_H

#include <stddef.h>
#include <stdint.h>

#include "study/fit.h" /* fit_sigmoid, fit_monotone */
#include "util/err.h"  /* mn_err */

/* ---- options ----------------------------------------------------------- */

typedef struct mult_opts {
    size_t resamples; /* bootstrap resamples B; default 1000; 0: no intervals */
    uint64_t seed;    /* default 1234 */
    double level;     /* interval level; default 0.95 */
    double floor;     /* NaN (default): chance, from the results */
    double ceiling;   /* default 1 */
    /* Item ids left out of every result before anything is computed
     * (sorted byte-wise, unique; borrowed), e.g. the items a contamination
     * audit flagged (mult_contam.flagged_ids): the study of the clean items.
     * NULL / 0: none.  A result left with no items is an error. */
    const char *const *exclude;
    size_t nexclude;
} mult_opts;

#define MULT_SEED_DEFAULT 1234

void mult_opts_default(mult_opts *o);

/* ---- results ------------------------------------------------------------ */

/* One closed-book model of a benchmark's family. */
typedef struct mult_member {
    char *model;             /* summary model.path */
    char *dir;               /* the result directory as given */
    double params, tokens;   /* from training.json; NaN when absent */
    double compute;          /* FLOPs, > 0 */
    double accuracy;         /* mean of correct */
    double ci_low, ci_high;  /* bootstrap interval of the accuracy; NaN without resamples */
} mult_member;

/* One augmented result of a benchmark. */
typedef struct mult_entry {
    size_t bench;                   /* index into mult_study.bench */
    char *config;                   /* the label */
    char *model, *dir;
    double params, tokens, compute; /* as mult_member */
    double accuracy;
    double closed_book_accuracy;    /* the same model's closed-book accuracy; NaN when it has none */
    double gain, gain_ci_low, gain_ci_high; /* accuracy - closed_book_accuracy (paired interval); NaN: none */
    double effective_compute;       /* 10^x, x where the sigmoid reaches accuracy; 0 or +inf at the bounds */
    double multiplier;              /* effective_compute / compute */
    double ci_low, ci_high;         /* bootstrap interval of the multiplier (ci_high may be +inf) */
    int ci_high_unbounded;          /* ci_high is +inf */
    int extrapolated;               /* effective compute outside [min, max] of the family (or infinite) */
    int beyond_ceiling;             /* accuracy >= ceiling: no finite effective compute */
    int below_floor;                /* accuracy <= floor: effective compute 0 */
    double interp_effective_compute; /* from the monotone check; NaN outside the family's accuracy range */
    double interp_multiplier;       /* ... / compute; NaN likewise */
} mult_entry;

/* One benchmark: its family and fit. */
typedef struct mult_bench {
    char *benchmark;          /* config.bench */
    char *kind;               /* summary "benchmark" (mmlu, jsonl, ...) */
    char *output_type;
    size_t items;             /* items per result (after opts.exclude) */
    size_t excluded;          /* items of the results that opts.exclude left out */
    double floor, ceiling;
    const char *floor_source; /* "option" (given), "choices" (from choices_loglik),
                                 "assumed-4" (multiple choice without choices_loglik), "free-form" */
    fit_sigmoid fit;
    fit_monotone mono;        /* the isotonic check over (log10 compute, accuracy) */
    mult_member *family;      /* [nfamily], sorted */
    size_t nfamily;
} mult_bench;

typedef struct mult_study {
    mult_opts opts;
    mult_bench *bench;        /* [nbench], sorted by name */
    size_t nbench;
    mult_entry *entries;      /* [nentries], sorted */
    size_t nentries;
} mult_study;

/* Load the ndirs result directories (borrowed; paths as given, training.json
 * paths as the summaries give them, relative to the current directory),
 * group, fit and bootstrap as described above.  Caller frees *out with
 * mult_study_free().  Errors (one line naming the file): MN_EIO (a file
 * cannot be read), MN_EFORMAT (malformed summary.json, items.jsonl or
 * training.json), MN_EMISMATCH (items that differ between results, an
 * accuracy that disagrees with its summary, duplicate results, output types
 * that differ), MN_ERANGE (a benchmark whose closed-book family has fewer
 * than two distinct compute values, floor not below ceiling), MN_EUSAGE (no
 * directories, bad options). */
int mult_study_run(const char *const *dirs, size_t ndirs, const mult_opts *o, mult_study **out, mn_err *err);

void mult_study_free(mult_study *s);

/* ---- contamination ------------------------------------------------------ */

/* The contamination audit's flags compared with the items planted in the
 * corpus.  Counts are over the audited items (contamination.jsonl). */
typedef struct mult_contam {
    char *bench;            /* contam-summary.json "bench" (NULL when absent) */
    size_t items;           /* audited items */
    size_t flagged;         /* flagged by the audit */
    int has_planted;        /* a planted list was given */
    size_t planted;         /* planted ids that are audited items */
    size_t planted_unknown; /* planted ids that are not (listed but not counted) */
    size_t flagged_planted; /* flagged and planted */
    double precision;       /* flagged_planted / flagged; NaN when nothing is flagged or no list */
    double recall;          /* flagged_planted / planted; NaN when nothing is planted or no list */
    int agree;              /* the flagged set equals the planted set (0 without a list) */
    char **flagged_ids;     /* [flagged] the flagged ids, sorted byte-wise (owned) */
} mult_contam;

/* Read CONTAM_DIR/contam-summary.json ("items", "flagged", "bench") and
 * CONTAM_DIR/contamination.jsonl ("id", "flagged" per line; its counts must
 * match the summary's) and, when planted_path is not NULL, the planted list:
 * one item id per line, surrounding white space trimmed, blank lines and
 * lines starting with '#' ignored, duplicates counted once.  Free with
 * mult_contam_free().  Errors: MN_EIO, MN_EFORMAT, MN_EMISMATCH, naming the
 * file and line. */
int mult_contam_load(const char *contam_dir, const char *planted_path, mult_contam *out, mn_err *err);

void mult_contam_free(mult_contam *c);

#endif
