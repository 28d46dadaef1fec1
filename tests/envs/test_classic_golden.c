/* Replays Gymnasium's recorded classic-control traces (golden_traces.json, key "classic") through
 * ppo_env_make/ppo_env_step and compares every observation, reward and flag.
 * Our RNG is not numpy's, so each trace starts from its recorded float64 state via the set_state hook. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "envs/classic.h"
#include "reference.h"

/* Absolute tolerance, scaled by max(1, |expected|): float32 observations carry ~6e-8 relative rounding. */
#define OBS_TOL 1e-6
#define REWARD_TOL 1e-6

typedef void (*set_state_fn)(void *state, const double *values);

static const struct {
    const char *id;
    set_state_fn set_state;
    int state_dim;
} golden_envs[] = {
    {"CartPole-v1", cartpole_set_state, 4},
    {"Acrobot-v1", acrobot_set_state, 4},
    {"MountainCar-v0", mountain_car_set_state, 2},
    {"MountainCarContinuous-v0", mountain_car_continuous_set_state, 2},
    {"Pendulum-v1", pendulum_set_state, 2},
};

static double scaled_err(double got, double want) { return fabs(got - want) / fmax(1.0, fabs(want)); }

int main(void)
{
    cJSON *root = ref_load("golden_traces.json");
    const cJSON *classic = ref_get(root, "classic");
    CHECK(classic != NULL, "golden_traces.json has no 'classic' key");
    if (!classic) {
        cJSON_Delete(root);
        return 1;
    }
    for (size_t e = 0; e < sizeof golden_envs / sizeof golden_envs[0]; e++) {
        const char *id = golden_envs[e].id;
        const cJSON *traces = ref_get(classic, id);
        CHECK(traces && ref_len(traces) > 0, "%s: no traces", id);
        if (!traces)
            continue;
        double max_obs_err = 0.0, max_rew_err = 0.0;
        long n_steps = 0, n_obs = 0, n_obs_exact = 0, n_rew_exact = 0;
        for (int t = 0; t < ref_len(traces); t++) {
            const cJSON *tr = ref_at(traces, t);
            const cJSON *reset_state = ref_get(tr, "reset_state_float64");
            const cJSON *steps = ref_get(tr, "steps");
            CHECK(reset_state && ref_len(reset_state) == golden_envs[e].state_dim && steps && ref_len(steps) > 0,
                  "%s trace %d: malformed", id, t);
            if (!reset_state || ref_len(reset_state) != golden_envs[e].state_dim || !steps || ref_len(steps) == 0)
                continue;
            char err[256];
            ppo_env *env = ppo_env_make(id, NULL, err, sizeof err);
            CHECK(env != NULL, "%s: %s", id, err);
            if (!env)
                continue;
            const ppo_env_spec *spec = ppo_env_get_spec(env);
            float obs[PPO_ENV_MAX_OBS_DIM];
            ppo_env_seed(env, (uint64_t)ref_num(ref_get(tr, "seed")));
            ppo_env_reset(env, obs);
            double state[4];
            for (int i = 0; i < golden_envs[e].state_dim; i++)
                state[i] = ref_num(ref_at(reset_state, i));
            golden_envs[e].set_state(env_state(env), state);

            for (int k = 0, n_k = ref_len(steps); k < n_k; k++) {
                const cJSON *st = ref_at(steps, k);
                const cJSON *ja = ref_get(st, "action");
                CHECK(ja != NULL, "%s trace %d step %d: no action", id, t, k);
                if (!ja)
                    break;
                float action[PPO_ENV_MAX_ACTION_DIM] = {0};
                if (cJSON_IsArray(ja))
                    for (int i = 0; i < ref_len(ja) && i < PPO_ENV_MAX_ACTION_DIM; i++)
                        action[i] = (float)ref_num(ref_at(ja, i));
                else
                    action[0] = (float)ref_num(ja);
                ppo_step_result r;
                int rc = ppo_env_step(env, action, obs, &r);
                CHECK(rc == PPO_ENV_OK, "%s trace %d step %d: step returned %d", id, t, k, rc);
                if (rc != PPO_ENV_OK)
                    break;
                n_steps++;
                const cJSON *jo = ref_get(st, "obs");
                CHECK(jo && ref_len(jo) == spec->obs_dim, "%s trace %d step %d: obs length", id, t, k);
                for (int i = 0; jo && i < ref_len(jo) && i < spec->obs_dim; i++) {
                    double want = ref_num(ref_at(jo, i));
                    double d = scaled_err(obs[i], want);
                    n_obs++;
                    n_obs_exact += (double)obs[i] == want;
                    max_obs_err = fmax(max_obs_err, d);
                    CHECK(d <= OBS_TOL, "%s seed %d step %d obs[%d]: %.9g vs %.9g", id, t, k, i, obs[i], want);
                }
                double want_r = ref_num(ref_get(st, "reward"));
                double dr = scaled_err(r.reward, want_r);
                max_rew_err = fmax(max_rew_err, dr);
                n_rew_exact += r.reward == (float)want_r; /* Gymnasium's float64 reward, rounded as we store it */
                CHECK(dr <= REWARD_TOL, "%s seed %d step %d reward: %.9g vs %.9g", id, t, k, r.reward, want_r);
                bool want_term = ref_num(ref_get(st, "terminated")) != 0.0;
                bool want_trunc = ref_num(ref_get(st, "truncated")) != 0.0;
                CHECK(r.terminated == want_term, "%s seed %d step %d terminated: %d vs %d", id, t, k, r.terminated,
                      want_term);
                CHECK(r.truncated == want_trunc, "%s seed %d step %d truncated: %d vs %d", id, t, k, r.truncated,
                      want_trunc);
                if (!strcmp(id, "Pendulum-v1")) { /* render state carries the clipped torque */
                    float rs[3];
                    ppo_env_render_state(env, rs);
                    CHECK(rs[2] == fminf(fmaxf(action[0], -2.0f), 2.0f), "%s step %d: last_u %g for action %g", id,
                          k, rs[2], action[0]);
                }
            }
            /* Every recorded trace ends on a terminated or truncated step; we must agree there is no next step. */
            ppo_step_result r;
            float a0[PPO_ENV_MAX_ACTION_DIM] = {0};
            CHECK(ppo_env_step(env, a0, obs, &r) == PPO_ENV_ESTATE, "%s trace %d: episode did not end with the trace",
                  id, t);
            ppo_env_free(env);
        }
        printf("%-26s %d traces, %5ld steps: max scaled obs err %.3g (%ld/%ld obs bit-exact), max scaled reward "
               "err %.3g (%ld/%ld equal to float(reward))\n",
               id, ref_len(traces), n_steps, max_obs_err, n_obs_exact, n_obs, max_rew_err, n_rew_exact, n_steps);
    }
    cJSON_Delete(root);
    return CHECK_DONE();
}
