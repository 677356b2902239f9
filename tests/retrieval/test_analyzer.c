/* test_analyzer.c — the analyzer's split/lower-case/stop/stem pipeline on a
 * table of texts (ASCII, punctuation, digits, Cyrillic, Greek, CJK, accents,
 * combining marks, emoji), positions and byte offsets, the term length cap,
 * invalid UTF-8 with offsets, the config strings, and the stop set. */
#include <stdint.h>

#include "retrieval/analyzer.h"
#include "retrieval/stopwords.h"
#include "test.h"

/* Terms of tokens joined with '|'. */
static const char *joined(const analyzer_tokens *t)
{
    static char buf[8192];
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < t->n && n + t->tok[i].term_len + 2 < sizeof buf; i++) {
        if (i)
            buf[n++] = '|';
        memcpy(buf + n, t->terms + t->tok[i].term_off, t->tok[i].term_len);
        n += t->tok[i].term_len;
    }
    buf[n] = 0;
    return buf;
}

static const analyzer_config PLAIN = {ANALYZER_STEM_NONE, ANALYZER_STOP_NONE};
static const analyzer_config STOP = {ANALYZER_STEM_NONE, ANALYZER_STOP_EN};
static const analyzer_config STEM = {ANALYZER_STEM_PORTER, ANALYZER_STOP_NONE};
static const analyzer_config BOTH = {ANALYZER_STEM_PORTER, ANALYZER_STOP_EN};

typedef struct acase {
    const analyzer_config *cfg;
    const char *text;
    const char *want; /* terms joined with '|' */
} acase;

static void test_analyzer_table(void)
{
    static const acase cases[] = {
        {&PLAIN, "", ""},
        {&PLAIN, " ,.;!? -- ", ""},
        {&PLAIN, "Hello, World!", "hello|world"},
        {&PLAIN, "don't stop-believing_now (x) [y] {z}", "don|t|stop|believing|now|x|y|z"},
        {&PLAIN, "3.14 x2 42nd 1,000 v1.2-rc3", "3|14|x2|42nd|1|000|v1|2|rc3"},
        {&PLAIN, "a\0b\tc\nd\r\ne", "a|b|c|d|e"},
        {&PLAIN, "e-mail user@example.com http://x.org/a?b=c", "e|mail|user|example|com|http|x|org|a|b|c"},
        /* Cyrillic, Greek: lower-cased per code point, no final-sigma rule */
        {&PLAIN, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, \xd0\x9c\xd0\x98\xd0\xa0!",
         "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82|\xd0\xbc\xd0\xb8\xd1\x80"},               /* Привет, МИР! */
        {&PLAIN, "\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x83"},                              /* ΣΑΣ -> σασ */
        {&PLAIN, "\xce\x9f\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x8d\xcf\x82",
         "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x8d\xcf\x82"},                          /* Οδυσσεύς */
        {&PLAIN, "\xc3\x80\xc3\x89\xc3\x8e", "\xc3\xa0\xc3\xa9\xc3\xae"},                              /* ÀÉÎ -> àéî */
        {&PLAIN, "\xc4\xb0STANBUL \xe1\xba\x9e", "istanbul|\xc3\x9f"},                                 /* İSTANBUL ẞ */
        {&PLAIN, "stra\xc3\x9f" "e", "stra\xc3\x9f" "e"},                                              /* ß not folded */
        /* CJK: a run of ideographs / kana is one token */
        {&PLAIN, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88",
         "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e|\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88"},   /* 日本語 テキスト */
        {&PLAIN, "\xe4\xb8\xad\xe6\x96\x87\xef\xbc\x8c\xe6\xb5\x8b\xe8\xaf\x95",
         "\xe4\xb8\xad\xe6\x96\x87|\xe6\xb5\x8b\xe8\xaf\x95"},                                         /* 中文，测试 */
        /* combining marks: continue a word, dropped where no word is open */
        {&PLAIN, "Cafe\xcc\x81 nai\xcc\x88ve", "cafe\xcc\x81|nai\xcc\x88ve"},
        {&PLAIN, "\xcc\x81" "abc \xcc\x81 d", "abc|d"},
        {&PLAIN, "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80 x",
         "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80|x"},                /* हिन्दी */
        /* other numbers: circled digits (No), Arabic-Indic digits (Nd), Roman numeral (Nl) */
        {&PLAIN, "\xe2\x91\xa0\xe2\x91\xa1 \xd9\xa3\xd9\xa4 \xe2\x85\xab", "\xe2\x91\xa0\xe2\x91\xa1|\xd9\xa3\xd9\xa4|\xe2\x85\xbb"},
        /* emoji and symbols are dropped, with their variation selectors */
        {&PLAIN, "I \xe2\x9d\xa4\xef\xb8\x8f NY \xf0\x9f\x98\x80ok \xe2\x82\xac" "5 +=", "i|ny|ok|5"},
        /* stop words: Lucene's English set, lower-cased first */
        {&STOP, "The Cat is ON the mat", "cat|mat"},
        {&STOP, "to be or not to be that is the question", "question"},
        {&STOP, "their there these they this them", "them"},
        /* stemming */
        {&STEM, "The running cats were CARESSED", "the|run|cat|were|caress"},
        {&STEM, "Relational conditional hopefulness", "relat|condit|hope"},
        {&STEM, "is as us", "is|as|us"},
        /* stop words go before stemming: "this" is dropped, not stemmed to "thi";
         * "ands" is not a stop word and stems to "and" */
        {&BOTH, "This is the running ands", "run|and"},
        {&BOTH, "Generalizations of the oscillators", "gener|oscil"},
    };
    analyzer_tokens t = {0};
    mn_err err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *text = cases[i].text;
        size_t len = strlen(text);
        if (i == 5)
            len = 10; /* the case with an embedded NUL */
        int rc = analyzer_analyze(cases[i].cfg, text, len, "case", &t, &err);
        CHECK_MSG(rc == 0, "case %zu: %s", i, err.msg);
        CHECK_MSG(!strcmp(joined(&t), cases[i].want), "case %zu '%s': got '%s', want '%s'", i, text, joined(&t),
                  cases[i].want);
    }
    analyzer_tokens_free(&t);
}

static void test_analyzer_positions_and_offsets(void)
{
    /* "  Hello, wörld the end": stop=en removes "the" but keeps its position */
    const char *text = "  Hello, w\xc3\xb6rld the end";
    analyzer_tokens t = {0};
    mn_err err = {0};
    CHECK(analyzer_analyze(&STOP, text, strlen(text), "x", &t, &err) == 0);
    CHECK_EQ_INT(t.n, 3);
    size_t want[3][3] = {{0, 2, 7}, {1, 9, 15}, {3, 20, 23}}; /* pos, start, end */
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(t.tok[i].pos, want[i][0]);
        CHECK_EQ_INT(t.tok[i].start, want[i][1]);
        CHECK_EQ_INT(t.tok[i].end, want[i][2]);
    }
    CHECK(t.tok[1].term_len == 6 && !memcmp(t.terms + t.tok[1].term_off, "w\xc3\xb6rld", 6));
    analyzer_tokens_free(&t);
}

/* A letter run longer than ANALYZER_MAX_TERM_BYTES is cut at code point
 * boundaries into several tokens with consecutive positions. */
static void test_analyzer_long_run_is_split(void)
{
    char text[1200];
    analyzer_tokens t = {0};
    mn_err err = {0};
    memset(text, 'A', 600);
    CHECK(analyzer_analyze(&PLAIN, text, 600, "x", &t, &err) == 0);
    CHECK_EQ_INT(t.n, 3);
    CHECK_EQ_INT(t.tok[0].term_len, 255);
    CHECK_EQ_INT(t.tok[1].term_len, 255);
    CHECK_EQ_INT(t.tok[2].term_len, 90);
    CHECK_EQ_INT(t.tok[2].pos, 2);
    CHECK_EQ_INT(t.tok[1].start, 255);
    CHECK(t.terms[t.tok[2].term_off] == 'a');
    for (int i = 0; i < 200; i++) /* 200 x "É" (2 bytes) -> 127 + 73 */
        memcpy(text + 2 * i, "\xc3\x89", 2);
    CHECK(analyzer_analyze(&PLAIN, text, 400, "x", &t, &err) == 0);
    CHECK_EQ_INT(t.n, 2);
    CHECK_EQ_INT(t.tok[0].term_len, 254);
    CHECK_EQ_INT(t.tok[1].term_len, 146);
    CHECK(!memcmp(t.terms + t.tok[1].term_off, "\xc3\xa9", 2));
    analyzer_tokens_free(&t);
}

static void test_analyzer_invalid_utf8_reports_offset(void)
{
    static const struct {
        const char *text;
        size_t len;
        const char *offset;
    } cases[] = {
        {"abc\xff", 4, "byte 3:"},
        {"ab\xc0\x80", 4, "byte 2:"},              /* overlong NUL */
        {"ab cd\xe2\x82", 7, "byte 5:"},           /* truncated at the end */
        {"x\xed\xa0\x80y", 5, "byte 1:"},          /* surrogate */
        {"\xf4\x90\x80\x80", 4, "byte 0:"},        /* above U+10FFFF */
        {"ok \x80", 4, "byte 3:"},                 /* stray continuation byte */
    };
    analyzer_tokens t = {0};
    mn_err err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = analyzer_analyze(&PLAIN, cases[i].text, cases[i].len, "doc.jsonl: line 7", &t, &err);
        CHECK_MSG(rc == MN_EFORMAT, "case %zu: rc %d", i, rc);
        CHECK_STR_CONTAINS(err.msg, "doc.jsonl: line 7: ");
        CHECK_STR_CONTAINS(err.msg, cases[i].offset);
        CHECK_STR_CONTAINS(err.msg, "invalid UTF-8");
        CHECK_EQ_INT(t.n, 0);
    }
    analyzer_tokens_free(&t);
}

/* The list is reused: a second analysis replaces the first and a smaller
 * text needs no new memory. */
static void test_analyzer_buffer_reuse(void)
{
    analyzer_tokens t;
    mn_err err = {0};
    analyzer_tokens_init(&t);
    const char *big = "one two three four five six seven eight nine ten eleven twelve";
    CHECK(analyzer_analyze(&PLAIN, big, strlen(big), "x", &t, &err) == 0);
    CHECK_EQ_INT(t.n, 12);
    char *terms = t.terms;
    analyzer_token *tok = t.tok;
    CHECK(analyzer_analyze(&PLAIN, "Alpha beta", 10, "x", &t, &err) == 0);
    CHECK(!strcmp(joined(&t), "alpha|beta"));
    CHECK(t.terms == terms && t.tok == tok);
    analyzer_tokens_free(&t);
    CHECK(t.terms == NULL && t.n == 0);
}

static void test_analyzer_config_strings(void)
{
    static const struct {
        analyzer_config cfg;
        const char *s;
    } ok[] = {
        {{ANALYZER_STEM_NONE, ANALYZER_STOP_NONE}, "lower+unicode-split;stem=none;stop=none;v1"},
        {{ANALYZER_STEM_PORTER, ANALYZER_STOP_NONE}, "lower+unicode-split;stem=porter;stop=none;v1"},
        {{ANALYZER_STEM_NONE, ANALYZER_STOP_EN}, "lower+unicode-split;stem=none;stop=en;v1"},
        {{ANALYZER_STEM_PORTER, ANALYZER_STOP_EN}, "lower+unicode-split;stem=porter;stop=en;v1"},
    };
    char buf[ANALYZER_CONFIG_STR_MAX];
    mn_err err = {0};
    for (size_t i = 0; i < 4; i++) {
        analyzer_config c = {0};
        analyzer_config_string(&ok[i].cfg, buf);
        CHECK_MSG(!strcmp(buf, ok[i].s), "'%s' != '%s'", buf, ok[i].s);
        CHECK(analyzer_config_parse(ok[i].s, "m.json", &c, &err) == 0);
        CHECK(c.stem == ok[i].cfg.stem && c.stop == ok[i].cfg.stop);
    }
    static const struct {
        const char *s, *why;
    } bad[] = {
        {"", "unknown tokenizer"},
        {"lower+unicode-split", "unknown tokenizer"},
        {"whitespace;stem=none;stop=none;v1", "unknown tokenizer"},
        {"lower+unicode-split;stem=snowball;stop=none;v1", "unknown stemmer"},
        {"lower+unicode-split;stem=porter;stop=fr;v1", "unknown stop-word set"},
        {"lower+unicode-split;stem=porter;stop=en;v2", "unknown analyzer version"},
        {"lower+unicode-split;stem=porter;stop=en;v1 ", "unknown analyzer version"},
        {"lower+unicode-split;stop=en;stem=porter;v1", "unknown stemmer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        analyzer_config c;
        int rc = analyzer_config_parse(bad[i].s, "db/manifest.json: analyzer", &c, &err);
        CHECK_MSG(rc == MN_EUNSUPPORTED, "'%s' accepted", bad[i].s);
        CHECK_STR_CONTAINS(err.msg, "db/manifest.json: analyzer: ");
        CHECK_STR_CONTAINS(err.msg, bad[i].why);
    }
    analyzer_stem stem;
    analyzer_stop stop;
    CHECK(analyzer_stem_parse("porter", &stem, &err) == 0 && stem == ANALYZER_STEM_PORTER);
    CHECK(analyzer_stem_parse("none", &stem, &err) == 0 && stem == ANALYZER_STEM_NONE);
    CHECK(analyzer_stem_parse("Porter", &stem, &err) == MN_EUSAGE);
    CHECK_STR_CONTAINS(err.msg, "--stem");
    CHECK(analyzer_stop_parse("en", &stop, &err) == 0 && stop == ANALYZER_STOP_EN);
    CHECK(analyzer_stop_parse("english", &stop, &err) == MN_EUSAGE);
    CHECK_STR_CONTAINS(err.msg, "--stopwords");
}

static void test_analyzer_stopwords_en(void)
{
    static const char *const lucene[] = {"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if",
                                         "in", "into", "is", "it", "no", "not", "of", "on", "or", "such", "that",
                                         "the", "their", "then", "there", "these", "they", "this", "to", "was",
                                         "will", "with"};
    CHECK_EQ_INT(sizeof lucene / sizeof lucene[0], STOPWORDS_EN_COUNT);
    for (size_t i = 0; i < STOPWORDS_EN_COUNT; i++) {
        CHECK_MSG(stopwords_en_contains(lucene[i], strlen(lucene[i])), "'%s' missing", lucene[i]);
        CHECK(!strcmp(stopwords_en_word(i), lucene[i]));
        if (i)
            CHECK(strcmp(stopwords_en_word(i - 1), stopwords_en_word(i)) < 0);
    }
    static const char *const not_stop[] = {"", "th", "them", "thes", "intoo", "i", "z", "wit", "with ", "The"};
    for (size_t i = 0; i < sizeof not_stop / sizeof not_stop[0]; i++)
        CHECK_MSG(!stopwords_en_contains(not_stop[i], strlen(not_stop[i])), "'%s' is a stop word?", not_stop[i]);
    CHECK(stopwords_en_contains("thereafter", 5)); /* length-delimited: "there" */
    CHECK(stopwords_en_word(STOPWORDS_EN_COUNT) == NULL);
}

TEST_MAIN(TEST(test_analyzer_table), TEST(test_analyzer_positions_and_offsets), TEST(test_analyzer_long_run_is_split),
          TEST(test_analyzer_invalid_utf8_reports_offset), TEST(test_analyzer_buffer_reuse),
          TEST(test_analyzer_config_strings), TEST(test_analyzer_stopwords_en))
