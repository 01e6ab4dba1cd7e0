#!/usr/bin/env bash
# racewin calibrate from the command line: the shipped measurement
# (models/hypervisor/measured/*/probe.json) fitted again gives the shipped profiles exactly (they
# are the command's output, not edited by hand; the version line aside), the report names what was
# found, and a bad file gets one line naming the file and the key, exit 1.
# Usage: test_calibrate.sh RACEWIN   (from the source root)
set -u
racewin=${1:?usage: test_calibrate.sh RACEWIN}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/  /' "$tmp/err" 2>/dev/null | head -8; }

for dir in models/hypervisor/measured/*/; do
  name=$(basename "$dir")
  mkdir -p "$tmp/$name" && cp "$dir/probe.json" "$tmp/$name/probe.json"
  if "$racewin" calibrate "$tmp/$name/probe.json" --out "$tmp/$name" >"$tmp/$name/report.txt" 2>"$tmp/err"; then
    ok "$name: calibrate ran"
  else bad "$name: calibrate"; continue; fi
  for f in hypervisor.yaml arch_overlay.yaml; do
    if diff <(grep -v "Fitted by racewin calibrate" "$dir/$f") <(grep -v "Fitted by racewin calibrate" "$tmp/$name/$f") >"$tmp/err"; then
      ok "$name: $f is calibrate's own output"
    else bad "$name: $f differs from what calibrate writes now"; fi
  done
  diff <(sed '1d;$d' "$dir/report.txt") <(sed '1d;$d' "$tmp/$name/report.txt") >"$tmp/err" && ok "$name: report.txt as calibrate prints it" || bad "$name: report.txt differs"
  grep -q "periodic, the guest's tick" "$tmp/$name/report.txt" && ok "$name: the tick found" || bad "$name: no tick in the report"
done

expect_error() {  # expect_error TEXT FILE-CONTENT
  printf '%s' "$2" >"$tmp/bad.json"
  "$racewin" calibrate "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$tmp/bad.json" "$tmp/err" && grep -q -- "$1" "$tmp/err"; then
    ok "refused: $(cat "$tmp/err")"
  else bad "not refused as expected (exit $rc): $1"; fi
}
expect_error "not JSON" '{"format": '
expect_error "key format: expected racewin-probe/1" '{"format": "something/2"}'
expect_error "key name: missing" '{"format": "racewin-probe/1"}'
good=$(ls models/hypervisor/measured/*/probe.json | head -1)
/usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1])); d['stalls']['alone'][0]['len_ns'][3] = 'long'
json.dump(d, open(sys.argv[2], 'w'))" "$good" "$tmp/edited.json"
"$racewin" calibrate "$tmp/edited.json" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "key stalls.alone\[0\].len_ns: expected a list of numbers" "$tmp/err" && ok "a bad value names its key: $(cat "$tmp/err")" || bad "bad value in len_ns"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
