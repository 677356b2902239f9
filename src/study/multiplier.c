/* multiplier.c — load result directories, group them by benchmark, fit the
 * closed-book family and turn every augmented accuracy into an effective
 * compute, with paired bootstrap intervals (see multiplier.h).
 *
 * Sections: small JSON readers; loading one result (summary.json,
 * items.jsonl, training.json); grouping and labels; per-benchmark point
 * estimates; the bootstrap; contamination. */
#include "study/multiplier.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bootstrap.h" /* boot_rng */
#include "util/jsonfile.h"   /* json_load_path */
#include "util/mapfile.h"    /* file_read_all */
#include "util/strbuf.h"     /* strbuf */
#include "util/path.h"     /* path_join */

void mult_opts_default(mult_opts *o)
{
    o->resamples = 1000;
    o->seed = MULT_SEED_DEFAULT;
    o->level = 0.95;
    o->floor = NAN;
    o->ceiling = 1.0;
    o->exclude = NULL;
    o->nexclude = 0;
}

/* qsort and bsearch for arrays that may be empty: C leaves a NULL base
 * undefined even with no elements, and an empty file gives a NULL array. */
static void sort_n(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

static void *find_n(const void *key, const void *base, size_t n, size_t size,
                    int (*cmp)(const void *, const void *))
{
    return n ? bsearch(key, base, n, size, cmp) : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------- one result */

/* One loaded result directory. */
typedef struct result {
    char *dir, *summary_path, *items_path;
    char *bench, *kind, *output_type, *label, *model;
    double params, tokens, compute, accuracy;
    size_t n;
    char **ids;              /* [n] sorted */
    unsigned char *correct;  /* [n] aligned with ids */
    double chance_sum;       /* sum of 1 / options over items with choices_loglik */
    size_t chance_n;
    unsigned char *cu;       /* [items of the benchmark] correct by the benchmark's id order */
    size_t excluded;         /* items dropped by opts.exclude */
} result;

static void result_free(result *r)
{
    free(r->dir);
    free(r->summary_path);
    free(r->items_path);
    free(r->bench);
    free(r->kind);
    free(r->output_type);
    free(r->label);
    free(r->model);
    for (size_t i = 0; i < r->n; i++)
        free(r->ids[i]);
    free(r->ids);
    free(r->correct);
    free(r->cu);
}

/* A string member at dotted `field` (for messages) of obj. */
static int get_str(const char *path, json_t *obj, const char *key, const char *field, char **out, mn_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return mn_errf(err, MN_EFORMAT, "%s: field %s: missing or not a string", path, field);
    *out = xstrdup(json_string_value(v));
    return 0;
}

/* The configuration label (multiplier.h) from summary.json's config. */
static int config_label(const char *path, json_t *config, char **out, mn_err *err)
{
    strbuf b = {0};
    char tmp[64];
    json_t *r = json_object_get(config, "retrieval");
    if (r && !json_is_null(r)) {
        if (!json_is_object(r))
            return mn_errf(err, MN_EFORMAT, "%s: field config.retrieval: not an object or null", path);
        strbuf_puts(&b, "retrieval");
        json_t *rr = json_object_get(r, "rerank");
        if (rr && !json_is_null(rr) && !json_is_false(rr))
            strbuf_puts(&b, "+rerank");
        json_t *dc = json_object_get(r, "decontaminate");
        if (json_is_integer(dc) && json_integer_value(dc) > 0) {
            snprintf(tmp, sizeof tmp, "+decontam:%lld", (long long)json_integer_value(dc));
            strbuf_puts(&b, tmp);
        }
    }
    json_t *t = json_object_get(config, "ttc");
    if (t && !json_is_null(t)) {
        json_t *kind = json_object_get(t, "kind"), *n = json_object_get(t, "n");
        if (!json_is_object(t) || !json_is_string(kind))
            return free(b.p), mn_errf(err, MN_EFORMAT, "%s: field config.ttc.kind: missing or not a string", path);
        const char *k = json_string_value(kind);
        long long nv = json_is_integer(n) ? (long long)json_integer_value(n) : 1;
        tmp[0] = 0;
        if (!strcmp(k, "sc") || !strcmp(k, "bestofn")) {
            if (strcmp(k, "sc") || nv > 1)
                snprintf(tmp, sizeof tmp, "%s:%lld", k, nv);
        } else if (strcmp(k, "greedy")) {
            snprintf(tmp, sizeof tmp, "%.40s", k);
        }
        if (tmp[0]) {
            if (b.len)
                strbuf_putc(&b, '+');
            strbuf_puts(&b, tmp);
        }
    }
    *out = strbuf_take(&b);
    return 0;
}

/* A number member of training.json: *out NaN when absent; present it must
 * be a finite number >= 0. */
static int training_num(const char *path, json_t *j, const char *key, double *out, mn_err *err)
{
    json_t *v = json_object_get(j, key);
    *out = NAN;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
        return mn_errf(err, MN_EFORMAT, "%s: field %s: not a non-negative number", path, key);
    *out = json_number_value(v);
    return 0;
}

static int load_training(result *r, mn_err *err)
{
    char *path = path_join(r->model, "training.json");
    json_t *j = NULL;
    int rc = json_load_path(path, &j, err);
    if (!rc && !json_is_object(j))
        rc = mn_errf(err, MN_EFORMAT, "%s: byte 0: not a JSON object", path);
    if (!rc)
        rc = training_num(path, j, "params", &r->params, err);
    if (!rc)
        rc = training_num(path, j, "tokens", &r->tokens, err);
    if (!rc)
        rc = training_num(path, j, "compute", &r->compute, err);
    if (!rc && isnan(r->compute))
        r->compute = 6.0 * r->params * r->tokens; /* NaN when either is absent */
    if (!rc && !(r->compute > 0 && isfinite(r->compute)))
        rc = mn_errf(err, MN_EFORMAT, "%s: field compute: missing (and no params and tokens) or not > 0", path);
    json_decref(j);
    free(path);
    return rc;
}

static int load_summary(result *r, mn_err *err)
{
    json_t *j = NULL, *config, *model;
    const char *p = r->summary_path;
    int rc = json_load_path(p, &j, err);
    if (rc)
        return rc;
    if (!json_is_object(j))
        rc = mn_errf(err, MN_EFORMAT, "%s: byte 0: not a JSON object", p);
    else if (!json_is_object(config = json_object_get(j, "config")))
        rc = mn_errf(err, MN_EFORMAT, "%s: field config: missing or not an object", p);
    else if (!json_is_object(model = json_object_get(j, "model")))
        rc = mn_errf(err, MN_EFORMAT, "%s: field model: missing or not an object", p);
    else if (!(rc = get_str(p, j, "benchmark", "benchmark", &r->kind, err)) &&
             !(rc = get_str(p, j, "output_type", "output_type", &r->output_type, err)) &&
             !(rc = get_str(p, config, "bench", "config.bench", &r->bench, err)) &&
             !(rc = get_str(p, model, "path", "model.path", &r->model, err)))
        rc = config_label(p, config, &r->label, err);
    if (!rc) {
        json_t *n = json_object_get(j, "n"), *acc = json_object_get(j, "accuracy");
        if (!json_is_integer(n) || json_integer_value(n) < 0)
            rc = mn_errf(err, MN_EFORMAT, "%s: field n: missing or not a non-negative integer", p);
        else if (!json_is_number(acc) && !json_is_null(acc))
            rc = mn_errf(err, MN_EFORMAT, "%s: field accuracy: missing or not a number", p);
        else {
            r->n = (size_t)json_integer_value(n); /* checked against items.jsonl, then replaced */
            r->accuracy = json_is_number(acc) ? json_number_value(acc) : NAN;
        }
    }
    json_decref(j);
    return rc;
}

/* The next line of buf[*pos..len), without its '\n', in *line / *l; *pos
 * moves past it.  Returns 0 when the buffer is used up. */
static int next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *l)
{
    if (*pos >= len)
        return 0;
    const char *nl = memchr(buf + *pos, '\n', len - *pos);
    size_t end = nl ? (size_t)(nl - buf) : len;
    *line = buf + *pos;
    *l = end - *pos;
    *pos = end + 1;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Whether line[0..l) holds only spaces, tabs and CRs. */
static int is_blank(const char *line, size_t l)
{
    size_t k = 0;
    while (k < l && is_space(line[k]))
        k++;
    return k == l;
}

typedef struct id_correct {
    char *id;
    unsigned char correct;
    size_t line;
} id_correct;

static int by_id(const void *a, const void *b)
{
    return strcmp(((const id_correct *)a)->id, ((const id_correct *)b)->id);
}

/* One line of items.jsonl into v (id owned by v on success). */
static int parse_item(result *r, const char *line, size_t len, size_t lineno, id_correct *v, mn_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    int rc = 0;
    if (!j)
        return mn_errf(err, MN_EFORMAT, "%s: line %zu: invalid JSON: %s", r->items_path, lineno, je.text);
    json_t *id = json_object_get(j, "id"), *c = json_object_get(j, "correct");
    json_t *ch = json_object_get(j, "choices_loglik");
    if (!json_is_object(j))
        rc = mn_errf(err, MN_EFORMAT, "%s: line %zu: not a JSON object", r->items_path, lineno);
    else if (!json_is_string(id))
        rc = mn_errf(err, MN_EFORMAT, "%s: line %zu: field id: missing or not a string", r->items_path, lineno);
    else if (!json_is_boolean(c))
        rc = mn_errf(err, MN_EFORMAT, "%s: line %zu: field correct: missing or not a boolean", r->items_path,
                     lineno);
    else {
        v->id = xstrdup(json_string_value(id));
        v->correct = json_is_true(c);
        v->line = lineno;
        if (json_is_array(ch) && json_array_size(ch) > 0) {
            r->chance_sum += 1.0 / (double)json_array_size(ch);
            r->chance_n++;
        }
    }
    json_decref(j);
    return rc;
}

static int load_items(result *r, mn_err *err)
{
    char *buf;
    size_t len, cap = 0, n = 0, lineno = 0;
    int rc = file_read_all(r->items_path, &buf, &len, err);
    if (rc)
        return rc;
    id_correct *v = NULL;
    const char *line;
    size_t l;
    for (size_t pos = 0; !rc && next_line(buf, len, &pos, &line, &l);) {
        lineno++;
        if (is_blank(line, l))
            continue;
        if (n == cap)
            v = xrealloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v);
        if (!(rc = parse_item(r, line, l, lineno, &v[n], err)))
            n++;
    }
    free(buf);
    if (!rc) {
        sort_n(v, n, sizeof *v, by_id);
        for (size_t i = 1; i < n && !rc; i++)
            if (!strcmp(v[i - 1].id, v[i].id))
                rc = mn_errf(err, MN_EFORMAT, "%s: line %zu: duplicate id '%s'", r->items_path,
                             v[i - 1].line > v[i].line ? v[i - 1].line : v[i].line, v[i].id);
    }
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i].correct;
    double acc = n ? (double)sum / (double)n : NAN;
    if (!rc && n != r->n)
        rc = mn_errf(err, MN_EMISMATCH, "%s: %zu items, but %s says n = %zu", r->items_path, n, r->summary_path,
                     r->n);
    else if (!rc && n == 0)
        rc = mn_errf(err, MN_EFORMAT, "%s: no items", r->items_path);
    else if (!rc && !(fabs(acc - r->accuracy) <= 1e-9))
        rc = mn_errf(err, MN_EMISMATCH, "%s: accuracy %.6f, but %s says %.6f", r->items_path, acc,
                     r->summary_path, r->accuracy);
    r->ids = xmalloc((n ? n : 1) * sizeof *r->ids);
    r->correct = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        r->ids[i] = v[i].id;
        r->correct[i] = v[i].correct;
    }
    r->n = n;
    r->accuracy = acc;
    free(v);
    return rc;
}

/* Drop the items listed in o->exclude from r (after load_items checked the
 * file against its summary) and recompute the accuracy. */
static int exclude_items(result *r, const mult_opts *o, mn_err *err)
{
    size_t kept = 0, sum = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (find_n(&r->ids[i], o->exclude, o->nexclude, sizeof *o->exclude, cmp_str)) {
            free(r->ids[i]);
            continue;
        }
        r->ids[kept] = r->ids[i];
        r->correct[kept] = r->correct[i];
        sum += r->correct[kept++];
    }
    r->excluded = r->n - kept;
    r->n = kept;
    if (kept == 0)
        return mn_errf(err, MN_ERANGE, "%s: no items left after excluding %zu", r->items_path, r->excluded);
    r->accuracy = (double)sum / (double)kept;
    return 0;
}

static int result_load(const char *dir, result *r, mn_err *err)
{
    memset(r, 0, sizeof *r);
    r->dir = xstrdup(dir);
    r->summary_path = path_join(dir, "summary.json");
    r->items_path = path_join(dir, "items.jsonl");
    int rc = load_summary(r, err);
    if (!rc)
        rc = load_items(r, err);
    if (!rc)
        rc = load_training(r, err);
    return rc;
}

/* ------------------------------------------------------- grouping */

/* Study order of results: benchmark, closed-book first, label, compute,
 * model, directory. */
static int result_cmp(const void *a, const void *b)
{
    const result *p = a, *q = b;
    int c = strcmp(p->bench, q->bench);
    if (c)
        return c;
    if ((p->label[0] == 0) != (q->label[0] == 0))
        return p->label[0] == 0 ? -1 : 1;
    if ((c = strcmp(p->label, q->label)))
        return c;
    if (p->compute != q->compute)
        return p->compute < q->compute ? -1 : 1;
    if ((c = strcmp(p->model, q->model)))
        return c;
    return strcmp(p->dir, q->dir);
}

/* Align every result of one benchmark (r[0..nr)) on the union of their ids:
 * each must hold all of them.  Fills r[i].cu; *items = the union's size.
 * When some result lacks an id, the message blames the result missing the
 * id that most results hold (the odd one out). */
static int align_items(result *r, size_t nr, size_t *items, mn_err *err)
{
    size_t total = 0, u = 0;
    for (size_t i = 0; i < nr; i++)
        total += r[i].n;
    char **all = xmalloc(total * sizeof *all);
    for (size_t i = 0, k = 0; i < nr; i++)
        for (size_t j = 0; j < r[i].n; j++)
            all[k++] = r[i].ids[j];
    sort_n(all, total, sizeof *all, cmp_str);
    size_t *holders = xcalloc(total ? total : 1, sizeof *holders);
    for (size_t k = 0; k < total; k++) {
        if (!u || strcmp(all[u - 1], all[k]))
            all[u++] = all[k];
        holders[u - 1]++;
    }
    size_t best = 0, bi = 0, bk = 0;
    for (size_t i = 0; i < nr; i++) {
        if (r[i].n == u) {
            r[i].cu = xmalloc(u ? u : 1);
            memcpy(r[i].cu, r[i].correct, u); /* same sorted set: same order */
            continue;
        }
        for (size_t k = 0, j = 0; k < u; k++) { /* both lists sorted */
            if (j < r[i].n && !strcmp(r[i].ids[j], all[k])) {
                j++;
            } else if (holders[k] > best) {
                best = holders[k];
                bi = i;
                bk = k;
            }
        }
    }
    int rc = 0;
    if (best) {
        const char *other = "another result";
        for (size_t o = 0; o < nr; o++)
            if (o != bi && find_n(&all[bk], r[o].ids, r[o].n, sizeof(char *), cmp_str)) {
                other = r[o].items_path;
                break;
            }
        rc = mn_errf(err, MN_EMISMATCH, "%s: item '%s' missing (present in %s)", r[bi].items_path, all[bk], other);
    }
    free(holders);
    free(all);
    *items = u;
    return rc;
}

/* ------------------------------------------------ per-benchmark state */

/* Working state of one benchmark: its results (borrowed, in study order),
 * family members first. */
typedef struct group {
    result *r;
    size_t nr, nfam, items;
    double *fx;      /* [nfam] log10 compute of the family */
    long *cb_of;     /* [nr] index of the same model's closed-book result, -1 when none */
} group;

/* Mean of correct over resampled ids: cnt[u] copies of item u (NULL: all
 * once). */
static double mean_correct(const result *r, const unsigned *cnt, size_t items)
{
    size_t s = 0;
    if (!cnt) {
        for (size_t u = 0; u < items; u++)
            s += r->cu[u];
    } else {
        for (size_t u = 0; u < items; u++)
            s += r->cu[u] ? cnt[u] : 0;
    }
    return (double)s / (double)items;
}

/* log10 multiplier from a fit and accuracy: x(acc) - log10(compute). */
static double log_mult(const fit_sigmoid *f, double acc, double compute, int *flag)
{
    return fit_sigmoid_inverse(f, acc, flag) - log10(compute);
}

/* Quantile q (type 7) of sorted v[0..n) which may hold +-inf. */
static double quantile(const double *v, size_t n, double q)
{
    double h = (double)(n - 1) * q, fl = floor(h);
    size_t i = (size_t)fl;
    if (i + 1 >= n)
        return v[n - 1];
    double a = v[i], b = v[i + 1], t = h - fl;
    if (t == 0 || a == b)
        return a;
    if (a == -INFINITY) /* a + t (b - a) for t in (0, 1), without inf - inf */
        return a;
    if (b == INFINITY)
        return b;
    return a + t * (b - a);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void interval(double *v, size_t n, double level, double *lo, double *hi)
{
    sort_n(v, n, sizeof *v, cmp_double);
    *lo = quantile(v, n, (1 - level) / 2);
    *hi = quantile(v, n, (1 + level) / 2);
}

/* The paired bootstrap of one benchmark: fills the family's accuracy
 * intervals and every entry's multiplier and gain intervals. */
static void bootstrap_group(const group *g, mult_bench *b, mult_entry *e, const mult_opts *o)
{
    size_t B = o->resamples, ne = g->nr - g->nfam;
    if (!B)
        return;
    double *acc = xmalloc(g->nr * sizeof *acc), *fy = xmalloc(g->nfam * sizeof *fy);
    double *fam = xmalloc(g->nfam * B * sizeof *fam);  /* [nfam][B] */
    double *lm = xmalloc((ne ? ne : 1) * B * sizeof *lm); /* [ne][B] */
    double *gn = xmalloc((ne ? ne : 1) * B * sizeof *gn);
    unsigned *cnt = xmalloc(g->items * sizeof *cnt);
    boot_rng rng;
    boot_rng_seed(&rng, o->seed);
    for (size_t it = 0; it < B; it++) {
        memset(cnt, 0, g->items * sizeof *cnt);
        for (size_t k = 0; k < g->items; k++)
            cnt[boot_rng_below(&rng, g->items)]++;
        for (size_t i = 0; i < g->nr; i++)
            acc[i] = mean_correct(&g->r[i], cnt, g->items);
        for (size_t i = 0; i < g->nfam; i++)
            fam[i * B + it] = fy[i] = acc[i];
        fit_sigmoid f;
        if (fit_sigmoid_lsq(g->fx, fy, g->nfam, b->floor, b->ceiling, &f, NULL))
            f = b->fit; /* cannot happen: the same x as the point fit */
        for (size_t j = 0; j < ne; j++) {
            size_t i = g->nfam + j;
            lm[j * B + it] = log_mult(&f, acc[i], g->r[i].compute, NULL);
            gn[j * B + it] = g->cb_of[i] >= 0 ? acc[i] - acc[g->cb_of[i]] : NAN;
        }
    }
    for (size_t i = 0; i < g->nfam; i++)
        interval(fam + i * B, B, o->level, &b->family[i].ci_low, &b->family[i].ci_high);
    for (size_t j = 0; j < ne; j++) {
        double lo, hi;
        interval(lm + j * B, B, o->level, &lo, &hi);
        e[j].ci_low = pow(10.0, lo);
        e[j].ci_high = pow(10.0, hi);
        e[j].ci_high_unbounded = isinf(e[j].ci_high);
        if (g->cb_of[g->nfam + j] >= 0)
            interval(gn + j * B, B, o->level, &e[j].gain_ci_low, &e[j].gain_ci_high);
    }
    free(acc);
    free(fy);
    free(fam);
    free(lm);
    free(gn);
    free(cnt);
}

/* Chance accuracy of the benchmark (multiplier.h). */
static void choose_floor(const group *g, mult_bench *b, const mult_opts *o)
{
    if (isfinite(o->floor)) {
        b->floor = o->floor;
        b->floor_source = "option";
        return;
    }
    if (strcmp(b->output_type, "multiple_choice")) {
        b->floor = 0;
        b->floor_source = "free-form";
        return;
    }
    for (size_t i = 0; i < g->nr; i++)
        if (g->r[i].chance_n == g->r[i].n) {
            b->floor = g->r[i].chance_sum / (double)g->r[i].n;
            b->floor_source = "choices";
            return;
        }
    b->floor = 0.25;
    b->floor_source = "assumed-4";
}

static void member_fill(mult_member *m, const result *r)
{
    m->model = xstrdup(r->model);
    m->dir = xstrdup(r->dir);
    m->params = r->params;
    m->tokens = r->tokens;
    m->compute = r->compute;
    m->accuracy = r->accuracy;
    m->ci_low = m->ci_high = NAN;
}

static void entry_fill(mult_entry *e, size_t bi, const group *g, size_t i, const mult_bench *b)
{
    const result *r = &g->r[i];
    double xmin = g->fx[0], xmax = g->fx[g->nfam - 1], lc = log10(r->compute);
    int flag;
    memset(e, 0, sizeof *e);
    e->bench = bi;
    e->config = xstrdup(r->label);
    e->model = xstrdup(r->model);
    e->dir = xstrdup(r->dir);
    e->params = r->params;
    e->tokens = r->tokens;
    e->compute = r->compute;
    e->accuracy = r->accuracy;
    e->closed_book_accuracy = g->cb_of[i] >= 0 ? g->r[g->cb_of[i]].accuracy : NAN;
    e->gain = e->accuracy - e->closed_book_accuracy;
    e->gain_ci_low = e->gain_ci_high = NAN;
    double x = fit_sigmoid_inverse(&b->fit, r->accuracy, &flag);
    e->effective_compute = pow(10.0, x);
    e->multiplier = pow(10.0, x - lc);
    e->beyond_ceiling = flag == FIT_INV_ABOVE && r->accuracy >= b->ceiling;
    e->below_floor = flag == FIT_INV_BELOW && r->accuracy <= b->floor;
    e->extrapolated = !(x >= xmin && x <= xmax);
    e->ci_low = e->ci_high = NAN;
    double xi = fit_monotone_inverse(&b->mono, r->accuracy, &flag);
    e->interp_effective_compute = flag == FIT_INV_OK ? pow(10.0, xi) : NAN;
    e->interp_multiplier = flag == FIT_INV_OK ? pow(10.0, xi - lc) : NAN;
}

/* Duplicate results: two closed-book results of one model, or two results
 * of one model with the same label. */
static int check_duplicates(const group *g, mn_err *err)
{
    for (size_t i = 1; i < g->nr; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(g->r[i].label, g->r[j].label) && !strcmp(g->r[i].model, g->r[j].model))
                return mn_errf(err, MN_EMISMATCH, "%s: duplicate result: model %s, configuration %s, benchmark %s (also %s)",
                               g->r[i].summary_path, g->r[i].model,
                               g->r[i].label[0] ? g->r[i].label : "closed-book", g->r[i].bench, g->r[j].summary_path);
    return 0;
}

/* Everything for one benchmark: r[0..nr) in study order. */
static int study_group(result *r, size_t nr, size_t bi, mult_study *s, mn_err *err)
{
    group g = {.r = r, .nr = nr};
    mult_bench *b = &s->bench[bi];
    int rc;
    b->benchmark = xstrdup(r[0].bench);
    b->kind = xstrdup(r[0].kind);
    b->output_type = xstrdup(r[0].output_type);
    for (size_t i = 0; i < nr; i++) {
        if (strcmp(r[i].output_type, b->output_type))
            return mn_errf(err, MN_EMISMATCH, "%s: field output_type: '%s' differs from '%s' in %s (benchmark %s)",
                           r[i].summary_path, r[i].output_type, b->output_type, r[0].summary_path, b->benchmark);
        g.nfam += r[i].label[0] == 0;
    }
    if ((rc = check_duplicates(&g, err)) || (rc = align_items(r, nr, &g.items, err)))
        return rc;
    b->items = g.items;
    for (size_t i = 0; i < nr; i++)
        b->excluded = r[i].excluded > b->excluded ? r[i].excluded : b->excluded;
    g.fx = xmalloc((g.nfam ? g.nfam : 1) * sizeof *g.fx);
    double *fy = xmalloc((g.nfam ? g.nfam : 1) * sizeof *fy);
    g.cb_of = xmalloc(nr * sizeof *g.cb_of);
    for (size_t i = 0; i < g.nfam; i++) {
        g.fx[i] = log10(r[i].compute);
        fy[i] = r[i].accuracy;
    }
    for (size_t i = 0; i < nr; i++) {
        g.cb_of[i] = -1;
        for (size_t f = 0; f < g.nfam && i >= g.nfam; f++)
            if (!strcmp(r[f].model, r[i].model))
                g.cb_of[i] = (long)f;
    }
    choose_floor(&g, b, &s->opts);
    b->ceiling = s->opts.ceiling;
    mn_err ferr = {0};
    if (g.nfam < 2 || g.fx[0] == g.fx[g.nfam - 1])
        rc = mn_errf(err, MN_ERANGE, "benchmark %s: the closed-book family needs at least 2 distinct compute values, "
                     "has %zu result(s)%s%s", b->benchmark, g.nfam, g.nfam ? ", first " : "",
                     g.nfam ? r[0].summary_path : "");
    else if (!(b->floor < b->ceiling))
        rc = mn_errf(err, MN_ERANGE, "benchmark %s: floor %g is not below ceiling %g", b->benchmark, b->floor,
                     b->ceiling);
    else if ((rc = fit_sigmoid_lsq(g.fx, fy, g.nfam, b->floor, b->ceiling, &b->fit, &ferr)))
        mn_errf(err, rc, "benchmark %s: %s", b->benchmark, ferr.msg);
    if (!rc) {
        fit_monotone_build(g.fx, fy, g.nfam, &b->mono);
        b->family = xcalloc(g.nfam, sizeof *b->family);
        b->nfamily = g.nfam;
        for (size_t i = 0; i < g.nfam; i++)
            member_fill(&b->family[i], &r[i]);
        mult_entry *e = s->entries + s->nentries;
        for (size_t i = g.nfam; i < nr; i++)
            entry_fill(&e[i - g.nfam], bi, &g, i, b);
        bootstrap_group(&g, b, e, &s->opts);
        s->nentries += nr - g.nfam;
    }
    free(g.fx);
    free(fy);
    free(g.cb_of);
    return rc;
}

int mult_study_run(const char *const *dirs, size_t ndirs, const mult_opts *o, mult_study **out, mn_err *err)
{
    *out = NULL;
    if (!ndirs)
        return mn_errf(err, MN_EUSAGE, "multiplier: no result directories given");
    if (!(o->level > 0 && o->level < 1))
        return mn_errf(err, MN_EUSAGE, "multiplier: level %g is not in (0, 1)", o->level);
    result *r = xcalloc(ndirs, sizeof *r);
    int rc = 0;
    size_t loaded = 0;
    for (; loaded < ndirs && !rc; loaded++)
        if (!(rc = result_load(dirs[loaded], &r[loaded], err)) && o->nexclude)
            rc = exclude_items(&r[loaded], o, err);
    mult_study *s = xcalloc(1, sizeof *s);
    s->opts = *o;
    if (!rc) {
        sort_n(r, ndirs, sizeof *r, result_cmp);
        size_t nb = 0;
        for (size_t i = 0; i < ndirs; i++)
            nb += !i || strcmp(r[i].bench, r[i - 1].bench);
        s->bench = xcalloc(nb, sizeof *s->bench);
        s->entries = xcalloc(ndirs, sizeof *s->entries);
        for (size_t i = 0; i < ndirs && !rc;) {
            size_t j = i;
            while (j < ndirs && !strcmp(r[j].bench, r[i].bench))
                j++;
            rc = study_group(r + i, j - i, s->nbench++, s, err);
            i = j;
        }
    }
    for (size_t i = 0; i < loaded; i++)
        result_free(&r[i]);
    free(r);
    if (rc) {
        mult_study_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void mult_study_free(mult_study *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbench; i++) {
        mult_bench *b = &s->bench[i];
        free(b->benchmark);
        free(b->kind);
        free(b->output_type);
        fit_monotone_free(&b->mono);
        for (size_t f = 0; f < b->nfamily; f++) {
            free(b->family[f].model);
            free(b->family[f].dir);
        }
        free(b->family);
    }
    for (size_t i = 0; i < s->nentries; i++) {
        free(s->entries[i].config);
        free(s->entries[i].model);
        free(s->entries[i].dir);
    }
    free(s->bench);
    free(s->entries);
    free(s);
}

/* ------------------------------------------------------ contamination */

static int set_has(char **v, size_t n, const char *id)
{
    return find_n(&id, v, n, sizeof *v, cmp_str) != NULL;
}

/* contamination.jsonl: the audited ids (sorted) and which are flagged. */
static int load_contam_lines(const char *path, char ***ids, size_t *n, char ***flag, size_t *nflag, mn_err *err)
{
    char *buf;
    size_t len, cap = 0, fcap = 0, lineno = 0;
    int rc = file_read_all(path, &buf, &len, err);
    if (rc)
        return rc;
    const char *line;
    size_t l;
    for (size_t pos = 0; !rc && next_line(buf, len, &pos, &line, &l);) {
        lineno++;
        if (is_blank(line, l))
            continue;
        json_error_t je;
        json_t *j = json_loadb(line, l, 0, &je), *id = json_object_get(j, "id"), *f = json_object_get(j, "flagged");
        if (!j)
            rc = mn_errf(err, MN_EFORMAT, "%s: line %zu: invalid JSON: %s", path, lineno, je.text);
        else if (!json_is_string(id) || !json_is_boolean(f))
            rc = mn_errf(err, MN_EFORMAT, "%s: line %zu: fields id (string) and flagged (boolean) required", path,
                         lineno);
        else {
            if (*n == cap)
                *ids = xrealloc(*ids, (cap = cap ? 2 * cap : 64) * sizeof **ids);
            (*ids)[(*n)++] = xstrdup(json_string_value(id));
            if (json_is_true(f)) {
                if (*nflag == fcap)
                    *flag = xrealloc(*flag, (fcap = fcap ? 2 * fcap : 64) * sizeof **flag);
                (*flag)[(*nflag)++] = xstrdup(json_string_value(id));
            }
        }
        json_decref(j);
    }
    free(buf);
    if (!rc) {
        sort_n(*ids, *n, sizeof **ids, cmp_str);
        sort_n(*flag, *nflag, sizeof **flag, cmp_str);
        for (size_t i = 1; i < *n && !rc; i++)
            if (!strcmp((*ids)[i - 1], (*ids)[i]))
                rc = mn_errf(err, MN_EFORMAT, "%s: duplicate id '%s'", path, (*ids)[i]);
    }
    return rc;
}

/* The planted list: ids, sorted and unique. */
static int load_planted(const char *path, char ***ids, size_t *n, mn_err *err)
{
    char *buf;
    size_t len, cap = 0;
    int rc = file_read_all(path, &buf, &len, err);
    if (rc)
        return rc;
    const char *line;
    size_t l;
    for (size_t pos = 0; next_line(buf, len, &pos, &line, &l);) {
        size_t a = 0, z = l;
        while (a < z && is_space(line[a]))
            a++;
        while (z > a && is_space(line[z - 1]))
            z--;
        if (a == z || line[a] == '#')
            continue;
        if (*n == cap)
            *ids = xrealloc(*ids, (cap = cap ? 2 * cap : 64) * sizeof **ids);
        char *id = xmalloc(z - a + 1);
        memcpy(id, line + a, z - a);
        id[z - a] = 0;
        (*ids)[(*n)++] = id;
    }
    free(buf);
    sort_n(*ids, *n, sizeof **ids, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < *n; i++) {
        if (u && !strcmp((*ids)[u - 1], (*ids)[i]))
            free((*ids)[i]);
        else
            (*ids)[u++] = (*ids)[i];
    }
    *n = u;
    return 0;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int mult_contam_load(const char *contam_dir, const char *planted_path, mult_contam *out, mn_err *err)
{
    memset(out, 0, sizeof *out);
    out->precision = out->recall = NAN;
    char *sp = path_join(contam_dir, "contam-summary.json"), *cp = path_join(contam_dir, "contamination.jsonl");
    char **ids = NULL, **flag = NULL, **pl = NULL;
    size_t n = 0, nflag = 0, npl = 0;
    json_t *j = NULL;
    int rc = json_load_path(sp, &j, err);
    json_t *items = json_object_get(j, "items"), *fl = json_object_get(j, "flagged"), *bench = json_object_get(j, "bench");
    if (!rc && (!json_is_integer(items) || !json_is_integer(fl)))
        rc = mn_errf(err, MN_EFORMAT, "%s: fields items and flagged: missing or not integers", sp);
    if (!rc)
        rc = load_contam_lines(cp, &ids, &n, &flag, &nflag, err);
    if (!rc && ((json_int_t)n != json_integer_value(items) || (json_int_t)nflag != json_integer_value(fl)))
        rc = mn_errf(err, MN_EMISMATCH, "%s: %zu items, %zu flagged, but %s says %lld and %lld", cp, n, nflag, sp,
                     (long long)json_integer_value(items), (long long)json_integer_value(fl));
    if (!rc && planted_path)
        rc = load_planted(planted_path, &pl, &npl, err);
    if (!rc) {
        out->bench = json_is_string(bench) ? xstrdup(json_string_value(bench)) : NULL;
        out->items = n;
        out->flagged = nflag;
        out->has_planted = planted_path != NULL;
        if (planted_path) {
            for (size_t i = 0; i < npl; i++) {
                if (!set_has(ids, n, pl[i])) {
                    out->planted_unknown++;
                    continue;
                }
                out->planted++;
                out->flagged_planted += set_has(flag, nflag, pl[i]);
            }
            out->precision = nflag ? (double)out->flagged_planted / (double)nflag : NAN;
            out->recall = out->planted ? (double)out->flagged_planted / (double)out->planted : NAN;
            out->agree = out->flagged_planted == nflag && out->flagged_planted == out->planted;
        }
        out->flagged_ids = flag; /* sorted by load_contam_lines */
        flag = NULL;
    }
    json_decref(j);
    free_strv(ids, n);
    if (flag)
        free_strv(flag, nflag);
    free_strv(pl, npl);
    free(sp);
    free(cp);
    return rc;
}

void mult_contam_free(mult_contam *c)
{
    free(c->bench);
    free_strv(c->flagged_ids, c->flagged);
    memset(c, 0, sizeof *c);
}
