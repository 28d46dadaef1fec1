"""`timing`: where each update's wall time goes, by phase (env stepping, inference, GAE, gradient,
collectives, optimizer, logging), from the /metrics/time_* columns.

One figure per env: a stacked area of the seconds per update of each run (the mean over its ranks),
and, beside it, one stacked bar per run of the mean over its updates, ordered by ranks x threads, with
the slowest rank's total marked, so load imbalance and the cost of the collectives show as ranks are
added. The table printed on the terminal gives the same means."""

import textwrap

import numpy as np

from .common import claim_figure, pyplot, save_figure
from .logfile import PHASES, MissingData

COLORS = {"env": "#1f77b4", "infer": "#ff7f0e", "gae": "#8c564b", "grad": "#2ca02c",
          "comm": "#d62728", "optim": "#9467bd", "log": "#7f7f7f"}
MAX_AREA_PANELS = 6
MAX_UPDATE_SECONDS = 1e6  # no update lasts 11 days; larger values are a damaged file, and would overflow sums


def _layout(run):
    return "%s x %s" % (run.config.get("ranks", "?"), run.config.get("threads_per_rank", "?"))


def _layout_key(run):
    try:
        return (int(run.config.get("ranks")), int(run.config.get("threads_per_rank")), run.name)
    except (TypeError, ValueError):
        return (1 << 30, 1 << 30, run.name)


def _wrap(name, width):
    """A run name on lines of at most `width` characters: whole, so runs stay apart."""
    return "\n".join(textwrap.wrap(name, width, break_on_hyphens=False)) or name


def phase_table(run):
    """(updates, phases) seconds per update, mean over ranks, and the slowest rank's per phase;
    the first update is left out of the means (it pays the one-off start-up costs)."""
    mean = np.stack([np.asarray(run.metric("time_" + p), dtype=float) for p in PHASES], axis=1)
    top = np.stack([np.asarray(run.metric("time_%s_max" % p), dtype=float) for p in PHASES], axis=1)
    for table in (mean, top):  # the file is read as found: refuse what no run writes
        if not np.isfinite(table).all() or (table < 0).any() or (table > MAX_UPDATE_SECONDS).any():
            raise MissingData("%s: /metrics/time_* hold values outside [0, %g] s (non-finite, negative or "
                              "absurd)" % (run.path, MAX_UPDATE_SECONDS))
    return mean, top


def _means(mean, top):
    rows = slice(1, None) if len(mean) > 1 else slice(None)
    return mean[rows].mean(axis=0), top[rows].sum(axis=1).mean()


def text_table(entries):
    head = ["run", "ranks x threads", "steps/s"] + ["%s s" % p for p in PHASES] + ["total s",
                                                                                 "slowest rank s"]
    body = []
    for run, m, slowest, sps in entries:
        body.append([run.name, _layout(run), "%.0f" % sps] + ["%.4f" % v for v in m]
                    + ["%.4f" % m.sum(), "%.4f" % slowest])
    widths = [max(len(head[i]), *(len(b[i]) for b in body)) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])


def figure_for_env(env, runs):
    plt = pyplot()
    runs = sorted(runs, key=_layout_key)
    tables = [(r,) + phase_table(r) for r in runs]
    n_area = min(len(runs), MAX_AREA_PANELS)
    fig = plt.figure(figsize=(6 + 3.2 * n_area, 4.6))
    grid = fig.add_gridspec(1, n_area + 2)
    entries = []
    for i, (run, mean, top) in enumerate(tables):
        m, slowest = _means(mean, top)
        sps = float(np.nanmean(run.metric("steps_per_second")[1:] if run.n_updates > 1
                               else run.metric("steps_per_second")))
        entries.append((run, m, slowest, sps))
        if i >= n_area:
            continue
        ax = fig.add_subplot(grid[0, i])
        x = run.metric("update")
        ax.stackplot(x, mean.T, colors=[COLORS[p] for p in PHASES], labels=PHASES, step="mid")
        ax.plot(x, top.sum(axis=1), color="black", lw=0.8, ls=":", label="slowest rank")
        ax.set_title("%s  (%s)" % (_wrap(run.name, 28), _layout(run)), fontsize=9)
        ax.set_xlabel("update")
        if i == 0:
            ax.set_ylabel("seconds per update (mean over ranks)")
            ax.legend(loc="upper right", fontsize=7, ncol=2)
    ax = fig.add_subplot(grid[0, n_area:])
    labels = ["%s\n%s" % (_layout(r), _wrap(r.name, 18)) for r, _m, _s, _p in entries]
    bottom = np.zeros(len(entries))
    xs = np.arange(len(entries))
    for k, p in enumerate(PHASES):
        vals = np.array([m[k] for _r, m, _s, _p in entries])
        ax.bar(xs, vals, bottom=bottom, color=COLORS[p], label=p, width=0.6)
        bottom += vals
    ax.scatter(xs, [s for _r, _m, s, _p in entries], marker="_", s=400, color="black",
               label="slowest rank", zorder=3)
    for x, (_r, _m, _s, sps) in zip(xs, entries):
        ax.annotate("%.0f steps/s" % sps, (x, bottom[x]), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("seconds per update (mean over updates)")
    ax.set_title("%s: time per update by phase" % env)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig, entries


def run(args, runs, log):
    written = []
    by_env = {}
    for r in runs:
        r.require_updates()
        by_env.setdefault(r.env, []).append(r)
    paths = {env: claim_figure(args, "timing_%s" % env) for env in by_env}
    for env, env_runs in by_env.items():
        fig, entries = figure_for_env(env, env_runs)
        log(text_table(entries))
        written += save_figure(fig, args.outputs, paths[env])
    return written
