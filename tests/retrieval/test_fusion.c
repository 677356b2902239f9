/* test_fusion.c — reciprocal-rank and normalised-score fusion on hand-made
 * lists, with the expected scores worked out by hand. */
#include "retrieval/fusion.h"

#include "../test.h"

#define NEAR(a, b) (fabs((a) - (b)) <= 1e-12 * fmax(1.0, fabs(b)))

/* bm25: 10 (3.0), 20 (2.0), 30 (1.0); dense: 30 (0.9), 40 (0.8), 10 (0.5) */
static const bm25_hit L_BM25[] = {{10, 3.0}, {20, 2.0}, {30, 1.0}};
static const bm25_hit L_DENSE[] = {{30, 0.9}, {40, 0.8}, {10, 0.5}};

static void test_fusion_rrf_scores_and_order(void)
{
    const bm25_hit *lists[2] = {L_BM25, L_DENSE};
    size_t n[2] = {3, 3}, m;
    bm25_hit *out;
    mn_err err = {0};
    CHECK(fusion_rrf(lists, n, 2, 60.0, 10, &out, &m, &err) == 0);
    CHECK_EQ_INT(m, 4);
    /* 10: 1/61 + 1/63; 30: 1/63 + 1/61 (tie with 10 -> smaller id first);
     * 20: 1/62; 40: 1/62 (tie -> 20 first) */
    double s10 = 1.0 / 61 + 1.0 / 63, s20 = 1.0 / 62;
    CHECK_EQ_INT(out[0].doc, 10);
    CHECK_EQ_INT(out[1].doc, 30);
    CHECK_EQ_INT(out[2].doc, 20);
    CHECK_EQ_INT(out[3].doc, 40);
    CHECK_MSG(NEAR(out[0].score, s10) && NEAR(out[1].score, s10), "%.17g %.17g vs %.17g", out[0].score,
              out[1].score, s10);
    CHECK(out[0].score == out[1].score); /* exactly equal sums: the tie is a real tie */
    CHECK(NEAR(out[2].score, s20) && NEAR(out[3].score, s20));
    free(out);
}

static void test_fusion_rrf_truncates_to_k_and_handles_empty(void)
{
    const bm25_hit *lists[2] = {L_BM25, NULL};
    size_t n[2] = {3, 0}, m;
    bm25_hit *out;
    mn_err err = {0};
    CHECK(fusion_rrf(lists, n, 2, 60.0, 2, &out, &m, &err) == 0);
    CHECK_EQ_INT(m, 2);
    CHECK(out[0].doc == 10 && out[1].doc == 20);
    CHECK(NEAR(out[0].score, 1.0 / 61) && NEAR(out[1].score, 1.0 / 62));
    free(out);
    n[0] = 0;
    CHECK(fusion_rrf(lists, n, 2, 60.0, 5, &out, &m, &err) == 0);
    CHECK(m == 0 && out == NULL);
    CHECK(fusion_rrf(lists, n, 2, -1.0, 5, &out, &m, &err) == MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "rrf k");
}

static void test_fusion_rrf_duplicate_in_one_list_counts_once(void)
{
    const bm25_hit dup[] = {{5, 9.0}, {7, 8.0}, {5, 1.0}};
    const bm25_hit *lists[1] = {dup};
    size_t n[1] = {3}, m;
    bm25_hit *out;
    mn_err err = {0};
    CHECK(fusion_rrf(lists, n, 1, 60.0, 10, &out, &m, &err) == 0);
    CHECK_EQ_INT(m, 2);
    CHECK(out[0].doc == 5 && NEAR(out[0].score, 1.0 / 61)); /* its best rank only */
    CHECK(out[1].doc == 7 && NEAR(out[1].score, 1.0 / 62));
    free(out);
}

static void test_fusion_score_minmax_weighted(void)
{
    const bm25_hit *lists[2] = {L_BM25, L_DENSE};
    size_t n[2] = {3, 3}, m;
    double w[2] = {0.3, 0.7}; /* alpha = 0.7 for dense */
    bm25_hit *out;
    mn_err err = {0};
    CHECK(fusion_score(lists, n, 2, w, 10, &out, &m, &err) == 0);
    CHECK_EQ_INT(m, 4);
    /* bm25 normalised: 10 -> 1, 20 -> 0.5, 30 -> 0; dense (min 0.5, max 0.9):
     * 30 -> 1, 40 -> 0.75, 10 -> 0.  Fused: 10 = 0.3, 20 = 0.15, 30 = 0.7,
     * 40 = 0.525. */
    uint64_t want_id[4] = {30, 40, 10, 20};
    double want_s[4] = {0.7, 0.7 * 0.75, 0.3, 0.15};
    for (int i = 0; i < 4; i++)
        CHECK_MSG(out[i].doc == want_id[i] && NEAR(out[i].score, want_s[i]), "rank %d: %llu %.17g, want %llu %.17g",
                  i + 1, (unsigned long long)out[i].doc, out[i].score, (unsigned long long)want_id[i], want_s[i]);
    free(out);
}

static void test_fusion_score_constant_list_normalises_to_one(void)
{
    const bm25_hit flat[] = {{8, 2.5}, {3, 2.5}};
    const bm25_hit *lists[1] = {flat};
    size_t n[1] = {2}, m;
    double w[1] = {0.5};
    bm25_hit *out;
    mn_err err = {0};
    CHECK(fusion_score(lists, n, 1, w, 10, &out, &m, &err) == 0);
    CHECK_EQ_INT(m, 2);
    CHECK(out[0].doc == 3 && out[1].doc == 8); /* tie: smaller id first */
    CHECK(out[0].score == 0.5 && out[1].score == 0.5);
    free(out);
    w[0] = NAN;
    CHECK(fusion_score(lists, n, 1, w, 10, &out, &m, &err) == MN_ERANGE);
}

static void test_fusion_alpha_extremes_reproduce_one_list(void)
{
    const bm25_hit *lists[2] = {L_BM25, L_DENSE};
    size_t n[2] = {3, 3}, m;
    double w[2] = {0.0, 1.0};
    bm25_hit *out;
    mn_err err = {0};
    CHECK(fusion_score(lists, n, 2, w, 3, &out, &m, &err) == 0);
    CHECK_EQ_INT(m, 3);
    CHECK(out[0].doc == 30 && out[1].doc == 40); /* dense order */
    CHECK(out[2].doc == 10 || out[2].doc == 20);   /* both 0: 10 < 20 */
    CHECK_EQ_INT(out[2].doc, 10);
    free(out);
}

TEST_MAIN(TEST(test_fusion_rrf_scores_and_order), TEST(test_fusion_rrf_truncates_to_k_and_handles_empty),
          TEST(test_fusion_rrf_duplicate_in_one_list_counts_once), TEST(test_fusion_score_minmax_weighted),
          TEST(test_fusion_score_constant_list_normalises_to_one),
          TEST(test_fusion_alpha_extremes_reproduce_one_list))
