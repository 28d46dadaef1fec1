#!/usr/bin/python3
"""A stand-in for the ppo trainer that already has what the jobs/ scripts expect of the real one
once checkpoint/resume lands, so the Slurm test can exercise signal forwarding, requeue and resume:

    tests/slurm/test_slurm_jobs.sh tests/slurm/fake_ppo.py

The contract it plays (what jobs/*.sbatch and tests/slurm/test_slurm_jobs.sh assume):
- `--help` lists `--resume`.
- `--resume auto --log PATH`: with a checkpoint of that run (here PATH minus .h5 plus .ckpt.h5) it
  continues from the checkpoint's update and appends to PATH, dropping log rows after it; without
  one it starts a fresh run. A run already complete exits 0 at once.
- SIGUSR1 / SIGTERM: finish the current update, write the checkpoint atomically (temp + rename),
  flush and close the log, exit with status 0 (STOP_STATUS below).
- An existing log is never overwritten without --force (exit 2), like ppo.
Only rank 0 (Open MPI or PMIx rank variable) writes; other ranks just take part.
It sleeps instead of training: one update = 128 env steps, UPDATE_SECONDS long.
"""
import os
import signal
import sys
import time

import h5py
import numpy as np

UPDATE_SECONDS = float(os.environ.get("FAKE_PPO_UPDATE_SECONDS", "0.1"))
STOP_STATUS = 0
STEPS_PER_UPDATE = 128


def main(argv):
    if "--help" in argv:
        print("usage: fake_ppo.py --env ID --total-steps N --seed S --log PATH [--resume auto] [--force]")
        return 0
    opts = {"--env": "CartPole-v1", "--total-steps": "1280", "--seed": "1", "--log": "fake.h5"}
    resume = force = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--force":
            force = True
        elif a == "--resume":
            if argv[i + 1] != "auto":
                print("fake_ppo: only --resume auto", file=sys.stderr)
                return 2
            resume = True
            i += 1
        elif a.startswith("--") and i + 1 < len(argv):  # any other option takes one value
            opts[a] = argv[i + 1]
            i += 1
        i += 1
    log = opts["--log"]
    ckpt = (log[:-3] if log.endswith(".h5") else log) + ".ckpt.h5"
    total = max(1, int(opts["--total-steps"]) // STEPS_PER_UPDATE)
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMIX_RANK", "0")))

    stop = []
    signal.signal(signal.SIGUSR1, lambda s, f: stop.append(s))
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))

    if rank != 0:  # followers only take part until the leader would be done or a signal comes
        for _ in range(total):
            if stop:
                return STOP_STATUS
            time.sleep(UPDATE_SECONDS)
        return 0
    start = 0
    if resume and os.path.exists(ckpt):
        with h5py.File(ckpt, "r") as c:
            start = int(c.attrs["update"])
    elif os.path.exists(log) and not force:
        print(f"fake_ppo: error: log {log} already exists (use --force to overwrite)", file=sys.stderr)
        return 2
    if start >= total:
        print(f"fake_ppo: run complete at update {start}, nothing to do")
        return 0

    if start > 0:
        f = h5py.File(log, "a")
        u = f["metrics/update"]
        u.resize((start,))  # drop rows logged after the checkpoint
        print(f"fake_ppo: resumed from {ckpt} at update {start}")
    else:
        f = h5py.File(log, "w")
        f.attrs["format"] = "ppo-log"
        f.attrs["schema_version"] = 1
        c = f.create_group("config").attrs
        c["env"], c["seed"] = opts["--env"], int(opts["--seed"])
        c["total_steps"], c["global_batch"] = int(opts["--total-steps"]), STEPS_PER_UPDATE
        u = f.create_dataset("metrics/update", (0,), maxshape=(None,), dtype="i8", chunks=(64,))
    for k in range(start + 1, total + 1):
        time.sleep(UPDATE_SECONDS)
        u.resize((k,))
        u[k - 1] = k
        f.flush()
        if stop or k == total:
            tmp = ckpt + ".tmp"
            with h5py.File(tmp, "w") as c:
                c.attrs["update"] = k
                c["params"] = np.zeros(4)
            os.replace(tmp, ckpt)
            if stop and k < total:
                f.close()
                print(f"fake_ppo: signal {stop[0]}: checkpoint at update {k} in {ckpt}, stopping", flush=True)
                return STOP_STATUS
    f.close()
    print(f"fake_ppo: trained {total} updates", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
