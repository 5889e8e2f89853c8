#!/usr/bin/env bash
# tests/precommit/run.sh --pyrefcheck BIN: the hook in .pre-commit-hooks.yaml, run by the real
# `pre-commit` (Debian package) in a scratch git repository that adds this repository's hook the
# way a project would: a commit introducing a leak is rejected with the finding shown; a clean
# commit passes; only the staged files are checked; compile_commands.json is used; findings in
# pyrefcheck-baseline.txt do not block.  Exits 77 when pre-commit or git is not installed.
# Prints "N passed, M failed".
set -uo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
BIN=
while [[ $# -gt 0 ]]; do
    case $1 in
        --pyrefcheck) BIN=$(realpath -- "$2"); shift 2 ;;
        *) echo "usage: $0 --pyrefcheck BIN" >&2; exit 2 ;;
    esac
done
[[ -x "$BIN" ]] || { echo "usage: $0 --pyrefcheck BIN" >&2; exit 2; }
for tool in pre-commit git; do
    command -v "$tool" > /dev/null || { echo "SKIPPED: $tool is not installed (apt-get install pre-commit git)"; { [[ "${PYREFCHECK_REQUIRE_TOOLS:-0}" == 1 ]] && exit 1; exit 77; }; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/prc-precommit.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
PASS=0; FAIL=0
check() {   # check NAME EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then PASS=$((PASS + 1)); echo "ok   $1"
    else FAIL=$((FAIL + 1)); echo "FAIL $1: expected [$2], got [$3]"; fi
}

# `language: system` runs the pyrefcheck on PATH: put the one under test there.
mkdir -p "$TMP/bin"
ln -s -- "$BIN" "$TMP/bin/pyrefcheck"
export PATH="$TMP/bin:$PATH"
export PRE_COMMIT_HOME="$TMP/cache"      # pre-commit's clones, not the user's ~/.cache
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.invalid
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.invalid
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

# The hook repository: this working tree's .pre-commit-hooks.yaml, committed (pre-commit clones a
# revision, so uncommitted edits to the hook definition are tested too).
git init -q "$TMP/hookrepo"
cp -- "$ROOT/.pre-commit-hooks.yaml" "$TMP/hookrepo/"
git -C "$TMP/hookrepo" add .pre-commit-hooks.yaml
git -C "$TMP/hookrepo" commit -qm hooks
REV=$(git -C "$TMP/hookrepo" rev-parse HEAD)

P="$TMP/project"
git init -q "$P"
cd -- "$P"
cat > .pre-commit-config.yaml <<EOF
repos:
  - repo: $TMP/hookrepo
    rev: $REV
    hooks:
      - id: pyrefcheck
EOF
git add .pre-commit-config.yaml
git commit -qm config
pre-commit install > "$TMP/install.log" 2>&1
check "pre-commit install" 0 "$?"

clean_c() {
    cat <<'C'
#include <Python.h>
static PyObject *ok(PyObject *self, PyObject *arg) { return Py_NewRef(arg); }
static PyMethodDef methods[] = {{"ok", ok, METH_O, NULL}, {NULL}};
C
}
leaky_c() {   # leaky_c NAME: a method that leaks a list when the argument is not an int
    cat <<C
#include <Python.h>
static PyObject *$1(PyObject *self, PyObject *arg)
{
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    if (!PyLong_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "need an int");
        return NULL;
    }
    return list;
}
static PyMethodDef methods[] = {{"$1", $1, METH_O, NULL}, {NULL}};
C
}

# 1. a clean commit passes
clean_c > clean.c
git add clean.c
git commit -qm clean > "$TMP/c1.log" 2>&1; rc=$?
check "a clean commit passes" 0 "$rc"
check "the hook ran on it" 1 "$(grep -c '^pyrefcheck.*Passed' "$TMP/c1.log")"

# 2. a commit introducing a leak is rejected, the finding shown
leaky_c grow > grow.c
git add grow.c
git commit -qm leak > "$TMP/c2.log" 2>&1; rc=$?
check "a commit introducing a leak is rejected" 1 "$rc"
check "the finding is shown" 1 "$(grep -c "^grow.c:9:9: warning: leak of 'list'.*\[leak\]" "$TMP/c2.log")"
check "with its path" 1 "$(grep -c "^grow.c:4:22: note: PyList_New() returns a new reference" "$TMP/c2.log")"
check "nothing was committed" 2 "$(git rev-list --count HEAD)"
git reset -q grow.c

# 3. only the staged files are checked: the leaky file lying around does not block
printf '/* a comment */\n' >> clean.c
git add clean.c
git commit -qm "touch clean" > "$TMP/c3.log" 2>&1; rc=$?
check "only staged files are checked (an unstaged leaky file does not block)" 0 "$rc"
check "no finding about the unstaged file" 0 "$(grep -c 'grow.c' "$TMP/c3.log")"

# 4. a baseline: accepted findings in legacy code do not block, new ones do
pyrefcheck baseline create --no-db grow.c > /dev/null 2>&1
check "baseline created" 1 "$(grep -c . pyrefcheck-baseline.txt | awk '{print ($1 > 0)}')"
git add grow.c pyrefcheck-baseline.txt
git commit -qm "legacy code with its baseline" > "$TMP/c4.log" 2>&1; rc=$?
check "a finding in the baseline does not block" 0 "$rc"
leaky_c grow2 > grow2.c
git add grow2.c
git commit -qm "new leak" > "$TMP/c5.log" 2>&1; rc=$?
check "a new finding still blocks with a baseline" 1 "$rc"
check "only the new finding is shown" "1 0" \
    "$(grep -c '^grow2.c:.*\[leak\]' "$TMP/c5.log") $(grep -c '^grow.c:.*\[leak\]' "$TMP/c5.log")"
git reset -q grow2.c
rm -f grow2.c

# 5. the compile database is used: the leak only exists with -DWITH_CACHE, which only
#    build/compile_commands.json passes
{
    echo '#include <Python.h>'
    echo 'static PyObject *cached(PyObject *self, PyObject *arg)'
    echo '{'
    echo '    PyObject *t = PyTuple_New(1);'
    echo '    if (t == NULL)'
    echo '        return NULL;'
    echo '#ifdef WITH_CACHE'
    echo '    if (arg == Py_None)'
    echo '        return Py_NewRef(arg);'
    echo '#endif'
    echo '    Py_DECREF(t);'
    echo '    return Py_NewRef(arg);'
    echo '}'
    echo 'static PyMethodDef methods[] = {{"cached", cached, METH_O, NULL}, {NULL}};'
} > cache.c
git add cache.c
git commit -qm "no compile database" > "$TMP/c6.log" 2>&1; rc=$?
check "without a compile database the #ifdef'd leak is not seen" 0 "$rc"
mkdir -p build
cat > build/compile_commands.json <<EOF
[{"directory": "$P", "file": "cache.c", "arguments": ["cc", "-DWITH_CACHE", "-c", "cache.c"]}]
EOF
printf '/* touched */\n' >> cache.c
git add cache.c
git commit -qm "with compile database" > "$TMP/c7.log" 2>&1; rc=$?
check "with build/compile_commands.json the hook sees -DWITH_CACHE" 1 "$rc"
check "and reports the leak under it" 1 "$(grep -c "^cache.c:9:9: warning: leak of 't'" "$TMP/c7.log")"

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
