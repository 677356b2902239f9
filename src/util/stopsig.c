/* stopsig.c — catch the stop signals into a flag; see stopsig.h. */
#include "util/stopsig.h"

#include <string.h>

static volatile sig_atomic_t g_caught;
static const int stop_signals[3] = {SIGTERM, SIGINT, SIGUSR1};

static void on_stop_signal(int sig)
{
    g_caught = sig;
}

void stopsig_catch(stopsig_saved *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    g_caught = 0;
    for (int i = 0; i < 3; i++)
        sigaction(stop_signals[i], &sa, &saved->old[i]);
}

int stopsig_caught(void)
{
    return g_caught;
}

void stopsig_restore(const stopsig_saved *saved)
{
    for (int i = 0; i < 3; i++)
        sigaction(stop_signals[i], &saved->old[i], NULL);
}
