/* summary.c — per-item records to summary.json and lm-evaluation-harness's
 * results layout (see summary.h for both layouts and their sources).
 *
 * Records are copied into a table: per item its id, subject, level and
 * record number, and a row of doubles [correct, metric_0, ...].  Every
 * output is computed from that table sorted by id, so the add order never
 * shows.  Non-goals: streaming statistics (the table of a 14k-item MMLU
 * run is ~1 MB), other aggregations than the mean. */
#include "bench/summary.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bootstrap.h" /* bootstrap_mean_ci, BOOTSTRAP_ITERS_DEFAULT */
#include "util/outfile.h"    /* outfile_open, outfile_write, outfile_commit, outfile_abort */

#define CI_LEVEL 0.95
#define NO_SUBJECT "(none)"

/* ---- statistics (lm_eval/api/metrics.py) -------------------------------- */

double bench_stat_mean(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    return sum / (double)n;
}

double bench_stat_mean_stderr(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    double mu = bench_stat_mean(x, n), ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mu) * (x[i] - mu);
    return sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}

double bench_stat_weighted_mean(const double *means, const size_t *sizes, size_t k)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < k; i++) {
        num += means[i] * (double)sizes[i];
        den += (double)sizes[i];
    }
    return den > 0.0 ? num / den : NAN;
}

double bench_stat_pooled_stderr(const double *stderrs, const size_t *sizes, size_t k)
{
    double num = 0.0, total = 0.0;
    for (size_t i = 0; i < k; i++) {
        double n = (double)sizes[i];
        num += (n - 1.0) * stderrs[i] * stderrs[i] * n;
        total += n;
    }
    if (total <= (double)k || isnan(num))
        return NAN;
    return sqrt(num / (total - (double)k) / total);
}

/* ---- the table ---------------------------------------------------------- */

typedef struct sum_item {
    char *id;       /* owned */
    char *subject;  /* owned, NULL when absent */
    char *level;    /* owned, NULL when absent */
    size_t rec;     /* record number, from 1 */
    size_t row;     /* row in vals */
} sum_item;

typedef struct orig_count {
    char *subject;  /* owned */
    size_t n;
} orig_count;

struct bench_summary {
    char *kind, *task, *output_type, *source; /* owned copies of the opts */
    int num_fewshot;
    double version;
    size_t iters;
    uint64_t seed;
    bool mmlu;

    bool have_keys;   /* metric names fixed by the first accepted record */
    char **metric;    /* [nmetric] owned names, first record's order */
    size_t nmetric;

    sum_item *items;  /* [n] */
    size_t n, cap;
    double *vals;     /* [cap, 1 + nmetric]: correct, then metric[] */
    size_t nrec;      /* add calls so far */

    orig_count *orig; /* MMLU originals per subject */
    size_t norig;
    bool have_orig1;  /* other kinds: the single task's original */
    size_t orig1;
};

static const char *const kinds[] = {"mmlu", "gpqa", "math500", "simpleqa", "jsonl"};
static const char *const kind_output[] = {"multiple_choice", "multiple_choice", "generate_until",
                                          "generate_until", NULL};

void bench_summary_opts_default(bench_summary_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = 1.0;
    o->bootstrap_iters = BOOTSTRAP_ITERS_DEFAULT;
    o->seed = BENCH_SUMMARY_SEED_DEFAULT;
    o->source = "items.jsonl";
}

int bench_summary_init(bench_summary **out, const bench_summary_opts *o, mn_err *err)
{
    *out = NULL;
    int k = -1;
    for (int i = 0; o->kind && i < (int)(sizeof kinds / sizeof kinds[0]); i++)
        if (!strcmp(o->kind, kinds[i]))
            k = i;
    if (k < 0)
        return mn_errf(err, MN_EUSAGE, "summary: kind '%s' is not one of mmlu | gpqa | math500 | simpleqa | jsonl",
                       o->kind ? o->kind : "(null)");
    const char *task = o->task ? o->task : o->kind;
    if (!*task)
        return mn_errf(err, MN_EUSAGE, "summary: empty task name");
    const char *ot = o->output_type ? o->output_type : kind_output[k];
    if (!ot)
        return mn_errf(err, MN_EUSAGE, "summary: kind %s needs an output_type (multiple_choice | generate_until)",
                       o->kind);
    if (strcmp(ot, "multiple_choice") && strcmp(ot, "generate_until"))
        return mn_errf(err, MN_EUSAGE, "summary: output_type '%s' is not multiple_choice | generate_until", ot);
    if (o->num_fewshot < 0)
        return mn_errf(err, MN_EUSAGE, "summary: num_fewshot %d < 0", o->num_fewshot);
    if (!isfinite(o->version))
        return mn_errf(err, MN_EUSAGE, "summary: task version is not a finite number");

    bench_summary *s = xcalloc(1, sizeof *s);
    s->kind = xstrdup(o->kind);
    s->task = xstrdup(task);
    s->output_type = xstrdup(ot);
    s->source = xstrdup(o->source ? o->source : "items.jsonl");
    s->num_fewshot = o->num_fewshot;
    s->version = o->version;
    s->iters = o->bootstrap_iters;
    s->seed = o->seed;
    s->mmlu = k == 0;
    *out = s;
    return MN_OK;
}

void bench_summary_free(bench_summary *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].id);
        free(s->items[i].subject);
        free(s->items[i].level);
    }
    for (size_t j = 0; j < s->nmetric; j++)
        free(s->metric[j]);
    for (size_t i = 0; i < s->norig; i++)
        free(s->orig[i].subject);
    free(s->orig);
    free(s->metric);
    free(s->items);
    free(s->vals);
    free(s->kind);
    free(s->task);
    free(s->output_type);
    free(s->source);
    free(s);
}

size_t bench_summary_count(const bench_summary *s) { return s->n; }

int bench_summary_set_original(bench_summary *s, const char *subject, size_t n, mn_err *err)
{
    if (!s->mmlu) {
        if (subject)
            return mn_errf(err, MN_EUSAGE, "summary: kind %s has one task: no subject '%s'", s->kind, subject);
        s->have_orig1 = true;
        s->orig1 = n;
        return MN_OK;
    }
    if (!subject)
        return mn_errf(err, MN_EUSAGE, "summary: kind mmlu: the original count needs a subject");
    for (size_t i = 0; i < s->norig; i++)
        if (!strcmp(s->orig[i].subject, subject)) {
            s->orig[i].n = n;
            return MN_OK;
        }
    s->orig = xrealloc(s->orig, (s->norig + 1) * sizeof *s->orig);
    s->orig[s->norig].subject = xstrdup(subject);
    s->orig[s->norig++].n = n;
    return MN_OK;
}

/* ---- adding records ------------------------------------------------------ */

/* Optional string field: absent or null gives *out = NULL. */
static int opt_string(const bench_summary *s, const json_t *rec, const char *key, const char **out,
                      mn_err *err)
{
    const json_t *v = json_object_get(rec, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return MN_OK;
    if (!json_is_string(v))
        return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"%s\": not a string", s->source, s->nrec, key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"%s\": contains U+0000", s->source, s->nrec, key);
    *out = json_string_value(v);
    return MN_OK;
}

/* The first record fixes the metric names; check them. */
static int check_new_keys(const bench_summary *s, const json_t *metrics, mn_err *err)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)metrics, key, v) {
        if (!*key || strchr(key, ','))
            return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"metrics\": key \"%s\" is empty or holds ','",
                           s->source, s->nrec, key);
    }
    return MN_OK;
}

/* Every later record has exactly the first record's keys. */
static int check_same_keys(const bench_summary *s, const json_t *metrics, mn_err *err)
{
    for (size_t j = 0; j < s->nmetric; j++)
        if (!json_object_get(metrics, s->metric[j]))
            return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"metrics\": no \"%s\" (the first record has it)",
                           s->source, s->nrec, s->metric[j]);
    if (json_object_size(metrics) != s->nmetric) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)metrics, key, v) {
            size_t j = 0;
            while (j < s->nmetric && strcmp(s->metric[j], key))
                j++;
            if (j == s->nmetric)
                return mn_errf(err, MN_EFORMAT,
                               "%s: record %zu: field \"metrics\": \"%s\" is not in the first record's metrics",
                               s->source, s->nrec, key);
        }
    }
    return MN_OK;
}

static int metric_value(const bench_summary *s, const json_t *v, const char *key, double *out, mn_err *err)
{
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"metrics\": \"%s\" is not a finite number",
                       s->source, s->nrec, key);
    *out = json_number_value(v);
    return MN_OK;
}

/* Validate everything first, then copy: a rejected record changes nothing
 * (except the record counter). */
int bench_summary_add(bench_summary *s, const json_t *rec, mn_err *err)
{
    s->nrec++;
    if (!json_is_object(rec))
        return mn_errf(err, MN_EFORMAT, "%s: record %zu: not a JSON object", s->source, s->nrec);
    const json_t *jid = json_object_get(rec, "id");
    if (!json_is_string(jid) || !json_string_length(jid) ||
        strlen(json_string_value(jid)) != json_string_length(jid))
        return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"id\": missing, empty or not a string",
                       s->source, s->nrec);
    const char *subject, *level;
    int rc;
    if ((rc = opt_string(s, rec, "subject", &subject, err)) || (rc = opt_string(s, rec, "level", &level, err)))
        return rc;
    if (s->mmlu && !subject)
        return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"subject\": an mmlu item needs one",
                       s->source, s->nrec);
    const json_t *jc = json_object_get(rec, "correct");
    if (!json_is_boolean(jc))
        return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"correct\": missing or not true/false",
                       s->source, s->nrec);
    const json_t *jm = json_object_get(rec, "metrics");
    if (!json_is_object(jm))
        return mn_errf(err, MN_EFORMAT, "%s: record %zu: field \"metrics\": missing or not an object",
                       s->source, s->nrec);
    if ((rc = s->have_keys ? check_same_keys(s, jm, err) : check_new_keys(s, jm, err)))
        return rc;

    size_t nm = s->have_keys ? s->nmetric : json_object_size(jm);
    double *row = xmalloc((1 + nm) * sizeof *row);
    row[0] = json_is_true(jc) ? 1.0 : 0.0;
    if (s->have_keys) {
        for (size_t j = 0; j < nm; j++)
            if ((rc = metric_value(s, json_object_get(jm, s->metric[j]), s->metric[j], &row[1 + j], err)))
                goto fail;
    } else {
        const char *key;
        const json_t *v;
        size_t j = 0;
        json_object_foreach((json_t *)jm, key, v) {
            if ((rc = metric_value(s, v, key, &row[1 + j++], err)))
                goto fail;
        }
        s->metric = xcalloc(nm ? nm : 1, sizeof *s->metric);
        j = 0;
        json_object_foreach((json_t *)jm, key, v)
            s->metric[j++] = xstrdup(key);
        s->nmetric = nm;
        s->have_keys = true;
    }

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->items = xrealloc(s->items, s->cap * sizeof *s->items);
        s->vals = xrealloc(s->vals, s->cap * (1 + s->nmetric) * sizeof *s->vals);
    }
    sum_item *it = &s->items[s->n];
    it->id = xstrdup(json_string_value(jid));
    it->subject = subject ? xstrdup(subject) : NULL;
    it->level = level ? xstrdup(level) : NULL;
    it->rec = s->nrec;
    it->row = s->n;
    memcpy(&s->vals[s->n * (1 + s->nmetric)], row, (1 + s->nmetric) * sizeof *row);
    s->n++;
    free(row);
    return MN_OK;
fail:
    free(row);
    return rc;
}

/* ---- sorted views -------------------------------------------------------- */

static const char *subject_key(const sum_item *it) { return it->subject ? it->subject : NO_SUBJECT; }
static const char *level_key(const sum_item *it) { return it->level ? it->level : NO_SUBJECT; }

static int cmp_id(const void *a, const void *b)
{
    const sum_item *x = *(const sum_item *const *)a, *y = *(const sum_item *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->rec > y->rec) - (x->rec < y->rec);
}

static int cmp_subject(const void *a, const void *b)
{
    const sum_item *x = *(const sum_item *const *)a, *y = *(const sum_item *const *)b;
    int c = strcmp(subject_key(x), subject_key(y));
    return c ? c : cmp_id(a, b);
}

static int cmp_level(const void *a, const void *b)
{
    const sum_item *x = *(const sum_item *const *)a, *y = *(const sum_item *const *)b;
    int c = strcmp(level_key(x), level_key(y));
    return c ? c : cmp_id(a, b);
}

/* The items sorted by id into a new array (caller frees); a duplicate id is
 * an error naming both records. */
static int sorted_items(const bench_summary *s, const sum_item ***out, mn_err *err)
{
    const sum_item **v = xmalloc((s->n ? s->n : 1) * sizeof *v);
    for (size_t i = 0; i < s->n; i++)
        v[i] = &s->items[i];
    qsort(v, s->n, sizeof *v, cmp_id);
    for (size_t i = 1; i < s->n; i++)
        if (!strcmp(v[i - 1]->id, v[i]->id)) {
            int rc = mn_errf(err, MN_EFORMAT, "%s: record %zu: duplicate id \"%s\" (first in record %zu)",
                             s->source, v[i]->rec, v[i]->id, v[i - 1]->rec);
            free(v);
            return rc;
        }
    *out = v;
    return MN_OK;
}

/* ---- column statistics --------------------------------------------------- */

typedef struct col_stat {
    double mean, se;  /* NaN when undefined */
    double ci[2];     /* NaN when not computed */
} col_stat;

/* Statistics of column col (0 = correct, 1 + j = metric j) over its[0..k),
 * using scratch[k]. */
static void col_stat_compute(const bench_summary *s, const sum_item *const *its, size_t k, size_t col,
                             bool want_ci, double *scratch, col_stat *st)
{
    size_t w = 1 + s->nmetric;
    for (size_t i = 0; i < k; i++)
        scratch[i] = s->vals[its[i]->row * w + col];
    st->mean = bench_stat_mean(scratch, k);
    st->se = bench_stat_mean_stderr(scratch, k);
    st->ci[0] = st->ci[1] = NAN;
    if (want_ci)
        bootstrap_mean_ci(scratch, k, s->iters, CI_LEVEL, s->seed, st->ci);
}

static json_t *jnum(double x) { return isnan(x) ? json_null() : json_real(x); }

static json_t *jci(const double ci[2])
{
    if (isnan(ci[0]) || isnan(ci[1]))
        return json_null();
    return json_pack("[ff]", ci[0], ci[1]);
}

static json_t *jstr_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *jcopy_or_null(const json_t *j) { return j ? json_deep_copy(j) : json_null(); }

/* ---- meta checks ----------------------------------------------------------- */

/* Howard Hinnant's days_from_civil: days since 1970-01-01 (proleptic
 * Gregorian). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]Z" to Unix seconds; false when malformed. */
static bool parse_created(const char *t, double *out)
{
    if (strlen(t) < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
        return false;
    int y = digits(t, 4), mo = digits(t + 5, 2), d = digits(t + 8, 2);
    int h = digits(t + 11, 2), mi = digits(t + 14, 2), sec = digits(t + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 60)
        return false;
    const char *p = t + 19;
    double frac = 0.0, scale = 0.1;
    if (*p == '.') {
        if (p[1] < '0' || p[1] > '9')
            return false;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    if (strcmp(p, "Z"))
        return false;
    *out = (double)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600LL + mi * 60LL + sec) + frac;
    return true;
}

static int check_meta(const bench_summary *s, const bench_summary_meta *m, double *date, mn_err *err)
{
    *date = NAN;
    if (m && m->created && !parse_created(m->created, date))
        return mn_errf(err, MN_EUSAGE, "%s: created: '%s' is not ISO 8601 UTC YYYY-MM-DDTHH:MM:SS[.fff]Z",
                       s->source, m->created);
    if (m && m->task_config && !json_is_object(m->task_config))
        return mn_errf(err, MN_EUSAGE, "%s: task_config: not a JSON object", s->source);
    return MN_OK;
}

/* ---- summary.json ---------------------------------------------------------- */

/* {"n", "accuracy", "accuracy_stderr", "accuracy_ci", "metrics": {M: mean}}
 * for its[0..k). */
static json_t *breakdown_entry(const bench_summary *s, const sum_item *const *its, size_t k, double *scratch)
{
    col_stat st;
    col_stat_compute(s, its, k, 0, true, scratch, &st);
    json_t *e = json_object();
    json_object_set_new(e, "n", json_integer((json_int_t)k));
    json_object_set_new(e, "accuracy", jnum(st.mean));
    json_object_set_new(e, "accuracy_stderr", jnum(st.se));
    json_object_set_new(e, "accuracy_ci", jci(st.ci));
    json_t *ms = json_object();
    for (size_t j = 0; j < s->nmetric; j++) {
        col_stat_compute(s, its, k, 1 + j, false, scratch, &st);
        json_object_set_new(ms, s->metric[j], jnum(st.mean));
    }
    json_object_set_new(e, "metrics", ms);
    return e;
}

/* {key: breakdown_entry} over runs of equal key in the items sorted by cmp;
 * NULL when no item has a key. */
static json_t *breakdown(const bench_summary *s, const sum_item *const *by_id, int (*cmp)(const void *, const void *),
                         const char *(*key)(const sum_item *), bool any, double *scratch)
{
    if (!any)
        return NULL;
    const sum_item **v = xmalloc(s->n * sizeof *v);
    memcpy(v, by_id, s->n * sizeof *v);
    qsort(v, s->n, sizeof *v, cmp);
    json_t *obj = json_object();
    for (size_t i = 0; i < s->n;) {
        size_t e = i + 1;
        while (e < s->n && !strcmp(key(v[e]), key(v[i])))
            e++;
        json_object_set_new(obj, key(v[i]), breakdown_entry(s, v + i, e - i, scratch));
        i = e;
    }
    free(v);
    return obj;
}

static json_t *bootstrap_info(const bench_summary *s)
{
    json_t *b = json_object();
    json_object_set_new(b, "method", json_string("percentile"));
    json_object_set_new(b, "level", json_real(CI_LEVEL));
    json_object_set_new(b, "resamples", json_integer((json_int_t)s->iters));
    /* json_int_t is signed 64-bit: larger seeds are written as text */
    if (s->seed <= (uint64_t)INT64_MAX) {
        json_object_set_new(b, "seed", json_integer((json_int_t)s->seed));
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)s->seed);
        json_object_set_new(b, "seed", json_string(buf));
    }
    json_object_set_new(b, "rng", json_string("xoshiro256** seeded by splitmix64"));
    json_object_set_new(b, "quantile", json_string("linear"));
    return b;
}

int bench_summary_build(const bench_summary *s, const bench_summary_meta *m, json_t **out, mn_err *err)
{
    *out = NULL;
    double date;
    const sum_item **by_id;
    int rc;
    if ((rc = check_meta(s, m, &date, err)) || (rc = sorted_items(s, &by_id, err)))
        return rc;
    double *scratch = xmalloc((s->n ? s->n : 1) * sizeof *scratch);
    bool any_subject = false, any_level = false;
    for (size_t i = 0; i < s->n; i++) {
        any_subject |= s->items[i].subject != NULL;
        any_level |= s->items[i].level != NULL;
    }

    json_t *r = json_object();
    json_object_set_new(r, "mnemo_version", jstr_or_null(m ? m->mnemo_version : NULL));
    json_object_set_new(r, "created", jstr_or_null(m ? m->created : NULL));
    json_object_set_new(r, "benchmark", json_string(s->kind));
    json_object_set_new(r, "task", json_string(s->task));
    json_object_set_new(r, "output_type", json_string(s->output_type));
    json_object_set_new(r, "num_fewshot", json_integer(s->num_fewshot));
    json_object_set_new(r, "n", json_integer((json_int_t)s->n));
    col_stat st;
    col_stat_compute(s, by_id, s->n, 0, true, scratch, &st);
    json_object_set_new(r, "accuracy", jnum(st.mean));
    json_object_set_new(r, "accuracy_stderr", jnum(st.se));
    json_object_set_new(r, "accuracy_ci", jci(st.ci));
    json_t *ms = json_object();
    for (size_t j = 0; j < s->nmetric; j++) {
        col_stat_compute(s, by_id, s->n, 1 + j, true, scratch, &st);
        json_t *e = json_object();
        json_object_set_new(e, "mean", jnum(st.mean));
        json_object_set_new(e, "stderr", jnum(st.se));
        json_object_set_new(e, "ci95", jci(st.ci));
        json_object_set_new(ms, s->metric[j], e);
    }
    json_object_set_new(r, "metrics", ms);
    json_object_set_new(r, "bootstrap", bootstrap_info(s));
    json_t *b = breakdown(s, by_id, cmp_subject, subject_key, any_subject, scratch);
    if (b)
        json_object_set_new(r, "by_subject", b);
    if ((b = breakdown(s, by_id, cmp_level, level_key, any_level, scratch)))
        json_object_set_new(r, "by_level", b);
    if (m && m->skipped)
        json_object_set_new(r, "skipped", json_deep_copy(m->skipped));
    json_object_set_new(r, "config", jcopy_or_null(m ? m->config : NULL));
    json_object_set_new(r, "model", jcopy_or_null(m ? m->model : NULL));
    json_object_set_new(r, "corpus", jcopy_or_null(m ? m->corpus : NULL));
    if (m && m->inputs)
        json_object_set_new(r, "inputs", json_deep_copy(m->inputs));
    free(scratch);
    free(by_id);
    *out = r;
    return MN_OK;
}

/* ---- lm-evaluation-harness results ----------------------------------------- */

/* One lm_eval task: its items and, per metric, mean and stderr. */
typedef struct lm_task {
    char *name;             /* owned */
    const char *subject;    /* borrowed from an item; NULL for single tasks */
    const sum_item *const *its;
    size_t n;
    double *mean, *se;      /* [nmetric] */
} lm_task;

static json_t *stderr_value(double se) { return isnan(se) ? json_string("N/A") : json_real(se); }

static char *metric_key(const char *metric, const char *suffix)
{
    size_t n = strlen(metric) + strlen(suffix) + 8;
    char *k = xmalloc(n);
    snprintf(k, n, "%s%s,none", metric, suffix);
    return k;
}

/* Set "M,none" and "M_stderr,none" in e. */
static void set_metric_pair(json_t *e, const char *metric, double mean, json_t *se)
{
    char *k = metric_key(metric, "");
    json_object_set_new(e, k, jnum(mean));
    free(k);
    k = metric_key(metric, "_stderr");
    json_object_set_new(e, k, se);
    free(k);
}

/* _collect_results: {"name", "alias", "sample_len", metrics...}. */
static json_t *lm_task_entry(const bench_summary *s, const lm_task *t)
{
    json_t *e = json_object();
    json_object_set_new(e, "name", json_string(t->name));
    json_object_set_new(e, "alias", json_string(t->subject ? t->subject : t->name));
    json_object_set_new(e, "sample_len", json_integer((json_int_t)t->n));
    for (size_t j = 0; j < s->nmetric; j++)
        set_metric_pair(e, s->metric[j], t->mean[j], stderr_value(t->se[j]));
    return e;
}

/* Group.aggregate with every metric weight_by_size: size-weighted mean,
 * pooled_sample_stderr ("N/A" when a subtask's is), sample_count. */
static json_t *lm_group_entry(const bench_summary *s, const lm_task *t, size_t nt)
{
    json_t *e = json_object();
    json_object_set_new(e, "alias", json_string(s->task));
    json_object_set_new(e, "name", json_string(s->task));
    size_t total = 0;
    for (size_t i = 0; i < nt; i++)
        total += t[i].n;
    json_object_set_new(e, "sample_len", json_integer((json_int_t)total));
    if (nt == 0)
        return e;
    double *means = xmalloc(nt * sizeof *means), *ses = xmalloc(nt * sizeof *ses);
    size_t *sizes = xmalloc(nt * sizeof *sizes);
    json_t *count = json_object();
    for (size_t j = 0; j < s->nmetric; j++) {
        for (size_t i = 0; i < nt; i++) {
            means[i] = t[i].mean[j];
            ses[i] = t[i].se[j];
            sizes[i] = t[i].n;
        }
        double pooled = bench_stat_pooled_stderr(ses, sizes, nt);
        set_metric_pair(e, s->metric[j], bench_stat_weighted_mean(means, sizes, nt), stderr_value(pooled));
        char *k = metric_key(s->metric[j], "");
        json_object_set_new(count, k, json_integer((json_int_t)total));
        free(k);
    }
    if (json_object_size(count))
        json_object_set_new(e, "sample_count", count);
    else
        json_decref(count);
    free(means);
    free(ses);
    free(sizes);
    return e;
}

/* The task's "configs" entry (TaskConfig.to_dict keys mnemo knows). */
static json_t *lm_config_entry(const bench_summary *s, const lm_task *t, const json_t *extra)
{
    json_t *c = json_object();
    json_object_set_new(c, "task", json_string(t->name));
    if (t->subject) {
        json_object_set_new(c, "task_alias", json_string(t->subject));
        json_object_set_new(c, "dataset_name", json_string(t->subject));
    }
    json_object_set_new(c, "num_fewshot", json_integer(s->num_fewshot));
    json_t *ml = json_array();
    for (size_t j = 0; j < s->nmetric; j++)
        json_array_append_new(ml, json_pack("{sssssb}", "metric", s->metric[j], "aggregation", "mean",
                                            "higher_is_better", 1));
    json_object_set_new(c, "metric_list", ml);
    json_object_set_new(c, "output_type", json_string(s->output_type));
    json_object_set_new(c, "repeats", json_integer(1));
    json_object_set_new(c, "metadata", json_pack("{sf}", "version", s->version));
    if (extra) {
        json_t *copy = json_deep_copy(extra);
        json_object_update_missing(c, copy);
        json_decref(copy);
    }
    return c;
}

static json_t *higher_is_better(const bench_summary *s)
{
    json_t *h = json_object();
    for (size_t j = 0; j < s->nmetric; j++)
        json_object_set_new(h, s->metric[j], json_true());
    return h;
}

static size_t original_count(const bench_summary *s, const lm_task *t)
{
    if (!t->subject)
        return s->have_orig1 ? s->orig1 : t->n;
    for (size_t i = 0; i < s->norig; i++)
        if (!strcmp(s->orig[i].subject, t->subject))
            return s->orig[i].n;
    return t->n;
}

/* lm_eval's sanitize_model_name: re.sub(r"[\"<>:/|\\?*\[\]]+", "__", name). */
static json_t *sanitized_name(const char *name)
{
    if (!name)
        return json_null();
    size_t n = strlen(name);
    char *o = xmalloc(2 * n + 1), *p = o;
    for (size_t i = 0; i < n;) {
        if (strchr("\"<>:/|\\?*[]", name[i])) {
            while (i < n && strchr("\"<>:/|\\?*[]", name[i]))
                i++;
            *p++ = '_';
            *p++ = '_';
        } else {
            *p++ = name[i++];
        }
    }
    *p = 0;
    json_t *j = json_string(o);
    free(o);
    return j;
}

/* Split the id-sorted items into tasks: one per subject for MMLU (subject
 * order), else one.  *subj_sorted receives the array the tasks point into
 * (caller frees). */
static lm_task *lm_tasks(const bench_summary *s, const sum_item **by_id, size_t *nt,
                         const sum_item ***subj_sorted, double *scratch)
{
    const sum_item **v = xmalloc((s->n ? s->n : 1) * sizeof *v);
    memcpy(v, by_id, s->n * sizeof *v);
    lm_task *t = xcalloc(s->n ? s->n : 1, sizeof *t);
    size_t k = 0;
    if (s->mmlu) {
        qsort(v, s->n, sizeof *v, cmp_subject);
        for (size_t i = 0; i < s->n;) {
            size_t e = i + 1;
            while (e < s->n && !strcmp(v[e]->subject, v[i]->subject))
                e++;
            size_t len = strlen(s->task) + strlen(v[i]->subject) + 2;
            t[k].name = xmalloc(len);
            snprintf(t[k].name, len, "%s_%s", s->task, v[i]->subject);
            t[k].subject = v[i]->subject;
            t[k].its = v + i;
            t[k++].n = e - i;
            i = e;
        }
    } else if (s->n) {
        t[k].name = xstrdup(s->task);
        t[k].its = v;
        t[k++].n = s->n;
    }
    for (size_t i = 0; i < k; i++) {
        t[i].mean = xmalloc((s->nmetric ? s->nmetric : 1) * sizeof(double));
        t[i].se = xmalloc((s->nmetric ? s->nmetric : 1) * sizeof(double));
        for (size_t j = 0; j < s->nmetric; j++) {
            col_stat st;
            col_stat_compute(s, t[i].its, t[i].n, 1 + j, false, scratch, &st);
            t[i].mean[j] = st.mean;
            t[i].se[j] = st.se;
        }
    }
    *nt = k;
    *subj_sorted = v;
    return t;
}

int bench_summary_build_lm_eval(const bench_summary *s, const bench_summary_meta *m, json_t **out, mn_err *err)
{
    *out = NULL;
    double date;
    const sum_item **by_id, **v;
    int rc;
    if ((rc = check_meta(s, m, &date, err)) || (rc = sorted_items(s, &by_id, err)))
        return rc;
    double *scratch = xmalloc((s->n ? s->n : 1) * sizeof *scratch);
    size_t nt;
    lm_task *t = lm_tasks(s, by_id, &nt, &v, scratch);

    json_t *results = json_object(), *configs = json_object(), *versions = json_object();
    json_t *nshot = json_object(), *hib = json_object(), *nsamples = json_object();
    json_t *subtasks = json_object(), *groups = NULL;
    if (s->mmlu) { /* sorted keys: "mmlu" sorts before "mmlu_<subject>" */
        json_object_set_new(versions, s->task, json_real(s->version));
        json_object_set_new(nshot, s->task, json_integer(s->num_fewshot));
        json_object_set_new(hib, s->task, higher_is_better(s));
    }
    json_t *children = json_array();
    for (size_t i = 0; i < nt; i++) {
        json_object_set_new(results, t[i].name, lm_task_entry(s, &t[i]));
        json_object_set_new(configs, t[i].name, lm_config_entry(s, &t[i], m ? m->task_config : NULL));
        json_object_set_new(versions, t[i].name, json_real(s->version));
        json_object_set_new(nshot, t[i].name, json_integer(s->num_fewshot));
        json_object_set_new(hib, t[i].name, higher_is_better(s));
        json_object_set_new(nsamples, t[i].name,
                            json_pack("{sIsI}", "original", (json_int_t)original_count(s, &t[i]), "effective",
                                      (json_int_t)t[i].n));
        json_array_append_new(children, json_string(t[i].name));
    }
    if (s->mmlu) {
        json_t *g = lm_group_entry(s, t, nt);
        json_object_set_new(results, s->task, g);
        groups = json_object();
        json_object_set_new(groups, s->task, json_deep_copy(g));
        json_object_set_new(subtasks, s->task, children);
    } else {
        json_decref(children);
    }

    json_t *r = json_object();
    json_object_set_new(r, "results", results);
    if (groups)
        json_object_set_new(r, "groups", groups);
    json_object_set_new(r, "group_subtasks", subtasks);
    json_object_set_new(r, "configs", configs);
    json_object_set_new(r, "versions", versions);
    json_object_set_new(r, "n-shot", nshot);
    json_object_set_new(r, "higher_is_better", hib);
    json_object_set_new(r, "n-samples", nsamples);
    json_object_set_new(r, "config", m && m->lm_eval_config ? json_deep_copy(m->lm_eval_config) : json_object());
    json_object_set_new(r, "date", jnum(date));
    json_object_set_new(r, "model_source", json_string("mnemo"));
    json_object_set_new(r, "model_name", jstr_or_null(m ? m->model_name : NULL));
    json_object_set_new(r, "model_name_sanitized", sanitized_name(m ? m->model_name : NULL));
    json_object_set_new(r, "mnemo_version", jstr_or_null(m ? m->mnemo_version : NULL));
    if (m && m->inputs)
        json_object_set_new(r, "mnemo_inputs", json_deep_copy(m->inputs));

    for (size_t i = 0; i < nt; i++) {
        free(t[i].name);
        free(t[i].mean);
        free(t[i].se);
    }
    free(t);
    free(v);
    free(scratch);
    free(by_id);
    *out = r;
    return MN_OK;
}

/* ---- files ------------------------------------------------------------------ */

int bench_json_write(const json_t *j, const char *path, mn_err *err)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16));
    if (!text)
        return mn_errf(err, MN_ENOMEM, "%s: cannot serialise JSON", path);
    outfile o;
    int rc = outfile_open(&o, path, err);
    if (rc == MN_OK && (rc = outfile_write(&o, text, strlen(text), err)) == MN_OK &&
        (rc = outfile_write(&o, "\n", 1, err)) == MN_OK)
        rc = outfile_commit(&o, err);
    else if (o.f)
        outfile_abort(&o);
    free(text);
    return rc;
}

int bench_summary_write(const bench_summary *s, const bench_summary_meta *m, const char *summary_path,
                        const char *results_path, mn_err *err)
{
    json_t *sum = NULL, *lm = NULL;
    int rc = bench_summary_build(s, m, &sum, err);
    if (rc == MN_OK && results_path)
        rc = bench_summary_build_lm_eval(s, m, &lm, err);
    if (rc == MN_OK && results_path)
        rc = bench_json_write(lm, results_path, err);
    if (rc == MN_OK)
        rc = bench_json_write(sum, summary_path, err);
    json_decref(lm);
    json_decref(sum);
    return rc;
}
