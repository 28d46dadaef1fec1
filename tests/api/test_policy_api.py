"""test_policy_api: the public policy API against the real trainer and `ppo eval`.

Trains two small policies with the real `ppo` (CartPole-v1 and Pendulum-v1 with gSDE, both with
observation normalisation), then checks that
  - examples/run_policy.c (built by ctest) drives greedy episodes whose returns and lengths equal what
    `ppo eval --episodes 1 --seed S` reports for the same seeds,
  - sampled episodes through the API equal `ppo eval --stochastic` ones (the same random stream),
  - a training checkpoint (.ckpt.h5) loads and acts as `ppo eval` evaluates it,
  - test_policy_api checks: batches vs rows, sampling, values, threads, bad files and bad calls.
(check_readme_examples.py checks that README.md quotes the example exactly.)
Usage: test_policy_api.py --ppo PPO --example RUN_POLICY --checks TEST_POLICY_API --source-dir DIR"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
PPO, EXAMPLE, CHECKS, SRC = (os.path.abspath(args[k]) for k in ("--ppo", "--example", "--checks", "--source-dir"))
ENV = dict(os.environ, OMP_NUM_THREADS="1")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", flush=True)


def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def eval_return(policy, seed, stochastic=False):
    rc, out, err = run([PPO, "eval", "--checkpoint", policy, "--episodes", "1", "--seed", str(seed)] +
                       (["--stochastic"] if stochastic else []))
    m = re.search(r"return (-?[\d.]+) \+- .* mean length ([\d.]+)", out)
    check(rc == 0 and m, f"ppo eval {policy} seed {seed}: rc {rc} {out} {err}")
    return (m.group(1), str(int(float(m.group(2))))) if m else None


def main():
    d = tempfile.mkdtemp(prefix="ppo_policy_api_")
    try:
        # CartPole also keeps a training checkpoint (after update 32 of 64), which the API loads too
        trains = {"cartpole": ["--env", "CartPole-v1", "--total-steps", "16384", "--seed", "3", "--checkpoint-every", "32"],
                  "pendulum": ["--env", "Pendulum-v1", "--total-steps", "4096", "--seed", "1"]}
        for name, opts in trains.items():
            rc, out, err = run([PPO, *opts, "--norm-obs", "true", "--log", f"{name}.h5", "--progress", "lines"], cwd=d)
            check(rc == 0 and os.path.exists(os.path.join(d, f"{name}.policy.h5")), f"train {name}: rc {rc} {err}")
        if failures:
            return
        cases = [(name, os.path.join(d, f"{name}.policy.h5"), (7, 8, 9)) for name in trains]
        cases.append(("cartpole checkpoint", os.path.join(d, "cartpole.ckpt.h5"), (7,)))
        for name, policy, seeds in cases:
            for seed in seeds:
                want = eval_return(policy, seed)
                rc, out, err = run([EXAMPLE, policy, str(seed)])
                m = re.search(r"greedy return (-?[\d.]+) in (\d+) steps", out)
                got = (m.group(1), m.group(2)) if m else None
                print(f"{name} seed {seed}: ppo eval {want}, run_policy {got}; {out.splitlines()[0] if out else err}")
                check(rc == 0 and got == want, f"{name} seed {seed}: greedy via the API {got} != ppo eval {want}")
                want = eval_return(policy, seed, stochastic=True)
                got = {}
                for scheme in ("sample-xor", "sample-mix"):  # how eval seeds the episode's stream (test_policy_api.c)
                    rc, out, err = run([CHECKS, "episode", policy, str(seed), scheme])
                    m = re.search(r"return (-?[\d.]+) length (\d+)", out)
                    check(rc == 0 and m, f"{name} seed {seed} {scheme}: rc {rc} {err}")
                    got[scheme] = (m.group(1), m.group(2)) if m else None
                print(f"{name} seed {seed}: ppo eval --stochastic {want}, API sampled {got}")
                check(want in got.values(), f"{name} seed {seed}: no sampled episode via the API {got} equals ppo eval's "
                      f"{want}")
        truncated = os.path.join(d, "truncated.policy.h5")
        with open(os.path.join(d, "cartpole.policy.h5"), "rb") as f:
            data = f.read()
        with open(truncated, "wb") as f:
            f.write(data[: len(data) // 2])
        rc, out, err = run([CHECKS, "checks", os.path.join(d, "cartpole.policy.h5"), os.path.join(d, "pendulum.policy.h5"),
                            os.path.join(d, "cartpole.h5"), truncated])
        print(out, end="")
        check(rc == 0, f"test_policy_api checks: rc {rc}\n{err}")
        rc, out, err = run([EXAMPLE, truncated])
        check(rc == 1 and "run_policy: checkpoint" in err and err.count("\n") == 1, f"example on a bad file: {rc} {err}")
        # a conv policy (image env): refused with one line that points at ppo eval
        rc, out, err = run([PPO, "--env", "CarRacing-v3", "--total-steps", "16", "--envs-per-rank", "1",
                            "--rollout-steps", "16", "--minibatches", "1", "--epochs", "1", "--log", "car.h5"], cwd=d)
        if check(rc == 0, f"train CarRacing: rc {rc} {err}"):
            rc, out, err = run([EXAMPLE, os.path.join(d, "car.policy.h5")])
            check(rc == 1 and "takes vector observations only: use 'ppo eval" in err and err.count("\n") == 1,
                  f"example on a conv policy: {rc} {err}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


main()
print(f"{len(failures)} failure(s)" if failures else "ok")
sys.exit(1 if failures else 0)
