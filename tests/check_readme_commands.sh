#!/usr/bin/env bash
# The README's commands run as written (issue 25). Every line of a ```sh block of README.md that
# starts a command (`build/racewin ...`, `cmake --install ...`, a backslash continuing it onto the
# next lines) is run with bash from a scratch directory laid out like the repository root: configs/,
# models/, notebooks/, analysis/ and scripts/ are links to the source tree's, build/ to the build
# directory under test, so that `out/...` lands in the scratch directory. Each must exit 0 and write
# what it names with --out or --first-hit. `cmake --install` runs with DESTDIR set to a scratch
# directory, so that `--prefix /usr/local` installs nothing into the system.
#
# The two set-up commands (scripts/study.sh, scripts/test.sh) are not run as such: test.sh is what
# runs this check, and study.sh would build into the source tree's build/; the fresh-machine check
# covers both (docs/install.md). They are listed, so that a new README command is never skipped
# unseen, and the README's quick look, `scripts/study.sh --time 10s`, runs its study part below.
#
# Usage: tests/check_readme_commands.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for d in configs models notebooks analysis scripts; do ln -s "$src/$d" "$scratch/$d"; done
ln -s "$build" "$scratch/build"
mkdir "$scratch/out"

# The commands: lines inside ```sh fences, comments dropped, continuations joined.
mapfile -t cmds < <(awk '
  /^```sh/ { on = 1; next }
  /^```/ { on = 0; next }
  on {
    sub(/[ \t]+#.*$/, "")
    if (cmd != "") { cmd = cmd " " $0 } else if ($0 ~ /^[a-zA-Z]/) { cmd = $0 } else next
    if (cmd ~ /\\$/) { sub(/\\$/, "", cmd); next }
    gsub(/[ \t]+/, " ", cmd); print cmd; cmd = ""
  }' "$src/README.md")

fail=0 ran=0 skipped=0
for c in "${cmds[@]}"; do
  case "$c" in
    "scripts/study.sh"*|"scripts/test.sh"*)
      echo "skip  $c  (a set-up command: see the header)"; skipped=$((skipped + 1)); continue ;;
    "build/racewin "*|"cmake --install "*) ;;
    *) echo "FAIL  $c: not a command this check knows how to run; add it here"; fail=1; continue ;;
  esac
  start=$SECONDS
  if out=$(cd "$scratch" && DESTDIR="$scratch/destdir" bash -o pipefail -c "$c" 2>&1 </dev/null); then
    # What it says it writes must be there.
    written=$(grep -oE -- '--(out|first-hit) [^ ]+' <<<"$c" | awk '{print $2}')
    [[ $c == "build/racewin report "* ]] && written="${c#build/racewin report }/report"
    [[ $c == "cmake --install "* ]] && written=destdir/usr/local/bin/racewin
    missing=""
    for w in $written; do [ -e "$scratch/$w" ] || missing+=" $w"; done
    if [ -n "$missing" ]; then
      echo "FAIL  $c: exit 0 but did not write$missing"; fail=1
    else
      echo "ok    $c  ($((SECONDS - start)) s)"
    fi
  else
    echo "FAIL  $c: exit $?"; tail -5 <<<"$out" | sed 's/^/      /'; fail=1
  fi
  ran=$((ran + 1))
done
# The README's quick look, `scripts/study.sh --time 10s`: its set-up part is what built this
# racewin; its study part, racewin-study with the extra argument, runs here.
start=$SECONDS
if out=$(cd "$scratch" && RACEWIN="$build/racewin" RACEWIN_STUDY_OUT="$scratch/out/study" \
         "$src/scripts/racewin-study" --time 10s 2>&1 </dev/null); then
  if [ -s "$scratch/out/study/results.json" ] && grep -q "P ratio" <<<"$out"; then
    echo "ok    scripts/study.sh --time 10s (its racewin-study part)  ($((SECONDS - start)) s)"
  else
    echo "FAIL  scripts/study.sh --time 10s: exit 0 but no results.json or no ratio"; fail=1
  fi
else
  echo "FAIL  scripts/study.sh --time 10s: exit $?"; tail -5 <<<"$out" | sed 's/^/      /'; fail=1
fi

[ "$ran" -ge 5 ] || { echo "FAIL  only $ran README commands found: has the README's layout changed?"; fail=1; }
echo "$ran README commands run, $skipped set-up commands left to their own checks"
exit $fail
