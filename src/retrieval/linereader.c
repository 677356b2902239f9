/* linereader.c — bounded line/block reader over a pull source (see
 * linereader.h).
 *
 * Invariant: cap <= max + 1 (after the first allocation, unless the first
 * chunk size is larger), so a pending line that fills the whole buffer
 * without a '\n' is necessarily longer than max and is discarded in
 * streaming fashion (discard_line) instead of growing the buffer. */
#include "retrieval/linereader.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h" /* xrealloc */

#define LR_CHUNK ((size_t)64 << 10)

void linereader_init(linereader *lr, lr_read_fn read, void *ctx, size_t max)
{
    memset(lr, 0, sizeof *lr);
    lr->read = read;
    lr->ctx = ctx;
    lr->max = max ? max : 1;
}

void linereader_free(linereader *lr)
{
    free(lr->buf);
    lr->buf = NULL;
    lr->cap = lr->beg = lr->end = lr->scanned = 0;
}

static size_t cap_limit(const linereader *lr)
{
    return lr->max < SIZE_MAX - 1 ? lr->max + 1 : SIZE_MAX;
}

/* Make room after end (compacting, then growing up to cap_limit) and read
 * once from the source.  Returns bytes read, 0 at end of stream or when no
 * room can be made (buffer full at its limit), LR_ESOURCE on failure. */
static ssize_t fill(linereader *lr)
{
    if (lr->failed)
        return LR_ESOURCE;
    if (lr->eof)
        return 0;
    if (lr->end == lr->cap && lr->beg > 0) {
        memmove(lr->buf, lr->buf + lr->beg, lr->end - lr->beg);
        lr->end -= lr->beg;
        lr->beg = 0;
    }
    if (lr->end == lr->cap) {
        size_t limit = cap_limit(lr);
        if (lr->cap >= limit)
            return 0;
        size_t ncap = lr->cap ? lr->cap * 2 : LR_CHUNK;
        if (ncap < lr->cap || ncap > limit)
            ncap = limit;
        lr->buf = xrealloc(lr->buf, ncap);
        lr->cap = ncap;
        if (ncap > lr->peak)
            lr->peak = ncap;
    }
    ssize_t r = lr->read(lr->ctx, lr->buf + lr->end, lr->cap - lr->end);
    if (r < 0) {
        lr->failed = 1;
        return LR_ESOURCE;
    }
    if (r == 0)
        lr->eof = 1;
    lr->end += (size_t)r;
    return r;
}

static void consume(linereader *lr, size_t n)
{
    lr->beg += n;
    lr->pos += n;
    lr->scanned = 0;
    if (lr->beg == lr->end)
        lr->beg = lr->end = 0;
}

static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/* The pending line has more than max bytes: drop what is buffered, then
 * read and drop chunks until its '\n' (consumed too) or the end. */
static int discard_line(linereader *lr, size_t *len)
{
    size_t total = lr->end - lr->beg;
    consume(lr, lr->end - lr->beg);
    for (;;) {
        ssize_t r = fill(lr);
        if (r < 0)
            return LR_ESOURCE;
        char *nl = lr->end > lr->beg ? memchr(lr->buf + lr->beg, '\n', lr->end - lr->beg) : NULL;
        if (nl) {
            size_t k = (size_t)(nl - (lr->buf + lr->beg));
            *len = sat_add(total, k);
            consume(lr, k + 1);
            return LR_ETOOLONG;
        }
        total = sat_add(total, lr->end - lr->beg);
        consume(lr, lr->end - lr->beg);
        if (r == 0) {
            *len = total;
            return LR_ETOOLONG;
        }
    }
}

int linereader_line(linereader *lr, const char **line, size_t *len, uint64_t *off)
{
    *line = NULL;
    *len = 0;
    *off = lr->pos;
    for (;;) {
        size_t have = lr->end - lr->beg;
        char *nl = have > lr->scanned ? memchr(lr->buf + lr->beg + lr->scanned, '\n', have - lr->scanned) : NULL;
        if (nl) {
            size_t k = (size_t)(nl - (lr->buf + lr->beg));
            if (k > lr->max) {
                *len = k;
                consume(lr, k + 1);
                return LR_ETOOLONG;
            }
            *line = lr->buf + lr->beg;
            *len = (k > 0 && (*line)[k - 1] == '\r') ? k - 1 : k;
            consume(lr, k + 1);
            return 1;
        }
        lr->scanned = have;
        if (have > lr->max)
            return discard_line(lr, len);
        ssize_t r = fill(lr);
        if (r < 0)
            return LR_ESOURCE;
        if (r == 0) { /* end of stream (a full buffer was caught above) */
            if (have > lr->max)
                return discard_line(lr, len);
            if (have == 0)
                return 0;
            *line = lr->buf + lr->beg;
            *len = (lr->buf[lr->beg + have - 1] == '\r') ? have - 1 : have;
            consume(lr, have);
            /* the returned bytes stay in place: consume() only moved indices */
            return 1;
        }
    }
}

int linereader_block(linereader *lr, size_t n, const char **data, size_t *got, uint64_t *off)
{
    *off = lr->pos;
    *data = NULL;
    *got = 0;
    if (n > lr->max)
        return LR_ETOOLONG;
    while (lr->end - lr->beg < n) {
        ssize_t r = fill(lr);
        if (r < 0)
            return LR_ESOURCE;
        if (r == 0)
            break;
    }
    size_t have = lr->end - lr->beg;
    size_t take = have < n ? have : n;
    *data = lr->buf ? lr->buf + lr->beg : "";
    *got = take;
    consume(lr, take);
    return take == n ? 1 : 0;
}

int linereader_skip(linereader *lr, uint64_t n, uint64_t *got)
{
    uint64_t done = 0;
    while (done < n) {
        if (lr->end == lr->beg) {
            ssize_t r = fill(lr);
            if (r < 0) {
                *got = done;
                return LR_ESOURCE;
            }
            if (r == 0) {
                *got = done;
                return 0;
            }
        }
        size_t have = lr->end - lr->beg;
        size_t k = (uint64_t)have < n - done ? have : (size_t)(n - done);
        consume(lr, k);
        done += k;
    }
    *got = done;
    return 1;
}

int linereader_rest(linereader *lr, const char **data, size_t *len, uint64_t *off)
{
    *off = lr->pos;
    *data = NULL;
    *len = 0;
    for (;;) {
        size_t have = lr->end - lr->beg;
        if (have > lr->max) {
            size_t total = have;
            consume(lr, have);
            for (;;) {
                ssize_t r = fill(lr);
                if (r < 0)
                    return LR_ESOURCE;
                total = sat_add(total, lr->end - lr->beg);
                consume(lr, lr->end - lr->beg);
                if (r == 0) {
                    *len = total;
                    return LR_ETOOLONG;
                }
            }
        }
        ssize_t r = fill(lr);
        if (r < 0)
            return LR_ESOURCE;
        if (r == 0 && lr->eof) {
            *data = lr->buf ? lr->buf + lr->beg : "";
            *len = lr->end - lr->beg;
            consume(lr, *len);
            return 1;
        }
    }
}
