#!/usr/bin/python3
"""The scaling model of docs/scaling.md: predicts ppo's training throughput and parallel efficiency
for a run shape on p ranks (one core each), from costs measured on one core.

Per update, on p ranks (global batch B = envs x steps, M minibatches x E epochs, P parameters):

  T(p) =  B/p * c_env                          env stepping (perfectly divisible)
        + steps * (k_inf + (envs/p) * c_inf)    inference: one call per step over the rank's envs
        + M*E * (k_grad + (mb/p) * c_grad)      gradient: fixed cost per minibatch + per row (oneDNN);
                                                (mb/p) * c_grad_plain at most plain_rows rows (plain C)
        + M*E * AR(4P, p) + E * AR(16M, p)      gradient allreduces; advantage statistics, once per epoch
        + M*E * (c_opt * P / s + S(p))          norm, clipping and Adam: each of a node's s ranks steps
                                                1/s of the parameters, S = the barriers that adds (one on
                                                one node, two across nodes; a_node * ceil(log2 s) / 2 each)

AR(bytes, p) = a * ceil(log2 p) + 2 * bytes * (p-1)/p / bw for one node (shared memory), and for n
nodes of c cores the node part plus a_net * ceil(log2 n) + 2 * bytes * (n-1)/n / bw_net.
Efficiency = T(1) / (p * T(p)).

Usage: scripts/scale_model.py --calibrate costs.json   (measures the costs on this machine: a few
           1-rank runs, bench_envs and bench_allreduce on 2 ranks; about a minute; needs a quiet machine)
       scripts/scale_model.py --costs costs.json         (prints the prediction tables)
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

# Between nodes: assumptions, not measured here (no second node): HDR InfiniBand links carry 200 Gb/s
# (25 GB/s; 20 GB/s assumed for MPI), and an MPI message through a switch takes a few microseconds.
NETWORK = {"a_net": 3e-6, "bw_net": 20e9}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PPO = os.environ.get("PPO_BIN", os.path.join(ROOT, "build", "src", "ppo"))
BENCH = os.path.dirname(os.environ.get("BENCH_ENVS", os.path.join(ROOT, "build", "bench", "bench_envs")))
MPIRUN = ["mpirun", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
PHASES = ("env", "infer", "gae", "grad", "comm", "optim", "log")

SHAPES = {  # name: (env, envs, steps, minibatches, epochs, params)
    "LunarLander-v3 preset": ("LunarLander-v3", 16, 1024, 256, 4, 9797),
    "LunarLander-v3 64 envs x 256": ("LunarLander-v3", 64, 256, 4, 4, 9797),
    "LunarLander-v3 8 envs x 512 per rank": ("LunarLander-v3", 8, 512, 64, 10, 9797),
    "LunarLander-v3 --preset scale (16 envs x 512, at least 1 per rank)": ("LunarLander-v3", 16, 512, 64, 10, 9797),
    "BipedalWalker-v3 8 envs/rank": ("BipedalWalker-v3", 8, 2048, 256, 10, 11722),
}
WEAK = {"LunarLander-v3 8 envs x 512 per rank", "BipedalWalker-v3 8 envs/rank"}  # envs per rank
AT_LEAST_ONE = {"LunarLander-v3 --preset scale (16 envs x 512, at least 1 per rank)"}  # envs global, >= 1 per rank


def phase_seconds(args, updates):
    """Mean seconds per update of each phase on 1 rank x 1 thread, from ppo's per-update progress lines
    (the first update, with its one-off costs, left out)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(MPIRUN + ["-n", "1", "--bind-to", "core", PPO] + args + [
            "--threads", "1", "--seed", "1", "--progress", "lines", "--progress-interval", "1e-6",
            "--log", os.path.join(tmp, "m.h5")], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"update\s+(\d+)/.*\s(\d+) steps/s .*time% (.*)$", line)
        if m and int(m.group(1)) > 1:
            sps = float(m.group(2))
            split = dict(zip(m.group(3).split()[0::2], (float(v) / 100 for v in m.group(3).split()[1::2])))
            rows.append((sps, split))
    if len(rows) < updates - 1:
        raise SystemExit("scale_model: ppo printed %d update lines, expected %d" % (len(rows), updates - 1))
    return rows


def per_update(args, batch, updates):
    rows = phase_seconds(args + ["--total-steps", str(batch * updates)], updates)
    t = [batch / sps for sps, _ in rows]
    return {p: sum(ti * split.get(p, 0) for ti, (_s, split) in zip(t, rows)) / len(rows) for p in PHASES}


def calibrate(path):
    m = dict(NETWORK)
    m["c_env"] = {}
    for env in ("LunarLander-v3", "BipedalWalker-v3", "CartPole-v1"):
        steps = "3000000" if env == "CartPole-v1" else "100000"
        out = subprocess.run([os.path.join(BENCH, "bench_envs"), "--steps", steps, env], capture_output=True,
                             text=True, check=True, env=dict(os.environ, OMP_NUM_THREADS="1")).stdout
        sps = float(next(line.split()[1] for line in out.splitlines() if line.startswith(env)))
        m["c_env"][env] = 1.0 / sps
    lander = ["--env", "LunarLander-v3", "--preset", "none", "--gamma", "0.999"]
    # two shapes: 16 envs x 1024 steps, minibatches of 64 (x1024 per update) and 64 envs x 256, of 4096 (x16)
    a = per_update(lander + ["--envs-per-rank", "16", "--rollout-steps", "1024", "--minibatches", "256",
                             "--epochs", "4"], 16384, 6)
    b = per_update(lander + ["--envs-per-rank", "64", "--rollout-steps", "256", "--minibatches", "4",
                             "--epochs", "4"], 16384, 6)
    # infer = steps * (k + envs * c): a: 1024 (k + 16 c), b: 256 (k + 64 c)
    ia, ib = a["infer"] / 1024, b["infer"] / 256
    m["c_inf"] = (ib - ia) / 48
    m["k_inf"] = ia - 16 * m["c_inf"]
    # grad = minibatches (k + rows * c): a: 1024 (k + 64 c), b: 16 (k + 4096 c)
    ga, gb = a["grad"] / 1024, b["grad"] / 16
    m["c_grad"] = (gb - ga) / 4032
    m["k_grad"] = ga - 64 * m["c_grad"]
    # minibatches of 4 rows run in plain C (src/nn/mlp.c: up to 5 x 2^14 multiply-adds, 16 rows of these nets)
    c = per_update(lander + ["--envs-per-rank", "16", "--rollout-steps", "256", "--minibatches", "1024",
                             "--epochs", "2"], 4096, 6)
    m["c_grad_plain"] = c["grad"] / 2048 / 4
    m["plain_rows"] = (5 << 14) // (8 * 64 + 64 * 64 + 64 * 4)
    m["c_opt"] = a["optim"] / 1024 / 9797
    out = subprocess.run(MPIRUN + ["-n", "2", "--bind-to", "core", os.path.join(BENCH, "bench_allreduce"), "2000"],
                         capture_output=True, text=True, check=True).stdout
    lat = re.search(r"latency \(3 floats\) ([0-9.]+) us; bandwidth .* ([0-9.]+) GB/s", out)
    m["a_node"] = float(lat.group(1)) * 1e-6
    m["bw_node"] = float(lat.group(2)) * 1e9
    m["measured_phases"] = {"16x1024 mb64": a, "64x256 mb4096": b, "16x256 mb4": c}
    with open(path, "w") as f:
        json.dump(m, f, indent=1)
    print(json.dumps(m, indent=1))


COST_KEYS = ("k_inf", "c_inf", "k_grad", "c_grad", "c_grad_plain", "plain_rows", "c_opt", "a_node", "bw_node", "a_net",
             "bw_net")


def load_costs(path):
    """The costs file, checked before use: every time a number of seconds from 0 to 1 (a step, call,
    row, parameter or message; env steps from 1e-12), bandwidths from 1 to 1e15 bytes/s, plain_rows from
    0 to 2^20, c_env a table of the model's envs; so that no prediction overflows or divides by zero.
    Anything else ends with one error line and exit 2."""
    def fail(msg):
        print("scale_model: error: %s: %s" % (path, msg), file=sys.stderr)
        raise SystemExit(2)
    try:
        if os.path.getsize(path) > 1 << 20:
            fail("larger than 1 MiB; not a costs file")
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail("cannot read it as JSON (%s)" % str(exc).splitlines()[0])
    if not isinstance(m, dict):
        fail("not a JSON object")

    def number(v, name, lo=0.0, hi=1.0, lo_open=False):
        ok = (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
              and (v > lo if lo_open else v >= lo) and v <= hi)
        if not ok:
            fail("%s is %r, expected a number from %g%s to %g" % (name, v, lo, " (excluded)" if lo_open else "", hi))
    for k in COST_KEYS:
        if k not in m:
            fail("%s is missing (write the file with --calibrate)" % k)
        if k.startswith("bw"):
            number(m[k], k, 1.0, 1e15)
        elif k == "plain_rows":
            number(m[k], k, 0.0, float(1 << 20))
        else:
            number(m[k], k)
    envs = m.get("c_env")
    if not isinstance(envs, dict):
        fail("c_env is missing or not a table of env -> seconds per step")
    for env in {s[0] for s in SHAPES.values()}:
        if env not in envs:
            fail("c_env has no %s" % env)
        number(envs[env], "c_env[%s]" % env, 1e-12)  # a step takes some time (CartPole-v1: 5e-8 s)
    return m


def allreduce(m, nbytes, p, cores_per_node):
    nodes = max(1, math.ceil(p / cores_per_node))
    local = min(p, cores_per_node)
    t = 0.0
    if local > 1:
        t += m["a_node"] * math.ceil(math.log2(local)) + 2 * nbytes * (local - 1) / local / m["bw_node"]
    if nodes > 1:
        t += m["a_net"] * math.ceil(math.log2(nodes)) + 2 * nbytes * (nodes - 1) / nodes / m["bw_net"]
    return t


def optimizer_step(m, params, p, cores_per_node):
    """The ranks of a node step a slice each and swap slices: one barrier more than the sum's two on a
    single node; across nodes two more than the node's part of the sum (a barrier is half of a_node's
    log2 term, which stands for two)."""
    if p <= 1:
        return m["c_opt"] * params
    local = min(p, cores_per_node)
    barriers = 1 if p <= cores_per_node else 2
    return m["c_opt"] * params / local + barriers * m["a_node"] * math.ceil(math.log2(local)) / 2


def update_time(m, shape, p, cores_per_node, weak, at_least_one=False):
    env, envs, steps, mbs, epochs, params = shape
    if weak:  # the shape is per rank: the global batch grows with p
        envs = envs * p
    elif at_least_one:  # a global count, but every rank steps at least one env
        envs = max(envs, p)
    batch = envs * steps
    mb = batch / mbs
    n_mb = mbs * epochs
    parts = {
        "env": batch / p * m["c_env"][env],
        "infer": steps * (m["k_inf"] + envs / p * m["c_inf"]),
        "grad": n_mb * (mb / p * m["c_grad_plain"] if mb / p <= m["plain_rows"] else m["k_grad"] + mb / p * m["c_grad"]),
        "comm": n_mb * allreduce(m, 4 * params, p, cores_per_node) + epochs * allreduce(m, 16 * mbs, p, cores_per_node),
        "optim": n_mb * optimizer_step(m, params, p, cores_per_node),
    }
    return batch, parts


def table(m, name, cores_per_node, ps):
    shape = SHAPES[name]
    weak, one = name in WEAK, name in AT_LEAST_ONE
    b1, parts1 = update_time(m, shape, 1, cores_per_node, weak, one)
    t1 = sum(parts1.values())
    rows = []
    for p in ps:
        b, parts = update_time(m, shape, p, cores_per_node, weak, one)
        t = sum(parts.values())
        sps = b / t
        eff = (b / t) / (p * b1 / t1)
        worst = max(parts, key=parts.get)
        rows.append((p, sps, eff, worst, 100 * parts[worst] / t))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibrate", metavar="JSON", help="measure the costs here and write them")
    ap.add_argument("--costs", metavar="JSON", help="costs written by --calibrate")
    ap.add_argument("--cores-per-node", type=int, nargs="+", default=[16, 64])
    args = ap.parse_args()
    if args.calibrate:
        calibrate(args.calibrate)
        return
    if not args.costs:
        ap.error("give --costs FILE (from --calibrate)")
    if min(args.cores_per_node) < 1 or max(args.cores_per_node) > 1 << 16:
        ap.error("--cores-per-node must be from 1 to 65536")
    m = load_costs(args.costs)
    for cpn in args.cores_per_node:
        ps = [1, 2, 4, cpn, 4 * cpn, 16 * cpn, 64 * cpn]
        print("\n### nodes of %d cores, one rank per core\n" % cpn)
        print("| shape | " + " | ".join("%d ranks (%d node%s)" % (p, max(1, p // cpn), "s" if p > cpn else "")
                                        for p in ps) + " |")
        print("|---|" + "---|" * len(ps))
        for name in SHAPES:
            cells = ["%.0fk/s, %.0f%% (%s %.0f%%)" % (sps / 1e3, 100 * eff, worst, share)
                     for _p, sps, eff, worst, share in table(m, name, cpn, ps)]
            print("| %s%s | %s |" % (name, " (weak)" if name in WEAK else "", " | ".join(cells)))


if __name__ == "__main__":
    main()
