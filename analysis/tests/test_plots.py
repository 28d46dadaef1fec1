"""curves, diagnostics, actions, returns: images written, of sensible size, not blank, with the
reference elements drawn."""

import os

import numpy as np
import pytest
from PIL import Image

from analysis import actions as actions_mod
from analysis import common, curves
from analysis.logfile import RunLog
from analysis.tests import synth_log
from analysis.tests.imgcheck import assert_picture, has_colour

CRIMSON = (220, 20, 60)  # threshold lines
GREEN_BAND = (226, 241, 226)  # 0.12-alpha "#2ca02c" over white: healthy ranges


def _only(tmp, pattern):
    files = sorted(f for f in os.listdir(tmp) if pattern.lower() in f.lower())
    assert len(files) == 1, files
    return os.path.join(tmp, files[0])


def test_grouping_by_config_minus_seed(synth):
    runs = [RunLog(synth[k]) for k in ("cartpole_s1", "cartpole_s2", "cartpole_s3",
                                       "cartpole_lr", "pendulum")]
    groups = common.group_runs(runs)
    sizes = sorted(len(g.runs) for g in groups)
    assert sizes == [1, 1, 3]
    labels = sorted(g.label for g in groups)
    assert "CartPole-v1 lr=0.0003" in labels and "CartPole-v1 lr=0.001" in labels
    assert "Pendulum-v1" in labels
    # --group-by env puts both CartPole configs together
    assert sorted(len(g.runs) for g in common.group_runs(runs, by=["env"])) == [1, 4]


def test_group_curve_mean_and_band(synth):
    runs = [RunLog(synth["cartpole_s%d" % s]) for s in (1, 2, 3)]
    c = curves.group_curve(runs, "global_step", 20, "minmax")
    # at the last common point the mean/min/max are those of the seeds' own rolling means
    finals = [common.rolling_return(r, 20)[0][-1] for r in runs]
    assert c["x"][-1] == min(r.metrics["global_step"][-1] for r in runs)
    assert c["mean"][-1] == pytest.approx(np.mean(finals))
    assert c["lo"][-1] == pytest.approx(min(finals)) and c["hi"][-1] == pytest.approx(max(finals))
    s = curves.group_curve(runs, "global_step", 20, "std")
    assert s["hi"][-1] - s["mean"][-1] == pytest.approx(np.std(finals))


def test_curves(run_cli, synth, tmp_path):
    code, _out, err = run_cli("curves", synth["cartpole_s1"], synth["cartpole_s2"],
                              synth["cartpole_s3"], synth["cartpole_lr"], synth["pendulum"],
                              "--window", 20, "--out", tmp_path)
    assert code == 0, err
    cp = _only(tmp_path, "CartPole")
    assert_picture(cp, min_size=(900, 350))
    assert has_colour(cp, CRIMSON), "solve threshold line missing"
    pend = _only(tmp_path, "Pendulum")
    assert_picture(pend, min_size=(900, 350))
    assert not has_colour(pend, CRIMSON), "Pendulum has no threshold; none should be drawn"


def test_curves_formats(run_cli, synth, tmp_path):
    code, _out, err = run_cli("curves", synth["cartpole_s1"], "--formats", "svg,pdf,png",
                              "--out", tmp_path)
    assert code == 0, err
    with open(_only(tmp_path, ".svg")) as f:
        assert "<svg" in f.read(2000)
    with open(_only(tmp_path, ".pdf"), "rb") as f:
        assert f.read(5) == b"%PDF-"
    assert_picture(_only(tmp_path, ".png"))


def test_curves_without_episodes_group_use_metrics(run_cli, tmp_path):
    from analysis.tests import synth_log
    p = synth_log.write_log(str(tmp_path / "ne.h5"), synth_log.make_run(updates=20),
                            omit=("episodes",))
    code, _out, err = run_cli("curves", p, "--out", tmp_path / "o")
    assert code == 0, err
    assert_picture(_only(tmp_path / "o", "curves"))


def test_diagnostics(run_cli, synth, tmp_path):
    from analysis.tests import synth_log
    partial = synth_log.write_log(str(tmp_path / "partial.h5"), synth_log.make_run(
        "LunarLander-v3", updates=10, trajectories=False),
        omit=("metrics/grad_norm", "metrics/approx_kl"))
    code, _out, err = run_cli("diagnostics", synth["cartpole_s1"], synth["cartpole_s2"],
                              partial, "--out", tmp_path / "o")
    assert code == 0, err
    assert "LunarLander-v3: not logged: approx_kl, grad_norm" in err
    files = sorted(os.listdir(tmp_path / "o"))
    assert len(files) == 2, files  # one panel per config group
    for f in files:
        s = assert_picture(tmp_path / "o" / f, min_size=(1200, 800), min_colours=20)
        assert has_colour(tmp_path / "o" / f, GREEN_BAND, tol=12, min_pixels=2000), \
            "healthy-range bands missing"
        # data drawn in the panels: the diagnostics image is far from empty
        assert s["ink"] > 0.05


def test_actions_discrete_frequencies_match(synth, tmp_path, run_cli):
    r = RunLog(synth["cartpole_s1"])
    acts, upd = r.trajectory_actions()
    cols, freq, counts = actions_mod.discrete_frequencies(acts, upd, 2, 60)
    for j, (lo, hi) in enumerate(cols):
        sel = (upd >= lo) & (upd <= hi)
        assert counts[j] == sel.sum()
        assert freq[1, j] == pytest.approx(np.mean(acts[sel, 0] == 1))
    np.testing.assert_allclose(freq.sum(axis=0), 1.0)
    code, _out, err = run_cli("actions", synth["cartpole_s1"], synth["lunarlander"],
                              "--out", tmp_path)
    assert code == 0, err
    for f in os.listdir(tmp_path):
        assert_picture(tmp_path / f, min_size=(500, 200))


def test_actions_binning(synth):
    upd = np.repeat(np.arange(1, 101), 3)
    acts = (np.arange(len(upd)) % 2).astype(float)[:, None]
    cols, freq, counts = actions_mod.discrete_frequencies(acts, upd, 2, 10)
    assert len(cols) == 10 and counts.sum() == len(upd)


def test_actions_continuous(run_cli, synth, tmp_path):
    r = RunLog(synth["bipedalwalker"])
    acts, upd = r.trajectory_actions()
    uniq, mean, std = actions_mod.continuous_stats(acts, upd)
    u0 = uniq[0]
    np.testing.assert_allclose(mean[0], acts[upd == u0].mean(axis=0))
    code, _out, err = run_cli("actions", synth["pendulum"], synth["bipedalwalker"],
                              "--out", tmp_path)
    assert code == 0, err
    pend = _only(tmp_path, "Pendulum")
    assert_picture(pend, min_size=(500, 250))
    assert has_colour(pend, CRIMSON, tol=60), "action bounds missing"
    bw = Image.open(_only(tmp_path, "bipedal"))
    assert bw.size[1] > Image.open(pend).size[1]  # one subplot per action dimension


def test_returns(run_cli, synth, tmp_path):
    code, _out, err = run_cli("returns", synth["cartpole_s1"], synth["cartpole_s2"],
                              synth["cartpole_lr"], "--last", 50, "--out", tmp_path)
    assert code == 0, err
    p = _only(tmp_path, "returns_CartPole")
    assert_picture(p, min_size=(700, 400))
    assert has_colour(p, CRIMSON)


def test_returns_last_n(synth):
    from analysis.returns import last_returns
    import h5py
    r = RunLog(synth["cartpole_s3"])
    with h5py.File(synth["cartpole_s3"], "r") as f:
        np.testing.assert_array_equal(last_returns(r, 25), f["episodes/return"][-25:])


def test_diagnostics_title_names_the_algorithm(tmp_path):
    from analysis.diagnostics import algo_title
    titles = []
    for algo in ("ppo", "a2c", "reinforce"):
        p = synth_log.write_log(str(tmp_path / ("%s.h5" % algo)),
                                synth_log.make_run("CartPole-v1", 1, 10, extra_config={"algo": algo}))
        titles.append(algo_title(RunLog(p)))
    assert titles == ["PPO", "A2C", "REINFORCE"]
