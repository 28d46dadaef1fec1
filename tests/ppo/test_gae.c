/* GAE against hand-computed values: no episode end, termination and truncation in the middle of a
 * rollout and at its last step, several envs side by side, and lambda = 1 (Monte-Carlo returns
 * minus values) and lambda = 0 (one-step TD errors) on random rollouts. Not a test of the trainer's
 * rollout: ppo_gae alone, on arrays filled here. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ppo/gae.h"
#include "util/rng.h"

#define TOL 1e-5

/* gamma 0.9, lambda 0.8, so gamma * lambda = 0.72. Every column below has T = 3 and
 *   rewards r = (1, 2, 3), values v = (0.5, 1.0, 1.5), last value V(s_3) = 2.0,
 * with episode ends placed differently; delta_t = r_t + 0.9 * V(next) - v_t. */
static void test_hand_computed(void)
{
    enum { T = 3, N = 6 };
    const double gamma = 0.9, lambda = 0.8;
    float r[T * N], v[T * N], boot[T * N], last[N], adv[T * N], ret[T * N];
    uint8_t term[T * N] = {0}, trunc[T * N] = {0};
    const float rr[T] = {1, 2, 3}, vv[T] = {0.5f, 1.0f, 1.5f};
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            r[t * N + n] = rr[t];
            v[t * N + n] = vv[t];
            boot[t * N + n] = 100.0f; /* junk wherever the step did not truncate: must not be read */
        }
    for (int n = 0; n < N; n++)
        last[n] = 2.0f;

    /* column 0: no episode end.
     *   delta_2 = 3 + 0.9*2.0 - 1.5 = 3.3                  A_2 = 3.3
     *   delta_1 = 2 + 0.9*1.5 - 1.0 = 2.35                 A_1 = 2.35 + 0.72*3.3   = 4.726
     *   delta_0 = 1 + 0.9*1.0 - 0.5 = 1.4                  A_0 = 1.4  + 0.72*4.726 = 4.80272 */
    const double a0[T] = {4.80272, 4.726, 3.3};

    /* column 1: terminated at t = 1 (no bootstrap, no carry of A_2 into A_1).
     *   A_2 = 3.3 (a new episode, bootstrapped from V(s_3) = 2.0)
     *   delta_1 = 2 + 0 - 1.0 = 1.0                        A_1 = 1.0
     *   A_0 = 1.4 + 0.72*1.0 = 2.12 */
    term[1 * N + 1] = 1;
    const double a1[T] = {2.12, 1.0, 3.3};

    /* column 2: truncated at t = 1, critic's value of the final observation 4.0.
     *   delta_1 = 2 + 0.9*4.0 - 1.0 = 4.6 (no carry)       A_1 = 4.6
     *   A_0 = 1.4 + 0.72*4.6 = 4.712,  A_2 = 3.3 */
    trunc[1 * N + 2] = 1;
    boot[1 * N + 2] = 4.0f;
    const double a2[T] = {4.712, 4.6, 3.3};

    /* column 3: terminated at the last step t = 2 (last value 2.0 is not used).
     *   delta_2 = 3 - 1.5 = 1.5                            A_2 = 1.5
     *   A_1 = 2.35 + 0.72*1.5  = 3.43
     *   A_0 = 1.4  + 0.72*3.43 = 3.8696 */
    term[2 * N + 3] = 1;
    const double a3[T] = {3.8696, 3.43, 1.5};

    /* column 4: truncated at the last step, bootstrap 4.0 (not the last value 2.0).
     *   delta_2 = 3 + 0.9*4.0 - 1.5 = 5.1                  A_2 = 5.1
     *   A_1 = 2.35 + 0.72*5.1   = 6.022
     *   A_0 = 1.4  + 0.72*6.022 = 5.73584 */
    trunc[2 * N + 4] = 1;
    boot[2 * N + 4] = 4.0f;
    const double a4[T] = {5.73584, 6.022, 5.1};

    /* column 5: terminated at t = 0 and truncated at t = 2 (bootstrap 4.0), with last value -1.
     *   delta_0 = 1 - 0.5 = 0.5                            A_0 = 0.5
     *   delta_2 = 5.1 (as column 4)                        A_2 = 5.1
     *   A_1 = 2.35 + 0.72*5.1 = 6.022 */
    term[0 * N + 5] = 1;
    trunc[2 * N + 5] = 1;
    boot[2 * N + 5] = 4.0f;
    last[5] = -1.0f;
    const double a5[T] = {0.5, 6.022, 5.1};

    ppo_gae(T, N, r, v, term, trunc, boot, last, gamma, lambda, adv, ret);
    const double *want[N] = {a0, a1, a2, a3, a4, a5};
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++) {
            char what[64];
            snprintf(what, sizeof what, "column %d step %d advantage", n, t);
            CHECK_NEAR(adv[t * N + n], want[n][t], TOL, what);
            snprintf(what, sizeof what, "column %d step %d return", n, t);
            CHECK_NEAR(ret[t * N + n], want[n][t] + vv[t], TOL, what);
        }
}

/* Different data per column: a mix-up of columns (t*N+n vs t+n...) shows. gamma 0.9, lambda 0.8.
 * column 0: r = (1, 2, 3), v = (0.5, 1.0, 1.5), last 2.0: as above, A = (4.80272, 4.726, 3.3).
 * column 1: r = (0, 0, 1), v = (0, 0, 0), last 0: delta = (0, 0, 1), A = (0.72^2, 0.72, 1) = (0.5184, 0.72, 1). */
static void test_columns_independent(void)
{
    enum { T = 3, N = 2 };
    const float r[T * N] = {1, 0, 2, 0, 3, 1};
    const float v[T * N] = {0.5f, 0, 1.0f, 0, 1.5f, 0};
    const float boot[T * N] = {0};
    const float last[N] = {2.0f, 0.0f};
    const uint8_t term[T * N] = {0}, trunc[T * N] = {0};
    float adv[T * N], ret[T * N];
    ppo_gae(T, N, r, v, term, trunc, boot, last, 0.9, 0.8, adv, ret);
    const double want[T * N] = {4.80272, 0.5184, 4.726, 0.72, 3.3, 1.0};
    for (int i = 0; i < T * N; i++)
        CHECK_NEAR(adv[i], want[i], TOL, "two different columns");
}

/* lambda = 1: advantages are discounted Monte-Carlo returns (cut at terminations, bootstrapped at
 * truncations and after the last step) minus values. Hand example, gamma 0.9, T = 4, one env:
 * r = (1, 0, 2, 1), v = (0.3, -0.2, 0.7, 0.1), terminated at t = 3:
 *   G_3 = 1, G_2 = 2 + 0.9*1 = 2.9, G_1 = 0 + 0.9*2.9 = 2.61, G_0 = 1 + 0.9*2.61 = 3.349
 *   A = G - v = (3.049, 2.81, 2.2, 0.9). */
static void test_lambda1_hand(void)
{
    enum { T = 4 };
    const float r[T] = {1, 0, 2, 1}, v[T] = {0.3f, -0.2f, 0.7f, 0.1f}, boot[T] = {0}, last[1] = {5.0f};
    const uint8_t term[T] = {0, 0, 0, 1}, trunc[T] = {0};
    float adv[T], ret[T];
    ppo_gae(T, 1, r, v, term, trunc, boot, last, 0.9, 1.0, adv, ret);
    const double G[T] = {3.349, 2.61, 2.9, 1.0};
    for (int t = 0; t < T; t++) {
        CHECK_NEAR(ret[t], G[t], TOL, "lambda 1: return = Monte-Carlo return");
        CHECK_NEAR(adv[t], G[t] - v[t], TOL, "lambda 1: advantage = return - value");
    }
}

/* Random rollouts with random episode ends: lambda = 1 against Monte-Carlo returns computed
 * forwards (a different algorithm from the backward recursion), lambda = 0 against one-step TD errors. */
static void test_random_against_definitions(void)
{
    enum { T = 37, N = 5 };
    const double gamma = 0.97;
    float r[T * N], v[T * N], boot[T * N], last[N], adv[T * N], ret[T * N];
    uint8_t term[T * N], trunc[T * N];
    rng_t rng;
    rng_seed(&rng, 2024);
    for (int i = 0; i < T * N; i++) {
        r[i] = (float)rng_normal(&rng);
        v[i] = (float)rng_normal(&rng);
        const double u = rng_uniform(&rng);
        term[i] = u < 0.08;
        trunc[i] = u >= 0.08 && u < 0.14;
        boot[i] = trunc[i] ? (float)rng_normal(&rng) : 1e6f; /* junk where unused */
    }
    for (int n = 0; n < N; n++)
        last[n] = (float)rng_normal(&rng);

    /* lambda = 1 */
    ppo_gae(T, N, r, v, term, trunc, boot, last, gamma, 1.0, adv, ret);
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++) {
            double G = 0.0, disc = 1.0; /* forward sum to the episode's end or the rollout's end */
            int s = t;
            for (;; s++) {
                const int i = s * N + n;
                G += disc * r[i];
                disc *= gamma;
                if (term[i])
                    break;
                if (trunc[i]) {
                    G += disc * boot[i];
                    break;
                }
                if (s == T - 1) {
                    G += disc * last[n];
                    break;
                }
            }
            CHECK_NEAR(ret[t * N + n], G, 1e-4 * (1 + fabs(G)), "lambda 1 vs forward Monte-Carlo return");
            CHECK_NEAR(adv[t * N + n], G - v[t * N + n], 1e-4 * (1 + fabs(G)), "lambda 1 advantage");
        }

    /* lambda = 0: A_t = delta_t */
    ppo_gae(T, N, r, v, term, trunc, boot, last, gamma, 0.0, adv, ret);
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            const int i = t * N + n;
            const double next = term[i] ? 0.0 : trunc[i] ? boot[i] : t == T - 1 ? last[n] : v[i + N];
            CHECK_NEAR(adv[i], r[i] + gamma * next - v[i], TOL, "lambda 0: one-step TD error");
        }
}

int main(void)
{
    test_hand_computed();
    test_columns_independent();
    test_lambda1_hand();
    test_random_against_definitions();
    if (!check_failures)
        printf("gae: all hand-computed and reference values match\n");
    return CHECK_DONE();
}
