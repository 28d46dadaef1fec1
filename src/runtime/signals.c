/* signals: the handler only records the signal; everything else happens in the training loop. */
#include "runtime/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* A process-wide flag is the one state a signal handler may touch (async-signal-safe). */
static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig)
{
    if (sig == SIGINT && stop_signal == SIGINT) {
        static const char msg[] = "ppo: second SIGINT, aborting without a checkpoint\n";
        if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
        _exit(130);
    }
    stop_signal = sig;
}

void signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int signals_stop_requested(void) { return stop_signal; }
