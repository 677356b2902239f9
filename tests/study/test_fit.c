/* test_fit.c — study/fit.c: sigmoid least squares on curves with known
 * answers, its inverse, and the isotonic (monotone) check. */
#include "study/fit.h"

#include <math.h>

#include "test.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static double sig(double floor, double ceil_, double x0, double k, double x)
{
    return floor + (ceil_ - floor) / (1 + exp(-k * (x - x0)));
}

/* Exact sigmoid data: the fit recovers x0 and k, the inverse is exact, and
 * the multiplier of a model whose accuracy equals the curve 1.5 decades to
 * its right is 10^1.5. */
static void test_fit_exact_sigmoid_recovered(void)
{
    double x[7], y[7];
    for (int i = 0; i < 7; i++) {
        x[i] = 17 + i;
        y[i] = sig(0.25, 1, 20, 1.5, x[i]);
    }
    fit_sigmoid f;
    mn_err err = {0};
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 7, 0.25, 1, &f, &err), 0);
    CHECK_MSG(NEAR(f.x0, 20, 1e-6) && NEAR(f.k, 1.5, 1e-6), "x0 %.9g k %.9g", f.x0, f.k);
    CHECK(f.converged);
    CHECK(f.rmse < 1e-8);
    int flag;
    double xi = fit_sigmoid_inverse(&f, 0.8, &flag);
    CHECK_EQ_INT(flag, FIT_INV_OK);
    CHECK_MSG(NEAR(xi, 20 + log(0.55 / 0.2) / 1.5, 1e-6), "inverse %.9g", xi);
    /* a model at 1e19 FLOPs reaching the accuracy of 10^20.5 FLOPs */
    double a = sig(0.25, 1, 20, 1.5, 20.5);
    double mult = pow(10.0, fit_sigmoid_inverse(&f, a, NULL) - 19);
    CHECK_MSG(NEAR(mult / pow(10.0, 1.5), 1, 1e-6), "multiplier %.9g", mult);
}

/* Deterministic noise of +-0.01: parameters within tolerance, and the same
 * bits on a second call. */
static void test_fit_noisy_within_tolerance(void)
{
    double x[9], y[9];
    for (int i = 0; i < 9; i++) {
        x[i] = 16 + 0.75 * i;
        y[i] = sig(0.25, 1, 19, 2, x[i]) + (i % 2 ? 0.01 : -0.01) * ((i % 3) ? 1 : 0.5);
    }
    fit_sigmoid f, g;
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 9, 0.25, 1, &f, NULL), 0);
    CHECK_MSG(NEAR(f.x0, 19, 0.05) && NEAR(f.k, 2, 0.3), "x0 %.6g k %.6g", f.x0, f.k);
    CHECK(f.rmse < 0.015);
    CHECK(f.converged);
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 9, 0.25, 1, &g, NULL), 0);
    CHECK(memcmp(&f, &g, sizeof f) == 0);
}

/* Non-monotone data: the fit still gives a rising curve, the check pools
 * the violating pair (0.45, 0.40) into 0.425. */
static void test_fit_non_monotone(void)
{
    double x[] = {18, 19, 20, 21}, y[] = {0.30, 0.45, 0.40, 0.70};
    fit_sigmoid f;
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 4, 0.25, 1, &f, NULL), 0);
    CHECK(f.k > 0 && isfinite(f.x0) && f.converged);
    /* the global minimum, found by a brute-force grid (x0 step 0.05, k step 0.01) */
    CHECK_MSG(NEAR(f.x0, 20.80, 0.03) && NEAR(f.k, 0.914, 0.01) && NEAR(f.rmse, 0.06452, 1e-4),
              "x0 %.6g k %.6g rmse %.6g", f.x0, f.k, f.rmse);
    CHECK(fit_sigmoid_eval(&f, 18) < fit_sigmoid_eval(&f, 21));
    fit_monotone m;
    fit_monotone_build(x, y, 4, &m);
    CHECK_EQ_INT(m.m, 4);
    CHECK(NEAR(m.y[0], 0.30, 1e-12) && NEAR(m.y[1], 0.425, 1e-12) && NEAR(m.y[2], 0.425, 1e-12) &&
          NEAR(m.y[3], 0.70, 1e-12));
    int flag;
    /* the flat stretch 19..20 at 0.425: its lowest x */
    double xi = fit_monotone_inverse(&m, 0.425, &flag);
    CHECK_EQ_INT(flag, FIT_INV_OK);
    CHECK_MSG(NEAR(xi, 19, 1e-12), "%.12g", xi);
    xi = fit_monotone_inverse(&m, 0.5, &flag);
    CHECK_MSG(NEAR(xi, 20 + 0.075 / 0.275, 1e-12), "%.12g", xi);
    xi = fit_monotone_inverse(&m, 0.3625, &flag); /* half-way up the first segment */
    CHECK_MSG(NEAR(xi, 18.5, 1e-12), "%.12g", xi);
    CHECK(NEAR(fit_monotone_eval(&m, 20.5), 0.5625, 1e-12));
    CHECK(isnan(fit_monotone_eval(&m, 17.9)));
    fit_monotone_free(&m);
}

/* PAV by hand: unweighted and weighted, and unsorted input with ties. */
static void test_fit_isotonic_pav_by_hand(void)
{
    double y[] = {1, 3, 2, 2, 5}, out[5];
    fit_isotonic_pav(y, NULL, 5, out);
    CHECK(out[0] == 1 && NEAR(out[1], 7.0 / 3, 1e-12) && NEAR(out[2], 7.0 / 3, 1e-12) &&
          NEAR(out[3], 7.0 / 3, 1e-12) && out[4] == 5);
    double yw[] = {1, 3, 2}, w[] = {1, 1, 3};
    fit_isotonic_pav(yw, w, 3, out);
    CHECK(out[0] == 1 && NEAR(out[1], 2.25, 1e-12) && NEAR(out[2], 2.25, 1e-12));
    double z[] = {4, 3, 2, 1};
    fit_isotonic_pav(z, NULL, 4, z); /* in place, all pooled */
    CHECK(z[0] == 2.5 && z[3] == 2.5);
    /* unsorted with a tie at x = 2: (0.6 + 0.2) / 2 = 0.4 weighs 2 against 0.5 at x = 1 */
    double x[] = {2, 1, 2, 3}, yy[] = {0.6, 0.5, 0.2, 0.9};
    fit_monotone m;
    fit_monotone_build(x, yy, 4, &m);
    CHECK_EQ_INT(m.m, 3);
    CHECK(m.x[0] == 1 && m.x[1] == 2 && m.x[2] == 3);
    CHECK_MSG(NEAR(m.y[0], 1.3 / 3, 1e-12) && NEAR(m.y[1], 1.3 / 3, 1e-12) && m.y[2] == 0.9, "%g %g %g", m.y[0],
              m.y[1], m.y[2]);
    fit_monotone_free(&m);
}

/* Targets beyond the family and beyond floor / ceiling. */
static void test_fit_targets_outside(void)
{
    double x[] = {18, 19, 20}, y[7];
    for (int i = 0; i < 3; i++)
        y[i] = sig(0.25, 1, 19.5, 1, x[i]);
    fit_sigmoid f;
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 3, 0.25, 1, &f, NULL), 0);
    fit_monotone m;
    fit_monotone_build(x, y, 3, &m);
    int flag;
    /* above the family's best, below the ceiling: the fit extrapolates, the check does not */
    double t = 0.5 * (y[2] + 1);
    double xs = fit_sigmoid_inverse(&f, t, &flag);
    CHECK(flag == FIT_INV_OK && xs > 20 && isfinite(xs));
    CHECK(NEAR(xs, 19.5 + log((t - 0.25) / (1 - t)), 1e-6));
    CHECK(isnan(fit_monotone_inverse(&m, t, &flag)) && flag == FIT_INV_ABOVE);
    /* below the family's worst, above the floor */
    t = 0.5 * (y[0] + 0.25);
    xs = fit_sigmoid_inverse(&f, t, &flag);
    CHECK(flag == FIT_INV_OK && xs < 18);
    CHECK(isnan(fit_monotone_inverse(&m, t, &flag)) && flag == FIT_INV_BELOW);
    /* at / beyond the ceiling and the floor */
    CHECK(fit_sigmoid_inverse(&f, 1.0, &flag) == INFINITY && flag == FIT_INV_ABOVE);
    CHECK(fit_sigmoid_inverse(&f, 1.2, &flag) == INFINITY && flag == FIT_INV_ABOVE);
    CHECK(fit_sigmoid_inverse(&f, 0.25, &flag) == -INFINITY && flag == FIT_INV_BELOW);
    CHECK(fit_sigmoid_inverse(&f, 0.1, &flag) == -INFINITY && flag == FIT_INV_BELOW);
    /* the family's own ends are inside the check's range */
    CHECK(NEAR(fit_monotone_inverse(&m, y[2], &flag), 20, 1e-12) && flag == FIT_INV_OK);
    CHECK(NEAR(fit_monotone_inverse(&m, y[0], &flag), 18, 1e-12) && flag == FIT_INV_OK);
    fit_monotone_free(&m);
    /* a flat sigmoid reaches only its midpoint */
    fit_sigmoid flat = {.floor = 0, .ceiling = 1, .x0 = 3, .k = 0};
    CHECK(fit_sigmoid_inverse(&flat, 0.5, &flag) == 3 && flag == FIT_INV_OK);
    CHECK(fit_sigmoid_inverse(&flat, 0.6, &flag) == INFINITY && flag == FIT_INV_ABOVE);
    CHECK(fit_sigmoid_inverse(&flat, 0.4, &flag) == -INFINITY && flag == FIT_INV_BELOW);
}

/* Flat data: a finite fit that describes it, and the check's inverse at the
 * flat value is the family's lowest x. */
static void test_fit_flat_data(void)
{
    double x[] = {18, 19, 20, 21}, y[] = {0.4, 0.4, 0.4, 0.4};
    fit_sigmoid f;
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 4, 0.25, 1, &f, NULL), 0);
    CHECK(isfinite(f.x0) && isfinite(f.k) && f.k >= 0 && isfinite(f.rmse));
    CHECK_MSG(f.rmse < 0.03, "rmse %g", f.rmse);
    for (int i = 0; i < 4; i++)
        CHECK(NEAR(fit_sigmoid_eval(&f, x[i]), 0.4, 0.06));
    fit_monotone m;
    fit_monotone_build(x, y, 4, &m);
    int flag;
    CHECK(fit_monotone_inverse(&m, 0.4, &flag) == 18 && flag == FIT_INV_OK);
    CHECK(isnan(fit_monotone_inverse(&m, 0.41, &flag)) && flag == FIT_INV_ABOVE);
    fit_monotone_free(&m);
    /* flat at chance: the best sigmoid stays at the floor */
    double yc[] = {0.25, 0.25, 0.25, 0.25};
    CHECK_EQ_INT(fit_sigmoid_lsq(x, yc, 4, 0.25, 1, &f, NULL), 0);
    CHECK_MSG(f.rmse < 0.01, "rmse %g", f.rmse);
}

/* Two points determine the sigmoid: closed form. */
static void test_fit_two_points(void)
{
    double x[] = {18, 20}, y[] = {0.4, 0.7};
    /* p = 0.2 and 0.6: logits log(0.25) and log(1.5) */
    double z0 = log(0.25), z1 = log(1.5), k = (z1 - z0) / 2, x0 = 18 - z0 / k;
    fit_sigmoid f;
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 2, 0.25, 1, &f, NULL), 0);
    CHECK_MSG(NEAR(f.k, k, 1e-6) && NEAR(f.x0, x0, 1e-6), "k %.9g (%.9g) x0 %.9g (%.9g)", f.k, k, f.x0, x0);
    CHECK(f.rmse < 1e-8);
    /* a step beyond the floor and ceiling: k at its bound, still finite */
    double ys[] = {0.25, 1.0};
    CHECK_EQ_INT(fit_sigmoid_lsq(x, ys, 2, 0.25, 1, &f, NULL), 0);
    CHECK(isfinite(f.k) && isfinite(f.x0) && f.k <= 100.0 / 2 + 1e-9 && f.rmse < 0.01);
}

static void test_fit_bad_input(void)
{
    double x[] = {19, 19, 19}, y[] = {0.3, 0.4, 0.5};
    fit_sigmoid f;
    mn_err err = {0};
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 3, 0.25, 1, &f, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "same x");
    CHECK_EQ_INT(fit_sigmoid_lsq(x, y, 1, 0.25, 1, &f, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "need at least 2");
    double x2[] = {18, 19};
    CHECK_EQ_INT(fit_sigmoid_lsq(x2, y, 2, 0.5, 0.5, &f, &err), MN_ERANGE);
    double yn[] = {0.3, NAN};
    CHECK_EQ_INT(fit_sigmoid_lsq(x2, yn, 2, 0.25, 1, &f, &err), MN_ERANGE);
}

TEST_MAIN(TEST(test_fit_exact_sigmoid_recovered), TEST(test_fit_noisy_within_tolerance),
          TEST(test_fit_non_monotone), TEST(test_fit_isotonic_pav_by_hand), TEST(test_fit_targets_outside),
          TEST(test_fit_flat_data), TEST(test_fit_two_points), TEST(test_fit_bad_input))
