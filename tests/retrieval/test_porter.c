/* test_porter.c — the Porter stemmer against a hand-derived table
 * (tests/fixtures/porter/stems.tsv), on non-ASCII input, and against an
 * independent implementation: Snowball's "porter" algorithm from Debian's
 * libstemmer0d (loaded with dlopen, so nothing in src/ links it) over every
 * lower-case word of /usr/share/dict/words (Debian's wamerican). */
#include <dlfcn.h>
#include <stdint.h>

#include "retrieval/porter.h"
#include "test.h"
#include "util/utf8.h"

static size_t stem_str(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n >= cap)
        return (size_t)-1;
    memcpy(out, in, n);
    n = porter_stem(out, n);
    out[n] = 0;
    return n;
}

static void test_porter_table(void)
{
    FILE *f = fopen(fixture_path("tests/fixtures/porter/stems.tsv"), "r");
    CHECK_MSG(f != NULL, "cannot open tests/fixtures/porter/stems.tsv");
    char line[512], got[512];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "stems.tsv: line without a tab: '%s'\n", line);
            bad++;
            continue;
        }
        *tab = 0;
        stem_str(line, got, sizeof got);
        if (strcmp(got, tab + 1)) {
            if (bad < 20)
                fprintf(stderr, "porter(%s) = '%s', expected '%s'\n", line, got, tab + 1);
            bad++;
        }
        n++;
    }
    fclose(f);
    printf("  porter table: %d words, %d mismatches\n", n, bad);
    CHECK(n >= 200);
    CHECK_EQ_INT(bad, 0);
}

/* Rules the reference implementation adds to the paper, one by one. */
static void test_porter_departures(void)
{
    static const char *const cases[][2] = {
        {"is", "is"}, {"as", "as"}, {"us", "us"}, {"a", "a"},       /* 1-2 letters: unchanged */
        {"ies", "i"}, {"ing", "ing"}, {"eed", "eed"},                 /* 3 letters: stemmed */
        {"terribly", "terribl"}, {"sensibli", "sensibl"},             /* BLI -> BLE */
        {"conformabli", "conform"},                                   /* ...also covers ABLI */
        {"analogi", "analog"}, {"archaeology", "archaeolog"},         /* LOGI -> LOG */
        {"biology", "biologi"},                                       /* LOGI needs m > 0 */
        {"grokked", "grok"}, {"revving", "rev"},                      /* any doubled consonant */
        {"yyyyyy", "yyyyyi"}, {"yaying", "yai"},                      /* y alternates */
    };
    char got[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        stem_str(cases[i][0], got, sizeof got);
        CHECK_MSG(!strcmp(got, cases[i][1]), "porter(%s) = '%s', expected '%s'", cases[i][0], got, cases[i][1]);
    }
}

/* Lucene stems UTF-16 units: a non-ASCII letter is a consonant, two equal
 * BMP letters are a doubled consonant, a surrogate pair is two different
 * consonant units (never a double). */
static void test_porter_non_ascii(void)
{
    static const char *const cases[][2] = {
        {"caf\xc3\xa9s", "caf\xc3\xa9"},                           /* cafés -> café */
        {"r\xc3\xa9sum\xc3\xa9s", "r\xc3\xa9sum\xc3\xa9"},         /* no step 5a: é is not e */
        {"gr\xc3\xb6\xc3\x9f" "er", "gr\xc3\xb6\xc3\x9f" "er"},    /* größer: m(größ) = 0 */
        {"xa\xc3\xb1\xc3\xb1ing", "xa\xc3\xb1"},                   /* xaññing: ññ is a double */
        {"a\xe1\x81\xa1\xe1\x81\xa1ing", "a\xe1\x81\xa1"},         /* U+1061 twice: a double */
        {"a\xf0\x9d\x90\x80\xf0\x9d\x90\x80ing", "a\xf0\x9d\x90\x80\xf0\x9d\x90\x80"}, /* U+1D400 twice: not */
        {"\xd0\xba\xd0\xbe\xd1\x82ies", "\xd0\xba\xd0\xbe\xd1\x82i"}, /* котies -> котi */
        {"\xe1\x81\x81\xe1\x81\x81" "ed", "\xe1\x81\x81\xe1\x81\x81" "ed"}, /* no vowel in stem */
    };
    char got[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = stem_str(cases[i][0], got, sizeof got);
        CHECK_MSG(!strcmp(got, cases[i][1]), "case %zu: porter(%s) = '%s', expected '%s'", i, cases[i][0], got,
                  cases[i][1]);
        CHECK_MSG(utf8_valid_prefix(got, n) == n, "case %zu: output is not valid UTF-8", i);
    }
}

/* Random words over letters that exercise every rule and multi-byte
 * characters: output never longer, always valid UTF-8, a prefix-compatible
 * stem; and words over 1024 bytes take the allocating path. */
static void test_porter_random_words_stay_valid(void)
{
    static const char *const pieces[] = {"a", "e", "i", "o", "u", "y", "s", "l", "z", "t", "b", "g", "ed", "ing",
                                         "ational", "ness", "ful", "ion", "\xc3\xb1", "\xf0\x9f\x98\x80",
                                         "\xe1\x81\x81", "bli", "logi", "ss", "ies", "eed"};
    uint64_t s = 42;
    char w[4096], orig[4096];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        int parts = 1 + (int)(s % 7);
        if (iter % 1000 == 0)
            parts = 600; /* > 1024 bytes */
        for (int p = 0; p < parts; p++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            const char *pc = pieces[(s >> 33) % (sizeof pieces / sizeof pieces[0])];
            size_t l = strlen(pc);
            if (n + l >= sizeof w)
                break;
            memcpy(w + n, pc, l);
            n += l;
        }
        memcpy(orig, w, n);
        size_t m = porter_stem(w, n);
        CHECK_MSG(m <= n, "grew: '%.*s'", (int)n, orig);
        CHECK_MSG(utf8_valid_prefix(w, m) == m, "invalid UTF-8 stem of '%.*s'", (int)n, orig);
    }
}

/* libstemmer's C API, looked up at run time. */
typedef struct sb_api {
    void *h, *stemmer;
    void *(*new_)(const char *, const char *);
    const unsigned char *(*stem)(void *, const unsigned char *, int);
    int (*length)(void *);
    void (*del)(void *);
} sb_api;

/* Why Snowball's "porter" and the reference/Lucene Porter may differ on a
 * word, or NULL when they must agree (see porter.h). */
static const char *known_difference(const char *word, const char *snow)
{
    size_t n = strlen(word), sn = strlen(snow);
    if (n <= 2)
        return "short word";
    if ((sn >= 3 && !strcmp(snow + sn - 3, "bli")) || (sn >= 4 && !strcmp(snow + sn - 4, "logi")))
        return "BLI/LOGI rule";
    /* Snowball undoubles only bb dd ff gg mm nn pp rr tt after -ed/-ing */
    size_t suf = (n >= 2 && !strcmp(word + n - 2, "ed")) ? 2 : (n >= 3 && !strcmp(word + n - 3, "ing")) ? 3 : 0;
    if (suf && n - suf >= 2) {
        char c = word[n - suf - 1];
        if (c == word[n - suf - 2] && strchr("chjkqvwx", c))
            return "doubled consonant";
    }
    return NULL;
}

static void test_porter_matches_snowball_dictionary(void)
{
    sb_api sb = {0};
    sb.h = dlopen("libstemmer.so.0d", RTLD_NOW);
    CHECK_MSG(sb.h != NULL, "%s (install Debian's libstemmer0d: scripts/setup.sh)", dlerror());
    *(void **)&sb.new_ = dlsym(sb.h, "sb_stemmer_new");
    *(void **)&sb.stem = dlsym(sb.h, "sb_stemmer_stem");
    *(void **)&sb.length = dlsym(sb.h, "sb_stemmer_length");
    *(void **)&sb.del = dlsym(sb.h, "sb_stemmer_delete");
    CHECK(sb.new_ && sb.stem && sb.length && sb.del);
    sb.stemmer = sb.new_("porter", "UTF_8");
    CHECK(sb.stemmer != NULL);
    FILE *f = fopen("/usr/share/dict/words", "r");
    if (!f)
        sb.del(sb.stemmer);
    CHECK_MSG(f != NULL, "cannot open /usr/share/dict/words (install Debian's wamerican: scripts/setup.sh)");
    char line[256], mine[256];
    long words = 0, explained = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        size_t n = strlen(line), i;
        for (i = 0; i < n && line[i] >= 'a' && line[i] <= 'z'; i++)
            ;
        if (n == 0 || i < n) /* only plain lower-case words: "A", "Aaron's", "études" skipped */
            continue;
        words++;
        stem_str(line, mine, sizeof mine);
        const unsigned char *s = sb.stem(sb.stemmer, (const unsigned char *)line, (int)n);
        char snow[256];
        snprintf(snow, sizeof snow, "%.*s", sb.length(sb.stemmer), (const char *)s);
        if (!strcmp(mine, snow))
            continue;
        if (known_difference(line, snow)) {
            explained++;
            continue;
        }
        if (bad++ < 20)
            fprintf(stderr, "  %s: porter_stem '%s', snowball '%s'\n", line, mine, snow);
    }
    fclose(f);
    sb.del(sb.stemmer);
    printf("  snowball cross-check: %ld words, %ld known departures, %ld unexplained\n", words, explained, bad);
    CHECK(words > 50000);
    CHECK_EQ_INT(bad, 0);
}

TEST_MAIN(TEST(test_porter_table), TEST(test_porter_departures), TEST(test_porter_non_ascii),
          TEST(test_porter_random_words_stay_valid), TEST(test_porter_matches_snowball_dictionary))
