/* tokenizer_load.c — tokenizer.json -> struct tokenizer (see tokenizer.h
 * for what is supported): model (vocab, merges, BPE options),
 * added_tokens (ids checked against the ones HF would assign),
 * normalizer and pre_tokenizer (parsed by pretokenize.c), decoder, and
 * the BOS id of a TemplateProcessing post_processor; plus tokenizer_free.
 * Builds the hash tables and tries declared in tokenizer_int.h; every
 * error names the file and the JSON key.
 * Non-goals: encoding or decoding (tokenizer.c), truncation, padding,
 * other post-processing. */
#include "model/tokenizer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/pretokenize.h"   /* tok_normalizer_parse, tok_pretok_parse, tok_normalize */
#include "model/tokenizer_int.h" /* struct tokenizer, vocab_find, hash_bytes, trie_child */
#include "util/jsonfile.h"       /* json_load_path, json_load_mem */
#include "util/utf8.h"           /* utf8_encode */

#define MAX_IDS (1 << 24) /* ids must be below this (largest real vocabularies: ~2^18) */

/* ------------------------------------------------------------------------
 * building the tables
 * ------------------------------------------------------------------------ */

static size_t table_size(size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 1)
        cap *= 2;
    return cap;
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

static int32_t trie_node_new(trie *tr, unsigned char byte)
{
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? 2 * tr->cap : 64;
        tr->nodes = xrealloc(tr->nodes, tr->cap * sizeof *tr->nodes);
    }
    tr->nodes[tr->n] = (trie_node){-1, -1, -1, byte};
    return (int32_t)tr->n++;
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
