/* multiplier_report.c — multiplier.json, report.md and report.html for the
 * compute-multiplier study (see multiplier_report.h).
 *
 * The Markdown and HTML reports come from one walk over the study through
 * a small "doc" writer (headings, paragraphs, tables) with a Markdown and
 * an HTML back end, so both say the same; the HTML page adds the charts. */
#include "report/multiplier_report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html.h"    /* html_printf, html_escape_str, html_page_* */
#include "report/svg_xy.h"  /* svg_xy */
#include "util/outfile.h"   /* outfile, make_dirs */
#include "util/strbuf.h"    /* strbuf */
#include "util/version.h"   /* MNEMO_VERSION */

#define DEFAULT_TITLE "Compute multipliers"

/* ------------------------------------------------------------------ JSON */

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Whole numbers below 2^53 as integers, others as reals, NaN as null. */
static json_t *jcount(double v)
{
    if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0)
        return json_integer((json_int_t)v);
    return jnum(v);
}

static json_t *fit_json(const mult_bench *b)
{
    json_t *j = json_object(), *fam = json_array();
    json_object_set_new(j, "benchmark", json_string(b->benchmark));
    json_object_set_new(j, "kind", json_string(b->kind));
    json_object_set_new(j, "output_type", json_string(b->output_type));
    json_object_set_new(j, "items", json_integer((json_int_t)b->items));
    json_object_set_new(j, "excluded_items", json_integer((json_int_t)b->excluded));
    json_object_set_new(j, "floor", jnum(b->floor));
    json_object_set_new(j, "floor_source", json_string(b->floor_source));
    json_object_set_new(j, "ceiling", jnum(b->ceiling));
    json_object_set_new(j, "x0", jnum(b->fit.x0));
    json_object_set_new(j, "k", jnum(b->fit.k));
    json_object_set_new(j, "rmse", jnum(b->fit.rmse));
    json_object_set_new(j, "iterations", json_integer(b->fit.iters));
    json_object_set_new(j, "converged", json_boolean(b->fit.converged));
    for (size_t i = 0; i < b->nfamily; i++) {
        const mult_member *m = &b->family[i];
        json_t *o = json_object();
        json_object_set_new(o, "model", json_string(m->model));
        json_object_set_new(o, "result", json_string(m->dir));
        json_object_set_new(o, "params", jcount(m->params));
        json_object_set_new(o, "tokens", jcount(m->tokens));
        json_object_set_new(o, "compute", jnum(m->compute));
        json_object_set_new(o, "accuracy", jnum(m->accuracy));
        json_object_set_new(o, "ci_low", jnum(m->ci_low));
        json_object_set_new(o, "ci_high", jnum(m->ci_high));
        json_array_append_new(fam, o);
    }
    json_object_set_new(j, "family", fam);
    return j;
}

static json_t *entry_json(const mult_study *s, const mult_entry *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "benchmark", json_string(s->bench[e->bench].benchmark));
    json_object_set_new(o, "config", json_string(e->config));
    json_object_set_new(o, "model", json_string(e->model));
    json_object_set_new(o, "result", json_string(e->dir));
    json_object_set_new(o, "params", jcount(e->params));
    json_object_set_new(o, "tokens", jcount(e->tokens));
    json_object_set_new(o, "compute", jnum(e->compute));
    json_object_set_new(o, "accuracy", jnum(e->accuracy));
    json_object_set_new(o, "closed_book_accuracy", jnum(e->closed_book_accuracy));
    json_object_set_new(o, "gain", jnum(e->gain));
    json_object_set_new(o, "gain_ci_low", jnum(e->gain_ci_low));
    json_object_set_new(o, "gain_ci_high", jnum(e->gain_ci_high));
    json_object_set_new(o, "effective_compute", jnum(e->effective_compute));
    json_object_set_new(o, "multiplier", jnum(e->multiplier));
    json_object_set_new(o, "ci_low", jnum(e->ci_low));
    json_object_set_new(o, "ci_high", jnum(e->ci_high));
    json_object_set_new(o, "ci_high_unbounded", json_boolean(e->ci_high_unbounded));
    json_object_set_new(o, "extrapolated", json_boolean(e->extrapolated));
    json_object_set_new(o, "beyond_ceiling", json_boolean(e->beyond_ceiling));
    json_object_set_new(o, "below_floor", json_boolean(e->below_floor));
    json_object_set_new(o, "interp_effective_compute", jnum(e->interp_effective_compute));
    json_object_set_new(o, "interp_multiplier", jnum(e->interp_multiplier));
    return o;
}

static double share(size_t a, size_t n)
{
    return n ? (double)a / (double)n : NAN;
}

static json_t *contam_json(const mult_report_opts *o)
{
    const mult_contam *c = o->contam;
    json_t *j = json_object();
    json_object_set_new(j, "contam_dir", o->contam_dir ? json_string(o->contam_dir) : json_null());
    json_object_set_new(j, "bench", c->bench ? json_string(c->bench) : json_null());
    json_object_set_new(j, "items", json_integer((json_int_t)c->items));
    json_object_set_new(j, "planted", c->has_planted ? json_integer((json_int_t)c->planted) : json_null());
    json_object_set_new(j, "planted_not_in_benchmark",
                        c->has_planted ? json_integer((json_int_t)c->planted_unknown) : json_null());
    json_object_set_new(j, "flagged", json_integer((json_int_t)c->flagged));
    json_object_set_new(j, "flagged_planted",
                        c->has_planted ? json_integer((json_int_t)c->flagged_planted) : json_null());
    json_object_set_new(j, "planted_share", c->has_planted ? jnum(share(c->planted, c->items)) : json_null());
    json_object_set_new(j, "found_share", jnum(share(c->flagged, c->items)));
    json_object_set_new(j, "precision", jnum(c->precision));
    json_object_set_new(j, "recall", jnum(c->recall));
    json_object_set_new(j, "agree", c->has_planted ? json_boolean(c->agree) : json_null());
    return j;
}

char *mult_report_json(const mult_study *s, const mult_report_opts *o)
{
    json_t *j = json_object(), *fits = json_array(), *entries = json_array();
    json_object_set_new(j, "mnemo_version", json_string(MNEMO_VERSION));
    json_t *bs = json_object();
    json_object_set_new(bs, "method", json_string("paired percentile"));
    json_object_set_new(bs, "resamples", json_integer((json_int_t)s->opts.resamples));
    json_object_set_new(bs, "seed", json_integer((json_int_t)s->opts.seed));
    json_object_set_new(bs, "level", json_real(s->opts.level));
    json_object_set_new(bs, "rng", json_string("xoshiro256** seeded by splitmix64"));
    json_object_set_new(bs, "quantile", json_string("linear"));
    json_object_set_new(j, "bootstrap", bs);
    for (size_t i = 0; i < s->nbench; i++)
        json_array_append_new(fits, fit_json(&s->bench[i]));
    json_object_set_new(j, "fits", fits);
    for (size_t i = 0; i < s->nentries; i++)
        json_array_append_new(entries, entry_json(s, &s->entries[i]));
    json_object_set_new(j, "entries", entries);
    json_object_set_new(j, "contamination", o && o->contam ? contam_json(o) : json_null());
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
    json_decref(j);
    size_t n = strlen(text);
    text = xrealloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = 0;
    return text;
}

/* ------------------------------------------------------------ numbers */

/* Compute-like numbers: "1.23e18", "0", "inf", "—" for NaN. */
static const char *fmt_sci(char *buf, size_t n, double v)
{
    if (isnan(v))
        return "\xE2\x80\x94";
    if (isinf(v))
        return v > 0 ? "inf" : "-inf";
    if (v == 0)
        return "0";
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%.3g", v);
    char *e = strchr(tmp, 'e');
    if (!e) {
        snprintf(buf, n, "%s", tmp);
        return buf;
    }
    *e = 0;
    int ex = atoi(e + 1);
    snprintf(buf, n, "%.8se%d", tmp, ex);
    return buf;
}

/* Accuracy-like numbers with 3 decimals; "—" for NaN. */
static const char *fmt_acc(char *buf, size_t n, double v)
{
    if (isnan(v))
        return "\xE2\x80\x94";
    snprintf(buf, n, "%.3f", v);
    return buf;
}

/* Signed difference: "+0.120". */
static const char *fmt_diff(char *buf, size_t n, double v)
{
    if (isnan(v))
        return "\xE2\x80\x94";
    snprintf(buf, n, "%+.3f", v);
    return buf;
}

/* A multiplier: "12.3x" (3 significant digits), "1.2e5x", "inf". */
static const char *fmt_mult(char *buf, size_t n, double v)
{
    if (isnan(v))
        return "\xE2\x80\x94";
    if (isinf(v))
        return "inf";
    char t[48];
    if (v != 0 && (v >= 1e4 || v < 1e-3))
        fmt_sci(t, sizeof t, v);
    else
        snprintf(t, sizeof t, "%.3g", v);
    snprintf(buf, n, "%s\xC3\x97", t);
    return buf;
}

/* "[lo, hi]" with a formatter; "—" when both are NaN. */
static const char *fmt_ci(char *buf, size_t n, double lo, double hi,
                          const char *(*f)(char *, size_t, double))
{
    char a[48], b[48];
    if (isnan(lo) && isnan(hi))
        return "\xE2\x80\x94";
    snprintf(buf, n, "[%s, %s]", f(a, sizeof a, lo), f(b, sizeof b, hi));
    return buf;
}

/* ------------------------------------------------------ doc writer */

typedef struct doc {
    wbuf *b;
    int html;
    size_t ncols; /* of the open table */
} doc;

/* Text as a Markdown table cell or paragraph: '|' escaped, newlines as
 * spaces. */
static void md_text(wbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            wb_put(b, "\\|", 2);
        else if (*s == '\n' || *s == '\r')
            wb_put(b, " ", 1);
        else
            wb_put(b, s, 1);
    }
}

static void doc_text(doc *d, const char *s)
{
    if (d->html)
        html_escape_str(d->b, s);
    else
        md_text(d->b, s);
}

static void doc_heading(doc *d, int level, const char *text)
{
    if (d->html) {
        html_printf(d->b, "<h%d>", level);
        html_escape_str(d->b, text);
        html_printf(d->b, "</h%d>\n", level);
    } else {
        for (int i = 0; i < level; i++)
            wb_put(d->b, "#", 1);
        wb_put(d->b, " ", 1);
        md_text(d->b, text);
        wb_put(d->b, "\n\n", 2);
    }
}

static void doc_para(doc *d, const char *text)
{
    if (d->html)
        html_printf(d->b, "<p>");
    doc_text(d, text);
    html_printf(d->b, d->html ? "</p>\n" : "\n\n");
}

static void doc_table(doc *d, const char *const *head, size_t n)
{
    d->ncols = n;
    if (d->html) {
        html_printf(d->b, "<table>\n<thead><tr>");
        for (size_t i = 0; i < n; i++) {
            html_printf(d->b, "<th>");
            html_escape_str(d->b, head[i]);
            html_printf(d->b, "</th>");
        }
        html_printf(d->b, "</tr></thead>\n<tbody>\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        wb_put(d->b, "| ", 2);
        md_text(d->b, head[i]);
        wb_put(d->b, " ", 1);
    }
    wb_put(d->b, "|\n", 2);
    for (size_t i = 0; i < n; i++)
        wb_put(d->b, "| --- ", 6);
    wb_put(d->b, "|\n", 2);
}

static void doc_row(doc *d, const char *const *cells)
{
    if (d->html)
        html_printf(d->b, "<tr>");
    for (size_t i = 0; i < d->ncols; i++) {
        if (d->html) {
            html_printf(d->b, "<td>");
            html_escape_str(d->b, cells[i]);
            html_printf(d->b, "</td>");
        } else {
            wb_put(d->b, "| ", 2);
            md_text(d->b, cells[i]);
            wb_put(d->b, " ", 1);
        }
    }
    html_printf(d->b, d->html ? "</tr>\n" : "|\n");
}

static void doc_table_end(doc *d)
{
    html_printf(d->b, d->html ? "</tbody>\n</table>\n" : "\n");
}

/* ------------------------------------------------------------ chart */

static double sigmoid_at(double x, void *ctx)
{
    return fit_sigmoid_eval(ctx, log10(x));
}

/* The chart of one benchmark: sigmoid, monotone check, family, and one
 * point series per configuration (entries of the benchmark are contiguous
 * and sorted by configuration). */
static void bench_chart(wbuf *b, const mult_study *s, size_t bi)
{
    const mult_bench *mb = &s->bench[bi];
    size_t e0 = 0, e1;
    while (e0 < s->nentries && s->entries[e0].bench != bi)
        e0++;
    for (e1 = e0; e1 < s->nentries && s->entries[e1].bench == bi; e1++)
        ;
    size_t nf = mb->nfamily, ne = e1 - e0, np = 0;
    double *fx = xmalloc(nf * sizeof *fx), *fy = xmalloc(nf * sizeof *fy);
    double *flo = xmalloc(nf * sizeof *flo), *fhi = xmalloc(nf * sizeof *fhi);
    double *mx = xmalloc(mb->mono.m * sizeof *mx + 1);
    for (size_t i = 0; i < nf; i++) {
        fx[i] = mb->family[i].compute;
        fy[i] = mb->family[i].accuracy;
        flo[i] = mb->family[i].ci_low;
        fhi[i] = mb->family[i].ci_high;
    }
    for (size_t i = 0; i < mb->mono.m; i++)
        mx[i] = pow(10.0, mb->mono.x[i]);
    svg_xy_points *pts = xcalloc(ne + 1, sizeof *pts);
    double *ex = xmalloc((ne + 1) * sizeof *ex), *ey = xmalloc((ne + 1) * sizeof *ey);
    double *eto = xmalloc((ne + 1) * sizeof *eto);
    char **labels = xcalloc(ne + 1, sizeof *labels);
    pts[np++] = (svg_xy_points){.name = "closed-book", .n = nf, .x = fx, .y = fy, .lo = flo, .hi = fhi,
                                .shape = SVG_XY_CIRCLE, .colour = 0};
    for (size_t i = 0; i < ne; i++) {
        const mult_entry *e = &s->entries[e0 + i];
        char m[48], ec[48], t[1024];
        ex[i] = e->compute;
        ey[i] = e->accuracy;
        eto[i] = e->effective_compute;
        snprintf(t, sizeof t, "%s, %s: accuracy %.3f, effective compute %s, multiplier %s", e->config, e->model,
                 e->accuracy, fmt_sci(ec, sizeof ec, e->effective_compute), fmt_mult(m, sizeof m, e->multiplier));
        labels[i] = xstrdup(t);
        if (i == 0 || strcmp(e->config, s->entries[e0 + i - 1].config)) {
            size_t k = np++;
            pts[k] = (svg_xy_points){.name = e->config, .x = ex + i, .y = ey + i, .x_to = eto + i,
                                     .label = (const char *const *)labels + i,
                                     .shape = 1 + (int)((k - 1) % 3), .colour = (int)k};
        }
        pts[np - 1].n++;
    }
    fit_sigmoid fit = mb->fit;
    svg_xy_curve curves[2] = {
        {.name = "sigmoid fit", .fn = sigmoid_at, .ctx = &fit, .solid_lo = fx[0], .solid_hi = fx[nf - 1],
         .colour = -1},
        {.name = "monotone check", .n = mb->mono.m, .x = mx, .y = mb->mono.y, .solid_lo = NAN, .solid_hi = NAN,
         .colour = 4},
    };
    /* the axis covers every model and the effective computes, but reaches
     * at most two decades beyond the models (longer moves are clipped) */
    double lo = fx[0], hi = fx[nf - 1];
    for (size_t i = 0; i < ne; i++) {
        lo = fmin(lo, ex[i]);
        hi = fmax(hi, ex[i]);
    }
    double elo = lo, ehi = hi;
    for (size_t i = 0; i < ne; i++)
        if (eto[i] > 0 && isfinite(eto[i])) {
            elo = fmin(elo, fmax(eto[i], lo / 100));
            ehi = fmax(ehi, fmin(eto[i], hi * 100));
        }
    svg_xy_chart c = {.title = mb->benchmark, .xlabel = "pre-training compute (FLOPs, log scale)",
                      .ylabel = "accuracy", .xmin = pow(10.0, floor(log10(elo) + 1e-9)),
                      .xmax = pow(10.0, ceil(log10(ehi) - 1e-9))};
    if (!(c.xmax > c.xmin))
        c.xmax = c.xmin * 10;
    svg_xy(b, &c, pts, np, curves, 2);
    for (size_t i = 0; i < ne; i++)
        free(labels[i]);
    free(labels);
    free(pts);
    free(ex);
    free(ey);
    free(eto);
    free(fx);
    free(fy);
    free(flo);
    free(fhi);
    free(mx);
}

/* ------------------------------------------------------------ report */

static const char *entry_note(const mult_entry *e)
{
    if (e->beyond_ceiling)
        return "beyond ceiling";
    if (e->below_floor)
        return "below floor";
    if (e->extrapolated)
        return "extrapolated beyond the family";
    return "";
}

static void bench_fit_para(doc *d, const mult_bench *b)
{
    char t[1024], c0[48], ex[96] = "";
    if (b->excluded)
        snprintf(ex, sizeof ex, " (%zu excluded: flagged by the contamination audit or listed)", b->excluded);
    snprintf(t, sizeof t,
             "%s (%s, %s), %zu items%s. Closed-book sigmoid: floor %.4g (%s), ceiling %.4g, midpoint at %s FLOPs "
             "(x0 = %.4f decades), slope k = %.4g per decade, rmse %.4f, %s after %d iterations.",
             b->benchmark, b->kind, b->output_type, b->items, ex, b->floor, b->floor_source, b->ceiling,
             fmt_sci(c0, sizeof c0, pow(10.0, b->fit.x0)), b->fit.x0, b->fit.k, b->fit.rmse,
             b->fit.converged ? "converged" : "not converged", b->fit.iters);
    doc_para(d, t);
}

static void family_table(doc *d, const mult_bench *b)
{
    static const char *const head[] = {"model", "params N", "tokens D", "compute (FLOPs)", "accuracy", "95% CI"};
    doc_table(d, head, 6);
    for (size_t i = 0; i < b->nfamily; i++) {
        const mult_member *m = &b->family[i];
        char p[48], t[48], c[48], a[48], ci[112];
        const char *cells[] = {m->model, fmt_sci(p, sizeof p, m->params), fmt_sci(t, sizeof t, m->tokens),
                               fmt_sci(c, sizeof c, m->compute), fmt_acc(a, sizeof a, m->accuracy),
                               fmt_ci(ci, sizeof ci, m->ci_low, m->ci_high, fmt_acc)};
        doc_row(d, cells);
    }
    doc_table_end(d);
}

static void gain_table(doc *d, const mult_study *s, size_t bi)
{
    static const char *const head[] = {"model", "configuration", "closed-book", "augmented", "gain", "95% CI"};
    doc_table(d, head, 6);
    for (size_t i = 0; i < s->nentries; i++) {
        const mult_entry *e = &s->entries[i];
        if (e->bench != bi)
            continue;
        char cb[48], au[48], g[48], ci[112];
        const char *cells[] = {e->model, e->config, fmt_acc(cb, sizeof cb, e->closed_book_accuracy),
                               fmt_acc(au, sizeof au, e->accuracy), fmt_diff(g, sizeof g, e->gain),
                               fmt_ci(ci, sizeof ci, e->gain_ci_low, e->gain_ci_high, fmt_diff)};
        doc_row(d, cells);
    }
    doc_table_end(d);
}

static void mult_table(doc *d, const mult_study *s, size_t bi)
{
    static const char *const head[] = {"configuration", "model", "compute", "accuracy", "effective compute",
                                       "multiplier", "95% CI", "check: effective compute", "check: multiplier",
                                       "note"};
    doc_table(d, head, 10);
    for (size_t i = 0; i < s->nentries; i++) {
        const mult_entry *e = &s->entries[i];
        if (e->bench != bi)
            continue;
        char c[48], a[48], ec[48], m[48], ci[112], ie[48], im[48];
        const char *iec = isnan(e->interp_effective_compute) ? "outside range"
                                                             : fmt_sci(ie, sizeof ie, e->interp_effective_compute);
        const char *imc = isnan(e->interp_multiplier) ? "outside range" : fmt_mult(im, sizeof im, e->interp_multiplier);
        const char *cells[] = {e->config, e->model, fmt_sci(c, sizeof c, e->compute), fmt_acc(a, sizeof a, e->accuracy),
                               fmt_sci(ec, sizeof ec, e->effective_compute), fmt_mult(m, sizeof m, e->multiplier),
                               fmt_ci(ci, sizeof ci, e->ci_low, e->ci_high, fmt_mult), iec, imc, entry_note(e)};
        doc_row(d, cells);
    }
    doc_table_end(d);
}

static void contam_section(doc *d, const mult_report_opts *o)
{
    const mult_contam *c = o->contam;
    char t[1024], a[48], b[48];
    doc_heading(d, 2, "Contamination");
    snprintf(t, sizeof t, "Audit %s%s%s%s%s.", o->contam_dir ? o->contam_dir : "", c->bench ? " of " : "",
             c->bench ? c->bench : "", o->planted_path ? "; planted items listed in " : "",
             o->planted_path ? o->planted_path : "");
    doc_para(d, t);
    static const char *const head[] = {"measure", "value"};
    doc_table(d, head, 2);
    snprintf(t, sizeof t, "%zu", c->items);
    doc_row(d, (const char *const[]){"items audited", t});
    if (c->has_planted) {
        snprintf(t, sizeof t, "%zu (%s)", c->planted, fmt_acc(a, sizeof a, share(c->planted, c->items)));
        doc_row(d, (const char *const[]){"planted (share of items)", t});
    }
    snprintf(t, sizeof t, "%zu (%s)", c->flagged, fmt_acc(a, sizeof a, share(c->flagged, c->items)));
    doc_row(d, (const char *const[]){"flagged by the audit (share of items)", t});
    if (c->has_planted) {
        snprintf(t, sizeof t, "%zu", c->flagged_planted);
        doc_row(d, (const char *const[]){"flagged and planted", t});
        doc_row(d, (const char *const[]){"precision (flagged and planted / flagged)",
                                         fmt_acc(a, sizeof a, c->precision)});
        doc_row(d, (const char *const[]){"recall (flagged and planted / planted)", fmt_acc(b, sizeof b, c->recall)});
        doc_row(d, (const char *const[]){"audit agrees with the planted list (same set)", c->agree ? "yes" : "no"});
        snprintf(t, sizeof t, "%zu", c->planted_unknown);
        doc_row(d, (const char *const[]){"planted ids not in the benchmark (ignored)", t});
    }
    doc_table_end(d);
}

static void report_body(doc *d, const mult_study *s, const mult_report_opts *o)
{
    char t[1024];
    doc_heading(d, 1, o && o->title ? o->title : DEFAULT_TITLE);
    snprintf(t, sizeof t,
             "mnemo %s. Effective compute: the pre-training compute at which the closed-book sigmoid reaches "
             "an augmented configuration's accuracy; multiplier = effective compute / the model's compute. "
             "Intervals: %zu paired bootstrap resamples of the items (seed %llu), %g%% percentile intervals; "
             "the check column inverts the isotonic (monotone) interpolation of the family instead of the fit.",
             MNEMO_VERSION, s->opts.resamples, (unsigned long long)s->opts.seed, 100 * s->opts.level);
    doc_para(d, t);
    for (size_t i = 0; i < s->nbench; i++) {
        const mult_bench *b = &s->bench[i];
        snprintf(t, sizeof t, "Benchmark %s", b->benchmark);
        doc_heading(d, 2, t);
        bench_fit_para(d, b);
        doc_heading(d, 3, "Closed-book accuracy vs compute");
        family_table(d, b);
        if (d->html) {
            html_printf(d->b, "<figure>\n");
            bench_chart(d->b, s, i);
            html_printf(d->b, "<figcaption>Accuracy against pre-training compute: the closed-book family "
                              "(95%% intervals), the fitted sigmoid (dashed outside the family), the monotone "
                              "check, and each configuration, with a dotted line to its effective "
                              "compute.</figcaption>\n</figure>\n");
        }
        doc_heading(d, 3, "Gain from each augmentation");
        gain_table(d, s, i);
        doc_heading(d, 3, "Compute multipliers");
        mult_table(d, s, i);
    }
    if (o && o->contam)
        contam_section(d, o);
}

void mult_report_markdown(wbuf *b, const mult_study *s, const mult_report_opts *o)
{
    doc d = {.b = b, .html = 0};
    report_body(&d, s, o);
}

void mult_report_html(wbuf *b, const mult_study *s, const mult_report_opts *o)
{
    doc d = {.b = b, .html = 1};
    html_page_begin(b, o && o->title ? o->title : DEFAULT_TITLE, "td{white-space:nowrap}");
    report_body(&d, s, o);
    html_page_end(b);
}

/* ------------------------------------------------------------ files */

static int write_file(const char *dir, const char *name, const char *data, size_t n, mn_err *err)
{
    strbuf p = {0};
    strbuf_puts(&p, dir);
    strbuf_puts(&p, "/");
    strbuf_puts(&p, name);
    outfile o;
    int rc = outfile_open(&o, p.p, err);
    if (!rc && (rc = outfile_write(&o, data, n, err)))
        outfile_abort(&o);
    else if (!rc)
        rc = outfile_commit(&o, err);
    free(p.p);
    return rc;
}

int mult_report_write(const char *out_dir, const mult_study *s, const mult_report_opts *o, mn_err *err)
{
    int rc = make_dirs(out_dir, err);
    if (rc)
        return rc;
    char *json = mult_report_json(s, o);
    wbuf md = {0}, html = {0};
    mult_report_markdown(&md, s, o);
    mult_report_html(&html, s, o);
    rc = write_file(out_dir, "multiplier.json", json, strlen(json), err);
    if (!rc)
        rc = write_file(out_dir, "report.md", md.p, md.n, err);
    if (!rc)
        rc = write_file(out_dir, "report.html", html.p, html.n, err);
    free(json);
    free(md.p);
    free(html.p);
    return rc;
}
