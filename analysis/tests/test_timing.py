"""`timing`: the phase table equals the means computed from the /metrics/time_* datasets, runs are
ordered by ranks x threads, and a log without phase times is refused with the missing column named."""

import os
import shutil
import subprocess

import h5py
import numpy as np
import pytest

from analysis.logfile import EXIT_MISSING_DATA, PHASES
from analysis.tests import real_trainer
from analysis.tests.imgcheck import assert_picture


@pytest.fixture(scope="module")
def one_rank_log(real_logs, tmp_path_factory):
    """A 1-rank CartPole log beside the fixture's 2-rank ones."""
    path = str(tmp_path_factory.mktemp("timing") / "z_one_rank.h5")
    cmd = real_trainer.trainer_command(real_logs["binary"], path, seed=4, trajectories=False)
    if "-n" in cmd:
        cmd[cmd.index("-n") + 1] = "1"
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
    return path


def expected_means(path):
    """Mean seconds per update of each phase, leaving out the first update (as the table does)."""
    with h5py.File(path, "r") as f:
        m = f["metrics"]
        return [float(np.mean(m["time_" + p][1:])) for p in PHASES], int(f["config"].attrs["ranks"])


def test_real_timing_table(run_cli, real_logs, one_rank_log, tmp_path):
    code, _out, err = run_cli("timing", real_logs["s1"], one_rank_log, "--out", tmp_path)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith(("run_s1", "z_one_rank"))]
    assert [line.split()[0] for line in lines] == ["z_one_rank", "run_s1"]  # 1 x 1 before 2 x 1, not by name
    for line, path in zip(lines, (one_rank_log, real_logs["s1"])):
        cells = line.split()
        means, ranks = expected_means(path)
        assert cells[1:4] == [str(ranks), "x", "1"]
        got = [float(v) for v in cells[5:5 + len(PHASES)]]
        assert got == pytest.approx(means, abs=1e-4)
        assert float(cells[5 + len(PHASES)]) == pytest.approx(sum(means), abs=1e-3)
    pngs = [p for p in os.listdir(tmp_path) if p.startswith("timing_")]
    assert pngs == ["timing_CartPole-v1.png"]
    assert_picture(os.path.join(tmp_path, pngs[0]), min_size=(900, 350))


def test_timing_needs_phase_columns(run_cli, synth, tmp_path):
    # synthetic logs are shaped like those from before the phase times
    code, _out, err = run_cli("timing", synth["cartpole_s1"], "--out", tmp_path)
    assert code == EXIT_MISSING_DATA
    assert err.count("\n") == 1 and "/metrics/time_env is missing" in err


def _replace(path, column, data):
    with h5py.File(path, "r+") as f:
        del f["metrics"][column]
        f["metrics"].create_dataset(column, data=data, maxshape=(None,) + data.shape[1:], chunks=True)


@pytest.mark.parametrize("column,make,code", [
    ("time_log_max", lambda n: np.full(n, np.nan), EXIT_MISSING_DATA),   # the slowest rank's, not only means
    ("time_optim", lambda n: np.full(n, np.inf), EXIT_MISSING_DATA),
    ("time_comm", lambda n: -np.ones(n), EXIT_MISSING_DATA),
    ("time_env", lambda n: np.full(n, 1e308), EXIT_MISSING_DATA),        # finite, but sums overflow
    ("time_env", lambda n: np.array([b"x"] * n), 4),                     # not numeric: not a valid log
    ("time_infer", lambda n: np.zeros((n, 2)), 4),                       # not 1-D
])
def test_malformed_phase_times(run_cli, real_logs, tmp_path, column, make, code):
    path = str(tmp_path / "bad.h5")
    shutil.copy(real_logs["s1"], path)
    with h5py.File(path, "r") as f:
        n = len(f["metrics/update"])
    _replace(path, column, make(n))
    got, _out, err = run_cli("timing", path, "--out", tmp_path / "out")
    assert got == code and err.count("\n") == 1 and "Traceback" not in err, err
    assert not os.path.exists(tmp_path / "out")
