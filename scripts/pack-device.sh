#!/bin/sh
# Packs what scripts/scale.sh needs into build-device/ (ignored by git) for a machine without oneDNN,
# Box2D or libinih, such as the 16-core device machine (../shared/device.md): the binaries (ppo,
# bench_envs, bench_allreduce), their libraries, the scale script and the scaling model.
# There: build-device/run-scale.sh [scale.sh options], or build-device/run-device.sh [scale.sh options]
# for all of it in one go: the machine's description (host.txt), the scale tables, then scale_model.py's
# calibration on that machine and its predictions from those costs, each written under $OUT (else
# build-device/out).
# Usage: scripts/pack-device.sh   (after scripts/build.sh --no-install)
#   BOX2D_LIB_DIR=DIR scripts/pack-device.sh also packs DIR/libbox2d.so.2 (scripts/box2d-nocounters.sh),
#   and run-scale.sh then adds the env-only table's columns stepped with it.
set -eu
if [ -n "${BOX2D_LIB_DIR:-}" ]; then # from where the script was started
    [ -f "$BOX2D_LIB_DIR/libbox2d.so.2" ] || { echo "pack-device.sh: BOX2D_LIB_DIR: no libbox2d.so.2 in '$BOX2D_LIB_DIR'" >&2; exit 2; }
    d=$(cd "$BOX2D_LIB_DIR" && pwd) || { echo "pack-device.sh: BOX2D_LIB_DIR: cannot enter '$BOX2D_LIB_DIR'" >&2; exit 2; }
    BOX2D_LIB_DIR=$d
fi
cd "$(dirname "$0")/.."
[ -x build/src/ppo ] || { echo "pack-device.sh: no build/src/ppo (scripts/build.sh --no-install first)" >&2; exit 2; }
if [ -n "${BOX2D_LIB_DIR:-}" ]; then # a library the loader takes for ppo, before the last pack is replaced
    # (copied under a folder without ':', so its own path may hold one; ldd is given a plain copy)
    t=$(mktemp -d)
    cp -L "$BOX2D_LIB_DIR/libbox2d.so.2" "$t/"
    got=$(LD_LIBRARY_PATH="$t" ldd build/src/ppo 2>/dev/null | awk '$1 == "libbox2d.so.2" {print $3}')
    rm -rf "$t"
    [ "$got" = "$t/libbox2d.so.2" ] ||
        { echo "pack-device.sh: BOX2D_LIB_DIR: $BOX2D_LIB_DIR/libbox2d.so.2 is not a library ppo can load" >&2; exit 2; }
fi
D=build-device
rm -rf "$D"
mkdir -p "$D/lib" "$D/scripts"
cp build/src/ppo build/bench/bench_envs build/bench/bench_allreduce "$D/"
cp -L build/src/libppo.so.0 "$D/lib/"
for l in libdnnl.so.2 libbox2d.so.2 libinih.so.1 libOpenCL.so.1; do cp -L "/lib/x86_64-linux-gnu/$l" "$D/lib/"; done
cp scripts/scale.sh scripts/scale_model.py "$D/scripts/"
if [ -n "${BOX2D_LIB_DIR:-}" ]; then
    mkdir -p "$D/lib-box2d-nocounters"
    cp -L "$BOX2D_LIB_DIR/libbox2d.so.2" "$D/lib-box2d-nocounters/"
fi
cat >"$D/run-scale.sh" <<'RUN'
#!/bin/sh
# Runs scripts/scale.sh with the packed binaries and libraries.
D=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -e "$D/lib-box2d-nocounters/libbox2d.so.2" ] && export BOX2D_LIB_DIR="$D/lib-box2d-nocounters"
PPO_BIN="$D/ppo" BENCH_ENVS="$D/bench_envs" BENCH_ALLREDUCE="$D/bench_allreduce" exec "$D/scripts/scale.sh" "$@"
RUN
cat >"$D/run-device.sh" <<'RUN'
#!/bin/sh
# The scale tables, the model's costs measured here, and its predictions from them, under $OUT.
D=$(cd "$(dirname "$0")" && pwd)
O=${OUT:-$D/out}
mkdir -p "$O" 2>/dev/null && [ -w "$O" ] || { echo "run-device.sh: OUT: cannot write in '$O'" >&2; exit 2; }
{ # the machine: cores, SMT siblings, caches, NUMA, limits, clocks (to read the tables by)
    echo "== nproc: $(nproc)"; lscpu 2>&1
    echo "== NUMA"; cat /sys/devices/system/node/node*/cpulist 2>&1
    echo "== SMT siblings of cpu 0 and 1"; cat /sys/devices/system/cpu/cpu[01]/topology/thread_siblings_list 2>&1
    echo "== cgroup cpu.max: $(cat /sys/fs/cgroup/cpu.max 2>&1)"
    echo "== MHz at start"; grep MHz /proc/cpuinfo 2>&1 | sort | uniq -c
} >"$O/host.txt" 2>&1
"$D/run-scale.sh" "$@" >"$O/scale.md" 2>"$O/scale.err"
echo "scale.sh rc $? ($(date -u +%T))"
export LD_LIBRARY_PATH="$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PPO_BIN="$D/ppo" BENCH_ENVS="$D/bench_envs" python3 "$D/scripts/scale_model.py" --calibrate "$O/costs.json" >"$O/calibrate.txt" 2>&1
echo "calibration rc $? ($(date -u +%T))"
python3 "$D/scripts/scale_model.py" --costs "$O/costs.json" --cores-per-node 16 64 >"$O/model.md" 2>&1
echo "model rc $?"
RUN
chmod +x "$D/run-scale.sh" "$D/run-device.sh"
du -sh "$D"
