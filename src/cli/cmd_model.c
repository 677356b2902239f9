/* PLACEHOLDER: replaced by the real verb before landing. */
#include "cli/verbs.h"
int cmd_logits(int argc, char **argv) { (void)argc; (void)argv; return cli_fail(-5, "logits: not built yet"); }
/* PLACEHOLDER: replaced by the real verb before landing. */
#include "cli/verbs.h"
int cmd_hidden(int argc, char **argv) { (void)argc; (void)argv; return cli_fail(-5, "hidden: not built yet"); }
/* PLACEHOLDER: replaced by the real verb before landing. */
#include "cli/verbs.h"
int cmd_loglik(int argc, char **argv) { (void)argc; (void)argv; return cli_fail(-5, "loglik: not built yet"); }
/* PLACEHOLDER: replaced by the real verb before landing. */
#include "cli/verbs.h"
int cmd_embed(int argc, char **argv) { (void)argc; (void)argv; return cli_fail(-5, "embed: not built yet"); }
