#!/usr/bin/env bash
# run.sh - feed pyrefcheck bad and pathological inputs and check it fails cleanly.
#
# Usage: tests/badinput/run.sh --pyrefcheck BIN [--timeout SECONDS] [--keep]
#                              [--only NAME-SUBSTRING]
#
# Every case runs `BIN check --format json --no-db PATH...` in a fresh temporary
# directory and must end in one of:
#   - exit 0 or 1 with valid JSON on stdout (an object with findings[] and stats{}; no
#     errors[] entries, since exit 0/1 means every file was analysed or skipped), or
#   - exit 2 with exactly one line on stderr, of the form `FILE[:LINE[:COL]]: error: MESSAGE`,
#     naming the offending file (stdout then empty or valid JSON listing that file in
#     errors[]),
# never a signal, never an exit status above 2, never longer than the timeout (30 s),
# never a sanitizer report on stderr.  Some cases narrow this: a nonexistent file must
# give exit 2; inputs that are valid C (clang-19 parses them with the installed Python
# headers: deep-but-legal nesting, long functions, Latin-1/CRLF, GNU extensions) must
# give exit 0/1; files that include Python.h must not be counted as skipped.
# Prints PASS/FAIL per case and `badinput: N passed, M failed`; exits 1 on any failure.
set -euo pipefail

PROG=${0##*/}
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }

BIN=""
LIMIT=30
KEEP=0
ONLY=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pyrefcheck) [[ $# -ge 2 ]] || die "$1 needs a value"; BIN=$2; shift 2 ;;
        --timeout)    [[ $# -ge 2 ]] || die "$1 needs a value"; LIMIT=$2; shift 2 ;;
        --keep)       KEEP=1; shift ;;
        --only)       [[ $# -ge 2 ]] || die "$1 needs a value"; ONLY=$2; shift 2 ;;
        -h|--help)    usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ -n "$BIN" ]] || { usage >&2; die "--pyrefcheck BIN is required"; }
[[ -x "$BIN" ]] || die "not an executable: $BIN"
[[ "$LIMIT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer"
BIN=$(cd -- "$(dirname -- "$BIN")" && pwd)/$(basename -- "$BIN")
PY=$(command -v python3) || die "python3 is needed (JSON validation, input generation)"

# Sanitizer settings, unless the caller chose their own (an ASan build is checked the same way).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prc-badinput.XXXXXX")
cleanup() {
    if [[ $KEEP -eq 1 ]]; then echo "kept inputs and outputs in $WORK"; else rm -rf -- "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
IN="$WORK/in"
mkdir -p -- "$IN"

# ---------------------------------------------------------------------------
# Input generation
# ---------------------------------------------------------------------------
py_prologue() {
    printf '#include <Python.h>\n\nstatic PyObject *\nf(PyObject *self, PyObject *arg)\n{\n    PyObject *r = NULL;\n    long v = 0;\n'
}
py_epilogue() {
    printf '    (void)v;\n    return r;\n}\n'
}
rep() {  # rep N STRING: STRING N times
    local i out=""
    for ((i = 0; i < $1; i++)); do out+=$2; done
    printf '%s' "$out"
}

gen_inputs() {
    local n i

    # Random bytes with NULs, fixed seed so that failures reproduce.
    "$PY" - "$IN/garbage/x.c" "$IN/garbage_py/x.c" <<'PY'
import os, random, sys
rng = random.Random(20240611)
def garbage(n):
    b = bytearray(rng.getrandbits(8) for _ in range(n))
    for i in range(0, n, 97):
        b[i] = 0                      # plenty of NULs
    return bytes(b)
for p in sys.argv[1:]:
    os.makedirs(os.path.dirname(p), exist_ok=True)
with open(sys.argv[1], "wb") as fh:
    fh.write(garbage(8192))
with open(sys.argv[2], "wb") as fh:     # looks like a Python extension, then garbage
    fh.write(b"#include <Python.h>\nstatic PyObject *f(PyObject *self, PyObject *a)\n{\n")
    fh.write(garbage(8192))
    fh.write(b"\n}\n")
PY

    cat > "$IN/syntax_errors.c" <<'EOF'
#include <Python.h>

static PyObject *
broken(PyObject *self, PyObject *arg)
{
    PyObject *r = PyLong_FromLong(1)
    if (r == NULL {
        return NULL;
    }
    Py_DECREF(r;
    return r
}

static PyObject *other(PyObject *self { return NULL; }

static int x = ;
EOF

    printf '#include <Python.h>\n/* a comment that never ends\nstatic PyObject *f(PyObject *s) { return "unterminated; }\n' \
        > "$IN/unterminated.c"

    cat > "$IN/missing_header.c" <<'EOF'
#include <Python.h>
#include "nope.h"

static PyObject *
uses_nope(PyObject *self, PyObject *arg)
{
    PyObject *r = nope_make(arg);
    if (r == NULL)
        return NULL;
    return r;
}
EOF

    : > "$IN/empty.c"

    mkdir -p "$IN/dir_with_c/sub"
    cat > "$IN/dir_with_c/mod.c" <<'EOF'
#include <Python.h>

static PyObject *
make_pair(PyObject *self, PyObject *args)
{
    PyObject *a = PyLong_FromLong(1);
    if (a == NULL)
        return NULL;
    PyObject *b = PyLong_FromLong(2);
    if (b == NULL) {
        Py_DECREF(a);
        return NULL;
    }
    PyObject *t = PyTuple_Pack(2, a, b);
    Py_DECREF(a);
    Py_DECREF(b);
    return t;
}
EOF
    printf '#include <Python.h>\nstatic PyObject *g(PyObject *s, PyObject *a) { Py_RETURN_NONE; }\n' \
        > "$IN/dir_with_c/sub/helper.c"
    printf 'not C\n' > "$IN/dir_with_c/notes.txt"

    mkdir -p "$IN/dir_without_c"
    printf 'nothing to analyse here\n' > "$IN/dir_without_c/README.txt"
    printf '#include <Python.h>\nPyObject *decl(void);\n' > "$IN/dir_without_c/only.h"

    # Deep nesting.  clang's default bracket depth is 256, so 400 braces/parentheses is a
    # parse error (pyrefcheck should report it), while 250 parses and stresses the analyser.
    for n in 250 400; do
        { py_prologue; printf '    %s r = PyLong_FromLong(1); %s\n' "$(rep "$n" '{')" "$(rep "$n" '}')"; py_epilogue; } \
            > "$IN/nest_blocks_$n.c"
        { py_prologue; printf '    %s r = PyLong_FromLong(1); %s\n' "$(rep "$n" 'if (arg != NULL) {')" "$(rep "$n" '}')"; py_epilogue; } \
            > "$IN/nest_ifs_$n.c"
        { py_prologue; printf '    v = %s1%s;\n    r = PyLong_FromLong(v);\n' "$(rep "$n" '(')" "$(rep "$n" ')')"; py_epilogue; } \
            > "$IN/nest_parens_$n.c"
    done
    # No brackets involved: these parse, and nest 400 deep in the AST.
    { py_prologue; rep 400 $'    if (arg != NULL)\n'; printf '        r = PyLong_FromLong(1);\n'; py_epilogue; } \
        > "$IN/nest_ifs_unbraced_400.c"
    { py_prologue; rep 400 $'    while (v++ < 1000)\n'; printf '        Py_XSETREF(r, PyLong_FromLong(v));\n'; py_epilogue; } \
        > "$IN/nest_loops_unbraced_400.c"
    {
        py_prologue
        printf '    if (v == 0) r = PyLong_FromLong(0);\n'
        for ((i = 1; i < 3000; i++)); do
            printf '    else if (v == %d) r = PyLong_FromLong(%d);\n' "$i" "$i"
        done
        py_epilogue
    } > "$IN/else_if_chain_3000.c"

    # One function of 5000 statements, with allocations, error exits and a loop-free CFG
    # of a few thousand blocks.
    {
        printf '#include <Python.h>\n\nstatic PyObject *\nbig(PyObject *self, PyObject *arg)\n{\n'
        printf '    PyObject *list = PyList_New(0);\n    PyObject *o;\n    long n = 0;\n'
        printf '    if (list == NULL)\n        return NULL;\n'
        for ((i = 0; i < 1000; i++)); do
            printf '    o = PyLong_FromLong(%d);\n' "$i"
            printf '    if (o == NULL)\n        goto error;\n'
            printf '    if (PyList_Append(list, o) < 0) { Py_DECREF(o); goto error; }\n'
            printf '    Py_DECREF(o);\n'
            printf '    n += %d;\n' "$i"
        done
        printf '    (void)n;\n    return list;\nerror:\n    Py_DECREF(list);\n    return NULL;\n}\n'
    } > "$IN/long_function_5000.c"

    # Latin-1 bytes in comments and strings, CRLF line endings (also inside a macro's
    # line continuation).
    printf '%b' \
'/* Latin-1: caf\xe9, r\xe9sum\xe9, \xa9 \xff\xfe -- not UTF-8 */\r\n' \
'#include <Python.h>\r\n' \
'\r\n' \
'#define DROP(x) \\\r\n' \
'    Py_XDECREF(x)\r\n' \
'\r\n' \
'static const char msg[] = "na\xefve \xe0 la carte \xb5";\r\n' \
'\r\n' \
'static PyObject *\r\n' \
'latin1(PyObject *self, PyObject *arg)  /* \xe7a marche */\r\n' \
'{\r\n' \
'    PyObject *s = PyBytes_FromString(msg);\r\n' \
'    PyObject *t = PyBytes_FromString("\xe9t\xe9");\r\n' \
'    if (s == NULL) {\r\n' \
'        DROP(t);\r\n' \
'        return NULL;\r\n' \
'    }\r\n' \
'    DROP(t);\r\n' \
'    return s;\r\n' \
'}\r\n' > "$IN/latin1_crlf.c"

    cat > "$IN/gnu_extensions.c" <<'EOF'
#include <Python.h>

static void drop_obj(PyObject **p) { Py_XDECREF(*p); }

static PyObject *
stmt_expr(PyObject *self, PyObject *arg)
{
    PyObject *r = ({ PyObject *t = PyLong_FromLong(1); if (t == NULL) return NULL; t; });
    __auto_type n = ({ long k = PyLong_AsLong(r); k * 2; });
    __typeof__(r) alias = r;
    (void)n;
    return alias;
}

static PyObject *
computed_goto(PyObject *self, PyObject *arg)
{
    static void *table[] = { &&zero, &&one };
    PyObject *r = NULL;
    int k = PyObject_IsTrue(arg);
    if (k < 0)
        return NULL;
    goto *table[k];
zero:
    r = PyLong_FromLong(0);
    goto out;
one:
    r = PyLong_FromLong(1);
out:
    return r;
}

static PyObject *
cleanup_attr(PyObject *self, PyObject *arg)
{
    __attribute__((cleanup(drop_obj))) PyObject *tmp = PyLong_FromLong(3);
    if (tmp == NULL)
        return NULL;
    return PyNumber_Add(tmp, arg);
}

static PyObject *
misc(PyObject *self, PyObject *arg)
{
    PyObject *r = arg ?: Py_None;           /* omitted middle operand */
    switch (PyObject_Length(arg)) {
    case 0 ... 3:                           /* case range */
        break;
    default:
        if (__builtin_expect(r == NULL, 0))
            return NULL;
    }
    __extension__ long long big = 1LL << 40;
    (void)big;
    return Py_NewRef(r);
}
EOF

    mkdir -p "$IN/with space"
    cp -- "$IN/dir_with_c/mod.c" "$IN/with space/mod ule.c"
}

# ---------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------
PASSED=0
FAILED=0
FAILED_NAMES=()

# validate_json FILE EXPECTED_EXIT MUST_ANALYSE NAMEPAT: checks stdout JSON; prints problem or nothing.
validate_json() {
    "$PY" - "$@" <<'PY'
import json, sys
path, rc, must_analyse, namepat = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
try:
    with open(path, "rb") as fh:
        raw = fh.read()
    d = json.loads(raw.decode("utf-8"))
except Exception as e:
    print("stdout is not valid UTF-8 JSON: %s" % str(e)[:120]); sys.exit(0)
if not isinstance(d, dict):
    print("JSON is not an object"); sys.exit(0)
if not isinstance(d.get("findings"), list):
    print("JSON has no findings[] array"); sys.exit(0)
st = d.get("stats")
if not isinstance(st, dict):
    print("JSON has no stats{} object"); sys.exit(0)
errs = d.get("errors", [])
if not isinstance(errs, list):
    print("JSON errors is not an array"); sys.exit(0)
if rc in (0, 1):
    if errs:
        print("exit %d but JSON lists errors: %s" % (rc, json.dumps(errs)[:160])); sys.exit(0)
    if (rc == 1) != (len(d["findings"]) > 0):
        print("exit %d does not match %d finding(s)" % (rc, len(d["findings"]))); sys.exit(0)
    if must_analyse and isinstance(st.get("files_skipped"), int) and st["files_skipped"] > 0:
        print("a file that includes Python.h was skipped (stats.files_skipped=%d)" % st["files_skipped"]); sys.exit(0)
elif rc == 2:
    names = " ".join(str(e.get("file", "")) if isinstance(e, dict) else "" for e in errs)
    if not errs:
        print("exit 2 with JSON but errors[] is empty"); sys.exit(0)
    if namepat and namepat not in names:
        print("JSON errors[] does not name %s: %s" % (namepat, names[:160])); sys.exit(0)
PY
}

# run_case NAME EXPECT MUST_ANALYSE NAMEPAT PATH...
#   EXPECT:       any (0/1 with JSON, or 2 with one line) | error (must exit 2) |
#                 valid (must exit 0/1: clang-19 -fsyntax-only accepts the input with the
#                 installed Python headers, so pyrefcheck must not give up on it)
#   MUST_ANALYSE: 1 if on exit 0/1 no file may be counted as skipped
#   NAMEPAT:      string the stderr error line must contain (usually the file's name)
run_case() {
    local name=$1 expect=$2 must=$3 namepat=$4
    shift 4
    if [[ -n "$ONLY" && "$name" != *"$ONLY"* ]]; then return 0; fi
    local out="$WORK/out/$name" rc t0 t1 ms why="" nlines line
    mkdir -p -- "$out/cwd"
    t0=$(date +%s%N)
    set +e
    (cd -- "$out/cwd" && exec timeout -k 5 "$LIMIT" "$BIN" check --format json --no-db "$@") \
        > "$out/stdout" 2> "$out/stderr" < /dev/null
    rc=$?
    set -e
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))

    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer' "$out/stderr"; then
        why="sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:' "$out/stderr" | cut -c1-160)"
    elif [[ $rc -eq 124 || $rc -eq 137 ]] && (( ms >= LIMIT * 1000 )); then
        why="timed out after ${LIMIT}s (hang or far too slow)"
    elif (( rc > 128 )); then
        why="killed by signal $((rc - 128))"
    elif (( rc > 2 )); then
        why="exit status $rc (> 2)"
    elif [[ "$expect" == error && $rc -ne 2 ]]; then
        why="expected exit 2, got $rc"
    elif [[ "$expect" == valid && $rc -eq 2 ]]; then
        why="exit 2 on valid C that clang parses: $(grep -m1 . "$out/stderr" | cut -c1-160)"
    elif [[ $rc -eq 2 ]]; then
        nlines=$(grep -c . "$out/stderr" || true)
        line=$(grep -m1 . "$out/stderr" || true)
        if [[ $nlines -ne 1 ]]; then
            why="exit 2 with $nlines non-empty stderr lines (want exactly 1)"
        elif ! grep -qE ': (fatal )?error: .*[^[:space:]]' <<< "$line"; then
            why="exit 2 but the stderr line is not 'FILE: error: MESSAGE': $line"
        elif [[ -n "$namepat" && "$line" != *"$namepat"* ]]; then
            why="exit 2 but the stderr line does not name $namepat: $line"
        elif [[ -s "$out/stdout" ]]; then
            why=$(validate_json "$out/stdout" 2 "$must" "$namepat")
        fi
    else
        if [[ ! -s "$out/stdout" ]]; then
            why="exit $rc with nothing on stdout (JSON expected)"
        else
            why=$(validate_json "$out/stdout" "$rc" "$must" "$namepat")
        fi
    fi

    local detail
    detail="exit $rc, $(awk -v m="$ms" 'BEGIN { printf "%.2f", m / 1000 }')s"
    if [[ $rc -eq 2 && -z "$why" ]]; then detail+=": $(grep -m1 . "$out/stderr" | cut -c1-140)"; fi
    if [[ -z "$why" ]]; then
        PASSED=$((PASSED + 1))
        printf 'PASS %-26s (%s)\n' "$name" "$detail"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$name")
        printf 'FAIL %-26s %s (%s)\n' "$name" "$why" "exit $rc, ${ms}ms"
        if [[ -s "$out/stderr" ]]; then
            head -n 5 -- "$out/stderr" | cut -c1-200 | sed 's/^/       stderr: /'
        fi
    fi
}

gen_inputs
echo "== bad-input checks for $BIN (limit ${LIMIT}s each)"

run_case nonexistent_file      error 0 "does_not_exist.c" "$IN/does_not_exist.c"
run_case binary_garbage        any   0 "x.c"              "$IN/garbage/x.c"
run_case binary_garbage_python any   1 "x.c"              "$IN/garbage_py/x.c"
run_case syntax_errors         any   1 "syntax_errors.c"  "$IN/syntax_errors.c"
run_case unterminated_comment  any   1 "unterminated.c"   "$IN/unterminated.c"
run_case missing_header        any   1 "missing_header.c" "$IN/missing_header.c"
run_case empty_file            valid 0 "empty.c"          "$IN/empty.c"
run_case dir_with_c            valid 1 "dir_with_c"       "$IN/dir_with_c"
run_case dir_without_c         any   0 "dir_without_c"    "$IN/dir_without_c"
run_case dir_and_missing_file  error 1 "does_not_exist.c" "$IN/dir_with_c" "$IN/does_not_exist.c"
run_case path_with_spaces      valid 1 "mod ule.c"        "$IN/with space/mod ule.c"
# 250 deep parses; 400 exceeds clang's bracket depth limit (256) and is a parse error.
run_case nest_blocks_250       valid 1 "nest_blocks_250.c" "$IN/nest_blocks_250.c"
run_case nest_ifs_250          valid 1 "nest_ifs_250.c"    "$IN/nest_ifs_250.c"
run_case nest_parens_250       valid 1 "nest_parens_250.c" "$IN/nest_parens_250.c"
run_case nest_blocks_400       any   1 "nest_blocks_400.c" "$IN/nest_blocks_400.c"
run_case nest_ifs_400          any   1 "nest_ifs_400.c"    "$IN/nest_ifs_400.c"
run_case nest_parens_400       any   1 "nest_parens_400.c" "$IN/nest_parens_400.c"
run_case nest_ifs_unbraced_400   valid 1 "nest_ifs_unbraced_400.c"   "$IN/nest_ifs_unbraced_400.c"
run_case nest_loops_unbraced_400 valid 1 "nest_loops_unbraced_400.c" "$IN/nest_loops_unbraced_400.c"
run_case else_if_chain_3000      valid 1 "else_if_chain_3000.c"      "$IN/else_if_chain_3000.c"
run_case long_function_5000      valid 1 "long_function_5000.c"      "$IN/long_function_5000.c"
run_case latin1_crlf             valid 1 "latin1_crlf.c"             "$IN/latin1_crlf.c"
run_case gnu_extensions          valid 1 "gnu_extensions.c"          "$IN/gnu_extensions.c"

echo
if ((FAILED)); then echo "failed: ${FAILED_NAMES[*]}"; fi
echo "badinput: $PASSED passed, $FAILED failed"
((FAILED == 0))
