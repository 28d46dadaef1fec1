"""Whole-run behaviour of the real trainer under mpirun: resume, signals, SIGKILL, NaN, dead ranks,
bad checkpoints, trajectories. Run by ctest (PPO_BIN, PPO_MPIRUN set there) with Debian's python3."""
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

BIN = os.environ.get("PPO_BIN", "")
MPIRUN = shlex.split(os.environ.get("PPO_MPIRUN", "mpirun --oversubscribe --allow-run-as-root"))
BATCH = 2 * 4 * 32  # 2 ranks x 4 envs x 32 steps: the CartPole preset's global batch

pytestmark = pytest.mark.skipif(not os.access(BIN, os.X_OK), reason="PPO_BIN is not set to the ppo binary")


FAULTS_BIN = os.environ.get("PPO_FAULTS_BIN") or os.path.join(os.path.dirname(BIN), "ppo-faults")


def ppo(tmp, *args, ranks=2, env=None, check=True, binary=None):
    """binary: FAULTS_BIN for the test build with fault hooks (src/cli/fault_hooks.h)."""
    cmd = MPIRUN + ["-n", str(ranks), binary or BIN, "--seed", "3"] + [str(a) for a in args]
    e = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    r = subprocess.run(cmd, cwd=tmp, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}: {r.stderr.decode()[-2000:]}")
    return r


def metrics(path):
    with h5py.File(path, "r", swmr=True) as f:
        return {k: f["metrics"][k][:] for k in f["metrics"]}


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def wait_for(predicate, polls=600, interval=0.1):
    """Polls a condition a bounded number of times (a budget of polls, not a timing assertion)."""
    for _ in range(polls):
        if predicate():
            return True
        time.sleep(interval)
    return False


def updates_in(path):
    try:
        with h5py.File(path, "r", swmr=True) as f:
            return len(f["metrics/update"])
    except Exception:  # not created yet, or being created
        return 0


def assert_same_run(full_log, resumed_log, updates):
    """The resumed log has every update once and, but for timings, the uninterrupted run's /metrics and
    /episodes bit for bit. Returns the resumed log's metrics."""
    full, resumed = metrics(full_log), metrics(resumed_log)
    assert list(resumed["update"]) == list(range(1, updates + 1)), "no duplicated or missing updates"
    for col in full:
        if col not in ("wall_time", "steps_per_second") and not col.startswith("time_"):  # timings
            assert np.array_equal(full[col], resumed[col], equal_nan=True), col
    with h5py.File(full_log, "r") as a, h5py.File(resumed_log, "r") as b:
        for col in a["episodes"]:
            assert np.array_equal(a["episodes"][col][:], b["episodes"][col][:]), col
    return resumed


def test_resume_continues_the_same_run(tmp_path):
    K = 12
    common = ["--no-anneal-lr", "--checkpoint-every", K]
    full = ppo(tmp_path, "--total-steps", 2 * K * BATCH, "--log", "full.h5", *common)
    ppo(tmp_path, "--total-steps", K * BATCH, "--log", "half.h5", *common)
    # the first run's checkpoint after update K equals the second run's final state, bit for bit
    with h5py.File(tmp_path / "full.ckpt.h5", "r") as a, h5py.File(tmp_path / "half.policy.h5", "r") as b:
        assert a["train"].attrs["update"] == b["train"].attrs["update"] == K
        assert np.array_equal(a["params"][:], b["params"][:])
        assert np.array_equal(a["train/adam_m"][:], b["train/adam_m"][:])
        assert np.array_equal(a["train/rng"][:], b["train/rng"][:])
    r = ppo(tmp_path, "--total-steps", 2 * K * BATCH, "--log", "half.h5", "--resume", "half.policy.h5", "--force",
            *common)
    # CartPole's state is saved exactly, so the resumed run is the same run, bit for bit (return_recent too:
    # the resume rebuilt its window of 100 episodes from the log)
    resumed = assert_same_run(tmp_path / "full.h5", tmp_path / "half.h5", 2 * K)
    assert np.isfinite(resumed["return_recent"][K]) and metrics(tmp_path / "full.h5")["episodes"][:K].sum() > 100
    best = [re.search(rb"best mean return over 100 consecutive episodes (\S+)", x.stdout) for x in (full, r)]
    assert best[0] and best[1] and best[0].group(1) == best[1].group(1), "the best window survives the resume"
    assert np.all(np.diff(resumed["wall_time"]) >= 0), "wall time continues across the resume"


def test_resume_on_two_threads_continues_the_same_run(tmp_path):
    """A rank's two threads train the actor and the critic on a thread each, which is one thread's
    update bit for bit, so a run checkpointed on 1 thread per rank goes on unchanged on 2."""
    K = 6
    common = ["--no-anneal-lr", "--checkpoint-every", K]
    ppo(tmp_path, "--total-steps", 2 * K * BATCH, "--log", "full.h5", *common)
    ppo(tmp_path, "--total-steps", K * BATCH, "--log", "half.h5", *common)
    r = ppo(tmp_path, "--total-steps", 2 * K * BATCH, "--log", "half.h5", "--resume", "half.policy.h5", "--force",
            "--threads", 2, *common)
    assert b"2 ranks x 2 threads" in r.stdout and b"the actor on one thread" in r.stdout, r.stdout[:600]
    assert_same_run(tmp_path / "full.h5", tmp_path / "half.h5", 2 * K)
    with h5py.File(tmp_path / "full.policy.h5", "r") as a, h5py.File(tmp_path / "half.policy.h5", "r") as b:
        assert np.array_equal(a["params"][:], b["params"][:])


def test_a_log_from_before_the_added_columns_resumes(tmp_path):
    """Logs written before /metrics/time_* and return_recent existed resume: the columns are added, NaN in the
    rows logged before, filled after."""
    K = 4
    ppo(tmp_path, "--total-steps", K * BATCH, "--log", "run.h5")
    added = [c for c in metrics(tmp_path / "run.h5") if c.startswith("time_")] + ["return_recent"]
    assert len(added) == 15
    with h5py.File(tmp_path / "run.h5", "a") as f:
        for c in added:
            del f["metrics"][c]
    ppo(tmp_path, "--total-steps", 2 * K * BATCH, "--log", "run.h5", "--resume", "run.policy.h5")
    m = metrics(tmp_path / "run.h5")
    assert list(m["update"]) == list(range(1, 2 * K + 1))
    for c in added:
        assert np.all(np.isnan(m[c][:K])) and np.all(np.isfinite(m[c][K:])), c


@pytest.mark.parametrize("env_id", ["LunarLander-v3", "LunarLanderContinuous-v3", "BipedalWalker-v3"])
def test_box2d_resume_continues_the_same_run(tmp_path, env_id):
    """Box2D worlds cannot be copied; their checkpoints hold each episode's actions since its reset, which
    the resume runs again: K updates + resume + K updates equals 2K updates, bit for bit."""
    K, batch = 6, 2 * 4 * 32
    common = ["--env", env_id, "--preset", "none", "--envs-per-rank", 4, "--rollout-steps", 32, "--norm-obs",
              "--norm-reward", "--no-anneal-lr", "--checkpoint-every", K]
    ppo(tmp_path, "--total-steps", 2 * K * batch, "--log", "full.h5", *common)
    ppo(tmp_path, "--total-steps", K * batch, "--log", "half.h5", *common)
    r = ppo(tmp_path, "--total-steps", 2 * K * batch, "--log", "half.h5", "--resume", "half.policy.h5", "--force",
            *common)
    assert b"envs continue their episodes exactly" in r.stdout
    with h5py.File(tmp_path / "full.h5", "r") as a:
        assert len(a["episodes/return"]) > 0
    assert_same_run(tmp_path / "full.h5", tmp_path / "half.h5", 2 * K)


def test_box2d_resume_refuses_a_state_that_does_not_replay(tmp_path):
    """A checkpoint whose recorded actions were altered does not replay to its saved observation: the
    resume is refused with one line, and the log is left alone."""
    batch = 2 * 4 * 32
    common = ["--env", "LunarLander-v3", "--preset", "none", "--envs-per-rank", 4, "--rollout-steps", 32]
    ppo(tmp_path, "--total-steps", 3 * batch, "--log", "run.h5", *common)
    with h5py.File(tmp_path / "run.policy.h5", "r+") as f:
        names = []
        f.visit(names.append)
        (env_state,) = [n for n in names if n.endswith("env_state")]
        blob = f[env_state][:]
        flat = blob.reshape(-1).view(np.uint8)
        # rank 0's env 0: its first 10 logged actions, after the 200-byte header (RNGs, counters, last obs)
        flat[200:240] ^= 0x5A
        f[env_state][...] = flat.view(blob.dtype).reshape(blob.shape)
    before = sha(tmp_path / "run.h5")
    r = ppo(tmp_path, "--total-steps", 6 * batch, "--log", "run.h5", "--resume", "run.policy.h5", *common,
            check=False)
    assert r.returncode == 2, r.stderr.decode()[-1000:]
    assert b"its saved state is not valid" in r.stderr
    assert sha(tmp_path / "run.h5") == before


def start(tmp, *args, ranks=2, env=None):
    cmd = MPIRUN + ["-n", str(ranks), BIN, "--seed", "3"] + [str(a) for a in args]
    return subprocess.Popen(cmd, cwd=tmp, env=dict(os.environ, OMP_NUM_THREADS="1", **(env or {})),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_resume_takes_the_options_the_checkpoint_saved(tmp_path):
    """--resume FILE alone continues the run with its saved options: the same final parameters as a
    resume that repeats every option and as the uninterrupted run; --total-steps extends a finished
    run (also through --resume auto); an option that may not change is refused with its name and both
    values, and nothing is written."""
    K = 6
    opts = ["--no-anneal-lr", "--lr", "0.002", "--ent-coef", "0.02", "--gamma", "0.97", "--checkpoint-every", K]
    ppo(tmp_path, "--total-steps", 2 * K * BATCH, "--log", "full.h5", *opts)
    for d in ("bare", "repeated"):
        (tmp_path / d).mkdir()
        ppo(tmp_path / d, "--total-steps", K * BATCH, "--log", "half.h5", *opts)
    before = {f: sha(tmp_path / "bare" / f) for f in ("half.h5", "half.policy.h5")}
    r = ppo(tmp_path / "bare", "--resume", "half.policy.h5", "--total-steps", 2 * K * BATCH, "--gamma", "0.99",
            check=False)
    assert r.returncode == 2 and b"option gamma" in r.stderr and b"gamma=0.97" in r.stderr \
        and b"gamma=0.99" in r.stderr, r.stderr
    assert before == {f: sha(tmp_path / "bare" / f) for f in before}, "a refused resume wrote a file"
    r = ppo(tmp_path / "bare", "--resume", "half.policy.h5", "--total-steps", 2 * K * BATCH)
    assert b"the options saved in half.policy.h5 (given here: total_steps=" in r.stdout, r.stdout
    ppo(tmp_path / "repeated", "--resume", "half.policy.h5", "--total-steps", 2 * K * BATCH, "--log", "half.h5",
        *opts)
    with h5py.File(tmp_path / "full.policy.h5", "r") as full, \
            h5py.File(tmp_path / "bare" / "half.policy.h5", "r") as bare, \
            h5py.File(tmp_path / "repeated" / "half.policy.h5", "r") as rep:
        assert bare["train"].attrs["update"] == rep["train"].attrs["update"] == 2 * K
        assert np.array_equal(bare["params"][:], rep["params"][:]), "bare and repeated resumes differ"
        assert np.array_equal(bare["params"][:], full["params"][:]), "the resume is not the uninterrupted run"
    assert_same_run(tmp_path / "full.h5", tmp_path / "bare" / "half.h5", 2 * K)
    # the run is complete; --resume auto with a larger --total-steps extends it with the saved options
    r = ppo(tmp_path / "bare", "--resume", "auto", "--log", "half.h5")
    assert b"already complete" in r.stdout, r.stdout
    ppo(tmp_path / "bare", "--resume", "auto", "--log", "half.h5", "--total-steps", 3 * K * BATCH)
    m = metrics(tmp_path / "bare" / "half.h5")
    assert list(m["update"]) == list(range(1, 3 * K + 1)) and m["global_step"][-1] == 3 * K * BATCH
    with h5py.File(tmp_path / "bare" / "half.h5", "r") as f:
        assert f["config"].attrs["gamma"] == 0.97


def test_sigusr1_checkpoints_and_resume_auto_finishes(tmp_path):
    total = 400 * BATCH
    p = start(tmp_path, "--total-steps", total, "--log", "run.h5")
    assert wait_for(lambda: updates_in(tmp_path / "run.h5") >= 5), "the run never logged 5 updates"
    p.send_signal(signal.SIGUSR1)  # mpirun forwards SIGUSR1 to the ranks
    out, err = p.communicate(timeout=300)
    assert p.returncode == 75, (p.returncode, err.decode()[-2000:])
    assert b"stopped by signal" in out
    stopped = metrics(tmp_path / "run.h5")
    with h5py.File(tmp_path / "run.ckpt.h5", "r") as c:
        assert c["train"].attrs["update"] == len(stopped["update"])
    ppo(tmp_path, "--total-steps", total, "--log", "run.h5", "--resume", "auto")
    m = metrics(tmp_path / "run.h5")
    assert list(m["update"]) == list(range(1, 401))
    assert m["global_step"][-1] == total


def rows_in_every_column(path):
    """The rows every /metrics column holds (a flush writes the columns one after another)."""
    try:
        with h5py.File(path, "r", swmr=True) as f:
            return min(len(f["metrics"][k]) for k in f["metrics"])
    except Exception:  # not created yet, or being created
        return 0


def test_sigkill_leaves_a_readable_log(tmp_path):
    p = start(tmp_path, "--total-steps", 2000 * BATCH, "--log", "run.h5", "--log-trajectories", "1")
    assert wait_for(lambda: rows_in_every_column(tmp_path / "run.h5") >= 5)
    subprocess.run(["pkill", "-KILL", "-f", f"{BIN} --seed 3 --total-steps {2000 * BATCH}"])
    p.kill()
    p.communicate(timeout=120)
    with h5py.File(tmp_path / "run.h5", "r", swmr=True) as f:
        # the rows of the flush in flight may be in some columns and not yet in others; the tools and a
        # resume keep the rows every column has
        n = min(len(f["metrics"][k]) for k in f["metrics"])
        assert n >= 5
        assert list(f["metrics/update"][:n]) == list(range(1, n + 1))
        assert len(f["trajectories/index/episode_id"]) > 0


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    """SIGKILL leaves the log marked open for SWMR writing; --resume auto must still continue into it."""
    total = 2000 * BATCH
    p = start(tmp_path, "--total-steps", total, "--log", "run.h5", "--checkpoint-every", 3)
    assert wait_for(lambda: updates_in(tmp_path / "run.h5") >= 8)
    subprocess.run(["pkill", "-KILL", "-f", f"{BIN} --seed 3 --total-steps {total}"])
    p.kill()
    p.communicate(timeout=120)
    with h5py.File(tmp_path / "run.ckpt.h5", "r") as c:
        saved = int(c["train"].attrs["update"])
    assert saved >= 6
    r = ppo(tmp_path, "--total-steps", (saved + 4) * BATCH, "--log", "run.h5", "--checkpoint-every", 3,
            "--resume", "auto")
    assert b"resumed from" in r.stdout
    assert list(metrics(tmp_path / "run.h5")["update"]) == list(range(1, saved + 5))


def test_failed_resumes_and_finished_runs_leave_the_files_alone(tmp_path):
    ppo(tmp_path, "--total-steps", 4 * BATCH, "--log", "run.h5", "--checkpoint-every", 2)
    files = {n: sha(tmp_path / n) for n in ("run.h5", "run.ckpt.h5", "run.policy.h5")}
    # the log cannot take the resume (no /episodes): refused before /metrics is cut
    with h5py.File(tmp_path / "run.h5", "a") as f:
        del f["episodes"]
    broken = sha(tmp_path / "run.h5")
    r = ppo(tmp_path, "--total-steps", 8 * BATCH, "--log", "run.h5", "--resume", "run.ckpt.h5", check=False)
    assert r.returncode == 2 and b"cannot prepare" in r.stderr, r.stderr
    assert sha(tmp_path / "run.h5") == broken
    # an explicit resume of a run that is already complete does nothing
    r = ppo(tmp_path, "--total-steps", 2 * BATCH, "--log", "run.h5", "--resume", "run.policy.h5")
    assert b"already complete" in r.stdout
    assert sha(tmp_path / "run.policy.h5") == files["run.policy.h5"] and sha(tmp_path / "run.h5") == broken
    # --resume auto with a corrupt checkpoint and no policy: an error, and the log is not moved aside
    (tmp_path / "run.policy.h5").unlink()
    (tmp_path / "run.ckpt.h5").write_bytes(open(tmp_path / "run.ckpt.h5", "rb").read()[:5000])
    r = ppo(tmp_path, "--total-steps", 8 * BATCH, "--log", "run.h5", "--resume", "auto", check=False)
    assert r.returncode == 2 and b"cannot be resumed from" in r.stderr, r.stderr
    assert sorted(os.listdir(tmp_path)) == ["run.ckpt.h5", "run.h5"]
    # a directory where a checkpoint goes: refused before training, nothing written
    os.mkdir(tmp_path / "adir")
    r = ppo(tmp_path, "--total-steps", 4 * BATCH, "--log", "new.h5", "--save", "adir", "--force", check=False)
    assert r.returncode == 2 and b"adir (it is a directory)" in r.stderr, r.stderr
    assert not (tmp_path / "new.h5").exists()


def test_eval_refuses_observation_statistics_of_the_wrong_size(tmp_path):
    ppo(tmp_path, "--total-steps", 2 * BATCH, "--log", "run.h5", "--norm-obs")
    with h5py.File(tmp_path / "run.policy.h5", "a") as f:
        for name in ("mean", "var"):
            del f["obs_norm"][name]
            f["obs_norm"][name] = np.ones(5000)
    r = subprocess.run([BIN, "eval", "--checkpoint", "run.policy.h5", "--episodes", "2"], cwd=tmp_path,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    assert r.returncode == 2 and b"/obs_norm/mean: 5000 values, expected 4" in r.stderr, (r.returncode, r.stderr)


@pytest.mark.parametrize("ranks,threads", [(2, 1), (1, 2), (1, 3), (2, 2), (2, 3)])  # 1 x 2: actor and critic on a thread each; 1 x 3: rows split; 2 x T: the team over the ranks
def test_nonfinite_gradient_stops_without_applying_the_update(tmp_path, ranks, threads):
    r = ppo(tmp_path, "--total-steps", 50 * BATCH, "--log", "run.h5", "--checkpoint-every", 5, "--threads", threads,
            check=False, ranks=ranks, env={"PPO_FAULT_NAN_AT_UPDATE": "13", "OMP_NUM_THREADS": str(threads)},
            binary=FAULTS_BIN)
    assert r.returncode == 6
    assert b"update 13" in r.stderr and b"non-finite" in r.stderr
    assert list(metrics(tmp_path / "run.h5")["update"]) == list(range(1, 13))
    with h5py.File(tmp_path / "run.ckpt.h5", "r") as c:  # the last good checkpoint, from update 10
        assert c["train"].attrs["update"] == 10
        assert np.all(np.isfinite(c["params"][:]))
    assert not (tmp_path / "run.policy.h5").exists()


def test_the_users_binary_has_no_fault_hooks(tmp_path):
    r = ppo(tmp_path, "--total-steps", 15 * BATCH, "--log", "run.h5", env={"PPO_FAULT_NAN_AT_UPDATE": "13"})
    assert list(metrics(tmp_path / "run.h5")["update"]) == list(range(1, 16))


def test_a_dead_rank_brings_the_job_down(tmp_path):
    p = start(tmp_path, "--total-steps", 5000 * BATCH, "--log", "run.h5", ranks=3)
    assert wait_for(lambda: updates_in(tmp_path / "run.h5") >= 3)
    pids = subprocess.run(["pgrep", "-f", f"^{BIN} --seed 3 --total-steps {5000 * BATCH}"],
                          stdout=subprocess.PIPE).stdout.split()
    assert len(pids) == 3
    os.kill(int(pids[-1]), signal.SIGKILL)
    out, err = p.communicate(timeout=300)  # no hang: mpirun takes the other ranks down
    assert p.returncode != 0
    with h5py.File(tmp_path / "run.h5", "r", swmr=True) as f:
        assert len(f["metrics/update"]) >= 3


def test_bad_checkpoints_are_refused_and_nothing_is_overwritten(tmp_path):
    ppo(tmp_path, "--total-steps", 4 * BATCH, "--log", "run.h5", "--checkpoint-every", 2)
    before = sha(tmp_path / "run.h5")
    data = open(tmp_path / "run.ckpt.h5", "rb").read()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    for path, words in (("cut.h5", b"corrupt"), ("missing.h5", b"no such"), ("run.h5", b"not a ppo")):
        r = ppo(tmp_path, "--total-steps", 8 * BATCH, "--log", "run.h5", "--resume", path, check=False)
        assert r.returncode == 2 and words in r.stderr, (path, r.stderr)
    r = ppo(tmp_path, "--total-steps", 8 * BATCH, "--log", "run.h5", "--resume", "auto", "--lr", "0.01", check=False)
    assert r.returncode == 2 and b"lr=" in r.stderr
    r = ppo(tmp_path, "--total-steps", 8 * BATCH, "--log", "run.h5", "--resume", "auto", "--envs-per-rank", 2,
            ranks=4, check=False)
    assert r.returncode == 2 and b"ranks" in r.stderr
    assert sha(tmp_path / "run.h5") == before


def test_trajectories_from_every_rank(tmp_path):
    ppo(tmp_path, "--total-steps", 40 * BATCH, "--log", "run.h5", "--log-trajectories", 2)
    with h5py.File(tmp_path / "run.h5", "r") as f:
        t = f["trajectories"]
        idx = {k: t["index"][k][:] for k in t["index"]}
        assert set(idx["rank"]) == {0, 1}
        assert np.array_equal(idx["offset"][1:], idx["offset"][:-1] + idx["length"][:-1])
        assert idx["offset"][-1] + idx["length"][-1] == len(t["rewards"])
        for e in range(len(idx["episode_id"])):
            s, n = idx["offset"][e], idx["length"][e]
            assert t["rewards"][s:s + n].sum() == pytest.approx(idx["return"][e])
            ended = t["terminated"][s + n - 1] or t["truncated"][s + n - 1]
            assert ended and not np.any(t["terminated"][s:s + n - 1])
        assert np.array_equal(t["render"][:], t["obs"][:])  # CartPole's render state is its state
        assert t["obs"].compression == "gzip"


def test_disk_full_keeps_the_last_checkpoint(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(full)],
                      stderr=subprocess.DEVNULL).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root) to fill a disk")
    try:
        r = ppo(full, "--total-steps", 8000 * BATCH, "--log", full / "run.h5", "--log-trajectories", 1,
                "--checkpoint-every", 3, check=False)
        assert r.returncode != 0
        assert b"No space left on device" in r.stderr  # the cause, from the failing call
        with h5py.File(full / "run.ckpt.h5", "r") as c:  # an earlier checkpoint, whole
            assert c["train"].attrs["update"] >= 3
            assert np.all(np.isfinite(c["params"][:]))
        assert updates_in(full / "run.h5") >= 3  # and the log still opens
        assert not [p for p in os.listdir(full) if ".tmp" in p], "no temporary checkpoint left behind"
    finally:
        subprocess.run(["umount", str(full)])


def rank_pids(total):
    out = subprocess.run(["pgrep", "-f", f"^{BIN} --seed 3 --total-steps {total}"], stdout=subprocess.PIPE).stdout
    return [int(p) for p in out.split()]


def test_sigterm_to_the_ranks_checkpoints_and_stops(tmp_path):
    total = 3000 * BATCH
    p = start(tmp_path, "--total-steps", total, "--log", "run.h5")
    assert wait_for(lambda: updates_in(tmp_path / "run.h5") >= 5)
    for pid in rank_pids(total):  # as a batch system's SIGTERM reaches every task
        os.kill(pid, signal.SIGTERM)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 75, err.decode()[-2000:]
    with h5py.File(tmp_path / "run.ckpt.h5", "r") as c:
        assert c["train"].attrs["update"] == updates_in(tmp_path / "run.h5")


def test_a_second_sigint_aborts_at_once(tmp_path):
    total = 3000 * BATCH
    # 4000 epochs make an update last about a second. Both SIGINTs go out 0.2 s after an update's row
    # appears in the log: past the stop check that follows that row (rank 0 reaches it milliseconds
    # later), early in the next update, so the second lands before the checkpoint the first asks for.
    # (Sent at a random moment, the first could land at the end of an update, and the checkpoint was
    # written before the second arrived.)
    p = start(tmp_path, "--total-steps", total, "--log", "run.h5", "--epochs", 4000)
    assert wait_for(lambda: updates_in(tmp_path / "run.h5") >= 2)
    pids = rank_pids(total)
    logged = updates_in(tmp_path / "run.h5")
    assert wait_for(lambda: updates_in(tmp_path / "run.h5") > logged, polls=20000, interval=0.002)
    time.sleep(0.2)
    for _ in range(2):
        for pid in pids:
            os.kill(pid, signal.SIGINT)
        time.sleep(0.05)  # two signals sent at once would merge into one
    out, err = p.communicate(timeout=300)
    assert p.returncode != 0 and p.returncode != 75
    assert b"second SIGINT" in err
    assert updates_in(tmp_path / "run.h5") >= 2  # the log keeps what was flushed
    assert not (tmp_path / "run.ckpt.h5").exists()  # aborted: no checkpoint


def test_force_replaces_the_previous_run_whole(tmp_path):
    """A new run with --force must not leave the replaced run's checkpoint and final policy beside its log:
    killed before its own first checkpoint, --resume auto would otherwise continue the old run into the
    new log, or call the run complete."""
    ppo(tmp_path, "--total-steps", 4 * BATCH, "--log", "run.h5", "--checkpoint-every", 2)
    assert (tmp_path / "run.ckpt.h5").exists() and (tmp_path / "run.policy.h5").exists()
    total = 2000 * BATCH
    p = start(tmp_path, "--total-steps", total, "--log", "run.h5", "--force")

    def new_run_logged_3_updates():  # not the old log, which has 4 updates until the new run replaces it
        try:
            with h5py.File(tmp_path / "run.h5", "r", swmr=True) as f:
                return f["config"].attrs["total_steps"] == total and len(f["metrics/update"]) >= 3
        except Exception:
            return False
    assert wait_for(new_run_logged_3_updates), "the new run never logged 3 updates"
    subprocess.run(["pkill", "-KILL", "-f", f"{BIN} --seed 3 --total-steps {total}"])
    p.kill()
    p.communicate(timeout=120)
    assert not (tmp_path / "run.ckpt.h5").exists() and not (tmp_path / "run.policy.h5").exists()
    r = ppo(tmp_path, "--total-steps", 4 * BATCH, "--log", "run.h5", "--resume", "auto")
    assert b"already complete" not in r.stdout and b"resumed from" not in r.stdout
    assert b"moved to" in r.stdout  # the killed run's log, which has no checkpoint, is kept aside
    assert list(metrics(tmp_path / "run.h5")["update"]) == [1, 2, 3, 4]


def test_a_killed_run_without_checkpoint_restarts_and_keeps_its_best_policy_aside(tmp_path):
    """--resume auto after a run killed before its first checkpoint starts a new run and moves the old
    log aside; the old run's best policy (--eval-every) goes aside with it. It used to stay, and the new
    run refused to start for it ("checkpoint run.best.policy.h5 already exists"): a requeued Slurm job
    failed."""
    total = 2000 * BATCH
    evals = ["--eval-every", 2, "--eval-every-episodes", 2]
    p = start(tmp_path, "--total-steps", total, "--log", "run.h5", *evals)
    assert wait_for(lambda: (tmp_path / "run.best.policy.h5").exists() and updates_in(tmp_path / "run.h5") >= 3)
    subprocess.run(["pkill", "-KILL", "-f", f"{BIN} --seed 3 --total-steps {total}"])
    p.kill()
    p.communicate(timeout=120)
    assert not (tmp_path / "run.ckpt.h5").exists()
    old_best = sha(tmp_path / "run.best.policy.h5")
    r = ppo(tmp_path, "--total-steps", 4 * BATCH, "--log", "run.h5", "--resume", "auto", *evals)
    assert b"moved to" in r.stdout and b"its best policy run.best.policy.h5 was moved to" in r.stdout, r.stdout
    aside = sorted(n for n in os.listdir(tmp_path) if ".interrupted-" in n)
    assert len(aside) == 2 and aside[0].endswith(".best.policy.h5") and aside[1].endswith(".h5"), aside
    assert sha(tmp_path / aside[0]) == old_best
    assert list(metrics(tmp_path / "run.h5")["update"]) == [1, 2, 3, 4]
    assert (tmp_path / "run.best.policy.h5").exists() and sha(tmp_path / "run.best.policy.h5") != old_best


def test_only_the_killed_runs_own_best_policy_moves_aside(tmp_path):
    """Before the move, the file at STEM.best.policy.h5 is checked: a regular file, a readable checkpoint,
    the log's run id. Another run's best policy is left where it is and the restart refused as before (it
    was renamed as this run's); a directory there, with a run that does not evaluate, is left alone."""
    evals = ["--eval-every", 2, "--eval-every-episodes", 2]
    for d in ("other", "killed"):
        (tmp_path / d).mkdir()
        ppo(tmp_path / d, "--total-steps", 4 * BATCH, "--log", "run.h5", *evals)
    killed = tmp_path / "killed"
    for name in ("run.policy.h5", "run.best.policy.h5"):  # killed before its first checkpoint ...
        (killed / name).unlink()
    shutil.copy(tmp_path / "other" / "run.best.policy.h5", killed / "run.best.policy.h5")  # ... beside another's
    before = {n: sha(killed / n) for n in os.listdir(killed)}
    r = ppo(killed, "--total-steps", 4 * BATCH, "--log", "run.h5", "--resume", "auto", *evals, check=False)
    assert r.returncode == 2 and b"run.best.policy.h5 already exists" in r.stderr, r.stderr[-500:]
    assert {n: sha(killed / n) for n in os.listdir(killed)} == before, "a file was moved or changed"
    (killed / "run.best.policy.h5").unlink()
    (killed / "run.best.policy.h5").mkdir()
    r = ppo(killed, "--total-steps", 4 * BATCH, "--log", "run.h5", "--resume", "auto")
    assert b"moved to" in r.stdout and b"its best policy" not in r.stdout, r.stdout
    assert (killed / "run.best.policy.h5").is_dir()
    # a new run that does not evaluate never deletes a best policy beside its log (it did, saying --force)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(tmp_path / "other" / "run.best.policy.h5", fresh / "run.best.policy.h5")
    kept = sha(fresh / "run.best.policy.h5")
    r = ppo(fresh, "--total-steps", 4 * BATCH, "--log", "run.h5")
    assert b"removed" not in r.stdout and sha(fresh / "run.best.policy.h5") == kept
