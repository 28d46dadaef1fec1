"""`ppo eval POLICY --record FILE.h5` on an image env (CarRacing-v3): /trajectories/obs holds the env's
frames as uint8 (S, 96, 96, 3), chunked per frame and gzip-compressed, and the other datasets as for a
vector env. The frames are checked against the env itself: each recorded episode is replayed through
the public env API (libppo, by ctypes) with the recorded actions from the same seed, and every row's
frame, reward, flags and render state must be what the env produced before that action; also with
--frame-skip 2 (a row per action, its frame the one the policy saw) and with a --resize 64 --grayscale
--frame-stack 2 policy (the frames are still the env's 96x96 RGB ones). The rows, lengths and returns agree with
`ppo eval --out`; `ppo-analyze animate` plays the recording. Small: a 64-step policy, seconds each."""
import ctypes
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as ct  # noqa: E402

ct.setup()
import h5py  # noqa: E402
import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--env", "CarRacing-v3", "--preset", "none", "--envs-per-rank", "2", "--rollout-steps", "32",
        "--minibatches", "2", "--epochs", "2", "--threads", "1", "--progress", "lines", "--total-steps", "64"]
H, W, C, RENDER_DIM = 96, 96, 3, 20


class StepResult(ctypes.Structure):  # include/ppo/env.h ppo_step_result
    _fields_ = [("reward", ctypes.c_float), ("terminated", ctypes.c_bool), ("truncated", ctypes.c_bool)]


def env_api():
    """libppo beside the ppo binary (the build's src/), with the env functions' signatures."""
    lib = ctypes.CDLL(os.path.join(os.path.dirname(os.path.realpath(ct.PPO)), "libppo.so"))
    lib.ppo_env_make.restype = ctypes.c_void_p
    lib.ppo_env_make.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.ppo_env_free.argtypes = [ctypes.c_void_p]
    lib.ppo_env_seed.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    lib.ppo_env_reset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.ppo_env_step_repeat.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                        ctypes.POINTER(StepResult), ctypes.c_void_p]
    lib.ppo_env_render_state.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    return lib


def replay(lib, options, seed, actions, skip):
    """The env's frames (bytes), rewards, flags and render states before each of `actions`."""
    return replay_episodes(lib, options, seed, [actions], skip)[0]


def replay_episodes(lib, options, seed, episodes, skip):
    """replay() of several episodes in a row on one env seeded once (a training env's stream)."""
    err = ctypes.create_string_buffer(512)
    env = lib.ppo_env_make(b"CarRacing-v3", options.encode(), err, len(err))
    assert env, err.value
    lib.ppo_env_seed(env, seed & (2**64 - 1))  # the index stores the uint64's bits as int64
    outs = [replay_one(lib, env, actions, skip) for actions in episodes]
    lib.ppo_env_free(env)
    return outs


def replay_one(lib, env, actions, skip):
    obs = np.zeros(H * W * C, np.float32)
    ren = np.zeros(RENDER_DIM, np.float32)
    out = {"obs": [], "rewards": [], "terminated": [], "truncated": [], "render": []}
    lib.ppo_env_reset(env, obs.ctypes.data)
    res = StepResult()
    for a in actions:
        out["obs"].append(obs.astype(np.uint8).reshape(H, W, C))  # whole values 0..255
        lib.ppo_env_render_state(env, ren.ctypes.data)
        out["render"].append(ren.copy())
        act = np.ascontiguousarray(a, dtype=np.float32)
        rc = lib.ppo_env_step_repeat(env, act.ctypes.data, skip, obs.ctypes.data, ctypes.byref(res), None)
        assert rc == 0, f"env refused the recorded action {a}: {rc}"
        out["rewards"].append(res.reward)
        out["terminated"].append(res.terminated)
        out["truncated"].append(res.truncated)
    return {k: np.array(v) for k, v in out.items()}


def read_csv(path):
    rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {"seed": rows[:, 1].astype(np.int64), "return": rows[:, 2], "length": rows[:, 3].astype(np.int64),
            "terminated": rows[:, 4].astype(np.int64)}


def check_recording(lib, rec, csv, skip, what):
    """Layout, agreement with the CSV, and every episode replayed through the env."""
    with h5py.File(rec, "r") as f:
        t = f["trajectories"]
        obs = t["obs"]
        S = obs.shape[0]
        ct.check(obs.dtype == np.uint8 and obs.shape[1:] == (H, W, C), f"{what}: obs {obs.dtype} {obs.shape}")
        ct.check(obs.chunks == (1, H, W, C) and obs.compression == "gzip", f"{what}: obs chunks {obs.chunks} "
                 f"compression {obs.compression}")
        shapes = {"actions": (S, 3), "rewards": (S,), "logprobs": (S,), "values": (S,), "terminated": (S,),
                  "truncated": (S,), "render": (S, RENDER_DIM)}
        for k, shape in shapes.items():
            want = np.uint8 if k in ("terminated", "truncated") else np.float32
            ct.check(t[k].shape == shape and t[k].dtype == want, f"{what}: {k} {t[k].dtype} {t[k].shape}")
        idx = {k: t["index"][k][:] for k in t["index"]}
        options = f["config"].attrs["env_options"]
        options = options.decode() if isinstance(options, bytes) else str(options)
        eps = []
        for e in range(len(idx["offset"])):
            o, n = int(idx["offset"][e]), int(idx["length"][e])
            eps.append({k: t[k][o:o + n] for k in ("obs", "actions", "rewards", "terminated", "truncated",
                                                    "render")})
    if ct.failures:
        return S
    ct.check(list(idx["length"]) == list(csv["length"]) and list(idx["seed"]) == list(csv["seed"]),
             f"{what}: lengths/seeds {list(idx['length'])} {list(idx['seed'])}, CSV {list(csv['length'])} "
             f"{list(csv['seed'])}")
    ct.check(np.allclose(idx["return"], csv["return"], rtol=1e-8, atol=1e-6),
             f"{what}: returns {idx['return']}, CSV {csv['return']}")
    ct.check(S == int(np.sum(csv["length"])) and list(idx["offset"]) == [0, *np.cumsum(csv["length"])[:-1]],
             f"{what}: {S} rows, offsets {list(idx['offset'])}")
    for e, ep in enumerate(eps):
        ct.check(abs(float(np.sum(ep["rewards"], dtype=np.float64)) - csv["return"][e]) < 1e-3,
                 f"{what}: episode {e}'s rewards do not sum to its return")
        ct.check(ep["terminated"][-1] == csv["terminated"][e] and not ep["terminated"][:-1].any(),
                 f"{what}: episode {e}'s terminated flags")
        env = replay(lib, options, int(csv["seed"][e]), ep["actions"], skip)
        ct.check(np.array_equal(ep["obs"][0], env["obs"][0]),
                 f"{what}: episode {e}'s frame 0 is not the env's reset observation for seed {csv['seed'][e]}")
        bad = [i for i in range(len(ep["obs"])) if not np.array_equal(ep["obs"][i], env["obs"][i])]
        ct.check(not bad, f"{what}: episode {e}: {len(bad)} frames differ from the replayed env's, first row "
                 f"{bad[:1]}")
        for k in ("rewards", "terminated", "truncated", "render"):
            ct.check(np.array_equal(ep[k], env[k].astype(ep[k].dtype)), f"{what}: episode {e}: {k} differ from "
                     "the replayed env's")
    return S


def train(d, name, extra):
    log = os.path.join(d, name + ".h5")
    rc, out, err = ct.run([*TINY, "--seed", "3", "--log", log, *extra])
    ct.check(rc == 0, f"training {name} failed (rc {rc}): {err.strip()[-300:]}")
    return log[:-3] + ".policy.h5"


def record(d, pol, name, episodes, seed):
    csv, rec = os.path.join(d, name + ".csv"), os.path.join(d, name + ".rec.h5")
    rc, out, err = ct.run(["eval", pol, "--episodes", str(episodes), "--seed", str(seed), "--out", csv,
                           "--record", rec])
    ok = ct.check(rc == 0 and os.path.exists(rec), f"ppo eval --record {name}: rc {rc} {err.strip()}")
    return (csv, rec) if ok else (None, None)


def test_record_and_replay(d, lib):
    pol = train(d, "plain", [])
    if ct.failures:
        return
    csv, rec = record(d, pol, "plain", 2, 5)
    if not rec:
        return
    S = check_recording(lib, rec, read_csv(csv), 1, "plain")
    size = os.path.getsize(rec)
    with h5py.File(rec, "r") as f:
        obs_bytes = f["trajectories/obs"].id.get_storage_size()
    print(f"recording: {S} steps, {size} bytes ({size / S:.0f} B/step; frames {obs_bytes / S:.0f} B/step, "
          f"{H * W * C} raw)")
    ct.check(obs_bytes < S * H * W * C / 4, f"frames not compressed: {obs_bytes} bytes for {S} frames")
    # seed 6 alone: the same first frame as episode 1 above (the env's reset picture for the seed; the
    # actions may differ in the last bits, as the conv pass's batch is 1 instead of 2), and its own replay
    csv2, rec2 = record(d, pol, "again", 1, 6)
    if rec2:
        with h5py.File(rec, "r") as a, h5py.File(rec2, "r") as b:
            o = int(a["trajectories/index/offset"][1])
            ct.check(np.array_equal(a["trajectories/obs"][o], b["trajectories/obs"][0]),
                     "seed 6 recorded twice: different first frames")
        check_recording(lib, rec2, read_csv(csv2), 1, "seed 6 alone")
    # ppo-analyze plays it: one GIF frame per 25 steps, 4x the 96x96 frame under the 58-pixel header
    out = os.path.join(d, "anim")
    p = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "analysis", "ppo-analyze"), "animate", rec,
                        "--episode", "0", "--stride", "25", "--no-mp4", "--out", out], capture_output=True, text=True)
    gif = os.path.join(out, "animate_plain.rec_ep0.gif")
    if ct.check(p.returncode == 0 and os.path.exists(gif), f"animate: rc {p.returncode} {p.stderr.strip()[-300:]}"):
        from PIL import Image
        im = Image.open(gif)
        length = int(read_csv(csv)["length"][0])
        ct.check(im.n_frames == math.ceil(length / 25) and im.size == (4 * W, 4 * H + 58),
                 f"animate GIF: {im.n_frames} frames of {im.size}, want {math.ceil(length / 25)} of "
                 f"{(4 * W, 4 * H + 58)}")
    # whole episodes stay in memory as bytes: a recording that would hold more than 2 GiB is refused
    rc, out, err = ct.run(["eval", pol, "--episodes", "100", "--record", os.path.join(d, "big.h5")])
    ct.check(rc != 0 and "record at most 77 episodes" in err and not os.path.exists(os.path.join(d, "big.h5")),
             f"100 recorded CarRacing episodes: rc {rc} {err.strip()}")


def test_frame_skip(d, lib):
    """A policy acting every 2 env steps (the policy file's frame_skip attribute, as --frame-skip 2
    writes it): a row per action, its frame the one the policy saw."""
    pol = train(d, "skip", ["--frame-skip", "2"])
    if ct.failures:
        return
    csv, rec = record(d, pol, "skip", 1, 9)
    if rec:
        S = check_recording(lib, rec, read_csv(csv), 2, "frame-skip 2")
        ct.check(S <= 500, f"frame-skip 2: {S} rows, more than 1000 steps / 2")


def test_stacked_grayscale(d, lib):
    """--resize 64 --grayscale --frame-stack 2 change the policy's input, not the recording: the env's
    96x96 RGB frames."""
    pol = train(d, "gray", ["--resize", "64", "--grayscale", "--frame-stack", "2"])
    if ct.failures:
        return
    csv, rec = record(d, pol, "gray", 1, 11)
    if rec:
        check_recording(lib, rec, read_csv(csv), 1, "resize 64 grayscale frame-stack 2")


def test_log_trajectories(d, lib):
    """Training's --log-trajectories 1 on 2 ranks: the same uint8 frames in the log (gathered to rank 0),
    every env's episodes replayed in a row from its seed; a resume keeps them; animate plays it.
    --frame-skip 4 so that episodes end (at most 250 actions) within 9 updates."""
    args = [*TINY[:-2], "--frame-skip", "4", "--seed", "3", "--log-trajectories", "1"]
    full = os.path.join(d, "traj.h5")
    rc, out, err = ct.run([*args, "--total-steps", "1152", "--log", full], ranks=2)
    if not ct.check(rc == 0, f"--log-trajectories on CarRacing: rc {rc} {err.strip()[-300:]}"):
        return
    with h5py.File(full, "r") as f:
        t = f["trajectories"]
        idx = {k: t["index"][k][:] for k in t["index"]}
        obs = t["obs"]
        S = int(np.sum(idx["length"]))
        ct.check(obs.dtype == np.uint8 and obs.shape == (S, H, W, C) and obs.chunks == (1, H, W, C)
                 and t["actions"].shape == (S, 3) and t["render"].shape == (S, RENDER_DIM),
                 f"training log: obs {obs.dtype} {obs.shape} chunks {obs.chunks}, actions {t['actions'].shape}")
        ct.check(len(idx["length"]) >= 2 and set(idx["rank"]) == {0, 1},
                 f"episodes recorded: {len(idx['length'])} on ranks {set(idx['rank'])}")
        options = f["config"].attrs.get("env_options", "")
        options = options.decode() if isinstance(options, bytes) else str(options)
        by_env = {}
        for e in range(len(idx["length"])):
            o, n = int(idx["offset"][e]), int(idx["length"][e])
            by_env.setdefault((int(idx["rank"][e]), int(idx["env_index"][e])), []).append(
                (e, {k: t[k][o:o + n] for k in ("obs", "actions", "rewards", "render")}))
    print(f"training log: {S} recorded steps, frames {os.path.getsize(full) / S:.0f} B/step of the whole log")
    for (rank, env_index), eps in by_env.items():
        seed = int(idx["seed"][eps[0][0]])
        envs = replay_episodes(lib, options, seed, [ep["actions"] for _e, ep in eps], 4)
        for (e, ep), env in zip(eps, envs):
            ct.check(np.array_equal(ep["obs"], env["obs"]) and np.array_equal(ep["rewards"], env["rewards"])
                     and np.array_equal(ep["render"], env["render"]),
                     f"training log: episode {e} (rank {rank}, env {env_index}) differs from the replayed env")
    # a resume reopens the log (its uint8 obs checked against the env's frame size) and keeps its frames
    with h5py.File(full, "r") as f:
        before = f["trajectories/obs"][:]
    rc, out, err = ct.run(["--resume", full[:-3] + ".policy.h5", "--total-steps", "1280"], ranks=2)
    if ct.check(rc == 0, f"resume of a run with image trajectories: rc {rc} {err.strip()[-300:]}"):
        with h5py.File(full, "r") as f:
            t = f["trajectories"]
            n = int(np.sum(t["index/length"][:]))
            ct.check(t["obs"].shape == (n, H, W, C) and t["actions"].shape[0] == n and n >= S
                     and np.array_equal(t["obs"][:S], before), f"resumed log: obs {t['obs'].shape}, {n} indexed steps")
    anim = os.path.join(d, "traj_anim")
    p = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "analysis", "ppo-analyze"), "animate", full,
                        "--max-frames", "20", "--no-mp4", "--out", anim], capture_output=True, text=True)
    ct.check(p.returncode == 0 and any(f.endswith(".gif") for f in os.listdir(anim) if os.path.isdir(anim)),
             f"animate of the training log: rc {p.returncode} {p.stderr.strip()[-300:]}")
    # frames stored as another integer type: a resume would append converted frames; refused instead
    with h5py.File(full, "r+") as f:
        frames = f["trajectories/obs"][:]
        del f["trajectories/obs"]
        f.create_dataset("trajectories/obs", data=frames.astype(np.int16), maxshape=(None, H, W, C),
                         chunks=(1, H, W, C))
    rc, out, err = ct.run(["--resume", full[:-3] + ".policy.h5", "--total-steps", "1408"], ranks=2)
    ct.check(rc == 2 and "expected uint8" in err and err.strip().count("ppo: error") == 1,
             f"resume with int16 frames in the log: rc {rc} {err.strip()[-300:]}")


with tempfile.TemporaryDirectory() as d:
    lib = env_api()
    test_record_and_replay(d, lib)
    test_frame_skip(d, lib)
    test_stacked_grayscale(d, lib)
    test_log_trajectories(d, lib)
ct.finish("record_pixels")
