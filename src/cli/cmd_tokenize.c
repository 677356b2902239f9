/* PLACEHOLDER: replaced by the real verb before landing. */
#include "cli/verbs.h"
int cmd_tokenize(int argc, char **argv) { (void)argc; (void)argv; return cli_fail(-5, "tokenize: not built yet"); }
/* PLACEHOLDER: replaced by the real verb before landing. */
#include "cli/verbs.h"
int cmd_detokenize(int argc, char **argv) { (void)argc; (void)argv; return cli_fail(-5, "detokenize: not built yet"); }
