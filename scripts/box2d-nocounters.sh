#!/bin/sh
# Builds Box2D 2.4.1 without its process-wide profiling counters, for the threads experiment in
# docs/scaling.md ("Why BipedalWalker's env stepping scales worse on threads than on ranks").
# Debian's libbox2d writes b2_toiCalls, b2_gjkIters and eight more globals on every time-of-impact
# and distance call, so threads stepping Box2D envs in one process fight over those cache lines.
# This removes the statements that write them (nothing reads them) and builds a drop-in
# libbox2d.so.2 with Debian's compiler flags; physics and results are unchanged bit for bit.
# It is an experiment, not a dependency: ppo builds and runs with Debian's package.
#
# Usage: scripts/box2d-nocounters.sh BOX2D_SRC OUT_DIR
#   BOX2D_SRC: a Box2D v2.4.1 source tree (git clone --branch v2.4.1 https://github.com/erincatto/box2d)
#   then: LD_LIBRARY_PATH=OUT_DIR ppo ...   or   BOX2D_LIB_DIR=OUT_DIR scripts/scale.sh --only envs
set -eu
[ $# -eq 2 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
SRC=$1
OUT=$2
grep -q 'project(box2d VERSION 2.4.1)' "$SRC/CMakeLists.txt" 2>/dev/null ||
    { echo "box2d-nocounters.sh: $SRC is not a Box2D 2.4.1 source tree (its CMakeLists.txt)" >&2; exit 2; }
for f in b2_time_of_impact.cpp b2_distance.cpp; do
    [ -f "$SRC/src/collision/$f" ] || { echo "box2d-nocounters.sh: $SRC has no src/collision/$f" >&2; exit 2; }
done
case "$OUT" in *:*) # the folder is meant for LD_LIBRARY_PATH, which splits at ':'
    echo "box2d-nocounters.sh: OUT_DIR '$OUT' has a ':', which LD_LIBRARY_PATH cannot hold" >&2; exit 2 ;;
esac
mkdir -p "$OUT" 2>/dev/null && [ -w "$OUT" ] || { echo "box2d-nocounters.sh: cannot write in OUT_DIR '$OUT'" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -R "$SRC/." "$WORK/src"
C="$WORK/src/src/collision"
# Each counter statement stands on a line of its own; the definitions (still exported) stay.
sed -i -E '/^\s*\+\+b2_(toiCalls|toiIters|toiRootIters);\s*$/d;
           /^\s*b2_(toiMaxIters|toiMaxRootIters|toiMaxTime) = b2Max\(.*\);\s*$/d;
           /^\s*b2_toiTime \+= time;\s*$/d' "$C/b2_time_of_impact.cpp"
sed -i -E '/^\s*\+\+b2_(gjkCalls|gjkIters);\s*$/d;
           /^\s*b2_gjkMaxIters = b2Max\(.*\);\s*$/d' "$C/b2_distance.cpp"
if grep -nE 'b2_(toi|gjk)[A-Za-z]+ *(\+\+|\+=|=[^=])|\+\+b2_(toi|gjk)' "$C/b2_time_of_impact.cpp" "$C/b2_distance.cpp" | grep -v 'B2_API'; then
    echo "box2d-nocounters.sh: a counter write above was not removed" >&2
    exit 1
fi
# Debian's flags for libbox2d 2.4.1-3 (dpkg-buildflags, CMAKE_BUILD_TYPE=None)
cmake -S "$WORK/src" -B "$WORK/build" -DCMAKE_BUILD_TYPE=None -DBUILD_SHARED_LIBS=ON \
    -DCMAKE_CXX_FLAGS="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security" \
    -DBOX2D_BUILD_UNIT_TESTS=OFF -DBOX2D_BUILD_TESTBED=OFF >/dev/null
cmake --build "$WORK/build" -j "$(nproc)" >/dev/null
cp -L "$WORK/build/bin/libbox2d.so.2" "$OUT/libbox2d.so.2"
echo "$OUT/libbox2d.so.2 (Box2D 2.4.1 without its profiling counters)"
