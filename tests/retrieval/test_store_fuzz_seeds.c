/* test_store_fuzz_seeds.c — replays every input of fuzz/corpus/store/
 * (real shards, and damaged ones that crashed mnemo or the fuzzer before)
 * through the libFuzzer target's own function, so the normal test run (and
 * its sanitizer build) keeps them fixed. */
#include <dirent.h>

#include "../fuzz/fuzz_store.c" /* LLVMFuzzerTestOneInput */
#include "test.h"

static void test_store_fuzz_seeds_replay(void)
{
    const char *dir = fixture_path("fuzz/corpus/store");
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "%s: cannot open", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len); /* aborts or faults on a regression */
        n++;
    }
    closedir(d);
    CHECK_MSG(n >= 3, "only %d inputs in %s", n, dir);
}

TEST_MAIN(TEST(test_store_fuzz_seeds_replay))
