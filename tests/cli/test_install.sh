#!/usr/bin/env bash
# Installed like a tool: `cmake --install BUILD --prefix P` into a temporary prefix, then the
# installed racewin from another directory, with no path set: it finds its shipped models/ and
# configs/ (a scenario named without a path, said on stderr), runs, and `racewin report` runs the
# installed analysis package (not the source tree's). Also: `racewin --data-dir` of the build-tree
# binary is the source tree, and a file that is neither typed nor shipped is refused (exit 2).
# Usage: test_install.sh BUILD_DIR   (run from the source root, as ctest does)
set -u
build=${1:?usage: test_install.sh BUILD_DIR}
src=$(pwd)
[ -f "$src/configs/dirtyc0w_child.yaml" ] || { echo "run from the source root"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/  /' "$tmp/err" 2>/dev/null | head -8; }

[ "$("$build/racewin" --data-dir)" = "$src" ] && ok "build tree: --data-dir is the source tree" || bad "build-tree --data-dir: $("$build/racewin" --data-dir)"

p=$tmp/prefix
cmake --install "$build" --prefix "$p" >"$tmp/install.log" 2>"$tmp/err" && ok "cmake --install" || bad "cmake --install"
for f in bin/racewin bin/racewin-study bin/racewin-probe share/racewin/probe/racewin-probe.c share/racewin/configs/dirtyc0w_child.yaml share/racewin/models/arch/s390x.yaml \
         share/racewin/configs/sweeps/dirtyc0w_steal.yaml share/racewin/notebooks/dirtyc0w_study.ipynb; do
  [ -e "$p/$f" ] && ok "installed $f" || bad "missing $p/$f"
done
pydir=$(cd "$p" && ls -d lib/python3*/dist-packages/racewin_analysis 2>/dev/null)
[ -n "$pydir" ] && [ -f "$p/$pydir/report.py" ] && ok "installed $pydir" || bad "no racewin_analysis under $p/lib"
[ -z "$(find "$p" -name __pycache__)" ] && ok "no __pycache__ installed" || bad "__pycache__ installed"

# From an empty directory, with a clean environment: nothing from the source tree is found by path.
mkdir "$tmp/work" && cd "$tmp/work"
r=$p/bin/racewin
[ "$(env -i PATH=/usr/bin:/bin "$r" --data-dir)" = "$p/share/racewin" ] && ok "installed: --data-dir is PREFIX/share/racewin" || bad "installed --data-dir: $("$r" --data-dir)"
env -i PATH=/usr/bin:/bin "$r" run dirtyc0w_child.yaml --case s390x_zvm_v5.9-rc4 --time 20ms --seed 1 -q --out run >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "taking the shipped $p/share/racewin/configs/dirtyc0w_child.yaml" "$tmp/err" && [ -f run/results.json ] \
   && grep -q "\"scenario_file\": \"$p/share/racewin/configs/dirtyc0w_child.yaml\"" run/results.json; then
  ok "installed run of a shipped scenario named without a path (said on stderr, recorded in results.json)"
else bad "installed run (exit $rc)"; fi
env -i PATH=/usr/bin:/bin "$r" validate sweeps/../madvise_range.yaml >"$tmp/out" 2>"$tmp/err" && ok "a shipped file by a relative path under configs/" || bad "validate sweeps/../madvise_range.yaml"
env -i PATH=/usr/bin:/bin "$r" validate no_such.yaml >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "File does not exist: no_such.yaml (nor among the shipped files in $p/share/racewin/configs)" "$tmp/err" \
  && ok "a file neither typed nor shipped: exit 2, naming where it looked" || bad "no_such.yaml (exit $rc)"

if /usr/bin/python3 -c "import pandas, matplotlib, xarray" 2>/dev/null; then
  env -i PATH=/usr/bin:/bin HOME="$tmp" "$r" report run --out rep >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -eq 0 ] && [ -f rep/report.md ] && ls rep/*.png >/dev/null 2>&1; then ok "installed racewin report (no PYTHONPATH)"; else bad "racewin report (exit $rc)"; fi
  env -i PATH=/usr/bin:/bin "$r" report no_such_dir >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ $rc -eq 2 ] && ok "racewin report of a missing directory: exit 2" || bad "report no_such_dir (exit $rc)"
  out=$(env -i PATH=/usr/bin:/bin PYTHONPATH="$p/$(dirname "$pydir")" /usr/bin/python3 -c 'import racewin_analysis, os; print(os.path.dirname(racewin_analysis.__file__))')
  [ "$out" = "$p/$pydir" ] && ok "the installed package imports from the prefix" || bad "imported from $out"
else
  echo "skip racewin report: python3-pandas, python3-matplotlib or python3-xarray missing"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
