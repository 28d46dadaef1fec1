#!/bin/sh
# Installs the dependencies, builds and installs ppo, and trains the default task on 2 MPI ranks.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# mpirun refuses root without --allow-run-as-root; --oversubscribe lets 2 ranks run on a 1-core machine
flags="--oversubscribe"
[ "$(id -u)" = "0" ] && flags="$flags --allow-run-as-root"
echo "+ mpirun $flags -n 2 ppo"
mpirun $flags -n 2 ppo
