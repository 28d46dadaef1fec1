"""Against logs written by the real trainer in this test run (issue #6). Skipped, with a message,
when no ppo binary is available (see real_trainer.py for how it is found and started)."""

import math
import os

import h5py
import numpy as np
import pytest

from analysis.logfile import EXIT_MISSING_DATA, EXIT_SCHEMA_VERSION, RunLog
from analysis.tests import real_trainer
from analysis.tests.imgcheck import assert_picture, gif_frames
from analysis.tests.test_summary import expected_from_datasets, parse_csv


def test_real_log_is_schema_v1(real_logs):
    with h5py.File(real_logs["s1"], "r", swmr=True) as f:
        assert f.attrs["format"] in ("ppo-log", b"ppo-log")
        assert int(f.attrs["schema_version"]) == 1
        n = len(f["metrics/update"])
        assert n > 0
        for name in f["metrics"]:
            assert len(f["metrics"][name]) == n, name
    r = RunLog(real_logs["s1"])
    assert r.env == "CartPole-v1" and r.seed == 1 and not r.resumed


def test_real_seeds_group_together(real_logs):
    # every run has its own /config run_id: it must not split the seeds of one config
    from analysis.common import group_runs
    runs = [RunLog(real_logs[k]) for k in ("s1", "s2")]
    assert runs[0].config["run_id"] != runs[1].config["run_id"]
    groups = group_runs(runs)
    assert len(groups) == 1 and len(groups[0].runs) == 2


def test_real_summary_matches_datasets(run_cli, real_logs, tmp_path):
    code, out, err = run_cli("summary", real_logs["s1"], real_logs["s2"], "--table", "csv",
                             "--window", 20, "--out", tmp_path)
    assert code == 0, err
    rows = parse_csv(out)
    assert len(rows) == 2
    for row, key in zip(rows, ("s1", "s2")):
        exp = expected_from_datasets(real_logs[key], 20)
        assert int(row["steps"]) == exp["steps"]
        assert int(row["episodes"]) == exp["episodes"]
        assert float(row["wall_time"]) == pytest.approx(exp["wall_time"])
        assert float(row["final_return"]) == pytest.approx(exp["final_return"])
        assert float(row["best_return"]) == pytest.approx(exp["best_return"])
        assert row["solved"] == str(exp["solved"])
    assert_picture(os.path.join(tmp_path, "summary.png"), min_size=(600, 100), min_ink=0.01)


@pytest.mark.parametrize("cmd,pattern,min_size", [
    ("curves", "curves_", (900, 350)),
    ("diagnostics", "diagnostics_", (1200, 800)),
    ("returns", "returns_", (700, 400)),
])
def test_real_plots(run_cli, real_logs, tmp_path, cmd, pattern, min_size):
    # a directory as the trainer leaves it: logs next to .policy.h5 (and checkpoint) files
    code, _out, err = run_cli(cmd, os.path.dirname(real_logs["s1"]), "--out", tmp_path)
    assert code == 0, err
    files = [f for f in os.listdir(tmp_path) if f.startswith(pattern)]
    assert files
    for f in files:
        assert_picture(os.path.join(tmp_path, f), min_size=min_size)


def test_real_actions(run_cli, real_traj_logs, tmp_path):
    real_logs = real_traj_logs
    code, _out, err = run_cli("actions", real_logs["s1"], real_logs["s2"], "--out", tmp_path)
    assert code == 0, err
    files = [f for f in os.listdir(tmp_path) if f.startswith("actions_")]
    assert len(files) == 2
    for f in files:
        assert_picture(os.path.join(tmp_path, f), min_size=(500, 200))


def test_real_animation(run_cli, real_traj_logs, tmp_path):
    real_logs = real_traj_logs
    r = RunLog(real_logs["s1"])
    idx = r.require_trajectories()
    code, _out, err = run_cli("animate", real_logs["s1"], "--size", "200x150", "--stride", 2,
                              "--still", 0, "--out", tmp_path, "--no-mp4")
    assert code == 0, err
    (gif,) = [f for f in os.listdir(tmp_path) if f.endswith(".gif")]
    # animate's default: the first and the last recorded episode in (update, file) order; several
    # episodes usually end in the last update, so the last of them, not argmax's first
    order = np.lexsort((np.arange(len(idx["update"])), idx["update"]))
    first, last = order[0], order[-1]
    rows = [first] if idx["episode_id"][first] == idx["episode_id"][last] else [first, last]
    longest = max(int(idx["length"][i]) for i in rows)
    assert gif_frames(os.path.join(tmp_path, gif)) == math.ceil(longest / 2)
    (png,) = [f for f in os.listdir(tmp_path) if f.endswith(".png")]
    assert_picture(os.path.join(tmp_path, png), min_size=(200, 150), min_colours=5)


def test_real_bad_inputs(run_cli, real_logs, tmp_path):
    code, _out, err = run_cli("animate", real_logs["no_traj"], "--out", tmp_path)
    assert code == EXIT_MISSING_DATA and "--log-trajectories" in err
    import shutil
    newer = str(tmp_path / "newer.h5")
    shutil.copy(real_logs["s1"], newer)
    with h5py.File(newer, "r+") as f:
        f.attrs["schema_version"] = np.int64(2)
    code, _out, err = run_cli("summary", newer, "--out", tmp_path)
    assert code == EXIT_SCHEMA_VERSION and "newer" in err


def test_real_interrupted_and_resumed_run(run_cli, real_logs, tmp_path):
    """A real run stopped by SIGUSR1 after a checkpoint and resumed with --resume auto: one log whose
    curves have no duplicated or missing updates, read by every subcommand that needs no trajectories."""
    import signal
    import subprocess
    import time

    binary = real_logs["binary"]
    log = str(tmp_path / "resumed.h5")
    cmd = real_trainer.trainer_command(binary, log, seed=4, trajectories=False, total_steps=300000)
    p = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(600):  # a budget of polls for the first updates, not a timing assertion
        try:
            with h5py.File(log, "r", swmr=True) as f:
                if len(f["metrics/update"]) >= 5:
                    break
        except (OSError, KeyError):
            pass
        time.sleep(0.1)
    p.send_signal(signal.SIGUSR1)
    _out, err = p.communicate(timeout=600)
    assert p.returncode == 75, err.decode()[-1000:]
    subprocess.run(cmd + ["--resume", "auto"], cwd=tmp_path, check=True, stdout=subprocess.DEVNULL)
    r = RunLog(log)
    assert list(r.metrics["update"]) == list(range(1, len(r.metrics["update"]) + 1))
    assert np.all(np.diff(r.metrics["wall_time"]) >= 0)
    for cmd_name in ("summary", "curves", "diagnostics", "returns"):
        code, _o, e = run_cli(cmd_name, log, "--out", tmp_path / cmd_name)
        assert code == 0, (cmd_name, e)


def test_trainer_hint_works_from_any_directory(real_logs, installed, tmp_path):
    """The trainer's closing hint ('look at it: ppo-analyze summary LOG; curves: ...') names the
    installed command and the log's absolute path, so it runs as printed from another directory,
    also when --log was relative."""
    import re
    import subprocess
    work = tmp_path / "train"
    (work / "runs").mkdir(parents=True)
    cmd = real_trainer.trainer_command(real_logs["binary"], "runs/hint.h5", seed=7, trajectories=False,
                                       total_steps=2048)
    proc = subprocess.run(cmd, cwd=str(work), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=600)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, out[-2000:]
    m = re.search(r"look at it: (ppo-analyze summary \S+); curves: (ppo-analyze curves \S+)\)", out)
    assert m, out[-1000:]
    assert m.group(1) == "ppo-analyze summary %s" % (work / "runs" / "hint.h5")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for hint in m.groups():
        res = subprocess.run(hint.split(), cwd=str(elsewhere), env=installed["env"], capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 0, (hint, res.stderr)
        assert "wrote %s" % (elsewhere / "ppo-analysis") in res.stderr


def test_real_runs_differing_past_the_third_option(real_logs, tmp_path):
    """Issue 13 item 6 with the real trainer: PPO (the fixture's seed 1) beside two REINFORCE runs
    that differ only in --baseline, which comes 4th among the options that differ: three
    diagnostics files, each title naming its baseline."""
    from analysis import cli
    import subprocess
    logs = [real_logs["s1"]]
    for flag in ("true", "false"):
        path = str(tmp_path / ("reinforce_baseline_%s.h5" % flag))
        cmd = real_trainer.trainer_command(real_logs["binary"], path, seed=1, trajectories=False,
                                           total_steps=8000) + ["--algo", "reinforce", "--baseline", flag]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-2000:]
        logs.append(path)
    record = []
    assert cli.main(["diagnostics"] + logs + ["--out", str(tmp_path / "o"), "-q"], record=record) == 0
    paths = [p for r in record for p in r["paths"]]
    assert len(paths) == 3 and len(set(paths)) == 3 and len(os.listdir(tmp_path / "o")) == 3
    titles = sorted(r["titles"][0].replace("\n", " ") for r in record)
    assert [("baseline=false" in t, "baseline=true" in t) for t in titles[1:]] == [(True, False), (False, True)], titles
    assert titles[0].startswith("CartPole-v1 algo=ppo ") and "REINFORCE diagnostics" in titles[2]
    options = titles[2].split(":")[0].split()[1:]
    assert options.index("baseline=true") >= 3, options  # the option the 3-key cut dropped
