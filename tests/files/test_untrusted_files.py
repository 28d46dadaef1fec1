"""Files from outside: crafted, truncated and mangled checkpoints, policies and logs (built with h5py
from a real run's files) given to `ppo --resume FILE`, `ppo --resume auto` and `ppo eval`. Each case
must exit 2 with exactly one stderr line, `ppo: error: ...` naming the file, no crash (no 139/134), no
hang, and leave every file byte for byte as it was (the log not cut, nothing written or moved).
A seeded, bounded share of the cases is random (truncations, attribute and dataset replacements).
Also: two runs started together with the same --log, and a resume into a log another run now owns.
Run by ctest (PPO_BIN set there) with Debian's python3."""
import hashlib
import os
import random
import shutil
import signal
import subprocess

import h5py
import numpy as np
import pytest

BIN = os.environ.get("PPO_BIN", "")
pytestmark = pytest.mark.skipif(not os.access(BIN, os.X_OK), reason="PPO_BIN is not set to the ppo binary")

# 8 updates of 128 steps; checkpoint after update 6; obs/return statistics and trajectories on
OPTS = ["--seed", "3", "--preset", "none", "--envs-per-rank", "4", "--rollout-steps", "32", "--minibatches", "1",
        "--epochs", "1", "--norm-obs", "--norm-reward", "--log-trajectories", "1", "--checkpoint-every", "6"]
RESUME_CKPT = [*OPTS, "--total-steps", "2048", "--log", "run.h5", "--resume", "run.ckpt.h5"]
RESUME_POLICY = [*OPTS, "--total-steps", "2048", "--log", "run.h5", "--resume", "run.policy.h5"]
RESUME_AUTO = [*OPTS, "--total-steps", "2048", "--log", "run.h5", "--resume", "auto"]
EVAL_POLICY = ["eval", "--checkpoint", "run.policy.h5", "--episodes", "2"]
EVAL_CKPT = ["eval", "--checkpoint", "run.ckpt.h5", "--episodes", "2"]


def ppo(cwd, args, check=False):
    # a safety net against a hang only (the cases finish in well under a second each)
    r = subprocess.run([BIN, *args], cwd=cwd, env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr.decode()[-2000:]
    return r


def snapshot(d):
    return {n: hashlib.sha256(open(os.path.join(d, n), "rb").read()).hexdigest() for n in sorted(os.listdir(d))}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A finished 8-update CartPole run: run.h5, run.ckpt.h5 (update 6), run.policy.h5 (update 8)."""
    d = tmp_path_factory.mktemp("base")
    ppo(d, [*OPTS, "--total-steps", "1024", "--log", "run.h5"], check=True)
    assert sorted(os.listdir(d)) == ["run.ckpt.h5", "run.h5", "run.policy.h5"]
    return d


def refused(base, tmp_path, mutate, commands, names):
    """Copies the base run, applies mutate(dir), runs each command: exit 2, one `ppo: error:` line that
    contains `names`, every file unchanged."""
    d = tmp_path / "case"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(base, d)
    mutate(d)
    before = snapshot(d)
    for args in commands:
        r = ppo(d, args)
        err = r.stderr.decode(errors="replace")
        lines = err.strip().splitlines()
        assert r.returncode == 2, (args, r.returncode, err[-2000:])
        assert len(lines) == 1 and lines[0].startswith("ppo: error: "), (args, err[-2000:])
        assert names in lines[0], (names, lines[0])
        assert snapshot(d) == before, (args, "files changed", lines[0])
    return lines[0]


def attr_set(file, obj, name, value):
    def mutate(d):
        with h5py.File(d / file, "r+") as f:
            o = f[obj]
            if name in o.attrs:
                del o.attrs[name]
            o.attrs[name] = value
    return mutate


def dataset_set(file, path, make):
    """Replaces dataset `path` by make(f, path, old_values)."""
    def mutate(d):
        with h5py.File(d / file, "r+") as f:
            old = f[path][()] if isinstance(f.get(path), h5py.Dataset) else None
            del f[path]
            make(f, path, old)
    return mutate


def huge(n, dtype):
    """A chunked dataset claiming n elements (nothing allocated in the file: fill values)."""
    return lambda f, path, old: f.create_dataset(path, shape=(n,), dtype=dtype, chunks=(1024,))


ARRAY = np.ones(1000, "i8")
STRINGS = np.array(["x" * 30] * 1000, dtype=h5py.string_dtype())  # variable-length, as ppo writes

# (id, file, mutation, commands, text the error must contain)
CASES = [
    # 1. array-valued "scalar" attributes (overflowed the stack), and attributes of the wrong type
    ("version array", "run.ckpt.h5", attr_set("run.ckpt.h5", "/", "version", ARRAY), [RESUME_CKPT, RESUME_AUTO, EVAL_CKPT],
     "version"),
    ("format array", "run.ckpt.h5", attr_set("run.ckpt.h5", "/", "format", STRINGS), [RESUME_CKPT, RESUME_AUTO],
     "format"),
    ("options array", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "options", STRINGS), [RESUME_CKPT, RESUME_AUTO],
     "options"),
    ("update array", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "update", ARRAY), [RESUME_CKPT, RESUME_AUTO],
     "update"),
    ("policy version array", "run.policy.h5", attr_set("run.policy.h5", "/", "version", ARRAY),
     [EVAL_POLICY, RESUME_POLICY, RESUME_AUTO], "version"),
    ("env string array", "run.policy.h5", attr_set("run.policy.h5", "/", "env", STRINGS), [EVAL_POLICY], "env"),
    ("version string", "run.ckpt.h5", attr_set("run.ckpt.h5", "/", "version", "1"), [RESUME_CKPT, EVAL_CKPT],
     "expected an integer"),
    ("hidden integer", "run.policy.h5", attr_set("run.policy.h5", "/", "hidden", 64), [EVAL_POLICY], "hidden"),
    ("string too long", "run.policy.h5", attr_set("run.policy.h5", "/", "activation", "tanh" * 100), [EVAL_POLICY],
     "activation"),
    ("string with a newline", "run.policy.h5", attr_set("run.policy.h5", "/", "env", "CartPole-v1\nppo: error: x"),
     [EVAL_POLICY], "control characters"),
    ("run id with a newline", "run.ckpt.h5", attr_set("run.ckpt.h5", "/", "run_id", "a\nb"), [RESUME_CKPT, RESUME_AUTO],
     "run_id"),
    ("empty attribute", "run.policy.h5", attr_set("run.policy.h5", "/", "global_step", np.ones(0, "i8")),
     [EVAL_POLICY], "global_step"),
    # attributes that disagree with the saved options the run is rebuilt from (were resumed as they were:
    # tanh weights trained on as relu)
    ("activation unlike the options", "run.ckpt.h5", attr_set("run.ckpt.h5", "/", "activation", "relu"),
     [RESUME_CKPT], "disagree with its saved options"),
    ("env unlike the options", "run.ckpt.h5", attr_set("run.ckpt.h5", "/", "env", "Acrobot-v1"), [RESUME_CKPT],
     "disagree with its saved options"),
    ("hidden unlike the options", "run.policy.h5", attr_set("run.policy.h5", "/", "hidden", "64,64,0"),
     [RESUME_POLICY, RESUME_AUTO], "hidden"),
    # 2. datasets claiming 2^62 (or 2^30) elements: wrapped malloc, or gigabytes before the size check
    ("params 2^62", "run.policy.h5", dataset_set("run.policy.h5", "params", huge(2**62, "f4")),
     [EVAL_POLICY, RESUME_POLICY], "params"),
    ("params 2^30", "run.policy.h5", dataset_set("run.policy.h5", "params", huge(2**30, "f4")), [EVAL_POLICY],
     "params"),
    ("obs mean 2^62", "run.policy.h5", dataset_set("run.policy.h5", "obs_norm/mean", huge(2**62, "f8")),
     [EVAL_POLICY, RESUME_POLICY], "obs_norm/mean"),
    ("adam_m 2^62", "run.ckpt.h5", dataset_set("run.ckpt.h5", "train/adam_m", huge(2**62, "f4")), [RESUME_CKPT],
     "adam_m"),
    ("rng 2^62", "run.ckpt.h5", dataset_set("run.ckpt.h5", "train/rng", huge(2**62, "u8")), [RESUME_CKPT], "rng"),
    ("env_state 2^62", "run.ckpt.h5", dataset_set("run.ckpt.h5", "train/env_state", huge(2**62, "u1")),
     [RESUME_CKPT], "env_state"),
    # 4. a metrics extent of 2^61 (read without end); a column that cannot be cut
    ("metrics extent 2^61", "run.h5", lambda d: resize(d, "metrics/update", 2**61), [RESUME_POLICY], "metrics/update"),
    ("episodes extent 2^61", "run.h5", lambda d: resize(d, "episodes/update", 2**61), [RESUME_POLICY],
     "episodes/update"),
    # the kept episode returns rebuild the last-100 window: refused before the log is cut
    ("episode return NaN", "run.h5", lambda d: poke_column(d, "episodes/return", 0, np.nan), [RESUME_CKPT],
     "episodes/return"),
    ("episode return 1e308", "run.h5", lambda d: poke_column(d, "episodes/return", -1, 1e308), [RESUME_POLICY],
     "episodes/return"),
    ("column not extendible", "run.h5",
     dataset_set("run.h5", "episodes/length", lambda f, p, old: f.create_dataset(p, data=old)),
     [RESUME_CKPT], "episodes/length"),
    ("log format", "run.h5", attr_set("run.h5", "/", "format", "not-ppo"), [RESUME_CKPT], "format"),
    ("log schema array", "run.h5", attr_set("run.h5", "/", "schema_version", ARRAY), [RESUME_CKPT],
     "schema_version"),
    ("log run id array", "run.h5", attr_set("run.h5", "/config", "run_id", STRINGS), [RESUME_CKPT], "run_id"),
    ("updates out of order", "run.h5",
     dataset_set("run.h5", "metrics/update", lambda f, p, old: f.create_dataset(
         p, data=old[::-1], maxshape=(None,), chunks=(256,))), [RESUME_CKPT], "metrics/update"),
    # 3. trajectories of other widths than this run's env (the read overflowed)
    ("trajectory widths", "run.h5", dataset_set("run.h5", "trajectories/obs", lambda f, p, old: f.create_dataset(
        p, data=np.zeros((len(old), 9), "f4"), maxshape=(None, 9), chunks=(1024, 9))), [RESUME_CKPT],
     "trajectories/obs"),
    ("trajectory index past the steps", "run.h5",
     dataset_set("run.h5", "trajectories/index/offset", lambda f, p, old: f.create_dataset(
         p, data=old + 10**9, maxshape=(None,), chunks=(256,))), [RESUME_CKPT], "trajectories/index"),
    # 5. env state bytes: invalid bools, a negative step counter (CartPole: RNG 32 bytes, elapsed, 2 flags)
    ("env_state bool", "run.ckpt.h5", lambda d: poke_env_state(d, 36, 0x7F), [RESUME_CKPT], "env 0"),
    ("env_state bool 2", "run.ckpt.h5", lambda d: poke_env_state(d, 37, 2), [RESUME_CKPT], "env 0"),
    ("env_state elapsed", "run.ckpt.h5", lambda d: poke_env_state(d, 35, 0x80), [RESUME_CKPT], "env 0"),
    ("env_state NaN", "run.ckpt.h5", lambda d: poke_env_state(d, 46, 0xF8, 0x7F), [RESUME_CKPT], "env 0"),
    # the trainer's tail of env 0's blob: observation (4 floats), return, discounted return, episode length
    ("env tail obs NaN", "run.ckpt.h5", lambda d: poke_env_tail(d, 0, 0x00, 0x00, 0xC0, 0x7F), [RESUME_CKPT], "env 0"),
    ("env tail return inf", "run.ckpt.h5", lambda d: poke_env_tail(d, 22, 0xF0, 0x7F), [RESUME_CKPT], "env 0"),
    ("env tail length -1", "run.ckpt.h5", lambda d: poke_env_tail(d, 32, 0xFF, 0xFF, 0xFF, 0xFF), [RESUME_CKPT],
     "env 0"),
    ("env tail length + 1", "run.ckpt.h5", lambda d: bump_env_tail_length(d), [RESUME_CKPT], "env 0"),
    # 6. counters out of range or inconsistent
    ("update -5", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "update", -5), [RESUME_CKPT, RESUME_AUTO],
     "update"),
    ("update 2^62", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "update", 2**62), [RESUME_CKPT, RESUME_AUTO],
     "update"),
    ("update unsigned 2^63", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "update", np.uint64(2**63)),
     [RESUME_CKPT], "update"),
    ("update 3 (not its global step)", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "update", 3), [RESUME_CKPT],
     "global_step"),
    ("ranks 0", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "ranks", 0), [RESUME_CKPT], "ranks"),
    ("rng words 2^40", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "rng_per_rank", 2**40), [RESUME_CKPT],
     "rng_per_rank"),
    ("wall time NaN", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "wall_time_bits",
                                              np.float64("nan").view("i8")), [RESUME_CKPT], "wall_time_bits"),
    ("resumes -1", "run.ckpt.h5", attr_set("run.ckpt.h5", "/train", "resumes", -1), [RESUME_CKPT], "resumes"),
    # non-finite numbers
    ("params NaN", "run.policy.h5", dataset_set("run.policy.h5", "params", lambda f, p, old: f.create_dataset(
        p, data=np.full_like(old, np.nan))), [EVAL_POLICY, RESUME_POLICY], "params"),
    ("params one Inf", "run.policy.h5", dataset_set("run.policy.h5", "params", lambda f, p, old: f.create_dataset(
        p, data=np.where(np.arange(len(old)) == 7, np.inf, old).astype("f4"))), [EVAL_POLICY], "params"),
    ("adam_v negative", "run.ckpt.h5", dataset_set("run.ckpt.h5", "train/adam_v", lambda f, p, old: f.create_dataset(
        p, data=-np.ones_like(old))), [RESUME_CKPT], "adam_v"),
    ("obs var negative", "run.policy.h5", dataset_set("run.policy.h5", "obs_norm/var",
                                                      lambda f, p, old: f.create_dataset(p, data=-old)),
     [EVAL_POLICY], "obs_norm/var"),
    ("return stats NaN", "run.ckpt.h5", dataset_set("run.ckpt.h5", "train/return_stats",
                                                    lambda f, p, old: f.create_dataset(p, data=old * np.nan)),
     [RESUME_CKPT], "return_stats"),
    # links that lead elsewhere
    ("params soft link", "run.ckpt.h5", dataset_set("run.ckpt.h5", "params",
                                                    lambda f, p, old: f.__setitem__(p, h5py.SoftLink("/train/adam_m"))),
     [RESUME_CKPT, EVAL_CKPT], "params"),
    ("params external link", "run.policy.h5", dataset_set(
        "run.policy.h5", "params", lambda f, p, old: f.__setitem__(p, h5py.ExternalLink("run.ckpt.h5", "/params"))),
     [EVAL_POLICY], "params"),
    ("train is a dataset", "run.ckpt.h5", dataset_set("run.ckpt.h5", "train",
                                                      lambda f, p, old: f.create_dataset(p, data=np.ones(3))),
     [RESUME_CKPT], "train"),
]


def poke_column(d, column, row, value):
    with h5py.File(d / "run.h5", "r+") as f:
        f[column][row] = value


def resize(d, column, n):
    with h5py.File(d / "run.h5", "r+") as f:
        f[column].resize((n,))


def poke_env_state(d, offset, *values):
    """Sets bytes of env 0's snapshot (CartPole: RNG 32 bytes, elapsed 4, two flags, padding, then the
    state's four doubles from byte 40)."""
    with h5py.File(d / "run.ckpt.h5", "r+") as f:
        blob = f["train/env_state"][:]
        blob[offset:offset + len(values)] = values
        f["train/env_state"][...] = blob


ENV_TAIL = 4 * 4 + 8 + 8 + 4  # CartPole: obs floats, return, discounted return, episode length (trainer.c)


def env_tail_offset(f):
    """Where env 0's trainer tail starts: after its env snapshot, i.e. one env's blob less the tail."""
    per_env = f["train/env_state"].shape[0] // (int(f["train"].attrs["ranks"]) * 4)  # 4 envs per rank
    return per_env - ENV_TAIL


def poke_env_tail(d, offset, *values):
    with h5py.File(d / "run.ckpt.h5", "r+") as f:
        blob = f["train/env_state"][:]
        at = env_tail_offset(f) + offset
        blob[at:at + len(values)] = values
        f["train/env_state"][...] = blob


def bump_env_tail_length(d):
    """One step more than the env counts: every byte valid on its own, the two disagree."""
    with h5py.File(d / "run.ckpt.h5", "r+") as f:
        blob = f["train/env_state"][:]
        at = env_tail_offset(f) + 32
        length = int.from_bytes(bytes(blob[at:at + 4]), "little") + 1
        blob[at:at + 4] = list(length.to_bytes(4, "little"))
        f["train/env_state"][...] = blob


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_crafted_file_is_refused(base, tmp_path, case):
    name, file, mutate, commands, names = case
    line = refused(base, tmp_path, mutate, commands, names)
    assert file in line, line


# ---- seeded random cases: bounded in number, reproducible ----

def objects(path):
    """(datasets, [(object, attribute)]) of an HDF5 file."""
    dsets, attrs = [], []
    with h5py.File(path, "r") as f:
        attrs += [("/", a) for a in f.attrs]

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                dsets.append(name)
            attrs.extend((name, a) for a in obj.attrs)
        f.visititems(visit)
    return sorted(dsets), sorted(attrs)


BAD_ATTRS = [ARRAY, STRINGS, np.ones((2, 2)), np.ones(0, "i8"), 0.5]


def bad_attr_value(rng, old):
    """A value no reader may accept in place of old: another kind, or another shape."""
    kinds = list(BAD_ATTRS) + (["text"] if not isinstance(old, (str, bytes)) else [7])
    return kinds[rng.randrange(len(kinds))]


def bad_dataset(rng):
    def strings(f, p, old):
        f.create_dataset(p, data=np.array([b"x"] * max(len(np.atleast_1d(old)), 1)))

    def two_d(f, p, old):
        a = np.atleast_1d(old)
        f.create_dataset(p, data=np.stack([a, a], axis=1))

    def longer(f, p, old):
        a = np.atleast_1d(old)
        f.create_dataset(p, data=np.concatenate([a, a[:1]]))

    def scalar(f, p, old):
        f.create_dataset(p, data=np.atleast_1d(old).ravel()[0])

    def group(f, p, old):
        f.create_group(p)

    def external(f, p, old):
        f[p] = h5py.ExternalLink("/dev/zero", "/x")
    makers = [strings, two_d, longer, scalar, group, external]
    return makers[rng.randrange(len(makers))]


def test_random_truncations_are_refused(base, tmp_path):
    rng = random.Random(1101)
    for file, commands in (("run.ckpt.h5", [RESUME_CKPT]), ("run.policy.h5", [EVAL_POLICY, RESUME_POLICY]),
                           ("run.h5", [RESUME_CKPT])):
        size = os.path.getsize(base / file)
        for _ in range(4):
            n = rng.randrange(0, size)

            def cut(d, file=file, n=n):
                with open(d / file, "r+b") as fh:
                    fh.truncate(n)
            refused(base, tmp_path, cut, commands, file)


def test_random_checkpoint_attribute_replacements_are_refused(base, tmp_path):
    rng = random.Random(1102)
    _, attrs = objects(base / "run.ckpt.h5")
    for _ in range(12):
        obj, name = attrs[rng.randrange(len(attrs))]
        with h5py.File(base / "run.ckpt.h5", "r") as f:
            old = f[obj].attrs[name]
        value = bad_attr_value(rng, old)
        refused(base, tmp_path, attr_set("run.ckpt.h5", obj, name, value), [RESUME_CKPT], "run.ckpt.h5")


def test_random_checkpoint_dataset_replacements_are_refused(base, tmp_path):
    rng = random.Random(1103)
    dsets, _ = objects(base / "run.ckpt.h5")
    for _ in range(12):
        path = dsets[rng.randrange(len(dsets))]
        refused(base, tmp_path, dataset_set("run.ckpt.h5", path, bad_dataset(rng)), [RESUME_CKPT], "run.ckpt.h5")


def test_random_log_column_replacements_are_refused(base, tmp_path):
    """Every column a resume reads or cuts: another type, rank or layout is refused before any is cut."""
    rng = random.Random(1104)
    dsets, _ = objects(base / "run.h5")
    columns = [p for p in dsets if p.split("/")[0] in ("metrics", "episodes", "trajectories")]

    def not_extendible(f, p, old):
        f.create_dataset(p, data=old)  # the same values, contiguous: cannot be cut or appended to
    for _ in range(10):
        path = columns[rng.randrange(len(columns))]
        make = bad_dataset(rng)
        if make.__name__ == "longer":  # a longer column is a legitimate log (rows past a kill)
            make = not_extendible
        refused(base, tmp_path, dataset_set("run.h5", path, make), [RESUME_CKPT], "run.h5")


# ---- ownership: run ids and exclusive creation ----

def test_resume_into_a_log_another_run_owns_is_refused(tmp_path):
    """Run A's checkpoint, resumed into the log run B created at the same path with --force, must be
    refused before B's rows are cut (it was accepted: B's rows deleted, A's appended under B's /config)."""
    a = [*OPTS, "--save", "A.policy.h5", "--checkpoint", "A.ckpt.h5", "--log", "run.h5"]
    ppo(tmp_path, [*a, "--total-steps", "1024"], check=True)
    ppo(tmp_path, [*OPTS, "--total-steps", "1024", "--log", "run.h5", "--force", "--seed", "4"], check=True)
    before = snapshot(tmp_path)
    r = ppo(tmp_path, [*a, "--total-steps", "2048", "--resume", "A.ckpt.h5"])
    lines = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "another run" in lines[0] and "run.h5" in lines[0], lines
    assert snapshot(tmp_path) == before
    with h5py.File(tmp_path / "run.h5", "r") as log, h5py.File(tmp_path / "run.policy.h5", "r") as pol, \
            h5py.File(tmp_path / "A.ckpt.h5", "r") as a_ck:
        assert log["config"].attrs["run_id"] == pol.attrs["run_id"] != a_ck.attrs["run_id"]


def test_resume_refuses_to_replace_another_runs_checkpoint(tmp_path):
    """A resume whose --checkpoint path holds another run's file would replace it at its first checkpoint:
    refused up front, nothing touched."""
    ppo(tmp_path, [*OPTS, "--total-steps", "1024", "--log", "run.h5"], check=True)
    ppo(tmp_path, [*OPTS, "--total-steps", "1024", "--log", "other.h5", "--seed", "5"], check=True)
    shutil.copy(tmp_path / "other.ckpt.h5", tmp_path / "run.ckpt.h5")
    before = snapshot(tmp_path)
    r = ppo(tmp_path, RESUME_POLICY)
    lines = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "run.ckpt.h5 belongs to another run" in lines[0], lines
    assert snapshot(tmp_path) == before


def start(cwd, seed):
    return subprocess.Popen([BIN, *OPTS, "--total-steps", "2048", "--log", "run.h5", "--seed", str(seed)], cwd=cwd,
                            env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def assert_one_owner(d, codes, outs, seeds):
    """Exactly one run succeeded; the other exited 2 with one line; the files are the winner's, whole."""
    assert sorted(codes) == [0, 2], (codes, [o[1].decode()[-500:] for o in outs])
    lines = outs[codes.index(2)][1].decode().strip().splitlines()
    # the loser stops where it meets the winner's files: the log, or (later) its checkpoint
    assert len(lines) == 1 and lines[0].startswith("ppo: error: ") and " run." in lines[0], lines
    assert sorted(os.listdir(d)) == ["run.ckpt.h5", "run.h5", "run.policy.h5"]
    with h5py.File(d / "run.h5", "r") as log, h5py.File(d / "run.policy.h5", "r") as pol, \
            h5py.File(d / "run.ckpt.h5", "r") as ck:
        assert log["config"].attrs["run_id"] == pol.attrs["run_id"] == ck.attrs["run_id"]
        assert log["config"].attrs["seed"] == seeds[codes.index(0)]  # the winner's own log
        assert list(log["metrics/update"][:]) == list(range(1, 17))
    return lines[0]


def stop(p):
    """SIGSTOP, and wait (a bounded number of polls) until the kernel reports the process stopped."""
    p.send_signal(signal.SIGSTOP)
    for _ in range(100000):
        try:
            with open(f"/proc/{p.pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] in ("T", "t", "Z"):
                    return
        except FileNotFoundError:
            return


def test_a_log_created_meanwhile_by_another_run_is_left_to_it(tmp_path):
    """Run A is stopped (SIGSTOP) while its new log exists only under its temporary name, after its checks
    that --log is free; run B then creates the log and finishes; A, continued, must not replace B's log
    (it did: rename() over it, and both runs reported success with one run's files lost)."""
    for attempt in range(5):  # the temporary file lives a few milliseconds: polled for, retried if missed
        d = tmp_path / f"try{attempt}"
        d.mkdir()
        a = start(d, 10)
        caught = False
        while a.poll() is None and not caught:
            if any(".tmp" in n and n.startswith("run.h5") for n in os.listdir(d)):
                stop(a)
                caught = True
        if caught and (d / "run.h5").exists():  # stopped just after publishing (link, then unlink of tmp)
            a.send_signal(signal.SIGCONT)
            caught = False
        if not caught:
            a.communicate()
            continue
        b = start(d, 11)
        out_b = b.communicate(timeout=600)
        a.send_signal(signal.SIGCONT)
        out_a = a.communicate(timeout=600)
        line = assert_one_owner(d, [a.returncode, b.returncode], [out_a, out_b], [10, 11])
        assert a.returncode == 2 and "created by another run meanwhile" in line, line
        return
    pytest.skip("never caught run A between its checks and the log's publication")


def test_two_runs_started_together_on_one_log(tmp_path):
    """Started at once, wherever they meet: exactly one run owns the path."""
    procs = [start(tmp_path, 10 + s) for s in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert_one_owner(tmp_path, [p.returncode for p in procs], outs, [10, 11])


def test_files_from_before_run_ids(base, tmp_path):
    """Files written before run ids have none: a checkpoint without one resumes into a log without one,
    and is refused by a log that has one."""
    def strip(d, files):
        for name, obj in files:
            with h5py.File(d / name, "r+") as f:
                del f[obj].attrs["run_id"]
    refused(base, tmp_path, lambda d: strip(d, [("run.ckpt.h5", "/")]), [RESUME_CKPT], "another run")
    refused(base, tmp_path, lambda d: strip(d, [("run.ckpt.h5", "/"), ("run.policy.h5", "/")]), [RESUME_CKPT],
            "/config")
    d = tmp_path / "old"
    shutil.copytree(base, d)
    strip(d, [("run.ckpt.h5", "/"), ("run.policy.h5", "/"), ("run.h5", "/config")])
    r = ppo(d, RESUME_CKPT, check=True)
    assert b"resumed from run.ckpt.h5 after update 6" in r.stdout
    with h5py.File(d / "run.h5", "r") as log:
        assert list(log["metrics/update"][:]) == list(range(1, 17))


def test_a_policy_whose_finite_parameters_give_invalid_actions_is_bad_input(tmp_path):
    """Parameters at the float limit are finite (they load) but overflow to NaN actions: ppo eval says so in
    one line, exit 2 (the file is bad input), not 1 (a failed run)."""
    ppo(tmp_path, ["--env", "Pendulum-v1", "--preset", "none", "--envs-per-rank", "2", "--rollout-steps", "32",
                   "--minibatches", "1", "--epochs", "1", "--total-steps", "128", "--log", "run.h5"], check=True)
    with h5py.File(tmp_path / "run.policy.h5", "r+") as f:
        f["params"][...] = np.where(np.arange(len(f["params"])) % 2, 3e38, -3e38).astype("f4")
    r = ppo(tmp_path, EVAL_POLICY)
    lines = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "run.policy.h5" in lines[0] and "invalid action" in lines[0], \
        (r.returncode, lines)


def test_a_run_whose_log_another_run_replaced_with_force_stops(tmp_path):
    """Run A is stopped while it trains; run B, started with --force on the same --log, replaces A's log
    and finishes. A, continued, writes into a file no longer at the path: it must stop at its next
    checkpoint instead of writing it (and its final policy) over B's, and B's files stay B's."""
    long = [*OPTS[:-1], "2", "--total-steps", str(400 * 128), "--log", "run.h5"]
    a = subprocess.Popen([BIN, *long, "--seed", "10"], cwd=tmp_path, env=dict(os.environ, OMP_NUM_THREADS="1"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    polls = 0
    while not (tmp_path / "run.ckpt.h5").exists() and a.poll() is None and polls < 200000:
        polls += 1  # A is training once its first checkpoint exists
    for _ in range(1000):  # stopped, but not while it writes a checkpoint (its temporary file would go)
        stop(a)
        if not [n for n in os.listdir(tmp_path) if ".tmp" in n]:
            break
        a.send_signal(signal.SIGCONT)
    assert a.poll() is None, "run A ended before it could be stopped"
    ppo(tmp_path, [*OPTS, "--total-steps", "2048", "--log", "run.h5", "--force", "--seed", "11"], check=True)
    b_files = snapshot(tmp_path)
    a.send_signal(signal.SIGCONT)
    out, err = a.communicate(timeout=600)
    lines = err.decode().strip().splitlines()
    assert a.returncode not in (0, 2) and "replaced by another run" in err.decode(), (a.returncode, lines[-3:])
    assert snapshot(tmp_path) == b_files, "run A wrote over run B's files"
    with h5py.File(tmp_path / "run.h5", "r") as log, h5py.File(tmp_path / "run.policy.h5", "r") as pol:
        assert log["config"].attrs["seed"] == 11 and log["config"].attrs["run_id"] == pol.attrs["run_id"]


def test_a_resume_while_the_log_is_still_written_is_refused(base, tmp_path):
    """Resume A is stopped while it trains (a killed mpirun's ranks live on for a moment the same way, and
    two resumes can be started at once): resume B, started meanwhile, must leave every file to A (it
    wrote into A's open log: A failed with HDF5's "addr overflow", or B did). And a run that has no
    checkpoint yet, still running, is not a left-over log to move aside: --resume auto is refused too."""
    d = tmp_path / "run"
    shutil.copytree(base, d)
    long = [*OPTS, "--total-steps", str(400 * 128), "--log", "run.h5", "--resume", "run.ckpt.h5"]
    for rest, args in (("a resume", long), ("a new run", [*OPTS[:-2], "--total-steps", str(400 * 128), "--log",
                                                          "new.h5"])):
        a = subprocess.Popen([BIN, *args], cwd=d, env=dict(os.environ, OMP_NUM_THREADS="1"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        log = d / args[args.index("--log") + 1]
        polls = 0
        # A is training once it has checkpointed update 12 (a resume), or logged 12 updates (a new run,
        # which holds its log from creation: no reader can stand in the way of its opening it)
        while a.poll() is None and polls < 200000 and (ckpt_update(d / "run.ckpt.h5") < 12 if "--resume" in args
                                                       else rows(log) < 12):
            polls += 1
        for _ in range(1000):  # stopped, but not while it writes a checkpoint (its temporary file would go)
            stop(a)
            if not [n for n in os.listdir(d) if ".tmp" in n]:
                break
            a.send_signal(signal.SIGCONT)
        assert a.poll() is None, (f"{rest} ended before it could be stopped", a.stderr.read().decode()[-600:])
        (d / "partial.ckpt.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))  # as a checkpoint mid-replacement
        before = snapshot(d)
        b_args = args[:args.index("--resume")] if "--resume" in args else args
        # the writer is asked first: not the checkpoint blamed, nor "use --force" advised, for a run still running
        for resume in (["--resume", "auto"], ["--resume", "partial.ckpt.h5"]):
            b = ppo(d, [*b_args, *resume])
            lines = b.stderr.decode().strip().splitlines()
            assert b.returncode == 2 and len(lines) == 1 and "being written by another process" in lines[0], \
                (rest, resume, lines)
        assert snapshot(d) == before, f"the resume touched the files of {rest} still running"
        a.send_signal(signal.SIGCONT)
        out, err = a.communicate(timeout=600)
        assert a.returncode == 0, (rest, err.decode()[-1000:])
        with h5py.File(log, "r") as f:
            assert list(f["metrics/update"][:]) == list(range(1, 401)), rest


def test_a_resume_into_a_log_a_reader_has_open_says_so(base, tmp_path):
    """HDF5 will not open for writing a file another process has open (its flock()): a resume while h5py
    holds the log is refused in one line that says so (it said "unwritable?"), nothing touched."""
    d = tmp_path / "run"
    shutil.copytree(base, d)
    before = snapshot(d)
    for swmr in (False, True):
        with h5py.File(d / "run.h5", "r", swmr=swmr):
            r = ppo(d, RESUME_AUTO)
        lines = r.stderr.decode().strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and "is open in another process" in lines[0], lines
        assert snapshot(d) == before
    ppo(d, RESUME_AUTO, check=True)  # closed: the resume goes ahead


def ckpt_update(path):
    """The update a checkpoint holds; 0 where it cannot be read."""
    try:
        with h5py.File(path, "r") as f:
            return int(f["train"].attrs["update"])
    except Exception:
        return 0


def rows(log):
    """The rows every /metrics column of a log being written holds; 0 before it can be read."""
    try:
        with h5py.File(log, "r", swmr=True) as f:
            return min(len(f["metrics"][k]) for k in f["metrics"])
    except Exception:
        return 0


MPI_CASES = [c for c in CASES if c[0] in ("version array", "params 2^62", "metrics extent 2^61", "env_state bool",
                                         "update -5", "trajectory widths")]
MPIRUN = os.environ.get("PPO_MPIRUN", "").split()


@pytest.fixture(scope="module")
def base2(tmp_path_factory):
    """The base run on 2 ranks."""
    d = tmp_path_factory.mktemp("base2")
    r = subprocess.run([*MPIRUN, "-n", "2", BIN, *OPTS, "--total-steps", "2048", "--log", "run.h5"], cwd=d,
                       env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    return d


@pytest.mark.skipif(not MPIRUN, reason="PPO_MPIRUN is not set")
@pytest.mark.parametrize("case", MPI_CASES, ids=[c[0] for c in MPI_CASES])
def test_crafted_file_is_refused_under_mpirun(base2, tmp_path, case):
    """The same under mpirun -n 2 (every rank reads the checkpoint, rank 0 the log): exit 2, exactly one
    `ppo: error:` line (mpirun adds its own report), files unchanged."""
    name, file, mutate, commands, names = case
    d = tmp_path / "case"
    shutil.copytree(base2, d)
    mutate(d)
    before = snapshot(d)
    for args in commands:
        args = [a if a != "2048" else "4096" for a in args]  # the 2-rank run's batch is twice as large
        r = subprocess.run([*MPIRUN, "-n", "1" if args[0] == "eval" else "2", BIN, *args], cwd=d,
                           env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=300)
        err = r.stderr.decode(errors="replace")
        errors = [ln for ln in err.splitlines() if ln.startswith("ppo: error:")]
        assert r.returncode == 2 and len(errors) == 1 and file in errors[0], (args, r.returncode, err[-2000:])
        assert snapshot(d) == before


def test_a_damaged_log_object_is_refused_at_once(base, tmp_path):
    """One flipped byte in an object header of the log: its checksum fails. HDF5's SWMR reader retries such
    a read with a doubling sleep (100 times: hours); the resume's checks must read once and refuse."""
    def mutate(d):
        with h5py.File(d / "run.h5", "r") as f:
            addr = h5py.h5o.get_info(f["metrics/update"].id).addr
        with open(d / "run.h5", "r+b") as fh:
            fh.seek(addr + 12)
            b = fh.read(1)
            fh.seek(addr + 12)
            fh.write(bytes([b[0] ^ 1]))
    line = refused(base, tmp_path, mutate, [RESUME_CKPT, RESUME_AUTO], "run.h5")
    assert "/metrics/update" in line, line


def test_files_that_are_not_regular_are_refused(base, tmp_path):
    """A FIFO as a checkpoint, policy or log (opening it would wait for a writer forever) and a device as
    any run file, even with --force (as root, --log /dev/null --force once replaced /dev/null)."""
    d = tmp_path / "case"
    shutil.copytree(base, d)

    def one_line(args, names):
        r = ppo(d, args)
        err = r.stderr.decode(errors="replace")
        lines = err.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("ppo: error: "), (args, err[-2000:])
        assert names in lines[0] and "not a regular file" in lines[0], (names, lines[0])

    os.rename(d / "run.ckpt.h5", d / "saved.ckpt.h5")
    os.mkfifo(d / "run.ckpt.h5")
    one_line(RESUME_CKPT, "run.ckpt.h5")
    one_line(RESUME_AUTO, "run.ckpt.h5")
    one_line(EVAL_CKPT, "run.ckpt.h5")
    os.unlink(d / "run.ckpt.h5")
    os.rename(d / "saved.ckpt.h5", d / "run.ckpt.h5")
    os.rename(d / "run.h5", d / "saved.h5")
    os.mkfifo(d / "run.h5")
    one_line(RESUME_CKPT, "run.h5")
    os.unlink(d / "run.h5")
    os.rename(d / "saved.h5", d / "run.h5")
    try:
        os.mknod(d / "null", 0o666 | 0o020000, os.makedev(1, 3))  # a character device, as /dev/null
    except PermissionError:
        pytest.skip("mknod needs root: the device cases were not run")
    new = [*OPTS, "--total-steps", "256"]
    for args in (["--log", "null", "--force"], ["--log", "x.h5", "--save", "null", "--force"],
                 ["--log", "y.h5", "--checkpoint", "null", "--force"]):
        one_line([*new, *args], "null")
        assert os.stat(d / "null").st_rdev == os.makedev(1, 3) and not os.path.isfile(d / "null"), args
    os.rename(d / "run.policy.h5", d / "saved.policy.h5")  # the resumed run's --save
    os.rename(d / "null", d / "run.policy.h5")
    one_line([*RESUME_CKPT, "--force"], "run.policy.h5")
    assert os.stat(d / "run.policy.h5").st_rdev == os.makedev(1, 3) and not os.path.isfile(d / "run.policy.h5")
