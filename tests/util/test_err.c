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

/* Names from untrusted files reach messages: control characters and broken
 * UTF-8 are escaped, printable UTF-8 is kept, C1 controls (U+009B is CSI)
 * are escaped even when well-formed. */
static void test_err_escapes_terminal_controls(void)
{
    mn_err e = {0};
    mn_errf(&e, MN_EFORMAT, "%s: member '%s'", "a.tar", "x\x1b[31mred\x07\tz\x7f");
    CHECK(strcmp(e.msg, "a.tar: member 'x\\x1b[31mred\\x07 z\\x7f'") == 0);
    mn_errf(&e, MN_EFORMAT, "caf\xc3\xa9 \xe2\x80\x94 \xc2\x9b" "2J \xff\xc3");
    CHECK(strcmp(e.msg, "caf\xc3\xa9 \xe2\x80\x94 \\xc2\\x9b2J \\xff\\xc3") == 0);
    mn_errf(&e, MN_EIO, "ok");
    CHECK_EQ_INT(mn_err_prefix(&e, "\x1b]0;title\x07: "), MN_EIO);
    CHECK(strcmp(e.msg, "\\x1b]0;title\\x07: ok") == 0);
    char big[2 * MN_ERR_MSG_MAX];
    memset(big, 0x1b, sizeof big - 1);
    big[sizeof big - 1] = 0;
    mn_errf(&e, MN_EFORMAT, "%s", big); /* every byte grows to 4: cut, never overflowed */
    CHECK(strlen(e.msg) < MN_ERR_MSG_MAX && strlen(e.msg) % 4 == 0 && !strncmp(e.msg, "\\x1b", 4));
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

TEST_MAIN(TEST(test_err_message_is_one_line), TEST(test_err_escapes_terminal_controls), TEST(test_err_prefix_keeps_code),
          TEST(test_outfile_abort_leaves_nothing))
