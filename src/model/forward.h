/* forward.h — the inference engine: a loaded model, its KV cache and the run
 * buffers, and one forward pass over a batch of token segments.
 *
 * A batch is a list of segments, each appending n tokens to one KV slot at
 * the slot's current length.  Prefill (one long segment), decode (one token
 * per sequence) and mixtures go through the same code: all tokens of all
 * segments pass through each weight matrix in one linear() call ([T, C]
 * blocks), and only attention looks at segments separately.  Batches larger
 * than max_batch_tokens are processed in chunks of that many tokens, so the
 * run buffers never grow with the prompt.
 *
 * Reference behaviour: Hugging Face transformers' LlamaForCausalLM,
 * Qwen2ForCausalLM, Qwen3ForCausalLM and GPTNeoXForCausalLM (eager attention)
 * in float32; tests/model/test_forward.c checks logits, hidden states, greedy
 * ids and log-likelihoods against tests/fixtures/models.
 *
 * Higher-level uses live beside it: generate.h (sampling loops), loglik.h
 * (continuation log-likelihood), embed.h (pooled embeddings).
 * Threads: set with util/threads.h before the first call; an engine is used
 * by one thread at a time.
 *
 * Dimension letters: T tokens in the batch, C model width, H query heads,
 * KV key/value heads, D head size, F MLP width, V vocab, L layers.
 */
#ifndef MNEMO_MODEL_FORWARD_H
#define MNEMO_MODEL_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "model/kvcache.h" /* kvcache, kvcache_len, kvcache_seq_copy ... */
#include "model/model.h"   /* model, mn_config */
#include "util/err.h"      /* mn_err */

typedef struct engine engine;

/* Create an engine for m (borrowed: it must outlive the engine) with
 * n_slots KV slots of max_len positions each, processing at most
 * max_batch_tokens tokens per chunk (512 is a good prefill size; run buffers
 * take about max_batch_tokens x (4C + 2H*D + 2KV*D + 2F) floats).
 * Errors: MN_ERANGE (a non-positive size), MN_ENOMEM (KV cache or buffers;
 * the message gives the size).  Free with engine_free(). */
int engine_create(const model *m, int max_batch_tokens, int n_slots, int max_len, engine **out,
                  mn_err *err);
void engine_free(engine *e);

/* The model, and the KV cache (borrowed, valid until engine_free()): use
 * kvcache_len / kvcache_set_len (0 clears a slot) / kvcache_seq_copy on it. */
const model *engine_model(const engine *e);
kvcache *engine_kv(engine *e);

/* One segment of a batch: n tokens appended to slot at its current length. */
typedef struct engine_seg {
    int slot;
    int n;              /* >= 1 */
    const int32_t *ids; /* [n], each in [0, V) */
} engine_seg;

/* engine_forward() output flags.  At most one LOGITS_* and one HIDDEN_*. */
enum {
    ENGINE_LOGITS_ALL = 1 << 0,     /* logits [T, V]: every token, in batch order */
    ENGINE_LOGITS_LAST = 1 << 1,    /* logits [n_seg, V]: last token of each segment */
    ENGINE_HIDDEN_ALL = 1 << 2,     /* hidden [L+1, T, C]: transformers output_hidden_states:
                                       0 = embeddings, i = output of layer i-1 (i < L),
                                       L = final norm of the last layer's output */
    ENGINE_HIDDEN_FINAL = 1 << 3,   /* hidden [T, C]: after the final norm */
    ENGINE_HIDDEN_PRENORM = 1 << 4, /* hidden [T, C]: last layer's output, before the final norm */
};

/* Run the model over a batch of n_seg segments (distinct slots) with
 * T = sum of seg[i].n tokens: every token attends causally to its slot's
 * cached positions and to the earlier tokens of its segment, and its keys and
 * values are appended to the slot.  logits / hidden (caller-owned, sized as
 * the flags say; NULL when not requested) receive the outputs.
 * Errors (the cache is unchanged): MN_EUSAGE (conflicting flags, missing
 * output buffer), MN_ERANGE ("segment 1: token 3: id 700 >= vocab size 512",
 * a slot out of range or used twice, a slot that would exceed max_len). */
int engine_forward(engine *e, const engine_seg *seg, int n_seg, int flags, float *logits,
                   float *hidden, mn_err *err);

#endif
