"""Runs of one sweep (logs beside the sweep.grid that jobs/sweep_array.sbatch writes) are grouped by
the swept options only: seeds pooled, and what the grid did not sweep (here the threads each array
task happened to get) does not split a group."""

import os

from analysis.common import group_runs
from analysis.logfile import RunLog
from analysis.tests import synth_log

GRID = "# a sweep\nenv = CartPole-v1\nseed = 1 2\nlr = 3e-4 1e-3\n"


def write_sweep(d, grid):
    paths = []
    for lr in (3e-4, 1e-3):
        for seed, threads in ((1, 1), (2, 2)):
            p = os.path.join(d, "CartPole-v1_s%d_lr-%g.h5" % (seed, lr))
            synth_log.write_log(p, synth_log.make_run("CartPole-v1", seed, 20, threads=threads, lr=lr))
            paths.append(p)
    if grid is not None:
        with open(os.path.join(d, "sweep.grid"), "w") as f:
            f.write(grid)
    return [RunLog(p) for p in paths]


def test_sweep_groups_by_swept_options(tmp_path):
    groups = group_runs(write_sweep(str(tmp_path), GRID))
    assert sorted(len(g.runs) for g in groups) == [2, 2]
    assert sorted(g.label for g in groups) == ["CartPole-v1 lr=0.0003", "CartPole-v1 lr=0.001"]


def test_without_the_grid_every_difference_splits(tmp_path):
    groups = group_runs(write_sweep(str(tmp_path), None))
    assert len(groups) == 4  # lr x threads


def test_curves_of_a_sweep(run_cli, tmp_path):
    d = tmp_path / "sweep"
    d.mkdir()
    write_sweep(str(d), GRID)
    code, _out, err = run_cli("curves", d, "--out", tmp_path / "out")
    assert code == 0, err
    assert os.listdir(tmp_path / "out") == ["curves_CartPole-v1.png"]
