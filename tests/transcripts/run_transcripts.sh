#!/usr/bin/env bash
# Transcripts in the spirit of SimGrid's tesh files: racewin commands and the output they must
# print, one file per shipped scenario, so that the README's examples cannot rot unnoticed.
#
# Usage (from the repository root, as ctest runs it):
#   tests/transcripts/run_transcripts.sh [--regen] RACEWIN [FILE.tesh...]
# Without FILEs it runs every tests/transcripts/**/*.tesh and checks that every scenario and sweep
# file under configs/ (configs/validation/ and path files in configs/*/paths/ aside) has its transcript:
# configs/X.yaml -> tests/transcripts/X.tesh, configs/sweeps/X.yaml -> tests/transcripts/sweeps/X.tesh,
# and that the transcript runs a command naming configs/X.yaml.
#
# The format, line by line:
#   # text      a comment: what the next command shows and why.
#   (blank)     separates blocks.
#   $ command   a bash command, run from the repository root with `bash -o pipefail -c`, stdin
#               /dev/null, at most 120 s; `racewin` in it runs RACEWIN (a function). A line ending in
#               a backslash continues on the next line, taken as it is. No `cd`: paths are the root's.
#   ! exit N    after a `$`: the exit status expected (default 0).
#   ! ignore RE after a `$`: drop the output lines matching the extended regex RE before comparing
#               (for wall-clock figures; use sparingly).
#   > text      one line the command prints on stdout ("> " and the line; ">" alone: an empty line).
#               Only stdout is compared: end the command with 2>&1 to check stderr too.
# Each transcript file gets a fresh directory in $TMP (exported; removed afterwards) for the
# outputs its commands write (--out "$TMP/run"); its path in the output reads `$TMP`. Trailing
# blanks are ignored on both sides. A command whose output or exit status differs fails with
# file:line and a unified diff (expected, then actual); the script exits 1 if any did, 2 on a
# usage error or a malformed transcript.
#
# After an intended change of output, `--regen` rewrites the `>` and `! exit` lines of the given
# files (all of them without FILEs) from what the commands print now; review with `git diff`
# before committing, as the new output is then what is tested.
set -u
regen=0
if [ "${1:-}" = "--regen" ]; then regen=1; shift; fi
[ $# -ge 1 ] || { echo "usage: $0 [--regen] RACEWIN [FILE.tesh...]" >&2; exit 2; }
RACEWIN=$1; shift
[ -x "$RACEWIN" ] || { echo "$0: $RACEWIN is not an executable" >&2; exit 2; }
RACEWIN=$(cd "$(dirname "$RACEWIN")" && pwd)/$(basename "$RACEWIN")
root=$(pwd)
[ -d "$root/configs" ] && [ -d "$root/tests/transcripts" ] || { echo "$0: run from the repository root" >&2; exit 2; }
export RACEWIN
racewin() { "$RACEWIN" "$@"; }
export -f racewin

work=$(mktemp -d)
TMP=""
trap 'rm -rf "$work" ${TMP:+"$TMP"}' EXIT

failed=0 files=0 commands=0 malformed=0

# The command's output as compared: ignored lines dropped, $TMP named, trailing blanks removed.
actual_lines() {  # actual_lines FILE IGNORE_REGEX...
  local f=$1 line; shift
  while IFS= read -r line || [ -n "$line" ]; do
    local re skip=0
    for re in "$@"; do [[ $line =~ $re ]] && { skip=1; break; }; done
    [ $skip -eq 1 ] && continue
    line=${line//"$TMP"/'$TMP'}
    printf '%s\n' "${line%"${line##*[![:space:]]}"}"
  done <"$f"
}

# Runs one transcript file. Globals: out (the file as --regen rewrites it), the block's state.
run_file() {
  local file=$1 lineno=0 line cont=0
  local cmd="" at=0 want_exit=0 ok=1
  local -a ignores=() expected=()
  out=()
  TMP=$(mktemp -d); export TMP
  local t0=$SECONDS malformed_before=$malformed
  flush() {
    [ -n "$cmd" ] || return 0
    commands=$((commands + 1))
    (cd "$root" && timeout 120 bash -o pipefail -c "$cmd") </dev/null >"$work/stdout" 2>"$work/stderr"
    local rc=$?
    actual_lines "$work/stdout" "${ignores[@]}" >"$work/actual"
    if [ ${#expected[@]} -gt 0 ]; then printf '%s\n' "${expected[@]}" >"$work/expected"; else : >"$work/expected"; fi
    local re
    for re in "${ignores[@]}"; do out+=("! ignore $re"); done
    if [ $regen -eq 1 ]; then
      [ $rc -ne 0 ] && out+=("! exit $rc")
      while IFS= read -r l; do if [ -n "$l" ]; then out+=("> $l"); else out+=(">"); fi; done <"$work/actual"
    else
      [ "$want_exit" -ne 0 ] && out+=("! exit $want_exit")
      if [ $rc -ne "$want_exit" ] || ! cmp -s "$work/expected" "$work/actual"; then
        ok=0
        echo "FAIL $file:$at: \$ $cmd"
        [ $rc -ne "$want_exit" ] && echo "  exit status $rc, expected $want_exit" && [ $rc -eq 124 ] && echo "  (timed out after 120 s)"
        diff -u --label "expected ($file:$at)" --label actual "$work/expected" "$work/actual" | sed 's/^/  /'
        if [ -s "$work/stderr" ]; then echo "  stderr:"; sed 's/^/  | /' "$work/stderr" | tail -n 20; fi
      fi
    fi
    cmd="" ignores=() expected=() want_exit=0
  }
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    if [ $cont -eq 1 ]; then
      cmd+=$'\n'"$line"; out+=("$line")
      [[ $line == *\\ ]] || cont=0
      continue
    fi
    case $line in
      '$ '*)
        flush
        cmd=${line#'$ '}; at=$lineno; out+=("$line")
        [[ $line == *\\ ]] && cont=1 ;;
      '! exit '* | '! ignore '*)
        if [ -z "$cmd" ]; then echo "$file:$lineno: '!' line outside a command's block" >&2; malformed=1; continue; fi
        case $line in
          '! exit '*)
            want_exit=${line#'! exit '}
            [[ $want_exit =~ ^[0-9]+$ ]] || { echo "$file:$lineno: ! exit needs a number" >&2; malformed=1; want_exit=0; } ;;
          *) ignores+=("${line#'! ignore '}") ;;
        esac ;;
      '!'*)
        echo "$file:$lineno: unknown directive: $line" >&2; malformed=1 ;;
      '>'*)
        if [ -z "$cmd" ]; then echo "$file:$lineno: '>' line outside a command's block" >&2; malformed=1; continue; fi
        line=${line#>}; line=${line# }
        expected+=("${line%"${line##*[![:space:]]}"}") ;;
      *)
        flush
        out+=("$line") ;;
    esac
  done <"$file"
  flush
  rm -rf "$TMP"; TMP=""
  files=$((files + 1))
  if [ "$malformed" -ne "$malformed_before" ]; then
    failed=$((failed + 1))
    echo "FAIL $file: malformed (above)"
  elif [ $regen -eq 1 ]; then
    printf '%s\n' "${out[@]}" >"$file.regen" && mv "$file.regen" "$file"
    echo "regen $file ($((SECONDS - t0)) s; review with git diff)"
  elif [ $ok -eq 1 ]; then
    echo "ok   $file ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
  fi
}

check_coverage=0
if [ $# -eq 0 ]; then
  check_coverage=1
  mapfile -t tesh < <(find tests/transcripts -name '*.tesh' | sort)
  set -- "${tesh[@]}"
fi
for f in "$@"; do
  [ -f "$f" ] || { echo "$0: no transcript $f" >&2; exit 2; }
  run_file "$f"
done

# Every shipped scenario and sweep has a transcript that runs it.
missing=0
if [ $check_coverage -eq 1 ]; then
  while IFS= read -r c; do
    rel=${c#configs/}
    t=tests/transcripts/${rel%.*}.tesh
    if [ ! -f "$t" ]; then
      echo "FAIL $c has no transcript: write $t (see tests/transcripts/README.md)"
      missing=$((missing + 1))
    elif ! grep -q "^\\$ .*configs/$rel" "$t"; then
      echo "FAIL $t runs no command on $c"
      missing=$((missing + 1))
    fi
  done < <(find configs \( -path configs/validation -o -path 'configs/*/paths' \) -prune -o -type f \( -name '*.yaml' -o -name '*.yml' \) -print | sort)
fi

[ $malformed -eq 0 ] || { echo "malformed transcript(s)"; exit 2; }
if [ $regen -eq 1 ]; then echo "$files transcript(s) regenerated, $commands command(s)"; exit 0; fi
summary="$files transcript(s), $commands command(s): $failed failed"
[ $check_coverage -eq 1 ] && summary+=", $missing scenario file(s) without a transcript"
echo "$summary"
[ $failed -eq 0 ] && [ $missing -eq 0 ]
