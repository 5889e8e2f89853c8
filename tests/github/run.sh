#!/usr/bin/env bash
# tests/github/run.sh --pyrefcheck BIN: `--format github` writes GitHub Actions workflow commands:
# one annotation per finding with file, line, column and title, the path folded into the message,
# property values and messages escaped; at most 10 annotations per type (GitHub drops the rest),
# the others as plain compiler-style lines in the log plus one ::notice counting them.
# Prints "N passed, M failed".
set -uo pipefail
BIN=
while [[ $# -gt 0 ]]; do
    case $1 in
        --pyrefcheck) BIN=$2; shift 2 ;;
        *) echo "usage: $0 --pyrefcheck BIN" >&2; exit 2 ;;
    esac
done
[[ -x "$BIN" ]] || { echo "run.sh: no pyrefcheck binary: $BIN" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0; FAIL=0
check() {   # check NAME EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then PASS=$((PASS + 1)); echo "ok   $1"
    else FAIL=$((FAIL + 1)); echo "FAIL $1: expected [$2], got [$3]"; fi
}

# 12 leaks (warnings) and 3 releases of borrowed arguments (errors), in a file whose name needs
# escaping in a property value (a comma).
F="$TMP/many,leaks.c"
{
    echo '#include <Python.h>'
    for i in $(seq 1 12); do
        cat <<C
static PyObject *leak$i(PyObject *self, PyObject *arg)
{
    PyObject *x = PyList_New(0);
    if (x == NULL)
        return NULL;
    Py_RETURN_NONE;
}
C
    done
    for i in 1 2 3; do
        cat <<C
static PyObject *over$i(PyObject *self, PyObject *arg)
{
    Py_DECREF(arg);
    Py_RETURN_NONE;
}
C
    done
    echo 'static PyMethodDef m[] = {'
    for i in $(seq 1 12); do echo "    {\"leak$i\", leak$i, METH_O, NULL},"; done
    for i in 1 2 3; do echo "    {\"over$i\", over$i, METH_O, NULL},"; done
    echo '    {NULL}};'
} > "$F"

BIN=$(realpath -- "$BIN")
cd /  # absolute paths outside the current directory stay absolute
"$BIN" --no-db --format github "$F" > "$TMP/out" 2> "$TMP/err"; rc=$?
check "exit status 1 with findings" 1 "$rc"
check "10 warning annotations (GitHub's cap)" 10 "$(grep -c '^::warning ' "$TMP/out")"
check "3 error annotations" 3 "$(grep -c '^::error ' "$TMP/out")"
check "the 2 other warnings as plain log lines" 2 "$(grep -c ': warning: .*\[leak\]$' "$TMP/out")"
check "one notice counting what was not annotated" \
    "::notice title=pyrefcheck::2 more findings (2 warnings, 0 errors) not annotated: GitHub shows 10 annotations of each type per step. All of them are listed in this log." \
    "$(grep '^::notice' "$TMP/out")"
first=$(grep -m1 '^::warning ' "$TMP/out")
check "file, line, column and title; ',' and ':' escaped in properties" \
    "::warning file=$TMP/many%2Cleaks.c,line=7,col=5,title=pyrefcheck [leak] in leak1()::" \
    "${first%%::leak of*}::"
check "the path folded into the message (%0A-separated numbered steps)" \
    "%0APath:%0A  1. line 4: PyList_New() returns a new reference (refs: 1)%0A  2. line 7: 'x' still holds a reference when the function returns" \
    "${first#*is never released}"
check "one line per annotation" 0 "$(grep -c $'\r' "$TMP/out")"
err=$(grep -m1 '^::error ' "$TMP/out")
check "errors carry their rule in the title" "over-release" "$(sed -n 's/.*title=pyrefcheck \[\([a-z-]*\)\].*/\1/p' <<< "$err")"
check "a summary line at the end" "pyrefcheck: 15 findings in 1 file" "$(tail -1 "$TMP/out")"

# below the current directory, paths are relative to it (GitHub maps them onto the repository)
(cd "$TMP" && "$BIN" --no-db --format github "$F" > "$TMP/rel" 2> /dev/null)
check "paths below the current directory are relative" \
    "::warning file=many%2Cleaks.c,line=7" "$(grep -m1 '^::warning ' "$TMP/rel" | cut -d, -f1-2)"

# a file that cannot be parsed is an ::error annotation on that file; exit 2
printf 'int broken( {\n' > "$TMP/bad 100%.c"
cat > "$TMP/ok.c" <<'C'
#include <Python.h>
static PyObject *g(PyObject *self, PyObject *arg) { return Py_NewRef(arg); }
C
"$BIN" --no-db --format github "$TMP/bad 100%.c" "$TMP/ok.c" > "$TMP/out2" 2> /dev/null; rc=$?
check "parse error exits 2" 2 "$rc"
check "parse error as an ::error annotation with '%' escaped" 1 \
    "$(grep -c "^::error file=$TMP/bad 100%25.c,title=pyrefcheck could not analyse this file::" "$TMP/out2")"

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
