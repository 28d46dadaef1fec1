#!/usr/bin/python3
"""Synthetic ppo logs (schema version 1, docs/log-schema.md) for developing and testing analysis/.

The curves are made to look like PPO training (returns rising along a seed-dependent logistic,
entropy falling, explained variance rising, KL and clip fraction fluctuating, annealed learning
rate), and the recorded trajectories come from small simulators: the real classic-control dynamics
(CartPole, Acrobot, MountainCar, Pendulum, as in Gymnasium) driven by a policy whose skill grows
with training, and scripted LunarLander / BipedalWalker episodes (not Box2D physics) whose render
states follow docs/render-state.md (test_animate checks their size against analysis.render).

Library use:  make_run(env, seed, ...) -> data;  write_log(path, data | [segments], ...)
Command line: synth_log.py --out DIR [--env CartPole-v1 ...] [--seeds 1 2 3] [--updates 60]
"""

import argparse
import math
import os

import numpy as np

import h5py

NAN = float("nan")
ENVS = {
    # obs_dim, kind, action_count, action_dim, threshold, max_steps, (bad, good) return, spread
    "CartPole-v1": dict(obs=4, kind="discrete", n=2, adim=1, thr=475.0, T=500, ret=(22, 500)),
    "Acrobot-v1": dict(obs=6, kind="discrete", n=3, adim=1, thr=-100.0, T=500, ret=(-480, -80)),
    "MountainCar-v0": dict(obs=2, kind="discrete", n=3, adim=1, thr=-110.0, T=200,
                           ret=(-200, -105)),
    "Pendulum-v1": dict(obs=3, kind="continuous", n=0, adim=1, thr=NAN, T=200, ret=(-1300, -170)),
    "LunarLander-v3": dict(obs=8, kind="discrete", n=4, adim=1, thr=200.0, T=1000,
                           ret=(-220, 240)),
    "BipedalWalker-v3": dict(obs=24, kind="continuous", n=0, adim=4, thr=300.0, T=400,
                             ret=(-110, 290)),
}
BIPEDAL_TERRAIN_POINTS = 48


# -- episode simulators: each returns obs, actions, rewards, render, terminated, truncated --------
def _finish(obs, act, rew, ren, terminated, T):
    n = len(rew)
    term = np.zeros(n, np.uint8)
    trunc = np.zeros(n, np.uint8)
    if terminated:
        term[-1] = 1
    elif n >= T:
        trunc[-1] = 1
    return dict(obs=np.asarray(obs, np.float32), actions=np.asarray(act, np.float32).reshape(n, -1),
                rewards=np.asarray(rew, np.float32), render=np.asarray(ren, np.float32),
                terminated=term, truncated=trunc)


def sim_cartpole(rng, skill, T=500):
    s = rng.uniform(-0.05, 0.05, 4)
    obs, act, rew, ren = [], [], [], []
    done = False
    while not done and len(rew) < T:
        x, xd, th, thd = s
        obs.append(s.copy()); ren.append(s.copy())
        if rng.random() < skill:
            a = 1 if (th + 0.5 * thd + 0.02 * x + 0.1 * xd) > 0 else 0
        else:
            a = int(rng.integers(2))
        f = 10.0 if a == 1 else -10.0
        ct, st = math.cos(th), math.sin(th)
        temp = (f + 0.05 * thd * thd * st) / 1.1
        thacc = (9.8 * st - ct * temp) / (0.5 * (4.0 / 3.0 - 0.1 * ct * ct / 1.1))
        xacc = temp - 0.05 * thacc * ct / 1.1
        s = np.array([x + 0.02 * xd, xd + 0.02 * xacc, th + 0.02 * thd, thd + 0.02 * thacc])
        done = abs(s[0]) > 2.4 or abs(s[2]) > 12 * 2 * math.pi / 360
        act.append(a); rew.append(1.0)
    return _finish(obs, act, rew, ren, done, T)


def _acrobot_dsdt(s, a):
    t1, t2, d1_, d2_ = s
    m2, l1, lc2, I2, g = 1.0, 1.0, 0.5, 1.0, 9.8
    d1 = 0.25 + (1 + 0.25 + 2 * 0.5 * math.cos(t2)) + 2.0
    d2 = m2 * (lc2 ** 2 + l1 * lc2 * math.cos(t2)) + I2
    phi2 = m2 * lc2 * g * math.cos(t1 + t2 - math.pi / 2)
    phi1 = (-m2 * l1 * lc2 * d2_ ** 2 * math.sin(t2) - 2 * m2 * l1 * lc2 * d2_ * d1_ * math.sin(t2)
            + (0.5 + 1.0) * g * math.cos(t1 - math.pi / 2) + phi2)
    dd2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * d1_ ** 2 * math.sin(t2) - phi2) / (
        m2 * lc2 ** 2 + I2 - d2 ** 2 / d1)
    dd1 = -(d2 * dd2 + phi1) / d1
    return np.array([d1_, d2_, dd1, dd2])


def sim_acrobot(rng, skill, T=500):
    s = rng.uniform(-0.1, 0.1, 4)
    obs, act, rew, ren = [], [], [], []
    done = False
    while not done and len(rew) < T:
        t1, t2, d1, d2 = s
        obs.append([math.cos(t1), math.sin(t1), math.cos(t2), math.sin(t2), d1, d2])
        ren.append(s.copy())
        a = (2 if d2 > 0 else 0) if rng.random() < skill else int(rng.integers(3))
        torque, dt = float(a - 1), 0.2
        k1 = _acrobot_dsdt(s, torque)
        k2 = _acrobot_dsdt(s + dt / 2 * k1, torque)
        k3 = _acrobot_dsdt(s + dt / 2 * k2, torque)
        k4 = _acrobot_dsdt(s + dt * k3, torque)
        s = s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        s[0] = (s[0] + math.pi) % (2 * math.pi) - math.pi
        s[1] = (s[1] + math.pi) % (2 * math.pi) - math.pi
        s[2] = np.clip(s[2], -4 * math.pi, 4 * math.pi)
        s[3] = np.clip(s[3], -9 * math.pi, 9 * math.pi)
        done = -math.cos(s[0]) - math.cos(s[1] + s[0]) > 1.0
        act.append(a); rew.append(0.0 if done else -1.0)
    return _finish(obs, act, rew, ren, done, T)


def sim_mountaincar(rng, skill, T=200):
    x, v = rng.uniform(-0.6, -0.4), 0.0
    obs, act, rew, ren = [], [], [], []
    done = False
    while not done and len(rew) < T:
        obs.append([x, v]); ren.append([x, v])
        a = (2 if v >= 0 else 0) if rng.random() < skill else int(rng.integers(3))
        v = float(np.clip(v + (a - 1) * 0.001 - 0.0025 * math.cos(3 * x), -0.07, 0.07))
        x = float(np.clip(x + v, -1.2, 0.6))
        if x <= -1.2 and v < 0:
            v = 0.0
        done = x >= 0.5
        act.append(a); rew.append(-1.0)
    return _finish(obs, act, rew, ren, done, T)


def sim_pendulum(rng, skill, T=200):
    th, thd, u = rng.uniform(-math.pi, math.pi), rng.uniform(-1, 1), 0.0
    obs, act, rew, ren = [], [], [], []
    while len(rew) < T:
        obs.append([math.cos(th), math.sin(th), thd]); ren.append([th, thd, u])
        an = (th + math.pi) % (2 * math.pi) - math.pi
        if rng.random() < skill:
            energy = 0.5 * thd ** 2 + 15.0 * math.cos(th)  # 15 = upright at rest
            if math.cos(th) > 0.85:
                u_raw = -(12 * an + 2.5 * thd)
            else:
                u_raw = (2.0 if thd >= 0 else -2.0) * (1 if energy < 15.0 else -1)
        else:
            u_raw = rng.normal(0, 1.5)
        u_raw += rng.normal(0, 0.3)
        u = float(np.clip(u_raw, -2, 2))
        cost = an ** 2 + 0.1 * thd ** 2 + 0.001 * u ** 2
        thd = float(np.clip(thd + (15.0 * math.sin(th) + 3.0 * u) * 0.05, -8, 8))
        th = th + thd * 0.05
        act.append([u_raw]); rew.append(-cost)
    return _finish(obs, act, rew, ren, False, T)


def _lunar_terrain(rng):
    W, H = 20.0, 400 / 30.0
    h = rng.uniform(0, H / 2, 13)
    h[4:7] = H / 4
    h = np.array([0.33 * (h[i - 1] + h[i] + h[i + 1]) if not 4 <= i <= 6 else H / 4
                  for i in range(1, 12)])
    xs = np.linspace(0, W, 11)
    return xs, h, (xs[4], xs[6], H / 4)


def _ground_at(xs, hs, x):
    return float(np.interp(x, xs, hs))


def sim_lunarlander(rng, skill, T=1000):
    """Scripted (not Box2D) lander: a skilled episode glides to the pad and settles; otherwise it
    drifts and crashes. Render layout: analysis.render.BOX2D_LAYOUTS['LunarLander']."""
    xs, hs, (x1, x2, py) = _lunar_terrain(rng)
    pad_c = (x1 + x2) / 2
    lands = rng.random() < skill
    x0, y0 = 10 + rng.uniform(-1.5, 1.5), 400 / 30.0 * 0.9
    leg_drop = 22 / 30.0
    # an unskilled lander falls until it hits the ground (about 80-110 steps from this height)
    n = int(rng.integers(220, 320)) if lands else T
    vx0 = rng.uniform(-0.04, 0.04)
    obs, act, rew, ren = [], [], [], []
    total = rng.uniform(200, 270) if lands else rng.uniform(-260, -120)
    x = x0
    for t in range(n):
        f = t / (n - 1)
        if lands:
            x = pad_c + (x0 - pad_c) * (1 - f) ** 2
            y = py + leg_drop + (y0 - py - leg_drop) * (1 - f) ** 1.6
            ang = 0.25 * math.sin(6 * f) * (1 - f) ** 2
            settled = f > 0.93
            main = 1.0 if (f > 0.35 and (t % 3 != 0)) and not settled else 0.0
            side = 0 if settled else (1 if math.cos(6 * f) * (1 - f) > 0.3 else
                                     (-1 if math.cos(6 * f) * (1 - f) < -0.3 else 0))
        else:
            x = x + vx0 * 3
            y = y0 - 0.5 * 10 * (t / 50.0) ** 2 * 0.6
            ang = 0.006 * t * math.copysign(1, vx0) + 0.1 * math.sin(t / 5)
            main = float(rng.random() < 0.3)
            side = int(rng.integers(-1, 2))
            settled = False
        ca, sa = math.cos(ang), math.sin(ang)
        legs = []
        for sgn in (-1, 1):
            lx, ly = x + ca * sgn * 20 / 30 - sa * -14 / 30, y + sa * sgn * 20 / 30 + ca * -14 / 30
            bottom = ly - 8 / 30
            contact = 1.0 if bottom <= _ground_at(xs, hs, lx) + 0.05 else 0.0
            legs += [lx, ly, ang + sgn * 0.3, contact]
        a = 2 if main else (1 if side > 0 else (3 if side < 0 else 0))
        terrain = np.stack([xs, hs], 1).reshape(-1)
        side_signed = -1.0 if side > 0 else (1.0 if side < 0 else 0.0)  # action 1 -> negative
        state = [x, y, ang] + legs + [main, side_signed] + list(terrain) + [x1, x2, py, 0.0, 0.0]
        obs.append([(x - 10) / 10, (y - py - leg_drop) / (400 / 60), 0, 0, ang, 0, legs[3],
                    legs[7]])
        ren.append(state); act.append(a)
        rew.append(total / (n if lands else 90))
        if not lands and y - 10 / 30 <= _ground_at(xs, hs, x) + 0.1:
            break
    return _finish(obs, act, rew, ren, True, T)


def sim_bipedalwalker(rng, skill, T=400):
    """Scripted walker: a skilled one walks right with a swinging gait, an unskilled one stumbles
    and falls on its hull. Render layout: analysis.render.BOX2D_LAYOUTS['BipedalWalker']."""
    walks = rng.random() < skill
    n = T if walks else int(rng.integers(40, 120))
    ground = lambda gx: 400 / 30 / 4 + 0.25 * math.sin(0.35 * gx) + 0.1 * math.sin(1.3 * gx)
    hx, speed = 4.0, (0.05 + 0.02 * skill) if walks else 0.01
    lh = 34 / 30 / 2
    obs, act, rew, ren = [], [], [], []
    total = rng.uniform(250, 310) if walks else rng.uniform(-125, -95)
    for t in range(n):
        f = t / max(1, n - 1)
        hx += speed
        ang = 0.05 * math.sin(0.3 * t) if walks else -1.3 * f ** 2
        hy = ground(hx) + (1.95 if walks else 1.95 - 1.6 * f ** 2) + 0.05 * math.sin(0.6 * t)
        parts = []
        contacts = []
        for side, phase in ((0, 0.0), (1, math.pi)):
            th1 = 0.5 * math.sin(0.3 * t + phase) if walks else 0.4 * f
            th2 = th1 - 0.4 * (1 + math.sin(0.3 * t + phase + 1.0)) if walks else th1 - 0.8 * f
            hip = (hx, hy - 0.2)
            knee = (hip[0] + 2 * lh * math.sin(th1), hip[1] - 2 * lh * math.cos(th1))
            parts += [hip[0] + lh * math.sin(th1), hip[1] - lh * math.cos(th1), th1]
            parts += [knee[0] + lh * math.sin(th2), knee[1] - lh * math.cos(th2), th2]
            foot_y = knee[1] - 2 * lh * math.cos(th2)
            contacts.append(1.0 if foot_y <= ground(knee[0]) + 0.15 else 0.0)
        i0 = max(0, int((hx - 4) / (14 / 30)) - 1)
        gx = i0 * 14 / 30 + np.arange(BIPEDAL_TERRAIN_POINTS) * 14 / 30
        terrain = np.stack([gx, [ground(v) for v in gx]], 1).reshape(-1)
        lidar = [min(1.0, (hy - ground(hx)) / math.cos(0.15 * i) / (160 / 30)) for i in range(10)]
        ren.append([hx, hy, ang] + parts + contacts + lidar + [float(i0)] + list(terrain)
                   + [0.0] + [0.0] * 64)
        a = np.clip(rng.normal(0, 0.6 if walks else 0.9, 4), -1.5, 1.5)
        act.append(a)
        obs.append(np.concatenate([[ang, 0, speed, 0], a, rng.normal(0, 0.1, 16)]))
        rew.append(total / n)
    return _finish(obs, act, rew, ren, not walks, T)


SIMULATORS = {"CartPole-v1": sim_cartpole, "Acrobot-v1": sim_acrobot,
              "MountainCar-v0": sim_mountaincar, "Pendulum-v1": sim_pendulum,
              "LunarLander-v3": sim_lunarlander, "BipedalWalker-v3": sim_bipedalwalker}


# -- whole runs -------------------------------------------------------------------------------
def make_run(env="CartPole-v1", seed=1, updates=60, ranks=2, threads=1, envs_per_rank=4,
             rollout_steps=128, traj_every=None, trajectories=True, lr=3e-4, noise_seed=None,
             extra_config=None):
    """In-memory run: dict with config, metrics, episodes, traj (or None)."""
    spec = ENVS[env]
    rng = np.random.default_rng(seed * 7919 + (noise_seed or 0))
    batch = ranks * envs_per_rank * rollout_steps
    bad, good = spec["ret"]
    rate = rng.uniform(7, 11)
    mid = rng.uniform(0.35, 0.5)
    u_arr = np.arange(1, updates + 1)
    prog = u_arr / updates
    skill = 1 / (1 + np.exp(-rate * (prog - mid)))
    skill = (skill - skill[0]) / (1 - skill[0]) if updates > 1 else skill
    skill = np.clip(skill * rng.uniform(0.9, 1.0), 0, 1)

    ep = {k: [] for k in ("global_step", "update", "rank", "env_index", "return", "length",
                          "terminated")}
    m = {k: [] for k in ("return_mean", "return_min", "return_max", "length_mean", "episodes")}
    T = spec["T"]
    for u, sk in zip(u_arr, skill):
        mean_ret = bad + (good - bad) * sk
        rets = mean_ret + rng.normal(0, 0.12 * abs(good - bad) * (0.3 + sk * (1 - sk) * 2),
                                     size=64)
        lo, hi = min(bad, good) * (1.2 if min(bad, good) < 0 else 0.4), max(bad, good)
        rets = np.clip(rets, lo, hi)
        if env == "CartPole-v1":
            lens = np.maximum(8, rets).astype(int)
        elif env in ("Acrobot-v1", "MountainCar-v0"):
            lens = np.minimum(T, -rets + 1).astype(int)
        elif env == "Pendulum-v1":
            lens = np.full(len(rets), T)
        else:
            lens = (60 + sk * 300 + rng.normal(0, 20, len(rets))).astype(int)
        count = int(rng.poisson(batch / max(1.0, lens.mean())))
        count = min(count, len(rets))
        rets, lens = rets[:count], lens[:count]
        m["episodes"].append(count)
        m["return_mean"].append(rets.mean() if count else NAN)
        m["return_min"].append(rets.min() if count else NAN)
        m["return_max"].append(rets.max() if count else NAN)
        m["length_mean"].append(lens.mean() if count else NAN)
        ep["global_step"] += [u * batch] * count
        ep["update"] += [u] * count
        ep["rank"] += list(rng.integers(0, ranks, count))
        ep["env_index"] += list(rng.integers(0, envs_per_rank, count))
        ep["return"] += list(rets)
        ep["length"] += list(lens)
        ep["terminated"] += [int(l < T) for l in lens]

    h0 = math.log(spec["n"]) if spec["kind"] == "discrete" else 1.42 * spec["adim"]
    sps = np.abs(rng.normal(4000 * ranks * threads, 300, updates))
    metrics = dict(
        update=u_arr.astype(np.int64),
        global_step=(u_arr * batch).astype(np.int64),
        wall_time=np.cumsum(batch / sps),
        steps_per_second=sps,
        episodes=np.array(m["episodes"], np.int64),
        return_mean=np.array(m["return_mean"]), return_min=np.array(m["return_min"]),
        return_max=np.array(m["return_max"]), length_mean=np.array(m["length_mean"]),
        policy_loss=rng.normal(-0.012, 0.006, updates),
        value_loss=np.abs(50 * np.exp(-3 * prog) + rng.normal(0, 3, updates)),
        entropy=h0 * (1 - 0.75 * skill) + rng.normal(0, 0.02 * abs(h0), updates),
        approx_kl=np.abs(rng.normal(0.012, 0.005, updates) * (1 - 0.5 * prog)),
        clip_fraction=np.clip(rng.normal(0.15, 0.04, updates) * (1 - 0.4 * prog), 0, 1),
        explained_variance=np.clip(1 - 1.3 * np.exp(-5 * prog) + rng.normal(0, 0.05, updates),
                                   -1, 1),
        grad_norm=np.abs(rng.normal(0.6, 0.15, updates)),
        learning_rate=lr * (1 - (u_arr - 1) / updates),
        epochs=np.where(rng.random(updates) < 0.1, 6, 10).astype(np.int64),
    )
    config = dict(env=env, seed=np.int64(seed), envs_per_rank=np.int64(envs_per_rank),
                  rollout_steps=np.int64(rollout_steps), lr=float(lr),
                  total_steps=np.int64(updates * batch), gamma=0.99, gae_lambda=0.95,
                  clip_coef=0.2, max_grad_norm=0.5, update_epochs=np.int64(10),
                  minibatches=np.int64(4), anneal_lr="true",
                  log_trajectories=np.int64(1 if trajectories else 0),
                  ranks=np.int64(ranks), threads_per_rank=np.int64(threads),
                  hostnames="node001", version="0.1.0-synthetic",
                  start_time="2025-01-0%dT12:00:00Z" % (1 + seed % 9),
                  obs_dim=np.int64(spec["obs"]), action_dim=np.int64(spec["adim"]),
                  action_count=np.int64(spec["n"]), action_kind=spec["kind"],
                  reward_threshold=float(spec["thr"]), global_batch=np.int64(batch))
    config.update(extra_config or {})

    traj = None
    if trajectories:
        every = traj_every or max(1, updates // 6)
        rec = sorted(set(list(range(1, updates + 1, every)) + [updates]))
        sim = SIMULATORS[env]
        eps = []
        for u in rec:
            e = sim(rng, float(skill[u - 1]), T)
            e["update"] = u
            eps.append(e)
        traj = _pack_traj(eps, spec, env, rng, ranks, envs_per_rank)
    return dict(config=config, metrics=metrics,
                episodes={k: np.array(v, dtype=np.float64 if k == "return" else
                                      (np.uint8 if k == "terminated" else np.int64))
                          for k, v in ep.items()},
                traj=traj)


def _pack_traj(eps, spec, env, rng, ranks, envs_per_rank):
    lens = np.array([len(e["rewards"]) for e in eps], np.int64)
    offs = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    n = len(eps)
    cat = lambda k: np.concatenate([e[k] for e in eps])
    steps = {k: cat(k) for k in ("obs", "actions", "rewards", "render", "terminated", "truncated")}
    S = len(steps["rewards"])
    steps["logprobs"] = rng.normal(-0.5, 0.2, S).astype(np.float32)
    steps["values"] = rng.normal(10, 5, S).astype(np.float32)
    index = dict(episode_id=np.arange(n, dtype=np.int64), offset=offs, length=lens,
                 rank=rng.integers(0, ranks, n).astype(np.int64),
                 env_index=rng.integers(0, envs_per_rank, n).astype(np.int64),
                 update=np.array([e["update"] for e in eps], np.int64),
                 seed=rng.integers(0, 2 ** 31, n).astype(np.int64),
                 **{"return": np.array([float(np.sum(e["rewards"], dtype=np.float64))
                                        for e in eps])})
    return dict(steps=steps, index=index, env=env, render_dim=steps["render"].shape[1])


def resumed(env="CartPole-v1", seed=1, updates=60, crash_after=40, checkpoint=30,
            wall_reset=True, **kw):
    """Segments of an interrupted-and-resumed run: the first run logged updates 1..crash_after,
    crashed, and the resumed run restarted from the checkpoint after `checkpoint` and logged
    checkpoint+1..updates (different noise, so its rows are distinguishable)."""
    a = make_run(env, seed, updates, **kw)
    b = make_run(env, seed, updates, noise_seed=1, **kw)
    seg_a = _slice(a, 1, crash_after)
    seg_b = _slice(b, checkpoint + 1, updates)
    wb = b["metrics"]["wall_time"]
    base = wb[checkpoint - 1]
    seg_b["metrics"]["wall_time"] = seg_b["metrics"]["wall_time"] - base + (
        0.0 if wall_reset else a["metrics"]["wall_time"][checkpoint - 1])
    return [seg_a, seg_b]


def _slice(run, lo, hi):
    m = run["metrics"]
    sel = (m["update"] >= lo) & (m["update"] <= hi)
    out = dict(config=run["config"], metrics={k: v[sel] for k, v in m.items()})
    e = run["episodes"]
    esel = (e["update"] >= lo) & (e["update"] <= hi)
    out["episodes"] = {k: v[esel] for k, v in e.items()}
    t = run["traj"]
    if t is None:
        out["traj"] = None
    else:
        isel = (t["index"]["update"] >= lo) & (t["index"]["update"] <= hi)
        rows = np.concatenate([np.arange(o, o + l) for o, l in
                               zip(t["index"]["offset"][isel], t["index"]["length"][isel])]
                              ) if isel.any() else np.zeros(0, np.int64)
        idx = {k: v[isel] for k, v in t["index"].items()}
        lens = idx["length"]
        idx["offset"] = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        out["traj"] = dict(t, steps={k: v[rows] for k, v in t["steps"].items()}, index=idx)
    return out


# -- writing ----------------------------------------------------------------------------------
def _create(group, name, data):
    data = np.asarray(data)
    maxshape = (None,) + data.shape[1:]
    chunks = (max(1, min(1024, len(data) or 1)),) + data.shape[1:]
    return group.create_dataset(name, data=data, maxshape=maxshape, chunks=chunks)


def _append(ds, data):
    data = np.asarray(data)
    n = ds.shape[0]
    ds.resize((n + len(data),) + ds.shape[1:])
    ds[n:] = data


def write_log(path, segments, fmt="ppo-log", schema_version=1, omit=(), libver_latest=False):
    """Writes one log from one run dict or a list of segments (appended in order, as a resumed
    run would). `omit` names groups or datasets to leave out ('trajectories', 'episodes',
    'metrics/entropy', 'config', ...). Returns path."""
    if isinstance(segments, dict):
        segments = [segments]
    kwargs = {"libver": "latest"} if libver_latest else {}
    with h5py.File(path, "w", **kwargs) as f:
        _write_segments(f, segments, fmt, schema_version, omit)
    return path


def _write_segments(f, segments, fmt, schema_version, omit):
    if fmt is not None:
        f.attrs["format"] = fmt
    if schema_version is not None:
        f.attrs["schema_version"] = np.int64(schema_version)
    first = segments[0]
    if "config" not in omit:
        g = f.create_group("config")
        for k, v in first["config"].items():
            g.attrs[k] = v
    for seg_i, seg in enumerate(segments):
        for grp in ("metrics", "episodes"):
            if grp in omit:
                continue
            g = f.require_group(grp)
            for k, v in seg[grp].items():
                if "%s/%s" % (grp, k) in omit:
                    continue
                if k in g:
                    _append(g[k], v)
                else:
                    _create(g, k, v)
        t = seg["traj"]
        if t is None or "trajectories" in omit:
            continue
        g = f.require_group("trajectories")
        g.attrs["env"] = t["env"]
        g.attrs["render_dim"] = np.int64(t["render_dim"])
        base = g["rewards"].shape[0] if "rewards" in g else 0
        for k, v in t["steps"].items():
            if k in g:
                _append(g[k], v)
            else:
                _create(g, k, v)
        gi = g.require_group("index")
        prev = gi["episode_id"].shape[0] if "episode_id" in gi else 0
        for k, v in t["index"].items():
            if k == "offset":
                v = v + base
            if k == "episode_id":
                v = v + prev
            if k in gi:
                _append(gi[k], v)
            else:
                _create(gi, k, v)


class SwmrWriter:
    """Writes a run update by update in SWMR mode, like the trainer does (for live-log tests)."""

    def __init__(self, path, run):
        self.run = run
        self.f = h5py.File(path, "w", libver="latest")
        empty = _slice(run, 1, 0)
        _write_segments(self.f, [empty], "ppo-log", 1, omit=("trajectories",))
        self.f.swmr_mode = True
        self.f.flush()
        self.written = 0

    def write_updates(self, n):
        lo, hi = self.written + 1, self.written + n
        seg = _slice(self.run, lo, hi)
        for grp in ("metrics", "episodes"):
            for k, v in seg[grp].items():
                _append(self.f[grp][k], v)
        self.written = hi
        self.f.flush()

    def close(self):
        self.f.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="directory for the .h5 files")
    ap.add_argument("--env", nargs="+", default=list(ENVS), choices=list(ENVS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--updates", type=int, default=60)
    ap.add_argument("--no-trajectories", action="store_true")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for env in args.env:
        for seed in args.seeds:
            p = os.path.join(args.out, "%s_s%d.h5" % (env, seed))
            write_log(p, make_run(env, seed, args.updates,
                                  trajectories=not args.no_trajectories))
            print(p)


if __name__ == "__main__":
    main()
