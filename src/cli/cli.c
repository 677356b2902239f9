/* cli.c — helpers shared by the verbs. */
#include <stdio.h>

#include "cli/verbs.h"
#include "util/err.h" /* mn_exit_code */

int cli_fail(int code, const char *msg)
{
    fprintf(stderr, "mnemo: %s\n", msg);
    return mn_exit_code(code);
}
