/* test.h — a tiny test harness: CHECK macros and a table of named tests.
 *
 *   static void test_bm25_unseen_term_scores_zero(void) { CHECK(...); }
 *   TEST_MAIN(TEST(test_bm25_unseen_term_scores_zero), ...)
 *
 * A failed CHECK prints file:line and the expression, marks the test failed
 * and returns from it.  The program prints "N passed, M failed" and exits
 * non-zero when any test failed.  Fixture paths are relative to
 * MNEMO_SOURCE_DIR (set by CMake), see fixture_path(). */
#ifndef MNEMO_TESTS_TEST_H
#define MNEMO_TESTS_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TEST_UNDER_ASAN: 1 in an AddressSanitizer build, whose shadow memory needs
 * an unlimited address space and whose allocator copies on realloc and
 * quarantines freed blocks (so RLIMIT_AS and resident memory tell nothing). */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif
#ifndef TEST_UNDER_ASAN
#define TEST_UNDER_ASAN 0
#endif

static int test_failed_;

#define CHECK(expr)                                                              \
    do {                                                                         \
        if (!(expr)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
            test_failed_ = 1;                                                    \
            return;                                                              \
        }                                                                        \
    } while (0)

#define CHECK_MSG(expr, ...)                                                     \
    do {                                                                         \
        if (!(expr)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #expr); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            test_failed_ = 1;                                                    \
            return;                                                              \
        }                                                                        \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                       \
    CHECK_MSG((long long)(a) == (long long)(b), "%lld != %lld", (long long)(a), (long long)(b))

#define CHECK_STR_CONTAINS(hay, needle)                                          \
    CHECK_MSG(strstr((hay), (needle)) != NULL, "'%s' does not contain '%s'", (hay), (needle))

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

#define TEST(fn) {#fn, fn}

#define TEST_MAIN(...)                                                           \
    int main(int argc, char **argv)                                              \
    {                                                                            \
        static const test_case cases[] = {__VA_ARGS__};                          \
        int n = (int)(sizeof cases / sizeof cases[0]), passed = 0, failed = 0;   \
        for (int i = 0; i < n; i++) {                                            \
            if (argc > 1 && !strstr(cases[i].name, argv[1]))                     \
                continue;                                                        \
            test_failed_ = 0;                                                    \
            cases[i].fn();                                                       \
            printf("%s %s\n", test_failed_ ? "FAIL" : "ok  ", cases[i].name);    \
            if (test_failed_) failed++; else passed++;                           \
        }                                                                        \
        printf("%d passed, %d failed\n", passed, failed);                        \
        return failed ? 1 : 0;                                                   \
    }

/* Path of a file under the source tree: fixture_path("tests/fixtures/x"). */
static inline const char *fixture_path(const char *rel)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    const char *root = getenv("MNEMO_SOURCE_DIR");
    snprintf(b, 4096, "%s/%s", root ? root : ".", rel);
    return b;
}

/* A fresh folder /tmp/mnemo-TAG-XXXXXX, its name in buf[cap]; 0 on failure. */
static inline int test_tmpdir(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "/tmp/mnemo-%s-XXXXXX", tag);
    return mkdtemp(buf) != NULL;
}

/* Write text to path (created or truncated); 0 on failure. */
static inline int test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fputs(text, f) >= 0;
    return f && !fclose(f) && ok;
}

/* rm -rf dir (a folder from test_tmpdir). */
static inline void test_rmdir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) { /* a leftover temp folder fails no test */
    }
}

#endif
