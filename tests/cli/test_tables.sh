#!/usr/bin/env bash
# The tables for people from the command line (issue 25): a run whose rows rest on fewer than 3
# hits ends with one line saying so and what to do, a run with many hits does not; forced, a
# window nothing hits is marked, not bounded; racewin exact's header carries no glued units.
# Usage: test_tables.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=${1:?usage: test_tables.sh path/to/racewin}
cfg=configs/validation/stall_steal.yaml
[ -f "$cfg" ] || { echo "run from the source root (no $cfg)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# p1e-6 in 2,000 iterations: no hit, an upper bound only.
"$racewin" run "$cfg" --case p1e-6 --iterations 2000 -q >"$tmp/short" 2>&1
last=$(grep -v '^$' "$tmp/short" | tail -1)
if [ "$(grep -c 'too short a run' "$tmp/short")" -eq 1 ] && [[ "$last" == "too short a run"* ]] &&
   [[ "$last" == *"--rare-event force"* ]] && [[ "$last" == *"--time"* ]]; then
  pass "a run with no hit ends with one too-short line naming --rare-event force and --time"
else
  fail "too-short line: $last"
fi
# heavy: about 720 hits.
"$racewin" run "$cfg" --case heavy -q >"$tmp/long" 2>&1
grep -q 'too short' "$tmp/long" && fail "a run with many hits says it is too short" || pass "a run with many hits has no too-short line"
# The headline table's header: units in brackets.
head=$(grep -m1 '^case ' "$tmp/long")
[[ "$head" == *"events [/s]"* && "$head" != *"events /s"* ]] && pass "headline header: $head" || fail "headline header: $head"

# racewin exact: names as in run's table, units in brackets.
"$racewin" exact configs/validation/steal_window.yaml -q >"$tmp/exact" 2>&1
h=$(grep -m1 ' hazard ' "$tmp/exact")
if [[ "$h" == *"time per hit iteration [s]"* && "$h" != *"iter s"* && "$h" != *" /s"* ]]; then
  pass "racewin exact's header has units in brackets"
else
  fail "racewin exact's header: $h"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
