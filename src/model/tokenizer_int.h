/* tokenizer_int.h — internals of the tokenizer module, shared only by
 * tokenizer.c (encode/decode), tokenizer_load.c (tokenizer.json -> the
 * structs below) and pretokenize.c (the text stages).  Not a public API:
 * callers use tokenizer.h.
 *
 * 1. The piece list.  Encoding runs as a chain of stages over a list of
 * pieces, mirroring the Hugging Face `PreTokenizedString`: the text starts
 * as one piece; the added-token split turns some pieces into finished
 * tokens (id >= 0); the normalizer and the pre-tokenizer steps rewrite or
 * split the others; the BPE model finally turns each remaining piece into
 * ids.  Every stage reads one list and appends to another (double
 * buffering), so each stage is a plain function of its input.
 *
 * 2. The loaded tokenizer (struct tokenizer) and the lookups that both
 * the loader and the encoder need.  Lookups are open-addressing hash
 * tables (linear probing, power-of-two sizes): model token string -> id,
 * and (left id, right id) -> (merge rank, merged id); added-token strings
 * sit in byte tries.  The lookups are static inline so the BPE inner loop
 * keeps inlining them across the file split.
 * Non-goals: a stable interface (everything here may change along with the
 * three .c files), anything for callers outside src/model/tokenizer*. */
#ifndef MNEMO_MODEL_TOKENIZER_INT_H
#define MNEMO_MODEL_TOKENIZER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* memcmp */

#include "model/tokenizer.h" /* tokenizer */

/* ------------------------------------------------------------------------
 * the piece list
 * ------------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------------
 * the loaded tokenizer
 * ------------------------------------------------------------------------ */

#define NO_TOKEN UINT32_MAX
#define SMALL_CHARS 0x800 /* direct table for one-character tokens below U+0800 */

enum { DEC_NONE, DEC_BYTELEVEL };

typedef struct added_tok {
    int32_t id;
    char *content; /* [len] the token's text */
    size_t len;
    char *form;    /* [form_len] what is matched and decoded: content, or the
                      normalizer's output for normalized=true tokens */
    size_t form_len;
    unsigned char special, single_word, lstrip, rstrip, normalized;
} added_tok;

/* Byte trie of added-token strings; node 0 is the root. */
typedef struct trie_node {
    int32_t child, sibling; /* first child, next sibling; -1 when none */
    int32_t term;           /* index into tok->added ending here, or -1 */
    unsigned char byte;
} trie_node;

typedef struct trie {
    trie_node *nodes;
    size_t n, cap;
} trie;

typedef struct merge_slot {
    uint64_t key; /* (left << 32) | right; EMPTY_KEY when free */
    uint32_t rank;
    int32_t new_id;
} merge_slot;
#define EMPTY_KEY UINT64_MAX

struct tokenizer {
    int32_t n_ids;         /* V: 1 + largest id */
    /* model.vocab */
    char *pool;            /* every model token string, back to back */
    uint32_t *m_off;       /* [V] offset in pool */
    uint32_t *m_len;       /* [V] length, NO_TOKEN when the id is not in model.vocab */
    size_t n_model;        /* entries in model.vocab */
    int32_t *vslot;        /* [vmask+1] open addressing: model id or -1 */
    size_t vmask;
    int32_t small_char[SMALL_CHARS]; /* id of the one-character token cp, or -1 */
    /* model.merges */
    merge_slot *mslot;     /* [mmask+1] */
    size_t mmask;
    /* model options */
    int ignore_merges, fuse_unk, byte_fallback;
    int32_t unk_id;        /* -1: no unk_token; -2: named but not in the vocab */
    char *unk_name;
    char *prefix, *suffix; /* continuing_subword_prefix / end_of_word_suffix; NULL if none or "" */
    size_t prefix_len, suffix_len;
    int32_t fallback_id[256]; /* byte_fallback "<0xAB>" ids, -1 when missing */
    /* added_tokens */
    added_tok *added;      /* [n_added] */
    size_t n_added;
    int32_t *added_of;     /* [V] index into added, or -1 */
    int32_t *aslot;        /* [amask+1] open addressing by content: index into added, or -1 */
    size_t amask;
    trie raw_trie;         /* normalized=false tokens, matched on the raw text */
    trie norm_trie;        /* normalized=true tokens, matched after the normalizer */
    /* stages */
    struct tok_normalizer *norm; /* declared in pretokenize.h, which includes this header */
    struct tok_pretok *pretok;
    int decoder;
    int32_t bos_id;
};

/* ------------------------------------------------------------------------
 * lookups (used by tokenizer.c and tokenizer_load.c)
 * ------------------------------------------------------------------------ */

static inline uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static inline uint64_t hash_pair(uint64_t key)
{
    key *= 0x9e3779b97f4a7c15ull;
    return key ^ (key >> 31);
}

static inline int32_t vocab_find(const tokenizer *t, const char *s, size_t len)
{
    size_t i = hash_bytes(s, len) & t->vmask;
    for (;;) {
        int32_t id = t->vslot[i];
        if (id < 0)
            return -1;
        if (t->m_len[id] == len && memcmp(t->pool + t->m_off[id], s, len) == 0)
            return id;
        i = (i + 1) & t->vmask;
    }
}

static inline const merge_slot *merge_find(const tokenizer *t, int32_t a, int32_t b)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = hash_pair(key) & t->mmask;
    for (;;) {
        const merge_slot *m = &t->mslot[i];
        if (m->key == key)
            return m;
        if (m->key == EMPTY_KEY)
            return NULL;
        i = (i + 1) & t->mmask;
    }
}

/* First child of node with this byte, or -1. */
static inline int32_t trie_child(const trie *tr, int32_t node, unsigned char byte)
{
    for (int32_t c = tr->nodes[node].child; c >= 0; c = tr->nodes[c].sibling)
        if (tr->nodes[c].byte == byte)
            return c;
    return -1;
}

#endif
