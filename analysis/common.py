"""Shared pieces: grouping runs by config, rolling returns, figure saving."""

import os
import re

import numpy as np

# /config keys that differ between seeds of one experiment without changing it: the seed itself
# and the run's context (when and where it ran, which files it wrote).
IGNORED_FOR_GROUPING = {"seed", "run_id", "start_time", "hostnames", "version", "onednn_isa", "log", "log_trajectories",
                        "checkpoint", "checkpoint_every", "resume", "run_name", "out", "save",
                        "force", "config", "progress_interval", "eval_episodes", "check_params"}


def config_key(run, ignore=(), by=None):
    cfg = run.config
    if by:
        return tuple((k, _hashable(cfg.get(k))) for k in by)
    skip = IGNORED_FOR_GROUPING | set(ignore)
    return tuple(sorted((k, _hashable(v)) for k, v in cfg.items() if k not in skip))


def _hashable(v):
    if isinstance(v, list):
        return tuple(v)
    if isinstance(v, float) and np.isnan(v):
        return "nan"
    return v


class Group:
    def __init__(self, key, runs):
        self.key = key
        self.runs = runs
        self.label = ""

    @property
    def env(self):
        return self.runs[0].env

    @property
    def threshold(self):
        return self.runs[0].threshold


def sweep_keys(runs):
    """The swept options when every run sits beside the same sweep grid (jobs/sweep_array.sbatch
    writes `sweep.grid`, "option = values" per line, next to its logs): env first, without the seed.
    None when the runs are not one sweep's."""
    grids = set()
    for r in runs:
        path = os.path.join(os.path.dirname(os.path.abspath(r.path)), "sweep.grid")
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                grids.add(f.read(1 << 16))
        except OSError:
            return None
    if len(grids) != 1:
        return None
    keys = []
    for line in grids.pop().splitlines():
        line = line.split("#", 1)[0]
        if "=" in line:
            key = line.split("=", 1)[0].strip().lstrip("-").replace("-", "_")
            if key and key != "seed" and key not in keys:
                keys.append(key)
    return ["env"] + [k for k in keys if k != "env"]


def group_runs(runs, ignore=(), by=None):
    """Runs grouped by their config minus the seed (or by the keys `by`; by default, for the runs of
    one sweep, by its swept options), in first-seen order; each group gets a label naming the env
    and the settings that distinguish it from the other groups of the same env."""
    if by is None and not ignore:
        by = sweep_keys(runs)
    groups = {}
    for r in runs:
        groups.setdefault((r.env, config_key(r, ignore, by)), []).append(r)
    out = [Group(k[1], v) for k, v in groups.items()]
    by_env = {}
    for g in out:
        by_env.setdefault(g.env, []).append(g)
    for env, gs in by_env.items():
        differing = set()
        if len(gs) > 1:
            dicts = [dict(g.key) for g in gs]
            keys = set().union(*dicts)
            differing = {k for k in keys if len({d.get(k) for d in dicts}) > 1}
        # the settings a reader looks for first lead; long lists are cut so legends stay readable
        first = [k for k in LABEL_FIRST if k in differing]
        ordered = first + sorted(k for k in differing if k not in first and k != "env")
        for g in gs:
            d = dict(g.key)
            parts = ["%s=%s" % (k, _fmt(d.get(k))) for k in ordered[:LABEL_MAX_KEYS]]
            if len(ordered) > LABEL_MAX_KEYS:
                parts.append("…")
            g.label = env + (" " + " ".join(parts) if parts else "")
    return out


LABEL_FIRST = ("algo", "ranks", "envs_per_rank", "lr", "hidden")
LABEL_MAX_KEYS = 3


def _fmt(v):
    if isinstance(v, float):
        return "%g" % v
    return str(v)


def seeds_text(runs):
    seeds = [r.seed for r in runs]
    if len(runs) == 1:
        return "seed %s" % seeds[0]
    return "%d seeds" % len(runs)


def rolling_return(run, window):
    """Per update: mean return of the last `window` episodes finished up to that update, and the
    number of episodes finished so far. From /episodes when present, else from
    /metrics/return_mean (then `count` is the cumulative /metrics/episodes, and the mean is over
    the last `window` updates that finished episodes, weighted by their episode counts)."""
    upd = run.metric("update")
    if run.episodes and len(run.episodes.get("return", ())):
        e_upd = run.episodes["update"]
        order = np.argsort(e_upd, kind="stable")
        rets = run.episodes["return"][order].astype(np.float64)
        counts = np.searchsorted(e_upd[order], upd, side="right")
    else:
        rm = run.metric("return_mean")
        n = run.metrics.get("episodes", np.where(np.isnan(rm), 0, 1))
        ok = ~np.isnan(rm) & (n > 0)
        rets = np.repeat(rm[ok], n[ok])
        counts = np.cumsum(np.where(ok, n, 0))
    csum = np.concatenate([[0.0], np.cumsum(rets)])
    lo = np.maximum(0, counts - window)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (csum[counts] - csum[lo]) / (counts - lo)
    mean[counts == 0] = np.nan
    return mean, counts


def run_stats(run, window):
    """The numbers of the summary table for one run (see analysis/README.md for definitions)."""
    steps = run.metric("global_step")
    wall = run.metric("wall_time")
    mean, counts = rolling_return(run, window)
    total_eps = int(counts[-1]) if len(counts) else 0
    out = dict(updates=len(steps), steps=int(steps[-1]) if len(steps) else 0,
               wall_time=float(wall[-1]) if len(wall) else float("nan"), episodes=total_eps)
    out["steps_per_second"] = (out["steps"] / out["wall_time"]
                               if out["wall_time"] and out["wall_time"] > 0 else float("nan"))
    out["final_return"] = float(mean[-1]) if len(mean) else float("nan")
    full = counts >= min(window, total_eps) if total_eps else np.zeros(len(counts), bool)
    best = mean[full][~np.isnan(mean[full])]  # all NaN in a damaged log: no best, and no warning
    out["best_return"] = float(best.max()) if len(best) else float("nan")
    thr = run.threshold
    out["threshold"] = thr
    out["solved"] = False
    out["solved_step"] = None
    out["solved_time"] = None
    if thr is not None:
        hit = np.flatnonzero((counts >= window) & (mean >= thr))
        if len(hit):
            i = int(hit[0])
            out.update(solved=True, solved_step=int(steps[i]), solved_time=float(wall[i]))
    return out


# -- figures ----------------------------------------------------------------------------------
def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "axes.grid": True,
                         "grid.alpha": 0.3, "font.size": 10, "legend.fontsize": 8,
                         "axes.titlesize": 11})
    return plt


def slug(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "run"


def save_figure(fig, out_dir, stem, formats, tight=False):
    """Writes fig as out_dir/stem.<fmt> for each format; returns the paths. Figures lay
    themselves out (tight_layout); tight=True also crops to the drawn area (slower)."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for fmt in formats:
        p = os.path.join(out_dir, "%s.%s" % (slug(stem), fmt))
        fig.savefig(p, format=fmt, **({"bbox_inches": "tight"} if tight else {}))
        paths.append(p)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return paths


def fmt_num(v, digits=1):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return "%.*f" % (digits, v)
