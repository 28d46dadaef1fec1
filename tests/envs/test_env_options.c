/* Option parsing through ppo_env_make: unknown and malformed options are refused with a message naming
 * them; Pendulum-v1's g (Gymnasium's constructor argument) is accepted and changes the dynamics. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "envs/classic.h"

/* Making `id` with `options` must fail and the message must contain every string in `names`. */
static void expect_refused(const char *id, const char *options, const char *name1, const char *name2)
{
    char err[256] = "";
    ppo_env *env = ppo_env_make(id, options, err, sizeof err);
    CHECK(env == NULL, "%s with '%s' was accepted", id, options);
    ppo_env_free(env);
    CHECK(strstr(err, name1) != NULL, "%s with '%s': message '%s' does not name '%s'", id, options, err, name1);
    if (name2)
        CHECK(strstr(err, name2) != NULL, "%s with '%s': message '%s' does not name '%s'", id, options, err, name2);
}

/* theta_dot after one torque-free step from theta = 1 rad at rest, under the given options. */
static double pendulum_kick(const char *options)
{
    char err[256];
    ppo_env *env = ppo_env_make("Pendulum-v1", options, err, sizeof err);
    CHECK(env != NULL, "Pendulum-v1 with '%s' refused: %s", options ? options : "(null)", err);
    if (!env)
        return NAN;
    float obs[3], a = 0.0f;
    ppo_step_result r;
    ppo_env_reset(env, obs);
    pendulum_set_state(env_state(env), (const double[]){1.0, 0.0});
    CHECK(ppo_env_step(env, &a, obs, &r) == PPO_ENV_OK, "Pendulum-v1: step failed");
    ppo_env_free(env);
    return obs[2];
}

int main(void)
{
    static const char *const ids[] = {"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0",
                                      "Pendulum-v1"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char err[256] = "";
        ppo_env *env = ppo_env_make(ids[i], NULL, err, sizeof err);
        CHECK(env != NULL, "%s with no options refused: %s", ids[i], err);
        ppo_env_free(env);
        env = ppo_env_make(ids[i], "", err, sizeof err);
        CHECK(env != NULL, "%s with '' refused: %s", ids[i], err);
        ppo_env_free(env);
        expect_refused(ids[i], "foo=1", "foo", NULL);
        expect_refused(ids[i], "render_mode=human", "render_mode", NULL);
    }
    /* g is Pendulum's alone. */
    expect_refused("CartPole-v1", "g=9.81", "'g'", NULL);
    expect_refused("MountainCarContinuous-v0", "g=9.81", "'g'", NULL);
    /* Malformed values and items. */
    expect_refused("Pendulum-v1", "g=abc", "g", "abc");
    expect_refused("Pendulum-v1", "g=9.81x", "g", "9.81x");
    expect_refused("Pendulum-v1", "g=nan", "g", "nan");
    expect_refused("Pendulum-v1", "g=inf", "g", "inf");
    expect_refused("Pendulum-v1", "g=1e999", "g", "1e999");
    expect_refused("Pendulum-v1", "g=", "g", NULL);
    expect_refused("Pendulum-v1", "g", "g", NULL);
    expect_refused("Pendulum-v1", "g=9.81,foo=2", "foo", NULL);
    expect_refused("Pendulum-v0", NULL, "Pendulum-v0", NULL);
    /* strict numbers and no empty items */
    expect_refused("Pendulum-v1", "g=0x10", "g", "0x10");
    expect_refused("Pendulum-v1", "g=+8", "g", "+8");
    expect_refused("Pendulum-v1", ",,,", ",,,", "empty");
    expect_refused("Pendulum-v1", "g=9.81,", "g=9.81,", "empty");
    expect_refused("Pendulum-v1", ",g=9.81", ",g=9.81", "empty");
    /* ranges that keep the physics finite (docs/envs.md) */
    expect_refused("Pendulum-v1", "g=-1", "g", "[0, 100]");
    expect_refused("Pendulum-v1", "g=1e308", "g", "[0, 100]");
    expect_refused("LunarLander-v3", "wind_power=1e308,enable_wind=1", "wind_power", "[0, 1000]");
    expect_refused("LunarLander-v3", "wind_power=1000.5", "wind_power", "[0, 1000]");
    expect_refused("LunarLander-v3", "wind_power=-1", "wind_power", "[0, 1000]");
    expect_refused("LunarLander-v3", "turbulence_power=100.5", "turbulence_power", "[0, 100]");
    expect_refused("LunarLander-v3", "turbulence_power=-0.1", "turbulence_power", "[0, 100]");
    expect_refused("LunarLander-v3", "gravity=-12", "gravity", NULL);
    static const char *const edges[] = {"wind_power=0,turbulence_power=0,enable_wind=1",
                                        "wind_power=1000,turbulence_power=100,enable_wind=1", "gravity=-11.99"};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        char err[256] = "";
        ppo_env *env = ppo_env_make("LunarLander-v3", edges[i], err, sizeof err);
        CHECK(env != NULL, "LunarLander-v3 with '%s' refused: %s", edges[i], err);
        ppo_env_free(env);
    }
    CHECK(ppo_env_make("Pendulum-v1", "foo=1", NULL, 0) == NULL, "refusal without an err buffer");

    /* Accepted forms; the kick from rest is 3g/2 sin(1) dt, so it scales with g. */
    double k_default = pendulum_kick(NULL), k10 = pendulum_kick("g=10"), k981 = pendulum_kick("g=9.81");
    double k_spaced = pendulum_kick(" g = 9.81 "), k_override = pendulum_kick("g=9.81,g=10.0");
    CHECK(k_default == k10, "default g is not 10: %.9g vs %.9g", k_default, k10);
    CHECK(k_override == k10, "a later g did not override an earlier one");
    CHECK(k_spaced == k981, "spaces around g=9.81 changed its meaning");
    CHECK(fabs(k981 / k10 - 0.981) < 1e-6, "g=9.81 kick %.9g vs g=10 kick %.9g: ratio %.9g", k981, k10, k981 / k10);
    printf("options: unknown/malformed refused with their names; Pendulum g=9.81 kick ratio %.9f\n", k981 / k10);
    return CHECK_DONE();
}
