/* tokenizer.c — encoding and decoding with a loaded tokenizer (see
 * tokenizer.h): added-token matching, the BPE merge loop, encode, decode
 * and the id/string lookups.  Loading tokenizer.json lives in
 * tokenizer_load.c, the normalizer and pre-tokenizer stages in
 * pretokenize.c, the shared structs in tokenizer_int.h.
 *
 * Encode pipeline (HF `TokenizerImpl::encode_single_sequence`):
 *   1. split out added tokens with normalized=false, on the raw text;
 *   2. normalize the other pieces, then split out added tokens with
 *      normalized=true, on the normalized text;
 *   3. pre-tokenize (Split regex, ByteLevel byte -> alphabet mapping);
 *   4. BPE each piece (ignore_merges: a piece that is itself in the vocab
 *      is that one id).
 *
 * The merge loop is HF's Word::merge_all: a min-heap of candidate merges
 * ordered by (rank, position), stale entries skipped when popped;
 * O(n log n) per piece.
 * Non-goals: parsing tokenizer.json, offsets, truncation, padding,
 * post-processing templates, a cross-call cache (a piece costs
 * microseconds; the handle stays read-only and thread-safe). */
#include "model/tokenizer.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "model/pretokenize.h"   /* tok_normalize, tok_pretok_apply, tok_bytelevel_byte */
#include "model/tokenizer_int.h" /* struct tokenizer, tok_pieces, vocab_find, merge_find */
#include "util/utf8.h"           /* utf8_valid_prefix, utf8_decode, utf8_lossy */

/* ------------------------------------------------------------------------
 * trie of added tokens
 * ------------------------------------------------------------------------ */

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
