/* signals: the handler records the signal for the training loop; during set-up SIGTERM/SIGINT keep
 * their default action (the process ends at once: nothing has been written that a stop would save). */
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

static void set_action(int sig, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

void signals_install(void)
{
    set_action(SIGUSR1, on_signal);
    set_action(SIGTERM, SIG_DFL);
    set_action(SIGINT, SIG_DFL);
}

void signals_arm_stop(void)
{
    set_action(SIGTERM, on_signal);
    set_action(SIGINT, on_signal);
}

int signals_stop_requested(void) { return stop_signal; }
