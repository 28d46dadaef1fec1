/* test_box2d_bounds: specs, options, bounds and invalid input for the Box2D envs.
 *  - specs: dims, action kinds, time limits (per registered id), thresholds, render_dim;
 *  - options: continuous alias, gravity range (clear error), unknown option rejected;
 *  - observations stay inside the spec bounds over random episodes;
 *  - continuous actions beyond the bounds act exactly like the clipped ones;
 *  - NaN actions and invalid discrete indices are rejected and change nothing;
 *  - the TimeLimit truncates a lander episode at exactly 1000 steps;
 *  - render state is finite and agrees with the observation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "envs/box2d_envs.h"

static void check_specs(void)
{
    const struct {
        const char *id;
        int obs_dim, kind, count, adim, max_steps;
        double threshold;
    } want[] = {{"LunarLander-v3", 8, PPO_ACTION_DISCRETE, 4, 1, 1000, 200},
                {"LunarLanderContinuous-v3", 8, PPO_ACTION_CONTINUOUS, 0, 2, 1000, 200},
                {"BipedalWalker-v3", 24, PPO_ACTION_CONTINUOUS, 0, 4, 1600, 300},
                {"BipedalWalkerHardcore-v3", 24, PPO_ACTION_CONTINUOUS, 0, 4, 2000, 300}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ppo_env *e = check_make_env(want[i].id, NULL);
        const ppo_env_spec *s = ppo_env_get_spec(e);
        CHECK(!strcmp(s->id, want[i].id) && s->obs_dim == want[i].obs_dim && (int)s->action_kind == want[i].kind &&
                  s->action_count == want[i].count && s->action_dim == want[i].adim &&
                  s->max_episode_steps == want[i].max_steps && s->has_reward_threshold &&
                  s->reward_threshold == want[i].threshold && s->render_dim > 0,
              "spec of %s", want[i].id);
        ppo_env_free(e);
    }
    ppo_env *e = check_make_env("LunarLander-v3", "continuous=1");
    CHECK(ppo_env_get_spec(e)->action_kind == PPO_ACTION_CONTINUOUS, "continuous=1 option");
    ppo_env_free(e);
    e = check_make_env("BipedalWalker-v3", "hardcore=1"); /* Gymnasium: the id's limit stays */
    CHECK(ppo_env_get_spec(e)->max_episode_steps == 1600, "hardcore=1 keeps BipedalWalker-v3's 1600");
    ppo_env_free(e);

    char err[256] = "";
    const char *bad[] = {"gravity=-12", "gravity=0", "gravity=1.5", "gravity=nan", "gravity=-13"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        ppo_env *b = ppo_env_make("LunarLander-v3", bad[i], err, sizeof err);
        CHECK(b == NULL && strstr(err, "gravity"), "%s accepted or unclear error '%s'", bad[i], err);
        ppo_env_free(b);
    }
    ppo_env *ok = ppo_env_make("LunarLander-v3", "gravity=-11.9,enable_wind=1,wind_power=25,turbulence_power=3", err,
                               sizeof err);
    CHECK(ok != NULL, "valid options rejected: %s", err);
    ppo_env_free(ok);
    CHECK(ppo_env_make("LunarLander-v3", "hardcore=1", err, sizeof err) == NULL, "walker option accepted by lander");
    CHECK(ppo_env_make("BipedalWalker-v3", "continuous=1", err, sizeof err) == NULL, "lander option accepted by walker");
}

/* Random episodes; every obs component inside [low, high]; render state finite. */
static void check_obs_bounds(const char *id, const char *opts, int episodes)
{
    ppo_env *e = check_make_env(id, opts);
    const ppo_env_spec *s = ppo_env_get_spec(e);
    rng_t act;
    rng_seed(&act, 5);
    float obs[PPO_ENV_MAX_OBS_DIM], render[512];
    CHECK(s->render_dim <= 512, "render_dim %d", s->render_dim);
    int steps = 0, outside = 0, nonfinite = 0;
    for (int ep = 0; ep < episodes; ep++) {
        ppo_env_seed(e, (uint64_t)ep);
        ppo_env_reset(e, obs);
        ppo_step_result r;
        do {
            float a[PPO_ENV_MAX_ACTION_DIM];
            if (s->action_kind == PPO_ACTION_DISCRETE)
                a[0] = (float)rng_below(&act, 4);
            else
                for (int i = 0; i < s->action_dim; i++)
                    a[i] = (float)rng_uniform_range(&act, -1, 1);
            CHECK(ppo_env_step(e, a, obs, &r) == PPO_ENV_OK, "step");
            steps++;
            for (int i = 0; i < s->obs_dim; i++)
                if (!(obs[i] >= s->obs_low[i] && obs[i] <= s->obs_high[i])) {
                    if (outside++ < 5)
                        fprintf(stderr, "%s: obs[%d] = %g outside [%g, %g]\n", id, i, obs[i], s->obs_low[i],
                                s->obs_high[i]);
                }
            ppo_env_render_state(e, render);
            for (int i = 0; i < s->render_dim; i++)
                nonfinite += !isfinite(render[i]);
            if (s->obs_dim == 8) /* lander: render x, angle are the obs' un-normalised values */
                CHECK(fabs((render[0] - 10.0) / 10.0 - obs[0]) < 1e-5 && render[2] == obs[4], "%s render vs obs", id);
            else
                CHECK(render[2] == obs[0], "%s render hull angle", id);
        } while (!r.terminated && !r.truncated);
    }
    printf("%s%s%s: %d random steps, %d obs components outside the bounds\n", id, opts ? " " : "", opts ? opts : "",
           steps, outside);
    CHECK(outside == 0, "%s: %d obs components out of bounds", id, outside);
    CHECK(nonfinite == 0, "%s: %d non-finite render values", id, nonfinite);
    ppo_env_free(e);
}

/* Twin envs: one gets actions beyond the bounds, the other the clipped ones; same trajectory. */
static void check_clipping(const char *id)
{
    ppo_env *a = check_make_env(id, NULL), *b = check_make_env(id, NULL);
    int dim = ppo_env_get_spec(a)->action_dim, odim = ppo_env_get_spec(a)->obs_dim;
    rng_t act;
    rng_seed(&act, 9);
    float oa[PPO_ENV_MAX_OBS_DIM], ob[PPO_ENV_MAX_OBS_DIM];
    ppo_env_seed(a, 3);
    ppo_env_seed(b, 3);
    ppo_env_reset(a, oa);
    ppo_env_reset(b, ob);
    int same = 1, n = 0, beyond = 0;
    ppo_step_result ra, rb;
    do {
        float big[PPO_ENV_MAX_ACTION_DIM], clipped[PPO_ENV_MAX_ACTION_DIM];
        for (int i = 0; i < dim; i++) {
            big[i] = (float)rng_uniform_range(&act, -4, 4);
            clipped[i] = fminf(fmaxf(big[i], -1.0f), 1.0f);
            beyond += big[i] != clipped[i];
        }
        ppo_env_step(a, big, oa, &ra);
        ppo_env_step(b, clipped, ob, &rb);
        same &= !memcmp(oa, ob, sizeof(float) * (size_t)odim) && ra.reward == rb.reward &&
                ra.terminated == rb.terminated;
        n++;
    } while (!ra.terminated && !ra.truncated && n < 300);
    CHECK(same && beyond > 0, "%s: actions beyond the bounds act differently from clipped ones", id);
    printf("%s: %d steps with %d out-of-bounds action components, identical to the clipped twin\n", id, n, beyond);
    ppo_env_free(a);
    ppo_env_free(b);
}

/* Invalid actions: rejected, and the env continues exactly like a twin that never saw them. */
static void check_invalid(const char *id)
{
    ppo_env *a = check_make_env(id, NULL), *b = check_make_env(id, NULL);
    const ppo_env_spec *s = ppo_env_get_spec(a);
    float oa[PPO_ENV_MAX_OBS_DIM], ob[PPO_ENV_MAX_OBS_DIM];
    ppo_step_result r;
    float zero[PPO_ENV_MAX_ACTION_DIM] = {0};
    CHECK(ppo_env_step(a, zero, oa, &r) == PPO_ENV_ESTATE, "%s: step before reset", id);
    ppo_env_seed(a, 11);
    ppo_env_seed(b, 11);
    ppo_env_reset(a, oa);
    ppo_env_reset(b, ob);
    if (s->action_kind == PPO_ACTION_DISCRETE) {
        const float bad[] = {4.0f, -1.0f, 1.5f, NAN, INFINITY, 100.0f};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            CHECK(ppo_env_step(a, &bad[i], oa, &r) == PPO_ENV_EINVAL, "%s: action %g accepted", id, bad[i]);
    } else {
        for (int i = 0; i < s->action_dim; i++) {
            float bad[PPO_ENV_MAX_ACTION_DIM] = {0};
            bad[i] = NAN;
            CHECK(ppo_env_step(a, bad, oa, &r) == PPO_ENV_EINVAL, "%s: NaN in component %d accepted", id, i);
        }
    }
    CHECK(ppo_env_elapsed_steps(a) == 0, "%s: rejected actions counted as steps", id);
    ppo_step_result rb;
    for (int t = 0; t < 50; t++) {
        float act[PPO_ENV_MAX_ACTION_DIM] = {0};
        act[0] = s->action_kind == PPO_ACTION_DISCRETE ? (float)(t % 4) : 0.5f;
        ppo_env_step(a, act, oa, &r);
        ppo_env_step(b, act, ob, &rb);
    }
    CHECK(!memcmp(oa, ob, sizeof(float) * (size_t)s->obs_dim), "%s: a rejected action changed the state", id);
    printf("%s: invalid actions rejected without effect\n", id);
    ppo_env_free(a);
    ppo_env_free(b);
}

/* Near-zero gravity and no engines: some seeds drift for 1000 steps and must be truncated there. */
static void check_truncation(void)
{
    ppo_env *e = check_make_env("LunarLander-v3", "gravity=-0.001");
    int truncated = 0;
    for (uint64_t seed = 0; seed < 40 && truncated < 2; seed++) {
        float obs[8], a = 0.0f;
        ppo_env_seed(e, seed);
        ppo_env_reset(e, obs);
        ppo_step_result r;
        int n = 0;
        do {
            ppo_env_step(e, &a, obs, &r);
            n++;
        } while (!r.terminated && !r.truncated);
        if (r.truncated) {
            truncated++;
            CHECK(n == 1000 && !r.terminated, "truncated after %d steps (terminated %d)", n, r.terminated);
            CHECK(ppo_env_step(e, &a, obs, &r) == PPO_ENV_ESTATE, "step after truncation accepted");
        }
    }
    printf("LunarLander-v3 gravity=-0.001: %d episodes truncated at 1000 steps\n", truncated);
    CHECK(truncated > 0, "no episode reached the time limit");
    ppo_env_free(e);
}

int main(void)
{
    check_specs();
    check_obs_bounds("LunarLander-v3", NULL, 30);
    check_obs_bounds("LunarLanderContinuous-v3", NULL, 30);
    check_obs_bounds("LunarLander-v3", "enable_wind=1", 20);
    check_obs_bounds("BipedalWalker-v3", NULL, 10);
    check_obs_bounds("BipedalWalkerHardcore-v3", NULL, 10);
    check_clipping("LunarLanderContinuous-v3");
    check_clipping("BipedalWalker-v3");
    check_invalid("LunarLander-v3");
    check_invalid("LunarLanderContinuous-v3");
    check_invalid("BipedalWalker-v3");
    check_truncation();
    return CHECK_DONE();
}
