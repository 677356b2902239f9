/* faultguard.c — SIGSEGV/SIGBUS in a mapped file become one line and exit 1;
 * see faultguard.h.  Everything the handler touches is either a lock-free
 * table of atomics or a thread-local pointer, and it only calls
 * async-signal-safe functions (write, sigaction, raise, _exit). */
#include "util/faultguard.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { SLOT_FREE, SLOT_BUSY, SLOT_LIVE };

typedef struct watch_slot {
    atomic_int state; /* SLOT_*: LIVE slots are read by the handler */
    atomic_uintptr_t start, end;
    _Atomic(const char *) label;
} watch_slot;

static watch_slot slots[FAULTGUARD_SLOTS];
static atomic_int slots_high; /* slots[0..high) may be in use */
static _Thread_local const char *current_label;
static struct sigaction old_segv, old_bus;
static atomic_int installed;
/* The handler runs here when the thread's own stack cannot be used (the
 * main thread only: other threads fall back to their own stack). */
static char alt_stack[1 << 16];

int faultguard_watch(const void *addr, size_t len, const char *label)
{
    for (int i = 0; i < FAULTGUARD_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (!atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_BUSY))
            continue;
        atomic_store(&slots[i].label, label);
        atomic_store(&slots[i].start, (uintptr_t)addr);
        atomic_store(&slots[i].end, (uintptr_t)addr + len);
        atomic_store(&slots[i].state, SLOT_LIVE);
        int high = atomic_load(&slots_high);
        while (high < i + 1 && !atomic_compare_exchange_weak(&slots_high, &high, i + 1))
            ;
        return i;
    }
    return -1;
}

void faultguard_unwatch(int handle)
{
    if (handle < 0 || handle >= FAULTGUARD_SLOTS)
        return;
    atomic_store(&slots[handle].state, SLOT_BUSY);
    atomic_store(&slots[handle].start, 0);
    atomic_store(&slots[handle].end, 0);
    atomic_store(&slots[handle].label, NULL);
    atomic_store(&slots[handle].state, SLOT_FREE);
}

const char *faultguard_enter(const char *label)
{
    const char *prev = current_label;
    current_label = label;
    atomic_signal_fence(memory_order_seq_cst); /* the handler sees the mark before the LMDB call */
    return prev;
}

void faultguard_leave(const char *prev)
{
    atomic_signal_fence(memory_order_seq_cst);
    current_label = prev;
}

/* ---- the handler: async-signal-safe formatting ---- */

typedef struct line {
    char buf[1536];
    size_t n;
} line;

static void put_str(line *l, const char *s)
{
    for (; *s && l->n < sizeof l->buf - 1; s++)
        l->buf[l->n++] = (unsigned char)*s < 0x20 ? '?' : *s; /* one line whatever the path holds */
}

static void put_u64(line *l, uint64_t v)
{
    char d[24];
    int k = 0;
    do
        d[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 24);
    while (k && l->n < sizeof l->buf - 1)
        l->buf[l->n++] = d[--k];
}

static void put_hex(line *l, uint64_t v)
{
    put_str(l, "0x");
    char d[16];
    int k = 0;
    do
        d[k++] = "0123456789abcdef"[v & 15];
    while ((v >>= 4) && k < 16);
    while (k && l->n < sizeof l->buf - 1)
        l->buf[l->n++] = d[--k];
}

/* The watched range holding addr, or -1. */
static int find_slot(uintptr_t addr)
{
    int high = atomic_load(&slots_high);
    for (int i = 0; i < high; i++)
        if (atomic_load(&slots[i].state) == SLOT_LIVE && addr >= atomic_load(&slots[i].start) &&
            addr < atomic_load(&slots[i].end))
            return i;
    return -1;
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    uintptr_t addr = (uintptr_t)si->si_addr;
    int slot = find_slot(addr);
    const char *label = slot >= 0 ? atomic_load(&slots[slot].label) : current_label;
    if (!label) {
        /* not a damaged file: a bug.  Put the old action back and let the
         * fault happen again (a sent signal is raised again). */
        sigaction(sig, sig == SIGBUS ? &old_bus : &old_segv, NULL);
        if (si->si_code <= 0)
            raise(sig);
        return;
    }
    line l = {.n = 0};
    put_str(&l, "mnemo: ");
    put_str(&l, label);
    put_str(&l, ": damaged LMDB file: ");
    if (slot >= 0) {
        put_str(&l, "reading byte ");
        put_u64(&l, addr - atomic_load(&slots[slot].start));
        put_str(&l, " faulted");
    } else {
        put_str(&l, "a read at address ");
        put_hex(&l, addr);
        put_str(&l, " faulted");
    }
    put_str(&l, sig == SIGBUS ? " (SIGBUS: the file is shorter than its pages)"
                              : " (SIGSEGV: a damaged page led outside the file)");
    put_str(&l, "; check it with mnemo stats --deep");
    l.buf[l.n++] = '\n'; /* put_str keeps one byte free */
    ssize_t w = write(STDERR_FILENO, l.buf, l.n);
    (void)w;
    _exit(1);
}

int faultguard_install(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&installed, &expect, 1))
        return 0;
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
    if (sigaltstack(&ss, NULL))
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_segv) || sigaction(SIGBUS, &sa, &old_bus))
        return -1;
    return 0;
}
