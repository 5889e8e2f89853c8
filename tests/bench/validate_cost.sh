#!/usr/bin/env bash
# validate_cost.sh - what validation costs per finding: the time of
# `pyrefcheck check --validate` minus the time of the same check without it,
# divided by the number of findings, median over several runs.
#
# Usage: tests/bench/validate_cost.sh [--reps N] [--pyrefcheck BIN] [--cpython N] [PATH...]
#   --reps N          runs of each kind (default 3)
#   --pyrefcheck BIN  default <repo>/build/pyrefcheck
#   --cpython N       measure on the first N CPython 3.11 Modules/*.c files that clang
#                     parses (source as tests/realcode/cpython.sh finds it)
#   PATH...           files or folders to check (default: fixtures/demo fixtures/leak)
#
# Each repetition runs, on the same files with --no-db:
#   check                                   (the analysis alone)
#   check --validate --validate-dir FRESH   (cold: harnesses compiled and linked)
#   check --validate --validate-dir SAME    (warm: harnesses taken from the cache)
# and prints one line; the summary gives the median cold and warm cost per finding,
#   cold: X.XXX s/finding   warm: X.XXX s/finding
# and the validation statuses of the last run.  A benchmark, not a test: it exits 0
# unless a command failed.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../realcode/common.sh
. "$HERE/../realcode/common.sh"

PROG=${0##*/}
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

REPS=3
BIN="$PRC_ROOT/build/pyrefcheck"
CPY=0
PATHS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps)       [[ $# -ge 2 ]] || die "$1 needs a value"; REPS=$2; shift 2 ;;
        --pyrefcheck) [[ $# -ge 2 ]] || die "$1 needs a value"; BIN=$2; shift 2 ;;
        --cpython)    [[ $# -ge 2 ]] || die "$1 needs a value"; CPY=$2; shift 2 ;;
        -h|--help)    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) die "unknown option: $1 (see --help)" ;;
        *) PATHS+=("$1"); shift ;;
    esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer"
[[ "$CPY" =~ ^[0-9]+$ ]] || die "--cpython takes a number of files"
[[ -x "$BIN" ]] || die "pyrefcheck binary not found or not executable: $BIN"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/prc-vcost.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
trap 'exit 130' INT TERM

EXTRA=()
if (( CPY > 0 )); then
    CLANG_BIN=$(prc_find_clang) || die "clang-19 (or clang >= 17) not found"
    SRC=$(prc_get_cpython "") || die "CPython 3.11 source not available"
    prc_cpython_flags "$SRC" || die "cannot build the compiler flags"
    prc_split_parseable "$SRC" "$CLANG_BIN" "$(nproc 2>/dev/null || echo 2)" "$TMP/files.txt" "$TMP/excluded.txt"
    mapfile -t PATHS < <(head -n "$CPY" "$TMP/files.txt")
    EXTRA=(--python-include "$SRC/Include")
    POST=(-- "${PRC_FLAGS[@]}")
else
    [[ ${#PATHS[@]} -gt 0 ]] || PATHS=("$PRC_ROOT/fixtures/demo" "$PRC_ROOT/fixtures/leak")
    POST=()
fi

# timed NAME ARGS...: runs pyrefcheck check ARGS, appends seconds to $TMP/NAME.times
timed() {
    local name=$1 t0 t1 rc
    shift
    t0=$(date +%s%N)
    set +e
    "$BIN" check --no-db --quiet --format json -o "$TMP/$name.json" "${EXTRA[@]}" "$@" \
        "${PATHS[@]}" "${POST[@]}" > /dev/null 2> "$TMP/$name.err" < /dev/null
    rc=$?
    set -e
    t1=$(date +%s%N)
    (( rc <= 2 )) || { tail -n 5 -- "$TMP/$name.err" >&2; die "pyrefcheck exited with status $rc"; }
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >> "$TMP/$name.times"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) printf "%.4f", v[(NR + 1) / 2]; else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== validation cost: ${#PATHS[@]} path(s), $REPS repetitions"
for ((r = 1; r <= REPS; r++)); do
    timed plain
    timed cold --validate --validate-dir "$TMP/cache-$r"
    timed warm --validate --validate-dir "$TMP/cache-$r"
    n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$TMP/cold.json")
    (( n > 0 )) || die "no findings to validate"
    p=$(tail -n 1 "$TMP/plain.times"); c=$(tail -n 1 "$TMP/cold.times"); w=$(tail -n 1 "$TMP/warm.times")
    awk -v p="$p" -v c="$c" -v w="$w" -v n="$n" 'BEGIN {
        printf "run: analysis %.2fs, cold %.2fs, warm %.2fs, %d findings\n", p, c, w, n
        printf "%.4f\n", (c - p) / n > "/dev/stderr" }' 2>> "$TMP/cold.per"
    awk -v p="$p" -v w="$w" -v n="$n" 'BEGIN { printf "%.4f\n", (w - p) / n }' >> "$TMP/warm.per"
done
python3 - "$TMP/cold.json" <<'PY'
import json, re, sys
from collections import Counter
c = Counter(re.split(r"[: ]", f.get("validation") or "none", maxsplit=1)[0]
            for f in json.load(open(sys.argv[1]))["findings"])
print("statuses: " + ", ".join("%s %d" % kv for kv in sorted(c.items())))
PY
printf 'cold: %s s/finding   warm: %s s/finding   (medians of %d)\n' \
    "$(median < "$TMP/cold.per")" "$(median < "$TMP/warm.per")" "$REPS"
