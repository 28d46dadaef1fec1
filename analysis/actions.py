"""`actions`: how the action distribution evolves over training, from the recorded trajectories.

Discrete envs: a heatmap of action frequencies (rows: actions, columns: updates with recorded
episodes, binned to at most --max-columns columns). Continuous envs: per action dimension, the mean
and ± 1 std of the sampled (unclipped) actions per update, with the env's action bounds.
"""

import numpy as np

from .common import claim_figure, pyplot, save_figure
from .logfile import MAX_DISCRETE_ACTIONS, NotPpoLog
from .render import ACTION_NAMES, action_bounds, env_family


def _bins(updates, max_cols):
    """Column edges over the distinct recorded updates (at most max_cols columns)."""
    uniq = np.unique(updates)
    if len(uniq) <= max_cols:
        return [(u, u) for u in uniq]
    chunks = np.array_split(uniq, max_cols)
    return [(c[0], c[-1]) for c in chunks if len(c)]


def discrete_frequencies(actions, updates, n_actions, max_cols):
    cols = _bins(updates, max_cols)
    freq = np.zeros((n_actions, len(cols)))
    counts = np.zeros(len(cols), dtype=int)
    a = np.rint(actions[:, 0]).astype(int)
    for j, (lo, hi) in enumerate(cols):
        sel = (updates >= lo) & (updates <= hi)
        counts[j] = sel.sum()
        if counts[j]:
            freq[:, j] = np.bincount(np.clip(a[sel], 0, n_actions - 1),
                                     minlength=n_actions)[:n_actions] / counts[j]
    return cols, freq, counts


def continuous_stats(actions, updates):
    uniq = np.unique(updates)
    mean = np.array([actions[updates == u].mean(axis=0) for u in uniq])
    std = np.array([actions[updates == u].std(axis=0) for u in uniq])
    return uniq, mean, std


def figure_for_run(r, args):
    plt = pyplot()
    acts, upd = r.trajectory_actions()
    if len(acts) == 0:
        from .logfile import MissingData
        raise MissingData("%s: /trajectories holds no steps" % r.path)
    if r.action_kind == "discrete":
        a = acts[:, 0]
        n = r.config_count("action_count", MAX_DISCRETE_ACTIONS) or int(np.rint(a.max())) + 1
        if a.min() < 0 or a.max() > min(n, MAX_DISCRETE_ACTIONS) - 1:
            raise NotPpoLog("%s: not a valid ppo log (/trajectories/actions holds %g, outside the %d "
                            "discrete actions)" % (r.path, a.min() if a.min() < 0 else a.max(), n))
        cols, freq, counts = discrete_frequencies(acts, upd, n, args.max_columns)
        fig, ax = plt.subplots(figsize=(max(7, min(16, 3 + 0.35 * len(cols))), 1.6 + 0.7 * n))
        im = ax.imshow(freq, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1,
                       interpolation="nearest")
        names = ACTION_NAMES.get(env_family(r.env) or "")
        ax.set_yticks(range(n))
        ax.set_yticklabels(["%d: %s" % (i, names[i]) if names and i < len(names) else str(i)
                            for i in range(n)])
        step = max(1, len(cols) // 12)
        ticks = list(range(0, len(cols), step))
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(cols[j][0]) if cols[j][0] == cols[j][1]
                            else "%d–%d" % cols[j] for j in ticks], rotation=45, ha="right")
        ax.set_xlabel("update (recorded episodes)")
        ax.set_ylabel("action")
        ax.grid(False)
        cb = fig.colorbar(im, ax=ax)
        cb.set_label("frequency in recorded steps")
        if len(cols) <= 30 and n <= 6:
            for j in range(len(cols)):
                for i in range(n):
                    ax.text(j, i, "%.2f" % freq[i, j], ha="center", va="center", fontsize=7,
                            color="white" if freq[i, j] < 0.6 else "black")
        ax.set_title("%s (%s): action frequencies over training" % (r.env, r.name))
    else:
        uniq, mean, std = continuous_stats(acts, upd)
        dims = acts.shape[1]
        fig, axes = plt.subplots(dims, 1, figsize=(9, 1.2 + 2.1 * dims), sharex=True,
                                 squeeze=False)
        bounds = action_bounds(r.env)
        for d, ax in enumerate(axes[:, 0]):
            ax.plot(uniq, mean[:, d], "o-", color="C0", lw=1.5, ms=3, label="mean")
            ax.fill_between(uniq, mean[:, d] - std[:, d], mean[:, d] + std[:, d], color="C0",
                            alpha=0.25, lw=0, label="± 1 std")
            if bounds:
                for b in bounds:
                    ax.axhline(b, color="crimson", ls="--", lw=1)
                ax.plot([], [], color="crimson", ls="--", label="action bounds (env clips)")
            ax.set_ylabel("action[%d]" % d)
            if d == 0:
                ax.legend(loc="best")
        axes[-1, 0].set_xlabel("update (recorded episodes)")
        axes[0, 0].set_title("%s (%s): sampled actions over training" % (r.env, r.name))
    fig.tight_layout()
    return fig


def run(args, runs, log):
    for r in runs:
        r.require_trajectories()
    paths = [claim_figure(args, "actions_%s" % r.name) for r in runs]
    written = []
    for r, r_paths in zip(runs, paths):
        written += save_figure(figure_for_run(r, args), args.outputs, r_paths)
    return written
