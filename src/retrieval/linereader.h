/* linereader.h — pull lines and fixed-size blocks out of a byte stream
 * (an archive member being decompressed) with a hard bound on memory.
 *
 * The document readers (jsonl, wet, plain text) see a member through this
 * one type: next line, next N bytes, skip N bytes, rest of the member.  The
 * buffer grows to at most max + 1 bytes: a longer line is reported as too
 * long and discarded chunk by chunk up to its newline without ever being
 * held whole, so a 10 GB line costs max + 64 KiB of memory.  Every result
 * carries the byte offset within the (decompressed) stream where it starts.
 *
 * Non-goals: seeking, encodings (bytes only), writing. */
#ifndef MNEMO_RETRIEVAL_LINEREADER_H
#define MNEMO_RETRIEVAL_LINEREADER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Source of bytes: copy up to n bytes into buf; return the count, 0 at the
 * end of the stream, or < 0 when the source failed (the source keeps its own
 * error text; the line reader only reports LR_ESOURCE). */
typedef ssize_t (*lr_read_fn)(void *ctx, char *buf, size_t n);

typedef struct linereader {
    lr_read_fn read; /* the source */
    void *ctx;
    char *buf;       /* [cap] unread data is buf[beg, end) */
    size_t cap, beg, end;
    size_t scanned;  /* bytes after beg already searched for '\n' */
    size_t max;      /* longest line / block the caller may ask for */
    uint64_t pos;    /* stream offset of buf[beg] */
    size_t peak;     /* largest cap ever allocated (for tests and stats) */
    int eof;         /* the source returned 0 */
    int failed;      /* the source returned < 0: every later call fails */
} linereader;

/* Results besides 1 (got one) and 0 (end of stream). */
enum {
    LR_ESOURCE = -100, /* the source failed; ask the source for the text */
    LR_ETOOLONG = -101 /* line longer than max: it was discarded */
};

/* Start reading from read(ctx); max >= 1 bounds lines and blocks.  The
 * buffer is allocated lazily.  Never fails. */
void linereader_init(linereader *lr, lr_read_fn read, void *ctx, size_t max);

/* Release the buffer; lr may be re-initialised afterwards. */
void linereader_free(linereader *lr);

/* Next line, without its '\n' and without one '\r' before it.  A last line
 * without '\n' counts as a line.  On 1: *line, *len borrowed until the next
 * call, *off its stream offset.  On LR_ETOOLONG: the line (longer than max)
 * was consumed up to and including its '\n'; *off is where it started, *len
 * how many bytes it had (possibly capped at SIZE_MAX), *line NULL.
 * Returns 1, 0 at end, LR_ETOOLONG or LR_ESOURCE. */
int linereader_line(linereader *lr, const char **line, size_t *len, uint64_t *off);

/* Exactly n bytes (n <= max).  On 1: *data borrowed until the next call,
 * *got == n.  When the stream ends first returns 0 with *got the bytes that
 * were there (consumed, *data pointing at them).  Returns 1, 0 or LR_ESOURCE. */
int linereader_block(linereader *lr, size_t n, const char **data, size_t *got, uint64_t *off);

/* Discard n bytes without buffering them.  *got = bytes actually skipped
 * (less than n when the stream ended: returns 0).  Returns 1, 0, LR_ESOURCE. */
int linereader_skip(linereader *lr, uint64_t n, uint64_t *got);

/* Everything left in the stream when it is at most max bytes: returns 1
 * with *data, *len borrowed until the next call (*len may be 0).  When more
 * than max bytes remain they are all discarded and LR_ETOOLONG is returned
 * with *len = their count (capped at SIZE_MAX).  Returns 1, LR_ETOOLONG or
 * LR_ESOURCE. */
int linereader_rest(linereader *lr, const char **data, size_t *len, uint64_t *off);

/* Stream offset of the next unread byte. */
static inline uint64_t linereader_tell(const linereader *lr) { return lr->pos; }

#endif
