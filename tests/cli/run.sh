#!/usr/bin/env bash
# tests/cli/run.sh --pyrefcheck BIN: the command line as users meet it: exit
# statuses, --help/--version, -o, --format json, --rules, directory walking,
# compile databases (-p), and one-line errors.  Prints "N passed, M failed".
set -uo pipefail
BIN=
while [[ $# -gt 0 ]]; do
    case $1 in
        --pyrefcheck) BIN=$2; shift 2 ;;
        *) echo "usage: $0 --pyrefcheck BIN" >&2; exit 2 ;;
    esac
done
[[ -x "$BIN" ]] || { echo "run.sh: no pyrefcheck binary: $BIN" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   $1"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL $1: $2"; }

cat > "$TMP/leaky.c" <<'C'
#include <Python.h>
static PyObject *f(PyObject *self, PyObject *arg)
{
    PyObject *x = PyList_New(0);
    if (x == NULL)
        return NULL;
    Py_RETURN_NONE;
}
static PyMethodDef m[] = {{"f", f, METH_O, NULL}, {NULL}};
C
cat > "$TMP/clean.c" <<'C'
#include <Python.h>
static PyObject *g(PyObject *self, PyObject *arg) { return Py_NewRef(arg); }
static PyMethodDef m[] = {{"g", g, METH_O, NULL}, {NULL}};
C
cat > "$TMP/plain.c" <<'C'
int add(int a, int b) { return a + b; }
C

# exit statuses
"$BIN" --no-db "$TMP/clean.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 0 ]] && ok "clean file exits 0" || bad "clean file exits 0" "rc=$rc $(cat "$TMP/out")"
"$BIN" --no-db "$TMP/leaky.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 1 ]] && ok "findings exit 1" || bad "findings exit 1" "rc=$rc"
grep -q "leaky.c:7:5: warning: .*\[leak\]" "$TMP/out" && ok "compiler-style warning line" \
    || bad "compiler-style warning line" "$(head -3 "$TMP/out")"
grep -q "leaky.c:4:19: note: PyList_New() returns a new reference (refs: 1)" "$TMP/out" \
    && ok "note on the allocation" || bad "note on the allocation" "$(cat "$TMP/out")"
"$BIN" --no-db --bogus "$TMP/clean.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 2 ]] && grep -q "unknown option" "$TMP/out" && ok "usage error exits 2" || bad "usage error exits 2" "rc=$rc"
"$BIN" --no-db > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 2 ]] && ok "no input exits 2" || bad "no input exits 2" "rc=$rc"
"$BIN" --no-db "$TMP/missing.c" "$TMP/leaky.c" > "$TMP/out" 2> "$TMP/err"; rc=$?
[[ $rc -eq 2 ]] && grep -q "missing.c" "$TMP/err" && grep -q "\[leak\]" "$TMP/out" \
    && ok "missing file: exit 2, others still analysed" || bad "missing file" "rc=$rc $(cat "$TMP/err")"
"$BIN" --version | grep -q "^pyrefcheck [0-9]" && ok "--version" || bad "--version" "no version line"
"$BIN" --help | grep -q "^usage: pyrefcheck" && ok "--help" || bad "--help" "no usage line"

# files without the Python API are skipped quietly
"$BIN" --no-db --format json "$TMP/plain.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 0 ]] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['stats']['files_skipped']==1" "$TMP/out" \
    && ok "non-Python file skipped" || bad "non-Python file skipped" "rc=$rc"

# JSON contract and -o
"$BIN" --no-db --format json -o "$TMP/out.json" "$TMP/leaky.c" > /dev/null 2>&1
python3 - "$TMP/out.json" <<'PY' && ok "JSON contract" || bad "JSON contract" "see above"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"]["name"] == "pyrefcheck" and d["tool"]["version"]
f = d["findings"][0]
for k in ("rule", "severity", "file", "line", "column", "function", "message", "fingerprint", "path"):
    assert k in f, k
assert f["rule"] == "leak" and f["function"] == "f" and f["line"] == 7
assert len(f["fingerprint"]) == 16
assert all({"file", "line", "column", "message"} <= set(s) for s in f["path"])
assert d["errors"] == [] and d["stats"]["files"] == 1
PY

# --rules: a project's own function described in the rules format
cat > "$TMP/user.c" <<'C'
#include <Python.h>
PyObject *cache_get(PyObject *key);
static PyObject *h(PyObject *self, PyObject *key)
{
    PyObject *v = cache_get(key);
    if (v == NULL)
        return NULL;
    Py_DECREF(v);
    Py_RETURN_NONE;
}
static PyMethodDef m[] = {{"h", h, METH_O, NULL}, {NULL}};
C
echo "cache_get ret=borrowed fail=null args=(key:nonnull)" > "$TMP/user.rules"
"$BIN" --no-db "$TMP/user.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 0 ]] && ok "unknown helper: no finding" || bad "unknown helper: no finding" "rc=$rc $(cat "$TMP/out")"
"$BIN" --no-db --rules "$TMP/user.rules" "$TMP/user.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 1 ]] && grep -q "\[over-release\]" "$TMP/out" && ok "--rules entry applied" \
    || bad "--rules entry applied" "rc=$rc $(cat "$TMP/out")"
echo "cache_get ret=sideways" > "$TMP/bad.rules"
"$BIN" --no-db --rules "$TMP/bad.rules" "$TMP/user.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 2 ]] && grep -q "bad.rules:1:" "$TMP/out" && ok "bad --rules file: FILE:LINE error" \
    || bad "bad --rules file" "rc=$rc $(cat "$TMP/out")"

# directories: *.c walked, build/ and hidden folders skipped
mkdir -p "$TMP/tree/sub" "$TMP/tree/build" "$TMP/tree/.hidden"
cp "$TMP/leaky.c" "$TMP/tree/sub/a.c"; cp "$TMP/leaky.c" "$TMP/tree/build/b.c"; cp "$TMP/leaky.c" "$TMP/tree/.hidden/c.c"
"$BIN" --no-db --format json "$TMP/tree" > "$TMP/out" 2>/dev/null
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); fs={f['file'] for f in d['findings']}; assert len(fs)==1 and fs.pop().endswith('sub/a.c'), fs" "$TMP/out" \
    && ok "directory walk skips build/ and hidden" || bad "directory walk" "$(head -c 300 "$TMP/out")"

# compile database: flags per file, every file when no PATH is given
mkdir -p "$TMP/proj/inc" "$TMP/proj/build"
echo '#define MAKE_LIST() PyList_New(0)' > "$TMP/proj/inc/helpers.h"
cat > "$TMP/proj/mod.c" <<'C'
#include <Python.h>
#include "helpers.h"
static PyObject *k(PyObject *self, PyObject *arg)
{
    PyObject *x = MAKE_LIST();
    if (x == NULL)
        return NULL;
    Py_RETURN_NONE;
}
static PyMethodDef m[] = {{"k", k, METH_O, NULL}, {NULL}};
C
cat > "$TMP/proj/build/compile_commands.json" <<J
[{"directory": "$TMP/proj", "file": "mod.c", "command": "cc -Iinc -c mod.c -o mod.o"}]
J
"$BIN" --no-db "$TMP/proj/mod.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 2 ]] && grep -q "helpers.h" "$TMP/out" && ok "missing header without -p: one-line error" \
    || bad "missing header without -p" "rc=$rc $(cat "$TMP/out")"
"$BIN" --no-db -p "$TMP/proj/build" "$TMP/proj/mod.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 1 ]] && grep -q "\[leak\]" "$TMP/out" && ok "-p uses the entry's flags" || bad "-p" "rc=$rc $(cat "$TMP/out")"
# a relative PATH from elsewhere than the entry's directory
(cd "$TMP" && "$BIN" --no-db -p proj/build proj/mod.c) > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 1 ]] && grep -q "^proj/mod.c:.*\[leak\]" "$TMP/out" && ok "-p with a relative PATH" \
    || bad "-p with a relative PATH" "rc=$rc $(cat "$TMP/out")"
"$BIN" --no-db -p "$TMP/proj/build" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 1 ]] && grep -q "mod.c" "$TMP/out" && ok "-p with no PATH checks every file" || bad "-p with no PATH" "rc=$rc $(cat "$TMP/out")"
"$BIN" --no-db -p "$TMP/nowhere" "$TMP/leaky.c" > "$TMP/out" 2>&1; rc=$?
[[ $rc -eq 2 ]] && grep -q "compile_commands.json" "$TMP/out" && ok "bad -p dir: clear error" || bad "bad -p dir" "rc=$rc $(cat "$TMP/out")"

# parallel workers give the same findings as one
"$BIN" --no-db --format json -j1 "$TMP/tree/sub" "$TMP/leaky.c" "$TMP/clean.c" | python3 -c "import json,sys; print(sorted((f['file'],f['line']) for f in json.load(sys.stdin)['findings']))" > "$TMP/j1"
"$BIN" --no-db --format json -j4 "$TMP/tree/sub" "$TMP/leaky.c" "$TMP/clean.c" | python3 -c "import json,sys; print(sorted((f['file'],f['line']) for f in json.load(sys.stdin)['findings']))" > "$TMP/j4"
cmp -s "$TMP/j1" "$TMP/j4" && ok "-j4 equals -j1" || bad "-j4 equals -j1" "$(cat "$TMP/j1") vs $(cat "$TMP/j4")"

# the progress line: on a terminal (script(1) gives the run one) for runs over 4 files or more,
# erased at the end; never when stderr is a file or a pipe, or with --quiet
mkdir -p "$TMP/many"
for i in 1 2 3 4 5; do cp "$TMP/clean.c" "$TMP/many/c$i.c"; done
if command -v script > /dev/null; then
    script -qfec "'$BIN' --no-db -j1 '$TMP/many' 2> '$TMP/tty.err'" /dev/null > /dev/null 2>&1
    script -qfec "'$BIN' --no-db -j1 '$TMP/many'" /dev/null > "$TMP/tty.out" 2>&1
    n=$(grep -o '\[[0-9]/5\]' "$TMP/tty.out" | tr '\n' ' ')
    [[ "$n" == "[1/5] [2/5] [3/5] [4/5] [5/5] " ]] && ok "progress line on a terminal: [n/total] per file" \
        || bad "progress line on a terminal" "$n"
    python3 -c 'import re,sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if re.search(rb"c5\.c\r\x1b\[Kpyrefcheck: 5 files", d) else 1)' "$TMP/tty.out" \
        && ok "progress line erased before the summary" || bad "progress line erased" "$(tail -c 120 "$TMP/tty.out" | od -c | tail -4)"
    [[ ! -s "$TMP/tty.err" ]] && ok "no progress line when stderr is a file" || bad "no progress when stderr is a file" "$(od -c "$TMP/tty.err" | head -3)"
    script -qfec "'$BIN' --no-db -j1 --quiet '$TMP/many'" /dev/null > "$TMP/tty.q" 2>&1
    [[ $(grep -c '\[1/5\]' "$TMP/tty.q") -eq 0 ]] && ok "no progress line with --quiet" || bad "--quiet progress" "$(cat "$TMP/tty.q")"
    script -qfec "'$BIN' --no-db -j1 '$TMP/many/c1.c' '$TMP/many/c2.c' '$TMP/many/c3.c'" /dev/null > "$TMP/tty.3" 2>&1
    [[ $(grep -c '\[1/3\]' "$TMP/tty.3") -eq 0 ]] && ok "no progress line for 3 files" || bad "progress for 3 files" "$(cat "$TMP/tty.3")"
else
    bad "progress line" "script(1) (bsdutils) is not installed"
fi

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
