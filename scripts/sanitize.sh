#!/bin/sh
# The sanitizer job of the test suite: builds ppo with AddressSanitizer and UBSan in build-asan/ and runs
# the C tests (envs, Box2D, CarRacing's renderer, network and conv layers, pixel wrappers, PPO maths, the
# 1-vs-2-rank equivalence, HDF5 errors, the policy API) and two short real runs (the log contents and
# reproducibility tests) under it. Any sanitizer report fails the test it is in.
# Usage: scripts/sanitize.sh   (scripts/test.sh runs it after the main suite)
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPPO_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$(nproc)" >/dev/null
# OpenMPI and libgomp keep memory to the end by design: leaks are not what this job looks for
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ctest --test-dir build-asan --output-on-failure -j 1 -L 'envs|box2d|render'
ctest --test-dir build-asan --output-on-failure -j 1 -R '^(test_gradcheck|test_activation|test_conv|test_pixels|test_resize|test_frame_skip|test_gae|test_allreduce|test_grad_reduce|cli_log_contents|cli_repro)$'
