#!/usr/bin/env bash
# Installs and builds racewin, then runs the s390x-versus-x86_64 dirtyc0w_child study: every case
# estimated by rare-event forcing until P(bad_page_state per writer iteration) is known to 20%
# (95%), or for at most 60 simulated seconds where nothing can be forced (no steal on bare metal,
# no race window in the fixed kernels: docs/rare-events.md says why those stay bounds). About three
# minutes on two cores. Extra arguments go to `racewin run` (e.g. --case NAME, --time 10s).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
exec "$here/build/racewin" run "$here/configs/dirtyc0w_child.yaml" --out "$here/out/dirtyc0w_child" \
  --rare-event force --rel-error 0.2 --hazard bad_page_state --time 60s \
  --ratio s390x_zvm_v5.9-rc4/x86_64_kvm_v5.9-rc4 "$@"
