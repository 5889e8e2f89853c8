#!/usr/bin/env bash
# cpython.sh - run pyrefcheck over CPython 3.11's Modules/*.c (top level only), one file
# per process with a timeout, and report crashes, hangs and per-file / total statistics.
#
# Usage: tests/realcode/cpython.sh [--pyrefcheck BIN] [--mode cfg|full] [--src DIR]
#                                  [--results DIR] [--jobs N] [--timeout SECONDS]
#                                  [--db FILE] [--max-total SECONDS] [--list]
#   --pyrefcheck BIN  binary to run (default: <repo>/build/pyrefcheck)
#   --mode cfg|full   cfg passes --cfg-only (parse + CFGs only); full analyses (default)
#   --src DIR         CPython source tree (default: $PYREFCHECK_CPYTHON_SRC, else the
#                     cache filled by tests/realcode/fetch-cpython.sh, fetching if needed)
#   --results DIR     where per-file JSON/stderr and the summary go
#                     (default: <repo>/build/realcode/cpython-MODE; emptied first)
#   --jobs N          files analysed at once (default: nproc)
#   --timeout S       per-file limit in seconds (default: 60)
#   --db FILE         pass --db FILE instead of --no-db
#   --max-total S     stop starting files after S seconds; files not run count as failures
#   --list            only print which files clang parses and which are excluded
#
# Only files that clang (clang-19, or $CLANG) accepts with -fsyntax-only and the same
# flags are given to pyrefcheck; the others are listed as excluded with clang's reason.
# Exit status: 0 when no file crashed, hung, tripped a sanitizer, wrote invalid JSON or
# was left unrun by --max-total;
# 1 otherwise; 2 when the run could not be set up (no source, no binary, no clang).
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

PROG=${0##*/}
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

BIN="$PRC_ROOT/build/pyrefcheck"
MODE=full
SRC=""
RES=""
JOBS=$(nproc 2>/dev/null || echo 2)
TIMEOUT=60
DB=""
MAX_TOTAL=0
LIST_ONLY=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pyrefcheck) [[ $# -ge 2 ]] || die "$1 needs a value"; BIN=$2; shift 2 ;;
        --mode)       [[ $# -ge 2 ]] || die "$1 needs a value"; MODE=$2; shift 2 ;;
        --src)        [[ $# -ge 2 ]] || die "$1 needs a value"; SRC=$2; shift 2 ;;
        --results)    [[ $# -ge 2 ]] || die "$1 needs a value"; RES=$2; shift 2 ;;
        --jobs|-j)    [[ $# -ge 2 ]] || die "$1 needs a value"; JOBS=$2; shift 2 ;;
        --timeout)    [[ $# -ge 2 ]] || die "$1 needs a value"; TIMEOUT=$2; shift 2 ;;
        --db)         [[ $# -ge 2 ]] || die "$1 needs a value"; DB=$2; shift 2 ;;
        --max-total)  [[ $# -ge 2 ]] || die "$1 needs a value"; MAX_TOTAL=$2; shift 2 ;;
        --list)       LIST_ONLY=1; shift ;;
        -h|--help)    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
case "$MODE" in cfg|full) ;; *) die "--mode must be cfg or full" ;; esac
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer"
[[ "$MAX_TOTAL" =~ ^[0-9]+$ ]] || die "--max-total must be a number of seconds"

CLANG_BIN=$(prc_find_clang) || die "clang-19 (or clang >= 17) not found; install clang-19"
SRC=$(prc_get_cpython "$SRC") || die "CPython 3.11 source not available"
prc_cpython_flags "$SRC" || die "cannot build the compiler flags"
if [[ $LIST_ONLY -eq 0 ]]; then
    [[ -x "$BIN" ]] || die "pyrefcheck binary not found or not executable: $BIN"
    BIN=$(cd -- "$(dirname -- "$BIN")" && pwd)/$(basename -- "$BIN")
fi
PYBIN=$(command -v python3) || die "python3 not found"

LIST_TMP=""
if [[ -z "$RES" && $LIST_ONLY -eq 1 ]]; then
    LIST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/prc-list.XXXXXX"); RES="$LIST_TMP/results"
fi
[[ -n "$RES" ]] || RES="$PRC_ROOT/build/realcode/cpython-$MODE"
if [[ -e "$RES" ]]; then
    if [[ -f "$RES/.prc-results" ]] || [[ -z "$(ls -A -- "$RES")" ]]; then
        rm -rf -- "$RES"
    else
        die "results dir $RES exists and was not made by this script; remove it or pick another"
    fi
fi
mkdir -p -- "$RES/files"
: > "$RES/.prc-results"
RES=$(cd -- "$RES" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prc-cpython.XXXXXX")
PIDS=()
# shellcheck disable=SC2317
cleanup() {
    local p
    # The workers are subshells; their child is timeout(1), which passes TERM on.
    for p in "${PIDS[@]}"; do
        pkill -TERM -P "$p" 2>/dev/null || true
        kill -- "$p" 2>/dev/null || true
    done
    rm -rf -- "$WORK"
    if [[ -n "$LIST_TMP" ]]; then rm -rf -- "$LIST_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== CPython real-code run ($MODE mode)"
echo "source:   $SRC ($(cat -- "$SRC/.pyrefcheck-source" 2>/dev/null || echo 'origin unknown'))"
echo "clang:    $CLANG_BIN ($("$CLANG_BIN" --version | head -n 1))"
echo "flags:    ${PRC_FLAGS[*]}"
[[ $LIST_ONLY -eq 1 ]] || echo "binary:   $BIN"
echo "results:  $RES"

prc_split_parseable "$SRC" "$CLANG_BIN" "$JOBS" "$RES/parseable.txt" "$RES/excluded.txt"
n_all=$(find "$SRC/Modules" -maxdepth 1 -type f -name '*.c' | wc -l)
n_ok=$(wc -l < "$RES/parseable.txt")
n_ex=$(wc -l < "$RES/excluded.txt")
echo "clang parses $n_ok of $n_all top-level Modules/*.c; excluded $n_ex:"
while IFS=$'\t' read -r f why; do
    printf '  excluded %-28s %s\n' "$f" "$why"
done < "$RES/excluded.txt"
[[ $n_ok -gt 0 ]] || die "clang parses none of the files: check the flags"

if [[ $LIST_ONLY -eq 1 ]]; then
    sed 's#.*/#  parseable Modules/#' "$RES/parseable.txt"
    exit 0
fi

# --python-include: the source's own headers, not the ones pyrefcheck was built with.
ARGS=(check --format json -j1 --python-include "$SRC/Include")
if [[ -n "$DB" ]]; then ARGS+=(--db "$DB"); else ARGS+=(--no-db); fi
[[ "$MODE" == cfg ]] && ARGS+=(--cfg-only)

# run_one FILE: analyse one file; writes files/NAME.{json,stdout,stderr,status}.
run_one() {
    local f=$1 b base t0 t1 rc
    b=${f##*/}; b=${b%.c}
    base="$RES/files/$b"
    t0=$(date +%s%N)
    set +e
    timeout -k 5 "$TIMEOUT" "$BIN" "${ARGS[@]}" -o "$base.json" "$f" -- "${PRC_FLAGS[@]}" \
        > "$base.stdout" 2> "$base.stderr" < /dev/null
    rc=$?
    set -e
    t1=$(date +%s%N)
    printf '%s\t%s\t%s\t%s\n' "Modules/$b.c" "$rc" "$(prc_classify_rc "$rc" "$base.stderr")" \
        "$(( (t1 - t0) / 1000000 ))" > "$base.status"
}

echo "running $n_ok files, $JOBS at a time, ${TIMEOUT}s limit each ..."
T0=$(date +%s%N)
running=0
while IFS= read -r f; do
    if (( MAX_TOTAL > 0 && ($(date +%s%N) - T0) / 1000000000 >= MAX_TOTAL )); then
        b=${f##*/}
        printf '%s\t%s\t%s\t%s\n' "Modules/$b" -1 notrun 0 > "$RES/files/${b%.c}.status"
        continue
    fi
    if (( running >= JOBS )); then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$f" &
    PIDS+=($!)
    running=$((running + 1))
done < "$RES/parseable.txt"
wait || true
PIDS=()
T1=$(date +%s%N)
WALL_MS=$(( (T1 - T0) / 1000000 ))

set +e
"$PYBIN" - "$RES" "$WALL_MS" "$MODE" <<'PY' | tee "$RES/summary.txt"
import json, os, sys, collections

res, wall_ms, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fdir = os.path.join(res, "files")
rows, fails, errors, notrun = [], [], [], []
tot = collections.Counter()
klass = collections.Counter()
rules = collections.Counter()

def rule_of(f):
    if isinstance(f, dict):
        for k in ("rule", "rule_id", "ruleId", "check", "id", "kind"):
            v = f.get(k)
            if isinstance(v, str) and v:
                return v
    return "?"

for name in sorted(os.listdir(fdir)):
    if not name.endswith(".status"):
        continue
    with open(os.path.join(fdir, name)) as fh:
        path, rc, cls, ms = fh.read().rstrip("\n").split("\t")
    base = os.path.join(fdir, name[:-len(".status")])
    rc, ms = int(rc), int(ms)
    st = {}
    nfind = 0
    note = ""
    data = None
    if os.path.exists(base + ".json") and os.path.getsize(base + ".json") > 0:
        try:
            with open(base + ".json", encoding="utf-8") as fh:
                data = json.load(fh)
        except (ValueError, UnicodeDecodeError) as e:
            note = "invalid JSON: %s" % e
    if data is not None:
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list) \
                or not isinstance(data.get("stats"), dict):
            note = "JSON lacks findings[] or stats{}"
        else:
            st = data["stats"]
            nfind = len(data["findings"])
            for f in data["findings"]:
                rules[rule_of(f)] += 1
            for e in data.get("errors") or []:
                if isinstance(e, dict):
                    errors.append("%s: %s" % (e.get("file", path), e.get("message", "?")))
    elif cls in ("ok", "findings") and not note:
        note = "no JSON written"
    if cls in ("ok", "findings") and note:
        cls = "badjson"
    if cls == "error":
        try:
            with open(base + ".stderr", errors="replace") as fh:
                first = next((l.strip() for l in fh if l.strip()), "")
        except OSError:
            first = ""
        note = note or first or "exit 2 with empty stderr"
    if cls in ("crash", "hang", "sanitizer"):
        try:
            with open(base + ".stderr", errors="replace") as fh:
                lines = [l.rstrip() for l in fh if l.strip()]
        except OSError:
            lines = []
        pick = [l for l in lines if "Sanitizer" in l or "runtime error" in l or "error" in l.lower()]
        note = (pick or lines or ["(no stderr)"])[0][:160]
        if cls == "crash" and rc > 128:
            note = "signal %d; %s" % (rc - 128, note)
    def num(k):
        v = st.get(k, 0)
        return v if isinstance(v, (int, float)) else 0
    row = dict(path=path, rc=rc, cls=cls, ms=ms, functions=num("functions"),
               blocks=num("cfg_blocks"), incomplete=num("functions_incomplete"),
               findings=nfind, seconds=num("seconds"), note=note)
    rows.append(row)
    klass[cls] += 1
    for k in ("functions", "blocks", "incomplete", "findings", "ms"):
        tot[k] += row[k]
    tot["seconds"] += row["seconds"]
    if cls == "notrun":
        row["note"] = "not run: the --max-total time budget was used up"
    if cls in ("crash", "hang", "sanitizer", "badjson"):
        fails.append(row)
    elif cls == "notrun":
        notrun.append(row["path"])

print()
print("%-30s %4s %-9s %6s %7s %5s %6s %8s" % ("file", "rc", "status", "funcs", "blocks", "inc", "finds", "wall_s"))
for r in rows:
    print("%-30s %4d %-9s %6d %7d %5d %6d %8.2f%s" % (
        r["path"], r["rc"], r["cls"], r["functions"], r["blocks"], r["incomplete"],
        r["findings"], r["ms"] / 1000.0, ("  " + r["note"]) if r["note"] else ""))
print()
print("== totals (%s mode)" % mode)
print("files analysed:        %d  (ok %d, with findings %d, exit-2 errors %d, crashes %d, hangs %d, sanitizer %d, bad JSON %d, not run %d)" % (
    len(rows) - klass["notrun"], klass["ok"], klass["findings"], klass["error"], klass["crash"], klass["hang"],
    klass["sanitizer"], klass["badjson"], klass["notrun"]))
print("functions:             %d" % tot["functions"])
print("incomplete functions:  %d" % tot["incomplete"])
print("CFG blocks:            %d" % tot["blocks"])
print("findings:              %d" % tot["findings"])
for rule, n in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0])):
    print("  %-30s %d" % (rule, n))
print("time:                  %.1f s wall for the run; %.1f s summed per-file wall; %.1f s reported by pyrefcheck" % (
    wall_ms / 1000.0, tot["ms"] / 1000.0, tot["seconds"]))
slow = sorted(rows, key=lambda r: -r["ms"])[:5]
print("slowest files:         " + ", ".join("%s %.1fs" % (r["path"], r["ms"] / 1000.0) for r in slow))
if errors:
    print("errors reported in JSON (%d):" % len(errors))
    for e in errors[:20]:
        print("  " + e)
if fails or notrun:
    print()
if fails:
    print("FAILED: %d file(s) crashed, hung, tripped a sanitizer or wrote bad JSON:" % len(fails))
    for r in fails:
        print("  %s: %s (exit %d) %s" % (r["path"], r["cls"], r["rc"], r["note"]))
if notrun:
    print("FAILED: %d file(s) not run, the --max-total time budget was used up: %s%s" % (
        len(notrun), " ".join(notrun[:5]), " ..." if len(notrun) > 5 else ""))
if fails or notrun:
    sys.exit(1)
print("no crashes, no hangs")
PY
rc=${PIPESTATUS[0]}
set -e
echo "per-file JSON and stderr: $RES/files/"
exit "$rc"
