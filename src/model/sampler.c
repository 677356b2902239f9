/* sampler.c — greedy / temperature / top-k / top-p token choice (see
 * sampler.h).
 *
 * Sampling must not cost a sort of the whole vocabulary per token (150k
 * entries is ~10 ms, half a decode step): top-k keeps a heap of k entries,
 * and top-p first collects the tokens above a probability threshold that is
 * lowered until they hold top_p of the mass, then sorts only those.
 */
#include "model/sampler.h"

#include <math.h>
#include <stdlib.h>

#include "model/kernels.h" /* kernel_argmax */

/* ---------------------------------------------------------------------------
 * Random numbers
 */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* ---------------------------------------------------------------------------
 * Sampler
 */
typedef struct cand {
    float v;  /* logit, then unnormalised probability */
    int id;
} cand;

struct sampler {
    sampler_params p;
    int V;
    rng r;
    cand *c;  /* [V] candidates */
};

sampler_params sampler_params_greedy(void)
{
    sampler_params p = {.temperature = 0.0, .top_k = 0, .top_p = 1.0, .seed = 0};
    return p;
}

int sampler_create(const sampler_params *p, int V, sampler **out, mn_err *err)
{
    if (V <= 0)
        return mn_errf(err, MN_ERANGE, "sampler: vocabulary size %d", V);
    if (!(p->temperature >= 0.0) || isinf(p->temperature))
        return mn_errf(err, MN_ERANGE, "sampler: temperature %g is not a finite number >= 0",
                       p->temperature);
    if (p->top_k < 0)
        return mn_errf(err, MN_ERANGE, "sampler: top_k %d is negative", p->top_k);
    if (!(p->top_p > 0.0 && p->top_p <= 1.0))
        return mn_errf(err, MN_ERANGE, "sampler: top_p %g outside (0, 1]", p->top_p);
    sampler *s = xcalloc(1, sizeof *s);
    s->p = *p;
    s->V = V;
    rng_seed(&s->r, p->seed);
    s->c = xmalloc((size_t)V * sizeof *s->c);
    *out = s;
    return MN_OK;
}

void sampler_free(sampler *s)
{
    if (!s)
        return;
    free(s->c);
    free(s);
}

/* a ranks before b: larger value, then smaller id (deterministic ties). */
static int better(const cand *a, const cand *b)
{
    return a->v > b->v || (a->v == b->v && a->id < b->id);
}

static int cmp_better_first(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

/* Min-heap on `better` (the root is the worst kept): sift c[i] down. */
static void heap_down(cand *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(&h[w], &h[l]))
            w = l;
        if (r < n && better(&h[w], &h[r]))
            w = r;
        if (w == i)
            return;
        cand t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* The k best logits into c[0..k), sorted best first. */
static void top_k(sampler *s, const float *logits, int k)
{
    cand *h = s->c;
    for (int i = 0; i < k; i++)
        h[i] = (cand){logits[i], i};
    for (int i = k / 2 - 1; i >= 0; i--)
        heap_down(h, k, i);
    for (int i = k; i < s->V; i++) {
        cand x = {logits[i], i};
        if (better(&x, &h[0])) {
            h[0] = x;
            heap_down(h, k, 0);
        }
    }
    qsort(h, (size_t)k, sizeof *h, cmp_better_first);
}

/* Nucleus over c[0..n) holding unnormalised probabilities summing to total
 * (sorted best first when `sorted`): reorder so that the kept set comes first,
 * best first, and return its size — the fewest tokens whose mass reaches
 * top_p * total (at least one). */
static int top_p(sampler *s, int n, double total, int sorted)
{
    cand *c = s->c;
    double want = s->p.top_p * total;
    int m = n;
    if (!sorted) {
        /* Every token outside the nucleus is less likely than every token in
         * it, so the tokens above a threshold contain the nucleus as soon as
         * their mass reaches `want`.  The best token has probability 1
         * (exp(0)), so start at 2^-10 of it and lower. */
        for (double thr = 0x1.0p-10;; thr *= 0x1.0p-10) {
            double mass = 0.0;
            m = 0;
            for (int i = 0; i < n; i++)
                if (c[i].v >= thr) {
                    mass += c[i].v;
                    cand t = c[m];
                    c[m++] = c[i];
                    c[i] = t;
                }
            if (mass >= want || thr < 1e-30) {
                if (thr < 1e-30)
                    m = n;
                break;
            }
        }
        qsort(c, (size_t)m, sizeof *c, cmp_better_first);
    }
    double mass = 0.0;
    for (int i = 0; i < m; i++) {
        mass += c[i].v;
        if (mass >= want)
            return i + 1;
    }
    return m;
}

int sampler_sample(sampler *s, const float *logits)
{
    if (s->p.temperature == 0.0)
        return kernel_argmax(logits, s->V);
    cand *c = s->c;
    int n = s->V, sorted = 0;
    if (s->p.top_k > 0 && s->p.top_k < s->V) {
        n = s->p.top_k;
        top_k(s, logits, n);
        sorted = 1;
    } else {
        for (int i = 0; i < n; i++)
            c[i] = (cand){logits[i], i};
    }
    /* probabilities up to a factor: exp((logit - max) / temperature) */
    float max = c[0].v;
    for (int i = 1; i < n; i++)
        max = c[i].v > max ? c[i].v : max;
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        c[i].v = (float)exp((c[i].v - (double)max) / s->p.temperature);
        total += c[i].v;
    }
    if (s->p.top_p < 1.0) {
        n = top_p(s, n, total, sorted);
        total = 0.0;
        for (int i = 0; i < n; i++)
            total += c[i].v;
    }
    /* inverse CDF */
    double u = rng_uniform(&s->r) * total, acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += c[i].v;
        if (u < acc)
            return c[i].id;
    }
    return c[n - 1].id; /* u landed on the rounding slack of the last term */
}
