/* model.c — bind a safetensors checkpoint to the float32 weight pointers of
 * `model`, checked against config.json.
 *
 * Each weight is looked up by its Hugging Face name, its dtype must be
 * F32/F16/BF16 and its shape exactly what the config implies.  F32 tensors
 * that are 4-byte aligned are used in place from the mmap; F16/BF16 (and
 * misaligned F32) are widened into copies the model owns.  GPT-NeoX's fused
 * query_key_value is split into separate contiguous wq/wk/wv blocks.
 *
 * Non-goals: the forward pass (forward.c), quantized or sharded-in-memory
 * weights, lazy per-layer widening.
 *
 * Dimension letters: C model width, H query heads, KV key/value heads,
 * D head size, F MLP width, V vocab, L layers.
 */
#include "model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loading state shared by the bind helpers. */
typedef struct loader {
    model *m;
    unsigned char *used; /* [st_count] tensors bound so far */
    mn_err *err;
} loader;

/* ------------------------------------------------------------------ */
/* owned buffers                                                        */
/* ------------------------------------------------------------------ */

/* A float buffer the model owns; failure is an MN_ENOMEM naming what it was for. */
static int alloc_owned(loader *ld, const char *name, size_t nfloat, float **out)
{
    model *m = ld->m;
    float *p = malloc(nfloat ? nfloat * sizeof(float) : 1);
    if (!p)
        return mn_errf(ld->err, MN_ENOMEM, "%s: tensor '%s': needs %.1f MiB for a float32 copy",
                       st_source(m->st), name, (double)nfloat * 4 / (1024.0 * 1024.0));
    m->owned = xrealloc(m->owned, (size_t)(m->n_owned + 1) * sizeof *m->owned);
    m->owned[m->n_owned++] = p;
    m->owned_bytes += nfloat * sizeof(float);
    *out = p;
    return 0;
}

/* ------------------------------------------------------------------ */
/* lookup and checks                                                    */
/* ------------------------------------------------------------------ */

static void dims_str(const int64_t *d, int n, char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, i ? ", %lld" : "%lld", (long long)d[i]);
    if (k < cap)
        snprintf(buf + k, cap - k, "]");
}

/* Find `name`, check dtype and shape [d0] (ndim 1) or [d0, d1] (ndim 2). */
static int lookup(loader *ld, const char *name, int ndim, int64_t d0, int64_t d1, const st_tensor **out)
{
    const st_model *st = ld->m->st;
    const st_tensor *t = st_find(st, name);
    if (!t)
        return mn_errf(ld->err, MN_EMISMATCH, "%s: tensor '%s': missing (%s needs it)", st_source(st), name,
                       ld->m->cfg.arch_name);
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
        return mn_errf(ld->err, MN_EUNSUPPORTED, "%s: tensor '%s': dtype %s is not supported (F32, F16, BF16)",
                       t->file ? t->file : st_source(st), name, st_dtype_name(t->dtype));
    int64_t want[2] = {d0, d1};
    if (t->ndim != ndim || t->shape[0] != d0 || (ndim == 2 && t->shape[1] != d1)) {
        char got_s[160], want_s[64];
        dims_str(t->shape, t->ndim, got_s, sizeof got_s);
        dims_str(want, ndim, want_s, sizeof want_s);
        return mn_errf(ld->err, MN_EMISMATCH, "%s: tensor '%s': shape %s but config says %s",
                       t->file ? t->file : st_source(st), name, got_s, want_s);
    }
    ld->used[t - st_at(st, 0)] = 1;
    ld->m->n_params += t->nbytes / st_dtype_size(t->dtype);
    *out = t;
    return 0;
}

/* Bind a whole tensor: in place when F32 and aligned, else a widened copy. */
static int bind(loader *ld, const char *name, int ndim, int64_t d0, int64_t d1, const float **dst)
{
    const st_tensor *t;
    int rc = lookup(ld, name, ndim, d0, d1, &t);
    if (rc)
        return rc;
    size_t n = t->nbytes / st_dtype_size(t->dtype);
    if (t->dtype == ST_F32 && ((uintptr_t)t->data % sizeof(float)) == 0) {
        *dst = t->data;
        return 0;
    }
    float *p;
    if ((rc = alloc_owned(ld, name, n, &p)))
        return rc;
    st_to_f32(t, p, n);
    *dst = p;
    return 0;
}

/* bind() with a printf-formatted name. */
__attribute__((format(printf, 6, 7)))
static int bindf(loader *ld, int ndim, int64_t d0, int64_t d1, const float **dst, const char *fmt, ...)
{
    char name[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return bind(ld, name, ndim, d0, d1, dst);
}

/* ------------------------------------------------------------------ */
/* Llama / Qwen2 / Qwen3                                                */
/* ------------------------------------------------------------------ */

static int bind_llama_layer(loader *ld, int l)
{
    const mn_config *c = &ld->m->cfg;
    layer_weights *w = &ld->m->layers[l];
    int64_t C = c->C, HD = (int64_t)c->H * c->D, KVD = (int64_t)c->KV * c->D, F = c->F, D = c->D;
    const char *p = "model.layers";
    int rc;
    if ((rc = bindf(ld, 1, C, 0, &w->attn_norm_w, "%s.%d.input_layernorm.weight", p, l)) ||
        (rc = bindf(ld, 2, HD, C, &w->wq, "%s.%d.self_attn.q_proj.weight", p, l)) ||
        (rc = bindf(ld, 2, KVD, C, &w->wk, "%s.%d.self_attn.k_proj.weight", p, l)) ||
        (rc = bindf(ld, 2, KVD, C, &w->wv, "%s.%d.self_attn.v_proj.weight", p, l)) ||
        (rc = bindf(ld, 2, C, HD, &w->wo, "%s.%d.self_attn.o_proj.weight", p, l)) ||
        (rc = bindf(ld, 1, C, 0, &w->mlp_norm_w, "%s.%d.post_attention_layernorm.weight", p, l)) ||
        (rc = bindf(ld, 2, F, C, &w->w_gate, "%s.%d.mlp.gate_proj.weight", p, l)) ||
        (rc = bindf(ld, 2, F, C, &w->w_up, "%s.%d.mlp.up_proj.weight", p, l)) ||
        (rc = bindf(ld, 2, C, F, &w->w_down, "%s.%d.mlp.down_proj.weight", p, l)))
        return rc;
    if (c->qkv_bias &&
        ((rc = bindf(ld, 1, HD, 0, &w->bq, "%s.%d.self_attn.q_proj.bias", p, l)) ||
         (rc = bindf(ld, 1, KVD, 0, &w->bk, "%s.%d.self_attn.k_proj.bias", p, l)) ||
         (rc = bindf(ld, 1, KVD, 0, &w->bv, "%s.%d.self_attn.v_proj.bias", p, l))))
        return rc;
    if (c->o_bias && (rc = bindf(ld, 1, C, 0, &w->bo, "%s.%d.self_attn.o_proj.bias", p, l)))
        return rc;
    if (c->qk_norm &&
        ((rc = bindf(ld, 1, D, 0, &w->q_norm_w, "%s.%d.self_attn.q_norm.weight", p, l)) ||
         (rc = bindf(ld, 1, D, 0, &w->k_norm_w, "%s.%d.self_attn.k_norm.weight", p, l))))
        return rc;
    if (c->mlp_bias &&
        ((rc = bindf(ld, 1, F, 0, &w->b_gate, "%s.%d.mlp.gate_proj.bias", p, l)) ||
         (rc = bindf(ld, 1, F, 0, &w->b_up, "%s.%d.mlp.up_proj.bias", p, l)) ||
         (rc = bindf(ld, 1, C, 0, &w->b_down, "%s.%d.mlp.down_proj.bias", p, l))))
        return rc;
    return 0;
}

static int bind_llama(loader *ld)
{
    model *m = ld->m;
    const mn_config *c = &m->cfg;
    int rc;
    if ((rc = bind(ld, "model.embed_tokens.weight", 2, c->V, c->C, &m->tok_emb)))
        return rc;
    for (int l = 0; l < c->L; l++)
        if ((rc = bind_llama_layer(ld, l)))
            return rc;
    if ((rc = bind(ld, "model.norm.weight", 1, c->C, 0, &m->final_norm_w)))
        return rc;
    if (c->tie_embeddings) {
        m->lm_head = m->tok_emb;
        return 0;
    }
    return bind(ld, "lm_head.weight", 2, c->V, c->C, &m->lm_head);
}

/* ------------------------------------------------------------------ */
/* GPT-NeoX                                                             */
/* ------------------------------------------------------------------ */

/* query_key_value rows are ordered per head as [q_h | k_h | v_h], D rows
 * each (the output viewed as [T, H, 3*D] and chunked in transformers).
 * Copy them into three contiguous blocks [H*D, cols]: q, then k, then v.
 * cols = C for the weight, 1 for the bias. */
static int split_qkv(loader *ld, const char *name, int64_t cols, int is_bias, const float **q,
                     const float **k, const float **v)
{
    const mn_config *c = &ld->m->cfg;
    int64_t H = c->H, D = c->D, HD = H * D;
    const st_tensor *t;
    int rc = is_bias ? lookup(ld, name, 1, 3 * HD, 0, &t) : lookup(ld, name, 2, 3 * HD, cols, &t);
    if (rc)
        return rc;
    float *buf;
    if ((rc = alloc_owned(ld, name, (size_t)(3 * HD * cols), &buf)))
        return rc;
    for (int64_t h = 0; h < H; h++)
        for (int64_t j = 0; j < 3; j++) /* j: 0 q, 1 k, 2 v */
            st_to_f32_at(t, (size_t)((h * 3 + j) * D * cols), buf + (j * HD + h * D) * cols, (size_t)(D * cols));
    *q = buf, *k = buf + HD * cols, *v = buf + 2 * HD * cols;
    return 0;
}

static int bind_neox_layer(loader *ld, int l)
{
    const mn_config *c = &ld->m->cfg;
    layer_weights *w = &ld->m->layers[l];
    int64_t C = c->C, HD = (int64_t)c->H * c->D, F = c->F;
    char name[128];
    const char *p = "gpt_neox.layers";
    int rc;
    if ((rc = bindf(ld, 1, C, 0, &w->attn_norm_w, "%s.%d.input_layernorm.weight", p, l)) ||
        (rc = bindf(ld, 1, C, 0, &w->attn_norm_b, "%s.%d.input_layernorm.bias", p, l)) ||
        (rc = bindf(ld, 1, C, 0, &w->mlp_norm_w, "%s.%d.post_attention_layernorm.weight", p, l)) ||
        (rc = bindf(ld, 1, C, 0, &w->mlp_norm_b, "%s.%d.post_attention_layernorm.bias", p, l)))
        return rc;
    snprintf(name, sizeof name, "%s.%d.attention.query_key_value.weight", p, l);
    if ((rc = split_qkv(ld, name, C, 0, &w->wq, &w->wk, &w->wv)))
        return rc;
    if (c->qkv_bias) {
        snprintf(name, sizeof name, "%s.%d.attention.query_key_value.bias", p, l);
        if ((rc = split_qkv(ld, name, 1, 1, &w->bq, &w->bk, &w->bv)))
            return rc;
    }
    if ((rc = bindf(ld, 2, C, HD, &w->wo, "%s.%d.attention.dense.weight", p, l)))
        return rc;
    if (c->o_bias && (rc = bindf(ld, 1, C, 0, &w->bo, "%s.%d.attention.dense.bias", p, l)))
        return rc;
    if ((rc = bindf(ld, 2, F, C, &w->w_up, "%s.%d.mlp.dense_h_to_4h.weight", p, l)) ||
        (rc = bindf(ld, 1, F, 0, &w->b_up, "%s.%d.mlp.dense_h_to_4h.bias", p, l)) ||
        (rc = bindf(ld, 2, C, F, &w->w_down, "%s.%d.mlp.dense_4h_to_h.weight", p, l)) ||
        (rc = bindf(ld, 1, C, 0, &w->b_down, "%s.%d.mlp.dense_4h_to_h.bias", p, l)))
        return rc;
    return 0;
}

static int bind_neox(loader *ld)
{
    model *m = ld->m;
    const mn_config *c = &m->cfg;
    int rc;
    if ((rc = bind(ld, "gpt_neox.embed_in.weight", 2, c->V, c->C, &m->tok_emb)))
        return rc;
    for (int l = 0; l < c->L; l++)
        if ((rc = bind_neox_layer(ld, l)))
            return rc;
    if ((rc = bind(ld, "gpt_neox.final_layer_norm.weight", 1, c->C, 0, &m->final_norm_w)) ||
        (rc = bind(ld, "gpt_neox.final_layer_norm.bias", 1, c->C, 0, &m->final_norm_b)))
        return rc;
    if (c->tie_embeddings) {
        m->lm_head = m->tok_emb;
        return 0;
    }
    return bind(ld, "embed_out.weight", 2, c->V, c->C, &m->lm_head);
}

/* ------------------------------------------------------------------ */
/* public                                                               */
/* ------------------------------------------------------------------ */

/* Tensors in the checkpoint that no weight uses, for `mnemo inspect`. */
static void collect_ignored(loader *ld)
{
    model *m = ld->m;
    size_t n = st_count(m->st);
    for (size_t i = 0; i < n; i++)
        if (!ld->used[i]) {
            m->ignored = xrealloc(m->ignored, (size_t)(m->n_ignored + 1) * sizeof *m->ignored);
            m->ignored[m->n_ignored++] = st_at(m->st, i)->name;
        }
}

int model_load(const char *dir, model **out, mn_err *err)
{
    *out = NULL;
    model *m = xcalloc(1, sizeof *m);
    loader ld = {.m = m, .err = err};
    m->dir = xstrdup(dir);
    size_t n = strlen(dir);
    char *cfg_path = xmalloc(n + sizeof "/config.json");
    snprintf(cfg_path, n + sizeof "/config.json", "%s%sconfig.json", dir, n && dir[n - 1] == '/' ? "" : "/");
    int rc = config_load(cfg_path, &m->cfg, err);
    free(cfg_path);
    if (rc || (rc = st_open_dir(dir, &m->st, err)))
        goto fail;
    m->layers = xcalloc((size_t)m->cfg.L, sizeof *m->layers);
    ld.used = xcalloc(st_count(m->st) + 1, 1);
    rc = m->cfg.arch == ARCH_GPTNEOX ? bind_neox(&ld) : bind_llama(&ld);
    if (rc)
        goto fail;
    collect_ignored(&ld);
    m->rope_inv_freq = xmalloc((size_t)(m->cfg.rotary_dim / 2) * sizeof *m->rope_inv_freq);
    config_rope_inv_freq(&m->cfg, m->rope_inv_freq);
    free(ld.used);
    *out = m;
    return 0;
fail:
    free(ld.used);
    model_free(m);
    return rc;
}

void model_free(model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_owned; i++)
        free(m->owned[i]);
    free(m->owned);
    free(m->ignored);
    free(m->layers);
    free(m->rope_inv_freq);
    free(m->dir);
    st_close(m->st);
    free(m);
}

size_t model_f32_bytes(const model *m) { return m->n_params * sizeof(float); }

int model_check_ids(const model *m, const int32_t *ids, size_t n, const char *what, mn_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0)
            return mn_errf(err, MN_ERANGE, "%s: token %zu: id %d is negative", what, i + 1, ids[i]);
        if (ids[i] >= m->cfg.V)
            return mn_errf(err, MN_ERANGE, "%s: token %zu: id %d >= vocab size %d", what, i + 1, ids[i],
                           m->cfg.V);
    }
    return 0;
}
