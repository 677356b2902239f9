/* chunker.h — split a document into overlapping chunks, the units that are
 * indexed, deduplicated and returned by search.
 *
 * Two units, the same window rule:
 *   words   (no tokenizer) a word is a maximal run of bytes that are not
 *           ASCII whitespace (space, \t, \n, \v, \f, \r); a chunk is the
 *           exact byte range of the original text from its first word's
 *           first byte to its last word's last byte (inner spacing kept)
 *   tokens  (tokenizer given) the document is encoded once
 *           (tokenizer_encode, no special tokens added); a chunk is
 *           tokenizer_decode of its window of ids (a multi-byte character
 *           cut at a window edge decodes to U+FFFD, as HF does)
 *
 * Windows of `size` units start at 0, size - overlap, 2 (size - overlap),
 * ...; the last window is the first one reaching the end (it may be
 * shorter).  A document of n <= size units is one chunk; a document with
 * no units yields none.
 *
 * Non-goals: sentence- or paragraph-aware splitting. */
#ifndef MNEMO_RETRIEVAL_CHUNKER_H
#define MNEMO_RETRIEVAL_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "model/tokenizer.h"
#include "util/err.h"

#define CHUNK_SIZE_DEFAULT 256
#define CHUNK_OVERLAP_DEFAULT 32

typedef struct chunk_text {
    size_t off;  /* byte offset of the text in chunker.buf (tokens) or in the document (words) */
    size_t len;
} chunk_text;

/* Reusable state (buffers only grow).  Zero-initialise, then
 * chunker_init; release with chunker_free. */
typedef struct chunker {
    size_t size, overlap;
    const tokenizer *tok; /* borrowed; NULL: word mode */
    chunk_text *chunk;    /* [n] chunks of the last document */
    size_t n, cap;
    char *buf;            /* token mode: the decoded chunk texts back to back */
    size_t buf_len, buf_cap;
    size_t *words;        /* word mode scratch: start/end pairs */
    size_t words_cap;
} chunker;

/* size >= 1, overlap < size, else MN_EUSAGE naming both. */
int chunker_init(chunker *c, size_t size, size_t overlap, const tokenizer *tok, mn_err *err);
void chunker_free(chunker *c);

/* Split text[0..len) (valid UTF-8), replacing c->chunk.  Chunk i's text is
 * chunker_text(c, text, i).  Errors: the tokenizer's (prefixed with
 * `where`), MN_ENOMEM. */
int chunker_split(chunker *c, const char *text, size_t len, const char *where, mn_err *err);

static inline const char *chunker_text(const chunker *c, const char *doc, size_t i)
{
    return (c->tok ? c->buf : doc) + c->chunk[i].off;
}

#endif
