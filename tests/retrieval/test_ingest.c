/* test_ingest.c — chunking (word and token windows, exact boundaries), the
 * ingest pipeline into 1 and 3 shards (same chunk set, equal to chunking +
 * dedup done independently here), dedup counts, crash-and-resume at every
 * commit, extending a DB with new inputs, configuration mismatches, and a
 * bad record keeping the valid documents. */
#include "retrieval/ingest.h"

#include <sys/wait.h>
#include <unistd.h>

#include "corpus_build.h"
#include "retrieval/chunker.h"
#include "retrieval/manifest.h"
#include "retrieval/search.h"
#include "test.h"

/* ---- helpers ---- */

static uint64_t rng_state = 42;
static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

static const char *vocab[] = {"the", "Cat", "dog", "sat", "on", "mat", "über", "naïve", "42", "x7", "tree",
                              "house", "river", "stone", "blue", "green", "a", "of", "and", "zeta"};

/* JSONL text of n random documents, ~1/8 of them repeating an earlier text. */
static char *gen_jsonl(int n, int maxw, int id0)
{
    size_t cap = (size_t)n * (size_t)(maxw * 8 + 64) + 1, len = 0;
    char *out = malloc(cap), **texts = calloc((size_t)n, sizeof *texts);
    for (int i = 0; i < n; i++) {
        char t[4096];
        size_t tl = 0;
        if (i > 0 && rng() % 8 == 0) {
            tl = (size_t)snprintf(t, sizeof t, "%s", texts[rng() % (uint64_t)i]);
        } else {
            int w = (int)(rng() % (uint64_t)(maxw + 1));
            for (int j = 0; j < w; j++)
                tl += (size_t)snprintf(t + tl, sizeof t - tl, "%s%s", j ? (rng() % 5 ? " " : ",  ") : "",
                                       vocab[rng() % (sizeof vocab / sizeof vocab[0])]);
        }
        t[tl] = 0;
        texts[i] = strdup(t);
        len += (size_t)snprintf(out + len, cap - len, "{\"id\": %d, \"text\": \"%s\"}\n", id0 + i, t);
    }
    for (int i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    return out;
}

static const char *db_path(const char *name)
{
    static char p[8][512];
    static int next;
    char *b = p[next++ % 8];
    snprintf(b, 512, "%s/%s", cb_tmpdir(), name);
    return b;
}

/* The corpus: a tar.gz with two JSONL members and a plain .txt file. */
static const char *corpus_a, *corpus_b;
static void make_corpus(void)
{
    if (corpus_a)
        return;
    char *j1 = gen_jsonl(120, 40, 0), *j2 = gen_jsonl(60, 90, 1000);
    cb_member m[] = {{"part1.jsonl", j1, 0}, {"dir/", NULL, 0}, {"part2.jsonl", j2, 0}};
    cb_buf b = cb_build("tar", "gzip", m, 3);
    corpus_a = strdup(cb_save("a.tar.gz", b.data, b.len));
    free(b.data);
    char *j3 = gen_jsonl(50, 60, 5000);
    corpus_b = strdup(cb_save("b.jsonl", j3, strlen(j3)));
    free(j1), free(j2), free(j3);
}

typedef struct textset {
    char **t;
    size_t *len;
    size_t n;
} textset;

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void textset_free(textset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->t[i]);
    free(s->t);
    free(s->len);
    memset(s, 0, sizeof *s);
}

/* Every chunk text of the DB at dir, sorted; returns 0 or an error code. */
static int db_texts(const char *dir, textset *out)
{
    search_db *db;
    mn_err err = {0};
    memset(out, 0, sizeof *out);
    int rc = search_db_open(dir, &db, &err);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return rc;
    }
    const db_config *cfg = search_db_config(db);
    for (uint32_t s = 0; s < cfg->nshards; s++) {
        const store_meta *m = search_db_meta(db, s);
        for (uint64_t l = 0; l < m->next_local; l++) {
            store_chunk c;
            if (search_db_chunk(db, (uint64_t)s << STORE_SHARD_BITS | l, &c, &err) != 1) {
                search_db_close(db);
                return -1;
            }
            out->t = realloc(out->t, (out->n + 1) * sizeof *out->t);
            out->t[out->n++] = strndup(c.text, c.text_len);
        }
    }
    search_db_close(db);
    qsort(out->t, out->n, sizeof *out->t, cmp_text);
    return 0;
}

/* The same chunk set computed without the DB: docsource + chunker + exact dedup. */
static void expected_texts(const char *const *inputs, int n, size_t size, size_t overlap, const tokenizer *tok,
                           textset *out)
{
    memset(out, 0, sizeof *out);
    chunker ch;
    mn_err err;
    chunker_init(&ch, size, overlap, tok, &err);
    for (int i = 0; i < n; i++) {
        cb_docs d = cb_collect_path(inputs[i], NULL);
        for (int j = 0; j < d.n; j++) {
            chunker_split(&ch, d.d[j].text, d.d[j].len, "x", &err);
            for (size_t c = 0; c < ch.n; c++) {
                out->t = realloc(out->t, (out->n + 1) * sizeof *out->t);
                out->t[out->n++] = strndup(chunker_text(&ch, d.d[j].text, c), ch.chunk[c].len);
            }
        }
        cb_docs_free(&d);
    }
    chunker_free(&ch);
    qsort(out->t, out->n, sizeof *out->t, cmp_text);
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (k && !strcmp(out->t[k - 1], out->t[i]))
            free(out->t[i]);
        else
            out->t[k++] = out->t[i];
    }
    out->n = k;
}

static int textsets_equal(const textset *a, const textset *b)
{
    if (a->n != b->n) {
        fprintf(stderr, "chunk sets: %zu vs %zu chunks\n", a->n, b->n);
        return 0;
    }
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->t[i], b->t[i])) {
            fprintf(stderr, "chunk sets differ at %zu: '%s' vs '%s'\n", i, a->t[i], b->t[i]);
            return 0;
        }
    return 1;
}

/* Sum of the shard metas of dir: chunks, dups, and the content hash. */
typedef struct dbsum {
    uint64_t chunks, dups, docs, hi, lo;
    uint32_t shards;
} dbsum;

/* The shards' committed counters, read from the shards themselves (a DB
 * whose ingest failed has no manifest: search_db_open refuses it). */
static dbsum db_sum(const char *dir)
{
    dbsum r = {0};
    mn_err err;
    for (uint32_t s = 0;; s++) {
        char p[600];
        store *st;
        store_meta m;
        snprintf(p, sizeof p, "%s/shard-%03u", dir, s);
        if (access(p, F_OK))
            break;
        if (store_open(p, STORE_RDONLY, &st, &err) || store_begin(st, 0, &err) || store_meta_get(st, &m, &err) != 1) {
            fprintf(stderr, "%s\n", err.msg);
            store_close(st);
            return (dbsum){0};
        }
        store_close(st);
        r.chunks += m.chunks, r.dups += m.dups, r.hi += m.hash_hi, r.lo += m.hash_lo;
        if (s == 0)
            r.docs = m.docs;
        r.shards = s + 1;
    }
    return r;
}

static int run_ingest(const char *dir, uint32_t shards, size_t batch, const char *const *in, int n, mn_err *err)
{
    ingest_opts o;
    ingest_opts_default(&o);
    o.shards = shards;
    o.chunk_size = 12;
    o.overlap = 3;
    o.batch_docs = batch;
    return ingest_run(dir, &o, in, (size_t)n, NULL, err);
}

/* ---- chunker ---- */

static void test_ingest_chunk_words_exact_boundaries(void)
{
    chunker c;
    mn_err err;
    const char *doc = "  a b  c\td\ne f g ";
    CHECK_EQ_INT(chunker_init(&c, 3, 1, NULL, &err), 0);
    CHECK_EQ_INT(chunker_split(&c, doc, strlen(doc), "d", &err), 0);
    CHECK_EQ_INT(c.n, 3);
    const char *want[3] = {"a b  c", "c\td\ne", "e f g"};
    for (int i = 0; i < 3; i++)
        CHECK_MSG(c.chunk[i].len == strlen(want[i]) && !memcmp(chunker_text(&c, doc, (size_t)i), want[i], c.chunk[i].len),
                  "chunk %d: '%.*s'", i, (int)c.chunk[i].len, chunker_text(&c, doc, (size_t)i));
    /* the last window is the first reaching the end: 5 words, size 3, overlap 1 -> 2 chunks */
    CHECK_EQ_INT(chunker_split(&c, "1 2 3 4 5", 9, "d", &err), 0);
    CHECK_EQ_INT(c.n, 2);
    CHECK(c.chunk[1].off == 4 && c.chunk[1].len == 5);
    CHECK_EQ_INT(chunker_split(&c, " \n\t ", 4, "d", &err), 0);
    CHECK_EQ_INT(c.n, 0);
    CHECK_EQ_INT(chunker_split(&c, "solo", 4, "d", &err), 0);
    CHECK(c.n == 1 && c.chunk[0].off == 0 && c.chunk[0].len == 4);
    chunker_free(&c);
    /* overlap 0 partitions the words */
    CHECK_EQ_INT(chunker_init(&c, 2, 0, NULL, &err), 0);
    CHECK_EQ_INT(chunker_split(&c, "a b c d e", 9, "d", &err), 0);
    CHECK(c.n == 3 && c.chunk[2].off == 8 && c.chunk[2].len == 1);
    chunker_free(&c);
    CHECK_EQ_INT(chunker_init(&c, 4, 4, NULL, &err), MN_EUSAGE);
    CHECK_STR_CONTAINS(err.msg, "overlap 4");
}

static void test_ingest_chunk_tokens_exact_windows(void)
{
    tokenizer *tok;
    mn_err err;
    int rc = tokenizer_load(fixture_path("deps/tokenizers/qwen3/tokenizer.json"), &tok, &err);
    CHECK_MSG(rc == 0, "%s (fetch the tokenizers into deps/tokenizers, see tests/fixtures/README.md)", err.msg);
    const char *doc = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs! "
                      "Sphinx of black quartz, judge my vow; 1234567 numbers and über naïve café.";
    int32_t *ids;
    size_t n;
    CHECK_EQ_INT(tokenizer_encode(tok, doc, strlen(doc), 0, &ids, &n, &err), 0);
    chunker c;
    CHECK_EQ_INT(chunker_init(&c, 8, 3, tok, &err), 0);
    CHECK_EQ_INT(chunker_split(&c, doc, strlen(doc), "d", &err), 0);
    size_t want_n = n <= 8 ? 1 : 1 + (n - 8 + 4) / 5;
    CHECK_MSG(c.n == want_n, "%zu chunks for %zu tokens, want %zu", c.n, n, want_n);
    for (size_t i = 0; i < c.n; i++) {
        size_t s = 5 * i, e = s + 8 < n ? s + 8 : n;
        char *t;
        size_t tl;
        CHECK_EQ_INT(tokenizer_decode(tok, ids + s, e - s, &t, &tl, &err), 0);
        int same = tl == c.chunk[i].len && !memcmp(t, chunker_text(&c, doc, i), tl);
        free(t);
        CHECK_MSG(same, "chunk %zu differs from decode(ids[%zu..%zu))", i, s, e);
    }
    chunker_free(&c);
    /* overlap 0: the chunks concatenate back to the (ASCII) document */
    const char *ascii = "one two three four five six seven eight nine ten eleven twelve";
    CHECK_EQ_INT(chunker_init(&c, 3, 0, tok, &err), 0);
    CHECK_EQ_INT(chunker_split(&c, ascii, strlen(ascii), "d", &err), 0);
    char joined[256] = "";
    for (size_t i = 0; i < c.n; i++)
        strncat(joined, chunker_text(&c, ascii, i), c.chunk[i].len);
    CHECK_MSG(!strcmp(joined, ascii), "'%s'", joined);
    CHECK(c.n > 3);
    chunker_free(&c);
    free(ids);
    tokenizer_free(tok);
}

/* ---- pipeline ---- */

static void test_ingest_one_and_three_shards_same_chunks(void)
{
    make_corpus();
    const char *in[2] = {corpus_a, corpus_b};
    mn_err err = {0};
    const char *d1 = db_path("s1"), *d3 = db_path("s3");
    CHECK_MSG(run_ingest(d1, 1, 1000, in, 2, &err) == 0, "%s", err.msg);
    CHECK_MSG(run_ingest(d3, 3, 7, in, 2, &err) == 0, "%s", err.msg);
    textset t1, t3, want;
    CHECK_EQ_INT(db_texts(d1, &t1), 0);
    CHECK_EQ_INT(db_texts(d3, &t3), 0);
    expected_texts(in, 2, 12, 3, NULL, &want);
    CHECK(want.n > 200);
    int ok1 = textsets_equal(&t1, &want), ok3 = textsets_equal(&t3, &want);
    dbsum s1 = db_sum(d1), s3 = db_sum(d3);
    textset_free(&t1), textset_free(&t3), textset_free(&want);
    CHECK(ok1 && ok3);
    CHECK(s1.chunks == s3.chunks && s1.dups == s3.dups && s1.dups > 10);
    CHECK_EQ_INT(s1.docs, 230);
    CHECK_EQ_INT(s3.docs, 230);
    CHECK_EQ_INT(s3.shards, 3);
    /* the manifest verifies against the shards */
    search_db *db;
    CHECK_EQ_INT(search_db_open(d3, &db, &err), 0);
    char *text = NULL;
    int rc = search_db_verify_manifest(db, d3, &text, &err);
    search_db_close(db);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_STR_CONTAINS(text, "\"shards\": 3");
    CHECK_STR_CONTAINS(text, "\"documents\": 230");
    free(text);
}

static int count_seg(void *ctx, uint32_t seg, const void *buf, size_t n, mn_err *err)
{
    (void)seg, (void)buf, (void)n, (void)err;
    ++*(int *)ctx;
    return 0;
}

/* Small last segments absorb later batches: a frequent term of a small DB
 * ingested in many batches ends with one segment per shard. */
static void test_ingest_small_segments_merge(void)
{
    make_corpus();
    const char *in[2] = {corpus_a, corpus_b};
    mn_err err = {0};
    const char *dir = db_path("merge");
    CHECK_MSG(run_ingest(dir, 2, 5, in, 2, &err) == 0, "%s", err.msg);
    for (int sh = 0; sh < 2; sh++) {
        char p[600];
        snprintf(p, sizeof p, "%s/shard-%03d", dir, sh);
        store *s;
        CHECK_EQ_INT(store_open(p, 1, &s, &err), 0);
        CHECK_EQ_INT(store_begin(s, 0, &err), 0);
        store_meta m;
        CHECK_EQ_INT(store_meta_get(s, &m, &err), 1);
        int n = 0;
        CHECK_EQ_INT(store_postings_each(s, "the", 3, count_seg, &n, &err), 0);
        store_close(s);
        CHECK_MSG(m.segments > 20 && n == 1, "shard %d: %llu batches, %d segments of 'the'", sh,
                  (unsigned long long)m.segments, n);
    }
}

static void test_ingest_token_chunks(void)
{
    make_corpus();
    const char *in[1] = {corpus_b};
    mn_err err = {0};
    const char *tp = fixture_path("deps/tokenizers/qwen3/tokenizer.json");
    tokenizer *tok;
    CHECK_MSG(tokenizer_load(tp, &tok, &err) == 0, "%s", err.msg);
    ingest_opts o;
    ingest_opts_default(&o);
    o.shards = 2, o.tokenizer_path = tp, o.chunk_size = 16, o.overlap = 5, o.batch_docs = 9;
    const char *dir = db_path("tokens");
    int rc = ingest_run(dir, &o, in, 1, NULL, &err);
    textset got, want;
    expected_texts(in, 1, 16, 5, tok, &want);
    tokenizer_free(tok);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_EQ_INT(db_texts(dir, &got), 0);
    int ok = textsets_equal(&got, &want) && want.n > 50;
    textset_free(&got), textset_free(&want);
    CHECK(ok);
    search_db *db;
    CHECK_EQ_INT(search_db_open(dir, &db, &err), 0);
    int sha = strlen(search_db_config(db)->tokenizer) == 64 && search_db_config(db)->chunk_size == 16;
    search_db_close(db);
    CHECK(sha);
}

static void test_ingest_dedup_exact_duplicates(void)
{
    const char *j = "{\"text\": \"one two three four\"}\n{\"text\": \"one two three four\"}\n"
                    "{\"text\": \"one two three four five\"}\n{\"text\": \"one two three four\"}\n";
    const char *in[1] = {cb_save("dups.jsonl", j, strlen(j))};
    const char *dir = db_path("dups");
    mn_err err;
    ingest_opts o;
    ingest_opts_default(&o);
    o.shards = 2;
    o.batch_docs = 1; /* duplicates across batches, too */
    CHECK_MSG(ingest_run(dir, &o, in, 1, NULL, &err) == 0, "%s", err.msg);
    dbsum s = db_sum(dir);
    CHECK_EQ_INT(s.chunks, 2);
    CHECK_EQ_INT(s.dups, 2);
    textset t;
    CHECK_EQ_INT(db_texts(dir, &t), 0);
    int ok = t.n == 2 && !strcmp(t.t[0], "one two three four") && !strcmp(t.t[1], "one two three four five");
    textset_free(&t);
    CHECK(ok);
}

static void test_ingest_crash_and_resume_at_every_commit(void)
{
    make_corpus();
    const char *in[2] = {corpus_a, corpus_b};
    mn_err err = {0};
    const char *ref = db_path("crash-ref");
    ingest_opts o;
    ingest_opts_default(&o);
    o.shards = 3, o.chunk_size = 12, o.overlap = 3, o.batch_docs = 40;
    ingest_progress res;
    CHECK_MSG(ingest_run(ref, &o, in, 2, &res, &err) == 0, "%s", err.msg);
    dbsum want = db_sum(ref);
    CHECK(res.commits > 10);
    /* crash after the N-th commit, then finish; sometimes crash twice */
    for (uint64_t n = 1; n < res.commits; n += 1 + n / 4) {
        char name[64];
        snprintf(name, sizeof name, "crash-%llu", (unsigned long long)n);
        const char *dir = db_path(name);
        for (int round = 0; round < (n % 3 == 0 ? 2 : 1); round++) {
            pid_t pid = fork();
            CHECK(pid >= 0);
            if (pid == 0) {
                char v[32];
                snprintf(v, sizeof v, "%llu", (unsigned long long)(round ? 1 : n));
                setenv("MNEMO_INGEST_CRASH_AFTER", v, 1);
                mn_err e2;
                ingest_run(dir, &o, in, 2, NULL, &e2);
                _exit(3); /* the hook should have fired */
            }
            int st;
            CHECK(waitpid(pid, &st, 0) == pid);
            CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 137, "crash after %llu: status %d", (unsigned long long)n,
                      st);
        }
        /* resume with other batch boundaries half of the time: shards then
         * hold partial batches relative to the new ones */
        ingest_opts o2 = o;
        o2.batch_docs = n % 2 ? 17 : 40;
        CHECK_MSG(ingest_run(dir, &o2, in, 2, NULL, &err) == 0, "%s", err.msg);
        dbsum got = db_sum(dir);
        CHECK_MSG(got.chunks == want.chunks && got.hi == want.hi && got.lo == want.lo && got.dups == want.dups &&
                      got.docs == want.docs,
                  "crash after commit %llu: %llu chunks (want %llu), docs %llu (want %llu), hash %016llx%016llx",
                  (unsigned long long)n, (unsigned long long)got.chunks, (unsigned long long)want.chunks,
                  (unsigned long long)got.docs, (unsigned long long)want.docs, (unsigned long long)got.hi,
                  (unsigned long long)got.lo);
        /* and resuming a finished DB changes nothing */
        CHECK_EQ_INT(ingest_run(dir, &o, in, 2, &res, &err), 0);
        CHECK_EQ_INT(res.chunks, 0);
    }
}

static void test_ingest_new_inputs_equal_all_at_once(void)
{
    make_corpus();
    const char *both[2] = {corpus_a, corpus_b};
    mn_err err = {0};
    const char *all = db_path("all"), *inc = db_path("inc");
    CHECK_MSG(run_ingest(all, 3, 25, both, 2, &err) == 0, "%s", err.msg);
    CHECK_MSG(run_ingest(inc, 3, 25, both, 1, &err) == 0, "%s", err.msg);
    dbsum mid = db_sum(inc);
    CHECK_MSG(run_ingest(inc, 0, 25, both + 1, 1, &err) == 0, "%s", err.msg); /* only the new input, --shards omitted */
    dbsum a = db_sum(all), b = db_sum(inc);
    CHECK(mid.chunks < a.chunks);
    CHECK(a.chunks == b.chunks && a.hi == b.hi && a.lo == b.lo && a.docs == b.docs);
    /* naming both again reads nothing new */
    ingest_opts o;
    ingest_opts_default(&o);
    o.chunk_size = 12, o.overlap = 3;
    ingest_progress res;
    CHECK_EQ_INT(ingest_run(inc, &o, both, 2, &res, &err), 0);
    CHECK_EQ_INT(res.chunks, 0);
    CHECK_EQ_INT(res.docs, 0);
}

static void test_ingest_config_mismatch_names_both(void)
{
    make_corpus();
    const char *in[1] = {corpus_b};
    const char *dir = db_path("mismatch");
    mn_err err = {0};
    ingest_opts o;
    ingest_opts_default(&o);
    CHECK_MSG(ingest_run(dir, &o, in, 1, NULL, &err) == 0, "%s", err.msg);
    o.analyzer.stem = ANALYZER_STEM_PORTER;
    CHECK_EQ_INT(ingest_run(dir, &o, in, 1, NULL, &err), MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "stem=none");
    CHECK_STR_CONTAINS(err.msg, "stem=porter");
    ingest_opts_default(&o);
    o.tokenizer_path = fixture_path("deps/tokenizers/qwen3/tokenizer.json");
    CHECK_EQ_INT(ingest_run(dir, &o, in, 1, NULL, &err), MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "tokenizer");
    CHECK_STR_CONTAINS(err.msg, "'none'");
    ingest_opts_default(&o);
    o.chunk_size = 100;
    CHECK_EQ_INT(ingest_run(dir, &o, in, 1, NULL, &err), MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "256");
    CHECK_STR_CONTAINS(err.msg, "100");
    ingest_opts_default(&o);
    o.shards = 4;
    CHECK_EQ_INT(ingest_run(dir, &o, in, 1, NULL, &err), MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "--shards 1");
    ingest_opts_default(&o);
    o.text_field = "body";
    CHECK_EQ_INT(ingest_run(dir, &o, in, 1, NULL, &err), MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "'body'");
}

static void test_ingest_bad_record_keeps_valid_documents(void)
{
    const char *j = "{\"text\": \"alpha beta\"}\n{\"text\": \"gamma delta\"}\n{\"text\": broken\n{\"text\": \"eps\"}\n";
    const char *in[1] = {cb_save("bad.jsonl", j, strlen(j))};
    mn_err err = {0};
    ingest_opts o;
    ingest_opts_default(&o);
    o.shards = 2;
    const char *dir = db_path("bad-fail");
    CHECK_EQ_INT(ingest_run(dir, &o, in, 1, NULL, &err), MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "bad.jsonl");
    CHECK_STR_CONTAINS(err.msg, "line 3");
    dbsum s = db_sum(dir);
    CHECK_EQ_INT(s.chunks, 2); /* the two valid documents before the bad line */
    o.on_error = DOCSOURCE_SKIP;
    const char *dir2 = db_path("bad-skip");
    CHECK_MSG(ingest_run(dir2, &o, in, 1, NULL, &err) == 0, "%s", err.msg);
    s = db_sum(dir2);
    CHECK_EQ_INT(s.chunks, 3);
    /* a missing input is named */
    const char *none[1] = {db_path("no-such-file.jsonl")};
    CHECK_EQ_INT(ingest_run(dir2, &o, none, 1, NULL, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "no-such-file.jsonl");
}

TEST_MAIN(TEST(test_ingest_chunk_words_exact_boundaries), TEST(test_ingest_chunk_tokens_exact_windows),
          TEST(test_ingest_one_and_three_shards_same_chunks), TEST(test_ingest_dedup_exact_duplicates), TEST(test_ingest_small_segments_merge), TEST(test_ingest_token_chunks),
          TEST(test_ingest_crash_and_resume_at_every_commit), TEST(test_ingest_new_inputs_equal_all_at_once),
          TEST(test_ingest_config_mismatch_names_both), TEST(test_ingest_bad_record_keeps_valid_documents))
