"""`returns`: histogram of the returns of the last N episodes, per config group (seeds pooled)."""

import numpy as np

from .common import (claim_figure, group_runs, lay_out_with_legend, pyplot, save_figure, seeds_text,
                     wrap_label)
from .logfile import MissingData


def last_returns(run, n):
    """Returns of the last n finished episodes of a run, in finishing order (by update)."""
    eps = run.require_episodes()
    order = np.argsort(eps["update"], kind="stable")
    rets = eps["return"][order].astype(float)
    rets = rets[np.isfinite(rets)]  # a damaged log's NaN rows cannot be binned
    if len(rets) == 0:
        raise MissingData("%s: no finite episode return in /episodes/return" % run.path)
    return rets[-n:]


def figure_for_env(env, groups, args):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 5))
    data = [np.concatenate([last_returns(r, args.last) for r in g.runs]) for g in groups]
    allv = np.concatenate(data)
    lo, hi = float(allv.min()), float(allv.max())
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, args.bins + 1)
    for i, (g, vals) in enumerate(zip(groups, data)):
        col = "C%d" % (i % 10)
        # one legend entry per group: its histogram and its mean (dash-dotted) share the colour
        ax.hist(vals, bins=edges, color=col, alpha=0.45 if len(groups) > 1 else 0.75,
                edgecolor=col, label=wrap_label("%s (%s, %d episodes, mean %.1f)" % (
                    g.label, seeds_text(g.runs), len(vals), float(np.mean(vals)))))
        ax.axvline(float(np.mean(vals)), color=col, lw=2, ls="-.")
    thr = groups[0].threshold
    if thr is not None:
        ax.axvline(thr, color="crimson", ls="--", lw=1.5, label="solve threshold (%g)" % thr)
    ax.set_xlabel("episodic return")
    ax.set_ylabel("episodes")
    ax.set_title("%s: returns of the last %d episodes per run" % (env, args.last))
    lay_out_with_legend(fig, ax, *ax.get_legend_handles_labels())
    return fig


def run(args, runs, log):
    groups = group_runs(runs, ignore=args.ignore, by=args.group_by)
    for g in groups:
        for r in g.runs:
            r.require_episodes()
    written = []
    envs = []
    for g in groups:
        if g.env not in envs:
            envs.append(g.env)
    paths = {env: claim_figure(args, "returns_%s" % env) for env in envs}
    for env in envs:
        fig = figure_for_env(env, [g for g in groups if g.env == env], args)
        written += save_figure(fig, args.outputs, paths[env], tight=True)  # holds a legend below
    return written
