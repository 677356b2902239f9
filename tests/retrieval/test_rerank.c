/* test_rerank.c — the Qwen3-Reranker-style reranker over the qwen3_tiny
 * fixture model with a small byte-level tokenizer.json written here:
 * ids 0-255 are the bytes (GPT-2 byte-to-unicode alphabet), 256 "no",
 * 257 "ye", 258 "yes" (merges "n o", "y e", "ye s"), and the added tokens
 * 259 <|im_start|>, 260 <|im_end|> (special), 261 <think>, 262 </think>
 * (not special, as in Qwen3's tokenizer.json).  With so few merges the
 * expected token sequences can be written by hand. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/forward.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "retrieval/rerank.h"
#include "test.h"

#define FIXTURE "tests/fixtures/models/qwen3_tiny"
enum { ID_NO = 256, ID_YES = 258, ID_IM_START = 259, ID_IM_END = 260, ID_THINK = 261,
       ID_END_THINK = 262 };

static void write_tokenizer(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        abort();
    }
    fputs("{\"version\": \"1.0\", \"added_tokens\": ["
          "{\"id\": 259, \"content\": \"<|im_start|>\", \"single_word\": false, \"lstrip\": false,"
          " \"rstrip\": false, \"normalized\": false, \"special\": true},"
          "{\"id\": 260, \"content\": \"<|im_end|>\", \"single_word\": false, \"lstrip\": false,"
          " \"rstrip\": false, \"normalized\": false, \"special\": true},"
          "{\"id\": 261, \"content\": \"<think>\", \"single_word\": false, \"lstrip\": false,"
          " \"rstrip\": false, \"normalized\": false, \"special\": false},"
          "{\"id\": 262, \"content\": \"</think>\", \"single_word\": false, \"lstrip\": false,"
          " \"rstrip\": false, \"normalized\": false, \"special\": false}],"
          " \"normalizer\": null,"
          " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false,"
          " \"trim_offsets\": true, \"use_regex\": true},"
          " \"post_processor\": null,"
          " \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true,"
          " \"trim_offsets\": true, \"use_regex\": true},"
          " \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null,"
          " \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null,"
          " \"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false,"
          " \"vocab\": {",
          f);
    int extra = 0;
    for (int b = 0; b < 256; b++) { /* GPT-2 bytes_to_unicode */
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        int cp = printable ? b : 256 + extra++;
        fprintf(f, "%s\"\\u%04x\": %d", b ? ", " : "", cp, b);
    }
    fputs(", \"no\": 256, \"ye\": 257, \"yes\": 258},"
          " \"merges\": [\"n o\", \"y e\", \"ye s\"]}}\n",
          f);
    fclose(f);
}

/* A temp model dir: the fixture's config and shards symlinked, plus our
 * tokenizer.json when with_tok.  Caller frees (and removes with rm_dir). */
static char *make_model_dir(int with_tok)
{
    static const char *files[] = {"config.json", "model-00001-of-00003.safetensors",
                                  "model-00002-of-00003.safetensors",
                                  "model-00003-of-00003.safetensors",
                                  "model.safetensors.index.json"};
    const char *base = getenv("TMPDIR");
    char *dir = malloc(4096);
    snprintf(dir, 4096, "%s/mnemo-rerank-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        abort();
    }
    char src[4096], dst[4200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(src, sizeof src, "%s/%s", fixture_path(FIXTURE), files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        if (symlink(src, dst)) {
            perror(dst);
            abort();
        }
    }
    if (with_tok) {
        snprintf(dst, sizeof dst, "%s/tokenizer.json", dir);
        write_tokenizer(dst);
    }
    return dir;
}

static void rm_dir(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(dir);
}

/* Open a reranker on a fresh model dir (returned in *dir). */
static reranker *open_rr(char **dir, const rerank_opts *o)
{
    mn_err err = {0};
    reranker *r = NULL;
    *dir = make_model_dir(1);
    if (reranker_open(*dir, o, &r, &err)) {
        fprintf(stderr, "reranker_open: %s\n", err.msg);
        return NULL;
    }
    return r;
}

/* ids[0..n) == want[0..nw)?  Prints the first mismatch. */
static int ids_equal(const int32_t *ids, size_t n, const int32_t *want, size_t nw)
{
    for (size_t i = 0; i < n && i < nw; i++)
        if (ids[i] != want[i]) {
            fprintf(stderr, "  token %zu: got %d, want %d\n", i, (int)ids[i], (int)want[i]);
            return 0;
        }
    if (n != nw)
        fprintf(stderr, "  length %zu, want %zu\n", n, nw);
    return n == nw;
}

/* Append the bytes of s as ids (our tokenizer without merges). */
static size_t put_bytes(int32_t *out, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i];
    return n;
}

/* P(yes) computed directly: the full sequence through a fresh engine, all
 * logits, the last row's two entries. */
static double direct_score(const int32_t *ids, size_t n)
{
    mn_err err = {0};
    model *m = NULL;
    engine *e = NULL;
    double p = -1.0;
    if (model_load(fixture_path(FIXTURE), &m, &err) ||
        engine_create(m, 64, 1, (int)n, &e, &err)) {
        fprintf(stderr, "direct_score: %s\n", err.msg);
        goto out;
    }
    int V = m->cfg.V;
    float *logits = malloc(n * V * sizeof *logits);
    engine_seg s = {0, (int)n, ids};
    if (engine_forward(e, &s, 1, ENGINE_LOGITS_ALL, logits, NULL, &err)) {
        fprintf(stderr, "direct_score: %s\n", err.msg);
    } else {
        const float *last = logits + (n - 1) * V;
        double ey = exp((double)last[ID_YES]), en = exp((double)last[ID_NO]);
        p = ey / (ey + en);
    }
    free(logits);
out:
    engine_free(e);
    model_free(m);
    return p;
}

static void test_rerank_pair_ids_hand_expected(void)
{
    char *dir;
    rerank_opts o = {.tmpl = {"<|im_start|>Q", "{instruction}:{query}|{doc}", "<|im_end|><think>",
                              NULL, NULL},
                     .instruction = "yes"};
    reranker *r = open_rr(&dir, &o);
    CHECK(r);
    int32_t *ids = NULL;
    size_t n = 0;
    mn_err err = {0};
    CHECK(reranker_pair_ids(r, "ab", "no", 2, &ids, &n, &err) == 0);
    /* <|im_start|> Q | yes : a b | no | <|im_end|> <think> */
    int32_t want[] = {ID_IM_START, 'Q', ID_YES, ':', 'a', 'b', '|', ID_NO, ID_IM_END, ID_THINK};
    int eq = ids_equal(ids, n, want, sizeof want / sizeof want[0]);
    free(ids);
    CHECK(reranker_yes_id(r) == ID_YES && reranker_no_id(r) == ID_NO);
    reranker_close(r);
    rm_dir(dir);
    CHECK(eq);
}

static void test_rerank_pair_ids_default_template(void)
{
    char *dir;
    reranker *r = open_rr(&dir, NULL);
    CHECK(r);
    CHECK_EQ_INT(reranker_max_length(r), 512); /* min(8192, max_position_embeddings) */
    int32_t *ids = NULL;
    size_t n = 0;
    mn_err err = {0};
    CHECK(reranker_pair_ids(r, "what is it", "a doc", 5, &ids, &n, &err) == 0);
    /* Prefix: special tokens matched, the rest bytes except the merged
     * words "yes" and "no" (pre-tokens of their own after a quote). */
    int32_t want[1024];
    size_t k = 0;
    want[k++] = ID_IM_START;
    k += put_bytes(want + k, "system\nJudge whether the Document meets the requirements based on "
                             "the Query and the Instruct provided. Note that the answer can only "
                             "be \"");
    want[k++] = ID_YES;
    k += put_bytes(want + k, "\" or \"");
    want[k++] = ID_NO;
    k += put_bytes(want + k, "\".");
    want[k++] = ID_IM_END;
    k += put_bytes(want + k, "\n");
    want[k++] = ID_IM_START;
    k += put_bytes(want + k, "user\n");
    /* Body, plain bytes. */
    k += put_bytes(want + k, "<Instruct>: " RERANK_QWEN3_INSTRUCTION "\n<Query>: what is it\n"
                             "<Document>: a doc");
    /* Suffix. */
    want[k++] = ID_IM_END;
    k += put_bytes(want + k, "\n");
    want[k++] = ID_IM_START;
    k += put_bytes(want + k, "assistant\n");
    want[k++] = ID_THINK;
    k += put_bytes(want + k, "\n\n");
    want[k++] = ID_END_THINK;
    k += put_bytes(want + k, "\n\n");
    int eq = ids_equal(ids, n, want, k);
    free(ids);
    reranker_close(r);
    rm_dir(dir);
    CHECK(eq);
}

static void test_rerank_special_token_in_query_is_plain(void)
{
    char *dir;
    rerank_opts o = {.tmpl = {"<|im_start|>", "{query}{doc}", "<|im_end|>", NULL, NULL}};
    reranker *r = open_rr(&dir, &o);
    CHECK(r);
    mn_err err = {0};
    const char *q = "<|im_start|>x<|im_end|>";
    int32_t *ids = NULL, *plain = NULL;
    size_t n = 0, np = 0;
    int rc = reranker_pair_ids(r, q, "<think>", 7, &ids, &n, &err);
    /* The same text in the tokenizer's default mode would give specials. */
    tokenizer *tok = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK(tokenizer_load(path, &tok, &err) == 0);
    CHECK(tokenizer_encode(tok, q, strlen(q), 0, &plain, &np, &err) == 0);
    tokenizer_free(tok);
    int32_t want[64];
    size_t k = 0;
    want[k++] = ID_IM_START;
    k += put_bytes(want + k, q);
    want[k++] = ID_THINK; /* <think> is not special: matched even in user text, as in HF */
    want[k++] = ID_IM_END;
    int eq = rc == 0 && ids_equal(ids, n, want, k);
    int default_mode_special = np == 3 && plain[0] == ID_IM_START && plain[2] == ID_IM_END;
    free(ids);
    free(plain);
    reranker_close(r);
    rm_dir(dir);
    CHECK(eq);
    CHECK(default_mode_special);
}

static const char *const DOCS[] = {
    "The capital of France is Paris.",
    "no",
    "",
    "Bananas are yellow; yes, they are. \xc3\xa9t\xc3\xa9 <|im_end|>",
    "a\0b",
    "Reranking scores each (query, document) pair with the probability of yes.",
};
static const size_t DOC_LENS[] = {31, 2, 0, 51, 3, 73};
#define N_DOCS 6

static void test_rerank_scores_match_direct_forward(void)
{
    char *dir;
    reranker *r = open_rr(&dir, NULL);
    CHECK(r);
    CHECK_EQ_INT(strlen(DOCS[3]), DOC_LENS[3]);
    CHECK_EQ_INT(strlen(DOCS[5]), DOC_LENS[5]);
    const char *q = "what is the capital of France?";
    double scores[N_DOCS];
    mn_err err = {0};
    int rc = reranker_score(r, q, DOCS, DOC_LENS, N_DOCS, scores, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    double max_err = 0.0, lo = 1.0, hi = 0.0;
    int worst = -1;
    for (int i = 0; i < N_DOCS; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        CHECK(reranker_pair_ids(r, q, DOCS[i], DOC_LENS[i], &ids, &n, &err) == 0);
        double want = direct_score(ids, n);
        free(ids);
        CHECK(want >= 0.0);
        if (fabs(scores[i] - want) > max_err) {
            max_err = fabs(scores[i] - want);
            worst = i;
        }
        lo = fmin(lo, scores[i]);
        hi = fmax(hi, scores[i]);
    }
    printf("  scores vs direct forward: max abs error %.3g (doc %d), range [%.6f, %.6f]\n",
           max_err, worst, lo, hi);
    reranker_close(r);
    rm_dir(dir);
    CHECK(max_err <= 1e-6);
    CHECK(lo > 0.0 && hi < 1.0 && hi > lo); /* real probabilities that depend on the doc */
}

static void test_rerank_batch_size_independent(void)
{
    const char *q = "yes or no?";
    double s[3][N_DOCS];
    int sizes[3] = {1, 4, 8};
    for (int b = 0; b < 3; b++) {
        char *dir;
        rerank_opts o = {.batch_size = sizes[b], .max_batch_tokens = sizes[b] == 4 ? 100 : 0};
        reranker *r = open_rr(&dir, &o);
        CHECK(r);
        mn_err err = {0};
        int rc = reranker_score(r, q, DOCS, DOC_LENS, N_DOCS, s[b], &err);
        reranker_close(r);
        rm_dir(dir);
        CHECK_MSG(rc == 0, "%s", err.msg);
    }
    double max_diff = 0.0;
    for (int b = 1; b < 3; b++)
        for (int i = 0; i < N_DOCS; i++)
            max_diff = fmax(max_diff, fabs(s[b][i] - s[0][i]));
    printf("  batch 4 / 8 vs batch 1: max abs difference %.3g\n", max_diff);
    CHECK(max_diff <= 1e-6);
}

static void test_rerank_empty_doc_list(void)
{
    char *dir;
    reranker *r = open_rr(&dir, NULL);
    CHECK(r);
    double sentinel = 42.0;
    mn_err err = {0};
    int rc = reranker_score(r, "q", NULL, NULL, 0, &sentinel, &err);
    int rc_neg = reranker_score(r, "q", NULL, NULL, -1, &sentinel, &err);
    reranker_close(r);
    rm_dir(dir);
    CHECK_EQ_INT(rc, 0);
    CHECK(sentinel == 42.0);
    CHECK_EQ_INT(rc_neg, MN_ERANGE);
}

/* A long document: the body is cut from the right, the prefix and suffix
 * stay, and the score is that of the truncated sequence. */
static void test_rerank_truncation_keeps_suffix(void)
{
    char doc[601];
    for (int i = 0; i < 600; i++)
        doc[i] = "abcdefghij "[i % 11];
    doc[600] = '\0';
    char *dir_full, *dir_cut;
    rerank_opts o = {.max_length = 250};
    reranker *full = open_rr(&dir_full, NULL), *cut = open_rr(&dir_cut, &o);
    CHECK(full && cut);
    mn_err err = {0};
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK(reranker_pair_ids(full, "q", doc, 150, &a, &na, &err) == 0);
    CHECK(reranker_pair_ids(cut, "q", doc, 150, &b, &nb, &err) == 0);
    double score = -1.0;
    const char *docs[1] = {doc};
    size_t lens[1] = {150};
    int rc = reranker_score(cut, "q", docs, lens, 1, &score, &err);
    double want = direct_score(b, nb);
    /* Suffix length: from the default template as hand-encoded above. */
    size_t n_suf = 1 + 1 + 1 + strlen("assistant\n") + 1 + 2 + 1 + 2;
    int ok_len = na > 250 && nb == 250;
    int ok_head = nb <= na && !memcmp(a, b, (nb - n_suf) * sizeof *a);
    int ok_tail = nb >= n_suf && !memcmp(a + na - n_suf, b + nb - n_suf, n_suf * sizeof *a) &&
                  b[nb - n_suf] == ID_IM_END && b[nb - 3] == ID_END_THINK;
    printf("  truncated %zu -> %zu tokens; score %.9f, direct %.9f\n", na, nb, score, want);
    free(a);
    free(b);
    reranker_close(full);
    reranker_close(cut);
    rm_dir(dir_full);
    rm_dir(dir_cut);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(ok_len);
    CHECK(ok_head);
    CHECK(ok_tail);
    CHECK(fabs(score - want) <= 1e-6);
}

/* Template text after {doc} survives truncation; only the document is cut. */
static void test_rerank_truncation_keeps_text_after_doc(void)
{
    char *dir;
    rerank_opts o = {.tmpl = {"<|im_start|>", "{doc}|END{query}", "<|im_end|>", NULL, NULL},
                     .max_length = 12};
    reranker *r = open_rr(&dir, &o);
    CHECK(r);
    mn_err err = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = reranker_pair_ids(r, "Q", "abcdefghijklmnop", 16, &ids, &n, &err);
    int32_t want[12] = {ID_IM_START, 'a', 'b', 'c', 'd', 'e', '|', 'E', 'N', 'D', 'Q', ID_IM_END};
    int eq = rc == 0 && ids_equal(ids, n, want, 12);
    free(ids);
    reranker_close(r);
    rm_dir(dir);
    CHECK(eq);
}

static void test_rerank_open_errors(void)
{
    mn_err err = {0};
    reranker *r = (reranker *)1;
    /* No tokenizer.json. */
    char *dir = make_model_dir(0);
    int rc = reranker_open(dir, NULL, &r, &err);
    CHECK_EQ_INT(rc, MN_EIO);
    CHECK(r == NULL);
    CHECK_STR_CONTAINS(err.msg, "tokenizer.json");
    rm_dir(dir);
    /* A yes / no token that is not in the vocabulary. */
    dir = make_model_dir(1);
    rerank_opts o = {.tmpl = {NULL, NULL, NULL, "maybe", NULL}};
    rc = reranker_open(dir, &o, &r, &err);
    CHECK_EQ_INT(rc, MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "yes token 'maybe'");
    CHECK_STR_CONTAINS(err.msg, "tokenizer.json");
    o = (rerank_opts){.tmpl = {NULL, NULL, NULL, NULL, "nope"}};
    CHECK_EQ_INT(reranker_open(dir, &o, &r, &err), MN_EMISMATCH);
    CHECK_STR_CONTAINS(err.msg, "no token 'nope'");
    /* A body without {doc}; prefix + suffix longer than max_length. */
    o = (rerank_opts){.tmpl = {NULL, "{query}", NULL, NULL, NULL}};
    CHECK_EQ_INT(reranker_open(dir, &o, &r, &err), MN_EUSAGE);
    CHECK_STR_CONTAINS(err.msg, "{doc}");
    o = (rerank_opts){.max_length = 100};
    CHECK_EQ_INT(reranker_open(dir, &o, &r, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "max_length 100");
    o = (rerank_opts){.batch_size = -2};
    CHECK_EQ_INT(reranker_open(dir, &o, &r, &err), MN_EUSAGE);
    rm_dir(dir);
    /* Model load errors propagate. */
    rc = reranker_open("/nonexistent/mnemo-model", NULL, &r, &err);
    CHECK(rc < 0);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/mnemo-model");
    dir = make_model_dir(1);
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    unlink(cfg);
    FILE *f = fopen(cfg, "w");
    CHECK(f);
    fputs("{\"architectures\": [\"MistralForCausalLM\"]}", f);
    fclose(f);
    rc = reranker_open(dir, NULL, &r, &err);
    rm_dir(dir);
    CHECK_EQ_INT(rc, MN_EUNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "MistralForCausalLM");
}

static void test_rerank_score_errors(void)
{
    char *dir;
    reranker *r = open_rr(&dir, NULL);
    CHECK(r);
    mn_err err = {0};
    double s[2];
    const char *bad[2] = {"fine", "bad \xff byte"};
    int rc_doc = reranker_score(r, "q", bad, NULL, 2, s, &err);
    char msg_doc[MN_ERR_MSG_MAX];
    snprintf(msg_doc, sizeof msg_doc, "%s", err.msg);
    int rc_q = reranker_score(r, "q \xc3", bad, NULL, 1, s, &err);
    /* Still usable after errors. */
    int rc_ok = reranker_score(r, "q", bad, NULL, 1, s, &err);
    reranker_close(r);
    rm_dir(dir);
    CHECK_EQ_INT(rc_doc, MN_EFORMAT);
    CHECK_STR_CONTAINS(msg_doc, "doc 1: byte 4: invalid UTF-8");
    CHECK_EQ_INT(rc_q, MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "query: byte 2");
    CHECK_EQ_INT(rc_ok, 0);
}

TEST_MAIN(TEST(test_rerank_pair_ids_hand_expected), TEST(test_rerank_pair_ids_default_template),
          TEST(test_rerank_special_token_in_query_is_plain),
          TEST(test_rerank_scores_match_direct_forward), TEST(test_rerank_batch_size_independent),
          TEST(test_rerank_empty_doc_list), TEST(test_rerank_truncation_keeps_suffix),
          TEST(test_rerank_truncation_keeps_text_after_doc), TEST(test_rerank_open_errors),
          TEST(test_rerank_score_errors))
