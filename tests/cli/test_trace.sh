#!/usr/bin/env bash
# The SimGrid engine writes a Paje trace of one case: the vCPUs of that case as containers, and
# their speed (busy, stolen) over time as variables. Usage: test_trace.sh RACEWIN (from the source root)
set -u
racewin=${1:?usage: test_trace.sh path/to/racewin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}
"$racewin" run configs/dirtyc0w_child.yaml --engine simgrid --case s390x_zvm_v5.9-rc4 --time 50us \
  --trace "$tmp/t.paje" -q >/dev/null
check "racewin exits 0 with --trace" test $? -eq 0
check "the trace is a Paje file" grep -q "%EventDef PajeDefineContainerType" "$tmp/t.paje"
check "it has a container per vCPU of the case" grep -q '"vcpu1"' "$tmp/t.paje"
check "and none for vCPUs the case does not have" bash -c "! grep -q '\"vcpu2\"' '$tmp/t.paje'"
check "it records speed changes over time" test "$(grep -c '^[0-9]' "$tmp/t.paje")" -gt 50
"$racewin" run configs/dirtyc0w_child.yaml --time 50us --trace "$tmp/n.paje" -q >/dev/null 2>"$tmp/err"
check "--trace without --engine simgrid is refused (exit 2)" test $? -eq 2
check "and says why" grep -q "needs --engine simgrid" "$tmp/err"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
