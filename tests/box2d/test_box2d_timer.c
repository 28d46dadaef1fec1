/* test_box2d_timer: Box2D's profiling timers read no clock in ppo. libbox2d times every world step and
 * every time-of-impact query with gettimeofday() for statistics nothing here reads; ppo's b2Timer
 * (src/envs/box2d_world.cpp) takes the place of Debian's through libbox2d's PLT. Checked where it
 * shows: after BipedalWalker-v3 steps, libbox2d's b2_toiCalls has counted the time-of-impact queries
 * and its b2_toiTime, their summed timer readings, is still 0. If a libbox2d build calls its own timer
 * directly (no PLT), the readings add up and this fails: the env steps would pay for the clock again. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"

int main(void)
{
    const int32_t *toi_calls = dlsym(RTLD_DEFAULT, "b2_toiCalls");
    const float *toi_time = dlsym(RTLD_DEFAULT, "b2_toiTime");
    if (!toi_calls || !toi_time) {
        printf("skipped: this libbox2d exports no b2_toiCalls / b2_toiTime (a build without its counters)\n");
        return 77;
    }
    ppo_env *env = check_make_env("BipedalWalker-v3", NULL);
    const ppo_env_spec *spec = ppo_env_get_spec(env);
    float obs[64], action[4] = {0.8f, -0.6f, -0.8f, 0.6f};
    CHECK(spec->obs_dim <= 64 && spec->action_dim == 4, "BipedalWalker-v3's spec changed");
    ppo_env_seed(env, 3);
    ppo_env_reset(env, obs);
    const int32_t calls0 = *toi_calls;
    for (int t = 0; t < 2000; t++) {
        ppo_step_result r;
        ppo_env_step(env, action, obs, &r);
        if (r.terminated || r.truncated)
            ppo_env_reset(env, obs);
        action[t % 4] = -action[t % 4];
    }
    const int32_t calls = *toi_calls - calls0;
    printf("2000 BipedalWalker-v3 steps: %d time-of-impact queries, their timers summed to %g ms\n", calls,
           (double)*toi_time);
    if (calls == 0) { /* scripts/box2d-nocounters.sh's build: nothing to see the timers by */
        printf("skipped: this libbox2d counts no time-of-impact queries (built without its counters)\n");
        ppo_env_free(env);
        return 77;
    }
    CHECK(calls > 1000, "expected the walker's steps to make time-of-impact queries, got %d", calls);
    CHECK(*toi_time == 0.0f, "Box2D's timers read the clock: b2_toiTime = %g ms", (double)*toi_time);
    ppo_env_free(env);
    return CHECK_DONE();
}
