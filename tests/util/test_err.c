/* test_err.c — the error convention and the atomic output file. */
#include "test.h"
#include "util/err.h"
#include "util/outfile.h"

#include <unistd.h>

static void test_err_message_is_one_line(void)
{
    mn_err e = {0};
    int rc = mn_errf(&e, MN_EFORMAT, "%s: line %d:\nbad", "f.json", 3);
    CHECK_EQ_INT(rc, MN_EFORMAT);
    CHECK(strcmp(e.msg, "f.json: line 3: bad") == 0);
    CHECK_EQ_INT(mn_exit_code(MN_EFORMAT), 1);
    CHECK_EQ_INT(mn_exit_code(MN_EUSAGE), 2);
}

static void test_err_prefix_keeps_code(void)
{
    mn_err e = {0};
    mn_errf(&e, MN_ERANGE, "id 9 >= vocab 4");
    CHECK_EQ_INT(mn_err_prefix(&e, "--ids: "), MN_ERANGE);
    CHECK(strcmp(e.msg, "--ids: id 9 >= vocab 4") == 0);
}

static void test_outfile_abort_leaves_nothing(void)
{
    char path[] = "/tmp/mnemo_test_outfile_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    outfile o;
    mn_err e = {0};
    CHECK(outfile_open(&o, path, &e) == 0);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s", o.tmp);
    CHECK(outfile_write(&o, "abc", 3, &e) == 0);
    outfile_abort(&o);
    CHECK(access(path, F_OK) != 0);
    CHECK(access(tmp, F_OK) != 0);
    CHECK(outfile_open(&o, path, &e) == 0);
    CHECK(outfile_write(&o, "abc", 3, &e) == 0);
    CHECK(outfile_commit(&o, &e) == 0);
    CHECK(access(path, F_OK) == 0);
    unlink(path);
}

TEST_MAIN(TEST(test_err_message_is_one_line), TEST(test_err_prefix_keeps_code),
          TEST(test_outfile_abort_leaves_nothing))
