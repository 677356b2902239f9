/* eval_gen.c — answering by generation (lm-eval's generate_until) with
 * test-time compute: greedy, self-consistency, per-document
 * self-consistency, best-of-N (eval.h), answer extraction and scoring. */
#include <stdlib.h>
#include <string.h>

#include "bench/eval_int.h"
#include "bench/extract.h"
#include "bench/mathnorm.h"
#include "bench/textmetrics.h"
#include "ttc/sample.h"
#include "ttc/vote.h"

/* Stop strings of one sequence: generation ends once the decoded text
 * contains one (the text is cut there afterwards). */
typedef struct stop_ctx {
    const tokenizer *tok;
    int32_t eos; /* the model's EOS id (-1: none) */
    const char *stops[PROMPT_MAX_STOPS];
    size_t n;
} stop_ctx;

static int stop_check(void *ctx, const int32_t *ids, int n)
{
    stop_ctx *s = ctx;
    char *text = NULL;
    size_t len;
    int hit = 0;
    if (!s->n || tokenizer_decode(s->tok, ids, (size_t)n, &text, &len, NULL))
        return 0;
    for (size_t i = 0; i < s->n && !hit; i++)
        hit = strstr(text, s->stops[i]) != NULL;
    free(text);
    return hit;
}

/* One sample's decoded text, cut at the first stop string.  A final EOS
 * token (generation keeps it, as transformers does) is not part of the text:
 * lm-eval decodes with skip_special_tokens. */
static char *sample_text(const stop_ctx *s, const ttc_seq *q)
{
    char *text = NULL;
    size_t len, n = (size_t)q->n;
    if (n > 0 && s->eos >= 0 && q->ids[n - 1] == s->eos)
        n--;
    if (tokenizer_decode(s->tok, q->ids, n, &text, &len, NULL))
        return xstrdup("");
    for (size_t i = 0; i < s->n; i++) {
        char *at = strstr(text, s->stops[i]);
        if (at)
            *at = '\0';
    }
    return text;
}

/* A generated sample's answer, its vote key and whether it is right. */
typedef struct answer {
    char *text;        /* the sample's text */
    char *ans;         /* extracted answer or NULL */
    char *key;         /* normalised for the vote, NULL without an answer */
    extract_rule rule;
} answer;

/* First line of text, trimmed (a free-form reply without a marked answer). */
static char *first_line(const char *text)
{
    while (*text == ' ' || *text == '\n' || *text == '\t' || *text == '\r')
        text++;
    size_t n = strcspn(text, "\n");
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\r' || text[n - 1] == '\t'))
        n--;
    char *s = xmalloc(n + 1);
    memcpy(s, text, n);
    s[n] = '\0';
    return s;
}

static void extract(const eval_ctx *c, const bench_item *it, answer *a)
{
    if (it->nchoices) {
        a->rule = extract_choice(a->text, (int)it->nchoices, &a->ans);
        a->key = a->ans ? xstrdup(a->ans) : NULL;
    } else if (c->gen_style == PROMPT_MATH) {
        a->rule = extract_answer(a->text, EXTRACT_MODE_FREEFORM, &a->ans);
        a->key = a->ans ? math_normalize(a->ans) : NULL;
    } else {
        a->rule = extract_answer(a->text, EXTRACT_TRY_BOXED | EXTRACT_TRY_ANSWER_IS, &a->ans);
        if (a->rule == EXTRACT_NONE && a->text[strspn(a->text, " \t\r\n")]) {
            a->ans = first_line(a->text);
            a->rule = EXTRACT_NONE; /* recorded as "none": the reply itself is the answer */
        }
        a->key = a->ans ? textmetrics_normalize(a->ans) : NULL;
    }
}

/* Correctness and the metrics object of the final answer. */
static int score_answer(const eval_ctx *c, const bench_item *it, const char *ans, json_t **metrics)
{
    int ok;
    if (it->nchoices) {
        ok = ans && ans[0] - 'A' == it->answer_index;
        *metrics = json_pack("{s:i}", "acc", ok);
    } else if (c->gen_style == PROMPT_MATH) {
        ok = math_equiv(ans, it->answer);
        *metrics = json_pack("{s:i}", "exact_match", ok);
    } else {
        textmetrics_rouge rl;
        textmetrics_rouge_l(it->answer, ans ? ans : "", &rl);
        ok = ans && textmetrics_exact_match(ans, it->answer);
        *metrics = json_pack("{s:i, s:f, s:f}", "exact_match", ok, "f1", ans ? textmetrics_f1(ans, it->answer) : 0.0,
                             "rouge_l_f", rl.f1);
    }
    return ok;
}

static int encode_prompt(eval_ctx *c, const char *prompt, int32_t **ids, int *n, mn_err *err)
{
    size_t k = 0;
    int32_t *x = NULL;
    int rc = tokenizer_encode(c->tok, prompt, strlen(prompt), 0, &x, &k, err);
    if (rc)
        return rc;
    int bos = c->ids.add_bos;
    *ids = xmalloc((k + (size_t)bos + 1) * sizeof **ids);
    if (bos)
        (*ids)[0] = c->ids.bos;
    if (k)
        memcpy(*ids + bos, x, k * sizeof *x);
    *n = (int)k + bos;
    free(x);
    if (*n == 0) { /* an empty prompt: start from the prefix token, as lm-eval */
        (*ids)[0] = c->ids.prefix_id;
        *n = c->ids.prefix_id >= 0;
    }
    if (!*n)
        return mn_errf(err, MN_ERANGE, "empty prompt and no BOS/EOS token to start from");
    /* lm-eval keeps the last max_length - max_gen_toks prompt tokens */
    int room = c->m->cfg.max_pos - c->o->max_new;
    if (c->m->cfg.max_pos > 0 && *n > room) {
        if (room < 1)
            return mn_errf(err, MN_ERANGE, "--max-new-tokens %d leaves no room in the model's %d positions",
                           c->o->max_new, c->m->cfg.max_pos);
        memmove(*ids, *ids + (*n - room), (size_t)room * sizeof **ids);
        *n = room;
    }
    return 0;
}

/* The samples of one item (or several items' greedy samples at once). */
typedef struct batch {
    int n;              /* sequences */
    int32_t **ids;      /* [n] prompt ids */
    int *len;           /* [n] */
    uint64_t *seeds;    /* [n] */
    stop_ctx *stop;     /* [n] */
    void **stop_ctx;    /* [n] pointers into stop */
    ttc_seq *out;       /* [n] */
} batch;

static void batch_init(batch *b, int n)
{
    b->n = n;
    b->ids = xcalloc((size_t)n, sizeof *b->ids);
    b->len = xcalloc((size_t)n, sizeof *b->len);
    b->seeds = xcalloc((size_t)n, sizeof *b->seeds);
    b->stop = xcalloc((size_t)n, sizeof *b->stop);
    b->stop_ctx = xcalloc((size_t)n, sizeof *b->stop_ctx);
    b->out = xcalloc((size_t)n, sizeof *b->out);
}

static void batch_free(batch *b)
{
    for (int j = 0; j < b->n; j++) {
        free(b->ids[j]);
        ttc_seq_free(&b->out[j]);
    }
    free(b->ids);
    free(b->len);
    free(b->seeds);
    free(b->stop);
    free(b->stop_ctx);
    free(b->out);
}

static void set_stops(eval_ctx *c, size_t i, prompt_style style, stop_ctx *s)
{
    prompt_opts po;
    prompt_passages rag;
    eval_prompt_opts(c, i, style, &po, &rag);
    s->tok = c->tok;
    s->eos = c->m->cfg.eos_id;
    s->n = prompt_stop_strings(&po, s->stops);
}

/* Generate b's sequences: shared prompt (k samples of b->ids[0]) or one
 * sample per prompt. */
static int run_batch(eval_ctx *c, batch *b, int shared, mn_err *err)
{
    int longest = 0;
    for (int j = 0; j < (shared ? 1 : b->n); j++)
        longest = b->len[j] > longest ? b->len[j] : longest;
    int rc = eval_engine_ensure(c, b->n, longest + c->o->max_new, err);
    if (rc)
        return rc;
    sampler_params sp = {c->temperature, c->o->top_k, c->o->top_p, 0};
    if (c->temperature == 0)
        sp = sampler_params_greedy();
    for (int j = 0; j < b->n; j++)
        b->stop_ctx[j] = &b->stop[j];
    ttc_gen_opts g = {c->o->max_new, sp, b->seeds, stop_check, b->stop_ctx};
    return shared ? ttc_sample_shared(c->e, b->ids[0], b->len[0], b->n, &g, b->out, err)
                  : ttc_sample_each(c->e, (const int32_t *const *)b->ids, b->len, b->n, &g, b->out, err);
}

/* Vote (or pick by score for best-of-N), record the samples and the
 * outcome in rec.  scores: best-of-N verifier scores or NULL. */
static void finish_item(eval_ctx *c, size_t i, const batch *b, int first, int n, const double *scores, json_t *rec)
{
    const bench_item *it = &c->items.items[i];
    answer *a = xcalloc((size_t)n, sizeof *a);
    const char **keys = xcalloc((size_t)n, sizeof *keys);
    double *lp = xcalloc((size_t)n, sizeof *lp);
    json_t *samples = json_array();
    for (int j = 0; j < n; j++) {
        const ttc_seq *q = &b->out[first + j];
        a[j].text = sample_text(&b->stop[first + j], q);
        extract(c, it, &a[j]);
        keys[j] = a[j].key;
        lp[j] = q->logprob;
        json_array_append_new(samples, json_pack("{s:s, s:o, s:s, s:f, s:i}", "text", a[j].text, "answer",
                                                 a[j].ans ? json_string(a[j].ans) : json_null(), "rule",
                                                 extract_rule_name(a[j].rule), "logprob", q->logprob, "tokens",
                                                 q->n));
    }
    int win = -1;
    if (scores) { /* best-of-N: the highest score among the samples with an answer */
        for (int j = 0; j < n; j++)
            if (a[j].ans && (win < 0 || scores[j] > scores[win]))
                win = j;
        json_t *s = json_array();
        for (int j = 0; j < n; j++)
            json_array_append_new(s, json_real(scores[j]));
        json_object_set_new(rec, "verifier_scores", s);
    } else {
        vote_result v = vote_majority(keys, lp, (size_t)n);
        win = v.winner;
        json_object_set_new(rec, "vote", json_pack("{s:i, s:i, s:i}", "votes", (json_int_t)v.votes, "voters",
                                                   (json_int_t)v.voters, "distinct", (json_int_t)v.distinct));
    }
    const char *final = win >= 0 ? a[win].ans : NULL;
    json_t *metrics;
    int ok = score_answer(c, it, final, &metrics);
    json_object_set_new(rec, "samples", samples);
    json_object_set_new(rec, "answer", final ? json_string(final) : json_null());
    json_object_set_new(rec, "correct", json_boolean(ok));
    json_object_set_new(rec, "metrics", metrics);
    for (int j = 0; j < n; j++) {
        free(a[j].text);
        free(a[j].ans);
        free(a[j].key);
    }
    free(a);
    free(keys);
    free(lp);
}

static prompt_style style_of(const eval_ctx *c, size_t i)
{
    return c->items.items[i].nchoices ? c->mc_style : c->gen_style;
}

/* Prompt of item i (only passage p when p >= 0) encoded into slot j of b. */
static int prepare(eval_ctx *c, size_t i, long p, batch *b, int j, json_t *rec, mn_err *err)
{
    char *prompt = NULL, sha[65];
    prompt_info info = {0};
    int rc = eval_build_prompt(c, i, style_of(c, i), p, &prompt, &info, sha, err);
    if (!rc && !(rc = encode_prompt(c, prompt, &b->ids[j], &b->len[j], err)) && rec)
        eval_record_prompt(rec, sha, (size_t)b->len[j], &info);
    set_stops(c, i, style_of(c, i), &b->stop[j]);
    prompt_info_free(&info);
    free(prompt);
    return rc;
}

/* Greedy: every item of the block in one batch. */
static int block_greedy(eval_ctx *c, size_t first, size_t n, json_t **recs, mn_err *err)
{
    batch b;
    batch_init(&b, (int)n);
    int rc = 0;
    for (size_t j = 0; !rc && j < n; j++) {
        recs[j] = eval_record_new(c, first + j);
        b.seeds[j] = ttc_seed(c->o->seed, c->items.items[first + j].id, 0);
        rc = prepare(c, first + j, -1, &b, (int)j, recs[j], err);
    }
    if (!rc)
        rc = run_batch(c, &b, 0, err);
    for (size_t j = 0; !rc && j < n; j++)
        finish_item(c, first + j, &b, (int)j, 1, NULL, recs[j]);
    batch_free(&b);
    return rc;
}

/* Verifier (or mean token log-prob) scores of b's samples for item i. */
static int verify(eval_ctx *c, size_t i, const batch *b, double *scores, mn_err *err)
{
    if (!c->verifier) {
        for (int j = 0; j < b->n; j++)
            scores[j] = b->out[j].logprob / (b->out[j].n ? b->out[j].n : 1);
        return 0;
    }
    char **texts = xcalloc((size_t)b->n, sizeof *texts);
    for (int j = 0; j < b->n; j++)
        texts[j] = sample_text(&b->stop[j], &b->out[j]);
    int rc = reranker_score(c->verifier, c->items.items[i].question, (const char *const *)texts, NULL, b->n, scores,
                            err);
    for (int j = 0; j < b->n; j++)
        free(texts[j]);
    free(texts);
    return rc;
}

/* sc:K, bestofn:N (one prompt, k samples) and docsc (one prompt per
 * passage) for one item. */
static int item_ttc(eval_ctx *c, size_t i, json_t *rec, mn_err *err)
{
    const eval_opts *o = c->o;
    const bench_item *it = &c->items.items[i];
    int docs = o->ttc == EVAL_TTC_DOCSC && c->ev[i].np > 0;
    int n = docs ? (int)c->ev[i].np : o->ttc == EVAL_TTC_DOCSC ? 1 : o->ttc_n;
    batch b;
    batch_init(&b, n);
    int rc = 0;
    for (int j = 0; !rc && j < n; j++) {
        b.seeds[j] = ttc_seed(o->seed, it->id, (uint64_t)j);
        if (docs || j == 0)
            rc = prepare(c, i, docs ? j : -1, &b, j, j == 0 ? rec : NULL, err);
        else
            b.stop[j] = b.stop[0];
    }
    if (!rc)
        rc = run_batch(c, &b, !docs, err);
    double *scores = NULL;
    if (!rc && o->ttc == EVAL_TTC_BESTOFN) {
        scores = xcalloc((size_t)n, sizeof *scores);
        rc = verify(c, i, &b, scores, err);
    }
    if (!rc)
        finish_item(c, i, &b, 0, n, scores, rec);
    free(scores);
    batch_free(&b);
    return rc;
}

int eval_gen_block(eval_ctx *c, size_t first, size_t n, json_t **recs, mn_err *err)
{
    if (c->o->ttc == EVAL_TTC_GREEDY)
        return block_greedy(c, first, n, recs, err);
    int rc = 0;
    for (size_t j = 0; !rc && j < n; j++) {
        recs[j] = eval_record_new(c, first + j);
        rc = item_ttc(c, first + j, recs[j], err);
    }
    return rc;
}
