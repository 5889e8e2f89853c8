#!/usr/bin/env bash
# parse_vs_clang.sh - compare pyrefcheck's front-end cost with clang's own parse.
#
# Usage: tests/bench/parse_vs_clang.sh [--reps N] [--mode cfg|full] [--pyrefcheck BIN]
#                                      [--src DIR]
#   --reps N          timed repetitions of each command (default 5), alternating order
#   --mode cfg|full   cfg: pyrefcheck --cfg-only (default); full: complete analysis
#   --pyrefcheck BIN  default <repo>/build/pyrefcheck
#   --src DIR         CPython 3.11 source tree (default: as tests/realcode/cpython.sh)
#
# On the CPython 3.11 Modules/*.c files that clang parses with the real-code flags, times
#   (a) clang -fsyntax-only FLAGS FILES...               (one process, all files)
#   (b) pyrefcheck check --cfg-only -j1 --no-db FILES... -- FLAGS
# after one untimed warm-up run of each, and prints the median seconds of each, the
# median of the per-repetition ratios (b)/(a), and pyrefcheck's peak RSS, ending with
#   ratio: X.XX (target <= 1.3)
# A benchmark, not a test: it exits 0 whatever the ratio, non-zero only if a command
# failed (clang rejected a file, pyrefcheck crashed or could not analyse a file).
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../realcode/common.sh
. "$HERE/../realcode/common.sh"

PROG=${0##*/}
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

REPS=5
MODE=cfg
BIN="$PRC_ROOT/build/pyrefcheck"
SRC=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps)       [[ $# -ge 2 ]] || die "$1 needs a value"; REPS=$2; shift 2 ;;
        --mode)       [[ $# -ge 2 ]] || die "$1 needs a value"; MODE=$2; shift 2 ;;
        --pyrefcheck) [[ $# -ge 2 ]] || die "$1 needs a value"; BIN=$2; shift 2 ;;
        --src)        [[ $# -ge 2 ]] || die "$1 needs a value"; SRC=$2; shift 2 ;;
        -h|--help)    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer"
case "$MODE" in cfg|full) ;; *) die "--mode must be cfg or full" ;; esac
[[ -x "$BIN" ]] || die "pyrefcheck binary not found or not executable: $BIN"

if [[ ! -x /usr/bin/time ]]; then
    if [[ $EUID -eq 0 ]]; then
        echo "installing time (for /usr/bin/time)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends time >&2 || {
            apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends time >&2; } \
            || die "could not install time"
    else
        die "/usr/bin/time missing: apt-get install time"
    fi
fi

CLANG_BIN=$(prc_find_clang) || die "clang-19 (or clang >= 17) not found; install clang-19"
SRC=$(prc_get_cpython "$SRC") || die "CPython 3.11 source not available"
prc_cpython_flags "$SRC" || die "cannot build the compiler flags"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/prc-bench.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
trap 'exit 130' INT TERM

prc_split_parseable "$SRC" "$CLANG_BIN" "$(nproc 2>/dev/null || echo 2)" "$TMP/files.txt" "$TMP/excluded.txt"
mapfile -t FILES < "$TMP/files.txt"
[[ ${#FILES[@]} -gt 0 ]] || die "clang parses none of the CPython files"

CLANG_CMD=("$CLANG_BIN" -fsyntax-only "${PRC_FLAGS[@]}" "${FILES[@]}")
PRC_CMD=("$BIN" check --format json -o "$TMP/prc.json" -j1 --no-db --python-include "$SRC/Include")
[[ "$MODE" == cfg ]] && PRC_CMD+=(--cfg-only)
PRC_CMD+=("${FILES[@]}" -- "${PRC_FLAGS[@]}")

# measure NAME CMD...: run CMD once; append "seconds rss_kib" to $TMP/NAME.times.
measure() {
    local name=$1 t0 t1 rc
    shift
    t0=$(date +%s%N)
    set +e
    /usr/bin/time -f '%M' -o "$TMP/$name.rss" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" < /dev/null
    rc=$?
    set -e
    t1=$(date +%s%N)
    case "$name:$rc" in
        clang:0|prc:0|prc:1) ;;
        prc:2)
            echo "warning: pyrefcheck exit 2 (some file not analysed; timing still taken):" >&2
            head -n 3 -- "$TMP/$name.err" >&2 ;;
        *)
            echo "$name exited with status $rc:" >&2
            tail -n 5 -- "$TMP/$name.err" >&2
            die "$name failed during the benchmark" ;;
    esac
    # /usr/bin/time writes "Command exited with non-zero status N" before the value.
    printf '%s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" \
        "$(tail -n 1 -- "$TMP/$name.rss")" >> "$TMP/$name.times"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== parse vs clang: ${#FILES[@]} CPython 3.11 files, mode $MODE, $REPS repetitions"
echo "clang:      ${CLANG_CMD[0]} ($("$CLANG_BIN" --version | head -n 1))"
echo "pyrefcheck: $BIN"
echo "warm-up ..."
measure clang "${CLANG_CMD[@]}"
measure prc "${PRC_CMD[@]}"
rm -f -- "$TMP/clang.times" "$TMP/prc.times"

for ((r = 1; r <= REPS; r++)); do
    if (( r % 2 )); then
        measure clang "${CLANG_CMD[@]}"; measure prc "${PRC_CMD[@]}"
    else
        measure prc "${PRC_CMD[@]}"; measure clang "${CLANG_CMD[@]}"
    fi
    c=$(tail -n 1 "$TMP/clang.times" | cut -d' ' -f1)
    p=$(tail -n 1 "$TMP/prc.times" | cut -d' ' -f1)
    ratio=$(awk -v p="$p" -v c="$c" 'BEGIN { printf "%.3f", (c > 0 ? p / c : 0) }')
    echo "$ratio" >> "$TMP/ratios"
    printf 'rep %d: clang %.2fs  pyrefcheck %.2fs  ratio %.2f\n' "$r" "$c" "$p" "$ratio"
done

clang_med=$(cut -d' ' -f1 "$TMP/clang.times" | median)
prc_med=$(cut -d' ' -f1 "$TMP/prc.times" | median)
ratio_med=$(median < "$TMP/ratios")
prc_rss=$(cut -d' ' -f2 "$TMP/prc.times" | sort -g | tail -n 1)
clang_rss=$(cut -d' ' -f2 "$TMP/clang.times" | sort -g | tail -n 1)

if command -v python3 >/dev/null 2>&1 && [[ -s "$TMP/prc.json" ]]; then
    python3 - "$TMP/prc.json" <<'PY' || true
import json, sys
try:
    s = json.load(open(sys.argv[1])).get("stats", {})
    print("pyrefcheck stats: %s files, %s functions, %s CFG blocks, %s incomplete, %s failed" % (
        s.get("files"), s.get("functions"), s.get("cfg_blocks"), s.get("functions_incomplete"), s.get("files_failed")))
except Exception as e:
    print("pyrefcheck JSON unreadable: %s" % e)
PY
fi
printf 'clang -fsyntax-only:  median %.2f s   peak RSS %d MiB\n' "$clang_med" "$((clang_rss / 1024))"
printf 'pyrefcheck (%s):     median %.2f s   peak RSS %d MiB\n' "$MODE" "$prc_med" "$((prc_rss / 1024))"
printf 'ratio: %.2f (target <= 1.3)\n' "$ratio_med"
