#!/usr/bin/env bash
# Installs and builds racewin, then runs the s390x-versus-x86_64 dirtyc0w_child study.
#  1. Every case by rare-event forcing (docs/rare-events.md) until P(bad_page_state per writer
#     iteration) is known to 20% (95%), at most 60 simulated seconds a case: steal and interrupt
#     arrivals sped up inside race windows, on bare metal the tick with its phase drawn afresh. The
#     fixed kernels open no race window: nothing to force, a crude bound. Then the ratio of s390x
#     under z/VM to x86_64 under KVM for the buggy kernel, with its interval.
#  2. Why the fixed kernels give zero: `racewin exact --reachable` enumerates every state of their
#     model (every duration exponential, so every order of the two threads' steps) and finds none
#     that frees a locked page, where the same reduction of v5.9-rc4 reaches one. Reduced model:
#     no steal and no tick (they only delay steps) and LRU pagevecs of 2 (docs/rare-events.md).
# About four minutes on two cores. Extra arguments go to `racewin run` (e.g. --case NAME, --time 10s).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
"$here/build/racewin" run "$here/configs/dirtyc0w_child.yaml" --out "$here/out/dirtyc0w_child" \
  --rare-event force --rel-error 0.2 --hazard bad_page_state --time 60s \
  --ratio s390x_zvm_v5.9-rc4/x86_64_kvm_v5.9-rc4 "$@"
echo
echo "Can the fixed kernels free a locked page at all? (racewin exact --reachable, reduced model)"
for c in s390x_zvm_v5.9-fixed s390x_zvm_v5.8 s390x_zvm_v5.9-rc4; do
  rc=0
  out=$("$here/build/racewin" exact "$here/configs/dirtyc0w_child.yaml" --case "$c" --exponential \
    --reachable bad_page_state --set 'hypervisor.steal=[]' --set 'arch.interrupts=[]' \
    --set arch.lru_pagevec_size=2 --set machine.pages=16) || rc=$?
  printf '%s\n' "$out" | grep -v '^  ' || true   # the replayed events of a hit are indented
  # exit 0: unreachable, 4: reachable (expected of v5.9-rc4 only); anything else is an error.
  case "$c:$rc" in
    *-fixed:0 | *v5.8:0 | *-rc4:4) ;;
    *) echo "unexpected result for $c (exit $rc)" >&2; exit 1 ;;
  esac
done
