#!/usr/bin/env bash
# measure.sh - validation statuses on real code: runs `pyrefcheck check --validate`
# and prints the shares confirmed / not reproduced / unsupported (overall and per
# rule), the APIs the runtime lacks most often, and the not-reproduced findings.
#
# Usage: tests/validate/measure.sh [--pyrefcheck BIN] [--out DIR] [--timeout S]
#                                  (--cpython [N] | PATH... [-- FLAGS])
#   --pyrefcheck BIN  default <repo>/build/pyrefcheck
#   --out DIR         keep validate.json, not-reproduced.txt and the harness cache there
#                     (default: a temporary folder, removed)
#   --timeout S       --validate-timeout (default 5)
#   --cpython [N]     CPython 3.11's Modules/*.c that clang parses (the first N; all by
#                     default), with tests/realcode's flags
#   PATH...           files or folders (e.g. fixtures/demo), FLAGS after --
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../realcode/common.sh
. "$HERE/../realcode/common.sh"
PROG=${0##*/}
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

BIN="$PRC_ROOT/build/pyrefcheck"
OUT=""
TIMEOUT=5
CPY=-1
PATHS=()
FLAGS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pyrefcheck) BIN=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --cpython)
            CPY=0
            if [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]]; then CPY=$2; shift; fi
            shift ;;
        --) shift; FLAGS=("$@"); break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) die "unknown option: $1" ;;
        *) PATHS+=("$1"); shift ;;
    esac
done
[[ -x "$BIN" ]] || die "pyrefcheck binary not found: $BIN"
if [[ -z "$OUT" ]]; then
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/prc-measure.XXXXXX")
    trap 'rm -rf -- "$OUT"' EXIT
fi
mkdir -p "$OUT"
EXTRA=()
if (( CPY >= 0 )); then
    CLANG_BIN=$(prc_find_clang) || die "clang-19 (or clang >= 17) not found"
    SRC=$(prc_get_cpython "") || die "CPython 3.11 source not available"
    prc_cpython_flags "$SRC" || die "cannot build the compiler flags"
    prc_split_parseable "$SRC" "$CLANG_BIN" "$(nproc 2>/dev/null || echo 2)" "$OUT/files.txt" "$OUT/excluded.txt"
    if (( CPY > 0 )); then
        mapfile -t PATHS < <(head -n "$CPY" "$OUT/files.txt")
    else
        mapfile -t PATHS < "$OUT/files.txt"
    fi
    EXTRA=(--python-include "$SRC/Include")
    FLAGS=("${PRC_FLAGS[@]}")
fi
[[ ${#PATHS[@]} -gt 0 ]] || die "nothing to measure (PATH... or --cpython)"

t0=$(date +%s)
set +e
"$BIN" check --validate --no-db --quiet --format json -o "$OUT/validate.json" \
    --validate-dir "$OUT/cache" --validate-timeout "$TIMEOUT" "${EXTRA[@]}" "${PATHS[@]}" \
    ${FLAGS[@]+-- "${FLAGS[@]}"} 2> "$OUT/stderr.txt" < /dev/null
rc=$?
set -e
(( rc <= 2 )) || { tail -n 5 "$OUT/stderr.txt" >&2; die "pyrefcheck exited with status $rc"; }
echo "== $(( $(date +%s) - t0 ))s, ${#PATHS[@]} path(s)"
python3 - "$OUT/validate.json" "$OUT/not-reproduced.txt" <<'PY'
import json, re, sys
from collections import Counter, defaultdict
doc = json.load(open(sys.argv[1]))
fs = doc["findings"]
def word(v):
    return re.split(r"[: ]", v or "none", maxsplit=1)[0]
tot = Counter(word(f.get("validation")) for f in fs)
n = len(fs) or 1
print("findings: %d" % len(fs))
for k in ("confirmed", "not-reproduced", "unsupported", "none"):
    if tot.get(k):
        print("  %-15s %4d  %5.1f%%" % (k, tot[k], 100.0 * tot[k] / n))
per = defaultdict(Counter)
for f in fs:
    per[f["rule"]][word(f.get("validation"))] += 1
print("per rule (confirmed / not-reproduced / unsupported):")
for rule in sorted(per):
    c = per[rule]
    print("  %-24s %3d / %3d / %3d" % (rule, c["confirmed"], c["not-reproduced"], c["unsupported"]))
missed = Counter()
for f in fs:
    v = f.get("validation") or ""
    if v.startswith("unsupported: "):
        what = v[len("unsupported: "):]
        if what.startswith("compile error") or what.startswith("link error"):
            what = what.split(":")[0]
        elif what.startswith("cannot call"):
            what = "cannot call (signature)"
        missed[what] += 1
print("most-missed (unsupported: WHAT):")
for what, c in missed.most_common(20):
    print("  %4d  %s" % (c, what))
with open(sys.argv[2], "w") as out:
    for f in fs:
        if word(f.get("validation")) == "not-reproduced":
            out.write("%s:%d: %s [%s] in %s\n" % (f["file"], f["line"], f["message"], f["rule"],
                                                  f["function"]))
print("not reproduced: %s" % sys.argv[2])
PY
