/* svg_xy.h — an XY chart for reports: a log10 x axis (compute in FLOPs,
 * ticks at powers of ten labelled "1e15"), a linear y axis from 0 to 1
 * (accuracy), series of point markers with optional vertical error bars
 * and horizontal "moves" (a dotted segment from one x to another at the
 * same y), and curves (polylines through given points or sampled from a
 * function; dashed outside a given x range).
 *
 * Like report/svg.h, each call appends one complete <svg> element (SVG
 * namespace, viewBox, <title>) to a wbuf; styling is in presentation
 * attributes; every text is escaped (html_escape); numbers are printed with
 * fixed precision in the C locale, so the output depends only on the
 * arguments.
 *
 * Structure, for callers and tests that inspect it:
 *   <path class="curve" ...>         one per solid run of a curve
 *   <path class="curve dashed" ...>  one per dashed run (stroke-dasharray)
 *   <g class="point"><title>..</title><marker shape/></g>  one per drawn point
 *                                    (its title: the label, else "name: x, y")
 *   <path class="err" ...>           one per error bar
 *   <path class="move" ...>          one per horizontal move
 *   <g class="key">                  one legend entry per named series/curve
 *   <text class="xtick">1e15</text>  one per power of ten on the axis
 *   <text class="ytick">             0.0, 0.2, ... 1.0
 *   <text class="title">, <text class="xlabel">, <text class="ylabel">.
 * Points, ends of moves and curve vertices outside the axes are clipped to
 * them (a point outside the x range is not drawn).
 *
 * Non-goals: linear x axes, other y ranges, several panels, interactivity. */
#ifndef MNEMO_REPORT_SVG_XY_H
#define MNEMO_REPORT_SVG_XY_H

#include <stddef.h>

#include "util/msgbuf.h" /* wbuf */

/* What the chart looks like; {0} gives the defaults. */
typedef struct svg_xy_chart {
    const char *title;  /* above the plot and the <title>; NULL: none */
    const char *xlabel; /* under the x axis; NULL: none */
    const char *ylabel; /* beside the y axis, turned; NULL: none */
    int width, height;  /* plot area in pixels; 0: 560 x 300 */
    double xmin, xmax;  /* x range (raw units); either not > 0: from the data (points,
                           moves, curve points), widened to whole powers of ten */
} svg_xy_chart;

/* Marker shapes. */
enum { SVG_XY_CIRCLE = 0, SVG_XY_SQUARE, SVG_XY_TRIANGLE, SVG_XY_DIAMOND };

/* A series of points; arrays borrowed for the call, [n] each. */
typedef struct svg_xy_points {
    const char *name;          /* legend entry; NULL: none */
    size_t n;
    const double *x, *y;       /* x raw (> 0), y in [0, 1]; a point with x not > 0 or y NaN
                                  is skipped */
    const double *lo, *hi;     /* error bar ends, or NULL (both); NaN: no bar */
    const double *x_to;        /* or NULL: a dotted segment from x to x_to at y (NaN: none;
                                  an infinite x_to runs to the axis' end) */
    const char *const *label;  /* or NULL: each marker's <title> (NULL entries: "name: x, y") */
    int shape;                 /* SVG_XY_* */
    int colour;                /* index into the 6-colour palette of report/svg.h (cycled) */
} svg_xy_points;

/* A curve: through the n given points (x increasing), or, when x is NULL,
 * fn sampled at 121 points evenly spaced in log10 x over the axis range (and
 * at solid_lo and solid_hi).  A vertex whose y is NaN breaks the line. */
typedef struct svg_xy_curve {
    const char *name;                 /* legend entry; NULL: none */
    size_t n;
    const double *x, *y;              /* [n] or NULL */
    double (*fn)(double x, void *ctx); /* with x == NULL: y at raw x */
    void *ctx;
    double solid_lo, solid_hi;        /* segments whose middle lies outside [solid_lo, solid_hi]
                                         are dashed; NaN (either): all solid */
    int colour;                       /* palette index; negative: dark grey */
} svg_xy_curve;

/* Append the chart to b.  c may be NULL (defaults); pts[0..np) and
 * curves[0..nc) borrowed for the call.  Curves are drawn first, then the
 * moves, error bars and markers. */
void svg_xy(wbuf *b, const svg_xy_chart *c, const svg_xy_points *pts, size_t np, const svg_xy_curve *curves,
            size_t nc);

#endif
