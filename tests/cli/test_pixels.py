"""Training on pixels (CarRacing-v3, the conv policy), end to end through the `ppo` binary: a 2-rank
run writes a log, a policy that records its network and a best policy (--eval-every), which `ppo eval`
loads; the same seed
repeats a run bit for bit and another seed does not; a resumed run ends where an uninterrupted one
does, also with --frame-stack 2 --grayscale, with --frame-skip 2, and with zoo's whole chain --frame-skip 2 --resize 64 --grayscale --frame-stack 2; --cnn nature builds the larger net; a policy file without the `net` attribute (ppo before the
conv policy) still loads as an MLP. Small on purpose: CarRacing steps at ~1000/s per core (rendering)."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as ct  # noqa: E402

ct.setup()
import h5py  # noqa: E402
import numpy as np  # noqa: E402

# 2 envs x 32 steps per rank; 2 minibatches x 2 epochs; no preset: each test names its wrappers
TINY = ["--env", "CarRacing-v3", "--preset", "none", "--envs-per-rank", "2", "--rollout-steps", "32",
        "--minibatches", "2", "--epochs", "2", "--threads", "1", "--progress", "lines", "--no-anneal-lr"]  # a resume to a new total keeps the lr


def params(path):
    with h5py.File(path, "r") as f:
        return np.array(f["params"])


def attrs(path):
    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


def test_two_ranks_and_eval(d):
    log = os.path.join(d, "two.h5")
    rc, out, err = ct.run([*TINY, "--total-steps", "256", "--seed", "3", "--log", log, "--eval-every", "2",
                           "--eval-every-episodes", "2"], ranks=2)
    if not ct.check(rc == 0, f"2-rank CarRacing run failed (rc {rc}): {err.strip()[-400:]}"):
        return
    pol = os.path.join(d, "two.policy.h5")
    ct.check(os.path.exists(log) and os.path.exists(pol), "log or policy missing")
    with h5py.File(log, "r") as f:
        ct.check(list(f["metrics/update"][:]) == [1, 2], f"updates logged: {list(f['metrics/update'][:])}")
        ct.check(int(f["config"].attrs["obs_dim"]) == 96 * 96 * 3, "obs_dim in /config")
        ct.check(np.all(np.isfinite(f["metrics/policy_loss"][:])), "non-finite policy loss")
    a = attrs(pol)
    ct.check(a.get("net") == "cnn" and a.get("cnn") == "small" and int(a.get("frame_stack", 0)) == 1,
             f"policy attributes: net {a.get('net')} cnn {a.get('cnn')} frame_stack {a.get('frame_stack')}")
    rc, out, err = ct.run(["eval", pol, "--episodes", "1", "--seed", "5"])
    ct.check(rc == 0 and "CarRacing-v3: 1 episodes" in out, f"ppo eval of the conv policy: rc {rc} {err.strip()}")
    best = os.path.join(d, "two.best.policy.h5")  # --eval-every's best policy: an image policy file too
    if ct.check(os.path.exists(best), "no best policy after --eval-every"):
        ct.check(attrs(best).get("net") == "cnn", f"best policy's net: {attrs(best).get('net')}")
        rc, out, err = ct.run(["eval", best, "--episodes", "1"])
        ct.check(rc == 0, f"ppo eval of the best policy: rc {rc} {err.strip()}")
    # ppo eval --record of an image policy: tests/cli/test_record_pixels.py


def test_repro_and_resume(d):
    runs = {}
    for name, seed, steps in (("a", 7, 256), ("b", 7, 256), ("c", 8, 256), ("half", 7, 128)):
        log = os.path.join(d, f"{name}.h5")
        rc, out, err = ct.run([*TINY, "--total-steps", str(steps), "--seed", str(seed), "--log", log])
        ct.check(rc == 0, f"run {name} failed: {err.strip()[-300:]}")
        runs[name] = log[:-3] + ".policy.h5"
    if ct.failures:
        return
    ct.check(np.array_equal(params(runs["a"]), params(runs["b"])), "same seed, different parameters")
    ct.check(not np.array_equal(params(runs["a"]), params(runs["c"])), "another seed, same parameters")
    # the half run's policy holds its training state: extend it to the full run's total
    rc, out, err = ct.run(["--resume", runs["half"], "--total-steps", "256"])
    if ct.check(rc == 0, f"resume of the conv run failed: {err.strip()[-300:]}"):
        diff = np.max(np.abs(params(runs["half"]) - params(runs["a"])))
        ct.check(diff == 0.0, f"resumed run differs from the uninterrupted one (max |diff| {diff:.3g})")


def test_frame_stack_grayscale(d):
    """--frame-stack 2 --grayscale: a (96, 96, 2) input; the stacks are in the env state a resume restores."""
    wrap = ["--frame-stack", "2", "--grayscale", "--seed", "4"]
    full, half = os.path.join(d, "fs_full.h5"), os.path.join(d, "fs_half.h5")
    for log, steps in ((full, 256), (half, 128)):
        rc, out, err = ct.run([*TINY, *wrap, "--total-steps", str(steps), "--log", log])
        ct.check(rc == 0, f"frame-stack run failed: {err.strip()[-300:]}")
    if ct.failures:
        return
    pol = full[:-3] + ".policy.h5"
    a = attrs(pol)
    ct.check(int(a.get("frame_stack", 0)) == 2 and int(a.get("grayscale", 0)) == 1, f"attributes {a}")
    # small on 96x96x2: conv1 16x2x8x8 + 16 instead of 16x3x8x8 + 16
    ct.check(params(pol).size == 2064 + 8224 + 3200 * 256 + 256 + 771 + 3 + 257, f"parameters {params(pol).size}")
    rc, out, err = ct.run(["--resume", half[:-3] + ".policy.h5", "--total-steps", "256"])
    if ct.check(rc == 0, f"resume of the frame-stack run failed: {err.strip()[-300:]}"):
        ct.check(np.array_equal(params(half[:-3] + ".policy.h5"), params(pol)),
                 "resumed frame-stack run differs from the uninterrupted one")
    rc, out, err = ct.run(["eval", pol, "--episodes", "1"])
    ct.check(rc == 0 and "CarRacing-v3: 1 episodes" in out, f"ppo eval of a frame-stack policy: {err.strip()}")


def test_resize(d):
    """--frame-skip 2 --resize 64 --grayscale --frame-stack 2 (rl-baselines3-zoo's CarRacing wrappers): a
    (64, 64, 2) input, the `resize` attribute, an exact resume, and `ppo eval` and the in-run eval of the policy."""
    wrap = ["--frame-skip", "2", "--resize", "64", "--grayscale", "--frame-stack", "2", "--seed", "4"]
    full, half = os.path.join(d, "rs_full.h5"), os.path.join(d, "rs_half.h5")
    outs = []
    for log, steps, extra in ((full, 256, ["--eval-every", "2", "--eval-every-episodes", "1"]), (half, 128, [])):
        rc, out, err = ct.run([*TINY, *wrap, "--total-steps", str(steps), "--log", log, *extra])
        ct.check(rc == 0, f"--resize run failed: {err.strip()[-300:]}")
        outs.append(out)
    if ct.failures:
        return
    ct.check("conv 'small' on 64x64x2 bytes" in outs[0], f"network line: {outs[0][:600]}")
    pol = full[:-3] + ".policy.h5"
    a = attrs(pol)
    ct.check(int(a.get("resize", -1)) == 64 and int(a.get("frame_stack", 0)) == 2 and int(a.get("grayscale", 0)) == 1
             and int(a.get("frame_skip", 0)) == 2, f"attributes {a}")
    # small on 64x64x2: conv1 16x2x8x8 + 16, conv2 32x16x4x4 + 32, Linear (6*6*32 = 1152) x 256 + 256, heads
    ct.check(params(pol).size == 2064 + 8224 + 1152 * 256 + 256 + 771 + 3 + 257, f"parameters {params(pol).size}")
    rc, out, err = ct.run(["--resume", half[:-3] + ".policy.h5", "--total-steps", "256"])
    if ct.check(rc == 0, f"resume of the --resize run failed: {err.strip()[-300:]}"):
        ct.check(np.array_equal(params(half[:-3] + ".policy.h5"), params(pol)),
                 "resumed --resize run differs from the uninterrupted one")
    for p in (pol, full[:-3] + ".best.policy.h5"):
        rc, out, err = ct.run(["eval", p, "--episodes", "1"])
        ct.check(rc == 0 and "CarRacing-v3: 1 episodes" in out, f"ppo eval of {os.path.basename(p)}: {err.strip()}")
    bad = os.path.join(d, "rs_bad.policy.h5")  # a resize the env's frame cannot take: refused, one reason
    with open(pol, "rb") as f, open(bad, "wb") as g:
        g.write(f.read())
    with h5py.File(bad, "r+") as f:
        f.attrs["resize"] = np.int64(97)
    rc, out, err = ct.run(["eval", bad, "--episodes", "1"])
    ct.check(rc != 0 and "--resize 97" in err and len(err.strip().splitlines()) == 1,
             f"eval of a policy with resize 97: rc {rc} {err.strip()}")


def test_nature_and_old_files(d):
    log = os.path.join(d, "nat.h5")
    rc, out, err = ct.run(["--env", "CarRacing-v3", "--preset", "none", "--envs-per-rank", "1", "--rollout-steps",
                           "16", "--minibatches", "1", "--epochs", "1", "--threads", "1", "--total-steps", "16",
                           "--cnn", "nature", "--log", log])
    if ct.check(rc == 0, f"--cnn nature run failed: {err.strip()[-300:]}"):
        pol = log[:-3] + ".policy.h5"
        # NatureCNN on 96x96x3: convs 6176 + 32832 + 36928, Linear 4096x512 + 512, actor 512x3 + 3,
        # log_std 3, critic 512 + 1
        ct.check(params(pol).size == 6176 + 32832 + 36928 + 4096 * 512 + 512 + 1539 + 3 + 513,
                 f"nature parameter count {params(pol).size}")
        ct.check(attrs(pol).get("cnn") == "nature", "cnn attribute")
    log = os.path.join(d, "cp.h5")
    rc, out, err = ct.run(["--env", "CartPole-v1", "--total-steps", "512", "--log", log])
    if ct.check(rc == 0, f"CartPole run failed: {err.strip()[-300:]}"):
        pol = log[:-3] + ".policy.h5"
        with h5py.File(pol, "r+") as f:  # as ppo wrote it before the conv policy
            for k in ("net", "cnn", "frame_stack", "resize"):
                del f.attrs[k]
        rc, out, err = ct.run(["eval", pol, "--episodes", "2"])
        ct.check(rc == 0 and "CartPole-v1: 2 episodes" in out, f"old policy file (no net attribute): {err.strip()}")


def test_frame_skip(d):
    """--frame-skip 2 (zoo's FrameSkip): recorded in the policy file, so `ppo eval` acts every 2 env steps
    (CarRacing's 1000-step limit: at most 500 actions); a resumed run ends where an uninterrupted one does."""
    full, half = os.path.join(d, "skip_full.h5"), os.path.join(d, "skip_half.h5")
    for log, steps in ((full, 256), (half, 128)):
        rc, out, err = ct.run([*TINY, "--frame-skip", "2", "--seed", "5", "--total-steps", str(steps), "--log", log])
        ct.check(rc == 0, f"frame-skip run failed: {err.strip()[-300:]}")
    if ct.failures:
        return
    pol = full[:-3] + ".policy.h5"
    ct.check(int(attrs(pol).get("frame_skip", 0)) == 2, f"frame_skip attribute: {attrs(pol).get('frame_skip')}")
    rc, out, err = ct.run(["--resume", half[:-3] + ".policy.h5", "--total-steps", "256"])
    if ct.check(rc == 0, f"resume of the frame-skip run failed: {err.strip()[-300:]}"):
        ct.check(np.array_equal(params(half[:-3] + ".policy.h5"), params(pol)),
                 "resumed frame-skip run differs from the uninterrupted one")
    rc, out, err = ct.run(["eval", pol, "--episodes", "2", "--out", os.path.join(d, "skip.csv")])
    if ct.check(rc == 0, f"ppo eval of a frame-skip policy: {err.strip()}"):
        lengths = np.loadtxt(os.path.join(d, "skip.csv"), delimiter=",", skiprows=1, usecols=3, ndmin=1)
        ct.check(np.all(lengths <= 500), f"episode lengths {lengths}: more actions than 1000 steps / 2")
    # the attributes must agree with the saved options a resume rebuilds the run from
    with h5py.File(half[:-3] + ".policy.h5", "r+") as f:
        f.attrs["frame_skip"] = np.int64(3)
    rc, out, err = ct.run(["--resume", half[:-3] + ".policy.h5", "--total-steps", "384"])
    ct.check(rc == 2 and "disagree with its saved options" in err and len(err.strip().splitlines()) == 1,
             f"resume of a file whose frame_skip attribute was changed: rc {rc} {err.strip()[-300:]}")
    for bad in ("0", "17", "two"):
        rc, out, err = ct.run(["--env", "CartPole-v1", "--frame-skip", bad, "--total-steps", "64"])
        ct.check(rc == 2 and len(err.strip().splitlines()) == 1 and "frame" in err,
                 f"--frame-skip {bad}: rc {rc}, {err.strip()!r}")


def test_preset(d):
    """CarRacing-v3's preset is zoo's wrapper chain minus the resize: frame skip 2, grayscale, 2 frames, gSDE."""
    log = os.path.join(d, "preset.h5")
    rc, out, err = ct.run(["--env", "CarRacing-v3", "--envs-per-rank", "1", "--rollout-steps", "16", "--minibatches",
                           "1", "--epochs", "1", "--threads", "1", "--total-steps", "16", "--log", log])
    if ct.check(rc == 0, f"preset run failed: {err.strip()[-300:]}"):
        a = attrs(log[:-3] + ".policy.h5")
        got = {k: int(a.get(k, -1)) for k in ("frame_skip", "grayscale", "frame_stack", "sde", "resize")}
        ct.check(got == {"frame_skip": 2, "grayscale": 1, "frame_stack": 2, "sde": 1, "resize": 0},
                 f"the preset's wrappers in the policy file: {got}")


with tempfile.TemporaryDirectory() as d:
    test_two_ranks_and_eval(d)
    test_repro_and_resume(d)
    test_frame_stack_grayscale(d)
    test_resize(d)
    test_nature_and_old_files(d)
    test_frame_skip(d)
    test_preset(d)
ct.finish("pixels")
