"""`export`: the CSV files hold exactly the log's /metrics and /episodes values (as the validated
reader loads them: superseded rows of a resumed run dropped), one file pair per run, and say that no
TensorBoard files are written."""

import csv
import os
import subprocess

import h5py
import numpy as np
import pytest

from analysis.logfile import EPISODE_COLUMNS, EVAL_COLUMNS, METRIC_COLUMNS
from analysis.tests import real_trainer, synth_log


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def column(rows, head, name):
    i = head.index(name)
    return [r[i] for r in rows]


def as_float(cells):
    return np.array([float(c) if c else np.nan for c in cells])


def assert_group_equal(path, group, csv_path, names):
    head, rows = read_csv(csv_path)
    with h5py.File(path, "r") as f:
        g = f[group]
        assert head == [n for n in names if n in g]
        for name in head:
            data = g[name][()]
            cells = column(rows, head, name)
            if data.dtype.kind in "iub":
                assert [int(c) for c in cells] == data.tolist(), name
            else:  # full precision: every value round-trips exactly; NaN as an empty cell
                np.testing.assert_array_equal(as_float(cells), data.astype(np.float64), err_msg=name)
    return head, rows


def test_export_matches_datasets(run_cli, tmp_path):
    run = synth_log.make_run("Acrobot-v1", 3, 15, trajectories=False)
    run["metrics"]["return_mean"][2] = np.nan  # an update without finished episodes
    p = synth_log.write_log(str(tmp_path / "acro.h5"), run)
    code, _out, err = run_cli("export", p, "--out", tmp_path / "o")
    assert code == 0, err
    out = str(tmp_path / "o")
    assert sorted(os.listdir(out)) == ["acro_episodes.csv", "acro_metrics.csv"]
    assert "wrote %s" % os.path.join(out, "acro_metrics.csv") in err
    head, rows = assert_group_equal(p, "metrics", os.path.join(out, "acro_metrics.csv"), METRIC_COLUMNS)
    assert len(rows) == 15 and column(rows, head, "return_mean")[2] == ""
    _h, rows = assert_group_equal(p, "episodes", os.path.join(out, "acro_episodes.csv"), EPISODE_COLUMNS)
    assert len(rows) == len(run["episodes"]["return"]) > 0


def test_export_resumed_log_drops_superseded_rows(run_cli, tmp_path):
    p = synth_log.write_log(str(tmp_path / "res.h5"), synth_log.resumed(
        updates=30, crash_after=20, checkpoint=12, trajectories=False))
    code, _out, err = run_cli("export", p, "--out", tmp_path / "o")
    assert code == 0, err
    head, rows = read_csv(str(tmp_path / "o" / "res_metrics.csv"))
    assert [int(u) for u in column(rows, head, "update")] == list(range(1, 31))
    wall = as_float(column(rows, head, "wall_time"))
    assert np.all(np.diff(wall) > 0)  # made cumulative across the restart
    head, rows = read_csv(str(tmp_path / "o" / "res_episodes.csv"))
    assert np.all(np.diff([int(u) for u in column(rows, head, "update")]) >= 0)


def test_export_without_episodes_group(run_cli, tmp_path):
    p = synth_log.write_log(str(tmp_path / "ne.h5"), synth_log.make_run(updates=5, trajectories=False),
                            omit=("episodes",))
    code, _out, err = run_cli("export", p, "--out", tmp_path / "o")
    assert code == 0, err
    assert os.listdir(tmp_path / "o") == ["ne_metrics.csv"]
    assert "no /episodes group in the log: wrote the metrics only" in err


def test_export_real_log(run_cli, real_logs, tmp_path):
    code, _out, err = run_cli("export", real_logs["s1"], real_logs["s2"], "--out", tmp_path)
    assert code == 0, err
    for key, name in (("s1", "run_s1"), ("s2", "run_s2")):
        head, rows = assert_group_equal(real_logs[key], "metrics", str(tmp_path / (name + "_metrics.csv")),
                                        METRIC_COLUMNS)
        assert "time_comm_max" in head and len(rows) > 1
        assert_group_equal(real_logs[key], "episodes", str(tmp_path / (name + "_episodes.csv")),
                           EPISODE_COLUMNS)


def test_export_help_says_csv_only(run_cli):
    code, out, _err = run_cli("export", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "CSV only" in text and "TensorBoard" in text and "--formats" not in text


@pytest.mark.parametrize("bad", ["nope.h5"])
def test_export_missing_log(run_cli, tmp_path, bad):
    code, _out, err = run_cli("export", tmp_path / bad, "--out", tmp_path / "o")
    assert code == 3 and err.strip() == "ppo-analyze: error: %s: no such file" % (tmp_path / bad)
    assert not os.path.exists(tmp_path / "o")


def test_eval_rows_in_export_and_summary(run_cli, tmp_path):
    """A run with --eval-every: export writes /eval exactly as <run>_eval.csv, and summary's best eval is
    the largest /eval/return_mean with its update."""
    binary = real_trainer.trainer_binary()
    if not binary:
        pytest.skip("no ppo binary (build it, or set PPO_BIN)")
    log = str(tmp_path / "ev.h5")
    subprocess.run([binary, "--total-steps", "10240", "--eval-every", "5", "--eval-every-episodes", "4",
                    "--log", log], check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS="1"))
    code, out, err = run_cli("export", log, "--out", tmp_path / "o")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "o")) == ["ev_episodes.csv", "ev_eval.csv", "ev_metrics.csv"]
    _h, rows = assert_group_equal(log, "eval", str(tmp_path / "o" / "ev_eval.csv"), EVAL_COLUMNS)
    assert len(rows) == 8
    code, out, err = run_cli("summary", log, "--table", "csv", "--out", tmp_path / "s")
    assert code == 0, err
    row = dict(zip(*[r for r in csv.reader(out.splitlines())][:2]))
    with h5py.File(log, "r") as f:
        assert float(row["best_eval"]) == f["eval/return_mean"][()].max()
    code, out, err = run_cli("summary", log, "--out", tmp_path / "t")
    best = float(row["best_eval"])
    with h5py.File(log, "r") as f:
        update = int(f["eval/update"][int(f["eval/return_mean"][()].argmax())])
    assert "%.1f (%d)" % (best, update) in out
