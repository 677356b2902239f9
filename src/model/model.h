/* model.h — a decoder checkpoint loaded for inference: the parsed config and
 * every weight as a float32 matrix.
 *
 * F32 tensors are used in place from the mmap (zero copy, so a 500 MB
 * checkpoint costs no extra memory); F16/BF16 tensors are widened to f32
 * copies owned by the model.  GPT-NeoX's fused query_key_value, laid out per
 * head as [q_h | k_h | v_h], is split at load into the wq/wk/wv blocks used
 * by every architecture.  Shapes are checked against the config: a tensor
 * that is missing, has another shape or dtype is an error naming it.
 *
 * Weight matrices keep Hugging Face's nn.Linear layout, [out, in] row-major,
 * so y = x W^T.
 */
#ifndef MNEMO_MODEL_MODEL_H
#define MNEMO_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"      /* mn_config */
#include "model/safetensors.h" /* st_model */
#include "util/err.h"          /* mn_err */

typedef struct layer_weights {
    const float *attn_norm_w, *attn_norm_b; /* [C]; _b NULL for RMSNorm */
    const float *wq, *wk, *wv;              /* [H*D, C], [KV*D, C], [KV*D, C] */
    const float *bq, *bk, *bv;              /* [H*D], [KV*D], [KV*D] or NULL */
    const float *q_norm_w, *k_norm_w;       /* [D] (Qwen3) or NULL */
    const float *wo, *bo;                   /* [C, H*D], [C] or NULL */
    const float *mlp_norm_w, *mlp_norm_b;   /* [C]; _b NULL for RMSNorm */
    const float *w_gate, *b_gate;           /* [F, C], [F]; NULL for GELU MLPs */
    const float *w_up, *b_up;               /* [F, C], [F] or NULL */
    const float *w_down, *b_down;           /* [C, F], [C] or NULL */
} layer_weights;

typedef struct model {
    mn_config cfg;
    const float *tok_emb;                   /* [V, C] */
    layer_weights *layers;                  /* [L] */
    const float *final_norm_w, *final_norm_b; /* [C]; _b NULL for RMSNorm */
    const float *lm_head;                   /* [V, C]; == tok_emb when tied */
    double *rope_inv_freq;                  /* [rotary_dim / 2] */
    char *dir;                              /* checkpoint directory (owned) */
    /* owned internals: the mapping and the widened copies */
    st_model *st;
    float **owned;
    int n_owned;
    size_t owned_bytes;                     /* bytes of widened/split copies */
    size_t n_params;                        /* parameters bound (a tied lm_head counted once) */
    const char **ignored;                   /* [n_ignored] checkpoint tensors not used (names
                                               borrowed from st): buffers such as
                                               rotary_emb.inv_freq, a tied lm_head.weight, or
                                               tensors this architecture does not have */
    int n_ignored;
} model;

/* Load dir/config.json and the safetensors checkpoint in dir (see
 * st_open_dir) and bind every weight the config calls for by its Hugging
 * Face name.  A tied lm_head uses tok_emb (a stored lm_head.weight is then
 * ignored, as transformers does).  Errors: MN_EIO, MN_EFORMAT,
 * MN_EUNSUPPORTED (a tensor dtype other than F32/F16/BF16, naming the
 * tensor), MN_EMISMATCH (a missing tensor, or "model.safetensors: tensor
 * 'model.layers.0.self_attn.q_proj.weight': shape [64, 32] but config says
 * [64, 64]"), MN_ENOMEM ("... needs 12.0 MiB for a float32 copy").
 * Caller frees *out with model_free(). */
int model_load(const char *dir, model **out, mn_err *err);
/* Free the copies and unmap the checkpoint; every weight pointer dies.
 * NULL is ok. */
void model_free(model *m);

/* Bytes of weights as float32 (parameter count x 4). */
size_t model_f32_bytes(const model *m);

/* Check that every id in ids[0..n) is in [0, V).  Errors: MN_ERANGE
 * ("WHAT: token 3: id 700 >= vocab size 512", the position 1-based as in
 * parse_id_list). */
int model_check_ids(const model *m, const int32_t *ids, size_t n, const char *what, mn_err *err);

#endif
