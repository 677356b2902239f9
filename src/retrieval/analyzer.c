/* analyzer.c — split, lower-case, stop, stem (rules in analyzer.h).
 *
 * One pass over the text: each code point is classified (ASCII by a direct
 * test, the rest by utf8proc_category), lower-cased and appended to the term
 * being built in out->terms; at the end of a run the term is checked
 * against the stop set and stemmed in place.  A dropped stop word just
 * rewinds terms_len, so nothing is allocated per token. */
#include "retrieval/analyzer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "retrieval/porter.h"
#include "retrieval/stopwords.h"
#include "util/utf8.h"

#define CONFIG_PREFIX "lower+unicode-split;"
#define CONFIG_SUFFIX ";v1"

static const char *stem_name(analyzer_stem s)
{
    return s == ANALYZER_STEM_PORTER ? "porter" : "none";
}

static const char *stop_name(analyzer_stop s)
{
    return s == ANALYZER_STOP_EN ? "en" : "none";
}

void analyzer_config_string(const analyzer_config *cfg, char out[ANALYZER_CONFIG_STR_MAX])
{
    snprintf(out, ANALYZER_CONFIG_STR_MAX, CONFIG_PREFIX "stem=%s;stop=%s" CONFIG_SUFFIX,
             stem_name(cfg->stem), stop_name(cfg->stop));
}

int analyzer_config_parse(const char *s, const char *where, analyzer_config *cfg, mn_err *err)
{
    static const analyzer_config all[] = {
        {ANALYZER_STEM_NONE, ANALYZER_STOP_NONE},
        {ANALYZER_STEM_PORTER, ANALYZER_STOP_NONE},
        {ANALYZER_STEM_NONE, ANALYZER_STOP_EN},
        {ANALYZER_STEM_PORTER, ANALYZER_STOP_EN},
    };
    char buf[ANALYZER_CONFIG_STR_MAX];
    const char *why;

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        analyzer_config_string(&all[i], buf);
        if (!strcmp(s, buf)) {
            *cfg = all[i];
            return 0;
        }
    }
    /* Name the first part that is off, to tell a newer DB from garbage. */
    if (strncmp(s, CONFIG_PREFIX, strlen(CONFIG_PREFIX)))
        why = "unknown tokenizer (expected \"" CONFIG_PREFIX "\")";
    else if (strncmp(s + strlen(CONFIG_PREFIX), "stem=none;", 10) &&
             strncmp(s + strlen(CONFIG_PREFIX), "stem=porter;", 12))
        why = "unknown stemmer (expected stem=none or stem=porter)";
    else if (!strstr(s, ";stop=none;") && !strstr(s, ";stop=en;"))
        why = "unknown stop-word set (expected stop=none or stop=en)";
    else
        why = "unknown analyzer version (this build knows v1)";
    return mn_errf(err, MN_EUNSUPPORTED, "%s: analyzer \"%.200s\": %s", where ? where : "analyzer", s, why);
}

int analyzer_stem_parse(const char *s, analyzer_stem *out, mn_err *err)
{
    if (!strcmp(s, "none"))
        *out = ANALYZER_STEM_NONE;
    else if (!strcmp(s, "porter"))
        *out = ANALYZER_STEM_PORTER;
    else
        return mn_errf(err, MN_EUSAGE, "--stem: unknown stemmer \"%.200s\" (expected none or porter)", s);
    return 0;
}

int analyzer_stop_parse(const char *s, analyzer_stop *out, mn_err *err)
{
    if (!strcmp(s, "none"))
        *out = ANALYZER_STOP_NONE;
    else if (!strcmp(s, "en"))
        *out = ANALYZER_STOP_EN;
    else
        return mn_errf(err, MN_EUSAGE, "--stopwords: unknown stop-word set \"%.200s\" (expected none or en)", s);
    return 0;
}

void analyzer_tokens_init(analyzer_tokens *t)
{
    memset(t, 0, sizeof *t);
}

void analyzer_tokens_free(analyzer_tokens *t)
{
    free(t->terms);
    free(t->tok);
    analyzer_tokens_init(t);
}

/* Character classes of the splitter. */
enum { CLASS_SEP = 0, CLASS_WORD = 1, CLASS_MARK = 2 };

static int classify(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp | 0x20) - 'a' < 26 || cp - '0' < 10)
            return CLASS_WORD;
        return CLASS_SEP;
    }
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return CLASS_WORD;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return CLASS_MARK;
    default:
        return CLASS_SEP;
    }
}

/* The token being built: its term starts at terms[off], it started at
 * input byte start. */
typedef struct builder {
    const analyzer_config *cfg;
    analyzer_tokens *out;
    int open;     /* is a token being built? */
    size_t off;   /* term start in out->terms */
    size_t start; /* input byte offset of the token */
    size_t pos;   /* position of the next token */
} builder;

static int reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return MN_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* End the open token at input byte `end`: stop-word check, stem, record. */
static int token_finish(builder *b, size_t end)
{
    analyzer_tokens *o = b->out;
    size_t len = o->terms_len - b->off;
    char *term = o->terms + b->off;

    b->open = 0;
    b->pos++;
    if (b->cfg->stop == ANALYZER_STOP_EN && stopwords_en_contains(term, len)) {
        o->terms_len = b->off;
        return 0;
    }
    if (b->cfg->stem == ANALYZER_STEM_PORTER) {
        len = porter_stem(term, len);
        o->terms_len = b->off + len;
    }
    if (reserve((void **)&o->tok, &o->cap, o->n + 1, sizeof *o->tok))
        return MN_ENOMEM;
    o->tok[o->n++] = (analyzer_token){b->off, len, b->pos - 1, b->start, end};
    return 0;
}

int analyzer_analyze(const analyzer_config *cfg, const char *text, size_t len, const char *where,
                     analyzer_tokens *out, mn_err *err)
{
    builder b = {cfg, out, 0, 0, 0, 0};
    int rc = 0;

    out->terms_len = 0;
    out->n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t l;
        if ((uint8_t)text[i] < 0x80) {
            cp = (uint8_t)text[i];
            l = 1;
        } else if ((l = utf8_decode(text + i, len - i, &cp)) == 0) {
            rc = mn_errf(err, MN_EFORMAT, "%s: byte %zu: invalid UTF-8", where ? where : "text", i);
            goto fail;
        }
        int cls = classify(cp);
        if (cls == CLASS_SEP || (cls == CLASS_MARK && !b.open)) {
            if (b.open && (rc = token_finish(&b, i)))
                goto nomem;
            i += l;
            continue;
        }
        char enc[4];
        uint32_t lower = cp < 0x80 ? ((cp - 'A' < 26) ? cp | 0x20 : cp)
                                   : (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        size_t el = utf8_encode(lower, enc);
        /* a run longer than the term limit becomes several tokens */
        if (b.open && out->terms_len - b.off + el > ANALYZER_MAX_TERM_BYTES && (rc = token_finish(&b, i)))
            goto nomem;
        if (!b.open) {
            b.open = 1;
            b.off = out->terms_len;
            b.start = i;
        }
        if (reserve((void **)&out->terms, &out->terms_cap, out->terms_len + el, 1)) {
            rc = MN_ENOMEM;
            goto nomem;
        }
        memcpy(out->terms + out->terms_len, enc, el);
        out->terms_len += el;
        i += l;
    }
    if (b.open && (rc = token_finish(&b, len)))
        goto nomem;
    return 0;
nomem:
    rc = mn_errf(err, MN_ENOMEM, "%s: out of memory for %zu tokens", where ? where : "text", out->n);
fail:
    out->terms_len = 0;
    out->n = 0;
    return rc;
}
