/* config.c — Hugging Face config.json -> mn_config.
 *
 * Reads the keys the four supported architectures use, in both the
 * transformers-4 and transformers-5 layouts, applies transformers' defaults
 * for absent keys, and rejects what the engine does not implement.  Every
 * error names the key: MN_EFORMAT for a malformed value (wrong JSON type,
 * negative size, heads not dividing), MN_EUNSUPPORTED for a well-formed
 * feature we do not run (another architecture, rope_type, activation,
 * sliding-window attention, quantization).
 *
 * Non-goals: generation_config.json, tokenizer settings, training-only keys
 * (dropout, initializer_range), which are ignored.
 *
 * Dimension letters: C model width, H query heads, KV key/value heads,
 * D head size, F MLP width, V vocab, L layers.
 */
#include "model/config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/jsonfile.h" /* json_load_path */

/* Upper bounds on sizes: far above any real checkpoint, low enough that
 * every product the loader forms (V*C, 3*H*D*C, ...) fits in 64 bits and
 * that a corrupt config cannot make the loader allocate terabytes. */
#define MAX_DIM (1 << 20)  /* C, F, D */
#define MAX_VOCAB (1 << 24)
#define MAX_HEADS (1 << 14)
#define MAX_LAYERS (1 << 14)
#define MAX_POS (1 << 30)

/* ------------------------------------------------------------------ */
/* typed getters: absent or null keys keep the default                  */
/* ------------------------------------------------------------------ */

/* An integer key in [lo, hi].  Returns 1 if present, 0 if absent/null. */
static int get_int(const char *what, const json_t *obj, const char *key, const char *label,
                   long long lo, long long hi, long long *out, mn_err *err, int *rc)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v)) {
        *rc = mn_errf(err, MN_EFORMAT, "%s: key '%s': expected an integer, got %s", what, label,
                      json_is_string(v) ? "a string" : json_is_real(v) ? "a real number"
                      : json_is_boolean(v) ? "a boolean" : json_is_array(v) ? "an array" : "an object");
        return -1;
    }
    long long x = json_integer_value(v);
    if (x < lo || x > hi) {
        *rc = mn_errf(err, MN_EFORMAT, "%s: key '%s': value %lld is outside [%lld, %lld]", what, label,
                      x, lo, hi);
        return -1;
    }
    *out = x;
    return 1;
}

/* A number key (integer or real), finite and >= lo (strictly > lo when
 * strict). */
static int get_num(const char *what, const json_t *obj, const char *key, const char *label,
                   double lo, int strict, double *out, mn_err *err, int *rc)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v)) {
        *rc = mn_errf(err, MN_EFORMAT, "%s: key '%s': expected a number", what, label);
        return -1;
    }
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || (strict && x == lo)) {
        *rc = mn_errf(err, MN_EFORMAT, "%s: key '%s': value %g must be %s %g", what, label, x,
                      strict ? ">" : ">=", lo);
        return -1;
    }
    *out = x;
    return 1;
}

static int get_bool(const char *what, const json_t *obj, const char *key, int *out, mn_err *err,
                    int *rc)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        *rc = mn_errf(err, MN_EFORMAT, "%s: key '%s': expected true or false", what, key);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

/* A string key; *out borrowed from obj. */
static int get_str(const char *what, const json_t *obj, const char *key, const char *label,
                   const char **out, mn_err *err, int *rc)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        *rc = mn_errf(err, MN_EFORMAT, "%s: key '%s': expected a string", what, label);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

/* A required positive size. */
static int get_size(const char *what, const json_t *root, const char *key, long long hi, int *out,
                    mn_err *err)
{
    long long x;
    int rc = 0;
    int got = get_int(what, root, key, key, 1, hi, &x, err, &rc);
    if (got < 0)
        return rc;
    if (got == 0)
        return mn_errf(err, MN_EFORMAT, "%s: key '%s': missing (required positive integer)", what, key);
    *out = (int)x;
    return 0;
}

/* ------------------------------------------------------------------ */
/* architecture                                                         */
/* ------------------------------------------------------------------ */

static const struct {
    const char *cls, *model_type;
    mn_arch arch;
} ARCHES[] = {
    {"LlamaForCausalLM", "llama", ARCH_LLAMA},
    {"Qwen2ForCausalLM", "qwen2", ARCH_QWEN2},
    {"Qwen3ForCausalLM", "qwen3", ARCH_QWEN3},
    {"GPTNeoXForCausalLM", "gpt_neox", ARCH_GPTNEOX},
};
#define N_ARCHES (sizeof ARCHES / sizeof ARCHES[0])
#define SUPPORTED_ARCHES "LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, GPTNeoXForCausalLM"

/* "architectures"[0], else model_type. */
static int parse_arch(const char *what, const json_t *root, mn_config *cfg, mn_err *err)
{
    const json_t *a = json_object_get(root, "architectures");
    if (a && !json_is_null(a)) {
        if (!json_is_array(a) || json_array_size(a) == 0 || !json_is_string(json_array_get(a, 0)))
            return mn_errf(err, MN_EFORMAT, "%s: key 'architectures': expected a non-empty list of strings",
                           what);
        const char *name = json_string_value(json_array_get(a, 0));
        for (size_t i = 0; i < N_ARCHES; i++)
            if (strcmp(name, ARCHES[i].cls) == 0) {
                cfg->arch = ARCHES[i].arch;
                snprintf(cfg->arch_name, sizeof cfg->arch_name, "%s", ARCHES[i].cls);
                return 0;
            }
        return mn_errf(err, MN_EUNSUPPORTED, "%s: key 'architectures': architecture '%.200s' is not supported (supported: %s)",
                       what, name, SUPPORTED_ARCHES);
    }
    const char *mt = NULL;
    int rc = 0;
    if (get_str(what, root, "model_type", "model_type", &mt, err, &rc) < 0)
        return rc;
    if (!mt)
        return mn_errf(err, MN_EFORMAT, "%s: keys 'architectures' and 'model_type' both missing", what);
    for (size_t i = 0; i < N_ARCHES; i++)
        if (strcmp(mt, ARCHES[i].model_type) == 0) {
            cfg->arch = ARCHES[i].arch;
            snprintf(cfg->arch_name, sizeof cfg->arch_name, "%s", ARCHES[i].cls);
            return 0;
        }
    return mn_errf(err, MN_EUNSUPPORTED,
                   "%s: key 'model_type': model type '%.200s' is not supported (supported: llama, qwen2, qwen3, gpt_neox)",
                   what, mt);
}

/* ------------------------------------------------------------------ */
/* sizes                                                                */
/* ------------------------------------------------------------------ */

static int parse_sizes(const char *what, const json_t *root, mn_config *cfg, mn_err *err)
{
    int rc;
    if ((rc = get_size(what, root, "vocab_size", MAX_VOCAB, &cfg->V, err)) ||
        (rc = get_size(what, root, "hidden_size", MAX_DIM, &cfg->C, err)) ||
        (rc = get_size(what, root, "num_hidden_layers", MAX_LAYERS, &cfg->L, err)) ||
        (rc = get_size(what, root, "num_attention_heads", MAX_HEADS, &cfg->H, err)) ||
        (rc = get_size(what, root, "intermediate_size", MAX_DIM, &cfg->F, err)) ||
        (rc = get_size(what, root, "max_position_embeddings", MAX_POS, &cfg->max_pos, err)))
        return rc;

    long long x;
    int got;
    rc = 0;
    /* GPT-NeoX has no GQA and always derives the head size from C/H. */
    cfg->KV = cfg->H;
    if (cfg->arch != ARCH_GPTNEOX) {
        got = get_int(what, root, "num_key_value_heads", "num_key_value_heads", 1, MAX_HEADS, &x, err, &rc);
        if (got < 0)
            return rc;
        if (got)
            cfg->KV = (int)x;
        if (cfg->H % cfg->KV != 0)
            return mn_errf(err, MN_EFORMAT,
                           "%s: key 'num_key_value_heads': %d does not divide num_attention_heads %d", what,
                           cfg->KV, cfg->H);
        got = get_int(what, root, "head_dim", "head_dim", 1, MAX_DIM, &x, err, &rc);
        if (got < 0)
            return rc;
        if (got) {
            cfg->D = (int)x;
            goto check_products;
        }
    }
    if (cfg->C % cfg->H != 0)
        return mn_errf(err, MN_EFORMAT, "%s: key 'num_attention_heads': %d does not divide hidden_size %d",
                       what, cfg->H, cfg->C);
    cfg->D = cfg->C / cfg->H;
check_products:
    /* H*D is an int everywhere downstream (and 3*H*D for NeoX's fused qkv). */
    if ((long long)cfg->H * cfg->D * 3 > (1LL << 26))
        return mn_errf(err, MN_EFORMAT, "%s: key 'head_dim': %d heads x head size %d is too large", what,
                       cfg->H, cfg->D);
    return 0;
}

/* ------------------------------------------------------------------ */
/* norm, activation, biases, ids                                        */
/* ------------------------------------------------------------------ */

static int parse_layers(const char *what, const json_t *root, mn_config *cfg, mn_err *err)
{
    int rc = 0, neox = cfg->arch == ARCH_GPTNEOX;
    double eps = neox ? 1e-5 : 1e-6;
    const char *eps_key = neox ? "layer_norm_eps" : "rms_norm_eps";
    cfg->norm = neox ? NORM_LAYER : NORM_RMS;
    if (get_num(what, root, eps_key, eps_key, 0.0, 0, &eps, err, &rc) < 0)
        return rc;
    if (eps > 1.0) /* also keeps the float conversion in range */
        return mn_errf(err, MN_EFORMAT, "%s: key '%s': value %g must be <= 1", what, eps_key, eps);
    cfg->norm_eps = (float)eps;

    /* hidden_act: "gelu" is the exact erf GELU in transformers' ACT2FN;
     * gelu_new / gelu_fast / gelu_pytorch_tanh are tanh approximations and
     * would silently change the logits, so they are refused. */
    const char *act = neox ? "gelu" : "silu";
    if (get_str(what, root, "hidden_act", "hidden_act", &act, err, &rc) < 0)
        return rc;
    if (neox && strcmp(act, "gelu") == 0)
        cfg->act = ACT_GELU_ERF;
    else if (!neox && (strcmp(act, "silu") == 0 || strcmp(act, "swish") == 0))
        cfg->act = ACT_SILU_GLU;
    else
        return mn_errf(err, MN_EUNSUPPORTED, "%s: key 'hidden_act': activation '%.100s' is not supported for %s (supported: %s)",
                       what, act, cfg->arch_name, neox ? "gelu" : "silu");

    int attn_bias = neox, mlp_bias = neox;
    if (get_bool(what, root, "attention_bias", &attn_bias, err, &rc) < 0)
        return rc;
    if (cfg->arch == ARCH_LLAMA && get_bool(what, root, "mlp_bias", &mlp_bias, err, &rc) < 0)
        return rc;
    switch (cfg->arch) {
    case ARCH_QWEN2: /* Qwen2Attention: q/k/v with bias, o_proj without */
        cfg->qkv_bias = 1, cfg->o_bias = 0, cfg->mlp_bias = 0;
        break;
    case ARCH_QWEN3: /* Qwen3Attention: bias=config.attention_bias on all four */
        cfg->qkv_bias = cfg->o_bias = attn_bias, cfg->mlp_bias = 0, cfg->qk_norm = 1;
        break;
    case ARCH_LLAMA:
        cfg->qkv_bias = cfg->o_bias = attn_bias, cfg->mlp_bias = mlp_bias;
        break;
    case ARCH_GPTNEOX: /* the MLP always has biases */
        cfg->qkv_bias = cfg->o_bias = attn_bias, cfg->mlp_bias = 1;
        break;
    }

    cfg->tie_embeddings = 0;
    if (get_bool(what, root, "tie_word_embeddings", &cfg->tie_embeddings, err, &rc) < 0)
        return rc;
    cfg->parallel_residual = 0;
    if (neox) {
        cfg->parallel_residual = 1;
        if (get_bool(what, root, "use_parallel_residual", &cfg->parallel_residual, err, &rc) < 0)
            return rc;
    }
    return 0;
}

/* Features that change the computation and that the engine does not run. */
static int reject_unsupported(const char *what, const json_t *root, const mn_config *cfg, mn_err *err)
{
    int rc = 0, sliding = 0;
    if (get_bool(what, root, "use_sliding_window", &sliding, err, &rc) < 0)
        return rc;
    if (sliding) {
        long long w = 0;
        int got = get_int(what, root, "sliding_window", "sliding_window", 0, 1LL << 40, &w, err, &rc);
        if (got < 0)
            return rc;
        if (got && w < cfg->max_pos)
            return mn_errf(err, MN_EUNSUPPORTED,
                           "%s: key 'use_sliding_window': sliding-window attention (window %lld < max_position_embeddings %d) is not supported",
                           what, w, cfg->max_pos);
    }
    const json_t *lt = json_object_get(root, "layer_types");
    if (lt && !json_is_null(lt)) {
        if (!json_is_array(lt))
            return mn_errf(err, MN_EFORMAT, "%s: key 'layer_types': expected a list of strings", what);
        if (json_array_size(lt) != (size_t)cfg->L)
            return mn_errf(err, MN_EFORMAT, "%s: key 'layer_types': %zu entries but num_hidden_layers is %d",
                           what, json_array_size(lt), cfg->L);
        for (size_t i = 0; i < json_array_size(lt); i++) {
            const json_t *s = json_array_get(lt, i);
            if (!json_is_string(s))
                return mn_errf(err, MN_EFORMAT, "%s: key 'layer_types[%zu]': expected a string", what, i);
            if (strcmp(json_string_value(s), "full_attention") != 0)
                return mn_errf(err, MN_EUNSUPPORTED,
                               "%s: key 'layer_types[%zu]': layer type '%.100s' is not supported (only full_attention)",
                               what, i, json_string_value(s));
        }
    }
    const json_t *q = json_object_get(root, "quantization_config");
    if (q && !json_is_null(q))
        return mn_errf(err, MN_EUNSUPPORTED, "%s: key 'quantization_config': quantized checkpoints are not supported",
                       what);
    return 0;
}

/* bos_token_id: int or null; eos_token_id: int, list of ints (first) or null. */
static int parse_ids(const char *what, const json_t *root, mn_config *cfg, mn_err *err)
{
    int rc = 0;
    long long x;
    cfg->bos_id = cfg->eos_id = -1;
    int got = get_int(what, root, "bos_token_id", "bos_token_id", 0, INT32_MAX, &x, err, &rc);
    if (got < 0)
        return rc;
    if (got)
        cfg->bos_id = (int)x;
    const json_t *e = json_object_get(root, "eos_token_id");
    if (json_is_array(e)) {
        if (json_array_size(e) == 0)
            return 0;
        json_t *wrap = json_object();
        json_object_set(wrap, "eos_token_id[0]", json_array_get(e, 0));
        got = get_int(what, wrap, "eos_token_id[0]", "eos_token_id[0]", 0, INT32_MAX, &x, err, &rc);
        json_decref(wrap);
    } else {
        got = get_int(what, root, "eos_token_id", "eos_token_id", 0, INT32_MAX, &x, err, &rc);
    }
    if (got < 0)
        return rc;
    if (got)
        cfg->eos_id = (int)x;
    return 0;
}

/* ------------------------------------------------------------------ */
/* RoPE                                                                 */
/* ------------------------------------------------------------------ */

/* Reads the rope settings from `rp` (transformers-5 rope_parameters or the
 * transformers-4 rope_scaling object, `label` names it in messages). */
static int parse_rope_scaling(const char *what, const json_t *rp, const char *label, mn_config *cfg,
                              mn_err *err)
{
    char key[96];
    int rc = 0;
    const char *type = NULL;
    snprintf(key, sizeof key, "%s.rope_type", label);
    if (get_str(what, rp, "rope_type", key, &type, err, &rc) < 0)
        return rc;
    if (!type) { /* transformers-4 spelling */
        snprintf(key, sizeof key, "%s.type", label);
        if (get_str(what, rp, "type", key, &type, err, &rc) < 0)
            return rc;
    }
    if (!type || strcmp(type, "default") == 0) {
        cfg->rope_type = ROPE_DEFAULT;
        return 0;
    }
    if (strcmp(type, "llama3") == 0)
        cfg->rope_type = ROPE_LLAMA3;
    else if (strcmp(type, "linear") == 0)
        cfg->rope_type = ROPE_LINEAR;
    else
        return mn_errf(err, MN_EUNSUPPORTED,
                       "%s: key '%s': rope type '%.100s' is not supported (supported: default, llama3, linear)",
                       what, key, type);

    snprintf(key, sizeof key, "%s.factor", label);
    int got = get_num(what, rp, "factor", key, 0.0, 1, &cfg->rope_factor, err, &rc);
    if (got <= 0)
        return got < 0 ? rc : mn_errf(err, MN_EFORMAT, "%s: key '%s': missing (required for %s rope)", what, key, type);
    if (cfg->rope_type == ROPE_LINEAR)
        return 0;

    static const char *const names[2] = {"low_freq_factor", "high_freq_factor"};
    double *dst[2] = {&cfg->rope_low_freq_factor, &cfg->rope_high_freq_factor};
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "%s.%s", label, names[i]);
        got = get_num(what, rp, names[i], key, 0.0, 1, dst[i], err, &rc);
        if (got <= 0)
            return got < 0 ? rc : mn_errf(err, MN_EFORMAT, "%s: key '%s': missing (required for llama3 rope)", what, key);
    }
    if (!(cfg->rope_high_freq_factor > cfg->rope_low_freq_factor))
        return mn_errf(err, MN_EFORMAT, "%s: key '%s.high_freq_factor': %g must exceed low_freq_factor %g", what,
                       label, cfg->rope_high_freq_factor, cfg->rope_low_freq_factor);
    long long om;
    snprintf(key, sizeof key, "%s.original_max_position_embeddings", label);
    got = get_int(what, rp, "original_max_position_embeddings", key, 1, MAX_POS, &om, err, &rc);
    if (got <= 0)
        return got < 0 ? rc : mn_errf(err, MN_EFORMAT, "%s: key '%s': missing (required for llama3 rope)", what, key);
    cfg->rope_original_max_pos = (int)om;
    return 0;
}

static int parse_rope(const char *what, const json_t *root, mn_config *cfg, mn_err *err)
{
    int rc = 0;
    cfg->rope_theta = 10000.0;
    cfg->rope_type = ROPE_DEFAULT;
    cfg->rope_factor = 1.0;
    double prf = cfg->arch == ARCH_GPTNEOX ? 0.25 : 1.0;
    const char *prf_key = "partial_rotary_factor";

    /* transformers 4: top-level keys */
    if (get_num(what, root, "rope_theta", "rope_theta", 0.0, 1, &cfg->rope_theta, err, &rc) < 0 ||
        get_num(what, root, "rotary_emb_base", "rotary_emb_base", 0.0, 1, &cfg->rope_theta, err, &rc) < 0)
        return rc;
    int got = get_num(what, root, "rotary_pct", "rotary_pct", 0.0, 1, &prf, err, &rc);
    if (got < 0)
        return rc;
    if (got)
        prf_key = "rotary_pct";
    got = get_num(what, root, "partial_rotary_factor", "partial_rotary_factor", 0.0, 1, &prf, err, &rc);
    if (got < 0)
        return rc;
    if (got)
        prf_key = "partial_rotary_factor";

    const json_t *rp = json_object_get(root, "rope_parameters");
    if (rp && !json_is_null(rp)) { /* transformers 5 */
        if (!json_is_object(rp))
            return mn_errf(err, MN_EFORMAT, "%s: key 'rope_parameters': expected an object", what);
        if (get_num(what, rp, "rope_theta", "rope_parameters.rope_theta", 0.0, 1, &cfg->rope_theta, err, &rc) < 0)
            return rc;
        got = get_num(what, rp, "partial_rotary_factor", "rope_parameters.partial_rotary_factor", 0.0, 1, &prf,
                      err, &rc);
        if (got < 0)
            return rc;
        if (got)
            prf_key = "rope_parameters.partial_rotary_factor";
        if ((rc = parse_rope_scaling(what, rp, "rope_parameters", cfg, err)))
            return rc;
    } else {
        const json_t *rs = json_object_get(root, "rope_scaling");
        if (rs && !json_is_null(rs)) {
            if (!json_is_object(rs))
                return mn_errf(err, MN_EFORMAT, "%s: key 'rope_scaling': expected an object or null", what);
            if ((rc = parse_rope_scaling(what, rs, "rope_scaling", cfg, err)))
                return rc;
        }
    }
    if (prf > 1.0)
        return mn_errf(err, MN_EFORMAT, "%s: key '%s': %g is greater than 1", what, prf_key, prf);
    /* transformers: dim = int(head_dim * partial_rotary_factor) */
    cfg->rotary_dim = (int)(cfg->D * prf);
    if (cfg->rotary_dim <= 0 || cfg->rotary_dim % 2 != 0)
        return mn_errf(err, MN_EFORMAT, "%s: key '%s': rotary dims int(%d x %g) = %d must be even and positive",
                       what, prf_key, cfg->D, prf, cfg->rotary_dim);
    return 0;
}

/* ------------------------------------------------------------------ */
/* public                                                               */
/* ------------------------------------------------------------------ */

int config_from_json(const char *what, const json_t *root, mn_config *cfg, mn_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (!json_is_object(root))
        return mn_errf(err, MN_EFORMAT, "%s: line 1: expected a JSON object", what);
    int rc;
    if ((rc = parse_arch(what, root, cfg, err)) || (rc = parse_sizes(what, root, cfg, err)) ||
        (rc = parse_layers(what, root, cfg, err)) || (rc = parse_rope(what, root, cfg, err)) ||
        (rc = reject_unsupported(what, root, cfg, err)) || (rc = parse_ids(what, root, cfg, err)))
        return rc;

    const char *dtype = NULL;
    rc = 0;
    if (get_str(what, root, "dtype", "dtype", &dtype, err, &rc) < 0)
        return rc;
    if (!dtype && get_str(what, root, "torch_dtype", "torch_dtype", &dtype, err, &rc) < 0)
        return rc;
    snprintf(cfg->dtype, sizeof cfg->dtype, "%s", dtype ? dtype : "");
    return 0;
}

int config_load(const char *path, mn_config *cfg, mn_err *err)
{
    json_t *root;
    int rc = json_load_path(path, &root, err);
    if (rc)
        return rc;
    rc = config_from_json(path, root, cfg, err);
    json_decref(root);
    return rc;
}

/* inv_freq[i] = 1 / theta^(2i / rotary_dim), then scaled as transformers'
 * _compute_llama3_parameters / _compute_linear_scaling_rope_parameters. */
void config_rope_inv_freq(const mn_config *cfg, double *inv_freq)
{
    int n = cfg->rotary_dim / 2;
    for (int i = 0; i < n; i++)
        inv_freq[i] = 1.0 / pow(cfg->rope_theta, (double)(2 * i) / cfg->rotary_dim);
    if (cfg->rope_type == ROPE_LINEAR) {
        for (int i = 0; i < n; i++)
            inv_freq[i] /= cfg->rope_factor;
    } else if (cfg->rope_type == ROPE_LLAMA3) {
        double factor = cfg->rope_factor, low = cfg->rope_low_freq_factor, high = cfg->rope_high_freq_factor;
        double old_ctx = cfg->rope_original_max_pos;
        double low_freq_wavelen = old_ctx / low, high_freq_wavelen = old_ctx / high;
        for (int i = 0; i < n; i++) {
            double wavelen = 2.0 * M_PI / inv_freq[i];
            if (wavelen < high_freq_wavelen)
                continue; /* high frequency: unchanged */
            if (wavelen > low_freq_wavelen) {
                inv_freq[i] /= factor; /* low frequency: scaled */
            } else {
                double smooth = (old_ctx / wavelen - low) / (high - low);
                inv_freq[i] = (1.0 - smooth) * inv_freq[i] / factor + smooth * inv_freq[i];
            }
        }
    }
}
