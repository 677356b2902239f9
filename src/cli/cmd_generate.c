/* cmd_generate.c — `mnemo generate`: continue a prompt, greedy or sampled.
 *
 *   mnemo generate --model DIR --prompt-ids "I1 I2 ..." [--max-new-tokens N]
 *       prints the new token ids, space-separated, on one line
 *   mnemo generate --model DIR --prompt TEXT [--stop STRING] ...
 *       encodes TEXT with DIR/tokenizer.json (BOS first when the tokenizer
 *       declares one) and prints the decoded new text, cut before STRING
 *
 * Greedy unless a sampling flag is given (--temperature, --top-k, --top-p,
 * --seed; temperature defaults to 1 then, --temperature 0 is greedy).
 * Generation stops after --max-new-tokens (default 32), at the model's EOS
 * id, or once the decoded new text contains --stop (needs tokenizer.json;
 * also allowed with --prompt-ids, which then prints ids up to the token that
 * completed it).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"        /* args_parse, args_int, args_double, parse_id_list */
#include "cli/verbs.h"       /* cli_fail */
#include "model/forward.h"   /* engine_create */
#include "model/generate.h"  /* engine_generate, gen_seq */
#include "model/model.h"     /* model_load, model_check_ids */
#include "model/sampler.h"   /* sampler_create */
#include "model/tokenizer.h" /* tokenizer_load, tokenizer_encode, tokenizer_decode */
#include "util/path.h"       /* path_join */
#include "util/threads.h"    /* threads_set */

static const arg_spec spec[] = {
    {"model", 1, "checkpoint directory (config.json, *.safetensors[, tokenizer.json])"},
    {"prompt-ids", 1, "prompt token ids, e.g. \"12 7 301\""},
    {"prompt", 1, "prompt text (needs DIR/tokenizer.json); prints text"},
    {"max-new-tokens", 1, "tokens to generate at most (default 32)"},
    {"temperature", 1, "sampling temperature (0 = greedy; 1 when another sampling flag is given)"},
    {"top-k", 1, "sample from the k most likely tokens (0 = all)"},
    {"top-p", 1, "sample from the smallest set holding this probability, in (0, 1]"},
    {"seed", 1, "random seed (default 0)"},
    {"stop", 1, "stop once the generated text contains this string"},
    {"threads", 1, "threads for OpenBLAS and OpenMP (default: OPENBLAS_NUM_THREADS or all CPUs)"},
    {"help", 0, "show this help"},
};
#define NSPEC ((int)(sizeof spec / sizeof spec[0]))

/* Stop-string check: decode the new ids and look for the string. */
typedef struct stop_ctx {
    const tokenizer *tok;
    const char *stop;
    int hit; /* set once found */
} stop_ctx;

static int stop_on_string(void *p, const int32_t *ids, int n)
{
    stop_ctx *s = p;
    char *text;
    size_t len;
    mn_err err = {0};
    if (tokenizer_decode(s->tok, ids, (size_t)n, &text, &len, &err))
        return 0; /* an id without a token string cannot complete the stop string */
    s->hit = memmem(text, len, s->stop, strlen(s->stop)) != NULL;
    free(text);
    return s->hit;
}

/* Sampling flags -> params: greedy unless one is given. */
static int read_sampling(const args *a, sampler_params *p, mn_err *err)
{
    *p = sampler_params_greedy();
    int sampling = args_get(a, "temperature") || args_get(a, "top-k") || args_get(a, "top-p") ||
                   args_get(a, "seed");
    if (!sampling)
        return MN_OK;
    long top_k = 0, seed = 0;
    p->temperature = 1.0;
    int rc = args_double(a, "temperature", 0.0, 1e6, &p->temperature, err);
    if (!rc)
        rc = args_int(a, "top-k", 0, INT_MAX, &top_k, err);
    if (!rc)
        rc = args_double(a, "top-p", 0.0, 1.0, &p->top_p, err);
    if (!rc)
        rc = args_int(a, "seed", 0, LONG_MAX, &seed, err);
    if (!rc && p->top_p <= 0.0)
        rc = mn_errf(err, MN_EUSAGE, "--top-p: must be in (0, 1]");
    p->top_k = (int)top_k;
    p->seed = (uint64_t)seed;
    return rc;
}

/* The prompt: --prompt-ids, or --prompt encoded (BOS first if declared). */
static int read_prompt(const args *a, const tokenizer *tok, int32_t **ids, size_t *n, mn_err *err)
{
    const char *ids_s = args_get(a, "prompt-ids"), *text = args_get(a, "prompt");
    if (ids_s)
        return parse_id_list("--prompt-ids", ids_s, 0, ids, n, err);
    int32_t *enc;
    size_t n_enc;
    int rc = tokenizer_encode(tok, text, strlen(text), 0, &enc, &n_enc, err);
    if (rc)
        return mn_err_prefix(err, "--prompt: ");
    int32_t bos = tokenizer_bos_id(tok);
    *n = n_enc + (bos >= 0);
    *ids = xmalloc((*n ? *n : 1) * sizeof **ids);
    if (bos >= 0)
        (*ids)[0] = bos;
    if (n_enc)
        memcpy(*ids + (bos >= 0), enc, n_enc * sizeof *enc);
    free(enc);
    if (*n == 0)
        return mn_errf(err, MN_EUSAGE, "--prompt: encodes to no tokens");
    return MN_OK;
}

/* Print the new text, without a final EOS token and cut before the stop
 * string. */
static int print_text(const tokenizer *tok, const int32_t *ids, int n, int eos, const char *stop,
                      mn_err *err)
{
    if (n > 0 && ids[n - 1] == eos)
        n--;
    char *text;
    size_t len;
    int rc = tokenizer_decode(tok, ids, (size_t)n, &text, &len, err);
    if (rc)
        return rc;
    const char *cut = stop ? memmem(text, len, stop, strlen(stop)) : NULL;
    if (cut)
        len = (size_t)(cut - text);
    fwrite(text, 1, len, stdout);
    putchar('\n');
    free(text);
    return MN_OK;
}

int cmd_generate(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    if (args_parse(&a, spec, NSPEC, argc, argv, &err))
        return cli_fail(err.code, err.msg);
    if (args_get(&a, "help")) {
        args_usage("generate",
                   "--model DIR (--prompt-ids \"...\" | --prompt TEXT) [--max-new-tokens N] "
                   "[--temperature X --top-k K --top-p P --seed S] [--stop STRING] [--threads N]",
                   spec, NSPEC);
        args_free(&a);
        return 0;
    }
    model *m = NULL;
    tokenizer *tok = NULL;
    engine *e = NULL;
    sampler *smp = NULL;
    int32_t *prompt = NULL, *out = NULL;
    size_t n_prompt = 0;
    long max_new = 32, threads = 0;
    sampler_params sp;
    const char *dir, *stop = args_get(&a, "stop");
    int text_mode = args_get(&a, "prompt") != NULL;
    int rc = args_require(&a, "model", &dir, &err);
    if (!rc)
        rc = args_int(&a, "max-new-tokens", 0, INT_MAX, &max_new, &err);
    if (!rc)
        rc = args_int(&a, "threads", 1, 4096, &threads, &err);
    if (!rc)
        rc = read_sampling(&a, &sp, &err);
    if (!rc && !!args_get(&a, "prompt-ids") == text_mode)
        rc = mn_errf(&err, MN_EUSAGE, "give exactly one of --prompt-ids and --prompt");
    if (!rc && stop && !*stop)
        rc = mn_errf(&err, MN_EUSAGE, "--stop: empty string");
    if (rc)
        goto done;
    threads_set((int)threads);
    if ((rc = model_load(dir, &m, &err)))
        goto done;
    if (text_mode || stop) {
        char *path = path_join(dir, "tokenizer.json");
        rc = tokenizer_load(path, &tok, &err);
        free(path);
        if (rc)
            goto done;
    }
    const char *what = text_mode ? "--prompt" : "--prompt-ids";
    if ((rc = read_prompt(&a, tok, &prompt, &n_prompt, &err)) ||
        (rc = model_check_ids(m, prompt, n_prompt, what, &err)))
        goto done;
    if (n_prompt + (size_t)max_new > (size_t)m->cfg.max_pos) {
        rc = mn_errf(&err, MN_ERANGE,
                     "%s: %zu prompt + %ld new tokens exceed max_position_embeddings %d of %s", what,
                     n_prompt, max_new, m->cfg.max_pos, dir);
        goto done;
    }
    if ((rc = engine_create(m, n_prompt < 512 ? (int)n_prompt : 512, 1,
                            (int)(n_prompt + (size_t)max_new), &e, &err)) ||
        (rc = sampler_create(&sp, m->cfg.V, &smp, &err)))
        goto done;
    out = xmalloc((size_t)(max_new ? max_new : 1) * sizeof *out);
    stop_ctx sc = {tok, stop, 0};
    gen_seq g = {.slot = 0, .prompt = prompt, .n_prompt = (int)n_prompt, .max_new = (int)max_new,
                 .smp = smp, .stop = stop ? stop_on_string : NULL, .stop_ctx = &sc, .out = out};
    if ((rc = engine_generate(e, &g, 1, &err)))
        goto done;
    if (text_mode) {
        rc = print_text(tok, out, g.n_out, m->cfg.eos_id, stop, &err);
    } else {
        for (int i = 0; i < g.n_out; i++)
            printf(i ? " %d" : "%d", out[i]);
        putchar('\n');
    }
done:
    free(out);
    free(prompt);
    sampler_free(smp);
    engine_free(e);
    tokenizer_free(tok);
    model_free(m);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}
