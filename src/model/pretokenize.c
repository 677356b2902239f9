/* pretokenize.c — normalizer, pre-tokenizer and byte-level alphabet of a
 * tokenizer.json (see pretokenize.h), plus the tok_pieces list they share
 * with tokenizer.c.
 *
 * Regex flavour.  HF `tokenizers` compiles Split patterns with Oniguruma.
 * PCRE2 (UTF + UCP) agrees with it on everything these files use —
 * \p{L}, \p{N}, (?i:...), lookahead, greedy/backtracking alternation order —
 * except a few escapes whose Unicode meaning differs; onig_to_pcre2()
 * rewrites those before compiling:
 *   \s  Oniguruma: U+0009..000D, U+0085 and \p{Z}.  PCRE2 also takes U+180E.
 *   \h  Oniguruma: a hexadecimal digit.  PCRE2: horizontal white space.
 *   \w  Oniguruma: \p{L} \p{M} \p{N} \p{Pc}.  PCRE2 10.42: \p{L} \p{N} _.
 * Inside a character class \S is kept as PCRE2's (differs only at U+180E);
 * \H and \W inside a class have no such rewrite and are refused.
 * Non-goals: Oniguruma's nested classes and other syntax extensions. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "model/pretokenize.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "util/utf8.h" /* utf8_decode, utf8_encode */

/* ------------------------------------------------------------------------
 * tok_pieces (declared in tokenizer_int.h)
 * ------------------------------------------------------------------------ */

char *tok_pieces_reserve(tok_pieces *l, size_t more)
{
    if (l->cap - l->len < more) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap - l->len < more)
            cap *= 2;
        l->buf = xrealloc(l->buf, cap);
        l->cap = cap;
    }
    return l->buf + l->len;
}

static void pieces_push(tok_pieces *l, size_t off, size_t len, int32_t id)
{
    if (l->n == l->pcap) {
        l->pcap = l->pcap ? 2 * l->pcap : 64;
        l->p = xrealloc(l->p, l->pcap * sizeof *l->p);
    }
    l->p[l->n++] = (tok_piece){off, len, id};
}

void tok_pieces_commit_text(tok_pieces *l, size_t written)
{
    if (written == 0)
        return;
    pieces_push(l, l->len, written, -1);
    l->len += written;
}

void tok_pieces_push_text(tok_pieces *l, const char *s, size_t len)
{
    if (len == 0)
        return;
    memcpy(tok_pieces_reserve(l, len), s, len);
    tok_pieces_commit_text(l, len);
}

void tok_pieces_push_token(tok_pieces *l, int32_t id)
{
    pieces_push(l, l->len, 0, id);
}

void tok_pieces_free(tok_pieces *l)
{
    free(l->buf);
    free(l->p);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------------------------------
 * GPT-2 bytes_to_unicode
 *
 * Printable bytes (! .. ~, ¡ .. ¬, ® .. ÿ) stand for themselves; the other 68
 * bytes, in increasing order, get U+0100 .. U+0143 (so ' ' -> U+0120 'Ġ').
 * ------------------------------------------------------------------------ */

uint32_t tok_bytelevel_char(uint8_t b)
{
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)
        return b;
    if (b <= 0x20)
        return 256u + b;            /* 0x00..0x20 -> U+0100..U+0120 */
    if (b <= 0xA0)
        return 256u + 33 + (b - 0x7Fu); /* 0x7F..0xA0 -> U+0121..U+0142 */
    return 256u + 67;                /* 0xAD -> U+0143 */
}

int tok_bytelevel_byte(uint32_t cp)
{
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
        return (int)cp;
    if (cp >= 256 && cp <= 288)
        return (int)(cp - 256);
    if (cp >= 289 && cp <= 322)
        return (int)(cp - 289 + 0x7F);
    if (cp == 323)
        return 0xAD;
    return -1;
}

/* ------------------------------------------------------------------------
 * small JSON helpers (messages name the key path)
 * ------------------------------------------------------------------------ */

static int json_type_of(const char *what, const json_t *j, const char **type, mn_err *err)
{
    if (!json_is_object(j))
        return mn_errf(err, MN_EFORMAT, "%s: expected an object", what);
    const json_t *t = json_object_get(j, "type");
    if (!json_is_string(t))
        return mn_errf(err, MN_EFORMAT, "%s.type: missing or not a string", what);
    *type = json_string_value(t);
    return MN_OK;
}

/* Boolean member key of j; absent or null keeps dflt. */
static int json_bool_of(const char *what, const json_t *j, const char *key, int dflt, int *out,
                        mn_err *err)
{
    const json_t *v = json_object_get(j, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return MN_OK;
    }
    if (!json_is_boolean(v))
        return mn_errf(err, MN_EFORMAT, "%s.%s: expected true or false", what, key);
    *out = json_is_true(v);
    return MN_OK;
}

/* ------------------------------------------------------------------------
 * normalizer
 * ------------------------------------------------------------------------ */

#define NORM_MAX_STEPS 16

struct tok_normalizer {
    int n;
    int opts[NORM_MAX_STEPS]; /* utf8proc_option_t of each step, in order */
};

static int normalizer_add(const char *what, const json_t *j, tok_normalizer *n, int depth,
                          mn_err *err)
{
    const char *type;
    int rc = json_type_of(what, j, &type, err);
    if (rc)
        return rc;
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(j, "normalizers");
        if (!json_is_array(list))
            return mn_errf(err, MN_EFORMAT, "%s.normalizers: missing or not an array", what);
        if (depth > 4)
            return mn_errf(err, MN_EUNSUPPORTED, "%s: Sequence nested too deeply", what);
        for (size_t i = 0; i < json_array_size(list); i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s.normalizers[%zu]", what, i);
            if ((rc = normalizer_add(sub, json_array_get(list, i), n, depth + 1, err)))
                return rc;
        }
        return MN_OK;
    }
    int opt;
    if (!strcmp(type, "NFC"))
        opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    else if (!strcmp(type, "NFD"))
        opt = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
    else if (!strcmp(type, "NFKC"))
        opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    else if (!strcmp(type, "NFKD"))
        opt = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    else
        return mn_errf(err, MN_EUNSUPPORTED, "%s.type: unsupported normalizer '%s'", what, type);
    if (n->n == NORM_MAX_STEPS)
        return mn_errf(err, MN_EUNSUPPORTED, "%s: more than %d normalizer steps", what,
                       NORM_MAX_STEPS);
    n->opts[n->n++] = opt;
    return MN_OK;
}

int tok_normalizer_parse(const char *what, const json_t *j, tok_normalizer **out, mn_err *err)
{
    *out = NULL;
    if (!j || json_is_null(j))
        return MN_OK;
    tok_normalizer *n = xcalloc(1, sizeof *n);
    int rc = normalizer_add(what, j, n, 0, err);
    if (rc) {
        free(n);
        return rc;
    }
    *out = n;
    return MN_OK;
}

void tok_normalizer_free(tok_normalizer *n)
{
    free(n);
}

int tok_normalize(const tok_normalizer *n, const char *s, size_t len, char **out, size_t *out_len,
                  mn_err *err)
{
    char *cur = xmalloc(len ? len : 1);
    memcpy(cur, s, len);
    size_t cur_len = len;
    for (int i = 0; n && i < n->n && cur_len > 0; i++) {
        utf8proc_uint8_t *dst = NULL;
        /* No UTF8PROC_NULLTERM: the length bounds the input, so U+0000 stays. */
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)cur, (utf8proc_ssize_t)cur_len,
                                          &dst, (utf8proc_option_t)n->opts[i]);
        if (r < 0) {
            free(cur);
            return mn_errf(err, MN_EFORMAT, "normalizer step %d: %s", i, utf8proc_errmsg(r));
        }
        free(cur);
        cur = (char *)dst;
        cur_len = (size_t)r;
    }
    *out = cur;
    *out_len = cur_len;
    return MN_OK;
}

/* ------------------------------------------------------------------------
 * Oniguruma -> PCRE2 pattern rewrite
 * ------------------------------------------------------------------------ */

#define WS_SET "\\t-\\r\\x{85}\\p{Z}"
#define HEX_SET "0-9A-Fa-f"
#define WORD_SET "\\p{L}\\p{M}\\p{N}\\p{Pc}"

typedef struct patbuf {
    char *s;
    size_t *src; /* [len] source offset of each output byte */
    size_t len, cap;
} patbuf;

static void patbuf_put(patbuf *b, const char *s, size_t n, size_t src)
{
    if (b->cap - b->len < n) {
        while (b->cap - b->len < n)
            b->cap = b->cap ? 2 * b->cap : 64;
        b->s = xrealloc(b->s, b->cap);
        b->src = xrealloc(b->src, b->cap * sizeof *b->src);
    }
    memcpy(b->s + b->len, s, n);
    for (size_t i = 0; i < n; i++)
        b->src[b->len + i] = src;
    b->len += n;
}

/* Rewrite pat[0..len) into b.  Returns 0, or the source offset + 1 of an
 * escape that cannot be rewritten (\H or \W inside a class). */
static size_t onig_to_pcre2(const char *pat, size_t len, patbuf *b)
{
    int in_class = 0;
    size_t i = 0;
    while (i < len) {
        char c = pat[i];
        if (c == '\\' && i + 1 < len) {
            char e = pat[i + 1];
            const char *r = NULL;
            switch (e) {
            case 's': r = in_class ? WS_SET : "[" WS_SET "]"; break;
            case 'S': r = in_class ? "\\S" : "[^" WS_SET "]"; break;
            case 'h': r = in_class ? HEX_SET : "[" HEX_SET "]"; break;
            case 'H': if (in_class) return i + 1; r = "[^" HEX_SET "]"; break;
            case 'w': r = in_class ? WORD_SET : "[" WORD_SET "]"; break;
            case 'W': if (in_class) return i + 1; r = "[^" WORD_SET "]"; break;
            default: break;
            }
            if (r)
                patbuf_put(b, r, strlen(r), i);
            else
                patbuf_put(b, pat + i, 2, i); /* other escapes, incl. \[ and \] */
            i += 2;
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = 1;
            patbuf_put(b, pat + i, 1, i);
            i++;
            if (i < len && pat[i] == '^')
                patbuf_put(b, pat + i, 1, i), i++;
            if (i < len && pat[i] == ']') /* a leading ] is a literal */
                patbuf_put(b, pat + i, 1, i), i++;
            continue;
        }
        if (c == '[' && in_class && i + 1 < len && pat[i + 1] == ':') {
            const char *end = memmem(pat + i + 2, len - i - 2, ":]", 2);
            if (end) { /* POSIX class [:alpha:] */
                size_t n = (size_t)(end - (pat + i)) + 2;
                patbuf_put(b, pat + i, n, i);
                i += n;
                continue;
            }
        }
        if (c == ']' && in_class)
            in_class = 0;
        patbuf_put(b, pat + i, 1, i);
        i++;
    }
    return 0;
}

/* Compile an Oniguruma-syntax pattern.  what names the key in messages. */
static int regex_compile(const char *what, const char *pat, size_t len, pcre2_code **out,
                         mn_err *err)
{
    patbuf b = {0};
    size_t bad = onig_to_pcre2(pat, len, &b);
    if (bad) {
        free(b.s);
        free(b.src);
        return mn_errf(err, MN_EUNSUPPORTED,
                       "%s: byte %zu: \\%c inside a character class is not supported", what,
                       bad - 1, pat[bad]);
    }
    int ecode;
    PCRE2_SIZE eoff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)(b.s ? b.s : ""), b.len, PCRE2_UTF | PCRE2_UCP,
                                   &ecode, &eoff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ecode, msg, sizeof msg);
        size_t src = eoff < b.len ? b.src[eoff] : len;
        free(b.s);
        free(b.src);
        return mn_errf(err, MN_EFORMAT, "%s: byte %zu: bad regex: %s", what, src, (char *)msg);
    }
    free(b.s);
    free(b.src);
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* interpreter when JIT is unavailable */
    *out = re;
    return MN_OK;
}

/* ------------------------------------------------------------------------
 * pre-tokenizer steps
 * ------------------------------------------------------------------------ */

enum { PT_SPLIT, PT_BYTELEVEL };
enum { BH_REMOVED, BH_ISOLATED, BH_MERGED_PREV, BH_MERGED_NEXT, BH_CONTIGUOUS };

/* GPT-2's pattern, used by ByteLevel when use_regex is true. */
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

typedef struct pt_step {
    int kind;
    char *what;        /* key path, for match-time errors */
    pcre2_code *re;    /* Split Regex, or ByteLevel's GPT-2 pattern (NULL: none) */
    char *lit;         /* Split String pattern (re == NULL) */
    size_t lit_len;
    int behavior, invert;
    int add_prefix_space;
} pt_step;

struct tok_pretok {
    pt_step *steps;
    size_t n, cap;
};

static pt_step *pretok_new_step(tok_pretok *pt, const char *what)
{
    if (pt->n == pt->cap) {
        pt->cap = pt->cap ? 2 * pt->cap : 4;
        pt->steps = xrealloc(pt->steps, pt->cap * sizeof *pt->steps);
    }
    pt_step *s = &pt->steps[pt->n++];
    memset(s, 0, sizeof *s);
    s->what = xstrdup(what);
    return s;
}

static int parse_split(const char *what, const json_t *j, pt_step *s, mn_err *err)
{
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous"};
    const json_t *pat = json_object_get(j, "pattern");
    const json_t *re = json_object_get(pat, "Regex"), *str = json_object_get(pat, "String");
    char sub[600];
    int rc;
    if (json_is_string(re)) {
        snprintf(sub, sizeof sub, "%s.pattern.Regex", what);
        if ((rc = regex_compile(sub, json_string_value(re), json_string_length(re), &s->re, err)))
            return rc;
    } else if (json_is_string(str)) {
        if (json_string_length(str) == 0)
            return mn_errf(err, MN_EUNSUPPORTED, "%s.pattern.String: empty pattern", what);
        s->lit_len = json_string_length(str);
        s->lit = xmalloc(s->lit_len);
        memcpy(s->lit, json_string_value(str), s->lit_len);
    } else
        return mn_errf(err, MN_EFORMAT, "%s.pattern: expected {\"Regex\": ...} or {\"String\": ...}",
                       what);
    const json_t *bh = json_object_get(j, "behavior");
    if (!json_is_string(bh))
        return mn_errf(err, MN_EFORMAT, "%s.behavior: missing or not a string", what);
    s->behavior = -1;
    for (int k = 0; k < 5; k++)
        if (!strcmp(json_string_value(bh), names[k]))
            s->behavior = k;
    if (s->behavior < 0)
        return mn_errf(err, MN_EUNSUPPORTED, "%s.behavior: unsupported behavior '%s'", what,
                       json_string_value(bh));
    return json_bool_of(what, j, "invert", 0, &s->invert, err);
}

static int parse_bytelevel(const char *what, const json_t *j, pt_step *s, mn_err *err)
{
    int use_regex = 1, rc;
    /* Defaults are HF's ByteLevel::default(): add_prefix_space and use_regex true. */
    if ((rc = json_bool_of(what, j, "add_prefix_space", 1, &s->add_prefix_space, err)) ||
        (rc = json_bool_of(what, j, "use_regex", 1, &use_regex, err)))
        return rc;
    if (use_regex)
        return regex_compile("GPT-2 pattern", GPT2_PATTERN, sizeof GPT2_PATTERN - 1, &s->re, err);
    return MN_OK;
}

static int pretok_add(const char *what, const json_t *j, tok_pretok *pt, int depth, mn_err *err)
{
    const char *type;
    int rc = json_type_of(what, j, &type, err);
    if (rc)
        return rc;
    if (!strcmp(type, "Sequence")) {
        const json_t *list = json_object_get(j, "pretokenizers");
        if (!json_is_array(list))
            return mn_errf(err, MN_EFORMAT, "%s.pretokenizers: missing or not an array", what);
        if (depth > 4)
            return mn_errf(err, MN_EUNSUPPORTED, "%s: Sequence nested too deeply", what);
        for (size_t i = 0; i < json_array_size(list); i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s.pretokenizers[%zu]", what, i);
            if ((rc = pretok_add(sub, json_array_get(list, i), pt, depth + 1, err)))
                return rc;
        }
        return MN_OK;
    }
    if (!strcmp(type, "Split")) {
        pt_step *s = pretok_new_step(pt, what);
        s->kind = PT_SPLIT;
        return parse_split(what, j, s, err);
    }
    if (!strcmp(type, "ByteLevel")) {
        pt_step *s = pretok_new_step(pt, what);
        s->kind = PT_BYTELEVEL;
        return parse_bytelevel(what, j, s, err);
    }
    return mn_errf(err, MN_EUNSUPPORTED, "%s.type: unsupported pre-tokenizer '%s'", what, type);
}

int tok_pretok_parse(const char *what, const json_t *j, tok_pretok **out, mn_err *err)
{
    *out = NULL;
    if (!j || json_is_null(j))
        return MN_OK;
    tok_pretok *pt = xcalloc(1, sizeof *pt);
    int rc = pretok_add(what, j, pt, 0, err);
    if (rc) {
        tok_pretok_free(pt);
        return rc;
    }
    *out = pt;
    return MN_OK;
}

void tok_pretok_free(tok_pretok *pt)
{
    if (!pt)
        return;
    for (size_t i = 0; i < pt->n; i++) {
        pcre2_code_free(pt->steps[i].re);
        free(pt->steps[i].lit);
        free(pt->steps[i].what);
    }
    free(pt->steps);
    free(pt);
}

/* ------------------------------------------------------------------------
 * matching
 * ------------------------------------------------------------------------ */

/* One stretch of a piece: [a, b), and whether the pattern matched it. */
typedef struct span {
    size_t a, b;
    int m;
} span;

typedef struct spans {
    span *s;
    size_t n, cap;
} spans;

static void spans_push(spans *l, size_t a, size_t b, int m)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->s = xrealloc(l->s, l->cap * sizeof *l->s);
    }
    l->s[l->n++] = (span){a, b, m};
}

/* Search from start; 1 with *ms, *me set, 0 for no match, < 0 on error. */
static int regex_search(const pt_step *st, pcre2_match_data *md, const char *s, size_t len,
                        size_t start, size_t *ms, size_t *me, mn_err *err)
{
    int rc = pcre2_match(st->re, (PCRE2_SPTR)s, len, start, PCRE2_NO_UTF_CHECK, md, NULL);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) /* the interpreter keeps its stack on the heap */
        rc = pcre2_match(st->re, (PCRE2_SPTR)s, len, start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md,
                         NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return mn_errf(err, rc == PCRE2_ERROR_NOMEMORY ? MN_ENOMEM : MN_EFORMAT,
                       "%s: regex match at byte %zu of a %zu-byte piece failed: %s", st->what,
                       start, len, (char *)msg);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (ov[0] > ov[1] || ov[1] > len) /* \K can do this; HF has no equivalent */
        return mn_errf(err, MN_EUNSUPPORTED, "%s: match ends before it starts (\\K?)", st->what);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

/* HF's Pattern::find_matches: cover s[0..len) with matched and unmatched
 * spans.  Empty matches follow the onig crate's FindMatches: an empty match
 * right where the previous match ended is skipped by one character. */
static int find_matches(const pt_step *st, pcre2_match_data *md, const char *s, size_t len,
                        spans *out, mn_err *err)
{
    out->n = 0;
    size_t prev = 0;
    if (!st->re) { /* String pattern: non-overlapping leftmost occurrences */
        size_t i = 0;
        while (i + st->lit_len <= len) {
            const char *hit = memmem(s + i, len - i, st->lit, st->lit_len);
            if (!hit)
                break;
            size_t a = (size_t)(hit - s);
            if (prev != a)
                spans_push(out, prev, a, 0);
            spans_push(out, a, a + st->lit_len, 1);
            prev = i = a + st->lit_len;
        }
    } else {
        size_t last_end = 0, last_match_end = 0;
        int have_last = 0;
        while (last_end <= len) {
            size_t ms, me;
            int rc = regex_search(st, md, s, len, last_end, &ms, &me, err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            if (ms == me && have_last && last_match_end == me) {
                uint32_t cp;
                size_t step = last_end < len ? utf8_decode(s + last_end, len - last_end, &cp) : 1;
                last_end += step ? step : 1;
                continue;
            }
            last_end = last_match_end = me;
            have_last = 1;
            if (prev != ms)
                spans_push(out, prev, ms, 0);
            spans_push(out, ms, me, 1);
            prev = me;
        }
    }
    if (prev != len)
        spans_push(out, prev, len, 0);
    if (st->invert)
        for (size_t i = 0; i < out->n; i++)
            out->s[i].m = !out->s[i].m;
    return MN_OK;
}

/* NormalizedString::split: turn matched/unmatched spans into the pieces a
 * SplitDelimiterBehavior keeps (in place; removed spans get m = -1). */
static void apply_behavior(int behavior, spans *sp)
{
    size_t n = 0;
    int prev = 0;
    switch (behavior) {
    case BH_ISOLATED:
        for (size_t i = 0; i < sp->n; i++)
            sp->s[i].m = 0;
        return;
    case BH_REMOVED:
        for (size_t i = 0; i < sp->n; i++)
            sp->s[i].m = sp->s[i].m ? -1 : 0;
        return;
    case BH_CONTIGUOUS:
    case BH_MERGED_PREV:
        for (size_t i = 0; i < sp->n; i++) {
            int m = sp->s[i].m;
            int join = behavior == BH_CONTIGUOUS ? m == prev : (m && !prev);
            if (join && n > 0)
                sp->s[n - 1].b = sp->s[i].b;
            else
                sp->s[n++] = (span){sp->s[i].a, sp->s[i].b, 0};
            prev = m;
        }
        sp->n = n;
        return;
    case BH_MERGED_NEXT: /* right to left, results built at the end of the array */
        n = sp->n;
        for (size_t i = sp->n; i-- > 0;) {
            int m = sp->s[i].m;
            if (m && !prev && n < sp->n)
                sp->s[n].a = sp->s[i].a;
            else
                sp->s[--n] = (span){sp->s[i].a, sp->s[i].b, 0};
            prev = m;
        }
        memmove(sp->s, sp->s + n, (sp->n - n) * sizeof *sp->s);
        sp->n -= n;
        return;
    }
}

/* Byte-level mapping: every byte becomes its alphabet character. */
static void push_bytelevel(tok_pieces *out, const char *s, size_t len)
{
    char *dst = tok_pieces_reserve(out, 2 * len); /* alphabet chars are <= U+0143: 2 bytes */
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        w += utf8_encode(tok_bytelevel_char((uint8_t)s[i]), dst + w);
    tok_pieces_commit_text(out, w);
}

static int step_apply(const pt_step *st, pcre2_match_data *md, spans *sp, const tok_pieces *in,
                      tok_pieces *out, mn_err *err)
{
    char *tmp = NULL;
    int rc = MN_OK;
    tok_pieces_clear(out);
    for (size_t k = 0; k < in->n; k++) {
        const tok_piece *p = &in->p[k];
        if (p->id >= 0) {
            tok_pieces_push_token(out, p->id);
            continue;
        }
        const char *s = in->buf + p->off;
        size_t len = p->len;
        if (st->kind == PT_BYTELEVEL && st->add_prefix_space && s[0] != ' ') {
            tmp = xrealloc(tmp, len + 1);
            tmp[0] = ' ';
            memcpy(tmp + 1, s, len);
            s = tmp;
            len++;
        }
        if (st->kind == PT_BYTELEVEL && !st->re) {
            push_bytelevel(out, s, len);
            continue;
        }
        if ((rc = find_matches(st, md, s, len, sp, err)))
            break;
        apply_behavior(st->kind == PT_BYTELEVEL ? BH_ISOLATED : st->behavior, sp);
        for (size_t i = 0; i < sp->n; i++) {
            if (sp->s[i].m < 0)
                continue;
            if (st->kind == PT_BYTELEVEL)
                push_bytelevel(out, s + sp->s[i].a, sp->s[i].b - sp->s[i].a);
            else
                tok_pieces_push_text(out, s + sp->s[i].a, sp->s[i].b - sp->s[i].a);
        }
    }
    free(tmp);
    return rc;
}

int tok_pretok_apply(const tok_pretok *pt, tok_pieces *pieces, tok_pieces *scratch, mn_err *err)
{
    if (!pt)
        return MN_OK;
    spans sp = {0};
    int rc = MN_OK;
    for (size_t i = 0; i < pt->n && !rc; i++) {
        const pt_step *st = &pt->steps[i];
        pcre2_match_data *md = st->re ? pcre2_match_data_create_from_pattern(st->re, NULL) : NULL;
        if (st->re && !md)
            rc = mn_errf(err, MN_ENOMEM, "%s: cannot allocate PCRE2 match data", st->what);
        else if (!(rc = step_apply(st, md, &sp, pieces, scratch, err)))
            tok_pieces_swap(pieces, scratch);
        pcre2_match_data_free(md);
    }
    free(sp.s);
    return rc;
}
