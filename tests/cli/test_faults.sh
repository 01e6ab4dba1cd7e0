#!/usr/bin/env bash
# Faults and limits from the reliability review (F3-F11), each with the review's reproducer: every
# one ends in a message and an exit code (1, or 3 for a livelock), never a signal, and no output
# file is ever left cut short or overwritten without --force.
#   F3 a full disk (a 4 KiB tmpfs, skipped if it cannot be mounted; /dev/full always)
#   F4 an --out under a file or read-only       F5 valid JSON that is not an object
#   F6 merge/sweep into a directory that holds something   F7 a grid of 10^12 points
#   F8 exact out of memory, and what --max-states suggests  F9 an edited point file
#   F10 a file name over 255 bytes              F11 a near-zero cost: a livelock, exit 3
# Usage: test_faults.sh RACEWIN   (run from the source root, as ctest does)
set -u
racewin=$(realpath "${1:?usage: test_faults.sh path/to/racewin}")
root=$(pwd)
[ -f "$root/configs/validation/steal_window.yaml" ] || { echo "run from the source root"; exit 2; }
tmp=$(mktemp -d)
full=$tmp/full
trap 'mountpoint -q "$full" && umount "$full"; rm -rf "$tmp"' EXIT
cp -r "$root/configs" "$root/models" "$tmp/"
cd "$tmp" || exit 2
passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1 (exit $rc)"; sed 's/^/  stderr: /' err | head -8; }
skip() { skipped=$((skipped + 1)); echo "skip $1"; }
rw() { "$racewin" "$@" >out 2>err; rc=$?; }
# expect NAME CODE REGEX: the last command exited CODE (never a signal) and stderr matches REGEX.
expect() { if [ "$rc" -eq "$2" ] && grep -Eq -- "$3" err; then pass "$1"; else fail "$1"; fi; }
sw=configs/validation/steal_window.yaml

# A tiny sweep of two points, and a copy of its finished directory to spoil.
cat >s.yaml <<YAML
sweep: faults
scenario: $tmp/$sw
seed: 2
run: {iterations: 2000, hazards: [window:race]}
axes:
  - {name: gap, key: hypervisor.steal.0.interarrival, template: "{exponential: {mean: \$}}", values: [1us, 10us]}
YAML
sed 's/seed: 2/seed: 3/' s.yaml >s3.yaml
rw sweep s.yaml --out ref -q
[ "$rc" -eq 0 ] || fail "the reference sweep"

# F3: a full disk. exact.json, results.json, a sweep: exit 1 naming the file, nothing cut short left.
if mkdir -p "$full" && mount -t tmpfs -o size=4k tmpfs "$full" 2>/dev/null; then
  rw exact $sw --out "$full/e"
  expect "F3 exact --out on a full disk: exit 1" 1 "cannot write .*exact.json: No space left"
  [ ! -e "$full/e/exact.json" ] && [ -z "$(ls "$full/e")" ] && pass "F3 no exact.json, no .tmp left" || fail "F3 files left: $(ls "$full/e")"
  rw run $sw --iterations 1000 --out "$full/r"
  expect "F3 run --out on a full disk: exit 1" 1 "cannot write .*: No space left"
  [ -z "$(find "$full/r" -name '*.tmp')" ] && pass "F3 run leaves no .tmp" || fail "F3 run left $(ls "$full/r")"
  rw sweep s.yaml --out "$full/s" -q
  expect "F3 sweep --out on a full disk: exit 1" 1 "cannot write .*: No space left"
  umount "$full"
else
  skip "F3 full disk: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)"
fi
rw run $sw --case steal_5_of_7 --time 100us --timeline-text /dev/full
expect "F3 --timeline-text /dev/full: exit 1" 1 "cannot write /dev/full: No space left"
[ -c /dev/full ] && pass "F3 /dev/full is still a device" || fail "F3 /dev/full replaced"

# F4: --out under a file, and read-only.
touch afile
rw exact $sw --out afile/e
expect "F4 exact --out under a file: exit 1" 1 "^racewin: --out: cannot create directory afile/e: Not a directory"
rw sweep s.yaml --out afile/s -q
expect "F4 sweep --out under a file: exit 1" 1 "afile/s.*Not a directory"
rw merge ref --out afile/x
expect "F4 merge --out under a file: exit 1" 1 "afile/x.*Not a directory"
rw run $sw --iterations 1000000000 --out afile/r
expect "F4 run --out under a file: exit 1 before the run" 1 "^racewin: --out: cannot create directory afile/r"
mkdir ro && chmod 555 ro && chmod 755 "$tmp"
if setpriv --reuid=65534 --regid=65534 --clear-groups "$racewin" --version >/dev/null 2>&1; then
  setpriv --reuid=65534 --regid=65534 --clear-groups "$racewin" exact $sw --out ro/e >out 2>err; rc=$?
  expect "F4 exact --out read-only: exit 1" 1 "ro/e: Permission denied"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$racewin" sweep s.yaml --out ro/s -q >out 2>err; rc=$?
  expect "F4 sweep --out read-only: exit 1" 1 "ro/s: Permission denied"
else
  skip "F4 read-only --out: cannot run racewin as uid 65534 here"
fi

# F5: valid JSON that is not an object.
cp -r ref p5 && echo '[]' >p5/points/000001.json
rw sweep s.yaml --out p5 -q
expect "F5 point file [] : rerun, the file named" 0 "p5/points/000001.json: not a JSON object"
cmp -s ref/sweep.csv p5/sweep.csv && pass "F5 the rerun gives the reference table" || fail "F5 table differs"
cp -r ref h5 && echo '[]' >h5/sweep.json
rw sweep s.yaml --out h5 -q
[ "$rc" -eq 0 ] && cmp -s ref/sweep.json h5/sweep.json && pass "F5 sweep.json []: rewritten" || fail "F5 sweep.json []"
cp -r ref m5 && echo '{}' >m5/sweep.json
rw merge m5 ref --out m5out
expect "F5 merge, sweep.json {}: exit 1 naming it" 1 "m5/sweep.json: not a sweep.json racewin wrote"
rw sweep s.yaml --out sh1 --shard 1/2 -q && rw sweep s.yaml --out sh2 --shard 2/2 -q
echo '[1]' >sh2/points/000001.json
rw merge sh1 sh2 --out n5out
expect "F5 merge, point [1]: exit 1 naming it" 1 "sh2/points/000001.json: not a JSON object"
[ ! -e n5out ] && pass "F5 ... and writes nothing" || fail "F5 merge wrote n5out"

# F6: merge and sweep never overwrite a directory that holds something, unless --force.
rw sweep s3.yaml --out other -q
sum() { find "$1" -type f -exec md5sum {} + | sort | md5sum; }
before=$(sum other)
rw merge ref --out other
expect "F6 merge into another sweep's directory: exit 1" 1 "other holds files: .*--force"
[ "$(sum other)" = "$before" ] && pass "F6 ... and it is untouched" || fail "F6 other was changed"
rw merge ref --out other --force
[ "$rc" -eq 0 ] && cmp -s ref/sweep.csv other/sweep.csv && pass "F6 merge --force replaces it" || fail "F6 merge --force"
rw sweep s3.yaml --out o3 -q && rw merge ref o3 --out new6
expect "F6 a refused merge: exit 1" 1 "another sweep"
[ ! -e new6 ] && pass "F6 ... writes nothing" || fail "F6 refused merge wrote $(ls new6)"
mkdir runout && echo '{}' >runout/results.json
rw sweep s.yaml --out runout -q
expect "F6 sweep into a directory of other files: exit 1" 1 "not a sweep's directory .*results.json.*--force"
rw sweep s.yaml --out runout -q --force
[ "$rc" -eq 0 ] && [ -f runout/results.json ] && pass "F6 sweep --force writes beside them" || fail "F6 sweep --force"

# F7 and F8 run under a 4 GiB address-space limit. A sanitizer build (the asan preset) cannot
# start under one: AddressSanitizer reserves terabytes of shadow address space at start-up.
limit=4194304
(ulimit -v $limit; "$racewin" --version >/dev/null 2>&1) || limit=""

# F7: two axes at their maximum: refused before anything is allocated.
sed -e 's/values: \[1us, 10us\]}/log: {from: 1us, to: 1ms, points: 1000000}}/' s.yaml >big.yaml
echo '  - {name: len, key: hypervisor.steal.0.duration, template: "{exponential: {mean: $}}", log: {from: 1us, to: 5us, points: 1000000}}' >>big.yaml
(ulimit -v ${limit:-unlimited}; "$racewin" sweep big.yaml --out big --list >out 2>err); rc=$?
expect "F7 a grid of 10^12 points: exit 1" 1 "big.yaml:[0-9]+:[0-9]+: .*1000000 x 1000000 points has more than the 1000000"

# F8: exact out of memory: a message with the states reached, never std::terminate.
if [ -n "$limit" ]; then
  (ulimit -v $limit; "$racewin" exact $sw --set machine.pages=16777216 >out 2>err); rc=$?
  expect "F8 exact with 16777216 pages under 4 GiB: exit 1" 1 "stopped after [0-9]+ states: memory|out of memory .* after [0-9]+ states"
else
  skip "F8 exact out of memory: this racewin cannot run under ulimit -v (a sanitizer build); it would take the machine's memory"
fi
rw exact configs/dirtyc0w_child.yaml --case s390x_zvm_v5.9-rc4 --exponential --max-states 3000 \
  --set kernel.config=production --set kernel.task=null
expect "F8 --max-states: exit 1 with the states" 1 "stopped after 3000 states"
grep -Eq "about [0-9.]+ [KMG]?B a state" err && pass "F8 ... how much a state takes" || fail "F8 bytes per state"
grep -q "hypervisor.steal=\[\]" err && grep -q "machine.pages=16" err && grep -q -- "--reachable" err &&
  pass "F8 ... and the reductions that apply" || fail "F8 reductions"
rw exact configs/validation/competing_clocks.yaml --max-states 1
expect "F8 no steal, no interrupts: not suggested" 1 "stopped after 1 states"
grep -q "steal=\|interrupts=" err && fail "F8 suggests removing what the case lacks" || pass "F8 only the reductions that apply"

# F9: a point file edited with its fingerprint kept: found out and run again.
cp -r ref p9
python3 - <<'PY'
import json; f = 'p9/points/000000.json'; j = json.load(open(f))
j['cases'][0]['hazards'][0]['p'] = 0.5; json.dump(j, open(f, 'w'), indent=1)
PY
rw sweep s.yaml --out p9 -q
expect "F9 an edited point: named and run again" 0 "p9/points/000000.json: edited since it was written"
cmp -s ref/sweep.csv p9/sweep.csv && pass "F9 sweep.csv is the reference's" || fail "F9 sweep.csv carries the edit"

# F10: a file name over 255 bytes: the scenario's file:line, exit 1.
sed -i "s|^arch: ../../models/arch/validation.yaml|arch: $(printf 'x%.0s' {1..300})|" $sw
rw validate $sw
expect "F10 a file name of 300 bytes: file:line, exit 1" 1 "steal_window.yaml:34:[0-9]+: .*File name too long"
cp "$root/$sw" $sw

# F11: a near-zero cost: the run is stopped as a livelock, exit 3, threads and steps named.
cc=configs/validation/competing_clocks.yaml
sed -i 's/arch.costs.clock_b: {exponential: {mean: 1us}}/arch.costs.clock_b: 0.0000000001/' $cc
# (Should the loader come to refuse durations below the clock's resolution, this scenario is refused
# instead, exit 1 naming clock_b: the run-time detector is then tested by tests/test_deadlocks.cpp.)
timeout 300 "$racewin" validate $cc >out 2>err; rc=$?
if [ "$rc" -eq 1 ] && grep -q "clock_b" err; then
  pass "F11 a 1e-10 ns cost: refused by the loader, exit 1"
else
  timeout 300 "$racewin" run $cc --time 1ms -q >out 2>err; rc=$?
  [ "$rc" -eq 3 ] && grep -q "livelock at t=" out && grep -q "owner (vCPU 0) at" out &&
    pass "F11 a 1e-10 ns cost: livelock, exit 3" || fail "F11 livelock: $(grep -h livelock out err | head -3)"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
