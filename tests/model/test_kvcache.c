/* test_kvcache.c — slot bookkeeping of the KV cache: lengths, layout,
 * forking a prefix, and the size error. */
#include "test.h"

#include "model/kvcache.h"

/* Fill slot's first len positions of every layer with a recognisable value. */
static void fill(kvcache *kv, int slot, int L, int len, int kv_dim)
{
    for (int l = 0; l < L; l++)
        for (int p = 0; p < len; p++)
            for (int j = 0; j < kv_dim; j++) {
                kvcache_k(kv, slot, l)[p * kv_dim + j] = (float)(slot * 1000000 + l * 10000 + p * 100 + j);
                kvcache_v(kv, slot, l)[p * kv_dim + j] = -(float)(slot * 1000000 + l * 10000 + p * 100 + j);
            }
    kvcache_set_len(kv, slot, len);
}

static void test_kvcache_starts_empty_and_tracks_lengths(void)
{
    kvcache *kv;
    mn_err err = {0};
    CHECK(kvcache_create(3, 8, 4, 16, &kv, &err) == 0);
    CHECK_EQ_INT(kvcache_n_slots(kv), 4);
    CHECK_EQ_INT(kvcache_max_len(kv), 16);
    CHECK_EQ_INT(kvcache_bytes(kv), 2 * 4 * 3 * 16 * 8 * sizeof(float));
    for (int s = 0; s < 4; s++)
        CHECK_EQ_INT(kvcache_len(kv, s), 0);
    kvcache_set_len(kv, 2, 9);
    CHECK_EQ_INT(kvcache_len(kv, 2), 9);
    CHECK_EQ_INT(kvcache_len(kv, 1), 0);
    kvcache_set_len(kv, 2, 0);
    CHECK_EQ_INT(kvcache_len(kv, 2), 0);
    kvcache_free(kv);
}

/* Slots and layers do not overlap: [n_slots, L, max_len, kv_dim]. */
static void test_kvcache_slots_and_layers_are_disjoint(void)
{
    kvcache *kv;
    mn_err err = {0};
    CHECK(kvcache_create(2, 4, 3, 5, &kv, &err) == 0);
    for (int s = 0; s < 3; s++)
        fill(kv, s, 2, 5, 4);
    for (int s = 0; s < 3; s++)
        for (int l = 0; l < 2; l++) {
            CHECK(kvcache_k(kv, s, l)[4 * 4 + 3] == (float)(s * 1000000 + l * 10000 + 403));
            CHECK(kvcache_v(kv, s, l)[0] == -(float)(s * 1000000 + l * 10000));
            CHECK(kvcache_k(kv, s, l) - kvcache_k(kv, 0, 0) == (long)(s * 2 + l) * 5 * 4);
        }
    kvcache_free(kv);
}

/* seq_copy forks exactly the cached prefix of every layer and its length;
 * positions past it in dst are left alone, src is unchanged. */
static void test_kvcache_seq_copy_forks_prefix(void)
{
    kvcache *kv;
    mn_err err = {0};
    int L = 3, D = 6;
    CHECK(kvcache_create(L, D, 3, 10, &kv, &err) == 0);
    fill(kv, 0, L, 7, D);
    fill(kv, 2, L, 10, D);
    kvcache_set_len(kv, 0, 4);
    kvcache_seq_copy(kv, 0, 2);
    CHECK_EQ_INT(kvcache_len(kv, 2), 4);
    CHECK_EQ_INT(kvcache_len(kv, 0), 4);
    for (int l = 0; l < L; l++) {
        for (int i = 0; i < 4 * D; i++) {
            CHECK(kvcache_k(kv, 2, l)[i] == kvcache_k(kv, 0, l)[i]);
            CHECK(kvcache_v(kv, 2, l)[i] == kvcache_v(kv, 0, l)[i]);
        }
        CHECK(kvcache_k(kv, 2, l)[4 * D] == (float)(2 * 1000000 + l * 10000 + 400));
    }
    kvcache_seq_copy(kv, 1, 1); /* self-copy is a no-op */
    CHECK_EQ_INT(kvcache_len(kv, 1), 0);
    kvcache_free(kv);
}

static void test_kvcache_rejects_bad_and_huge_sizes(void)
{
    kvcache *kv = NULL;
    mn_err err = {0};
    CHECK_EQ_INT(kvcache_create(0, 8, 1, 16, &kv, &err), MN_ERANGE);
    CHECK_EQ_INT(kvcache_create(2, 8, 1, -1, &kv, &err), MN_ERANGE);
    /* 2 x 4 bytes x 1000 x 1000 x 2^20 x 2^20: far more than any machine */
    CHECK_EQ_INT(kvcache_create(1000, 1 << 20, 1000, 1 << 20, &kv, &err), MN_ENOMEM);
    CHECK_STR_CONTAINS(err.msg, "KV cache: needs ");
    CHECK_STR_CONTAINS(err.msg, "GiB (1000 slots x 1000 layers x 1048576 positions x 1048576 floats x 2)");
    CHECK(kv == NULL);
}

TEST_MAIN(TEST(test_kvcache_starts_empty_and_tracks_lengths),
          TEST(test_kvcache_slots_and_layers_are_disjoint), TEST(test_kvcache_seq_copy_forks_prefix),
          TEST(test_kvcache_rejects_bad_and_huge_sizes))
