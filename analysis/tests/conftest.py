"""Fixtures: synthetic logs (always) and logs written by the real trainer (when a ppo binary is
available; see real_trainer.py)."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from analysis import cli  # noqa: E402
from analysis.tests import real_trainer, synth_log  # noqa: E402


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """A directory of synthetic logs: CartPole seeds 1-3 (one config), CartPole with another lr,
    and one run of each other env. Returns dict name -> path."""
    d = tmp_path_factory.mktemp("synth")
    out = {}
    for seed in (1, 2, 3):
        out["cartpole_s%d" % seed] = synth_log.write_log(
            str(d / ("cartpole_s%d.h5" % seed)), synth_log.make_run("CartPole-v1", seed, 40))
    out["cartpole_lr"] = synth_log.write_log(
        str(d / "cartpole_lr1e-3.h5"), synth_log.make_run("CartPole-v1", 1, 40, lr=1e-3))
    for env, name in (("Acrobot-v1", "acrobot"), ("MountainCar-v0", "mountaincar"),
                      ("Pendulum-v1", "pendulum"), ("LunarLander-v3", "lunarlander"),
                      ("BipedalWalker-v3", "bipedalwalker")):
        out[name] = synth_log.write_log(str(d / ("%s.h5" % name)),
                                        synth_log.make_run(env, 1, 20, traj_every=10))
    return out


@pytest.fixture
def run_cli(capsys):
    """Runs ppo-analyze in-process; returns (exit code, stdout, stderr)."""
    def _run(*argv):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            code = exc.code
        cap = capsys.readouterr()
        return code, cap.out, cap.err
    return _run


@pytest.fixture(scope="session")
def real_logs(tmp_path_factory):
    """Logs written by the real trainer: CartPole-v1 seeds 1 and 2 (with trajectories when the
    trainer has --log-trajectories; "trajectories" says which), seed 3 without. Skips when no
    ppo binary is available."""
    binary = real_trainer.trainer_binary()
    if binary is None:
        pytest.skip("no ppo binary (set PPO_BIN or build build/src/ppo): real-trainer tests "
                    "skipped")
    d = tmp_path_factory.mktemp("real")
    traj = real_trainer.supports_trajectories(binary)
    out = {"trajectories": traj, "binary": binary}
    try:
        for seed in (1, 2):
            out["s%d" % seed] = real_trainer.run_trainer(
                binary, str(d / ("run_s%d.h5" % seed)), seed=seed, trajectories=traj)
        out["no_traj"] = real_trainer.run_trainer(binary, str(d / "run_notraj.h5"), seed=3,
                                                  trajectories=False)
    except Exception as exc:  # the binary is there, so a failure is a real failure
        pytest.fail("real trainer run failed: %s" % exc)
    return out


@pytest.fixture
def real_traj_logs(real_logs):
    if not real_logs["trajectories"]:
        pytest.skip("%s has no --log-trajectories yet: trajectory tests on real logs skipped"
                    % real_logs["binary"])
    return real_logs


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """ppo-analyze installed by analysis/install.sh (as scripts/build.sh does) into a temporary
    prefix: dict with prefix, env (PATH leading to it, no PYTHONPATH)."""
    prefix = tmp_path_factory.mktemp("prefix")
    res = subprocess.run([os.path.join(os.path.dirname(os.path.dirname(HERE)), "analysis", "install.sh"),
                          str(prefix)], cwd="/", capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    env = dict(os.environ, PATH="%s:/usr/bin:/bin" % (prefix / "bin"), PYTHONPATH="")
    return dict(prefix=prefix, env=env)
