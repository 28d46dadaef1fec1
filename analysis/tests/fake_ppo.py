#!/usr/bin/python3
"""A stand-in for the ppo binary, for checking the real-trainer tests' plumbing only:

    PPO_BIN=analysis/tests/fake_ppo.py PPO_MPIRUN= /usr/bin/python3 -m pytest analysis/tests

It accepts the trainer flags the tests pass (real_trainer.py) and writes a *synthetic* log with
synth_log. Passing tests with it say nothing about the real trainer."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from analysis.tests import synth_log  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--env", default="CartPole-v1")
ap.add_argument("--total-steps", type=int, default=20000)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--log", required=True)
ap.add_argument("--log-trajectories", type=int, default=0)
a = ap.parse_args()
updates = max(1, a.total_steps // 1024)
synth_log.write_log(a.log, synth_log.make_run(a.env, a.seed, updates,
                                              trajectories=a.log_trajectories > 0),
                    libver_latest=True)
