#!/bin/bash
# The trainer over two "nodes" (tests/multinode/netns_nodes.sh: network + UTS namespaces joined by a
# veth pair), with mpirun over Open MPI's TCP transport and a launch agent that enters a namespace
# instead of ssh. The nodes are started here and always removed again, also on failure.
#   tests/multinode/test_mpi_nodes.sh PPO_BINARY
# 1. 2 nodes x 2 ranks == 1 node x 4 ranks, same seed: every logged metric and episode, the final
#    parameters, Adam moments and RNG states are equal bit for bit (tolerance 0; wall time and
#    steps/s excepted), although the first sums its gradients in shared memory on each node and then
#    between the nodes, the second in one node's shared memory; /config hostnames lists node1 and node2.
# 2. Threads are chosen per node: 1 rank on rank 0's node and 3 on the other gives rank 0 two threads
#    ("2 cores / 1 ranks on the node"), and 3 ranks on rank 0's node one ("/ 3 ranks") — the count
#    is the node's ranks, never the job's.
# 3. A rank killed (SIGKILL) on node2 ends the whole job on both nodes (mpirun exits non-zero, no
#    trainer is left on either node), and rank 0's log on the shared file system stays readable.
# Exit status: 0 passed, 1 failed, 77 namespaces cannot be made here (not root, no iproute2, ...).
# All waiting is bounded (polls of 0.2 s).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 PPO_BINARY" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
ppo=$(realpath "$1")
py=/usr/bin/python3
nodes=$here/netns_nodes.sh
start_time=$(date +%s)
say() { echo "test_mpi_nodes: [$(($(date +%s) - start_time)) s] $*"; }
ok=0
skip() { echo "SKIP: $*"; ok=1; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$ppo" ] || fail "no executable trainer at $1"
"$py" -c 'import h5py' 2>/dev/null || skip "needs $py with h5py"
command -v mpirun >/dev/null || skip "needs mpirun (Open MPI)"

work=$(mktemp -d "${TMPDIR:-/tmp}/ppo-mpinodes.XXXXXX")
cleanup() {
    "$nodes" stop "$work/nodes" || true
    if [ "$ok" = 1 ] && [ -z "${PPO_MULTINODE_TEST_KEEP:-}" ]; then rm -rf "$work"; else say "kept $work for a look"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

rc=0
"$nodes" start "$work/nodes" 10.213.0 || rc=$?
[ $rc -eq 0 ] || { [ $rc -eq 77 ] && skip "no network namespaces here (see the message above)"; fail "netns_nodes.sh start exited $rc"; }
n1=10.213.0.1
n2=10.213.0.2

# mpirun as a user would start it on a login node of a 2-node cluster without a scheduler: TCP
# between the nodes (shared memory within one), the launch agent instead of ssh, both restricted
# to the nodes' subnet. --bind-to none: the ranks of a node share its cores.
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none
    --mca plm_rsh_agent "$nodes agent $work/nodes"
    --mca pml ob1 --mca btl "tcp,vader,self"
    --mca btl_tcp_if_include 10.213.0.0/24 --mca oob_tcp_if_include 10.213.0.0/24)
on() { node=$1; shift; "$nodes" exec "$work/nodes" "$node" "$@"; }
train() { "$ppo" --env CartPole-v1 --seed 7 --progress lines "$@"; }

# ---- 1. 2 x 2 == 1 x 4 ----
say "1 node x 4 ranks, then 2 nodes x 2 ranks (CartPole, seed 7, 12 updates of 5 epochs)"
on node1 "${mpi[@]}" -x OMP_NUM_THREADS=1 -n 4 --host $n1:4 \
    "$ppo" --env CartPole-v1 --seed 7 --progress lines --total-steps 3072 --epochs 5 --log "$work/one.h5" \
    >"$work/one.out" 2>&1 || { cat "$work/one.out"; fail "1 x 4 run failed"; }
on node1 "${mpi[@]}" -x OMP_NUM_THREADS=1 -n 4 --host $n1:2,$n2:2 \
    "$ppo" --env CartPole-v1 --seed 7 --progress lines --total-steps 3072 --epochs 5 --log "$work/two.h5" \
    >"$work/two.out" 2>&1 || { cat "$work/two.out"; fail "2 x 2 run failed"; }
grep -h '^layout' "$work/one.out" "$work/two.out"
# the gradient sums: shared memory on the one node; on two, shared memory per node and MPI between them
grep -q '^layout.*gradients summed in shared memory$' "$work/one.out" || fail "1 x 4 did not sum in shared memory"
grep -q '^layout.*gradients summed in shared memory on each node, then by MPI_Allreduce between nodes$' "$work/two.out" ||
    fail "2 x 2 did not sum per node, then between nodes"
"$py" - "$work" <<'EOF' || fail "the 2 x 2 run differs from the 1 x 4 run (above)"
import sys
import h5py
import numpy as np
work = sys.argv[1]
TIMING = {"metrics/wall_time", "metrics/steps_per_second"}  # and the phase times, metrics/time_*
# train/env_state is compared without its struct padding bytes: not part of any env's state.
SKIP = TIMING | {"train/env_state"}
def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        cfg = {k: v for k, v in f["config"].attrs.items()} if "config" in f else {}
    return out, cfg
for a, b in (("one.h5", "two.h5"), ("one.policy.h5", "two.policy.h5")):
    A, ca = datasets(f"{work}/{a}")
    B, cb = datasets(f"{work}/{b}")
    assert sorted(A) == sorted(B), f"{a} and {b} hold different datasets"
    same = 0
    for k in sorted(A):
        if k in SKIP or k.startswith("metrics/time_"):
            continue
        assert np.array_equal(A[k], B[k], equal_nan=True), f"{k} differs between {a} and {b}"
        same += 1
    assert same >= 4, f"only {same} datasets compared in {a}"
    print(f"  {a} == {b}: {same} datasets equal bit for bit")
    if a == "one.h5":
        assert len(A["metrics/update"]) == 12, "expected 12 updates"
        assert int(ca["ranks"]) == 4 and int(cb["ranks"]) == 4
        h1, h2 = ca["hostnames"], cb["hostnames"]
        h1, h2 = (h.decode() if isinstance(h, bytes) else str(h) for h in (h1, h2))
        assert h1 == "node1", f"1 x 4 hostnames {h1!r}"
        assert sorted(h2.split(",")) == ["node1", "node2"], f"2 x 2 hostnames {h2!r}"
        print(f"  hostnames: 1 x 4 {h1!r}, 2 x 2 {h2!r}")
EOF

# ---- 2. threads per node ----
# No OMP_NUM_THREADS: the trainer takes the node's cores / the node's ranks. Both nodes have the
# machine's cores; what differs is how many ranks each holds, seen once from each side.
cores=$(nproc)
threads_of() {   # LOG: threads_per_rank from /config
    "$py" -c 'import sys, h5py; print(int(h5py.File(sys.argv[1], "r")["config"].attrs["threads_per_rank"]))' "$1"
}
check_threads() {   # NAME LAUNCH-NODE HOSTS RANKS-ON-RANK-0's-NODE
    name=$1 node=$2 hosts=$3 local=$4
    on "$node" env -u OMP_NUM_THREADS "${mpi[@]}" -n 4 --host "$hosts" \
        "$ppo" --env CartPole-v1 --seed 7 --progress lines --total-steps 256 --log "$work/$name.h5" \
        >"$work/$name.out" 2>&1 || { cat "$work/$name.out"; fail "run $name failed"; }
    want=$((cores / local)); [ $want -ge 1 ] || want=1
    line=$(grep '^layout' "$work/$name.out")
    say "$hosts: $line"
    case $line in *"($cores cores / $local ranks on the node"*) ;; *) fail "$name: expected '$cores cores / $local ranks on the node'" ;; esac
    got=$(threads_of "$work/$name.h5")
    [ "$got" = "$want" ] || fail "$name: threads_per_rank $got in the log, expected $want"
}
check_threads split13 node1 $n1:1,$n2:3 1
check_threads split31 node2 $n2:3,$n1:1 3

# ---- 3. a rank killed on node2 ends the job on both nodes ----
say "SIGKILL to a rank on node2 of a long 2 x 2 run"
ppo_pids() { for p in $("$nodes" pids "$work/nodes" "$1"); do [ "$(cat /proc/"$p"/comm 2>/dev/null)" = ppo ] && echo "$p"; done; true; }
on node1 "${mpi[@]}" -x OMP_NUM_THREADS=1 -n 4 --host $n1:2,$n2:2 \
    "$ppo" --env CartPole-v1 --seed 7 --progress lines --total-steps 10000000 --log "$work/killed.h5" \
    >"$work/killed.out" 2>&1 &
job=$!
n_updates() { "$py" -c 'import sys, h5py; print(len(h5py.File(sys.argv[1], "r", swmr=True)["metrics/update"]))' "$1" 2>/dev/null || echo 0; }
i=0   # bounded: 600 polls of 0.2 s until the run has logged 3 updates
until [ "$(n_updates "$work/killed.h5")" -ge 3 ]; do
    i=$((i + 1)); [ $i -lt 600 ] || fail "the long run logged no 3 updates"; sleep 0.2
    kill -0 $job 2>/dev/null || { cat "$work/killed.out"; fail "the long run ended early"; }
done
victims=$(ppo_pids node2)
[ "$(echo "$victims" | wc -w)" = 2 ] || fail "expected 2 trainer ranks on node2, found: $victims"
victim=$(echo "$victims" | head -1)
say "killing rank process $victim on node2 (node1 runs $(ppo_pids node1 | wc -l) ranks)"
kill -9 "$victim"
i=0   # bounded: 300 polls of 0.2 s for mpirun to end the job
while kill -0 $job 2>/dev/null; do i=$((i + 1)); [ $i -lt 300 ] || fail "mpirun still runs 60 s after a rank died"; sleep 0.2; done
status=0; wait $job || status=$?
[ $status -ne 0 ] || fail "mpirun exited 0 after a rank was killed"
left="$(ppo_pids node1) $(ppo_pids node2)"
[ -z "${left// /}" ] || fail "trainer processes left after the job ended: $left"
say "mpirun exited $status after $i polls; no trainer left on either node"
"$py" - "$work/killed.h5" <<'EOF' || fail "the killed run's log is not readable (above)"
import sys
import h5py
with h5py.File(sys.argv[1], "r", swmr=True) as f:
    u = list(f["metrics/update"][:])
    assert len(u) >= 3 and u == list(range(1, len(u) + 1)), f"updates {u}"
    h = f["config"].attrs["hostnames"]
    print(f"  killed run's log: {len(u)} consecutive updates, hostnames {h!r}")
EOF

say "all checks passed"
ok=1
