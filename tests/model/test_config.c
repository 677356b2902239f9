/* test_config.c — config.json parsing: the four fixture configs, their
 * transformers-4 spellings (which must parse to the identical struct),
 * RoPE inverse frequencies against reference.json, and a table of
 * unsupported / malformed variants with the expected code and message. */
#include <stddef.h>

#include "model/config.h"
#include "model/st_build.h" /* stb_tmpdir, stb_path */
#include "test.h"

static const char *const FIXTURES[4] = {"llama_tiny", "qwen2_tiny", "qwen3_tiny", "neox_tiny"};

static json_t *fixture_config(const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "tests/fixtures/models/%s/config.json", name);
    json_error_t je;
    return json_load_file(fixture_path(p), 0, &je);
}

/* Apply a patch to a config: every key of `patch` is set, except keys
 * starting with '-', which delete the key without the dash. */
static json_t *patched(const char *fixture, const char *patch_text)
{
    json_t *cfg = fixture_config(fixture);
    json_error_t je;
    json_t *patch = json_loads(patch_text, 0, &je);
    if (!cfg || !patch) {
        fprintf(stderr, "bad test patch: %s (%s)\n", patch_text, je.text);
        abort();
    }
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v) {
        if (k[0] == '-')
            json_object_del(cfg, k + 1);
        else
            json_object_set(cfg, k, v);
    }
    json_decref(patch);
    return cfg;
}

/* Write cfg to DIR/config.json and config_load() it, like model_load does. */
static int load_via_file(const json_t *cfg, mn_config *out, mn_err *err)
{
    char *dir = stb_tmpdir();
    const char *path = stb_path(dir, "config.json");
    json_dump_file(cfg, path, JSON_INDENT(2));
    int rc = config_load(path, out, err);
    stb_rmdir(dir);
    return rc;
}

static double max_rel_err(const double *got, const json_t *ref, int n)
{
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double r = json_real_value(json_array_get(ref, (size_t)i));
        double e = fabs(got[i] - r) / fabs(r);
        if (e > worst)
            worst = e;
    }
    return worst;
}

static json_t *reference_inv_freq(const char *fixture, json_t **root)
{
    char p[512];
    snprintf(p, sizeof p, "tests/fixtures/models/%s/reference.json", fixture);
    json_error_t je;
    *root = json_load_file(fixture_path(p), 0, &je);
    return json_object_get(json_object_get(*root, "rope"), "inv_freq");
}

/* ------------------------------------------------------------------ */

static void test_config_fixtures(void)
{
    static const struct {
        mn_arch arch;
        mn_norm norm;
        mn_act act;
        int qkv_bias, o_bias, mlp_bias, qk_norm, tie, parallel, rotary_dim;
        mn_rope_type rope;
        double theta;
        float eps;
        const char *dtype;
    } want[4] = {
        {ARCH_LLAMA, NORM_RMS, ACT_SILU_GLU, 0, 0, 0, 0, 0, 0, 16, ROPE_LLAMA3, 500000.0, 1e-5f, "float32"},
        {ARCH_QWEN2, NORM_RMS, ACT_SILU_GLU, 1, 0, 0, 0, 1, 0, 16, ROPE_DEFAULT, 1e6, 1e-6f, "bfloat16"},
        {ARCH_QWEN3, NORM_RMS, ACT_SILU_GLU, 0, 0, 0, 1, 1, 0, 32, ROPE_DEFAULT, 1e6, 1e-6f, "float32"},
        {ARCH_GPTNEOX, NORM_LAYER, ACT_GELU_ERF, 1, 1, 1, 0, 0, 1, 4, ROPE_DEFAULT, 1e4, 1e-5f, "float16"},
    };
    for (int i = 0; i < 4; i++) {
        char p[512];
        snprintf(p, sizeof p, "tests/fixtures/models/%s/config.json", FIXTURES[i]);
        mn_config c;
        mn_err err = {0};
        CHECK_MSG(config_load(fixture_path(p), &c, &err) == 0, "%s", err.msg);
        CHECK_EQ_INT(c.arch, want[i].arch);
        CHECK_EQ_INT(c.norm, want[i].norm);
        CHECK_EQ_INT(c.act, want[i].act);
        CHECK_EQ_INT(c.qkv_bias, want[i].qkv_bias);
        CHECK_EQ_INT(c.o_bias, want[i].o_bias);
        CHECK_EQ_INT(c.mlp_bias, want[i].mlp_bias);
        CHECK_EQ_INT(c.qk_norm, want[i].qk_norm);
        CHECK_EQ_INT(c.tie_embeddings, want[i].tie);
        CHECK_EQ_INT(c.parallel_residual, want[i].parallel);
        CHECK_EQ_INT(c.rotary_dim, want[i].rotary_dim);
        CHECK_EQ_INT(c.rope_type, want[i].rope);
        CHECK(c.rope_theta == want[i].theta);
        CHECK(c.norm_eps == want[i].eps);
        CHECK(strcmp(c.dtype, want[i].dtype) == 0);
        CHECK_EQ_INT(c.max_pos, 512);
        CHECK_EQ_INT(c.bos_id, -1);
        CHECK_EQ_INT(c.eos_id, -1);
    }
}

/* inv_freq of every fixture, from both config layouts, within 1e-12
 * relative of reference.json (llama_tiny exercises all three llama3
 * regimes: unchanged, smoothed, divided). */
static const char *const OLD_LAYOUT[4] = {
    "{\"-rope_parameters\": 0, \"-dtype\": 0, \"torch_dtype\": \"float32\", \"rope_theta\": 500000.0,"
    " \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0,"
    " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}}",
    "{\"-rope_parameters\": 0, \"-dtype\": 0, \"-layer_types\": 0, \"torch_dtype\": \"bfloat16\","
    " \"rope_theta\": 1000000.0, \"rope_scaling\": null}",
    "{\"-rope_parameters\": 0, \"-dtype\": 0, \"torch_dtype\": \"float32\", \"rope_theta\": 1000000.0}",
    "{\"-rope_parameters\": 0, \"-dtype\": 0, \"-attention_bias\": 0, \"torch_dtype\": \"float16\","
    " \"rotary_pct\": 0.25, \"rotary_emb_base\": 10000}",
};

static void test_config_rope_inv_freq_matches_reference(void)
{
    for (int i = 0; i < 4; i++) {
        for (int layout = 0; layout < 2; layout++) {
            json_t *cfgj = layout ? patched(FIXTURES[i], OLD_LAYOUT[i]) : fixture_config(FIXTURES[i]);
            mn_config c;
            mn_err err = {0};
            int rc = load_via_file(cfgj, &c, &err);
            json_decref(cfgj);
            CHECK_MSG(rc == 0, "%s: %s", FIXTURES[i], err.msg);
            json_t *root, *ref = reference_inv_freq(FIXTURES[i], &root);
            CHECK_EQ_INT(json_array_size(ref), c.rotary_dim / 2);
            double inv[256];
            config_rope_inv_freq(&c, inv);
            double e = max_rel_err(inv, ref, c.rotary_dim / 2);
            printf("  %s (%s layout): inv_freq max rel err %.3g\n", FIXTURES[i], layout ? "v4" : "v5", e);
            json_decref(root);
            CHECK(e < 1e-12);
        }
    }
}

/* The transformers-4 spelling parses to exactly the same struct. */
static void test_config_old_layout_same_struct(void)
{
    for (int i = 0; i < 4; i++) {
        json_t *v5 = fixture_config(FIXTURES[i]), *v4 = patched(FIXTURES[i], OLD_LAYOUT[i]);
        mn_config a, b;
        mn_err err = {0};
        CHECK_MSG(config_from_json("v5", v5, &a, &err) == 0, "%s", err.msg);
        CHECK_MSG(config_from_json("v4", v4, &b, &err) == 0, "%s: %s", FIXTURES[i], err.msg);
        json_decref(v5);
        json_decref(v4);
        CHECK_MSG(memcmp(&a, &b, sizeof a) == 0, "%s: v4 and v5 layouts differ", FIXTURES[i]);
    }
    /* "type" (older) instead of "rope_type" inside rope_scaling */
    json_t *j = patched("llama_tiny", "{\"-rope_parameters\": 0, \"rope_theta\": 500000.0, \"rope_scaling\": "
                                      "{\"type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
                                      "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}}");
    mn_config c;
    mn_err err = {0};
    CHECK_MSG(config_from_json("x", j, &c, &err) == 0, "%s", err.msg);
    json_decref(j);
    CHECK_EQ_INT(c.rope_type, ROPE_LLAMA3);
    CHECK(c.rope_factor == 8.0 && c.rope_original_max_pos == 64);
}

static void test_config_linear_rope(void)
{
    json_t *j = patched("qwen2_tiny", "{\"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 4.0, "
                                      "\"rope_theta\": 1000000.0}}");
    mn_config c;
    mn_err err = {0};
    CHECK_MSG(config_from_json("x", j, &c, &err) == 0, "%s", err.msg);
    json_decref(j);
    CHECK_EQ_INT(c.rope_type, ROPE_LINEAR);
    json_t *root, *ref = reference_inv_freq("qwen2_tiny", &root);
    double inv[8];
    config_rope_inv_freq(&c, inv);
    for (int i = 0; i < 8; i++)
        CHECK(fabs(inv[i] * 4.0 - json_real_value(json_array_get(ref, (size_t)i))) < 1e-15);
    json_decref(root);
}

/* ------------------------------------------------------------------ */
/* table: variants that parse, with one field to check                 */
/* ------------------------------------------------------------------ */

static void test_config_accepted_variants(void)
{
    static const struct {
        const char *fixture, *patch;
        size_t field; /* offsetof an int field */
        int want;
    } rows[] = {
        {"qwen2_tiny", "{\"-architectures\": 0}", offsetof(mn_config, arch), ARCH_QWEN2},
        {"neox_tiny", "{\"-architectures\": 0}", offsetof(mn_config, arch), ARCH_GPTNEOX},
        {"qwen3_tiny", "{\"-head_dim\": 0}", offsetof(mn_config, D), 16},
        {"qwen3_tiny", "{\"head_dim\": null}", offsetof(mn_config, D), 16},
        {"llama_tiny", "{\"-num_key_value_heads\": 0}", offsetof(mn_config, KV), 4},
        {"neox_tiny", "{\"num_key_value_heads\": 1}", offsetof(mn_config, KV), 4}, /* NeoX has no GQA */
        {"neox_tiny", "{\"-use_parallel_residual\": 0}", offsetof(mn_config, parallel_residual), 1},
        {"neox_tiny", "{\"use_parallel_residual\": false}", offsetof(mn_config, parallel_residual), 0},
        {"neox_tiny", "{\"attention_bias\": false}", offsetof(mn_config, qkv_bias), 0},
        {"neox_tiny", "{\"-attention_bias\": 0}", offsetof(mn_config, o_bias), 1},
        {"neox_tiny", "{\"-tie_word_embeddings\": 0}", offsetof(mn_config, tie_embeddings), 0},
        {"neox_tiny", "{\"-hidden_act\": 0}", offsetof(mn_config, act), ACT_GELU_ERF},
        {"llama_tiny", "{\"attention_bias\": true}", offsetof(mn_config, o_bias), 1},
        {"llama_tiny", "{\"mlp_bias\": true}", offsetof(mn_config, mlp_bias), 1},
        {"qwen3_tiny", "{\"attention_bias\": true}", offsetof(mn_config, qkv_bias), 1},
        {"qwen2_tiny", "{\"attention_bias\": false}", offsetof(mn_config, qkv_bias), 1}, /* always */
        {"qwen2_tiny", "{\"use_sliding_window\": true, \"sliding_window\": 512}", offsetof(mn_config, L), 2},
        {"qwen2_tiny", "{\"use_sliding_window\": false, \"sliding_window\": 64}", offsetof(mn_config, L), 2},
        {"qwen2_tiny", "{\"eos_token_id\": [7, 9], \"bos_token_id\": 3}", offsetof(mn_config, eos_id), 7},
        {"qwen2_tiny", "{\"eos_token_id\": 11}", offsetof(mn_config, eos_id), 11},
        {"qwen2_tiny", "{\"bos_token_id\": 3}", offsetof(mn_config, bos_id), 3},
        {"neox_tiny", "{\"rope_parameters\": {\"rope_theta\": 10000.0, \"partial_rotary_factor\": 0.5}}",
         offsetof(mn_config, rotary_dim), 8},
        {"neox_tiny", "{\"-rope_parameters\": 0}", offsetof(mn_config, rotary_dim), 4}, /* default rotary_pct */
        {"llama_tiny", "{\"rope_parameters\": {\"rope_type\": \"default\"}}", offsetof(mn_config, rope_type),
         ROPE_DEFAULT},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *j = patched(rows[i].fixture, rows[i].patch);
        mn_config c;
        mn_err err = {0};
        int rc = config_from_json("config.json", j, &c, &err);
        json_decref(j);
        CHECK_MSG(rc == 0, "row %zu (%s %s): %s", i, rows[i].fixture, rows[i].patch, err.msg);
        int got = *(const int *)((const char *)&c + rows[i].field);
        CHECK_MSG(got == rows[i].want, "row %zu (%s %s): got %d want %d", i, rows[i].fixture, rows[i].patch,
                  got, rows[i].want);
    }
}

/* ------------------------------------------------------------------ */
/* table: variants that fail, with code and message fragment            */
/* ------------------------------------------------------------------ */

static void test_config_rejected_variants(void)
{
    static const struct {
        const char *fixture, *patch;
        int code;
        const char *frag;
    } rows[] = {
        /* unsupported */
        {"llama_tiny", "{\"architectures\": [\"MistralForCausalLM\"]}", MN_EUNSUPPORTED,
         "key 'architectures': architecture 'MistralForCausalLM' is not supported"},
        {"llama_tiny", "{\"-architectures\": 0, \"model_type\": \"mistral\"}", MN_EUNSUPPORTED,
         "key 'model_type': model type 'mistral' is not supported"},
        {"llama_tiny", "{\"rope_parameters\": {\"rope_type\": \"yarn\", \"factor\": 4.0}}", MN_EUNSUPPORTED,
         "key 'rope_parameters.rope_type': rope type 'yarn' is not supported"},
        {"llama_tiny", "{\"-rope_parameters\": 0, \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0}}",
         MN_EUNSUPPORTED, "key 'rope_scaling.type': rope type 'dynamic' is not supported"},
        {"qwen2_tiny", "{\"-rope_parameters\": 0, \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}}",
         MN_EUNSUPPORTED, "key 'rope_scaling.rope_type': rope type 'yarn'"},
        {"qwen2_tiny", "{\"use_sliding_window\": true, \"sliding_window\": 128}", MN_EUNSUPPORTED,
         "key 'use_sliding_window': sliding-window attention (window 128 < max_position_embeddings 512)"},
        {"qwen3_tiny", "{\"layer_types\": [\"full_attention\", \"sliding_attention\", \"full_attention\"]}",
         MN_EUNSUPPORTED, "key 'layer_types[1]': layer type 'sliding_attention' is not supported"},
        {"neox_tiny", "{\"hidden_act\": \"gelu_new\"}", MN_EUNSUPPORTED, "key 'hidden_act': activation 'gelu_new'"},
        {"neox_tiny", "{\"hidden_act\": \"gelu_fast\"}", MN_EUNSUPPORTED, "activation 'gelu_fast'"},
        {"llama_tiny", "{\"hidden_act\": \"gelu\"}", MN_EUNSUPPORTED, "key 'hidden_act': activation 'gelu'"},
        {"qwen3_tiny", "{\"hidden_act\": \"relu\"}", MN_EUNSUPPORTED, "activation 'relu'"},
        {"llama_tiny", "{\"quantization_config\": {\"quant_method\": \"gptq\"}}", MN_EUNSUPPORTED,
         "key 'quantization_config'"},
        /* malformed */
        {"llama_tiny", "{\"hidden_size\": -64}", MN_EFORMAT, "key 'hidden_size': value -64 is outside"},
        {"llama_tiny", "{\"hidden_size\": \"64\"}", MN_EFORMAT, "key 'hidden_size': expected an integer, got a string"},
        {"llama_tiny", "{\"hidden_size\": 64.5}", MN_EFORMAT, "key 'hidden_size': expected an integer"},
        {"llama_tiny", "{\"-vocab_size\": 0}", MN_EFORMAT, "key 'vocab_size': missing"},
        {"llama_tiny", "{\"vocab_size\": 0}", MN_EFORMAT, "key 'vocab_size': value 0 is outside"},
        {"llama_tiny", "{\"vocab_size\": 1000000000000}", MN_EFORMAT, "key 'vocab_size'"},
        {"llama_tiny", "{\"num_hidden_layers\": -1}", MN_EFORMAT, "key 'num_hidden_layers'"},
        {"llama_tiny", "{\"-head_dim\": 0, \"num_attention_heads\": 5, \"num_key_value_heads\": 5}", MN_EFORMAT,
         "key 'num_attention_heads': 5 does not divide hidden_size 64"},
        {"neox_tiny", "{\"num_attention_heads\": 3}", MN_EFORMAT, "key 'num_attention_heads': 3 does not divide"},
        {"llama_tiny", "{\"num_key_value_heads\": 3}", MN_EFORMAT,
         "key 'num_key_value_heads': 3 does not divide num_attention_heads 4"},
        {"llama_tiny", "{\"head_dim\": 0}", MN_EFORMAT, "key 'head_dim'"},
        {"neox_tiny", "{\"rope_parameters\": {\"partial_rotary_factor\": 0.1875}}", MN_EFORMAT,
         "key 'rope_parameters.partial_rotary_factor': rotary dims int(16 x 0.1875) = 3 must be even"},
        {"neox_tiny", "{\"-rope_parameters\": 0, \"rotary_pct\": 0.0}", MN_EFORMAT, "key 'rotary_pct'"},
        {"neox_tiny", "{\"-rope_parameters\": 0, \"rotary_pct\": 1.5}", MN_EFORMAT, "key 'rotary_pct': 1.5 is greater than 1"},
        {"llama_tiny", "{\"rms_norm_eps\": \"1e-5\"}", MN_EFORMAT, "key 'rms_norm_eps': expected a number"},
        {"neox_tiny", "{\"layer_norm_eps\": -1}", MN_EFORMAT, "key 'layer_norm_eps'"},
        {"llama_tiny", "{\"rms_norm_eps\": 2}", MN_EFORMAT, "key 'rms_norm_eps': value 2 must be <= 1"},
        {"llama_tiny", "{\"tie_word_embeddings\": \"yes\"}", MN_EFORMAT, "key 'tie_word_embeddings': expected true or false"},
        {"llama_tiny", "{\"architectures\": \"LlamaForCausalLM\"}", MN_EFORMAT, "key 'architectures': expected a non-empty list"},
        {"llama_tiny", "{\"architectures\": []}", MN_EFORMAT, "key 'architectures'"},
        {"llama_tiny", "{\"-architectures\": 0, \"-model_type\": 0}", MN_EFORMAT, "'architectures' and 'model_type' both missing"},
        {"llama_tiny", "{\"rope_parameters\": \"llama3\"}", MN_EFORMAT, "key 'rope_parameters': expected an object"},
        {"llama_tiny", "{\"rope_parameters\": {\"rope_type\": 3}}", MN_EFORMAT, "key 'rope_parameters.rope_type': expected a string"},
        {"llama_tiny", "{\"rope_parameters\": {\"rope_theta\": -1.0}}", MN_EFORMAT, "key 'rope_parameters.rope_theta'"},
        {"llama_tiny", "{\"rope_parameters\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
                       "\"high_freq_factor\": 4.0}}",
         MN_EFORMAT, "key 'rope_parameters.original_max_position_embeddings': missing"},
        {"llama_tiny", "{\"rope_parameters\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 4.0, "
                       "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}}",
         MN_EFORMAT, "key 'rope_parameters.high_freq_factor': 4 must exceed low_freq_factor 4"},
        {"llama_tiny", "{\"rope_parameters\": {\"rope_type\": \"linear\"}}", MN_EFORMAT,
         "key 'rope_parameters.factor': missing"},
        {"llama_tiny", "{\"-rope_parameters\": 0, \"rope_scaling\": [1]}", MN_EFORMAT, "key 'rope_scaling': expected an object"},
        {"qwen2_tiny", "{\"layer_types\": [\"full_attention\"]}", MN_EFORMAT, "key 'layer_types': 1 entries but num_hidden_layers is 2"},
        {"qwen2_tiny", "{\"use_sliding_window\": 1}", MN_EFORMAT, "key 'use_sliding_window': expected true or false"},
        {"qwen2_tiny", "{\"eos_token_id\": [\"x\"]}", MN_EFORMAT, "key 'eos_token_id[0]'"},
        {"qwen2_tiny", "{\"bos_token_id\": -2}", MN_EFORMAT, "key 'bos_token_id'"},
        {"qwen2_tiny", "{\"dtype\": 16}", MN_EFORMAT, "key 'dtype': expected a string"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *j = patched(rows[i].fixture, rows[i].patch);
        mn_config c;
        mn_err err = {0};
        int rc = load_via_file(j, &c, &err);
        json_decref(j);
        CHECK_MSG(rc == rows[i].code, "row %zu (%s %s): rc %d, message '%s'", i, rows[i].fixture, rows[i].patch,
                  rc, err.msg);
        CHECK_MSG(strstr(err.msg, rows[i].frag) != NULL, "row %zu: '%s' does not contain '%s'", i, err.msg,
                  rows[i].frag);
        CHECK_STR_CONTAINS(err.msg, "config.json: ");
        CHECK_EQ_INT(err.code, rc);
    }
}

/* Not JSON, or not an object. */
static void test_config_rejects_non_objects(void)
{
    static const struct {
        const char *text, *frag;
    } rows[] = {
        {"[1, 2]", "expected a JSON object"},
        {"{\"hidden_size\": 64,", "line 1"},
        {"", "empty file"},
        {"{\"a\": 1, \"a\": 2}", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *dir = stb_tmpdir();
        const char *path = stb_path(dir, "config.json");
        stb_write_bytes(path, rows[i].text, strlen(rows[i].text));
        mn_config c;
        mn_err err = {0};
        int rc = config_load(path, &c, &err);
        stb_rmdir(dir);
        CHECK_EQ_INT(rc, MN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "config.json: ");
        CHECK_STR_CONTAINS(err.msg, rows[i].frag);
    }
    mn_config c;
    mn_err err = {0};
    CHECK_EQ_INT(config_load("/nonexistent/config.json", &c, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/config.json: cannot open");
}

TEST_MAIN(TEST(test_config_fixtures), TEST(test_config_rope_inv_freq_matches_reference),
          TEST(test_config_old_layout_same_struct), TEST(test_config_linear_rope),
          TEST(test_config_accepted_variants), TEST(test_config_rejected_variants),
          TEST(test_config_rejects_non_objects))
