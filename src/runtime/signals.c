/* signals: the handler records the signal for the training loop (during set-up SIGTERM/SIGINT exit at once). */
#include "runtime/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Process-wide flags are the one state a signal handler may touch (async-signal-safe). */
static volatile sig_atomic_t stop_signal = 0;
static volatile sig_atomic_t in_setup = 0;

static void on_signal(int sig)
{
    if (in_setup && (sig == SIGTERM || sig == SIGINT)) { /* nothing written yet, nothing to save */
        static const char term[] = "ppo: SIGTERM during set-up: stopped before any file was written\n";
        static const char intr[] = "ppo: SIGINT during set-up: stopped before any file was written\n";
        const char *msg = sig == SIGTERM ? term : intr;
        if (write(STDERR_FILENO, msg, (sig == SIGTERM ? sizeof term : sizeof intr) - 1) < 0) { /* nothing more to do */ }
        _exit(128 + sig);
    }
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

void signals_set_setup(bool setup) { in_setup = setup; }
