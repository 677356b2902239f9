/* strtab.c — distinct strings with dense indexes; see strtab.h. */
#include "util/strtab.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"  /* xrealloc, xcalloc */
#include "util/hash.h" /* hash64 */

static void rehash(strtab *t, size_t cap)
{
    free(t->slot);
    t->cap = cap;
    t->slot = xcalloc(cap, sizeof *t->slot);
    for (size_t i = 0; i < t->n; i++) {
        size_t h = hash64(t->arena + t->off[i], t->len[i], 0) & (cap - 1);
        while (t->slot[h])
            h = (h + 1) & (cap - 1);
        t->slot[h] = (uint32_t)(i + 1);
    }
}

size_t strtab_intern(strtab *t, const char *s, size_t len, int *added)
{
    if (2 * (t->n + 1) > t->cap) /* load factor at most 1/2 */
        rehash(t, t->cap ? 2 * t->cap : 1024);
    size_t h = hash64(s, len, 0) & (t->cap - 1);
    for (; t->slot[h]; h = (h + 1) & (t->cap - 1)) {
        size_t i = t->slot[h] - 1;
        if (t->len[i] == len && !memcmp(t->arena + t->off[i], s, len)) {
            if (added)
                *added = 0;
            return i;
        }
    }
    if (t->n == t->nalloc) {
        t->nalloc = t->nalloc ? 2 * t->nalloc : 1024;
        t->off = xrealloc(t->off, t->nalloc * sizeof *t->off);
        t->len = xrealloc(t->len, t->nalloc * sizeof *t->len);
    }
    if (t->alen + len > t->acap) {
        t->acap = 2 * (t->alen + len) + 4096;
        t->arena = xrealloc(t->arena, t->acap);
    }
    if (len)
        memcpy(t->arena + t->alen, s, len);
    t->off[t->n] = t->alen;
    t->len[t->n] = len;
    t->alen += len;
    t->slot[h] = (uint32_t)(++t->n);
    if (added)
        *added = 1;
    return t->n - 1;
}

const char *strtab_str(const strtab *t, size_t i, size_t *len)
{
    *len = t->len[i];
    return t->arena + t->off[i];
}

void strtab_reset(strtab *t)
{
    t->n = 0;
    t->alen = 0;
    if (t->slot)
        memset(t->slot, 0, t->cap * sizeof *t->slot);
}

void strtab_free(strtab *t)
{
    free(t->slot);
    free(t->off);
    free(t->len);
    free(t->arena);
    memset(t, 0, sizeof *t);
}
