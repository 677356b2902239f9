/* test_postings.c — the postings codec: exact bytes of a small list, round
 * trips of random lists (small and huge gaps, tf up to 2^32-1) through
 * encode / decode / iterator / writer, encoder input checks, a table of
 * corrupt lists with the byte offset each must report, and random byte
 * mutations (never a crash; what decodes re-encodes to the same bytes). */
#include <stdint.h>

#include "retrieval/postings.h"
#include "test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void test_postings_exact_bytes(void)
{
    const posting p[] = {{0, 1}, {1, 1}, {5, 3}, {300, 1}};
    const uint8_t want[] = {0x04, 0x01, 0x01, 0x06, 0x01, 0xCD, 0x04};
    uint8_t out[64];
    size_t n;
    mn_err err = {0};
    CHECK(postings_encode(p, 4, out, sizeof out, &n, &err) == 0);
    CHECK_EQ_INT(n, sizeof want);
    CHECK(!memcmp(out, want, n));
    /* the empty list is one byte */
    CHECK(postings_encode(p, 0, out, sizeof out, &n, &err) == 0);
    CHECK(n == 1 && out[0] == 0);
    postings_iter it;
    CHECK(postings_iter_init(&it, out, n, NULL, &err) == 0);
    CHECK_EQ_INT(it.count, 0);
    CHECK_EQ_INT(postings_iter_next(&it, &err), 0);
    CHECK_EQ_INT(postings_iter_next(&it, &err), 0);
}

/* A random list: gap and tf distributions picked per list. */
static size_t random_list(posting *p, size_t max)
{
    size_t n = (size_t)(rng() % (max + 1)), k = 0;
    int gap_kind = (int)(rng() % 4), tf_kind = (int)(rng() % 4);
    uint64_t doc = 0;
    for (; k < n; k++) {
        uint64_t gap;
        switch (gap_kind) {
        case 0: gap = rng() % 3; break;               /* dense */
        case 1: gap = rng() % 1000; break;
        case 2: gap = rng() >> (rng() % 64); break;  /* any magnitude */
        default: gap = (rng() >> 1) / (n + 1); break; /* huge, still fits */
        }
        if (k == 0)
            doc = gap >> 2;
        else if (gap > POSTINGS_DOC_MAX - doc - 1)
            break; /* stop below the doc id limit */
        else
            doc += 1 + gap;
        uint32_t tf;
        switch (tf_kind) {
        case 0: tf = 1; break;
        case 1: tf = 1 + (uint32_t)(rng() % 5); break;
        case 2: tf = (uint32_t)(rng() % 2 ? 2147483647u : 1 + rng() % 2147483647u); break;
        default: tf = (uint32_t)(1 + rng() % UINT32_MAX); break; /* up to 2^32-1 */
        }
        p[k] = (posting){doc, tf};
    }
    return k;
}

static void test_postings_round_trip_random(void)
{
    enum { MAX = 3000 };
    posting *p = malloc(MAX * sizeof *p), *q = malloc(MAX * sizeof *q);
    uint8_t *buf = malloc(postings_bound(MAX));
    postings_writer w = {0};
    mn_err err = {0};
    size_t total_postings = 0, total_bytes = 0;
    for (int iter = 0; iter < 400; iter++) {
        size_t n = random_list(p, iter % 10 == 0 ? MAX : 50), len, m;
        CHECK_MSG(postings_encode(p, n, buf, postings_bound(n), &len, &err) == 0, "%s", err.msg);
        CHECK(postings_decode(buf, len, "t", q, MAX, &m, &err) == 0);
        CHECK_EQ_INT(m, n);
        for (size_t i = 0; i < n; i++)
            CHECK_MSG(p[i].doc == q[i].doc && p[i].tf == q[i].tf, "list %d posting %zu: (%llu,%u) != (%llu,%u)",
                      iter, i, (unsigned long long)q[i].doc, q[i].tf, (unsigned long long)p[i].doc, p[i].tf);
        /* iterator */
        postings_iter it;
        CHECK(postings_iter_init(&it, buf, len, "t", &err) == 0);
        CHECK_EQ_INT(it.count, n);
        for (size_t i = 0; i < n; i++) {
            CHECK(postings_iter_next(&it, &err) == 1);
            CHECK(it.doc == p[i].doc && it.tf == p[i].tf);
        }
        CHECK_EQ_INT(postings_iter_next(&it, &err), 0);
        /* writer, in two halves (the second through add_encoded) */
        size_t half = n / 2, hl, wl;
        uint8_t *hb = malloc(postings_bound(n));
        postings_writer_reset(&w);
        for (size_t i = 0; i < half; i++)
            CHECK(postings_writer_add(&w, p[i].doc, p[i].tf, &err) == 0);
        CHECK(postings_encode(p + half, n - half, hb, postings_bound(n), &hl, &err) == 0);
        int rc = postings_writer_add_encoded(&w, hb, hl, "half", &err);
        free(hb);
        CHECK_MSG(rc == 0, "%s", err.msg);
        const uint8_t *wb = postings_writer_finish(&w, &wl);
        CHECK_EQ_INT(wl, len);
        CHECK(!memcmp(wb, buf, len));
        total_postings += n;
        total_bytes += len;
    }
    printf("  %zu postings in %zu bytes\n", total_postings, total_bytes);
    postings_writer_free(&w);
    free(p);
    free(q);
    free(buf);
}

static void test_postings_limits(void)
{
    posting p[] = {{POSTINGS_DOC_MAX - 1, UINT32_MAX}, {POSTINGS_DOC_MAX, 2147483647u}};
    uint8_t buf[64];
    size_t len;
    mn_err err = {0};
    postings_iter it;
    CHECK(postings_encode(p, 2, buf, sizeof buf, &len, &err) == 0);
    CHECK(postings_iter_init(&it, buf, len, NULL, &err) == 0);
    CHECK(postings_iter_next(&it, &err) == 1 && it.doc == POSTINGS_DOC_MAX - 1 && it.tf == UINT32_MAX);
    CHECK(postings_iter_next(&it, &err) == 1 && it.doc == POSTINGS_DOC_MAX && it.tf == 2147483647u);
    CHECK(postings_iter_next(&it, &err) == 0);
    /* single posting at the top id */
    CHECK(postings_encode(p + 1, 1, buf, sizeof buf, &len, &err) == 0);
    CHECK(postings_iter_init(&it, buf, len, NULL, &err) == 0);
    CHECK(postings_iter_next(&it, &err) == 1 && it.doc == POSTINGS_DOC_MAX);
}

static void test_postings_encode_rejects_bad_input(void)
{
    static const struct {
        posting p[2];
        size_t n;
        const char *why;
    } cases[] = {
        {{{5, 1}, {5, 1}}, 2, "not strictly increasing"},
        {{{5, 1}, {4, 1}}, 2, "not strictly increasing"},
        {{{5, 0}}, 1, "term frequency 0"},
        {{{1, 1}, {POSTINGS_DOC_MAX + 1, 1}}, 2, "above 2^63-1"},
    };
    uint8_t buf[64];
    size_t len;
    mn_err err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(postings_encode(cases[i].p, cases[i].n, buf, sizeof buf, &len, &err) == MN_ERANGE);
        CHECK_STR_CONTAINS(err.msg, cases[i].why);
    }
    posting ok[] = {{1, 1}, {1000000, 7}};
    CHECK(postings_encode(ok, 2, buf, 3, &len, &err) == MN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "buffer has 3");
    postings_writer w = {0};
    CHECK(postings_writer_add(&w, 10, 1, &err) == 0);
    CHECK(postings_writer_add(&w, 10, 1, &err) == MN_ERANGE);
    CHECK(postings_writer_add(&w, 11, 0, &err) == MN_ERANGE);
    CHECK(postings_writer_add(&w, POSTINGS_DOC_MAX + 1, 1, &err) == MN_ERANGE);
    /* appending a list that starts at or below the last doc */
    CHECK(postings_encode(ok, 2, buf, sizeof buf, &len, &err) == 0);
    CHECK(postings_writer_add_encoded(&w, buf, len, "old", &err) == MN_ERANGE);
    postings_writer_free(&w);
    /* a never-used writer gives the empty list */
    const uint8_t *e = postings_writer_finish(&w, &len);
    CHECK(len == 1 && e[0] == 0);
}

typedef struct bad_case {
    const char *name;
    uint8_t bytes[24];
    size_t len;
    size_t offset; /* expected bad_offset */
    const char *why;
} bad_case;

static void test_postings_corrupt_inputs(void)
{
    static const bad_case cases[] = {
        {"empty buffer", {0}, 0, 0, "count: truncated varint"},
        {"count truncated", {0x80}, 1, 0, "count: truncated varint"},
        {"count overlong", {0x80, 0x00}, 2, 0, "overlong varint"},
        {"count too large", {0x02, 0x01}, 2, 0, "count 2 exceeds"},
        {"count without entries", {0x01}, 1, 0, "count 1 exceeds"},
        {"gap truncated", {0x02, 0x01, 0x80, 0x80}, 4, 2, "posting 1: doc gap: truncated varint"},
        {"gap overlong", {0x01, 0x81, 0x00}, 3, 1, "doc gap: overlong varint"},
        {"gap above 64 bits", {0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}, 11, 1,
         "varint exceeds 64 bits"},
        {"doc id overflow", {0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x01}, 12, 11,
         "doc id overflows"},
        {"tf truncated", {0x02, 0x01, 0x00, 0x80}, 4, 3, "posting 1: term frequency: truncated varint"},
        {"tf overlong", {0x01, 0x00, 0x85, 0x00}, 4, 2, "term frequency: overlong varint"},
        {"tf above 2^32-1", {0x01, 0x00, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F}, 7, 2, "exceeds 2^32-1"},
        {"trailing bytes", {0x01, 0x01, 0x01}, 3, 2, "1 bytes after the last of 1 postings"},
        {"list ends early", {0x02, 0x00, 0x05}, 3, 3, "list ends after 1 of 2 postings"},
    };
    mn_err err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        postings_iter it;
        int rc = postings_iter_init(&it, c->bytes, c->len, "shard 0: term \"x\"", &err);
        if (rc == 0)
            do
                rc = postings_iter_next(&it, &err);
            while (rc == 1);
        CHECK_MSG(rc == MN_EFORMAT, "%s: rc %d", c->name, rc);
        CHECK_MSG(it.bad_offset == c->offset, "%s: offset %zu, expected %zu (%s)", c->name, it.bad_offset,
                  c->offset, err.msg);
        char where[64];
        snprintf(where, sizeof where, "shard 0: term \"x\": byte %zu: ", c->offset);
        CHECK_STR_CONTAINS(err.msg, where);
        CHECK_STR_CONTAINS(err.msg, c->why);
        /* sticky: the next call fails the same way */
        CHECK(postings_iter_next(&it, &err) == MN_EFORMAT);
        posting out[4];
        size_t n;
        CHECK(postings_decode(c->bytes, c->len, "x", out, 4, &n, &err) == MN_EFORMAT);
    }
    /* the largest tf decodes: tf - 2 = 2^32 - 3 */
    const uint8_t ok[] = {0x01, 0x00, 0xFD, 0xFF, 0xFF, 0xFF, 0x0F};
    postings_iter it;
    CHECK(postings_iter_init(&it, ok, sizeof ok, NULL, &err) == 0);
    CHECK(postings_iter_next(&it, &err) == 1 && it.tf == UINT32_MAX && it.doc == 0);
    /* decode into too small an array */
    posting out[1];
    size_t n;
    const uint8_t two[] = {0x02, 0x01, 0x01};
    CHECK(postings_decode(two, sizeof two, "x", out, 1, &n, &err) == MN_ERANGE);
}

/* Flip, insert and delete bytes of valid lists: every outcome is a clean
 * error within the buffer or a list that re-encodes to the same bytes. */
static void test_postings_mutations_never_crash(void)
{
    posting p[64], q[64];
    uint8_t buf[2048], mut[2048], re[2048];
    mn_err err = {0};
    int decoded = 0, rejected = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = random_list(p, 64), len;
        CHECK(postings_encode(p, n, buf, sizeof buf, &len, &err) == 0);
        memcpy(mut, buf, len);
        size_t pos = (size_t)(rng() % (len + 1));
        switch (rng() % 3) {
        case 0: if (pos < len) mut[pos] ^= (uint8_t)(1 + rng() % 255); break;
        case 1: memmove(mut + pos + 1, mut + pos, len - pos); mut[pos] = (uint8_t)rng(); len++; break;
        default: if (pos < len) { memmove(mut + pos, mut + pos + 1, len - pos - 1); len--; } break;
        }
        size_t m, rl;
        int rc = postings_decode(mut, len, "m", q, 64, &m, &err);
        if (rc == MN_ERANGE)
            continue; /* more than 64 postings: fine */
        if (rc == 0) {
            CHECK(postings_encode(q, m, re, sizeof re, &rl, &err) == 0);
            CHECK_MSG(rl == len && !memcmp(re, mut, len), "iteration %d: decoded list re-encodes differently", iter);
            decoded++;
        } else {
            CHECK(rc == MN_EFORMAT);
            CHECK_STR_CONTAINS(err.msg, "m: byte ");
            rejected++;
        }
    }
    printf("  mutations: %d decoded, %d rejected\n", decoded, rejected);
    CHECK(decoded > 0 && rejected > 0);
}

TEST_MAIN(TEST(test_postings_exact_bytes), TEST(test_postings_round_trip_random), TEST(test_postings_limits),
          TEST(test_postings_encode_rejects_bad_input), TEST(test_postings_corrupt_inputs),
          TEST(test_postings_mutations_never_crash))
