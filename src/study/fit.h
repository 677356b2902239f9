/* fit.h — the numerical core of the compute-multiplier study: a sigmoid of
 * accuracy against x = log10(compute), its inverse, and a model-free check
 * (isotonic regression + piecewise-linear interpolation).
 *
 * The sigmoid
 *
 *   acc(x) = floor + (ceiling - floor) / (1 + exp(-k (x - x0)))
 *
 * has floor and ceiling fixed by the caller (chance accuracy and 1 as a
 * rule) and two free parameters: the midpoint x0 (in decades of compute)
 * and the slope k >= 0 (per decade).  fit_sigmoid_lsq() minimises the sum of
 * squared residuals:
 *
 *   1  candidate starts: the linear least-squares fit of the logit
 *      z = log(p / (1 - p)), p = (acc - floor) / (ceiling - floor) clipped
 *      to [0.01, 0.99], against x (kept when its slope is > 0), and a fixed
 *      grid of 25 x0 values spread over the box below times 13 k values
 *      (0 and 12 log-spaced values up to the bound); the start with the
 *      smallest sum of squares wins (the first one on ties);
 *   2  Levenberg-Marquardt from there: solve (J'J + lambda (diag J'J + eps))
 *      step = J'r, accept a step only when the sum of squares goes down
 *      (then lambda /= 10, else lambda *= 10), project (x0, k) into the box
 *      after every step;
 *   3  stop when the sum of squares falls by less than 1e-12 of itself (or
 *      below 1e-30), when the step is below 1e-12, or after 200 iterations
 *      (converged = 0 then).
 * The box: k in [0, 100 / span], x0 in [xmin - pad, xmax + pad] where span
 * = xmax - xmin and pad = 3 max(span, 1).  It keeps degenerate problems
 * (flat data, two points on either side of the floor, a family below its
 * midpoint) from running away: the answer is then a sigmoid at a bound,
 * which still describes the data as well as any other.  Everything is
 * deterministic: the same data give the same bits.
 *
 * The monotone check makes no assumption about the curve's shape: the
 * accuracies are sorted by x (points with equal x are averaged first,
 * weighted by count), made non-decreasing by isotonic regression (pool
 * adjacent violators, weighted by count), and joined by straight lines.
 * Its inverse exists only within the family's range of accuracies.
 *
 * Non-goals: other curve families, free floor/ceiling, weights, I/O. */
#ifndef MNEMO_STUDY_FIT_H
#define MNEMO_STUDY_FIT_H

#include <stddef.h>

#include "util/err.h" /* mn_err */

/* ---- sigmoid ----------------------------------------------------------- */

/* A fitted (or hand-made) sigmoid; plain data. */
typedef struct fit_sigmoid {
    double floor, ceiling; /* fixed by the caller; floor < ceiling */
    double x0, k;          /* midpoint (decades) and slope (per decade, >= 0) */
    double rmse;           /* sqrt(mean squared residual) over the fitted points */
    int iters;             /* Levenberg-Marquardt iterations used */
    int converged;         /* 1 when a stopping rule other than the iteration cap ended the fit */
} fit_sigmoid;

/* The sigmoid's value at x. */
double fit_sigmoid_eval(const fit_sigmoid *s, double x);

/* Fit x0 and k to the n points (x[i], y[i]) (borrowed) with floor and
 * ceiling fixed, as described above; fills *out.  Needs n >= 2, at least two
 * distinct x, finite values and floor < ceiling.  Errors: MN_ERANGE (with a
 * message naming what is wrong; err may be NULL). */
int fit_sigmoid_lsq(const double *x, const double *y, size_t n, double floor, double ceiling, fit_sigmoid *out,
                    mn_err *err);

/* How an inverse came out. */
enum {
    FIT_INV_OK = 0,        /* a finite x */
    FIT_INV_BELOW = -1,    /* the target is at or below the floor (sigmoid: -inf) or below the
                              family's lowest accuracy (monotone check: no value) */
    FIT_INV_ABOVE = 1,     /* the target is at or above the ceiling (sigmoid: +inf) or above the
                              family's highest accuracy (monotone check: no value) */
};

/* The x where the sigmoid reaches target: x0 + log((t - floor) / (ceiling -
 * t)) / k.  A target at or below the floor gives -INFINITY and *flag =
 * FIT_INV_BELOW, at or above the ceiling +INFINITY and FIT_INV_ABOVE.  A
 * flat sigmoid (k == 0) reaches only its midpoint: a target below it gives
 * -INFINITY (FIT_INV_BELOW), above it +INFINITY (FIT_INV_ABOVE), the
 * midpoint itself x0.  flag may be NULL.  NaN target: NaN, FIT_INV_OK. */
double fit_sigmoid_inverse(const fit_sigmoid *s, double target, int *flag);

/* ---- monotone interpolation check --------------------------------------- */

/* The isotonic curve of a family: m points with strictly increasing x and
 * non-decreasing y.  Owns its arrays (fit_monotone_free). */
typedef struct fit_monotone {
    size_t m;
    double *x; /* [m] distinct x, increasing */
    double *y; /* [m] pooled accuracies, non-decreasing */
} fit_monotone;

/* Pool-adjacent-violators on y[0..n) with weights w[0..n) (NULL: all 1),
 * in the given order: out[0..n) is the weighted least-squares
 * non-decreasing sequence (each violating block replaced by its weighted
 * mean).  out may alias y.  Weights must be > 0. */
void fit_isotonic_pav(const double *y, const double *w, size_t n, double *out);

/* Build the check from n points (borrowed, any order): sort by x, average
 * equal x (the count is the weight), run fit_isotonic_pav.  n == 0 gives an
 * empty curve.  Free with fit_monotone_free(). */
void fit_monotone_build(const double *x, const double *y, size_t n, fit_monotone *out);
void fit_monotone_free(fit_monotone *m);

/* The curve's value at x, linear between points; outside [x[0], x[m-1]]
 * NaN. */
double fit_monotone_eval(const fit_monotone *m, double x);

/* The lowest x where the curve reaches target (on a flat stretch at the
 * target: its left end).  A target below y[0] gives NaN and *flag =
 * FIT_INV_BELOW, above y[m-1] NaN and FIT_INV_ABOVE ("outside range");
 * otherwise FIT_INV_OK.  flag may be NULL. */
double fit_monotone_inverse(const fit_monotone *m, double target, int *flag);

#endif
