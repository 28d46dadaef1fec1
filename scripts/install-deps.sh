#!/bin/sh
# Installs the Debian packages ppo needs to build, run and test, skipping those already present.
# Idempotent; prints what it does. Needs root (uses sudo when run as another user).
set -eu

PACKAGES="build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-dev libdnnl-dev
ocl-icd-opencl-dev libbox2d-dev libinih-dev libcjson-dev bindfs python3-h5py python3-numpy python3-matplotlib python3-pil
python3-pytest"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all $(echo $PACKAGES | wc -w) packages already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps: error: missing packages:$missing; run this script as root" >&2; exit 1; fi
fi
echo "install-deps: installing:$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
echo "install-deps: done"
