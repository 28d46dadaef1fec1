/* The classic-control specs match Gymnasium's spaces and registrations: ids in the registry, observation
 * bounds (float32, as Gymnasium's Box stores them), action spaces, reward thresholds, render sizes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ppo/env.h"

#define PI 3.141592653589793

/* From each env's __init__ (spaces) and gymnasium/envs/__init__.py (threshold); render_dim from
 * docs/render-state.md. A zero action_count means a continuous Box(low, high, (1,)). */
static const struct {
    const char *id;
    int obs_dim;
    double obs_high[6]; /* obs_low is -obs_high except for the MountainCars (below) */
    int action_count;
    double action_bound;
    bool has_threshold;
    double threshold;
    int render_dim;
} specs[] = {
    {"CartPole-v1", 4, {2.4 * 2, INFINITY, 12 * 2 * PI / 360 * 2, INFINITY}, 2, 0, true, 475.0, 4},
    {"Acrobot-v1", 6, {1, 1, 1, 1, 4 * PI, 9 * PI}, 3, 0, true, -100.0, 4},
    {"MountainCar-v0", 2, {0.6, 0.07}, 3, 0, true, -110.0, 2},
    {"MountainCarContinuous-v0", 2, {0.6, 0.07}, 0, 1.0, true, 90.0, 2},
    {"Pendulum-v1", 3, {1, 1, 8}, 0, 2.0, false, 0, 3},
};

int main(void)
{
    for (size_t e = 0; e < sizeof specs / sizeof specs[0]; e++) {
        const char *id = specs[e].id;
        int found = 0;
        for (int i = 0; i < ppo_env_count(); i++)
            found += ppo_env_id_at(i) && !strcmp(ppo_env_id_at(i), id);
        CHECK(found == 1, "%s is registered %d times", id, found);
        char err[256];
        ppo_env *env = ppo_env_make(id, NULL, err, sizeof err);
        CHECK(env != NULL, "%s: %s", id, err);
        if (!env)
            continue;
        const ppo_env_spec *s = ppo_env_get_spec(env);
        CHECK(!strcmp(s->id, id), "%s: spec id %s", id, s->id);
        CHECK(s->obs_dim == specs[e].obs_dim, "%s: obs_dim %d", id, s->obs_dim);
        bool mountain = !strncmp(id, "MountainCar", 11);
        for (int i = 0; i < s->obs_dim && i < 6; i++) {
            float hi = (float)specs[e].obs_high[i];
            float lo = mountain && i == 0 ? -1.2f : -hi;
            CHECK(s->obs_high[i] == hi && s->obs_low[i] == lo, "%s: obs[%d] bounds [%.9g, %.9g], want [%.9g, %.9g]",
                  id, i, s->obs_low[i], s->obs_high[i], lo, hi);
        }
        if (specs[e].action_count) {
            CHECK(s->action_kind == PPO_ACTION_DISCRETE && s->action_count == specs[e].action_count &&
                      s->action_dim == 1,
                  "%s: action space kind %d count %d dim %d", id, s->action_kind, s->action_count, s->action_dim);
        } else {
            float b = (float)specs[e].action_bound;
            CHECK(s->action_kind == PPO_ACTION_CONTINUOUS && s->action_dim == 1 && s->action_low[0] == -b &&
                      s->action_high[0] == b,
                  "%s: action space kind %d dim %d [%g, %g]", id, s->action_kind, s->action_dim, s->action_low[0],
                  s->action_high[0]);
        }
        CHECK(s->has_reward_threshold == specs[e].has_threshold &&
                  (!s->has_reward_threshold || s->reward_threshold == specs[e].threshold),
              "%s: reward threshold %d %g", id, s->has_reward_threshold, s->reward_threshold);
        CHECK(s->render_dim == specs[e].render_dim, "%s: render_dim %d", id, s->render_dim);
        ppo_env_free(env);
    }
    printf("%zu classic-control specs match Gymnasium's spaces and registrations\n", sizeof specs / sizeof specs[0]);
    return CHECK_DONE();
}
