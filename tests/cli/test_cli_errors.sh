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

# --- hostile YAML (issue 25; the reproducers of the reliability review, F1 F2 F7 F10) -----------
# Each row: a damaged copy of the shipped files, refused before any work with exit 1 and one line
# naming file:line. Without the limits, an alias bomb took gigabytes (F1), a byte that is not UTF-8
# passed validate and failed after the run (F2).

cp -r configs models "$tmp/"
# Nested aliases, 9^DEPTH leaves from a few hundred bytes ("billion laughs").
bomb() {
  local s="&l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]" k a
  for ((k = 1; k < $1; k++)); do a="*l$((k - 1))"; s+=", &l$k [$a,$a,$a,$a,$a,$a,$a,$a,$a]"; done
  printf '[%s]' "$s"
}
# put FILE KEY VALUE: the top-level line KEY: replaced by KEY: VALUE (awk: the value holds '&').
put() { awk -v k="$2" -v v="$3" '$0 ~ "^" k ":" { print k ": " v; next } { print }' "$1" >"$1.new" && mv "$1.new" "$1"; }

# A limit on the memory, so that a regression fails rather than taking the machine; not under ASan,
# which reserves terabytes of address space.
limited() {
  if grep -q __asan_init "$racewin"; then rw "$@"; else (ulimit -v 4194304; rw "$@"; echo "$rc" >"$tmp/rc"); rc=$(cat "$tmp/rc"); fi
}

# row NAME REGEX ARGS...: racewin ARGS exits 1 with one line on stderr matching REGEX.
row() {
  local name=$1 pattern=$2
  shift 2
  limited "$@"
  if [ "$rc" -ne 1 ]; then fail "$name" "expected exit 1"; return; fi
  expect_rejected "$name" "$pattern"
}

h=$tmp/configs
put "$tmp/models/mm/touch_anon.yaml" source "$(bomb 9)"
row "alias bomb in a path file's free text (F1)" \
  "^racewin: $tmp/models/mm/touch_anon.yaml:6:[0-9]+: aliases expand to more than 1000000 nodes" \
  validate "$h/gup_fast_vs_zap.yaml"
cp models/mm/touch_anon.yaml "$tmp/models/mm/"

put "$h/validation/stall_tick.yaml" doc "$(bomb 9)"
row "alias bomb in a scenario (F1)" "^racewin: $h/validation/stall_tick.yaml:27:[0-9]+: aliases expand to more than" \
  run -q "$h/validation/stall_tick.yaml" --time 1ms
cp configs/validation/stall_tick.yaml "$h/validation/"

row "alias bomb in a --set value (F1)" "^racewin: --set doc:1:[0-9]+: aliases expand to more than" \
  validate "$h/validation/stall_tick.yaml" --set "doc=$(bomb 9)"

put "$h/sweeps/dirtyc0w_steal.yaml" doc "$(bomb 9)"
row "alias bomb in a sweep file (F1)" "^racewin: $h/sweeps/dirtyc0w_steal.yaml:6:[0-9]+: aliases expand to more than" \
  sweep "$h/sweeps/dirtyc0w_steal.yaml" --out "$tmp/sweep_bomb" --list
cp configs/sweeps/dirtyc0w_steal.yaml "$h/sweeps/"

sed -i 's/^doc: a race window/doc: a \x81 race window/' "$h/validation/paths/window_owner.yaml"
for cmd in "validate" "run -q --iterations 1000 --out $tmp/f2_run" "exact --out $tmp/f2_exact"; do
  # shellcheck disable=SC2086  # the command's words
  row "byte 0x81 in a path file, $cmd (F2)" \
    "^racewin: $h/validation/paths/window_owner.yaml:7:8: byte 0x81 is not valid UTF-8" \
    $cmd "$h/validation/steal_window.yaml"
done
cp configs/validation/paths/window_owner.yaml "$h/validation/paths/"

sed -i 's/^doc: .*/doc: "a lone surrogate \\ud800"/' "$h/validation/paths/window_owner.yaml"
row "a surrogate escape in a path file (F2)" "^racewin: $h/validation/paths/window_owner.yaml:7:[0-9]+: YAML syntax: invalid unicode" \
  validate "$h/validation/steal_window.yaml"
cp configs/validation/paths/window_owner.yaml "$h/validation/paths/"

row "byte 0xff in a --set value (F2)" "^racewin: --set doc:1:1: byte 0xFF is not valid UTF-8" \
  validate "$h/validation/stall_tick.yaml" --set "doc=$(printf '\xff')"

# A key can add a key to the outputs (a cost's name): checked too.
row "byte 0xff in a --set key (F2)" ":1:13: byte 0xFF is not valid UTF-8" \
  validate "$h/validation/steal_window.yaml" --set "arch.costs.$(printf 'x\xff')=1ns"

put "$h/validation/steal_window.yaml" arch "$(printf 'x%.0s' {1..300})"
row "a file name of 300 bytes (F10)" "^racewin: $h/validation/steal_window.yaml:[0-9]+:[0-9]+: 'arch': no such file" \
  validate "$h/validation/steal_window.yaml"
cp configs/validation/steal_window.yaml "$h/validation/"

sed -i 's/points: 3}/points: 1000000}/' "$h/sweeps/dirtyc0w_steal.yaml"
row "two sweep axes of 10^6 points (F7)" "^racewin: $h/sweeps/dirtyc0w_steal.yaml:[0-9]+:[0-9]+: 'axes': the axes make more than 1000000 points" \
  sweep "$h/sweeps/dirtyc0w_steal.yaml" --out "$tmp/sweep_big" --list
cp configs/sweeps/dirtyc0w_steal.yaml "$h/sweeps/"

printf 'path: deep\nsteps:\n  - {goto: out, if: "%s1%s"}\n  - label: out\n  - end\n' "$(printf '(%.0s' {1..200})" "$(printf ')%.0s' {1..200})" >"$tmp/deep.yaml"
scenario "$tmp/deep_scenario.yaml" "w: {vcpu: 0, path: deep.yaml}"
row "a condition nested 200 deep" "^racewin: $tmp/deep.yaml:3:[0-9]+: in condition .* nested more than 100 deep" \
  validate "$tmp/deep_scenario.yaml"

scenario "$tmp/newline_key.yaml" "w: {vcpu: 0, path: $models/mm/gup_fast.yaml}"
printf '"mach\\nine": 1\n' >>"$tmp/newline_key.yaml"
row "a key with a line break, one line" "^racewin: $tmp/newline_key.yaml:[0-9]+:[0-9]+: unknown key 'mach\\\\nine'" \
  validate "$tmp/newline_key.yaml"

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
