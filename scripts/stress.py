#!/usr/bin/python3
"""stress: long randomised checks of ppo, for developers after changes to the trainer, the log or the CLI.
Not part of the test suite (random, and minutes to hours long); each finding is a line starting with BUG
or SUSPECT (a documented equivalence that did not hold), and the run directory of a finding is kept.

  scripts/stress.py layouts N [--seed S]   random options x ranks x threads: no crash; the same layout
                                           twice gives the same bits; 1 x 2 = 1 x 1 and 1 x 2k = the
                                           k-group row split where the layout line says so (plain-C
                                           sized nets); a resume = the straight run; shm = mpi sums
  scripts/stress.py options N [--seed S]   random option values: exit 0, or exit 2 with one
                                           `ppo: error:` line and nothing written
  scripts/stress.py kill N [--seed S]      SIGKILL at a random moment (mpirun alone, or with its ranks):
                                           the log reads with updates 1..n, and --resume auto finishes the
                                           run or refuses in one line

Options: --ppo PATH (default build/src/ppo), --out DIR (default /tmp/ppo-stress). Needs Debian's
python3 with h5py and numpy, and mpirun. As root it passes --allow-run-as-root to mpirun."""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
ENVS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "MountainCarContinuous-v0", "LunarLander-v3",
        "LunarLanderContinuous-v3", "BipedalWalker-v3"]
CONTINUOUS = {"Pendulum-v1", "MountainCarContinuous-v0", "LunarLanderContinuous-v3", "BipedalWalker-v3"}
TIMING = re.compile(r"^(wall_time|steps_per_second|time_.*|seconds)$")  # columns that are times


class Stress:
    def __init__(self, ppo, out, seed):
        self.ppo, self.out, self.rng = ppo, out, random.Random(seed)
        os.makedirs(out, exist_ok=True)
        self.report = open(os.path.join(out, "report.txt"), "a")
        self.findings = 0

    def say(self, *words):
        line = " ".join(str(w) for w in words)
        print(line, flush=True)
        self.report.write(line + "\n")
        self.report.flush()
        if line.startswith(("BUG", "SUSPECT")):
            self.findings += 1

    def command(self, ranks, args):
        return ([*MPIRUN, "-n", str(ranks)] if ranks > 1 else []) + [self.ppo, *args]

    def run(self, d, args, ranks, threads, timeout=600):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY="passive")
        try:
            p = subprocess.run(self.command(ranks, [*args, "--threads", str(threads)]), cwd=d, env=env,
                               capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return None, "", f"still running after {timeout} s"
        return p.returncode, p.stdout, p.stderr

    def fresh_dir(self, name):
        d = os.path.join(self.out, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d


def read_run(log):
    """{name: array} of a log's datasets but the times, and of its final policy's datasets."""
    out = {}

    def add(prefix):
        return lambda name, obj: (out.__setitem__(prefix + name, obj[()])
                                  if isinstance(obj, h5py.Dataset) and not TIMING.match(name.split("/")[-1]) else None)
    with h5py.File(log, "r") as f:
        f.visititems(add(""))
    with h5py.File(log[:-3] + ".policy.h5", "r") as f:
        f.visititems(add("policy/"))
    return out


def differing(a, b, skip=()):
    return [k for k in sorted(set(a) | set(b)) if not k.startswith(skip) and
            (k not in a or k not in b or np.asarray(a[k]).tobytes() != np.asarray(b[k]).tobytes())]


def random_options(rng):
    env = rng.choice(ENVS)
    algo = rng.choices(["ppo", "a2c", "reinforce"], [7, 2, 1])[0]
    a = ["--env", env, "--preset", "none", "--algo", algo]
    envs, steps = rng.choice([1, 2, 3, 4, 5, 8]), rng.choice([8, 16, 24, 32])
    a += ["--envs-per-rank", str(envs), "--rollout-steps", str(steps)]
    if algo == "ppo":
        a += ["--minibatches", str(rng.choice([1, 2, 4, 8])), "--epochs", str(rng.choice([1, 2, 3]))]
        a += ["--target-kl", "0.005"] if rng.random() < .2 else []
        a += ["--norm-adv-batch"] if rng.random() < .2 else []
        a += ["--no-clip-vloss"] if rng.random() < .3 else []
    if algo == "reinforce" and rng.random() < .5:
        a += ["--no-baseline"]
    for flag, p in (("--norm-obs", .3), ("--norm-reward", .3), ("--shared-trunk", .2)):
        a += [flag] if rng.random() < p else []
    a += ["--hidden", rng.choice(["64,64", "64,64", "32", "16,16,16", "128,128", "256,256"])]
    a += ["--activation", "relu"] if rng.random() < .2 else []
    if env in CONTINUOUS and rng.random() < .3:
        a += ["--sde", "--sde-sample-freq", str(rng.choice([-1, 4]))]
    a += ["--max-grad-norm", "0"] if rng.random() < .2 else []
    a += ["--log-trajectories", str(rng.choice([1, 2]))] if rng.random() < .3 else []
    a += ["--eval-every", "2", "--eval-every-episodes", "2"] if rng.random() < .2 else []
    a += ["--critic-lr", "0.001"] if rng.random() < .2 else []
    a += ["--optimizer", "rmsprop"] if rng.random() < .2 else []
    return a, envs * steps


def layouts(s, n):
    for i in range(n):
        opts, per_rank = random_options(s.rng)
        ranks, threads = s.rng.choice([1, 1, 2, 2, 3]), s.rng.choice([2, 3, 4, 6])
        opts += ["--grad-reduce", "mpi"] if ranks > 1 and s.rng.random() < .2 else []
        total = 4 * per_rank * ranks
        base = [*opts, "--total-steps", str(total), "--seed", str(s.rng.randint(1, 99))]
        tag = f"[layouts {i}] {ranks} x {threads}: " + " ".join(base)
        d = s.fresh_dir(f"layouts{i}")
        runs, lines, ok = {}, {}, True
        for name, t in (("a", threads), ("b", threads), ("one", 1), ("half", threads // 2)):
            if name == "half" and (threads % 2 or threads == 2):
                continue
            rc, out, err = s.run(d, [*base, "--log", f"{name}.h5"], ranks, t)
            if rc != 0:
                errors = [x for x in err.splitlines() if x.startswith("ppo: error")]
                if rc == 2 and errors and name == "a":
                    s.say("refused", tag, "::", errors[0][:200])
                else:
                    s.say("BUG", tag, f"{name} ({t} threads): exit {rc}", err[-500:].replace("\n", " | "))
                ok = False
                break
            runs[name] = read_run(os.path.join(d, f"{name}.h5"))
            lines[name] = next((x for x in out.splitlines() if x.startswith("layout:")), "")
        if not ok:
            continue
        if differing(runs["a"], runs["b"]):
            s.say("BUG", tag, "the same layout twice differs:", differing(runs["a"], runs["b"])[:6])
        plain = not any(h in base for h in ("128,128", "256,256"))  # plain-C inference: up to 2^14 MACs a row
        if plain and "the actor on one thread, the critic on" in lines["a"] and differing(runs["a"], runs["one"]):
            s.say("SUSPECT", tag, "the net split on one row group differs from 1 thread:",
                  differing(runs["a"], runs["one"])[:6])
        groups = re.search(r"the actor on (\d+) threads", lines["a"])
        half = lines.get("half", "")
        split = re.search(r"rows on (\d+) of the threads", half)
        half_groups = int(split.group(1)) if split else threads // 2 if "rows" not in half and "actor" not in half else -1
        if plain and groups and "half" in runs and half_groups == int(groups.group(1)) \
                and differing(runs["a"], runs["half"]):
            s.say("SUSPECT", tag, f"the net split in {groups.group(1)} groups differs from that row split:",
                  differing(runs["a"], runs["half"])[:6])
        if s.rng.random() < .5:  # half the updates, then a resume to the end, against the straight run
            resumable = [*base, "--no-anneal-lr", "--checkpoint-every", "2"]
            half_run = list(resumable)
            half_run[half_run.index("--total-steps") + 1] = str(total // 2)
            codes = [s.run(d, [*resumable, "--log", "full.h5"], ranks, threads)[0],
                     s.run(d, [*half_run, "--log", "part.h5"], ranks, threads)[0],
                     s.run(d, [*resumable, "--log", "part.h5", "--resume", "part.policy.h5", "--force"], ranks,
                           threads)[0]]
            if codes != [0, 0, 0]:
                s.say("BUG", tag, "resume runs exited", codes)
            else:  # an episode cut by a resume is not recorded (docs/log-schema.md)
                diff = differing(read_run(os.path.join(d, "full.h5")), read_run(os.path.join(d, "part.h5")),
                                 skip=("trajectories",))
                if diff:
                    s.say("SUSPECT", tag, "the resumed run differs from the straight one:", diff[:6])
        if ranks in (2, 4) and "--grad-reduce" not in base:  # shm and mpi sums: the same bits on 2, 4, 8 ranks
            a = s.run(d, [*base, "--log", "shm.h5"], ranks, 1)[0]
            b = s.run(d, [*base, "--log", "mpi.h5", "--grad-reduce", "mpi"], ranks, 1)[0]
            if (a, b) != (0, 0):
                s.say("BUG", tag, "shm / mpi runs exited", a, b)
            elif differing(read_run(os.path.join(d, "shm.h5")), read_run(os.path.join(d, "mpi.h5"))):
                s.say("SUSPECT", tag, "shm and mpi sums differ")
        s.say("ok", tag)
        shutil.rmtree(d, ignore_errors=True)


OPTION_VALUES = ["", "0", "-1", "1", "2", "3", "7", "8", "16", "64", "96", "255", "256", "4096", "100000", "1e6",
                 "2147483647", "2147483648", "9223372036854775808", "1.5", "0.5", "0.01", "-0.5", "1e-8", "1e-320",
                 "1e309", "nan", "inf", "-inf", "-0", "0x10", " 5", "5 ", "abc", "64,", ",", "0,0", "16,0", "x" * 5000,
                 "%s%n", "\u00e9", "true", "false", "continuous=1", "foo=1", "=", "enable_wind=1,wind_power=20"]
ENUM_VALUES = {"env": ENVS + ["BipedalWalkerHardcore-v3", "CarRacing-v3", "CartPole-v0"],
               "algo": ["ppo", "a2c", "reinforce"], "preset": ["auto", "scale", "none"], "net": ["mlp", "cnn", "auto"],
               "cnn": ["small", "nature"], "activation": ["tanh", "relu"], "optimizer": ["adam", "rmsprop"],
               "grad-reduce": ["mpi", "shm"], "progress": ["live", "lines", "auto"],
               "hidden": ["64,64", "1", "0", "4096", "64,,64", "100000,100000", "2,3,4"]}
BOOLEANS = {"anneal-lr", "clip-vloss", "norm-adv", "norm-adv-batch", "baseline", "norm-obs", "norm-reward",
            "shared-trunk", "sde", "grayscale"}


def options(s, n):
    text = subprocess.run([s.ppo, "--help"], capture_output=True, text=True).stdout
    names = sorted(set(re.findall(r"^  --([a-z][a-z0-9-]*)", text, re.M)) -
                   {"total-steps", "config", "resume", "log", "save", "checkpoint", "force"})
    for i in range(n):
        args = ["--total-steps", "256"]
        for o in s.rng.sample(names, s.rng.choice([1, 1, 2, 3])):
            plausible = ENUM_VALUES.get(o) or (["true", "false"] if o in BOOLEANS else None)
            args += [f"--{o}", s.rng.choice(plausible) if plausible and s.rng.random() < .85
                     else s.rng.choice(OPTION_VALUES)]
        d = s.fresh_dir(f"options{i}")
        rc, out, err = s.run(d, [*args, "--log", "run.h5"], 1, 1, timeout=120)
        errors = [x for x in err.splitlines() if x.strip()]
        files = os.listdir(d)
        tag = f"[options {i}] " + " ".join(repr(a)[:40] for a in args)
        if rc is None:
            s.say("slow", tag, "(a legal but long run?)")
        elif rc == 0 and "run.h5" not in files:
            s.say("BUG", tag, "exit 0 without a log")
        elif rc == 2 and (len(errors) != 1 or not errors[0].startswith("ppo: error:") or files):
            s.say("BUG", tag, "refused with", errors[:3], "leaving", files)
        elif rc not in (0, 2):
            s.say("BUG", tag, f"exit {rc}", " | ".join(errors)[-300:])
        else:
            s.say("ok", tag, "::", errors[0][:160] if errors else "")
        shutil.rmtree(d, ignore_errors=True)


def kill(s, n):
    for i in range(n):
        env = s.rng.choice(["CartPole-v1", "LunarLander-v3", "Pendulum-v1", "BipedalWalker-v3"])
        ranks, envs, steps = s.rng.choice([1, 1, 2]), s.rng.choice([2, 4, 8]), s.rng.choice([16, 32, 64])
        updates = s.rng.choice([60, 200, 1000])
        args = ["--env", env, "--preset", "none", "--envs-per-rank", str(envs), "--rollout-steps", str(steps),
                "--total-steps", str(updates * envs * steps * ranks), "--seed", "3", "--no-anneal-lr", "--log",
                "run.h5", "--threads", str(s.rng.choice([1, 2])), "--progress", "lines"]
        args += ["--checkpoint-every", str(s.rng.choice([1, 2, 5]))] if s.rng.random() < .7 else []
        args += ["--log-trajectories", str(s.rng.choice([1, 3]))] if s.rng.random() < .4 else []
        args += ["--eval-every", "3", "--eval-every-episodes", "2"] if s.rng.random() < .3 else []
        args += ["--norm-obs", "--norm-reward"] if s.rng.random() < .3 else []
        d = s.fresh_dir(f"kill{i}")
        delay = s.rng.choice([s.rng.uniform(0.0, 0.8), s.rng.uniform(0.3, 4.0)])
        with_ranks = s.rng.random() < .5
        env_vars = dict(os.environ, OMP_WAIT_POLICY="passive")
        p = subprocess.Popen(s.command(ranks, args), cwd=d, env=env_vars, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        finished = p.poll() is not None
        if not finished:
            if with_ranks:  # as Slurm kills a job's processes; mpirun's ranks are in their own process groups
                subprocess.run(["pkill", "-KILL", "-P", str(p.pid)])
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        tag = (f"[kill {i}] {ranks} ranks, killed{' with the ranks' if with_ranks else ''} at {delay:.2f} s"
               f"{' (it had finished)' if finished else ''}: " + " ".join(args))
        rows = None
        if os.path.exists(os.path.join(d, "run.h5")):
            try:
                with h5py.File(os.path.join(d, "run.h5"), "r", swmr=True) as f:
                    rows = min(len(f["metrics"][k]) for k in f["metrics"])
                    if list(f["metrics/update"][:rows]) != list(range(1, rows + 1)):
                        s.say("BUG", tag, "the killed run's log has updates", list(f["metrics/update"][:rows])[:10])
            except Exception as e:
                s.say("BUG", tag, "the killed run's log does not read:", repr(e)[:200])
                continue
        rc, out, err = s.run(d, [*args, "--resume", "auto"], ranks, int(args[args.index("--threads") + 1]))
        errors = [x for x in err.splitlines() if x.startswith("ppo: error")]
        if rc == 0:
            with h5py.File(os.path.join(d, "run.h5"), "r") as f:
                kept = min(len(f["metrics"][k]) for k in f["metrics"])
                if list(f["metrics/update"][:kept]) != list(range(1, updates + 1)):
                    s.say("BUG", tag, f"after --resume auto the log has {kept} updates, not 1..{updates}")
                    continue
        elif rc == 2 and len(errors) == 1:
            s.say("refused", tag, "::", errors[0][:240])  # e.g. the killed ranks still writing
            continue
        else:
            s.say("BUG", tag, f"--resume auto exited {rc}", err[-400:].replace("\n", " | "))
            continue
        s.say("ok", tag, "rows", rows)
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["layouts", "options", "kill"])
    ap.add_argument("n", type=int, help="cases to run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ppo", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "src",
                                                  "ppo"))
    ap.add_argument("--out", default="/tmp/ppo-stress")
    a = ap.parse_args()
    if not os.access(a.ppo, os.X_OK):
        sys.exit(f"stress: error: no ppo binary at {a.ppo} (build first, or give --ppo)")
    s = Stress(os.path.abspath(a.ppo), os.path.join(a.out, f"{a.mode}-{a.seed}"), a.seed)
    {"layouts": layouts, "options": options, "kill": kill}[a.mode](s, a.n)
    print(f"stress {a.mode}: {a.n} cases, {s.findings} finding(s); report in {s.report.name}")
    sys.exit(1 if s.findings else 0)


if __name__ == "__main__":
    main()
