/* bench_make_random_llama.c — write a random-weight LlamaForCausalLM
 * checkpoint in Hugging Face layout, the subject of the engine benchmark.
 *
 *   bench_make_random_llama DIR [--dim C] [--layers L] [--heads H]
 *       [--kv-heads KV] [--ffn F] [--vocab V] [--rope-theta X] [--seed N]
 *
 * Writes DIR/config.json (transformers-5 layout: rope_parameters, dtype) and
 * DIR/model.safetensors (float32, untied lm_head).  Matrices are N(0, 0.02²)
 * (transformers' initializer_range 0.02), norm weights 1 + N(0, 0.02²).
 * Defaults: the ~125M-parameter model of the benchmark (dim 768, 12 layers,
 * 12 heads, 4 kv heads, ffn 2048, vocab 32000, rope_theta 10000).
 * Every tensor draws from its own stream, seeded from (seed, tensor index),
 * so the output is a pure function of the arguments.  Both files appear
 * whole or not at all (util/outfile).
 *
 * Non-goals: other architectures or dtypes, trained-looking weights, a
 * tokenizer (the benchmark feeds token ids).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/err.h"
#include "util/outfile.h"

typedef struct rl_opts {
    int C, L, H, KV, F, V;
    double rope_theta;
    uint64_t seed;
} rl_opts;

typedef struct rl_tensor {
    char name[96];
    int64_t rows, cols; /* cols == 0: a 1-D [rows] tensor */
    int is_norm;        /* 1 + N(0, 0.02²) instead of N(0, 0.02²) */
} rl_tensor;

/* splitmix64: seeds and a fast, good-enough 64-bit stream. */
static uint64_t rl_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Fill n floats with mean + sd * N(0, 1) (Box–Muller, both outputs used). */
static void rl_fill_normal(uint64_t *s, float *dst, size_t n, float mean, float sd)
{
    const double two_pi = 6.283185307179586;
    size_t i = 0;
    while (i < n) {
        uint64_t r = rl_next(s);
        /* two 32-bit uniforms in (0, 1] and [0, 1) */
        double u1 = ((double)(r >> 32) + 1.0) / 4294967296.0;
        double u2 = (double)(r & 0xFFFFFFFFu) / 4294967296.0;
        double rad = sqrt(-2.0 * log(u1));
        dst[i++] = mean + sd * (float)(rad * cos(two_pi * u2));
        if (i < n)
            dst[i++] = mean + sd * (float)(rad * sin(two_pi * u2));
    }
}

static int rl_parse_int(const char *flag, const char *v, int *out, mn_err *err)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || x <= 0 || x > (1 << 20))
        return mn_errf(err, MN_EUSAGE, "argument %s: '%s' is not an integer in [1, 1048576]", flag, v);
    *out = (int)x;
    return MN_OK;
}

static int rl_parse_args(int argc, char **argv, const char **dir, rl_opts *o, mn_err *err)
{
    *o = (rl_opts){.C = 768, .L = 12, .H = 12, .KV = 4, .F = 2048, .V = 32000,
                   .rope_theta = 10000.0, .seed = 20261121};
    *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (*dir)
                return mn_errf(err, MN_EUSAGE, "argument %d: '%s': only one DIR is accepted", i, a);
            *dir = a;
            continue;
        }
        if (i + 1 >= argc)
            return mn_errf(err, MN_EUSAGE, "argument %d: %s needs a value", i, a);
        const char *v = argv[++i];
        int rc = MN_OK;
        if (!strcmp(a, "--dim")) rc = rl_parse_int(a, v, &o->C, err);
        else if (!strcmp(a, "--layers")) rc = rl_parse_int(a, v, &o->L, err);
        else if (!strcmp(a, "--heads")) rc = rl_parse_int(a, v, &o->H, err);
        else if (!strcmp(a, "--kv-heads")) rc = rl_parse_int(a, v, &o->KV, err);
        else if (!strcmp(a, "--ffn")) rc = rl_parse_int(a, v, &o->F, err);
        else if (!strcmp(a, "--vocab")) rc = rl_parse_int(a, v, &o->V, err);
        else if (!strcmp(a, "--rope-theta")) {
            char *end;
            o->rope_theta = strtod(v, &end);
            if (*v == '\0' || *end != '\0' || !(o->rope_theta > 1.0))
                rc = mn_errf(err, MN_EUSAGE, "argument %s: '%s' is not a number > 1", a, v);
        } else if (!strcmp(a, "--seed")) {
            char *end;
            o->seed = strtoull(v, &end, 10);
            if (*v == '\0' || *end != '\0')
                rc = mn_errf(err, MN_EUSAGE, "argument %s: '%s' is not an unsigned integer", a, v);
        } else
            rc = mn_errf(err, MN_EUSAGE, "argument %d: unknown flag '%s'", i - 1, a);
        if (rc)
            return rc;
    }
    if (!*dir)
        return mn_errf(err, MN_EUSAGE, "missing DIR (usage: bench_make_random_llama DIR [--dim C] "
                       "[--layers L] [--heads H] [--kv-heads KV] [--ffn F] [--vocab V] "
                       "[--rope-theta X] [--seed N])");
    if (o->C % o->H || (o->C / o->H) % 2 || o->H % o->KV)
        return mn_errf(err, MN_EUSAGE, "--dim %d / --heads %d / --kv-heads %d: dim must be a multiple "
                       "of heads with an even head size, heads a multiple of kv-heads", o->C, o->H, o->KV);
    return MN_OK;
}

/* The tensor list in file order; returns the count (caller frees *out). */
static int rl_tensors(const rl_opts *o, rl_tensor **out)
{
    int D = o->C / o->H, n = 0;
    rl_tensor *t = xcalloc((size_t)(3 + 9 * o->L), sizeof *t);
#define RL_ADD(norm, r, c, ...)                                         \
    do {                                                                \
        snprintf(t[n].name, sizeof t[n].name, __VA_ARGS__);             \
        t[n].rows = (r), t[n].cols = (c), t[n].is_norm = (norm);        \
        n++;                                                            \
    } while (0)
    RL_ADD(0, o->V, o->C, "model.embed_tokens.weight");
    for (int l = 0; l < o->L; l++) {
        RL_ADD(1, o->C, 0, "model.layers.%d.input_layernorm.weight", l);
        RL_ADD(0, (int64_t)o->H * D, o->C, "model.layers.%d.self_attn.q_proj.weight", l);
        RL_ADD(0, (int64_t)o->KV * D, o->C, "model.layers.%d.self_attn.k_proj.weight", l);
        RL_ADD(0, (int64_t)o->KV * D, o->C, "model.layers.%d.self_attn.v_proj.weight", l);
        RL_ADD(0, o->C, (int64_t)o->H * D, "model.layers.%d.self_attn.o_proj.weight", l);
        RL_ADD(1, o->C, 0, "model.layers.%d.post_attention_layernorm.weight", l);
        RL_ADD(0, o->F, o->C, "model.layers.%d.mlp.gate_proj.weight", l);
        RL_ADD(0, o->F, o->C, "model.layers.%d.mlp.up_proj.weight", l);
        RL_ADD(0, o->C, o->F, "model.layers.%d.mlp.down_proj.weight", l);
    }
    RL_ADD(1, o->C, 0, "model.norm.weight");
    RL_ADD(0, o->V, o->C, "lm_head.weight");
#undef RL_ADD
    *out = t;
    return n;
}

static int64_t rl_numel(const rl_tensor *t) { return t->cols ? t->rows * t->cols : t->rows; }

static int rl_write_config(const char *dir, const rl_opts *o, mn_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    outfile of;
    int rc = outfile_open(&of, path, err);
    if (rc)
        return rc;
    fprintf(of.f,
            "{\n"
            "  \"architectures\": [\n    \"LlamaForCausalLM\"\n  ],\n"
            "  \"attention_bias\": false,\n"
            "  \"attention_dropout\": 0.0,\n"
            "  \"bos_token_id\": 1,\n"
            "  \"dtype\": \"float32\",\n"
            "  \"eos_token_id\": 2,\n"
            "  \"head_dim\": %d,\n"
            "  \"hidden_act\": \"silu\",\n"
            "  \"hidden_size\": %d,\n"
            "  \"initializer_range\": 0.02,\n"
            "  \"intermediate_size\": %d,\n"
            "  \"max_position_embeddings\": 2048,\n"
            "  \"mlp_bias\": false,\n"
            "  \"model_type\": \"llama\",\n"
            "  \"num_attention_heads\": %d,\n"
            "  \"num_hidden_layers\": %d,\n"
            "  \"num_key_value_heads\": %d,\n"
            "  \"pad_token_id\": null,\n"
            "  \"pretraining_tp\": 1,\n"
            "  \"rms_norm_eps\": 1e-05,\n"
            "  \"rope_parameters\": {\n"
            "    \"rope_theta\": %.1f,\n"
            "    \"rope_type\": \"default\"\n"
            "  },\n"
            "  \"tie_word_embeddings\": false,\n"
            "  \"transformers_version\": \"5.17.0\",\n"
            "  \"use_cache\": true,\n"
            "  \"vocab_size\": %d\n"
            "}\n",
            o->C / o->H, o->C, o->F, o->H, o->L, o->KV, o->rope_theta, o->V);
    if (ferror(of.f)) {
        outfile_abort(&of);
        return mn_errf(err, MN_EIO, "%s: write failed", path);
    }
    return outfile_commit(&of, err);
}

/* The safetensors header: JSON padded with spaces to a multiple of 8. */
static char *rl_header(const rl_tensor *t, int n, size_t *len)
{
    size_t cap = 256 + (size_t)n * 192, pos = 0;
    char *h = xmalloc(cap);
    uint64_t off = 0;
    pos += (size_t)snprintf(h + pos, cap - pos, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n; i++) {
        uint64_t nb = (uint64_t)rl_numel(&t[i]) * 4;
        if (t[i].cols)
            pos += (size_t)snprintf(h + pos, cap - pos,
                                    ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[%llu,%llu]}",
                                    t[i].name, (long long)t[i].rows, (long long)t[i].cols,
                                    (unsigned long long)off, (unsigned long long)(off + nb));
        else
            pos += (size_t)snprintf(h + pos, cap - pos,
                                    ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%llu,%llu]}",
                                    t[i].name, (long long)t[i].rows,
                                    (unsigned long long)off, (unsigned long long)(off + nb));
        off += nb;
    }
    h[pos++] = '}';
    while (pos % 8)
        h[pos++] = ' ';
    *len = pos;
    return h;
}

static int rl_write_weights(const char *dir, const rl_opts *o, int64_t *n_params, mn_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    rl_tensor *t = NULL;
    int n = rl_tensors(o, &t);
    size_t hlen;
    char *h = rl_header(t, n, &hlen);
    const size_t chunk = (size_t)1 << 20;
    float *buf = xmalloc(chunk * sizeof *buf);
    outfile of = {0};
    int rc = outfile_open(&of, path, err);
    if (rc)
        goto fail;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    if ((rc = outfile_write(&of, len8, 8, err)) || (rc = outfile_write(&of, h, hlen, err)))
        goto fail;
    *n_params = 0;
    for (int i = 0; i < n; i++) {
        uint64_t s = o->seed;
        s = rl_next(&s) ^ (uint64_t)i * 0xD1B54A32D192ED03ull;
        size_t left = (size_t)rl_numel(&t[i]);
        *n_params += (int64_t)left;
        while (left) {
            size_t k = left < chunk ? left : chunk;
            rl_fill_normal(&s, buf, k, t[i].is_norm ? 1.0f : 0.0f, 0.02f);
            if ((rc = outfile_write(&of, buf, k * sizeof *buf, err)))
                goto fail;
            left -= k;
        }
    }
    rc = outfile_commit(&of, err);
    goto done;
fail:
    outfile_abort(&of);
done:
    free(buf);
    free(h);
    free(t);
    return rc;
}

int main(int argc, char **argv)
{
    mn_err err = {0};
    const char *dir;
    rl_opts o;
    int64_t n_params = 0;
    int rc = rl_parse_args(argc, argv, &dir, &o, &err);
    if (!rc && mkdir(dir, 0777) != 0) {
        struct stat st;
        int e = errno;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = mn_errf(&err, MN_EIO, "%s: cannot create directory: %s", dir, strerror(e));
    }
    if (!rc)
        rc = rl_write_config(dir, &o, &err);
    if (!rc)
        rc = rl_write_weights(dir, &o, &n_params, &err);
    if (rc) {
        fprintf(stderr, "bench_make_random_llama: %s\n", err.msg);
        return mn_exit_code(rc);
    }
    printf("%s: LlamaForCausalLM dim %d, %d layers, %d/%d heads, ffn %d, vocab %d: "
           "%lld parameters (%.1f MB f32)\n",
           dir, o.C, o.L, o.H, o.KV, o.F, o.V, (long long)n_params, n_params * 4.0 / 1e6);
    return 0;
}
