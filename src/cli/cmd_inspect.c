/* cmd_inspect.c — `mnemo inspect --model DIR`: load and validate a
 * checkpoint directory the way every model verb does (config.json, the
 * safetensors headers, every tensor's dtype and shape against the config)
 * and print what was found as one JSON object on stdout: the parsed
 * config, the RoPE frequencies, and a tensor summary including any tensors
 * the engine ignores.  On failure: the one-line error, exit 1.
 *
 * Non-goals: running the model (see `mnemo logits`), editing checkpoints.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"    /* args_parse, args_require */
#include "cli/verbs.h"   /* cli_fail */
#include "model/model.h" /* model_load */

static const arg_spec SPEC[] = {
    {"model", 1, "checkpoint directory (config.json + model.safetensors[.index.json])"},
    {"help", 0, "show this help"},
};
#define NSPEC ((int)(sizeof SPEC / sizeof SPEC[0]))

/* A float config value as the shortest decimal that reads back to it, so
 * 1e-5 prints as 1e-05 rather than 9.99999974737875e-06. */
static json_t *json_float(float f)
{
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if ((float)strtod(buf, NULL) == f)
            break;
    }
    return json_real(strtod(buf, NULL));
}

static json_t *json_int_or_null(int x) { return x < 0 ? json_null() : json_integer(x); }

static json_t *rope_json(const model *m)
{
    const mn_config *c = &m->cfg;
    static const char *const types[] = {[ROPE_DEFAULT] = "default", [ROPE_LLAMA3] = "llama3", [ROPE_LINEAR] = "linear"};
    json_t *r = json_object();
    json_object_set_new(r, "rope_type", json_string(types[c->rope_type]));
    json_object_set_new(r, "rope_theta", json_real(c->rope_theta));
    json_object_set_new(r, "rotary_dim", json_integer(c->rotary_dim));
    if (c->rope_type != ROPE_DEFAULT)
        json_object_set_new(r, "factor", json_real(c->rope_factor));
    if (c->rope_type == ROPE_LLAMA3) {
        json_object_set_new(r, "low_freq_factor", json_real(c->rope_low_freq_factor));
        json_object_set_new(r, "high_freq_factor", json_real(c->rope_high_freq_factor));
        json_object_set_new(r, "original_max_position_embeddings", json_integer(c->rope_original_max_pos));
    }
    json_t *inv = json_array();
    for (int i = 0; i < c->rotary_dim / 2; i++)
        json_array_append_new(inv, json_real(m->rope_inv_freq[i]));
    json_object_set_new(r, "inv_freq", inv);
    return r;
}

static json_t *config_json(const model *m)
{
    const mn_config *c = &m->cfg;
    json_t *o = json_object();
    json_object_set_new(o, "architecture", json_string(c->arch_name));
    json_object_set_new(o, "dtype", c->dtype[0] ? json_string(c->dtype) : json_null());
    json_object_set_new(o, "vocab_size", json_integer(c->V));
    json_object_set_new(o, "hidden_size", json_integer(c->C));
    json_object_set_new(o, "num_hidden_layers", json_integer(c->L));
    json_object_set_new(o, "num_attention_heads", json_integer(c->H));
    json_object_set_new(o, "num_key_value_heads", json_integer(c->KV));
    json_object_set_new(o, "head_dim", json_integer(c->D));
    json_object_set_new(o, "intermediate_size", json_integer(c->F));
    json_object_set_new(o, "max_position_embeddings", json_integer(c->max_pos));
    json_object_set_new(o, "norm", json_string(c->norm == NORM_RMS ? "rmsnorm" : "layernorm"));
    json_object_set_new(o, "norm_eps", json_float(c->norm_eps));
    json_object_set_new(o, "mlp", json_string(c->act == ACT_SILU_GLU ? "silu_glu" : "gelu_erf"));
    json_object_set_new(o, "qkv_bias", json_boolean(c->qkv_bias));
    json_object_set_new(o, "o_bias", json_boolean(c->o_bias));
    json_object_set_new(o, "mlp_bias", json_boolean(c->mlp_bias));
    json_object_set_new(o, "qk_norm", json_boolean(c->qk_norm));
    json_object_set_new(o, "tie_word_embeddings", json_boolean(c->tie_embeddings));
    json_object_set_new(o, "parallel_residual", json_boolean(c->parallel_residual));
    json_object_set_new(o, "rope", rope_json(m));
    json_object_set_new(o, "bos_token_id", json_int_or_null(c->bos_id));
    json_object_set_new(o, "eos_token_id", json_int_or_null(c->eos_id));
    return o;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Files, dtype counts, parameter counts, every tensor and the ignored ones. */
static json_t *weights_json(const model *m)
{
    json_t *o = json_object(), *files = json_array(), *dtypes = json_object(), *list = json_array(),
           *ignored = json_array();
    size_t n = st_count(m->st);
    for (size_t i = 0; i < n; i++) {
        const st_tensor *t = st_at(m->st, i);
        const char *file = base_name(t->file);
        size_t k = 0;
        while (k < json_array_size(files) && strcmp(json_string_value(json_array_get(files, k)), file) != 0)
            k++;
        if (k == json_array_size(files))
            json_array_append_new(files, json_string(file));
        const char *dt = st_dtype_name(t->dtype);
        json_object_set_new(dtypes, dt, json_integer(json_integer_value(json_object_get(dtypes, dt)) + 1));
        json_t *shape = json_array();
        for (int d = 0; d < t->ndim; d++)
            json_array_append_new(shape, json_integer(t->shape[d]));
        json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:s}", "name", t->name, "dtype", dt, "shape", shape,
                                              "file", file));
    }
    for (int i = 0; i < m->n_ignored; i++)
        json_array_append_new(ignored, json_string(m->ignored[i]));
    json_object_set_new(o, "source", json_string(base_name(st_source(m->st))));
    json_object_set_new(o, "files", files);
    json_object_set_new(o, "tensor_count", json_integer((json_int_t)n));
    json_object_set_new(o, "dtypes", dtypes);
    json_object_set_new(o, "parameters", json_integer((json_int_t)m->n_params));
    json_object_set_new(o, "f32_bytes", json_integer((json_int_t)model_f32_bytes(m)));
    json_object_set_new(o, "widened_bytes", json_integer((json_int_t)m->owned_bytes));
    json_object_set_new(o, "ignored_tensors", ignored);
    json_object_set_new(o, "tensors", list);
    return o;
}

int cmd_inspect(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    const char *dir;
    int rc = args_parse(&a, SPEC, NSPEC, argc, argv, &err);
    if (rc)
        return cli_fail(rc, err.msg);
    if (args_get(&a, "help")) {
        args_usage("inspect", "--model DIR", SPEC, NSPEC);
        args_free(&a);
        return 0;
    }
    if (a.npos > 0) {
        mn_errf(&err, MN_EUSAGE, "argument '%s': inspect takes no positional arguments", a.pos[0]);
        args_free(&a);
        return cli_fail(MN_EUSAGE, err.msg);
    }
    if ((rc = args_require(&a, "model", &dir, &err))) {
        args_free(&a);
        return cli_fail(rc, err.msg);
    }
    model *m;
    rc = model_load(dir, &m, &err);
    args_free(&a);
    if (rc)
        return cli_fail(rc, err.msg);
    json_t *out = json_object();
    json_object_set_new(out, "model", json_string(m->dir));
    json_object_set_new(out, "config", config_json(m));
    json_object_set_new(out, "weights", weights_json(m));
    model_free(m);
    char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(out);
    int ok = text && fputs(text, stdout) >= 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
    free(text);
    if (!ok)
        return cli_fail(MN_EIO, "inspect: stdout: write failed");
    return 0;
}
