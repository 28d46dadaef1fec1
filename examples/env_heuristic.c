/* env_heuristic: drives one CartPole-v1 episode through the public env API with a hand-written controller. */
#include <ppo/env.h>
#include <stdio.h>

int main(void)
{
    char err[256];
    ppo_env *env = ppo_env_make("CartPole-v1", NULL, err, sizeof err);
    if (!env) { fprintf(stderr, "%s\n", err); return 1; }
    const ppo_env_spec *spec = ppo_env_get_spec(env);
    float obs[PPO_ENV_MAX_OBS_DIM];
    ppo_env_seed(env, 42);
    ppo_env_reset(env, obs);
    ppo_step_result r;
    float ret = 0;
    do {
        float action = obs[2] + 0.5f * obs[3] > 0 ? 1.0f : 0.0f; /* push toward the lean */
        ppo_env_step(env, &action, obs, &r);
        ret += r.reward;
    } while (!r.terminated && !r.truncated);
    printf("%s: return %.0f (threshold %.0f)\n", spec->id, ret, spec->reward_threshold);
    ppo_env_free(env);
    return 0;
}
