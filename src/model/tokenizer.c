/* tokenizer.c — tokenizer.json loading, added-token matching, the BPE
 * merge loop, encode and decode (see tokenizer.h).  The normalizer and
 * pre-tokenizer stages live in pretokenize.c.
 *
 * Encode pipeline (HF `TokenizerImpl::encode_single_sequence`):
 *   1. split out added tokens with normalized=false, on the raw text;
 *   2. normalize the other pieces, then split out added tokens with
 *      normalized=true, on the normalized text;
 *   3. pre-tokenize (Split regex, ByteLevel byte -> alphabet mapping);
 *   4. BPE each piece (ignore_merges: a piece that is itself in the vocab
 *      is that one id).
 *
 * Lookups are open-addressing hash tables: model token string -> id, and
 * (left id, right id) -> (merge rank, merged id).  The merge loop is HF's
 * Word::merge_all: a min-heap of candidate merges ordered by (rank,
 * position), stale entries skipped when popped; O(n log n) per piece.
 * Non-goals: offsets, truncation, padding, post-processing templates, a
 * cross-call cache (a piece costs microseconds; the handle stays
 * read-only and thread-safe). */
#include "model/tokenizer.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "model/pretokenize.h"   /* tok_normalizer, tok_pretok, tok_bytelevel_* */
#include "model/tokenizer_int.h" /* tok_pieces */
#include "util/jsonfile.h"       /* json_load_path, json_load_mem */
#include "util/utf8.h"           /* utf8_valid_prefix, utf8_decode, utf8_lossy */

#define MAX_IDS (1 << 24) /* ids must be below this (largest real vocabularies: ~2^18) */
#define NO_TOKEN UINT32_MAX
#define SMALL_CHARS 0x800 /* direct table for one-character tokens below U+0800 */

enum { DEC_NONE, DEC_BYTELEVEL };

/* ------------------------------------------------------------------------
 * data
 * ------------------------------------------------------------------------ */

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
    tok_normalizer *norm;
    tok_pretok *pretok;
    int decoder;
    int32_t bos_id;
};

/* ------------------------------------------------------------------------
 * hashing
 * ------------------------------------------------------------------------ */

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static uint64_t hash_pair(uint64_t key)
{
    key *= 0x9e3779b97f4a7c15ull;
    return key ^ (key >> 31);
}

static size_t table_size(size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 1)
        cap *= 2;
    return cap;
}

static int32_t vocab_find(const tokenizer *t, const char *s, size_t len)
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

static void vocab_insert(tokenizer *t, int32_t id)
{
    size_t i = hash_bytes(t->pool + t->m_off[id], t->m_len[id]) & t->vmask;
    while (t->vslot[i] >= 0)
        i = (i + 1) & t->vmask;
    t->vslot[i] = id;
}

/* Added tokens by content (tokenizer_token_id). */
static void added_hash_insert(tokenizer *t, int32_t k)
{
    size_t i = hash_bytes(t->added[k].content, t->added[k].len) & t->amask;
    while (t->aslot[i] >= 0)
        i = (i + 1) & t->amask;
    t->aslot[i] = k;
}

static const merge_slot *merge_find(const tokenizer *t, int32_t a, int32_t b)
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

/* Insert or overwrite: when merges repeat a pair, the later rank wins (HF
 * collects them into a map in order). */
static void merge_put(tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t new_id)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = hash_pair(key) & t->mmask;
    while (t->mslot[i].key != EMPTY_KEY && t->mslot[i].key != key)
        i = (i + 1) & t->mmask;
    t->mslot[i] = (merge_slot){key, rank, new_id};
}

/* ------------------------------------------------------------------------
 * trie of added tokens
 * ------------------------------------------------------------------------ */

static int32_t trie_node_new(trie *tr, unsigned char byte)
{
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? 2 * tr->cap : 64;
        tr->nodes = xrealloc(tr->nodes, tr->cap * sizeof *tr->nodes);
    }
    tr->nodes[tr->n] = (trie_node){-1, -1, -1, byte};
    return (int32_t)tr->n++;
}

static int32_t trie_child(const trie *tr, int32_t node, unsigned char byte)
{
    for (int32_t c = tr->nodes[node].child; c >= 0; c = tr->nodes[c].sibling)
        if (tr->nodes[c].byte == byte)
            return c;
    return -1;
}

static void trie_insert(trie *tr, const char *s, size_t len, int32_t term)
{
    if (tr->n == 0)
        trie_node_new(tr, 0);
    int32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        int32_t c = trie_child(tr, node, b);
        if (c < 0) {
            c = trie_node_new(tr, b);
            tr->nodes[c].sibling = tr->nodes[node].child;
            tr->nodes[node].child = c;
        }
        node = c;
    }
    tr->nodes[node].term = term;
}

/* Longest added token starting at s; returns its length (0: none). */
static size_t trie_longest(const trie *tr, const char *s, size_t len, int32_t *term)
{
    size_t best = 0;
    int32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        node = trie_child(tr, node, (unsigned char)s[i]);
        if (node < 0)
            break;
        if (tr->nodes[node].term >= 0) {
            best = i + 1;
            *term = tr->nodes[node].term;
        }
    }
    return best;
}

/* ------------------------------------------------------------------------
 * added-token matching (HF AddedVocabulary::find_matches)
 * ------------------------------------------------------------------------ */

/* Rust regex \s: the White_Space property. */
static int is_white_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Rust regex \w: Alphabetic, Mark, Decimal_Number, Connector_Punctuation,
 * Join_Control (Alphabetic approximated by letters, Nl and the enclosed
 * alphabetics). */
static int is_word_char(uint32_t c)
{
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
        return 1;
    default:
        return c == 0x200C || c == 0x200D || (c >= 0x24B6 && c <= 0x24E9) ||
               (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
               (c >= 0x1F170 && c <= 0x1F189);
    }
}

/* Start of the code point that ends at s[end) (s is valid UTF-8). */
static size_t prev_char(const char *s, size_t end, uint32_t *cp)
{
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    utf8_decode(s + i, end - i, cp);
    return i;
}

/* Split s[0..len) into text pieces and added tokens of trie tr, appending
 * to out.  Matches are leftmost-longest and non-overlapping; a match that
 * is dropped (a special token in plain mode, a single_word token inside a
 * word) still consumes its span, as in HF's Aho-Corasick iteration. */
static void added_split_str(const tokenizer *t, const trie *tr, int plain, const char *s,
                            size_t len, tok_pieces *out)
{
    size_t start_offset = 0, i = 0;
    while (i < len) {
        int32_t ai = -1;
        size_t mlen = tr->n ? trie_longest(tr, s + i, len - i, &ai) : 0;
        if (mlen == 0) {
            i++;
            continue;
        }
        const added_tok *a = &t->added[ai];
        size_t start = i, stop = i + mlen;
        uint32_t cp;
        i = stop;
        if (plain && a->special)
            continue;
        if (a->single_word) {
            int start_space = start == 0 || (prev_char(s, start, &cp), !is_word_char(cp));
            int stop_space = stop == len ||
                             (utf8_decode(s + stop, len - stop, &cp) && !is_word_char(cp));
            if (!start_space || !stop_space)
                continue;
        }
        if (a->lstrip) {
            size_t ns = start;
            while (ns > 0) {
                size_t p = prev_char(s, ns, &cp);
                if (!is_white_space(cp))
                    break;
                ns = p;
            }
            start = ns > start_offset ? ns : start_offset;
        }
        if (a->rstrip) {
            size_t k;
            while (stop < len && (k = utf8_decode(s + stop, len - stop, &cp)) && is_white_space(cp))
                stop += k;
        }
        if (start_offset < start)
            tok_pieces_push_text(out, s + start_offset, start - start_offset);
        tok_pieces_push_token(out, a->id);
        start_offset = stop;
    }
    if (start_offset < len)
        tok_pieces_push_text(out, s + start_offset, len - start_offset);
}

/* ------------------------------------------------------------------------
 * BPE (HF BPE::merge_word + Word::merge_all)
 * ------------------------------------------------------------------------ */

typedef struct heap_ent {
    uint32_t rank, pos;
    int32_t new_id;
} heap_ent;

/* Scratch of one encode call. */
typedef struct bpe_work {
    int32_t *c, *prev, *next; /* [cap] symbol id and links */
    uint32_t *len;            /* [cap] bytes covered; 0 marks a merged-away symbol */
    size_t n, cap;
    heap_ent *heap;           /* [hcap] */
    size_t hn, hcap;
    char *tmp;                /* prefix/suffix concatenation */
    size_t tmp_cap;
    int32_t *ids;             /* the output ids */
    size_t n_ids, ids_cap;
} bpe_work;

static void out_id(bpe_work *w, int32_t id)
{
    if (w->n_ids == w->ids_cap) {
        w->ids_cap = w->ids_cap ? 2 * w->ids_cap : 64;
        w->ids = xrealloc(w->ids, w->ids_cap * sizeof *w->ids);
    }
    w->ids[w->n_ids++] = id;
}

static void sym_add(bpe_work *w, int32_t id, uint32_t len)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->c = xrealloc(w->c, w->cap * sizeof *w->c);
        w->prev = xrealloc(w->prev, w->cap * sizeof *w->prev);
        w->next = xrealloc(w->next, w->cap * sizeof *w->next);
        w->len = xrealloc(w->len, w->cap * sizeof *w->len);
    }
    size_t i = w->n++;
    w->c[i] = id;
    w->len[i] = len;
    w->prev[i] = (int32_t)i - 1;
    w->next[i] = -1;
    if (i > 0)
        w->next[i - 1] = (int32_t)i;
}

static int heap_less(const heap_ent *a, const heap_ent *b)
{
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(bpe_work *w, uint32_t rank, uint32_t pos, int32_t new_id)
{
    if (w->hn == w->hcap) {
        w->hcap = w->hcap ? 2 * w->hcap : 64;
        w->heap = xrealloc(w->heap, w->hcap * sizeof *w->heap);
    }
    size_t i = w->hn++;
    heap_ent e = {rank, pos, new_id};
    while (i > 0 && heap_less(&e, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = e;
}

static heap_ent heap_pop(bpe_work *w)
{
    heap_ent top = w->heap[0], last = w->heap[--w->hn];
    size_t i = 0, n = w->hn;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_less(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!heap_less(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n > 0)
        w->heap[i] = last;
    return top;
}

static void try_pair(const tokenizer *t, bpe_work *w, int32_t pos)
{
    int32_t nx = w->next[pos];
    if (nx < 0)
        return;
    const merge_slot *m = merge_find(t, w->c[pos], w->c[nx]);
    if (m)
        heap_push(w, m->rank, (uint32_t)pos, m->new_id);
}

static void merge_all(const tokenizer *t, bpe_work *w)
{
    w->hn = 0;
    for (size_t i = 0; i + 1 < w->n; i++)
        try_pair(t, w, (int32_t)i);
    while (w->hn > 0) {
        heap_ent top = heap_pop(w);
        int32_t pos = (int32_t)top.pos, right = w->next[pos];
        if (w->len[pos] == 0 || right < 0)
            continue;
        const merge_slot *m = merge_find(t, w->c[pos], w->c[right]);
        if (!m || m->new_id != top.new_id) /* stale entry */
            continue;
        w->c[pos] = top.new_id;
        w->len[pos] += w->len[right];
        w->next[pos] = w->next[right];
        w->len[right] = 0;
        if (w->next[right] >= 0)
            w->prev[w->next[right]] = pos;
        if (w->prev[pos] >= 0)
            try_pair(t, w, w->prev[pos]);
        try_pair(t, w, pos);
    }
}

/* Id of one character (with prefix/suffix attached when configured). */
static int32_t char_id(const tokenizer *t, bpe_work *w, const char *s, size_t k, uint32_t cp,
                       int first, int last)
{
    int pre = !first && t->prefix, suf = last && t->suffix;
    if (!pre && !suf)
        return cp < SMALL_CHARS ? t->small_char[cp] : vocab_find(t, s, k);
    size_t need = k + (pre ? t->prefix_len : 0) + (suf ? t->suffix_len : 0), o = 0;
    if (w->tmp_cap < need) {
        w->tmp_cap = 2 * need;
        w->tmp = xrealloc(w->tmp, w->tmp_cap);
    }
    if (pre)
        memcpy(w->tmp, t->prefix, t->prefix_len), o = t->prefix_len;
    memcpy(w->tmp + o, s, k);
    o += k;
    if (suf)
        memcpy(w->tmp + o, t->suffix, t->suffix_len), o += t->suffix_len;
    return vocab_find(t, w->tmp, o);
}

/* Tokenize one pre-tokenized piece s[0..len) into w->ids. */
static int bpe_piece(const tokenizer *t, bpe_work *w, const char *s, size_t len, mn_err *err)
{
    if (t->ignore_merges) {
        int32_t id = vocab_find(t, s, len);
        if (id >= 0) {
            out_id(w, id);
            return MN_OK;
        }
    }
    w->n = 0;
    int32_t unk = -1;
    uint32_t unk_len = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, len - i, &cp);
        if (k == 0)
            return mn_errf(err, MN_EFORMAT, "text: invalid UTF-8 inside a pre-token");
        int32_t id = char_id(t, w, s + i, k, cp, i == 0, i + k == len);
        i += k;
        if (id >= 0) {
            if (unk >= 0)
                sym_add(w, unk, unk_len), unk = -1;
            sym_add(w, id, (uint32_t)k);
            continue;
        }
        if (t->byte_fallback) {
            size_t b = 0;
            while (b < k && t->fallback_id[(unsigned char)s[i - k + b]] >= 0)
                b++;
            if (b == k) {
                for (b = 0; b < k; b++)
                    sym_add(w, t->fallback_id[(unsigned char)s[i - k + b]], 1);
                continue;
            }
        }
        if (t->unk_id == -2)
            return mn_errf(err, MN_EFORMAT, "model.unk_token: '%s' is not in model.vocab",
                           t->unk_name);
        if (t->unk_id >= 0) {
            if (unk >= 0 && t->fuse_unk)
                unk_len += (uint32_t)k;
            else {
                if (unk >= 0)
                    sym_add(w, unk, unk_len);
                unk = t->unk_id;
                unk_len = (uint32_t)k;
            }
        }
    }
    if (unk >= 0)
        sym_add(w, unk, unk_len);
    merge_all(t, w);
    for (size_t i = 0; i < w->n; i++)
        if (w->len[i] != 0)
            out_id(w, w->c[i]);
    return MN_OK;
}

static void bpe_work_free(bpe_work *w)
{
    free(w->c);
    free(w->prev);
    free(w->next);
    free(w->len);
    free(w->heap);
    free(w->tmp);
    free(w->ids);
}

/* ------------------------------------------------------------------------
 * encode / decode
 * ------------------------------------------------------------------------ */

/* Stage 2: normalize text pieces, then split out normalized added tokens. */
static int normalize_pieces(const tokenizer *t, int plain, const tok_pieces *in, tok_pieces *out,
                            mn_err *err)
{
    tok_pieces_clear(out);
    for (size_t k = 0; k < in->n; k++) {
        const tok_piece *p = &in->p[k];
        if (p->id >= 0) {
            tok_pieces_push_token(out, p->id);
            continue;
        }
        char *norm = NULL;
        size_t nlen = 0;
        const char *s = in->buf + p->off;
        size_t len = p->len;
        if (t->norm) {
            int rc = tok_normalize(t->norm, s, len, &norm, &nlen, err);
            if (rc)
                return rc;
            s = norm;
            len = nlen;
        }
        if (t->norm_trie.n)
            added_split_str(t, &t->norm_trie, plain, s, len, out);
        else
            tok_pieces_push_text(out, s, len);
        free(norm);
    }
    return MN_OK;
}

int tokenizer_encode(const tokenizer *t, const char *text, size_t len, int flags, int32_t **ids,
                     size_t *n, mn_err *err)
{
    *ids = NULL;
    *n = 0;
    size_t ok = utf8_valid_prefix(text, len);
    if (ok != len)
        return mn_errf(err, MN_EFORMAT, "text: byte %zu: invalid UTF-8", ok);
    if (len == 0)
        return MN_OK;
    int plain = (flags & TOK_PLAIN_SPECIAL) != 0, rc = MN_OK;
    tok_pieces a = {0}, b = {0};
    bpe_work w = {0};
    added_split_str(t, &t->raw_trie, plain, text, len, &a);
    if (t->norm || t->norm_trie.n) {
        if ((rc = normalize_pieces(t, plain, &a, &b, err)))
            goto done;
        tok_pieces_swap(&a, &b);
    }
    if ((rc = tok_pretok_apply(t->pretok, &a, &b, err)))
        goto done;
    for (size_t k = 0; k < a.n && !rc; k++) {
        if (a.p[k].id >= 0)
            out_id(&w, a.p[k].id);
        else
            rc = bpe_piece(t, &w, a.buf + a.p[k].off, a.p[k].len, err);
    }
    if (!rc) {
        *ids = w.ids;
        *n = w.n_ids;
        w.ids = NULL;
    }
done:
    tok_pieces_free(&a);
    tok_pieces_free(&b);
    bpe_work_free(&w);
    return rc;
}

int tokenizer_token_str(const tokenizer *t, int32_t id, const char **s, size_t *len, mn_err *err)
{
    if (id < 0 || id >= t->n_ids)
        return mn_errf(err, MN_ERANGE, "token id %ld is outside the vocabulary (%ld ids)",
                       (long)id, (long)t->n_ids);
    if (t->added_of[id] >= 0) {
        const added_tok *a = &t->added[t->added_of[id]];
        *s = a->content;
        *len = a->len;
        return MN_OK;
    }
    if (t->m_len[id] == NO_TOKEN)
        return mn_errf(err, MN_ERANGE, "token id %ld has no token (a gap in the vocabulary)",
                       (long)id);
    *s = t->pool + t->m_off[id];
    *len = t->m_len[id];
    return MN_OK;
}

/* Append a token's bytes to buf the way the ByteLevel decoder does: every
 * character mapped back to its byte, or — when some character is outside
 * the alphabet — the token's UTF-8 bytes unchanged. */
static size_t bytelevel_token(const char *s, size_t len, char *dst)
{
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, len - i, &cp);
        int b = k ? tok_bytelevel_byte(cp) : -1;
        if (b < 0) {
            memcpy(dst, s, len);
            return len;
        }
        dst[w++] = (char)b;
        i += k;
    }
    return w;
}

int tokenizer_decode(const tokenizer *t, const int32_t *ids, size_t n, char **text, size_t *len,
                     mn_err *err)
{
    *text = NULL;
    *len = 0;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t l;
        int rc = tokenizer_token_str(t, ids[i], &s, &l, err);
        if (rc) {
            if (err)
                mn_err_prefix(err, "ids[%zu]: ", i);
            return rc;
        }
        if (t->added_of[ids[i]] >= 0)
            l = t->added[t->added_of[ids[i]]].form_len;
        total += l + 1;
    }
    char *raw = xmalloc(total + 1), *out;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t l;
        (void)tokenizer_token_str(t, ids[i], &s, &l, NULL);
        if (t->added_of[ids[i]] >= 0) { /* HF simple_id_to_token: the normalized form */
            s = t->added[t->added_of[ids[i]]].form;
            l = t->added[t->added_of[ids[i]]].form_len;
        }
        if (t->decoder == DEC_BYTELEVEL)
            w += bytelevel_token(s, l, raw + w);
        else { /* no decoder: HF joins the tokens with spaces */
            if (i > 0)
                raw[w++] = ' ';
            memcpy(raw + w, s, l);
            w += l;
        }
    }
    out = xmalloc(3 * w + 1);
    size_t m = utf8_lossy(raw, w, out);
    out[m] = 0;
    free(raw);
    *text = out;
    *len = m;
    return MN_OK;
}

int32_t tokenizer_vocab_size(const tokenizer *t)
{
    return t->n_ids;
}

int32_t tokenizer_token_id(const tokenizer *t, const char *s, size_t len)
{
    if (t->aslot) {
        size_t i = hash_bytes(s, len) & t->amask;
        for (int32_t k; (k = t->aslot[i]) >= 0; i = (i + 1) & t->amask)
            if (t->added[k].len == len && memcmp(t->added[k].content, s, len) == 0)
                return t->added[k].id;
    }
    return vocab_find(t, s, len);
}

int tokenizer_is_special(const tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->n_ids && t->added_of[id] >= 0 && t->added[t->added_of[id]].special;
}

int32_t tokenizer_bos_id(const tokenizer *t)
{
    return t->bos_id;
}

/* ------------------------------------------------------------------------
 * loading
 * ------------------------------------------------------------------------ */

void tokenizer_free(tokenizer *t)
{
    if (!t)
        return;
    free(t->pool);
    free(t->m_off);
    free(t->m_len);
    free(t->vslot);
    free(t->mslot);
    free(t->unk_name);
    free(t->prefix);
    free(t->suffix);
    for (size_t i = 0; i < t->n_added; i++) {
        if (t->added[i].form != t->added[i].content)
            free(t->added[i].form);
        free(t->added[i].content);
    }
    free(t->added);
    free(t->added_of);
    free(t->aslot);
    free(t->raw_trie.nodes);
    free(t->norm_trie.nodes);
    tok_normalizer_free(t->norm);
    tok_pretok_free(t->pretok);
    free(t);
}

/* An integer id in [0, MAX_IDS), else a format error naming key. */
static int json_id(const char *what, const char *key, const json_t *v, int32_t *out, mn_err *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= MAX_IDS)
        return mn_errf(err, MN_EFORMAT, "%s: %s: id must be an integer in [0, %d)", what, key,
                       MAX_IDS);
    *out = (int32_t)json_integer_value(v);
    return MN_OK;
}

/* Optional string member: absent or null -> NULL; "" is kept as "". */
static int json_opt_string(const char *what, const json_t *j, const char *key, const char **out,
                           size_t *len, mn_err *err)
{
    const json_t *v = json_object_get(j, key);
    *out = NULL;
    *len = 0;
    if (!v || json_is_null(v))
        return MN_OK;
    if (!json_is_string(v))
        return mn_errf(err, MN_EFORMAT, "%s: model.%s: expected a string or null", what, key);
    *out = json_string_value(v);
    *len = json_string_length(v);
    return MN_OK;
}

static int json_opt_bool(const char *what, const char *key_path, const json_t *j, const char *key,
                         int dflt, int *out, mn_err *err)
{
    const json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return MN_OK;
    }
    if (!json_is_boolean(v))
        return mn_errf(err, MN_EFORMAT, "%s: %s.%s: expected true or false", what, key_path, key);
    *out = json_is_true(v);
    return MN_OK;
}

/* Quote at most 60 bytes of a token for messages. */
#define TOKQ(s, l) (int)((l) > 60 ? 60 : (l)), (s)

static int load_vocab(tokenizer *t, const char *what, const json_t *vocab, int32_t max_added,
                      mn_err *err)
{
    const char *key;
    size_t klen, pool_len = 0;
    json_t *v;
    int32_t vmax = max_added;
    if (!json_is_object(vocab))
        return mn_errf(err, MN_EFORMAT, "%s: model.vocab: missing or not an object", what);
    json_object_keylen_foreach((json_t *)vocab, key, klen, v)
    {
        int32_t id;
        char k[96];
        snprintf(k, sizeof k, "model.vocab['%.*s']", TOKQ(key, klen));
        int rc = json_id(what, k, v, &id, err);
        if (rc)
            return rc;
        vmax = id > vmax ? id : vmax;
        pool_len += klen;
    }
    if (pool_len >= UINT32_MAX)
        return mn_errf(err, MN_EUNSUPPORTED, "%s: model.vocab: more than 4 GiB of token text", what);
    t->n_ids = vmax + 1;
    t->n_model = json_object_size(vocab);
    t->pool = xmalloc(pool_len + 1);
    t->m_off = xmalloc((size_t)t->n_ids * sizeof *t->m_off);
    t->m_len = xmalloc((size_t)t->n_ids * sizeof *t->m_len);
    memset(t->m_len, 0xff, (size_t)t->n_ids * sizeof *t->m_len); /* NO_TOKEN */
    t->vmask = table_size(t->n_model) - 1;
    t->vslot = xmalloc((t->vmask + 1) * sizeof *t->vslot);
    memset(t->vslot, 0xff, (t->vmask + 1) * sizeof *t->vslot); /* -1 */
    size_t off = 0;
    json_object_keylen_foreach((json_t *)vocab, key, klen, v)
    {
        int32_t id = (int32_t)json_integer_value(v);
        if (t->m_len[id] != NO_TOKEN)
            return mn_errf(err, MN_EFORMAT, "%s: model.vocab['%.*s']: id %ld is also '%.*s'", what,
                           TOKQ(key, klen), (long)id, TOKQ(t->pool + t->m_off[id], t->m_len[id]));
        memcpy(t->pool + off, key, klen);
        t->m_off[id] = (uint32_t)off;
        t->m_len[id] = (uint32_t)klen;
        off += klen;
        vocab_insert(t, id);
    }
    for (uint32_t cp = 0; cp < SMALL_CHARS; cp++) {
        char buf[4];
        t->small_char[cp] = (cp >= 0xD800 && cp <= 0xDFFF) ? -1 : vocab_find(t, buf, utf8_encode(cp, buf));
    }
    return MN_OK;
}

/* One merge: "A B" (exactly one space) or ["A", "B"].  *skip for the
 * "#version" header line of legacy merges. */
static int merge_parts(const char *what, size_t i, const json_t *m, const char **a, size_t *al,
                       const char **b, size_t *bl, int *skip, mn_err *err)
{
    *skip = 0;
    if (json_is_string(m)) {
        const char *s = json_string_value(m), *sp;
        size_t len = json_string_length(m);
        if (len >= 8 && memcmp(s, "#version", 8) == 0) {
            *skip = 1;
            return MN_OK;
        }
        sp = memchr(s, ' ', len);
        if (!sp || memchr(sp + 1, ' ', len - (size_t)(sp + 1 - s)))
            return mn_errf(err, MN_EFORMAT, "%s: model.merges[%zu]: expected \"A B\" with one space",
                           what, i);
        *a = s;
        *al = (size_t)(sp - s);
        *b = sp + 1;
        *bl = len - *al - 1;
        return MN_OK;
    }
    if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
        json_is_string(json_array_get(m, 1))) {
        *a = json_string_value(json_array_get(m, 0));
        *al = json_string_length(json_array_get(m, 0));
        *b = json_string_value(json_array_get(m, 1));
        *bl = json_string_length(json_array_get(m, 1));
        return MN_OK;
    }
    return mn_errf(err, MN_EFORMAT, "%s: model.merges[%zu]: expected \"A B\" or [\"A\", \"B\"]",
                   what, i);
}

static int load_merges(tokenizer *t, const char *what, const json_t *merges, mn_err *err)
{
    if (!json_is_array(merges))
        return mn_errf(err, MN_EFORMAT, "%s: model.merges: missing or not an array", what);
    size_t n = json_array_size(merges), cat_cap = 256;
    char *cat = xmalloc(cat_cap);
    int rc = MN_OK;
    uint32_t rank = 0;
    t->mmask = table_size(n) - 1;
    t->mslot = xmalloc((t->mmask + 1) * sizeof *t->mslot);
    for (size_t i = 0; i <= t->mmask; i++)
        t->mslot[i].key = EMPTY_KEY;
    for (size_t i = 0; i < n; i++) {
        const char *a = NULL, *b = NULL;
        size_t al = 0, bl = 0;
        int skip;
        if ((rc = merge_parts(what, i, json_array_get(merges, i), &a, &al, &b, &bl, &skip, err)))
            break;
        if (skip)
            continue;
        int32_t ia = vocab_find(t, a, al), ib = vocab_find(t, b, bl);
        if (ia < 0 || ib < 0) {
            rc = mn_errf(err, MN_EFORMAT, "%s: model.merges[%zu]: token '%.*s' is not in model.vocab",
                         what, i, TOKQ(ia < 0 ? a : b, ia < 0 ? al : bl));
            break;
        }
        if (bl < t->prefix_len) { /* the merged token is A + B minus B's prefix */
            rc = mn_errf(err, MN_EFORMAT, "%s: model.merges[%zu]: '%.*s' is shorter than "
                         "continuing_subword_prefix", what, i, TOKQ(b, bl));
            break;
        }
        size_t cl = al + bl - t->prefix_len;
        if (cl > cat_cap)
            cat = xrealloc(cat, cat_cap = 2 * cl);
        memcpy(cat, a, al);
        memcpy(cat + al, b + t->prefix_len, bl - t->prefix_len);
        int32_t ic = vocab_find(t, cat, cl);
        if (ic < 0) {
            rc = mn_errf(err, MN_EFORMAT,
                         "%s: model.merges[%zu]: merged token '%.*s' is not in model.vocab", what,
                         i, TOKQ(cat, cl));
            break;
        }
        merge_put(t, ia, ib, rank++, ic);
    }
    free(cat);
    return rc;
}

static int load_model(tokenizer *t, const char *what, const json_t *model, int32_t max_added,
                      mn_err *err)
{
    const json_t *type = json_object_get(model, "type"), *dropout;
    const char *s;
    size_t l;
    int rc;
    if (!json_is_object(model))
        return mn_errf(err, MN_EFORMAT, "%s: model: missing or not an object", what);
    if (!json_is_string(type))
        return mn_errf(err, MN_EFORMAT, "%s: model.type: missing or not a string", what);
    if (strcmp(json_string_value(type), "BPE") != 0)
        return mn_errf(err, MN_EUNSUPPORTED, "%s: model.type: unsupported model type '%s'", what,
                       json_string_value(type));
    dropout = json_object_get(model, "dropout");
    if (dropout && !json_is_null(dropout) && json_number_value(dropout) != 0.0)
        return mn_errf(err, MN_EUNSUPPORTED, "%s: model.dropout: BPE dropout is not supported", what);
    if ((rc = json_opt_bool(what, "model", model, "ignore_merges", 0, &t->ignore_merges, err)) ||
        (rc = json_opt_bool(what, "model", model, "fuse_unk", 0, &t->fuse_unk, err)) ||
        (rc = json_opt_bool(what, "model", model, "byte_fallback", 0, &t->byte_fallback, err)))
        return rc;
    if ((rc = json_opt_string(what, model, "continuing_subword_prefix", &s, &l, err)))
        return rc;
    if (l > 0) {
        t->prefix = xmalloc(l);
        memcpy(t->prefix, s, l);
        t->prefix_len = l;
    }
    if ((rc = json_opt_string(what, model, "end_of_word_suffix", &s, &l, err)))
        return rc;
    if (l > 0) {
        t->suffix = xmalloc(l);
        memcpy(t->suffix, s, l);
        t->suffix_len = l;
    }
    if ((rc = load_vocab(t, what, json_object_get(model, "vocab"), max_added, err)) ||
        (rc = load_merges(t, what, json_object_get(model, "merges"), err)))
        return rc;
    if ((rc = json_opt_string(what, model, "unk_token", &s, &l, err)))
        return rc;
    t->unk_id = -1;
    if (s) {
        t->unk_name = xstrdup(s);
        t->unk_id = vocab_find(t, s, l);
        if (t->unk_id < 0) /* HF only fails when the unk token is needed */
            t->unk_id = -2;
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->fallback_id[b] = vocab_find(t, name, 6);
    }
    return MN_OK;
}

/* Largest "id" among added_tokens (-1 when none); validates their shape. */
static int scan_added(const char *what, const json_t *list, int32_t *max_id, mn_err *err)
{
    *max_id = -1;
    if (!list || json_is_null(list))
        return MN_OK;
    if (!json_is_array(list))
        return mn_errf(err, MN_EFORMAT, "%s: added_tokens: expected an array", what);
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *a = json_array_get(list, i);
        char key[64];
        int32_t id;
        snprintf(key, sizeof key, "added_tokens[%zu].id", i);
        if (!json_is_object(a))
            return mn_errf(err, MN_EFORMAT, "%s: added_tokens[%zu]: expected an object", what, i);
        if (!json_is_string(json_object_get(a, "content")))
            return mn_errf(err, MN_EFORMAT, "%s: added_tokens[%zu].content: missing or not a string",
                           what, i);
        int rc = json_id(what, key, json_object_get(a, "id"), &id, err);
        if (rc)
            return rc;
        *max_id = id > *max_id ? id : *max_id;
    }
    return MN_OK;
}

/* Register added_tokens the way HF's AddedVocabulary::add_tokens assigns
 * ids: a token already known (added earlier or in model.vocab) keeps that
 * id, a new one takes the next id from len(model.vocab) up.  The file's
 * "id" must agree. */
static int load_added(tokenizer *t, const char *what, const json_t *list, mn_err *err)
{
    size_t n = json_array_size(list); /* 0 for null */
    int32_t next_id = (int32_t)t->n_model;
    t->added = xcalloc(n ? n : 1, sizeof *t->added);
    t->added_of = xmalloc((size_t)t->n_ids * sizeof *t->added_of);
    t->amask = table_size(n) - 1;
    t->aslot = xmalloc((t->amask + 1) * sizeof *t->aslot);
    memset(t->aslot, 0xff, (t->amask + 1) * sizeof *t->aslot);
    memset(t->added_of, 0xff, (size_t)t->n_ids * sizeof *t->added_of);
    for (size_t i = 0; i < n; i++) {
        const json_t *j = json_array_get(list, i), *c = json_object_get(j, "content");
        const char *s = json_string_value(c);
        size_t len = json_string_length(c);
        int32_t file_id = (int32_t)json_integer_value(json_object_get(j, "id"));
        char kp[48];
        int special = 0, single_word = 0, lstrip = 0, rstrip = 0, normalized = 0, rc;
        snprintf(kp, sizeof kp, "added_tokens[%zu]", i);
        if ((rc = json_opt_bool(what, kp, j, "special", 0, &special, err)) ||
            (rc = json_opt_bool(what, kp, j, "single_word", 0, &single_word, err)) ||
            (rc = json_opt_bool(what, kp, j, "lstrip", 0, &lstrip, err)) ||
            (rc = json_opt_bool(what, kp, j, "rstrip", 0, &rstrip, err)) ||
            (rc = json_opt_bool(what, kp, j, "normalized", !special, &normalized, err)))
            return rc;
        if (len == 0) /* HF ignores empty added tokens */
            continue;
        int32_t id = tokenizer_token_id(t, s, len);
        if (id < 0)
            id = next_id++;
        if (id != file_id)
            return mn_errf(err, MN_EFORMAT,
                           "%s: %s: '%.*s' has id %ld, but tokenizers would give it id %ld", what,
                           kp, TOKQ(s, len), (long)file_id, (long)id);
        added_tok *a;
        int added_insert = 0;
        if (t->added_of[id] >= 0) { /* the same content again: the later flags win */
            a = &t->added[t->added_of[id]];
            if (a->form != a->content)
                free(a->form);
            free(a->content);
        } else {
            a = &t->added[t->n_added];
            t->added_of[id] = (int32_t)t->n_added++;
            added_insert = 1;
        }
        a->id = id;
        a->content = xmalloc(len + 1);
        memcpy(a->content, s, len);
        a->content[len] = 0;
        a->len = len;
        a->form = a->content;
        a->form_len = len;
        a->special |= (unsigned char)special; /* HF's special set only grows */
        a->single_word = (unsigned char)single_word;
        a->lstrip = (unsigned char)lstrip;
        a->rstrip = (unsigned char)rstrip;
        a->normalized = (unsigned char)normalized;
        if (added_insert)
            added_hash_insert(t, t->added_of[id]);
        if (normalized && t->norm) {
            char *f;
            size_t fl;
            if ((rc = tok_normalize(t->norm, s, len, &f, &fl, err))) {
                if (err)
                    mn_err_prefix(err, "%s: %s.content: ", what, kp);
                return rc;
            }
            a->form = f;
            a->form_len = fl;
        }
    }
    for (size_t i = 0; i < t->n_added; i++) {
        const added_tok *a = &t->added[i];
        if (a->form_len > 0)
            trie_insert(a->normalized ? &t->norm_trie : &t->raw_trie, a->form, a->form_len,
                        (int32_t)i);
    }
    return MN_OK;
}

static int load_decoder(tokenizer *t, const char *what, const json_t *d, mn_err *err)
{
    t->decoder = DEC_NONE;
    if (!d || json_is_null(d))
        return MN_OK;
    const json_t *type = json_object_get(d, "type");
    if (!json_is_string(type))
        return mn_errf(err, MN_EFORMAT, "%s: decoder.type: missing or not a string", what);
    if (strcmp(json_string_value(type), "ByteLevel") != 0)
        return mn_errf(err, MN_EUNSUPPORTED, "%s: decoder.type: unsupported decoder '%s'", what,
                       json_string_value(type));
    t->decoder = DEC_BYTELEVEL;
    return MN_OK;
}

/* BOS = the first SpecialToken of a TemplateProcessing "single" template. */
static int32_t find_bos(const json_t *pp)
{
    const json_t *type = json_object_get(pp, "type");
    if (!json_is_string(type))
        return -1;
    if (!strcmp(json_string_value(type), "Sequence")) {
        const json_t *list = json_object_get(pp, "processors");
        for (size_t i = 0; i < json_array_size(list); i++) {
            int32_t id = find_bos(json_array_get(list, i));
            if (id >= 0)
                return id;
        }
        return -1;
    }
    if (strcmp(json_string_value(type), "TemplateProcessing") != 0)
        return -1;
    const json_t *first = json_array_get(json_object_get(pp, "single"), 0);
    const json_t *name = json_object_get(json_object_get(first, "SpecialToken"), "id");
    if (!json_is_string(name))
        return -1;
    const json_t *st = json_object_get(json_object_get(pp, "special_tokens"),
                                       json_string_value(name));
    const json_t *id = json_array_get(json_object_get(st, "ids"), 0);
    return json_is_integer(id) && json_integer_value(id) >= 0 ? (int32_t)json_integer_value(id) : -1;
}

static int load_json(const char *what, const json_t *root, tokenizer **out, mn_err *err)
{
    *out = NULL;
    if (!json_is_object(root))
        return mn_errf(err, MN_EFORMAT, "%s: expected a JSON object at the top level", what);
    const json_t *ver = json_object_get(root, "version");
    if (ver && !(json_is_string(ver) && !strcmp(json_string_value(ver), "1.0")))
        return mn_errf(err, MN_EUNSUPPORTED, "%s: version: expected \"1.0\"", what);
    const json_t *model = json_object_get(root, "model"), *added = json_object_get(root, "added_tokens");
    if (!model)
        return mn_errf(err, MN_EFORMAT, "%s: model: missing", what);
    tokenizer *t = xcalloc(1, sizeof *t);
    char key[600];
    int32_t max_added;
    int rc;
    if ((rc = scan_added(what, added, &max_added, err)) ||
        (rc = load_model(t, what, model, max_added, err)))
        goto fail;
    snprintf(key, sizeof key, "%s: normalizer", what);
    if ((rc = tok_normalizer_parse(key, json_object_get(root, "normalizer"), &t->norm, err)))
        goto fail;
    snprintf(key, sizeof key, "%s: pre_tokenizer", what);
    if ((rc = tok_pretok_parse(key, json_object_get(root, "pre_tokenizer"), &t->pretok, err)) ||
        (rc = load_added(t, what, added, err)) ||
        (rc = load_decoder(t, what, json_object_get(root, "decoder"), err)))
        goto fail;
    t->bos_id = find_bos(json_object_get(root, "post_processor"));
    if (t->bos_id >= t->n_ids)
        t->bos_id = -1;
    *out = t;
    return MN_OK;
fail:
    tokenizer_free(t);
    return rc;
}

int tokenizer_load_mem(const char *what, const char *buf, size_t len, tokenizer **out, mn_err *err)
{
    json_t *root;
    *out = NULL;
    int rc = json_load_mem(what, buf, len, &root, err);
    if (rc)
        return rc;
    rc = load_json(what, root, out, err);
    json_decref(root);
    return rc;
}

int tokenizer_load(const char *path, tokenizer **out, mn_err *err)
{
    json_t *root;
    *out = NULL;
    int rc = json_load_path(path, &root, err);
    if (rc)
        return rc;
    rc = load_json(path, root, out, err);
    json_decref(root);
    return rc;
}
