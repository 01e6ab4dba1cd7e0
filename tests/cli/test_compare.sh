#!/usr/bin/env bash
# racewin compare from the command line: a window made longer by --set-after is found worse, with
# every field in compare.json and compare.csv; results do not depend on --jobs; bad input exits 1
# with one line naming what is wrong, a bad command line exits 2.
# Usage: test_compare.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=${1:?usage: test_compare.sh path/to/racewin}
models=$(pwd)/models
[ -f "$models/arch/x86_64.yaml" ] || { echo "run from the source root (no $models/arch/x86_64.yaml)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/  stderr: /' "$tmp/err" | head -5; }

# The owner holds window w over one Exp(100 ns) step; owner_long also over the next one (same
# steps, same random streams: only where the window closes differs). The hitter is a Poisson stream.
printf 'path: owner\nsteps:\n  - window_open: w\n  - work: in_window\n  - window_close: w\n  - work: next\n  - work: rest\n' >"$tmp/owner.yaml"
printf 'path: owner_long\nsteps:\n  - window_open: w\n  - work: in_window\n  - work: next\n  - window_close: w\n  - work: rest\n' >"$tmp/owner_long.yaml"
printf 'path: hitter\nsteps:\n  - work: gap\n  - window_hit: w\n' >"$tmp/hitter.yaml"
cat >"$tmp/sc.yaml" <<EOF
scenario: compare_cli
run: {time: 10ms, seed: 1, count: owner}
machine: {vcpus: 2, spinlocks: [L]}
arch: $models/arch/x86_64.yaml
hypervisor: $models/hypervisor/bare_metal.yaml
threads:
  owner: {vcpu: 0, path: owner.yaml}
  hitter: {vcpu: 1, path: hitter.yaml}
cases:
  c:
    arch.costs.in_window: {exponential: {mean: 100ns}}
    arch.costs.next: {exponential: {mean: 100ns}}
    arch.costs.rest: {exponential: {mean: 800ns}}
    arch.costs.gap: {exponential: {mean: 10us}}
EOF
sed 's/^  c:$/  other:/' "$tmp/sc.yaml" >"$tmp/other.yaml"

args=("$tmp/sc.yaml" --set-after threads.owner.path=owner_long.yaml --batches 10 --time 20ms --seed 3 -q)
"$racewin" compare "${args[@]}" --jobs 2 --out "$tmp/j2" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ]; then ok "compare exits 0"; else bad "compare exited $rc"; fi
json=$tmp/j2/compare.json
missing=""
for f in p_before p_before_ci95 p_after p_after_ci95 iterations_hit_before events_per_s_before events_per_s_after_ci95 \
         ratio ratio_ci95 difference difference_ci95 significant batch_correlation difference_ci95_independent \
         crn_width_over_independent per_iteration per_second paired_batches; do
  grep -q "\"$f\":" "$json" 2>/dev/null || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "compare.json has every field"; else bad "compare.json lacks:$missing"; fi
if ls "$tmp/j2" | grep -q '\.tmp$'; then bad "a .tmp file was left behind"; else ok "no .tmp file left"; fi
# The window:w per-iteration row: significant, ratio interval above 1, CRN narrower than independent.
row=$(awk -F, '$2 == "window:w" && $3 == "p_iteration_hit"' "$tmp/j2/compare.csv" 2>/dev/null)
if [ -n "$row" ] && echo "$row" | awk -F, '{ exit !($18 == "true" && $13 > 1 && $24 > 0 && $24 < 1) }'; then
  ok "the longer window is significantly worse, CRN interval narrower: $(echo "$row" | cut -d, -f12-14,24)"
else
  bad "window:w row: $row"
fi
"$racewin" compare "${args[@]}" --jobs 1 --out "$tmp/j1" >/dev/null 2>"$tmp/err"
if cmp -s "$tmp/j1/compare.json" "$json" && cmp -s "$tmp/j1/compare.csv" "$tmp/j2/compare.csv"; then
  ok "--jobs 1 and --jobs 2 write identical files"
else
  bad "--jobs 1 and --jobs 2 differ"
fi
"$racewin" compare "${args[@]}" --no-independent --out "$tmp/ni" >/dev/null 2>"$tmp/err"
if [ $? -eq 0 ] && ! grep -q crn_width_over_independent "$tmp/ni/compare.json"; then
  ok "--no-independent skips the independent run"
else
  bad "--no-independent"
fi

expect() {  # expect NAME CODE PATTERN ARGS...: exit CODE, and for 1 one stderr line matching PATTERN
  local name=$1 code=$2 pattern=$3
  shift 3
  "$racewin" compare "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ $got -ne "$code" ]; then bad "$name: exit $got, expected $code"; return; fi
  if [ "$code" -eq 1 ] && { [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -Eq -- "$pattern" "$tmp/err"; }; then
    bad "$name: stderr does not match $pattern"
    return
  fi
  ok "$name"
}
expect "a bad --set-after key exits 1 naming it" 1 "--set-after threads.owner.pth" \
  "$tmp/sc.yaml" --set-after threads.owner.pth=x.yaml --time 1ms -q
expect "a --set-after without = exits 2 (a bad command line)" 2 "--set-after nonsense.*KEY=VALUE" "$tmp/sc.yaml" --set-after nonsense -q
expect "a case on one side only exits 1 naming it" 1 "case 'c' is in .*sc.yaml but not in" \
  "$tmp/sc.yaml" "$tmp/other.yaml" --time 1ms -q
expect "an unknown --hazard exits 1" 1 "--hazard nope" "$tmp/sc.yaml" --hazard nope -q
expect "--batches 1 is a usage error" 2 "" "$tmp/sc.yaml" --batches 1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
