/* cmd_eval.c — `mnemo eval`: a model on a benchmark, with optional
 * retrieval and test-time compute (bench/eval.h does the work).
 *
 *   mnemo eval --model DIR --bench KIND:PATH --out DIR [--limit N] [--shots N]
 *              [--retrieval DB --k K --mode bm25|dense|hybrid [--rerank self|MODEL_DIR --rerank-depth N]]
 *              [--ttc greedy|sc:K|docsc|bestofn:N] ...
 *
 * Writes DIR/items.jsonl, DIR/summary.json and DIR/<model>/results_<date>.json
 * and prints "mnemo: eval: N items, accuracy A" on stderr.  DIR/.mnemo.lock
 * (util/dirlock.h) keeps a second eval, run, contam or multiplier out of
 * DIR while this one writes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/eval.h"
#include "cli/args.h"
#include "cli/verbs.h"
#include "util/dirlock.h"  /* dirlock_take: one writer per output folder */
#include "util/outfile.h"  /* make_dirs, outfile_clean_dead */

static const arg_spec spec[] = {
    {"model", 1, "model directory (config.json, safetensors, tokenizer.json)"},
    {"tokenizer", 1, "tokenizer.json (default MODEL_DIR/tokenizer.json)"},
    {"bench", 1, "KIND:PATH with KIND mmlu|gpqa|math500|simpleqa|jsonl (files, directories, archives)"},
    {"out", 1, "output directory (items.jsonl, summary.json, <model>/results_<date>.json)"},
    {"split", 1, "MMLU split in directories and archives (default test)"},
    {"limit", 1, "first N items only"},
    {"shots", 1, "few-shot examples (MMLU: from the dev split of the same subject)"},
    {"shots-from", 1, "KIND:PATH of the few-shot pool for other benchmarks"},
    {"method", 1, "auto (default: log-likelihood for multiple choice), loglik or generate"},
    {"style", 1, "prompt style: mc-letters, mc-texts, mc-generate, math, qa (default by benchmark)"},
    {"chat", 1, "none (default), auto (by model type), chatml, llama3 or custom:TEMPLATE"},
    {"system", 1, "system prompt"},
    {"math-cot", 0, "math: zero-shot 'reason step by step ... \\boxed{}' prompt"},
    {"add-bos", 0, "prepend the tokenizer's BOS token (lm-eval add_bos_token)"},
    {"retrieval", 1, "retrieval DB: the top-k passages go into each prompt"},
    {"k", 1, "passages retrieved per item (default 3)"},
    {"mode", 1, "bm25 (default), dense or hybrid"},
    {"embed-model", 1, "dense/hybrid: the model the DB was embedded with"},
    {"budget", 1, "passage tokens per prompt (default 1024)"},
    {"order", 1, "best-first (default) or best-last"},
    {"decontaminate", 1, "drop retrieved passages sharing a word N-gram with the item (e.g. 13)"},
    {"rerank", 1, "rerank the first stage's candidates, keep the best k: self (the model's log P(question | "
                  "passage), UPR) or a Qwen3-Reranker-style MODEL_DIR (P(yes))"},
    {"rerank-depth", 1, "first-stage candidates to rerank (default max(k, 20); >= k)"},
    {"ttc", 1, "greedy (default), sc:K, docsc or bestofn:N"},
    {"verifier", 1, "bestofn: a Qwen3-Reranker-style model scoring (question, response)"},
    {"temperature", 1, "sampling temperature (default 0.7 for sc:K / bestofn:N with K > 1, else 0)"},
    {"top-p", 1, "nucleus sampling (default 1)"},
    {"top-k", 1, "top-k sampling (default 0: off)"},
    {"max-new-tokens", 1, "new tokens per sample (default 256)"},
    {"seed", 1, "run seed (default 1234)"},
    {"batch", 1, "questions / sequences per engine pass (default 8)"},
    {"chunk", 1, "items scored together (default 8; results depend on it only through float rounding)"},
    {"threads", 1, "threads (default: all cores)"},
    {"on-error", 1, "fail (default) or skip malformed rows"},
    {"gpqa-seed", 1, "seed of GPQA's option order (default 1234)"},
    {"member", 1, "read only this archive member (e.g. dataset/gpqa_main.csv in GPQA's dataset.zip)"},
    {"passphrase", 1, "passphrase of an encrypted zip (GPQA's dataset.zip)"},
    {"fields", 1, "jsonl field names: id=F,question=F,answer=F,choices=F,subject=F"},
    {"created", 1, "ISO 8601 UTC time written into the summaries (default now; for reproducible files)"},
    {"help", 0, "show this help"},
};
#define NSPEC ((int)(sizeof spec / sizeof spec[0]))
#define SYNOPSIS                                                                                                   \
    "--model DIR --bench KIND:PATH --out DIR [--limit N] [--shots N] [--retrieval DB --k K [--rerank self|DIR]] "   \
    "[--ttc ...]"

/* "id=ID,question=Q,..." into the jsonl field names (pointing into s). */
static int parse_fields(char *s, bench_fields *f, mn_err *err)
{
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            return mn_errf(err, MN_EUSAGE, "--fields: '%s' is not NAME=FIELD", tok);
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(tok, "id")) f->id = v;
        else if (!strcmp(tok, "question")) f->question = v;
        else if (!strcmp(tok, "answer")) f->answer = v;
        else if (!strcmp(tok, "choices")) f->choices = v;
        else if (!strcmp(tok, "subject")) f->subject = v;
        else return mn_errf(err, MN_EUSAGE, "--fields: unknown name '%s' (id, question, answer, choices, subject)", tok);
    }
    return 0;
}

static int parse_enum(const args *a, const char *name, const char *const *names, int n, int *out, mn_err *err)
{
    const char *v = args_get(a, name);
    char known[128] = "";
    if (!v)
        return 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(v, names[i])) {
            *out = i;
            return 0;
        }
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", names[i]);
    }
    return mn_errf(err, MN_EUSAGE, "--%s: '%s' is not one of %s", name, v, known);
}

static int parse_opts(const args *a, eval_opts *o, char *fields, mn_err *err)
{
    static const char *methods[] = {"auto", "loglik", "generate"}, *modes[] = {"bm25", "dense", "hybrid"},
                      *orders[] = {"best-first", "best-last"}, *onerr[] = {"fail", "skip"};
    long v;
    int rc, e;
    eval_opts_default(o);
    if ((rc = args_require(a, "model", &o->model_dir, err)) || (rc = args_require(a, "bench", &o->bench, err)) ||
        (rc = args_require(a, "out", &o->out_dir, err)))
        return rc;
    o->load.split = args_get(a, "split") ? args_get(a, "split") : o->load.split;
    o->shots_from = args_get(a, "shots-from");
    o->tokenizer = args_get(a, "tokenizer");
    o->style = args_get(a, "style");
    o->chat = args_get(a, "chat") ? args_get(a, "chat") : o->chat;
    o->system = args_get(a, "system");
    o->math_cot = args_get(a, "math-cot") != NULL;
    o->add_bos = args_get(a, "add-bos") != NULL;
    o->db = args_get(a, "retrieval");
    o->embed_model = args_get(a, "embed-model");
    o->verifier = args_get(a, "verifier");
    o->rerank = args_get(a, "rerank");
    o->created = args_get(a, "created");
    o->load.member = args_get(a, "member");
    o->load.passphrase = args_get(a, "passphrase");
    v = 0;
    if ((rc = args_int(a, "limit", 0, 1L << 40, &v, err)))
        return rc;
    o->limit = (size_t)v;
    v = 0;
    if ((rc = args_int(a, "shots", 0, 64, &v, err)))
        return rc;
    o->shots = (size_t)v;
    v = (long)o->k;
    if ((rc = args_int(a, "k", 1, 1000, &v, err)))
        return rc;
    o->k = (size_t)v;
    v = 0;
    if ((rc = args_int(a, "decontaminate", 0, 50, &v, err)))
        return rc;
    o->decontaminate = (size_t)v;
    v = 0;
    if ((rc = args_int(a, "rerank-depth", 1, 10000, &v, err)))
        return rc;
    o->rerank_depth = (size_t)v;
    if (o->rerank && !o->db)
        return mn_errf(err, MN_EUSAGE, "--rerank reranks retrieved passages: it needs --retrieval DB");
    if (o->rerank_depth && !o->rerank)
        return mn_errf(err, MN_EUSAGE, "--rerank-depth is for --rerank self|MODEL_DIR");
    if (o->rerank_depth && o->rerank_depth < o->k)
        return mn_errf(err, MN_EUSAGE, "--rerank-depth %zu is smaller than --k %zu", o->rerank_depth, o->k);
    v = (long)o->budget;
    if ((rc = args_int(a, "budget", 0, 1L << 24, &v, err)))
        return rc;
    o->budget = (size_t)v;
    v = o->max_new;
    if ((rc = args_int(a, "max-new-tokens", 1, 1L << 20, &v, err)))
        return rc;
    o->max_new = (int)v;
    v = (long)o->seed;
    if ((rc = args_int(a, "seed", 0, (long)(~0ul >> 1), &v, err)))
        return rc;
    o->seed = (uint64_t)v;
    v = o->batch;
    if ((rc = args_int(a, "batch", 1, 4096, &v, err)))
        return rc;
    o->batch = (int)v;
    v = (long)o->chunk;
    if ((rc = args_int(a, "chunk", 1, 4096, &v, err)))
        return rc;
    o->chunk = (size_t)v;
    v = 0;
    if ((rc = args_int(a, "threads", 0, 4096, &v, err)))
        return rc;
    o->threads = (int)v;
    v = 0;
    if ((rc = args_int(a, "top-k", 0, 1L << 24, &v, err)))
        return rc;
    o->top_k = (int)v;
    v = (long)o->load.seed;
    if ((rc = args_int(a, "gpqa-seed", 0, (long)(~0ul >> 1), &v, err)))
        return rc;
    o->load.seed = (uint64_t)v;
    if ((rc = args_double(a, "temperature", 0, 100, &o->temperature, err)) ||
        (rc = args_double(a, "top-p", 1e-9, 1, &o->top_p, err)))
        return rc;
    e = o->method;
    if ((rc = parse_enum(a, "method", methods, 3, &e, err)))
        return rc;
    o->method = (eval_method)e;
    e = o->mode;
    if ((rc = parse_enum(a, "mode", modes, 3, &e, err)))
        return rc;
    o->mode = (eval_retrieval_mode)e;
    e = o->order;
    if ((rc = parse_enum(a, "order", orders, 2, &e, err)))
        return rc;
    o->order = (prompt_rag_order)e;
    e = o->load.on_error;
    if ((rc = parse_enum(a, "on-error", onerr, 2, &e, err)))
        return rc;
    o->load.on_error = (bench_on_error)e;
    if (args_get(a, "ttc") && (rc = eval_ttc_parse(args_get(a, "ttc"), o, err)))
        return rc;
    if (fields && (rc = parse_fields(fields, &o->load.fields, err)))
        return rc;
    if (a->npos)
        return mn_errf(err, MN_EUSAGE, "argument '%s': unexpected", a->pos[0]);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    args a;
    mn_err err = {0};
    eval_opts o;
    int rc = args_parse(&a, spec, NSPEC, argc, argv, &err);
    if (!rc && args_get(&a, "help")) {
        args_usage("eval", SYNOPSIS, spec, NSPEC);
        args_free(&a);
        return 0;
    }
    char *fields = !rc && args_get(&a, "fields") ? xstrdup(args_get(&a, "fields")) : NULL;
    if (!rc)
        rc = parse_opts(&a, &o, fields, &err);
    if (rc) { /* one line; the flag table is under --help */
        mn_err_prefix(&err, "eval: ");
        snprintf(err.msg + strlen(err.msg), sizeof err.msg - strlen(err.msg), " (mnemo eval --help)");
        free(fields);
        args_free(&a);
        return cli_fail(rc, err.msg);
    }
    size_t n = 0;
    double acc = 0;
    dirlock *lock = NULL;
    if (!(rc = make_dirs(o.out_dir, &err)) && !(rc = dirlock_take(o.out_dir, ".mnemo.lock", "eval", &lock, &err)) &&
        !(rc = outfile_clean_dead(o.out_dir, &err))) /* a killed writer's temporary files */
        rc = eval_run(&o, &n, &acc, &err);
    dirlock_release(lock);
    if (!rc)
        fprintf(stderr, "mnemo: eval: %zu items, accuracy %.4f; results in %s\n", n, acc, o.out_dir);
    free(fields);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}
