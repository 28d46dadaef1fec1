"""Reading logs: the data match the datasets, resumed runs, live (SWMR) logs."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from analysis.logfile import RunLog, _supersede
from analysis.tests import synth_log

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_loads_what_the_file_holds(synth):
    r = RunLog(synth["cartpole_s2"])
    with h5py.File(synth["cartpole_s2"], "r") as f:
        assert r.config["env"] == "CartPole-v1" and r.seed == 2
        assert r.config["global_batch"] == f["config"].attrs["global_batch"]
        for k in ("update", "global_step", "entropy", "approx_kl"):
            np.testing.assert_array_equal(r.metrics[k], f["metrics"][k][()])
        np.testing.assert_array_equal(r.episodes["return"], f["episodes/return"][()])
        np.testing.assert_array_equal(r.traj_index["offset"],
                                      f["trajectories/index/offset"][()])
        ep = r.episode(1)
        off, n = f["trajectories/index/offset"][1], f["trajectories/index/length"][1]
        np.testing.assert_array_equal(ep["render"], f["trajectories/render"][off:off + n])
    assert not r.resumed
    assert r.threshold == 475.0


def test_supersede_rule():
    # metrics: 1..5 written, crash, resumed from checkpoint 3 -> 4, 5, 6
    keep = _supersede(np.array([1, 2, 3, 4, 5, 4, 5, 6]), strict=False)
    assert keep.tolist() == [True, True, True, False, False, True, True, True]
    # a repeated update number in /metrics is a resumption too
    assert _supersede(np.array([1, 2, 2, 3]), strict=False).tolist() == [True, False, True, True]
    # episodes: many rows per update; only a decrease marks a resumption
    keep = _supersede(np.array([1, 1, 2, 2, 3, 2, 2, 3]), strict=True)
    assert keep.tolist() == [True, True, False, False, False, True, True, True]


@pytest.mark.parametrize("wall_reset", [True, False])
def test_resumed_run(tmp_path, run_cli, wall_reset):
    segs = synth_log.resumed("CartPole-v1", 1, updates=30, crash_after=20, checkpoint=12,
                             wall_reset=wall_reset)
    p = synth_log.write_log(str(tmp_path / "resumed.h5"), segs)
    r = RunLog(p)
    assert r.resumed
    np.testing.assert_array_equal(r.metrics["update"], np.arange(1, 31))
    a, b = segs[0]["metrics"], segs[1]["metrics"]
    np.testing.assert_array_equal(r.metrics["entropy"][:12], a["entropy"][:12])
    np.testing.assert_array_equal(r.metrics["entropy"][12:], b["entropy"])
    assert np.all(np.diff(r.metrics["wall_time"]) > 0)
    # the resumed segment's updates follow the checkpoint's wall time
    assert r.metrics["wall_time"][12] > a["wall_time"][11]
    ea, eb = segs[0]["episodes"], segs[1]["episodes"]
    expect = np.concatenate([ea["return"][ea["update"] <= 12], eb["return"]])
    np.testing.assert_array_equal(r.episodes["return"], expect)
    # trajectories: all of the resumed segment's episodes are there, at the end; of the crashed
    # segment only those before the resumption point can be told apart (the schema has no segment
    # marker, see README "Resumed runs"), and none after its last update
    tb = segs[1]["traj"]["index"]
    n_b = len(tb["update"])
    np.testing.assert_array_equal(r.traj_index["update"][-n_b:], tb["update"])
    np.testing.assert_array_equal(r.traj_index["return"][-n_b:], tb["return"])
    ta = segs[0]["traj"]["index"]
    head = r.traj_index["update"][:-n_b]
    np.testing.assert_array_equal(head[head <= 12], ta["update"][ta["update"] <= 12])
    assert np.all(head <= tb["update"][0])
    code, out, err = run_cli("summary", p, "--out", tmp_path / "out")
    assert code == 0, err
    assert "resumed" in out and " 30 " in out
    if wall_reset:
        code, out, err = run_cli("curves", p, "--out", tmp_path / "out")
        assert code == 0, err


def _write_partial_update(f, run, u):
    """Appends update u to only some /metrics columns, as a reader may catch mid-update."""
    for k in ("update", "global_step"):
        ds = f["metrics"][k]
        ds.resize((ds.shape[0] + 1,))
        ds[-1] = run["metrics"][k][u - 1]
    f.flush()


def test_live_swmr_log(tmp_path):
    run = synth_log.make_run("CartPole-v1", 4, 30, trajectories=False)
    p = str(tmp_path / "live.h5")
    w = synth_log.SwmrWriter(p, run)
    try:
        w.write_updates(10)
        cmd = [sys.executable, os.path.join(REPO, "analysis", "ppo-analyze"), "summary", p,
               "--out", str(tmp_path / "o"), "--table", "csv", "-q", "--force"]  # refreshed as it grows
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        row = res.stdout.splitlines()[1].split(",")
        assert row[4] == "10"  # updates
        w.write_updates(8)
        _write_partial_update(w.f, run, 19)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        row = res.stdout.splitlines()[1].split(",")
        assert row[4] == "18"  # the half-written update 19 is not counted
        assert int(row[5]) == run["metrics"]["global_step"][17]
        # in-process reader too, while the writer still holds the file
        r = RunLog(p)
        assert r.n_updates == 18
    finally:
        w.close()


def test_damaged_live_log_fails_at_once(tmp_path):
    """A log marked open for SWMR writing (live, or its writer killed) with one flipped byte in an object
    header: the SWMR read retries the failed checksum a bounded number of times (HDF5's default, 100 with
    doubling sleeps, took hours) and the tool refuses the log."""
    run = synth_log.make_run("CartPole-v1", 4, 30, trajectories=False)
    p = str(tmp_path / "live.h5")
    w = synth_log.SwmrWriter(p, run)
    try:
        w.write_updates(10)
        addr = h5py.h5o.get_info(w.f["metrics/update"].id).addr
        with open(p, "r+b") as fh:
            fh.seek(addr + 12)
            b = fh.read(1)
            fh.seek(addr + 12)
            fh.write(bytes([b[0] ^ 1]))
        cmd = [sys.executable, os.path.join(REPO, "analysis", "ppo-analyze"), "summary", p,
               "--out", str(tmp_path / "o"), "--table", "csv", "-q"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)  # a hang fails here
        assert res.returncode != 0 and "checksum" in res.stderr and len(res.stderr.strip().splitlines()) == 1, \
            (res.returncode, res.stderr)
    finally:
        w.close()


def test_log_with_no_update_yet(tmp_path, run_cli):
    run = synth_log.make_run("CartPole-v1", 1, 5, trajectories=False)
    p = str(tmp_path / "new.h5")
    w = synth_log.SwmrWriter(p, run)  # created, nothing appended yet
    try:
        code, out, err = run_cli("summary", p, "--table", "csv", "--out", tmp_path / "o")
        assert code == 0, err
        row = out.splitlines()[1].split(",")
        assert row[4] == "0" and row[5] == "0"  # updates, steps
        for cmd in ("curves", "diagnostics"):
            code, _out, err = run_cli(cmd, p, "--out", tmp_path / "o")
            assert code == 6 and "no update logged yet" in err
        # next to runs with data, a just-started run is skipped with a warning
        other = synth_log.write_log(str(tmp_path / "old.h5"), run)
        code, _out, err = run_cli("curves", p, other, "--out", tmp_path / "o2")
        assert code == 0, err
        assert "skipping %s: no update logged yet" % p in err
    finally:
        w.close()
