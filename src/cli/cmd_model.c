/* cmd_model.c — the verbs that run the model once over a token sequence:
 *
 *   mnemo logits --model DIR --ids "I1 I2 ..." --out FILE     T x V float32
 *   mnemo hidden --model DIR --ids "..." --out FILE           (L+1) x T x C float32
 *   mnemo loglik --model DIR --context-ids "..." --continuation-ids "..."
 *                                                 {"logprob": X, "greedy": B}
 *   mnemo embed  --model DIR (--ids "..." | --text S) [--pooling last|mean]
 *                                                 [e1, e2, ...] (unit L2 norm)
 *   mnemo embed  --db DIR --model DIR ...         embeds a retrieval DB: see
 *                                                 cli/cmd_embed_db.c
 *
 * All take --threads N (default: OPENBLAS_NUM_THREADS, else every CPU).
 * Output files are raw little-endian float32, row-major, written through
 * util/outfile.h: on any failure no file (and no partial file) is left.
 * Errors are one line on stderr, exit status 2 for usage errors, 1 for the
 * rest (bad ids, a model that fails to load, a sequence longer than
 * max_position_embeddings).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"        /* args_parse, args_require, args_int, parse_id_list */
#include "cli/verbs.h"       /* cli_fail */
#include "model/embed.h"     /* engine_embed */
#include "model/forward.h"   /* engine_create, engine_forward */
#include "model/loglik.h"    /* engine_loglik */
#include "model/model.h"     /* model_load, model_check_ids */
#include "model/tokenizer.h" /* tokenizer_load, tokenizer_encode (embed --text) */
#include "util/outfile.h"    /* outfile_open, outfile_write, outfile_commit */
#include "util/path.h"       /* path_join */
#include "util/threads.h"    /* threads_set */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "output files are written as the host's floats, which must be little-endian"
#endif

#define MODEL_HELP "checkpoint directory (config.json, *.safetensors)"
#define THREADS_HELP "threads for OpenBLAS and OpenMP (default: OPENBLAS_NUM_THREADS or all CPUs)"

/* Parse --help / flags; returns -1 to go on, else the exit status. */
static int parse_or_help(args *a, const char *verb, const char *synopsis, const arg_spec *spec,
                         int nspec, int argc, char **argv)
{
    mn_err err = {0};
    if (args_parse(a, spec, nspec, argc, argv, &err))
        return cli_fail(err.code, err.msg);
    if (args_get(a, "help")) {
        args_usage(verb, synopsis, spec, nspec);
        args_free(a);
        return 0;
    }
    return -1;
}

/* --threads, then load --model. */
static int load_model(const args *a, model **m, mn_err *err)
{
    long threads = 0;
    const char *dir;
    int rc = args_int(a, "threads", 1, 4096, &threads, err);
    if (!rc)
        rc = args_require(a, "model", &dir, err);
    if (rc)
        return rc;
    threads_set((int)threads);
    return model_load(dir, m, err);
}

/* Check ids[0..n) of flag `what` against the vocabulary and the context. */
static int check_ids(const model *m, const int32_t *ids, size_t n, const char *what, mn_err *err)
{
    int rc = model_check_ids(m, ids, n, what, err);
    if (!rc && n > (size_t)m->cfg.max_pos)
        rc = mn_errf(err, MN_ERANGE, "%s: %zu tokens exceed max_position_embeddings %d of %s", what,
                     n, m->cfg.max_pos, m->dir);
    return rc;
}

/* Parse and check the id list of flag `name` ("ids" -> "--ids"). */
static int read_ids(const args *a, const model *m, const char *name, int32_t **ids, size_t *n,
                    mn_err *err)
{
    const char *s;
    char what[64];
    snprintf(what, sizeof what, "--%s", name);
    int rc = args_require(a, name, &s, err);
    if (!rc)
        rc = parse_id_list(what, s, 0, ids, n, err);
    if (!rc && (rc = check_ids(m, *ids, *n, what, err))) {
        free(*ids);
        *ids = NULL;
    }
    return rc;
}

/* Write n floats to path atomically. */
static int write_floats(const char *path, const float *x, size_t n, mn_err *err)
{
    outfile o;
    int rc = outfile_open(&o, path, err);
    if (rc)
        return rc;
    rc = outfile_write(&o, x, n * sizeof(float), err);
    if (rc) {
        outfile_abort(&o);
        return rc;
    }
    return outfile_commit(&o, err);
}

static float *try_floats(size_t n, const char *what, mn_err *err)
{
    float *p = malloc(n * sizeof(float));
    if (!p)
        mn_errf(err, MN_ENOMEM, "%s: needs %.1f MiB", what, n * sizeof(float) / (1024.0 * 1024.0));
    return p;
}

/* ---------------------------------------------------------------------------
 * logits / hidden: one forward pass over --ids, output written to --out.
 */
static int run_to_file(int argc, char **argv, const char *verb, int flags)
{
    static const arg_spec spec[] = {
        {"model", 1, MODEL_HELP},
        {"ids", 1, "token ids, e.g. \"12 7 301\""},
        {"out", 1, "output file (float32, little-endian, row-major)"},
        {"threads", 1, THREADS_HELP},
        {"help", 0, "show this help"},
    };
    int nspec = (int)(sizeof spec / sizeof spec[0]);
    args a;
    int st = parse_or_help(&a, verb, "--model DIR --ids \"I1 I2 ...\" --out FILE [--threads N]",
                           spec, nspec, argc, argv);
    if (st >= 0)
        return st;
    mn_err err = {0};
    model *m = NULL;
    engine *e = NULL;
    int32_t *ids = NULL;
    float *out = NULL;
    size_t n = 0, count = 0;
    const char *path;
    int rc = args_require(&a, "out", &path, &err);
    if (!rc)
        rc = load_model(&a, &m, &err);
    if (!rc)
        rc = read_ids(&a, m, "ids", &ids, &n, &err);
    if (rc)
        goto done;
    const mn_config *cfg = &m->cfg;
    count = flags == ENGINE_LOGITS_ALL ? n * cfg->V : (size_t)(cfg->L + 1) * n * cfg->C;
    if ((rc = engine_create(m, n < 512 ? (int)n : 512, 1, (int)n, &e, &err)) ||
        !(out = try_floats(count, verb, &err))) {
        rc = rc ? rc : err.code;
        goto done;
    }
    engine_seg s = {0, (int)n, ids};
    rc = engine_forward(e, &s, 1, flags, flags == ENGINE_LOGITS_ALL ? out : NULL,
                        flags == ENGINE_LOGITS_ALL ? NULL : out, &err);
    if (!rc)
        rc = write_floats(path, out, count, &err);
done:
    free(out);
    free(ids);
    engine_free(e);
    model_free(m);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}

int cmd_logits(int argc, char **argv) { return run_to_file(argc, argv, "logits", ENGINE_LOGITS_ALL); }
int cmd_hidden(int argc, char **argv) { return run_to_file(argc, argv, "hidden", ENGINE_HIDDEN_ALL); }

/* ---------------------------------------------------------------------------
 * loglik
 */
int cmd_loglik(int argc, char **argv)
{
    static const arg_spec spec[] = {
        {"model", 1, MODEL_HELP},
        {"context-ids", 1, "context token ids (at least one)"},
        {"continuation-ids", 1, "continuation token ids (at least one)"},
        {"threads", 1, THREADS_HELP},
        {"help", 0, "show this help"},
    };
    int nspec = (int)(sizeof spec / sizeof spec[0]);
    args a;
    int st = parse_or_help(&a, "loglik",
                           "--model DIR --context-ids \"...\" --continuation-ids \"...\" [--threads N]",
                           spec, nspec, argc, argv);
    if (st >= 0)
        return st;
    mn_err err = {0};
    model *m = NULL;
    engine *e = NULL;
    int32_t *ctx = NULL, *cont = NULL;
    size_t n_ctx = 0, n_cont = 0;
    int rc = load_model(&a, &m, &err);
    if (!rc)
        rc = read_ids(&a, m, "context-ids", &ctx, &n_ctx, &err);
    if (!rc)
        rc = read_ids(&a, m, "continuation-ids", &cont, &n_cont, &err);
    if (!rc && n_ctx + n_cont > (size_t)m->cfg.max_pos)
        rc = mn_errf(&err, MN_ERANGE,
                     "--continuation-ids: %zu context + %zu continuation tokens exceed max_position_embeddings %d of %s",
                     n_ctx, n_cont, m->cfg.max_pos, m->dir);
    if (!rc)
        rc = engine_create(m, 512, 1, (int)(n_ctx + n_cont), &e, &err);
    double logprob;
    int greedy;
    if (!rc)
        rc = engine_loglik(e, 0, ctx, (int)n_ctx, cont, (int)n_cont, &logprob, &greedy, NULL, &err);
    if (!rc)
        printf("{\"logprob\": %.17g, \"greedy\": %s}\n", logprob, greedy ? "true" : "false");
    free(ctx);
    free(cont);
    engine_free(e);
    model_free(m);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}

/* ---------------------------------------------------------------------------
 * embed
 */

/* --text through DIR/tokenizer.json (no BOS added). */
static int encode_text(const model *m, const char *text, int32_t **ids, size_t *n, mn_err *err)
{
    char *path = path_join(m->dir, "tokenizer.json");
    tokenizer *tok;
    int rc = tokenizer_load(path, &tok, err);
    free(path);
    if (rc)
        return rc;
    rc = tokenizer_encode(tok, text, strlen(text), 0, ids, n, err);
    tokenizer_free(tok);
    if (!rc && *n == 0)
        rc = mn_errf(err, MN_EUSAGE, "--text: encodes to no tokens");
    if (!rc && (rc = check_ids(m, *ids, *n, "--text", err))) {
        free(*ids);
        *ids = NULL;
    }
    return rc;
}

int cmd_embed(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) /* --db: the retrieval DB variant */
        if (!strcmp(argv[i], "--db") || !strncmp(argv[i], "--db=", 5))
            return cmd_embed_db(argc, argv);
    static const arg_spec spec[] = {
        {"model", 1, MODEL_HELP},
        {"ids", 1, "token ids to embed"},
        {"text", 1, "text to embed instead of --ids (needs DIR/tokenizer.json)"},
        {"pooling", 1, "last (default: the last token's final hidden state) or mean"},
        {"threads", 1, THREADS_HELP},
        {"help", 0, "show this help"},
    };
    int nspec = (int)(sizeof spec / sizeof spec[0]);
    args a;
    int st = parse_or_help(&a, "embed",
                           "--model DIR (--ids \"...\" | --text S) [--pooling last|mean] [--threads N]",
                           spec, nspec, argc, argv);
    if (st >= 0)
        return st;
    mn_err err = {0};
    model *m = NULL;
    engine *e = NULL;
    int32_t *ids = NULL;
    float *out = NULL;
    size_t n = 0;
    int rc = MN_OK;
    const char *pooling = args_get(&a, "pooling"), *text = args_get(&a, "text");
    embed_pooling pool = EMBED_POOL_LAST;
    if (pooling && !strcmp(pooling, "mean"))
        pool = EMBED_POOL_MEAN;
    else if (pooling && strcmp(pooling, "last"))
        rc = mn_errf(&err, MN_EUSAGE, "--pooling: '%s' is not 'last' or 'mean'", pooling);
    if (!rc && !!text == !!args_get(&a, "ids"))
        rc = mn_errf(&err, MN_EUSAGE, "give exactly one of --ids and --text");
    if (!rc)
        rc = load_model(&a, &m, &err);
    if (!rc)
        rc = text ? encode_text(m, text, &ids, &n, &err) : read_ids(&a, m, "ids", &ids, &n, &err);
    if (!rc)
        rc = engine_create(m, n < 512 ? (int)n : 512, 1, (int)n, &e, &err);
    if (!rc) {
        out = xmalloc((size_t)m->cfg.C * sizeof *out);
        rc = engine_embed(e, 0, ids, (int)n, pool, out, &err);
    }
    if (!rc) {
        putchar('[');
        for (int c = 0; c < m->cfg.C; c++)
            printf(c ? ", %.9g" : "%.9g", out[c]);
        puts("]");
    }
    free(out);
    free(ids);
    engine_free(e);
    model_free(m);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}
