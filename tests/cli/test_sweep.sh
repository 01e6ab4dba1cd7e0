#!/usr/bin/env bash
# racewin sweep and merge from the command line:
#   - the table and point files are the same with --jobs 1 and 2, and from three shards merged;
#   - a sweep killed (SIGKILL, SIGINT) at random moments several times and started again ends
#     with exactly the files of an uninterrupted run;
#   - a sensitivity sweep's shards merged give its ranking;
#   - a changed sweep file against an existing directory is refused unless --force;
#   - malformed input: file and line, exit 1; a bad --shard, exit 2; a merge missing a shard, exit 1.
# Usage: test_sweep.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=${1:?usage: test_sweep.sh path/to/racewin}
scenario=$(pwd)/configs/validation/steal_window.yaml
[ -f "$scenario" ] || { echo "run from the source root (no $scenario)"; exit 2; }
tmp=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
same() {  # same sweep.json, sweep.csv and point files in two directories
  cmp -s "$1/sweep.csv" "$2/sweep.csv" && cmp -s "$1/sweep.json" "$2/sweep.json" && diff -r -q "$1/points" "$2/points" >/dev/null
}

# 6 points of 4 M iterations each (about 0.5 s a point): slow enough to be killed mid-point.
cat >"$tmp/s.yaml" <<YAML
sweep: sweep_test
scenario: $scenario
seed: 2
run: {iterations: 4000000, hazards: [window:race]}
axes:
  - {name: gap, key: hypervisor.steal.0.interarrival, template: "{exponential: {mean: \$}}", log: {from: 1us, to: 100us, points: 3}}
  - {name: len, key: hypervisor.steal.0.duration, template: "{exponential: {mean: \$}}", values: [1us, 5us]}
YAML

"$racewin" sweep "$tmp/s.yaml" --out "$tmp/ref" --jobs 1 -q >/dev/null && pass "uninterrupted run" || fail "uninterrupted run"
[ "$(wc -l <"$tmp/ref/sweep.csv")" -eq 7 ] && pass "one row per point, case and hazard" || fail "sweep.csv has $(wc -l <"$tmp/ref/sweep.csv") lines"
head -1 "$tmp/ref/sweep.csv" | grep -q '^point,gap,len,case,hazard,p,p_lo,p_hi' && pass "parameters as columns" || fail "header: $(head -1 "$tmp/ref/sweep.csv")"
head -1 "$tmp/ref/sweep.csv" | grep -q ',failed,iterations_per_s,ipis_per_iteration$' && pass "the pace and IPIs per iteration last" || fail "header: $(head -1 "$tmp/ref/sweep.csv")"
awk -F, 'NR > 1 && $NF != 0 { bad = 1 } END { exit bad }' "$tmp/ref/sweep.csv" && pass "no IPIs where nothing flushes" || fail "IPIs in a sweep without flushes"
"$racewin" sweep "$tmp/s.yaml" --out "$tmp/j2" --jobs 2 -q >/dev/null
same "$tmp/ref" "$tmp/j2" && pass "--jobs 2 gives the same files" || fail "--jobs 2 differs"

for k in 1 2 3; do "$racewin" sweep "$tmp/s.yaml" --out "$tmp/shard$k" --shard $k/3 -q >/dev/null || fail "shard $k/3"; done
"$racewin" merge "$tmp/shard1" "$tmp/shard2" "$tmp/shard3" --out "$tmp/merged" >/dev/null
same "$tmp/ref" "$tmp/merged" && pass "three shards merged give the single run's files" || fail "merged shards differ"
"$racewin" merge "$tmp/shard1" "$tmp/shard3" --out "$tmp/partial" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "in no shard" "$tmp/err" && pass "merge without a shard: exit 1" || fail "merge without a shard: $(cat "$tmp/err")"

# Killed at random moments, four times, then finished.
for signal in KILL KILL INT KILL; do
  "$racewin" sweep "$tmp/s.yaml" --out "$tmp/killed" --jobs 2 -q >/dev/null 2>&1 &
  pid=$!
  d=$(( (RANDOM % 12) + 3 ))  # 0.3 to 1.4 s: before, between and in the middle of points
  sleep "$((d / 10)).$((d % 10))"
  kill -s $signal $pid 2>/dev/null
  wait $pid 2>/dev/null
done
echo "points done before the last start: $(ls "$tmp/killed/points" 2>/dev/null | grep -c "json$")"
"$racewin" sweep "$tmp/s.yaml" --out "$tmp/killed" --jobs 2 -q >/dev/null && pass "resumed run finishes" || fail "resumed run"
same "$tmp/ref" "$tmp/killed" && pass "killed and resumed: the uninterrupted run's files" || fail "killed and resumed differs"

# A changed sweep file against the same directory.
sed 's/seed: 2/seed: 3/' "$tmp/s.yaml" >"$tmp/s2.yaml" && mv "$tmp/s2.yaml" "$tmp/s.yaml"
"$racewin" sweep "$tmp/s.yaml" --out "$tmp/ref" -q >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "give --force" "$tmp/err" && pass "changed sweep file refused" || fail "changed sweep file: $(cat "$tmp/err")"
"$racewin" sweep "$tmp/s.yaml" --out "$tmp/ref" --force -q >/dev/null && grep -q '"seed": 3' "$tmp/ref/points/000000.json" &&
  pass "--force starts over" || fail "--force"

# A sensitivity sweep in two shards: merge writes the ranking a single run writes.
cat >"$tmp/sens.yaml" <<YAML
sweep: sens_test
scenario: $scenario
cases: [steal_5_of_7]
seed: 2
run: {iterations: 200000, hazards: [window:race]}
sensitivity: {hazard: "window:race", factor: 2, parameters: [arch.costs.window_length, arch.costs.hit_gap]}
YAML
"$racewin" sweep "$tmp/sens.yaml" --out "$tmp/sens_ref" -q >/dev/null
for k in 1 2; do "$racewin" sweep "$tmp/sens.yaml" --out "$tmp/sens$k" --shard $k/2 -q >/dev/null; done
[ ! -e "$tmp/sens1/sensitivity.csv" ] && "$racewin" merge "$tmp/sens1" "$tmp/sens2" --out "$tmp/sens_merged" >/dev/null &&
  [ "$(wc -l <"$tmp/sens_ref/sensitivity.csv")" -eq 3 ] && cmp -s "$tmp/sens_ref/sensitivity.csv" "$tmp/sens_merged/sensitivity.csv" &&
  pass "sensitivity shards merged: the single run's ranking" || fail "sensitivity merge"

# racewin run --uncertainty: an uncertainty sweep written into --out and run there; the same
# command again resumes (nothing to run) and prints the same table; what it cannot carry is refused.
study=$(pwd)/configs/dirtyc0w_child.yaml
u=("$racewin" run "$study" --case s390x_zvm_v5.9-rc4 --case x86_64_kvm_v5.9-rc4 --iterations 300 --uncertainty 3 -q)
"${u[@]}" --out "$tmp/unc" >"$tmp/unc.out" 2>"$tmp/err" && [ -f "$tmp/unc/sweep.yaml" ] && [ "$(ls "$tmp/unc/points" | wc -l)" -eq 4 ] &&
  [ "$(wc -l <"$tmp/unc/uncertainty.csv")" -eq 4 ] && grep -q "^s390x_zvm_v5.9-rc4 / x86_64_kvm_v5.9-rc4," "$tmp/unc/uncertainty.csv" &&
  pass "run --uncertainty 3: a nominal point and 3 samples, each case and the ratio" || fail "run --uncertainty: $(cat "$tmp/err")"
"${u[@]}" --out "$tmp/unc" >"$tmp/unc2.out" 2>"$tmp/err" && grep -q "4 points (0 run now)" "$tmp/unc2.out" &&
  cmp -s <(grep -v "points (" "$tmp/unc.out") <(grep -v "points (" "$tmp/unc2.out") &&
  pass "run --uncertainty again: resumed, nothing to run, the same table" || fail "run --uncertainty resume: $(cat "$tmp/unc2.out" "$tmp/err")"
"${u[@]}" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "needs --out" "$tmp/err" && pass "run --uncertainty without --out: exit 2" || fail "no --out: $(cat "$tmp/err")"
"${u[@]}" --out "$tmp/unc3" --ratio s390x_zvm_v5.9-rc4/x86_64_kvm_v5.9-rc4 >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "with --ratio" "$tmp/err" && pass "run --uncertainty with --ratio: exit 2" || fail "--ratio: $(cat "$tmp/err")"

printf 'sweep: bad\nscenario: %s\naxes:\n  - {name: g, key: hypervisor.steal.0.interarrival, values: []}\n' "$scenario" >"$tmp/bad.yaml"
"$racewin" sweep "$tmp/bad.yaml" --out "$tmp/bad" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "bad.yaml:4" "$tmp/err" && grep -q "at least one value" "$tmp/err" && pass "empty axis: file, line, cause" ||
  fail "empty axis: $(cat "$tmp/err")"
"$racewin" sweep "$tmp/s.yaml" --out "$tmp/x" --shard 4/3 >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "expected K/N" "$tmp/err" && pass "--shard 4/3: exit 2" || fail "--shard 4/3: $(cat "$tmp/err")"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
