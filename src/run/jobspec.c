/* jobspec.c — job files (YAML through libyaml's document API) to eval_opts.
 *
 * Three passes over one loaded document:
 *   1. walk: every key of the top-level mapping and of its retrieval, ttc
 *      and fields sections is looked up in one table (KEYS), checked for
 *      type and range and stored in a slot (unknown and repeated keys
 *      fail here, in document order);
 *   2. check: required keys, impossible combinations, colliding sweep
 *      folders, then (when asked) the files on disk;
 *   3. build: the slots become the job's eval_opts template.
 * The document lives until the end of the load, so the slots keep node
 * pointers for the positions of later messages.  Every string the job keeps
 * is copied into j->strs.
 *
 * Non-goals: YAML tags, anchors as a feature (aliases work as the shared
 * node they stand for), merge keys ("<<" is an unknown key). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <yaml.h>

#include "bench/chat.h"     /* chat_format_parse, chat_format_free */
#include "run/jobspec.h"
#include "util/mapfile.h"   /* file_read_all */

#define JOB_MAX_BYTES ((size_t)1 << 20) /* a job file is a page of settings */
#define JOB_MAX_DEPTH 64                /* nested lists and mappings; a job needs 3 */

/* ---- the key table ---------------------------------------------------- */

enum key_id {
    K_NAME, K_MODEL, K_MODELS, K_BENCH, K_BENCHES, K_OUT, K_TOKENIZER, K_SPLIT, K_LIMIT, K_SHOTS,
    K_SHOTS_FROM, K_METHOD, K_STYLE, K_CHAT, K_SYSTEM, K_MATH_COT, K_ADD_BOS, K_ON_ERROR, K_FIELDS,
    K_GPQA_SEED, K_MEMBER, K_PASSPHRASE, K_RETRIEVAL, K_TTC, K_SEED, K_BATCH, K_THREADS, K_CHUNK, K_CONTAM,
    K_R_DB, K_R_K, K_R_MODE, K_R_EMBED, K_R_BUDGET, K_R_ORDER, K_R_DECONTAM, K_R_RERANK, K_R_RDEPTH,
    K_T_KIND, K_T_N, K_T_TEMP, K_T_TOP_P, K_T_TOP_K, K_T_MAX_NEW, K_T_VERIFIER,
    K_F_ID, K_F_QUESTION, K_F_ANSWER, K_F_CHOICES, K_F_SUBJECT,
    K_C_N, K_C_RULE, K_C_THRESHOLD, K_C_RCHECK,
    K_COUNT
};

typedef enum key_type {
    T_STR,   /* string; lo = minimum length */
    T_PATH,  /* non-empty string naming a file or folder */
    T_SPEC,  /* KIND:PATH */
    T_PATHS, /* non-empty list of T_PATH */
    T_SPECS, /* non-empty list of T_SPEC */
    T_INT,   /* decimal integer in [lo, hi] */
    T_NUM,   /* decimal number in [dlo, dhi] ((dlo, dhi] with lo_open) */
    T_BOOL,  /* true | false */
    T_ENUM,  /* one of names[] */
    T_CHAT,  /* a chat format name */
    T_MAP,   /* a section: keys [lo, hi] of this table */
} key_type;

typedef struct key_def {
    const char *name; /* dotted: "ttc.n" */
    key_type type;
    int64_t lo, hi;
    double dlo, dhi;
    int lo_open;
    const char *const *names; /* T_ENUM, NULL-terminated */
} key_def;

static const char *const METHODS[] = {"auto", "loglik", "generate", NULL};
static const char *const STYLES[] = {"mc-letters", "mc-texts", "mc-generate", "math", "qa", NULL};
static const char *const ON_ERRORS[] = {"fail", "skip", NULL};
static const char *const MODES[] = {"bm25", "dense", "hybrid", NULL};
static const char *const ORDERS[] = {"best-first", "best-last", NULL};
static const char *const TTC_KINDS[] = {"greedy", "sc", "docsc", "bestofn", NULL}; /* eval_ttc order */
static const char *const BENCH_KINDS[] = {"mmlu", "gpqa", "math500", "simpleqa", "jsonl", NULL};

#define I64MAX INT64_MAX
static const key_def KEYS[K_COUNT] = {
    [K_NAME] = {"name", T_STR, 1, 0, 0, 0, 0, NULL},
    [K_MODEL] = {"model", T_PATH, 0, 0, 0, 0, 0, NULL},
    [K_MODELS] = {"models", T_PATHS, 0, 0, 0, 0, 0, NULL},
    [K_BENCH] = {"bench", T_SPEC, 0, 0, 0, 0, 0, NULL},
    [K_BENCHES] = {"benches", T_SPECS, 0, 0, 0, 0, 0, NULL},
    [K_OUT] = {"out", T_PATH, 0, 0, 0, 0, 0, NULL},
    [K_TOKENIZER] = {"tokenizer", T_PATH, 0, 0, 0, 0, 0, NULL},
    [K_SPLIT] = {"split", T_STR, 1, 0, 0, 0, 0, NULL},
    [K_LIMIT] = {"limit", T_INT, 0, I64MAX, 0, 0, 0, NULL},
    [K_SHOTS] = {"shots", T_INT, 0, 64, 0, 0, 0, NULL},
    [K_SHOTS_FROM] = {"shots_from", T_SPEC, 0, 0, 0, 0, 0, NULL},
    [K_METHOD] = {"method", T_ENUM, 0, 0, 0, 0, 0, METHODS},
    [K_STYLE] = {"style", T_ENUM, 0, 0, 0, 0, 0, STYLES},
    [K_CHAT] = {"chat", T_CHAT, 0, 0, 0, 0, 0, NULL},
    [K_SYSTEM] = {"system", T_STR, 0, 0, 0, 0, 0, NULL},
    [K_MATH_COT] = {"math_cot", T_BOOL, 0, 0, 0, 0, 0, NULL},
    [K_ADD_BOS] = {"add_bos", T_BOOL, 0, 0, 0, 0, 0, NULL},
    [K_ON_ERROR] = {"on_error", T_ENUM, 0, 0, 0, 0, 0, ON_ERRORS},
    [K_FIELDS] = {"fields", T_MAP, K_F_ID, K_F_SUBJECT, 0, 0, 0, NULL},
    [K_GPQA_SEED] = {"gpqa_seed", T_INT, 0, I64MAX, 0, 0, 0, NULL},
    [K_MEMBER] = {"member", T_STR, 1, 0, 0, 0, 0, NULL},
    [K_PASSPHRASE] = {"passphrase", T_STR, 1, 0, 0, 0, 0, NULL},
    [K_RETRIEVAL] = {"retrieval", T_MAP, K_R_DB, K_R_RDEPTH, 0, 0, 0, NULL},
    [K_TTC] = {"ttc", T_MAP, K_T_KIND, K_T_VERIFIER, 0, 0, 0, NULL},
    [K_SEED] = {"seed", T_INT, 0, I64MAX, 0, 0, 0, NULL},
    [K_BATCH] = {"batch", T_INT, 1, 4096, 0, 0, 0, NULL},
    [K_THREADS] = {"threads", T_INT, 0, 4096, 0, 0, 0, NULL},
    [K_CHUNK] = {"chunk", T_INT, 1, 1 << 20, 0, 0, 0, NULL},
    [K_CONTAM] = {"contam", T_MAP, K_C_N, K_C_RCHECK, 0, 0, 0, NULL},
    [K_R_DB] = {"retrieval.db", T_PATH, 0, 0, 0, 0, 0, NULL},
    [K_R_K] = {"retrieval.k", T_INT, 1, 1000, 0, 0, 0, NULL},
    [K_R_MODE] = {"retrieval.mode", T_ENUM, 0, 0, 0, 0, 0, MODES},
    [K_R_EMBED] = {"retrieval.embed_model", T_PATH, 0, 0, 0, 0, 0, NULL},
    [K_R_BUDGET] = {"retrieval.budget", T_INT, 0, 1 << 24, 0, 0, 0, NULL},
    [K_R_ORDER] = {"retrieval.order", T_ENUM, 0, 0, 0, 0, 0, ORDERS},
    [K_R_DECONTAM] = {"retrieval.decontaminate", T_INT, 1, 50, 0, 0, 0, NULL},
    [K_R_RERANK] = {"retrieval.rerank", T_PATH, 0, 0, 0, 0, 0, NULL}, /* self or a model directory */
    [K_R_RDEPTH] = {"retrieval.rerank_depth", T_INT, 1, 10000, 0, 0, 0, NULL},
    [K_T_KIND] = {"ttc.kind", T_ENUM, 0, 0, 0, 0, 0, TTC_KINDS},
    [K_T_N] = {"ttc.n", T_INT, 1, 1024, 0, 0, 0, NULL},
    [K_T_TEMP] = {"ttc.temperature", T_NUM, 0, 0, 0, 100, 0, NULL},
    [K_T_TOP_P] = {"ttc.top_p", T_NUM, 0, 0, 0, 1, 1, NULL},
    [K_T_TOP_K] = {"ttc.top_k", T_INT, 0, 1 << 24, 0, 0, 0, NULL},
    [K_T_MAX_NEW] = {"ttc.max_new_tokens", T_INT, 1, 1 << 20, 0, 0, 0, NULL},
    [K_T_VERIFIER] = {"ttc.verifier", T_PATH, 0, 0, 0, 0, 0, NULL},
    [K_F_ID] = {"fields.id", T_STR, 0, 0, 0, 0, 0, NULL},
    [K_F_QUESTION] = {"fields.question", T_STR, 1, 0, 0, 0, 0, NULL},
    [K_F_ANSWER] = {"fields.answer", T_STR, 1, 0, 0, 0, 0, NULL},
    [K_F_CHOICES] = {"fields.choices", T_STR, 0, 0, 0, 0, 0, NULL},
    [K_F_SUBJECT] = {"fields.subject", T_STR, 0, 0, 0, 0, 0, NULL},
    [K_C_N] = {"contam.n", T_INT, 8, 50, 0, 0, 0, NULL},
    [K_C_RULE] = {"contam.rule", T_STR, 1, 0, 0, 0, 0, NULL},
    [K_C_THRESHOLD] = {"contam.threshold", T_NUM, 0, 0, 0, 1, 0, NULL},
    [K_C_RCHECK] = {"contam.retrieval_check", T_INT, 0, 100, 0, 0, 0, NULL},
};

/* The name of key id inside its section ("ttc.n" -> "n"). */
static const char *key_short(int id)
{
    const char *dot = strchr(KEYS[id].name, '.');
    return dot ? dot + 1 : KEYS[id].name;
}

/* ---- the job ---------------------------------------------------------- */

struct job {
    char *name;
    char *file;           /* the job file's name, for messages */
    const char **models;  /* [nmodels] borrowed from strs */
    size_t nmodels;
    const char **benches; /* [nbenches] KIND:PATH, borrowed from strs */
    size_t nbenches;
    const char *out;
    eval_opts base;       /* model_dir, bench, out_dir unset */
    size_t chunk;
    job_contam_opts contam;
    char **strs;          /* every string the job owns */
    size_t nstrs, capstrs;
};

static const char *job_keep(job *j, char *s)
{
    if (j->nstrs == j->capstrs) {
        j->capstrs = j->capstrs ? 2 * j->capstrs : 32;
        j->strs = xrealloc(j->strs, j->capstrs * sizeof *j->strs);
    }
    return j->strs[j->nstrs++] = s;
}

void job_free(job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->nstrs; i++)
        free(j->strs[i]);
    free(j->strs);
    free(j->models);
    free(j->benches);
    free(j->name);
    free(j->file);
    free(j);
}

/* ---- loading context and messages ------------------------------------- */

typedef struct slot {
    yaml_node_t *key, *val; /* NULL: not given */
    const char *s;          /* T_STR, T_PATH, T_SPEC, T_CHAT, T_ENUM (the name) */
    int64_t i;              /* T_INT, T_BOOL, T_ENUM (the index) */
    double d;               /* T_NUM */
    const char **list;      /* T_PATHS, T_SPECS (also K_MODEL/K_BENCH as one item): [n] */
    yaml_node_t **items;    /* [n] the item nodes */
    size_t n;
} slot;

typedef struct ctx {
    const char *file;
    yaml_document_t *doc;
    job *j;
    slot v[K_COUNT];
    mn_err *err;
} ctx;

static void ctx_free(ctx *c)
{
    for (int k = 0; k < K_COUNT; k++) {
        free(c->v[k].list);
        free(c->v[k].items);
    }
}

/* "FILE: line L, column C: key 'K': MESSAGE"; col 0: no column; n NULL: no position. */
static int fail_v(ctx *c, int code, const yaml_node_t *n, int col, const char *key, const char *fmt,
                  va_list ap)
{
    char msg[768], pos[64] = "";
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (n && col)
        snprintf(pos, sizeof pos, "line %zu, column %zu: ", n->start_mark.line + 1, n->start_mark.column + 1);
    else if (n)
        snprintf(pos, sizeof pos, "line %zu: ", n->start_mark.line + 1);
    if (key)
        return mn_errf(c->err, code, "%s: %skey '%s': %s", c->file, pos, key, msg);
    return mn_errf(c->err, code, "%s: %s%s", c->file, pos, msg);
}

__attribute__((format(printf, 5, 6)))
static int fail_at(ctx *c, int code, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fail_v(c, code, n, 1, key, fmt, ap);
    va_end(ap);
    return rc;
}

__attribute__((format(printf, 5, 6)))
static int fail_line(ctx *c, int code, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fail_v(c, code, n, 0, key, fmt, ap);
    va_end(ap);
    return rc;
}

static size_t line_of(const yaml_node_t *n) { return n->start_mark.line + 1; }

/* A scalar's text for a message: at most 60 bytes (cut on a UTF-8
 * boundary, "..." added), control characters as spaces. */
static const char *shown(const yaml_node_t *n, char buf[80])
{
    size_t len = n->data.scalar.length, m = len > 60 ? 60 : len;
    const unsigned char *s = n->data.scalar.value;
    while (m < len && m > 0 && (s[m] & 0xC0) == 0x80)
        m--;
    for (size_t i = 0; i < m; i++)
        buf[i] = s[i] < 0x20 || s[i] == 0x7f ? ' ' : (char)s[i];
    strcpy(buf + m, m < len ? "..." : "");
    return buf;
}

static int is_plain(const yaml_node_t *n) { return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE; }

/* A plain scalar YAML reads as null: empty, ~, null. */
static int is_null(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    return is_plain(n) && (!n->data.scalar.length || !strcmp(s, "~") || !strcmp(s, "null") ||
                           !strcmp(s, "Null") || !strcmp(s, "NULL"));
}

/* "got ..." for a value of the wrong shape or content; plain_only: the
 * key takes plain scalars only (numbers, booleans), so quoting is the
 * mistake worth naming. */
static const char *got(const yaml_node_t *n, int plain_only, char buf[128])
{
    char s[80];
    if (n->type == YAML_SEQUENCE_NODE)
        return "got a list";
    if (n->type == YAML_MAPPING_NODE)
        return "got a mapping";
    if (is_null(n))
        return "got nothing (null)";
    snprintf(buf, 128, plain_only && !is_plain(n) ? "got the quoted string '%s' (write it without quotes)" : "got '%s'",
             shown(n, s));
    return buf;
}

/* What key def expects, for messages. */
static const char *expected(const key_def *d, char buf[256])
{
    size_t o = 0;
    switch (d->type) {
    case T_STR: return d->lo ? "a non-empty string" : "a string";
    case T_PATH: return "a path";
    case T_SPEC: return "KIND:PATH with KIND one of mmlu, gpqa, math500, simpleqa, jsonl";
    case T_PATHS: return "a non-empty list of paths";
    case T_SPECS: return "a non-empty list of KIND:PATH";
    case T_INT:
        if (d->hi == I64MAX)
            snprintf(buf, 256, "an integer >= %lld", (long long)d->lo);
        else
            snprintf(buf, 256, "an integer in [%lld, %lld]", (long long)d->lo, (long long)d->hi);
        return buf;
    case T_NUM:
        snprintf(buf, 256, "a number in %c%g, %g]", d->lo_open ? '(' : '[', d->dlo, d->dhi);
        return buf;
    case T_BOOL: return "true or false";
    case T_ENUM:
        o = (size_t)snprintf(buf, 256, "one of");
        for (int i = 0; d->names[i]; i++)
            o += (size_t)snprintf(buf + o, 256 - o, "%s %s", i ? "," : "", d->names[i]);
        return buf;
    case T_CHAT: return "one of none, auto, chatml, llama3, custom:TEMPLATE";
    case T_MAP:
        o = (size_t)snprintf(buf, 256, "a mapping (");
        for (int k = (int)d->lo; k <= (int)d->hi; k++)
            o += (size_t)snprintf(buf + o, 256 - o, "%s%s", k > d->lo ? ", " : "", key_short(k));
        snprintf(buf + o, 256 - o, ")");
        return buf;
    }
    return "?";
}

static int fail_type(ctx *c, const yaml_node_t *n, const char *key, const key_def *d)
{
    char e[256], g[128];
    int plain_only = d->type == T_INT || d->type == T_NUM || d->type == T_BOOL;
    return fail_at(c, MN_EUSAGE, n, key, "expected %s, %s", expected(d, e), got(n, plain_only, g));
}

/* ---- pass 1: walk ----------------------------------------------------- */

/* A copy of scalar n kept by the job, or NULL when it holds a NUL byte. */
static const char *keep_scalar(ctx *c, const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    if (strlen(s) != n->data.scalar.length)
        return NULL;
    return job_keep(c->j, xstrdup(s));
}

/* Scalar n as a string (min_len bytes at least) into *out. */
static int read_string(ctx *c, const yaml_node_t *n, const char *key, const key_def *d, size_t min_len,
                       const char **out)
{
    if (n->type != YAML_SCALAR_NODE || is_null(n) || n->data.scalar.length < min_len)
        return fail_type(c, n, key, d);
    if (!(*out = keep_scalar(c, n)))
        return fail_at(c, MN_EUSAGE, n, key, "contains a NUL character");
    return 0;
}

/* The kind of spec "KIND:PATH" (index in BENCH_KINDS), or -1. */
static int spec_kind(const char *spec)
{
    const char *colon = strchr(spec, ':');
    if (!colon || !colon[1])
        return -1;
    for (int i = 0; BENCH_KINDS[i]; i++)
        if (strlen(BENCH_KINDS[i]) == (size_t)(colon - spec) && !strncmp(spec, BENCH_KINDS[i], (size_t)(colon - spec)))
            return i;
    return -1;
}

static int read_item(ctx *c, yaml_node_t *n, const char *key, const key_def *d, int spec, const char **out)
{
    key_def one = *d;
    one.type = spec ? T_SPEC : T_PATH;
    int rc = read_string(c, n, key, &one, 1, out);
    if (!rc && spec && spec_kind(*out) < 0)
        return fail_type(c, n, key, &one);
    return rc;
}

static int read_list(ctx *c, int id, yaml_node_t *n)
{
    slot *s = &c->v[id];
    int spec = KEYS[id].type == T_SPECS || KEYS[id].type == T_SPEC;
    char key[64], e[256];
    if (KEYS[id].type == T_PATH || KEYS[id].type == T_SPEC) { /* model / bench: a list of one */
        s->list = xcalloc(1, sizeof *s->list);
        s->items = xcalloc(1, sizeof *s->items);
        s->items[0] = n;
        s->n = 1;
        return read_item(c, n, KEYS[id].name, &KEYS[id], spec, &s->list[0]);
    }
    if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start) {
        char g[128];
        return fail_at(c, MN_EUSAGE, n, KEYS[id].name, "expected %s, %s", expected(&KEYS[id], e),
                       n->type == YAML_SEQUENCE_NODE ? "got an empty list" : got(n, 0, g));
    }
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    s->list = xcalloc(cnt, sizeof *s->list);
    s->items = xcalloc(cnt, sizeof *s->items);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
        snprintf(key, sizeof key, "%s[%zu]", KEYS[id].name, i);
        s->items[i] = it;
        s->n = i + 1;
        int rc = read_item(c, it, key, &KEYS[id], spec, &s->list[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Plain decimal integer: -?[0-9]+ within [lo, hi]. */
static int read_int(ctx *c, const yaml_node_t *n, const key_def *d, int64_t *out)
{
    if (n->type != YAML_SCALAR_NODE || !is_plain(n))
        return fail_type(c, n, d->name, d);
    const char *s = (const char *)n->data.scalar.value;
    size_t i = s[0] == '-';
    if (!s[i])
        return fail_type(c, n, d->name, d);
    for (size_t k = i; s[k]; k++)
        if (s[k] < '0' || s[k] > '9')
            return fail_type(c, n, d->name, d);
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v < d->lo || v > d->hi)
        return fail_type(c, n, d->name, d);
    *out = v;
    return 0;
}

/* Plain decimal number ([-+]digits[.digits][e[-+]digits]) within range. */
static int read_num(ctx *c, const yaml_node_t *n, const key_def *d, double *out)
{
    if (n->type != YAML_SCALAR_NODE || !is_plain(n) || !n->data.scalar.length)
        return fail_type(c, n, d->name, d);
    const char *s = (const char *)n->data.scalar.value;
    if (strspn(s, "0123456789+-.eE") != n->data.scalar.length || !strpbrk(s, "0123456789"))
        return fail_type(c, n, d->name, d);
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v > d->dhi || v < d->dlo || (d->lo_open && v == d->dlo))
        return fail_type(c, n, d->name, d);
    *out = v;
    return 0;
}

static int read_enum(ctx *c, const yaml_node_t *n, const key_def *d, slot *s)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail_type(c, n, d->name, d);
    for (int i = 0; d->names[i]; i++)
        if (!strcmp((const char *)n->data.scalar.value, d->names[i]) &&
            n->data.scalar.length == strlen(d->names[i])) {
            s->i = i;
            s->s = d->names[i];
            return 0;
        }
    return fail_type(c, n, d->name, d);
}

/* chat: auto, or what chat_format_parse accepts (custom templates are
 * checked here, not at the first prompt). */
static int read_chat(ctx *c, const yaml_node_t *n, const key_def *d, slot *s)
{
    static const char *const names[] = {"none", "auto", "chatml", "llama3"};
    int rc = read_string(c, n, d->name, d, 1, &s->s);
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s->s, names[i]))
            return 0;
    if (strncmp(s->s, "custom:", 7))
        return fail_type(c, n, d->name, d);
    chat_format f;
    mn_err e = {0};
    if (chat_format_parse(s->s, &f, &e))
        return fail_at(c, MN_EUSAGE, n, d->name, "%s", e.msg);
    chat_format_free(&f);
    return 0;
}

static int walk_map(ctx *c, yaml_node_t *map, int first, int last, const char *section);

/* Check and store the value of key id. */
static int read_value(ctx *c, int id, yaml_node_t *n)
{
    const key_def *d = &KEYS[id];
    slot *s = &c->v[id];
    static const char *const default_tags[] = {YAML_DEFAULT_SCALAR_TAG, YAML_DEFAULT_SEQUENCE_TAG,
                                               YAML_DEFAULT_MAPPING_TAG};
    int t = n->type == YAML_SCALAR_NODE ? 0 : n->type == YAML_SEQUENCE_NODE ? 1 : 2;
    const char *tag = (const char *)n->tag, *core = "tag:yaml.org,2002:";
    if (tag && strcmp(tag, default_tags[t]))
        return fail_at(c, MN_EUSAGE, n, d->name, "YAML tags are not supported (got '%s%.60s')",
                       strncmp(tag, core, strlen(core)) ? "" : "!!", strncmp(tag, core, strlen(core)) ? tag : tag + strlen(core));
    switch (d->type) {
    case T_STR: return read_string(c, n, d->name, d, (size_t)d->lo, &s->s);
    case T_PATH:
    case T_SPEC:
        if (id == K_MODEL || id == K_BENCH)
            return read_list(c, id, n);
        return read_item(c, n, d->name, d, d->type == T_SPEC, &s->s);
    case T_PATHS:
    case T_SPECS: return read_list(c, id, n);
    case T_INT: return read_int(c, n, d, &s->i);
    case T_NUM: return read_num(c, n, d, &s->d);
    case T_BOOL:
        if (n->type != YAML_SCALAR_NODE || !is_plain(n) ||
            (strcmp((const char *)n->data.scalar.value, "true") && strcmp((const char *)n->data.scalar.value, "false")))
            return fail_type(c, n, d->name, d);
        s->i = !strcmp((const char *)n->data.scalar.value, "true");
        return 0;
    case T_ENUM: return read_enum(c, n, d, s);
    case T_CHAT: return read_chat(c, n, d, s);
    case T_MAP:
        if (n->type != YAML_MAPPING_NODE)
            return fail_type(c, n, d->name, d);
        return walk_map(c, n, (int)d->lo, (int)d->hi, d->name);
    }
    return 0;
}

/* The keys given as both forms of a one-of pair (model/models, bench/benches). */
static int check_one_of(ctx *c, int id, yaml_node_t *key)
{
    static const int pairs[][2] = {{K_MODEL, K_MODELS}, {K_BENCH, K_BENCHES}};
    for (size_t p = 0; p < 2; p++)
        for (int w = 0; w < 2; w++)
            if (id == pairs[p][w] && c->v[pairs[p][!w]].key)
                return fail_at(c, MN_EUSAGE, key, KEYS[id].name, "'%s' is already given (line %zu): give one of '%s' and '%s'",
                               KEYS[pairs[p][!w]].name, line_of(c->v[pairs[p][!w]].key), KEYS[pairs[p][0]].name,
                               KEYS[pairs[p][1]].name);
    return 0;
}

/* Every pair of mapping map, whose keys are KEYS[first..last]. */
static int walk_map(ctx *c, yaml_node_t *map, int first, int last, const char *section)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        char name[128], buf[80];
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(c, MN_EUSAGE, k, NULL, "%s%s%sa key must be a name, got a %s", section ? "in '" : "",
                           section ? section : "", section ? "': " : "",
                           k->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
        const char *ks = (const char *)k->data.scalar.value;
        int id = -1;
        for (int i = first; i <= last && id < 0; i++)
            if (strlen(key_short(i)) == k->data.scalar.length && !strcmp(ks, key_short(i)))
                id = i;
        snprintf(name, sizeof name, "%s%s%s", section ? section : "", section ? "." : "", shown(k, buf));
        if (id < 0) {
            char known[512];
            size_t o = 0;
            for (int i = first; i <= last; i++)
                o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", i > first ? ", " : "", key_short(i));
            return fail_at(c, MN_EUSAGE, k, name, "unknown key (known: %s)", known);
        }
        if (c->v[id].key)
            return fail_at(c, MN_EUSAGE, k, name, "given twice (first at line %zu)", line_of(c->v[id].key));
        int rc = check_one_of(c, id, k);
        if (rc)
            return rc;
        c->v[id].key = k;
        c->v[id].val = v;
        if ((rc = read_value(c, id, v)))
            return rc;
    }
    return 0;
}

/* ---- pass 2: checks --------------------------------------------------- */

static int given(const ctx *c, int id) { return c->v[id].key != NULL; }

static const char *ttc_kind(const ctx *c) { return given(c, K_T_KIND) ? c->v[K_T_KIND].s : "greedy"; }

enum { B_MMLU = 1, B_GPQA = 2, B_MATH500 = 4, B_SIMPLEQA = 8, B_JSONL = 16 }; /* 1 << BENCH_KINDS index */

/* The first benchmark (bench or benches) whose kind is in the mask, or NULL. */
static const char *bench_of_kind(const ctx *c, int mask)
{
    const slot *s = given(c, K_BENCH) ? &c->v[K_BENCH] : &c->v[K_BENCHES];
    for (size_t i = 0; i < s->n; i++)
        if (mask & (1 << spec_kind(s->list[i])))
            return s->list[i];
    return NULL;
}

static int check_required(ctx *c)
{
    if (!given(c, K_MODEL) && !given(c, K_MODELS))
        return mn_errf(c->err, MN_EUSAGE, "%s: key 'model' is missing (or 'models', a list)", c->file);
    if (!given(c, K_BENCH) && !given(c, K_BENCHES))
        return mn_errf(c->err, MN_EUSAGE, "%s: key 'bench' is missing (or 'benches', a list)", c->file);
    if (given(c, K_R_RERANK) && !given(c, K_R_DB))
        return fail_at(c, MN_EUSAGE, c->v[K_R_RERANK].key, "retrieval.rerank",
                       "reranks retrieved passages: it needs 'retrieval.db'");
    if (given(c, K_RETRIEVAL) && !given(c, K_R_DB))
        return fail_at(c, MN_EUSAGE, c->v[K_RETRIEVAL].key, NULL, "key 'retrieval.db' is missing (the retrieval DB folder)");
    if (given(c, K_CONTAM) && !given(c, K_R_DB))
        return fail_at(c, MN_EUSAGE, c->v[K_CONTAM].key, NULL,
                       "key 'contam' audits the retrieval corpus: it needs 'retrieval.db'");
    return 0;
}

static int check_ttc(ctx *c)
{
    const char *kind = ttc_kind(c);
    int sampled = !strcmp(kind, "sc") || !strcmp(kind, "bestofn");
    if (given(c, K_T_N) && !sampled)
        return fail_at(c, MN_EUSAGE, c->v[K_T_N].key, "ttc.n", "kind %s takes no n (n is for sc and bestofn)", kind);
    if (sampled && !given(c, K_T_N))
        return fail_at(c, MN_EUSAGE, c->v[K_T_KIND].val, "ttc.kind", "%s needs 'ttc.n' (the number of samples)", kind);
    if (given(c, K_T_VERIFIER) && strcmp(kind, "bestofn"))
        return fail_at(c, MN_EUSAGE, c->v[K_T_VERIFIER].key, "ttc.verifier", "only kind bestofn uses a verifier (kind is %s)",
                       kind);
    if (!strcmp(kind, "docsc") && !given(c, K_RETRIEVAL))
        return fail_at(c, MN_EUSAGE, c->v[K_T_KIND].val, "ttc.kind",
                       "docsc needs a 'retrieval' section (one sample per retrieved passage)");
    if (given(c, K_R_RDEPTH) && !given(c, K_R_RERANK))
        return fail_at(c, MN_EUSAGE, c->v[K_R_RDEPTH].key, "retrieval.rerank_depth",
                       "is for 'retrieval.rerank' (self or a reranker model), which is not given");
    int64_t k = given(c, K_R_K) ? c->v[K_R_K].i : 3; /* eval_opts_default's k */
    if (given(c, K_R_RDEPTH) && c->v[K_R_RDEPTH].i < k)
        return fail_at(c, MN_EUSAGE, c->v[K_R_RDEPTH].val, "retrieval.rerank_depth",
                       "%lld candidates cannot give k = %lld passages (%s)", (long long)c->v[K_R_RDEPTH].i,
                       (long long)k, given(c, K_R_K) ? "retrieval.k" : "the default k");
    if (given(c, K_R_MODE) && c->v[K_R_MODE].i != EVAL_RETR_BM25 && !given(c, K_R_EMBED))
        return fail_at(c, MN_EUSAGE, c->v[K_R_MODE].val, "retrieval.mode",
                       "%s needs 'retrieval.embed_model' (the model the DB was embedded with)", c->v[K_R_MODE].s);
    return 0;
}

/* Method, style and sampling against the kinds of the benchmarks. */
static int check_method(ctx *c)
{
    const char *kind = ttc_kind(c), *b;
    int loglik = given(c, K_METHOD) && c->v[K_METHOD].i == EVAL_METHOD_LOGLIK;
    int generate = given(c, K_METHOD) && c->v[K_METHOD].i == EVAL_METHOD_GENERATE;
    int mc_gen = given(c, K_STYLE) && !strcmp(c->v[K_STYLE].s, "mc-generate");
    if (loglik && strcmp(kind, "greedy"))
        return fail_at(c, MN_EUSAGE, c->v[K_T_KIND].val, "ttc.kind",
                       "%s samples answers, but 'method' is loglik (line %zu): use method generate", kind,
                       line_of(c->v[K_METHOD].key));
    if (loglik && mc_gen)
        return fail_at(c, MN_EUSAGE, c->v[K_STYLE].val, "style", "mc-generate needs method generate, but 'method' is loglik (line %zu)",
                       line_of(c->v[K_METHOD].key));
    if (loglik && (b = bench_of_kind(c, B_MATH500 | B_SIMPLEQA)))
        return fail_at(c, MN_EUSAGE, c->v[K_METHOD].val, "method",
                       "loglik scores multiple-choice items, but %s has free-form items", b);
    if (strcmp(kind, "greedy") && !generate && !mc_gen && (b = bench_of_kind(c, B_MMLU | B_GPQA)))
        return fail_at(c, MN_EUSAGE, c->v[K_T_KIND].val, "ttc.kind",
                       "%s samples answers, but the multiple-choice items of %s are scored by log-likelihood: set method: generate",
                       kind, b);
    return 0;
}

static int check_shots(ctx *c)
{
    int64_t shots = given(c, K_SHOTS) ? c->v[K_SHOTS].i : 0;
    const char *b;
    if (shots > 0 && !given(c, K_SHOTS_FROM) && (b = bench_of_kind(c, B_GPQA | B_MATH500 | B_SIMPLEQA | B_JSONL)))
        return fail_at(c, MN_EUSAGE, c->v[K_SHOTS].val, "shots",
                       "%lld few-shot examples for %s need 'shots_from' (only mmlu has its own dev split)", (long long)shots, b);
    if (shots > 0 && given(c, K_MATH_COT) && c->v[K_MATH_COT].i)
        return fail_at(c, MN_EUSAGE, c->v[K_MATH_COT].val, "math_cot",
                       "the chain-of-thought prompt is zero-shot, but 'shots' is %lld (line %zu)", (long long)shots,
                       line_of(c->v[K_SHOTS].key));
    if (given(c, K_FIELDS) && !bench_of_kind(c, B_JSONL) &&
        !(given(c, K_SHOTS_FROM) && (1 << spec_kind(c->v[K_SHOTS_FROM].s)) == B_JSONL))
        return fail_at(c, MN_EUSAGE, c->v[K_FIELDS].key, "fields", "field names are for jsonl benchmarks, and none is given");
    return 0;
}

/* Last component of path without trailing slashes, into buf. */
static const char *path_base(const char *path, char *buf, size_t cap)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(buf, cap, "%.*s", (int)(len - start), path + start);
    return buf;
}

/* "<kind>-<stem>" of spec: the file name without format and compression suffixes. */
static const char *bench_label(const char *spec, char *buf, size_t cap)
{
    static const char *const sufs[] = {".gz", ".zst", ".xz", ".bz2", ".lz4", ".lzma", ".tgz", ".tar", ".zip",
                                       ".csv", ".jsonl", ".ndjson", ".json", NULL};
    const char *colon = strchr(spec, ':');
    char base[PATH_MAX];
    path_base(colon + 1, base, sizeof base);
    for (int again = 1; again;) {
        again = 0;
        size_t len = strlen(base);
        for (int i = 0; sufs[i]; i++) {
            size_t sl = strlen(sufs[i]);
            if (len > sl && !strcmp(base + len - sl, sufs[i])) {
                base[len - sl] = '\0';
                again = 1;
                break;
            }
        }
    }
    if (snprintf(buf, cap, "%.*s-%s", (int)(colon - spec), spec, base) < 0)
        buf[0] = '\0';
    return buf;
}

/* In a sweep, every combination needs its own folder OUT/<model>/<bench>. */
static int check_folders(ctx *c, int id, int bench)
{
    const slot *s = &c->v[id];
    char a[PATH_MAX], b[PATH_MAX], key[64];
    for (size_t i = 1; i < s->n; i++)
        for (size_t k = 0; k < i; k++) {
            if (bench ? strcmp(bench_label(s->list[i], a, sizeof a), bench_label(s->list[k], b, sizeof b))
                      : strcmp(path_base(s->list[i], a, sizeof a), path_base(s->list[k], b, sizeof b)))
                continue;
            snprintf(key, sizeof key, "%s[%zu]", KEYS[id].name, i);
            return fail_at(c, MN_EUSAGE, s->items[i], key, "its output folder '%s' is also that of %s[%zu] (line %zu)", a,
                           KEYS[id].name, k, line_of(s->items[k]));
        }
    return 0;
}

/* ---- pass 2b: files ---------------------------------------------------- */

static int is_dir(const char *p)
{
    struct stat st;
    return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* dir/name is a regular file. */
static int has_file(const char *dir, const char *name)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, name) >= sizeof p)
        return 0;
    return is_dir(dir) && is_file(p);
}

static int check_model_dir(ctx *c, const yaml_node_t *n, const char *key, const char *dir)
{
    if (!has_file(dir, "config.json"))
        return fail_line(c, MN_EIO, n, key, "%s: not a directory with config.json", dir);
    return 0;
}

static int check_exists(ctx *c, const yaml_node_t *n, const char *key, const char *path)
{
    struct stat st;
    if (stat(path, &st))
        return fail_line(c, MN_EIO, n, key, "%s: %s", path, errno == ENOENT ? "does not exist" : strerror(errno));
    return 0;
}

static int check_files(ctx *c)
{
    char key[64];
    int rc;
    int mid = given(c, K_MODEL) ? K_MODEL : K_MODELS, bid = given(c, K_BENCH) ? K_BENCH : K_BENCHES;
    for (size_t i = 0; i < c->v[mid].n; i++) {
        snprintf(key, sizeof key, mid == K_MODEL ? "%s" : "%s[%zu]", KEYS[mid].name, i);
        if ((rc = check_model_dir(c, c->v[mid].items[i], key, c->v[mid].list[i])))
            return rc;
        if (!given(c, K_TOKENIZER) && !has_file(c->v[mid].list[i], "tokenizer.json"))
            return fail_line(c, MN_EIO, c->v[mid].items[i], key, "%s: no tokenizer.json (name one with 'tokenizer')",
                             c->v[mid].list[i]);
    }
    if (given(c, K_TOKENIZER) && !is_file(c->v[K_TOKENIZER].s))
        return fail_line(c, MN_EIO, c->v[K_TOKENIZER].val, "tokenizer", "%s: not a file", c->v[K_TOKENIZER].s);
    for (size_t i = 0; i < c->v[bid].n; i++) {
        snprintf(key, sizeof key, bid == K_BENCH ? "%s" : "%s[%zu]", KEYS[bid].name, i);
        if ((rc = check_exists(c, c->v[bid].items[i], key, strchr(c->v[bid].list[i], ':') + 1)))
            return rc;
    }
    if (given(c, K_SHOTS_FROM) &&
        (rc = check_exists(c, c->v[K_SHOTS_FROM].val, "shots_from", strchr(c->v[K_SHOTS_FROM].s, ':') + 1)))
        return rc;
    if (given(c, K_R_DB) && !has_file(c->v[K_R_DB].s, "manifest.json"))
        return fail_line(c, MN_EIO, c->v[K_R_DB].val, "retrieval.db", "%s: not a retrieval DB (no manifest.json)",
                         c->v[K_R_DB].s);
    if (given(c, K_R_EMBED) && (rc = check_model_dir(c, c->v[K_R_EMBED].val, "retrieval.embed_model", c->v[K_R_EMBED].s)))
        return rc;
    if (given(c, K_T_VERIFIER) && (rc = check_model_dir(c, c->v[K_T_VERIFIER].val, "ttc.verifier", c->v[K_T_VERIFIER].s)))
        return rc;
    if (given(c, K_R_RERANK) && strcmp(c->v[K_R_RERANK].s, "self") &&
        (rc = check_model_dir(c, c->v[K_R_RERANK].val, "retrieval.rerank", c->v[K_R_RERANK].s)))
        return rc;
    if (given(c, K_R_RERANK) && strcmp(c->v[K_R_RERANK].s, "self") &&
        !has_file(c->v[K_R_RERANK].s, "tokenizer.json"))
        return fail_line(c, MN_EIO, c->v[K_R_RERANK].val, "retrieval.rerank", "%s: no tokenizer.json (a reranker needs its own)",
                         c->v[K_R_RERANK].s);
    return 0;
}

/* ---- pass 3: build ------------------------------------------------------ */

static void build(ctx *c, const char *file)
{
    job *j = c->j;
    eval_opts *o = &j->base;
    const slot *v = c->v;
    char buf[PATH_MAX];
    eval_opts_default(o);
    slot *m = given(c, K_MODEL) ? &c->v[K_MODEL] : &c->v[K_MODELS];
    slot *b = given(c, K_BENCH) ? &c->v[K_BENCH] : &c->v[K_BENCHES];
    j->models = xcalloc(m->n, sizeof *j->models);
    memcpy(j->models, m->list, m->n * sizeof *j->models);
    j->nmodels = m->n;
    j->benches = xcalloc(b->n, sizeof *j->benches);
    memcpy(j->benches, b->list, b->n * sizeof *j->benches);
    j->nbenches = b->n;
    j->out = v[K_OUT].s; /* NULL: the command line must give --out */
    j->file = xstrdup(file);
    j->chunk = given(c, K_CHUNK) ? (size_t)v[K_CHUNK].i : 8;
    j->contam = (job_contam_opts){given(c, K_CONTAM), given(c, K_C_N) ? (unsigned)v[K_C_N].i : 13,
                                  given(c, K_C_RULE) ? v[K_C_RULE].s : "overlap",
                                  given(c, K_C_THRESHOLD) ? v[K_C_THRESHOLD].d : 0.5,
                                  given(c, K_C_RCHECK) ? (size_t)v[K_C_RCHECK].i : 0};
    if (given(c, K_NAME)) {
        j->name = xstrdup(v[K_NAME].s);
    } else { /* the file name without its extension */
        path_base(file, buf, sizeof buf);
        char *dot = strrchr(buf, '.');
        if (dot && dot != buf)
            *dot = '\0';
        j->name = xstrdup(buf);
    }
#define STR(K, F) if (given(c, K)) o->F = v[K].s
#define NUM(K, F, T) if (given(c, K)) o->F = (T)v[K].i
    STR(K_TOKENIZER, tokenizer);
    STR(K_SPLIT, load.split);
    NUM(K_LIMIT, limit, size_t);
    NUM(K_SHOTS, shots, size_t);
    STR(K_SHOTS_FROM, shots_from);
    NUM(K_METHOD, method, eval_method);
    STR(K_STYLE, style);
    STR(K_CHAT, chat);
    STR(K_SYSTEM, system);
    NUM(K_MATH_COT, math_cot, int);
    NUM(K_ADD_BOS, add_bos, int);
    NUM(K_ON_ERROR, load.on_error, bench_on_error);
    STR(K_F_ID, load.fields.id);
    STR(K_F_QUESTION, load.fields.question);
    STR(K_F_ANSWER, load.fields.answer);
    STR(K_F_CHOICES, load.fields.choices);
    STR(K_F_SUBJECT, load.fields.subject);
    NUM(K_GPQA_SEED, load.seed, uint64_t);
    STR(K_MEMBER, load.member);
    STR(K_PASSPHRASE, load.passphrase);
    STR(K_R_DB, db);
    NUM(K_R_K, k, size_t);
    NUM(K_R_MODE, mode, eval_retrieval_mode);
    STR(K_R_EMBED, embed_model);
    NUM(K_R_BUDGET, budget, size_t);
    NUM(K_R_ORDER, order, prompt_rag_order);
    NUM(K_R_DECONTAM, decontaminate, size_t);
    STR(K_R_RERANK, rerank);
    NUM(K_R_RDEPTH, rerank_depth, size_t);
    NUM(K_T_KIND, ttc, eval_ttc);
    NUM(K_T_N, ttc_n, int);
    if (given(c, K_T_TEMP))
        o->temperature = v[K_T_TEMP].d;
    if (given(c, K_T_TOP_P))
        o->top_p = v[K_T_TOP_P].d;
    NUM(K_T_TOP_K, top_k, int);
    NUM(K_T_MAX_NEW, max_new, int);
    STR(K_T_VERIFIER, verifier);
    NUM(K_SEED, seed, uint64_t);
    NUM(K_BATCH, batch, int);
    NUM(K_THREADS, threads, int);
#undef STR
#undef NUM
}

/* ---- loading ------------------------------------------------------------ */

/* libyaml's complaint as one line. */
static int yaml_fail(ctx *c, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return mn_errf(c->err, MN_ENOMEM, "%s: YAML: out of memory", c->file);
    if (p->error == YAML_READER_ERROR) {
        if (p->problem_value != -1)
            return mn_errf(c->err, MN_EFORMAT, "%s: byte %zu: YAML: %s (#%X)", c->file, p->problem_offset,
                           p->problem ? p->problem : "unreadable input", (unsigned)p->problem_value);
        return mn_errf(c->err, MN_EFORMAT, "%s: byte %zu: YAML: %s", c->file, p->problem_offset,
                       p->problem ? p->problem : "unreadable input");
    }
    char ctx_text[160] = "";
    if (p->context)
        snprintf(ctx_text, sizeof ctx_text, " (%s at line %zu, column %zu)", p->context, p->context_mark.line + 1,
                 p->context_mark.column + 1);
    return mn_errf(c->err, MN_EFORMAT, "%s: line %zu, column %zu: YAML syntax error: %s%s", c->file,
                   p->problem_mark.line + 1, p->problem_mark.column + 1, p->problem ? p->problem : "malformed",
                   ctx_text);
}

/* Nesting deeper than JOB_MAX_DEPTH, found by a pass over the events
 * before the document is built: libyaml takes time quadratic in the depth
 * (100,000 nested '[' took 20 s), and the depth check stops it at the
 * limit.  A syntax error is left to the loader, which reports it. */
static int check_depth(ctx *c, const char *buf, size_t len)
{
    yaml_parser_t p;
    yaml_event_t e;
    int depth = 0, rc = 0;
    if (!yaml_parser_initialize(&p))
        return mn_errf(c->err, MN_ENOMEM, "%s: YAML: out of memory", c->file);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    for (int end = 0; !end && !rc;) {
        if (!yaml_parser_parse(&p, &e))
            break;
        end = e.type == YAML_STREAM_END_EVENT;
        if (e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT) {
            if (++depth > JOB_MAX_DEPTH)
                rc = mn_errf(c->err, MN_EFORMAT, "%s: line %zu, column %zu: YAML nested more than %d levels deep "
                             "(a job file needs 3)", c->file, e.start_mark.line + 1, e.start_mark.column + 1,
                             JOB_MAX_DEPTH);
        } else if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p);
    return rc;
}

/* Parse the one document of buf into doc (deleted by the caller on success). */
static int load_document(ctx *c, const char *buf, size_t len, yaml_document_t *doc)
{
    yaml_parser_t p;
    yaml_document_t extra;
    int rc = check_depth(c, buf, len);
    if (rc)
        return rc;
    if (!yaml_parser_initialize(&p))
        return mn_errf(c->err, MN_ENOMEM, "%s: YAML: out of memory", c->file);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&p, doc)) {
        rc = yaml_fail(c, &p);
        yaml_parser_delete(&p);
        return rc;
    }
    if (!yaml_parser_load(&p, &extra)) {
        rc = yaml_fail(c, &p);
    } else {
        yaml_node_t *r = yaml_document_get_root_node(&extra);
        if (r)
            rc = mn_errf(c->err, MN_EFORMAT, "%s: line %zu: a second YAML document (a job file holds one mapping)", c->file,
                         r->start_mark.line + 1);
        yaml_document_delete(&extra);
    }
    yaml_parser_delete(&p);
    if (rc)
        yaml_document_delete(doc);
    return rc;
}

int job_load_memory(const char *name, const char *buf, size_t len, int check_files_on, job **out, mn_err *err)
{
    ctx c = {.file = name, .err = err};
    yaml_document_t doc;
    int rc = load_document(&c, buf, len, &doc);
    if (rc)
        return rc;
    c.doc = &doc;
    c.j = xcalloc(1, sizeof *c.j);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        rc = mn_errf(err, MN_EFORMAT, "%s: empty job file (expected a mapping of settings, 'key: value' lines)", name);
        goto fail;
    }
    if (root->type != YAML_MAPPING_NODE) {
        char g[128];
        rc = mn_errf(err, MN_EFORMAT, "%s: line %zu, column %zu: a job file is a mapping of settings ('key: value' lines), %s",
                     name, root->start_mark.line + 1, root->start_mark.column + 1, got(root, 0, g));
        goto fail;
    }
    if ((rc = walk_map(&c, root, K_NAME, K_CONTAM, NULL)) || (rc = check_required(&c)) || (rc = check_ttc(&c)) ||
        (rc = check_method(&c)) || (rc = check_shots(&c)))
        goto fail;
    if (c.v[K_MODEL].n + c.v[K_MODELS].n > 1 || c.v[K_BENCH].n + c.v[K_BENCHES].n > 1)
        if ((rc = check_folders(&c, given(&c, K_MODEL) ? K_MODEL : K_MODELS, 0)) ||
            (rc = check_folders(&c, given(&c, K_BENCH) ? K_BENCH : K_BENCHES, 1)))
            goto fail;
    if (check_files_on && (rc = check_files(&c)))
        goto fail;
    build(&c, name);
    ctx_free(&c);
    yaml_document_delete(&doc);
    *out = c.j;
    return 0;
fail:
    ctx_free(&c);
    job_free(c.j);
    yaml_document_delete(&doc);
    return rc;
}

int job_load(const char *path, job **out, mn_err *err)
{
    char *buf;
    size_t len;
    int rc = file_read_all(path, &buf, &len, err);
    if (rc)
        return rc;
    if (len > JOB_MAX_BYTES)
        rc = mn_errf(err, MN_ERANGE, "%s: %zu bytes: too large for a job file (at most %zu)", path, len, JOB_MAX_BYTES);
    else
        rc = job_load_memory(path, buf, len, 1, out, err);
    free(buf);
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

size_t job_combos(const job *j) { return j->nmodels * j->nbenches; }

size_t job_chunk(const job *j) { return j->chunk; }

const job_contam_opts *job_contam(const job *j) { return &j->contam; }

const char *job_name(const job *j) { return j->name; }

int job_eval_opts(const job *j, size_t t, const char *out_override, eval_opts *o, char *outbuf, size_t outlen,
                  mn_err *err)
{
    size_t n = job_combos(j);
    if (t >= n)
        return mn_errf(err, MN_ERANGE, "job '%s': combination %zu: only %zu", j->name, t, n);
    *o = j->base;
    o->model_dir = j->models[t / j->nbenches];
    o->bench = j->benches[t % j->nbenches];
    const char *out = out_override ? out_override : j->out;
    if (!out)
        return mn_errf(err, MN_EUSAGE, "%s: no output folder: give --out DIR, or the key 'out' in the job file", j->file);
    if (n == 1) {
        o->out_dir = out;
        return 0;
    }
    char model[PATH_MAX], bench[PATH_MAX];
    path_base(o->model_dir, model, sizeof model);
    bench_label(o->bench, bench, sizeof bench);
    int w = outbuf ? snprintf(outbuf, outlen, "%s/%s/%s", out, model, bench) : -1;
    if (w < 0 || (size_t)w >= outlen)
        return mn_errf(err, MN_ERANGE, "job '%s': combination %zu: output folder %s/%s/%s longer than %zu bytes", j->name,
                       t, out, model, bench, outlen);
    o->out_dir = outbuf;
    return 0;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* The temperature eval_run uses (eval.c choose_styles). */
static double effective_temperature(const eval_opts *o)
{
    if (o->temperature >= 0)
        return o->temperature;
    return (o->ttc == EVAL_TTC_SC || o->ttc == EVAL_TTC_BESTOFN) && o->ttc_n > 1 ? 0.7 : 0.0;
}

char *job_canonical(const job *j, size_t t)
{
    eval_opts o;
    char tok[PATH_MAX], outdir[PATH_MAX]; /* the folder is left out of the text */
    if (t >= job_combos(j) || job_eval_opts(j, t, "-", &o, outdir, sizeof outdir, NULL))
        return NULL;
    if (!o.tokenizer)
        snprintf(tok, sizeof tok, "%s/tokenizer.json", o.model_dir);
    json_t *r = json_object(), *ttc = json_object(), *fields = json_object(), *retr = json_null();
    json_object_set_new(r, "model", json_string(o.model_dir));
    json_object_set_new(r, "bench", json_string(o.bench));
    json_object_set_new(r, "tokenizer", json_string(o.tokenizer ? o.tokenizer : tok));
    json_object_set_new(r, "split", json_string(o.load.split));
    json_object_set_new(r, "limit", json_integer((json_int_t)o.limit));
    json_object_set_new(r, "shots", json_integer((json_int_t)o.shots));
    json_object_set_new(r, "shots_from", str_or_null(o.shots_from));
    json_object_set_new(r, "method", json_string(METHODS[o.method]));
    json_object_set_new(r, "style", str_or_null(o.style));
    json_object_set_new(r, "chat", json_string(o.chat));
    json_object_set_new(r, "system", str_or_null(o.system));
    json_object_set_new(r, "math_cot", json_boolean(o.math_cot));
    json_object_set_new(r, "add_bos", json_boolean(o.add_bos));
    json_object_set_new(r, "on_error", json_string(ON_ERRORS[o.load.on_error]));
    json_object_set_new(fields, "id", json_string(o.load.fields.id));
    json_object_set_new(fields, "question", json_string(o.load.fields.question));
    json_object_set_new(fields, "answer", json_string(o.load.fields.answer));
    json_object_set_new(fields, "choices", json_string(o.load.fields.choices));
    json_object_set_new(fields, "subject", json_string(o.load.fields.subject));
    json_object_set_new(r, "fields", fields);
    json_object_set_new(r, "gpqa_seed", json_integer((json_int_t)o.load.seed));
    json_object_set_new(r, "member", str_or_null(o.load.member));
    json_object_set_new(r, "passphrase", o.load.passphrase ? json_string("set") : json_null());
    if (o.db) {
        retr = json_object();
        json_object_set_new(retr, "db", json_string(o.db));
        json_object_set_new(retr, "k", json_integer((json_int_t)o.k));
        json_object_set_new(retr, "mode", json_string(MODES[o.mode]));
        json_object_set_new(retr, "embed_model", str_or_null(o.embed_model));
        json_object_set_new(retr, "budget", json_integer((json_int_t)o.budget));
        json_object_set_new(retr, "order", json_string(ORDERS[o.order]));
        json_object_set_new(retr, "decontaminate", json_integer((json_int_t)o.decontaminate));
        if (o.rerank) { /* only when set: the text of jobs without a reranker stays as before */
            json_object_set_new(retr, "rerank", json_string(o.rerank));
            json_object_set_new(retr, "rerank_depth", json_integer((json_int_t)eval_rerank_depth(&o)));
        }
    }
    json_object_set_new(r, "retrieval", retr);
    json_object_set_new(ttc, "kind", json_string(TTC_KINDS[o.ttc]));
    json_object_set_new(ttc, "n", json_integer(o.ttc == EVAL_TTC_SC || o.ttc == EVAL_TTC_BESTOFN ? o.ttc_n : 1));
    json_object_set_new(ttc, "temperature", json_real(effective_temperature(&o)));
    json_object_set_new(ttc, "top_p", json_real(o.top_p));
    json_object_set_new(ttc, "top_k", json_integer(o.top_k));
    json_object_set_new(ttc, "max_new_tokens", json_integer(o.max_new));
    json_object_set_new(ttc, "verifier", str_or_null(o.verifier));
    json_object_set_new(r, "ttc", ttc);
    json_object_set_new(r, "seed", json_integer((json_int_t)o.seed));
    json_object_set_new(r, "batch", json_integer(o.batch));
    /* the chunk is the unit of commit: part files of another chunk size
     * cannot be resumed */
    json_object_set_new(r, "chunk", json_integer((json_int_t)j->chunk));
    char *text = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(r);
    if (!text)
        abort(); /* jansson fails only when out of memory */
    return text;
}
