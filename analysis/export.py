"""`export`: each run's data as CSV files, for pandas, spreadsheets and other plotting tools.

Per run, `<run>_metrics.csv` (the /metrics columns, one row per update) and, when the log has an
/episodes group, `<run>_episodes.csv` (one row per finished episode), and with evaluations during
training (--eval-every), `<run>_eval.csv` (the /eval rows). They hold what the validated
reader (logfile.py) loaded: rows a resumed run superseded are gone and wall_time is cumulative, as in
every other command. Columns are in analysis/README.md. TensorBoard event files are not written:
Debian 12 packages no TensorBoard event writer (no python3-tensorboard), so CSV only."""

import csv
import io

import numpy as np

from .logfile import EPISODE_COLUMNS, EVAL_COLUMNS, METRIC_COLUMNS


def table_csv(columns, names):
    """CSV text of equal-length 1-D columns: a header of `names` (those present), integers as
    integers, reals at full precision (shortest round-trip text), NaN and inf as empty cells."""
    names = [n for n in names if n in columns]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    cells = []
    for n in names:
        col = np.asarray(columns[n])
        if col.dtype.kind in "iub":
            cells.append([str(int(v)) for v in col])
        else:
            cells.append([repr(float(v)) if np.isfinite(v) else "" for v in col.astype(np.float64)])
    for row in zip(*cells):
        w.writerow(row)
    return buf.getvalue()


def run(args, runs, log):
    out = args.outputs
    plans = []  # all paths are claimed before anything is written
    for r in runs:
        metrics = out.claim("%s_metrics" % r.name, ["csv"])[0]
        episodes = out.claim("%s_episodes" % r.name, ["csv"])[0] if r.has_episodes_group else None
        evals = out.claim("%s_eval" % r.name, ["csv"])[0] if r.evals else None
        plans.append((r, metrics, episodes, evals))
    written = []
    for r, metrics, episodes, evals in plans:
        written.append(out.write_text(metrics, table_csv(r.metrics, METRIC_COLUMNS)))
        mine = [metrics]
        if episodes:
            cols = r.episodes or {n: np.zeros(0) for n in EPISODE_COLUMNS}  # none finished yet
            written.append(out.write_text(episodes, table_csv(cols, EPISODE_COLUMNS)))
            mine.append(episodes)
        else:
            log("%s: no /episodes group in the log: wrote the metrics only" % r.path)
        if evals:
            written.append(out.write_text(evals, table_csv(r.evals, EVAL_COLUMNS)))
            mine.append(evals)
        out.note(mine, titles=[r.name])
    return written
