/* test_bm25.c — BM25 scoring and the query evaluator: a 3-document example
 * computed by hand, a brute-force double-precision reference over a random
 * corpus (scores to 1e-12 relative, identical top-k including ties), the
 * tie rule, repeated query terms, shards merged with global statistics, the
 * top-k accumulator against a full sort, and the evaluator's errors. */
#include <stdint.h>

#include "retrieval/bm25.h"
#include "retrieval/postings.h"
#include "test.h"

/* ---- a tiny in-memory index built with the postings writer ---- */

enum { MAX_DOCS = 600, MAX_VOCAB = 64, MAX_DL = 40 };

typedef struct corpus {
    size_t ndocs, vocab;
    uint64_t id[MAX_DOCS];          /* doc id of doc i (increasing) */
    uint32_t dl[MAX_DOCS];          /* [ndocs] length in terms */
    int tok[MAX_DOCS][MAX_DL];      /* [ndocs, dl] term numbers */
    uint8_t *post[MAX_VOCAB];       /* encoded postings per term */
    size_t post_len[MAX_VOCAB];
    uint64_t df[MAX_VOCAB];
    bm25_stats st;
} corpus;

/* Index docs [lo, hi) of c into c->post / df / st (one "shard"). */
static void corpus_index(corpus *c, size_t lo, size_t hi)
{
    postings_writer w = {0};
    mn_err err = {0};
    c->st.N = c->st.total_len = 0;
    for (size_t i = lo; i < hi; i++)
        if (c->dl[i]) {
            c->st.N++;
            c->st.total_len += c->dl[i];
        }
    for (size_t t = 0; t < c->vocab; t++) {
        postings_writer_reset(&w);
        c->df[t] = 0;
        for (size_t i = lo; i < hi; i++) {
            uint32_t tf = 0;
            for (uint32_t j = 0; j < c->dl[i]; j++)
                tf += c->tok[i][j] == (int)t;
            if (tf) {
                if (postings_writer_add(&w, c->id[i], tf, &err))
                    abort();
                c->df[t]++;
            }
        }
        size_t len;
        const uint8_t *b = postings_writer_finish(&w, &len);
        free(c->post[t]);
        c->post[t] = malloc(len);
        memcpy(c->post[t], b, len);
        c->post_len[t] = len;
    }
    postings_writer_free(&w);
}

static void corpus_free(corpus *c)
{
    for (size_t t = 0; t < c->vocab; t++)
        free(c->post[t]);
}

/* doclen callback: binary search of the id table */
static int corpus_doclen(void *ctx, uint64_t doc, uint32_t *dl, mn_err *err)
{
    const corpus *c = ctx;
    size_t lo = 0, hi = c->ndocs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->id[mid] == doc) {
            *dl = c->dl[mid];
            return 0;
        }
        if (c->id[mid] < doc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return mn_errf(err, MN_ERANGE, "corpus: doc %llu: no such document", (unsigned long long)doc);
}

/* Search c for the distinct terms qt[0..nq) with counts qtf into topk. */
static int corpus_search(corpus *c, const bm25_stats *st, const uint64_t *df, const int *qt, const uint32_t *qtf,
                         size_t nq, const bm25_params *p, bm25_topk *topk, mn_err *err)
{
    postings_iter it[16];
    bm25_query_term terms[16];
    for (size_t i = 0; i < nq; i++) {
        int rc = postings_iter_init(&it[i], c->post[qt[i]], c->post_len[qt[i]], "term", err);
        if (rc)
            return rc;
        terms[i] = (bm25_query_term){&it[i], df[qt[i]], qtf[i]};
    }
    return bm25_search(p, st, terms, nq, corpus_doclen, c, topk, err);
}

/* ---- tests ---- */

/*  d0 = "a b", d1 = "a a c", d2 = "c"; N = 3, avgdl = 6/3 = 2, k1 = 0.9, b = 0.4.
 *  idf(a) = idf(c) = ln(1 + (3 - 2 + 0.5)/(2 + 0.5)) = ln 1.6 = 0.47000362924573563
 *  K(dl) = 0.9 (0.6 + 0.2 dl): K(1) = 0.72, K(2) = 0.9, K(3) = 1.08
 *  query "a c":  d0 = idf·1/1.9                       = 0.24737033118196614
 *                d1 = idf·(2/3.08 + 1/2.08)           = 0.5311604451390993
 *                d2 = idf·1/1.72                      = 0.2732579239800788
 *  query "a a c": d1 = 2 idf·2/3.08 + idf/2.08        = 0.8363576069869796
 *                d0 = 2 idf/1.9                       = 0.49474066236393227
 *  query "b":    idf(b) = ln(1 + 2.5/1.5) = 0.9808292530117263, d0 = idf(b)/1.9 = 0.5162259226377507 */
static void test_bm25_hand_computed_three_docs(void)
{
    static corpus c;
    memset(&c, 0, sizeof c);
    c.ndocs = 3;
    c.vocab = 3; /* a=0 b=1 c=2 */
    int docs[3][3] = {{0, 1}, {0, 0, 2}, {2}};
    uint32_t dls[3] = {2, 3, 1};
    for (int i = 0; i < 3; i++) {
        c.id[i] = (uint64_t)i;
        c.dl[i] = dls[i];
        memcpy(c.tok[i], docs[i], sizeof docs[i]);
    }
    corpus_index(&c, 0, 3);
    CHECK(c.st.N == 3 && c.st.total_len == 6);
    CHECK(fabs(bm25_idf(3, 2) - 0.47000362924573563) < 1e-15);

    bm25_params p = bm25_params_default();
    CHECK(p.k1 == 0.9 && p.b == 0.4);
    bm25_topk topk;
    mn_err err = {0};
    static const struct {
        int qt[2];
        uint32_t qtf[2];
        size_t nq;
        size_t nhits;
        uint64_t doc[3];
        double score[3];
    } cases[] = {
        {{0, 2}, {1, 1}, 2, 3, {1, 2, 0}, {0.5311604451390993, 0.2732579239800788, 0.24737033118196614}},
        {{0, 2}, {2, 1}, 2, 3, {1, 0, 2}, {0.8363576069869796, 0.49474066236393227, 0.2732579239800788}},
        {{1}, {1}, 1, 1, {0}, {0.5162259226377507}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(bm25_topk_init(&topk, 10, &err) == 0);
        int rc = corpus_search(&c, &c.st, c.df, cases[i].qt, cases[i].qtf, cases[i].nq, &p, &topk, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        CHECK_EQ_INT(bm25_topk_sort(&topk), cases[i].nhits);
        for (size_t h = 0; h < cases[i].nhits; h++) {
            double rel = fabs(topk.hit[h].score - cases[i].score[h]) / cases[i].score[h];
            CHECK_MSG(topk.hit[h].doc == cases[i].doc[h] && rel < 1e-12,
                      "case %zu rank %zu: doc %llu score %.17g, expected doc %llu score %.17g", i, h + 1,
                      (unsigned long long)topk.hit[h].doc, topk.hit[h].score, (unsigned long long)cases[i].doc[h],
                      cases[i].score[h]);
        }
        bm25_topk_free(&topk);
    }
    corpus_free(&c);
}

static uint64_t rng_state = 12345;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A random corpus: Zipf-like term choice over `vocab` terms, lengths 0..39
 * (a few empty docs, which N must not count), sparse increasing ids, many
 * duplicate documents (exact score ties). */
static void corpus_random(corpus *c, size_t ndocs, size_t vocab)
{
    memset(c, 0, sizeof *c);
    c->ndocs = ndocs;
    c->vocab = vocab;
    uint64_t id = 0;
    for (size_t i = 0; i < ndocs; i++) {
        id += 1 + rng() % 5;
        c->id[i] = id;
        if (i > 10 && rng() % 8 == 0) { /* duplicate an earlier doc: a tie */
            size_t src = (size_t)(rng() % i);
            c->dl[i] = c->dl[src];
            memcpy(c->tok[i], c->tok[src], sizeof c->tok[i]);
            continue;
        }
        c->dl[i] = rng() % 20 == 0 ? 0 : (uint32_t)(1 + rng() % (MAX_DL - 1));
        for (uint32_t j = 0; j < c->dl[i]; j++) {
            double u = (double)(rng() >> 11) / 9007199254740992.0;
            c->tok[i][j] = (int)((double)vocab * u * u * u); /* skewed to small term numbers */
        }
    }
}

/* The reference: straight from the formula, over the raw token lists. */
static void reference_scores(const corpus *c, const int *qt, const uint32_t *qtf, size_t nq, const bm25_params *p,
                             double *score /* [ndocs], -1 = no match */)
{
    uint64_t N = 0, total = 0;
    for (size_t i = 0; i < c->ndocs; i++)
        if (c->dl[i]) {
            N++;
            total += c->dl[i];
        }
    double avgdl = (double)total / (double)N;
    uint64_t df[16] = {0};
    for (size_t q = 0; q < nq; q++)
        for (size_t d = 0; d < c->ndocs; d++) {
            int has = 0;
            for (uint32_t j = 0; j < c->dl[d]; j++)
                has |= c->tok[d][j] == qt[q];
            df[q] += has;
        }
    for (size_t i = 0; i < c->ndocs; i++) {
        score[i] = -1;
        for (size_t q = 0; q < nq; q++) {
            uint32_t tf = 0;
            for (uint32_t j = 0; j < c->dl[i]; j++)
                tf += c->tok[i][j] == qt[q];
            if (!tf)
                continue;
            double idf = log(1.0 + ((double)N - (double)df[q] + 0.5) / ((double)df[q] + 0.5));
            double s = (double)qtf[q] * idf * (double)tf /
                       ((double)tf + p->k1 * (1.0 - p->b + p->b * (double)c->dl[i] / avgdl));
            score[i] = (score[i] < 0 ? 0 : score[i]) + s;
        }
    }
}

static void test_bm25_matches_brute_force_reference(void)
{
    static corpus c;
    static double ref[MAX_DOCS];
    corpus_random(&c, 400, 50);
    corpus_index(&c, 0, c.ndocs);
    const bm25_params params[] = {{0.9, 0.4}, {1.2, 0.75}, {0.0, 0.5}, {2.0, 0.0}, {0.9, 1.0}};
    double max_rel = 0;
    size_t queries = 0, compared = 0, ties = 0;
    mn_err err = {0};
    for (size_t pi = 0; pi < sizeof params / sizeof params[0]; pi++) {
        for (int qi = 0; qi < 60; qi++) {
            int qt[6];
            uint32_t qtf[6];
            size_t nq = 0;
            int ntok = 1 + (int)(rng() % 6);
            for (int t = 0; t < ntok; t++) { /* distinct terms with counts */
                int term = (int)(rng() % c.vocab);
                size_t k;
                for (k = 0; k < nq && qt[k] != term; k++)
                    ;
                if (k == nq) {
                    qt[nq] = term;
                    qtf[nq++] = 0;
                }
                qtf[k]++;
            }
            size_t K = (size_t[]){1, 5, 10, 50, 1000}[qi % 5];
            bm25_topk topk;
            CHECK(bm25_topk_init(&topk, K, &err) == 0);
            int rc = corpus_search(&c, &c.st, c.df, qt, qtf, nq, &params[pi], &topk, &err);
            CHECK_MSG(rc == 0, "%s", err.msg);
            size_t n = bm25_topk_sort(&topk);
            reference_scores(&c, qt, qtf, nq, &params[pi], ref);
            /* the reference's top-K: repeated selection by (score desc, id asc) */
            size_t nref = 0;
            static char used[MAX_DOCS];
            memset(used, 0, sizeof used);
            for (size_t r = 0; r < K; r++) {
                size_t best = SIZE_MAX;
                for (size_t i = 0; i < c.ndocs; i++)
                    if (!used[i] && ref[i] >= 0 && (best == SIZE_MAX || ref[i] > ref[best]))
                        best = i; /* ids increase with i: the first of equal scores wins */
                if (best == SIZE_MAX)
                    break;
                used[best] = 1;
                nref++;
                CHECK_MSG(r < n, "param %zu query %d: %zu hits, reference has more", pi, qi, n);
                double rel = fabs(topk.hit[r].score - ref[best]) / ref[best];
                if (rel > max_rel)
                    max_rel = rel;
                if (r > 0 && topk.hit[r].score == topk.hit[r - 1].score)
                    ties++;
                CHECK_MSG(topk.hit[r].doc == c.id[best] && rel <= 1e-12,
                          "param %zu query %d rank %zu: doc %llu score %.17g, reference doc %llu score %.17g", pi,
                          qi, r + 1, (unsigned long long)topk.hit[r].doc, topk.hit[r].score,
                          (unsigned long long)c.id[best], ref[best]);
                compared++;
            }
            CHECK_EQ_INT(n, nref);
            bm25_topk_free(&topk);
            queries++;
        }
    }
    printf("  %zu queries, %zu ranks compared, %zu tied ranks, max rel error %.3g\n", queries, compared, ties,
           max_rel);
    CHECK(ties > 0); /* the corpus has duplicates: the tie rule was exercised */
    corpus_free(&c);
}

/* A query term repeated q times scores q times: Lucene merges duplicate
 * SHOULD clauses into one with boost q. */
static void test_bm25_repeated_query_term_adds_up(void)
{
    static corpus c;
    corpus_random(&c, 200, 20);
    corpus_index(&c, 0, c.ndocs);
    bm25_params p = bm25_params_default();
    mn_err err = {0};
    int qt[1] = {3};
    for (uint32_t q = 1; q <= 3; q++) {
        bm25_topk one, many;
        uint32_t q1 = 1;
        CHECK(bm25_topk_init(&one, 1000, &err) == 0 && bm25_topk_init(&many, 1000, &err) == 0);
        CHECK(corpus_search(&c, &c.st, c.df, qt, &q1, 1, &p, &one, &err) == 0);
        CHECK(corpus_search(&c, &c.st, c.df, qt, &q, 1, &p, &many, &err) == 0);
        size_t n = bm25_topk_sort(&one);
        CHECK(n > 0 && bm25_topk_sort(&many) == n);
        for (size_t i = 0; i < n; i++) {
            double sum = 0;
            for (uint32_t k = 0; k < q; k++) /* one clause per occurrence */
                sum += one.hit[i].score;
            CHECK(many.hit[i].doc == one.hit[i].doc);
            CHECK(fabs(many.hit[i].score - sum) <= 1e-12 * sum);
        }
        bm25_topk_free(&one);
        bm25_topk_free(&many);
    }
    corpus_free(&c);
}

/* Two shards searched with collection-wide N, total length and df into one
 * accumulator give exactly the single-index result. */
static void test_bm25_shards_with_global_stats_merge(void)
{
    static corpus c, s1, s2;
    corpus_random(&c, 300, 30);
    corpus_index(&c, 0, c.ndocs);
    s1 = c;
    memset(s1.post, 0, sizeof s1.post);
    s2 = s1;
    corpus_index(&s1, 0, 150);
    corpus_index(&s2, 150, 300);
    bm25_params p = bm25_params_default();
    mn_err err = {0};
    for (int qi = 0; qi < 50; qi++) {
        int qt[3] = {(int)(rng() % 30), (int)(rng() % 30), (int)(rng() % 30)};
        uint32_t qtf[3] = {1, 1, 1};
        size_t nq = qt[1] == qt[0] || qt[2] == qt[0] || qt[2] == qt[1] ? 1 : 3;
        bm25_topk whole, merged;
        CHECK(bm25_topk_init(&whole, 10, &err) == 0 && bm25_topk_init(&merged, 10, &err) == 0);
        CHECK(corpus_search(&c, &c.st, c.df, qt, qtf, nq, &p, &whole, &err) == 0);
        CHECK(corpus_search(&s1, &c.st, c.df, qt, qtf, nq, &p, &merged, &err) == 0);
        CHECK(corpus_search(&s2, &c.st, c.df, qt, qtf, nq, &p, &merged, &err) == 0);
        size_t n = bm25_topk_sort(&whole);
        CHECK_EQ_INT(bm25_topk_sort(&merged), n);
        for (size_t i = 0; i < n; i++)
            CHECK_MSG(whole.hit[i].doc == merged.hit[i].doc && whole.hit[i].score == merged.hit[i].score,
                      "query %d rank %zu: %llu vs %llu", qi, i + 1, (unsigned long long)whole.hit[i].doc,
                      (unsigned long long)merged.hit[i].doc);
        bm25_topk_free(&whole);
        bm25_topk_free(&merged);
    }
    corpus_free(&c);
    corpus_free(&s1);
    corpus_free(&s2);
}

static int cmp_hit(const void *a, const void *b)
{
    return bm25_hit_before(a, b) ? -1 : bm25_hit_before(b, a) ? 1 : 0;
}

/* The accumulator keeps exactly the first k of a full sort, ties by id. */
static void test_bm25_topk_matches_full_sort(void)
{
    enum { N = 5000 };
    static bm25_hit all[N];
    mn_err err = {0};
    for (int round = 0; round < 20; round++) {
        size_t n = (size_t)(rng() % N), k = (size_t[]){0, 1, 2, 10, 100, 4999, 10000}[round % 7];
        bm25_topk t;
        CHECK(bm25_topk_init(&t, k, &err) == 0);
        for (size_t i = 0; i < n; i++) {
            /* few distinct scores: many ties; ids in random order */
            all[i] = (bm25_hit){rng() % 100000, (double)(rng() % 7) * 0.25};
            bm25_topk_push(&t, all[i].doc, all[i].score);
        }
        qsort(all, n, sizeof *all, cmp_hit);
        size_t m = bm25_topk_sort(&t);
        CHECK_EQ_INT(m, n < k ? n : k);
        for (size_t i = 0; i < m; i++)
            CHECK_MSG(t.hit[i].doc == all[i].doc && t.hit[i].score == all[i].score,
                      "round %d rank %zu: (%llu, %g) expected (%llu, %g)", round, i + 1,
                      (unsigned long long)t.hit[i].doc, t.hit[i].score, (unsigned long long)all[i].doc,
                      all[i].score);
        bm25_topk_free(&t);
    }
    /* the documented rule: equal scores, the smaller id first */
    bm25_hit a = {7, 1.5}, b = {3, 1.5}, c = {9, 2.0};
    CHECK(bm25_hit_before(&b, &a) && !bm25_hit_before(&a, &b) && bm25_hit_before(&c, &b));
}

static void test_bm25_unseen_term_and_empty_collection(void)
{
    static corpus c;
    corpus_random(&c, 50, 10);
    corpus_index(&c, 0, c.ndocs);
    mn_err err = {0};
    bm25_params p = bm25_params_default();
    bm25_topk topk;
    CHECK(bm25_topk_init(&topk, 5, &err) == 0);
    /* a term no document has: the empty list, df 0 */
    uint8_t empty[1] = {0};
    postings_iter it;
    CHECK(postings_iter_init(&it, empty, 1, "none", &err) == 0);
    bm25_query_term t = {&it, 0, 1};
    CHECK(bm25_search(&p, &c.st, &t, 1, corpus_doclen, &c, &topk, &err) == 0);
    CHECK_EQ_INT(topk.n, 0);
    /* no documents at all */
    bm25_stats none = {0, 0};
    CHECK(bm25_search(&p, &none, &t, 1, corpus_doclen, &c, &topk, &err) == 0);
    CHECK_EQ_INT(topk.n, 0);
    bm25_topk_free(&topk);
    corpus_free(&c);
}

static int failing_doclen(void *ctx, uint64_t doc, uint32_t *dl, mn_err *err)
{
    (void)ctx;
    (void)dl;
    return mn_errf(err, MN_EIO, "doclens.mdb: doc %llu: read failed", (unsigned long long)doc);
}

static int short_doclen(void *ctx, uint64_t doc, uint32_t *dl, mn_err *err)
{
    (void)ctx;
    (void)doc;
    (void)err;
    *dl = 1;
    return 0;
}

static void test_bm25_search_errors(void)
{
    posting p2[] = {{4, 3}, {9, 1}};
    uint8_t buf[64];
    size_t len;
    mn_err err = {0};
    bm25_params p = bm25_params_default();
    bm25_stats st = {10, 50};
    bm25_topk topk;
    postings_iter it;
    bm25_query_term t = {&it, 2, 1};
    CHECK(postings_encode(p2, 2, buf, sizeof buf, &len, &err) == 0);
    CHECK(bm25_topk_init(&topk, 5, &err) == 0);

    CHECK(postings_iter_init(&it, buf, len, "term \"x\"", &err) == 0);
    CHECK(bm25_search(&p, &st, &t, 1, failing_doclen, NULL, &topk, &err) == MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "doclens.mdb: doc 4");

    CHECK(postings_iter_init(&it, buf, len, "term \"x\"", &err) == 0);
    CHECK(bm25_search(&p, &st, &t, 1, short_doclen, NULL, &topk, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "term \"x\": doc 4: term frequency 3 exceeds the document length 1");

    CHECK(postings_iter_init(&it, buf, len, "term \"x\"", &err) == 0);
    t.df = 11;
    CHECK(bm25_search(&p, &st, &t, 1, short_doclen, NULL, &topk, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "df 11 exceeds");
    t.df = 2;

    t.qtf = 0;
    CHECK(bm25_search(&p, &st, &t, 1, short_doclen, NULL, &topk, &err) == MN_ERANGE);
    t.qtf = 1;

    bm25_params bad[] = {{-1, 0.4}, {NAN, 0.4}, {INFINITY, 0.4}, {0.9, -0.1}, {0.9, 1.5}, {0.9, NAN}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(postings_iter_init(&it, buf, len, "x", &err) == 0);
        CHECK_MSG(bm25_search(&bad[i], &st, &t, 1, short_doclen, NULL, &topk, &err) == MN_ERANGE, "params %zu", i);
    }

    /* corrupt postings reach the caller: the third posting is a truncated varint */
    const uint8_t corrupt[] = {0x03, 0x09, 0x01, 0x80};
    CHECK(postings_iter_init(&it, corrupt, sizeof corrupt, "term \"y\"", &err) == 0);
    CHECK(bm25_search(&p, &st, &t, 1, short_doclen, NULL, &topk, &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "term \"y\": byte 3:");
    bm25_topk_free(&topk);
}

TEST_MAIN(TEST(test_bm25_hand_computed_three_docs), TEST(test_bm25_matches_brute_force_reference),
          TEST(test_bm25_repeated_query_term_adds_up), TEST(test_bm25_shards_with_global_stats_merge),
          TEST(test_bm25_topk_matches_full_sort), TEST(test_bm25_unseen_term_and_empty_collection),
          TEST(test_bm25_search_errors))
