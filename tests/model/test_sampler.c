/* test_sampler.c — greedy, temperature, top-k and top-p choices, the seeded
 * random generator, and parameter checks. */
#include "test.h"

#include <stdint.h>

#include "model/sampler.h"

/* Draw n tokens from logits [V] and count them into counts [V]. */
static void draw(const sampler_params *p, const float *logits, int V, int n, int *counts)
{
    sampler *s;
    mn_err err = {0};
    memset(counts, 0, (size_t)V * sizeof *counts);
    if (sampler_create(p, V, &s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    for (int i = 0; i < n; i++)
        counts[sampler_sample(s, logits)]++;
    sampler_free(s);
}

static void test_sampler_greedy_takes_first_maximum(void)
{
    float logits[6] = {0.1f, 3.0f, -2.0f, 3.0f, 2.9f, 0.0f};
    sampler_params p = sampler_params_greedy();
    int counts[6];
    draw(&p, logits, 6, 10, counts);
    CHECK_EQ_INT(counts[1], 10);
}

/* Frequencies follow softmax(logits / T): 4-sigma bounds. */
static void test_sampler_temperature_follows_softmax(void)
{
    float logits[4] = {1.0f, 0.5f, -0.5f, 0.0f};
    int n = 200000, counts[4];
    for (int ti = 0; ti < 2; ti++) {
        double T = ti ? 0.5 : 1.0, z = 0, prob[4];
        for (int i = 0; i < 4; i++)
            z += prob[i] = exp(logits[i] / T);
        sampler_params p = {.temperature = T, .top_k = 0, .top_p = 1.0, .seed = 42};
        draw(&p, logits, 4, n, counts);
        for (int i = 0; i < 4; i++) {
            double want = prob[i] / z, got = (double)counts[i] / n;
            double sigma = sqrt(want * (1 - want) / n);
            CHECK_MSG(fabs(got - want) < 4 * sigma, "T=%g token %d: %.4f vs %.4f", T, i, got, want);
        }
    }
}

static void test_sampler_top_k_keeps_k_best(void)
{
    float logits[5] = {0.0f, 2.0f, 1.0f, 1.9f, -1.0f};
    int n = 100000, counts[5];
    sampler_params p = {.temperature = 1.0, .top_k = 2, .top_p = 1.0, .seed = 7};
    draw(&p, logits, 5, n, counts);
    CHECK_EQ_INT(counts[0] + counts[2] + counts[4], 0);
    double want = exp(2.0) / (exp(2.0) + exp(1.9)), got = (double)counts[1] / n;
    CHECK_MSG(fabs(got - want) < 4 * sqrt(want * (1 - want) / n), "%.4f vs %.4f", got, want);
    p.top_k = 1; /* top-1 is greedy at any temperature */
    p.temperature = 5.0;
    draw(&p, logits, 5, 1000, counts);
    CHECK_EQ_INT(counts[1], 1000);
}

/* Probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps two, 0.85 three. */
static void test_sampler_top_p_keeps_nucleus(void)
{
    float logits[4] = {logf(0.15f), logf(0.5f), logf(0.05f), logf(0.3f)};
    int n = 100000, counts[4];
    sampler_params p = {.temperature = 1.0, .top_k = 0, .top_p = 0.7, .seed = 9};
    draw(&p, logits, 4, n, counts);
    CHECK_EQ_INT(counts[0] + counts[2], 0);
    CHECK(fabs((double)counts[1] / n - 0.625) < 0.01); /* 0.5 / 0.8 */
    p.top_p = 0.85;
    draw(&p, logits, 4, n, counts);
    CHECK_EQ_INT(counts[2], 0);
    CHECK(counts[0] > 0);
    CHECK(fabs((double)counts[0] / n - 0.15 / 0.95) < 0.01);
    p.top_p = 1e-6; /* a tiny nucleus is the argmax */
    draw(&p, logits, 4, 1000, counts);
    CHECK_EQ_INT(counts[1], 1000);
}

/* A large vocabulary with a few likely tokens and a long flat tail (mass
 * 0.645, 0.238, 0.088, then 0.029 spread over 20000 tokens): the threshold
 * search must find the nucleus, reach into the tail when top_p asks for it,
 * and combine with top_k. */
static void test_sampler_top_p_large_vocabulary(void)
{
    int V = 20003, n = 2000;
    float *logits = malloc((size_t)V * sizeof *logits);
    int *counts = malloc((size_t)V * sizeof *counts);
    for (int i = 0; i < V; i++)
        logits[i] = -8.0f;
    logits[500] = 5.0f;
    logits[V - 1] = 4.0f;
    logits[3] = 3.0f;
    sampler_params p = {.temperature = 1.0, .top_k = 0, .top_p = 0.85, .seed = 1};
    draw(&p, logits, V, n, counts);
    CHECK_EQ_INT(counts[500] + counts[V - 1], n);
    CHECK(counts[V - 1] > 0);
    p.top_p = 0.99; /* needs part of the tail */
    draw(&p, logits, V, n, counts);
    int top3 = counts[500] + counts[V - 1] + counts[3];
    CHECK_MSG(top3 < n && top3 > n * 9 / 10, "%d of %d draws in the top 3", top3, n);
    p.top_k = 2;
    draw(&p, logits, V, n, counts);
    CHECK_EQ_INT(counts[500] + counts[V - 1], n);
    free(logits);
    free(counts);
}

static void test_sampler_seed_reproducible(void)
{
    float logits[8] = {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};
    sampler_params p = {.temperature = 1.0, .top_k = 0, .top_p = 1.0, .seed = 123};
    sampler *a, *b, *c;
    mn_err err = {0};
    CHECK(sampler_create(&p, 8, &a, &err) == 0);
    CHECK(sampler_create(&p, 8, &b, &err) == 0);
    p.seed = 124;
    CHECK(sampler_create(&p, 8, &c, &err) == 0);
    int same = 1, differ = 0;
    for (int i = 0; i < 200; i++) {
        int x = sampler_sample(a, logits), y = sampler_sample(b, logits), z = sampler_sample(c, logits);
        same &= x == y;
        differ |= x != z;
    }
    CHECK(same);
    CHECK(differ);
    sampler_free(a);
    sampler_free(b);
    sampler_free(c);
}

static void test_sampler_rng_uniform_in_unit_interval(void)
{
    rng r;
    rng_seed(&r, 5);
    double sum = 0;
    int n = 100000;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        CHECK(u >= 0.0 && u < 1.0);
        sum += u;
    }
    CHECK(fabs(sum / n - 0.5) < 0.005);
}

static void test_sampler_rejects_bad_params(void)
{
    sampler *s = NULL;
    mn_err err = {0};
    sampler_params p = {.temperature = -1.0, .top_k = 0, .top_p = 1.0, .seed = 0};
    CHECK_EQ_INT(sampler_create(&p, 10, &s, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "temperature -1");
    p.temperature = 1.0;
    p.top_p = 0.0;
    CHECK_EQ_INT(sampler_create(&p, 10, &s, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "top_p 0 outside (0, 1]");
    p.top_p = NAN;
    CHECK_EQ_INT(sampler_create(&p, 10, &s, &err), MN_ERANGE);
    p.top_p = 1.0;
    p.top_k = -3;
    CHECK_EQ_INT(sampler_create(&p, 10, &s, &err), MN_ERANGE);
    p.top_k = 0;
    CHECK_EQ_INT(sampler_create(&p, 0, &s, &err), MN_ERANGE);
    CHECK(s == NULL);
}

TEST_MAIN(TEST(test_sampler_greedy_takes_first_maximum), TEST(test_sampler_temperature_follows_softmax),
          TEST(test_sampler_top_k_keeps_k_best), TEST(test_sampler_top_p_keeps_nucleus),
          TEST(test_sampler_top_p_large_vocabulary), TEST(test_sampler_seed_reproducible),
          TEST(test_sampler_rng_uniform_in_unit_interval), TEST(test_sampler_rejects_bad_params))
