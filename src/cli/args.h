/* args.h — small command-line helpers shared by the verbs.
 *
 * Verbs take "--name value" flags (and "--name=value").  Errors name the
 * argument: "--max-new-tokens: 'x' is not a non-negative integer". */
#ifndef MNEMO_CLI_ARGS_H
#define MNEMO_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h" /* mn_err */

/* One flag a verb accepts.  has_value: 1 for "--k V", 0 for a switch. */
typedef struct arg_spec {
    const char *name;   /* without the leading dashes */
    int has_value;
    const char *help;
} arg_spec;

/* Parsed flags: value[i] is the value of spec[i] (NULL when absent; "" for a
 * switch that was given).  Positional arguments are collected in order. */
typedef struct args {
    const arg_spec *spec;
    int nspec;
    const char **value;   /* [nspec] */
    const char **pos;     /* positional arguments */
    int npos;
} args;

/* Parse argv[0..argc) (the verb's own arguments, verb name excluded).
 * Errors: MN_EUSAGE for unknown flags, missing values, repeated flags.
 * Free with args_free(). */
int args_parse(args *a, const arg_spec *spec, int nspec, int argc, char **argv, mn_err *err);
void args_free(args *a);

/* Value of flag `name` or NULL. */
const char *args_get(const args *a, const char *name);
/* Flag that must be present.  Errors: MN_EUSAGE. */
int args_require(const args *a, const char *name, const char **out, mn_err *err);
/* Integer flag in [lo, hi]; *out keeps dflt when absent.  Errors: MN_EUSAGE. */
int args_int(const args *a, const char *name, long lo, long hi, long *out, mn_err *err);
/* Floating flag in [lo, hi]; *out keeps dflt when absent.  Errors: MN_EUSAGE. */
int args_double(const args *a, const char *name, double lo, double hi, double *out, mn_err *err);

/* Parse a whitespace-separated list of token ids ("12 7 301").  what names
 * the source in errors ("--ids").  Errors: MN_EUSAGE for a non-integer (with
 * its 1-based position in the list) or an empty list when !allow_empty.
 * Caller frees *ids. */
int parse_id_list(const char *what, const char *s, int allow_empty, int32_t **ids, size_t *n,
                  mn_err *err);

/* Print "usage: mnemo VERB ARGS" and the flag table to stderr. */
void args_usage(const char *verb, const char *synopsis, const arg_spec *spec, int nspec);

#endif
