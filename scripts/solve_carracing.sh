#!/bin/sh
# CarRacing-v3 to rl-baselines3-zoo's budget (4M steps): trains its preset plus any extra ppo flags on
# RANKS ranks (default 2), with a training checkpoint every 8 updates so that a stopped run (SIGTERM,
# a session's end, a Slurm limit) continues where it was when the script is run again with the same
# arguments (--resume auto: bit for bit as if it had not stopped); a greedy evaluation of 10 episodes
# every 16 updates (/eval in the log) and of 100 episodes at the end. Prints the evaluation curve.
# Usage: scripts/solve_carracing.sh DIR [ppo flags ...]   e.g.
#   scripts/solve_carracing.sh runs/cr --frame-skip 2 --resize 64 --grayscale --frame-stack 2
# PPO_BIN: the binary (default build/src/ppo). A benchmark, not a test: hours on 2 cores.
set -eu
[ $# -ge 1 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dir=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
PPO_BIN=${PPO_BIN:-$root/build/src/ppo}
RANKS=${RANKS:-2}
SEED=${SEED:-1}
mkdir -p "$dir"
flags="--oversubscribe"
[ "$(id -u)" = "0" ] && flags="$flags --allow-run-as-root"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $RANKS ranks, seed $SEED"
start=$(date +%s)
# shellcheck disable=SC2086
OMP_NUM_THREADS=1 mpirun $flags -n "$RANKS" "$PPO_BIN" --env CarRacing-v3 --seed "$SEED" --log "$dir/cr.h5" \
    --resume auto --checkpoint-every 8 --eval-every 16 --eval-every-episodes 10 --eval-episodes 100 \
    --progress lines --progress-interval 60 "$@" 2>&1 | tee -a "$dir/cr.out"
echo "this segment: $(($(date +%s) - start)) s wall"
/usr/bin/python3 - "$dir/cr.h5" <<'EOF'
import sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    if "eval" not in f:
        sys.exit("no /eval rows yet")
    e = f["eval"]
    print(f"{'update':>7} {'steps':>9} {'wall (s)':>9} {'greedy mean':>12} {'std':>8} {'episodes':>8}")
    for i in range(len(e["update"])):
        print(f"{e['update'][i]:7d} {e['global_step'][i]:9d} {e['wall_time'][i]:9.0f} {e['return_mean'][i]:12.1f} "
              f"{e['return_std'][i]:8.1f} {e['episodes'][i]:8d}")
EOF
