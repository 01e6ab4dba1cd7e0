#!/usr/bin/env bash
# Bad input and deadlocks as a user sees them from the command line:
#   - a rejected configuration: a non-zero exit (not a crash) and exactly one line on stderr,
#     "racewin: FILE:LINE:COLUMN: cause";
#   - a deadlocking path variant: exit 3, the deadlock reported with its vCPUs, locks and steps;
#   - the shipped scenario validates.
# Usage: test_cli_errors.sh RACEWIN   (run from the source root, as ctest does)
set -u

racewin=${1:?usage: test_cli_errors.sh path/to/racewin}
root=$(pwd)
models=$root/models
[ -f "$models/arch/x86_64.yaml" ] || { echo "run from the source root (no $models/arch/x86_64.yaml)"; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
out=$tmp/stdout
err=$tmp/stderr

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1: $2"
  echo "  exit: $rc"
  sed 's/^/  stdout: /' "$out" | head -20
  sed 's/^/  stderr: /' "$err" | head -20
}

# Runs racewin with the given arguments; sets rc and fills $out and $err.
rw() {
  "$racewin" "$@" >"$out" 2>"$err"
  rc=$?
}

# A rejected configuration: exit code 1..127 (not killed by a signal), nothing on stdout, exactly
# one line on stderr, which matches the extended regular expression $2.
expect_rejected() {
  local name=$1 pattern=$2
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then fail "$name" "expected a non-zero exit without a crash"; return; fi
  if [ -s "$out" ]; then fail "$name" "expected nothing on stdout"; return; fi
  if [ "$(wc -l <"$err")" -ne 1 ]; then fail "$name" "expected exactly one line on stderr"; return; fi
  if ! grep -Eq -- "$pattern" "$err"; then fail "$name" "stderr does not match: $pattern"; return; fi
  pass "$name"
}

scenario() {  # scenario FILE THREADS...: a scenario on the real x86_64 and bare-metal models
  local file=$1
  shift
  {
    printf 'scenario: cli_test\nrun:\n  time: 1ms\nmachine:\n  vcpus: 2\n  spinlocks: [lock_a, lock_b]\n'
    printf 'arch: %s\nhypervisor: %s\nthreads:\n' "$models/arch/x86_64.yaml" "$models/hypervisor/bare_metal.yaml"
    for t in "$@"; do printf '  %s\n' "$t"; done
  } >"$file"
}

lock_path() {  # lock_path FILE FIRST SECOND: take FIRST, then SECOND, release both
  printf 'path: %s_%s\nsteps:\n  - spin_lock: %s\n  - {work: hold, cost: 100ns}\n  - spin_lock: %s\n  - spin_unlock: %s\n  - spin_unlock: %s\n' \
    "$2" "$3" "$2" "$3" "$3" "$2" >"$1"
}

# --- rejected configurations ---------------------------------------------------------------------

scenario "$tmp/typo.yaml" "w: {vcpu: 0, path: $models/mm/gup_fast.yaml}"
sed -i 's/^machine:/machne:/' "$tmp/typo.yaml"   # line 4
rw validate "$tmp/typo.yaml"
expect_rejected "validate: typo'd scenario key" \
  "^racewin: $tmp/typo.yaml:4:[0-9]+: unknown key 'machne' \(did you mean 'machine'\?\)"

rw run -q "$tmp/typo.yaml"
expect_rejected "run: typo'd scenario key" "^racewin: $tmp/typo.yaml:4:[0-9]+: unknown key 'machne'"

printf 'path: p\nsteps:\n  - spin_lock: lock_a\n  - spin_lokc: lock_b\n  - spin_unlock: lock_a\n' >"$tmp/p.yaml"
scenario "$tmp/step.yaml" "w: {vcpu: 0, path: p.yaml}"
rw validate "$tmp/step.yaml"
expect_rejected "validate: unknown step in a path file" \
  "^racewin: $tmp/p.yaml:4:[0-9]+: unknown step 'spin_lokc' \(did you mean 'spin_lock'\?\)"

scenario "$tmp/ok.yaml" "w: {vcpu: 0, path: $models/mm/gup_fast.yaml}"
rw validate "$tmp/ok.yaml" --set run.time=fast
expect_rejected "validate: --set run.time=fast" "^racewin: --set run.time.*'fast'"

rw run -q "$tmp/ok.yaml" --time -5s
expect_rejected "run: --time -5s" "run.time.*cannot be negative"

printf 'scenario: x\nrun:\n  time: 1ms\n   seed: 2\n' >"$tmp/syntax.yaml"
rw validate "$tmp/syntax.yaml"
expect_rejected "validate: YAML syntax error" "^racewin: $tmp/syntax.yaml:4:[0-9]+: YAML syntax"

# --- deadlocks -----------------------------------------------------------------------------------

lock_path "$tmp/forward.yaml" lock_a lock_b
lock_path "$tmp/reverse.yaml" lock_b lock_a
scenario "$tmp/abba.yaml" "forward: {vcpu: 0, path: forward.yaml}" "reverse: {vcpu: 1, path: reverse.yaml}"

# The deadlock report: both threads with their vCPUs, the step each is stuck at with its file:line,
# and the lock each spins on.
expect_abba() {
  local name=$1 all=$tmp/all
  cat "$out" "$err" >"$all"
  if [ "$rc" -ne 3 ]; then fail "$name" "expected exit 3 (the run stopped on a failure)"; return; fi
  for want in "deadlock" \
              "forward (vCPU 0) at spin_lock(lock_b) [$tmp/forward.yaml:5:" \
              "reverse (vCPU 1) at spin_lock(lock_a) [$tmp/reverse.yaml:5:" \
              "spins on 'lock_b' held by reverse" \
              "spins on 'lock_a' held by forward"; do
    if ! grep -Fq -- "$want" "$all"; then fail "$name" "the output does not contain: $want"; return; fi
  done
  pass "$name"
}

rw run -q "$tmp/abba.yaml"
expect_abba "run: ABBA deadlock (native engine)"

rw run -q --engine simgrid "$tmp/abba.yaml"
expect_abba "run: ABBA deadlock (SimGrid engine)"

lock_path "$tmp/twice.yaml" lock_a lock_a
scenario "$tmp/self.yaml" "twice: {vcpu: 0, path: twice.yaml}"
rw run -q "$tmp/self.yaml"
if [ "$rc" -eq 3 ] && grep -q deadlock "$out" &&
   grep -Fq "twice (vCPU 0) at spin_lock(lock_a) [$tmp/twice.yaml:5:" "$out" &&
   grep -Fq "spins on 'lock_a' held by twice" "$out"; then
  pass "run: self-deadlock"
else
  fail "run: self-deadlock" "expected exit 3 and the deadlock of 'twice' on lock_a at twice.yaml:5"
fi

# --- the shipped scenario ------------------------------------------------------------------------

rw validate configs/dirtyc0w_child.yaml
if [ "$rc" -eq 0 ] && [ ! -s "$err" ] && grep -q "valid" "$out"; then
  pass "validate: configs/dirtyc0w_child.yaml"
else
  fail "validate: configs/dirtyc0w_child.yaml" "expected exit 0 and nothing on stderr"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
