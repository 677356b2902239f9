/* PLACEHOLDER: replaced by the real verb before landing. */
#include "cli/verbs.h"
int cmd_inspect(int argc, char **argv) { (void)argc; (void)argv; return cli_fail(-5, "inspect: not built yet"); }
