/* test_summary.c — summary.json and the lm-evaluation-harness results
 * layout, built from per-item records; lm_eval's statistics by hand.
 *
 * The MMLU fixture used by several tests (6 items, 2 subjects):
 *
 *   id           subject    correct  acc  acc_norm
 *   anatomy-0    anatomy    true     1    0
 *   anatomy-1    anatomy    false    0    0
 *   anatomy-2    anatomy    true     1    1
 *   anatomy-3    anatomy    true     1    1
 *   astronomy-0  astronomy  true     1    1
 *   astronomy-1  astronomy  false    0    1
 *
 * Hand-computed (std with ddof=1, stderr = std / sqrt(n)):
 *   anatomy acc {1,0,1,1}: mean 0.75; sum sq dev = 3*0.25^2 + 0.75^2 = 0.75;
 *     var = 0.75/3 = 0.25; std 0.5; stderr 0.5/2 = 0.25
 *     (= sqrt(p(1-p)/(n-1)) = sqrt(0.1875/3) = sqrt(0.0625))
 *   anatomy acc_norm {0,0,1,1}: mean 0.5; ss = 4*0.25 = 1; var 1/3;
 *     stderr sqrt(1/3)/2 = sqrt(1/12) = 0.28867513459481287
 *   astronomy acc {1,0}: mean 0.5; ss 0.5; var 0.5; stderr sqrt(0.5)/sqrt(2) = 0.5
 *   astronomy acc_norm {1,1}: mean 1; stderr 0
 *   all 6, correct {1,0,1,1,1,0}: p = 4/6; stderr sqrt((2/3)(1/3)/5) = sqrt(2/45)
 *     = 0.21081851067789195; acc_norm {0,0,1,1,1,1}: same mean and stderr
 *   group acc (weight_by_size): (0.75*4 + 0.5*2)/6 = 4/6
 *     pooled: ((4-1)*0.25^2*4 + (2-1)*0.5^2*2) / (6-2) / 6 = (0.75+0.5)/4/6
 *     = 1.25/24 -> sqrt = 0.22821773229381923
 *   group acc_norm: (0.5*4 + 1*2)/6 = 4/6
 *     pooled: (3*(1/12)*4 + 1*0*2) / 4 / 6 = 1/24 -> sqrt = 0.20412414523193151 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/summary.h"
#include "util/jsonfile.h" /* json_load_path */
#include "test.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12)
#define CHECK_NEAR(a, b) CHECK_MSG(NEAR((a), (b)), "%.17g != %.17g", (double)(a), (double)(b))

/* ---- helpers ------------------------------------------------------------- */

static json_t *mc_rec(const char *id, const char *subject, int correct, int acc, int acc_norm)
{
    return json_pack("{sssssbs{sisi}}", "id", id, "subject", subject, "correct", correct, "metrics", "acc", acc,
                     "acc_norm", acc_norm);
}

static int add_new(bench_summary *s, json_t *rec, mn_err *err)
{
    int rc = bench_summary_add(s, rec, err);
    json_decref(rec);
    return rc;
}

static bench_summary *mmlu_fixture(int reverse)
{
    static const struct {
        const char *id, *subject;
        int correct, acc, acc_norm;
    } rows[6] = {
        {"anatomy-0", "anatomy", 1, 1, 0},     {"anatomy-1", "anatomy", 0, 0, 0},
        {"anatomy-2", "anatomy", 1, 1, 1},     {"anatomy-3", "anatomy", 1, 1, 1},
        {"astronomy-0", "astronomy", 1, 1, 1}, {"astronomy-1", "astronomy", 0, 0, 1},
    };
    bench_summary_opts o;
    bench_summary_opts_default(&o);
    o.kind = "mmlu";
    o.num_fewshot = 5;
    bench_summary *s;
    mn_err err = {0};
    if (bench_summary_init(&s, &o, &err))
        return NULL;
    for (int k = 0; k < 6; k++) {
        int i = reverse ? 5 - k : k;
        if (add_new(s, mc_rec(rows[i].id, rows[i].subject, rows[i].correct, rows[i].acc, rows[i].acc_norm), &err)) {
            fprintf(stderr, "%s\n", err.msg);
            bench_summary_free(s);
            return NULL;
        }
    }
    return s;
}

/* Numbers by path; NaN when absent or not a number. */
static double num(const json_t *o, const char *k1, const char *k2, const char *k3)
{
    const json_t *v = json_object_get(o, k1);
    if (v && k2)
        v = json_object_get(v, k2);
    if (v && k3)
        v = json_object_get(v, k3);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *k1, const char *k2, const char *k3)
{
    const json_t *v = json_object_get(o, k1);
    if (v && k2)
        v = json_object_get(v, k2);
    if (v && k3)
        v = json_object_get(v, k3);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* The object's keys, in order, are exactly keys[0..n). */
static int keys_are(const json_t *o, const char *const *keys, size_t n)
{
    if (!json_is_object(o) || json_object_size(o) != n)
        return 0;
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (strcmp(k, keys[i++])) {
            fprintf(stderr, "key %zu: '%s', want '%s'\n", i - 1, k, keys[i - 1]);
            return 0;
        }
    }
    return 1;
}
#define KEYS_ARE(o, ...)                                                  \
    do {                                                                  \
        static const char *const want_[] = {__VA_ARGS__};                 \
        CHECK(keys_are((o), want_, sizeof want_ / sizeof want_[0]));      \
    } while (0)

static char *make_tmpdir(void)
{
    char *d = xstrdup("/tmp/mnemo-test-summary-XXXXXX");
    if (!mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

static void remove_tmpdir(char *d)
{
    DIR *dir = opendir(d);
    struct dirent *e;
    char path[4096];
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        unlink(path);
    }
    if (dir)
        closedir(dir);
    rmdir(d);
    free(d);
}

static int count_entries(const char *d)
{
    DIR *dir = opendir(d);
    struct dirent *e;
    int n = 0;
    while (dir && (e = readdir(dir)))
        n += e->d_name[0] != '.';
    if (dir)
        closedir(dir);
    return n;
}

/* ---- statistics ------------------------------------------------------------ */

static void test_summary_stat_mean_and_stderr_by_hand(void)
{
    const double a[4] = {1, 0, 1, 1};
    CHECK_NEAR(bench_stat_mean(a, 4), 0.75);
    CHECK_NEAR(bench_stat_mean_stderr(a, 4), 0.25); /* see file header */
    const double b[4] = {0, 0, 1, 1};
    CHECK_NEAR(bench_stat_mean_stderr(b, 4), sqrt(1.0 / 12.0));
    /* {2, 4, 9}: mean 5; ss = 9 + 1 + 16 = 26; var 13; stderr sqrt(13/3) */
    const double c[3] = {2, 4, 9};
    CHECK_NEAR(bench_stat_mean(c, 3), 5.0);
    CHECK_NEAR(bench_stat_mean_stderr(c, 3), sqrt(13.0 / 3.0));
    CHECK(isnan(bench_stat_mean(c, 0)));
    CHECK(isnan(bench_stat_mean_stderr(c, 1)));
}

static void test_summary_stat_pooled_stderr_two_subjects(void)
{
    const double se[2] = {0.25, 0.5}, means[2] = {0.75, 0.5};
    const size_t n[2] = {4, 2};
    CHECK_NEAR(bench_stat_weighted_mean(means, n, 2), 4.0 / 6.0);
    CHECK_NEAR(bench_stat_pooled_stderr(se, n, 2), 0.22821773229381923);
    CHECK_NEAR(bench_stat_pooled_stderr(se, n, 2), sqrt(1.25 / 24.0));
    /* one subject: pooled = its own stderr: (n-1)*se^2*n/(n-1)/n = se^2 */
    CHECK_NEAR(bench_stat_pooled_stderr(se, n, 1), 0.25);
    /* a NaN stderr (a 1-item subject) makes the pooled one NaN */
    const double se2[2] = {0.25, NAN};
    CHECK(isnan(bench_stat_pooled_stderr(se2, n, 2)));
    const size_t ones[2] = {1, 1};
    CHECK(isnan(bench_stat_pooled_stderr(se, ones, 2)));
    const size_t zeros[2] = {0, 0};
    CHECK(isnan(bench_stat_weighted_mean(means, zeros, 2)));
}

/* ---- summary.json -------------------------------------------------------- */

static void test_summary_mmlu_summary_values(void)
{
    bench_summary *s = mmlu_fixture(0);
    CHECK(s);
    CHECK_EQ_INT(bench_summary_count(s), 6);
    json_t *cfg = json_pack("{ss}", "bench", "mmlu:/data/mmlu");
    json_t *model = json_pack("{ssss}", "path", "/models/q", "model_type", "qwen3");
    json_t *skipped = json_pack("{si}", "malformed", 2);
    bench_summary_meta m = {.mnemo_version = "0.1.0", .created = "2024-01-02T03:04:05Z", .config = cfg,
                            .model = model, .skipped = skipped};
    json_t *j = NULL;
    mn_err err = {0};
    int rc = bench_summary_build(s, &m, &j, &err);
    json_decref(cfg);
    json_decref(model);
    json_decref(skipped);
    bench_summary_free(s);
    CHECK_MSG(rc == 0, "%s", err.msg);

    KEYS_ARE(j, "mnemo_version", "created", "benchmark", "task", "output_type", "num_fewshot", "n", "accuracy",
             "accuracy_stderr", "accuracy_ci", "metrics", "bootstrap", "by_subject", "skipped", "config", "model",
             "corpus");
    CHECK(!strcmp(str(j, "mnemo_version", 0, 0), "0.1.0"));
    CHECK(!strcmp(str(j, "created", 0, 0), "2024-01-02T03:04:05Z"));
    CHECK(!strcmp(str(j, "benchmark", 0, 0), "mmlu"));
    CHECK(!strcmp(str(j, "task", 0, 0), "mmlu"));
    CHECK(!strcmp(str(j, "output_type", 0, 0), "multiple_choice"));
    CHECK_EQ_INT(num(j, "num_fewshot", 0, 0), 5);
    CHECK_EQ_INT(num(j, "n", 0, 0), 6);
    CHECK_NEAR(num(j, "accuracy", 0, 0), 4.0 / 6.0);
    CHECK_NEAR(num(j, "accuracy_stderr", 0, 0), sqrt(2.0 / 45.0));
    const json_t *ci = json_object_get(j, "accuracy_ci");
    CHECK(json_array_size(ci) == 2);
    double lo = json_number_value(json_array_get(ci, 0)), hi = json_number_value(json_array_get(ci, 1));
    CHECK_MSG(lo <= 4.0 / 6.0 && 4.0 / 6.0 <= hi && lo >= 0 && hi <= 1 && lo < hi, "[%g, %g]", lo, hi);

    KEYS_ARE(json_object_get(j, "metrics"), "acc", "acc_norm");
    KEYS_ARE(json_object_get(json_object_get(j, "metrics"), "acc"), "mean", "stderr", "ci95");
    CHECK_NEAR(num(j, "metrics", "acc", "mean"), 4.0 / 6.0);
    CHECK_NEAR(num(j, "metrics", "acc", "stderr"), sqrt(2.0 / 45.0));
    CHECK_NEAR(num(j, "metrics", "acc_norm", "mean"), 4.0 / 6.0);
    CHECK_NEAR(num(j, "metrics", "acc_norm", "stderr"), sqrt(2.0 / 45.0));
    /* acc and correct hold the same values: same seed, same resamples, same interval */
    const json_t *ci_acc = json_object_get(json_object_get(json_object_get(j, "metrics"), "acc"), "ci95");
    CHECK(json_equal((json_t *)ci_acc, (json_t *)ci));

    CHECK(!strcmp(str(j, "bootstrap", "method", 0), "percentile"));
    CHECK_EQ_INT(num(j, "bootstrap", "resamples", 0), 1000);
    CHECK_EQ_INT(num(j, "bootstrap", "seed", 0), BENCH_SUMMARY_SEED_DEFAULT);
    CHECK_NEAR(num(j, "bootstrap", "level", 0), 0.95);
    CHECK(!strcmp(str(j, "bootstrap", "rng", 0), "xoshiro256** seeded by splitmix64"));

    const json_t *bs = json_object_get(j, "by_subject");
    KEYS_ARE(bs, "anatomy", "astronomy");
    KEYS_ARE(json_object_get(bs, "anatomy"), "n", "accuracy", "accuracy_stderr", "accuracy_ci", "metrics");
    CHECK_EQ_INT(num(bs, "anatomy", "n", 0), 4);
    CHECK_NEAR(num(bs, "anatomy", "accuracy", 0), 0.75);
    CHECK_NEAR(num(bs, "anatomy", "accuracy_stderr", 0), 0.25);
    CHECK_NEAR(num(bs, "anatomy", "metrics", "acc_norm"), 0.5);
    CHECK_EQ_INT(num(bs, "astronomy", "n", 0), 2);
    CHECK_NEAR(num(bs, "astronomy", "accuracy", 0), 0.5);
    CHECK_NEAR(num(bs, "astronomy", "accuracy_stderr", 0), 0.5);
    CHECK_NEAR(num(bs, "astronomy", "metrics", "acc"), 0.5);
    CHECK_NEAR(num(bs, "astronomy", "metrics", "acc_norm"), 1.0);

    CHECK_EQ_INT(num(j, "skipped", "malformed", 0), 2);
    CHECK(!strcmp(str(j, "config", "bench", 0), "mmlu:/data/mmlu"));
    CHECK(!strcmp(str(j, "model", "model_type", 0), "qwen3"));
    CHECK(json_is_null(json_object_get(j, "corpus")));
    json_decref(j);
}

static void test_summary_order_of_adds_does_not_matter(void)
{
    bench_summary *a = mmlu_fixture(0), *b = mmlu_fixture(1);
    CHECK(a && b);
    json_t *ja, *jb, *la, *lb;
    mn_err err = {0};
    CHECK(!bench_summary_build(a, NULL, &ja, &err) && !bench_summary_build(b, NULL, &jb, &err));
    CHECK(!bench_summary_build_lm_eval(a, NULL, &la, &err) && !bench_summary_build_lm_eval(b, NULL, &lb, &err));
    char *sa = json_dumps(ja, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    char *sb = json_dumps(jb, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    char *ta = json_dumps(la, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    char *tb = json_dumps(lb, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    int same = !strcmp(sa, sb) && !strcmp(ta, tb);
    free(sa);
    free(sb);
    free(ta);
    free(tb);
    json_decref(ja);
    json_decref(jb);
    json_decref(la);
    json_decref(lb);
    bench_summary_free(a);
    bench_summary_free(b);
    CHECK(same);
}

/* n items, correct when i % 3 != 0 (or all), metrics "acc" equal to
 * correct and "f1" = (37 i mod 101) / 100. */
static bench_summary *gpqa_set(uint64_t seed, size_t n, int all_correct)
{
    bench_summary_opts o;
    bench_summary_opts_default(&o);
    o.kind = "gpqa";
    o.task = "gpqa_main";
    o.seed = seed;
    bench_summary *s;
    mn_err err = {0};
    if (bench_summary_init(&s, &o, &err))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "rec%03zu", i);
        int c = all_correct || i % 3 != 0;
        json_t *r = json_pack("{sssssbs{sisf}}", "id", id, "subject", i % 2 ? "Physics" : "Chemistry", "correct",
                              c, "metrics", "acc", c, "f1", (double)(i * 37 % 101) / 100.0);
        if (add_new(s, r, &err)) {
            bench_summary_free(s);
            return NULL;
        }
    }
    return s;
}

static const json_t *get_ci(const json_t *j) { return json_object_get(j, "accuracy_ci"); }

static const json_t *f1_ci(const json_t *j)
{
    return json_object_get(json_object_get(json_object_get(j, "metrics"), "f1"), "ci95");
}

static void test_summary_bootstrap_seeded_and_deterministic(void)
{
    bench_summary *a = gpqa_set(1234, 60, 0), *b = gpqa_set(1234, 60, 0), *c = gpqa_set(99, 60, 0);
    CHECK(a && b && c);
    json_t *ja, *jb, *jc;
    mn_err err = {0};
    CHECK(!bench_summary_build(a, NULL, &ja, &err));
    CHECK(!bench_summary_build(b, NULL, &jb, &err));
    CHECK(!bench_summary_build(c, NULL, &jc, &err));
    int same = json_equal((json_t *)get_ci(ja), (json_t *)get_ci(jb)) &&
               json_equal((json_t *)f1_ci(ja), (json_t *)f1_ci(jb));
    /* 0/1 values give few distinct resample means, so accuracy intervals of
     * two seeds may well coincide; the continuous f1 ones differ a little */
    const json_t *fa = f1_ci(ja), *fc = f1_ci(jc);
    double d0 = fabs(json_number_value(json_array_get(fa, 0)) - json_number_value(json_array_get(fc, 0)));
    double d1 = fabs(json_number_value(json_array_get(fa, 1)) - json_number_value(json_array_get(fc, 1)));
    int differ = (d0 > 0 || d1 > 0) && d0 < 0.03 && d1 < 0.03;
    double p = num(ja, "accuracy", 0, 0);
    double lo = json_number_value(json_array_get(get_ci(jc), 0)), hi = json_number_value(json_array_get(get_ci(jc), 1));
    int seed_written = num(jc, "bootstrap", "seed", 0) == 99;
    json_decref(ja);
    json_decref(jb);
    json_decref(jc);
    bench_summary_free(a);
    bench_summary_free(b);
    bench_summary_free(c);
    CHECK(same);
    CHECK(differ);
    CHECK(seed_written);
    CHECK_NEAR(p, 40.0 / 60.0); /* i % 3 != 0 for 40 of 0..59 */
    CHECK_MSG(lo <= p && p <= hi, "[%g, %g] p %g", lo, hi, p);
}

static void test_summary_all_correct_interval_is_one_point(void)
{
    bench_summary *s = gpqa_set(1234, 25, 1);
    CHECK(s);
    json_t *j;
    mn_err err = {0};
    CHECK(!bench_summary_build(s, NULL, &j, &err));
    bench_summary_free(s);
    const json_t *ci = get_ci(j);
    int ok = json_array_size(ci) == 2 && json_number_value(json_array_get(ci, 0)) == 1.0 &&
             json_number_value(json_array_get(ci, 1)) == 1.0 && num(j, "accuracy", 0, 0) == 1.0 &&
             num(j, "accuracy_stderr", 0, 0) == 0.0;
    json_decref(j);
    CHECK(ok);
}

static void test_summary_levels_and_missing_subjects(void)
{
    /* Math-500-like: levels "Level 1" x2 (both right), "Level 2" x1 (wrong),
     * one item without level or subject. */
    bench_summary_opts o;
    bench_summary_opts_default(&o);
    o.kind = "math500";
    bench_summary *s;
    mn_err err = {0};
    CHECK(!bench_summary_init(&s, &o, &err));
    json_t *r[4] = {
        json_pack("{sssssssbs{sisf}}", "id", "m1", "subject", "Algebra", "level", "Level 1", "correct", 1, "metrics",
                  "exact_match", 1, "f1", 1.0),
        json_pack("{sssssssbs{sisf}}", "id", "m2", "subject", "Algebra", "level", "Level 1", "correct", 1, "metrics",
                  "exact_match", 1, "f1", 0.5),
        json_pack("{sssssssbs{sfsi}}", "id", "m3", "subject", "Geometry", "level", "Level 2", "correct", 0, "metrics",
                  "f1", 0.25, "exact_match", 0),
        json_pack("{sssbs{sisf}}", "id", "m4", "correct", 1, "metrics", "exact_match", 1, "f1", 1.0),
    };
    int rc = 0;
    for (int i = 0; i < 4; i++)
        rc |= add_new(s, r[i], &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    json_t *j;
    CHECK(!bench_summary_build(s, NULL, &j, &err));
    bench_summary_free(s);
    int ok = 1;
    ok &= !strcmp(str(j, "output_type", 0, 0), "generate_until");
    ok &= keys_are(json_object_get(j, "by_level"), (const char *const[]){"(none)", "Level 1", "Level 2"}, 3);
    ok &= keys_are(json_object_get(j, "by_subject"), (const char *const[]){"(none)", "Algebra", "Geometry"}, 3);
    ok &= keys_are(json_object_get(j, "metrics"), (const char *const[]){"exact_match", "f1"}, 2);
    ok &= num(j, "by_level", "Level 1", "n") == 2 && num(j, "by_level", "Level 1", "accuracy") == 1.0;
    const json_t *ci1 = json_object_get(json_object_get(json_object_get(j, "by_level"), "Level 1"), "accuracy_ci");
    ok &= json_number_value(json_array_get(ci1, 0)) == 1.0 && json_number_value(json_array_get(ci1, 1)) == 1.0;
    /* one-item group: stderr undefined (null), interval the point itself */
    const json_t *l2 = json_object_get(json_object_get(j, "by_level"), "Level 2");
    ok &= json_is_null(json_object_get(l2, "accuracy_stderr"));
    ok &= json_number_value(json_array_get(json_object_get(l2, "accuracy_ci"), 1)) == 0.0;
    ok &= NEAR(num(j, "by_level", "Level 2", "accuracy"), 0.0);
    /* f1 over Level 1: (1 + 0.5) / 2 = 0.75; overall f1 (1 + 0.5 + 0.25 + 1)/4 = 0.6875 */
    ok &= NEAR(num(json_object_get(j, "by_level"), "Level 1", "metrics", "f1"), 0.75);
    ok &= NEAR(num(j, "metrics", "f1", "mean"), 0.6875);
    ok &= NEAR(num(j, "accuracy", 0, 0), 0.75);
    json_decref(j);
    CHECK(ok);
}

/* ---- lm-evaluation-harness layout --------------------------------------- */

static void test_summary_lm_eval_mmlu_layout(void)
{
    bench_summary *s = mmlu_fixture(0);
    CHECK(s);
    mn_err err = {0};
    CHECK(!bench_summary_set_original(s, "anatomy", 135, &err));
    CHECK(bench_summary_set_original(s, NULL, 10, &err) == MN_EUSAGE);
    json_t *lmc = json_pack("{sssssi}", "model", "mnemo", "model_args", "pretrained=/models/q", "batch_size", 1);
    json_t *tc = json_pack("{ssss}", "dataset_path", "/data/mmlu", "task", "must-not-override");
    bench_summary_meta m = {.mnemo_version = "0.1.0", .created = "2024-01-02T03:04:05Z", .lm_eval_config = lmc,
                            .model_name = "Qwen/Qwen3-0.6B", .task_config = tc};
    char *dir = make_tmpdir();
    CHECK(dir);
    char sp[4096], rp[4096];
    snprintf(sp, sizeof sp, "%s/summary.json", dir);
    snprintf(rp, sizeof rp, "%s/results_2024-01-02T03-04-05.json", dir);
    int rc = bench_summary_write(s, &m, sp, rp, &err);
    json_decref(lmc);
    json_decref(tc);
    bench_summary_free(s);
    json_t *j = NULL, *sj = NULL;
    if (rc == 0)
        rc = json_load_path(rp, &j, &err);
    if (rc == 0)
        rc = json_load_path(sp, &sj, &err);
    int entries = count_entries(dir);
    remove_tmpdir(dir);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_EQ_INT(entries, 2); /* no temporary files left */
    CHECK_EQ_INT(num(sj, "n", 0, 0), 6);
    json_decref(sj);

    KEYS_ARE(j, "results", "groups", "group_subtasks", "configs", "versions", "n-shot", "higher_is_better",
             "n-samples", "config", "date", "model_source", "model_name", "model_name_sanitized", "mnemo_version");
    const json_t *res = json_object_get(j, "results");
    KEYS_ARE(res, "mmlu_anatomy", "mmlu_astronomy", "mmlu");
    KEYS_ARE(json_object_get(res, "mmlu_anatomy"), "name", "alias", "sample_len", "acc,none", "acc_stderr,none",
             "acc_norm,none", "acc_norm_stderr,none");
    CHECK(!strcmp(str(res, "mmlu_anatomy", "name", 0), "mmlu_anatomy"));
    CHECK(!strcmp(str(res, "mmlu_anatomy", "alias", 0), "anatomy"));
    CHECK_EQ_INT(num(res, "mmlu_anatomy", "sample_len", 0), 4);
    CHECK_NEAR(num(res, "mmlu_anatomy", "acc,none", 0), 0.75);
    CHECK_NEAR(num(res, "mmlu_anatomy", "acc_stderr,none", 0), 0.25);
    CHECK_NEAR(num(res, "mmlu_anatomy", "acc_norm,none", 0), 0.5);
    CHECK_NEAR(num(res, "mmlu_anatomy", "acc_norm_stderr,none", 0), sqrt(1.0 / 12.0));
    CHECK_NEAR(num(res, "mmlu_astronomy", "acc,none", 0), 0.5);
    CHECK_NEAR(num(res, "mmlu_astronomy", "acc_stderr,none", 0), 0.5);
    CHECK_NEAR(num(res, "mmlu_astronomy", "acc_norm_stderr,none", 0), 0.0);

    KEYS_ARE(json_object_get(res, "mmlu"), "alias", "name", "sample_len", "acc,none", "acc_stderr,none",
             "acc_norm,none", "acc_norm_stderr,none", "sample_count");
    CHECK_EQ_INT(num(res, "mmlu", "sample_len", 0), 6);
    CHECK_NEAR(num(res, "mmlu", "acc,none", 0), 4.0 / 6.0);
    CHECK_NEAR(num(res, "mmlu", "acc_stderr,none", 0), 0.22821773229381923);
    CHECK_NEAR(num(res, "mmlu", "acc_norm,none", 0), 4.0 / 6.0);
    CHECK_NEAR(num(res, "mmlu", "acc_norm_stderr,none", 0), 0.20412414523193151);
    CHECK_EQ_INT(num(res, "mmlu", "sample_count", "acc,none"), 6);
    CHECK(json_equal(json_object_get(res, "mmlu"), json_object_get(json_object_get(j, "groups"), "mmlu")));
    KEYS_ARE(json_object_get(j, "groups"), "mmlu");

    const json_t *gs = json_object_get(json_object_get(j, "group_subtasks"), "mmlu");
    CHECK(json_array_size(gs) == 2);
    CHECK(!strcmp(json_string_value(json_array_get(gs, 0)), "mmlu_anatomy"));
    CHECK(!strcmp(json_string_value(json_array_get(gs, 1)), "mmlu_astronomy"));

    const json_t *cfgs = json_object_get(j, "configs");
    KEYS_ARE(cfgs, "mmlu_anatomy", "mmlu_astronomy");
    const json_t *c = json_object_get(cfgs, "mmlu_anatomy");
    KEYS_ARE(c, "task", "task_alias", "dataset_name", "num_fewshot", "metric_list", "output_type", "repeats",
             "metadata", "dataset_path");
    CHECK(!strcmp(str(c, "task", 0, 0), "mmlu_anatomy"));
    CHECK(!strcmp(str(c, "task_alias", 0, 0), "anatomy"));
    CHECK(!strcmp(str(c, "dataset_name", 0, 0), "anatomy"));
    CHECK(!strcmp(str(c, "output_type", 0, 0), "multiple_choice"));
    CHECK(!strcmp(str(c, "dataset_path", 0, 0), "/data/mmlu"));
    CHECK_EQ_INT(num(c, "num_fewshot", 0, 0), 5);
    CHECK_NEAR(num(c, "metadata", "version", 0), 1.0);
    const json_t *ml = json_object_get(c, "metric_list");
    CHECK(json_array_size(ml) == 2);
    KEYS_ARE(json_array_get(ml, 0), "metric", "aggregation", "higher_is_better");
    CHECK(!strcmp(str(json_array_get(ml, 0), "metric", 0, 0), "acc"));
    CHECK(!strcmp(str(json_array_get(ml, 1), "metric", 0, 0), "acc_norm"));
    CHECK(!strcmp(str(json_array_get(ml, 1), "aggregation", 0, 0), "mean"));
    CHECK(json_is_true(json_object_get(json_array_get(ml, 1), "higher_is_better")));

    KEYS_ARE(json_object_get(j, "versions"), "mmlu", "mmlu_anatomy", "mmlu_astronomy");
    CHECK_NEAR(num(j, "versions", "mmlu_anatomy", 0), 1.0);
    KEYS_ARE(json_object_get(j, "n-shot"), "mmlu", "mmlu_anatomy", "mmlu_astronomy");
    CHECK_EQ_INT(num(j, "n-shot", "mmlu", 0), 5);
    KEYS_ARE(json_object_get(j, "higher_is_better"), "mmlu", "mmlu_anatomy", "mmlu_astronomy");
    KEYS_ARE(json_object_get(json_object_get(j, "higher_is_better"), "mmlu"), "acc", "acc_norm");
    CHECK(json_is_true(json_object_get(json_object_get(json_object_get(j, "higher_is_better"), "mmlu"), "acc")));
    KEYS_ARE(json_object_get(j, "n-samples"), "mmlu_anatomy", "mmlu_astronomy");
    KEYS_ARE(json_object_get(json_object_get(j, "n-samples"), "mmlu_anatomy"), "original", "effective");
    CHECK_EQ_INT(num(j, "n-samples", "mmlu_anatomy", "original"), 135);
    CHECK_EQ_INT(num(j, "n-samples", "mmlu_anatomy", "effective"), 4);
    CHECK_EQ_INT(num(j, "n-samples", "mmlu_astronomy", "original"), 2);

    CHECK(!strcmp(str(j, "config", "model_args", 0), "pretrained=/models/q"));
    CHECK_EQ_INT(num(j, "config", "batch_size", 0), 1);
    /* 2024-01-02T03:04:05Z: 19723 days to 2024-01-01 (1704067200 s), + 86400
     * + 3*3600 + 4*60 + 5 = 1704164645 */
    CHECK_NEAR(num(j, "date", 0, 0), 1704164645.0);
    CHECK(!strcmp(str(j, "model_source", 0, 0), "mnemo"));
    CHECK(!strcmp(str(j, "model_name", 0, 0), "Qwen/Qwen3-0.6B"));
    CHECK(!strcmp(str(j, "model_name_sanitized", 0, 0), "Qwen__Qwen3-0.6B"));
    CHECK(!strcmp(str(j, "mnemo_version", 0, 0), "0.1.0"));
    json_decref(j);
}

static void test_summary_lm_eval_single_item_subject_is_na(void)
{
    bench_summary_opts o;
    bench_summary_opts_default(&o);
    o.kind = "mmlu";
    bench_summary *s;
    mn_err err = {0};
    CHECK(!bench_summary_init(&s, &o, &err));
    int rc = add_new(s, mc_rec("anatomy-0", "anatomy", 1, 1, 1), &err);
    rc |= add_new(s, mc_rec("anatomy-1", "anatomy", 0, 0, 1), &err);
    rc |= add_new(s, mc_rec("virology-0", "virology", 1, 1, 0), &err);
    CHECK(rc == 0);
    json_t *j;
    CHECK(!bench_summary_build_lm_eval(s, NULL, &j, &err));
    bench_summary_free(s);
    const json_t *res = json_object_get(j, "results");
    int ok = !strcmp(str(res, "mmlu_virology", "acc_stderr,none", 0), "N/A");
    ok &= !strcmp(str(res, "mmlu", "acc_stderr,none", 0), "N/A");
    ok &= NEAR(num(res, "mmlu", "acc,none", 0), 2.0 / 3.0);
    ok &= NEAR(num(res, "mmlu_anatomy", "acc_stderr,none", 0), 0.5);
    ok &= json_is_null(json_object_get(j, "model_name")) && json_is_null(json_object_get(j, "date"));
    ok &= json_object_size(json_object_get(j, "config")) == 0;
    json_decref(j);
    CHECK(ok);
}

static void test_summary_lm_eval_single_task_layout(void)
{
    bench_summary *s = gpqa_set(1234, 6, 0);
    CHECK(s);
    mn_err err = {0};
    CHECK(!bench_summary_set_original(s, NULL, 448, &err));
    CHECK(bench_summary_set_original(s, "Physics", 10, &err) == MN_EUSAGE);
    bench_summary_meta m = {.model_name = "a/b:c//d"};
    json_t *j, *sj;
    CHECK(!bench_summary_build_lm_eval(s, &m, &j, &err));
    CHECK(!bench_summary_build(s, &m, &sj, &err));
    bench_summary_free(s);
    int ok = keys_are(j,
                      (const char *const[]){"results", "group_subtasks", "configs", "versions", "n-shot",
                                            "higher_is_better", "n-samples", "config", "date", "model_source",
                                            "model_name", "model_name_sanitized", "mnemo_version"},
                      13);
    const json_t *res = json_object_get(j, "results");
    ok &= keys_are(res, (const char *const[]){"gpqa_main"}, 1);
    ok &= !strcmp(str(res, "gpqa_main", "alias", 0), "gpqa_main");
    /* rec000..rec005: wrong when i % 3 == 0 (i = 0, 3): 4/6 */
    ok &= NEAR(num(res, "gpqa_main", "acc,none", 0), 4.0 / 6.0);
    ok &= NEAR(num(res, "gpqa_main", "acc_stderr,none", 0), sqrt(2.0 / 45.0));
    ok &= json_object_size(json_object_get(j, "group_subtasks")) == 0;
    ok &= keys_are(json_object_get(json_object_get(j, "configs"), "gpqa_main"),
                   (const char *const[]){"task", "num_fewshot", "metric_list", "output_type", "repeats", "metadata"},
                   6);
    ok &= num(j, "n-samples", "gpqa_main", "original") == 448 && num(j, "n-samples", "gpqa_main", "effective") == 6;
    ok &= !strcmp(str(j, "model_name_sanitized", 0, 0), "a__b__c__d");
    /* summary.json: subjects from the records, no levels, corpus null */
    ok &= keys_are(json_object_get(sj, "by_subject"), (const char *const[]){"Chemistry", "Physics"}, 2);
    ok &= json_object_get(sj, "by_level") == NULL && json_object_get(sj, "skipped") == NULL;
    ok &= !strcmp(str(sj, "task", 0, 0), "gpqa_main") && !strcmp(str(sj, "benchmark", 0, 0), "gpqa");
    json_decref(j);
    json_decref(sj);
    CHECK(ok);
}

static void test_summary_file_format_and_atomic_write(void)
{
    bench_summary *s = mmlu_fixture(0);
    CHECK(s);
    char *dir = make_tmpdir();
    CHECK(dir);
    char sp[4096], bad[4096];
    snprintf(sp, sizeof sp, "%s/summary.json", dir);
    snprintf(bad, sizeof bad, "%s/missing-dir/summary.json", dir);
    mn_err err = {0};
    int rc = bench_summary_write(s, NULL, sp, NULL, &err);
    int rc_bad = bench_summary_write(s, NULL, bad, NULL, &err);
    bench_summary_free(s);
    char buf[64] = {0};
    FILE *f = fopen(sp, "rb");
    long size = 0;
    size_t head = 0;
    if (f) {
        head = fread(buf, 1, 12, f);
        fseek(f, -1, SEEK_END);
        size = ftell(f) + 1;
        buf[20] = (char)fgetc(f);
        fclose(f);
    }
    int entries = count_entries(dir);
    remove_tmpdir(dir);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(rc_bad == MN_EIO);
    CHECK_STR_CONTAINS(err.msg, "missing-dir/summary.json");
    CHECK_EQ_INT(entries, 1);
    CHECK(size > 100);
    CHECK_EQ_INT(head, 12);
    CHECK(!memcmp(buf, "{\n  \"mnemo_v", 12)); /* 2-space indent, insertion order */
    CHECK(buf[20] == '\n');
}

/* ---- errors ------------------------------------------------------------------ */

static void test_summary_init_rejects_bad_options(void)
{
    bench_summary_opts o;
    bench_summary *s = (bench_summary *)&o;
    mn_err err = {0};
    bench_summary_opts_default(&o);
    CHECK(bench_summary_init(&s, &o, &err) == MN_EUSAGE && s == NULL);
    o.kind = "hellaswag";
    CHECK(bench_summary_init(&s, &o, &err) == MN_EUSAGE);
    CHECK_STR_CONTAINS(err.msg, "hellaswag");
    o.kind = "jsonl";
    CHECK(bench_summary_init(&s, &o, &err) == MN_EUSAGE);
    CHECK_STR_CONTAINS(err.msg, "output_type");
    o.output_type = "loglikelihood";
    CHECK(bench_summary_init(&s, &o, &err) == MN_EUSAGE);
    o.output_type = "generate_until";
    o.task = "";
    CHECK(bench_summary_init(&s, &o, &err) == MN_EUSAGE);
    o.task = "my_set";
    o.num_fewshot = -1;
    CHECK(bench_summary_init(&s, &o, &err) == MN_EUSAGE);
    o.num_fewshot = 0;
    CHECK(bench_summary_init(&s, &o, &err) == 0);
    bench_summary_free(s);
}

static void test_summary_add_rejects_bad_records(void)
{
    bench_summary_opts o;
    bench_summary_opts_default(&o);
    o.kind = "mmlu";
    bench_summary *s;
    mn_err err = {0};
    CHECK(!bench_summary_init(&s, &o, &err));
    struct {
        const char *json, *msg;
    } bad[] = {
        {"[1]", "record 1: not a JSON object"},
        {"{\"subject\":\"a\",\"correct\":true,\"metrics\":{}}", "record 2: field \"id\""},
        {"{\"id\":\"\",\"subject\":\"a\",\"correct\":true,\"metrics\":{}}", "record 3: field \"id\""},
        {"{\"id\":\"x\",\"correct\":true,\"metrics\":{\"acc\":1}}", "record 4: field \"subject\": an mmlu item"},
        {"{\"id\":\"x\",\"subject\":3,\"correct\":true,\"metrics\":{\"acc\":1}}", "record 5: field \"subject\": not"},
        {"{\"id\":\"x\",\"subject\":\"a\",\"correct\":1,\"metrics\":{\"acc\":1}}", "record 6: field \"correct\""},
        {"{\"id\":\"x\",\"subject\":\"a\",\"correct\":true}", "record 7: field \"metrics\": missing"},
        {"{\"id\":\"x\",\"subject\":\"a\",\"correct\":true,\"metrics\":{\"acc\":\"1\"}}", "\"acc\" is not a finite"},
        {"{\"id\":\"x\",\"subject\":\"a\",\"correct\":true,\"metrics\":{\"a,b\":1}}", "holds ','"},
        {"{\"id\":\"x\",\"subject\":\"a\",\"level\":[],\"correct\":true,\"metrics\":{\"acc\":1}}", "field \"level\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = json_loads(bad[i].json, 0, NULL);
        CHECK(r);
        int rc = add_new(s, r, &err);
        CHECK_MSG(rc == MN_EFORMAT, "case %zu accepted", i);
        CHECK_STR_CONTAINS(err.msg, bad[i].msg);
        CHECK_STR_CONTAINS(err.msg, "items.jsonl: record ");
    }
    CHECK_EQ_INT(bench_summary_count(s), 0);
    /* the first accepted record fixes the metric keys */
    CHECK(!add_new(s, mc_rec("a-0", "a", 1, 1, 0), &err));
    CHECK(add_new(s, json_pack("{sssssbs{si}}", "id", "a-1", "subject", "a", "correct", 1, "metrics", "acc", 1),
                  &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "no \"acc_norm\"");
    CHECK(add_new(s, json_pack("{sssssbs{sisisi}}", "id", "a-1", "subject", "a", "correct", 1, "metrics", "acc", 1,
                               "acc_norm", 1, "f1", 1),
                  &err) == MN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "\"f1\" is not in the first record's metrics");
    /* other key order is fine */
    CHECK(!add_new(s, json_pack("{sssssbs{sisi}}", "id", "a-1", "subject", "a", "correct", 0, "metrics", "acc_norm",
                                1, "acc", 0),
                   &err));
    CHECK_EQ_INT(bench_summary_count(s), 2);
    /* a duplicate id is found when building: record 15 repeats record 11's id */
    CHECK(!add_new(s, mc_rec("a-0", "a", 0, 0, 0), &err));
    json_t *j = NULL;
    CHECK(bench_summary_build(s, NULL, &j, &err) == MN_EFORMAT && j == NULL);
    CHECK_STR_CONTAINS(err.msg, "record 15: duplicate id \"a-0\" (first in record 11)");
    CHECK(bench_summary_build_lm_eval(s, NULL, &j, &err) == MN_EFORMAT);
    bench_summary_free(s);
}

static void test_summary_rejects_bad_meta(void)
{
    bench_summary *s = mmlu_fixture(0);
    CHECK(s);
    mn_err err = {0};
    json_t *j = NULL;
    const char *bad[] = {"2024-01-02 03:04:05Z", "2024-01-02T03:04:05", "2024-13-02T03:04:05Z",
                         "2024-01-02T03:04:05+01:00", "2024-01-02T03:04:05.Z"};
    int rejected = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bench_summary_meta m = {.created = bad[i]};
        rejected += bench_summary_build(s, &m, &j, &err) == MN_EUSAGE;
    }
    bench_summary_meta ok = {.created = "2024-01-02T03:04:05.250Z"};
    int rc = bench_summary_build_lm_eval(s, &ok, &j, &err);
    double date = rc == 0 ? num(j, "date", 0, 0) : 0;
    json_decref(j);
    json_t *arr = json_array();
    bench_summary_meta m2 = {.task_config = arr};
    int rc2 = bench_summary_build_lm_eval(s, &m2, &j, &err);
    json_decref(arr);
    bench_summary_free(s);
    CHECK_EQ_INT(rejected, 5);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_NEAR(date, 1704164645.25);
    CHECK(rc2 == MN_EUSAGE);
}

static void test_summary_empty_run(void)
{
    bench_summary_opts o;
    bench_summary_opts_default(&o);
    o.kind = "simpleqa";
    bench_summary *s;
    mn_err err = {0};
    CHECK(!bench_summary_init(&s, &o, &err));
    json_t *j, *l;
    CHECK(!bench_summary_build(s, NULL, &j, &err));
    CHECK(!bench_summary_build_lm_eval(s, NULL, &l, &err));
    bench_summary_free(s);
    int ok = num(j, "n", 0, 0) == 0 && json_is_null(json_object_get(j, "accuracy")) &&
             json_is_null(json_object_get(j, "accuracy_stderr")) && json_is_null(json_object_get(j, "accuracy_ci"));
    ok &= json_object_size(json_object_get(l, "results")) == 0;
    json_decref(j);
    json_decref(l);
    CHECK(ok);
}

TEST_MAIN(TEST(test_summary_stat_mean_and_stderr_by_hand), TEST(test_summary_stat_pooled_stderr_two_subjects),
          TEST(test_summary_mmlu_summary_values), TEST(test_summary_order_of_adds_does_not_matter),
          TEST(test_summary_bootstrap_seeded_and_deterministic), TEST(test_summary_all_correct_interval_is_one_point),
          TEST(test_summary_levels_and_missing_subjects), TEST(test_summary_lm_eval_mmlu_layout),
          TEST(test_summary_lm_eval_single_item_subject_is_na), TEST(test_summary_lm_eval_single_task_layout),
          TEST(test_summary_file_format_and_atomic_write), TEST(test_summary_init_rejects_bad_options),
          TEST(test_summary_add_rejects_bad_records), TEST(test_summary_rejects_bad_meta),
          TEST(test_summary_empty_run))
