/* test_filehash.c — cached SHA-256 of files (util/filehash.h): the FIPS
 * 180-4 values, the cache beside the file and in the fallback folder, what
 * invalidates an entry (new bytes with the old size and mtime, a rename
 * over the file), an unwritable cache, several files at once, errors. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "util/filehash.h"

static char dir[64];

static const char *in_dir(const char *name)
{
    static char buf[4][PATH_MAX];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", dir, name);
    return b;
}

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABD "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9"

static void test_filehash_values_and_cache_beside(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "filehash"));
    const char *p[2] = {in_dir("abc"), in_dir("empty")};
    test_write_file(p[0], "abc");
    test_write_file(p[1], "");
    char hex[2][65];
    filehash_stats st = {0};
    mn_err err = {0};
    CHECK(filehash_sha256(p, 2, 1, NULL, hex, &st, &err) == 0);
    CHECK(!strcmp(hex[0], SHA_ABC) && !strcmp(hex[1], SHA_EMPTY));
    CHECK_EQ_INT(st.hashed_files, 2);
    CHECK_EQ_INT(st.hashed_bytes, 3);
    CHECK(access(in_dir(FILEHASH_CACHE_NAME), F_OK) == 0);
    memset(hex, 0, sizeof hex);
    memset(&st, 0, sizeof st);
    CHECK(filehash_sha256(p, 2, 1, NULL, hex, &st, &err) == 0);
    CHECK(!strcmp(hex[0], SHA_ABC) && !strcmp(hex[1], SHA_EMPTY));
    CHECK_EQ_INT(st.hashed_files, 0);
    CHECK_EQ_INT(st.cached_files, 2);
    CHECK_EQ_INT(st.cached_bytes, 3);
    test_rmdir(dir);
}

/* Same size, the mtime put back: ctime still changes, so the entry misses;
 * a rename over the file changes the inode. */
static void test_filehash_changed_file_misses(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "filehash"));
    const char *p = in_dir("f");
    char hex[1][65];
    filehash_stats st = {0};
    mn_err err = {0};
    test_write_file(p, "abc");
    CHECK(filehash_sha256(&p, 1, 1, NULL, hex, NULL, &err) == 0 && !strcmp(hex[0], SHA_ABC));
    struct stat before;
    CHECK(stat(p, &before) == 0);
    usleep(20000); /* a later ctime, whatever the file system's granularity */
    test_write_file(p, "abd");
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    CHECK(utimensat(AT_FDCWD, p, times, 0) == 0);
    CHECK(filehash_sha256(&p, 1, 1, NULL, hex, &st, &err) == 0);
    CHECK_MSG(!strcmp(hex[0], SHA_ABD), "stale hash %s", hex[0]);
    CHECK_EQ_INT(st.hashed_files, 1);
    const char *q = in_dir("g");
    test_write_file(q, "abc");
    CHECK(utimensat(AT_FDCWD, q, times, 0) == 0);
    CHECK(rename(q, p) == 0);
    CHECK(filehash_sha256(&p, 1, 1, NULL, hex, &st, &err) == 0 && !strcmp(hex[0], SHA_ABC));
    CHECK_EQ_INT(st.hashed_files, 2);
    test_rmdir(dir);
}

/* beside == 0: the fallback folder's cache, keyed by realpath; a folder
 * whose cache cannot be written (here: a directory in its place) falls
 * back too. */
static void test_filehash_fallback_cache(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "filehash"));
    char out[PATH_MAX], sub[PATH_MAX], real[PATH_MAX];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(sub, sizeof sub, "%s/ro", dir);
    CHECK(mkdir(out, 0777) == 0 && mkdir(sub, 0777) == 0);
    const char *p = in_dir("abc");
    test_write_file(p, "abc");
    char hex[1][65], blocker[PATH_MAX + 32];
    filehash_stats st = {0};
    mn_err err = {0};
    CHECK(filehash_sha256(&p, 1, 0, out, hex, &st, &err) == 0);
    CHECK(access(in_dir(FILEHASH_CACHE_NAME), F_OK) != 0);
    CHECK(filehash_sha256(&p, 1, 0, out, hex, &st, &err) == 0 && !strcmp(hex[0], SHA_ABC));
    CHECK_EQ_INT(st.hashed_files, 1);
    CHECK_EQ_INT(st.cached_files, 1);
    char *text = NULL;
    snprintf(blocker, sizeof blocker, "%s/%s", out, FILEHASH_CACHE_NAME);
    FILE *f = fopen(blocker, "r");
    CHECK(f != NULL);
    text = calloc(1, 4096);
    size_t got = fread(text, 1, 4095, f);
    fclose(f);
    CHECK(realpath(p, real) != NULL);
    CHECK_MSG(got > 0 && strstr(text, real), "%s", text);
    free(text);
    /* an unwritable cache beside: the entry goes to the fallback */
    char q[PATH_MAX + 8];
    snprintf(q, sizeof q, "%s/x", sub);
    test_write_file(q, "abc");
    snprintf(blocker, sizeof blocker, "%s/%s", sub, FILEHASH_CACHE_NAME);
    CHECK(mkdir(blocker, 0777) == 0);
    const char *qp = q;
    memset(&st, 0, sizeof st);
    CHECK(filehash_sha256(&qp, 1, 1, out, hex, &st, &err) == 0 && !strcmp(hex[0], SHA_ABC));
    CHECK(filehash_sha256(&qp, 1, 1, out, hex, &st, &err) == 0);
    CHECK_EQ_INT(st.hashed_files, 1);
    CHECK_EQ_INT(st.cached_files, 1);
    test_rmdir(dir);
}

/* Several files hashed together equal each hashed alone; a missing one is
 * named. */
static void test_filehash_many_and_errors(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "filehash"));
    const char *names[5] = {"a", "b", "c", "d", "e"};
    const char *p[5];
    char hex[5][65], one[1][65];
    mn_err err = {0};
    for (int i = 0; i < 5; i++) {
        char text[64];
        snprintf(text, sizeof text, "file %d %s", i, i % 2 ? "odd" : "even");
        p[i] = strdup(in_dir(names[i]));
        test_write_file(p[i], text);
    }
    CHECK(filehash_sha256(p, 5, 0, NULL, hex, NULL, &err) == 0);
    for (int i = 0; i < 5; i++) {
        CHECK(filehash_sha256(&p[i], 1, 0, NULL, one, NULL, &err) == 0);
        CHECK(!strcmp(one[0], hex[i]));
    }
    const char *missing = in_dir("nope");
    CHECK_EQ_INT(filehash_sha256(&missing, 1, 1, NULL, one, NULL, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "nope: does not exist");
    const char *d = dir;
    CHECK_EQ_INT(filehash_sha256(&d, 1, 1, NULL, one, NULL, &err), MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "not a regular file");
    for (int i = 0; i < 5; i++)
        free((char *)p[i]);
    test_rmdir(dir);
}

/* A malformed cache is ignored (and replaced), never trusted. */
static void test_filehash_bad_cache_ignored(void)
{
    CHECK(test_tmpdir(dir, sizeof dir, "filehash"));
    const char *p = in_dir("abc");
    test_write_file(p, "abc");
    test_write_file(in_dir(FILEHASH_CACHE_NAME),
               "{\"version\": 1, \"files\": {\"abc\": {\"size\": 3, \"sha256\": \"00\"}}}");
    char hex[1][65];
    filehash_stats st = {0};
    mn_err err = {0};
    CHECK(filehash_sha256(&p, 1, 1, NULL, hex, &st, &err) == 0 && !strcmp(hex[0], SHA_ABC));
    CHECK_EQ_INT(st.hashed_files, 1);
    test_write_file(in_dir(FILEHASH_CACHE_NAME), "not json");
    CHECK(filehash_sha256(&p, 1, 1, NULL, hex, &st, &err) == 0 && !strcmp(hex[0], SHA_ABC));
    CHECK_EQ_INT(st.hashed_files, 2);
    CHECK(filehash_sha256(&p, 1, 1, NULL, hex, &st, &err) == 0);
    CHECK_EQ_INT(st.cached_files, 1);
    test_rmdir(dir);
}

TEST_MAIN(TEST(test_filehash_values_and_cache_beside), TEST(test_filehash_changed_file_misses),
          TEST(test_filehash_fallback_cache), TEST(test_filehash_many_and_errors), TEST(test_filehash_bad_cache_ignored))
