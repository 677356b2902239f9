/* verbs.h — the subcommands of the mnemo binary.  Each verb is a thin layer
 * over the modules: parse flags (cli/args.h), call the library, print the
 * one-line error on failure.  Every verb returns the process exit status. */
#ifndef MNEMO_CLI_VERBS_H
#define MNEMO_CLI_VERBS_H

int cmd_tokenize(int argc, char **argv);   /* cli/cmd_tokenize.c */
int cmd_detokenize(int argc, char **argv); /* cli/cmd_tokenize.c */
int cmd_logits(int argc, char **argv);     /* cli/cmd_model.c */
int cmd_hidden(int argc, char **argv);     /* cli/cmd_model.c */
int cmd_loglik(int argc, char **argv);     /* cli/cmd_model.c */
int cmd_generate(int argc, char **argv);   /* cli/cmd_generate.c */
int cmd_embed(int argc, char **argv);      /* cli/cmd_model.c */
int cmd_embed_db(int argc, char **argv);   /* cli/cmd_embed_db.c: embed --db */
int cmd_inspect(int argc, char **argv);    /* cli/cmd_inspect.c */
int cmd_ingest(int argc, char **argv);     /* cli/cmd_ingest.c */
int cmd_reshard(int argc, char **argv);    /* cli/cmd_reshard.c */
int cmd_search(int argc, char **argv);     /* cli/cmd_search.c */
int cmd_stats(int argc, char **argv);      /* cli/cmd_search.c */
int cmd_eval(int argc, char **argv);       /* cli/cmd_eval.c */
int cmd_run(int argc, char **argv);        /* cli/cmd_run.c */
int cmd_contam(int argc, char **argv);     /* cli/cmd_contam.c */
int cmd_multiplier(int argc, char **argv); /* cli/cmd_multiplier.c */

/* Print "mnemo: MSG" on stderr and return mn_exit_code(code). */
int cli_fail(int code, const char *msg);

#endif
