#!/usr/bin/env bash
# Installs, builds and runs every racewin test.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
RACEWIN_TEST_PACKAGES=1 "$here/scripts/setup.sh" "$here/build"
cd "$here/build"
ctest --output-on-failure -j "$(nproc)"
