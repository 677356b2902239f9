/* sampler.h — choosing the next token from a row of logits: greedy argmax,
 * or sampling with temperature, top-k and top-p (nucleus) from a seeded
 * random generator.
 *
 * The filters apply in transformers' order (temperature, then top-k, then
 * top-p); a sampler with the same seed and the same logits draws the same
 * tokens on every machine.  Stop strings need the tokenizer and are the
 * caller's business (see generate.h).
 * Non-goals: repetition penalties, min-p, typical sampling, beam search.
 */
#ifndef MNEMO_MODEL_SAMPLER_H
#define MNEMO_MODEL_SAMPLER_H

#include <stdint.h>

#include "util/err.h" /* mn_err */

/* xoshiro256** (Blackman & Vigna): small state, 2^256 - 1 period, seeded
 * through splitmix64 so that nearby seeds give unrelated streams. */
typedef struct rng {
    uint64_t s[4];
} rng;

void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(rng *r);

typedef struct sampler_params {
    double temperature; /* 0: greedy (argmax; top_k, top_p and seed unused); else > 0 */
    int top_k;          /* keep the k most likely tokens; 0: off */
    double top_p;       /* keep the smallest most-likely set with probability >= top_p;
                           1: off; in (0, 1] */
    uint64_t seed;
} sampler_params;

/* Greedy decoding: temperature 0, top_k 0, top_p 1, seed 0. */
sampler_params sampler_params_greedy(void);

typedef struct sampler sampler;

/* A sampler for vocabulary size V.  Errors: MN_ERANGE ("sampler: top_p 1.5
 * outside (0, 1]", a negative temperature or top_k, V <= 0).  Free with
 * sampler_free(). */
int sampler_create(const sampler_params *p, int V, sampler **out, mn_err *err);
void sampler_free(sampler *s);

/* Draw a token id from logits [V] (read only).  Greedy: the first index of
 * the maximum (torch.argmax).  Advances the random state. */
int sampler_sample(sampler *s, const float *logits);

#endif
