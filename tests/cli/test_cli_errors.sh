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
expect_rejected "run: --time -5s" "^racewin: --time: '-5s' is negative"

printf 'scenario: x\nrun:\n  time: 1ms\n   seed: 2\n' >"$tmp/syntax.yaml"
rw validate "$tmp/syntax.yaml"
expect_rejected "validate: YAML syntax error" "^racewin: $tmp/syntax.yaml:4:[0-9]+: YAML syntax"

# --- issue 25: no silent wrong answer from the input -------------------------------------------
# A table: each row a malformed input that was accepted or misreported before. row NAME EXIT REGEX
# ARGS...: racewin ARGS exits EXIT, prints nothing on stdout and one line on stderr matching REGEX.
row() {
  local name=$1 want=$2 pattern=$3
  shift 3
  rw "$@"
  if [ "$rc" -ne "$want" ]; then fail "$name" "expected exit $want"; return; fi
  expect_rejected "$name" "$pattern"
}
study=configs/dirtyc0w_child.yaml
v59=../models/mm/proc_mem_write_v5.9.yaml
steal='{exponential: {mean: 20ms}}'
printf 'path: p\nsteps:\n  - {work: hold, cost: 100}\n' >"$tmp/bare_cost.yaml"
scenario "$tmp/bare_cost_sc.yaml" "w: {vcpu: 0, path: bare_cost.yaml}"
printf 'path: p\nsteps:\n  - unlock_page: pgae\n' >"$tmp/page_typo.yaml"
scenario "$tmp/page_typo_sc.yaml" "w: {vcpu: 0, path: page_typo.yaml}"
lock_path "$tmp/ab.yaml" lock_a lock_b
scenario "$tmp/case_cost.yaml" "w: {vcpu: 0, path: ab.yaml}"
printf 'cases:\n  a: {}\n  b:\n    arch.costs.unlock_pag: 40ns\n' >>"$tmp/case_cost.yaml"
printf 'sweep: s\nscenario: %s\nrun: {time: 500}\naxes:\n  - {name: n, key: kernel.pcp_batch, values: [1, 2]}\n' \
  "$root/$study" >"$tmp/sweep_time.yaml"
printf 'sweep: s\nscenario: %s\ncases: [x86_64_kvm_v5.9-rc4]\nrun: {time: 1ms}\naxes:\n  - {name: l, key: arch.ipi.latency, values: [100, 200]}\n' \
  "$root/$study" >"$tmp/sweep_axis.yaml"

row "run: --time without a unit" 2 "^racewin: --time: '3' has no unit; write 3s, 3ms, 3us or 3ns$" \
  run -q "$tmp/ok.yaml" --time 3
row "compare: --time without a unit" 2 "^racewin: --time: '3' has no unit" compare "$tmp/ok.yaml" --time 3
row "run: --max-wall without a unit" 2 "^racewin: --max-wall 10: .*a unit is needed" run -q "$tmp/ok.yaml" --max-wall 10
row "run: --time below the clock's resolution" 2 "^racewin: --time: '0.1ns' is below the clock's resolution of 1 ns" \
  run -q "$tmp/ok.yaml" --time 0.1ns
row "validate: --set run.time without a unit" 1 "^racewin: --set run.time: 'run.time': '100' has no unit" \
  validate "$tmp/ok.yaml" --set run.time=100
row "validate: a step cost without a unit" 1 "^racewin: $tmp/bare_cost.yaml:3:[0-9]+: .*'100' has no unit; write 100s" \
  validate "$tmp/bare_cost_sc.yaml"
row "validate: a distribution's mean without a unit" 1 "'20' has no unit" \
  validate "$tmp/ok.yaml" --set 'hypervisor.steal={model: renewal, interarrival: {exponential: {mean: 20}}, duration: 5us}'
row "sweep: run.time without a unit" 1 "^racewin: $tmp/sweep_time.yaml:3:[0-9]+: .*'500' has no unit" \
  sweep "$tmp/sweep_time.yaml" --out "$tmp/sw1" -q
row "sweep: an axis's durations without a unit" 1 "'100' has no unit" sweep "$tmp/sweep_axis.yaml" --out "$tmp/sw2" -q
row "validate: a page argument's typo is the step's argument" 1 \
  "^racewin: $tmp/page_typo.yaml:3:[0-9]+: in step unlock_page's page argument 'pgae'" validate "$tmp/page_typo_sc.yaml"
row "validate: --set without KEY=VALUE" 2 "^racewin: --set foo: expected \[CASE:\]KEY=VALUE" validate "$study" --set foo
row "validate: a scope that matches no case" 2 \
  "^racewin: --set s390_\*:kernel.debug_vm: no case matches 's390_\*'.*the cases are: s390x_zvm_v5.9-rc4 .*s390x_zvm_v5.8 x86_64_pvm_measured_v5.9-rc4$" \
  validate "$study" --set 's390_*:kernel.debug_vm=false'
row "run: an unscoped --set replacing cases' own lines" 2 \
  "^racewin: --set threads.writer.path=$v59: replaces what case\(s\) s390x_zvm_v5.9-fixed \([^)]*dirtyc0w_child.yaml:[0-9]+:[0-9]+\) and s390x_zvm_v5.8 \(.*--force-override" \
  run -q "$study" --time 1ms --set "threads.writer.path=$v59"
row "compare: an unscoped --set-after replacing cases' own lines" 2 \
  "^racewin: --set-after threads.writer.path=$v59: replaces what case\(s\) s390x_zvm_v5.9-fixed" \
  compare "$study" --time 1ms --set-after "threads.writer.path=$v59"
row "validate: pv_tlb_flush on s390x and bare metal" 2 \
  "means nothing for case\(s\) s390x_zvm_v5.9-rc4 \(arch 's390x' flushes TLBs by broadcast.*x86_64_bare_v5.9-rc4 \(hypervisor 'bare_metal' has no steal" \
  validate "$study" --set hypervisor.pv_tlb_flush=true
row "validate: a steal key on a profile without steal" 2 \
  "means nothing for case\(s\) s390x_bare_v5.9-rc4 \(hypervisor 'bare_metal' \([^)]*models/hypervisor/bare_metal.yaml\) has no steal process\)" \
  validate "$study" --set "hypervisor.steal.0.duration=$steal"
# The measured case's steal[0] is a periodic source (no interarrival): the error names that case.
row "validate: a steal key wrong for one case's source" 1 \
  "^racewin: --set hypervisor.steal.0.interarrival: case x86_64_pvm_measured_v5.9-rc4: 'steal\[0\].interarrival': a periodic steal source has a period, not an interarrival$" \
  validate "$study" --set "hypervisor.steal.0.interarrival=$steal"
row "validate: a scoped steal key on a profile without steal" 1 \
  "^racewin: --set s390x_bare_v5.9-rc4:hypervisor.steal.0.interarrival: case s390x_bare_v5.9-rc4: hypervisor 'bare_metal' \(.*bare_metal.yaml\) has no steal process" \
  validate "$study" --set "s390x_bare_v5.9-rc4:hypervisor.steal.0.interarrival=$steal"
row "validate: a cost nothing charges (--set)" 1 \
  "^racewin: --set arch.costs.unlock_pag: cost 'unlock_pag' is charged by no step and no mechanism of any case \(did you mean 'unlock_page'\?\)" \
  validate "$study" --set arch.costs.unlock_pag=40ns
row "validate: a cost nothing charges (a case's line)" 1 \
  "^racewin: $tmp/case_cost.yaml:[0-9]+:[0-9]+: cost 'unlock_pag' is charged by no step" validate "$tmp/case_cost.yaml"

# The study's cases cannot be mislabelled: the scoped replacement runs, labelled in the table,
# results.json and hazards.csv; validate and params say where each override came from.
rw run -q "$study" --time 1ms --out "$tmp/scoped" --set "s390x_zvm_v5.9-rc4:threads.writer.path=$v59"
if [ "$rc" -eq 0 ] && grep -q "^s390x_zvm_v5.9-rc4 \[writer=proc_mem_write_v5.9.yaml\] " "$out" &&
   grep -q "^  s390x_zvm_v5.9-rc4: threads.writer.path=$v59 (--set)$" "$out" &&
   python3 -c 'import json,sys; c={x["case"]: x for x in json.load(open(sys.argv[1]))["cases"]};
assert c["s390x_zvm_v5.9-rc4"]["overrides"] == [{"key": "threads.writer.path", "value": sys.argv[2], "origin": "--set"}]
assert "overrides" not in c["s390x_zvm_v5.8"]' "$tmp/scoped/results.json" "$v59" &&
   head -1 "$tmp/scoped/hazards.csv" | grep -q ',stopped_by,overrides$' &&
   grep -q "^dirtyc0w_child,s390x_zvm_v5.9-rc4,.*,\"threads.writer.path=$v59 (--set)\"$" "$tmp/scoped/hazards.csv"; then
  pass "run: a scoped --set is labelled in the table, results.json and hazards.csv"
else
  fail "run: a scoped --set is labelled in the table, results.json and hazards.csv" "label missing"
fi

rw validate "$study" --case s390x_zvm_v5.8 --set 's390x_*:kernel.debug_vm=false'
if [ "$rc" -eq 0 ] && grep -q "arch file .*models/arch/s390x.yaml" "$out" && grep -q "hypervisor file .*zvm_lpar.yaml" "$out" &&
   grep -q "thread writer .*proc_mem_write_v5.8.yaml" "$out" &&
   grep -q "override .*kernel.page_lock_unfairness=-1  (the case's line, .*dirtyc0w_child.yaml:[0-9]*:[0-9]*)" "$out" &&
   grep -q "override .*kernel.debug_vm=false  (--set)" "$out" && [ "$(grep -c '^  s390x' "$out")" -eq 1 ]; then
  pass "validate --case: files, and each override with its origin"
else
  fail "validate --case: files, and each override with its origin" "a file or an origin is missing"
fi

rw params "$study" --case x86_64_kvm_nopv_v5.9-rc4 --set x86_64_kvm_nopv_v5.9-rc4:arch.costs.unlock_page=40ns
if [ "$rc" -eq 0 ] && grep -Eq "^  arch.costs.unlock_page .* 40ns .* --set$" "$out" &&
   grep -Eq "^  hypervisor.pv_tlb_flush .*dirtyc0w_child.yaml:[0-9]+:[0-9]+ \(the case's line\)$" "$out"; then
  pass "params: an overridden value is the override's"
else
  fail "params: an overridden value is the override's" "attributed to the profile's line"
fi

rw exact "$study" --case s390x_zvm_v5.9-rc4 --exponential --reachable bad_page_state --set 'hypervisor.steal=[]' \
  --set 'arch.interrupts=[]' --set arch.lru_pagevec_size=2 --set machine.pages=16 --set "threads.writer.path=$v59" \
  --set kernel.config=production --set kernel.task=null
if [ "$rc" -eq 0 ] && grep -q "^s390x_zvm_v5.9-rc4 \[.*writer=proc_mem_write_v5.9.yaml[],].*: bad_page_state unreachable" "$out"; then
  pass "exact: a case with a replaced writer is labelled"
else
  fail "exact: a case with a replaced writer is labelled" "no label"
fi

# The README tour's compare: --set and --set-after unscoped, on one case that sets neither.
rw compare "$study" --case s390x_zvm_v5.9-rc4 --time 1ms --batches 2 -q \
  --set 'hypervisor.steal={model: renewal, interarrival: {exponential: {mean: 30us}}, duration: {lognormal: {median: 5us, sigma: 0.3}}}' \
  --set-after "threads.writer.path=$v59"
if [ "$rc" -eq 0 ]; then pass "compare: the README tour's overrides load"; else fail "compare: the README tour's overrides load" "refused"; fi

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

# hostile NAME REGEX ARGS...: racewin ARGS exits 1 with one line on stderr matching REGEX.
hostile() {
  local name=$1 pattern=$2
  shift 2
  limited "$@"
  if [ "$rc" -ne 1 ]; then fail "$name" "expected exit 1"; return; fi
  expect_rejected "$name" "$pattern"
}

h=$tmp/configs
put "$tmp/models/mm/touch_anon.yaml" source "$(bomb 9)"
hostile "alias bomb in a path file's free text (F1)" \
  "^racewin: $tmp/models/mm/touch_anon.yaml:6:[0-9]+: aliases expand to more than 1000000 nodes" \
  validate "$h/gup_fast_vs_zap.yaml"
cp models/mm/touch_anon.yaml "$tmp/models/mm/"

put "$h/validation/stall_tick.yaml" doc "$(bomb 9)"
hostile "alias bomb in a scenario (F1)" "^racewin: $h/validation/stall_tick.yaml:27:[0-9]+: aliases expand to more than" \
  run -q "$h/validation/stall_tick.yaml" --time 1ms
cp configs/validation/stall_tick.yaml "$h/validation/"

hostile "alias bomb in a --set value (F1)" "^racewin: --set doc:1:[0-9]+: aliases expand to more than" \
  validate "$h/validation/stall_tick.yaml" --set "doc=$(bomb 9)"

put "$h/sweeps/dirtyc0w_steal.yaml" doc "$(bomb 9)"
hostile "alias bomb in a sweep file (F1)" "^racewin: $h/sweeps/dirtyc0w_steal.yaml:6:[0-9]+: aliases expand to more than" \
  sweep "$h/sweeps/dirtyc0w_steal.yaml" --out "$tmp/sweep_bomb" --list
cp configs/sweeps/dirtyc0w_steal.yaml "$h/sweeps/"

sed -i 's/^doc: a race window/doc: a \x81 race window/' "$h/validation/paths/window_owner.yaml"
for cmd in "validate" "run -q --iterations 1000 --out $tmp/f2_run" "exact --out $tmp/f2_exact"; do
  # shellcheck disable=SC2086  # the command's words
  hostile "byte 0x81 in a path file, $cmd (F2)" \
    "^racewin: $h/validation/paths/window_owner.yaml:7:8: byte 0x81 is not valid UTF-8" \
    $cmd "$h/validation/steal_window.yaml"
done
cp configs/validation/paths/window_owner.yaml "$h/validation/paths/"

sed -i 's/^doc: .*/doc: "a lone surrogate \\ud800"/' "$h/validation/paths/window_owner.yaml"
hostile "a surrogate escape in a path file (F2)" "^racewin: $h/validation/paths/window_owner.yaml:7:[0-9]+: YAML syntax: invalid unicode" \
  validate "$h/validation/steal_window.yaml"
cp configs/validation/paths/window_owner.yaml "$h/validation/paths/"

hostile "byte 0xff in a --set value (F2)" "^racewin: --set doc:1:1: byte 0xFF is not valid UTF-8" \
  validate "$h/validation/stall_tick.yaml" --set "doc=$(printf '\xff')"

# A key can add a key to the outputs (a cost's name): checked too.
hostile "byte 0xff in a --set key (F2)" ":1:13: byte 0xFF is not valid UTF-8" \
  validate "$h/validation/steal_window.yaml" --set "arch.costs.$(printf 'x\xff')=1ns"

put "$h/validation/steal_window.yaml" arch "$(printf 'x%.0s' {1..300})"
hostile "a file name of 300 bytes (F10)" "^racewin: $h/validation/steal_window.yaml:[0-9]+:[0-9]+: ('arch': )?(cannot use file .*: File name too long|no such file)" \
  validate "$h/validation/steal_window.yaml"
cp configs/validation/steal_window.yaml "$h/validation/"

sed -i 's/points: 3}/points: 1000000}/' "$h/sweeps/dirtyc0w_steal.yaml"
hostile "two sweep axes of 10^6 points (F7)" "^racewin: $h/sweeps/dirtyc0w_steal.yaml:[0-9]+:[0-9]+: 'axes': the grid of 1000000 x 1000000 points has more than the 1000000 a sweep may have" \
  sweep "$h/sweeps/dirtyc0w_steal.yaml" --out "$tmp/sweep_big" --list
cp configs/sweeps/dirtyc0w_steal.yaml "$h/sweeps/"

printf 'path: deep\nsteps:\n  - {goto: out, if: "%s1%s"}\n  - label: out\n  - end\n' "$(printf '(%.0s' {1..200})" "$(printf ')%.0s' {1..200})" >"$tmp/deep.yaml"
scenario "$tmp/deep_scenario.yaml" "w: {vcpu: 0, path: deep.yaml}"
hostile "a condition nested 200 deep" "^racewin: $tmp/deep.yaml:3:[0-9]+: in condition .* nested more than 100 deep" \
  validate "$tmp/deep_scenario.yaml"

scenario "$tmp/newline_key.yaml" "w: {vcpu: 0, path: $models/mm/gup_fast.yaml}"
printf '"mach\\nine": 1\n' >>"$tmp/newline_key.yaml"
hostile "a key with a line break, one line" "^racewin: $tmp/newline_key.yaml:[0-9]+:[0-9]+: unknown key 'mach\\\\nine'" \
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
