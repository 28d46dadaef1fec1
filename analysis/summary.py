"""`summary`: one table of runs (terminal, CSV, Markdown, and a PNG rendering of it)."""

import csv
import io

from .common import fmt_num, group_runs, pyplot, run_stats, save_figure

COLUMNS = [  # (key, header)
    ("run", "run"), ("env", "env"), ("seed", "seed"), ("layout", "ranks x threads"),
    ("updates", "updates"), ("steps", "steps"), ("wall_time", "wall time (s)"),
    ("steps_per_second", "steps/s"), ("episodes", "episodes"),
    ("final_return", "final return"), ("best_return", "best return"),
    ("threshold", "threshold"), ("solved", "solved"), ("solved_step", "solved at step"),
    ("solved_time", "solved at (s)"), ("note", "note"), ("best_eval", "best eval (update)"),
    ("options", "options"),  # last, so the columns before it keep their places in the CSV
]


def rows_for(runs, window):
    """One row per run; `options` names the settings that set its config apart from the other
    runs' of its env (as the figures' group labels do; seeds and bookkeeping do not count)."""
    options = {}
    for g in group_runs(runs):
        for r in g.runs:
            options[id(r)] = g.options
    rows = []
    for r in runs:
        s = run_stats(r, window)
        s.update(run=r.name, env=r.env, seed=r.seed, options=options[id(r)],
                 layout="%s x %s" % (r.config.get("ranks", "?"),
                                     r.config.get("threads_per_rank", "?")),
                 note="resumed" if r.resumed else "", best_eval=_best_eval(r))
        rows.append(s)
    return rows


def _best_eval(r):
    """(best /eval/return_mean, its update), or None for a run without evaluations during training."""
    if not r.evals or not len(r.evals["return_mean"]):
        return None
    i = int(r.evals["return_mean"].argmax())
    return float(r.evals["return_mean"][i]), int(r.evals["update"][i])


def _cell(key, v):
    if key == "best_eval":
        return "" if v is None else "%s (%d)" % (fmt_num(v[0], 1), v[1])
    if key == "solved":
        return "yes" if v else "no"
    if key in ("wall_time", "solved_time"):
        return fmt_num(v, 1)
    if key == "steps_per_second":
        return fmt_num(v, 0)
    if key in ("final_return", "best_return", "threshold"):
        return fmt_num(v, 1)
    if v is None:
        return "-"
    return str(v)


def table_cells(rows):
    head = [h for _k, h in COLUMNS]
    body = [[_cell(k, row.get(k)) for k, _h in COLUMNS] for row in rows]
    return head, body


TEXT_COLUMNS = ("run", "env", "note", "options")  # left-aligned in the text table


def _drop_empty(head, body, keys=("options", "note", "best_eval")):
    """Leaves out the optional columns no row fills (a single config, no resumed run); returns
    the kept columns' keys too."""
    keep = [i for i, (k, _h) in enumerate(COLUMNS) if k not in keys or any(b[i] for b in body)]
    return [head[i] for i in keep], [[b[i] for i in keep] for b in body], [COLUMNS[i][0] for i in keep]


def as_text(rows):
    head, body, keys = _drop_empty(*table_cells(rows))
    widths = [max(len(head[i]), *(len(b[i]) for b in body)) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) if k in TEXT_COLUMNS else c.rjust(w)
                                   for c, w, k in zip(cells, widths, keys)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])


def as_markdown(rows):
    head, body = table_cells(rows)
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(b) + " |" for b in body]
    return "\n".join(out)


def as_csv(rows):
    """Machine-readable: raw numbers (full precision), empty cells for missing values."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([k for k, _h in COLUMNS])
    for row in rows:
        vals = []
        for k, _h in COLUMNS:
            v = row.get(k)
            if k == "best_eval" and v is not None:  # the mean; its update is in the text tables
                v = v[0]
            if v is None or (isinstance(v, float) and v != v):
                vals.append("")
            elif isinstance(v, float):
                vals.append(repr(v))
            else:
                vals.append(v)
        w.writerow(vals)
    return buf.getvalue()


def figure(rows, window):
    plt = pyplot()
    head, body, _keys = _drop_empty(*table_cells(rows))
    fig, ax = plt.subplots(figsize=(min(24, 1.1 * len(head) + 2), 0.9 + 0.32 * (len(body) + 1)))
    ax.axis("off")
    tab = ax.table(cellText=body, colLabels=head, loc="center", cellLoc="right")
    tab.auto_set_font_size(False)
    tab.set_fontsize(8)
    tab.auto_set_column_width(list(range(len(head))))
    for (r, _c), cell in tab.get_celld().items():
        if r == 0:
            cell.set_facecolor("#dde5f0")
            cell.set_text_props(weight="bold")
        elif r % 2 == 0:
            cell.set_facecolor("#f5f5f5")
    for i, row in enumerate(rows, start=1):
        col = head.index("solved")
        tab[i, col].set_facecolor("#c8ecc8" if row["solved"] else "#f6d5d5")
    ax.set_title("ppo runs (returns: mean of the last %d episodes)" % window)
    return fig


def run(args, runs, log):
    rows = rows_for(runs, args.window)
    out = args.outputs
    (csv_path,), (md_path,) = out.claim("summary", ["csv"]), out.claim("summary", ["md"])
    fig_paths = out.claim("summary", args.formats)
    text = {"text": as_text, "csv": as_csv, "markdown": as_markdown}[args.table](rows)
    print(text.rstrip("\n"))
    written = []
    for p, fn in ((csv_path, as_csv), (md_path, as_markdown)):
        written.append(out.write_text(p, fn(rows).rstrip("\n") + "\n"))
        out.note([p])
    written += save_figure(figure(rows, args.window), out, fig_paths, tight=True)
    return written
