/* args.c — flag parsing for the verbs (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int spec_index(const arg_spec *spec, int nspec, const char *name, size_t len)
{
    for (int i = 0; i < nspec; i++)
        if (strlen(spec[i].name) == len && memcmp(spec[i].name, name, len) == 0)
            return i;
    return -1;
}

int args_parse(args *a, const arg_spec *spec, int nspec, int argc, char **argv, mn_err *err)
{
    memset(a, 0, sizeof *a);
    a->spec = spec;
    a->nspec = nspec;
    a->value = xcalloc((size_t)nspec + 1, sizeof *a->value);
    a->pos = xcalloc((size_t)argc + 1, sizeof *a->pos);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == 0) {
            a->pos[a->npos++] = arg;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int k = spec_index(spec, nspec, name, len);
        int rc = MN_OK;
        if (k < 0)
            rc = mn_errf(err, MN_EUSAGE, "argument %d: unknown flag '--%.*s'", i + 1, (int)len, name);
        else if (a->value[k])
            rc = mn_errf(err, MN_EUSAGE, "argument %d: flag '--%s' given twice", i + 1, spec[k].name);
        else if (!spec[k].has_value && eq)
            rc = mn_errf(err, MN_EUSAGE, "argument %d: flag '--%s' takes no value", i + 1, spec[k].name);
        else if (!spec[k].has_value)
            a->value[k] = "";
        else if (eq)
            a->value[k] = eq + 1;
        else if (i + 1 < argc)
            a->value[k] = argv[++i];
        else
            rc = mn_errf(err, MN_EUSAGE, "argument %d: flag '--%s' needs a value", i + 1, spec[k].name);
        if (rc) {
            args_free(a);
            return rc;
        }
    }
    return MN_OK;
}

void args_free(args *a)
{
    free(a->value);
    free(a->pos);
    memset(a, 0, sizeof *a);
}

const char *args_get(const args *a, const char *name)
{
    int k = spec_index(a->spec, a->nspec, name, strlen(name));
    return k < 0 ? NULL : a->value[k];
}

int args_require(const args *a, const char *name, const char **out, mn_err *err)
{
    const char *v = args_get(a, name);
    if (!v)
        return mn_errf(err, MN_EUSAGE, "--%s: missing (required)", name);
    *out = v;
    return MN_OK;
}

int args_int(const args *a, const char *name, long lo, long hi, long *out, mn_err *err)
{
    const char *v = args_get(a, name);
    if (!v)
        return MN_OK;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (*v == 0 || *end != 0 || errno == ERANGE)
        return mn_errf(err, MN_EUSAGE, "--%s: '%s' is not an integer", name, v);
    if (x < lo || x > hi)
        return mn_errf(err, MN_EUSAGE, "--%s: %ld is outside [%ld, %ld]", name, x, lo, hi);
    *out = x;
    return MN_OK;
}

int args_double(const args *a, const char *name, double lo, double hi, double *out, mn_err *err)
{
    const char *v = args_get(a, name);
    if (!v)
        return MN_OK;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*v == 0 || *end != 0 || errno == ERANGE || isnan(x))
        return mn_errf(err, MN_EUSAGE, "--%s: '%s' is not a number", name, v);
    if (x < lo || x > hi)
        return mn_errf(err, MN_EUSAGE, "--%s: %g is outside [%g, %g]", name, x, lo, hi);
    *out = x;
    return MN_OK;
}

int parse_id_list(const char *what, const char *s, int allow_empty, int32_t **ids, size_t *n,
                  mn_err *err)
{
    size_t cap = 16, count = 0;
    int32_t *out = xmalloc(cap * sizeof *out);
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',')
            p++;
        if (*p == 0)
            break;
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno == ERANGE || x < 0 || x > INT32_MAX ||
            (*end && *end != ' ' && *end != '\t' && *end != '\n' && *end != ',')) {
            int len = 0;
            while (p[len] && p[len] != ' ' && p[len] != ',' && len < 40)
                len++;
            free(out);
            return mn_errf(err, MN_EUSAGE, "%s: token %zu: '%.*s' is not a token id (non-negative integer)",
                           what, count + 1, len, p);
        }
        if (count == cap)
            out = xrealloc(out, (cap *= 2) * sizeof *out);
        out[count++] = (int32_t)x;
        p = end;
    }
    if (count == 0 && !allow_empty) {
        free(out);
        return mn_errf(err, MN_EUSAGE, "%s: empty token id list", what);
    }
    *ids = out;
    *n = count;
    return MN_OK;
}

void args_usage(const char *verb, const char *synopsis, const arg_spec *spec, int nspec)
{
    fprintf(stderr, "usage: mnemo %s %s\n", verb, synopsis);
    for (int i = 0; i < nspec; i++)
        fprintf(stderr, "  --%-20s %s\n", spec[i].name, spec[i].help ? spec[i].help : "");
}
