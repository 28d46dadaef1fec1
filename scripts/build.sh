#!/bin/sh
# Configures and builds ppo in build/ (Release), then installs it (ppo and ppo-analyze on PATH, libppo,
# include/ppo) under cmake's install prefix (/usr/local unless configured otherwise; $DESTDIR honoured).
# Usage: scripts/build.sh [--no-install]
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
if [ "${1:-}" != "--no-install" ]; then
    if [ "$(id -u)" = "0" ]; then cmake --install build; else sudo cmake --install build; fi
    # ppo-analyze beside ppo: a copy of analysis/ run by /usr/bin/python3 (analysis/install.sh)
    prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' build/CMakeCache.txt)
    if [ "$(id -u)" = "0" ]; then analysis/install.sh "$prefix"; else sudo analysis/install.sh "$prefix"; fi
    # the new libppo.so must be known to the loader before `ppo` runs from PATH
    if [ "$(id -u)" = "0" ]; then ldconfig; else sudo ldconfig; fi
fi
