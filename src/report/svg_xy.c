/* svg_xy.c — XY charts with a log10 x axis (see svg_xy.h).
 *
 * Layout as report/svg.c: a title row, legend rows (wrapped to the width),
 * the plot area with light grid lines at every tick, tick labels, axis
 * labels.  Coordinates are printed with one decimal. */
#include "report/svg_xy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h" /* html_printf, html_escape_str */
#include "util/err.h"    /* xmalloc */

#define DEFAULT_PW 560.0
#define DEFAULT_PH 300.0
#define CHAR_PX 6.2 /* rough width of one character at font-size 11 */
#define SAMPLES 121
#define LEGEND_ROW 18.0

static const char *const palette[] = {"#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#76b7b2", "#b07aa1"};

typedef struct xyframe {
    double left, top, pw, ph, W, H;
    double lx0, lx1; /* log10 x range */
    int legend_rows;
} xyframe;

static const char *colour_of(int c)
{
    return c < 0 ? "#444" : palette[c % 6];
}

static double px_x(const xyframe *f, double x)
{
    double l = log10(x);
    l = fmin(fmax(l, f->lx0), f->lx1);
    return f->left + (l - f->lx0) / (f->lx1 - f->lx0) * f->pw;
}

static double px_y(const xyframe *f, double y)
{
    y = fmin(fmax(y, 0.0), 1.0);
    return f->top + f->ph - y * f->ph;
}

static int in_x(const xyframe *f, double x)
{
    double l = log10(x);
    return x > 0 && l >= f->lx0 - 1e-12 && l <= f->lx1 + 1e-12;
}

/* ---------------------------------------------------------------- range */

static void widen(double *lo, double *hi, double v)
{
    if (v > 0 && isfinite(v)) {
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
}

static void x_range(xyframe *f, const svg_xy_chart *c, const svg_xy_points *pts, size_t np,
                    const svg_xy_curve *curves, size_t nc)
{
    if (c && c->xmin > 0 && c->xmax > c->xmin && isfinite(c->xmax)) {
        f->lx0 = log10(c->xmin);
        f->lx1 = log10(c->xmax);
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t s = 0; s < np; s++)
        for (size_t i = 0; i < pts[s].n; i++) {
            if (isnan(pts[s].y[i]))
                continue;
            widen(&lo, &hi, pts[s].x[i]);
            if (pts[s].x_to)
                widen(&lo, &hi, pts[s].x_to[i]);
        }
    for (size_t k = 0; k < nc; k++)
        for (size_t i = 0; curves[k].x && i < curves[k].n; i++)
            widen(&lo, &hi, curves[k].x[i]);
    if (!(lo <= hi)) {
        lo = 1;
        hi = 10;
    }
    f->lx0 = floor(log10(lo) + 1e-9);
    f->lx1 = ceil(log10(hi) - 1e-9);
    if (f->lx1 <= f->lx0)
        f->lx1 = f->lx0 + 1;
}

/* ---------------------------------------------------------------- legend */

typedef struct key {
    const char *name;
    int is_curve, shape, colour;
} key;

static double key_width(const key *k)
{
    return 22.0 + (double)strlen(k->name) * CHAR_PX + 14.0;
}

/* The legend entries, and how many rows they need in width w. */
static size_t keys_collect(key *keys, const svg_xy_points *pts, size_t np, const svg_xy_curve *curves, size_t nc)
{
    size_t n = 0;
    for (size_t k = 0; k < nc; k++)
        if (curves[k].name)
            keys[n++] = (key){curves[k].name, 1, 0, curves[k].colour};
    for (size_t s = 0; s < np; s++)
        if (pts[s].name)
            keys[n++] = (key){pts[s].name, 0, pts[s].shape, pts[s].colour};
    return n;
}

static int keys_rows(const key *keys, size_t n, double w)
{
    int rows = n ? 1 : 0;
    double x = 0;
    for (size_t i = 0; i < n; i++) {
        double kw = key_width(&keys[i]);
        if (x > 0 && x + kw > w) {
            rows++;
            x = 0;
        }
        x += kw;
    }
    return rows;
}

static void put_marker(wbuf *b, double cx, double cy, int shape, const char *col)
{
    switch (shape) {
    case SVG_XY_SQUARE:
        html_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\" stroke=\"#222\" "
                       "stroke-width=\"0.6\"/>", cx - 4, cy - 4, col);
        break;
    case SVG_XY_TRIANGLE:
        html_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.6\"/>",
                    cx, cy - 5, cx + 5, cy + 4, cx - 5, cy + 4, col);
        break;
    case SVG_XY_DIAMOND:
        html_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\" stroke=\"#222\" "
                       "stroke-width=\"0.6\"/>", cx, cy - 5.5, cx + 5.5, cy, cx, cy + 5.5, cx - 5.5, cy, col);
        break;
    default:
        html_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.6\"/>",
                    cx, cy, col);
    }
}

static void put_legend(wbuf *b, const xyframe *f, const key *keys, size_t n, double y0)
{
    double x = 0, y = y0;
    for (size_t i = 0; i < n; i++) {
        double kw = key_width(&keys[i]);
        if (x > 0 && x + kw > f->W - f->left - 8) {
            y += LEGEND_ROW;
            x = 0;
        }
        double kx = f->left + x;
        html_printf(b, "<g class=\"key\">");
        if (keys[i].is_curve)
            html_printf(b, "<path d=\"M%.1f %.1fH%.1f\" stroke=\"%s\" stroke-width=\"2\" fill=\"none\"/>", kx,
                        y + 5, kx + 16, colour_of(keys[i].colour));
        else
            put_marker(b, kx + 8, y + 5, keys[i].shape, colour_of(keys[i].colour));
        html_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", kx + 22, y + 9);
        html_escape_str(b, keys[i].name);
        html_printf(b, "</text></g>\n");
        x += kw;
    }
}

/* ---------------------------------------------------------------- axes */

static void put_axes(wbuf *b, const xyframe *f)
{
    for (int i = 0; i <= 5; i++) {
        double v = i * 0.2, y = px_y(f, v);
        if (i > 0)
            html_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", f->left,
                        y, f->left + f->pw, y);
        html_printf(b, "<text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", f->left - 6,
                    y + 4, v);
    }
    int d0 = (int)ceil(f->lx0 - 1e-9), d1 = (int)floor(f->lx1 + 1e-9);
    int every = d1 - d0 > 12 ? (d1 - d0 + 11) / 12 : 1; /* at most about 12 labels */
    for (int d = d0; d <= d1; d++) {
        double x = f->left + (d - f->lx0) / (f->lx1 - f->lx0) * f->pw;
        if (d > d0 || x > f->left + 0.5)
            html_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n", x, f->top,
                        x, f->top + f->ph);
        if ((d - d0) % every == 0)
            html_printf(b, "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">1e%d</text>\n", x,
                        f->top + f->ph + 14, d);
    }
    html_printf(b, "<path class=\"axis\" d=\"M%.1f %.1fV%.1fH%.1f\" stroke=\"#333\" fill=\"none\"/>\n", f->left,
                f->top, f->top + f->ph, f->left + f->pw);
}

static void put_text_el(wbuf *b, const char *cls, double x, double y, const char *extra, const char *text)
{
    html_printf(b, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\"%s>", cls, x, y, extra);
    html_escape_str(b, text);
    html_printf(b, "</text>\n");
}

/* ---------------------------------------------------------------- curves */

/* Append one run of vertices [a, b) as a path. */
static void put_run(wbuf *b, const xyframe *f, const double *x, const double *y, size_t a, size_t e, int dashed,
                    const char *col)
{
    if (e - a < 2)
        return;
    html_printf(b, "<path class=\"curve%s\" d=\"", dashed ? " dashed" : "");
    for (size_t i = a; i < e; i++)
        html_printf(b, "%s%.1f %.1f", i == a ? "M" : "L", px_x(f, x[i]), px_y(f, y[i]));
    html_printf(b, "\" stroke=\"%s\" stroke-width=\"2\" fill=\"none\"%s/>\n", col,
                dashed ? " stroke-dasharray=\"6 4\"" : "");
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Draw vertices (x[i], y[i]) split into runs: a NaN y ends a run; a change
 * between solid and dashed (by each segment's middle) starts a new one at
 * the shared vertex. */
static void put_polyline(wbuf *b, const xyframe *f, const double *x, const double *y, size_t n,
                         const svg_xy_curve *cv)
{
    int has_solid = !isnan(cv->solid_lo) && !isnan(cv->solid_hi);
    const char *col = colour_of(cv->colour);
    size_t a = 0;
    int dashed = -1;
    for (size_t i = 0; i + 1 < n; i++) {
        if (isnan(y[i]) || isnan(y[i + 1]) || !in_x(f, x[i]) || !in_x(f, x[i + 1])) {
            if (dashed >= 0)
                put_run(b, f, x, y, a, i + 1, dashed, col);
            dashed = -1;
            a = i + 1;
            continue;
        }
        double mid = 0.5 * (log10(x[i]) + log10(x[i + 1])); /* the middle on the log axis */
        int d = has_solid && !(mid >= log10(cv->solid_lo) - 1e-9 && mid <= log10(cv->solid_hi) + 1e-9);
        if (dashed >= 0 && d != dashed) {
            put_run(b, f, x, y, a, i + 1, dashed, col);
            a = i;
        }
        dashed = d;
    }
    if (dashed >= 0)
        put_run(b, f, x, y, a, n, dashed, col);
}

static void put_curve(wbuf *b, const xyframe *f, const svg_xy_curve *cv)
{
    if (cv->x) {
        put_polyline(b, f, cv->x, cv->y, cv->n, cv);
        return;
    }
    if (!cv->fn)
        return;
    double xs[SAMPLES + 2], ys[SAMPLES + 2];
    size_t n = 0;
    for (int i = 0; i < SAMPLES; i++)
        xs[n++] = pow(10.0, f->lx0 + (f->lx1 - f->lx0) * i / (SAMPLES - 1));
    if (!isnan(cv->solid_lo) && !isnan(cv->solid_hi)) {
        if (in_x(f, cv->solid_lo))
            xs[n++] = cv->solid_lo;
        if (in_x(f, cv->solid_hi))
            xs[n++] = cv->solid_hi;
        qsort(xs, n, sizeof *xs, cmp_d);
        size_t u = 0; /* drop duplicates (solid_lo on a sample) */
        for (size_t i = 0; i < n; i++)
            if (!u || xs[i] != xs[u - 1])
                xs[u++] = xs[i];
        n = u;
    }
    for (size_t i = 0; i < n; i++)
        ys[i] = cv->fn(xs[i], cv->ctx);
    put_polyline(b, f, xs, ys, n, cv);
}

/* ---------------------------------------------------------------- points */

static void put_points(wbuf *b, const xyframe *f, const svg_xy_points *s)
{
    const char *col = colour_of(s->colour);
    for (size_t i = 0; i < s->n; i++) {
        double x = s->x[i], y = s->y[i];
        if (!(x > 0) || isnan(y) || !in_x(f, x))
            continue;
        double cx = px_x(f, x), cy = px_y(f, y);
        if (s->x_to && !isnan(s->x_to[i])) {
            double to = s->x_to[i];
            double tx = to == INFINITY ? f->left + f->pw : !(to > 0) ? f->left : px_x(f, to);
            html_printf(b, "<path class=\"move\" d=\"M%.1f %.1fH%.1f\" stroke=\"%s\" stroke-width=\"1\" "
                           "stroke-dasharray=\"2 2\" fill=\"none\"/>\n", cx, cy, tx, col);
        }
        if (s->lo && s->hi && isfinite(s->lo[i]) && isfinite(s->hi[i])) {
            double ylo = px_y(f, s->lo[i]), yhi = px_y(f, s->hi[i]);
            html_printf(b, "<path class=\"err\" d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"#222\" "
                           "stroke-width=\"1\" fill=\"none\"/>\n",
                        cx, ylo, yhi, cx - 3, ylo, cx + 3, cx - 3, yhi, cx + 3);
        }
        html_printf(b, "<g class=\"point\"><title>");
        if (s->label && s->label[i]) {
            html_escape_str(b, s->label[i]);
        } else {
            if (s->name) {
                html_escape_str(b, s->name);
                html_printf(b, ": ");
            }
            html_printf(b, "%.3g, %.3f", x, y);
        }
        html_printf(b, "</title>");
        put_marker(b, cx, cy, s->shape, col);
        html_printf(b, "</g>\n");
    }
}

/* ---------------------------------------------------------------- chart */

void svg_xy(wbuf *b, const svg_xy_chart *c, const svg_xy_points *pts, size_t np, const svg_xy_curve *curves,
            size_t nc)
{
    xyframe f;
    memset(&f, 0, sizeof f);
    f.pw = c && c->width > 0 ? c->width : DEFAULT_PW;
    f.ph = c && c->height > 0 ? c->height : DEFAULT_PH;
    f.left = c && c->ylabel ? 64.0 : 44.0;
    f.W = f.left + f.pw + 24.0;
    x_range(&f, c, pts, np, curves, nc);
    key *keys = xmalloc((np + nc + 1) * sizeof *keys);
    size_t nk = keys_collect(keys, pts, np, curves, nc);
    f.legend_rows = keys_rows(keys, nk, f.W - f.left - 8);
    double legend_y = 8.0 + (c && c->title ? 22.0 : 0.0);
    f.top = legend_y + f.legend_rows * LEGEND_ROW + 10.0;
    f.H = f.top + f.ph + 24.0 + (c && c->xlabel ? 18.0 : 0.0);

    html_printf(b,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                "font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n<title>",
                ceil(f.W), ceil(f.H), ceil(f.W), ceil(f.H));
    html_escape_str(b, c && c->title ? c->title : "xy chart");
    html_printf(b, "</title>\n");
    if (c && c->title)
        put_text_el(b, "title", f.W / 2, 20, " font-size=\"13\" font-weight=\"bold\"", c->title);
    put_legend(b, &f, keys, nk, legend_y);
    put_axes(b, &f);
    for (size_t k = 0; k < nc; k++)
        put_curve(b, &f, &curves[k]);
    for (size_t s = 0; s < np; s++)
        put_points(b, &f, &pts[s]);
    if (c && c->xlabel)
        put_text_el(b, "xlabel", f.left + f.pw / 2, f.H - 8, "", c->xlabel);
    if (c && c->ylabel) {
        double y = f.top + f.ph / 2, x = 16.0;
        char extra[96];
        snprintf(extra, sizeof extra, " transform=\"rotate(-90 %.1f %.1f)\"", x, y);
        put_text_el(b, "ylabel", x, y, extra, c->ylabel);
    }
    html_printf(b, "</svg>\n");
    free(keys);
}
