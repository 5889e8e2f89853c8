#!/usr/bin/env bash
# tests/validate/run.sh - validation end to end (needs the reference runtime):
#   check --validate on tests/validate/ext.c, whose functions each hold one bug
#   whose status is known by construction (confirmed / unsupported /
#   not-reproduced, a run that never ends included); the witness's reproduction
#   command; the text note; a file the harness cannot compile (has_main.c);
#   `pyrefcheck validate` on a database, with --rule and --file, storing the
#   status; a usage error; and tests/validate/setups.c, whose findings only a
#   set-up confirms (a probe argument, a pending exception, self's fields filled,
#   self built with its tp_init's arguments, an empty list with NULL reaching an API).
#
#   run.sh --pyrefcheck BIN
set -u
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --pyrefcheck) BIN="$2"; shift 2 ;;
        *) echo "usage: $0 --pyrefcheck BIN" >&2; exit 2 ;;
    esac
done
[ -x "$BIN" ] || { echo "run.sh: --pyrefcheck BIN is required" >&2; exit 2; }
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d /tmp/prc-validate-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
FAILS=0
CHECKS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); }
cp "$HERE/ext.c" "$HERE/has_main.c" "$HERE/setups.c" "$WORK/"
cd "$WORK" || exit 2

# 1. check --validate: every status as constructed ------------------------------
start=$(date +%s)
"$BIN" check --validate --validate-timeout 1 --validate-dir "$WORK/cache" --no-db \
    --format json -o out.json ext.c has_main.c 2>stderr.txt
rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" = 1 ] && ok || fail "check --validate exit status $rc (want 1): $(tail -3 stderr.txt)"
[ "$took" -lt 240 ] && ok || fail "check --validate took ${took}s"
grep -q "validation: .* confirmed" stderr.txt && ok || fail "no validation summary on stderr"
python3 "$HERE/statuses.py" out.json \
    leak_on_append:leak=confirmed fill_unchecked:null-deref=confirmed \
    first_item:borrowed-return=confirmed drop_arg:over-release=confirmed \
    lookup_fresh:null-without-exception=confirmed \
    lookup_fresh:use-after-release=not-reproduced \
    "encode_leak:leak=unsupported: PyCodec_Encode" append_forever:leak=confirmed \
    spin_then_leak:leak=not-reproduced "leaky:leak=unsupported: compile error" \
    && ok || fail "statuses of ext.c and has_main.c"
# (lookup_fresh's use-after-release: the fresh dict is empty, nothing to release)
python3 - out.json <<'EOF' || FAILS=$((FAILS + 1))
import json, sys
doc = json.load(open(sys.argv[1]))
got = {(f["function"], f["rule"]): f["validation"] for f in doc["findings"]}
bad = 0
w = got.get(("leak_on_append", "leak")) or ""
if "faults=" not in w or "reproduce: " not in w or "leak_on_append" not in w:
    print("FAIL: witness lacks the fault plan or the reproduction: %r" % w)
    bad += 1
if "PyList_Append" not in w:
    print("FAIL: the witness's plan should make PyList_Append fail: %r" % w)
    bad += 1
if "reproduce: " in w:
    open("reproduce.sh", "w").write(w.split("reproduce: ", 1)[1] + "\n")
sys.exit(1 if bad else 0)
EOF
ok

# 1b. set-ups: a probe argument, a pending exception, self's fields filled,
# self constructed with its tp_init's arguments ---------------------------------
"$BIN" check --validate --validate-timeout 2 --validate-dir "$WORK/cache" --no-db \
    --format json -o setups.json setups.c 2>/dev/null
python3 "$HERE/statuses.py" setups.json \
    "close_and_forget:leak=confirmed: close_and_forget(probe) faults=" \
    "drop_traceback:leak=confirmed: drop_traceback() +exc faults=" \
    "Holder_fire:leak=confirmed: Holder_fire() +fill faults=" \
    "Named_name:borrowed-return=confirmed: Named_name() faults=" \
    "first_as_int:null-deref=confirmed: first_as_int(list0) faults=" \
    && ok || fail "statuses of setups.c"

# 1c. the harness compiles with the compile database's flags (-p): a relative
# include directory and a define the leak depends on ----------------------------
mkdir -p proj/src proj/include proj/build
printf '#define CACHE_SIZE 4\n' > proj/include/cfg.h
cat > proj/src/m.c <<'EOF'
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "cfg.h"

static PyObject *
cached(PyObject *self, PyObject *arg)
{
    PyObject *l = PyList_New(CACHE_SIZE);
    if (l == NULL)
        return NULL;
#ifdef WITH_CACHE
    if (PyList_Append(l, arg) < 0)
        return NULL;
#endif
    return l;
}

static PyMethodDef m_methods[] = {{"cached", cached, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef m_module = {PyModuleDef_HEAD_INIT, "m", NULL, -1, m_methods};
PyMODINIT_FUNC PyInit_m(void) { return PyModule_Create(&m_module); }
EOF
cat > proj/build/compile_commands.json <<EOF
[{"directory": "$WORK/proj/build", "file": "../src/m.c",
  "command": "cc -I../include -DWITH_CACHE -o m.o -c ../src/m.c"}]
EOF
"$BIN" check --validate --validate-timeout 2 --validate-dir "$WORK/cache" --no-db -p proj/build \
    --format json -o cdb.json proj/src/m.c 2>cdb.err
grep -q '"validation": "confirmed: cached(' cdb.json && ok ||
    fail "the leak under WITH_CACHE was not confirmed: $(grep -o '"validation": "[^"]*"' cdb.json) $(tail -2 cdb.err)"

# 2. the reproduction command shows the leak again ------------------------------
if [ -s reproduce.sh ]; then
    sh reproduce.sh > repro.txt 2>&1
    grep -q "^prt: leak .*allocated-by PyList_New" repro.txt && ok ||
        fail "reproduction did not show the leak: $(head -5 repro.txt)"
fi

# 3. text output: one note line with the validation ---------------------------
"$BIN" check --validate --validate-timeout 1 --validate-dir "$WORK/cache" --no-db \
    --quiet ext.c > out.txt 2>/dev/null
grep -q "^ext.c:[0-9]*:[0-9]*: note: validation: confirmed: leak_on_append(" out.txt && ok ||
    fail "text output lacks the validation note: $(head -5 out.txt)"
[ "$(grep -c 'note: validation: ' out.txt)" = 9 ] && ok ||
    fail "want 9 validation notes, got $(grep -c 'note: validation: ' out.txt)"

# 4. pyrefcheck validate on a database ----------------------------------------
"$BIN" check --db db.sqlite --quiet ext.c > /dev/null 2>&1
"$BIN" validate --db db.sqlite --rule leak --validate-timeout 1 \
    --validate-dir "$WORK/cache" > v.txt 2> v.err
rc=$?
[ "$rc" = 0 ] && ok || fail "validate exit status $rc: $(tail -3 v.err)"
grep -q "validated 4 findings: 2 confirmed, 1 not reproduced, 1 unsupported" v.txt && ok ||
    fail "validate summary: $(tail -1 v.txt)"
if command -v sqlite3 > /dev/null; then
    n=$(sqlite3 db.sqlite "SELECT count(*) FROM findings WHERE rule = 'leak' AND validation LIKE 'confirmed:%'")
    [ "$n" = 2 ] && ok || fail "stored confirmed leaks: $n (want 2)"
    n=$(sqlite3 db.sqlite "SELECT count(*) FROM findings WHERE rule <> 'leak' AND validation IS NOT NULL")
    [ "$n" = 0 ] && ok || fail "--rule leak touched other rules: $n"
fi
"$BIN" db findings --db db.sqlite --rule leak --format json > dbf.json 2>&1
grep -q '"validation": "confirmed: ' dbf.json && ok || fail "db findings lacks the stored validation"
# --file: only that file's findings
"$BIN" validate --db db.sqlite --file nothere.c --validate-dir "$WORK/cache" > v2.txt 2>&1
grep -q "validated 0 findings" v2.txt && ok || fail "validate --file nothere.c: $(tail -1 v2.txt)"
# a later check reuses the file and keeps the stored status
"$BIN" check --db db.sqlite --format json -o again.json ext.c > /dev/null 2>&1
grep -q '"validation": "confirmed: leak_on_append' again.json && ok ||
    fail "a reused file lost its validation"

# 5. usage -------------------------------------------------------------------
"$BIN" validate ext.c > /dev/null 2>&1
[ $? = 2 ] && ok || fail "validate with a PATH must be a usage error"
"$BIN" validate --db missing.sqlite > /dev/null 2>&1
[ $? = 2 ] && ok || fail "validate on a missing database must fail"

echo "validate: $CHECKS checks passed, $FAILS failed"
[ "$FAILS" = 0 ]
