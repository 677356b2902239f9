/* forward.c — the transformer forward pass over [T, C] blocks (see forward.h).
 *
 * engine_forward() splits a batch into chunks of at most max_batch_tokens
 * tokens; forward_chunk() runs one chunk through the model and reads top to
 * bottom: embed; per layer norm, q/k/v, q/k-norm, RoPE, cache append,
 * attention, output projection, MLP and residuals; final norm; logits.
 * Architecture differences are small `if`s on the config.
 *
 * Non-goals: sliding-window attention, ALiBi, quantised weights, KV-cache
 * eviction.
 *
 * Dimension letters: T tokens in the chunk, C model width, H query heads,
 * KV key/value heads, D head size, F MLP width, V vocab, L layers.
 */
#include "model/forward.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernels.h" /* kernel_rmsnorm, kernel_layernorm, kernel_rope, kernel_softmax ... */
#include "model/linear.h"  /* linear, linear_many, linear_mm_nt, linear_mm_nn */
#include "util/threads.h"  /* threads_set, threads_get */

/* Query rows per block in prefill attention: one block's scores are
 * [ATTN_QBLOCK, keys], and a block only looks at the keys up to its last
 * query, which skips most of the masked upper triangle. */
#define ATTN_QBLOCK 64

/* Decode attention prefetches K rows this many rows ahead (see attend_group). */
#define ATTN_PREFETCH 8

/* Work (queries x keys x head size) below which attention stays on one thread. */
#define ATTN_PARALLEL_MIN (1L << 15)

/* The part of one segment that falls into the current chunk. */
typedef struct piece {
    int seg;            /* segment index in the batch */
    int slot;           /* KV slot */
    int pos0;           /* position of the first token (the slot's length before it) */
    int n;              /* tokens in this chunk */
    int row0;           /* row of the first token in the chunk's [T, *] buffers */
    int last;           /* 1 if the piece ends its segment */
    const int32_t *ids; /* [n] */
} piece;

struct engine {
    const model *m;     /* borrowed */
    int TB;             /* max tokens per chunk */
    int max_len;        /* positions per KV slot */
    kvcache *kv;
    /* run buffers, allocated once in engine_create() */
    float *x;           /* [TB, C] residual stream */
    float *xn;          /* [TB, C] normed block input, then the MLP output */
    float *q;           /* [TB, H*D] queries */
    float *k, *v;       /* [TB, KV*D] keys and values of the chunk */
    float *att;         /* [TB, H*D] attention output, heads side by side */
    float *o;           /* [TB, C] attention output projection */
    float *up;          /* [TB, F] MLP hidden: up projection (SwiGLU) or GELU input */
    float *gate;        /* [TB, F] SwiGLU gate projection; NULL for GELU MLPs */
    float *scores;      /* [score_threads, ATTN_QBLOCK, max_len] attention probabilities,
                           one block of queries per thread */
    int score_threads;  /* threads the scores scratch is sized for */
    int *task_first;    /* [TB] first attention task of each piece */
    float *rope_cos;    /* [max_len, rotary_dim/2] */
    float *rope_sin;    /* [max_len, rotary_dim/2] */
    int *slot_seen;     /* [n_slots] scratch: batch index + 1 of the segment using a slot */
    piece *pieces;      /* [TB] pieces of the current chunk (each has >= 1 token) */
    linear_span *spans; /* [TB] the pieces' rows, for linear_spans() */
    int nspans;
};

/* ---------------------------------------------------------------------------
 * Lifecycle
 */
static float *alloc_floats(size_t n, size_t *total)
{
    *total += n * sizeof(float);
    return n ? malloc(n * sizeof(float)) : NULL;
}

int engine_create(const model *m, int max_batch_tokens, int n_slots, int max_len, engine **out,
                  mn_err *err)
{
    const mn_config *cfg = &m->cfg;
    if (max_batch_tokens <= 0 || n_slots <= 0 || max_len <= 0)
        return mn_errf(err, MN_ERANGE,
                       "engine: invalid size (batch %d tokens, %d slots, %d positions)",
                       max_batch_tokens, n_slots, max_len);
    engine *e = xcalloc(1, sizeof *e);
    e->m = m;
    e->TB = max_batch_tokens;
    e->max_len = max_len;
    int rc = kvcache_create(cfg->L, cfg->KV * cfg->D, n_slots, max_len, &e->kv, err);
    if (rc)
        goto fail;

    size_t TB = (size_t)max_batch_tokens, C = cfg->C, HD = (size_t)cfg->H * cfg->D;
    size_t KVD = (size_t)cfg->KV * cfg->D, F = cfg->F, half = (size_t)cfg->rotary_dim / 2;
    e->score_threads = threads_set(threads_get()); /* also keeps OpenBLAS single-threaded */
    size_t bytes = 0;
    e->x = alloc_floats(TB * C, &bytes);
    e->xn = alloc_floats(TB * C, &bytes);
    e->q = alloc_floats(TB * HD, &bytes);
    e->k = alloc_floats(TB * KVD, &bytes);
    e->v = alloc_floats(TB * KVD, &bytes);
    e->att = alloc_floats(TB * HD, &bytes);
    e->o = alloc_floats(TB * C, &bytes);
    e->up = alloc_floats(TB * F, &bytes);
    e->gate = cfg->act == ACT_SILU_GLU ? alloc_floats(TB * F, &bytes) : NULL;
    e->scores = alloc_floats((size_t)e->score_threads * ATTN_QBLOCK * max_len, &bytes);
    e->rope_cos = alloc_floats((size_t)max_len * half + 1, &bytes);
    e->rope_sin = alloc_floats((size_t)max_len * half + 1, &bytes);
    if (!e->x || !e->xn || !e->q || !e->k || !e->v || !e->att || !e->o || !e->up ||
        (cfg->act == ACT_SILU_GLU && !e->gate) || !e->scores || !e->rope_cos || !e->rope_sin) {
        rc = mn_errf(err, MN_ENOMEM, "engine: run buffers need %.1f MiB (batch of %d tokens, %d positions)",
                     bytes / (1024.0 * 1024.0), max_batch_tokens, max_len);
        goto fail;
    }
    kernel_rope_table(e->rope_cos, e->rope_sin, m->rope_inv_freq, (int)half, max_len);
    e->slot_seen = xcalloc((size_t)n_slots, sizeof *e->slot_seen);
    e->pieces = xcalloc(TB, sizeof *e->pieces);
    e->spans = xcalloc(TB, sizeof *e->spans);
    e->task_first = xcalloc(TB, sizeof *e->task_first);
    *out = e;
    return MN_OK;
fail:
    engine_free(e);
    return rc;
}

void engine_free(engine *e)
{
    if (!e)
        return;
    kvcache_free(e->kv);
    free(e->x);
    free(e->xn);
    free(e->q);
    free(e->k);
    free(e->v);
    free(e->att);
    free(e->o);
    free(e->up);
    free(e->gate);
    free(e->scores);
    free(e->rope_cos);
    free(e->rope_sin);
    free(e->slot_seen);
    free(e->pieces);
    free(e->spans);
    free(e->task_first);
    free(e);
}

const model *engine_model(const engine *e) { return e->m; }
kvcache *engine_kv(engine *e) { return e->kv; }

/* ---------------------------------------------------------------------------
 * Layer pieces
 */

/* The config's norm (RMSNorm or LayerNorm with bias) over T rows of C. */
static void block_norm(const engine *e, float *out, const float *x, const float *w, const float *b,
                       int T)
{
    const mn_config *cfg = &e->m->cfg;
    if (cfg->norm == NORM_RMS)
        kernel_rmsnorm(out, x, w, T, cfg->C, cfg->norm_eps);
    else
        kernel_layernorm(out, x, w, b, T, cfg->C, cfg->norm_eps);
}

/* RoPE on the queries and keys of every token at its position. */
static void rope_chunk(engine *e, const piece *pc, int np)
{
    const mn_config *cfg = &e->m->cfg;
    int half = cfg->rotary_dim / 2, H = cfg->H, KV = cfg->KV, D = cfg->D;
    if (half == 0)
        return;
    for (int p = 0; p < np; p++)
        for (int i = 0; i < pc[p].n; i++) {
            size_t row = (size_t)pc[p].row0 + i, pos = (size_t)pc[p].pos0 + i;
            const float *c = e->rope_cos + pos * half, *s = e->rope_sin + pos * half;
            kernel_rope(e->q + row * H * D, H, D, half, c, s);
            kernel_rope(e->k + row * KV * D, KV, D, half, c, s);
        }
}

/* Append the chunk's keys and values to each piece's slot in layer l. */
static void kv_append(engine *e, int l, const piece *pc, int np)
{
    size_t KVD = (size_t)e->m->cfg.KV * e->m->cfg.D;
    for (int p = 0; p < np; p++) {
        size_t n = (size_t)pc[p].n * KVD;
        memcpy(kvcache_k(e->kv, pc[p].slot, l) + pc[p].pos0 * KVD, e->k + pc[p].row0 * KVD,
               n * sizeof(float));
        memcpy(kvcache_v(e->kv, pc[p].slot, l) + pc[p].pos0 * KVD, e->v + pc[p].row0 * KVD,
               n * sizeof(float));
    }
}

static float dot(const float *a, const float *b, int n)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* The G query heads that share one key/value head (grouped-query
 * attention), one token each, against nk cached keys:
 *   out[g] = softmax(q[g] K^T * scale) V,  g < G.
 * Each K and V row is loaded once for all G heads (one call per query head
 * read every row G times).  q, out: [G, D], the group's heads being adjacent
 * (head h belongs to kv head h / G); K, V: the kv head's columns of the
 * cache, row stride ld; s: [G, nk] scratch.  Each head's arithmetic is the
 * same, in the same order, as for that head alone. */
static void attend_group(float *out, const float *q, const float *K, const float *V, int G, int nk,
                         int D, size_t ld, float scale, float *s)
{
    for (int j = 0; j < nk; j++) {
        const float *kj = K + j * ld;
        /* The slot's K and V rows were last touched a whole step ago and
         * come from memory, one row of D floats every ld: the loads stalled
         * this loop (a third of attention's time).  Fetch the K row
         * ATTN_PREFETCH rows ahead and this row of V, needed after the
         * softmax. */
        for (int d = 0; d < D; d += 16) {
            if (j + ATTN_PREFETCH < nk)
                __builtin_prefetch(kj + ATTN_PREFETCH * ld + d);
            __builtin_prefetch(V + j * ld + d);
        }
        for (int g = 0; g < G; g++)
            s[(size_t)g * nk + j] = dot(q + (size_t)g * D, kj, D) * scale;
    }
    for (int g = 0; g < G; g++)
        kernel_softmax(s + (size_t)g * nk, nk);
    memset(out, 0, (size_t)G * D * sizeof *out);
    for (int j = 0; j < nk; j++) {
        const float *vj = V + j * ld;
        for (int g = 0; g < G; g++) {
            float a = s[(size_t)g * nk + j], *og = out + (size_t)g * D;
#pragma omp simd
            for (int d = 0; d < D; d++)
                og[d] += a * vj[d];
        }
    }
}

/* Causal attention of one head h for queries [i0, i1) of a piece of n > 1
 * tokens: S = scale Q K^T (sgemm), softmax over the keys each query may see
 * (positions <= its own) and zero for the later ones, then att = S V
 * (sgemm).  The block only needs keys up to its last query's position.  K
 * and V come straight from the cache with row stride KV*D.
 * S: [ATTN_QBLOCK, max_len] scratch. */
static void attend_block(engine *e, int l, const piece *p, int h, int i0, int i1, float *S)
{
    const mn_config *cfg = &e->m->cfg;
    int D = cfg->D, HD = cfg->H * D, KVD = cfg->KV * D;
    int kvh = h / (cfg->H / cfg->KV); /* GQA: query head h reads key/value head h / (H/KV) */
    float scale = (float)(1.0 / sqrt((double)D));
    const float *K = kvcache_k(e->kv, p->slot, l) + (size_t)kvh * D;
    const float *V = kvcache_v(e->kv, p->slot, l) + (size_t)kvh * D;
    const float *q = e->q + (size_t)(p->row0 + i0) * HD + (size_t)h * D;
    float *out = e->att + (size_t)(p->row0 + i0) * HD + (size_t)h * D;
    int M = i1 - i0, nk = p->pos0 + i1; /* S is [M, nk] */
    linear_mm_nt(M, nk, D, scale, q, HD, K, KVD, S, nk);
    for (int i = 0; i < M; i++) {
        float *row = S + (size_t)i * nk;
        int seen = p->pos0 + i0 + i + 1;
        kernel_softmax(row, seen);
        for (int j = seen; j < nk; j++)
            row[j] = 0.0f;
    }
    linear_mm_nn(M, D, nk, S, nk, V, KVD, out, HD);
}

/* Attention for every piece of the chunk into e->att [T, H*D], as tasks
 * spread over the threads (each with its own scores scratch): for
 * single-token pieces (decode) one per (piece, group of query heads sharing a
 * kv head), for longer pieces one per (head, block of ATTN_QBLOCK queries).
 * A decode task takes `gsize` heads of a group: the whole group, unless it
 * is larger than the scratch holds (ATTN_QBLOCK heads) or there would be
 * fewer tasks than threads (e.g. one sequence of a model with one kv head),
 * then the group is cut into `gsplit` parts. */
static void attention(engine *e, int l, const piece *pc, int np)
{
    const mn_config *cfg = &e->m->cfg;
    int H = cfg->H, KV = cfg->KV, D = cfg->D, group = cfg->H / cfg->KV;
    size_t HD = (size_t)H * D, KVD = (size_t)KV * D;
    float scale = (float)(1.0 / sqrt((double)D));
    size_t scratch = (size_t)ATTN_QBLOCK * e->max_len; /* floats of scores per thread */
    int threads = omp_get_max_threads() < e->score_threads ? omp_get_max_threads() : e->score_threads;

    int n_decode = 0;
    for (int p = 0; p < np; p++)
        n_decode += pc[p].n == 1;
    int gsplit = (group + ATTN_QBLOCK - 1) / ATTN_QBLOCK;
    while (n_decode > 0 && (long)n_decode * KV * gsplit < threads && gsplit < group)
        gsplit++;
    int gsize = (group + gsplit - 1) / gsplit; /* heads per decode task (the last part may have fewer) */
    gsplit = (group + gsize - 1) / gsize;

    /* number the tasks piece by piece; work decides whether threads pay */
    long work = 0;
    int n_tasks = 0;
    for (int p = 0; p < np; p++) {
        int blocks = (pc[p].n + ATTN_QBLOCK - 1) / ATTN_QBLOCK;
        e->task_first[p] = n_tasks;
        n_tasks += pc[p].n == 1 ? KV * gsplit : blocks * H;
        work += (long)(pc[p].pos0 + pc[p].n) * pc[p].n * H * D;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (work >= ATTN_PARALLEL_MIN)
    for (int task = 0; task < n_tasks; task++) {
        float *S = e->scores + (size_t)omp_get_thread_num() * scratch;
        int p = 0;
        while (p + 1 < np && e->task_first[p + 1] <= task)
            p++;
        const piece *pp = &pc[p];
        int local = task - e->task_first[p];
        if (pp->n == 1) {
            int kvh = local / gsplit, g0 = (local % gsplit) * gsize;
            int h = kvh * group + g0, G = group - g0 < gsize ? group - g0 : gsize;
            attend_group(e->att + pp->row0 * HD + (size_t)h * D, e->q + pp->row0 * HD + (size_t)h * D,
                         kvcache_k(e->kv, pp->slot, l) + (size_t)kvh * D,
                         kvcache_v(e->kv, pp->slot, l) + (size_t)kvh * D, G, pp->pos0 + 1, D, KVD,
                         scale, S);
        } else {
            int blocks = (pp->n + ATTN_QBLOCK - 1) / ATTN_QBLOCK;
            int h = local / blocks, i0 = (local % blocks) * ATTN_QBLOCK;
            int i1 = i0 + ATTN_QBLOCK < pp->n ? i0 + ATTN_QBLOCK : pp->n;
            attend_block(e, l, pp, h, i0, i1, S);
        }
    }
}

/* MLP on e->xn [T, C], result back into e->xn [T, C]:
 *   SwiGLU (Llama, Qwen): down(silu(gate(x)) * up(x))
 *   GELU (GPT-NeoX):      dense_4h_to_h(gelu(dense_h_to_4h(x)))  (with biases) */
static void mlp(engine *e, const layer_weights *w, int T)
{
    const mn_config *cfg = &e->m->cfg;
    int C = cfg->C, F = cfg->F;
    if (cfg->act == ACT_SILU_GLU) {
        /* gate and up read the same input: one parallel pass for both */
        linear_op gate_up[2] = {{e->gate, w->w_gate, w->b_gate, F}, {e->up, w->w_up, w->b_up, F}};
        linear_spans(gate_up, 2, e->xn, C, e->spans, e->nspans);
        kernel_silu_mul(e->gate, e->up, (long)T * F);
        linear_op down = {e->xn, w->w_down, w->b_down, C};
        linear_spans(&down, 1, e->gate, F, e->spans, e->nspans);
    } else {
        linear_op up = {e->up, w->w_up, w->b_up, F}, down = {e->xn, w->w_down, w->b_down, C};
        linear_spans(&up, 1, e->xn, C, e->spans, e->nspans);
        kernel_gelu_erf(e->up, (long)T * F);
        linear_spans(&down, 1, e->up, F, e->spans, e->nspans);
    }
}

/* dst[i] += a[i] (+ b[i] when b is not NULL), n floats. */
static void add_into(float *dst, const float *a, const float *b, long n)
{
    if (b) {
#pragma omp parallel for simd if (n >= (1L << 16))
        for (long i = 0; i < n; i++)
            dst[i] += a[i] + b[i];
    } else {
#pragma omp parallel for simd if (n >= (1L << 16))
        for (long i = 0; i < n; i++)
            dst[i] += a[i];
    }
}

/* Copy the chunk's T rows of src [T, C] into rows t0.. of a [*, C] output. */
static void copy_rows(float *dst, const float *src, long t0, int T, int C)
{
    memcpy(dst + (size_t)t0 * C, src, (size_t)T * C * sizeof(float));
}

/* ---------------------------------------------------------------------------
 * One chunk: T tokens in np pieces.  t0 is the batch row of the chunk's first
 * token, T_all the batch's token count (for the [L+1, T_all, C] hidden
 * output); *next_last is the next ENGINE_LOGITS_LAST output row.
 */
static void forward_chunk(engine *e, const piece *pc, int np, int T, int flags, float *logits,
                          float *hidden, long t0, long T_all, int *next_last)
{
    const model *m = e->m;
    const mn_config *cfg = &m->cfg;
    const int C = cfg->C, L = cfg->L, HD = cfg->H * cfg->D, KVD = cfg->KV * cfg->D;
    const size_t layer_stride = (size_t)T_all * C; /* one [T_all, C] slice of hidden */
    for (int p = 0; p < np; p++)
        e->spans[p] = (linear_span){pc[p].row0, pc[p].n};
    e->nspans = np;

    /* embed: x[t] = tok_emb[id_t] */
    for (int p = 0; p < np; p++)
        for (int i = 0; i < pc[p].n; i++)
            memcpy(e->x + (size_t)(pc[p].row0 + i) * C, m->tok_emb + (size_t)pc[p].ids[i] * C,
                   (size_t)C * sizeof(float));
    if (flags & ENGINE_HIDDEN_ALL)
        copy_rows(hidden, e->x, t0, T, C);

    for (int l = 0; l < L; l++) {
        const layer_weights *w = &m->layers[l];
        /* attention block: xn = norm1(x); q, k, v projections (+bias) */
        block_norm(e, e->xn, e->x, w->attn_norm_w, w->attn_norm_b, T);
        linear_op qkv[3] = {{e->q, w->wq, w->bq, HD}, {e->k, w->wk, w->bk, KVD}, {e->v, w->wv, w->bv, KVD}};
        linear_spans(qkv, 3, e->xn, C, e->spans, e->nspans); /* one parallel pass for the three */
        if (cfg->qk_norm) { /* Qwen3: RMSNorm over D of each head, before RoPE */
            kernel_rmsnorm(e->q, e->q, w->q_norm_w, T * cfg->H, cfg->D, cfg->norm_eps);
            kernel_rmsnorm(e->k, e->k, w->k_norm_w, T * cfg->KV, cfg->D, cfg->norm_eps);
        }
        rope_chunk(e, pc, np);
        kv_append(e, l, pc, np);
        attention(e, l, pc, np);                             /* att [T, H*D] */
        linear_op oproj = {e->o, w->wo, w->bo, C};
        linear_spans(&oproj, 1, e->att, HD, e->spans, e->nspans); /* o [T, C] */
        if (cfg->parallel_residual) {
            /* GPT-NeoX use_parallel_residual: x = x + attn(ln1(x)) + mlp(ln2(x)) */
            block_norm(e, e->xn, e->x, w->mlp_norm_w, w->mlp_norm_b, T);
            mlp(e, w, T);
            add_into(e->x, e->o, e->xn, (long)T * C);
        } else {
            /* sequential: x = x + attn(norm1(x)); x = x + mlp(norm2(x)) */
            add_into(e->x, e->o, NULL, (long)T * C);
            block_norm(e, e->xn, e->x, w->mlp_norm_w, w->mlp_norm_b, T);
            mlp(e, w, T);
            add_into(e->x, e->xn, NULL, (long)T * C);
        }
        if ((flags & ENGINE_HIDDEN_ALL) && l + 1 < L)
            copy_rows(hidden + (size_t)(l + 1) * layer_stride, e->x, t0, T, C);
    }

    /* final norm */
    if (flags & ENGINE_HIDDEN_PRENORM)
        copy_rows(hidden, e->x, t0, T, C);
    block_norm(e, e->xn, e->x, m->final_norm_w, m->final_norm_b, T);
    if (flags & ENGINE_HIDDEN_ALL)
        copy_rows(hidden + (size_t)L * layer_stride, e->xn, t0, T, C);
    if (flags & ENGINE_HIDDEN_FINAL)
        copy_rows(hidden, e->xn, t0, T, C);

    /* logits = xn lm_head^T, for all rows or for the last row of each
     * segment that ends in this chunk (gathered into x, no longer needed) */
    if (flags & ENGINE_LOGITS_ALL) {
        linear_op head = {logits + (size_t)t0 * cfg->V, m->lm_head, NULL, cfg->V};
        linear_spans(&head, 1, e->xn, C, e->spans, e->nspans);
    }
    if (flags & ENGINE_LOGITS_LAST) {
        int rows = 0;
        for (int p = 0; p < np; p++)
            if (pc[p].last)
                memcpy(e->x + (size_t)rows++ * C, e->xn + (size_t)(pc[p].row0 + pc[p].n - 1) * C,
                       (size_t)C * sizeof(float));
        /* each gathered row is a piece of its own: the streaming kernel,
         * whatever the number of segments that end here */
        for (int r = 0; r < rows; r++)
            e->spans[r] = (linear_span){r, 1};
        linear_op head = {logits + (size_t)*next_last * cfg->V, m->lm_head, NULL, cfg->V};
        if (rows > 0)
            linear_spans(&head, 1, e->x, C, e->spans, rows);
        *next_last += rows;
    }
}

/* ---------------------------------------------------------------------------
 * engine_forward
 */
static int check_batch(engine *e, const engine_seg *seg, int n_seg, int flags, const float *logits,
                       const float *hidden, mn_err *err)
{
    int n_logits = !!(flags & ENGINE_LOGITS_ALL) + !!(flags & ENGINE_LOGITS_LAST);
    int n_hidden = !!(flags & ENGINE_HIDDEN_ALL) + !!(flags & ENGINE_HIDDEN_FINAL) +
                   !!(flags & ENGINE_HIDDEN_PRENORM);
    if (n_logits > 1 || n_hidden > 1)
        return mn_errf(err, MN_EUSAGE, "engine_forward: flags 0x%x ask for two logits or hidden layouts",
                       flags);
    if ((n_logits && !logits) || (n_hidden && !hidden))
        return mn_errf(err, MN_EUSAGE, "engine_forward: flags 0x%x need an output buffer", flags);
    if (n_seg <= 0)
        return mn_errf(err, MN_ERANGE, "engine_forward: empty batch");
    const mn_config *cfg = &e->m->cfg;
    int n_slots = kvcache_n_slots(e->kv), rc = MN_OK;
    for (int s = 0; s < n_seg && !rc; s++) {
        int slot = seg[s].slot;
        if (slot < 0 || slot >= n_slots)
            rc = mn_errf(err, MN_ERANGE, "segment %d: slot %d outside [0, %d)", s, slot, n_slots);
        else if (e->slot_seen[slot])
            rc = mn_errf(err, MN_ERANGE, "segment %d: slot %d already used by segment %d", s, slot,
                         e->slot_seen[slot] - 1);
        else if (seg[s].n <= 0 || !seg[s].ids)
            rc = mn_errf(err, MN_ERANGE, "segment %d: no tokens", s);
        else if ((long)kvcache_len(e->kv, slot) + seg[s].n > e->max_len)
            rc = mn_errf(err, MN_ERANGE,
                         "segment %d: slot %d: %d cached + %d new tokens exceed the cache length %d",
                         s, slot, kvcache_len(e->kv, slot), seg[s].n, e->max_len);
        if (rc)
            break;
        e->slot_seen[slot] = s + 1;
        for (int i = 0; i < seg[s].n; i++)
            if (seg[s].ids[i] < 0 || seg[s].ids[i] >= cfg->V) {
                rc = mn_errf(err, MN_ERANGE, "segment %d: token %d: id %ld %s vocab size %d", s, i,
                             (long)seg[s].ids[i], seg[s].ids[i] < 0 ? "outside" : ">=", cfg->V);
                break;
            }
    }
    for (int s = 0; s < n_seg; s++)
        if (seg[s].slot >= 0 && seg[s].slot < n_slots)
            e->slot_seen[seg[s].slot] = 0;
    return rc;
}

int engine_forward(engine *e, const engine_seg *seg, int n_seg, int flags, float *logits,
                   float *hidden, mn_err *err)
{
    int rc = check_batch(e, seg, n_seg, flags, logits, hidden, err);
    if (rc)
        return rc;
    long T_all = 0;
    for (int s = 0; s < n_seg; s++)
        T_all += seg[s].n;

    int s = 0, off = 0;       /* next token: seg[s].ids[off] */
    long t0 = 0;              /* batch row of the chunk's first token */
    int next_last = 0;        /* next ENGINE_LOGITS_LAST row */
    while (s < n_seg) {
        /* fill a chunk with whole pieces: a segment is cut at every TB-th
         * token from its own start, never where the chunk happens to be
         * full, so that its pieces (and with them the bits of its outputs:
         * linear.h) do not depend on the segments batched with it */
        int np = 0, T = 0;
        while (s < n_seg) {
            int take = seg[s].n - off < e->TB ? seg[s].n - off : e->TB;
            if (T + take > e->TB)
                break; /* the next piece starts the next chunk */
            piece *p = &e->pieces[np++];
            p->seg = s;
            p->slot = seg[s].slot;
            p->pos0 = kvcache_len(e->kv, p->slot); /* earlier pieces are cached by now */
            p->n = take;
            p->row0 = T;
            p->ids = seg[s].ids + off;
            off += take;
            T += take;
            p->last = off == seg[s].n;
            if (!p->last)
                break; /* a full TB piece: its segment goes on in the next chunk */
            s++;
            off = 0;
        }
        forward_chunk(e, e->pieces, np, T, flags, logits, hidden, t0, T_all, &next_last);
        for (int p = 0; p < np; p++)
            kvcache_set_len(e->kv, e->pieces[p].slot, e->pieces[p].pos0 + e->pieces[p].n);
        t0 += T;
    }
    return MN_OK;
}
