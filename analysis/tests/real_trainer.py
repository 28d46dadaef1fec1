"""How the tests run the real trainer: the one place to update when its command line changes.

The binary is $PPO_BIN, else build/src/ppo under the repository root. It is started under
$PPO_MPIRUN (default below; set PPO_MPIRUN="" to run it without MPI)."""

import os
import shlex
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_MPIRUN = "mpirun --allow-run-as-root --oversubscribe -n 2"
TOTAL_STEPS = 20000


def trainer_binary():
    """Path of the ppo binary, or None."""
    path = os.environ.get("PPO_BIN") or os.path.join(REPO, "build", "src", "ppo")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def supports_trajectories(binary):
    """Whether this trainer build has --log-trajectories (it landed after the log itself)."""
    try:
        out = subprocess.run([binary, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=60).stdout.decode(errors="replace")
    except (OSError, subprocess.SubprocessError):
        return False
    return "--log-trajectories" in out


def trainer_command(binary, log_path, env="CartPole-v1", seed=1, trajectories=True,
                    total_steps=TOTAL_STEPS):
    mpirun = os.environ.get("PPO_MPIRUN", DEFAULT_MPIRUN)
    prefix = shlex.split(mpirun) if mpirun and shutil.which(shlex.split(mpirun)[0]) else []
    cmd = prefix + [binary, "--env", env, "--total-steps", str(total_steps), "--seed", str(seed),
                    "--log", log_path]
    if trajectories:
        cmd += ["--log-trajectories", "1"]
    return cmd


def run_trainer(binary, log_path, timeout=900, **kw):
    """Runs one training; returns the log path or raises RuntimeError with the trainer's output."""
    cmd = trainer_command(binary, log_path, **kw)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if proc.returncode != 0 or not os.path.exists(log_path):
        tail = proc.stdout.decode(errors="replace")[-2000:]
        raise RuntimeError("trainer failed (exit %d): %s\n%s"
                           % (proc.returncode, " ".join(cmd), tail))
    return log_path
