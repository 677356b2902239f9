/* test_dirlock.c — one writer per directory: a second taker is refused with
 * the holder's pid and host, a lock whose holder died (SIGKILL) is taken
 * over, probing tells live from gone, and the same with the no-flock
 * fallback (MNEMO_DIRLOCK_NOFLOCK=1). */
#include "test.h"
#include "util/dirlock.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/mnemo_test_dirlock_XXXXXX";

/* A child that takes the lock, tells the parent, then waits to be killed. */
static pid_t child_holding(void)
{
    int p[2];
    if (pipe(p))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        dirlock *l;
        mn_err e = {0};
        char c = dirlock_take(dir, ".lock", "run", &l, &e) ? 'n' : 'y';
        if (write(p[1], &c, 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    close(p[1]);
    char c = 0;
    if (read(p[0], &c, 1) != 1 || c != 'y')
        pid = -1;
    close(p[0]);
    return pid;
}

static void check_cycle(void)
{
    char holder[DIRLOCK_HOLDER_MAX], want[64];
    mn_err e = {0};
    dirlock *l = NULL;
    CHECK_EQ_INT(dirlock_probe(dir, ".lock", holder, sizeof holder, &e), 0);
    pid_t child = child_holding();
    CHECK(child > 0);
    CHECK_EQ_INT(dirlock_probe(dir, ".lock", holder, sizeof holder, &e), 1);
    snprintf(want, sizeof want, "pid=%ld ", (long)child);
    CHECK(strstr(holder, want) && strstr(holder, "what=run"));
    CHECK_EQ_INT(dirlock_take(dir, ".lock", "eval", &l, &e), MN_EBUSY);
    snprintf(want, sizeof want, "held by mnemo run, pid %ld on host ", (long)child);
    CHECK(strstr(e.msg, want) != NULL);
    CHECK(l == NULL);
    kill(child, SIGKILL); /* the holder dies without releasing */
    waitpid(child, NULL, 0);
    CHECK_EQ_INT(dirlock_probe(dir, ".lock", holder, sizeof holder, &e), 0);
    CHECK_EQ_INT(dirlock_take(dir, ".lock", "eval", &l, &e), 0);
    CHECK_EQ_INT(dirlock_probe(dir, ".lock", holder, sizeof holder, &e), 1);
    CHECK(strstr(holder, "what=eval") != NULL);
    dirlock_release(l);
    CHECK_EQ_INT(dirlock_probe(dir, ".lock", holder, sizeof holder, &e), 0);
}

static void test_dirlock_flock(void)
{
    unsetenv("MNEMO_DIRLOCK_NOFLOCK");
    check_cycle();
}

static void test_dirlock_fallback_without_flock(void)
{
    setenv("MNEMO_DIRLOCK_NOFLOCK", "1", 1);
    check_cycle();
    unsetenv("MNEMO_DIRLOCK_NOFLOCK");
}

static void test_dirlock_missing_dir(void)
{
    dirlock *l = NULL;
    mn_err e = {0};
    CHECK_EQ_INT(dirlock_take("/nonexistent/mnemo", ".lock", "run", &l, &e), MN_EIO);
    CHECK(strstr(e.msg, "/nonexistent/mnemo/.lock: cannot create") == e.msg);
}

static void test_dirlock_all(void)
{
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    test_dirlock_flock();
    test_dirlock_fallback_without_flock();
    test_dirlock_missing_dir();
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TEST_MAIN(TEST(test_dirlock_all))
