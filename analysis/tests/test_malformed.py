"""Malformed logs: every subcommand answers with success or one `ppo-analyze: error:` line and a
documented exit code, never a traceback or a RuntimeWarning. Targeted cases from issue 11 (a
string-typed column, negative trajectory offsets and lengths, all-NaN returns, missing groups, wrong
shapes), then a seeded fuzz over mutations of a valid log (datasets replaced by other dtypes and
shapes, attributes replaced, groups deleted, the file truncated)."""

import os
import shutil
import warnings

import h5py
import numpy as np
import pytest

from analysis.logfile import EXIT_MISSING_DATA, EXIT_NOT_PPO_LOG
from analysis.tests import synth_log

# quick settings for the figure commands (the figures themselves are tested elsewhere)
COMMANDS = {
    "summary": [],
    "curves": [],
    "diagnostics": [],
    "actions": [],
    "returns": [],
    "animate": ["--max-frames", "3", "--size", "64x48", "--no-mp4"],
    "export": [],
}
CLEAN_CODES = {0, 3, 4, 5, 6}


def _check_clean(run_cli, cmd, path, out_dir):
    """Runs one subcommand; asserts a clean outcome and returns (code, error line or None)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _out, err = run_cli(cmd, path, "--out", out_dir, "-q", *COMMANDS[cmd])
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not runtime, "%s %s: %s" % (cmd, path, [str(w.message) for w in runtime])
    assert "Traceback" not in err and "Warning" not in err, err
    assert code in CLEAN_CODES, (cmd, code, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if code == 0:
        return code, None
    assert len(lines) == 1 and lines[0].startswith("ppo-analyze: error: "), (cmd, err)
    assert "internal error" not in lines[0], (cmd, lines[0])  # the catch-all: an unvalidated path
    return code, lines[0]


def _log(tmp_path, name="base.h5", env="CartPole-v1", updates=6):
    run = synth_log.make_run(env, 1, updates, traj_every=2, rollout_steps=16, envs_per_rank=2)
    return synth_log.write_log(str(tmp_path / name), run)


def _replace(path, name, data):
    with h5py.File(path, "r+") as f:
        del f[name]
        f.create_dataset(name, data=data)


# -- targeted cases ---------------------------------------------------------------------------
def test_string_global_step(run_cli, tmp_path):
    p = _log(tmp_path)
    with h5py.File(p, "r") as f:
        n = f["metrics/global_step"].shape[0]
    _replace(p, "metrics/global_step", np.array([b"step"] * n))
    for cmd in COMMANDS:
        code, line = _check_clean(run_cli, cmd, p, tmp_path / "o")
        assert code == EXIT_NOT_PPO_LOG and "/metrics/global_step" in line, (cmd, line)


@pytest.mark.parametrize("column,value", [("length", -5), ("offset", -3), ("length", 2**62),
                                          ("offset", 2**62)])
def test_bad_trajectory_index(run_cli, tmp_path, column, value):
    p = _log(tmp_path)
    with h5py.File(p, "r+") as f:
        ds = f["trajectories/index/" + column]
        data = ds[()]
        data[0] = value
        ds[...] = data
    for cmd in COMMANDS:
        code, line = _check_clean(run_cli, cmd, p, tmp_path / "o")
        if code:
            assert "/trajectories/index/" + column in line, (cmd, line)
    if value < 0:  # a row beyond the steps is taken for one not flushed yet (a live log): skipped
        code, line = _check_clean(run_cli, "actions", p, tmp_path / "o")
        assert code == EXIT_NOT_PPO_LOG and "/trajectories/index/" + column in line, line


def test_all_nan_returns(run_cli, tmp_path):
    p = _log(tmp_path)
    with h5py.File(p, "r+") as f:
        for name in ("episodes/return", "metrics/return_mean", "metrics/return_min",
                     "metrics/return_max", "trajectories/index/return"):
            f[name][...] = np.nan
    for cmd in COMMANDS:
        _check_clean(run_cli, cmd, p, tmp_path / "o")  # no RuntimeWarning, no traceback


def _add_eval(path, rows=3):
    """An /eval group as --eval-every writes it (rows at updates 2, 4, ...)."""
    with h5py.File(path, "r+") as f:
        g = f.create_group("eval")
        upd = np.arange(1, rows + 1, dtype=np.int64) * 2
        for name, data in (("update", upd), ("global_step", upd * 64), ("episodes", np.full(rows, 4, np.int64)),
                           ("return_mean", np.linspace(10, 30, rows)), ("return_std", np.ones(rows)),
                           ("return_min", np.linspace(9, 29, rows)), ("return_max", np.linspace(11, 31, rows)),
                           ("length_mean", np.linspace(10, 30, rows)), ("wall_time", np.linspace(0.1, 0.3, rows)),
                           ("seconds", np.full(rows, 0.01)), ("new_best", np.ones(rows, np.uint8))):
            g.create_dataset(name, data=data, maxshape=(None,), chunks=(256,))


@pytest.mark.parametrize("name", ["metrics/entropy", "episodes/return", "eval/return_mean", "trajectories/actions"])
def test_huge_extent_is_refused_before_it_is_read(run_cli, tmp_path, name):
    """A column claiming 2^40 rows with nothing stored: one error line naming it, nothing allocated
    (it was a MemoryError, 'internal error', for /metrics and /eval)."""
    p = _log(tmp_path)
    _add_eval(p)
    with h5py.File(p, "r+") as f:
        old = f[name]
        shape = (2 ** 40,) + old.shape[1:]
        kw = {"compression": "gzip"} if name.startswith("trajectories/") else {}
        dtype = old.dtype
        del f[name]
        f.create_dataset(name, shape=shape, maxshape=(None,) + shape[1:], chunks=(256,) + shape[1:], dtype=dtype, **kw)
    for cmd in ("summary", "export", "curves", "actions"):
        code, line = _check_clean(run_cli, cmd, p, tmp_path / "o")
        if cmd in ("summary", "export") or name.startswith("trajectories/"):
            assert code == EXIT_NOT_PPO_LOG and "/" + name in line and "damaged extent" in line, (cmd, line)


@pytest.mark.parametrize("name,value", [("episodes/return", np.nan), ("episodes/return", 1e308),
                                        ("eval/return_mean", np.nan), ("eval/return_max", np.inf)])
def test_returns_outside_what_the_trainer_writes(run_cli, tmp_path, name, value):
    p = _log(tmp_path)
    _add_eval(p)
    with h5py.File(p, "r+") as f:
        f[name][1] = value
    for cmd in ("summary", "export"):
        code, line = _check_clean(run_cli, cmd, p, tmp_path / "o")
        assert code == EXIT_NOT_PPO_LOG and "/" + name in line, (cmd, line)


@pytest.mark.parametrize("group", ["metrics", "config", "episodes", "trajectories",
                                   "trajectories/index", "trajectories/obs"])
def test_missing_group(run_cli, tmp_path, group):
    p = _log(tmp_path)
    with h5py.File(p, "r+") as f:
        del f[group]
    for cmd in COMMANDS:
        _check_clean(run_cli, cmd, p, tmp_path / "o")


@pytest.mark.parametrize("name,shape", [("metrics/update", (6, 2)), ("metrics/entropy", (3, 2)),
                                        ("episodes/return", ()), ("trajectories/index/offset", (2, 2)),
                                        ("trajectories/obs", (7,)), ("trajectories/actions", (7, 2, 2))])
def test_wrong_shape(run_cli, tmp_path, name, shape):
    p = _log(tmp_path)
    _replace(p, name, np.ones(shape))
    codes = [_check_clean(run_cli, cmd, p, tmp_path / "o") for cmd in COMMANDS]
    assert any(c == EXIT_NOT_PPO_LOG and name in (line or "") for c, line in codes), codes


def test_metric_group_is_a_dataset(run_cli, tmp_path):
    p = _log(tmp_path)
    with h5py.File(p, "r+") as f:
        del f["metrics/entropy"]
        f.create_group("metrics/entropy")
    for cmd in COMMANDS:
        _check_clean(run_cli, cmd, p, tmp_path / "o")


# -- seeded fuzz ------------------------------------------------------------------------------
def _objects(path):
    """(datasets, groups, attribute owners) of a log, by name."""
    dsets, groups = [], []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: (dsets if isinstance(o, h5py.Dataset) else groups).append(n))
    return dsets, groups


def _random_data(rng, like_len):
    kind = rng.integers(8)
    n = int(rng.choice([0, 1, like_len, like_len + 3, max(0, like_len - 2)]))
    if kind == 0:
        return np.array([b"x" * int(rng.integers(1, 9))] * n)
    if kind == 1:
        return rng.normal(size=(n, int(rng.integers(1, 4))))
    if kind == 2:
        return np.full(n, np.nan)
    if kind == 3:
        return rng.integers(-2**62, 2**62, size=n)
    if kind == 4:
        return np.float64(rng.normal())  # a scalar
    if kind == 5:
        return np.zeros(n, dtype=[("a", "i4"), ("b", "f4")])  # compound
    if kind == 6:
        return np.full(n, np.inf) * rng.choice([-1, 1])
    return rng.integers(-3, 3, size=n).astype(np.int8)


def _mutate(rng, path):
    """One random mutation of the log at path; returns a description."""
    dsets, groups = _objects(path)
    what = rng.integers(5)
    if what == 0:
        size = len(open(path, "rb").read())
        cut = int(rng.integers(0, size))
        with open(path, "r+b") as fh:
            fh.truncate(cut)
        return "truncated to %d of %d bytes" % (cut, size)
    with h5py.File(path, "r+") as f:
        if what in (1, 2):
            name = str(rng.choice(dsets))
            n = f[name].shape[0] if f[name].shape else 1
            data = _random_data(rng, n)
            del f[name]
            f.create_dataset(name, data=data)
            return "%s replaced by %s %s" % (name, getattr(data, "dtype", type(data)),
                                             getattr(data, "shape", ()))
        if what == 3:
            name = str(rng.choice(groups + dsets))
            del f[name]
            return "%s deleted" % name
        owner = f[str(rng.choice(["/", "config", "trajectories"] + groups))]
        if not len(owner.attrs):
            return "no attributes to replace"
        key = str(rng.choice(list(owner.attrs.keys())))
        value = [np.ones(5), "text", np.int64(-1), np.float64(np.nan), np.array([b"a", b"b"])][
            int(rng.integers(5))]
        owner.attrs[key] = value
        return "attribute %s of %s replaced by %r" % (key, owner.name, value)


# a longer sweep: PPO_ANALYSIS_FUZZ_CASES=500 (200 cases found the float /metrics/update case)
FUZZ_CASES = int(os.environ.get("PPO_ANALYSIS_FUZZ_CASES", "24"))


@pytest.mark.parametrize("case", range(FUZZ_CASES))
def test_fuzz(run_cli, tmp_path, case):
    rng = np.random.default_rng(1100 + case)
    env = ["CartPole-v1", "LunarLander-v3", "Pendulum-v1"][case % 3]
    base = _log(tmp_path, env=env, updates=4)
    p = str(tmp_path / "mutated.h5")
    shutil.copy(base, p)
    done = []
    for _ in range(int(rng.integers(1, 3))):
        done.append(_mutate(rng, p))
        if done[-1].startswith("truncated"):
            break
    for cmd in COMMANDS:
        try:
            _check_clean(run_cli, cmd, p, tmp_path / "o")
        except AssertionError as exc:
            raise AssertionError("after %s: %s" % ("; ".join(done), exc)) from None
        except Exception as exc:
            raise AssertionError("after %s: %s raised %r" % ("; ".join(done), cmd, exc)) from None
