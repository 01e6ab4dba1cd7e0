#!/usr/bin/env bash
# racewin exact from the command line:
#   - a validation scenario solves (exit 0) and exact.json names each quantity;
#   - a case with a fixed duration is refused, naming the cost and its step, exit 1, one line;
#   - past --max-states the enumeration stops with the count reached, exit 1.
# Usage: test_exact.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=${1:?usage: test_exact.sh path/to/racewin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
check() {  # name, condition (a command)
  if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; sed 's/^/  /' "$tmp/err" "$tmp/out" | head -20; failed=1; fi
}

"$racewin" exact configs/validation/steal_window.yaml --out "$tmp/o" -q >"$tmp/out" 2>"$tmp/err"
rc=$?
check "validation scenario solves" '[ $rc -eq 0 ]'
check "exact.json holds the window probability" \
  "/usr/bin/python3 -c 'import json,sys; j=json.load(open(\"$tmp/o/exact.json\")); c=j[\"cases\"][0]; \
w=c[\"windows\"][0][\"p_window_hit\"]; h=[x for x in c[\"hazards\"] if x[\"hazard\"]==\"window:race\"][0]; \
sys.exit(0 if abs(w/(73/325)-1)<1e-9 and abs(h[\"p_iteration_hit\"]/(73/325)-1)<1e-9 and c[\"states\"]>0 else 1)'"

# The study's configuration (a debug kernel, the LTP parent as a second task) is refused first;
# without them, the fixed durations are.
"$racewin" exact configs/dirtyc0w_child.yaml --case s390x_zvm_v5.9-rc4 -q >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a guest task is refused with exit 1, in one line naming kernel.task" \
  '[ $rc -eq 1 ] && [ $(wc -l <"$tmp/err") -eq 1 ] && grep -q "kernel.task" "$tmp/err"'
prod=(--set kernel.config=production --set kernel.task=null)
"$racewin" exact configs/dirtyc0w_child.yaml --case s390x_zvm_v5.9-rc4 "${prod[@]}" -q >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a fixed duration is refused with exit 1" '[ $rc -eq 1 ]'
check "the refusal is one line naming a cost and its step" \
  '[ $(wc -l <"$tmp/err") -eq 1 ] && grep -q "cost .* of step .* is .*: the exact driver needs exponential" "$tmp/err"'

"$racewin" exact configs/dirtyc0w_child.yaml --case s390x_zvm_v5.9-rc4 "${prod[@]}" --exponential --max-states 500 -q \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
check "--max-states stops with exit 1" '[ $rc -eq 1 ]'
check "and says how many states it reached" 'grep -q "stopped after 500 states" "$tmp/err"'
exit $failed
