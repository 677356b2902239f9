/* test_svg_xy.c — report/svg_xy.c: ticks at powers of ten, solid and
 * dashed runs of a curve, markers, error bars and moves, escaping, and the
 * same bytes for the same arguments. */
#include "report/svg_xy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static double half(double x, void *ctx)
{
    (void)ctx;
    return log10(x) / 20.0; /* 0.75 at 1e15, 1 at 1e20 */
}

static char *draw(void)
{
    double x[] = {1e15, 1e16, 1e17}, y[] = {0.2, 0.5, NAN}, lo[] = {0.1, 0.4, 0}, hi[] = {0.3, 0.6, 0};
    double to[] = {NAN, 1e18, NAN};
    const char *labels[] = {"a<b", NULL, NULL};
    svg_xy_points p = {.name = "fam & co", .n = 3, .x = x, .y = y, .lo = lo, .hi = hi, .x_to = to, .label = labels};
    svg_xy_curve c[2] = {
        {.name = "fit", .fn = half, .solid_lo = 1e15, .solid_hi = 1e17, .colour = -1},
        {.name = NULL, .n = 3, .x = x, .y = (double[]){0.2, 0.4, 0.6}, .solid_lo = NAN, .solid_hi = NAN},
    };
    svg_xy_chart ch = {.title = "T \"q\"", .xlabel = "compute", .ylabel = "accuracy"};
    wbuf b = {0};
    svg_xy(&b, &ch, &p, 1, c, 2);
    wb_put(&b, "", 1);
    return b.p;
}

static void test_svg_xy_structure(void)
{
    char *s = draw();
    CHECK(!strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39));
    CHECK_STR_CONTAINS(s, "</svg>\n");
    /* x range from the data: 1e15 .. 1e18 (the move's end) */
    CHECK_STR_CONTAINS(s, ">1e15</text>");
    CHECK_STR_CONTAINS(s, ">1e18</text>");
    CHECK(!strstr(s, ">1e19</text>"));
    CHECK_EQ_INT(count(s, "class=\"xtick\""), 4);
    CHECK_EQ_INT(count(s, "class=\"ytick\""), 6);
    /* the fit: solid over 1e15..1e17, dashed beyond; the check curve solid */
    CHECK_EQ_INT(count(s, "class=\"curve\""), 2);
    CHECK_EQ_INT(count(s, "class=\"curve dashed\""), 1);
    /* two points drawn (the NaN one skipped), two error bars, one move */
    CHECK_EQ_INT(count(s, "<g class=\"point\">"), 2);
    CHECK_EQ_INT(count(s, "class=\"err\""), 2);
    CHECK_EQ_INT(count(s, "class=\"move\""), 1);
    /* one legend entry per named series and curve */
    CHECK_EQ_INT(count(s, "<g class=\"key\">"), 2);
    /* escaping */
    CHECK_STR_CONTAINS(s, "<title>a&lt;b</title>");
    CHECK_STR_CONTAINS(s, "fam &amp; co: 1e+16, 0.500");
    CHECK_STR_CONTAINS(s, "T &quot;q&quot;");
    CHECK(!strstr(s, "nan") && !strstr(s, "inf"));
    char *t = draw();
    CHECK(!strcmp(s, t));
    free(s);
    free(t);
}

/* A fixed range clips points outside it and keeps ticks to the range. */
static void test_svg_xy_fixed_range(void)
{
    double x[] = {1e10, 1e20, 1e30}, y[] = {0.5, 1.5, -1};
    svg_xy_points p = {.n = 3, .x = x, .y = y, .shape = SVG_XY_DIAMOND};
    svg_xy_chart ch = {.xmin = 1e18, .xmax = 1e21};
    wbuf b = {0};
    svg_xy(&b, &ch, &p, 1, NULL, 0);
    wb_put(&b, "", 1);
    CHECK_EQ_INT(count(b.p, "<g class=\"point\">"), 1);
    CHECK_EQ_INT(count(b.p, "class=\"xtick\""), 4);
    CHECK_EQ_INT(count(b.p, "<g class=\"key\">"), 0);
    free(b.p);
}

TEST_MAIN(TEST(test_svg_xy_structure), TEST(test_svg_xy_fixed_range))
