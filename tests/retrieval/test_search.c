/* test_search.c — BM25 search over a sharded DB: equal to a brute-force
 * BM25 computed here over the DB's chunk texts with the analyzer (scores to
 * 1e-12 relative, same ranking), the same for 1 and 3 shards, with and
 * without stemming/stop words; query edge cases; opening bad DBs; the open's
 * manifest check: an interrupted ingest, a first ingest that failed, a DB
 * without manifest.json, an edited manifest and a live ingest (ingest.lock
 * held) refused with stats' messages; each part of a split open checking
 * its own shards; the identity the handle verified. */
#include "retrieval/search.h"

#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus_build.h"
#include "retrieval/analyzer.h"
#include "retrieval/ingest.h"
#include "test.h"
#include "util/dirlock.h"
#include "util/mapfile.h"

static uint64_t rng_state = 7;
static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

static const char *vocab[] = {"the",   "Cats", "cat",   "running", "runs",  "ran",  "Über", "naïve", "2024",
                              "river", "and",  "a",     "of",      "stone", "BLUE", "blues", "zeta", "eta",
                              "theta", "iota", "kappa", "lambda",  "mu",    "nu",   "xi",   "omicron"};
#define NV (sizeof vocab / sizeof vocab[0])

static const char *corpus(void)
{
    static const char *path;
    if (path)
        return path;
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    for (int i = 0; i < 400; i++) {
        len += (size_t)snprintf(out + len, cap - len, "{\"id\": \"d%d\", \"text\": \"", i);
        int w = (int)(rng() % 70);
        for (int j = 0; j < w; j++) {
            /* skewed: low ranks are frequent */
            size_t r = (size_t)(rng() % NV), r2 = (size_t)(rng() % NV);
            len += (size_t)snprintf(out + len, cap - len, "%s%s", j ? (rng() % 6 ? " " : ". ") : "",
                                    vocab[r < r2 ? r : r2]);
        }
        len += (size_t)snprintf(out + len, cap - len, "\"}\n");
    }
    path = strdup(cb_save("search.jsonl", out, len));
    free(out);
    return path;
}

/* All chunks of a DB: text and analyzed terms. */
typedef struct bchunk {
    uint64_t id;
    char *text;
    size_t len;
    analyzer_tokens tk;
} bchunk;

typedef struct brute {
    bchunk *c;
    size_t n;
    analyzer_config an;
} brute;

static int brute_load(const char *dir, brute *b)
{
    search_db *db;
    mn_err err;
    memset(b, 0, sizeof *b);
    if (search_db_open(dir, &db, &err))
        return -1;
    analyzer_config_parse(search_db_config(db)->analyzer, "x", &b->an, &err);
    for (uint32_t s = 0; s < search_db_config(db)->nshards; s++)
        for (uint64_t l = 0; l < search_db_meta(db, s)->next_local; l++) {
            store_chunk c;
            uint64_t id = (uint64_t)s << STORE_SHARD_BITS | l;
            if (search_db_chunk(db, id, &c, &err) != 1)
                return -1;
            b->c = realloc(b->c, (b->n + 1) * sizeof *b->c);
            bchunk *x = &b->c[b->n++];
            x->id = id;
            x->text = strndup(c.text, c.text_len);
            x->len = c.text_len;
            analyzer_tokens_init(&x->tk);
            analyzer_analyze(&b->an, x->text, x->len, "chunk", &x->tk, &err);
        }
    search_db_close(db);
    return 0;
}

static void brute_free(brute *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->c[i].text);
        analyzer_tokens_free(&b->c[i].tk);
    }
    free(b->c);
}

static size_t count_term(const analyzer_tokens *t, const char *term, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->tok[i].term_len == len && !memcmp(t->terms + t->tok[i].term_off, term, len);
    return n;
}

/* Straight from the formula: every chunk's score for query q. */
static void brute_scores(const brute *b, const char *q, double k1, double bb, double *score)
{
    analyzer_tokens qt;
    mn_err err;
    analyzer_tokens_init(&qt);
    analyzer_analyze(&b->an, q, strlen(q), "q", &qt, &err);
    double N = 0, total = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->c[i].tk.n)
            N++, total += (double)b->c[i].tk.n;
    double avgdl = total / N;
    for (size_t i = 0; i < b->n; i++)
        score[i] = 0;
    for (size_t t = 0; t < qt.n; t++) {
        const char *term = qt.terms + qt.tok[t].term_off;
        size_t tl = qt.tok[t].term_len;
        int seen = 0;
        for (size_t u = 0; u < t; u++)
            seen |= qt.tok[u].term_len == tl && !memcmp(qt.terms + qt.tok[u].term_off, term, tl);
        if (seen)
            continue;
        double qtf = (double)count_term(&qt, term, tl), df = 0;
        for (size_t i = 0; i < b->n; i++)
            df += count_term(&b->c[i].tk, term, tl) > 0;
        if (df == 0)
            continue;
        double idf = log(1 + (N - df + 0.5) / (df + 0.5));
        for (size_t i = 0; i < b->n; i++) {
            double tf = (double)count_term(&b->c[i].tk, term, tl);
            if (tf > 0)
                score[i] += qtf * idf * tf / (tf + k1 * (1 - bb + bb * (double)b->c[i].tk.n / avgdl));
        }
    }
    analyzer_tokens_free(&qt);
}

static int rel_close(double a, double b)
{
    return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b)) + 1e-300;
}

static const char *find_text(const brute *b, uint64_t id, size_t *idx)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->c[i].id == id) {
            *idx = i;
            return b->c[i].text;
        }
    return NULL;
}

static int ingest_with(const char *dir, uint32_t shards, analyzer_config an, mn_err *err)
{
    const char *in[1] = {corpus()};
    ingest_opts o;
    ingest_opts_default(&o);
    o.shards = shards;
    o.chunk_size = 20;
    o.overlap = 4;
    o.batch_docs = 33; /* several postings segments per term */
    o.analyzer = an;
    return ingest_run(dir, &o, in, 1, NULL, err);
}

/* Search 60 random queries in d1 (1 shard) and d3 (3 shards), compare with
 * brute force over each DB's chunks. */
static void check_against_brute(analyzer_config an, const char *n1, const char *n3, double k1, double bb)
{
    mn_err err = {0};
    const char *d1 = cb_path(n1), *d3 = cb_path(n3);
    CHECK_MSG(ingest_with(d1, 1, an, &err) == 0, "%s", err.msg);
    CHECK_MSG(ingest_with(d3, 3, an, &err) == 0, "%s", err.msg);
    brute b1, b3;
    CHECK_EQ_INT(brute_load(d1, &b1), 0);
    CHECK_EQ_INT(brute_load(d3, &b3), 0);
    CHECK(b1.n == b3.n && b1.n > 300);
    search_db *s1, *s3;
    CHECK_EQ_INT(search_db_open(d1, &s1, &err), 0);
    CHECK_EQ_INT(search_db_open(d3, &s3, &err), 0);
    double *ref = malloc(b3.n * sizeof *ref);
    bm25_params p = {k1, bb};
    int bad = 0;
    size_t compared = 0;
    for (int q = 0; q < 60 && !bad; q++) {
        char query[256];
        size_t ql = 0;
        int w = 1 + (int)(rng() % 4);
        for (int j = 0; j < w; j++)
            ql += (size_t)snprintf(query + ql, sizeof query - ql, "%s%s", j ? " " : "", vocab[rng() % NV]);
        if (q == 0)
            snprintf(query, sizeof query, "Cat cat CATS naïve");
        bm25_hit *h1, *h3;
        size_t n1h, n3h;
        CHECK_MSG(search_bm25(s1, &p, query, strlen(query), 10, &h1, &n1h, &err) == 0, "%s", err.msg);
        CHECK_MSG(search_bm25(s3, &p, query, strlen(query), 10, &h3, &n3h, &err) == 0, "%s", err.msg);
        brute_scores(&b3, query, k1, bb, ref);
        /* expected: the 10 best brute-force scores */
        double best[10];
        size_t nb = 0;
        for (size_t i = 0; i < b3.n; i++) {
            if (ref[i] <= 0)
                continue;
            size_t j = nb < 10 ? nb++ : 10;
            if (j == 10 && ref[i] <= best[9])
                continue;
            if (j == 10)
                j = 9;
            while (j > 0 && best[j - 1] < ref[i]) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = ref[i];
        }
        if (n1h != nb || n3h != nb) {
            fprintf(stderr, "query '%s': %zu / %zu hits, brute force %zu\n", query, n1h, n3h, nb);
            bad = 1;
        }
        for (size_t r = 0; r < nb && !bad; r++) {
            size_t i3 = 0;
            const char *t3 = find_text(&b3, h3[r].doc, &i3);
            if (!rel_close(h1[r].score, best[r]) || !rel_close(h3[r].score, best[r]) || !t3 ||
                !rel_close(ref[i3], h3[r].score)) {
                fprintf(stderr, "query '%s' rank %zu: 1 shard %.17g, 3 shards %.17g, brute force %.17g\n", query,
                        r + 1, h1[r].score, h3[r].score, best[r]);
                bad = 1;
            }
            /* the same chunk at each rank, except among tied scores */
            size_t i1 = 0;
            const char *t1 = find_text(&b1, h1[r].doc, &i1);
            int tied = 0;
            for (size_t i = 0; i < b3.n; i++)
                tied += rel_close(ref[i], h3[r].score);
            tied = tied > 1;
            if (!bad && !tied && (!t1 || strcmp(t1, t3))) {
                fprintf(stderr, "query '%s' rank %zu: different chunks\n", query, r + 1);
                bad = 1;
            }
            if (r > 0 && (h3[r - 1].score < h3[r].score || (h3[r - 1].score == h3[r].score && h3[r - 1].doc > h3[r].doc)))
                bad = 1;
            compared++;
        }
        free(h1);
        free(h3);
    }
    free(ref);
    search_db_close(s1);
    search_db_close(s3);
    brute_free(&b1);
    brute_free(&b3);
    CHECK(!bad);
    CHECK(compared > 300);
}

static void test_search_matches_brute_force_1_and_3_shards(void)
{
    check_against_brute((analyzer_config){0}, "plain1", "plain3", 0.9, 0.4);
}

static void test_search_matches_brute_force_stem_stop(void)
{
    check_against_brute((analyzer_config){ANALYZER_STEM_PORTER, ANALYZER_STOP_EN}, "stem1", "stem3", 1.2, 0.75);
}

static void test_search_query_edge_cases(void)
{
    mn_err err = {0};
    const char *d = cb_path("edge");
    CHECK_MSG(ingest_with(d, 2, (analyzer_config){0}, &err) == 0, "%s", err.msg);
    search_db *db;
    CHECK_EQ_INT(search_db_open(d, &db, &err), 0);
    bm25_params p = bm25_params_default();
    bm25_hit *h;
    size_t n;
    CHECK_EQ_INT(search_bm25(db, &p, "", 0, 10, &h, &n, &err), 0);
    CHECK(n == 0 && h == NULL);
    CHECK_EQ_INT(search_bm25(db, &p, " ,;. ", 5, 10, &h, &n, &err), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(search_bm25(db, &p, "unseenterm", 10, 10, &h, &n, &err), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(search_bm25(db, &p, "omicron", 7, 100000, &h, &n, &err), 0);
    CHECK(n > 10); /* every match when k is large */
    free(h);
    /* a repeated query term weighs double */
    bm25_hit *h2;
    size_t n2;
    CHECK_EQ_INT(search_bm25(db, &p, "xi", 2, 3, &h, &n, &err), 0);
    CHECK_EQ_INT(search_bm25(db, &p, "xi XI", 5, 3, &h2, &n2, &err), 0);
    CHECK(n == 3 && n2 == 3 && h[0].doc == h2[0].doc && rel_close(2 * h[0].score, h2[0].score));
    free(h), free(h2);
    CHECK_EQ_INT(search_bm25(db, &p, "\xff", 1, 3, &h, &n, &err), MN_EFORMAT);
    bm25_params bad = {0.9, 2.0};
    CHECK_EQ_INT(search_bm25(db, &bad, "xi", 2, 3, &h, &n, &err), MN_ERANGE);
    store_chunk c;
    CHECK_EQ_INT(search_db_chunk(db, (uint64_t)7 << STORE_SHARD_BITS, &c, &err), 0);
    search_db_close(db);
}

static void test_search_open_errors(void)
{
    search_db *db;
    mn_err err = {0};
    CHECK_EQ_INT(search_db_open(cb_path("nothing-here"), &db, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "nothing-here");
    /* a DB whose shard 1 disappeared */
    const char *d = cb_path("lost");
    CHECK_MSG(ingest_with(d, 2, (analyzer_config){0}, &err) == 0, "%s", err.msg);
    char p[600], q[600];
    snprintf(p, sizeof p, "%s/shard-001", d);
    snprintf(q, sizeof q, "%s/moved", d);
    CHECK_EQ_INT(rename(p, q), 0);
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "shard-001");
    CHECK_EQ_INT(rename(q, p), 0);
    CHECK_EQ_INT(search_db_open(d, &db, &err), 0);
    search_db_close(db);
}

/* The DB at d after an added input whose ingest dies after `commits`
 * commits (MNEMO_INGEST_CRASH_AFTER): the shards move on, the manifest not. */
static int interrupt_ingest(const char *d, const char *more, const char *commits)
{
    pid_t pid = fork();
    if (pid == 0) {
        setenv("MNEMO_INGEST_CRASH_AFTER", commits, 1);
        const char *in[1] = {more};
        ingest_opts o;
        ingest_opts_default(&o);
        o.chunk_size = 20, o.overlap = 4;
        mn_err e;
        ingest_run(d, &o, in, 1, NULL, &e);
        _exit(3);
    }
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 137;
}

static void test_search_manifest_detects_interrupted_ingest(void)
{
    mn_err err = {0};
    const char *d = cb_path("interrupted");
    CHECK_MSG(ingest_with(d, 3, (analyzer_config){0}, &err) == 0, "%s", err.msg);
    /* a second input whose ingest "dies" after three commits: the shards move on, the manifest does not */
    const char *more = cb_save("more.jsonl", "{\"text\": \"fresh words here\"}\n", 29);
    CHECK(interrupt_ingest(d, more, "3"));
    /* the open refuses it, as stats does */
    search_db *db;
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EMISMATCH);
    CHECK(db == NULL);
    CHECK_STR_CONTAINS(err.msg, "manifest.json");
    CHECK_STR_CONTAINS(err.msg, "an ingest was interrupted after the manifest was written; rerun it");
}

static void test_search_open_refuses_first_ingest_that_failed(void)
{
    const char *j = "{\"text\": \"alpha beta\"}\n{\"text\": \"gamma delta\"}\n{\"text\": broken\n";
    const char *in[1] = {cb_save("firstbad.jsonl", j, strlen(j))};
    mn_err err = {0};
    ingest_opts o;
    ingest_opts_default(&o);
    const char *d = cb_path("first-failed");
    CHECK_EQ_INT(ingest_run(d, &o, in, 1, NULL, &err), MN_EFORMAT);
    search_db *db;
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "no manifest.json: no ingest has finished into this DB (one failed or is still "
                                "running); rerun mnemo ingest");
    CHECK_EQ_INT(search_db_open_part(d, 0, 2, SEARCH_DB_NOLOCK, &db, &err), MN_EIO);
}

static void test_search_open_refuses_db_without_manifest(void)
{
    mn_err err = {0};
    const char *d = cb_path("no-manifest");
    CHECK_MSG(ingest_with(d, 2, (analyzer_config){0}, &err) == 0, "%s", err.msg);
    char p[600], q[600];
    snprintf(p, sizeof p, "%s/manifest.json", d);
    snprintf(q, sizeof q, "%s/manifest.moved", d);
    CHECK_EQ_INT(rename(p, q), 0);
    search_db *db;
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "no manifest.json");
    CHECK_EQ_INT(rename(q, p), 0);
    CHECK_EQ_INT(search_db_open(d, &db, &err), 0);
    search_db_close(db);
}

/* A manifest whose totals are not its entries' sums is refused. */
static void test_search_open_refuses_edited_manifest(void)
{
    mn_err err = {0};
    const char *d = cb_path("edited");
    CHECK_MSG(ingest_with(d, 2, (analyzer_config){0}, &err) == 0, "%s", err.msg);
    char p[600], *text;
    size_t len;
    snprintf(p, sizeof p, "%s/manifest.json", d);
    CHECK_EQ_INT(file_read_all(p, &text, &len, &err), 0);
    char *c = strstr(text, "\n  \"chunks\": ");
    CHECK(c);
    c[13] = c[13] == '9' ? '8' : c[13] + 1; /* the total's first digit */
    FILE *f = fopen(p, "w");
    fwrite(text, 1, len, f);
    fclose(f);
    free(text);
    search_db *db;
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "not the sums of shard_stats");
}

static void test_search_open_says_ingest_running(void)
{
    mn_err err = {0};
    const char *d = cb_path("running");
    CHECK_MSG(ingest_with(d, 3, (analyzer_config){0}, &err) == 0, "%s", err.msg);
    dirlock *l;
    CHECK_MSG(dirlock_take(d, "ingest.lock", "ingest", &l, &err) == 0, "%s", err.msg);
    /* complete: readable, except without LMDB's reader table */
    search_db *db;
    CHECK_EQ_INT(search_db_open(d, &db, &err), 0);
    search_db_close(db);
    CHECK_EQ_INT(search_db_open_part(d, 0, 1, SEARCH_DB_NOLOCK, &db, &err), MN_EBUSY);
    dirlock_release(l);
    /* shards ahead of the manifest: interrupted, or running while locked */
    const char *more = cb_save("running.jsonl", "{\"text\": \"fresh words here and there\"}\n", 39);
    CHECK(interrupt_ingest(d, more, "1"));
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "an ingest was interrupted after the manifest was written; rerun it");
    CHECK_MSG(dirlock_take(d, "ingest.lock", "ingest", &l, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EBUSY);
    char want[128];
    snprintf(want, sizeof want, ": an ingest is running (pid %ld on host ", (long)getpid());
    CHECK_STR_CONTAINS(err.msg, want);
    CHECK_STR_CONTAINS(err.msg, "; wait for it to finish");
    dirlock_release(l);
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EMISMATCH);
}

/* Each part checks its own shards: a shard that no longer matches the
 * manifest fails the part that owns it and only that one. */
static void test_search_open_part_checks_its_shards(void)
{
    mn_err err = {0};
    const char *d = cb_path("parts");
    CHECK_MSG(ingest_with(d, 3, (analyzer_config){0}, &err) == 0, "%s", err.msg);
    char p[600];
    store *st;
    store_meta m;
    snprintf(p, sizeof p, "%s/shard-002", d);
    CHECK_EQ_INT(store_open(p, 0, &st, &err), 0);
    CHECK(store_begin(st, 1, &err) == 0 && store_meta_get(st, &m, &err) == 1);
    m.hash_lo ^= 1;
    CHECK(store_meta_put(st, &m, &err) == 0 && store_commit(st, &err) == 0);
    store_close(st);
    search_db *db;
    CHECK_EQ_INT(search_db_open_part(d, 0, 2, 0, &db, &err), MN_EMISMATCH); /* shards 0 and 2 */
    CHECK_STR_CONTAINS(err.msg, "shard 2 holds");
    CHECK_STR_CONTAINS(err.msg, "mnemo stats --deep");
    CHECK_EQ_INT(search_db_open_part(d, 1, 2, 0, &db, &err), 0); /* shard 1 */
    search_db_close(db);
    CHECK_EQ_INT(search_db_open_part(d, 3, 4, 0, &db, &err), 0); /* no shard: the manifest alone */
    search_db_close(db);
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EMISMATCH);
}

/* The identity recorded is the one verified: after the interrupted ingest
 * is rerun to completion, the new content hash. */
static void test_search_identity_is_the_verified_one(void)
{
    mn_err err = {0};
    const char *d = cb_path("identity");
    CHECK_MSG(ingest_with(d, 2, (analyzer_config){0}, &err) == 0, "%s", err.msg);
    search_db *db;
    db_identity a, b;
    CHECK_EQ_INT(search_db_open(d, &db, &err), 0);
    search_db_identity(db, &a);
    CHECK(strstr(search_db_manifest(db), a.content_hash) != NULL);
    search_db_close(db);
    CHECK(a.shards == 2 && a.chunks > 100 && strlen(a.content_hash) == 32 && !strcmp(a.tokenizer_sha256, "none"));
    CHECK_STR_CONTAINS(a.analyzer, "lower+unicode-split");
    const char *more = cb_save("identity.jsonl", "{\"text\": \"fresh words here and there\"}\n", 39);
    CHECK(interrupt_ingest(d, more, "1"));
    CHECK_EQ_INT(search_db_open(d, &db, &err), MN_EMISMATCH);
    const char *in[1] = {more};
    ingest_opts o;
    ingest_opts_default(&o);
    o.chunk_size = 20, o.overlap = 4;
    CHECK_MSG(ingest_run(d, &o, in, 1, NULL, &err) == 0, "%s", err.msg);
    CHECK_MSG(search_db_open_part(d, 1, 2, 0, &db, &err) == 0, "%s", err.msg);
    search_db_identity(db, &b);
    search_db_close(db);
    CHECK(b.chunks == a.chunks + 1 && strcmp(a.content_hash, b.content_hash));
}

TEST_MAIN(TEST(test_search_matches_brute_force_1_and_3_shards), TEST(test_search_matches_brute_force_stem_stop),
          TEST(test_search_query_edge_cases), TEST(test_search_open_errors),
          TEST(test_search_manifest_detects_interrupted_ingest), TEST(test_search_open_refuses_first_ingest_that_failed),
          TEST(test_search_open_refuses_db_without_manifest), TEST(test_search_open_refuses_edited_manifest),
          TEST(test_search_open_says_ingest_running), TEST(test_search_open_part_checks_its_shards),
          TEST(test_search_identity_is_the_verified_one))
