"""Entry points and --help."""

import os
import subprocess
import sys

import pytest

from analysis.cli import SUBCOMMANDS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("cmd", sorted(SUBCOMMANDS))
def test_help_each_subcommand(run_cli, cmd):
    code, out, _err = run_cli(cmd, "--help")
    assert code == 0
    assert out.startswith("usage: ppo-analyze %s" % cmd)
    assert "--out DIR" in out and "exit codes:" in out


def test_top_level_help_lists_subcommands(run_cli):
    code, out, _err = run_cli("--help")
    assert code == 0
    for cmd in SUBCOMMANDS:
        assert cmd in out


def test_script_and_module_entry_points(synth, tmp_path):
    script = os.path.join(REPO, "analysis", "ppo-analyze")
    assert os.access(script, os.X_OK)
    with open(script) as f:
        assert f.readline().strip() == "#!/usr/bin/python3"
    # the script works from any directory
    res = subprocess.run([script, "returns", synth["cartpole_s1"], "--out", str(tmp_path / "a")],
                         cwd="/", capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "wrote " in res.stderr and os.listdir(tmp_path / "a")
    # python3 -m analysis from the repository root; errors are one line on stderr
    res = subprocess.run([sys.executable, "-m", "analysis", "summary", str(tmp_path / "x.h5")],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 3
    assert res.stderr.strip() == "ppo-analyze: error: %s: no such file" % (tmp_path / "x.h5")
    assert res.stdout == ""
