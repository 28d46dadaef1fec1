/* `ppo envs`: every env id with its spaces, time limit and reward threshold. */
#include <stdbool.h>
#include <stdio.h>

#include "cli/commands.h"
#include "ppo/env.h"

int cmd_envs(int rank)
{
    if (rank != 0)
        return EXIT_OK;
    printf("%-28s %-8s %-28s %-7s %s\n", "id", "obs", "action", "limit", "threshold");
    for (int i = 0; i < ppo_env_count(); i++) {
        char err[256];
        ppo_env *e = ppo_env_make(ppo_env_id_at(i), NULL, err, sizeof err);
        if (!e) {
            fprintf(stderr, "ppo: error: %s\n", err);
            return EXIT_FAILURE_RUN;
        }
        const ppo_env_spec *s = ppo_env_get_spec(e);
        char action[64], thr[32];
        if (s->action_kind == PPO_ACTION_DISCRETE)
            snprintf(action, sizeof action, "Discrete(%d)", s->action_count);
        else {
            bool same = true; /* one low and high for every component (CarRacing's differ) */
            for (int d = 1; d < s->action_dim; d++)
                same &= s->action_low[d] == s->action_low[0] && s->action_high[d] == s->action_high[0];
            if (same)
                snprintf(action, sizeof action, "Box([%g, %g], (%d,))", s->action_low[0], s->action_high[0], s->action_dim);
            else
                snprintf(action, sizeof action, "Box((%d,), per component)", s->action_dim);
        }
        if (s->has_reward_threshold)
            snprintf(thr, sizeof thr, "%g", s->reward_threshold);
        else
            snprintf(thr, sizeof thr, "none");
        char obs[32];
        if (s->obs_kind == PPO_OBS_IMAGE) /* Gymnasium's shape (H, W, C) */
            snprintf(obs, sizeof obs, "%dx%dx%d", s->obs_height, s->obs_width, s->obs_channels);
        else
            snprintf(obs, sizeof obs, "%d", s->obs_dim);
        printf("%-28s %-8s %-28s %-7d %s\n", s->id, obs, action, s->max_episode_steps, thr);
        ppo_env_free(e);
    }
    return EXIT_OK;
}
