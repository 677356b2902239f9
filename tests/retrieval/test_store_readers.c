/* test_store_readers.c — issue 12 finding 3: readers killed with SIGKILL
 * (a search, a Ctrl-C'd eval) leave their LMDB reader slot behind.  Before
 * the fix 126 of them filled the reader table (MDB_READERS_FULL for every
 * later reader) and their snapshots pinned the pages freed since, so a
 * writer's data.mdb kept growing.  store.c now clears dead readers'
 * slots (mdb_reader_check) on every open and every write transaction.
 *
 * The readers are this program re-executed as "test_store_readers reader
 * DIR": it opens the shard read-only, begins a read transaction, says so
 * on stdout and waits to be killed. */
#include "retrieval/store.h"

#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus_build.h" /* cb_path */
#include "test.h"

static int reader_main(const char *dir)
{
    store *s;
    mn_err err = {0};
    if (store_open(dir, STORE_RDONLY, &s, &err) || store_begin(s, 0, &err)) {
        fprintf(stderr, "reader: %s\n", err.msg);
        return 1;
    }
    if (write(1, "1", 1) != 1)
        return 1;
    for (;;)
        pause();
}

/* Start a reader of dir, wait until its read transaction is open, kill it
 * with SIGKILL.  Returns 1 if it got its transaction. */
static int reader_killed(const char *dir)
{
    int fds[2];
    if (pipe(fds))
        abort();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/proc/self/exe", "test_store_readers", "reader", dir, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char c = 0;
    ssize_t got = read(fds[0], &c, 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    return got == 1 && c == '1';
}

/* One write transaction rewriting 40 postings values of 1 KB: the pages it
 * replaces are freed, and reused two commits later unless a reader pins
 * them. */
static int rewrite(store *s, int round, mn_err *err)
{
    static char val[1000];
    memset(val, 'a' + round % 26, sizeof val);
    int rc = store_begin(s, 1, err);
    for (int t = 0; t < 40 && !rc; t++) {
        char term[16];
        int n = snprintf(term, sizeof term, "term%02d", t);
        rc = store_postings_put(s, term, (size_t)n, 0, val, sizeof val, err);
    }
    return rc ? (store_abort(s), rc) : store_commit(s, err);
}

static long long file_size(const char *dir)
{
    char p[600];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    struct stat st;
    return stat(p, &st) ? -1 : (long long)st.st_size;
}

/* 80 commits; with kill_every > 0 a reader is started and killed after
 * every kill_every-th commit.  Returns data.mdb's size. */
static long long writer_run(const char *dir, int kill_every, int *started)
{
    store *s;
    mn_err err = {0};
    if (store_open(dir, 0, &s, &err))
        return -1;
    *started = 0;
    for (int round = 0; round < 80; round++) {
        if (rewrite(s, round, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            store_close(s);
            return -1;
        }
        if (kill_every && round % kill_every == 0)
            *started += reader_killed(dir);
    }
    store_close(s);
    return file_size(dir);
}

static void test_store_dead_readers_do_not_fill_the_table(void)
{
    const char *dir = cb_path("full-table");
    store *w;
    mn_err err = {0};
    int started = 0;
    CHECK_EQ_INT(writer_run(dir, 0, &started) > 0, 1);
    /* a live writer keeps the lock file open, as an ingest does: the
     * reader table is then never reset by a first opener */
    CHECK_MSG(!store_open(dir, 0, &w, &err), "%s", err.msg);
    for (int i = 0; i < 135; i++) /* the reader table holds 126 */
        started += reader_killed(dir);
    CHECK_MSG(started == 135, "only %d of 135 readers got a read transaction (MDB_READERS_FULL)", started);
    CHECK_MSG(reader_killed(dir), "a new reader after 135 dead ones got no read transaction");
    CHECK_MSG(!rewrite(w, 0, &err), "the writer: %s", err.msg);
    store_close(w);
}

static void test_store_dead_readers_do_not_pin_pages(void)
{
    int none, started;
    long long quiet = writer_run(cb_path("quiet"), 0, &none);
    long long killed = writer_run(cb_path("killed"), 4, &started);
    printf("data.mdb after 80 commits: %lld bytes alone, %lld bytes with %d readers killed meanwhile\n", quiet,
           killed, started);
    CHECK(quiet > 0 && killed > 0);
    CHECK_EQ_INT(started, 20);
    /* pinned pages would add ~40 KB a commit (3 MB); allow some slack */
    CHECK_MSG(killed <= 2 * quiet + (256 << 10), "%lld bytes vs %lld: the dead readers pin pages", killed, quiet);
}

/* One process, one lock-file environment per shard: a second open would
 * reset the reader table under other processes' readers. */
static void test_store_open_twice_is_refused(void)
{
    const char *dir = cb_path("twice");
    store *w, *r;
    mn_err err = {0};
    int started;
    CHECK(writer_run(dir, 0, &started) > 0);
    CHECK_EQ_INT(store_open(dir, 0, &w, &err), 0);
    CHECK_EQ_INT(store_open(dir, STORE_RDONLY, &r, &err), MN_EBUSY);
    CHECK_STR_CONTAINS(err.msg, "already open in this process");
    CHECK_EQ_INT(store_open(dir, STORE_RDONLY | STORE_NOLOCK, &r, &err), 0); /* no lock file: allowed */
    store_close(r);
    CHECK_MSG(!store_check(dir, STORE_CHECK_FULL, &err), "%s", err.msg); /* through the open handle */
    CHECK_EQ_INT(store_begin(w, 1, &err), 0);
    CHECK_EQ_INT(store_check(dir, STORE_CHECK_FULL, &err), MN_EUSAGE);
    store_abort(w);
    store_close(w);
    CHECK_EQ_INT(store_open(dir, STORE_RDONLY, &r, &err), 0);
    store_close(r);
}

#define main tests_main
TEST_MAIN(TEST(test_store_dead_readers_do_not_fill_the_table), TEST(test_store_dead_readers_do_not_pin_pages),
          TEST(test_store_open_twice_is_refused))
#undef main

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "reader"))
        return reader_main(argv[2]);
    return tests_main(argc, argv);
}
