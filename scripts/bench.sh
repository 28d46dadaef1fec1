#!/bin/sh
# Benchmarks (figures for the README): env-only steps/s, end-to-end training steps/s of CartPole-v1
# with the default network on 1 and 2 ranks, and the wall time to solve CartPole-v1 with the preset.
# Usage: scripts/bench.sh   (after scripts/build.sh; uses build/)
set -eu
cd "$(dirname "$0")/.."
B=build
flags="--oversubscribe --bind-to none"
[ "$(id -u)" = "0" ] && flags="$flags --allow-run-as-root"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== (a) env-only: one env per thread, random actions, auto-reset"
OMP_NUM_THREADS=$(nproc) $B/bench/bench_envs --steps 300000
echo "== (b) training throughput, CartPole-v1, default 64x64 tanh network, 8 envs x 128 steps per rank,"
echo "      4 minibatches x 4 epochs (CleanRL's update shape), 200k steps"
for n in 1 2; do
    OMP_NUM_THREADS=1 mpirun $flags -n $n $B/src/ppo --env CartPole-v1 --preset none --total-steps 200000 \
        --seed 1 --log "$out/tp$n.h5" | grep '^trained' | sed "s/^/   $n rank(s): /"
done
echo "== (c) time to solve: CartPole-v1 with its preset on 2 ranks, eval over 100 greedy episodes"
for seed in 1 2 3; do
    OMP_NUM_THREADS=1 mpirun $flags -n 2 $B/src/ppo --env CartPole-v1 --seed $seed --eval-episodes 100 \
        --log "$out/solve$seed.h5" | grep -E '^(trained|eval)' | sed "s/^/   seed $seed: /"
done
