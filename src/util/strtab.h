/* strtab.h — a table of distinct byte strings, each given a dense index
 * 0, 1, 2, ... in order of first insertion: an open-addressing hash set
 * over one arena.  For per-term bookkeeping (a deep check's postings per
 * term; ingest's term map could use it too): keep the per-string data in a
 * parallel array indexed by the string's index.  {0} is an empty table;
 * out of memory aborts (xrealloc: the strings are bookkeeping).
 *
 * Non-goals: deletion (reset empties the whole table), more than 2^32 - 1
 * strings. */
#ifndef MNEMO_UTIL_STRTAB_H
#define MNEMO_UTIL_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct strtab {
    uint32_t *slot;  /* [cap] string index + 1, 0 empty; cap a power of two */
    size_t cap;
    size_t *off;     /* [n] offset of string i in arena */
    size_t *len;     /* [n] its length */
    size_t n, nalloc;
    char *arena;
    size_t alen, acap;
} strtab;

/* The index of s[0..len) (any bytes), added when new (*added = 1, else 0;
 * added may be NULL).  Indexes stay valid until strtab_reset/free. */
size_t strtab_intern(strtab *t, const char *s, size_t len, int *added);

/* String i < t->n: its bytes (not NUL-terminated; borrowed until the next
 * intern, reset or free) and *len. */
const char *strtab_str(const strtab *t, size_t i, size_t *len);

/* Forget every string, keep the memory. */
void strtab_reset(strtab *t);
void strtab_free(strtab *t);

#endif
