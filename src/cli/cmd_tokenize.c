/* cmd_tokenize.c — `mnemo tokenize` and `mnemo detokenize`: JSON lines in
 * on stdin, JSON lines out on stdout, one output line per input line.
 *
 *   mnemo tokenize --tokenizer FILE [--plain-special]
 *       {"text": "Hello"}  ->  {"ids": [9707]}
 *   mnemo detokenize --tokenizer FILE
 *       {"ids": [9707]}    ->  {"text": "Hello"}
 *
 * tokenize adds no BOS/template tokens and matches added-token strings in
 * the text (HF encode(text, add_special_tokens=False)); --plain-special
 * treats special:true added tokens as plain text (encode_special_tokens).
 * detokenize keeps special tokens (skip_special_tokens=False).  Other keys
 * of an input object are ignored, so the fixture lines can be fed as is.
 * A bad line stops the run: "mnemo: stdin: line N: reason", exit 1, nothing
 * printed for that line (earlier lines are already out). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"        /* args_parse, args_require, args_usage */
#include "cli/verbs.h"       /* cli_fail */
#include "model/tokenizer.h" /* tokenizer_load, tokenizer_encode, tokenizer_decode */

typedef int (*line_fn)(const tokenizer *tok, int flags, const json_t *in, long line, mn_err *err);

/* {"text": S} -> {"ids": [...]} */
static int tokenize_line(const tokenizer *tok, int flags, const json_t *in, long line, mn_err *err)
{
    const json_t *text = json_object_get(in, "text");
    if (!json_is_string(text))
        return mn_errf(err, MN_EFORMAT, "stdin: line %ld: expected an object with a \"text\" string",
                       line);
    int32_t *ids;
    size_t n;
    int rc = tokenizer_encode(tok, json_string_value(text), json_string_length(text), flags, &ids,
                              &n, err);
    if (rc) {
        mn_err_prefix(err, "stdin: line %ld: ", line);
        return rc;
    }
    fputs("{\"ids\": [", stdout);
    for (size_t i = 0; i < n; i++)
        printf(i ? ", %d" : "%d", ids[i]);
    fputs("]}\n", stdout);
    free(ids);
    return MN_OK;
}

/* {"ids": [...]} -> {"text": S} */
static int detokenize_line(const tokenizer *tok, int flags, const json_t *in, long line,
                           mn_err *err)
{
    (void)flags;
    const json_t *arr = json_object_get(in, "ids");
    if (!json_is_array(arr))
        return mn_errf(err, MN_EFORMAT, "stdin: line %ld: expected an object with an \"ids\" array",
                       line);
    size_t n = json_array_size(arr);
    int32_t *ids = xmalloc((n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
            json_integer_value(v) > INT32_MAX) {
            free(ids);
            return mn_errf(err, MN_EFORMAT, "stdin: line %ld: ids[%zu]: not a 32-bit integer", line,
                           i);
        }
        ids[i] = (int32_t)json_integer_value(v);
    }
    char *text;
    size_t len;
    int rc = tokenizer_decode(tok, ids, n, &text, &len, err);
    free(ids);
    if (rc) {
        mn_err_prefix(err, "stdin: line %ld: ", line);
        return rc;
    }
    json_t *out = json_pack("{s:s%}", "text", text, len);
    char *s = out ? json_dumps(out, 0) : NULL;
    free(text);
    json_decref(out);
    if (!s)
        return mn_errf(err, MN_ENOMEM, "stdin: line %ld: cannot format the output", line);
    puts(s);
    free(s);
    return MN_OK;
}

/* Apply fn to every stdin line; stops at the first bad one. */
static int run_lines(const tokenizer *tok, int flags, line_fn fn, mn_err *err)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t got;
    long line = 0;
    int rc = MN_OK;
    while (!rc && (got = getline(&buf, &cap, stdin)) >= 0) {
        size_t len = (size_t)got;
        line++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            len--;
        json_error_t je;
        json_t *j = len ? json_loadb(buf, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je) : NULL;
        if (!len)
            rc = mn_errf(err, MN_EFORMAT, "stdin: line %ld: empty line, expected a JSON object", line);
        else if (!j)
            rc = mn_errf(err, MN_EFORMAT, "stdin: line %ld: column %d: invalid JSON: %s", line,
                         je.column, je.text);
        else
            rc = fn(tok, flags, j, line, err);
        json_decref(j);
    }
    free(buf);
    if (!rc && ferror(stdin))
        rc = mn_errf(err, MN_EIO, "stdin: line %ld: read error", line + 1);
    if (fflush(stdout) != 0 && !rc)
        rc = mn_errf(err, MN_EIO, "stdout: write failed");
    return rc;
}

static int run_verb(const char *verb, int with_plain, line_fn fn, int argc, char **argv)
{
    static const arg_spec spec[] = {
        {"tokenizer", 1, "tokenizer.json to load (required)"},
        {"help", 0, "show this help"},
        {"plain-special", 0, "treat special added tokens in the text as plain text"},
    };
    int nspec = with_plain ? 3 : 2;
    const char *synopsis = with_plain ? "--tokenizer FILE [--plain-special] < {\"text\"} lines"
                                      : "--tokenizer FILE < {\"ids\"} lines";
    args a;
    mn_err err = {0};
    const char *path;
    tokenizer *tok = NULL;
    int rc = args_parse(&a, spec, nspec, argc, argv, &err);
    if (rc) {
        args_usage(verb, synopsis, spec, nspec);
        return cli_fail(rc, err.msg);
    }
    if (args_get(&a, "help")) {
        args_usage(verb, synopsis, spec, nspec);
        args_free(&a);
        return 0;
    }
    if (a.npos > 0)
        rc = mn_errf(&err, MN_EUSAGE, "argument '%s': unexpected (input comes from stdin)", a.pos[0]);
    else
        rc = args_require(&a, "tokenizer", &path, &err);
    if (rc) {
        args_usage(verb, synopsis, spec, nspec);
        args_free(&a);
        return cli_fail(rc, err.msg);
    }
    int flags = with_plain && args_get(&a, "plain-special") ? TOK_PLAIN_SPECIAL : 0;
    if (!(rc = tokenizer_load(path, &tok, &err)))
        rc = run_lines(tok, flags, fn, &err);
    tokenizer_free(tok);
    args_free(&a);
    return rc ? cli_fail(rc, err.msg) : 0;
}

int cmd_tokenize(int argc, char **argv)
{
    return run_verb("tokenize", 1, tokenize_line, argc, argv);
}

int cmd_detokenize(int argc, char **argv)
{
    return run_verb("detokenize", 0, detokenize_line, argc, argv);
}
