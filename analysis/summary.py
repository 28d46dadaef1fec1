"""`summary`: one table of runs (terminal, CSV, Markdown, and a PNG rendering of it)."""

import csv
import io
import os

from .common import fmt_num, pyplot, run_stats, save_figure

COLUMNS = [  # (key, header)
    ("run", "run"), ("env", "env"), ("seed", "seed"), ("layout", "ranks x threads"),
    ("updates", "updates"), ("steps", "steps"), ("wall_time", "wall time (s)"),
    ("steps_per_second", "steps/s"), ("episodes", "episodes"),
    ("final_return", "final return"), ("best_return", "best return"),
    ("threshold", "threshold"), ("solved", "solved"), ("solved_step", "solved at step"),
    ("solved_time", "solved at (s)"), ("note", "note"),
]


def rows_for(runs, window):
    rows = []
    for r in runs:
        s = run_stats(r, window)
        s.update(run=r.name, env=r.env, seed=r.seed,
                 layout="%s x %s" % (r.config.get("ranks", "?"),
                                     r.config.get("threads_per_rank", "?")),
                 note="resumed" if r.resumed else "")
        rows.append(s)
    return rows


def _cell(key, v):
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


def as_text(rows):
    head, body = table_cells(rows)
    widths = [max(len(head[i]), *(len(b[i]) for b in body)) for i in range(len(head))]
    line = lambda cells: "  ".join(c.rjust(w) if i > 1 else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
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
    head, body = table_cells(rows)
    keep = [i for i, (k, _h) in enumerate(COLUMNS) if k != "note" or any(b[i] for b in body)]
    head = [head[i] for i in keep]
    body = [[b[i] for i in keep] for b in body]
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
    text = {"text": as_text, "csv": as_csv, "markdown": as_markdown}[args.table](rows)
    print(text.rstrip("\n"))
    os.makedirs(args.out, exist_ok=True)
    written = []
    for name, fn in (("summary.csv", as_csv), ("summary.md", as_markdown)):
        p = os.path.join(args.out, name)
        with open(p, "w") as f:
            f.write(fn(rows).rstrip("\n") + "\n")
        written.append(p)
    written += save_figure(figure(rows, args.window), args.out, "summary", args.formats,
                           tight=True)
    return written
