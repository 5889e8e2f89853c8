#!/usr/bin/env bash
# incremental.sh - how much an incremental run saves: the results database
# lets a second run over unchanged files take their findings from it.
#
# Usage: tests/bench/incremental.sh [--reps N] [--pyrefcheck BIN] [--src DIR] [-j N]
#   --reps N          second runs (default 3)
#   --pyrefcheck BIN  default <repo>/build/pyrefcheck
#   --src DIR         CPython 3.11 source tree (default: as tests/realcode/cpython.sh)
#   -j N              workers of each run (default: pyrefcheck's, the number of cores)
#
# On the CPython 3.11 Modules/*.c files that clang parses with the real-code flags,
# times a first run (pyrefcheck check --format json --db FRESH.db FILES -- FLAGS) into a
# fresh database, then N second runs of the same command (nothing changed: every file is
# taken from the database), checks that each second run printed the same JSON as the
# first (but for stats.seconds), and prints both medians, ending with
#   ratio: X.X (target >= 20)
# the median first run over the median second run.  A benchmark, not a test: it exits
# 0 whatever the ratio, non-zero only if a command failed or the outputs differ.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../realcode/common.sh
. "$HERE/../realcode/common.sh"

PROG=${0##*/}
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

REPS=3
BIN="$PRC_ROOT/build/pyrefcheck"
SRC=""
JOBS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps)       [[ $# -ge 2 ]] || die "$1 needs a value"; REPS=$2; shift 2 ;;
        --pyrefcheck) [[ $# -ge 2 ]] || die "$1 needs a value"; BIN=$2; shift 2 ;;
        --src)        [[ $# -ge 2 ]] || die "$1 needs a value"; SRC=$2; shift 2 ;;
        -j)           [[ $# -ge 2 ]] || die "$1 needs a value"; JOBS=(-j "$2"); shift 2 ;;
        -h|--help)    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer"
[[ -x "$BIN" ]] || die "pyrefcheck binary not found or not executable: $BIN"
command -v python3 > /dev/null || die "python3 is needed to compare the outputs"

CLANG_BIN=$(prc_find_clang) || die "clang-19 (or clang >= 17) not found; install clang-19"
SRC=$(prc_get_cpython "$SRC") || die "CPython 3.11 source not available"
prc_cpython_flags "$SRC" || die "cannot build the compiler flags"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/prc-incr.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
trap 'exit 130' INT TERM

prc_split_parseable "$SRC" "$CLANG_BIN" "$(nproc 2>/dev/null || echo 2)" "$TMP/files.txt" "$TMP/excluded.txt"
mapfile -t FILES < "$TMP/files.txt"
[[ ${#FILES[@]} -gt 0 ]] || die "clang parses none of the CPython files"

# run NAME DB: one check into DB; appends its seconds to $TMP/NAME.times, output in $TMP/NAME.json
run() {
    local name=$1 db=$2 t0 t1 rc
    t0=$(date +%s%N)
    set +e
    "$BIN" check --format json -o "$TMP/$name.json" --db "$db" "${JOBS[@]}" \
        --python-include "$SRC/Include" "${FILES[@]}" -- "${PRC_FLAGS[@]}" \
        > /dev/null 2> "$TMP/$name.err" < /dev/null
    rc=$?
    set -e
    t1=$(date +%s%N)
    case $rc in
        0|1) ;;
        2) echo "warning: pyrefcheck exit 2 (some file not analysed; timing still taken):" >&2
           head -n 3 -- "$TMP/$name.err" >&2 ;;
        *) tail -n 5 -- "$TMP/$name.err" >&2; die "pyrefcheck exited with status $rc" ;;
    esac
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >> "$TMP/$name.times"
}

# same A B: the JSON outputs are identical but for stats.seconds
same() {
    python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d["stats"].pop("seconds")
sys.exit(0 if a == b else 1)
PY
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== incremental runs: ${#FILES[@]} CPython 3.11 files, $REPS repetitions"
echo "pyrefcheck: $BIN"
run first "$TMP/fresh.db"
printf 'first run: %.2fs\n' "$(tail -n 1 "$TMP/first.times")"
for ((r = 1; r <= REPS; r++)); do
    run second "$TMP/fresh.db"
    same "$TMP/first.json" "$TMP/second.json" || die "second run $r: the output differs from the first run's"
    reused=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select files_reused from runs order by id desc limit 1").fetchone()[0])' "$TMP/fresh.db")
    printf 'second run %d: %.3fs  (%s files reused)\n' "$r" "$(tail -n 1 "$TMP/second.times")" "$reused"
done
first_med=$(median < "$TMP/first.times")
second_med=$(median < "$TMP/second.times")
python3 - "$TMP/first.json" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1]))
st = s.get("stats", {})
print("stats: %s files, %s skipped, %s failed, %s functions, %d findings" % (
    st.get("files"), st.get("files_skipped"), st.get("files_failed"), st.get("functions"),
    len(s.get("findings", []))))
PY
printf 'first run (fresh database): median %.2f s\n' "$first_med"
printf 'second run (nothing changed): median %.3f s\n' "$second_med"
awk -v a="$first_med" -v b="$second_med" 'BEGIN { printf "ratio: %.1f (target >= 20)\n", (b > 0 ? a / b : 0) }'
