/* main.c — `mnemo <verb> [flags]`: dispatch to the verbs in src/cli/. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/verbs.h"       /* cmd_* */
#include "util/err.h"        /* xmalloc */
#include "util/faultguard.h" /* faultguard_install: a damaged shard ends in one line, not a signal */
#include "util/version.h"    /* MNEMO_VERSION */

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb;

static const verb verbs[] = {
    {"tokenize", cmd_tokenize, "encode JSON lines {\"text\"} from stdin with a tokenizer.json"},
    {"detokenize", cmd_detokenize, "decode JSON lines {\"ids\"} from stdin"},
    {"logits", cmd_logits, "write the T x V logits of a token sequence (float32)"},
    {"hidden", cmd_hidden, "write every layer's hidden states (float32)"},
    {"loglik", cmd_loglik, "log-likelihood of a continuation given a context"},
    {"generate", cmd_generate, "generate tokens (greedy or sampled)"},
    {"embed", cmd_embed, "pooled, L2-normalised embedding of a token sequence or text"},
    {"inspect", cmd_inspect, "check a checkpoint directory and print its configuration"},
    {"ingest", cmd_ingest, "ingest corpus files/archives into a sharded retrieval DB"},
    {"reshard", cmd_reshard, "copy a retrieval DB into another number of shards"},
    {"search", cmd_search, "BM25 search of a retrieval DB (JSON lines out)"},
    {"stats", cmd_stats, "print a retrieval DB's manifest, checked against its shards"},
    {"eval", cmd_eval, "evaluate a model on a benchmark (retrieval, test-time compute, scores)"},
    {"run", cmd_run, "run a job file (also under mpirun/srun): durable, resumable"},
    {"contam", cmd_contam, "contamination audit of a benchmark against a DB or raw corpus files"},
    {"multiplier", cmd_multiplier, "compute-multiplier study and report over eval result directories"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: mnemo <verb> [flags]   (mnemo <verb> --help for a verb's flags)\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
}

/* jansson's allocations are small bookkeeping too: out of memory there
 * ends the process with xmalloc's one line.  Left to jansson, a failed
 * allocation makes json_loads report "invalid JSON" for a valid line and
 * json_object_set_new drop a field without a word. */
static void *json_xmalloc(size_t n)
{
    return xmalloc(n);
}

int main(int argc, char **argv)
{
    faultguard_install();
    json_set_alloc_funcs(json_xmalloc, free);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("mnemo %s\n", MNEMO_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(name, verbs[i].name))
            return verbs[i].run(argc - 2, argv + 2);
    fprintf(stderr, "mnemo: argument 1: unknown verb '%s' (mnemo --help lists them)\n", name);
    return 2;
}
