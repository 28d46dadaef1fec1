#!/bin/bash
# The jobs/ scripts on a real 2-node Slurm cluster made on this machine: two namespace nodes
# (tests/multinode/netns_nodes.sh) with slurmctld on node1 and a slurmd on each
# (tests/slurm/slurm_cluster.sh start DIR NODES). Started here and always torn down again.
#   tests/multinode/test_slurm_nodes.sh PPO_BINARY
# 1. jobs/multi_node.sbatch under sbatch --nodes=2 (2 ranks per node, mpirun), with a site set-up
#    file (PPO_SITE_SETUP) that puts the trainer on PATH: scancel --signal=USR1 --batch -> checkpoint
#    -> the job requeues itself -> resumes on both nodes -> completes; one log, updates 1..N without
#    gaps or repeats, /config hostnames node1,node2.
# 2. The same script with PPO_LAUNCHER=srun (srun --mpi=pmix over both nodes); a user's
#    HDF5_USE_FILE_LOCKING is kept. With mpirun and -c 2: one rank per node, 2 threads, bound
#    with --map-by slot:PE=2.
# 3. jobs/sweep_array.sbatch over a grid file (env x seed x lr): --list shows its points; one log
#    per point, named after the swept options, each with its point's options in /config, and the
#    grid beside them; ppo-analyze summary reads the sweep's directory.
# Exit status: 0 passed, 1 failed, 77 cannot run here (not root, no namespaces, no Slurm packages).
# All waiting is bounded: one budget of 600 polls of 0.5 s.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 PPO_BINARY" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ppo=$(realpath "$1")
py=/usr/bin/python3
nodes_sh=$here/netns_nodes.sh
cluster_sh=$repo/tests/slurm/slurm_cluster.sh
start_time=$(date +%s)
say() { echo "test_slurm_nodes: [$(($(date +%s) - start_time)) s] $*"; }
ok=0
skip() { echo "SKIP: $*"; ok=1; exit 77; }

[ -x "$ppo" ] || { echo "FAIL: no executable trainer at $1" >&2; exit 1; }
"$py" -c 'import h5py' 2>/dev/null || skip "needs $py with h5py"
command -v mpirun >/dev/null || skip "needs mpirun (Open MPI)"
"$ppo" --help 2>/dev/null | grep -q -- '--resume' || skip "needs ppo --resume"

work=$(mktemp -d "${TMPDIR:-/tmp}/ppo-slurmnodes.XXXXXX")
nodes=$work/nodes
cluster=$work/cluster
submit=$work/submit
mkdir -p "$submit"
cleanup() {
    [ ! -e "$cluster/slurm.conf" ] || "$cluster_sh" stop "$cluster" || true
    "$nodes_sh" stop "$nodes" || true
    if [ "$ok" = 1 ] && [ -z "${PPO_MULTINODE_TEST_KEEP:-}" ]; then rm -rf "$work"; else say "kept $work for a look"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

rc=0
"$nodes_sh" start "$nodes" 10.213.1 || rc=$?
[ $rc -eq 0 ] || { [ $rc -eq 77 ] && skip "no network namespaces here (see above)"; echo "FAIL: netns_nodes.sh start exited $rc" >&2; exit 1; }
rc=0
"$cluster_sh" start "$cluster" "$nodes" || rc=$?
[ $rc -eq 0 ] || { [ $rc -eq 77 ] && skip "no Slurm cluster here (see above)"; echo "FAIL: slurm_cluster.sh start exited $rc" >&2; exit 1; }

export SLURM_CONF=$cluster/slurm.conf
on1() { "$nodes_sh" exec "$nodes" node1 "$@"; }   # Slurm's clients run on a node, as on a login node

fail() {
    echo "FAIL: $*" >&2
    for f in "$submit"/slurm-*.out; do [ -e "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    echo "--- daemon logs"; tail -n 8 "$cluster/log/slurmctld.log" "$cluster"/log/slurmd-*.log || true
    exit 1
}
polls_left=600
tick() { polls_left=$((polls_left - 1)); [ $polls_left -gt 0 ] || fail "poll budget used up waiting for $1"; sleep 0.5; }
field() { on1 scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
terminal() { case $1 in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE) return 0 ;; esac; return 1; }
wait_done() { until terminal "$(field "$1" JobState)"; do tick "job $1 to end ($(field "$1" JobState))"; done; }
expect_completed() {   # JOB RESTARTS
    st=$(field "$1" JobState) ec=$(field "$1" ExitCode) re=$(field "$1" Restarts)
    [ "$st $ec $re" = "COMPLETED 0:0 $2" ] || fail "job $1: $st exit $ec restarts $re, expected COMPLETED 0:0 restarts $2"
}
# LOG ENV SEED [KEY=VALUE ...]: a complete, gap-free log run on both nodes with those /config values
check_log() {
    "$py" - "$@" <<'EOF' || fail "log $1 is not as expected (above)"
import sys
import h5py
path, env, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
with h5py.File(path, "r", swmr=True) as f:
    cfg = f["config"].attrs
    assert s(cfg["env"]) == env and int(cfg["seed"]) == seed, f"config env {cfg['env']} seed {cfg['seed']}"
    for kv in sys.argv[4:]:
        k, v = kv.split("=", 1)
        assert s(cfg[k]) == v or float(cfg[k]) == float(v), f"config {k} = {cfg[k]!r}, expected {v}"
    u = list(f["metrics/update"][:])
    want = -(-int(cfg["total_steps"]) // int(cfg["global_batch"]))
    assert u == list(range(1, want + 1)), f"updates {u[:3]}...{u[-3:]} ({len(u)}), expected 1..{want}"
    print(f"  {path}: updates 1..{want} without gaps, hosts {s(cfg['hostnames'])}")
EOF
}

# Job environment (sbatch passes ours on). The site hook puts the trainer on PATH, as `module load` would.
mkdir -p "$work/bin"
ln -s "$ppo" "$work/bin/ppo"
printf '# a site set-up file, as a cluster would have\nexport PATH=%s/bin:$PATH\nexport PPO_TEST_SITE=loaded\n' "$work" >"$work/site.sh"
export PPO_SITE_SETUP=$work/site.sh PPO_ARGS="--envs-per-rank 2" PPO_RUN_DIR=runs
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset PPO_BIN PPO_ENV PPO_SEED PPO_ENVS PPO_SEEDS PPO_GRID PPO_RESUME PPO_LAUNCHER PPO_MPIRUN_ARGS PPO_MAX_RESTARTS HDF5_USE_FILE_LOCKING
sb=(sbatch --parsable --chdir="$submit" -t 10)

# ---- 1. USR1 -> checkpoint -> requeue -> resume, over 2 nodes ----
say "multi_node.sbatch --nodes=2: USR1, checkpoint, requeue, resume"
# 40 updates of 4 ranks x 2 envs x 32 steps, 2 epochs each: long enough to be stopped on the way.
j1=$(PPO_ENV=CartPole-v1 PPO_SEED=3 PPO_STEPS=10240 PPO_ARGS="$PPO_ARGS --epochs 2" on1 "${sb[@]}" --nodes=2 --ntasks-per-node=2 -c 1 "$repo/jobs/multi_node.sbatch") ||
    fail "sbatch multi_node.sbatch failed"
log1=$submit/runs/$j1/CartPole-v1_s3.h5
n_updates() { "$py" -c 'import sys, h5py; print(len(h5py.File(sys.argv[1], "r", swmr=True)["metrics/update"]))' "$1" 2>/dev/null || echo 0; }
until [ "$(n_updates "$log1")" -ge 3 ]; do
    terminal "$(field "$j1" JobState)" && fail "job $j1 ended before logging 3 updates"
    tick "3 updates in $log1"
done
[ "$(field "$j1" NodeList)" = "node[1-2]" ] || fail "job $j1 runs on '$(field "$j1" NodeList)', expected node[1-2]"
on1 scancel --signal=USR1 --batch "$j1" || fail "scancel --signal=USR1 --batch $j1 failed"
until [ "$(field "$j1" Restarts)" -ge 1 ] 2>/dev/null; do tick "job $j1 to requeue itself"; done
n_stop=$(n_updates "$log1")
say "job $j1 stopped after $n_stop updates and requeued itself"
[ "$n_stop" -lt 40 ] || fail "the trainer ran to the end instead of stopping on USR1"
ls "$submit/runs/$j1"/*ckpt* >/dev/null 2>&1 || fail "no checkpoint in $submit/runs/$j1"
wait_done "$j1"
expect_completed "$j1" 1
out1=$submit/slurm-ppo-multi-$j1.out
grep -q "site set-up: sourcing $work/site.sh" "$out1" || fail "no site set-up line in $out1"
grep -q "restart 1 on node1 (nodes node\[1-2\];" "$out1" || fail "no 'restart 1 on node1 (nodes node[1-2]; ...)' in $out1"
grep -q "^resumed from" "$out1" || fail "the requeued job did not resume ($out1)"
check_log "$log1" CartPole-v1 3 hostnames=node1,node2
[ -z "$(find "$submit/runs/$j1" -name '*.restart*')" ] || fail "a resumed job must not start new logs"

# ---- 2. srun over both nodes ----
say "multi_node.sbatch --nodes=2 with PPO_LAUNCHER=srun (--mpi=pmix)"
j2=$(HDF5_USE_FILE_LOCKING=BEST_EFFORT PPO_LAUNCHER=srun PPO_ENV=Acrobot-v1 PPO_SEED=4 PPO_STEPS=1024 on1 "${sb[@]}" --nodes=2 --ntasks-per-node=2 -c 1 "$repo/jobs/multi_node.sbatch") ||
    fail "sbatch failed"
wait_done "$j2"
expect_completed "$j2" 0
grep -q -- "--mpi=pmix" "$submit/slurm-ppo-multi-$j2.out" || fail "srun without --mpi=pmix"
grep -q "HDF5_USE_FILE_LOCKING=BEST_EFFORT (yours)" "$submit/slurm-ppo-multi-$j2.out" || fail "the user's HDF5_USE_FILE_LOCKING not kept"
check_log "$submit/runs/$j2/Acrobot-v1_s4.h5" Acrobot-v1 4 hostnames=node1,node2

say "multi_node.sbatch --nodes=2 --ntasks-per-node=1 -c 2: mpirun --map-by slot:PE=2 --bind-to core"
j4=$(PPO_ENV=CartPole-v1 PPO_SEED=6 PPO_STEPS=256 on1 "${sb[@]}" --nodes=2 --ntasks-per-node=1 -c 2 "$repo/jobs/multi_node.sbatch") ||
    fail "sbatch failed"
wait_done "$j4"
expect_completed "$j4" 0
grep -q -- "--map-by slot:PE=2 --bind-to core" "$submit/slurm-ppo-multi-$j4.out" || fail "no --map-by slot:PE=2 in the launch line"
grep -q "^layout: 2 ranks x 2 threads (OMP_NUM_THREADS=2) on node1,node2" "$submit/slurm-ppo-multi-$j4.out" ||
    fail "expected 'layout: 2 ranks x 2 threads (OMP_NUM_THREADS=2) on node1,node2'"
check_log "$submit/runs/$j4/CartPole-v1_s6.h5" CartPole-v1 6 hostnames=node1,node2 threads_per_rank=2

# ---- 3. a grid sweep ----
say "sweep_array.sbatch over a grid file: 1 env x 1 seed x 2 lr"
printf '# test grid\nenv = CartPole-v1\nseed = 5   # one seed\nlr = 1e-3 3e-4\n' >"$work/grid"
list=$(PPO_GRID=$work/grid bash "$repo/jobs/sweep_array.sbatch" --list) || fail "sweep_array.sbatch --list failed"
case $list in *"0: --env CartPole-v1 --seed 5 --lr 1e-3"*"2 points: sbatch --array=0-1 "*) ;; *) fail "--list printed: $list" ;; esac
j3=$(PPO_GRID=$work/grid PPO_STEPS=512 on1 "${sb[@]}" -n 2 -O --array=0-1 "$repo/jobs/sweep_array.sbatch") || fail "sbatch sweep failed"
wait_done "${j3}_0"
wait_done "${j3}_1"
expect_completed "${j3}_0" 0
expect_completed "${j3}_1" 0
check_log "$submit/runs/$j3/CartPole-v1_s5_lr-1e-3.h5" CartPole-v1 5 lr=1e-3
check_log "$submit/runs/$j3/CartPole-v1_s5_lr-3e-4.h5" CartPole-v1 5 lr=3e-4
grep -qx "lr = 1e-3 3e-4" "$submit/runs/$j3/sweep.grid" || fail "no grid beside the sweep's logs"
# As jobs/README.md says: read the results from the login node.
"$py" "$repo/analysis/ppo-analyze" summary -q "$submit/runs/$j3" --out "$work/analysis" >"$work/summary.txt" 2>&1 || { cat "$work/summary.txt"; fail "ppo-analyze summary failed"; }
[ "$(grep -c CartPole-v1 "$work/summary.txt")" -ge 2 ] || { cat "$work/summary.txt"; fail "ppo-analyze summary does not list both sweep runs"; }

say "all checks passed"
ok=1
