#!/bin/sh
# Installs ppo-analyze under PREFIX (scripts/build.sh passes cmake's install prefix; $DESTDIR is honoured):
# a copy of the analysis package, without its tests, in PREFIX/lib/ppo/analysis, and PREFIX/bin/ppo-analyze,
# which runs that copy with Debian's /usr/bin/python3 (it has h5py), so it works from any directory and
# does not depend on this checkout staying where it is.
# Usage: analysis/install.sh PREFIX
set -eu
if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: analysis/install.sh PREFIX" >&2
    exit 2
fi
prefix=$1
case "$prefix" in
    /*) ;;
    *) echo "analysis/install.sh: error: PREFIX must be an absolute path (got $prefix)" >&2; exit 2 ;;
esac
case "$prefix" in
    *\"*|*\\*) echo "analysis/install.sh: error: PREFIX must not hold quotes or backslashes" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")" && pwd)
root="${DESTDIR:-}$prefix"
lib="$root/lib/ppo"
rm -rf "$lib/analysis.new"
install -d "$lib/analysis.new" "$root/bin"
install -m 644 "$src"/*.py "$lib/analysis.new/"
/usr/bin/python3 -m compileall -q "$lib/analysis.new" >/dev/null
rm -rf "$lib/analysis"  # modules of an older install must not linger
mv "$lib/analysis.new" "$lib/analysis"
tmp="$root/bin/.ppo-analyze.new"
cat > "$tmp" <<WRAPPER
#!/usr/bin/python3
"""ppo-analyze, installed by analysis/install.sh: runs the analysis package copied to $prefix/lib/ppo."""
import sys

sys.path.insert(0, "$prefix/lib/ppo")
from analysis.cli import main  # noqa: E402

sys.exit(main())
WRAPPER
chmod 755 "$tmp"
mv "$tmp" "$root/bin/ppo-analyze"
echo "installed $prefix/bin/ppo-analyze"
