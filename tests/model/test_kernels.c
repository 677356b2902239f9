/* test_kernels.c — norms, RoPE, softmax, exp and activations against
 * double-precision formulas (the transformers expressions of kernels.h). */
#include "test.h"

#include <stdint.h>

#include "model/kernels.h"

static float frand(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) * (1.0 / 16777216.0) * 2.0 - 1.0);
}

/* exp over the softmax range and beyond: within 3 ulp of exp() in double;
 * the clamp keeps huge negative inputs at a harmless tiny value. */
static void test_kernels_exp_accuracy(void)
{
    enum { N = 20001 };
    static float x[N], orig[N];
    for (int i = 0; i < N; i++)
        orig[i] = x[i] = -87.0f + 175.0f * i / (N - 1);
    kernel_exp_shifted(x, N, 0.0f);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double want = exp((double)orig[i]), rel = fabs(x[i] - want) / want;
        worst = rel > worst ? rel : worst;
    }
    printf("  exp: max rel err %.3g (%.2f ulp)\n", worst, worst / 5.96e-8);
    CHECK(worst < 3 * 5.96e-8);
    float tiny[3] = {-1000.0f, -90.0f, 0.0f};
    double sum = kernel_exp_shifted(tiny, 3, 0.0f);
    CHECK(tiny[0] >= 0.0f && tiny[0] < 1e-37f && tiny[1] < 1e-37f && tiny[2] == 1.0f);
    CHECK(fabs(sum - 1.0) < 1e-30 + 1e-12);
}

static void test_kernels_softmax_sums_to_one_and_is_shift_invariant(void)
{
    float a[300], b[300];
    uint32_t s = 3;
    for (int i = 0; i < 300; i++) {
        a[i] = roundf(20.0f * 64.0f * frand(&s)) / 64.0f; /* so that + 1000 is exact */
        b[i] = a[i] + 1000.0f;                             /* overflows without the max shift */
    }
    kernel_softmax(a, 300);
    kernel_softmax(b, 300);
    double sum = 0;
    for (int i = 0; i < 300; i++) {
        sum += a[i];
        CHECK(fabs(a[i] - b[i]) <= 1e-6 * a[i] + 1e-12);
    }
    CHECK(fabs(sum - 1.0) < 1e-5);
    float one[1] = {-3.0f};
    kernel_softmax(one, 1);
    CHECK(one[0] == 1.0f);
}

static void test_kernels_rmsnorm_and_layernorm(void)
{
    enum { T = 3, C = 37 };
    float x[T * C], w[C], b[C], out[T * C];
    uint32_t s = 11;
    for (int i = 0; i < T * C; i++)
        x[i] = 3.0f * frand(&s);
    for (int c = 0; c < C; c++) {
        w[c] = 1.0f + 0.3f * frand(&s);
        b[c] = 0.2f * frand(&s);
    }
    kernel_rmsnorm(out, x, w, T, C, 1e-5f);
    for (int t = 0; t < T; t++) {
        double ms = 0;
        for (int c = 0; c < C; c++)
            ms += (double)x[t * C + c] * x[t * C + c] / C;
        for (int c = 0; c < C; c++)
            CHECK(fabs(out[t * C + c] - x[t * C + c] / sqrt(ms + 1e-5) * w[c]) < 1e-5);
    }
    kernel_layernorm(out, x, w, b, T, C, 1e-5f);
    for (int t = 0; t < T; t++) {
        double mean = 0, var = 0;
        for (int c = 0; c < C; c++)
            mean += x[t * C + c] / (double)C;
        for (int c = 0; c < C; c++)
            var += (x[t * C + c] - mean) * (x[t * C + c] - mean) / C;
        for (int c = 0; c < C; c++)
            CHECK(fabs(out[t * C + c] - ((x[t * C + c] - mean) / sqrt(var + 1e-5) * w[c] + b[c])) < 1e-5);
    }
    kernel_rmsnorm(out, x, w, T, C, 1e-5f);
    kernel_rmsnorm(x, x, w, T, C, 1e-5f); /* in place equals out of place */
    CHECK(memcmp(x, out, sizeof out) == 0);
}

/* Rotate-half on the first rotary_dim dims of each head, positions as
 * angles pos * inv_freq; the rest of each head passes through. */
static void test_kernels_rope_rotate_half_partial(void)
{
    enum { HEADS = 2, D = 8, HALF = 2, POS = 5 };
    double inv_freq[HALF] = {1.0, 0.01};
    float cos_tab[POS * HALF], sin_tab[POS * HALF], x[HEADS * D], orig[HEADS * D];
    kernel_rope_table(cos_tab, sin_tab, inv_freq, HALF, POS);
    for (int i = 0; i < HEADS * D; i++)
        orig[i] = x[i] = (float)(i + 1);
    int pos = 3;
    kernel_rope(x, HEADS, D, HALF, cos_tab + pos * HALF, sin_tab + pos * HALF);
    for (int h = 0; h < HEADS; h++) {
        const float *o = orig + h * D, *r = x + h * D;
        for (int i = 0; i < HALF; i++) {
            double a = pos * inv_freq[i];
            CHECK(fabs(r[i] - (o[i] * cos(a) - o[i + HALF] * sin(a))) < 1e-5);
            CHECK(fabs(r[i + HALF] - (o[i + HALF] * cos(a) + o[i] * sin(a))) < 1e-5);
        }
        for (int i = 2 * HALF; i < D; i++)
            CHECK(r[i] == o[i]);
    }
    CHECK(cos_tab[0] == 1.0f && sin_tab[0] == 0.0f); /* position 0 is the identity */
}

static void test_kernels_activations(void)
{
    float g[5] = {-30.0f, -1.0f, 0.0f, 0.5f, 20.0f}, up[5] = {1, 2, 3, 4, 5}, x[5];
    memcpy(x, g, sizeof x);
    kernel_silu_mul(g, up, 5);
    kernel_gelu_erf(x, 5);
    float in[5] = {-30.0f, -1.0f, 0.0f, 0.5f, 20.0f};
    for (int i = 0; i < 5; i++) {
        double v = in[i];
        CHECK(fabs(g[i] - v / (1 + exp(-v)) * up[i]) < 1e-5 * (1 + fabs(v * up[i])));
        CHECK(fabs(x[i] - 0.5 * v * (1 + erf(v / sqrt(2.0)))) < 1e-5 * (1 + fabs(v)));
    }
}

static void test_kernels_argmax_first_of_ties(void)
{
    float x[5] = {1.0f, 4.0f, -2.0f, 4.0f, 3.0f};
    CHECK_EQ_INT(kernel_argmax(x, 5), 1);
    CHECK_EQ_INT(kernel_argmax(x, 1), 0);
}

TEST_MAIN(TEST(test_kernels_exp_accuracy), TEST(test_kernels_softmax_sums_to_one_and_is_shift_invariant),
          TEST(test_kernels_rmsnorm_and_layernorm), TEST(test_kernels_rope_rotate_half_partial),
          TEST(test_kernels_activations), TEST(test_kernels_argmax_first_of_ties))
