/* test_model_load.c — model_load() on the four fixture checkpoints and on
 * checkpoints that contradict their config (missing tensor, wrong shape,
 * unsupported dtype, untied head missing), plus model_check_ids(). */
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "model/st_build.h"
#include "test.h"

static const char *const FIXTURES[4] = {"llama_tiny", "qwen2_tiny", "qwen3_tiny", "neox_tiny"};

static const char *model_dir(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s", fixture_path("tests/fixtures/models/"));
    strncat(buf, name, sizeof buf - strlen(buf) - 1);
    return buf;
}

/* Widen a checkpoint tensor fully; caller frees. */
static float *widen(const st_model *st, const char *name, size_t *n)
{
    const st_tensor *t = st_find(st, name);
    if (!t)
        return NULL;
    *n = t->nbytes / st_dtype_size(t->dtype);
    float *p = malloc(*n * sizeof *p + 1);
    st_to_f32(t, p, *n);
    return p;
}

/* Bitwise equality of a bound weight with the widened checkpoint tensor. */
static int same_as_tensor(const st_model *st, const char *name, const float *w, size_t expect_n)
{
    size_t n = 0;
    float *ref = widen(st, name, &n);
    int ok = ref && w && n == expect_n && memcmp(ref, w, n * sizeof *w) == 0;
    if (!ok)
        fprintf(stderr, "  mismatch in %s (n %zu, expected %zu)\n", name, n, expect_n);
    free(ref);
    return ok;
}

/* ------------------------------------------------------------------ */
/* fixtures load                                                        */
/* ------------------------------------------------------------------ */

static void test_model_load_fixture_dims(void)
{
    static const struct {
        const char *name, *arch;
        int L, C, H, KV, D, F, V, rotary_dim, tie;
        size_t params, owned_bytes; /* params from reference.json shapes */
    } rows[] = {
        {"llama_tiny", "LlamaForCausalLM", 2, 64, 4, 2, 16, 128, 512, 16, 0, 139584, 0},
        {"qwen2_tiny", "Qwen2ForCausalLM", 2, 64, 4, 2, 16, 160, 512, 16, 1, 119360, 119360 * 4},
        {"qwen3_tiny", "Qwen3ForCausalLM", 3, 64, 4, 2, 32, 128, 512, 32, 1, 180864, 0},
        {"neox_tiny", "GPTNeoXForCausalLM", 2, 64, 4, 4, 16, 256, 512, 4, 0, 165632, 165632 * 4},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        model *m;
        mn_err err = {0};
        int rc = model_load(model_dir(rows[i].name), &m, &err);
        CHECK_MSG(rc == 0, "%s: %s", rows[i].name, err.msg);
        const mn_config *c = &m->cfg;
        CHECK(strcmp(c->arch_name, rows[i].arch) == 0);
        CHECK_EQ_INT(c->L, rows[i].L);
        CHECK_EQ_INT(c->C, rows[i].C);
        CHECK_EQ_INT(c->H, rows[i].H);
        CHECK_EQ_INT(c->KV, rows[i].KV);
        CHECK_EQ_INT(c->D, rows[i].D);
        CHECK_EQ_INT(c->F, rows[i].F);
        CHECK_EQ_INT(c->V, rows[i].V);
        CHECK_EQ_INT(c->rotary_dim, rows[i].rotary_dim);
        CHECK_EQ_INT(c->tie_embeddings, rows[i].tie);
        CHECK_EQ_INT(m->n_params, rows[i].params);
        CHECK_EQ_INT(model_f32_bytes(m), rows[i].params * 4);
        CHECK_EQ_INT(m->owned_bytes, rows[i].owned_bytes);
        CHECK_EQ_INT(m->n_ignored, 0);
        CHECK(m->tok_emb && m->final_norm_w && m->lm_head && m->rope_inv_freq);
        CHECK((m->lm_head == m->tok_emb) == rows[i].tie);
        CHECK((m->final_norm_b != NULL) == (c->norm == NORM_LAYER));
        for (int l = 0; l < c->L; l++) {
            const layer_weights *w = &m->layers[l];
            CHECK(w->attn_norm_w && w->wq && w->wk && w->wv && w->wo && w->mlp_norm_w && w->w_up && w->w_down);
            CHECK((w->bq != NULL) == c->qkv_bias && (w->bk != NULL) == c->qkv_bias && (w->bv != NULL) == c->qkv_bias);
            CHECK((w->bo != NULL) == c->o_bias);
            CHECK((w->q_norm_w != NULL) == c->qk_norm && (w->k_norm_w != NULL) == c->qk_norm);
            CHECK((w->w_gate != NULL) == (c->act == ACT_SILU_GLU));
            CHECK((w->b_up != NULL) == c->mlp_bias && (w->b_down != NULL) == c->mlp_bias);
            CHECK((w->attn_norm_b != NULL) == (c->norm == NORM_LAYER));
        }
        model_free(m);
    }
}

/* Every Llama-family weight is exactly the checkpoint tensor, widened. */
static void test_model_load_llama_family_values(void)
{
    static const struct {
        const char *suffix;
        size_t off;
        int rows, cols; /* in dimension letters: 'C' 'Q'(H*D) 'K'(KV*D) 'F' 'D' '1' */
    } fields[] = {
        {"input_layernorm.weight", offsetof(layer_weights, attn_norm_w), 'C', '1'},
        {"self_attn.q_proj.weight", offsetof(layer_weights, wq), 'Q', 'C'},
        {"self_attn.k_proj.weight", offsetof(layer_weights, wk), 'K', 'C'},
        {"self_attn.v_proj.weight", offsetof(layer_weights, wv), 'K', 'C'},
        {"self_attn.o_proj.weight", offsetof(layer_weights, wo), 'C', 'Q'},
        {"self_attn.q_proj.bias", offsetof(layer_weights, bq), 'Q', '1'},
        {"self_attn.k_proj.bias", offsetof(layer_weights, bk), 'K', '1'},
        {"self_attn.v_proj.bias", offsetof(layer_weights, bv), 'K', '1'},
        {"self_attn.q_norm.weight", offsetof(layer_weights, q_norm_w), 'D', '1'},
        {"self_attn.k_norm.weight", offsetof(layer_weights, k_norm_w), 'D', '1'},
        {"post_attention_layernorm.weight", offsetof(layer_weights, mlp_norm_w), 'C', '1'},
        {"mlp.gate_proj.weight", offsetof(layer_weights, w_gate), 'F', 'C'},
        {"mlp.up_proj.weight", offsetof(layer_weights, w_up), 'F', 'C'},
        {"mlp.down_proj.weight", offsetof(layer_weights, w_down), 'C', 'F'},
    };
    for (int fi = 0; fi < 3; fi++) {
        model *m;
        mn_err err = {0};
        CHECK_MSG(model_load(model_dir(FIXTURES[fi]), &m, &err) == 0, "%s", err.msg);
        const mn_config *c = &m->cfg;
        int checked = 0;
        for (int l = 0; l < c->L; l++)
            for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
                char name[256];
                snprintf(name, sizeof name, "model.layers.%d.%s", l, fields[k].suffix);
                const float *w = *(const float *const *)((const char *)&m->layers[l] + fields[k].off);
                if (!st_find(m->st, name)) {
                    CHECK_MSG(w == NULL, "%s: bound without a tensor", name);
                    continue;
                }
                size_t dim[2];
                for (int j = 0; j < 2; j++) {
                    int letter = j ? fields[k].cols : fields[k].rows;
                    dim[j] = letter == 'C' ? (size_t)c->C : letter == 'Q' ? (size_t)(c->H * c->D)
                           : letter == 'K' ? (size_t)(c->KV * c->D) : letter == 'F' ? (size_t)c->F
                           : letter == 'D' ? (size_t)c->D : 1;
                }
                CHECK_MSG(same_as_tensor(m->st, name, w, dim[0] * dim[1]), "%s %s", FIXTURES[fi], name);
                checked++;
            }
        CHECK(checked >= 9 * c->L);
        CHECK(same_as_tensor(m->st, "model.embed_tokens.weight", m->tok_emb, (size_t)c->V * c->C));
        CHECK(same_as_tensor(m->st, "model.norm.weight", m->final_norm_w, (size_t)c->C));
        if (!c->tie_embeddings)
            CHECK(same_as_tensor(m->st, "lm_head.weight", m->lm_head, (size_t)c->V * c->C));
        /* float32 checkpoints are used in place: no copy */
        if (st_find(m->st, "model.norm.weight")->dtype == ST_F32)
            CHECK(m->tok_emb == st_find(m->st, "model.embed_tokens.weight")->data);
        model_free(m);
    }
}

/* GPT-NeoX query_key_value [3*H*D, C] is per head [q_h | k_h | v_h]; the
 * split blocks must hold exactly those rows. */
static void test_model_load_neox_qkv_split(void)
{
    model *m;
    mn_err err = {0};
    CHECK_MSG(model_load(model_dir("neox_tiny"), &m, &err) == 0, "%s", err.msg);
    const mn_config *c = &m->cfg;
    int H = c->H, D = c->D, C = c->C;
    for (int l = 0; l < c->L; l++) {
        char name[128];
        size_t n = 0, nb = 0;
        snprintf(name, sizeof name, "gpt_neox.layers.%d.attention.query_key_value.weight", l);
        float *qkv = widen(m->st, name, &n);
        snprintf(name, sizeof name, "gpt_neox.layers.%d.attention.query_key_value.bias", l);
        float *qkv_b = widen(m->st, name, &nb);
        CHECK(qkv && qkv_b && n == (size_t)3 * H * D * C && nb == (size_t)3 * H * D);
        const layer_weights *w = &m->layers[l];
        const float *blocks[3] = {w->wq, w->wk, w->wv}, *biases[3] = {w->bq, w->bk, w->bv};
        int bad = 0;
        for (int h = 0; h < H; h++)
            for (int j = 0; j < 3; j++)
                for (int d = 0; d < D; d++) {
                    const float *src = qkv + ((size_t)(h * 3 + j) * D + d) * C;
                    const float *dst = blocks[j] + ((size_t)h * D + d) * C;
                    bad += memcmp(src, dst, (size_t)C * sizeof *src) != 0;
                    bad += memcmp(&qkv_b[(h * 3 + j) * D + d], &biases[j][h * D + d], sizeof(float)) != 0;
                }
        free(qkv);
        free(qkv_b);
        CHECK_EQ_INT(bad, 0);
        snprintf(name, sizeof name, "gpt_neox.layers.%d.mlp.dense_h_to_4h.weight", l);
        CHECK(same_as_tensor(m->st, name, w->w_up, (size_t)c->F * C));
        snprintf(name, sizeof name, "gpt_neox.layers.%d.mlp.dense_4h_to_h.bias", l);
        CHECK(same_as_tensor(m->st, name, w->b_down, (size_t)C));
        snprintf(name, sizeof name, "gpt_neox.layers.%d.attention.dense.weight", l);
        CHECK(same_as_tensor(m->st, name, w->wo, (size_t)C * H * D));
    }
    CHECK(same_as_tensor(m->st, "embed_out.weight", m->lm_head, (size_t)c->V * C));
    CHECK(same_as_tensor(m->st, "gpt_neox.final_layer_norm.bias", m->final_norm_b, (size_t)C));
    model_free(m);
}

/* ------------------------------------------------------------------ */
/* checkpoints that contradict the config                               */
/* ------------------------------------------------------------------ */

/* A temp copy of a fixture: its config.json (optionally with one key
 * replaced by a JSON value) and a rewritten model.safetensors built from
 * the edited tensor list. */
typedef struct edit {
    const char *fixture;
    const char *cfg_key, *cfg_value; /* NULL: config unchanged */
    void (*edit)(stb_tensor *t, int *n);
} edit;

static char *make_variant(const edit *e)
{
    char *dir = stb_tmpdir();
    json_error_t je;
    char src[4096];
    snprintf(src, sizeof src, "%s/config.json", model_dir(e->fixture));
    json_t *cfg = json_load_file(src, 0, &je);
    if (e->cfg_key)
        json_object_set_new(cfg, e->cfg_key, json_loads(e->cfg_value, JSON_DECODE_ANY, &je));
    json_dump_file(cfg, stb_path(dir, "config.json"), 0);
    json_decref(cfg);
    st_model *st;
    mn_err err = {0};
    if (st_open_dir(model_dir(e->fixture), &st, &err) != 0)
        stb_die(err.msg, e->fixture);
    stb_tensor *t;
    int n = stb_from_model(st, &t);
    if (e->edit)
        e->edit(t, &n);
    stb_write(stb_path(dir, "model.safetensors"), t, n);
    free(t);
    st_close(st);
    return dir;
}

static void drop_up_proj(stb_tensor *t, int *n)
{
    *n = stb_remove(t, *n, stb_find(t, *n, "model.layers.1.mlp.up_proj.weight"));
}

static void transpose_k_proj(stb_tensor *t, int *n)
{
    int i = stb_find(t, *n, "model.layers.0.self_attn.k_proj.weight"); /* [32, 64] -> [64, 32] */
    t[i].shape[0] = 64, t[i].shape[1] = 32;
}

static int64_t zeros[1024];
static void norm_as_i64(stb_tensor *t, int *n)
{
    int i = stb_find(t, *n, "model.layers.0.input_layernorm.weight");
    snprintf(t[i].dtype, sizeof t[i].dtype, "I64");
    t[i].data = zeros, t[i].nbytes = 64 * 8;
}

static void drop_qkv_bias(stb_tensor *t, int *n)
{
    *n = stb_remove(t, *n, stb_find(t, *n, "gpt_neox.layers.1.attention.query_key_value.bias"));
}

static void add_buffers(stb_tensor *t, int *n)
{
    static const float inv[8] = {1, 0.5f, 0.25f, 0.125f, 0, 0, 0, 0};
    stb_tensor *x = &t[(*n)++];
    snprintf(x->name, sizeof x->name, "model.layers.0.self_attn.rotary_emb.inv_freq");
    snprintf(x->dtype, sizeof x->dtype, "F32");
    x->ndim = 1, x->shape[0] = 8, x->data = inv, x->nbytes = sizeof inv;
}

static void test_model_load_rejects_contradictions(void)
{
    static const struct {
        edit e;
        int code;
        const char *frag[3];
    } rows[] = {
        {{"llama_tiny", NULL, NULL, drop_up_proj}, MN_EMISMATCH,
         {"model.safetensors: tensor 'model.layers.1.mlp.up_proj.weight'", "missing"}},
        {{"qwen2_tiny", NULL, NULL, transpose_k_proj}, MN_EMISMATCH,
         {"tensor 'model.layers.0.self_attn.k_proj.weight'", "shape [64, 32] but config says [32, 64]"}},
        {{"llama_tiny", NULL, NULL, norm_as_i64}, MN_EUNSUPPORTED,
         {"tensor 'model.layers.0.input_layernorm.weight'", "dtype I64 is not supported"}},
        {{"neox_tiny", NULL, NULL, drop_qkv_bias}, MN_EMISMATCH,
         {"tensor 'gpt_neox.layers.1.attention.query_key_value.bias'", "missing"}},
        /* the config disagrees with the checkpoint */
        {{"llama_tiny", "num_hidden_layers", "3", NULL}, MN_EMISMATCH,
         {"tensor 'model.layers.2.input_layernorm.weight'", "missing"}},
        {{"llama_tiny", "intermediate_size", "96", NULL}, MN_EMISMATCH,
         {"tensor 'model.layers.0.mlp.gate_proj.weight'", "shape [128, 64] but config says [96, 64]"}},
        {{"qwen3_tiny", "head_dim", "16", NULL}, MN_EMISMATCH,
         {"tensor 'model.layers.0.self_attn.q_proj.weight'", "shape [128, 64] but config says [64, 64]"}},
        {{"qwen2_tiny", "tie_word_embeddings", "false", NULL}, MN_EMISMATCH,
         {"tensor 'lm_head.weight'", "missing"}},
        {{"llama_tiny", "attention_bias", "true", NULL}, MN_EMISMATCH,
         {"tensor 'model.layers.0.self_attn.q_proj.bias'", "missing"}},
        {{"neox_tiny", "hidden_size", "128", NULL}, MN_EMISMATCH,
         {"tensor 'gpt_neox.embed_in.weight'", "shape [512, 64] but config says [512, 128]"}},
        {{"llama_tiny", "rope_parameters", "{\"rope_type\": \"yarn\", \"factor\": 4.0}", NULL}, MN_EUNSUPPORTED,
         {"config.json: key 'rope_parameters.rope_type'", "'yarn'"}},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *dir = make_variant(&rows[i].e);
        model *m = NULL;
        mn_err err = {0};
        int rc = model_load(dir, &m, &err);
        stb_rmdir(dir);
        CHECK_MSG(rc == rows[i].code, "row %zu: rc %d (%s)", i, rc, err.msg);
        CHECK(m == NULL);
        for (int k = 0; k < 3 && rows[i].frag[k]; k++)
            CHECK_STR_CONTAINS(err.msg, rows[i].frag[k]);
    }
}

/* Tied config + a stored lm_head.weight: the embedding is used (as in
 * transformers) and the stored head is reported as ignored; so is a
 * rotary_emb.inv_freq buffer. */
static void test_model_load_tied_head_and_buffers_ignored(void)
{
    edit e = {"llama_tiny", "tie_word_embeddings", "true", add_buffers};
    char *dir = make_variant(&e);
    model *m;
    mn_err err = {0};
    int rc = model_load(dir, &m, &err);
    stb_rmdir(dir);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(m->lm_head == m->tok_emb);
    CHECK_EQ_INT(m->n_ignored, 2);
    CHECK(strcmp(m->ignored[0], "lm_head.weight") == 0);
    CHECK(strcmp(m->ignored[1], "model.layers.0.self_attn.rotary_emb.inv_freq") == 0);
    CHECK_EQ_INT(m->n_params, 139584 - 512 * 64);
    model_free(m);
}

/* A 2-byte tensor stored first shifts every F32 tensor to a 2 mod 4
 * address: they must be copied (not read misaligned) with the same values. */
static void shift_data(stb_tensor *t, int *n)
{
    static const unsigned char two[2] = {7, 9};
    memmove(t + 1, t, (size_t)*n * sizeof *t);
    memset(&t[0], 0, sizeof t[0]);
    snprintf(t[0].name, sizeof t[0].name, "aaa.padding");
    snprintf(t[0].dtype, sizeof t[0].dtype, "U8");
    t[0].ndim = 1, t[0].shape[0] = 2, t[0].data = two, t[0].nbytes = 2;
    (*n)++;
}

static void test_model_load_misaligned_f32_copied(void)
{
    edit e = {"llama_tiny", NULL, NULL, shift_data};
    char *dir = make_variant(&e);
    model *m, *ref;
    mn_err err = {0};
    int rc = model_load(dir, &m, &err);
    stb_rmdir(dir);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_MSG(model_load(model_dir("llama_tiny"), &ref, &err) == 0, "%s", err.msg);
    CHECK(((uintptr_t)st_find(m->st, "model.norm.weight")->data) % 4 != 0);
    CHECK_EQ_INT(m->owned_bytes, 139584 * 4);
    CHECK(((uintptr_t)m->tok_emb) % 4 == 0);
    CHECK(memcmp(m->tok_emb, ref->tok_emb, 512 * 64 * 4) == 0);
    CHECK(memcmp(m->layers[1].w_down, ref->layers[1].w_down, 64 * 128 * 4) == 0);
    CHECK_EQ_INT(m->n_ignored, 1);
    model_free(m);
    model_free(ref);
}

static void test_model_load_missing_files(void)
{
    char *dir = stb_tmpdir();
    model *m;
    mn_err err = {0};
    int rc = model_load(dir, &m, &err);
    CHECK_EQ_INT(rc, MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "config.json");
    stb_copy(fixture_path("tests/fixtures/models/llama_tiny/config.json"), stb_path(dir, "config.json"));
    rc = model_load(dir, &m, &err);
    CHECK_EQ_INT(rc, MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "model.safetensors: cannot open");
    stb_rmdir(dir);
}

static void test_model_load_check_ids(void)
{
    model *m;
    mn_err err = {0};
    CHECK_MSG(model_load(model_dir("qwen2_tiny"), &m, &err) == 0, "%s", err.msg);
    int32_t ok[3] = {0, 511, 7}, big[4] = {1, 2, 3, 700}, neg[2] = {5, -1};
    CHECK_EQ_INT(model_check_ids(m, ok, 3, "--ids", &err), 0);
    CHECK_EQ_INT(model_check_ids(m, ok, 0, "--ids", &err), 0);
    CHECK_EQ_INT(model_check_ids(m, big, 4, "--ids", &err), MN_ERANGE);
    CHECK(strcmp(err.msg, "--ids: token 4: id 700 >= vocab size 512") == 0);
    CHECK_EQ_INT(model_check_ids(m, neg, 2, "prompt", &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "prompt: token 2: id -1 is negative");
    model_free(m);
}

TEST_MAIN(TEST(test_model_load_fixture_dims), TEST(test_model_load_llama_family_values),
          TEST(test_model_load_neox_qkv_split), TEST(test_model_load_rejects_contradictions),
          TEST(test_model_load_tied_head_and_buffers_ignored), TEST(test_model_load_misaligned_f32_copied),
          TEST(test_model_load_missing_files), TEST(test_model_load_check_ids))
