/* kernels.c — norms, RoPE, softmax and activations (see kernels.h).
 *
 * Plain loops over contiguous rows; one OpenMP pragma over rows where a
 * block is large enough to pay for waking the second thread.  Inner loops
 * carry `#pragma omp simd`: at -O2, GCC's "very cheap" vectoriser cost model
 * leaves any loop whose trip count is not a known multiple of the vector
 * width scalar (exp over a softmax row ran 8x slower), and `omp simd` also
 * lets reductions be reordered without -ffast-math.
 */
#include "model/kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Rows x width below which a kernel stays on one thread. */
#define PARALLEL_MIN (1L << 15)

/* Sums in double, vectorised (lanes are independent partial sums). */
static double sum_squares(const float *x, int n)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s;
}

static double sum_values(const float *x, int n)
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}

void kernel_rmsnorm(float *out, const float *x, const float *w, int T, int C, float eps)
{
#pragma omp parallel for if ((long)T * C >= PARALLEL_MIN)
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * C;
        float *o = out + (size_t)t * C;
        float scale = (float)(1.0 / sqrt(sum_squares(xr, C) / C + eps));
#pragma omp simd
        for (int c = 0; c < C; c++)
            o[c] = xr[c] * scale * w[c];
    }
}

void kernel_layernorm(float *out, const float *x, const float *w, const float *b, int T, int C,
                      float eps)
{
#pragma omp parallel for if ((long)T * C >= PARALLEL_MIN)
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * C;
        float *o = out + (size_t)t * C;
        double mean = sum_values(xr, C) / C;
        double var = 0.0;
#pragma omp simd reduction(+ : var)
        for (int c = 0; c < C; c++) {
            double d = xr[c] - mean;
            var += d * d;
        }
        var /= C;
        double rstd = 1.0 / sqrt(var + eps);
#pragma omp simd
        for (int c = 0; c < C; c++)
            o[c] = (float)((xr[c] - mean) * rstd) * w[c] + b[c];
    }
}

void kernel_rope_table(float *cos_tab, float *sin_tab, const double *inv_freq, int half, int n_pos)
{
    for (int p = 0; p < n_pos; p++)
        for (int i = 0; i < half; i++) {
            double angle = (double)p * inv_freq[i];
            cos_tab[(size_t)p * half + i] = (float)cos(angle);
            sin_tab[(size_t)p * half + i] = (float)sin(angle);
        }
}

void kernel_rope(float *x, int n_heads, int D, int half, const float *cos_row, const float *sin_row)
{
    for (int h = 0; h < n_heads; h++) {
        float *xh = x + (size_t)h * D;
#pragma omp simd
        for (int i = 0; i < half; i++) {
            float x1 = xh[i], x2 = xh[i + half];
            xh[i] = x1 * cos_row[i] - x2 * sin_row[i];
            xh[i + half] = x2 * cos_row[i] + x1 * sin_row[i];
        }
    }
}

/* exp(x) for float32 (Cephes expf): x = n ln2 + r with |r| <= ln2/2, a
 * degree-6 polynomial for e^r, and 2^n put into the exponent bits.  About 1.4
 * ulp; written branch-free so that loops over it vectorise (glibc's expf is
 * a function call per element).  Inputs are clamped to [-87, 88], where
 * 2^n stays a normal float; softmax only feeds it values <= 0, and e^-87
 * (1.6e-38) is 0 for every sum it joins. */
static inline float exp_approx(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* n = round(x / ln2): adding 1.5 * 2^23 rounds to an integer */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    /* r = x - n ln2, with ln2 split in two so that n * ln2_hi is exact */
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23; /* 2^n */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

double kernel_exp_shifted(float *x, int n, float shift)
{
#pragma omp simd
    for (int i = 0; i < n; i++)
        x[i] = exp_approx(x[i] - shift);
    return sum_values(x, n);
}

/* Row maximum with 16 independent lanes (GCC vectorises the fixed inner
 * loop; an `omp simd reduction(max)` is refused by clang's vectoriser). */
static float row_max(const float *x, int n)
{
    float lane[16];
    for (int j = 0; j < 16; j++)
        lane[j] = x[0];
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
    float max = lane[0];
    for (int j = 1; j < 16; j++)
        max = lane[j] > max ? lane[j] : max;
    for (; i < n; i++)
        max = x[i] > max ? x[i] : max;
    return max;
}

void kernel_softmax(float *x, int n)
{
    float max = row_max(x, n);
    float inv = (float)(1.0 / kernel_exp_shifted(x, n, max));
#pragma omp simd
    for (int i = 0; i < n; i++)
        x[i] *= inv;
}

void kernel_silu_mul(float *gate, const float *up, long n)
{
#pragma omp parallel for simd if (n >= PARALLEL_MIN)
    for (long i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + exp_approx(-g)) * up[i];
    }
}

void kernel_gelu_erf(float *x, long n)
{
#pragma omp parallel for if (n >= PARALLEL_MIN)
    for (long i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

int kernel_argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}
