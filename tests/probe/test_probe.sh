#!/usr/bin/env bash
# racewin-probe (validation/probe/racewin-probe.c, docs/probe.md), functionally: it builds on its
# own from the one file, a --quick run writes a well-formed file whose figures agree with each
# other, the race part tells a wide window from a narrow one, bad options get one line and exit 2,
# and Ctrl-C writes what was measured. Nothing here depends on how fast or quiet the machine is,
# except the two race figures, far from their limits (the test runs alone: RUN_SERIAL).
# Usage: test_probe.sh PROBE_BINARY   (from the source root)
set -u
probe=${1:?usage: test_probe.sh PROBE_BINARY}
src=validation/probe/racewin-probe.c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/  /' "$tmp/err" 2>/dev/null | head -8; }

# One file, no dependencies: what a user does on another machine.
cc -O2 -pthread -std=c11 -Wall -Wextra -Werror -o "$tmp/probe" "$src" 2>"$tmp/err" \
  && ok "builds on its own: cc -O2 -pthread $src" || bad "standalone build"

"$probe" --quick -q --race 5000:200,100:100000 -o "$tmp/p.json" 2>"$tmp/err" && [ -f "$tmp/p.json" ] \
  && ok "--quick run writes its file" || bad "--quick run"
[ ! -e "$tmp/p.json.part" ] && ok "no .part file left" || bad "p.json.part left behind"

/usr/bin/python3 - "$tmp/p.json" >"$tmp/err" 2>&1 <<'PY' && ok "the file is well-formed and its figures agree" || bad "file checks"
import json, sys
d = json.load(open(sys.argv[1]))
fails = []
def check(cond, what):
    if not cond: fails.append(what)
check(d["format"] == "racewin-probe/1", "format")
check(d["interrupted"] is False, "not interrupted")
m = d["machine"]
for k in ("arch", "kernel", "cpu_model", "hypervisor", "cpus_online", "kernel_config"):
    check(k in m, f"machine.{k}")
check(d["clock"]["read_ns"] > 0 and d["work_loops_per_ns"] > 0, "clock and work calibrated")
thr = d["stalls"]["threshold_ns"]
records = d["stalls"]["alone"] + d["stalls"].get("together", {}).get("cpus", [])
check(len(d["stalls"]["alone"]) == len(m["cpus_allowed"]), "one alone record per allowed CPU")
for r in records:
    s, l = r["start_ns"], r["len_ns"]
    check(len(s) == len(l) and r["gaps"] == len(l) + r["gaps_not_listed"], f"cpu {r['cpu']}: gap counts")
    check(all(x > thr for x in l), f"cpu {r['cpu']}: every gap above the threshold")
    check(all(a < b for a, b in zip(s, s[1:])), f"cpu {r['cpu']}: gaps in time order")
    check(sum(l) <= r["gap_ns"] <= r["spun_ns"], f"cpu {r['cpu']}: time in gaps within the time spun")
    check(0.15e9 <= r["spun_ns"] <= 0.2e9 + 0.1e9, f"cpu {r['cpu']}: spun for --quick's 0.2 s")
def series(name, s, cap):
    check(s["count"] > 0, f"{name}: measured")
    check(sum(c for _, c in zip(s["hist"][::2], s["hist"][1::2])) == s["count"], f"{name}: histogram holds every value")
    check(s["min_ns"] <= s["mean_ns"] <= s["max_ns"], f"{name}: min <= mean <= max")
    check(len(s["sample_ns"]) == min(cap, s["count"]), f"{name}: reservoir size")
    check(all(s["min_ns"] <= x <= s["max_ns"] for x in s["sample_ns"]), f"{name}: samples within min..max")
cap = d["settings"]["samples"]
p = d["paths"]
for part in ("alone", "with_shootdown"):
    check("error" not in p[part], f"{part}: madvise succeeded")
    for k in ("madvise_present_ns", "madvise_empty_ns", "write_fault_ns"):
        series(f"{part}.{k}", p[part][k], cap)
check(p["write_alone"]["errors"] == 0, "write_alone: no errors")
series("write_alone", p["write_alone"]["iteration_ns"], cap)
dc = p["dirtyc0w_child"]
for k in ("madvise_loop", "write_loop"):
    check(dc[k]["errors"] == 0, f"{k}: no errors ({dc[k].get('first_error')})")
    series(k, dc[k]["iteration_ns"], cap)
check(dc["file_unchanged"] is True, "the file behind the private mapping is unchanged (a fixed kernel)")
wide, narrow = d["race"]["runs"]
for r in (wide, narrow):
    check(0 <= r["hits"] <= r["windows"] and r["hits"] <= r["checks_in_open_window"] <= r["checks"], "race counts")
    check(r["long_windows_hit"] <= r["long_windows"] and len(r["long_len_ns"]) == r["long_windows"] - r["long_windows_not_listed"], "long windows")
    check(all(x > r["long_window_ns"] for x in r["long_len_ns"]), "long windows above their bound")
    series("window_length_ns", r["window_length_ns"], cap)
    check(r["window_length_ns"]["count"] == r["windows"], "every window's length counted")
# W = 5 us checked every ~0.2 us is hit nearly always; W = 0.1 us every 100 us about once in 1000.
check(wide["p_hit"] > 0.9, f"wide window hit nearly always (p_hit {wide['p_hit']})")
check(narrow["p_hit"] < 0.05, f"narrow window hit rarely (p_hit {narrow['p_hit']})")
print("\n".join(fails))
sys.exit(1 if fails else 0)
PY

# Bad input: one line naming the option and what was expected, exit 2, no file.
expect_refusal() {  # expect_refusal TEXT ARGS...
  local text=$1; shift
  "$probe" -q -o "$tmp/bad.json" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$text" "$tmp/err" && [ ! -e "$tmp/bad.json" ]; then
    ok "refused: $* ($(cat "$tmp/err"))"
  else bad "not refused as expected (exit $rc): $*"; fi
}
expect_refusal "--race 0:5: expected W:G" --race 0:5
expect_refusal "--race 100: expected W:G" --race 100
expect_refusal "--parts stall,paths: expected" --parts stall,paths
expect_refusal "--cpus 0,0: expected two different" --cpus 0,0
expect_refusal "--sleep 0: expected" --sleep 0
expect_refusal "--stall-seconds -1: expected seconds" --stall-seconds -1
expect_refusal "--samples 1e3: expected a whole number" --samples 1e3
expect_refusal "--frobnicate: not an option" --frobnicate
expect_refusal "--out: expected a value" --out
"$probe" -q --quick --parts race -o /nonexistent-dir/p.json >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "cannot write /nonexistent-dir/p.json.part" "$tmp/err" && ok "unwritable --out refused" || bad "unwritable --out"

# The wakeup part: a sleep of --sleep ns again and again on CPU A, each one's lateness counted
# (never negative: clock_nanosleep sleeps at least as long as asked).
if "$probe" -q --parts wakeup --wakeup-seconds 0.3 --sleep 20000 -o "$tmp/wake.json" 2>"$tmp/err" && /usr/bin/python3 -c "
import json, sys
w = json.load(open(sys.argv[1]))['wakeup']
late = w['late']
assert w['sleep_ns'] == 20000 and late['count'] > 10, w
assert late['min_ns'] >= 0 and all(v >= 0 for v in late['sample_ns']) and len(late['sample_ns']) == min(late['count'], 5000)
# 0.3 s of sleeps of 20 us each late by its own lateness: their total fits in the part's time
assert late['count'] * 20000 + late['mean_ns'] * late['count'] <= 0.4e9, late
" "$tmp/wake.json" 2>"$tmp/err"; then ok "wakeup: sleeps counted with their lateness"; else bad "wakeup part"; fi

# Ctrl-C: the part under way ends, the file is written with what was measured, exit 130.
"$probe" -q --parts stalls,race --stall-seconds 60 -o "$tmp/int.json" 2>"$tmp/err" &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
rc=$?
/usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
a = d['stalls']['alone']
assert d['interrupted'] is True and len(a) == 1 and a[0]['spun_ns'] < 5e9 and 'race' not in d, d.keys()
" "$tmp/int.json" 2>>"$tmp/err" && [ $rc -eq 130 ] && ok "Ctrl-C writes the measured part, marked interrupted, exit 130" || bad "Ctrl-C (exit $rc)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
