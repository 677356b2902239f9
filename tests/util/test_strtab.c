/* test_strtab.c — distinct strings get dense indexes in insertion order,
 * found again after the table grows (rehashes), any bytes (NUL included,
 * empty string); reset empties it. */
#include "util/strtab.h"

#include <stdio.h>
#include <string.h>

#include "test.h"

static void test_strtab_dense_indexes_survive_growth(void)
{
    strtab t = {0};
    char s[32];
    int added;
    for (int i = 0; i < 5000; i++) { /* several rehashes */
        int n = snprintf(s, sizeof s, "term%d", i);
        CHECK_EQ_INT(strtab_intern(&t, s, (size_t)n, &added), i);
        CHECK(added);
    }
    for (int i = 4999; i >= 0; i--) {
        int n = snprintf(s, sizeof s, "term%d", i);
        CHECK_EQ_INT(strtab_intern(&t, s, (size_t)n, &added), i);
        CHECK(!added);
        size_t len;
        const char *p = strtab_str(&t, (size_t)i, &len);
        CHECK(len == (size_t)n && !memcmp(p, s, len));
    }
    CHECK_EQ_INT(t.n, 5000);
    strtab_free(&t);
}

static void test_strtab_any_bytes(void)
{
    strtab t = {0};
    CHECK_EQ_INT(strtab_intern(&t, "a\0b", 3, NULL), 0);
    CHECK_EQ_INT(strtab_intern(&t, "a", 1, NULL), 1); /* a prefix is another string */
    CHECK_EQ_INT(strtab_intern(&t, "", 0, NULL), 2);
    CHECK_EQ_INT(strtab_intern(&t, "a\0b", 3, NULL), 0);
    CHECK_EQ_INT(strtab_intern(&t, "", 0, NULL), 2);
    strtab_reset(&t);
    CHECK_EQ_INT(t.n, 0);
    int added;
    CHECK_EQ_INT(strtab_intern(&t, "a", 1, &added), 0);
    CHECK(added);
    strtab_free(&t);
}

TEST_MAIN(TEST(test_strtab_dense_indexes_survive_growth), TEST(test_strtab_any_bytes))
