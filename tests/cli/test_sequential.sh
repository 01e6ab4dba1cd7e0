#!/usr/bin/env bash
# Sequential stopping from the command line:
#   - --rel-error stops each case at a checkpoint, at the same point with --jobs 1 and 2
#     (byte-identical results.json and hazards.csv), and another seed stops elsewhere;
#   - the table, results.json and hazards.csv say how each case stopped;
#   - usage errors exit 2 with a message naming the problem.
# Usage: test_sequential.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=${1:?usage: test_sequential.sh path/to/racewin}
models=$(pwd)/models
[ -f "$models/arch/x86_64.yaml" ] || { echo "run from the source root (no $models/arch/x86_64.yaml)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# w opens a ~10 ns window every ~2 us; h looks into it every ~1 us: P(hit) ~0.005 per iteration of
# h (case a), ~0.01 with a window twice as long (case b). Both meet --rel-error 0.1 in under 0.3
# simulated seconds.
printf 'path: w\nsteps:\n  - window_open: win\n  - {work: in, cost: {exponential: {mean: 10ns}}}\n  - window_close: win\n  - {work: out, cost: {exponential: {mean: 2us}}}\n' >"$tmp/w.yaml"
sed 's/mean: 10ns/mean: 20ns/' "$tmp/w.yaml" >"$tmp/w2.yaml"
printf 'path: h\nsteps:\n  - {work: look, cost: {exponential: {mean: 1us}}}\n  - window_hit: win\n' >"$tmp/h.yaml"
cat >"$tmp/s.yaml" <<EOF
scenario: seq_test
run: {time: 5s, seed: 3, count: h}
machine: {vcpus: 2}
arch: $models/arch/x86_64.yaml
hypervisor: $models/hypervisor/bare_metal.yaml
threads:
  w: {vcpu: 0, path: w.yaml}
  h: {vcpu: 1, path: h.yaml}
cases:
  a: {}
  b: {threads.w.path: w2.yaml}
EOF

run() { "$racewin" run "$tmp/s.yaml" -q "$@" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?; }

for jobs in 1 2; do
  run --rel-error 0.1 --hazard window:win --jobs $jobs --out "$tmp/j$jobs"
  [ "$rc" -eq 0 ] && pass "--rel-error 0.1 with --jobs $jobs exits 0" || fail "--rel-error 0.1 with --jobs $jobs exited $rc: $(cat "$tmp/stderr")"
done
for f in results.json hazards.csv; do
  cmp -s "$tmp/j1/$f" "$tmp/j2/$f" && pass "$f identical with --jobs 1 and 2" || fail "$f differs between --jobs 1 and 2"
done
# Each case stopped by the rule, at a checkpoint, with half-width <= 10% of p, long before 5 s.
if /usr/bin/python3 - "$tmp/j1/results.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for c in j["cases"]:
    s = c["stopping"]
    assert s["reason"] == "rel-error 0.1 reached", s["reason"]
    assert s["events"] == c["events"] and s["events"] % s["checkpoint_events"] == 0, s["events"]
    assert s["events"] > s["checkpoint_events"], "met at the first look: the test proves little"
    assert s["sim_time_ns"] < 1e9 and s["budgets"]["sim_time_ns"] == 5e9
    h = [x for x in c["hazards"] if x["hazard"] == "window:win"][0]
    lo, hi = h["p_iteration_hit_ci95"]
    assert h["iterations_hit"] > 0 and (hi - lo) / 2 <= 0.1 * h["p_iteration_hit"], (lo, hi)
    assert [x["hazard"] for x in s["hazards"]] == ["window:win"] and s["hazards"][0]["met"] == "rel-error"
assert j["cases"][0]["events"] != j["cases"][1]["events"]
EOF
then pass "results.json: stopped by the rule at a checkpoint, half-width within 10%"; else fail "results.json stopping objects"; fi
grep -q ',rel-error 0.1 reached$' "$tmp/j1/hazards.csv" && head -1 "$tmp/j1/hazards.csv" | grep -q ',stopped_by$' \
  && pass "hazards.csv: stopped_by column" || fail "hazards.csv has no stopped_by column"
run --rel-error 0.1 --hazard window:win --seed 4 --out "$tmp/s4"
cmp -s "$tmp/j1/results.json" "$tmp/s4/results.json" && fail "another seed gave the same results" || pass "another seed stops elsewhere"

# Budgets: bad_page_state (in the default selection) is never hit, so --rel-error cannot be met.
run --rel-error 0.1 --time 20ms --case a
grep -q 'sim time budget spent' "$tmp/stdout" && pass "the sim time budget is reported" || fail "no 'sim time budget spent' in: $(cat "$tmp/stdout")"
run --rel-error 0.1 --max-events 100000 --case a --out "$tmp/ev"
grep -q 'events budget spent' "$tmp/stdout" && grep -q '"events": 131072,' "$tmp/ev/results.json" \
  && pass "the events budget stops at the next checkpoint" || fail "events budget: $(cat "$tmp/stdout")"
run --rel-error 0.1 --max-wall 1h --time 20ms --case a
grep -q 'machine-dependent' "$tmp/stdout" && pass "a wall budget is said to make results machine-dependent" || fail "no machine-dependent note"
run --p-below 0.5 --hazard window:win --case a
grep -q 'p-below 0.5 reached' "$tmp/stdout" && pass "--p-below is reported" || fail "--p-below: $(cat "$tmp/stdout")"

# Usage errors: exit 2 and a message naming the problem.
usage() {
  local name=$1 pattern=$2
  shift 2
  run "$@"
  if [ "$rc" -eq 2 ] && grep -Eq -- "$pattern" "$tmp/stderr"; then pass "usage: $name"
  else fail "usage: $name (exit $rc, stderr: $(head -3 "$tmp/stderr"))"; fi
}
usage "--replications 2 with a rule" "one replication" --rel-error 0.1 --replications 2
usage "unknown --hazard" "--hazard window:nope: case a has no such hazard" --rel-error 0.1 --hazard window:nope
usage "--hazard without a rule" "give one of them" --hazard window:win
usage "--max-wall without a unit it knows" "--max-wall soon" --rel-error 0.1 --max-wall soon
usage "--rel-error 0" "rel-error" --rel-error 0
usage "--p-below 2" "p-below" --p-below 2
usage "--max-events 0" "max-events" --rel-error 0.1 --max-events 0

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
