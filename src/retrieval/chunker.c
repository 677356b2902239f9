/* chunker.c — word and token windows; see chunker.h. */
#include "retrieval/chunker.h"

#include <stdlib.h>
#include <string.h>

int chunker_init(chunker *c, size_t size, size_t overlap, const tokenizer *tok, mn_err *err)
{
    memset(c, 0, sizeof *c);
    if (size < 1 || overlap >= size)
        return mn_errf(err, MN_EUSAGE, "chunking: overlap %zu must be smaller than the chunk size %zu (>= 1)",
                       overlap, size);
    c->size = size;
    c->overlap = overlap;
    c->tok = tok;
    return 0;
}

void chunker_free(chunker *c)
{
    free(c->chunk);
    free(c->buf);
    free(c->words);
    memset(c, 0, sizeof *c);
}

static void push(chunker *c, size_t off, size_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->chunk = xrealloc(c->chunk, c->cap * sizeof *c->chunk);
    }
    c->chunk[c->n].off = off;
    c->chunk[c->n].len = len;
    c->n++;
}

static int is_space(unsigned char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

static int split_words(chunker *c, const char *text, size_t len)
{
    size_t nw = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && is_space((unsigned char)text[i]))
            i++;
        if (i == len)
            break;
        size_t s = i;
        while (i < len && !is_space((unsigned char)text[i]))
            i++;
        if (2 * nw + 2 > c->words_cap) {
            c->words_cap = c->words_cap ? 2 * c->words_cap : 256;
            c->words = xrealloc(c->words, c->words_cap * sizeof *c->words);
        }
        c->words[2 * nw] = s;
        c->words[2 * nw + 1] = i;
        nw++;
    }
    for (size_t s = 0; s < nw; s += c->size - c->overlap) {
        size_t e = s + c->size < nw ? s + c->size : nw;
        push(c, c->words[2 * s], c->words[2 * e - 1] - c->words[2 * s]);
        if (e == nw)
            break;
    }
    return 0;
}

static int split_tokens(chunker *c, const char *text, size_t len, const char *where, mn_err *err)
{
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = tokenizer_encode(c->tok, text, len, 0, &ids, &n, err);
    if (rc) {
        mn_err_prefix(err, "%s: ", where);
        return rc;
    }
    for (size_t s = 0; s < n; s += c->size - c->overlap) {
        size_t e = s + c->size < n ? s + c->size : n;
        char *t;
        size_t tl;
        if ((rc = tokenizer_decode(c->tok, ids + s, e - s, &t, &tl, err))) {
            mn_err_prefix(err, "%s: ", where);
            break;
        }
        if (c->buf_len + tl > c->buf_cap) {
            c->buf_cap = 2 * (c->buf_len + tl) + 256;
            c->buf = xrealloc(c->buf, c->buf_cap);
        }
        if (tl)
            memcpy(c->buf + c->buf_len, t, tl);
        push(c, c->buf_len, tl);
        c->buf_len += tl;
        free(t);
        if (e == n)
            break;
    }
    free(ids);
    return rc;
}

int chunker_split(chunker *c, const char *text, size_t len, const char *where, mn_err *err)
{
    c->n = 0;
    c->buf_len = 0;
    return c->tok ? split_tokens(c, text, len, where, err) : split_words(c, text, len);
}
