/* test_path.c — util/path.h: joined paths, and a path that does not fit a
 * buffer is an error naming it (never a shorter name that opens another
 * file). */
#include "util/path.h"

#include "../test.h"

static void test_path_join_adds_one_slash(void)
{
    char *a = path_join("db/shard-000", "embeddings.f32"), *b = path_join("db/", "x"), *c = path_join("", "x");
    CHECK(!strcmp(a, "db/shard-000/embeddings.f32"));
    CHECK(!strcmp(b, "db/x"));
    CHECK(!strcmp(c, "x"));
    free(a);
    free(b);
    free(c);
}

static void test_path_format_refuses_to_cut(void)
{
    char buf[16];
    mn_err err = {0};
    CHECK(path_format(buf, sizeof buf, &err, "%s/%s", "models", "x.json") == 0);
    CHECK(!strcmp(buf, "models/x.json"));
    /* 16 bytes would fit "models/tokenize": another file; it must fail */
    CHECK(path_format(buf, sizeof buf, &err, "%s/%s", "models", "tokenizer.json") == MN_EIO);
    CHECK(buf[0] == '\0');
    CHECK_STR_CONTAINS(err.msg, "path too long: 21 bytes, at most 15");
    CHECK_STR_CONTAINS(err.msg, "models/tokenize");
}

TEST_MAIN(TEST(test_path_join_adds_one_slash), TEST(test_path_format_refuses_to_cut))
