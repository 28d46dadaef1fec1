"""clitest: helpers for the CLI-level tests — run `ppo` directly or under mpirun, snapshot a
directory, count failed checks. Not a test itself. The ppo binary comes from --ppo (ctest passes
the build's) or PPO_BIN; the mpirun command line from PPO_MPIRUN (tests/CMakeLists.txt)."""
import hashlib
import os
import shlex
import subprocess
import sys

PPO = None
MPIRUN = shlex.split(os.environ.get("PPO_MPIRUN", "mpirun --oversubscribe"))
failures = []


def setup():
    """Reads --ppo PATH from argv; exits 77 (skipped) when h5py or numpy is missing."""
    global PPO
    args = sys.argv[1:]
    PPO = args[args.index("--ppo") + 1] if "--ppo" in args else os.environ.get("PPO_BIN", "ppo")
    try:
        import h5py  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (use /usr/bin/python3 with python3-h5py)")
        sys.exit(77)


def faults_binary():
    """The test build with fault hooks (ppo-faults, beside ppo in the build; PPO_FAULTS_BIN overrides)."""
    return os.environ.get("PPO_FAULTS_BIN") or os.path.join(os.path.dirname(PPO), "ppo-faults")


def run(args, ranks=None, cwd=None, env=None, hang_guard=None, binary=None):
    """Runs ppo ARGS (under mpirun -n RANKS when given); returns (returncode, stdout, stderr).
    hang_guard: seconds after which a run that should end at once is killed and reported (rc None).
    binary: another build of the command (faults_binary()) instead of ppo."""
    cmd = ([*MPIRUN, "-n", str(ranks)] if ranks else []) + [binary or PPO, *args]
    e = dict(os.environ)
    e.setdefault("OMP_NUM_THREADS", "1")
    if env:
        e.update(env)
    try:
        p = subprocess.run(cmd, cwd=cwd, env=e, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           timeout=hang_guard)
    except subprocess.TimeoutExpired as t:
        return None, t.stdout or "", f"(killed: still running after {hang_guard} s) {t.stderr or ''}"
    return p.returncode, p.stdout, p.stderr


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", flush=True)
    return cond


def snapshot(root):
    """{relative path: (size, mtime_ns, sha256)} of every file and directory under root (a symbolic
    link: its target)."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            snap[os.path.relpath(p, root) + "/"] = ("dir",)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if os.path.islink(p):  # its target may not exist
                snap[os.path.relpath(p, root)] = ("link", os.readlink(p))
                continue
            st = os.stat(p)
            with open(p, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            snap[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns, digest)
    return snap


def finish(name):
    if failures:
        print(f"{name}: {len(failures)} check(s) failed")
        sys.exit(1)
    print(f"{name}: all checks passed")
    sys.exit(0)
