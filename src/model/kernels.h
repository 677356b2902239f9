/* kernels.h — the element-wise and per-row operations of the transformer:
 * norms, rotary embeddings, softmax and MLP activations.
 *
 * Each function works on a [T, C] block (T rows of C contiguous floats) and
 * reproduces one Hugging Face transformers expression, named above it.
 * Reductions (norm statistics) are accumulated in double: the reference
 * fixtures were computed in float64, and a double accumulator costs nothing
 * next to the matrix products.  Matrix products live in linear.h.
 *
 * Dimension letters: T rows, C row width, D head size.
 */
#ifndef MNEMO_MODEL_KERNELS_H
#define MNEMO_MODEL_KERNELS_H

/* LlamaRMSNorm: out = x * rsqrt(mean(x^2) + eps) * w, per row.
 * x, out: [T, C] (out may equal x); w: [C]. */
void kernel_rmsnorm(float *out, const float *x, const float *w, int T, int C, float eps);

/* nn.LayerNorm: out = (x - mean) / sqrt(var + eps) * w + b, per row, with
 * the biased variance.  x, out: [T, C] (out may equal x); w, b: [C]. */
void kernel_layernorm(float *out, const float *x, const float *w, const float *b, int T, int C,
                      float eps);

/* RoPE tables for positions [0, n_pos): angle = pos * inv_freq[i], computed
 * in double and rounded to float after cos/sin (HF computes the angle in
 * float32; float64 is what the fixtures use and is closer to both).
 * inv_freq: [half]; cos_tab, sin_tab: [n_pos, half] (written). */
void kernel_rope_table(float *cos_tab, float *sin_tab, const double *inv_freq, int half, int n_pos);

/* Rotate-half RoPE (transformers apply_rotary_pos_emb) on one token's heads:
 * for each of n_heads heads of D floats in x (contiguous, [n_heads, D]) and
 * i < half = rotary_dim / 2, with x1 = x[i], x2 = x[i + half]:
 *   x[i] = x1 cos_i - x2 sin_i,   x[i + half] = x2 cos_i + x1 sin_i.
 * Dims >= rotary_dim pass through (GPT-NeoX partial rotary).  cos_row,
 * sin_row: [half], the table rows of this token's position. */
void kernel_rope(float *x, int n_heads, int D, int half, const float *cos_row, const float *sin_row);

/* Softmax of one row in place: x = exp(x - max) / sum.  n >= 1. */
void kernel_softmax(float *x, int n);

/* exp(x[i] - shift) in place for i < n; returns the sum of the results
 * (accumulated in double).  Max error about 2 ulp in float32. */
double kernel_exp_shifted(float *x, int n, float shift);

/* SwiGLU (LlamaMLP): gate = silu(gate) * up, silu(g) = g / (1 + exp(-g)).
 * gate, up: [n]. */
void kernel_silu_mul(float *gate, const float *up, long n);

/* Exact GELU (nn.GELU / ACT2FN["gelu"]): x = 0.5 x (1 + erf(x / sqrt 2)).
 * x: [n]. */
void kernel_gelu_erf(float *x, long n);

/* Row maximum, and index of its first occurrence (torch.argmax ties). */
int kernel_argmax(const float *x, int n);

#endif
