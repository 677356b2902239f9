/* tokenizer_int.h — shared only by tokenizer.c and pretokenize.c.
 *
 * Encoding runs as a chain of stages over a list of pieces, mirroring the
 * Hugging Face `PreTokenizedString`: the text starts as one piece; the
 * added-token split turns some pieces into finished tokens (id >= 0); the
 * normalizer and the pre-tokenizer steps rewrite or split the others; the
 * BPE model finally turns each remaining piece into ids.  Every stage reads
 * one list and appends to another (double buffering), so each stage is a
 * plain function of its input. */
#ifndef MNEMO_MODEL_TOKENIZER_INT_H
#define MNEMO_MODEL_TOKENIZER_INT_H

#include <stddef.h>
#include <stdint.h>

/* One piece: bytes buf[off, off+len) of its list, or a finished token. */
typedef struct tok_piece {
    size_t off, len;
    int32_t id;  /* >= 0: an added token already resolved (len is 0); -1: text */
} tok_piece;

/* A list of pieces with one byte buffer holding their text. */
typedef struct tok_pieces {
    char *buf;        /* [cap] bytes of piece text, back to back */
    size_t len, cap;
    tok_piece *p;     /* [n] pieces in text order */
    size_t n, pcap;
} tok_pieces;

/* Empty the list, keeping its memory. */
static inline void tok_pieces_clear(tok_pieces *l)
{
    l->len = 0;
    l->n = 0;
}

/* Append a text piece (a copy of s[0..len)); empty pieces are dropped, as
 * HF drops empty splits. */
void tok_pieces_push_text(tok_pieces *l, const char *s, size_t len);
/* Append a finished token. */
void tok_pieces_push_token(tok_pieces *l, int32_t id);
/* Reserve room for `more` bytes of text and return where they go; commit
 * with tok_pieces_commit_text(l, written). */
char *tok_pieces_reserve(tok_pieces *l, size_t more);
void tok_pieces_commit_text(tok_pieces *l, size_t written);
void tok_pieces_free(tok_pieces *l);

/* Swap two lists (the output of a stage becomes the next one's input). */
static inline void tok_pieces_swap(tok_pieces *a, tok_pieces *b)
{
    tok_pieces t = *a;
    *a = *b;
    *b = t;
}

#endif
