#!/usr/bin/env bash
# A sweep on a real Dask cluster: a dask-scheduler and two dask-worker processes on 127.0.0.1 run
# the points (analysis/racewin_analysis/dask_sweep.py); one worker is killed (SIGKILL) mid-sweep;
# the table and point files must equal a local `racewin sweep`'s. The cluster is stopped on exit,
# whatever happened.
# Usage: test_dask_sweep.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=$(cd "$(dirname "${1:?usage: test_dask_sweep.sh path/to/racewin}")" && pwd)/$(basename "$1")
here=$(pwd)
scenario=$here/configs/validation/steal_window.yaml
[ -f "$scenario" ] || { echo "run from the source root (no $scenario)"; exit 2; }
py=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  pkill -9 -f "127.0.0.1:$port" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# 8 points of about half a second each.
cat >"$tmp/s.yaml" <<YAML
sweep: dask_test
scenario: $scenario
seed: 5
run: {iterations: 4000000, hazards: [window:race]}
axes:
  - {name: gap, key: hypervisor.steal.0.interarrival, template: "{exponential: {mean: \$}}", log: {from: 1us, to: 100us, points: 4}}
  - {name: len, key: hypervisor.steal.0.duration, template: "{exponential: {mean: \$}}", values: [1us, 5us]}
YAML
"$racewin" sweep "$tmp/s.yaml" --out "$tmp/local" -q >/dev/null || fail "local run"

port=$(( 20000 + RANDOM % 20000 ))
cd "$tmp"  # the scheduler and workers write their scratch space here
dask scheduler --host 127.0.0.1 --port $port --dashboard-address 127.0.0.1:0 >"$tmp/scheduler.log" 2>&1 &
pids+=($!)
for w in 1 2; do
  dask worker tcp://127.0.0.1:$port --nthreads 1 --no-nanny --dashboard-address 127.0.0.1:0 --name "w$w" \
    --local-directory "$tmp/w$w" >"$tmp/worker$w.log" 2>&1 &
  pids+=($!)
done
worker1=${pids[1]}
$py - "$port" <<'PY' && pass "scheduler and two workers up" || fail "cluster did not come up"
import sys
from distributed import Client
c = Client(f"tcp://127.0.0.1:{sys.argv[1]}", timeout=30)
c.wait_for_workers(2, timeout=30)
c.close()
PY
cd "$here"
PYTHONPATH="$here/analysis" $py -m racewin_analysis.dask_sweep "$tmp/s.yaml" --out "$tmp/dask" --racewin "$racewin" \
  --scheduler tcp://127.0.0.1:$port -q >"$tmp/dask.log" 2>&1 &
sweep=$!
sleep 1.2
kill -9 "$worker1" && pass "killed worker 1 mid-sweep" || fail "could not kill worker 1"
wait $sweep && pass "the sweep finished on the remaining worker" || fail "dask sweep failed: $(cat "$tmp/dask.log")"
cmp -s "$tmp/local/sweep.csv" "$tmp/dask/sweep.csv" && diff -r -q "$tmp/local/points" "$tmp/dask/points" >/dev/null &&
  pass "the table and points equal the local run's" || fail "dask output differs from the local run"
grep -q "w2" "$tmp/scheduler.log" && pass "scheduler saw the workers" || true

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
