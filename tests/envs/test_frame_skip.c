/* Frame skipping: ppo_env_step_repeat(K) is K plain steps (stopping when the episode ends) with the
 * rewards summed, and an image env's skipped pictures, not drawn, are the ones it would have drawn.
 * CartPole ends episodes within a repeat (terminated); CarRacing-v3 is truncated by its 1000-step limit
 * at a step that is not the repeat's last (1000 = 3 x 333 + 1) and its pictures are the costly ones. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "envs/env_class.h"
#include "util/rng.h"

/* Runs `episodes` episodes of id twice, stepped by ppo_env_step_repeat(K) and by single steps, with
 * the same random actions per decision, and compares everything each decision returns. */
static void compare(const char *id, int K, int episodes)
{
    ppo_env *a = check_make_env(id, NULL), *b = check_make_env(id, NULL);
    const ppo_env_spec *spec = ppo_env_get_spec(a);
    const size_t od = (size_t)spec->obs_dim;
    float *oa = malloc(sizeof(float) * od), *ob = malloc(sizeof(float) * od), *prev = malloc(sizeof(float) * od);
    rng_t act;
    rng_seed(&act, 7);
    ppo_env_seed(a, 3);
    ppo_env_seed(b, 3);
    ppo_env_reset(a, oa);
    const float zero[PPO_ENV_MAX_ACTION_DIM] = {0};
    ppo_step_result none;
    CHECK(ppo_env_step_repeat(a, zero, 0, oa, &none, NULL) == PPO_ENV_EINVAL && ppo_env_elapsed_steps(a) == 0,
          "%s: a repeat of 0 steps was not refused", id);
    ppo_env_seed(a, 3);
    int decisions = 0, short_repeats = 0, mismatches = 0;
    for (int ep = 0; ep < episodes; ep++) {
        ppo_env_reset(a, oa);
        ppo_env_reset(b, ob);
        memcpy(prev, ob, sizeof(float) * od);
        for (bool over = false; !over; decisions++) {
            float action[PPO_ENV_MAX_ACTION_DIM];
            for (int d = 0; d < spec->action_dim; d++)
                action[d] = spec->action_kind == PPO_ACTION_DISCRETE
                                ? (float)(int)(rng_uniform(&act) * spec->action_count)
                                : (float)(spec->action_low[d] + rng_uniform(&act) * (spec->action_high[d] - spec->action_low[d]));
            if (spec->obs_kind == PPO_OBS_IMAGE) { /* CarRacing: keep the car moving, so pictures differ */
                action[0] = (float)(0.3 * sin(decisions / 10.0));
                action[1] = 0.5f;
                action[2] = 0.0f;
            }
            ppo_step_result ra, rb = {0};
            int steps = -1;
            CHECK(ppo_env_step_repeat(a, action, K, oa, &ra, &steps) == PPO_ENV_OK, "%s: repeat refused", id);
            double sum = 0.0;
            int k = 0;
            while (k < K && !rb.terminated && !rb.truncated) {
                CHECK(ppo_env_step(b, action, ob, &rb) == PPO_ENV_OK, "%s: step refused", id);
                sum += rb.reward;
                k++;
            }
            if (k < K) { /* the picture an early end must deliver is a new one */
                short_repeats++;
                CHECK(memcmp(prev, ob, sizeof(float) * od) != 0, "%s: the episode's last picture is the one before",
                      id);
            }
            memcpy(prev, ob, sizeof(float) * od);
            CHECK(steps == k, "%s decision %d: %d steps taken, single steps took %d", id, decisions, steps, k);
            CHECK(ra.reward == (float)sum, "%s decision %d: reward %.9g vs the sum %.9g", id, decisions, ra.reward, sum);
            CHECK(ra.terminated == rb.terminated && ra.truncated == rb.truncated, "%s decision %d: flags differ", id,
                  decisions);
            mismatches += memcmp(oa, ob, sizeof(float) * od) != 0;
            CHECK(ppo_env_elapsed_steps(a) == ppo_env_elapsed_steps(b), "%s: elapsed steps differ", id);
            over = rb.terminated || rb.truncated;
        }
    }
    CHECK(mismatches == 0, "%s: %d of %d decisions' observations differ", id, mismatches, decisions);
    CHECK(short_repeats > 0, "%s: no episode ended inside a repeat", id);
    printf("%s K=%d: %d episodes, %d decisions, %d ended inside a repeat, %d observations differ\n", id, K, episodes,
           decisions, short_repeats, mismatches);
    ppo_env_free(a);
    ppo_env_free(b);
    free(oa);
    free(ob);
    free(prev);
}

/* A step whose picture is not asked for, then observe: the same picture a drawing step makes. */
static void skipped_pictures(void)
{
    ppo_env *a = check_make_env("CarRacing-v3", NULL), *b = check_make_env("CarRacing-v3", NULL);
    const size_t od = (size_t)ppo_env_get_spec(a)->obs_dim;
    float *oa = malloc(sizeof(float) * od), *ob = malloc(sizeof(float) * od);
    const env_class *cls = env_get_class(a);
    CHECK(cls->observe != NULL, "CarRacing-v3 has no observe: skipped frames would be drawn");
    ppo_env_seed(a, 11);
    ppo_env_seed(b, 11);
    ppo_env_reset(a, oa);
    ppo_env_reset(b, ob);
    int differ = 0;
    for (int s = 0; s < 60 && cls->observe; s++) {
        const float action[3] = {(float)(s % 7) / 3.0f - 1.0f, 0.8f, 0.0f};
        ppo_step_result ra, rb;
        ppo_env_step(a, action, NULL, &ra);
        ppo_env_step(b, action, ob, &rb);
        cls->observe(env_state(a), oa);
        differ += memcmp(oa, ob, sizeof(float) * od) != 0 || ra.reward != rb.reward;
    }
    CHECK(differ == 0, "%d of 60 skipped pictures differ from drawn ones", differ);
    ppo_env_free(a);
    ppo_env_free(b);
    free(oa);
    free(ob);
}

int main(void)
{
    compare("CartPole-v1", 4, 20);
    compare("Pendulum-v1", 3, 2); /* 200 = 3 x 66 + 2: truncated inside a repeat */
    compare("CarRacing-v3", 3, 1);
    skipped_pictures();
    return CHECK_DONE();
}
