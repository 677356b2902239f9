/* embed.h — a sequence's embedding from a decoder: the final hidden states
 * (after the final norm) pooled over the sequence and L2-normalised.
 *
 * Pooling "last" takes the last token's state (decoder embedding models such
 * as Qwen3-Embedding), "mean" averages all tokens.
 */
#ifndef MNEMO_MODEL_EMBED_H
#define MNEMO_MODEL_EMBED_H

#include <stdint.h>

#include "model/forward.h" /* engine */
#include "util/err.h"      /* mn_err */

typedef enum embed_pooling { EMBED_POOL_LAST, EMBED_POOL_MEAN } embed_pooling;

/* Clear slot and embed ids[0..n) (n >= 1) into out [C] (unit L2 norm; all
 * zeros stays zeros).  Errors: those of engine_forward, MN_ENOMEM. */
int engine_embed(engine *e, int slot, const int32_t *ids, int n, embed_pooling pool, float *out,
                 mn_err *err);

#endif
