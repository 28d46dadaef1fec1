#!/bin/sh
# Configures and builds ppo in build/ (Release), then installs it (ppo on PATH, libppo, include/ppo).
# Usage: scripts/build.sh [--no-install]
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
if [ "${1:-}" != "--no-install" ]; then
    if [ "$(id -u)" = "0" ]; then cmake --install build; else sudo cmake --install build; fi
    # the new libppo.so must be known to the loader before `ppo` runs from PATH
    if [ "$(id -u)" = "0" ]; then ldconfig; else sudo ldconfig; fi
fi
