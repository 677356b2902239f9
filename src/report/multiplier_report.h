/* multiplier_report.h — the compute-multiplier study's outputs:
 * DIR/multiplier.json, DIR/report.md and DIR/report.html (one
 * self-contained page with an inline SVG chart per benchmark).
 *
 * ---- multiplier.json ----
 *
 * JSON_INDENT(2), keys in this order, reals with 16 significant digits,
 * every non-finite number null, no timestamps (reruns on the same inputs
 * are byte-identical), a final newline:
 *
 *   mnemo_version   string
 *   bootstrap       {"method": "paired percentile", "resamples": B,
 *                   "seed": S, "level": 0.95, "rng": "xoshiro256** seeded by
 *                   splitmix64", "quantile": "linear"}
 *   fits            one per benchmark, sorted by name:
 *                   {"benchmark": config.bench, "kind", "output_type",
 *                   "items", "floor", "floor_source" ("option" | "choices" |
 *                   "assumed-4" | "free-form"), "ceiling", "x0" (decades:
 *                   log10 FLOPs of the midpoint), "k" (per decade), "rmse",
 *                   "iterations", "converged" (bool), "family": [{"model",
 *                   "result" (the directory), "params", "tokens", "compute",
 *                   "accuracy", "ci_low", "ci_high"}] sorted by compute}
 *   entries         one per augmented result, sorted by benchmark,
 *                   configuration, compute, model: {"benchmark", "config"
 *                   (the label, study/multiplier.h), "model", "result",
 *                   "params", "tokens", "compute", "accuracy",
 *                   "closed_book_accuracy" (the same model's, or null),
 *                   "gain", "gain_ci_low", "gain_ci_high" (null without a
 *                   closed-book result of the model), "effective_compute",
 *                   "multiplier", "ci_low", "ci_high" (bootstrap interval of
 *                   the multiplier; ci_high null and "ci_high_unbounded"
 *                   true when infinite), "ci_high_unbounded",
 *                   "extrapolated" (effective compute outside the family's
 *                   compute range or infinite), "beyond_ceiling" (accuracy
 *                   at or above the ceiling: effective compute null),
 *                   "below_floor" (accuracy at or below the floor: effective
 *                   compute 0), "interp_effective_compute",
 *                   "interp_multiplier" (the monotone check; null outside
 *                   the family's accuracy range)}
 *   contamination   null, or {"contam_dir", "bench" (contam-summary.json's,
 *                   or null), "items", "planted" (null without a planted
 *                   list), "planted_not_in_benchmark", "flagged",
 *                   "flagged_planted", "planted_share" (planted / items),
 *                   "found_share" (flagged / items), "precision",
 *                   "recall", "agree" (flagged set == planted set; null
 *                   without a list)}
 * params and tokens are integers when training.json gives whole numbers
 * below 2^53, else reals; null when absent.
 *
 * ---- report.md / report.html ----
 *
 * Both say the same: per benchmark the fit, (1) closed-book accuracy vs
 * compute per model (model, N, D, compute, accuracy with its interval) and,
 * in HTML, the chart (the fitted sigmoid, solid within the family's compute
 * range and dashed outside it; the monotone check; the family's points
 * with error bars; each configuration's points, with a dotted line to its
 * effective compute); (2) the gain of each augmentation per model; (3) the
 * multiplier of each configuration and model with its interval, the
 * effective compute, the monotone check and a note ("extrapolated beyond
 * the family", "beyond ceiling", "below floor", "outside range"); (4) with
 * a contamination audit, the planted vs found comparison.  Every number
 * comes from the study (and so from the input files). */
#ifndef MNEMO_REPORT_MULTIPLIER_REPORT_H
#define MNEMO_REPORT_MULTIPLIER_REPORT_H

#include "study/multiplier.h" /* mult_study, mult_contam */
#include "util/err.h"         /* mn_err */
#include "util/msgbuf.h"      /* wbuf */

typedef struct mult_report_opts {
    const char *title;         /* page title; NULL: "Compute multipliers" */
    const mult_contam *contam; /* or NULL: no contamination section */
    const char *contam_dir;    /* named in the outputs (with contam) */
    const char *planted_path;  /* named in the report (with contam), or NULL */
} mult_report_opts;

/* multiplier.json's text (NUL-terminated, with the final newline); caller
 * frees.  o may be NULL. */
char *mult_report_json(const mult_study *s, const mult_report_opts *o);

/* Append report.md's / report.html's text to b.  o may be NULL. */
void mult_report_markdown(wbuf *b, const mult_study *s, const mult_report_opts *o);
void mult_report_html(wbuf *b, const mult_study *s, const mult_report_opts *o);

/* Create out_dir (mkdir -p) and write the three files, each to a temporary
 * name renamed into place.  Errors: MN_EIO naming the file. */
int mult_report_write(const char *out_dir, const mult_study *s, const mult_report_opts *o, mn_err *err);

#endif
