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
    assert "wrote %s" % (tmp_path / "a" / "returns_CartPole-v1.png") in res.stderr  # absolute
    assert os.listdir(tmp_path / "a")
    # python3 -m analysis from the repository root; errors are one line on stderr
    res = subprocess.run([sys.executable, "-m", "analysis", "summary", str(tmp_path / "x.h5")],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 3
    assert res.stderr.strip() == "ppo-analyze: error: %s: no such file" % (tmp_path / "x.h5")
    assert res.stdout == ""


def test_installed_ppo_analyze_from_another_directory(synth, installed, tmp_path):
    """analysis/install.sh (what scripts/build.sh runs after cmake --install) puts a working
    ppo-analyze on PATH: run by name from an unrelated directory, with relative log and --out
    paths, it writes where asked and names the files by absolute paths."""
    prefix, env = installed["prefix"], installed["env"]
    lib = prefix / "lib" / "ppo" / "analysis"
    assert (lib / "cli.py").is_file() and not (lib / "tests").exists()
    work = tmp_path / "elsewhere" / "work"
    work.mkdir(parents=True)
    log = os.path.relpath(synth["cartpole_s1"], str(work))
    for cmd in (["returns", log], ["export", log]):
        res = subprocess.run(["ppo-analyze"] + cmd + ["--out", "figs"], cwd=str(work), env=env,
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        wrote = [line[len("wrote "):] for line in res.stderr.splitlines() if line.startswith("wrote ")]
        assert wrote and all(os.path.isabs(p) and os.path.isfile(p) for p in wrote), res.stderr
        assert all(os.path.dirname(p) == str(work / "figs") for p in wrote)
    # the installed copy runs, not the checkout's package
    probe = ("import runpy, sys\nsys.argv = ['ppo-analyze', '--version']\ntry:\n"
             "    runpy.run_path(%r, run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(sys.modules['analysis.cli'].__file__, file=sys.stderr)\n" % str(prefix / "bin" / "ppo-analyze"))
    res = subprocess.run(["/usr/bin/python3", "-c", probe], cwd=str(work), env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.stdout.startswith("ppo-analyze ") and res.stderr.strip() == str(lib / "cli.py"), res.stderr
    with open(prefix / "bin" / "ppo-analyze") as f:
        wrapper = f.read()
    assert wrapper.startswith("#!/usr/bin/python3\n") and str(prefix / "lib" / "ppo") in wrapper
    assert REPO not in wrapper
    with open(os.path.join(REPO, "scripts", "build.sh")) as f:
        assert 'analysis/install.sh "$prefix"' in f.read()
    # a relative prefix would leave a command that only works from here: refused
    res = subprocess.run([os.path.join(REPO, "analysis", "install.sh"), "rel"], cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "absolute" in res.stderr and not (tmp_path / "rel").exists()


@pytest.mark.parametrize("argv, words", [
    (("returns", "--bins", "1000000000"), "--bins: expected an integer from 1 to 10000"),
    (("animate", "--size", "20000x20000"), "--size: size is WxH in pixels, from 64x48 to 4096x4096"),
    (("animate", "--max-frames", "-1"), "--max-frames: expected an integer from 0 to 1000000"),
    (("curves", "--formats", "png,png"), "--formats: formats are png, svg, pdf, comma-separated, each at most once"),
    (("curves", "--formats", "png,"), "--formats: formats are png, svg, pdf"),
])
def test_sizes_out_of_bounds_are_refused(run_cli, tmp_path, argv, words):
    """Refused while parsing: before, 10^9 bins or 20000x20000 frames took many GB, -1 frames an internal
    error, png,png failed on its own first file (exit 7) and png, passed."""
    code, _out, err = run_cli(argv[0], tmp_path / "none.h5", *argv[1:], "--out", tmp_path / "o")
    assert code == 2 and words in err, (code, err)
