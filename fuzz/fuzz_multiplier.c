/* fuzz_multiplier.c — libFuzzer target: `mnemo multiplier`'s readers
 * (study/multiplier.h) on arbitrary file contents.  The input is split at
 * NUL bytes into up to six files of a scratch folder:
 *
 *   r3/summary.json  r3/items.jsonl  m3/training.json
 *   c/contam-summary.json  c/contamination.jsonl  planted.txt
 *
 * and the study runs over r1, r2 (fixed, valid closed-book results of models
 * m1 and m2 on four items) and r3; the contamination section loads c/ and
 * planted.txt.  A failure must give one non-empty line and leave the study
 * NULL; a study that loads must give multiplier.json text that is valid JSON
 * (and the same on a second call) and Markdown and HTML reports.  Seeds:
 * fuzz/corpus/multiplier/ (an augmented result of model m3 and a small
 * audit). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/multiplier_report.h" /* mult_report_json, _markdown, _html */
#include "study/multiplier.h"         /* mult_study_run, mult_contam_load */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (len && fwrite(text, 1, len, f) != len)
        abort();
    fclose(f);
}

static void put_str(const char *path, const char *text)
{
    put_file(path, text, strlen(text));
}

static const char ITEMS[] = "{\"id\":\"a\",\"correct\":%s}\n{\"id\":\"b\",\"correct\":%s}\n"
                            "{\"id\":\"c\",\"correct\":false}\n{\"id\":\"d\",\"correct\":false}\n";

/* A closed-book result rN of model mN with accuracy acc on items a..d. */
static void closed_book(int n, double acc, const char *ca, const char *cb, double compute)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "m%d", n);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "m%d/training.json", n);
    snprintf(text, sizeof text, "{\"params\": 1000, \"tokens\": 1000, \"compute\": %g}\n", compute);
    put_str(path, text);
    snprintf(path, sizeof path, "r%d", n);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "r%d/summary.json", n);
    snprintf(text, sizeof text,
             "{\"benchmark\": \"jsonl\", \"output_type\": \"generate_until\", \"n\": 4, \"accuracy\": %g,"
             " \"config\": {\"bench\": \"jsonl:q.jsonl\", \"retrieval\": null, \"ttc\": {\"kind\": \"greedy\"}},"
             " \"model\": {\"path\": \"m%d\"}}\n",
             acc, n);
    put_str(path, text);
    snprintf(path, sizeof path, "r%d/items.jsonl", n);
    snprintf(text, sizeof text, ITEMS, ca, cb);
    put_str(path, text);
}

static char scratch[] = "/tmp/mnemo-fuzz-multiplier-XXXXXX";
static char home[4096]; /* libFuzzer's working directory, restored after each input */

/* Remove the scratch folder at exit (the files are the fixed names above). */
static void cleanup(void)
{
    if (chdir(scratch))
        return;
    static const char *const files[] = {
        "m1/training.json", "m2/training.json", "m3/training.json", "r1/summary.json", "r1/items.jsonl",
        "r2/summary.json", "r2/items.jsonl", "r3/summary.json", "r3/items.jsonl", "c/contam-summary.json",
        "c/contamination.jsonl", "planted.txt", "m1", "m2", "m3", "r1", "r2", "r3", "c"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        remove(files[i]);
    if (chdir(home) == 0)
        rmdir(scratch);
}

static void setup_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    if (!getcwd(home, sizeof home) || !mkdtemp(scratch) || chdir(scratch))
        abort();
    atexit(cleanup);
    closed_book(1, 0.25, "true", "false", 1e15);
    closed_book(2, 0.5, "true", "true", 1e16);
    mkdir("r3", 0755);
    mkdir("m3", 0755);
    mkdir("c", 0755);
    if (chdir(home))
        abort();
}

static void check_err(const mn_err *err)
{
    if (!err->code || !err->msg[0] || strchr(err->msg, '\n'))
        abort();
}

static void check_study(const mult_study *s, const mult_report_opts *ro)
{
    char *a = mult_report_json(s, ro), *b = mult_report_json(s, ro);
    json_error_t je;
    json_t *v = a ? json_loads(a, 0, &je) : NULL;
    if (!a || !b || strcmp(a, b) || !json_is_object(v))
        abort();
    json_decref(v);
    free(a);
    free(b);
    wbuf md = {0}, html = {0};
    mult_report_markdown(&md, s, ro);
    mult_report_html(&html, s, ro);
    if (!md.n || !html.n)
        abort();
    free(md.p);
    free(html.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const FILES[] = {"r3/summary.json",       "r3/items.jsonl",
                                        "m3/training.json",      "c/contam-summary.json",
                                        "c/contamination.jsonl", "planted.txt"};
    setup_once();
    if (chdir(scratch)) /* the results name their models relative to it */
        abort();
    const char *p = (const char *)data, *end = p + size;
    for (size_t i = 0; i < 6; i++) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        const char *stop = nul ? nul : end;
        put_file(FILES[i], p, (size_t)(stop - p));
        p = nul ? nul + 1 : end;
    }

    mult_opts o;
    mult_opts_default(&o);
    o.resamples = 20; /* a few resamples: the fit and the inverse run on each */
    const char *dirs[] = {"r1", "r2", "r3"};
    mult_study *s = NULL;
    mn_err err = {0};
    mult_contam c;
    memset(&c, 0, sizeof c);
    int crc = mult_contam_load("c", "planted.txt", &c, &err);
    if (crc)
        check_err(&err);
    mn_err err2 = {0};
    if (mult_study_run(dirs, 3, &o, &s, &err2)) {
        check_err(&err2);
        if (s)
            abort();
    } else {
        mult_report_opts ro = {NULL, crc ? NULL : &c, "c", "planted.txt"};
        check_study(s, &ro);
        mult_study_free(s);
    }
    if (!crc)
        mult_contam_free(&c);
    if (chdir(home)) /* libFuzzer writes its corpus and artifacts relative to it */
        abort();
    return 0;
}
