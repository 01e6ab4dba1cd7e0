#!/usr/bin/env bash
# racewin compare --rare-event force: both sides of configs/validation/stall_steal.yaml's p1e-6
# forced, the after side with steal three times as frequent. racewin exact gives P on both sides
# (closed form in the scenario's comment): each side's interval contains its exact P, the ratio's
# interval the exact ratio, and the change is significant; compare.json and compare.csv carry it.
# Refusals: a method compare cannot force, --batches or --no-independent with it, --rel-error
# without it, a --hazard no step can hit.
# Usage: test_compare_forced.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=${1:?usage: test_compare_forced.sh path/to/racewin}
cfg=configs/validation/stall_steal.yaml
[ -f "$cfg" ] || { echo "run from the source root (no $cfg)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/  stderr: /' "$tmp/err" | head -5; }
: >"$tmp/err"

# Scoped to the case: p1e-6 sets the steal interarrival on its own line, and an unscoped --set that
# replaces a case's own line is refused (issue 25).
after='p1e-6:hypervisor.steal.0.interarrival={exponential: {mean: 2500us}}'
"$racewin" exact "$cfg" --case p1e-6 -q --out "$tmp/xb" >/dev/null 2>"$tmp/err" &&
  "$racewin" exact "$cfg" --case p1e-6 --set "$after" -q --out "$tmp/xa" >/dev/null 2>>"$tmp/err" ||
  bad "racewin exact of both sides"
exact_p() { /usr/bin/python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["cases"][0]
print([h["p_iteration_hit"] for h in c["hazards"] if h["hazard"] == "window:race"][0])' "$1"; }
pb=$(exact_p "$tmp/xb/exact.json") pa=$(exact_p "$tmp/xa/exact.json")
echo "exact: before $pb, after $pa"

start=$(date +%s)
"$racewin" compare "$cfg" --case p1e-6 --set-after "$after" --hazard window:race --rare-event force \
  --rel-error 0.1 --iterations 200000 --seed 1 --jobs 2 -q --out "$tmp/c" >"$tmp/out" 2>"$tmp/err"
rc=$? took=$(($(date +%s) - start))
if [ $rc -eq 0 ]; then ok "compare --rare-event force exits 0 (${took} s)"; else bad "compare --rare-event force exited $rc"; fi
grep -q "both sides forced" "$tmp/out" && grep -q "independent runs" "$tmp/out" &&
  ok "the table says both sides are forced and what the intervals assume" || bad "table: $(head -3 "$tmp/out")"
# compare.csv: before 6-8, after 9-11, ratio 12-14, difference 15-17, significant 18.
row=$(awk -F, '$2 == "window:race"' "$tmp/c/compare.csv" 2>/dev/null)
echo "$row"
if [ -n "$row" ] && echo "$row" | awk -F, -v pb="$pb" -v pa="$pa" '{
     r = pa / pb
     exit !($7 <= pb && pb <= $8 && $10 <= pa && pa <= $11 && $13 <= r && r <= $14 && $18 == "true" && $13 > 1) }'; then
  ok "each side's interval contains racewin exact's P, the ratio's the exact ratio $(/usr/bin/python3 -c "print(f'{$pa/$pb:.3g}')"), significant"
else
  bad "forced comparison against exact (before $pb, after $pa): $row"
fi
missing=""
for f in rare_event ratio_ci95 difference_ci95 significant effective_hits unreliable method; do
  grep -q "\"$f\":" "$tmp/c/compare.json" 2>/dev/null || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "compare.json has the forced fields"; else bad "compare.json lacks:$missing"; fi

expect() {  # expect NAME CODE PATTERN ARGS...: exit CODE and one stderr line matching PATTERN
  local name=$1 code=$2 pattern=$3
  shift 3
  "$racewin" compare "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ $got -ne "$code" ]; then bad "$name: exit $got, expected $code"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -Eq -- "$pattern" "$tmp/err"; then bad "$name: stderr does not match $pattern"; return; fi
  ok "$name"
}
expect "--rare-event with a method compare cannot force exits 2" 2 "force" "$cfg" --rare-event split -q
expect "--rare-event force:0 exits 2" 2 "force" "$cfg" --rare-event force:0 -q
expect "--batches with --rare-event exits 2" 2 "--batches" "$cfg" --rare-event force --batches 5 -q
expect "--no-independent with --rare-event exits 2" 2 "--no-independent" "$cfg" --rare-event force --no-independent -q
expect "--rel-error without --rare-event exits 2" 2 "--rare-event" "$cfg" --rel-error 0.1 -q
expect "a --hazard no step can hit exits 1" 1 "cannot be hit" configs/dirtyc0w_child.yaml --case s390x_zvm_v5.9-rc4 \
  --hazard window:wp_reuse_page_locked_unreferenced --rare-event force -q
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
