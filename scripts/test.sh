#!/bin/sh
# Installs the dependencies, builds ppo and runs the whole test suite (ctest: C tests, MPI tests,
# CLI tests and the analysis pytest suite), then the sanitizer job (scripts/sanitize.sh: the C tests and
# a few short runs under AddressSanitizer and UBSan).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --no-install
ctest --test-dir build --output-on-failure -j 1
scripts/sanitize.sh
