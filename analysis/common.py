"""Shared pieces: grouping runs by config, rolling returns, figure saving."""

import difflib
import os
import textwrap

import numpy as np

from .logfile import UsageError
from .outputs import figure_labels

# /config keys that differ between seeds of one experiment without changing it: the seed itself
# and the run's context (when and where it ran, which files it wrote).
# total_steps too: a longer run of the same experiment (or one stopped early) is still the same
# experiment, and `threads` is only the request (threads_per_rank is what ran). Evaluation during
# training (eval_every, eval_every_episodes) leaves the training bit for bit as it was.
IGNORED_FOR_GROUPING = {"seed", "run_id", "start_time", "hostnames", "version", "onednn_isa", "log", "log_trajectories",
                        "checkpoint", "checkpoint_every", "resume", "run_name", "out", "save",
                        "force", "config", "progress_interval", "progress", "eval_episodes", "check_params",
                        "total_steps", "threads", "eval_every", "eval_every_episodes"}


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
        self.options = ""  # the label without the env: the settings that tell this group apart

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
    if by:
        check_group_keys(runs, by)
    if ignore:
        check_group_keys(runs, ignore, "--ignore")
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
        # every differing setting is named (labels and the file names made from them must tell
        # all groups apart); the ones a reader looks for first lead
        first = [k for k in LABEL_FIRST if k in differing]
        ordered = first + sorted(k for k in differing if k not in first and k != "env")
        for g in gs:
            d = dict(g.key)
            g.options = " ".join("%s=%s" % (k, _fmt(d.get(k))) for k in ordered)
            g.label = env + (" " + g.options if g.options else "")
    seen = {}
    for g in out:  # values that print alike (1 and "1"): still two labels
        n = seen[g.label] = seen.get(g.label, 0) + 1
        if n > 1:
            g.label += " #%d" % n
            g.options = ("%s #%d" % (g.options, n)).strip()
    return out


LABEL_FIRST = ("algo", "ranks", "envs_per_rank", "lr", "hidden")


def check_group_keys(runs, keys, option="--group-by"):
    """Refuses a --group-by (or --ignore) key no run has in its /config (a typo grouped every run as
    one, key=None; or ignored nothing). The keys are the logs' own: the trainer's options change, so
    no fixed list here. A key only some runs have (logs of an older trainer) is allowed."""
    have = set().union(*(r.config for r in runs)) if runs else set()
    for k in keys:
        if k in have:
            continue
        near = difflib.get_close_matches(k, sorted(have), n=3)
        if near:
            hint = "did you mean %s?" % " or ".join(near)
        else:  # the keys worth grouping by: those that differ between the runs, else the usual ones
            some = [d for d in sorted(have - IGNORED_FOR_GROUPING)
                    if len({repr(_hashable(r.config.get(d))) for r in runs}) > 1]
            some = some or [d for d in ("env",) + LABEL_FIRST if d in have] or sorted(have)
            hint = "e.g. %s" % ", ".join(some[:8] + ["..."] * (len(some) > 8)) if some else "/config is empty"
        raise UsageError("%s: %r is not a /config key of these logs (%s)" % (option, k, hint))


def _fmt(v):
    if isinstance(v, float):
        short = "%g" % v
        return short if float(short) == v or v != v else repr(v)  # never round two values into one
    return str(v)


def unique_run_names(runs):
    """Sets each run's `name` (its file name without .h5) so that no two runs of one invocation
    share one: runs whose file names repeat (the same name in several directories) are prefixed
    with as many parent directories as tell them apart, or numbered."""
    paths = [os.path.abspath(r.path) for r in runs]
    names = [r.name for r in runs]
    depth = 0
    while len(set(names)) < len(names) and depth < 8:
        depth += 1
        counts = {}
        for n in names:
            counts[n] = counts.get(n, 0) + 1
        for i, r in enumerate(runs):
            if counts[names[i]] > 1:
                parts = paths[i].split(os.sep)[:-1][-depth:]
                names[i] = "_".join([p for p in parts if p] + [r.name])
    seen = {}
    for i, n in enumerate(names):
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:  # the same file given twice
            names[i] = "%s_%d" % (n, seen[n])
    for r, n in zip(runs, names):
        r.name = n
    return runs


def wrap_label(text, width=64):
    """A long label on several lines, broken between options only (so no option is split)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def lay_out_with_legend(fig, ax, handles, labels):
    """tight_layout, and the legend: inside `ax` where it fits best, or, when a label is wrapped
    (many differing options), below the panels, where it hides no data (save with tight=True so the
    figure grows to hold it)."""
    if any("\n" in label for label in labels):
        fig.tight_layout()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2,
                   fontsize="small")
    else:
        ax.legend(handles, labels, loc="best", fontsize="small")
        fig.tight_layout()


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


def claim_figure(args, stem):
    """The paths a figure will be saved to (one per --formats), claimed in args.outputs."""
    return args.outputs.claim(stem, args.formats)


def save_figure(fig, outputs, paths, tight=False):
    """Writes fig to each claimed path (format from the extension) and closes it; returns the
    paths. Figures lay themselves out (tight_layout); tight=True also crops to the drawn area."""
    import matplotlib.pyplot as plt
    try:
        for p in paths:
            fmt = os.path.splitext(p)[1][1:]
            outputs.publish(p, lambda tmp, fmt=fmt: fig.savefig(
                tmp, format=fmt, **({"bbox_inches": "tight"} if tight else {})))
        outputs.note(paths, **figure_labels(fig))
    finally:
        plt.close(fig)
    return paths


def fmt_num(v, digits=1):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return "%.*f" % (digits, v)
