/* fit.c — sigmoid least squares, its inverse, and the isotonic check
 * (see fit.h).  x is log10(compute) in decades; y an accuracy. */
#include "study/fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRID_X0 25
#define GRID_K 13
#define LM_MAX_ITERS 200

/* ------------------------------------------------------------- sigmoid */

/* Logistic function without overflow for large |z|. */
static double logistic(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

double fit_sigmoid_eval(const fit_sigmoid *s, double x)
{
    return s->floor + (s->ceiling - s->floor) * logistic(s->k * (x - s->x0));
}

/* The fitting problem: data, fixed floor/ceiling and the parameter box. */
typedef struct problem {
    const double *x, *y;
    size_t n;
    double floor, ceiling;
    double x0_lo, x0_hi, k_hi;
} problem;

static double sse_at(const problem *p, double x0, double k)
{
    fit_sigmoid s = {.floor = p->floor, .ceiling = p->ceiling, .x0 = x0, .k = k};
    double sum = 0;
    for (size_t i = 0; i < p->n; i++) {
        double r = p->y[i] - fit_sigmoid_eval(&s, p->x[i]);
        sum += r * r;
    }
    return sum;
}

static void project(const problem *p, double *x0, double *k)
{
    *x0 = fmin(fmax(*x0, p->x0_lo), p->x0_hi);
    *k = fmin(fmax(*k, 0.0), p->k_hi);
}

/* Start from the logit's linear fit: z = k x - k x0.  Returns 1 when it
 * gives a usable (positive) slope. */
static int logit_start(const problem *p, double *x0, double *k)
{
    double sx = 0, sz = 0, sxx = 0, sxz = 0, range = p->ceiling - p->floor;
    for (size_t i = 0; i < p->n; i++) {
        double q = fmin(fmax((p->y[i] - p->floor) / range, 0.01), 0.99);
        double z = log(q / (1 - q));
        sx += p->x[i];
        sz += z;
        sxx += p->x[i] * p->x[i];
        sxz += p->x[i] * z;
    }
    double n = (double)p->n, den = n * sxx - sx * sx;
    if (!(den > 0))
        return 0;
    double slope = (n * sxz - sx * sz) / den, icept = (sz - slope * sx) / n;
    if (!(slope > 0) || !isfinite(slope))
        return 0;
    *k = slope;
    *x0 = -icept / slope;
    project(p, x0, k);
    return 1;
}

/* The best start among the logit fit and a fixed grid over the box. */
static void best_start(const problem *p, double *x0, double *k)
{
    double best = INFINITY, bx = 0.5 * (p->x0_lo + p->x0_hi), bk = 0, lx, lk;
    if (logit_start(p, &lx, &lk)) {
        best = sse_at(p, lx, lk);
        bx = lx;
        bk = lk;
    }
    for (int i = 0; i < GRID_X0; i++) {
        double gx = p->x0_lo + (p->x0_hi - p->x0_lo) * i / (GRID_X0 - 1);
        for (int j = 0; j < GRID_K; j++) {
            /* 0, then k_hi * 10^(-3 .. 0) in 12 steps */
            double gk = j == 0 ? 0.0 : p->k_hi * pow(10.0, -3.0 + 3.0 * (j - 1) / (GRID_K - 2));
            double s = sse_at(p, gx, gk);
            if (s < best) {
                best = s;
                bx = gx;
                bk = gk;
            }
        }
    }
    *x0 = bx;
    *k = bk;
}

/* J'J and J'r at (x0, k): residual r = y - f, J = df/d(x0, k). */
static void normal_eqs(const problem *p, double x0, double k, double a[3], double g[2])
{
    double range = p->ceiling - p->floor;
    a[0] = a[1] = a[2] = g[0] = g[1] = 0;
    for (size_t i = 0; i < p->n; i++) {
        double d = p->x[i] - x0, s = logistic(k * d), ds = range * s * (1 - s);
        double r = p->y[i] - (p->floor + range * s);
        double j0 = -ds * k, j1 = ds * d;
        a[0] += j0 * j0;
        a[1] += j0 * j1;
        a[2] += j1 * j1;
        g[0] += j0 * r;
        g[1] += j1 * r;
    }
}

/* Levenberg-Marquardt from (*x0, *k) within the box. */
static void lm_refine(const problem *p, fit_sigmoid *s)
{
    double x0 = s->x0, k = s->k, f = sse_at(p, x0, k), lambda = 1e-3;
    s->converged = 0;
    int it;
    for (it = 0; it < LM_MAX_ITERS; it++) {
        if (f < 1e-30) {
            s->converged = 1;
            break;
        }
        double a[3], g[2];
        normal_eqs(p, x0, k, a, g);
        double eps = 1e-12 * (a[0] + a[2]) + 1e-30;
        int accepted = 0;
        double nx = x0, nk = k, nf = f;
        while (lambda < 1e16) {
            double a00 = a[0] + lambda * (a[0] + eps), a11 = a[2] + lambda * (a[2] + eps), a01 = a[1];
            double det = a00 * a11 - a01 * a01;
            if (det > 0 && isfinite(det)) {
                nx = x0 + (a11 * g[0] - a01 * g[1]) / det;
                nk = k + (a00 * g[1] - a01 * g[0]) / det;
                project(p, &nx, &nk);
                nf = sse_at(p, nx, nk);
                if (nf < f) {
                    accepted = 1;
                    break;
                }
            }
            lambda *= 10;
        }
        if (!accepted) { /* no step lowers the sum: a (constrained) minimum */
            s->converged = 1;
            break;
        }
        double step = fabs(nx - x0) + fabs(nk - k), drop = f - nf;
        x0 = nx;
        k = nk;
        f = nf;
        lambda = fmax(lambda / 10, 1e-12);
        if (drop <= 1e-12 * f || step <= 1e-12 * (1 + fabs(x0) + k)) {
            s->converged = 1;
            it++;
            break;
        }
    }
    s->x0 = x0;
    s->k = k;
    s->iters = it;
    s->rmse = sqrt(f / (double)p->n);
}

int fit_sigmoid_lsq(const double *x, const double *y, size_t n, double floor, double ceiling, fit_sigmoid *out,
                    mn_err *err)
{
    if (!(floor < ceiling) || !isfinite(floor) || !isfinite(ceiling))
        return mn_errf(err, MN_ERANGE, "sigmoid fit: floor %g is not below ceiling %g", floor, ceiling);
    if (n < 2)
        return mn_errf(err, MN_ERANGE, "sigmoid fit: %zu point(s), need at least 2", n);
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return mn_errf(err, MN_ERANGE, "sigmoid fit: point %zu is not finite", i);
        xmin = fmin(xmin, x[i]);
        xmax = fmax(xmax, x[i]);
    }
    if (!(xmax > xmin))
        return mn_errf(err, MN_ERANGE, "sigmoid fit: all %zu points have the same x", n);
    double span = xmax - xmin, pad = 3.0 * fmax(span, 1.0);
    problem p = {.x = x, .y = y, .n = n, .floor = floor, .ceiling = ceiling,
                 .x0_lo = xmin - pad, .x0_hi = xmax + pad, .k_hi = 100.0 / span};
    fit_sigmoid s = {.floor = floor, .ceiling = ceiling};
    best_start(&p, &s.x0, &s.k);
    lm_refine(&p, &s);
    *out = s;
    return 0;
}

double fit_sigmoid_inverse(const fit_sigmoid *s, double t, int *flag)
{
    int fl = FIT_INV_OK;
    double x;
    if (isnan(t)) {
        x = NAN;
    } else if (t <= s->floor) {
        fl = FIT_INV_BELOW;
        x = -INFINITY;
    } else if (t >= s->ceiling) {
        fl = FIT_INV_ABOVE;
        x = INFINITY;
    } else {
        double z = log((t - s->floor) / (s->ceiling - t));
        if (s->k > 0) {
            x = s->x0 + z / s->k;
            if (isinf(x))
                fl = x > 0 ? FIT_INV_ABOVE : FIT_INV_BELOW;
        } else if (z == 0) {
            x = s->x0;
        } else {
            fl = z > 0 ? FIT_INV_ABOVE : FIT_INV_BELOW;
            x = z > 0 ? INFINITY : -INFINITY;
        }
    }
    if (flag)
        *flag = fl;
    return x;
}

/* ------------------------------------------------------------ isotonic */

void fit_isotonic_pav(const double *y, const double *w, size_t n, double *out)
{
    if (!n)
        return;
    /* blocks: mean, weight, length; a stack that merges while the last two
     * are out of order */
    double *bm = xmalloc(n * sizeof *bm), *bw = xmalloc(n * sizeof *bw);
    size_t *bl = xmalloc(n * sizeof *bl), nb = 0;
    for (size_t i = 0; i < n; i++) {
        bm[nb] = y[i];
        bw[nb] = w ? w[i] : 1.0;
        bl[nb] = 1;
        nb++;
        while (nb > 1 && bm[nb - 2] > bm[nb - 1]) {
            double tw = bw[nb - 2] + bw[nb - 1];
            bm[nb - 2] = (bm[nb - 2] * bw[nb - 2] + bm[nb - 1] * bw[nb - 1]) / tw;
            bw[nb - 2] = tw;
            bl[nb - 2] += bl[nb - 1];
            nb--;
        }
    }
    for (size_t b = 0, i = 0; b < nb; b++)
        for (size_t j = 0; j < bl[b]; j++)
            out[i++] = bm[b];
    free(bm);
    free(bw);
    free(bl);
}

typedef struct xy_pair {
    double x, y;
    size_t i;
} xy_pair;

static int by_x(const void *a, const void *b)
{
    const xy_pair *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i; /* stable: input order */
}

void fit_monotone_build(const double *x, const double *y, size_t n, fit_monotone *out)
{
    memset(out, 0, sizeof *out);
    if (!n)
        return;
    xy_pair *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (xy_pair){x[i], y[i], i};
    qsort(v, n, sizeof *v, by_x);
    double *w = xmalloc(n * sizeof *w);
    out->x = xmalloc(n * sizeof *out->x);
    out->y = xmalloc(n * sizeof *out->y);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double sum = 0;
        while (j < n && v[j].x == v[i].x)
            sum += v[j++].y;
        out->x[m] = v[i].x;
        out->y[m] = sum / (double)(j - i);
        w[m++] = (double)(j - i);
        i = j;
    }
    out->m = m;
    fit_isotonic_pav(out->y, w, m, out->y);
    free(w);
    free(v);
}

void fit_monotone_free(fit_monotone *m)
{
    free(m->x);
    free(m->y);
    memset(m, 0, sizeof *m);
}

double fit_monotone_eval(const fit_monotone *m, double x)
{
    if (!m->m || !(x >= m->x[0]) || !(x <= m->x[m->m - 1]))
        return NAN;
    size_t i = 1;
    while (i < m->m && m->x[i] < x)
        i++;
    if (i == m->m || m->x[i] == x || m->m == 1)
        return m->y[i == m->m ? m->m - 1 : i];
    double t = (x - m->x[i - 1]) / (m->x[i] - m->x[i - 1]);
    return m->y[i - 1] + t * (m->y[i] - m->y[i - 1]);
}

double fit_monotone_inverse(const fit_monotone *m, double t, int *flag)
{
    int fl = FIT_INV_OK;
    double x = NAN;
    if (!m->m || isnan(t)) {
        fl = m->m ? FIT_INV_OK : FIT_INV_BELOW;
    } else if (t < m->y[0]) {
        fl = FIT_INV_BELOW;
    } else if (t > m->y[m->m - 1]) {
        fl = FIT_INV_ABOVE;
    } else {
        size_t i = 0;
        while (m->y[i] < t) /* the first point reaching t exists: t <= y[m-1] */
            i++;
        if (i == 0) {
            x = m->x[0];
        } else { /* y[i-1] < t <= y[i]: on the rising segment, its lowest x */
            double f = (t - m->y[i - 1]) / (m->y[i] - m->y[i - 1]);
            x = m->x[i - 1] + f * (m->x[i] - m->x[i - 1]);
        }
    }
    if (flag)
        *flag = fl;
    return x;
}
