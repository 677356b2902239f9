/* test_faultguard.c — util/faultguard.c: a fault in a watched map or
 * inside a marked call becomes one line and exit status 1; any other fault
 * still kills the process with a signal.  Each case runs in a child
 * process (the guard exits it), with stderr captured through a pipe. */
#include "util/faultguard.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "retrieval/corpus_build.h" /* cb_path */
#include "test.h"

typedef struct child {
    int status;
    char err[2048];
} child;

/* Run fn in a child process with the guard installed; collect its exit
 * status and stderr. */
static child run_child(void (*fn)(const char *path), const char *path)
{
    child c = {0};
    int fds[2];
    if (pipe(fds))
        abort();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        if (faultguard_install())
            _exit(99);
        fn(path);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    while ((got = read(fds[0], c.err + n, sizeof c.err - 1 - n)) > 0)
        n += (size_t)got;
    c.err[n] = 0;
    close(fds[0]);
    waitpid(pid, &c.status, 0);
    return c;
}

/* A map of 3 pages of a file truncated to 1 page: reading page 2 is
 * SIGBUS. */
static volatile uint8_t *truncated_map(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, 3 * 4096))
        abort();
    void *map = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED || ftruncate(fd, 4096))
        abort();
    close(fd);
    return map;
}

static void read_watched_past_eof(const char *path)
{
    volatile uint8_t *map = truncated_map(path);
    faultguard_watch((const void *)map, 3 * 4096, path);
    printf("%d", map[2 * 4096 + 5]);
}

static void read_marked_past_eof(const char *path)
{
    volatile uint8_t *map = truncated_map(path);
    const char *prev = faultguard_enter(path);
    printf("%d", map[2 * 4096 + 5]);
    faultguard_leave(prev);
}

static void read_unmarked_past_eof(const char *path)
{
    volatile uint8_t *map = truncated_map(path);
    int h = faultguard_watch((const void *)map, 3 * 4096, path);
    faultguard_unwatch(h); /* no longer watched: a fault here is a bug */
    const char *prev = faultguard_enter(path);
    faultguard_leave(prev); /* the mark is gone too */
    printf("%d", map[2 * 4096 + 5]);
}

static volatile uintptr_t bad_address = 16; /* volatile: the compiler cannot see the fault coming */

static void null_write_outside(const char *path)
{
    (void)path;
    volatile int *p = (volatile int *)bad_address;
    *p = 1;
}

static void test_faultguard_watched_map_past_eof_is_one_line(void)
{
    child c = run_child(read_watched_past_eof, cb_path("w.mdb"));
    CHECK_MSG(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 1, "status 0x%x, stderr: %s", c.status, c.err);
    CHECK_STR_CONTAINS(c.err, "mnemo: ");
    CHECK_STR_CONTAINS(c.err, "w.mdb: damaged LMDB file: reading byte 8197 faulted (SIGBUS");
    CHECK_STR_CONTAINS(c.err, "mnemo stats --deep");
    CHECK_MSG(strchr(c.err, '\n') == c.err + strlen(c.err) - 1, "not one line: %s", c.err);
}

static void test_faultguard_marked_call_is_one_line(void)
{
    child c = run_child(read_marked_past_eof, cb_path("m.mdb"));
    CHECK_MSG(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 1, "status 0x%x, stderr: %s", c.status, c.err);
    CHECK_STR_CONTAINS(c.err, "m.mdb: damaged LMDB file: a read at address 0x");
}

static void test_faultguard_other_faults_still_crash(void)
{
    child c = run_child(read_unmarked_past_eof, cb_path("u.mdb"));
    CHECK_MSG(WIFSIGNALED(c.status), "status 0x%x, stderr: %s", c.status, c.err);
    CHECK(!strstr(c.err, "damaged"));
    c = run_child(null_write_outside, NULL);
    /* SIGSEGV, or SIGABRT from a sanitizer's handler the guard chained to */
    CHECK_MSG(WIFSIGNALED(c.status), "status 0x%x, stderr: %s", c.status, c.err);
    CHECK(!strstr(c.err, "damaged"));
}

static void test_faultguard_marks_nest(void)
{
    const char *a = faultguard_enter("a");
    const char *b = faultguard_enter("b");
    CHECK(b && !strcmp(b, "a"));
    faultguard_leave(b);
    CHECK(!strcmp(faultguard_enter("c"), "a"));
    faultguard_leave("a");
    faultguard_leave(a);
    CHECK(faultguard_enter(NULL) == NULL);
}

TEST_MAIN(TEST(test_faultguard_watched_map_past_eof_is_one_line), TEST(test_faultguard_marked_call_is_one_line),
          TEST(test_faultguard_other_faults_still_crash), TEST(test_faultguard_marks_nest))
