"""Bad inputs: one-line errors with the documented exit codes (README: exit codes)."""

import re

import h5py
import numpy as np
import pytest

from analysis.logfile import (EXIT_MISSING_DATA, EXIT_NO_FILE, EXIT_NOT_PPO_LOG,
                              EXIT_SCHEMA_VERSION, EXIT_USAGE)
from analysis.tests import synth_log

ALL = ("summary", "curves", "diagnostics", "actions", "returns", "animate")


def _one_line_error(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("ppo-analyze: error: ")
    return lines[0]


@pytest.mark.parametrize("cmd", ALL)
def test_missing_file(run_cli, tmp_path, cmd):
    code, _out, err = run_cli(cmd, tmp_path / "nope.h5", "--out", tmp_path)
    assert code == EXIT_NO_FILE
    assert "nope.h5: no such file" in _one_line_error(err)


def test_empty_directory(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _out, err = run_cli("summary", tmp_path / "empty", "--out", tmp_path / "o")
    assert code == EXIT_NO_FILE
    assert "holds no .h5 logs" in _one_line_error(err)


def test_not_hdf5(run_cli, tmp_path):
    p = tmp_path / "notes.h5"
    p.write_text("this is not HDF5\n")
    code, _out, err = run_cli("summary", p, "--out", tmp_path)
    assert code == EXIT_NOT_PPO_LOG
    assert "not a ppo log (not an HDF5 file)" in _one_line_error(err)


def test_hdf5_without_format(run_cli, tmp_path):
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    code, _out, err = run_cli("curves", p, "--out", tmp_path)
    assert code == EXIT_NOT_PPO_LOG
    assert "format is missing" in _one_line_error(err)


def test_wrong_format_name(run_cli, tmp_path):
    p = synth_log.write_log(str(tmp_path / "w.h5"), synth_log.make_run(updates=5), fmt="other")
    code, _out, err = run_cli("summary", p, "--out", tmp_path)
    assert code == EXIT_NOT_PPO_LOG
    assert "'other'" in _one_line_error(err)


@pytest.mark.parametrize("version,word", [(0, "older"), (2, "newer")])
def test_schema_version(run_cli, tmp_path, version, word):
    p = synth_log.write_log(str(tmp_path / "v.h5"), synth_log.make_run(updates=5),
                            schema_version=version)
    code, _out, err = run_cli("summary", p, "--out", tmp_path)
    assert code == EXIT_SCHEMA_VERSION
    line = _one_line_error(err)
    assert "schema version %d is %s" % (version, word) in line


def test_schema_version_missing(run_cli, tmp_path):
    p = synth_log.write_log(str(tmp_path / "v.h5"), synth_log.make_run(updates=5),
                            schema_version=None)
    code, _out, err = run_cli("summary", p, "--out", tmp_path)
    assert code == EXIT_NOT_PPO_LOG
    assert "schema_version missing" in _one_line_error(err)


@pytest.mark.parametrize("group", ["config", "metrics"])
def test_missing_required_group(run_cli, tmp_path, group):
    p = synth_log.write_log(str(tmp_path / "g.h5"), synth_log.make_run(updates=5), omit=(group,))
    code, _out, err = run_cli("summary", p, "--out", tmp_path)
    assert code == EXIT_NOT_PPO_LOG
    assert "no /%s" % group in _one_line_error(err)


@pytest.mark.parametrize("cmd", ["actions", "animate"])
def test_no_trajectories_names_the_flag(run_cli, tmp_path, cmd):
    p = synth_log.write_log(str(tmp_path / "t.h5"),
                            synth_log.make_run(updates=5, trajectories=False))
    code, _out, err = run_cli(cmd, p, "--out", tmp_path / "o")
    assert code == EXIT_MISSING_DATA
    assert "--log-trajectories" in _one_line_error(err)
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_no_episodes_group(run_cli, tmp_path):
    p = synth_log.write_log(str(tmp_path / "e.h5"), synth_log.make_run(updates=5),
                            omit=("episodes",))
    code, _out, err = run_cli("returns", p, "--out", tmp_path)
    assert code == EXIT_MISSING_DATA
    assert "no /episodes" in _one_line_error(err)


def test_missing_metric_column(run_cli, tmp_path):
    p = synth_log.write_log(str(tmp_path / "m.h5"), synth_log.make_run(updates=5),
                            omit=("metrics/wall_time",))
    code, _out, err = run_cli("summary", p, "--out", tmp_path)
    assert code == EXIT_MISSING_DATA
    assert "/metrics/wall_time is missing" in _one_line_error(err)


def test_no_diagnostics_at_all(run_cli, tmp_path):
    from analysis.diagnostics import PANELS
    p = synth_log.write_log(str(tmp_path / "d.h5"), synth_log.make_run(updates=5),
                            omit=tuple("metrics/" + m for m, *_ in PANELS))
    code, _out, err = run_cli("diagnostics", p, "--out", tmp_path)
    assert code == EXIT_MISSING_DATA
    assert "none of the diagnostic metrics" in _one_line_error(err)


def test_unknown_episode_id(run_cli, synth, tmp_path):
    code, _out, err = run_cli("animate", synth["cartpole_s1"], "--episode", 999, "--out", tmp_path)
    assert code == EXIT_MISSING_DATA
    assert "no recorded episode with id 999" in _one_line_error(err)


def test_render_state_too_short(run_cli, tmp_path):
    run = synth_log.make_run("LunarLander-v3", updates=4, traj_every=4)
    run["traj"]["steps"]["render"] = run["traj"]["steps"]["render"][:, :10]
    run["traj"]["render_dim"] = 10
    p = synth_log.write_log(str(tmp_path / "r.h5"), run)
    code, _out, err = run_cli("animate", p, "--out", tmp_path)
    assert code == EXIT_MISSING_DATA
    assert "render state of LunarLander-v3 has (10,) floats" in _one_line_error(err)


def test_env_without_drawing(run_cli, tmp_path):
    run = synth_log.make_run(updates=4, traj_every=4)
    run["config"]["env"] = "Humanoid-v4"
    run["traj"]["env"] = "Humanoid-v4"
    p = synth_log.write_log(str(tmp_path / "h.h5"), run)
    code, _out, err = run_cli("animate", p, "--out", tmp_path)
    assert code == EXIT_MISSING_DATA
    assert "no drawing for env Humanoid-v4" in _one_line_error(err)


def test_skip_bad(run_cli, synth, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("garbage")
    code, out, err = run_cli("summary", synth["cartpole_s1"], bad, "--skip-bad", "--out", tmp_path)
    assert code == 0
    assert "warning: skipping" in err and "bad.h5" in err
    assert "cartpole_s1" in out
    code, _out, _err = run_cli("summary", bad, "--skip-bad", "--out", tmp_path)
    assert code == EXIT_NOT_PPO_LOG


def test_usage_errors(run_cli, synth, tmp_path):
    assert run_cli("curves", synth["cartpole_s1"], "--formats", "gif")[0] == EXIT_USAGE
    assert run_cli("animate", synth["cartpole_s1"], "--size", "10x10")[0] == EXIT_USAGE
    assert run_cli("frobnicate", synth["cartpole_s1"])[0] == EXIT_USAGE
    assert run_cli()[0] == EXIT_USAGE


def test_directory_with_companion_files(run_cli, tmp_path):
    d = tmp_path / "runs"
    d.mkdir()
    synth_log.write_log(str(d / "a.h5"), synth_log.make_run(updates=5))
    with h5py.File(d / "a.policy.h5", "w") as f:  # the trainer's policy file
        f.attrs["format"] = "ppo-policy"
    with h5py.File(d / "stray.h5", "w") as f:
        f.create_dataset("x", data=[1])
    code, out, err = run_cli("summary", d, "--out", tmp_path / "o")
    assert code == 0, err
    assert "policy" not in err
    assert "warning: skipping" in err and "stray.h5" in err
    assert "| " not in out and "a " in out.splitlines()[2]
    # named explicitly, a policy file is an error
    code, _out, err = run_cli("summary", d / "a.policy.h5", "--out", tmp_path / "o")
    assert code == EXIT_NOT_PPO_LOG and "'ppo-policy'" in err


@pytest.mark.parametrize("argv, words", [
    (("summary", "LOG", "--frobnicate"), "unrecognized arguments: --frobnicate"),
    (("summary",), "the following arguments are required: LOG"),
    ((), "the following arguments are required: COMMAND"),
    (("frobnicate", "LOG"), "invalid choice: 'frobnicate'"),
    (("returns", "LOG", "--last", "0"), "argument --last: expected a positive integer"),
    (("curves", "LOG", "--band", "wide"), "argument --band: invalid choice: 'wide'"),
    (("summary", "LOG", "--frob", "a\nb"), "unrecognized arguments: --frob a?b"),  # no forged 2nd line
])
def test_usage_errors_are_one_line(run_cli, tmp_path, argv, words):
    """argparse's errors: one line with a --help hint, not its usage block; exit 2, nothing on stdout."""
    argv = [tmp_path / "none.h5" if a == "LOG" else a for a in argv]
    code, out, err = run_cli(*argv)
    assert code == EXIT_USAGE and out == ""
    line = _one_line_error(err)
    assert words in line and line.endswith("--help)"), line


def test_empty_out_is_refused(run_cli, synth, tmp_path, monkeypatch):
    """--out '' was the current directory."""
    monkeypatch.chdir(tmp_path)
    for argv in (("--out", ""), ("--out=",)):
        code, _out, err = run_cli("summary", synth["cartpole_s1"], *argv)
        assert code == EXIT_USAGE
        assert "argument --out: empty" in _one_line_error(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cmd", ["curves", "diagnostics", "returns"])
def test_group_by_unknown_key(run_cli, synth, tmp_path, cmd):
    """A --group-by key no log's /config has was accepted and put every run in one group."""
    logs = (synth["cartpole_s1"], synth["cartpole_lr"])
    code, _out, err = run_cli(cmd, *logs, "--group-by", "env", "bogus", "--out", tmp_path / "o")
    assert code == EXIT_USAGE
    line = _one_line_error(err)
    assert "--group-by: 'bogus' is not a /config key of these logs (e.g. lr)" in line, line
    code, _out, err = run_cli(cmd, *logs, "--group-by", "lrr", "--out", tmp_path / "o")
    assert code == EXIT_USAGE and "'lrr' is not a /config key" in err and "did you mean lr?" in err, err
    assert not (tmp_path / "o").exists()
    code, _out, err = run_cli(cmd, *logs, "--group-by", "env", "lr", "--out", tmp_path / "o", "-q")
    assert code == 0, err


@pytest.mark.parametrize("cmd", ["curves", "diagnostics", "returns"])
def test_ignore_unknown_key(run_cli, synth, tmp_path, cmd):
    """An --ignore key no log's /config has ignored nothing, silently."""
    logs = (synth["cartpole_s1"], synth["cartpole_lr"])
    code, _out, err = run_cli(cmd, *logs, "--ignore", "lrr", "--out", tmp_path / "o")
    assert code == EXIT_USAGE and "--ignore: 'lrr' is not a /config key" in _one_line_error(err), err
    assert not (tmp_path / "o").exists()
    code, _out, err = run_cli(cmd, *logs, "--ignore", "lr", "--out", tmp_path / "o", "-q")
    assert code == 0, err


def test_epilog_lists_every_exit_code():
    from analysis import cli, outputs
    codes = {EXIT_USAGE, EXIT_NO_FILE, EXIT_NOT_PPO_LOG, EXIT_SCHEMA_VERSION, EXIT_MISSING_DATA,
             outputs.EXIT_OUTPUT, 0, 1}
    listed = {int(c) for c in re.findall(r"\b(\d) [a-z]", cli.EPILOG)}
    assert listed == codes, cli.EPILOG
