/* Determinism of the classic-control envs: same seed -> bit-identical trajectories (also when envs are
 * interleaved or re-seeded), different seeds -> different ones, and reset draws within Gymnasium's bounds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "envs/classic.h"
#include "util/rng.h"

#define TRAJ_STEPS 3000 /* several episodes per env: resets after terminated/truncated */
#define N_RESETS 10000

static const char *const classic_ids[] = {"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0",
                                          "Pendulum-v1"};
#define N_IDS ((int)(sizeof classic_ids / sizeof classic_ids[0]))

/* One env plus the action generator that drives it; actions come from their own stream so the env's RNG
 * is the only thing a seed changes. */
typedef struct {
    ppo_env *env;
    rng_t action_rng;
    float obs[PPO_ENV_MAX_OBS_DIM];
    uint64_t hash;
    int episodes;
} runner;

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static void runner_start(runner *r, const char *id, bool seed, uint64_t env_seed)
{
    r->env = check_make_env(id, NULL);
    if (seed)
        ppo_env_seed(r->env, env_seed);
    rng_seed(&r->action_rng, 12345);
    r->hash = 0xcbf29ce484222325ULL;
    r->episodes = 1;
    ppo_env_reset(r->env, r->obs);
    r->hash = fnv1a(r->hash, r->obs, sizeof(float) * (size_t)ppo_env_get_spec(r->env)->obs_dim);
}

/* Random actions; continuous ones reach half a unit beyond the bounds to exercise clipping. */
static void runner_step(runner *r)
{
    const ppo_env_spec *spec = ppo_env_get_spec(r->env);
    float a[PPO_ENV_MAX_ACTION_DIM] = {0};
    if (spec->action_kind == PPO_ACTION_DISCRETE)
        a[0] = (float)rng_below(&r->action_rng, (uint32_t)spec->action_count);
    else
        for (int i = 0; i < spec->action_dim; i++)
            a[i] = (float)rng_uniform_range(&r->action_rng, spec->action_low[i] - 0.5, spec->action_high[i] + 0.5);
    ppo_step_result res;
    int rc = ppo_env_step(r->env, a, r->obs, &res);
    CHECK(rc == PPO_ENV_OK, "%s: step returned %d", spec->id, rc);
    r->hash = fnv1a(r->hash, r->obs, sizeof(float) * (size_t)ppo_env_get_spec(r->env)->obs_dim);
    r->hash = fnv1a(r->hash, &res.reward, sizeof res.reward);
    unsigned char flags = (unsigned char)(res.terminated | res.truncated << 1);
    r->hash = fnv1a(r->hash, &flags, 1);
    for (int i = 0; i < spec->obs_dim; i++)
        CHECK(r->obs[i] >= spec->obs_low[i] && r->obs[i] <= spec->obs_high[i], "%s: obs[%d] = %g outside [%g, %g]",
              spec->id, i, r->obs[i], spec->obs_low[i], spec->obs_high[i]);
    if (res.terminated || res.truncated) {
        ppo_env_reset(r->env, r->obs);
        r->hash = fnv1a(r->hash, r->obs, sizeof(float) * (size_t)ppo_env_get_spec(r->env)->obs_dim);
        r->episodes++;
    }
}

static uint64_t trajectory_hash(const char *id, bool seed, uint64_t env_seed, int *episodes)
{
    runner r;
    runner_start(&r, id, seed, env_seed);
    for (int k = 0; k < TRAJ_STEPS; k++)
        runner_step(&r);
    if (episodes)
        *episodes = r.episodes;
    ppo_env_free(r.env);
    return r.hash;
}

static void test_trajectories(const char *id)
{
    int episodes = 0;
    uint64_t h1 = trajectory_hash(id, true, 7, &episodes);
    uint64_t h2 = trajectory_hash(id, true, 7, NULL);
    uint64_t h3 = trajectory_hash(id, true, 8, NULL);
    CHECK(h1 == h2, "%s: same seed, different trajectories", id);
    CHECK(h1 != h3, "%s: seeds 7 and 8 gave the same trajectory", id);
    CHECK(episodes >= 2, "%s: only %d episode(s) in %d steps; resets untested", id, episodes, TRAJ_STEPS);
    /* Never seeded behaves as seed 0 (env.h). */
    CHECK(trajectory_hash(id, false, 0, NULL) == trajectory_hash(id, true, 0, NULL), "%s: unseeded != seed 0", id);

    /* Two envs stepped alternately give what each gives alone: no state shared between envs. */
    runner a, b;
    runner_start(&a, id, true, 7);
    runner_start(&b, id, true, 8);
    for (int k = 0; k < TRAJ_STEPS; k++) {
        runner_step(&a);
        runner_step(&b);
    }
    CHECK(a.hash == h1 && b.hash == h3, "%s: interleaved envs differ from separate runs", id);

    /* Re-seeding a used env restarts its stream, as reset(seed=s) does in Gymnasium. */
    ppo_env_seed(a.env, 7);
    rng_seed(&a.action_rng, 12345);
    a.hash = 0xcbf29ce484222325ULL;
    ppo_env_reset(a.env, a.obs);
    a.hash = fnv1a(a.hash, a.obs, sizeof(float) * (size_t)ppo_env_get_spec(a.env)->obs_dim);
    for (int k = 0; k < TRAJ_STEPS; k++)
        runner_step(&a);
    CHECK(a.hash == h1, "%s: re-seeded env differs from a fresh one", id);
    ppo_env_free(a.env);
    ppo_env_free(b.env);
    printf("%-26s trajectories: %d episodes in %d steps, hash %016llx\n", id, episodes, TRAJ_STEPS,
           (unsigned long long)h1);
}

/* Where each env's reset state is visible: in obs or in the render state, and its U(lo, hi) per component
 * (lo == hi: a constant). From Gymnasium's reset() methods. */
static const struct {
    const char *id;
    bool from_render;
    int dim;
    double lo[4], hi[4];
} reset_dists[] = {
    {"CartPole-v1", false, 4, {-0.05, -0.05, -0.05, -0.05}, {0.05, 0.05, 0.05, 0.05}},
    {"Acrobot-v1", true, 4, {-0.1, -0.1, -0.1, -0.1}, {0.1, 0.1, 0.1, 0.1}},
    {"MountainCar-v0", false, 2, {-0.6, 0.0}, {-0.4, 0.0}},
    {"MountainCarContinuous-v0", false, 2, {-0.6, 0.0}, {-0.4, 0.0}},
    {"Pendulum-v1", true, 3, {-3.141592653589793, -1.0, 0.0}, {3.141592653589793, 1.0, 0.0}},
};

static void test_reset_distribution(int e)
{
    const char *id = reset_dists[e].id;
    int dim = reset_dists[e].dim;
    ppo_env *env = check_make_env(id, NULL);
    ppo_env_seed(env, 2024);
    double mn[4], mx[4], sum[4] = {0};
    for (int i = 0; i < 4; i++)
        mn[i] = INFINITY, mx[i] = -INFINITY;
    long out_of_bounds = 0, acrobot_obs_mismatch = 0;
    for (int n = 0; n < N_RESETS; n++) {
        float obs[PPO_ENV_MAX_OBS_DIM], render[16];
        ppo_env_reset(env, obs);
        ppo_env_render_state(env, render);
        const float *v = reset_dists[e].from_render ? render : obs;
        for (int i = 0; i < dim; i++) {
            double lo = reset_dists[e].lo[i], hi = reset_dists[e].hi[i];
            /* float32 rounding may land a draw just below hi on (float)hi. */
            out_of_bounds += !(v[i] >= (float)lo && v[i] <= (float)hi);
            mn[i] = fmin(mn[i], v[i]);
            mx[i] = fmax(mx[i], v[i]);
            sum[i] += v[i];
        }
        if (!strcmp(id, "Acrobot-v1")) {
            /* The stored state is the float32 draw, so obs must be cos/sin of exactly the render values. */
            acrobot_obs_mismatch += obs[0] != (float)cos(render[0]) || obs[1] != (float)sin(render[0]) ||
                                    obs[2] != (float)cos(render[1]) || obs[3] != (float)sin(render[1]) ||
                                    obs[4] != render[2] || obs[5] != render[3];
        }
    }
    CHECK(out_of_bounds == 0, "%s: %ld reset values out of bounds", id, out_of_bounds);
    CHECK(acrobot_obs_mismatch == 0, "%s: %ld resets whose obs do not match the float32 state", id,
          acrobot_obs_mismatch);
    for (int i = 0; i < dim; i++) {
        double lo = reset_dists[e].lo[i], hi = reset_dists[e].hi[i], w = hi - lo, mean = sum[i] / N_RESETS;
        if (w == 0.0) {
            CHECK(mn[i] == lo && mx[i] == lo, "%s: component %d should be %g, saw [%g, %g]", id, i, lo, mn[i], mx[i]);
            continue;
        }
        /* The sample covers the interval and is centred (mean's std is 0.0029 w for 10k draws). */
        CHECK(mn[i] - lo < 0.01 * w && hi - mx[i] < 0.01 * w, "%s: component %d spans [%g, %g] of [%g, %g]", id, i,
              mn[i], mx[i], lo, hi);
        CHECK(fabs(mean - (lo + hi) / 2) < 0.02 * w, "%s: component %d mean %g", id, i, mean);
    }
    printf("%-26s %d resets within bounds\n", id, N_RESETS);
    ppo_env_free(env);
}

int main(void)
{
    CHECK(ppo_env_count() >= N_IDS, "registry has %d envs", ppo_env_count());
    for (int i = 0; i < N_IDS; i++)
        test_trajectories(classic_ids[i]);
    for (int e = 0; e < (int)(sizeof reset_dists / sizeof reset_dists[0]); e++)
        test_reset_distribution(e);
    return CHECK_DONE();
}
