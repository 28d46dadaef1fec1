/* test_box2d_rewards: the reward pieces of LunarLander and BipedalWalker, recomputed from outside.
 *  - shaping: each non-terminal reward equals shaping(obs_t) - shaping(obs_t-1) minus the fuel/torque
 *    cost recomputed from the action, so the rewards sum to the potential difference;
 *  - fuel: the engine powers the env used match the action (throttle and dead-zone mapping);
 *  - endings: +-100 fire exactly when Gymnasium's conditions hold (lander body contact or |x| >= 1 gives
 *    -100; the lander asleep gives +100 and wins; walker hull contact or x < 0 gives -100, x past the
 *    end terminates without it), checked on every step of random, passive and heuristic episodes. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "envs/box2d_envs.h"
#include "heuristics.h"

/* Shaping from a float32 observation (the env uses float64, so allow ~1e-4). */
static double lander_shaping(const float *s)
{
    return -100.0 * sqrt((double)s[0] * s[0] + (double)s[1] * s[1]) -
           100.0 * sqrt((double)s[2] * s[2] + (double)s[3] * s[3]) - 100.0 * fabs((double)s[4]) + 10.0 * s[6] +
           10.0 * s[7];
}

/* Engine powers Gymnasium derives from an action: main in (0.5, 1] or 0, side in [0.5, 1] or 0. */
static void lander_powers(bool continuous, const float *a, double *m, double *s)
{
    *m = *s = 0.0;
    if (continuous) {
        double a0 = heur_clip(a[0], -1, 1), a1 = heur_clip(a[1], -1, 1);
        if (a0 > 0.0)
            *m = (heur_clip(a0, 0, 1) + 1.0) * 0.5;
        if (fabs(a1) > 0.5)
            *s = heur_clip(fabs(a1), 0.5, 1.0);
    } else {
        *m = a[0] == 2.0f ? 1.0 : 0.0;
        *s = (a[0] == 1.0f || a[0] == 3.0f) ? 1.0 : 0.0;
    }
}

typedef enum { POLICY_RANDOM, POLICY_NOOP, POLICY_HEURISTIC, POLICY_SIDE } policy;

typedef struct {
    int episodes, steps, plus100, minus100_contact, minus100_bounds;
} lander_tally;

static void lander_run(const char *id, bool continuous, policy pol, uint64_t seed, lander_tally *t)
{
    char err[256];
    ppo_env *env = ppo_env_make(id, NULL, err, sizeof err);
    CHECK(env != NULL, "%s", err);
    if (!env)
        return;
    void *st = env_state(env);
    rng_t act;
    rng_seed(&act, seed + 1000);
    ppo_env_seed(env, seed);
    float obs[8], prev[8];
    ppo_env_reset(env, obs);
    double sum_rewards = 0.0, sum_fuel = 0.0, shaping0 = lander_shaping(obs);
    ppo_step_result r;
    do {
        float a[2];
        int disc;
        if (pol == POLICY_HEURISTIC) {
            heur_lander(obs, &disc, a);
            if (!continuous)
                a[0] = (float)disc;
        } else if (pol == POLICY_NOOP) {
            a[0] = continuous ? -1.0f : 0.0f, a[1] = 0.0f;
        } else if (pol == POLICY_SIDE) {
            a[0] = continuous ? -1.0f : 3.0f, a[1] = 1.0f;
        } else if (continuous) {
            a[0] = (float)rng_uniform_range(&act, -1.5, 1.5), a[1] = (float)rng_uniform_range(&act, -1.5, 1.5);
        } else {
            a[0] = (float)rng_below(&act, 4);
        }
        for (int i = 0; i < 8; i++)
            prev[i] = obs[i];
        if (ppo_env_step(env, a, obs, &r) != PPO_ENV_OK)
            break;
        t->steps++;
        double m, s;
        lander_powers(continuous, a, &m, &s);
        lander_debug d;
        lander_get_debug(st, &d);
        CHECK(fabs(d.m_power - m) < 1e-6 && fabs(d.s_power - s) < 1e-6, "%s: powers %g/%g for action %g,%g", id,
              d.m_power, d.s_power, a[0], continuous ? a[1] : 0.0f);
        double fuel = 0.30 * m + 0.03 * s;
        /* Gymnasium's ending conditions, in its order: -100 first, then +100 overrides. */
        bool crash = d.game_over || fabs((double)obs[0]) >= 1.0, asleep = !d.awake;
        CHECK(r.terminated == (crash || asleep), "%s: terminated %d but crash %d asleep %d", id, r.terminated, crash,
              asleep);
        if (asleep) {
            CHECK(r.reward == 100.0f, "%s: asleep but reward %g", id, r.reward);
            t->plus100++;
        } else if (crash) {
            CHECK(r.reward == -100.0f, "%s: crash but reward %g", id, r.reward);
            if (d.game_over)
                t->minus100_contact++;
            else
                t->minus100_bounds++;
        } else {
            double expect = lander_shaping(obs) - lander_shaping(prev) - fuel;
            CHECK(fabs(r.reward - expect) < 2e-3, "%s: reward %.6f vs shaping difference - fuel %.6f", id, r.reward,
                  expect);
            sum_rewards += r.reward;
            sum_fuel += fuel;
            if (!r.truncated)
                continue;
        }
        break;
    } while (!r.truncated);
    /* The shaping telescopes: non-terminal rewards + fuel = shaping(last non-terminal obs) - shaping(reset). */
    double last = r.terminated ? lander_shaping(prev) : lander_shaping(obs);
    CHECK(fabs(sum_rewards + sum_fuel - (last - shaping0)) < 1e-2 * (1 + t->steps / 100.0),
          "%s: sum %.4f vs potential difference %.4f", id, sum_rewards + sum_fuel, last - shaping0);
    t->episodes++;
    ppo_env_free(env);
}

static void walker_run(const char *id, policy pol, uint64_t seed, int *fell, int *steps)
{
    char err[256];
    ppo_env *env = ppo_env_make(id, NULL, err, sizeof err);
    CHECK(env != NULL, "%s", err);
    if (!env)
        return;
    void *st = env_state(env);
    rng_t act;
    rng_seed(&act, seed + 1000);
    ppo_env_seed(env, seed);
    float obs[24], a[4] = {0};
    ppo_env_reset(env, obs);
    walker_debug d;
    walker_get_debug(st, &d);
    double prev_shaping = 130.0 * d.hull_x / 30.0 - 5.0 * fabs((double)obs[0]);
    heur_walker h;
    heur_walker_init(&h);
    ppo_step_result r;
    do {
        if (pol == POLICY_RANDOM)
            for (int j = 0; j < 4; j++)
                a[j] = (float)rng_uniform_range(&act, -1.5, 1.5);
        double torque_cost = 0.0; /* 0.00035 * MOTORS_TORQUE per unit of |a|, clipped at 1 */
        for (int j = 0; j < 4; j++)
            torque_cost += 0.00035 * 80.0 * heur_clip(fabs((double)a[j]), 0, 1);
        if (ppo_env_step(env, a, obs, &r) != PPO_ENV_OK)
            break;
        (*steps)++;
        if (pol == POLICY_HEURISTIC)
            heur_walker_step(&h, obs, a);
        walker_get_debug(st, &d);
        double shaping = 130.0 * d.hull_x / 30.0 - 5.0 * fabs((double)obs[0]);
        CHECK(fabs(shaping - d.shaping) < 1e-5, "%s: shaping %.6f vs env %.6f", id, shaping, d.shaping);
        bool crash = d.game_over || d.hull_x < 0.0, past_end = d.hull_x > (200 - 10) * 14.0 / 30.0;
        CHECK(r.terminated == (crash || past_end), "%s: terminated %d, crash %d, past end %d", id, r.terminated, crash,
              past_end);
        if (crash) {
            CHECK(r.reward == -100.0f, "%s: fell but reward %g", id, r.reward);
            (*fell)++;
        } else {
            double expect = shaping - prev_shaping - torque_cost;
            CHECK(fabs(r.reward - expect) < 1e-4, "%s: reward %.6f vs shaping difference - torque %.6f", id, r.reward,
                  expect);
        }
        prev_shaping = shaping;
    } while (!r.terminated && !r.truncated);
    ppo_env_free(env);
}

int main(void)
{
    const char *ids[2] = {"LunarLander-v3", "LunarLanderContinuous-v3"};
    for (int c = 0; c < 2; c++) {
        lander_tally t = {0};
        for (uint64_t s = 0; s < 10; s++) {
            lander_run(ids[c], c == 1, POLICY_RANDOM, s, &t);
            lander_run(ids[c], c == 1, POLICY_NOOP, s, &t);
            lander_run(ids[c], c == 1, POLICY_HEURISTIC, s, &t);
            lander_run(ids[c], c == 1, POLICY_SIDE, s, &t);
        }
        printf("%s: %d episodes, %d steps checked; +100 %d, -100 body contact %d, -100 out of bounds %d\n", ids[c],
               t.episodes, t.steps, t.plus100, t.minus100_contact, t.minus100_bounds);
        /* every kind of ending must actually have been exercised */
        CHECK(t.plus100 > 0 && t.minus100_contact > 0 && t.minus100_bounds > 0, "%s: an ending never occurred", ids[c]);
    }
    int fell = 0, steps = 0;
    for (uint64_t s = 0; s < 5; s++) {
        walker_run("BipedalWalker-v3", POLICY_RANDOM, s, &fell, &steps);
        walker_run("BipedalWalkerHardcore-v3", POLICY_HEURISTIC, s, &fell, &steps);
    }
    printf("BipedalWalker: %d steps checked, %d falls (-100)\n", steps, fell);
    CHECK(fell > 0, "the walker never fell");
    return CHECK_DONE();
}
