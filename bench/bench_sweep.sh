#!/usr/bin/env bash
# Sweep throughput: the same 16-point sweep (configs/validation/steal_window.yaml, 20 M iterations a
# point, 2 to 5 s each) run by `racewin sweep` with --jobs 1 and --jobs 2, and on a Dask cluster
# of 2 local workers started beforehand (a cluster outlives its sweeps: its start-up, about 3 s,
# is reported apart) through analysis/racewin_analysis/dask_sweep.py; points per second of each
# and the ratios issue 16 judges: jobs 2 / jobs 1 (target >= 1.8 on 2 cores) and Dask / jobs 2
# (target >= 0.9). All three must write the same table.
# Usage: bench/bench_sweep.sh [RACEWIN]   (from the source root; default build/racewin)
set -euo pipefail
racewin=$(realpath "${1:-build/racewin}")
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
cat >"$tmp/s.yaml" <<YAML
sweep: bench_sweep
scenario: $(pwd)/configs/validation/steal_window.yaml
seed: 1
run: {iterations: 20000000, hazards: [window:race]}
axes:
  - {name: gap, key: hypervisor.steal.0.interarrival, template: "{exponential: {mean: \$}}", log: {from: 1us, to: 100us, points: 8}}
  - {name: len, key: hypervisor.steal.0.duration, template: "{exponential: {mean: \$}}", values: [1us, 5us]}
YAML
now() { date +%s.%N; }
t0=$(now); "$racewin" sweep "$tmp/s.yaml" --out "$tmp/j1" --jobs 1 -q >/dev/null; t1=$(now)
"$racewin" sweep "$tmp/s.yaml" --out "$tmp/j2" --jobs 2 -q >/dev/null; tj=$(now)
port=$(( 20000 + RANDOM % 20000 ))
(cd "$tmp" && DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0 exec dask scheduler --host 127.0.0.1 --port $port --dashboard-address 127.0.0.1:0 >/dev/null 2>&1) &
pids+=($!)
for w in 1 2; do
  (cd "$tmp" && exec dask worker tcp://127.0.0.1:$port --nthreads 1 --no-nanny --dashboard-address 127.0.0.1:0 >/dev/null 2>&1) &
  pids+=($!)
done
ts=$(now)
/usr/bin/python3 -c "from distributed import Client; c = Client('tcp://127.0.0.1:$port', timeout=30); c.wait_for_workers(2, timeout=30); c.close()"
tc=$(now)
t2=$(now)
PYTHONPATH=analysis /usr/bin/python3 -m racewin_analysis.dask_sweep "$tmp/s.yaml" --out "$tmp/dask" --racewin "$racewin" \
  --scheduler tcp://127.0.0.1:$port -q >/dev/null; t3=$(now)
cmp -s "$tmp/j1/sweep.csv" "$tmp/j2/sweep.csv" && cmp -s "$tmp/j1/sweep.csv" "$tmp/dask/sweep.csv" || { echo "tables differ"; exit 1; }
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v s="$ts" -v e="$tc" -v j="$tj" 'BEGIN {
  printf "Dask cluster start-up (scheduler and 2 workers up): %.2f s\n", e - s;
  j1 = b - a; j2 = j - b; dk = d - c;
  printf "16 points: --jobs 1 %.2f s (%.2f points/s), --jobs 2 %.2f s (%.2f points/s), Dask 2 workers %.2f s (%.2f points/s)\n", j1, 16 / j1, j2, 16 / j2, dk, 16 / dk;
  printf "jobs 2 / jobs 1: %.2f   (target >= 1.8)\n", j1 / j2;
  printf "Dask / jobs 2:   %.2f   (target >= 0.9)\n", j2 / dk }'
