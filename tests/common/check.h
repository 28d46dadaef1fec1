/* check: tiny assertion macros for the C tests; a failed CHECK prints file:line and counts. */
#ifndef PPO_TESTS_CHECK_H
#define PPO_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ppo/env.h"

static int check_failures = 0;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            check_failures++;                                                  \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

#define CHECK_NEAR(a, b, tol, what)                                            \
    CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s: %.9g vs %.9g (tol %g)", what, (double)(a), \
          (double)(b), (double)(tol))

/* Makes an env or ends the test: a test cannot go on without it. */
static inline ppo_env *check_make_env(const char *id, const char *opts)
{
    char err[256];
    ppo_env *env = ppo_env_make(id, opts, err, sizeof err);
    if (!env) {
        fprintf(stderr, "ppo_env_make(%s, %s): %s\n", id, opts ? opts : "", err);
        exit(1);
    }
    return env;
}

#define CHECK_DONE() (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)

#endif
