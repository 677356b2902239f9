/* test_outfile.c — util/outfile: failures reported with their real reason
 * (a full disk is MN_ENOSPACE), nothing left behind after a failure, the
 * registry of temporary files, and xmalloc's out-of-memory exit (one line,
 * status 1, the temporary files removed; no signal).
 *
 * Real failures, no injection: the temporary file "PATH.tmp.PID" is made a
 * symlink to /dev/full (every write: ENOSPC) before outfile_open follows
 * it, and RLIMIT_FSIZE makes writes fail with EFBIG.  tests/fault/ fails
 * every write, fsync and rename of the CLI's output paths in turn. */
#include "test.h"
#include "util/err.h"
#include "util/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ASan must hand xmalloc a NULL for an impossible size (as libc does), not
 * report it: the out-of-memory path is what is under test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static char dir[] = "/tmp/mnemo_test_outfile_XXXXXX";

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* path of name in this run's scratch directory (made on first use) */
static const char *in_dir(const char *name)
{
    static char buf[4][256];
    static int next, made;
    if (!made++) {
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(remove_dir);
    }
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* The temporary name outfile_open will use for path in this process. */
static const char *tmp_of(const char *path)
{
    static char buf[300];
    snprintf(buf, sizeof buf, "%s.tmp.%ld", path, (long)getpid());
    return buf;
}

static void test_outfile_full_disk_is_enospace(void)
{
    const char *path = in_dir("full.json");
    CHECK(symlink("/dev/full", tmp_of(path)) == 0);
    outfile o;
    mn_err e = {0};
    int rc = outfile_open(&o, path, &e);
    CHECK_EQ_INT(rc, 0);
    char big[1 << 16];
    memset(big, 'x', sizeof big);
    rc = outfile_write(&o, big, sizeof big, &e); /* past the stdio buffer: written now */
    CHECK_EQ_INT(rc, MN_ENOSPACE);
    CHECK_STR_CONTAINS(e.msg, path);
    CHECK_STR_CONTAINS(e.msg, "write failed: no space left on the device");
    outfile_abort(&o);
    CHECK(!exists(tmp_of(path)) && !exists(path));
}

/* A failure found only at commit (the data sat in the stream's buffer). */
static void test_outfile_full_disk_at_commit(void)
{
    const char *path = in_dir("small.json");
    CHECK(symlink("/dev/full", tmp_of(path)) == 0);
    outfile o;
    mn_err e = {0};
    int rc = outfile_open(&o, path, &e);
    CHECK_EQ_INT(rc, 0);
    rc = outfile_write(&o, "{}\n", 3, &e);
    CHECK_EQ_INT(rc, 0);
    rc = outfile_commit(&o, &e);
    CHECK_EQ_INT(rc, MN_ENOSPACE);
    CHECK_STR_CONTAINS(e.msg, "small.json: write failed: no space left on the device");
    CHECK(!exists(tmp_of(path)) && !exists(path));
    CHECK(o.f == NULL && o.tmp == NULL);
}

/* Any other failure keeps the system's reason (EFBIG: File too large). */
static void test_outfile_other_error_keeps_reason(void)
{
    const char *path = in_dir("big.f32");
    struct rlimit old, lim;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    lim = old;
    lim.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    outfile o;
    mn_err e = {0};
    int rc = outfile_open(&o, path, &e);
    char big[1 << 16];
    memset(big, 'x', sizeof big);
    if (rc == 0)
        rc = outfile_write(&o, big, sizeof big, &e);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK_EQ_INT(rc, MN_EIO);
    CHECK_STR_CONTAINS(e.msg, "big.f32: write failed: File too large");
    outfile_abort(&o);
    CHECK(!exists(tmp_of(path)) && !exists(path));
}

/* A commit replaces the old file; the stream works with stdio calls too. */
static void test_outfile_commit_replaces(void)
{
    const char *path = in_dir("out.txt");
    outfile o;
    mn_err e = {0};
    int rc;
    for (int round = 0; round < 2; round++) {
        rc = outfile_open(&o, path, &e);
        CHECK_EQ_INT(rc, 0);
        CHECK(exists(tmp_of(path)));
        fprintf(o.f, "round %d\n", round);
        rc = outfile_write(&o, "end\n", 4, &e);
        CHECK_EQ_INT(rc, 0);
        rc = outfile_commit(&o, &e);
        CHECK_EQ_INT(rc, 0);
        CHECK(!exists(tmp_of(path)));
    }
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    CHECK(n == 12 && !strcmp(buf, "round 1\nend\n"));
}

/* The registry: open temporary files are removed by outfile_remove_temps,
 * committed and aborted ones are no longer listed. */
static void test_outfile_registry_removes_open_temps(void)
{
    const char *a = in_dir("a.json"), *b = in_dir("b.json"), *c = in_dir("c.json");
    outfile oa, ob, oc;
    mn_err e = {0};
    CHECK(!outfile_open(&oa, a, &e) && !outfile_open(&ob, b, &e) && !outfile_open(&oc, c, &e));
    int rc = outfile_commit(&ob, &e);
    CHECK_EQ_INT(rc, 0);
    outfile_abort(&oc);
    CHECK(exists(tmp_of(a)) && exists(b));
    outfile_remove_temps();
    CHECK(!exists(tmp_of(a)));
    CHECK(exists(b)); /* committed: not a temporary any more */
    outfile_abort(&oa);  /* its file is gone already: still fine */
    CHECK(!exists(a));
}

/* xmalloc failing: one line, status 1, no signal, the open outfile's
 * temporary file removed.  In a child process (the exit is the point). */
static void test_xmalloc_out_of_memory_exits_cleanly(void)
{
    const char *path = in_dir("oom.json"), *errpath = in_dir("oom.err");
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0)
            _exit(90);
        outfile o;
        mn_err e = {0};
        if (outfile_open(&o, path, &e))
            _exit(91);
        outfile_write(&o, "partial", 7, &e);
        volatile size_t huge = SIZE_MAX - 4096;
        void *p = xmalloc(huge);
        _exit(p ? 92 : 93); /* not reached */
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status), "child ended by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    CHECK_EQ_INT(WEXITSTATUS(status), 1);
    /* stderr without the sanitizer's own warning ("==PID==WARNING: ...
     * failed to allocate"), which only the ASan build prints */
    char msg[512] = {0}, line[512];
    FILE *f = fopen(errpath, "r");
    CHECK(f != NULL);
    size_t used = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "==", 2) != 0)
            used += (size_t)snprintf(msg + used, sizeof msg - used, "%s", line) < sizeof msg - used
                        ? strlen(line)
                        : sizeof msg - 1 - used;
    fclose(f);
    size_t n = strlen(msg);
    char want[128];
    snprintf(want, sizeof want, "mnemo: out of memory allocating %zu bytes\n", (size_t)(SIZE_MAX - 4096));
    CHECK_MSG(n == strlen(want) && !strcmp(msg, want), "stderr: '%s'", msg);
    char child_tmp[300];
    snprintf(child_tmp, sizeof child_tmp, "%s.tmp.%ld", path, (long)pid);
    CHECK(!exists(child_tmp) && !exists(path));
}

/* A dead PID: a child that has exited and been reaped. */
static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

/* outfile_clean_dead removes the temporary files of dead writers in the
 * folder and its subfolders (what a SIGKILL'd eval or run leaves), keeps a
 * live process's, and leaves every other file alone. */
static void test_outfile_clean_dead(void)
{
    char dir[256], path[512];
    CHECK(test_tmpdir(dir, sizeof dir, "clean"));
    long dead = dead_pid(), live = (long)getppid();
    snprintf(path, sizeof path, "%s/parts", dir);
    CHECK(mkdir(path, 0777) == 0);
    const char *keep[] = {"summary.json", "items.jsonl.tmp.x1", "notes.tmp.", "parts/a.jsonl"};
    char dead1[300], dead2[300], live1[300];
    snprintf(dead1, sizeof dead1, "summary.json.tmp.%ld", dead);
    snprintf(dead2, sizeof dead2, "parts/r0.jsonl.tmp.%ld", dead);
    snprintf(live1, sizeof live1, "items.jsonl.tmp.%ld", live);
    const char *all[] = {keep[0], keep[1], keep[2], keep[3], dead1, dead2, live1};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, all[i]);
        CHECK(test_write_file(path, "x"));
    }
    mn_err e = {0};
    CHECK(outfile_clean_dead(dir, &e) == 0);
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, all[i]);
        int gone = access(path, F_OK) != 0, want_gone = all[i] == dead1 || all[i] == dead2;
        CHECK_MSG(gone == want_gone, "%s: %s", all[i], gone ? "removed" : "kept");
    }
    test_rmdir(dir);
}

TEST_MAIN(TEST(test_outfile_full_disk_is_enospace), TEST(test_outfile_clean_dead), TEST(test_outfile_full_disk_at_commit),
          TEST(test_outfile_other_error_keeps_reason), TEST(test_outfile_commit_replaces),
          TEST(test_outfile_registry_removes_open_temps), TEST(test_xmalloc_out_of_memory_exits_cleanly))
