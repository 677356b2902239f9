/* test_forward.c — conformance of the engine with Hugging Face transformers
 * on the four fixture models (tests/fixtures/models, see its README), and
 * self-consistency of the engine's paths: KV-cache decode vs prefill, batched
 * vs alone, chunked vs whole, forked slots.
 *
 * Each comparison prints a diagnosis line: max abs error, max relative error
 * (max |got - ref| / max |ref|) and where the worst element is.
 */
#include "test.h"

#include <stdint.h>

#include "model/embed.h"    /* engine_embed */
#include "model/forward.h"  /* engine_create, engine_forward */
#include "model/generate.h" /* engine_generate */
#include "model/loglik.h"   /* engine_loglik */
#include "model/model.h"    /* model_load */
#include "model/sampler.h"  /* sampler_create */
#include "util/jsonfile.h"  /* json_load_path */
#include "util/mapfile.h"   /* file_read_all */
#include "util/threads.h"   /* threads_set */

static const char *const MODELS[] = {"llama_tiny", "qwen2_tiny", "qwen3_tiny", "neox_tiny"};
#define N_MODELS 4
#define TOL 1e-4        /* fixture tolerance: max |got - ref| / max |ref| */
#define TOL_SELF 2e-5   /* two engine paths (sgemm vs small kernel, chunking) */

typedef struct fixture {
    char dir[4096];
    model *m;
    json_t *ref; /* reference.json */
} fixture;

static int fixture_open(const char *name, fixture *f)
{
    mn_err err = {0};
    snprintf(f->dir, sizeof f->dir, "%s", fixture_path("tests/fixtures/models"));
    size_t len = strlen(f->dir);
    snprintf(f->dir + len, sizeof f->dir - len, "/%s", name);
    char path[4200];
    snprintf(path, sizeof path, "%s/reference.json", f->dir);
    f->m = NULL;
    f->ref = NULL;
    if (model_load(f->dir, &f->m, &err) || json_load_path(path, &f->ref, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        return -1;
    }
    return 0;
}

static void fixture_close(fixture *f)
{
    model_free(f->m);
    json_decref(f->ref);
}

/* ids of a JSON array into a malloc'd int32 array. */
static int32_t *json_ids(const json_t *arr, int *n)
{
    *n = (int)json_array_size(arr);
    int32_t *ids = malloc((size_t)(*n > 0 ? *n : 1) * sizeof *ids);
    for (int i = 0; i < *n; i++)
        ids[i] = (int32_t)json_integer_value(json_array_get(arr, (size_t)i));
    return ids;
}

static json_t *ref_case(const fixture *f, int c)
{
    return json_array_get(json_object_get(f->ref, "cases"), (size_t)c);
}

/* A .f32 reference file of exactly n floats (NULL and a message otherwise). */
static float *read_f32(const fixture *f, const char *file, size_t n)
{
    char path[4200], *buf;
    size_t len;
    mn_err err = {0};
    snprintf(path, sizeof path, "%s/%s", f->dir, file);
    if (file_read_all(path, &buf, &len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    if (len != n * sizeof(float)) {
        fprintf(stderr, "%s: %zu bytes, expected %zu\n", path, len, n * sizeof(float));
        free(buf);
        return NULL;
    }
    return (float *)buf; /* malloc'd, aligned for float */
}

/* max |got - ref| / max |ref| over rows x cols, with a diagnosis line. */
static double compare(const char *what, const float *got, const float *ref, size_t rows,
                      size_t cols)
{
    double max_ref = 0.0, max_err = 0.0;
    size_t worst = 0;
    for (size_t i = 0; i < rows * cols; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= max_err)) { /* also catches NaN */
            max_err = d;
            worst = i;
        }
        if (fabs(ref[i]) > max_ref)
            max_ref = fabs(ref[i]);
    }
    double rel = max_ref > 0 ? max_err / max_ref : max_err;
    printf("  %-44s max abs %.3g  rel %.3g  worst [%zu, %zu] got %.7g ref %.7g\n", what, max_err,
           rel, worst / cols, worst % cols, got[worst], ref[worst]);
    return isnan(rel) ? INFINITY : rel;
}

/* Logits [T, V] of ids through a fresh engine with the given chunk size. */
static float *run_logits(const model *m, const int32_t *ids, int T, int chunk)
{
    engine *e;
    mn_err err = {0};
    if (engine_create(m, chunk, 1, T, &e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    float *logits = malloc((size_t)T * m->cfg.V * sizeof(float));
    engine_seg s = {0, T, ids};
    if (engine_forward(e, &s, 1, ENGINE_LOGITS_ALL, logits, NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        free(logits);
        logits = NULL;
    }
    engine_free(e);
    return logits;
}

/* ---------------------------------------------------------------------------
 * Against the fixtures
 */
static void test_forward_logits_match_reference(void)
{
    for (int k = 0; k < N_MODELS; k++) {
        fixture f;
        CHECK(fixture_open(MODELS[k], &f) == 0);
        int V = f.m->cfg.V;
        for (int c = 0; c < 4; c++) {
            json_t *jc = ref_case(&f, c);
            int T;
            int32_t *ids = json_ids(json_object_get(jc, "ids"), &T);
            float *ref = read_f32(&f, json_string_value(json_object_get(jc, "logits_file")),
                                  (size_t)T * V);
            CHECK(ref);
            float *got = run_logits(f.m, ids, T, 512);
            CHECK(got);
            char what[128];
            snprintf(what, sizeof what, "%s case %d logits [%d, %d]", MODELS[k], c, T, V);
            CHECK(compare(what, got, ref, (size_t)T, (size_t)V) < TOL);
            free(ids);
            free(ref);
            free(got);
        }
        fixture_close(&f);
    }
}

static void test_forward_hidden_states_match_reference(void)
{
    for (int k = 0; k < N_MODELS; k++) {
        fixture f;
        CHECK(fixture_open(MODELS[k], &f) == 0);
        int L = f.m->cfg.L, C = f.m->cfg.C, T;
        json_t *hs = json_object_get(f.ref, "hidden_states");
        int c = (int)json_integer_value(json_object_get(hs, "case"));
        int32_t *ids = json_ids(json_object_get(ref_case(&f, c), "ids"), &T);
        size_t slice = (size_t)T * C;
        float *ref = read_f32(&f, json_string_value(json_object_get(hs, "file")), (L + 1) * slice);
        float *ref_pre = read_f32(
            &f, json_string_value(json_object_get(hs, "last_layer_prenorm_file")), slice);
        CHECK(ref && ref_pre);

        engine *e;
        mn_err err = {0};
        CHECK(engine_create(f.m, 512, 1, T, &e, &err) == 0);
        float *got = malloc((L + 1) * slice * sizeof(float));
        engine_seg s = {0, T, ids};
        CHECK_MSG(engine_forward(e, &s, 1, ENGINE_HIDDEN_ALL, NULL, got, &err) == 0, "%s", err.msg);
        for (int i = 0; i <= L; i++) {
            char what[128];
            snprintf(what, sizeof what, "%s hidden[%d] [%d, %d]", MODELS[k], i, T, C);
            CHECK(compare(what, got + i * slice, ref + i * slice, (size_t)T, (size_t)C) < TOL);
        }
        kvcache_set_len(engine_kv(e), 0, 0);
        CHECK(engine_forward(e, &s, 1, ENGINE_HIDDEN_PRENORM, NULL, got, &err) == 0);
        char what[128];
        snprintf(what, sizeof what, "%s last layer before final norm", MODELS[k]);
        CHECK(compare(what, got, ref_pre, (size_t)T, (size_t)C) < TOL);
        kvcache_set_len(engine_kv(e), 0, 0);
        CHECK(engine_forward(e, &s, 1, ENGINE_HIDDEN_FINAL, NULL, got, &err) == 0);
        snprintf(what, sizeof what, "%s after final norm (= hidden[L])", MODELS[k]);
        CHECK(compare(what, got, ref + L * slice, (size_t)T, (size_t)C) < TOL);
        engine_free(e);
        free(got);
        free(ref);
        free(ref_pre);
        free(ids);
        fixture_close(&f);
    }
}

/* Greedy decoding through the KV cache (one token per step) reproduces the
 * reference's full-recompute greedy ids. */
static void test_forward_greedy_matches_reference(void)
{
    for (int k = 0; k < N_MODELS; k++) {
        fixture f;
        CHECK(fixture_open(MODELS[k], &f) == 0);
        json_t *g = json_object_get(f.ref, "greedy");
        int n_prompt, n_ref;
        int32_t *prompt = json_ids(json_object_get(g, "prompt_ids"), &n_prompt);
        int32_t *ref = json_ids(json_object_get(g, "new_ids"), &n_ref);
        engine *e;
        sampler *smp;
        mn_err err = {0};
        sampler_params sp = sampler_params_greedy();
        CHECK(engine_create(f.m, 512, 1, n_prompt + n_ref, &e, &err) == 0);
        CHECK(sampler_create(&sp, f.m->cfg.V, &smp, &err) == 0);
        int32_t out[64];
        gen_seq seq = {.slot = 0, .prompt = prompt, .n_prompt = n_prompt, .max_new = n_ref,
                       .smp = smp, .out = out};
        CHECK_MSG(engine_generate(e, &seq, 1, &err) == 0, "%s", err.msg);
        int first_diff = -1;
        for (int i = 0; i < n_ref && first_diff < 0; i++)
            if (i >= seq.n_out || out[i] != ref[i])
                first_diff = i;
        printf("  %-44s %d/%d tokens, first mismatch %d\n", MODELS[k], seq.n_out, n_ref, first_diff);
        CHECK_EQ_INT(seq.n_out, n_ref);
        CHECK_EQ_INT(first_diff, -1);
        CHECK_EQ_INT(kvcache_len(engine_kv(e), 0), n_prompt + n_ref - 1);
        sampler_free(smp);
        engine_free(e);
        free(prompt);
        free(ref);
        fixture_close(&f);
    }
}

static void test_forward_loglik_matches_reference(void)
{
    for (int k = 0; k < N_MODELS; k++) {
        fixture f;
        CHECK(fixture_open(MODELS[k], &f) == 0);
        json_t *ll = json_object_get(f.ref, "loglik");
        int c = (int)json_integer_value(json_object_get(ll, "case"));
        int n_ctx = (int)json_integer_value(json_object_get(ll, "context_len")), T;
        int32_t *ids = json_ids(json_object_get(ref_case(&f, c), "ids"), &T);
        double ref = json_real_value(json_object_get(ll, "sum_logprob"));
        int ref_greedy = json_is_true(json_object_get(ll, "is_greedy"));
        json_t *ref_tok = json_object_get(ll, "token_logprobs");
        engine *e;
        mn_err err = {0};
        CHECK(engine_create(f.m, 512, 1, T, &e, &err) == 0);
        double lp, tok[512], worst = 0.0;
        int greedy;
        CHECK_MSG(engine_loglik(e, 0, ids, n_ctx, ids + n_ctx, T - n_ctx, &lp, &greedy, tok, &err) == 0,
                  "%s", err.msg);
        for (int i = 0; i < T - n_ctx; i++) {
            double d = fabs(tok[i] - json_real_value(json_array_get(ref_tok, (size_t)i)));
            worst = d > worst ? d : worst;
        }
        printf("  %-44s sum %.9g ref %.9g rel %.3g, worst token abs %.3g, greedy %d ref %d\n",
               MODELS[k], lp, ref, fabs(lp - ref) / fabs(ref), worst, greedy, ref_greedy);
        CHECK(fabs(lp - ref) / fabs(ref) < TOL);
        CHECK(worst < 1e-3);
        CHECK_EQ_INT(greedy, ref_greedy);
        engine_free(e);
        free(ids);
        fixture_close(&f);
    }
}

/* Embedding = normalised final hidden state: last token, or the mean. */
static void test_forward_embed_pools_final_hidden(void)
{
    fixture f;
    CHECK(fixture_open("qwen3_tiny", &f) == 0);
    int L = f.m->cfg.L, C = f.m->cfg.C, T;
    json_t *hs = json_object_get(f.ref, "hidden_states");
    int32_t *ids = json_ids(
        json_object_get(ref_case(&f, (int)json_integer_value(json_object_get(hs, "case"))), "ids"), &T);
    float *ref = read_f32(&f, json_string_value(json_object_get(hs, "file")), (size_t)(L + 1) * T * C);
    CHECK(ref);
    const float *fin = ref + (size_t)L * T * C; /* [T, C] after the final norm */
    float want[2][512], got[512];
    double norm[2] = {0, 0};
    for (int c = 0; c < C; c++) {
        want[0][c] = fin[(size_t)(T - 1) * C + c];
        double s = 0;
        for (int t = 0; t < T; t++)
            s += fin[(size_t)t * C + c];
        want[1][c] = (float)(s / T);
        norm[0] += (double)want[0][c] * want[0][c];
        norm[1] += (double)want[1][c] * want[1][c];
    }
    engine *e;
    mn_err err = {0};
    CHECK(engine_create(f.m, 512, 1, T, &e, &err) == 0);
    for (int p = 0; p < 2; p++) {
        for (int c = 0; c < C; c++)
            want[p][c] = (float)(want[p][c] / sqrt(norm[p]));
        CHECK(engine_embed(e, 0, ids, T, p ? EMBED_POOL_MEAN : EMBED_POOL_LAST, got, &err) == 0);
        CHECK(compare(p ? "qwen3_tiny embedding, mean pooling" : "qwen3_tiny embedding, last token",
                      got, want[p], 1, (size_t)C) < TOL);
    }
    engine_free(e);
    free(ref);
    free(ids);
    fixture_close(&f);
}

/* ---------------------------------------------------------------------------
 * Engine paths against each other
 */

/* Logits of prefilling T tokens == prefill of T - k tokens, then k decode
 * steps of one token through the KV cache. */
static void test_forward_decode_steps_match_prefill(void)
{
    for (int k = 0; k < N_MODELS; k++) {
        fixture f;
        CHECK(fixture_open(MODELS[k], &f) == 0);
        int T, V = f.m->cfg.V, steps = 9;
        int32_t *ids = json_ids(json_object_get(ref_case(&f, 3), "ids"), &T);
        float *whole = run_logits(f.m, ids, T, 512);
        CHECK(whole);
        engine *e;
        mn_err err = {0};
        CHECK(engine_create(f.m, 512, 1, T, &e, &err) == 0);
        float *got = malloc((size_t)T * V * sizeof(float));
        engine_seg s = {0, T - steps, ids};
        CHECK(engine_forward(e, &s, 1, ENGINE_LOGITS_ALL, got, NULL, &err) == 0);
        for (int i = T - steps; i < T; i++) {
            s = (engine_seg){0, 1, ids + i};
            CHECK(engine_forward(e, &s, 1, ENGINE_LOGITS_LAST, got + (size_t)i * V, NULL, &err) == 0);
        }
        CHECK_EQ_INT(kvcache_len(engine_kv(e), 0), T);
        char what[128];
        snprintf(what, sizeof what, "%s prefill %d + %d decode steps", MODELS[k], T - steps, steps);
        CHECK(compare(what, got, whole, (size_t)T, (size_t)V) < TOL_SELF);
        engine_free(e);
        free(got);
        free(whole);
        free(ids);
        fixture_close(&f);
    }
}

/* Decode attention takes the query heads that share a kv head together, and
 * cuts a group into smaller tasks when there are more threads than tasks
 * (one sequence, KV = 2, 4 threads: one head per task).  A whole sequence fed
 * one token at a time on 1 thread (whole groups) and on 4 threads (split
 * groups) gives the same bits, and matches the prefill of it. */
static void test_forward_decode_split_groups_match_whole_groups(void)
{
    fixture f;
    CHECK(fixture_open("llama_tiny", &f) == 0); /* H = 4, KV = 2 */
    int T, V = f.m->cfg.V;
    int32_t *ids = json_ids(json_object_get(ref_case(&f, 3), "ids"), &T);
    float *whole = run_logits(f.m, ids, T, 512), *got[2];
    CHECK(whole);
    int before = threads_get();
    for (int run = 0; run < 2; run++) {
        threads_set(run ? 4 : 1); /* before engine_create: it sizes the scores scratch */
        engine *e;
        mn_err err = {0};
        CHECK(engine_create(f.m, 512, 1, T, &e, &err) == 0);
        got[run] = malloc((size_t)T * V * sizeof(float));
        for (int i = 0; i < T; i++) {
            engine_seg s = {0, 1, ids + i};
            CHECK(engine_forward(e, &s, 1, ENGINE_LOGITS_LAST, got[run] + (size_t)i * V, NULL, &err) == 0);
        }
        engine_free(e);
    }
    threads_set(before);
    CHECK(compare("llama_tiny decode, 1 thread vs prefill", got[0], whole, (size_t)T, (size_t)V) < TOL_SELF);
    CHECK_MSG(memcmp(got[0], got[1], (size_t)T * V * sizeof(float)) == 0,
              "decode logits on 4 threads (split head groups) differ from 1 thread");
    free(got[0]);
    free(got[1]);
    free(whole);
    free(ids);
    fixture_close(&f);
}

/* Several sequences of different lengths in one batch (one GEMM per weight)
 * give each sequence's logits alone; then one batched decode step of one
 * token each matches each sequence's own next step. */
static void test_forward_batch_matches_each_alone(void)
{
    for (int k = 0; k < N_MODELS; k++) {
        fixture f;
        CHECK(fixture_open(MODELS[k], &f) == 0);
        int V = f.m->cfg.V, n[4];
        int32_t *ids[4];
        float *alone[4];
        long rows = 0;
        for (int c = 0; c < 4; c++) {
            ids[c] = json_ids(json_object_get(ref_case(&f, 3 - c), "ids"), &n[c]); /* 120, 33, 7, 1 */
            alone[c] = run_logits(f.m, ids[c], n[c], 512);
            CHECK(alone[c]);
            rows += n[c];
        }
        engine *e;
        mn_err err = {0};
        CHECK(engine_create(f.m, 512, 4, 121, &e, &err) == 0);
        float *got = malloc((size_t)rows * V * sizeof(float));
        /* slots in another order than the segments, to catch mix-ups */
        engine_seg seg[4];
        for (int c = 0; c < 4; c++)
            seg[c] = (engine_seg){3 - c, n[c] - 1, ids[c]};
        seg[3].n = 1; /* the 1-token case: prefill it whole and skip its decode step */
        long r = 0;
        CHECK(engine_forward(e, seg, 4, ENGINE_LOGITS_ALL, got, NULL, &err) == 0);
        for (int c = 0; c < 4; c++) {
            char what[128];
            snprintf(what, sizeof what, "%s batch segment %d (%d tokens)", MODELS[k], c, seg[c].n);
            CHECK(compare(what, got + r * V, alone[c], (size_t)seg[c].n, (size_t)V) < TOL_SELF);
            r += seg[c].n;
        }
        /* decode step: the last token of each of the three longer sequences */
        for (int c = 0; c < 3; c++)
            seg[c] = (engine_seg){3 - c, 1, ids[c] + n[c] - 1};
        CHECK(engine_forward(e, seg, 3, ENGINE_LOGITS_LAST, got, NULL, &err) == 0);
        for (int c = 0; c < 3; c++) {
            char what[128];
            snprintf(what, sizeof what, "%s batched decode, sequence %d", MODELS[k], c);
            CHECK(compare(what, got + (size_t)c * V, alone[c] + (size_t)(n[c] - 1) * V, 1,
                          (size_t)V) < TOL_SELF);
        }
        engine_free(e);
        free(got);
        for (int c = 0; c < 4; c++) {
            free(ids[c]);
            free(alone[c]);
        }
        fixture_close(&f);
    }
}

/* A batch bigger than max_batch_tokens is split into chunks (segments cut
 * across chunk boundaries) without changing any output. */
static void test_forward_chunked_matches_whole(void)
{
    fixture f;
    CHECK(fixture_open("llama_tiny", &f) == 0);
    int V = f.m->cfg.V, C = f.m->cfg.C, L = f.m->cfg.L, n[2];
    int32_t *ids[2];
    for (int c = 0; c < 2; c++)
        ids[c] = json_ids(json_object_get(ref_case(&f, 3 - c), "ids"), &n[c]); /* 120, 33 */
    long T = n[0] + n[1];
    engine_seg seg[2] = {{0, n[0], ids[0]}, {1, n[1], ids[1]}};
    float *logits[2], *last[2], *hidden[2];
    for (int run = 0; run < 2; run++) {
        int chunk = run ? 13 : 512;
        engine *e;
        mn_err err = {0};
        CHECK(engine_create(f.m, chunk, 2, 128, &e, &err) == 0);
        logits[run] = malloc((size_t)T * V * sizeof(float));
        last[run] = malloc((size_t)2 * V * sizeof(float));
        hidden[run] = malloc((size_t)(L + 1) * T * C * sizeof(float));
        CHECK(engine_forward(e, seg, 2, ENGINE_LOGITS_ALL | ENGINE_HIDDEN_ALL, logits[run],
                             hidden[run], &err) == 0);
        kvcache_set_len(engine_kv(e), 0, 0);
        kvcache_set_len(engine_kv(e), 1, 0);
        CHECK(engine_forward(e, seg, 2, ENGINE_LOGITS_LAST, last[run], NULL, &err) == 0);
        engine_free(e);
    }
    CHECK(compare("llama_tiny chunks of 13: logits", logits[1], logits[0], (size_t)T, (size_t)V) < TOL_SELF);
    CHECK(compare("llama_tiny chunks of 13: hidden", hidden[1], hidden[0], (size_t)(L + 1) * T, (size_t)C) < TOL_SELF);
    CHECK(compare("llama_tiny chunks of 13: last logits", last[1], last[0], 2, (size_t)V) < TOL_SELF);
    CHECK(compare("llama_tiny last logits vs all, segment 0", last[0], logits[0] + (size_t)(n[0] - 1) * V, 1, (size_t)V) < TOL_SELF);
    CHECK(compare("llama_tiny last logits vs all, segment 1", last[0] + V, logits[0] + (size_t)(T - 1) * V, 1, (size_t)V) < TOL_SELF);
    for (int run = 0; run < 2; run++) {
        free(logits[run]);
        free(last[run]);
        free(hidden[run]);
    }
    for (int c = 0; c < 2; c++)
        free(ids[c]);
    fixture_close(&f);
}

/* Self-consistency layout: prefill once, fork the slot, decode several
 * sequences together; greedy branches all reproduce the reference ids. */
static void test_forward_forked_slots_decode_together(void)
{
    fixture f;
    CHECK(fixture_open("qwen2_tiny", &f) == 0);
    json_t *g = json_object_get(f.ref, "greedy");
    int n_prompt, n_ref;
    int32_t *prompt = json_ids(json_object_get(g, "prompt_ids"), &n_prompt);
    int32_t *ref = json_ids(json_object_get(g, "new_ids"), &n_ref);
    engine *e;
    mn_err err = {0};
    enum { K = 4 };
    CHECK(engine_create(f.m, 512, K, n_prompt + n_ref, &e, &err) == 0);
    engine_seg s = {0, n_prompt - 1, prompt};
    CHECK(engine_forward(e, &s, 1, 0, NULL, NULL, &err) == 0);
    for (int i = 1; i < K; i++)
        kvcache_seq_copy(engine_kv(e), 0, i);
    sampler_params sp = sampler_params_greedy();
    sampler *smp[K];
    int32_t out[K][64];
    gen_seq seq[K];
    for (int i = 0; i < K; i++) {
        CHECK(sampler_create(&sp, f.m->cfg.V, &smp[i], &err) == 0);
        /* different budgets, so the batch shrinks as sequences finish */
        seq[i] = (gen_seq){.slot = i, .prompt = prompt + n_prompt - 1, .n_prompt = 1,
                           .max_new = n_ref - 3 * i, .smp = smp[i], .out = out[i]};
    }
    CHECK_MSG(engine_generate(e, seq, K, &err) == 0, "%s", err.msg);
    for (int i = 0; i < K; i++) {
        CHECK_EQ_INT(seq[i].n_out, n_ref - 3 * i);
        CHECK(memcmp(out[i], ref, (size_t)seq[i].n_out * sizeof(int32_t)) == 0);
        sampler_free(smp[i]);
    }
    printf("  qwen2_tiny: %d forked branches reproduce the greedy ids\n", K);
    engine_free(e);
    free(prompt);
    free(ref);
    fixture_close(&f);
}

/* Bad batches are rejected with a message and leave the cache as it was. */
static void test_forward_rejects_bad_batch(void)
{
    fixture f;
    CHECK(fixture_open("llama_tiny", &f) == 0);
    engine *e;
    mn_err err = {0};
    float logits[2 * 512];
    CHECK(engine_create(f.m, 512, 2, 8, &e, &err) == 0);
    int32_t ok[3] = {1, 2, 3}, bad[3] = {1, 512, 3};
    engine_seg s[2] = {{0, 3, ok}, {1, 3, bad}};
    CHECK_EQ_INT(engine_forward(e, s, 2, ENGINE_LOGITS_LAST, logits, NULL, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "segment 1: token 1: id 512 >= vocab size 512");
    s[1] = (engine_seg){0, 3, ok};
    CHECK_EQ_INT(engine_forward(e, s, 2, ENGINE_LOGITS_LAST, logits, NULL, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "slot 0 already used by segment 0");
    s[1] = (engine_seg){2, 3, ok};
    CHECK_EQ_INT(engine_forward(e, s, 2, ENGINE_LOGITS_LAST, logits, NULL, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "slot 2 outside [0, 2)");
    CHECK_EQ_INT(engine_forward(e, s, 1, ENGINE_LOGITS_LAST | ENGINE_LOGITS_ALL, logits, NULL, &err),
                 MN_EUSAGE);
    CHECK_EQ_INT(engine_forward(e, s, 1, ENGINE_LOGITS_LAST, NULL, NULL, &err), MN_EUSAGE);
    CHECK(engine_forward(e, s, 1, ENGINE_LOGITS_LAST, logits, NULL, &err) == 0);
    s[0].n = 6; /* 3 cached + 6 > 8 */
    int32_t six[6] = {1, 2, 3, 4, 5, 6};
    s[0].ids = six;
    CHECK_EQ_INT(engine_forward(e, s, 1, ENGINE_LOGITS_LAST, logits, NULL, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "3 cached + 6 new tokens exceed the cache length 8");
    CHECK_EQ_INT(kvcache_len(engine_kv(e), 0), 3);
    CHECK_EQ_INT(kvcache_len(engine_kv(e), 1), 0);
    double lp;
    int greedy;
    CHECK_EQ_INT(engine_loglik(e, 0, ok, 1, bad, 3, &lp, &greedy, NULL, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "continuation token 2: id 512 >= vocab size 512");
    CHECK_EQ_INT(engine_loglik(e, 0, ok, 1, ok, 0, &lp, &greedy, NULL, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "empty continuation");
    engine_free(e);
    fixture_close(&f);
}

TEST_MAIN(TEST(test_forward_logits_match_reference), TEST(test_forward_hidden_states_match_reference),
          TEST(test_forward_greedy_matches_reference), TEST(test_forward_loglik_matches_reference),
          TEST(test_forward_embed_pools_final_hidden), TEST(test_forward_decode_steps_match_prefill),
          TEST(test_forward_decode_split_groups_match_whole_groups),
          TEST(test_forward_batch_matches_each_alone), TEST(test_forward_chunked_matches_whole),
          TEST(test_forward_forked_slots_decode_together), TEST(test_forward_rejects_bad_batch))
