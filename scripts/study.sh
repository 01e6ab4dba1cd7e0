#!/usr/bin/env bash
# Installs and builds racewin, then runs the s390x-versus-x86_64 dirtyc0w_child study
# (scripts/racewin-study, which an installed racewin has as `racewin-study`), writing
# out/dirtyc0w_child. About seven minutes on two cores. Extra arguments go to `racewin run`
# (e.g. --case NAME, --time 10s).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
RACEWIN="$here/build/racewin" RACEWIN_STUDY_OUT="$here/out/dirtyc0w_child" "$here/scripts/racewin-study" "$@"
