#!/usr/bin/env bash
# Same configuration and seed, any --jobs: byte-identical result files.
# Usage: test_jobs_reproducible.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=${1:?usage: test_jobs_reproducible.sh path/to/racewin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
for jobs in 1 2 3; do
  "$racewin" run configs/dirtyc0w_child.yaml --time 300ms --replications 4 --seed 11 --jobs $jobs -q \
    --out "$tmp/j$jobs" >/dev/null || { echo "FAIL racewin exited $? with --jobs $jobs"; failed=$((failed + 1)); }
done
for jobs in 2 3; do
  for f in results.json hazards.csv; do
    if cmp -s "$tmp/j1/$f" "$tmp/j$jobs/$f"; then
      passed=$((passed + 1)); echo "ok   $f identical with --jobs 1 and --jobs $jobs"
    else
      failed=$((failed + 1)); echo "FAIL $f differs between --jobs 1 and --jobs $jobs"
      diff "$tmp/j1/$f" "$tmp/j$jobs/$f" | head -10
    fi
  done
done
# A different seed must change the results, or the comparison above proves nothing.
"$racewin" run configs/dirtyc0w_child.yaml --time 300ms --replications 4 --seed 12 -q --out "$tmp/s12" >/dev/null
if cmp -s "$tmp/j1/results.json" "$tmp/s12/results.json"; then
  failed=$((failed + 1)); echo "FAIL another seed gave the same results"
else
  passed=$((passed + 1)); echo "ok   another seed gives other results"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
