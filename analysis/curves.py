"""`curves`: learning curves (return vs env steps and vs wall time), runs grouped by config with
the mean across seeds and a shaded band (std or min-max), and the env's solve threshold."""

import warnings

import numpy as np

from .common import (claim_figure, group_runs, lay_out_with_legend, pyplot, rolling_return,
                     save_figure, seeds_text, wrap_label)

GRID_POINTS = 300


def group_curve(runs, xkey, window, band):
    """Common x grid over the range all seeds cover, the mean across seeds and the band (lo, hi);
    seeds without a value yet at some x (no finished episode) are left out there."""
    xs, ys = [], []
    for r in runs:
        y, _counts = rolling_return(r, window)
        x = r.metric(xkey).astype(float)
        ok = ~np.isnan(y)
        if ok.sum() >= 1:
            xs.append(x[ok])
            ys.append(y[ok])
    if not xs:
        return None
    lo = max(x[0] for x in xs)
    hi = min(x[-1] for x in xs)
    if hi <= lo:  # seeds do not overlap (e.g. one just started): show the union instead
        lo, hi = min(x[0] for x in xs), max(x[-1] for x in xs)
    grid = np.linspace(lo, hi, GRID_POINTS) if hi > lo else np.array([lo])
    mat = np.full((len(xs), len(grid)), np.nan)
    for i, (x, y) in enumerate(zip(xs, ys)):
        inside = (grid >= x[0]) & (grid <= x[-1])
        mat[i, inside] = np.interp(grid[inside], x, y)
    with warnings.catch_warnings():  # all-NaN columns (no seed there yet) stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(mat, axis=0)
        if band == "minmax":
            blo, bhi = np.nanmin(mat, axis=0), np.nanmax(mat, axis=0)
        else:
            sd = np.nanstd(mat, axis=0)
            blo, bhi = mean - sd, mean + sd
    return dict(x=grid, mean=mean, lo=blo, hi=bhi, n=len(xs), runs=mat)


def figure_for_env(env, groups, args):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    panels = (("global_step", "env steps"), ("wall_time", "wall time (s)"))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    thr = groups[0].threshold
    drew = False
    for ax, (xkey, xlabel) in zip(axes, panels):
        for gi, g in enumerate(groups):
            c = group_curve(g.runs, xkey, args.window, args.band)
            if c is None:
                continue
            drew = True
            col = colors[gi % len(colors)]
            label = wrap_label("%s (%s)" % (g.label, seeds_text(g.runs)))
            ax.plot(c["x"], c["mean"], color=col, lw=2,
                    label=label if c["n"] == 1 else label + ", mean")
            if c["n"] > 1 and args.band != "none":
                ax.fill_between(c["x"], c["lo"], c["hi"], color=col, alpha=0.22, lw=0,
                                label="± 1 std across seeds" if args.band == "std"
                                else "min–max across seeds")
                if args.show_seeds:
                    for row in c["runs"]:
                        ax.plot(c["x"], row, color=col, lw=0.6, alpha=0.5)
        if thr is not None:
            ax.axhline(thr, color="crimson", ls="--", lw=1.3,
                       label="solve threshold (%g)" % thr)
        ax.set_xlabel(xlabel)
        ax.set_title("return vs %s" % xlabel.split(" (")[0])
    axes[0].set_ylabel("episodic return (mean of last %d episodes)" % args.window)
    if not drew:
        plt.close(fig)
        return None
    handles, labels = axes[0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    fig.suptitle("%s: learning curves" % env, fontsize=13)
    lay_out_with_legend(fig, axes[0], list(uniq.values()), list(uniq.keys()))
    return fig


def run(args, runs, log):
    groups = group_runs(runs, ignore=args.ignore, by=args.group_by)
    envs = []
    for g in groups:
        if g.env not in envs:
            envs.append(g.env)
    paths = {env: claim_figure(args, "curves_%s" % env) for env in envs}
    written = []
    for env in envs:
        gs = [g for g in groups if g.env == env]
        for g in gs:
            for r in g.runs:
                r.metric("global_step"), r.metric("wall_time")
                r.require_updates()
                if not (r.episodes and len(r.episodes.get("return", ()))):
                    r.metric("return_mean")
        fig = figure_for_env(env, gs, args)
        if fig is None:
            log("%s: no finished episodes yet, no curve to draw" % env)
            continue
        written += save_figure(fig, args.outputs, paths[env], tight=True)  # holds a legend below
    if not written:
        from .logfile import MissingData
        raise MissingData("no run has a finished episode yet: nothing to plot")
    return written
