/* config.h — a Hugging Face config.json, read into one plain struct.
 *
 * Reads both layouts found in the wild: transformers 4.x (top-level
 * rope_theta, rope_scaling, rotary_pct, rotary_emb_base, torch_dtype) and
 * transformers 5 (rope_parameters {rope_type, rope_theta,
 * partial_rotary_factor, llama3 factors}, dtype).  Supported architectures:
 * LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, GPTNeoXForCausalLM.
 * Anything else, and any config feature the engine does not implement
 * (another rope_type, sliding windows, another activation...), is an
 * MN_EUNSUPPORTED error that names it.
 *
 * Dimension letters (used in all numeric code): T tokens, C model width,
 * H query heads, KV key/value heads, D head size, F MLP width, V vocab,
 * L layers.
 */
#ifndef MNEMO_MODEL_CONFIG_H
#define MNEMO_MODEL_CONFIG_H

#include <jansson.h>

#include "util/err.h" /* mn_err */

typedef enum mn_arch {
    ARCH_LLAMA,   /* LlamaForCausalLM */
    ARCH_QWEN2,   /* Qwen2ForCausalLM: q/k/v biases */
    ARCH_QWEN3,   /* Qwen3ForCausalLM: q_norm/k_norm */
    ARCH_GPTNEOX, /* GPTNeoXForCausalLM (Pythia) */
} mn_arch;

typedef enum mn_norm { NORM_RMS, NORM_LAYER } mn_norm;
typedef enum mn_act { ACT_SILU_GLU, ACT_GELU_ERF } mn_act; /* SwiGLU MLP / exact-erf GELU MLP */
typedef enum mn_rope_type { ROPE_DEFAULT, ROPE_LLAMA3, ROPE_LINEAR } mn_rope_type;

typedef struct mn_config {
    mn_arch arch;
    char arch_name[64];   /* "LlamaForCausalLM" ... */
    char dtype[16];       /* "float32" / "bfloat16" / "float16" from dtype|torch_dtype, "" if absent */
    int V, C, L, H, KV, D, F;
    int max_pos;          /* max_position_embeddings */
    mn_norm norm;
    float norm_eps;       /* rms_norm_eps | layer_norm_eps */
    mn_act act;           /* hidden_act: silu -> ACT_SILU_GLU, gelu -> ACT_GELU_ERF */
    int qkv_bias;         /* Qwen2 always; Llama attention_bias; NeoX attention_bias (default true) */
    int o_bias;           /* Llama attention_bias; NeoX attention_bias; Qwen2/3 never */
    int mlp_bias;         /* Llama mlp_bias; NeoX always */
    int qk_norm;          /* Qwen3 */
    int tie_embeddings;   /* tie_word_embeddings (default: false for NeoX, as transformers) */
    int parallel_residual;/* NeoX use_parallel_residual (default true) */
    /* RoPE, rotate-half convention on the first rotary_dim dims of each head */
    int rotary_dim;       /* int(D * partial_rotary_factor), even */
    double rope_theta;
    mn_rope_type rope_type;
    double rope_factor;           /* llama3 / linear */
    double rope_low_freq_factor;  /* llama3 */
    double rope_high_freq_factor; /* llama3 */
    int rope_original_max_pos;    /* llama3 original_max_position_embeddings */
    int bos_id, eos_id;   /* -1 when null/absent (first of a list for eos) */
} mn_config;

/* Parse dir/config.json (path is the file) into *cfg (zeroed first).
 * The architecture comes from "architectures"[0], else "model_type".
 * Absent keys take transformers' defaults (num_key_value_heads = H,
 * head_dim = C/H, NeoX: use_parallel_residual and attention_bias true,
 * rotary_pct 0.25; tie_word_embeddings false).  Every message names the
 * key.  Errors: MN_EIO; MN_EFORMAT for malformed values ("PATH: key
 * 'hidden_size': value -64 is outside [1, 1048576]", wrong JSON types, H not
 * dividing C, KV not dividing H, odd rotary dims, missing llama3 factors);
 * MN_EUNSUPPORTED ("PATH: key 'architectures': architecture
 * 'MistralForCausalLM' is not supported (supported: ...)", rope types other
 * than default/llama3/linear, hidden_act other than silu (Llama/Qwen) or
 * exact "gelu" (NeoX), use_sliding_window with a window below
 * max_position_embeddings, non-full layer_types, quantization_config). */
int config_load(const char *path, mn_config *cfg, mn_err *err);

/* The same from an already parsed object; `what` names it in messages. */
int config_from_json(const char *what, const json_t *root, mn_config *cfg, mn_err *err);

/* Inverse RoPE frequencies in float64: inv_freq (out, rotary_dim/2
 * doubles) = 1 / theta^(2i / rotary_dim), then llama3/linear scaling
 * applied exactly as transformers' _compute_llama3_parameters /
 * _compute_linear_scaling_rope_parameters. */
void config_rope_inv_freq(const mn_config *cfg, double *inv_freq);

#endif
