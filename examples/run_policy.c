/* run_policy: loads a policy trained by `ppo` and drives one greedy episode of its env with it.
 * Usage: run_policy POLICY.h5 [SEED]; the env is seeded as `ppo eval --episodes 1 --seed SEED` seeds it. */
#include <ppo/env.h>
#include <ppo/policy.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s POLICY.h5 [SEED]\n", argv[0]);
        return 2;
    }
    char err[512];
    ppo_policy *pol = ppo_policy_load(argv[1], err, sizeof err);
    if (!pol) {
        fprintf(stderr, "run_policy: %s\n", err);
        return 1;
    }
    const ppo_policy_info *info = ppo_policy_get_info(pol);
    ppo_env *env = ppo_env_make(info->env_id, info->env_options, err, sizeof err);
    if (!env) {
        fprintf(stderr, "run_policy: %s\n", err);
        ppo_policy_free(pol);
        return 1;
    }
    ppo_env_seed(env, argc > 2 ? strtoull(argv[2], NULL, 10) : 12345);
    float obs[PPO_ENV_MAX_OBS_DIM], action[PPO_ENV_MAX_ACTION_DIM], value;
    ppo_env_reset(env, obs);
    double ret = 0.0;
    int steps = 0, rc = 0;
    ppo_step_result r = {0};
    while (!r.terminated && !r.truncated) {
        if (ppo_policy_act(pol, obs, 1, info->obs_dim, PPO_POLICY_GREEDY, NULL, action, &value, err, sizeof err)) {
            fprintf(stderr, "run_policy: step %d: %s\n", steps, err);
            rc = 1;
            break;
        }
        if (steps == 0)
            printf("%s: value estimate of the first state %.2f\n", info->env_id, value);
        if (ppo_env_step(env, action, obs, &r) != PPO_ENV_OK) {
            fprintf(stderr, "run_policy: step %d: the env refused action %g\n", steps, action[0]);
            rc = 1;
            break;
        }
        ret += r.reward;
        steps++;
    }
    printf("%s: greedy return %.2f in %d steps\n", info->env_id, ret, steps);
    ppo_env_free(env);
    ppo_policy_free(pol);
    return rc;
}
