"""`diagnostics`: the PPO health panel over updates, with reference ranges marked.

Where the marked ranges come from (they are rules of thumb, not hard limits):

* approx_kl: OpenAI Spinning Up's PPO documents `target_kl` as "Roughly what KL divergence we think
  is appropriate between new and old policies after an update ... (Usually small, 0.01 or 0.05.)"
  (spinningup.openai.com, PPO, `target_kl`); the band 0.01-0.05 spans those two values. When the
  run's config has `target_kl`, that value is drawn too.
* explained_variance: Stable-Baselines3's logger documentation ("ev=0 => might as well have
  predicted zero, ev=1 => perfect prediction, ev<0 => worse than just predicting zero",
  stable-baselines3.readthedocs.io, "Logger"): values below 0 are shaded as bad and 1 is the target.
* clip_fraction: 0.1-0.3 is a practitioners' rule of thumb for a clip coefficient of 0.2 (SB3's own
  example PPO output in that logger page shows clip_fraction 0.243); no published bound. Mostly 0
  means the policy barely moves; far above it means steps that are too large.
* entropy: should fall gradually and not collapse to ~0 early (premature convergence). The dotted
  line is the maximum, log(action_count) nats, of a uniform discrete policy (a fact, not a range).
* grad_norm: when the config has `max_grad_norm`, the clipping threshold is drawn (the "37
  implementation details of PPO", Huang et al., ICLR blog track 2022, detail "global gradient
  clipping", use 0.5).
"""

import math

import numpy as np

from .common import claim_figure, group_runs, pyplot, save_figure, seeds_text, wrap_label
from .logfile import MAX_DISCRETE_ACTIONS

GOOD = "#2ca02c"
BAD = "#d62728"

# metric, title, unit, log-scale
PANELS = [
    ("entropy", "policy entropy", "nats", False),
    ("approx_kl", "approx. KL (old ‖ new)", "nats", True),
    ("clip_fraction", "clip fraction", "fraction of samples", False),
    ("explained_variance", "explained variance", "", False),
    ("value_loss", "value loss", "", True),
    ("policy_loss", "policy (surrogate) loss", "", False),
    ("grad_norm", "gradient norm (before clipping)", "L2 norm", False),
    ("learning_rate", "learning rate", "", False),
    ("steps_per_second", "throughput", "env steps / s", False),
]

# Reference bands: metric -> list of (lo, hi, colour, label); see the module docstring for sources.
RANGES = {
    "approx_kl": [(0.01, 0.05, GOOD, "typical 0.01–0.05 (Spinning Up target_kl)")],
    "clip_fraction": [(0.1, 0.3, GOOD, "typical 0.1–0.3 (rule of thumb)")],
    "explained_variance": [(0.0, 1.0, GOOD, "0 < EV ≤ 1, → 1 is better (SB3 docs)"),
                           (-np.inf, 0.0, BAD, "EV < 0: worse than predicting 0")],
}


def algo_title(run):
    """The algorithm as the run's /config names it (logs from before --algo: PPO)."""
    return {"ppo": "PPO", "a2c": "A2C", "reinforce": "REINFORCE"}.get(str(run.config.get("algo", "ppo")), "PPO")


def _float_cfg(cfg, key):
    try:
        v = float(cfg.get(key))
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or v <= 0 else v


def draw_references(ax, metric, group, ymin, ymax):
    cfg = group.runs[0].config
    for lo, hi, colour, label in RANGES.get(metric, []):
        lo_ = max(lo, ymin) if np.isfinite(ymin) else lo
        hi_ = min(hi, ymax) if np.isfinite(ymax) else hi
        if hi_ > lo_:
            ax.axhspan(lo_, hi_, color=colour, alpha=0.12, lw=0, label=label)
    if metric == "explained_variance":
        ax.axhline(1.0, color=GOOD, ls=":", lw=1)
    if metric == "approx_kl":
        t = _float_cfg(cfg, "target_kl")
        if t:
            ax.axhline(t, color="k", ls="--", lw=1, label="target_kl (%g)" % t)
    if metric == "entropy" and group.runs[0].action_kind == "discrete":
        n = group.runs[0].config_count("action_count", MAX_DISCRETE_ACTIONS)
        if n > 1:
            ax.axhline(math.log(n), color="gray", ls=":", lw=1.2,
                       label="max (uniform) = ln %d" % n)
    if metric == "grad_norm":
        t = _float_cfg(cfg, "max_grad_norm")
        if t:
            ax.axhline(t, color="k", ls="--", lw=1, label="max_grad_norm (%g)" % t)


def _line_label(run, runs):
    """"seed S", with the run's name when another run of the group has the same seed."""
    if sum(1 for r in runs if r.seed == run.seed) > 1:
        return "seed %s (%s)" % (run.seed, run.name)
    return "seed %s" % run.seed


def figure_for_group(group, args):
    plt = pyplot()
    fig, axes = plt.subplots(3, 3, figsize=(15, 10.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    missing = []
    for ax, (metric, title, unit, logy) in zip(axes.flat, PANELS):
        have = [r for r in group.runs if metric in r.metrics and len(r.metrics[metric])]
        if not have:
            missing.append(metric)
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes,
                    color="gray")
            ax.set_title(title)
            continue
        vals, xmax = [], 1
        for i, r in enumerate(have):
            x = r.metric("update")
            y = r.metrics[metric].astype(float)
            vals.append(y[np.isfinite(y)])
            xmax = max(xmax, int(x.max()) if len(x) else 1)
            ax.plot(x, y, color=colors[i % len(colors)], lw=1.2,
                    label=_line_label(r, have) if len(have) > 1 else None)
        allv = np.concatenate(vals) if vals else np.array([])
        logy = logy and len(allv) and np.all(allv > 0)
        if logy:
            ax.set_yscale("log")
        ylo, yhi = (float(allv.min()), float(allv.max())) if len(allv) else (0.0, 1.0)
        if logy:
            ylo, yhi = ylo / 1.5, yhi * 1.5
        else:
            pad = 0.08 * ((yhi - ylo) or abs(yhi) or 1.0)
            ylo, yhi = ylo - pad, yhi + pad
        # keep finite reference bands in view even when the data sit far from them
        for rlo, rhi, *_ in RANGES.get(metric, []):
            if np.isfinite(rlo) and np.isfinite(rhi) and metric != "explained_variance":
                ylo = min(ylo, rlo * (0.7 if logy else 1.0))
                yhi = max(yhi, rhi * (1.4 if logy else 1.0))
        if metric == "explained_variance":
            ylo, yhi = min(ylo, -0.1), max(yhi, 1.05)
        draw_references(ax, metric, group, ylo, yhi)
        ax.set_ylim(ylo, yhi)
        ax.set_xlim(0, xmax + 1)
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.set_xlabel("update")
        h, l = ax.get_legend_handles_labels()
        refs = [(hh, ll) for hh, ll in zip(h, l) if not ll.startswith("seed ")]
        if refs:
            ax.legend(*zip(*refs), fontsize=7,
                      loc="lower right" if metric == "explained_variance" else "upper right")
    h, l = axes.flat[0].get_legend_handles_labels()
    seeds = [(hh, ll) for hh, ll in zip(h, l) if ll.startswith("seed ")]
    if seeds:
        fig.legend(*zip(*seeds), loc="upper right", ncol=min(6, len(seeds)), fontsize=8)
    fig.suptitle(wrap_label("%s: %s diagnostics (%s)" % (group.label, algo_title(group.runs[0]),
                                                        seeds_text(group.runs)), 110),
                 fontsize=13,
                 x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig, missing


def run(args, runs, log):
    groups = group_runs(runs, ignore=args.ignore, by=args.group_by)
    paths = [claim_figure(args, "diagnostics_%s" % g.label) for g in groups]
    written = []
    for g, g_paths in zip(groups, paths):
        for r in g.runs:
            r.metric("update")
            r.require_updates()
        fig, missing = figure_for_group(g, args)
        if len(missing) == len(PANELS):
            import matplotlib.pyplot as plt
            plt.close(fig)
            from .logfile import MissingData
            raise MissingData("%s: none of the diagnostic metrics (%s) is logged"
                              % (g.runs[0].path, ", ".join(p[0] for p in PANELS)))
        if missing:
            log("%s: not logged: %s" % (g.label, ", ".join(missing)))
        written += save_figure(fig, args.outputs, g_paths)
    return written
