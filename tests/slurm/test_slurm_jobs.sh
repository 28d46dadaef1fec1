#!/bin/bash
# Runs the jobs/ sbatch scripts, scaled down, on a real single-node Slurm that this test starts
# itself (tests/slurm/slurm_cluster.sh) and always stops again.
#   tests/slurm/test_slurm_jobs.sh PPO_BINARY [all|jobs|preemption]    (default all)
# 1. single_node, multi_node (squeezed onto one node), both with mpirun, and sweep_array with srun
#    finish with exit 0 and write valid HDF5 logs (format "ppo-log", consecutive /metrics/update,
#    the right env and seed); an array index past the env x seed grid fails with a message.
# 2. Requeue without resume (PPO_RESUME=no): the restarted job writes a new log, the old one stays.
# 3. Preemption with resume, only when `PPO_BINARY --help` lists --resume (else SKIP is printed):
#    scancel --signal=USR1 --batch -> checkpoint appears -> the job requeues itself and resumes;
#    then scontrol requeue (as preemption does) -> resumes again; one log, no gaps or duplicates.
# "jobs" runs parts 1 and 2, "preemption" part 3 only, and exits 77 (skip) when the trainer has no
# --resume; "all" runs everything and, without --resume, prints the SKIP line for part 3 and passes.
# Exit status: 0 passed, 1 failed, 77 cannot run here (not root, no Slurm packages, no h5py, ...).
# All waiting is bounded: one budget of PPO_SLURM_TEST_POLLS polls (1200) of 0.5 s for the whole test
# (about 25 s of it on an idle 2-core machine; the rest is for a machine other jobs load).
# PPO_SLURM_TEST_KEEP=1 keeps the work directory (job outputs, logs, cluster logs) even on success.
# PPO_TEST_BASH=/path/to/bash runs every job script under that bash (copies of jobs/ whose first line
# names it), e.g. a bash 4.2 built from GNU's sources, as RHEL/CentOS 7 clusters have.
set -eu

usage() { echo "usage: $0 PPO_BINARY [all|jobs|preemption]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
parts=${2:-all}
case $parts in all | jobs | preemption) ;; *) usage ;; esac
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ppo=$(realpath "$1")
polls=${PPO_SLURM_TEST_POLLS:-1200}
py=/usr/bin/python3   # Debian's python3-h5py lives there, not necessarily in the python3 on PATH

say() { echo "test_slurm_jobs: $*"; }
ok=0   # 1: the work directory may go (passed or skipped)
skip() { echo "SKIP: $*"; ok=1; exit 77; }

[ -x "$ppo" ] || { echo "FAIL: no executable trainer at $1" >&2; exit 1; }
"$py" -c 'import h5py' 2>/dev/null || skip "needs $py with h5py (apt-get install python3-h5py)"
command -v mpirun >/dev/null || skip "needs mpirun (Open MPI)"
has_resume=0
if "$ppo" --help 2>/dev/null | grep -q -- '--resume'; then has_resume=1; fi
if [ "$parts" = preemption ] && [ $has_resume = 0 ]; then
    skip "preemption part needs ppo --resume (not built yet)"
fi

# bash 4.2 (RHEL/CentOS 7) with set -u fails on "${a[@]}" of an empty array: jobs/ expands arrays
# that may be empty only as ${a[@]+"${a[@]}"}. Arrays that are never empty are listed here.
never_empty='launch|cmd|vals|ppo_grid_names|ppo_grid_values'
bare=$(sed -E 's/\$\{([A-Za-z_]+)\[@\]\+"\$\{\1\[@\]\}"\}//g' "$repo"/jobs/common.sh "$repo"/jobs/*.sbatch |
    grep -nE '\$\{[A-Za-z_]+\[@\]\}' | grep -vE "\\\$\{($never_empty)\[@\]\}" || true)
[ -z "$bare" ] || { echo "FAIL: arrays that may be empty expanded as \"\${a[@]}\" (bash 4.2 + set -u):" >&2; echo "$bare" >&2; exit 1; }

# The job scripts: jobs/ itself, or copies that run under PPO_TEST_BASH.
jobs=$repo/jobs
job_bash=bash
if [ -n "${PPO_TEST_BASH:-}" ]; then
    job_bash=$(realpath "$PPO_TEST_BASH")
    "$job_bash" -c 'exit 0' || { echo "FAIL: PPO_TEST_BASH=$PPO_TEST_BASH does not run" >&2; exit 1; }
    jobs=$(mktemp -d "${TMPDIR:-/tmp}/ppo-slurm-jobs.XXXXXX")
    cp "$repo"/jobs/common.sh "$jobs"/
    for f in "$repo"/jobs/*.sbatch; do sed "1s|^#!.*|#!$job_bash|" "$f" >"$jobs/$(basename "$f")"; done
    say "job scripts run under $("$job_bash" -c 'echo "bash $BASH_VERSION"') ($job_bash)"
fi

# Bad set-up fails the job at once with one message and exit 2 (no Slurm needed to see it).
bad_setup() {   # EXPECTED-MESSAGE SCRIPT [VAR=VALUE ...]
    want=$1 script=$2; shift 2
    out=$(env "$@" "$job_bash" "$jobs/$script" 2>&1) && rc=0 || rc=$?
    [ $rc -eq 2 ] && [[ $out == *"$want"* ]] || { echo "FAIL: $script with $*: exit $rc, output: $out" >&2; exit 1; }
}
printf 'env = CartPole-v1\nseed 1 2\n' >"${TMPDIR:-/tmp}/ppo-bad-grid.$$"
bad_setup "line 2: expected 'NAME = VALUE ...'" sweep_array.sbatch PPO_GRID="${TMPDIR:-/tmp}/ppo-bad-grid.$$"
rm -f "${TMPDIR:-/tmp}/ppo-bad-grid.$$"
bad_setup "no trainer '/nonexistent/ppo'" single_node.sbatch PPO_BIN=/nonexistent/ppo
bad_setup "PPO_SITE_SETUP=/nonexistent/site.sh is not a readable file" multi_node.sbatch PPO_SITE_SETUP=/nonexistent/site.sh
bad_setup "PPO_SRUN_MPI must be" single_node.sbatch PPO_BIN="$ppo" PPO_SRUN_MPI="pmix; rm"

work=$(mktemp -d "${TMPDIR:-/tmp}/ppo-slurm-test.XXXXXX")
cluster=$work/cluster
submit=$work/submit
mkdir -p "$submit"
cleanup() {
    "$here/slurm_cluster.sh" stop "$cluster" || true
    if mountpoint -q "$work/fuse" 2>/dev/null; then umount "$work/fuse" || true; fi
    if [ "$ok" = 1 ] && [ -z "${PPO_SLURM_TEST_KEEP:-}" ]; then rm -rf "$work"; else say "kept $work for a look"; fi
    [ "$jobs" = "$repo/jobs" ] || rm -rf "$jobs"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

start_time=$(date +%s)
rc=0
"$here/slurm_cluster.sh" start "$cluster" || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && skip "no private Slurm cluster here (see the message above)"; echo "FAIL: slurm_cluster.sh start exited $rc" >&2; exit 1; }

export SLURM_CONF=$cluster/slurm.conf
# Job environment (sbatch passes ours on): tiny runs, 2 ranks, mpirun allowed as root.
export PPO_BIN=$ppo PPO_STEPS=1024 PPO_ARGS="--envs-per-rank 2" PPO_RUN_DIR=runs
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset PPO_ENV PPO_SEED PPO_ENVS PPO_SEEDS PPO_RESUME PPO_LAUNCHER PPO_MPIRUN_ARGS PPO_MAX_RESTARTS
# -n 2 -O: two ranks even on a one-core machine; -t 10: a stuck job ends (and its USR1 comes at 8 min).
sb=(sbatch --parsable --chdir="$submit" -n 2 -O -t 10)
submit() { "${sb[@]}" "$@" || fail "sbatch $* failed"; }

fail() {
    echo "FAIL: $*" >&2
    for f in "$submit"/slurm-*.out; do [ -e "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    echo "--- jobs"; scontrol -o show job 2>/dev/null | grep -oE 'JobId=[0-9]+|ArrayTaskId=[^ ]+|JobState=[A-Z_]+|Restarts=[0-9]+|ExitCode=[0-9:]+|Reason=[^ ]+' | paste -sd' ' || true
    echo "--- daemon logs"; tail -n 8 "$cluster/log/slurmctld.log" "$cluster/log/slurmd.log" || true
    exit 1
}

# One line per job (array: per task): "ID STATE RESTARTS EXITCODE", ID like 12 or 12_1.
job_lines() {
    scontrol -o show job "$1" 2>/dev/null | awk '{
        delete f
        for (i = 1; i <= NF; i++) { eq = index($i, "="); if (eq) f[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
        id = ("ArrayTaskId" in f) ? f["ArrayJobId"] "_" f["ArrayTaskId"] : f["JobId"]
        print id, f["JobState"], f["Restarts"], f["ExitCode"]
    }'
}
terminal() { case $1 in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE) return 0 ;; esac; return 1; }

# All waits draw on one budget of $polls polls of 0.5 s (PPO_SLURM_TEST_POLLS), so the whole test
# is bounded (about 10 min of waiting at most with the default) however many waits it has.
polls_left=$polls
tick() {   # $1: what we are waiting for
    polls_left=$((polls_left - 1))
    [ "$polls_left" -gt 0 ] || fail "poll budget used up ($polls polls of 0.5 s) waiting for $1"
    sleep 0.5
}
# Waits until every job (or array task) of $1 has ended.
wait_done() {
    while :; do
        lines=$(job_lines "$1")
        done_all=1
        while read -r _ st _ _; do terminal "$st" || done_all=0; done <<<"$lines"
        [ -n "$lines" ] && [ $done_all = 1 ] && return 0
        tick "job $1 to end (now: ${lines//$'\n'/, })"
    done
}
# Waits until job $1 runs with at least $2 restarts.
wait_running() {
    while :; do
        read -r _ st re _ <<<"$(job_lines "$1")"
        [ "$st" = RUNNING ] && [ "$re" -ge "$2" ] && return 0
        terminal "$st" && fail "job $1 ended ($st) before running with $2 restarts"
        tick "job $1 to run with $2 restarts (now: $st, $re restarts)"
    done
}
wait_file() {   # $1: description, rest: a command that succeeds once the thing is there
    what=$1; shift
    until "$@"; do tick "$what"; done
}
expect_completed() {   # every line of job $1: COMPLETED, exit 0:0, restarts $2
    while read -r id st re ec; do
        if [ "$st" != COMPLETED ] || [ "$ec" != 0:0 ] || [ "$re" != "$2" ]; then
            fail "job $id: state $st exit $ec restarts $re, expected COMPLETED 0:0 restarts $2"
        fi
    done <<<"$(job_lines "$1")"
}

# check_log FILE ENV SEED [complete|partial]: a valid ppo log of that run with updates 1, 2, ...;
# complete: all of 1..total_steps/global_batch; partial: may have none yet (a run killed early).
# Opened with swmr=True, as docs/log-schema.md says: a killed writer leaves the file marked open.
check_log() {
    [ -f "$1" ] || fail "no log $1"
    "$py" - "$@" <<'EOF' || fail "log $1 is not as expected (above)"
import sys
import h5py
path, env, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else ""
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
with h5py.File(path, "r", swmr=True) as f:
    assert s(f.attrs.get("format")) == "ppo-log", f"format attribute {f.attrs.get('format')!r}"
    cfg = f["config"].attrs
    assert s(cfg["env"]) == env and int(cfg["seed"]) == seed, f"config env {cfg['env']} seed {cfg['seed']}"
    u = f["metrics/update"][:]
    assert len(u) > 0 or mode == "partial", "empty /metrics"
    assert list(u) == list(range(1, len(u) + 1)), f"updates not consecutive from 1: {list(u)}"
    if mode == "complete":
        want = -(-int(cfg["total_steps"]) // int(cfg["global_batch"]))  # ppo rounds the update count up
        assert len(u) == want, f"{len(u)} updates, expected {want}"
    print(f"  {path}: {len(u)} updates, env {env}, seed {seed}")
EOF
}

step() { say "[$(($(date +%s) - start_time)) s] $*"; }

# ---- 1. the three scripts run and log ----
if [ "$parts" != preemption ]; then
step "single_node.sbatch"
j1=$(PPO_ENV=CartPole-v1 PPO_SEED=3 submit "$jobs/single_node.sbatch")
step "multi_node.sbatch, squeezed onto one node"
j2=$(PPO_ENV=Acrobot-v1 PPO_SEED=4 submit -N 1 --ntasks-per-node=2 -c 1 "$jobs/multi_node.sbatch")
step "sweep_array.sbatch with srun: 2 envs x 1 seed, plus one index past the grid that must fail"
j3=$(PPO_LAUNCHER=srun PPO_ENVS="CartPole-v1 Acrobot-v1" PPO_SEEDS=5 submit --array=0-2 "$jobs/sweep_array.sbatch")
wait_done "$j1"
expect_completed "$j1" 0
check_log "$submit/runs/$j1/CartPole-v1_s3.h5" CartPole-v1 3 complete
want_bash=$("$job_bash" -c 'echo "${BASH_VERSION%%(*}"')
grep -q "; bash $want_bash) at" "$submit/slurm-ppo-$j1.out" || fail "job $j1 did not run under bash $want_bash"
wait_done "$j2"
expect_completed "$j2" 0
check_log "$submit/runs/$j2/Acrobot-v1_s4.h5" Acrobot-v1 4 complete
wait_done "$j3"
tasks=0
while read -r id st _ ec; do
    tasks=$((tasks + 1))
    case $id in *_2) want="FAILED 2:0" ;; *) want="COMPLETED 0:0" ;; esac   # index 2 is past the grid
    [ "$st $ec" = "$want" ] || fail "array task $id: $st $ec, expected $want"
done <<<"$(job_lines "$j3")"
[ "$tasks" = 3 ] || fail "array job $j3 has $tasks tasks, expected 3"
grep -q "array index 2 out of range" "$submit"/slurm-ppo-sweep-"${j3}"_2.out || fail "no range message from array task 2"
check_log "$submit/runs/$j3/CartPole-v1_s5.h5" CartPole-v1 5 complete
check_log "$submit/runs/$j3/Acrobot-v1_s5.h5" Acrobot-v1 5 complete

# ---- 2. requeue without resume: a new log beside the old one ----
step "requeue with PPO_RESUME=no"
j4=$(PPO_RESUME=no PPO_SEED=6 PPO_STEPS=8192 submit "$jobs/single_node.sbatch")
log4=$submit/runs/$j4/CartPole-v1_s6.h5
wait_running "$j4" 0
wait_file "log of job $j4" test -s "$log4"
scontrol requeue "$j4" || fail "scontrol requeue $j4 failed"
wait_done "$j4"
expect_completed "$j4" 1
check_log "$log4" CartPole-v1 6 partial   # the first attempt's log, left as it was
check_log "$submit/runs/$j4/CartPole-v1_s6.restart1.h5" CartPole-v1 6 complete

# ---- a run directory on a FUSE file system: HDF5 file locking is turned off, the run works ----
fuse_mnt=$work/fuse
if command -v bindfs >/dev/null && [ -c /dev/fuse ] && mkdir -p "$work/fuse-src" "$fuse_mnt" &&
    bindfs "$work/fuse-src" "$fuse_mnt" 2>/dev/null; then
    step "run directory on FUSE ($(stat -f -c %T "$fuse_mnt"), bindfs)"
    j6=$(PPO_SEED=9 PPO_RUN_DIR="$fuse_mnt/runs" submit "$jobs/single_node.sbatch")
    wait_done "$j6"
    expect_completed "$j6" 0
    grep -q "is on fuse.*: HDF5_USE_FILE_LOCKING=FALSE" "$submit/slurm-ppo-$j6.out" ||
        fail "job $j6 on FUSE did not turn HDF5 file locking off"
    # read back after the unmount, from the directory under the mount: a reader through FUSE may see
    # a stale size (attribute caching; as on NFS, see jobs/README.md on SWMR)
    umount "$fuse_mnt" || fail "cannot unmount $fuse_mnt"
    check_log "$work/fuse-src/runs/$j6/CartPole-v1_s9.h5" CartPole-v1 9 complete
else
    say "SKIP FUSE part: needs bindfs and /dev/fuse (apt-get install bindfs)"
fi

fi   # parts 1 and 2

# ---- 3. preemption: checkpoint on USR1, requeue, resume into the same log ----
if [ "$parts" = jobs ]; then
    :
elif [ $has_resume = 0 ]; then
    echo "SKIP: preemption part needs ppo --resume (not built yet)"
else
    step "preemption: USR1 -> checkpoint -> self-requeue -> resume; scontrol requeue -> resume"
    # 8000 updates of 128 steps: long enough (~25 s here) to be stopped and requeued twice on the way.
    j5=$(PPO_SEED=8 PPO_STEPS=1024000 submit "$jobs/single_node.sbatch")
    run5=$submit/runs/$j5
    log5=$run5/CartPole-v1_s8.h5
    wait_running "$j5" 0
    wait_file "log of job $j5" test -s "$log5"
    sleep 2   # a few updates into the run
    scancel --signal=USR1 --batch "$j5" || fail "scancel --signal=USR1 --batch $j5 failed"
    has_ckpt() { [ -n "$(find "$run5" -name '*ckpt*' -o -name '*checkpoint*' 2>/dev/null | head -1)" ]; }
    wait_file "checkpoint in $run5 after USR1" has_ckpt
    say "checkpoint: $(find "$run5" -name '*ckpt*' -o -name '*checkpoint*' | head -1)"
    # The script requeues the job itself once the trainer has stopped; the run must be unfinished
    # then (a trainer that ignored USR1 would have run to the end, and written its last checkpoint).
    requeued() { read -r _ _ re _ <<<"$(job_lines "$j5")"; [ "$re" -ge 1 ]; }
    wait_file "requeue of job $j5 after USR1" requeued
    counts=$("$py" -c 'import sys, h5py
f = h5py.File(sys.argv[1], "r", swmr=True)
print(len(f["metrics/update"]), -(-int(f["config"].attrs["total_steps"]) // int(f["config"].attrs["global_batch"])))' "$log5") ||
        fail "cannot read $log5 after the stop"
    read -r n_stop n_all <<<"$counts"
    say "stopped after $n_stop of $n_all updates"
    [ "$n_stop" -lt "$n_all" ] || fail "the trainer ran to the end instead of stopping on USR1"
    wait_running "$j5" 1
    wait_file "'restart 1 ... resume=yes' from job $j5" grep -q "restart 1 .*resume=yes" "$submit/slurm-ppo-$j5.out"
    sleep 2
    scontrol requeue "$j5" || fail "scontrol requeue $j5 failed"   # as a preemption with PreemptMode=REQUEUE
    wait_done "$j5"
    expect_completed "$j5" 2
    check_log "$log5" CartPole-v1 8 complete
    extra=$(find "$run5" -name '*.restart*')
    [ -z "$extra" ] || fail "resumed runs must not start new logs: $extra"
fi

step "all checks passed"
ok=1
