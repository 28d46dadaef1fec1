"""Reproducibility through the CLI: the same --seed, rank count and thread count give identical logged
metrics (every /metrics column except wall_time and steps_per_second, bit for bit), identical
/episodes and an identical saved policy; a different seed gives different ones. Checked for 2 ranks
x 1 thread under mpirun, and for 1 rank x 2 threads: CartPole (the actor and the critic trained on a
thread each, which gives one thread's run bit for bit, on 2 ranks too; on 6 threads each network on 3 of
them, which gives 3 threads' run; with a shared trunk on 4 threads the rows of 24-row minibatches split
over 3 of them) and LunarLander (each thread runs inference on its own envs and steps them, also with the
observation and reward normalisers, and recording trajectories). The gradient sum through
shared memory (--grad-reduce shm, the default) gives the same bits as MPI_Allreduce on 2 ranks, and
repeats bit for bit on 3 ranks, where its pairwise order is its own. OMP_DYNAMIC and OMP_THREAD_LIMIT
cannot shrink a rank's teams behind its back."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as ct  # noqa: E402

ct.setup()
import h5py  # noqa: E402
import numpy as np  # noqa: E402

TIMING = {"wall_time", "steps_per_second"}  # and the phase times, time_*
COMMON = ["--env", "CartPole-v1", "--total-steps", "3072", "--envs-per-rank", "4", "--rollout-steps", "64",
          "--minibatches", "2", "--epochs", "2"]


LANDER = ["--env", "LunarLander-v3", "--total-steps", "1536", "--envs-per-rank", "16", "--rollout-steps", "32",
          "--minibatches", "4", "--epochs", "2"]


def train(tmp, name, seed, ranks, threads, common=COMMON, extra=(), says=None, env=None):
    log = os.path.join(tmp, name + ".h5")
    rc, out, err = ct.run([*common, "--seed", str(seed), "--threads", str(threads), "--log", log, *extra],
                          ranks=ranks, cwd=tmp, env=env)
    ct.check(rc == 0, f"{name}: exit {rc}: {err}")
    ct.check(says is None or says in out, f"{name}: the output does not say '{says}': {out[:400]}")
    if ranks and ranks > 1:
        summed = "gradients summed by MPI_Allreduce" if "mpi" in extra else "gradients summed in shared memory"
        ct.check(summed in out, f"{name}: the layout line does not say '{summed}': {out[:400]}")
    return log


def read(log):
    """({metric: array}, {episode column: array}, policy parameters)."""
    with h5py.File(log, "r") as f:
        metrics = {k: f["metrics"][k][:] for k in f["metrics"]}
        episodes = {k: f["episodes"][k][:] for k in f["episodes"]}
    with h5py.File(log[:-3] + ".policy.h5", "r") as f:  # every dataset: parameters, normalisers, optimizer
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        params = [f[k][()] for k in sorted(names)]
    return metrics, episodes, params


def trajectories(log):
    """{name: array} of every dataset under /trajectories."""
    out = {}
    with h5py.File(log, "r") as f:
        f["trajectories"].visititems(lambda name, obj: out.__setitem__(name, obj[()])
                                     if isinstance(obj, h5py.Dataset) else None)
    return out


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def compare(label, a, b, expect_same):
    ma, ea, pa = read(a)
    mb, eb, pb = read(b)
    ct.check(set(ma) == set(mb) and len(ma) > 10, f"{label}: metric columns differ: {sorted(ma)} vs {sorted(mb)}")
    differing = sorted(k for k in ma if k not in TIMING and not k.startswith("time_") and k in mb
                       and not same_bits(ma[k], mb[k]))
    ep_differing = sorted(k for k in ea if k in eb and not same_bits(ea[k], eb[k]))
    params_same = len(pa) == len(pb) and len(pa) > 0 and all(same_bits(x, y) for x, y in zip(pa, pb))
    if expect_same:
        ct.check(not differing, f"{label}: metrics differ: {differing}")
        for k in differing[:3]:
            print(f"    {k}: {ma[k][:6]} vs {mb[k][:6]}")
        ct.check(not ep_differing, f"{label}: /episodes differ: {ep_differing}")
        ct.check(params_same, f"{label}: the saved policies differ")
        ct.check(len(ea["return"]) > 0, f"{label}: no episodes logged")
    else:
        for k in ("policy_loss", "value_loss", "entropy", "return_mean"):
            ct.check(k in differing, f"{label}: {k} is the same for different seeds")
        ct.check(not params_same, f"{label}: the saved policies are the same for different seeds")
    ct.check(same_bits(ma["global_step"], mb["global_step"]), f"{label}: global steps differ")
    print(f"{label}: {'identical' if not differing else 'differ in ' + ', '.join(differing)}", flush=True)
    return differing


def main():
    with tempfile.TemporaryDirectory(prefix="ppo-repro-") as tmp:
        a = train(tmp, "mpi_s5_a", 5, 2, 1)
        b = train(tmp, "mpi_s5_b", 5, 2, 1)
        c = train(tmp, "mpi_s6", 6, 2, 1)
        compare("2 ranks x 1 thread, seed 5 twice", a, b, True)
        compare("2 ranks x 1 thread, seed 5 vs seed 6", a, c, False)
        a2 = train(tmp, "mpi_s5_two_threads", 5, 2, 2, says="(the actor on one thread, the critic on the other)")
        compare("2 ranks x 2 threads against x 1 thread, seed 5", a, a2, True)
        # wider nets: each rank's slice of the step (68k parameters) is shared by its 2 threads
        wide = [*COMMON, "--hidden", "256,256"]
        w1 = train(tmp, "wide_s5_one", 5, 2, 1, wide)
        w2 = train(tmp, "wide_s5_two", 5, 2, 2, wide)
        compare("2 ranks x 2 threads against x 1 thread, 256x256 nets, seed 5", w1, w2, True)
        m = train(tmp, "mpi_s5_allreduce", 5, 2, 1, extra=("--grad-reduce", "mpi"))
        compare("2 ranks, gradients by MPI_Allreduce vs shared memory, seed 5", a, m, True)
        t1 = train(tmp, "three_s5_a", 5, 3, 1)
        t2 = train(tmp, "three_s5_b", 5, 3, 1)
        compare("3 ranks x 1 thread, seed 5 twice", t1, t2, True)
        d = train(tmp, "omp_s5_a", 5, None, 2, says="(the actor on one thread, the critic on the other)")
        e = train(tmp, "omp_s5_b", 5, None, 2)
        compare("1 rank x 2 threads, seed 5 twice", d, e, True)
        # every team must have the threads it asks for: libgomp's dynamic adjustment and OMP_THREAD_LIMIT
        # shrank teams, and the missing workers' rows went unsummed (a silently different run)
        dyn = train(tmp, "omp_s5_dynamic", 5, None, 2, env={"OMP_DYNAMIC": "true"})
        compare("1 rank x 2 threads, OMP_DYNAMIC=true against unset, seed 5", d, dyn, True)
        one = train(tmp, "omp_s5_one", 5, None, 1)
        lim = train(tmp, "omp_s5_limit", 5, None, 2, env={"OMP_THREAD_LIMIT": "1"},
                    says="1 rank x 1 thread (--threads 2, capped by OMP_THREAD_LIMIT=1)")
        compare("--threads 2 under OMP_THREAD_LIMIT=1 against 1 thread, seed 5", one, lim, True)
        # two threads train the actor and the critic on all the rows, each on its own: one thread's run
        compare("1 rank x 2 threads against 1 thread, seed 5", one, d, True)
        # 24-row minibatches with a shared trunk on 4 threads: the rows split over 3 of them (8 each), the
        # fourth waits
        few = ["--env", "CartPole-v1", "--total-steps", "3072", "--envs-per-rank", "4", "--rollout-steps", "48",
               "--minibatches", "8", "--epochs", "2"]
        trunk = [*few, "--shared-trunk"]
        f1 = train(tmp, "few_s5_a", 5, None, 4, trunk, says="each minibatch's 24 rows on 3 of the threads")
        f2 = train(tmp, "few_s5_b", 5, None, 4, trunk)
        compare("1 rank x 4 threads, minibatches split over 3, seed 5 twice", f1, f2, True)
        # separate networks on 6 threads: the rows in 3 groups, the actor on 3 threads and the critic on 3
        # others, which sums the same gradients in the same order as 3 threads splitting the rows
        passive = {"OMP_WAIT_POLICY": "passive"}  # 6 threads on CI's 2 cores
        n6 = train(tmp, "nets6_s5", 5, None, 6, few, env=passive,
                   says="(each minibatch's 24 rows in 3 groups, the actor on 3 threads and the critic on 3 others)")
        r3 = train(tmp, "rows3_s5", 5, None, 3, few, env=passive)
        compare("1 rank x 6 threads (3 row groups per network) against 3 threads (3 row groups), seed 5", r3, n6, True)
        m6 = train(tmp, "nets6_2r_s5", 5, 2, 6, few, env=passive)
        m3 = train(tmp, "rows3_2r_s5", 5, 2, 3, few, env=passive)
        compare("2 ranks x 6 threads against 2 ranks x 3 threads, seed 5", m3, m6, True)
        g = train(tmp, "lander_a", 3, None, 2, LANDER)
        h = train(tmp, "lander_b", 3, None, 2, LANDER)
        compare("LunarLander 1 rank x 2 threads, seed 3 twice", g, h, True)
        g1 = train(tmp, "lander_one", 3, None, 1, LANDER)
        compare("LunarLander 1 rank x 2 threads against 1 thread, seed 3", g1, g, True)
        # the normalisers' statistics: each thread steps its envs through the rollout, and what the rollout
        # adds to them is added after it, step by step and env by env, as one thread does
        norm = [*LANDER, "--norm-obs", "--norm-reward"]
        n1 = train(tmp, "lander_norm_one", 3, None, 1, norm)
        n2 = train(tmp, "lander_norm_two", 3, None, 2, norm)
        compare("LunarLander --norm-obs --norm-reward, 1 rank x 2 threads against 1 thread, seed 3", n1, n2, True)
        # --log-trajectories 2: rollouts that record keep a region per step, the others run free
        traj = ["--env", "LunarLander-v3", "--total-steps", "16384", "--envs-per-rank", "16", "--rollout-steps", "64",
                "--minibatches", "4", "--epochs", "1", "--log-trajectories", "2"]
        j1 = train(tmp, "lander_traj_one", 3, None, 1, traj)
        j2 = train(tmp, "lander_traj_two", 3, None, 2, traj)
        compare("LunarLander --log-trajectories 2, 1 rank x 2 threads against 1 thread, seed 3", j1, j2, True)
        ta, tb = trajectories(j1), trajectories(j2)
        ct.check(len(ta) > 5 and len(ta["actions"]) > 0, f"no trajectories recorded: {sorted(ta)}")
        ct.check(sorted(ta) == sorted(tb) and all(same_bits(ta[k], tb[k]) for k in ta),
                 "--log-trajectories 2: the recorded trajectories differ between 1 and 2 threads")
    ct.finish("reproducibility")


main()
