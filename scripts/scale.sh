#!/bin/bash
# Scaling benchmark: prints, for the machine it runs on, Markdown tables of training throughput as
# ranks are added (strong scaling: the same global batch; weak scaling: the same batch per rank), the
# same cores as ranks x threads, and env-only stepping over threads, each with the speed-up and
# efficiency against one rank and the phase split of the last update (env, infer, gae, grad, comm,
# optim, log: % of the update's time, mean over ranks).
#
# Usage: scripts/scale.sh [--quick] [--ranks "1 2 4 8 16"] [--only NAME,...]
#   NAMES: envs, allreduce, lander-preset, lander-64, walker-weak, cartpole-weak, hybrid, hybrid-preset,
#   walker-threads, solve
#   PPO_BIN, BENCH_ENVS and BENCH_ALLREDUCE name the binaries (default: build/src/ppo, build/bench/...), so the
#   script also runs from a folder of copied binaries on another machine (scripts/pack-device.sh).
#   BOX2D_LIB_DIR: a folder with another libbox2d.so.2 (scripts/box2d-nocounters.sh) adds the env-only
#   table's Box2D envs, and walker-threads rows, stepped with it.
# Needs mpirun; python3 for arithmetic. A benchmark, not a test: figures depend on the machine and
# its load, which the header line prints.
set -u
# a relative BOX2D_LIB_DIR names a folder from where the script was started
if [ -n "${BOX2D_LIB_DIR:-}" ] && [ -d "$BOX2D_LIB_DIR" ]; then
    d=$(cd "$BOX2D_LIB_DIR" && pwd) && BOX2D_LIB_DIR=$d
fi
cd "$(dirname "$0")/.."
PPO_BIN=${PPO_BIN:-build/src/ppo}
BENCH_ENVS=${BENCH_ENVS:-build/bench/bench_envs}
BENCH_ALLREDUCE=${BENCH_ALLREDUCE:-build/bench/bench_allreduce}
CORES=$(nproc)
QUICK=""
RANKS=""
NAMES="envs,allreduce,lander-preset,lander-64,walker-weak,cartpole-weak,hybrid,hybrid-preset,walker-threads,solve"
ONLY=$NAMES
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1 ;;
    --ranks) RANKS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
case "$ONLY" in "" | ,* | *, | *,,*) # an empty name, which read -a would drop at the end
    echo "scale.sh: --only: no table named in '$ONLY' (choose from $NAMES)" >&2
    exit 2 ;;
esac
IFS=, read -r -a wanted <<<"$ONLY" # a misspelt name would print no table and exit 0
for name in "${wanted[@]}"; do
    case ",$NAMES," in *",$name,"*) ;; *)
        echo "scale.sh: --only: no table '$name' (choose from $NAMES)" >&2
        exit 2 ;;
    esac
done
for n in $RANKS; do # rank counts are positive integers (the tables divide by them)
    [[ "$n" =~ ^[1-9][0-9]{0,5}$ ]] || { echo "scale.sh: --ranks: '$n' is not a positive whole number of ranks" >&2; exit 2; }
done
if [ -n "${BOX2D_LIB_DIR:-}" ] && [ ! -f "$BOX2D_LIB_DIR/libbox2d.so.2" ]; then # else the columns would be Debian's
    echo "scale.sh: BOX2D_LIB_DIR: no libbox2d.so.2 in '$BOX2D_LIB_DIR'" >&2
    exit 2
fi
case "${BOX2D_LIB_DIR:-}" in *:*) # LD_LIBRARY_PATH would split it, and Debian's library would load instead
    echo "scale.sh: BOX2D_LIB_DIR: '$BOX2D_LIB_DIR' has a ':', which LD_LIBRARY_PATH cannot hold" >&2
    exit 2 ;;
esac
if [ -z "$RANKS" ]; then # 1 2 4 ... up to the cores
    RANKS=1
    n=2
    while [ "$n" -le "$CORES" ]; do RANKS="$RANKS $n"; n=$((n * 2)); done
fi
[ -x "$PPO_BIN" ] || { echo "scale.sh: no ppo binary at $PPO_BIN (build first, or set PPO_BIN)" >&2; exit 2; }
if [ -n "${BOX2D_LIB_DIR:-}" ]; then # the library the loader would really take for ppo: BOX2D_LIB_DIR's, and loadable
    got=$(LD_LIBRARY_PATH="$BOX2D_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$PPO_BIN" 2>/dev/null | awk '$1 == "libbox2d.so.2" {print $3}')
    if [ "$got" != "$BOX2D_LIB_DIR/libbox2d.so.2" ]; then
        echo "scale.sh: BOX2D_LIB_DIR: $BOX2D_LIB_DIR/libbox2d.so.2 does not load for $PPO_BIN (the loader gives '${got:-nothing}')" >&2
        exit 2
    fi
fi
want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
calc() { python3 -c "print($1)"; }
steps() { if [ -n "$QUICK" ]; then calc "int($1 / 10)"; else echo "$1"; fi; }

MPI_FLAGS=(--oversubscribe)
[ "$(id -u)" = 0 ] && MPI_FLAGS+=(--allow-run-as-root)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# train LABEL RANKS THREADS ppo-args...: prints "steps/s|phase split" of one run (steps/s from ppo's
# own "trained ... (N steps/s)" line: training only, without set-up and evaluation)
train() {
    local ranks=$2 threads=$3 bind=(--bind-to core --map-by core)
    shift 3
    [ "$threads" -gt 1 ] && bind=(--bind-to none)
    local out lib=${LD_LIBRARY_PATH:-}
    [ -n "${TRAIN_LIB:-}" ] && lib="$TRAIN_LIB${lib:+:$lib}" # another libbox2d.so.2 for this run
    out=$(LD_LIBRARY_PATH=$lib OMP_NUM_THREADS=$threads mpirun "${MPI_FLAGS[@]}" -x LD_LIBRARY_PATH "${bind[@]}" -n "$ranks" "$PPO_BIN" "$@" \
        --threads "$threads" --seed 1 --progress lines --progress-interval 100000 --log "$TMP/run$RANDOM$RANDOM.h5" 2>&1)
    local sps split
    sps=$(echo "$out" | sed -n 's/^trained .*(\([0-9]*\) steps\/s).*/\1/p' | head -1)
    split=$(echo "$out" | grep '^update' | tail -1 | sed -n 's/.*time% //p')
    if [ -z "$sps" ]; then
        echo "failed: $(echo "$out" | grep -m1 'error' | cut -c1-100)|"
    else
        echo "$sps|$split"
    fi
}

# table TITLE per_rank_steps_factor ppo-args-function: strong or weak scaling over $RANKS
scaling_table() {
    local title=$1 argsfn=$2 base=""
    echo
    echo "### $title"
    echo
    echo "| ranks | steps/s | speed-up | efficiency | time % of the last update |"
    echo "|---|---|---|---|---|"
    for n in $RANKS; do
        local r sps split
        r=$(train x "$n" 1 $($argsfn "$n"))
        sps=${r%%|*}
        split=${r#*|}
        if ! [[ "$sps" =~ ^[0-9]+$ ]]; then
            echo "| $n | $sps | | | |"
            continue
        fi
        [ -z "$base" ] && base=$sps
        echo "| $n | $sps | $(calc "round($sps / $base, 2)")x | $(calc "round(100 * $sps / $base / $n)")% | $split |"
    done
}

lander_preset() { echo --env LunarLander-v3 --total-steps "$(steps 1000000)"; }
lander_64() {
    echo --env LunarLander-v3 --envs-per-rank $((64 / $1)) --rollout-steps 256 --minibatches 4 --epochs 4 \
        --total-steps "$(steps 1000000)"
}
walker_weak() { echo --env BipedalWalker-v3 --envs-per-rank 8 --total-steps "$(steps $(($1 * 100000)))"; }
cartpole_weak() { echo --env CartPole-v1 --preset none --total-steps "$(steps $(($1 * 200000)))"; }

echo "## ppo scaling on $(hostname): $CORES cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1 /proc/loadavg) at start, $(date -u +%Y-%m-%d)"
echo
echo "ranks: $RANKS; one OpenMP thread per rank (bound to a core) unless a table says otherwise${QUICK:+; --quick: a tenth of the steps}"

if want envs && [ -x "$BENCH_ENVS" ]; then
    echo
    echo "### env-only steps/s (bench_envs: one env per thread, random actions), over threads"
    echo
    # BOX2D_LIB_DIR (scripts/box2d-nocounters.sh): the Box2D envs again with that libbox2d.so.2
    head="| threads | LunarLander-v3 | BipedalWalker-v3 | CartPole-v1 |"
    rule="|---|---|---|---|"
    if [ -n "${BOX2D_LIB_DIR:-}" ]; then
        head="$head LunarLander-v3, Box2D without counters | BipedalWalker-v3, Box2D without counters |"
        rule="$rule---|---|"
        echo "(the last two columns: Box2D from $BOX2D_LIB_DIR)"
        echo
    fi
    echo "$head"
    echo "$rule"
    for t in $RANKS; do
        row="| $t |"
        for e in LunarLander-v3 BipedalWalker-v3 CartPole-v1 ${BOX2D_LIB_DIR:+b2:LunarLander-v3 b2:BipedalWalker-v3}; do
            lib=${LD_LIBRARY_PATH:-}
            case "$e" in b2:*) e=${e#b2:}; lib="$BOX2D_LIB_DIR${lib:+:$lib}" ;; esac
            n=$(steps 100000)
            [ "$e" = CartPole-v1 ] && n=$(steps 3000000)
            v=$(LD_LIBRARY_PATH=$lib OMP_NUM_THREADS=$t OMP_PROC_BIND=spread "$BENCH_ENVS" --steps "$n" "$e" 2>&1 | awk -v e="$e" '$1 == e {print $3}')
            row="$row ${v:-?} |"
        done
        echo "$row"
    done
fi
if want allreduce && [ -x "$BENCH_ALLREDUCE" ]; then
    echo
    echo "### the gradient sum over ranks, LunarLander's 9,797 floats (bench_allreduce, median us, slowest rank)"
    echo
    echo "| ranks | MPI_Allreduce | shared memory (--grad-reduce shm) | shm sum + Adam on every parameter | shm halves + Adam on the rank's slice (ppo's) |"
    echo "|---|---|---|---|---|"
    for n in $RANKS; do
        [ "$n" -gt 1 ] || continue
        # bench_allreduce prints a 9,797-float row in each of its two tables: the sums, then sum and step
        row=$(mpirun "${MPI_FLAGS[@]}" --bind-to core --map-by core -n "$n" "$BENCH_ALLREDUCE" $([ -n "$QUICK" ] && echo 200 || echo 2000) 2>&1 |
            awk '$1 == 9797 { r = r (r ? " | " : "") $2 " | " $3 } END { if (r) print r }')
        echo "| $n | ${row:-failed} |"
    done
fi

want lander-preset && scaling_table "strong: LunarLander-v3 preset (16 envs x 1024 global, 256 minibatches x 4 epochs)" lander_preset
want lander-64 && scaling_table "strong: LunarLander-v3, 64 envs x 256 global, 4 minibatches x 4 epochs" lander_64
want walker-weak && scaling_table "weak: BipedalWalker-v3 preset, 8 envs per rank" walker_weak
want cartpole-weak && scaling_table "weak: CartPole-v1, 8 envs x 128 steps per rank, 4 minibatches x 4 epochs" cartpole_weak

# hybrid_table TITLE ARGSFN: the cores as ranks x threads, from CORES x 1 down to 1 x CORES; ARGSFN gets
# the rank count and prints ppo's arguments for it
hybrid_table() {
    local title=$1 argsfn=$2 base="" r=$CORES t res sps
    echo
    echo "### the $CORES cores as ranks x threads ($title)"
    echo
    echo "| ranks x threads | steps/s | vs ${CORES} x 1 | time % of the last update |"
    echo "|---|---|---|---|"
    while [ "$r" -ge 1 ]; do
        t=$((CORES / r))
        res=$(train x "$r" "$t" $($argsfn "$r"))
        sps=${res%%|*}
        [ -z "$base" ] && base=$sps
        if [[ "$sps" =~ ^[0-9]+$ ]]; then
            echo "| $r x $t | $sps | $(calc "round(100 * $sps / $base)")% | ${res#*|} |"
        else
            echo "| $r x $t | $sps | | |"
        fi
        r=$((r / 2))
    done
}

want hybrid && hybrid_table "LunarLander-v3, 64 envs x 256 global, 4 x 4" lander_64
# the preset's 64-row minibatches: many threads share a rank's rows (8 or more each) or leave them to fewer
want hybrid-preset && hybrid_table "LunarLander-v3 preset: 16 envs x 1024 global, 256 minibatches of 64 x 4 epochs" lander_preset

if want walker-threads; then
    # Box2D's process-wide counters make threads step walkers slower than ranks (docs/scaling.md)
    echo
    echo "### the $CORES cores as ranks or threads for BipedalWalker-v3 (8 envs per core, its preset)"
    echo
    echo "| ranks x threads | Box2D | steps/s | vs ${CORES} x 1 | time % of the last update |"
    echo "|---|---|---|---|---|"
    base=""
    for row in "$CORES 1 debian" "1 $CORES debian" ${BOX2D_LIB_DIR:+"1 $CORES nocounters" "$CORES 1 nocounters"}; do
        set -- $row
        TRAIN_LIB=""
        [ "$3" = nocounters ] && TRAIN_LIB=$BOX2D_LIB_DIR
        res=$(TRAIN_LIB=$TRAIN_LIB train x "$1" "$2" --env BipedalWalker-v3 --envs-per-rank $((8 * $2)) \
            --total-steps "$(steps $((CORES * 100000)))")
        sps=${res%%|*}
        [ -z "$base" ] && base=$sps
        name="Debian's"
        [ "$3" = nocounters ] && name="without counters"
        if [[ "$sps" =~ ^[0-9]+$ ]]; then
            echo "| $1 x $2 | $name | $sps | $(calc "round(100 * $sps / $base)")% | ${res#*|} |"
        else
            echo "| $1 x $2 | $name | $sps | | |"
        fi
    done
fi

if want solve; then
    # the scale entry spreads its 16 envs over the ranks (docs/scaling.md); the same run on half the ranks
    # with 2 threads each (the actor on one, the critic on the other), and on one rank's threads
    echo
    echo "### time to solve LunarLander-v3 (--preset scale, greedy evaluation over 100 episodes after training)"
    echo
    echo "| ranks x threads | envs per rank | wall (start to end, evaluation included) | trained | eval |"
    echo "|---|---|---|---|---|"
    n=$(echo "$RANKS" | tr ' ' '\n' | tail -1)
    layouts=("$n 1")
    [ "$n" -ge 4 ] && layouts+=("$((n / 2)) 2")
    layouts+=("1 $CORES")
    for layout in "${layouts[@]}"; do
        read -r r t <<<"$layout"
        [ "$t" -gt 1 ] && [ "$r" = 1 ] && [ "$n" = 1 ] && continue # 1 x 1 already
        [ "$t" -gt 1 ] && [ "$CORES" -lt 2 ] && continue
        bind=(--bind-to core --map-by core)
        [ "$t" -gt 1 ] && bind=(--bind-to none)
        t0=$(date +%s.%N)
        out=$(OMP_NUM_THREADS=$t mpirun "${MPI_FLAGS[@]}" "${bind[@]}" -n "$r" "$PPO_BIN" --env LunarLander-v3 \
            --preset scale --threads "$t" --seed 1 --eval-episodes 100 --progress lines --progress-interval 100000 \
            --log "$TMP/solve${r}x$t.h5" 2>&1)
        t1=$(date +%s.%N)
        per=$(echo "$out" | sed -n 's/^preset: .*envs_per_rank=\([0-9]*\).*/\1/p')
        if ! echo "$out" | grep -q '^trained '; then # as train(): say so, with the first error line
            why=$(echo "$out" | grep -m1 -i 'error' || echo "$out" | grep -m1 '[a-z]')
            echo "| $r x $t | failed: $(echo "$why" | cut -c1-100) | | | |"
            continue
        fi
        echo "| $r x $t | $per | $(calc "round($t1 - $t0, 1)") s | $(echo "$out" | sed -n 's/^trained \([0-9]*\) steps in \([0-9.]*\) s.*/\1 steps in \2 s/p') | $(echo "$out" | sed -n 's/^eval: .*return \([-0-9.]* +- [0-9.]*\).*/\1/p') |"
    done
fi
