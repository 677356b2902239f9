/* test_rerank_upr.c — query-likelihood reranking requests and scores
 * (bench/rerank_upr.h) on the tiny random model with the real Qwen3
 * vocabulary (tests/fixtures/eval/qwen3_vocab + deps/tokenizers/qwen3):
 * the request is llreq_encode of the documented template; a passage too
 * long for max_len is cut at a character boundary and the request is the
 * template around the kept prefix; a question that cannot fit is an error;
 * the score is engine_loglik's mean per token and does not depend on the
 * engine's shape or what it scored before. */
#include <string.h>

#include "bench/llreq.h"
#include "bench/rerank_upr.h"
#include "model/forward.h"
#include "model/loglik.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "test.h"

static const char *Q = "Which river turns the stone mill?";
/* multi-byte characters throughout, so cuts land inside characters */
static const char *P = "The mill on the river — «Mühlbach» — grinds grain; its stone wheel turns day and night. "
                       "Ünïcödé text: 水車は川の水で回る。 The miller's family has kept it since 1820.";

typedef struct fix {
    model *m;
    tokenizer *tok;
    llreq_ids ids;
} fix;

static void fix_open(fix *f)
{
    mn_err err = {0};
    memset(f, 0, sizeof *f);
    f->ids = (llreq_ids){-1, 0, -1};
    CHECK_MSG(model_load(fixture_path("tests/fixtures/eval/qwen3_vocab"), &f->m, &err) == 0, "%s", err.msg);
    CHECK_MSG(tokenizer_load(fixture_path("deps/tokenizers/qwen3/tokenizer.json"), &f->tok, &err) == 0,
              "%s (run scripts/fetch-tokenizers.sh)", err.msg);
    f->ids.prefix_id = f->m->cfg.eos_id >= 0 ? f->m->cfg.eos_id : 0;
}

static void fix_close(fix *f)
{
    tokenizer_free(f->tok);
    model_free(f->m);
}

/* The request llreq_encode makes of the template around passage[0..len). */
static void template_request(const fix *f, size_t len, llreq *r)
{
    char ctx[2048], cont[256];
    mn_err err = {0};
    snprintf(ctx, sizeof ctx, "Passage: %.*s\nPlease write a question based on this passage.\nQuestion:", (int)len, P);
    snprintf(cont, sizeof cont, " %s", Q);
    CHECK_MSG(llreq_encode(f->tok, &f->ids, ctx, cont, r, &err) == 0, "%s", err.msg);
}

static int same_request(const llreq *a, const llreq *b)
{
    return a->n_ctx == b->n_ctx && a->n_cont == b->n_cont &&
           !memcmp(a->ctx, b->ctx, (size_t)a->n_ctx * sizeof *a->ctx) &&
           !memcmp(a->cont, b->cont, (size_t)a->n_cont * sizeof *a->cont);
}

static void test_upr_request_is_the_template(void)
{
    fix f;
    fix_open(&f);
    llreq r, want;
    size_t kept = 0;
    mn_err err = {0};
    CHECK_MSG(upr_request(f.tok, &f.ids, Q, P, strlen(P), 0, &r, &kept, &err) == 0, "%s", err.msg);
    template_request(&f, strlen(P), &want);
    CHECK(same_request(&r, &want) && kept == strlen(P));
    llreq_free(&r);
    /* a limit it fits changes nothing */
    CHECK(upr_request(f.tok, &f.ids, Q, P, strlen(P), want.n_ctx + want.n_cont - 1, &r, &kept, &err) == 0);
    CHECK(same_request(&r, &want) && kept == strlen(P));
    llreq_free(&r);
    llreq_free(&want);
    fix_close(&f);
}

static void test_upr_request_cuts_the_passage_to_fit(void)
{
    fix f;
    fix_open(&f);
    llreq full, r, want;
    mn_err err = {0};
    template_request(&f, strlen(P), &full);
    int whole = full.n_ctx + full.n_cont - 1;
    for (int over = 1; over < 40; over += 3) {
        int max_len = whole - over;
        size_t kept = 0;
        CHECK_MSG(upr_request(f.tok, &f.ids, Q, P, strlen(P), max_len, &r, &kept, &err) == 0, "%s", err.msg);
        CHECK_MSG(r.n_ctx + r.n_cont - 1 <= max_len, "over %d: %d positions > %d", over, r.n_ctx + r.n_cont - 1, max_len);
        CHECK_MSG(kept > 0 && kept < strlen(P), "over %d: kept %zu of %zu bytes", over, kept, strlen(P));
        CHECK_MSG(((unsigned char)P[kept] & 0xC0) != 0x80, "over %d: cut inside a character at byte %zu", over, kept);
        template_request(&f, kept, &want);
        CHECK_MSG(same_request(&r, &want), "over %d: not the template around the kept %zu bytes", over, kept);
        /* the template and the question stay whole */
        CHECK(r.n_cont == full.n_cont && !memcmp(r.cont, full.cont, (size_t)r.n_cont * sizeof *r.cont));
        llreq_free(&want);
        llreq_free(&r);
    }
    /* no room for any passage: the oldest context tokens go; none for the question: an error */
    CHECK(upr_request(f.tok, &f.ids, Q, P, strlen(P), full.n_cont + 2, &r, NULL, &err) == 0);
    CHECK(r.n_ctx + r.n_cont - 1 <= full.n_cont + 2 && r.n_cont == full.n_cont);
    llreq_free(&r);
    CHECK_EQ_INT(upr_request(f.tok, &f.ids, Q, P, strlen(P), full.n_cont - 1, &r, NULL, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "do not fit");
    llreq_free(&full);
    fix_close(&f);
}

static void test_upr_score_is_mean_loglik_whatever_the_engine(void)
{
    fix f;
    fix_open(&f);
    llreq r, other;
    mn_err err = {0};
    CHECK(upr_request(f.tok, &f.ids, Q, P, strlen(P), 0, &r, NULL, &err) == 0);
    CHECK(upr_request(f.tok, &f.ids, "What is in the text?", P, 40, 0, &other, NULL, &err) == 0);
    engine *e1 = NULL, *e8 = NULL;
    CHECK(engine_create(f.m, 512, 1, 512, &e1, &err) == 0);
    CHECK(engine_create(f.m, 512, 8, 512, &e8, &err) == 0);
    double lp = 0, s1 = 0, s8 = 0, junk = 0;
    int greedy;
    CHECK(engine_loglik(e1, 0, r.ctx, r.n_ctx, r.cont, r.n_cont, &lp, &greedy, NULL, &err) == 0);
    CHECK(upr_score(e1, &r, &s1, &err) == 0);
    CHECK_MSG(s1 == lp / r.n_cont, "score %.17g, mean loglik %.17g", s1, lp / r.n_cont);
    CHECK(upr_score(e8, &other, &junk, &err) == 0); /* another pair first, on a larger engine */
    CHECK(upr_score(e8, &r, &s8, &err) == 0);
    CHECK_MSG(s8 == s1, "engine of 8 slots after another pair: %.17g, fresh engine of 1: %.17g", s8, s1);
    CHECK(kvcache_len(engine_kv(e8), 0) == 0); /* the slot is left clear */
    engine_free(e1);
    engine_free(e8);
    llreq_free(&r);
    llreq_free(&other);
    fix_close(&f);
}

TEST_MAIN(TEST(test_upr_request_is_the_template), TEST(test_upr_request_cuts_the_passage_to_fit),
          TEST(test_upr_score_is_mean_loglik_whatever_the_engine))
