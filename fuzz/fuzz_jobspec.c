/* fuzz_jobspec.c — libFuzzer target: job files (run/jobspec.h) on
 * arbitrary bytes, without file checks.  A failure must leave *out NULL
 * and give one non-empty line naming the file; a job that loads must
 * expand every combination into eval_opts (with an --out override when it
 * names no 'out') and give canonical text that is
 * valid JSON and the same on a second call.  Seeds: fuzz/corpus/jobspec/
 * (the example jobs and some of tests/fixtures/jobs/bad/). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "run/jobspec.h" /* job_load_memory, job_eval_opts, job_canonical */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    job *j = NULL;
    mn_err err = {0};
    if (job_load_memory("fuzz.yaml", (const char *)data, size, 0, &j, &err)) {
        if (j || strncmp(err.msg, "fuzz.yaml: ", 11) || strchr(err.msg, '\n') || !err.code)
            abort();
        return 0;
    }
    size_t n = job_combos(j);
    if (n == 0 || job_chunk(j) == 0 || !job_name(j))
        abort();
    for (size_t t = 0; t < n && t < 16; t++) {
        char buf[8192];
        eval_opts o;
        /* without 'out' the folder must come from the command line (--out) */
        int rc = job_eval_opts(j, t, NULL, &o, buf, sizeof buf, &err);
        if (rc && (rc != MN_EUSAGE || strncmp(err.msg, "fuzz.yaml: no output folder", 27)))
            abort();
        if ((rc && job_eval_opts(j, t, "out", &o, buf, sizeof buf, &err)) || !o.model_dir || !o.bench || !o.out_dir)
            abort();
        char *a = job_canonical(j, t), *b = job_canonical(j, t);
        json_error_t je;
        json_t *v = a ? json_loads(a, 0, &je) : NULL;
        if (!a || !b || strcmp(a, b) || !json_is_object(v))
            abort();
        json_decref(v);
        free(a);
        free(b);
    }
    job_free(j);
    return 0;
}
