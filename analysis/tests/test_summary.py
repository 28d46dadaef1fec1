"""`summary`: the numbers equal values computed directly from the datasets."""

import csv
import io

import h5py
import numpy as np
import pytest

from analysis.tests import synth_log
from analysis.tests.imgcheck import assert_picture


def expected_from_datasets(path, window):
    """The summary's definitions (README), computed independently with plain loops."""
    with h5py.File(path, "r") as f:
        steps = f["metrics/global_step"][()]
        wall = f["metrics/wall_time"][()]
        upd = f["metrics/update"][()]
        e_upd = f["episodes/update"][()]
        e_ret = f["episodes/return"][()]
        thr = float(f["config"].attrs["reward_threshold"])
    means, counts = [], []
    for u in upd:
        finished = [r for uu, r in zip(e_upd, e_ret) if uu <= u]
        counts.append(len(finished))
        means.append(np.mean(finished[-window:]) if finished else np.nan)
    total = len(e_ret)
    best = max(m for m, c in zip(means, counts) if c >= min(window, total))
    solved = [i for i, (m, c) in enumerate(zip(means, counts)) if c >= window and m >= thr]
    return dict(steps=int(steps[-1]), wall_time=float(wall[-1]),
                steps_per_second=float(steps[-1] / wall[-1]), episodes=total,
                final_return=float(np.mean(e_ret[-window:])), best_return=float(best),
                solved=bool(solved), solved_step=int(steps[solved[0]]) if solved else None,
                solved_time=float(wall[solved[0]]) if solved else None, updates=len(upd))


def parse_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("window", [100, 7])
def test_summary_numbers_match_datasets(run_cli, tmp_path, window):
    # a low threshold so that the run solves it part-way
    p = synth_log.write_log(str(tmp_path / "solve.h5"), synth_log.make_run(
        "CartPole-v1", 5, 40, extra_config={"reward_threshold": 150.0}))
    code, out, err = run_cli("summary", p, "--table", "csv", "--window", window,
                             "--out", tmp_path / "o")
    assert code == 0, err
    row = parse_csv(out)[0]
    exp = expected_from_datasets(p, window)
    assert exp["solved"], "test setup: the run should reach the threshold"
    assert int(row["steps"]) == exp["steps"]
    assert int(row["updates"]) == exp["updates"]
    assert int(row["episodes"]) == exp["episodes"]
    for k in ("wall_time", "steps_per_second", "final_return", "best_return", "solved_time"):
        assert float(row[k]) == pytest.approx(exp[k], rel=1e-9), k
    assert row["solved"] == "True"
    assert int(row["solved_step"]) == exp["solved_step"]
    assert row["env"] == "CartPole-v1" and row["seed"] == "5" and row["layout"] == "2 x 1"
    # the same numbers went to summary.csv, and rounded into the text table
    with open(tmp_path / "o" / "summary.csv") as f:
        assert parse_csv(f.read())[0] == row
    code, text, err = run_cli("summary", p, "--window", window, "--out", tmp_path / "o", "--force")
    assert code == 0, err
    assert "%.1f" % exp["final_return"] in text and str(exp["steps"]) in text
    md = (tmp_path / "o" / "summary.md").read_text()
    assert md.startswith("| run | env |") and "| %d |" % exp["steps"] in md
    assert_picture(tmp_path / "o" / "summary.png", min_size=(600, 100), min_ink=0.01)


def test_summary_unsolved_and_no_threshold(run_cli, synth, tmp_path):
    code, out, err = run_cli("summary", synth["pendulum"], synth["cartpole_s1"], "--table", "csv",
                             "--out", tmp_path)
    assert code == 0, err
    rows = {r["env"]: r for r in parse_csv(out)}
    assert rows["Pendulum-v1"]["threshold"] == "" and rows["Pendulum-v1"]["solved"] == "False"
    assert rows["Pendulum-v1"]["solved_step"] == ""
    exp = expected_from_datasets(synth["cartpole_s1"], 100)
    assert rows["CartPole-v1"]["solved"] == str(exp["solved"])
    assert float(rows["CartPole-v1"]["final_return"]) == pytest.approx(exp["final_return"])


def test_summary_many_runs_from_directory(run_cli, synth, tmp_path):
    import os
    d = os.path.dirname(synth["cartpole_s1"])
    code, out, err = run_cli("summary", d, "--table", "markdown", "--out", tmp_path)
    assert code == 0, err
    lines = [l for l in out.splitlines() if l.startswith("| ")]
    assert len(lines) == 1 + len(synth)  # header + one row per log
