"""The HDF5 log of a short 2-rank CartPole run against docs/log-schema.md: root attributes, /config
(every option, the run's context), /metrics (the documented columns, one row per update, global
step advancing by the global batch, per-update episode statistics matching /episodes), /episodes
(both ranks, env indices in range, return == length on CartPole, truncation only at 500 steps), and
the file opens with h5py.File(path, "r", swmr=True). The run also has --check-params 1 (the cross-rank
parameter checksum after every update) on, which must not fire."""
import math
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as ct  # noqa: E402

ct.setup()
import h5py  # noqa: E402
import numpy as np  # noqa: E402

RANKS, ENVS, STEPS, UPDATES, SEED, EPOCHS = 2, 4, 64, 6, 21, 2
BATCH = RANKS * ENVS * STEPS
METRICS = {"update", "global_step", "wall_time", "steps_per_second", "episodes", "return_mean", "return_min",
           "return_max", "length_mean", "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction",
           "explained_variance", "grad_norm", "learning_rate", "epochs", "return_recent"}
PHASES = ("env", "infer", "gae", "grad", "comm", "optim", "log")
METRICS |= {f"time_{p}" for p in PHASES} | {f"time_{p}_max" for p in PHASES}
EPISODES = {"global_step", "update", "rank", "env_index", "return", "length", "terminated"}
CONTEXT = {"ranks", "threads_per_rank", "hostnames", "version", "onednn_isa", "grad_sum", "start_time", "obs_dim",
           "action_dim", "action_count", "action_kind", "reward_threshold", "global_batch"}
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "ppo", "config.h")


def option_names():
    body = re.search(r"typedef struct \{(.*?)\} ppo_config;", open(SRC).read(), re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return {re.sub(r"\[.*\]", "", n).strip().split()[-1] for d in body.split(";") if d.strip() for n in d.split(",")}


def cpu_has(flag):
    try:
        with open("/proc/cpuinfo") as f:
            return any(ln.startswith("flags") and flag in ln.split() for ln in f)
    except OSError:
        return False


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def check_root_and_config(f, log):
    ct.check(text(f.attrs.get("format")) == "ppo-log", f"root attribute format = {f.attrs.get('format')!r}")
    ct.check(f.attrs.get("schema_version") == 1, f"root attribute schema_version = {f.attrs.get('schema_version')!r}")
    cfg = {k: text(v) for k, v in f["config"].attrs.items()}
    missing = (option_names() | CONTEXT) - set(cfg)
    ct.check(not missing, f"/config lacks {sorted(missing)}")
    want = {"ranks": RANKS, "env": "CartPole-v1", "seed": SEED, "envs_per_rank": ENVS, "rollout_steps": STEPS,
            "epochs": EPOCHS, "threads_per_rank": 1, "check_params": 1, "global_batch": BATCH, "obs_dim": 4, "action_dim": 1,
            "action_count": 2, "action_kind": "discrete", "reward_threshold": 475.0, "log": log,
            "total_steps": UPDATES * BATCH, "algo": "ppo", "lr": 1e-3, "grad_reduce": "shm",
            "grad_sum": "in shared memory"}
    for k, v in want.items():
        ct.check(cfg.get(k) == v, f"/config {k} = {cfg.get(k)!r}, want {v!r}")
    ct.check(isinstance(cfg.get("hostnames"), str) and cfg["hostnames"] != "", "/config hostnames is empty")
    ct.check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(cfg.get("start_time"))) is not None,
             f"/config start_time {cfg.get('start_time')!r} is not ISO 8601 UTC")
    ct.check(isinstance(cfg.get("version"), str) and cfg["version"] != "", "/config version is empty")
    ct.check(re.fullmatch(r"sse41|avx|avx2(_vnni)?|avx512_\w+", str(cfg.get("onednn_isa"))) is not None,
             f"/config onednn_isa {cfg.get('onednn_isa')!r} names no instruction set")
    if not os.environ.get("ONEDNN_MAX_CPU_ISA") and cpu_has("avx2"):  # ppo's cap, for runs that repeat
        ct.check(cfg.get("onednn_isa") == "avx2", f"/config onednn_isa {cfg.get('onednn_isa')!r}, not the avx2 cap")
    for k, v in f["config"].attrs.items():
        if isinstance(v, (int, np.integer)):
            ct.check(np.asarray(v).dtype == np.int64, f"/config {k}: integer attribute is not int64")


def check_metrics(f):
    m = f["metrics"]
    ct.check(set(m) == METRICS, f"/metrics columns: extra {sorted(set(m) - METRICS)}, missing {sorted(METRICS - set(m))}")
    lengths = {k: m[k].shape for k in m}
    ct.check(all(s == (UPDATES,) for s in lengths.values()), f"/metrics lengths {lengths}, want ({UPDATES},) each")
    col = {k: m[k][:] for k in m}
    for k in ("update", "global_step", "episodes", "epochs"):
        ct.check(m[k].dtype == np.int64, f"/metrics/{k} is {m[k].dtype}, not int64")
    ct.check(list(col["update"]) == list(range(1, UPDATES + 1)), f"/metrics/update = {col['update']}")
    ct.check(list(col["global_step"]) == [BATCH * u for u in range(1, UPDATES + 1)],
             f"/metrics/global_step = {col['global_step']}, want steps of {BATCH}")
    ct.check(all(col["epochs"] == EPOCHS), f"/metrics/epochs = {col['epochs']}")
    wt = col["wall_time"]
    ct.check(all(wt > 0) and all(np.diff(wt) >= 0), f"/metrics/wall_time not positive and increasing: {wt}")
    ct.check(all(col["steps_per_second"] > 0), "steps_per_second not positive")
    lr = col["learning_rate"]  # linear annealing from 1e-3 over UPDATES updates
    want_lr = [1e-3 * (1 - u / UPDATES) for u in range(UPDATES)]
    ct.check(np.allclose(lr, want_lr, rtol=1e-9), f"/metrics/learning_rate {lr}, want {want_lr}")
    for k in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "explained_variance", "grad_norm"):
        ct.check(np.all(np.isfinite(col[k])), f"/metrics/{k} not finite: {col[k]}")
    ct.check(np.all((col["entropy"] > 0) & (col["entropy"] <= math.log(2) + 1e-6)), f"entropy out of (0, ln 2]: {col['entropy']}")
    ct.check(np.all((col["clip_fraction"] >= 0) & (col["clip_fraction"] <= 1)), "clip_fraction out of [0, 1]")
    ct.check(np.all(col["value_loss"] >= 0) and np.all(col["grad_norm"] > 0), "value_loss or grad_norm negative")
    check_phase_times(col)
    return col


def check_phase_times(col):
    """The phases charge every moment of an update once: each is >= 0 and <= its slowest rank's, the
    work phases are > 0, and per update they add up to rank 0's update time (wall_time's step; the
    log phase lags by one update, so the sums are compared over the whole run, within 5%)."""
    mean = np.array([col[f"time_{p}"] for p in PHASES])
    top = np.array([col[f"time_{p}_max"] for p in PHASES])
    ct.check(np.all(np.isfinite(mean)) and np.all(mean >= 0), f"time_* not finite and >= 0: {mean}")
    ct.check(np.all(top >= mean * (1 - 1e-12)), "a phase's mean over ranks exceeds its slowest rank's")
    for p in ("env", "infer", "gae", "grad", "comm", "optim"):
        ct.check(np.all(col[f"time_{p}"] > 0), f"/metrics/time_{p} not positive: {col[f'time_{p}']}")
    wall = col["wall_time"][-1]
    total = mean.sum()
    ct.check(abs(total - wall) <= 0.05 * wall + 0.02,
             f"the phases add up to {total:.4f} s over the run, wall_time says {wall:.4f} s")


def check_episodes(f, col):
    e = f["episodes"]
    ct.check(set(e) == EPISODES, f"/episodes columns: {sorted(e)}")
    n = {k: e[k].shape for k in e}
    ct.check(len(set(n.values())) == 1, f"/episodes columns of different lengths: {n}")
    ep = {k: e[k][:] for k in e}
    rows = len(ep["return"])
    ct.check(rows == int(col["episodes"].sum()) and rows > 0,
             f"/episodes has {rows} rows, /metrics/episodes sums to {col['episodes'].sum()}")
    ct.check(set(ep["rank"].tolist()) == {0, 1}, f"/episodes ranks {sorted(set(ep['rank'].tolist()))}, want 0 and 1")
    ct.check(np.all((ep["env_index"] >= 0) & (ep["env_index"] < ENVS)), "/episodes env_index out of range")
    ct.check(np.all(ep["return"] == ep["length"]), "CartPole: an episode's return differs from its length")
    # return_recent: the mean of the last 100 episodes finished up to each update, in /episodes order
    want = []
    for u in col["update"]:
        done = ep["return"][ep["update"] <= u]
        want.append(done[-100:].mean() if len(done) else np.nan)
    ct.check(np.allclose(col["return_recent"], want, rtol=1e-12, equal_nan=True),
             f"/metrics/return_recent {col['return_recent']}, the last 100 episodes' means are {want}")
    ct.check(np.all((ep["length"] >= 1) & (ep["length"] <= 500)), "episode length out of [1, 500]")
    ct.check(set(ep["terminated"].tolist()) <= {0, 1}, "terminated not 0/1")
    ct.check(np.all((ep["terminated"] == 1) | (ep["length"] == 500)), "an episode was truncated before 500 steps")
    ct.check(np.all(ep["global_step"] == ep["update"] * BATCH), "/episodes global_step != update x global batch")
    ct.check(np.all(np.diff(ep["update"]) >= 0), "/episodes not in update order")
    for u in range(1, UPDATES + 1):
        sel = ep["update"] == u
        i = u - 1
        ct.check(int(sel.sum()) == col["episodes"][i], f"update {u}: {sel.sum()} episode rows, /metrics says {col['episodes'][i]}")
        if sel.any():
            r = ep["return"][sel]
            got = (col["return_mean"][i], col["return_min"][i], col["return_max"][i], col["length_mean"][i])
            want = (r.mean(), r.min(), r.max(), ep["length"][sel].mean())
            ct.check(np.allclose(got, want, rtol=1e-12), f"update {u}: return mean/min/max, length {got} vs episodes {want}")
            ranks_u = ep["rank"][sel]
            ct.check(np.all(np.diff(ranks_u) >= 0), f"update {u}: episode rows not in rank order")
        else:
            ct.check(np.isnan(col["return_mean"][i]), f"update {u}: no episodes but return_mean {col['return_mean'][i]}")


def main():
    with tempfile.TemporaryDirectory(prefix="ppo-log-") as tmp:
        log = os.path.join(tmp, "run.h5")
        rc, out, err = ct.run(["--env", "CartPole-v1", "--seed", str(SEED), "--envs-per-rank", str(ENVS),
                               "--rollout-steps", str(STEPS), "--total-steps", str(UPDATES * BATCH), "--minibatches",
                               "4", "--epochs", str(EPOCHS), "--lr", "1e-3", "--threads", "1", "--check-params", "1",
                               "--log", log],
                              ranks=RANKS, cwd=tmp)
        if not ct.check(rc == 0, f"training run failed ({rc}): {err}"):
            ct.finish("log contents")
        ct.check(sorted(os.listdir(tmp)) == ["run.h5", "run.policy.h5"], f"files left: {sorted(os.listdir(tmp))}")
        ct.check(f"log: {log}" in out, "the run does not say where its log is")
        with h5py.File(log, "r", swmr=True) as f:
            check_root_and_config(f, log)
            col = check_metrics(f)
            check_episodes(f, col)
        with h5py.File(os.path.join(tmp, "run.policy.h5"), "r") as f:
            ct.check(text(f.attrs.get("format")) == "ppo-policy" and f.attrs.get("global_step") == UPDATES * BATCH,
                     f"checkpoint attributes {dict(f.attrs)}")
            bits = f["train"].attrs.get("wall_time_bits", -1)  # the float64's bits as int64 (exact round trip)
            saved_wall = float(np.array([bits], dtype=np.int64).view(np.float64)[0])
        # the summary line's time is the training time the log and the policy file record
        m = re.search(r"trained (\d+) steps in ([\d.]+) s \(([\d.]+) steps/s\)", out)
        if ct.check(m is not None, f"no 'trained N steps in T s (R steps/s)' line in {out[-500:]!r}"):
            steps, secs, rate = int(m.group(1)), float(m.group(2)), float(m.group(3))
            wall = float(col["wall_time"][-1])
            # secs is printed to 0.1 s, so it may be 0.05 s off the time it rounds (0.0503 s printed as 0.1);
            # the rate's %.0f keeps that time to a few digits, and that time is what must match the log
            timed = steps / rate if rate > 0 else float("inf")
            ct.check(steps == UPDATES * BATCH and abs(secs - timed) <= 0.05 + 1e-3 * timed
                     and abs(saved_wall - wall) <= 0.05 + 0.01 * wall and abs(timed - wall) <= 0.05 + 0.05 * wall,
                     f"summary says {steps} steps in {secs} s ({rate}/s); wall_time {wall} s, policy file {saved_wall} s")
    ct.finish("log contents")


main()
