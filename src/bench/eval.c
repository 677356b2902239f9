/* eval.c — one evaluation run (eval.h): setup, retrieval, prompts, the
 * item loop and the output files.  Scoring lives in eval_mc.c (log-
 * likelihood) and eval_gen.c (generation and test-time compute). */
#define _POSIX_C_SOURCE 200809L
#include "bench/eval.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench/decontam.h"
#include "bench/eval_int.h"
#include "bench/identity.h"
#include "bench/summary.h"
#include "util/hash.h"       /* sha256_hex */
#include "util/jsonfile.h"
#include "util/mapfile.h"
#include "util/outfile.h"
#include "util/progress.h"
#include "util/threads.h"
#include "util/version.h"
#include "util/path.h"     /* path_format */

#define BLOCK 64 /* items handed to the scorers at a time */

void eval_opts_default(eval_opts *o)
{
    memset(o, 0, sizeof *o);
    bench_load_opts_default(&o->load);
    o->method = EVAL_METHOD_AUTO;
    o->chat = "none";
    o->k = 3;
    o->mode = EVAL_RETR_BM25;
    o->budget = 1024;
    o->order = PROMPT_RAG_BEST_FIRST;
    o->ttc = EVAL_TTC_GREEDY;
    o->ttc_n = 1;
    o->temperature = -1;
    o->top_p = 1.0;
    o->max_new = 256;
    o->seed = 1234;
    o->batch = 8;
    o->chunk = 8;
}

/* The count after "sc:" / "bestofn:" in arg (s points at it). */
static int parse_count(const char *arg, const char *s, int *n, mn_err *err)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 1024)
        return mn_errf(err, MN_EUSAGE, "--ttc '%s': the count must be an integer in [1, 1024]", arg);
    *n = (int)v;
    return 0;
}

size_t eval_rerank_depth(const eval_opts *o)
{
    if (!o->rerank)
        return o->k;
    if (o->rerank_depth)
        return o->rerank_depth;
    return o->k > EVAL_RERANK_DEPTH_MIN ? o->k : EVAL_RERANK_DEPTH_MIN;
}

size_t eval_retrieval_depth(const eval_opts *o)
{
    return eval_rerank_depth(o) + (o->decontaminate ? EVAL_DECONTAM_EXTRA : 0);
}

/* Drop item i's passages that share an n-gram with it (question and
 * answer), keep the first eval_rerank_depth of the rest (k without a
 * reranker). */
static void decontaminate(eval_ctx *c, size_t i)
{
    eval_item *ev = &c->ev[i];
    const bench_item *it = &c->items.items[i];
    size_t keep = 0, k = eval_rerank_depth(c->o);
    ev->dropped = 0;
    if (c->o->decontaminate && ev->np) {
        size_t ql = strlen(it->question), al = it->answer ? strlen(it->answer) : 0;
        char *text = xmalloc(ql + al + 2);
        memcpy(text, it->question, ql);
        text[ql] = ' ';
        memcpy(text + ql + 1, it->answer ? it->answer : "", al + 1);
        uint8_t *drop = xcalloc(ev->np, 1);
        ev->dropped = decontam_mark(text, c->o->decontaminate, (const char *const *)ev->ptext, ev->np, drop);
        for (size_t j = 0; j < ev->np; j++) {
            if (drop[j] || keep >= k) {
                free(ev->ptext[j]);
                free(ev->pid[j]);
                continue;
            }
            ev->chunk[keep] = ev->chunk[j];
            ev->score[keep] = ev->score[j];
            ev->ptext[keep] = ev->ptext[j];
            ev->pid[keep++] = ev->pid[j];
        }
        ev->np = keep;
        free(drop);
        free(text);
    }
}

int eval_ttc_parse(const char *s, eval_opts *o, mn_err *err)
{
    if (!strcmp(s, "greedy")) {
        o->ttc = EVAL_TTC_GREEDY;
        o->ttc_n = 1;
        return 0;
    }
    if (!strcmp(s, "docsc")) {
        o->ttc = EVAL_TTC_DOCSC;
        return 0;
    }
    if (!strncmp(s, "sc:", 3)) {
        o->ttc = EVAL_TTC_SC;
        return parse_count(s, s + 3, &o->ttc_n, err);
    }
    if (!strncmp(s, "bestofn:", 8)) {
        o->ttc = EVAL_TTC_BESTOFN;
        return parse_count(s, s + 8, &o->ttc_n, err);
    }
    return mn_errf(err, MN_EUSAGE, "--ttc '%s': expected greedy, sc:K, docsc or bestofn:N", s);
}

/* ---- setup ---- */

static size_t count_tokens(void *ctx, const char *s, size_t len)
{
    int32_t *ids = NULL;
    size_t n = 0;
    if (tokenizer_encode(ctx, s, len, 0, &ids, &n, NULL))
        n = len; /* invalid UTF-8 cannot come from the DB; count bytes if it does */
    free(ids);
    return n;
}

static int load_items(eval_ctx *c, mn_err *err)
{
    const eval_opts *o = c->o;
    int rc = bench_load(o->bench, &o->load, &c->items, err);
    if (rc)
        return rc;
    c->kind = c->items.kind;
    if (o->limit && o->limit < c->items.n) {
        for (size_t i = o->limit; i < c->items.n; i++)
            bench_item_free(&c->items.items[i]);
        c->items.n = o->limit;
    }
    c->item_sha = xcalloc(c->items.n ? c->items.n : 1, sizeof *c->item_sha);
    for (size_t i = 0; i < c->items.n; i++)
        identity_item_sha256(&c->items.items[i], c->item_sha[i]);
    if (!o->shots)
        return 0;
    bench_load_opts po = o->load;
    if (o->shots_from)
        return bench_load(o->shots_from, &po, &c->pool, err);
    if (strcmp(c->kind, "mmlu"))
        return mn_errf(err, MN_EUSAGE, "--shots %zu: give the few-shot examples with --shots-from KIND:PATH", o->shots);
    po.split = "dev"; /* MMLU's few-shot split, per subject */
    if ((rc = bench_load(o->bench, &po, &c->pool, err)))
        mn_err_prefix(err, "few-shot examples (the MMLU dev split): ");
    return rc;
}

/* config.json's model_type for the architecture. */
static const char *model_type(const mn_config *cfg)
{
    static const char *names[] = {"llama", "qwen2", "qwen3", "gpt_neox"};
    return names[cfg->arch];
}

static int load_model(eval_ctx *c, mn_err *err)
{
    char path[PATH_MAX];
    int rc = model_load(c->o->model_dir, &c->m, err);
    if (!rc)
        rc = path_format(path, sizeof path, err, "%s/tokenizer.json", c->o->model_dir);
    if (rc)
        return rc;
    if ((rc = tokenizer_load(c->o->tokenizer ? c->o->tokenizer : path, &c->tok, err)))
        return rc;
    if (tokenizer_vocab_size(c->tok) > c->m->cfg.V)
        return mn_errf(err, MN_EMISMATCH, "%s: %ld token ids, but %s/config.json has vocab_size %d",
                       c->o->tokenizer ? c->o->tokenizer : path, (long)tokenizer_vocab_size(c->tok), c->o->model_dir,
                       c->m->cfg.V);
    int32_t bos = tokenizer_bos_id(c->tok);
    c->ids.bos = bos >= 0 ? bos : c->m->cfg.bos_id;
    c->ids.add_bos = c->o->add_bos;
    c->ids.prefix_id = c->ids.bos >= 0 ? c->ids.bos : c->m->cfg.eos_id;
    if (c->o->add_bos && c->ids.bos < 0)
        return mn_errf(err, MN_EUSAGE, "--add-bos: %s declares no BOS token", c->o->model_dir);
    if (!strcmp(c->o->chat, "auto"))
        return chat_format_for_model(model_type(&c->m->cfg), 1, &c->chat, err);
    return chat_format_parse(c->o->chat, &c->chat, err);
}

static int choose_styles(eval_ctx *c, mn_err *err)
{
    const eval_opts *o = c->o;
    c->generate_mc = o->method == EVAL_METHOD_GENERATE;
    c->mc_style = c->generate_mc ? PROMPT_MC_GENERATE : PROMPT_MC_LETTERS;
    c->gen_style = !strcmp(c->kind, "math500") ? PROMPT_MATH : PROMPT_QA;
    if (o->style) {
        prompt_style s;
        int rc = prompt_style_parse(o->style, &s, err);
        if (rc)
            return rc;
        if (s == PROMPT_MC_LETTERS || s == PROMPT_MC_TEXTS || s == PROMPT_MC_GENERATE)
            c->mc_style = s;
        else
            c->gen_style = s;
        c->generate_mc |= s == PROMPT_MC_GENERATE;
    }
    if (o->method == EVAL_METHOD_LOGLIK && c->mc_style == PROMPT_MC_GENERATE)
        return mn_errf(err, MN_EUSAGE, "--style mc-generate needs --method generate");
    for (size_t i = 0; i < c->items.n; i++)
        if (!c->items.items[i].nchoices && o->method == EVAL_METHOD_LOGLIK)
            return mn_errf(err, MN_EUSAGE, "--method loglik: item '%s' has no choices (free-form items are generated)",
                           c->items.items[i].id);
    int mc_loglik = 0;
    for (size_t i = 0; i < c->items.n; i++)
        mc_loglik |= c->items.items[i].nchoices && !c->generate_mc;
    if (mc_loglik && o->ttc != EVAL_TTC_GREEDY)
        return mn_errf(err, MN_EUSAGE, "--ttc needs generation: add --method generate for multiple-choice items");
    if (o->ttc == EVAL_TTC_DOCSC && !o->db)
        return mn_errf(err, MN_EUSAGE, "--ttc docsc needs retrieval (--retrieval DB)");
    c->temperature = o->temperature >= 0 ? o->temperature
                     : (o->ttc == EVAL_TTC_SC || o->ttc == EVAL_TTC_BESTOFN) && o->ttc_n > 1 ? 0.7 : 0.0;
    return 0;
}

/* ---- retrieval ---- */

static int retrieve_one(eval_ctx *c, size_t i, mn_err *err)
{
    const eval_opts *o = c->o;
    const bench_item *it = &c->items.items[i];
    eval_item *ev = &c->ev[i];
    bm25_params p = bm25_params_default();
    bm25_hit *hits = NULL;
    size_t n = 0, len = strlen(it->question), k = eval_retrieval_depth(o);
    int rc = o->mode == EVAL_RETR_BM25    ? search_bm25(c->db, &p, it->question, len, k, &hits, &n, err)
             : o->mode == EVAL_RETR_DENSE ? search_dense(c->db, it->question, len, k, &hits, &n, err)
                                          : search_hybrid(c->db, &p, it->question, len, k, k > 100 ? k : 100,
                                                          SEARCH_FUSION_RRF, 0.5, &hits, &n, err);
    if (rc)
        return mn_err_prefix(err, "item '%s': retrieval: ", it->id);
    ev->np = n;
    ev->chunk = xcalloc(n ? n : 1, sizeof *ev->chunk);
    ev->score = xcalloc(n ? n : 1, sizeof *ev->score);
    ev->ptext = xcalloc(n ? n : 1, sizeof *ev->ptext);
    ev->pid = xcalloc(n ? n : 1, sizeof *ev->pid);
    for (size_t j = 0; j < n && !rc; j++) {
        store_chunk ch;
        int got = search_db_chunk(c->db, hits[j].doc, &ch, err);
        if (got <= 0) {
            rc = got ? got : mn_errf(err, MN_EFORMAT, "%s: chunk %llu: in the index but not stored", o->db,
                                     (unsigned long long)hits[j].doc);
            break;
        }
        char id[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)hits[j].doc);
        ev->chunk[j] = hits[j].doc;
        ev->score[j] = hits[j].score;
        ev->ptext[j] = xmalloc(ch.text_len + 1);
        memcpy(ev->ptext[j], ch.text, ch.text_len);
        ev->ptext[j][ch.text_len] = '\0';
        ev->pid[j] = xstrdup(id);
    }
    free(hits);
    if (!rc)
        decontaminate(c, i);
    return rc;
}

static int retrieve_all(eval_ctx *c, mn_err *err)
{
    c->has_passages = 1;
    const eval_opts *o = c->o;
    int rc = search_db_open(o->db, &c->db, err);
    if (!rc && c->identity) { /* the records must come from the DB the identity names */
        db_identity v;
        search_db_identity(c->db, &v);
        rc = identity_db_check(c->identity, o->db, &v, err);
    }
    if (!rc && o->mode != EVAL_RETR_BM25) {
        if (!o->embed_model)
            return mn_errf(err, MN_EUSAGE, "--mode dense/hybrid needs --embed-model MODEL_DIR");
        rc = search_dense_attach(c->db, o->embed_model, 0, err);
    }
    progress bar;
    progress_init(&bar, "retrieval", (double)c->items.n, 1, "items");
    for (size_t i = 0; !rc && i < c->items.n; i++) {
        rc = retrieve_one(c, i, err);
        progress_update(&bar, (double)i + 1, NULL);
    }
    if (!rc)
        progress_finish(&bar, (double)c->items.n, NULL);
    return rc;
}

/* ---- prompts and records ---- */

/* The pool items of subject (all of them when the pool has no subjects or
 * the item has none): a contiguous run, as loaders keep subjects together. */
static const bench_item *shots_for(const eval_ctx *c, const char *subject, size_t *n)
{
    const bench_set *p = &c->pool;
    *n = 0;
    if (!subject || !p->n || !p->items[0].subject) {
        *n = p->n;
        return p->items;
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].subject && !strcmp(p->items[i].subject, subject)) {
            size_t j = i;
            while (j < p->n && p->items[j].subject && !strcmp(p->items[j].subject, subject))
                j++;
            *n = j - i;
            return &p->items[i];
        }
    return NULL;
}

void eval_prompt_opts(eval_ctx *c, size_t i, prompt_style style, prompt_opts *po, prompt_passages *rag)
{
    const bench_item *it = &c->items.items[i];
    memset(po, 0, sizeof *po);
    po->style = style;
    po->k = c->o->shots;
    po->shots = shots_for(c, it->subject, &po->nshots_pool);
    po->math_cot = c->o->math_cot;
    po->system = c->o->system;
    po->chat = &c->chat;
    if (c->has_passages && c->ev[i].np) {
        memset(rag, 0, sizeof *rag);
        rag->ids = (const char *const *)c->ev[i].pid;
        rag->texts = (const char *const *)c->ev[i].ptext;
        rag->n = c->ev[i].np;
        rag->budget = c->o->budget;
        rag->count_tokens = count_tokens;
        rag->count_ctx = c->tok;
        rag->order = c->o->order;
        po->rag = rag;
    }
}

int eval_build_prompt(eval_ctx *c, size_t i, prompt_style style, long only_passage, char **out, prompt_info *info,
                      char sha[65], mn_err *err)
{
    prompt_opts po;
    prompt_passages rag;
    eval_prompt_opts(c, i, style, &po, &rag);
    if (only_passage >= 0 && po.rag) { /* docsc: one passage at a time */
        rag.ids += only_passage;
        rag.texts += only_passage;
        rag.n = 1;
    }
    int rc = prompt_build(&po, &c->items.items[i], out, info, err);
    if (rc)
        return mn_err_prefix(err, "item '%s': ", c->items.items[i].id);
    sha256_hex(*out, strlen(*out), sha);
    return 0;
}

json_t *eval_record_new(eval_ctx *c, size_t i)
{
    const bench_item *it = &c->items.items[i];
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(it->id));
    if (it->subject)
        json_object_set_new(r, "subject", json_string(it->subject));
    if (it->level)
        json_object_set_new(r, "level", json_string(it->level));
    if (it->nchoices)
        json_object_set_new(r, "gold", json_integer(it->answer_index));
    json_object_set_new(r, "reference", json_string(it->answer ? it->answer : ""));
    json_object_set_new(r, "item_sha256", json_string(c->item_sha[i])); /* what a resumed run checks */
    if (c->has_passages) {
        const eval_item *ev = &c->ev[i];
        /* the first stage: all candidates when reranked */
        size_t n = ev->reranked ? ev->ncand : ev->np;
        const uint64_t *chunk = ev->reranked ? ev->cand_chunk : ev->chunk;
        const double *score = ev->reranked ? ev->cand_score : ev->score;
        json_t *ids = json_array(), *sc = json_array();
        for (size_t j = 0; j < n; j++) {
            json_array_append_new(ids, json_integer((json_int_t)chunk[j]));
            json_array_append_new(sc, json_real(score[j]));
        }
        json_object_set_new(r, "retrieved", ids);
        json_object_set_new(r, "retrieved_scores", sc);
        if (c->o->decontaminate)
            json_object_set_new(r, "decontaminated", json_integer((json_int_t)ev->dropped));
        if (ev->reranked) {
            json_t *rids = json_array(), *rsc = json_array();
            for (size_t j = 0; j < ev->np; j++) {
                json_array_append_new(rids, json_integer((json_int_t)ev->chunk[j]));
                json_array_append_new(rsc, json_real(ev->rscore[j]));
            }
            json_object_set_new(r, "reranked", rids);
            json_object_set_new(r, "rerank_scores", rsc);
        }
    }
    return r;
}

void eval_record_prompt(json_t *rec, const char *sha, size_t tokens, const prompt_info *info)
{
    json_object_set_new(rec, "prompt_sha256", json_string(sha));
    json_object_set_new(rec, "prompt_tokens", json_integer((json_int_t)tokens));
    if (info && json_object_get(rec, "retrieved")) {
        json_t *used = json_array();
        for (size_t j = 0; j < info->npassages; j++)
            json_array_append_new(used, json_integer((json_int_t)info->passage_rank[j] + 1));
        json_object_set_new(rec, "passages_used", used);
        json_object_set_new(rec, "passage_tokens", json_integer((json_int_t)info->passage_tokens));
    }
}

int eval_engine_ensure(eval_ctx *c, int slots, int len, mn_err *err)
{
    if (c->e && slots <= c->e_slots && len <= c->e_len)
        return 0;
    int max = c->m->cfg.max_pos > 0 ? c->m->cfg.max_pos : len;
    if (len > max)
        return mn_errf(err, MN_ERANGE, "%d positions needed, the model has %d (max_position_embeddings)", len, max);
    slots = slots > c->e_slots ? slots : c->e_slots;
    len = len > c->e_len ? len : c->e_len;
    len = (len + 255) / 256 * 256; /* fewer re-creations */
    len = len < max ? len : max;
    engine_free(c->e);
    c->e = NULL;
    int rc = engine_create(c->m, 512, slots, len, &c->e, err);
    if (!rc) {
        c->e_slots = slots;
        c->e_len = len;
    }
    return rc;
}

/* ---- outputs ---- */

static json_t *config_json(const eval_ctx *c)
{
    const eval_opts *o = c->o;
    static const char *ttc[] = {"greedy", "sc", "docsc", "bestofn"};
    static const char *mode[] = {"bm25", "dense", "hybrid"};
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(o->model_dir));
    json_object_set_new(j, "bench", json_string(o->bench));
    json_object_set_new(j, "split", json_string(o->load.split ? o->load.split : "test"));
    json_object_set_new(j, "limit", json_integer((json_int_t)o->limit));
    json_object_set_new(j, "shots", json_integer((json_int_t)o->shots));
    json_object_set_new(j, "shots_from", o->shots_from ? json_string(o->shots_from) : json_null());
    json_object_set_new(j, "method", json_string(c->generate_mc ? "generate" : "auto"));
    json_object_set_new(j, "mc_style", json_string(prompt_style_name(c->mc_style)));
    json_object_set_new(j, "gen_style", json_string(prompt_style_name(c->gen_style)));
    json_object_set_new(j, "chat", json_string(chat_format_name(&c->chat)));
    json_object_set_new(j, "system", o->system ? json_string(o->system) : json_null());
    json_object_set_new(j, "math_cot", json_boolean(o->math_cot));
    json_object_set_new(j, "add_bos", json_boolean(o->add_bos));
    json_t *r = json_null();
    if (o->db) {
        r = json_object();
        json_object_set_new(r, "db", json_string(o->db));
        json_object_set_new(r, "k", json_integer((json_int_t)o->k));
        json_object_set_new(r, "mode", json_string(mode[o->mode]));
        json_object_set_new(r, "embed_model", o->embed_model ? json_string(o->embed_model) : json_null());
        json_object_set_new(r, "budget", json_integer((json_int_t)o->budget));
        json_object_set_new(r, "order", json_string(o->order == PROMPT_RAG_BEST_LAST ? "best-last" : "best-first"));
        json_object_set_new(r, "decontaminate", json_integer((json_int_t)o->decontaminate));
        json_object_set_new(r, "rerank", o->rerank ? json_string(o->rerank) : json_null());
        json_object_set_new(r, "rerank_depth", o->rerank ? json_integer((json_int_t)eval_rerank_depth(o)) : json_null());
    }
    json_object_set_new(j, "retrieval", r);
    json_t *t = json_object();
    json_object_set_new(t, "kind", json_string(ttc[o->ttc]));
    json_object_set_new(t, "n", json_integer(o->ttc_n));
    json_object_set_new(t, "temperature", json_real(c->temperature));
    json_object_set_new(t, "top_p", json_real(o->top_p));
    json_object_set_new(t, "top_k", json_integer(o->top_k));
    json_object_set_new(t, "verifier", o->verifier ? json_string(o->verifier) : json_null());
    json_object_set_new(j, "ttc", t);
    json_object_set_new(j, "max_new_tokens", json_integer(o->max_new));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "batch", json_integer(o->batch));
    return j;
}

/* The SHA-256 recorded for entry id of the inputs' identity, or null. */
static json_t *input_sha(const eval_ctx *c, const char *id)
{
    json_t *v = json_object_get(json_object_get(json_object_get(c->identity, "inputs"), id), "sha256");
    return v ? json_incref(v) : json_null();
}

static json_t *model_json(const eval_ctx *c)
{
    json_t *j = json_object();
    json_object_set_new(j, "path", json_string(c->o->model_dir));
    json_object_set_new(j, "architecture", json_string(c->m->cfg.arch_name));
    json_object_set_new(j, "model_type", json_string(model_type(&c->m->cfg)));
    json_object_set_new(j, "parameters", json_integer((json_int_t)c->m->n_params));
    json_object_set_new(j, "config_sha256", input_sha(c, "model.config"));
    json_object_set_new(j, "tokenizer_sha256", input_sha(c, "tokenizer"));
    json_object_set_new(j, "weights_sha256", input_sha(c, "model.weights"));
    return j;
}

/* The DB's identity as the inputs recorded it (identity_db). */
static json_t *corpus_json(const eval_ctx *c)
{
    json_t *db = json_object_get(json_object_get(c->identity, "inputs"), "db");
    return db ? json_deep_copy(db) : NULL;
}

static void now_iso(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The task name of the lm-eval layout: kind, or a jsonl file's stem. */
static void task_name(const eval_ctx *c, char *buf, size_t len)
{
    if (strcmp(c->kind, "jsonl")) {
        snprintf(buf, len, "%s", c->kind);
        return;
    }
    const char *p = strrchr(c->items.path, '/');
    p = p ? p + 1 : c->items.path;
    size_t n = strcspn(p, ".");
    snprintf(buf, len, "%.*s", (int)(n ? n : strlen(p)), p);
}

static int write_summaries(eval_ctx *c, bench_summary *s, mn_err *err)
{
    const json_t *inputs;
    int rc = eval_session_identity(c, c->o->out_dir, NULL, &inputs, err);
    if (rc)
        return rc;
    char created[40], results[PATH_MAX + 64], sum[PATH_MAX + 16], dir[PATH_MAX], name[256];
    if (c->o->created)
        snprintf(created, sizeof created, "%s", c->o->created);
    else
        now_iso(created, sizeof created);
    const char *base = strrchr(c->o->model_dir, '/');
    base = base && base[1] ? base + 1 : c->o->model_dir;
    snprintf(name, sizeof name, "%s", base);
    for (char *p = name; *p; p++) /* lm_eval's sanitize_model_name, for the directory */
        if (strchr("\"<>:/|\\?*[]", *p))
            *p = '_';
    if ((rc = path_format(dir, sizeof dir, err, "%s/%s", c->o->out_dir, name)))
        return rc;
    if (mkdir(dir, 0777) && errno != EEXIST)
        return mn_errf(err, MN_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
    char date[40];
    snprintf(date, sizeof date, "%s", created);
    for (char *p = date; *p; p++)
        if (*p == ':')
            *p = '-';
    if ((rc = path_format(results, sizeof results, err, "%s/results_%s.json", dir, date)) ||
        (rc = path_format(sum, sizeof sum, err, "%s/summary.json", c->o->out_dir)))
        return rc;
    json_t *config = config_json(c), *model = model_json(c), *corpus = corpus_json(c), *skipped = NULL;
    json_t *lm = json_pack("{s:s, s:s, s:i, s:i}", "model", "mnemo", "model_args", c->o->model_dir, "batch_size",
                           c->o->batch, "random_seed", (json_int_t)c->o->seed);
    if (c->items.skipped)
        skipped = json_pack("{s:i}", "malformed_rows", (json_int_t)c->items.skipped);
    bench_summary_meta meta = {MNEMO_VERSION, created, config, model, corpus, skipped, lm, c->o->model_dir, NULL,
                               json_object_get(inputs, "inputs")};
    rc = bench_summary_write(s, &meta, sum, results, err);
    json_decref(config);
    json_decref(model);
    json_decref(corpus);
    json_decref(skipped);
    json_decref(lm);
    return rc;
}

static int is_mc_loglik(const eval_ctx *c, size_t i)
{
    return c->items.items[i].nchoices && !c->generate_mc;
}

static int summary_open(eval_ctx *c, bench_summary **s, mn_err *err)
{
    char task[128];
    bench_summary_opts so;
    bench_summary_opts_default(&so);
    so.kind = c->kind;
    task_name(c, task, sizeof task);
    so.task = task;
    so.num_fewshot = (int)c->o->shots;
    int gen = 0;
    for (size_t i = 0; i < c->items.n; i++)
        gen |= !is_mc_loglik(c, i);
    so.output_type = gen ? "generate_until" : "multiple_choice";
    so.seed = c->o->seed;
    return bench_summary_init(s, &so, err);
}

static void ctx_free(eval_ctx *c)
{
    for (size_t i = 0; c->ev && i < c->items.n; i++) {
        eval_item *ev = &c->ev[i];
        for (size_t j = 0; j < ev->np; j++) {
            free(ev->ptext[j]);
            free(ev->pid[j]);
        }
        free(ev->ptext);
        free(ev->pid);
        free(ev->chunk);
        free(ev->score);
        eval_rerank_clear(ev);
    }
    free(c->ev);
    free(c->item_sha);
    json_decref(c->identity);
    reranker_close(c->verifier);
    reranker_close(c->rr);
    search_db_close(c->db);
    engine_free(c->e);
    tokenizer_free(c->tok);
    model_free(c->m);
    chat_format_free(&c->chat);
    bench_set_free(&c->items);
    bench_set_free(&c->pool);
}

/* ---- the session ---- */

/* Check the rerank options and load a MODEL_DIR reranker. */
static int open_reranker(eval_ctx *c, mn_err *err)
{
    const eval_opts *o = c->o;
    if (!o->rerank) {
        if (o->rerank_depth)
            return mn_errf(err, MN_EUSAGE, "--rerank-depth %zu is for --rerank self|MODEL_DIR", o->rerank_depth);
        return 0;
    }
    if (!o->db)
        return mn_errf(err, MN_EUSAGE, "--rerank %s reranks retrieved passages: it needs --retrieval DB", o->rerank);
    if (o->rerank_depth && o->rerank_depth < o->k)
        return mn_errf(err, MN_EUSAGE, "--rerank-depth %zu is smaller than --k %zu", o->rerank_depth, o->k);
    if (!*o->rerank)
        return mn_errf(err, MN_EUSAGE, "--rerank: expected self or a reranker model directory, got ''");
    c->rerank_self = !strcmp(o->rerank, "self");
    if (c->rerank_self)
        return 0;
    int rc = reranker_open(o->rerank, NULL, &c->rr, err);
    return rc ? mn_err_prefix(err, "--rerank: ") : 0;
}

int eval_session_open(const eval_opts *o, eval_session **out, mn_err *err)
{
    *out = NULL;
    if (o->batch < 1 || o->max_new < 1 || !(o->top_p > 0 && o->top_p <= 1) || o->chunk < 1)
        return mn_errf(err, MN_EUSAGE, "batch, chunk and max-new-tokens must be >= 1, top-p within (0, 1]");
    eval_ctx *c = xcalloc(1, sizeof *c);
    c->o = o;
    threads_set(o->threads);
    int rc = load_items(c, err);
    if (!rc)
        rc = load_model(c, err);
    if (!rc)
        rc = choose_styles(c, err);
    c->ev = xcalloc(c->items.n ? c->items.n : 1, sizeof *c->ev);
    if (!rc && o->verifier)
        rc = reranker_open(o->verifier, NULL, &c->verifier, err);
    if (!rc)
        rc = open_reranker(c, err);
    if (rc) {
        eval_session_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void eval_session_close(eval_session *c)
{
    if (!c)
        return;
    ctx_free(c);
    free(c);
}

size_t eval_session_count(const eval_session *c)
{
    return c->items.n;
}

const char *eval_session_item_id(const eval_session *c, size_t i)
{
    return c->items.items[i].id;
}

const char *eval_session_item_sha256(const eval_session *c, size_t i)
{
    return c->item_sha[i];
}

int eval_session_identity(eval_session *c, const char *cache_dir, filehash_stats *st, const json_t **out,
                          mn_err *err)
{
    const eval_opts *o = c->o;
    char tok[PATH_MAX];
    *out = NULL;
    if (!c->identity) {
        int prc = path_format(tok, sizeof tok, err, "%s/tokenizer.json", o->model_dir);
        if (prc)
            return prc;
        identity_inputs in = {
            .model_dir = o->model_dir,
            .tokenizer = o->tokenizer ? o->tokenizer : tok,
            .bench = o->bench,
            .items = &c->items,
            .shots_from = o->shots_from,
            .pool = o->shots ? &c->pool : NULL,
            .db = o->db,
            .dense = o->db && o->mode != EVAL_RETR_BM25,
            .embed_model = o->db && o->mode != EVAL_RETR_BM25 ? o->embed_model : NULL,
            .reranker = o->rerank && strcmp(o->rerank, "self") ? o->rerank : NULL,
            .verifier = o->verifier,
            .cache_dir = cache_dir,
        };
        int rc = identity_build(&in, st, &c->identity, err);
        if (rc)
            return rc;
    }
    *out = c->identity;
    return 0;
}

const char *eval_session_query(const eval_session *c, size_t i)
{
    return c->items.items[i].question;
}

int eval_session_retrieve(eval_session *c, mn_err *err)
{
    return c->o->db ? retrieve_all(c, err) : 0;
}

void eval_session_set_passages(eval_session *c, size_t i, size_t n, const uint64_t *chunk, const double *score,
                               const char *const *text, const size_t *len)
{
    eval_item *ev = &c->ev[i];
    for (size_t j = 0; j < ev->np; j++) {
        free(ev->ptext[j]);
        free(ev->pid[j]);
    }
    free(ev->ptext);
    free(ev->pid);
    free(ev->chunk);
    free(ev->score);
    eval_rerank_clear(ev);
    ev->np = n;
    ev->chunk = xcalloc(n ? n : 1, sizeof *ev->chunk);
    ev->score = xcalloc(n ? n : 1, sizeof *ev->score);
    ev->ptext = xcalloc(n ? n : 1, sizeof *ev->ptext);
    ev->pid = xcalloc(n ? n : 1, sizeof *ev->pid);
    c->has_passages = 1;
    for (size_t j = 0; j < n; j++) {
        char id[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)chunk[j]);
        ev->chunk[j] = chunk[j];
        ev->score[j] = score[j];
        ev->ptext[j] = xmalloc(len[j] + 1);
        memcpy(ev->ptext[j], text[j], len[j]);
        ev->ptext[j][len[j]] = '\0';
        ev->pid[j] = xstrdup(id);
    }
    decontaminate(c, i);
}

int eval_session_score(eval_session *c, size_t first, size_t n, json_t **recs, mn_err *err)
{
    int rc = 0;
    for (size_t j = 0; j < n; j++)
        recs[j] = NULL;
    for (size_t i = first; !rc && i < first + n; i++)
        rc = eval_rerank_item(c, i, err);
    for (size_t i = first; !rc && i < first + n;) {
        /* a run of items of one kind, at most BLOCK (MC) or batch (generation) */
        size_t m = 1;
        int mc = is_mc_loglik(c, i);
        size_t cap = mc ? BLOCK : (size_t)c->o->batch;
        cap = cap < BLOCK ? cap : BLOCK;
        while (i + m < first + n && m < cap && is_mc_loglik(c, i + m) == mc)
            m++;
        rc = mc ? eval_mc_block(c, i, m, recs + (i - first), err) : eval_gen_block(c, i, m, recs + (i - first), err);
        i += m;
    }
    if (rc)
        for (size_t j = 0; j < n; j++) {
            json_decref(recs[j]);
            recs[j] = NULL;
        }
    return rc;
}

int eval_session_write(eval_session *c, json_t *const *recs, mn_err *err)
{
    const eval_opts *o = c->o;
    bench_summary *s = NULL;
    outfile out;
    char path[PATH_MAX + 16];
    int rc = 0, opened = 0;
    c->correct = 0;
    int mk = make_dirs(o->out_dir, err);
    if (mk)
        return mk;
    if ((rc = path_format(path, sizeof path, err, "%s/items.jsonl", o->out_dir)) || (rc = summary_open(c, &s, err)) || (rc = outfile_open(&out, path, err)))
        goto done;
    opened = 1;
    for (size_t i = 0; !rc && i < c->items.n; i++) {
        if (!(rc = bench_summary_add(s, recs[i], err))) {
            char *line = json_dumps(recs[i], JSON_COMPACT);
            if (!(rc = outfile_write(&out, line, strlen(line), err)))
                rc = outfile_write(&out, "\n", 1, err);
            free(line);
            c->correct += json_is_true(json_object_get(recs[i], "correct"));
        }
    }
    if (rc)
        goto done;
    opened = 0;
    if (!(rc = outfile_commit(&out, err)))
        rc = write_summaries(c, s, err);
done:
    if (opened)
        outfile_abort(&out);
    bench_summary_free(s);
    return rc;
}

double eval_session_accuracy(const eval_session *c)
{
    return c->items.n ? (double)c->correct / (double)c->items.n : 0.0;
}

int eval_run(const eval_opts *o, size_t *n_items, double *accuracy, mn_err *err)
{
    eval_session *c = NULL;
    const json_t *inputs;
    int rc = eval_session_open(o, &c, err);
    if (!rc) /* what the records are made from, before they are made */
        rc = make_dirs(o->out_dir, err);
    if (!rc)
        rc = eval_session_identity(c, o->out_dir, NULL, &inputs, err);
    if (!rc)
        rc = eval_session_retrieve(c, err);
    size_t n = rc ? 0 : c->items.n, correct = 0;
    json_t **recs = xcalloc(n ? n : 1, sizeof *recs);
    progress bar;
    progress_init(&bar, "eval", (double)n, 1, "items");
    for (size_t i = 0; !rc && i < n; i += o->chunk) {
        size_t m = n - i < o->chunk ? n - i : o->chunk;
        rc = eval_session_score(c, i, m, recs + i, err);
        for (size_t j = 0; !rc && j < m; j++)
            correct += json_is_true(json_object_get(recs[i + j], "correct"));
        char note[64];
        snprintf(note, sizeof note, "accuracy %.3f", (double)correct / (double)(i + m));
        progress_update(&bar, (double)(i + m), note);
    }
    if (!rc) {
        char note[64];
        snprintf(note, sizeof note, "accuracy %.4f", n ? (double)correct / (double)n : 0.0);
        progress_finish(&bar, (double)n, note);
        rc = eval_session_write(c, recs, err);
    }
    if (!rc && n_items)
        *n_items = n;
    if (!rc && accuracy)
        *accuracy = eval_session_accuracy(c);
    for (size_t i = 0; i < n; i++)
        json_decref(recs[i]);
    free(recs);
    eval_session_close(c);
    return rc;
}
