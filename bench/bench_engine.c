/* bench_engine.c — how fast the inference engine runs a checkpoint on this
 * machine: prefill tokens/s, single-sequence decode tokens/s, batched decode
 * tokens/s, and peak memory, for comparison with the sgemm / bandwidth
 * ceilings (bench_sgemm, bench_stream) and with llama.cpp's llama-bench.
 *
 *   bench_engine MODEL_DIR [--threads N] [--prompt T] [--gen G] [--batch B]
 *                [--reps R] [--phase all|prefill|decode|batch]
 *
 * Defaults: T = 512, G = 128, B = 8, R = 5, threads from util/threads.h,
 * every phase (--phase runs the checks and one measurement: for profiling).
 * Before timing anything it checks the answers (exit status 1 if wrong):
 *   1. prefill vs decode: the logits of a 16-token prompt run as one
 *      segment (sgemm path) equal those of the same tokens fed one at a time
 *      (weight-streaming path), max |a - b| / max |a| < 1e-4 at every
 *      position;
 *   2. batched vs single decode: one step of B sequences in one batch gives
 *      each sequence the logits of the same step run alone, within 1e-4.
 * Then, each measurement one warm-up run and R timed runs, median reported:
 *   prefill  T random ids into an empty slot, logits of the last one only
 *            (what a harness does for a prompt);
 *   decode   G steps of one token after a 16-token prompt, the token fed
 *            being the argmax of the previous logits (llama-bench tg128);
 *   batchB   G steps of B sequences (B segments of one token per forward
 *            call) after a 16-token prompt copied into B slots;
 *   rss      peak resident set (getrusage ru_maxrss, whole run) against
 *            f32 weight bytes + KV cache bytes reserved.
 *
 * Output lines (parsed by bench/run_engine_bench.sh):
 *   engine metric=prefill threads=N T=512 min=.. median=.. max=.. unit=tok/s
 *   engine metric=decode threads=N gen=128 ...      unit=tok/s
 *   engine metric=batch threads=N B=8 gen=128 ...   unit=tok/s
 *   engine metric=rss threads=N peak_mib=.. weights_mib=.. kv_mib=.. limit_mib=..
 *
 * Non-goals: tokenization, sampling, accuracy against a reference (that is
 * tests/model/test_forward.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h" /* now_s, cmp_double */
#include "model/forward.h"
#include "model/kernels.h"
#include "model/kvcache.h"
#include "model/model.h"
#include "util/err.h"
#include "util/threads.h"

#define CHECK_PROMPT 16 /* tokens of the prompt used by the checks and decode */

typedef struct be_opts {
    const char *dir;
    int threads, T, G, B, reps;
    const char *phase; /* "all", "prefill", "decode" or "batch" */
} be_opts;

typedef struct be_ctx {
    be_opts o;
    model *m;
    engine *e;
    int V;
    uint64_t rng;
    float *logits;  /* [max(CHECK_PROMPT, B), V] */
    float *logits2; /* same size */
} be_ctx;

static uint64_t be_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void be_random_ids(be_ctx *c, int32_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        ids[i] = (int32_t)(be_rand(&c->rng) % (uint64_t)c->V);
}

static int be_parse_int(const char *flag, const char *v, int lo, int hi, int *out, mn_err *err)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || x < lo || x > hi)
        return mn_errf(err, MN_EUSAGE, "argument %s: '%s' is not an integer in [%d, %d]", flag, v, lo, hi);
    *out = (int)x;
    return MN_OK;
}

static int be_parse_args(int argc, char **argv, be_opts *o, mn_err *err)
{
    *o = (be_opts){.threads = 0, .T = 512, .G = 128, .B = 8, .reps = 5, .phase = "all"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (o->dir)
                return mn_errf(err, MN_EUSAGE, "argument %d: '%s': only one MODEL_DIR is accepted", i, a);
            o->dir = a;
            continue;
        }
        if (i + 1 >= argc)
            return mn_errf(err, MN_EUSAGE, "argument %d: %s needs a value", i, a);
        const char *v = argv[++i];
        int rc;
        if (!strcmp(a, "--threads")) rc = be_parse_int(a, v, 1, 4096, &o->threads, err);
        else if (!strcmp(a, "--prompt")) rc = be_parse_int(a, v, 1, 1 << 20, &o->T, err);
        else if (!strcmp(a, "--gen")) rc = be_parse_int(a, v, 1, 1 << 20, &o->G, err);
        else if (!strcmp(a, "--batch")) rc = be_parse_int(a, v, 2, 4096, &o->B, err);
        else if (!strcmp(a, "--reps")) rc = be_parse_int(a, v, 1, 1000, &o->reps, err);
        else if (!strcmp(a, "--phase")) {
            o->phase = v;
            rc = MN_OK;
            if (strcmp(v, "all") && strcmp(v, "prefill") && strcmp(v, "decode") && strcmp(v, "batch"))
                rc = mn_errf(err, MN_EUSAGE, "argument %s: '%s' is not all, prefill, decode or batch", a, v);
        }
        else rc = mn_errf(err, MN_EUSAGE, "argument %d: unknown flag '%s'", i - 1, a);
        if (rc)
            return rc;
    }
    if (!o->dir)
        return mn_errf(err, MN_EUSAGE, "missing MODEL_DIR (usage: bench_engine MODEL_DIR [--threads N] "
                       "[--prompt T] [--gen G] [--batch B] [--reps R] [--phase all|prefill|decode|batch])");
    return MN_OK;
}

/* max |a - b| / max |a| over n floats; *at gets the index of the largest
 * difference. */
static double be_rel_diff(const float *a, const float *b, size_t n, size_t *at)
{
    double dmax = 0.0, amax = 0.0;
    *at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > dmax) {
            dmax = d;
            *at = i;
        }
        if (fabs((double)a[i]) > amax)
            amax = fabs((double)a[i]);
    }
    return amax > 0.0 ? dmax / amax : dmax;
}

static void be_clear(be_ctx *c)
{
    kvcache *kv = engine_kv(c->e);
    for (int s = 0; s < kvcache_n_slots(kv); s++)
        kvcache_set_len(kv, s, 0);
}

/* Check 1: one 16-token segment vs 16 single-token steps. */
static int be_check_prefill_vs_decode(be_ctx *c, mn_err *err)
{
    int32_t ids[CHECK_PROMPT];
    be_random_ids(c, ids, CHECK_PROMPT);
    be_clear(c);
    engine_seg seg = {.slot = 0, .n = CHECK_PROMPT, .ids = ids};
    int rc = engine_forward(c->e, &seg, 1, ENGINE_LOGITS_ALL, c->logits, NULL, err);
    if (rc)
        return rc;
    double worst = 0.0;
    for (int t = 0; t < CHECK_PROMPT; t++) {
        engine_seg one = {.slot = 1, .n = 1, .ids = &ids[t]};
        if ((rc = engine_forward(c->e, &one, 1, ENGINE_LOGITS_LAST, c->logits2, NULL, err)))
            return rc;
        size_t at;
        double r = be_rel_diff(c->logits + (size_t)t * c->V, c->logits2, (size_t)c->V, &at);
        if (r > worst)
            worst = r;
        if (!(r < 1e-4))
            return mn_errf(err, MN_EMISMATCH, "check prefill-vs-decode: position %d: logits differ by "
                           "%.3g relative (token %zu: prefill %.6g, decode %.6g); limit 1e-4",
                           t, r, at, c->logits[(size_t)t * c->V + at], c->logits2[at]);
    }
    printf("# check prefill-vs-decode: %d positions, max rel diff %.3g (< 1e-4): ok\n", CHECK_PROMPT, worst);
    return MN_OK;
}

/* Check 2: B sequences stepped together vs each stepped alone. */
static int be_check_batched_vs_single(be_ctx *c, mn_err *err)
{
    int B = c->o.B, rc;
    int32_t prompt[CHECK_PROMPT], *next = xmalloc((size_t)B * sizeof *next);
    engine_seg *segs = xmalloc((size_t)B * sizeof *segs);
    kvcache *kv = engine_kv(c->e);
    be_random_ids(c, prompt, CHECK_PROMPT);
    be_random_ids(c, next, B);
    be_clear(c);
    engine_seg seg = {.slot = 0, .n = CHECK_PROMPT, .ids = prompt};
    if ((rc = engine_forward(c->e, &seg, 1, ENGINE_LOGITS_LAST, c->logits, NULL, err)))
        goto done;
    /* give each slot its own history: the shared prompt plus one token */
    for (int s = 1; s < B; s++)
        kvcache_seq_copy(kv, 0, s);
    for (int s = 0; s < B; s++) {
        engine_seg one = {.slot = s, .n = 1, .ids = &next[(s + 1) % B]};
        if ((rc = engine_forward(c->e, &one, 1, ENGINE_LOGITS_LAST, c->logits, NULL, err)))
            goto done;
    }
    for (int s = 0; s < B; s++)
        segs[s] = (engine_seg){.slot = s, .n = 1, .ids = &next[s]};
    if ((rc = engine_forward(c->e, segs, B, ENGINE_LOGITS_LAST, c->logits, NULL, err)))
        goto done;
    double worst = 0.0;
    for (int s = 0; s < B; s++) {
        kvcache_set_len(kv, s, CHECK_PROMPT + 1); /* drop the batched step */
        engine_seg one = {.slot = s, .n = 1, .ids = &next[s]};
        if ((rc = engine_forward(c->e, &one, 1, ENGINE_LOGITS_LAST, c->logits2, NULL, err)))
            goto done;
        size_t at;
        double r = be_rel_diff(c->logits + (size_t)s * c->V, c->logits2, (size_t)c->V, &at);
        if (r > worst)
            worst = r;
        if (!(r < 1e-4)) {
            rc = mn_errf(err, MN_EMISMATCH, "check batched-vs-single: sequence %d: logits differ by %.3g "
                         "relative (token %zu: batched %.6g, single %.6g); limit 1e-4",
                         s, r, at, c->logits[(size_t)s * c->V + at], c->logits2[at]);
            goto done;
        }
    }
    printf("# check batched-vs-single: %d sequences, max rel diff %.3g (< 1e-4): ok\n", B, worst);
done:
    free(next);
    free(segs);
    return rc;
}

static void be_report(const char *metric, const char *extra, int threads, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    printf("engine metric=%s threads=%d %s min=%.2f median=%.2f max=%.2f unit=tok/s reps=%d\n",
           metric, threads, extra, v[0], v[n / 2], v[n - 1], n);
    fflush(stdout);
}

/* prefill: T random ids into an empty slot, last logits only. */
static int be_time_prefill(be_ctx *c, double *tps, mn_err *err)
{
    int32_t *ids = xmalloc((size_t)c->o.T * sizeof *ids);
    int rc = MN_OK;
    for (int r = -1; r < c->o.reps && !rc; r++) {
        be_random_ids(c, ids, c->o.T);
        be_clear(c);
        engine_seg seg = {.slot = 0, .n = c->o.T, .ids = ids};
        double t0 = now_s();
        rc = engine_forward(c->e, &seg, 1, ENGINE_LOGITS_LAST, c->logits, NULL, err);
        double dt = now_s() - t0;
        if (r >= 0)
            tps[r] = c->o.T / dt;
    }
    free(ids);
    return rc;
}

/* decode with n_seq sequences: a 16-token prompt copied to n_seq slots, then
 * G steps of one token per sequence, each the argmax of its last logits. */
static int be_time_decode(be_ctx *c, int n_seq, double *tps, mn_err *err)
{
    int32_t prompt[CHECK_PROMPT], *tok = xmalloc((size_t)n_seq * sizeof *tok);
    engine_seg *segs = xmalloc((size_t)n_seq * sizeof *segs);
    kvcache *kv = engine_kv(c->e);
    int rc = MN_OK;
    for (int r = -1; r < c->o.reps && !rc; r++) {
        be_random_ids(c, prompt, CHECK_PROMPT);
        be_clear(c);
        engine_seg seg = {.slot = 0, .n = CHECK_PROMPT, .ids = prompt};
        if ((rc = engine_forward(c->e, &seg, 1, ENGINE_LOGITS_LAST, c->logits, NULL, err)))
            break;
        for (int s = 1; s < n_seq; s++)
            kvcache_seq_copy(kv, 0, s);
        /* distinct first tokens, so the sequences do not stay identical */
        be_random_ids(c, tok, n_seq);
        double t0 = now_s();
        for (int g = 0; g < c->o.G && !rc; g++) {
            for (int s = 0; s < n_seq; s++)
                segs[s] = (engine_seg){.slot = s, .n = 1, .ids = &tok[s]};
            rc = engine_forward(c->e, segs, n_seq, ENGINE_LOGITS_LAST, c->logits, NULL, err);
            for (int s = 0; s < n_seq && !rc; s++)
                tok[s] = kernel_argmax(c->logits + (size_t)s * c->V, c->V);
        }
        double dt = now_s() - t0;
        if (r >= 0)
            tps[r] = (double)n_seq * c->o.G / dt;
    }
    free(tok);
    free(segs);
    return rc;
}

static int be_run(be_ctx *c, mn_err *err)
{
    const be_opts *o = &c->o;
    int rc = model_load(o->dir, &c->m, err);
    if (rc)
        return rc;
    const mn_config *cfg = &c->m->cfg;
    c->V = cfg->V;
    int max_len = o->T > CHECK_PROMPT + 1 + o->G ? o->T : CHECK_PROMPT + 1 + o->G;
    int max_batch = o->T < 512 ? o->T : 512;
    if ((rc = engine_create(c->m, max_batch, o->B, max_len, &c->e, err)))
        return rc;
    size_t rows = (size_t)(o->B > CHECK_PROMPT ? o->B : CHECK_PROMPT);
    c->logits = malloc(rows * (size_t)c->V * sizeof(float));
    c->logits2 = malloc(rows * (size_t)c->V * sizeof(float));
    if (!c->logits || !c->logits2)
        return mn_errf(err, MN_ENOMEM, "logits buffers: %zu bytes", 2 * rows * (size_t)c->V * sizeof(float));
    printf("# %s: %s C=%d L=%d H=%d KV=%d D=%d F=%d V=%d, threads %d, KV cache %d slots x %d positions\n",
           o->dir, cfg->arch_name, cfg->C, cfg->L, cfg->H, cfg->KV, cfg->D, cfg->F, cfg->V,
           threads_get(), o->B, max_len);
    if ((rc = be_check_prefill_vs_decode(c, err)) || (rc = be_check_batched_vs_single(c, err)))
        return rc;

    double *v = xmalloc((size_t)o->reps * sizeof *v);
    char extra[64];
    int all = !strcmp(o->phase, "all");
    if (all || !strcmp(o->phase, "prefill")) {
        if ((rc = be_time_prefill(c, v, err)))
            goto done;
        snprintf(extra, sizeof extra, "T=%d", o->T);
        be_report("prefill", extra, threads_get(), v, o->reps);
    }
    if (all || !strcmp(o->phase, "decode")) {
        if ((rc = be_time_decode(c, 1, v, err)))
            goto done;
        snprintf(extra, sizeof extra, "gen=%d", o->G);
        be_report("decode", extra, threads_get(), v, o->reps);
    }
    if (all || !strcmp(o->phase, "batch")) {
        if ((rc = be_time_decode(c, o->B, v, err)))
            goto done;
        snprintf(extra, sizeof extra, "B=%d gen=%d", o->B, o->G);
        be_report("batch", extra, threads_get(), v, o->reps);
    }

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mib = 1024.0 * 1024.0;
    double peak = (double)ru.ru_maxrss * 1024.0 / mib;
    double w = (double)model_f32_bytes(c->m) / mib;
    double kvb = (double)kvcache_bytes(engine_kv(c->e)) / mib;
    printf("engine metric=rss threads=%d peak_mib=%.1f weights_mib=%.1f kv_mib=%.1f limit_mib=%.1f\n",
           threads_get(), peak, w, kvb, 1.1 * (w + kvb));
done:
    free(v);
    return rc;
}

int main(int argc, char **argv)
{
    mn_err err = {0};
    be_ctx c = {.rng = 0x5EED2026ull};
    int rc = be_parse_args(argc, argv, &c.o, &err);
    if (!rc) {
        threads_set(c.o.threads);
        rc = be_run(&c, &err);
    }
    free(c.logits);
    free(c.logits2);
    engine_free(c.e);
    model_free(c.m);
    if (rc) {
        fprintf(stderr, "bench_engine: %s\n", err.msg);
        return mn_exit_code(rc);
    }
    return 0;
}
