"""Bad input to `ppo` and `ppo eval`: each case must print exactly one line on stderr that starts
with "ppo: error:" and names the problem, exit non-zero, and leave the working directory exactly as
it was (no log or checkpoint created, no `runs/` directory, no temporary file, existing files
byte-for-byte and mtime unchanged). Run directly (a singleton MPI process) and a subset under
mpirun -n 2, where exactly one rank must report. `--group options|files|mpi` picks a share of the
cases (ctest runs the groups as separate tests, so they can run side by side)."""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as ct  # noqa: E402

ct.setup()

SMALL = ["--total-steps", "256", "--envs-per-rank", "2", "--rollout-steps", "32", "--minibatches", "1",
         "--epochs", "1"]

# (name, args, regex the error line must match, also under mpirun -n 2); group "options" first
CASES = [
    ("unknown env", ["--env", "NoSuchEnv-v0"], r"NoSuchEnv-v0", True),
    ("unknown env option", ["--env-options", "bogus=1"], r"bogus", False),
    ("image env with --net mlp", ["--env", "CarRacing-v3", "--net", "mlp"], r"CarRacing-v3 has image observations \(96x96x3\): it needs --net cnn", True),
    ("--net cnn on a vector env", ["--net", "cnn"], r"--net cnn needs an env with image observations; CartPole-v1", False),
    ("unknown --net", ["--net", "resnet"], r"option net: 'resnet'", False),
    ("unknown --grad-reduce", ["--grad-reduce", "nccl"], r"option grad_reduce: 'nccl' is not shm or mpi", False),
    ("unknown --cnn", ["--env", "CarRacing-v3", "--cnn", "huge"], r"option cnn: 'huge'", False),
    ("--resize on a vector env", ["--resize", "64"], r"--resize is for image envs; CartPole-v1", False),
    ("negative --resize", ["--env", "CarRacing-v3", "--resize", "-1"], r"option resize: must be in \[0, 256\].*image envs.*-1", False),
    ("--resize larger than the frame", ["--env", "CarRacing-v3", "--resize", "97"],
     r"--resize 97: must be in \[1, 96\] for CarRacing-v3 \(downscaling only", True),
    ("--norm-obs on pixels", ["--env", "CarRacing-v3", "--norm-obs"], r"CarRacing-v3 has image observations: --norm-obs", True),
    ("--frame-stack on a vector env", ["--frame-stack", "4"], r"--frame-stack and --grayscale are for image envs", False),
    ("--frame-stack out of range", ["--env", "CarRacing-v3", "--frame-stack", "0"], r"option frame_stack", False),
    ("--sde on discrete CarRacing", ["--env", "CarRacing-v3", "--env-options", "continuous=0", "--sde"], r"gSDE \(--sde\) needs continuous actions", False),
    ("unknown option", ["--no-such-option", "1"], r"--no-such-option", False),
    ("misspelt option", ["--learning-rat", "0.1"], r"--learning-rat\b.*did you mean --learning-rate\b.*--lr\b", False),
    ("CleanRL's --num-envs (not per rank)", ["--num-envs", "4"], r"--num-envs.*envs_per_rank", False),
    ("near a refused alias", ["--num-env", "4"], r"--num-env\b.*did you mean --num-envs\b.*envs_per_rank", False),
    ("stray argument", ["frobnicate"], r"frobnicate", False),
    ("option without its value", ["--lr"], r"\blr\b", False),
    ("malformed number", ["--lr", "abc"], r"\blr\b.*abc", True),
    ("malformed integer", ["--envs-per-rank", "4.5"], r"envs.per.rank.*4\.5", False),
    ("number with trailing junk", ["--total-steps", "100k"], r"total.steps.*100k", False),
    ("negative lr", ["--lr", "-0.001"], r"\blr\b", False),
    ("zero lr", ["--lr", "0"], r"\blr\b", False),
    ("zero envs per rank", ["--envs-per-rank", "0"], r"envs.per.rank", False),
    ("negative envs per rank", ["--envs-per-rank", "-4"], r"envs.per.rank", False),
    ("minibatches not dividing the batch", ["--envs-per-rank", "3", "--rollout-steps", "5", "--minibatches", "2"],
     r"minibatches", True),
    ("gamma above 1", ["--gamma", "1.5"], r"gamma", False),
    ("bad boolean", ["--norm-adv", "maybe"], r"norm.adv.*maybe", False),
    ("unknown algo", ["--algo", "dqn"], r"algo.*dqn", False),
    ("bad hidden sizes", ["--hidden", "64,,x"], r"hidden", False),
    # strict numbers: what strtol/strtod would take but a user did not mean
    ("integer in hex", ["--seed", "0x10"], r"seed.*0x10", False),
    ("integer with a plus sign", ["--seed", "+8"], r"seed.*\+8", False),
    ("integer with a leading space", ["--envs-per-rank", " 8"], r"envs.per.rank.* 8", False),
    ("number in hex", ["--lr", "0x1p-3"], r"\blr\b.*0x1p-3", False),
    ("hidden sizes with a trailing comma", ["--hidden", "64,"], r"hidden.*64,", False),
    ("env options that are only commas", ["--env-options", ",,,"], r",,,.*empty", False),
    ("env options with a trailing comma", ["--env", "Pendulum-v1", "--env-options", "g=9.81,"], r"empty", False),
    ("env option in hex", ["--env", "Pendulum-v1", "--env-options", "g=0x10"], r"\bg=0x10", False),
    # env options range-checked as gravity is (docs/envs.md)
    ("wind_power beyond its range", ["--env", "LunarLander-v3", "--env-options", "wind_power=1e308,enable_wind=1"],
     r"wind_power.*\[0, 1000\]", True),
    ("turbulence_power beyond its range", ["--env", "LunarLander-v3", "--env-options", "turbulence_power=1e6"],
     r"turbulence_power.*\[0, 100\]", False),
    ("Pendulum g beyond its range", ["--env", "Pendulum-v1", "--env-options", "g=1e308"], r"\bg=.*\[0, 100\]", False),
    # resources decided before anything is allocated
    ("threads far over the cores", ["--threads", "100000"], r"threads.*100000.*\d+ threads per rank", True),
    ("threads over the cap", ["--threads", "5000"], r"threads.*5000.*\d+ threads per rank", False),
    ("buffers larger than the node", ["--envs-per-rank", "65536", "--rollout-steps", "1500"],
     r"envs_per_rank.*need about [\d.]+ GB.*[\d.]+ GB available", True),
    ("eval episodes beyond the bound", ["--eval-episodes", "2147483647"], r"eval.episodes.*2147483647", False),
    # past any run that learns, and overflowing the float an update is made in (it started, then stopped)
    ("lr beyond its range", ["--lr", "1e308"], r"option lr: must be in \(0, 1\], got 1e\+308", False),
    ("ent_coef beyond its range", ["--ent-coef", "1e308"], r"option ent_coef: must be in \[0, 1000\]", False),
    ("vf_coef beyond its range", ["--vf-coef", "2000"], r"option vf_coef: must be in \[0, 1000\], got 2000", False),
    ("adam_eps below what the float step holds (0/0 on update 1)", ["--adam-eps", "1e-50"],
     r"option adam_eps: must be in \[1e-30, 1\], got 1e-50", False),
    ("an empty --log (was silently the default)", ["--log", ""], r"option log: an empty path", False),
    ("--resize below what the CNN takes", ["--env", "CarRacing-v3", "--resize", "8"],
     r"--resize 8: --cnn small needs frames of at least 20x20", False),
    ("ppo envs with an argument", ["envs", "x"], r"'envs' takes no arguments, got 'x'", False),
    ("ppo --version with an argument", ["--version", "x"], r"'--version' takes no arguments, got 'x'", False),
    ("a newline in a value (a second, forged error line)", ["--hidden", "x\nppo: error: fake"],
     r"argument \d+ \('x\?ppo: error: fake'\) contains a control character \(code 10\)", False),
    ("a Gaussian std of e^88 (NaN actions, then MPI_Abort)", ["--env", "Pendulum-v1", "--log-std-init", "88"],
     r"log_std_init.*\[-20, 20\].*88", False),
    # config files that are not small text files
    ("config: a directory", ["--config", "."], r"config file \..*directory", False),
    ("config: /dev/zero", ["--config", "/dev/zero"], r"/dev/zero.*not a regular file", False),
    ("config: a line longer than libinih's buffer", ["--config", "long_line.ini"],
     r"long_line\.ini.*line 3 has 250 characters", False),
    None,  # the cases below make or read files: group "files"
    ("log under a missing directory", ["--log", "/nonexistent-ppo-dir/run.h5", *SMALL],
     r"/nonexistent-ppo-dir/run\.h5", False),
    ("log under /proc", ["--log", "/proc/ppo-test-log.h5", *SMALL], r"/proc/ppo-test-log\.h5", False),
    ("checkpoint under a missing directory", ["--log", "new.h5", "--save", "/nonexistent-ppo-dir/p.h5", *SMALL],
     r"/nonexistent-ppo-dir/p\.h5", True),
    ("existing log without --force", ["--log", "existing.h5", *SMALL], r"existing\.h5", True),
    ("--save = --log", ["--log", "same.h5", "--save", "same.h5", "--force", *SMALL], r"same\.h5", False),
    ("--checkpoint = --log", ["--log", "same.h5", "--checkpoint", "same.h5", "--force", *SMALL], r"same\.h5", False),
    ("--save = --log, spelled differently", ["--log", "same.h5", "--save", "./same.h5", "--force", *SMALL],
     r"same\.h5", False),
    ("--checkpoint = --save, through the parent", ["--log", "new.h5", "--save", "p.h5", "--checkpoint",
     "../work/p.h5", "--force", *SMALL], r"p\.h5", False),
    ("training checkpoint under a missing directory",
     ["--log", "new.h5", "--checkpoint", "/nonexistent-ppo-dir/c.h5", "--checkpoint-every", "1", *SMALL],
     r"/nonexistent-ppo-dir/c\.h5", False),
    ("resume from a missing checkpoint", ["--log", "new.h5", "--resume", "missing.ckpt.h5", *SMALL],
     r"missing\.ckpt\.h5", False),
    ("existing checkpoint without --force", ["--log", "fresh.h5", *SMALL], r"fresh\.policy\.h5", False),
    ("config: unknown key", ["--config", "bad_key.ini"], r"bad_key\.ini, line 3\b.*gae_lamda.*did you mean gae_lambda",
     False),
    ("config: syntax error", ["--config", "bad_syntax.ini"], r"bad_syntax\.ini, line 3: syntax", False),
    ("config: missing file", ["--config", "missing.ini"], r"missing\.ini", False),
    ("config: malformed value", ["--config", "bad_value.ini"], r"bad_value\.ini, line 1\b.*\blr\b.*abc", False),
    ("config: a value out of range", ["--config", "bad_range.ini"], r"gamma.*1\.5.*bad_range\.ini, line 3\b", False),
    ("config: unknown section", ["--config", "bad_section.ini"], r"bad_section\.ini, line 2\b.*section \[train\]", False),
    ("config: old Mac line ends (the rest was lost)", ["--config", "cr_only.ini"],
     r"cr_only\.ini: line 1 ends with a lone carriage return", False),
    ("config: an indented value (libinih took it as the value)", ["--config", "continued.ini"],
     r"continued\.ini, line 2: syntax error", False),
    ("config: an option set twice", ["--config", "twice.ini"], r"twice\.ini, line 4: seed is set again \(first on line 2\)",
     False),
    ("log is a link to nowhere", ["--log", "dangling.h5", *SMALL],
     r"dangling\.h5 \(it is a symbolic link to a file that does not exist", False),
    ("eval without --checkpoint", ["eval"], r"checkpoint", False),
    ("eval: misspelt option", ["eval", "--episode", "3", "--checkpoint", "x.h5"], r"--episode'; did you mean --episodes\?", False),
    ("eval: missing checkpoint", ["eval", "--checkpoint", "missing.policy.h5"], r"missing\.policy\.h5", False),
    ("eval: checkpoint is not HDF5", ["eval", "--checkpoint", "notes.txt"], r"notes\.txt", False),
    ("eval: truncated checkpoint", ["eval", "--checkpoint", "truncated.policy.h5"], r"truncated\.policy\.h5", False),
    ("eval: an HDF5 file that is not a checkpoint", ["eval", "--checkpoint", "alog.h5"], r"alog\.h5", False),
    ("eval: zero episodes", ["eval", "--checkpoint", "good.policy.h5", "--episodes", "0"], r"episodes", False),
    ("eval: a recording over its cap (every env was built first)",
     ["eval", "--checkpoint", "good.policy.h5", "--episodes", "100000", "--record", "big_rec.h5"],
     r"recording 100000 episodes .* more than 2 GiB: record at most \d+ episodes", False),
    ("eval: unknown option", ["eval", "--checkpoint", "good.policy.h5", "--greedy"], r"--greedy", False),
    ("eval: episodes in hex", ["eval", "--checkpoint", "good.policy.h5", "--episodes", "0x10"], r"episodes.*0x10", False),
    ("eval: seed with a plus sign", ["eval", "--checkpoint", "good.policy.h5", "--seed", "+8"], r"seed.*\+8", False),
    ("eval: an all-NaN policy", ["eval", "--checkpoint", "nan.policy.h5"], r"nan\.policy\.h5.*/params.*non-finite", True),
    ("eval: a NaN Pendulum policy", ["eval", "--checkpoint", "nan_pendulum.policy.h5"],
     r"nan_pendulum\.policy\.h5.*/params.*non-finite", False),
    ("eval: a policy with one infinite parameter", ["eval", "--checkpoint", "inf.policy.h5"],
     r"inf\.policy\.h5.*/params.*non-finite", False),
]


def make_fixtures(d, tmp, with_run):
    """The files the cases refer to; with_run: also a real checkpoint and log from a tiny run."""
    if not with_run:
        write_files(d)
        return
    fx = os.path.join(tmp, "fixture")
    os.makedirs(fx, exist_ok=True)
    rc, out, err = ct.run(["--log", "run.h5", "--seed", "3", *SMALL], cwd=fx)
    if not ct.check(rc == 0, f"fixture run failed ({rc}): {err}"):
        ct.finish("bad input")
    shutil.copy(os.path.join(fx, "run.policy.h5"), os.path.join(d, "good.policy.h5"))
    shutil.copy(os.path.join(fx, "run.h5"), os.path.join(d, "alog.h5"))
    rc, out, err = ct.run(["--log", "pend.h5", "--env", "Pendulum-v1", "--seed", "3", *SMALL], cwd=fx)
    if not ct.check(rc == 0, f"Pendulum fixture run failed ({rc}): {err}"):
        ct.finish("bad input")
    import h5py
    import numpy as np
    for src, name, poison in (("run", "nan", lambda p: np.full_like(p, np.nan)),
                              ("pend", "nan_pendulum", lambda p: np.full_like(p, np.nan)),
                              ("run", "inf", lambda p: np.where(np.arange(p.size) == 7, np.inf, p).astype(p.dtype))):
        dst = os.path.join(d, f"{name}.policy.h5")
        shutil.copy(os.path.join(fx, f"{src}.policy.h5"), dst)
        with h5py.File(dst, "r+") as f:
            f["params"][...] = poison(f["params"][...])
    with open(os.path.join(fx, "run.policy.h5"), "rb") as f:
        blob = f.read()
    with open(os.path.join(d, "truncated.policy.h5"), "wb") as f:
        f.write(blob[: len(blob) // 2])
    write_files(d)


def write_files(d):
    """Small files the cases name, then every file's mtime set far in the past (any rewrite shows)."""
    files = {
        "existing.h5": "an earlier run's log: must survive\n",
        "fresh.policy.h5": "an earlier run's checkpoint: must survive\n",
        "notes.txt": "not an HDF5 file\n",
        "bad_key.ini": "[ppo]\nseed = 3\ngae_lamda = 0.9\n",
        "bad_syntax.ini": "[ppo]\nseed = 3\nthis line has no equals sign\n",
        "bad_value.ini": "lr = abc\n",
        "bad_range.ini": "[ppo]\nseed = 3\ngamma = 1.5\n",
        "bad_section.ini": "[train]\nlr = 0.1\n",
        "long_line.ini": "[ppo]\nseed = 3\n# " + "x" * 248 + "\nlr = 0.1\n",
        "cr_only.ini": "[ppo]\rseed = 3\rlr = abc\r",
        "continued.ini": "hidden = 64\n  32\n",
        "twice.ini": "[ppo]\nseed = 3\n  lr = 0.001\n\tseed = 4\n",
    }
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    old = 1_000_000_000
    for name in os.listdir(d):
        os.utime(os.path.join(d, name), (old, old))
    os.symlink("no-such-dir/run.h5", os.path.join(d, "dangling.h5"))


def selected(group):
    """(case, ranks) pairs of the group: options and files run directly, mpi under mpirun -n 2."""
    split = CASES.index(None)
    if group == "options":
        return [(c, None) for c in CASES[:split]]
    if group == "files":
        return [(c, None) for c in CASES[split + 1:]]
    return [(c, 2) for c in CASES if c and c[3]]


def network_larger_than_node(d):
    """The widest network --hidden allows (7 x 4096: 201M parameters, ~12 GB per rank with its gradient,
    Adam moments, snapshots and the shared-memory gradient sum) on 4 ranks: refused before anything is
    allocated, naming --hidden. Only where 4 such ranks exceed the node's memory (CI's 24 GiB machine);
    elsewhere the run would really start, so the case says why it is skipped."""
    with open("/proc/meminfo") as f:
        avail = next((int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:")), None)
    label = "network larger than the node (mpirun -n 4): --hidden 7 x 4096"
    if avail is None or avail > 40e9:
        print(f"skip {label}: MemAvailable {avail} bytes would hold it", flush=True)
        return
    rc, out, err = ct.run(["--hidden", ",".join(["4096"] * 7), "--envs-per-rank", "1", "--rollout-steps", "8",
                           "--minibatches", "1", "--threads", "1"], ranks=4, cwd=d)
    lines = [ln for ln in err.splitlines() if ln.startswith("ppo:")]
    ct.check(rc == 2, f"{label}: exit code {rc}, not 2 (bad input)")
    ct.check(len(lines) == 1 and re.search(r"option hidden: .*network of 201\d{6} parameters [\d.]+ GB per rank"
                                           r".*need about [\d.]+ GB", lines[0]) is not None,
             f"{label}: stderr {err!r}")
    print(f"{'ok  ' if rc == 2 else 'FAIL'} {label}\n       -> {lines[0] if lines else err}", flush=True)


def net_split_larger_than_node(d):
    """8,192 CartPole envs x 1,000 steps in one minibatch: ~17 GB of training pass on one thread, which
    fits CI's 24 GiB, and twice that on 2 threads, where the actor's thread and the critic's each hold a
    pass over all the rows. The estimate counted one pass, so the run started and ran out of memory at
    its first minibatch; now it is refused before anything is allocated. Only where 34 GB exceed the
    node's memory; elsewhere the run would really start."""
    with open("/proc/meminfo") as f:
        avail = next((int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:")), None)
    label = "the net split's two passes larger than the node: 8192 envs x 1000 steps, 1 minibatch, --threads 2"
    if avail is None or avail > 30e9:
        print(f"skip {label}: MemAvailable {avail} bytes would hold them", flush=True)
        return
    before = ct.snapshot(d)
    rc, out, err = ct.run(["--envs-per-rank", "8192", "--rollout-steps", "1000", "--minibatches", "1", "--epochs", "1",
                           "--total-steps", "8192000", "--threads", "2"], cwd=d)
    lines = [ln for ln in err.splitlines() if ln.startswith("ppo:")]
    ct.check(rc == 2, f"{label}: exit code {rc}, not 2 (bad input)")
    ct.check(len(lines) == 1 and re.search(r"option envs_per_rank x rollout_steps: .*minibatch 3[34]\.\d\d GB.*need about",
                                           lines[0]) is not None, f"{label}: stderr {err!r}")
    ct.check(ct.snapshot(d) == before, f"{label}: the directory changed")
    print(f"{'ok  ' if rc == 2 else 'FAIL'} {label}\n       -> {lines[0] if lines else err}", flush=True)


def eval_envs_larger_than_node(d):
    """--eval-episodes 100000 of BipedalWalker-v3: ~33 GB of envs for the evaluation after training, which
    used to be made only then (out of memory after the whole run). Refused before training, naming the
    option. Only where they exceed the node's memory (CI's 24 GiB); elsewhere the run would really start."""
    with open("/proc/meminfo") as f:
        avail = next((int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:")), None)
    label = "eval envs larger than the node: --eval-episodes 100000 (BipedalWalker-v3)"
    if avail is None or avail > 30e9:
        print(f"skip {label}: MemAvailable {avail} bytes would hold them", flush=True)
        return
    before = ct.snapshot(d)
    rc, out, err = ct.run(["--env", "BipedalWalker-v3", "--eval-episodes", "100000", *SMALL], cwd=d)
    lines = [ln for ln in err.splitlines() if ln.startswith("ppo:")]
    ct.check(rc == 2, f"{label}: exit code {rc}, not 2 (bad input)")
    ct.check(len(lines) == 1 and re.search(r"option eval_episodes: .*eval envs [\d.]+ GB.*need about [\d.]+ GB.*evaluate fewer episodes",
                                           lines[0]) is not None, f"{label}: stderr {err!r}")
    ct.check(ct.snapshot(d) == before, f"{label}: the directory changed")
    print(f"{'ok  ' if rc == 2 else 'FAIL'} {label}\n       -> {lines[0] if lines else err}", flush=True)


def main():
    args = sys.argv[1:]
    group = args[args.index("--group") + 1] if "--group" in args else "all"
    cases = selected("options") + selected("files") + selected("mpi") if group == "all" else selected(group)
    with tempfile.TemporaryDirectory(prefix="ppo-bad-input-") as tmp:
        d = os.path.join(tmp, "work")
        os.mkdir(d)
        with_run = group != "options"
        make_fixtures(d, tmp, with_run)
        if with_run:
            rc, out, err = ct.run(["eval", "--checkpoint", "good.policy.h5", "--episodes", "2"], cwd=d)
            ct.check(rc == 0 and "return" in out, f"eval of the good checkpoint failed ({rc}): {err}")
        before = ct.snapshot(d)
        for (name, args, pattern, _), ranks in cases:
            label = f"{name}{' (mpirun -n 2)' if ranks else ''}: ppo {' '.join(args)}"
            n_failed = len(ct.failures)
            rc, out, err = ct.run(args, ranks=ranks, cwd=d)
            ct.check(rc == 2, f"{label}: exit code {rc}, not 2 (bad input)")
            ours = [ln for ln in err.splitlines() if ln.startswith("ppo:")]
            lines = ours if ranks else [ln for ln in err.splitlines() if ln.strip()]
            if ct.check(len(lines) == 1, f"{label}: {len(lines)} lines on stderr, not 1: {err!r}"):
                ct.check(lines[0].startswith("ppo: error: "), f"{label}: stderr {lines[0]!r}")
                ct.check(re.search(pattern, lines[0]) is not None,
                         f"{label}: the error {lines[0]!r} does not name the problem (/{pattern}/)")
            ct.check("ppo: error" not in out, f"{label}: the error went to stdout")
            after = ct.snapshot(d)
            if not ct.check(after == before, f"{label}: the directory changed"):
                for k in sorted(set(before) | set(after)):
                    if before.get(k) != after.get(k):
                        print(f"    {k}: {before.get(k)} -> {after.get(k)}")
                shutil.rmtree(d)
                os.mkdir(d)
                make_fixtures(d, tempfile.mkdtemp(dir=tmp), with_run)
                before = ct.snapshot(d)
            status = "ok  " if len(ct.failures) == n_failed else "FAIL"
            print(f"{status} {label}\n       -> {err.splitlines()[0] if err else ''}", flush=True)
        if group in ("mpi", "all"):
            network_larger_than_node(d)
        if group in ("options", "all"):
            eval_envs_larger_than_node(d)
            net_split_larger_than_node(d)
        if group in ("files", "all"):  # the counterpart: --force does overwrite
            rc, out, err = ct.run(["--log", "existing.h5", "--force", *SMALL], cwd=d)
            with open(os.path.join(d, "existing.h5"), "rb") as f:
                magic = f.read(8)
            ct.check(rc == 0 and magic == b"\x89HDF\r\n\x1a\n", f"--force did not replace existing.h5 ({rc}): {err}")
            ct.check(os.path.exists(os.path.join(d, "existing.policy.h5")), "--force run saved no checkpoint")
    ct.finish(f"bad input ({group})")


main()
