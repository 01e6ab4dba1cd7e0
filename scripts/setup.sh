#!/usr/bin/env bash
# Installs what racewin needs from Debian 12 packages (idempotent) and builds it.
# Usage: scripts/setup.sh [build-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}

pkgs=(cmake g++ make pkg-config libsimgrid-dev libyaml-cpp-dev libeigen3-dev doctest-dev
      libcli11-dev libfmt-dev nlohmann-json3-dev libboost-dev)
# The tests also run sweeps on a Dask cluster and test analysis/ and notebooks/ (Debian's /usr/bin/python3).
[ -n "${RACEWIN_TEST_PACKAGES:-}" ] && pkgs+=(python3 python3-distributed python3-pandas python3-matplotlib
  python3-xarray python3-numpy python3-nbclient python3-nbformat python3-ipykernel python3-pytest)
# The validation checks against other architectures and the real kernel (docs/probe.md).
[ -n "${RACEWIN_VALIDATION_PACKAGES:-}" ] && pkgs+=(gcc-s390x-linux-gnu libc6-dev-s390x-cross
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user file)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "racewin setup: installing ${missing[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)"
