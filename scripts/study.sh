#!/usr/bin/env bash
# Installs and builds racewin, then runs the s390x-versus-x86_64 dirtyc0w_child study.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
exec "$here/build/racewin" run "$here/configs/dirtyc0w_child.yaml" --out "$here/out/dirtyc0w_child" "$@"
