/* Episode ends and action checks for the classic-control envs: time limits at exactly max_episode_steps,
 * Gymnasium's termination conditions (boundaries via the set_state hooks, and along solving episodes),
 * PPO_ENV_ESTATE after the end, invalid discrete indices and NaN rejected, out-of-range continuous clipped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "envs/classic.h"
#include "util/rng.h"

/* Gymnasium's registered limits (gymnasium/envs/__init__.py). */
static const struct {
    const char *id;
    int max_steps;
} limits[] = {
    {"CartPole-v1", 500}, {"Acrobot-v1", 500}, {"MountainCar-v0", 200}, {"MountainCarContinuous-v0", 999},
    {"Pendulum-v1", 200},
};

/* Reset, then put the env in an exact Gymnasium state. */
static void start_at(ppo_env *env, void (*set_state)(void *, const double *), const double *state)
{
    float obs[PPO_ENV_MAX_OBS_DIM];
    ppo_env_reset(env, obs);
    set_state(env_state(env), state);
}

static int step1(ppo_env *env, float a, float *obs, ppo_step_result *r)
{
    float action[PPO_ENV_MAX_ACTION_DIM] = {a};
    return ppo_env_step(env, action, obs, r);
}

/* A policy that keeps each env alive: CartPole balanced by a linear controller, the others idle or random. */
static float surviving_action(const char *id, const float *obs, rng_t *rng)
{
    if (!strcmp(id, "CartPole-v1"))
        return (1.0f * obs[0] + 1.5f * obs[1] + 20.0f * obs[2] + 3.0f * obs[3]) > 0.0f ? 1.0f : 0.0f;
    if (!strcmp(id, "Acrobot-v1") || !strcmp(id, "MountainCar-v0"))
        return 1.0f; /* no torque / no push: stays near the bottom */
    if (!strcmp(id, "MountainCarContinuous-v0"))
        return 0.0f;
    return (float)rng_uniform_range(rng, -3.0, 3.0); /* Pendulum never terminates */
}

static void test_time_limit(const char *id, int max_steps)
{
    ppo_env *env = check_make_env(id, NULL);
    const ppo_env_spec *spec = ppo_env_get_spec(env);
    CHECK(spec->max_episode_steps == max_steps, "%s: max_episode_steps %d, Gymnasium registers %d", id,
          spec->max_episode_steps, max_steps);
    float obs[PPO_ENV_MAX_OBS_DIM];
    ppo_step_result r;
    CHECK(step1(env, 0.0f, obs, &r) == PPO_ENV_ESTATE, "%s: step before any reset accepted", id);
    rng_t rng;
    rng_seed(&rng, 3);
    for (int episode = 0; episode < 3; episode++) {
        ppo_env_seed(env, (uint64_t)episode);
        ppo_env_reset(env, obs);
        CHECK(ppo_env_elapsed_steps(env) == 0, "%s: elapsed %d after reset", id, ppo_env_elapsed_steps(env));
        int k = 0, rc;
        do {
            rc = step1(env, surviving_action(id, obs, &rng), obs, &r);
            k++;
            CHECK(rc == PPO_ENV_OK, "%s: step %d returned %d", id, k, rc);
            CHECK(!r.terminated, "%s: terminated at step %d under the surviving policy", id, k);
            CHECK(r.truncated == (k == max_steps), "%s: truncated=%d at step %d of %d", id, r.truncated, k,
                  max_steps);
        } while (rc == PPO_ENV_OK && !r.terminated && !r.truncated && k < max_steps + 5);
        CHECK(k == max_steps && ppo_env_elapsed_steps(env) == max_steps, "%s: episode ended after %d steps", id, k);
        CHECK(step1(env, surviving_action(id, obs, &rng), obs, &r) == PPO_ENV_ESTATE,
              "%s: step after truncation accepted", id);
        CHECK(ppo_env_elapsed_steps(env) == max_steps, "%s: a refused step counted", id);
    }
    ppo_env_free(env);
}

/* CartPole: terminated when |x| > 2.4 or |theta| > 12 deg, strictly; reward 1 on the terminating step too. */
static void test_cartpole_termination(void)
{
    ppo_env *env = check_make_env("CartPole-v1", NULL);
    const double theta_lim = 12 * 2 * 3.141592653589793 / 360; /* Gymnasium's theta_threshold_radians */
    const struct {
        double state[4];
        bool terminated;
    } cases[] = {
        {{2.4, 0.0, 0.0, 0.0}, false}, /* x stays exactly on the threshold */
        {{2.4, 0.01, 0.0, 0.0}, true},
        {{-2.4, -0.01, 0.0, 0.0}, true},
        {{0.0, 0.0, theta_lim, 0.0}, false},
        {{0.0, 0.0, theta_lim, 0.01}, true},
        {{0.0, 0.0, -theta_lim, -0.01}, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float obs[4];
        ppo_step_result r;
        start_at(env, cartpole_set_state, cases[i].state);
        CHECK(step1(env, 1.0f, obs, &r) == PPO_ENV_OK, "CartPole case %zu: step failed", i);
        CHECK(r.terminated == cases[i].terminated, "CartPole case %zu: terminated=%d", i, r.terminated);
        CHECK(r.reward == 1.0f, "CartPole case %zu: reward %g", i, r.reward);
        CHECK((step1(env, 1.0f, obs, &r) == PPO_ENV_ESTATE) == cases[i].terminated,
              "CartPole case %zu: step after the step gave the wrong status", i);
    }
    ppo_env_free(env);
}

/* Acrobot: terminated when -cos(t1) - cos(t1 + t2) > 1 with reward 0, else -1; angles wrapped into
 * [-pi, pi], velocities clipped to 4pi and 9pi. Checked along episodes that reach the goal. */
static void test_acrobot(void)
{
    ppo_env *env = check_make_env("Acrobot-v1", NULL);
    const ppo_env_spec *spec = ppo_env_get_spec(env);
    int solved = 0;
    long checked = 0;
    for (int seed = 0; seed < 10; seed++) {
        float obs[6], rs[4];
        ppo_step_result r;
        ppo_env_seed(env, (uint64_t)seed);
        ppo_env_reset(env, obs);
        do {
            /* Torque along the second joint's motion pumps energy in; it solves Acrobot in ~90 steps. */
            CHECK(step1(env, obs[5] > 0.0f ? 2.0f : 0.0f, obs, &r) == PPO_ENV_OK, "Acrobot: step failed");
            ppo_env_render_state(env, rs);
            double height = -cos(rs[0]) - cos((double)rs[1] + rs[0]);
            if (fabs(height - 1.0) > 1e-5) { /* render state is float32; skip the knife edge */
                CHECK(r.terminated == (height > 1.0), "Acrobot seed %d: terminated=%d at height %.9g", seed,
                      r.terminated, height);
                checked++;
            }
            CHECK(r.reward == (r.terminated ? 0.0f : -1.0f), "Acrobot: reward %g, terminated=%d", r.reward,
                  r.terminated);
            CHECK(fabsf(rs[0]) <= (float)3.141592653589793 && fabsf(rs[1]) <= (float)3.141592653589793,
                  "Acrobot: angles %g %g not wrapped", rs[0], rs[1]);
            for (int i = 0; i < 6; i++)
                CHECK(obs[i] >= spec->obs_low[i] && obs[i] <= spec->obs_high[i], "Acrobot: obs[%d] = %g", i, obs[i]);
        } while (!r.terminated && !r.truncated);
        solved += r.terminated;
    }
    CHECK(solved == 10, "Acrobot: only %d of 10 pumped episodes reached the goal", solved);

    /* Link 1 spinning at 50 rad/s is clipped to exactly 4pi. */
    float obs[6];
    ppo_step_result r;
    start_at(env, acrobot_set_state, (const double[]){0.0, 0.0, 50.0, 0.0});
    CHECK(step1(env, 1.0f, obs, &r) == PPO_ENV_OK, "Acrobot: step failed");
    CHECK(obs[4] == (float)(4 * 3.141592653589793), "Acrobot: dtheta1 %.9g not clipped to 4pi", obs[4]);
    start_at(env, acrobot_set_state, (const double[]){0.0, 0.0, 0.0, -60.0});
    CHECK(step1(env, 1.0f, obs, &r) == PPO_ENV_OK, "Acrobot: step failed");
    CHECK(obs[5] == -(float)(9 * 3.141592653589793), "Acrobot: dtheta2 %.9g not clipped to -9pi", obs[5]);
    /* Upright and at rest: above the bar. */
    start_at(env, acrobot_set_state, (const double[]){3.141592653589793, 0.0, 0.0, 0.0});
    CHECK(step1(env, 1.0f, obs, &r) == PPO_ENV_OK && r.terminated && r.reward == 0.0f, "Acrobot: upright not terminal");
    printf("Acrobot-v1: %d/10 pumped episodes terminated; %ld steps checked against the height rule\n", solved,
           checked);
    ppo_env_free(env);
}

/* Both MountainCars: terminated when position >= goal and velocity >= 0; clips and the inelastic left wall. */
static void test_mountain_car(const char *id, double goal, bool continuous,
                              void (*set_state)(void *, const double *))
{
    ppo_env *env = check_make_env(id, NULL);
    float obs[2], rs[2];
    ppo_step_result r;
    const float push_right = continuous ? 1.0f : 2.0f, push_left = continuous ? -1.0f : 0.0f;
    const float idle = continuous ? 0.0f : 1.0f;
    int solved = 0;
    for (int seed = 0; seed < 10; seed++) {
        ppo_env_seed(env, (uint64_t)seed);
        ppo_env_reset(env, obs);
        do { /* push along the motion: builds the swing and reaches the goal */
            CHECK(step1(env, obs[1] >= 0.0f ? push_right : push_left, obs, &r) == PPO_ENV_OK, "%s: step failed", id);
            ppo_env_render_state(env, rs);
            if (fabs(rs[0] - goal) > 1e-6)
                CHECK(r.terminated == (rs[0] >= goal && rs[1] >= 0.0f), "%s: terminated=%d at (%.9g, %.9g)", id,
                      r.terminated, rs[0], rs[1]);
            float want = continuous ? (r.terminated ? 100.0f : 0.0f) - 0.1f : -1.0f;
            CHECK(fabsf(r.reward - want) < 1e-5f, "%s: reward %.9g, want %.9g", id, r.reward, want);
        } while (!r.terminated && !r.truncated);
        solved += r.terminated;
    }
    CHECK(solved == 10, "%s: only %d of 10 pumped episodes reached the goal", id, solved);

    /* Just over MountainCarContinuous's goal 0.45, short of MountainCar's 0.5. */
    start_at(env, set_state, (const double[]){0.44, 0.015});
    CHECK(step1(env, idle, obs, &r) == PPO_ENV_OK, "%s: step failed", id);
    CHECK(obs[0] > 0.45f && obs[0] < 0.5f, "%s: position %g", id, obs[0]);
    CHECK(r.terminated == (goal < 0.45 + 1e-9), "%s: terminated=%d at position %g", id, r.terminated, obs[0]);
    /* Past the goal but rolling back: not terminated. */
    start_at(env, set_state, (const double[]){0.55, -0.01});
    CHECK(step1(env, idle, obs, &r) == PPO_ENV_OK && !r.terminated, "%s: terminated while moving away", id);
    /* Inelastic left wall: position clipped to -1.2 and velocity zeroed. */
    start_at(env, set_state, (const double[]){-1.19, -0.05});
    CHECK(step1(env, push_left, obs, &r) == PPO_ENV_OK, "%s: step failed", id);
    CHECK(obs[0] == -1.2f && obs[1] == 0.0f, "%s: at the wall (%.9g, %.9g)", id, obs[0], obs[1]);
    /* Speed limit 0.07. */
    start_at(env, set_state, (const double[]){-0.5, 0.0695});
    CHECK(step1(env, push_right, obs, &r) == PPO_ENV_OK, "%s: step failed", id);
    CHECK(obs[1] == 0.07f, "%s: velocity %.9g not clipped to 0.07", id, obs[1]);
    printf("%s: %d/10 pumped episodes terminated, boundaries checked\n", id, solved);
    ppo_env_free(env);
}

/* Discrete envs reject out-of-range, fractional and NaN indices without changing anything. */
static void test_invalid_discrete(const char *id, int count, void (*set_state)(void *, const double *))
{
    ppo_env *env = check_make_env(id, NULL);
    const double state[4] = {0.01, 0.02, 0.03, 0.04}; /* used as 2 or 4 components */
    float obs[PPO_ENV_MAX_OBS_DIM], before[16], after[16];
    ppo_step_result r;
    start_at(env, set_state, state);
    ppo_env_render_state(env, before);
    const float bad[] = {(float)count, (float)count + 1.0f, 1.5f, 0.5f, -1.0f, -0.5f, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(step1(env, bad[i], obs, &r) == PPO_ENV_EINVAL, "%s: action %g accepted", id, bad[i]);
    ppo_env_render_state(env, after);
    int n = ppo_env_get_spec(env)->render_dim;
    CHECK(!memcmp(before, after, sizeof(float) * (size_t)n), "%s: a rejected action changed the state", id);
    CHECK(ppo_env_elapsed_steps(env) == 0, "%s: rejected actions counted as steps", id);
    for (int a = 0; a < count; a++) {
        start_at(env, set_state, state);
        CHECK(step1(env, (float)a, obs, &r) == PPO_ENV_OK, "%s: valid action %d rejected", id, a);
    }
    ppo_env_free(env);
}

/* Continuous envs: NaN rejected; out-of-range actions act as the bound (MountainCarContinuous still charges
 * the unclipped action; Pendulum charges the clipped torque). */
static void test_continuous_actions(const char *id, float bound, void (*set_state)(void *, const double *),
                                    const double *state)
{
    ppo_env *env = check_make_env(id, NULL);
    float obs_in[2], obs_out[PPO_ENV_MAX_OBS_DIM], obs_b[PPO_ENV_MAX_OBS_DIM], rs[3];
    ppo_step_result r_in, r_out;
    start_at(env, set_state, state);
    ppo_env_render_state(env, rs);
    memcpy(obs_in, rs, sizeof obs_in);
    CHECK(step1(env, NAN, obs_out, &r_out) == PPO_ENV_EINVAL, "%s: NaN action accepted", id);
    ppo_env_render_state(env, rs);
    CHECK(!memcmp(obs_in, rs, sizeof obs_in) && ppo_env_elapsed_steps(env) == 0, "%s: NaN action changed state", id);
    const float outside[] = {2.5f * bound, 100.0f * bound, INFINITY};
    for (int sign = -1; sign <= 1; sign += 2)
        for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
            float a = (float)sign * outside[i], b = (float)sign * bound;
            start_at(env, set_state, state);
            CHECK(step1(env, b, obs_b, &r_in) == PPO_ENV_OK, "%s: step failed", id);
            start_at(env, set_state, state);
            CHECK(step1(env, a, obs_out, &r_out) == PPO_ENV_OK, "%s: action %g rejected", id, a);
            int n = ppo_env_get_spec(env)->obs_dim;
            CHECK(!memcmp(obs_b, obs_out, sizeof(float) * (size_t)n), "%s: action %g not clipped to %g", id, a, b);
            if (!strcmp(id, "Pendulum-v1")) {
                ppo_env_render_state(env, rs);
                CHECK(r_out.reward == r_in.reward, "%s: reward %g for %g vs %g for %g", id, r_out.reward, a,
                      r_in.reward, b);
                CHECK(rs[2] == b, "%s: render torque %g for action %g", id, rs[2], a);
            } else {
                double want = (r_in.terminated ? 100.0 : 0.0) - 0.1 * (double)a * a;
                CHECK(r_out.reward == (float)want, "%s: reward %.9g for action %g, want %.9g", id, r_out.reward, a,
                      want);
            }
        }
    ppo_env_free(env);
}

int main(void)
{
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        test_time_limit(limits[i].id, limits[i].max_steps);
    printf("time limits: truncated exactly at 500/500/200/999/200, ESTATE afterwards\n");
    test_cartpole_termination();
    test_acrobot();
    test_mountain_car("MountainCar-v0", 0.5, false, mountain_car_set_state);
    test_mountain_car("MountainCarContinuous-v0", 0.45, true, mountain_car_continuous_set_state);
    test_invalid_discrete("CartPole-v1", 2, cartpole_set_state);
    test_invalid_discrete("Acrobot-v1", 3, acrobot_set_state);
    test_invalid_discrete("MountainCar-v0", 3, mountain_car_set_state);
    test_continuous_actions("MountainCarContinuous-v0", 1.0f, mountain_car_continuous_set_state,
                            (const double[]){-0.5, 0.01});
    test_continuous_actions("Pendulum-v1", 2.0f, pendulum_set_state, (const double[]){1.0, -0.5});
    printf("action checks: invalid discrete and NaN rejected, continuous clipped\n");
    return CHECK_DONE();
}
