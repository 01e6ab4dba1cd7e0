#!/usr/bin/env bash
# racewin run --timeline, --timeline-text and --first-hit from the command line: the files, the
# text on stdout, and the refusals. Usage: test_timeline.sh RACEWIN (from the source root)
set -u
racewin=${1:?usage: test_timeline.sh path/to/racewin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}
sc=configs/dirtyc0w_child.yaml
steal='hypervisor.steal={model: renewal, interarrival: {exponential: {mean: 30us}}, duration: {lognormal: {median: 5us, sigma: 0.3}}}'

"$racewin" run $sc --case x86_64_kvm_nopv_v5.9-rc4 --time 200us --set "$steal" -q \
  --timeline "$tmp/t.json" --timeline-text - >"$tmp/out" 2>"$tmp/err"
check "--timeline exits 0" test $? -eq 0
check "the file is trace-event JSON" /usr/bin/python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert t["displayTimeUnit"] == "ns" and len(t["traceEvents"]) > 100
assert {e["ph"] for e in t["traceEvents"]} >= {"M", "B", "E", "i", "s", "f"}' "$tmp/t.json"
check "one event per line" test "$(wc -l <"$tmp/t.json")" -gt 100
check "--timeline-text - prints ftrace-like lines" grep -qE '^ +[0-9]+\.[0-9]{3}  cpu1  writer +[a-z_]+' "$tmp/out"
check "with IPIs and steal" bash -c "grep -q 'sends a TLB-flush IPI to cpu0' '$tmp/out' && grep -q 'steal begins' '$tmp/out'"

"$racewin" run $sc --time 200us --timeline "$tmp/x.json" -q >/dev/null 2>"$tmp/err"
check "--timeline with several cases is refused (exit 2)" test $? -eq 2
check "and says why" grep -q "one run of one case" "$tmp/err"
"$racewin" run $sc --case s390x_zvm_v5.9-rc4 --time 200us --replications 2 --timeline-text - -q >/dev/null 2>"$tmp/err"
check "--timeline-text with replications is refused (exit 2)" test $? -eq 2
"$racewin" run $sc --case s390x_zvm_v5.9-rc4 --time 200us --rare-event force --timeline "$tmp/x.json" -q >/dev/null 2>"$tmp/err"
check "--timeline with --rare-event is refused (exit 2)" test $? -eq 2
"$racewin" run $sc --case s390x_zvm_v5.9-rc4 --timeline "$tmp/x.json" -q >/dev/null 2>"$tmp/err"
check "--timeline of the scenario's 90 s is refused (exit 2)" test $? -eq 2
check "asking for a short --time" grep -q "at most 1s" "$tmp/err"
"$racewin" run $sc --case s390x_zvm_v5.9-rc4 --time 100us --timeline /dev/null/t.json -q >/dev/null 2>"$tmp/err"
check "an unwritable --timeline is an error (exit 1)" test $? -eq 1
check "naming the file" grep -q "/dev/null/t.json" "$tmp/err"

"$racewin" run $sc --case s390x_zvm_v5.9-rc4 --case s390x_zvm_v5.9-fixed --time 150ms --set "$steal" -q \
  --first-hit "$tmp/hits" >"$tmp/out" 2>"$tmp/err"
check "--first-hit exits 0" test $? -eq 0
f="$tmp/hits/s390x_zvm_v5.9-rc4/first_hit_bad_page_state"
check "it writes the buggy case's first bad_page_state" test -s "$f.json" -a -s "$f.txt"
check "the text shows the writer stolen and the hazard" bash -c "grep -q 'cpu1  -        steal begins' '$f.txt' && grep -q 'HAZARD bad_page_state' '$f.txt'"
check "the fixed case has no first hit" test ! -e "$tmp/hits/s390x_zvm_v5.9-fixed"
check "and the run says so" grep -q "s390x_zvm_v5.9-fixed: 0 first hit(s)" "$tmp/out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
