#!/usr/bin/env bash
# Rare-event forcing from the command line:
#   - --rare-event force gives the same results.json with --jobs 1 and 2, with a rare_event section
#     whose estimate is the hazard's P(hit) in the table, results.json and hazards.csv;
#   - --ratio prints a ratio with its interval, saying what it assumes (paired over replications or not);
#   - usage errors exit 2 with a message naming the problem.
# Usage: test_rare.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=${1:?usage: test_rare.sh path/to/racewin}
cfg=configs/validation/stall_steal.yaml
[ -f "$cfg" ] || { echo "run from the source root (no $cfg)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

args=(run "$cfg" -q --case p1e-9 --case heavy --iterations 20000 --rare-event force --hazard window:race)
for jobs in 1 2; do
  "$racewin" "${args[@]}" --jobs $jobs --out "$tmp/j$jobs" --ratio heavy/p1e-9 >"$tmp/stdout$jobs" 2>"$tmp/stderr$jobs"
  [ $? -eq 0 ] && pass "--rare-event force, --jobs $jobs: exit 0" || fail "--rare-event force, --jobs $jobs: exit 0 ($(cat "$tmp/stderr$jobs"))"
done
cmp -s "$tmp/j1/results.json" "$tmp/j2/results.json" && pass "results.json identical with --jobs 1 and 2" || fail "results.json differs with --jobs"
cmp -s "$tmp/j1/hazards.csv" "$tmp/j2/hazards.csv" && pass "hazards.csv identical with --jobs 1 and 2" || fail "hazards.csv differs with --jobs"
grep -q '"rare_event"' "$tmp/j1/results.json" && grep -q '"effective_hits"' "$tmp/j1/results.json" &&
  pass "results.json has the rare_event section" || fail "no rare_event section in results.json"
grep -q 'rare-event forcing' "$tmp/stdout1" && grep -q 'sped up steal:validation_steal' "$tmp/stdout1" &&
  pass "the table says what was sped up" || fail "the table lacks the forcing section"
grep -q 'heavy/p1e-9, window:race: P ratio' "$tmp/stdout1" && pass "--ratio prints the ratio" || fail "--ratio printed nothing"
grep -q 'forced runs are not paired' "$tmp/stdout1" && pass "--ratio of forced runs says it takes them as independent" ||
  fail "--ratio of forced runs does not say what it assumes"
# Crude replications that share seeds: the interval is paired, the independent one beside it.
"$racewin" run "$cfg" -q --case heavy --case heavy_4ms --replications 4 --iterations 8000 --ratio heavy/heavy_4ms >"$tmp/paired" 2>&1
grep -q 'heavy/heavy_4ms, window:race: P ratio .* (95%, paired over 4 replications that share seeds.*taken as independent \[' "$tmp/paired" &&
  pass "--ratio with --replications is paired" || { fail "--ratio with --replications is not paired"; cat "$tmp/paired"; }
# The forced p1e-9 estimate (about 1e-9) is the P(hit) of hazards.csv, not the crude zero.
p=$(awk -F, 'NR > 1 && $2 == "p1e-9" && $5 == "window:race" { print $0 }' "$tmp/j1/hazards.csv")
echo "$p" | grep -qE ',[0-9.]+e-(09|10),' && pass "hazards.csv carries the forced estimate ($p)" || fail "hazards.csv: $p"

usage() {  # expected exit 2 and a message containing $2
  "$racewin" run "$cfg" -q --iterations 1000 $1 >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc -eq 2 ] && grep -q -- "$2" "$tmp/err" && pass "usage: $1" || fail "usage: $1 (exit $rc: $(cat "$tmp/err"))"
}
usage "--rare-event bogus" "expected 'force' or 'force:X'"
usage "--rare-event force:0" "expected 'force' or 'force:X'"
usage "--rare-event force --engine simgrid" "not with --engine simgrid"
usage "--rare-event force --replications 2" "a forced run is one replication per case"
usage "--ratio heavy" "expected CASE_A/CASE_B"
usage "--ratio heavy/nosuch" "expected CASE_A/CASE_B"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
