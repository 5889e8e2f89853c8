#!/usr/bin/env bash
# tests/db/run.sh --pyrefcheck BIN: the results database, baselines and
# inline suppressions: storing and reading back, fingerprints surviving
# edits, fixed and reopened findings, parallel writers, SIGINT mid-write,
# foreign files left untouched, unwritable paths, newer schemas refused,
# forward migration, `db runs|findings|diff|stats|vacuum|export`, incremental
# runs (unchanged files taken from the database) and --report-unused-suppressions.
# Needs the sqlite3 command-line shell.  Prints "N passed, M failed".
set -uo pipefail
BIN=
while [[ $# -gt 0 ]]; do
    case $1 in
        --pyrefcheck) BIN=$2; shift 2 ;;
        *) echo "usage: $0 --pyrefcheck BIN" >&2; exit 2 ;;
    esac
done
[[ -x "$BIN" ]] || { echo "run.sh: no pyrefcheck binary: $BIN" >&2; exit 2; }
command -v sqlite3 > /dev/null || { echo "run.sh: the sqlite3 shell is needed" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCHEMA=$SRCDIR/db/schema.sql
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 2
PASS=0; FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   $1"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL $1: $2"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "${WHY:-condition false}"; fi; WHY=; }
q()    { sqlite3 "$1" "$2"; }
WHY=

# A function leaking a list; $1 = lines put above it, $2 = "fixed" to release it.
leaky() {
    printf '#include <Python.h>\n'
    for ((i = 0; i < ${1:-0}; i++)); do printf '/* padding %d */\n' "$i"; done
    cat <<'C'
static PyObject *f(PyObject *self, PyObject *arg)
{
    PyObject *x = PyList_New(0);
    if (x == NULL)
        return NULL;
C
    [[ ${2:-} == fixed ]] && printf '    Py_DECREF(x);\n'
    cat <<'C'
    Py_RETURN_NONE;
}
static PyMethodDef m[] = {{"f", f, METH_O, NULL}, {NULL}};
C
}

# --- store and reload ---------------------------------------------------------
mkdir s1 && leaky > s1/a.c
(cd s1 && "$BIN" --format json a.c > out.json 2> err); rc=$?
fp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["findings"][0]["fingerprint"])' s1/out.json 2>/dev/null)
WHY="rc=$rc $(cat s1/err)"; check "check writes .pyrefcheck/results.db by default" \
    test $rc -eq 1 -a -f s1/.pyrefcheck/results.db
WHY="$(q s1/.pyrefcheck/results.db 'pragma journal_mode')"
check "database is in WAL mode" test "$(q s1/.pyrefcheck/results.db 'pragma journal_mode')" = wal
(cd s1 && "$BIN" db findings --format json > db.json 2> err); rc=$?
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), d[0]["fingerprint"], d[0]["state"], d[0]["rule"], d[0]["line"], d[0]["file"])' s1/db.json 2>&1)
WHY="rc=$rc got=$got"; check "db findings reads the finding back (json)" test "$got" = "1 $fp open leak 7 a.c"
(cd s1 && "$BIN" db runs > runs.txt 2>&1); rc=$?
WHY="$(cat s1/runs.txt)"; check "db runs lists the run as complete" \
    grep -qE '^1 +[0-9T:Z-]+ +complete +1 +1 +1 +0 ' s1/runs.txt
(cd s1 && "$BIN" db findings --rule leak --state open > f.txt 2>&1)
WHY="$(cat s1/f.txt)"; check "db findings text with filters" grep -q "^a.c:7:5: open \[leak\] f: leak of 'x'.*fingerprint $fp, first seen run 1" s1/f.txt
(cd s1 && "$BIN" db findings --rule null-deref > f2.txt 2>&1)
WHY="$(cat s1/f2.txt)"; check "db findings filter excludes other rules" test ! -s s1/f2.txt
(cd s1 && "$BIN" db findings --file other.c --format json > f3.txt 2>&1)
WHY="$(cat s1/f3.txt)"; check "db findings --file, empty json array" test "$(cat s1/f3.txt)" = "[]"
WHY="$(q s1/.pyrefcheck/results.db 'select count(*) from path_steps')"
check "path steps stored" test "$(q s1/.pyrefcheck/results.db 'select count(*) from path_steps')" -ge 1

# --- history: moved, fixed, reopened -----------------------------------------
DB=s1/.pyrefcheck/results.db
leaky 5 > s1/a.c
(cd s1 && "$BIN" a.c > /dev/null 2>&1)
got=$(q $DB "select fingerprint, line, state, first_seen_run, last_seen_run, (select count(*) from findings) from findings")
WHY="$got"; check "lines inserted above: same fingerprint, new line, first seen kept" test "$got" = "$fp|12|open|1|2|1"
leaky 5 fixed > s1/a.c
(cd s1 && "$BIN" a.c > /dev/null 2>&1); rc=$?
got=$(q $DB "select state, fixed_run, first_seen_run from findings")
WHY="rc=$rc $got"; check "fixed bug is marked fixed" test "$rc|$got" = "0|fixed|3|1"
leaky 2 > s1/a.c
(cd s1 && "$BIN" a.c > /dev/null 2>&1); rc=$?
got=$(q $DB "select state, fixed_run is null, first_seen_run, last_seen_run, times_reopened, (select count(*) from findings) from findings")
WHY="rc=$rc $got"; check "reintroduced bug is reopened with its first-seen run" test "$rc|$got" = "1|open|1|1|4|1|1"
(cd s1 && "$BIN" db diff 3 4 > d.txt 2>&1); rc=$?
WHY="$(cat s1/d.txt)"; check "db diff shows the reopened finding as new" \
    grep -q "^+ a.c:9:5: f: leak of 'x'.*\[leak\] $fp" s1/d.txt
(cd s1 && "$BIN" db diff 2 3 > d2.txt 2>&1)
WHY="$(cat s1/d2.txt)"; check "db diff shows the fixed finding as gone" grep -q "^run 2 -> run 3: 0 new, 1 gone" s1/d2.txt
(cd s1 && "$BIN" db diff 1 99 > d3.txt 2>&1); rc=$?
WHY="rc=$rc $(cat s1/d3.txt)"; check "db diff of a missing run exits 2" grep -q "no run 99" s1/d3.txt
(cd s1 && "$BIN" db stats > st.txt 2>&1); rc=$?
WHY="$(cat s1/st.txt)"; check "db stats" grep -q "^runs: 4" s1/st.txt
(cd s1 && "$BIN" db vacuum > /dev/null 2>&1); rc=$?
WHY="rc=$rc"; check "db vacuum keeps an intact database" \
    test "$rc|$(q $DB 'pragma integrity_check')|$(q $DB 'select count(*) from findings')" = "0|ok|1"
got=$(q $DB "select fixed_findings from runs where id = 3")
WHY="$got"; check "run totals count fixed findings" test "$got" = 1

# --- --no-db -------------------------------------------------------------------
mkdir nodb && leaky > nodb/a.c
(cd nodb && "$BIN" --no-db a.c > /dev/null 2>&1); rc=$?
WHY="rc=$rc"; check "--no-db creates nothing" test $rc -eq 1 -a ! -e nodb/.pyrefcheck
(cd nodb && "$BIN" db runs > out 2>&1); rc=$?
WHY="rc=$rc $(cat nodb/out)"; check "db runs without a database exits 2" test $rc -eq 2 -a ! -e nodb/.pyrefcheck

# --- parallel writers ----------------------------------------------------------
mkdir par
for i in 1 2 3 4 5 6; do leaky "$i" | sed "s/\bf\b/f$i/g" > par/m$i.c; done
pids=()
for i in 1 2 3 4 5 6; do
    "$BIN" --db par/p.db -j1 par/m$i.c > par/out$i 2>&1 & pids+=($!)
done
rcs=
for p in "${pids[@]}"; do wait "$p"; rcs+="$?"; done
got=$(q par/p.db "select count(*) from runs where finished_at is not null; select count(*) from findings where state = 'open'; select count(distinct file_id) from findings; pragma integrity_check" | tr '\n' ' ')
WHY="exit statuses $rcs; $got; $(cat par/out*)"; check "6 parallel processes into one database: all stored" \
    test "$rcs|$got" = "111111|6 6 6 ok "

# --- SIGINT in the middle of writing ------------------------------------------
mkdir sig
for i in 1 2 3; do leaky 0 | sed "s/\bf\b/g$i/g" > sig/s$i.c; done
"$BIN" --db sig/s.db -j1 sig/s1.c sig/s2.c sig/s3.c > /dev/null 2>&1
for i in 1 2 3; do leaky 0 fixed | sed "s/\bf\b/g$i/g" > sig/s$i.c; done
# job control on: a background job of a script would otherwise ignore SIGINT
set -m
PYREFCHECK_DB_WRITE_DELAY_MS=4000 "$BIN" --db sig/s.db -j1 sig/s1.c sig/s2.c sig/s3.c > /dev/null 2>&1 &
pid=$!
set +m
# wait for the first file's transaction to commit; the second is then in progress
for ((t = 0; t < 200; t++)); do
    [[ $(q sig/s.db "select count(*) from findings where state = 'fixed'" 2>/dev/null) == 1 ]] && break
    sleep 0.1
done
sleep 1
kill -INT "$pid"; wait "$pid"; rc=$?
got=$(q sig/s.db "pragma integrity_check; select count(*) from findings where state = 'open' and last_seen_run = 1; select count(*) from findings where state = 'fixed'; select count(*) from runs where finished_at is null" | tr '\n' ' ')
WHY="rc=$rc $got"; check "SIGINT mid-write: intact, the previous run's results still there" \
    test "$rc|$got" = "130|ok 2 1 1 "
(cd sig && "$BIN" db runs --db s.db > runs.txt 2>&1)
WHY="$(cat sig/runs.txt)"; check "the interrupted run is listed as incomplete" grep -qE '^2 .* incomplete ' sig/runs.txt
"$BIN" --db sig/s.db -j1 sig/s1.c sig/s2.c sig/s3.c > /dev/null 2>&1; rc=$?
got=$(q sig/s.db "select count(*) from findings where state = 'fixed'")
WHY="rc=$rc fixed=$got"; check "the next run completes the work" test "$rc|$got" = "0|3"

# --- foreign files are never touched ------------------------------------------
mkdir fo && leaky > fo/a.c
printf 'precious notes\n' > fo/notes.txt; cp fo/notes.txt fo/notes.orig
"$BIN" --db fo/notes.txt fo/a.c > fo/out 2> fo/err; rc=$?
WHY="rc=$rc $(cat fo/err)"; check "text file at --db: exit 2, one-line error, unchanged" \
    test $rc -eq 2 -a "$(wc -l < fo/err)" -eq 1 -a ! -s fo/out
cmp -s fo/notes.txt fo/notes.orig && ok "text file byte-for-byte unchanged" || bad "text file unchanged" "differs"
grep -q "not a pyrefcheck database" fo/err && ok "error says not a pyrefcheck database" || bad "error text" "$(cat fo/err)"
sqlite3 fo/other.db "create table t(x); insert into t values (42)"; cp fo/other.db fo/other.orig
"$BIN" --db fo/other.db fo/a.c > /dev/null 2> fo/err2; rc=$?
WHY="rc=$rc $(cat fo/err2)"; check "foreign SQLite database refused (exit 2)" \
    grep -q "SQLite without the pyrefcheck schema" fo/err2
cmp -s fo/other.db fo/other.orig && ok "foreign SQLite database byte-for-byte unchanged" || bad "foreign sqlite unchanged" "differs"
mkdir -p fo/cwd/.pyrefcheck && printf 'x' > fo/cwd/.pyrefcheck/results.db
(cd fo/cwd && "$BIN" ../a.c > /dev/null 2> err); rc=$?
WHY="rc=$rc"; check "foreign file at the default location refused" test $rc -eq 2 -a "$(cat fo/cwd/.pyrefcheck/results.db)" = x
: > fo/empty.db
"$BIN" --db fo/empty.db fo/a.c > /dev/null 2>&1; rc=$?
WHY="rc=$rc"; check "empty file at --db refused and left empty" test $rc -eq 2 -a ! -s fo/empty.db

# --- unwritable locations ------------------------------------------------------
"$BIN" --db fo/notes.txt/sub.db fo/a.c > /dev/null 2> un.err; rc=$?
WHY="rc=$rc $(cat un.err)"; check "database under a file: exit 2, one line" \
    test $rc -eq 2 -a "$(wc -l < un.err)" -eq 1
(cd /proc && "$BIN" "$TMP/fo/a.c" > /dev/null 2> "$TMP/un2.err"); rc=$?
WHY="rc=$rc $(cat un2.err)"; check "unwritable current directory: exit 2, clear error" \
    grep -q "cannot create" un2.err
if [[ $(id -u) -ne 0 ]]; then
    mkdir ro && chmod 555 ro
    "$BIN" --db ro/x.db fo/a.c > /dev/null 2> un3.err; rc=$?
    WHY="rc=$rc $(cat un3.err)"; check "read-only folder: exit 2" test $rc -eq 2
    chmod 755 ro
fi

# --- schema versions -------------------------------------------------------------
mkdir ver && leaky > ver/a.c
"$BIN" --db ver/v.db ver/a.c > /dev/null 2>&1
q ver/v.db "pragma user_version = 99" && cp ver/v.db ver/v.orig
"$BIN" --db ver/v.db ver/a.c > /dev/null 2> ver/err; rc=$?
WHY="rc=$rc $(cat ver/err)"; check "database from a newer version refused" \
    test $rc -eq 2 -a "$(grep -c 'schema version 99 is newer' ver/err)" -eq 1
cmp -s ver/v.db ver/v.orig && ok "newer database unchanged" || bad "newer database unchanged" "differs"
sqlite3 ver/old.db "pragma application_id = 1347568433; create table keep(x); insert into keep values (1)"
"$BIN" --db ver/old.db ver/a.c > /dev/null 2> ver/err2; rc=$?
got=$(q ver/old.db "pragma user_version; select count(*) from findings; select x from keep" | tr '\n' ' ')
CUR=$(sed -n 's/^-- @version \([0-9]*\)$/\1/p' "$SCHEMA" | tail -1)
WHY="rc=$rc $got $(cat ver/err2)"; check "version-0 pyrefcheck database migrated forward" test "$rc|$got" = "1|$CUR 1 1 "
# a version-1 database (the first section of db/schema.sql), with a row for the file
sed -n '/^-- @version 1$/,/^-- @version 2$/p' "$SCHEMA" | sqlite3 ver/v1.db
q ver/v1.db "insert into runs(started_at, tool_version, rules_hash, arguments) values('x', 'old', 'x', 'x');
  insert into files(path, content_hash, last_run) values('ver/a.c', 'x', 1)"
"$BIN" --db ver/v1.db ver/a.c > /dev/null 2> ver/err3; rc=$?
got=$(q ver/v1.db "pragma user_version; select count(*) from findings; select files_reused from runs where id = 2; select count(*) from file_notes" | tr '\n' ' ')
WHY="rc=$rc $got $(cat ver/err3)"; check "version-1 database migrated to the current version, its file analysed again" test "$rc|$got" = "1|$CUR 1 0 0 "

# --- functions: every analysed function, with a body hash ---------------------------
mkdir fns
cat > fns/m.c <<'C'
#include <Python.h>
static PyObject *one(PyObject *self, PyObject *arg) { return Py_NewRef(arg); }
static PyObject *two(PyObject *self, PyObject *arg)
{
    return PyLong_FromLong(2);
}
static PyMethodDef m[] = {{"one", one, METH_O, NULL}, {"two", two, METH_O, NULL}, {NULL}};
C
"$BIN" --db fns/f.db fns/m.c > /dev/null 2>&1
got=$(q fns/f.db "select name || ':' || status || ':' || length(body_hash) from functions order by name" | tr '\n' ' ')
WHY="$got"; check "every analysed function stored with status and body hash" test "$got" = "one:complete:16 two:complete:16 "
h1=$(q fns/f.db "select body_hash from functions where name = 'one'")
h2=$(q fns/f.db "select body_hash from functions where name = 'two'")
sed -i 's/PyLong_FromLong(2)/PyLong_FromLong(3)/' fns/m.c
"$BIN" --db fns/f.db fns/m.c > /dev/null 2>&1
h1b=$(q fns/f.db "select body_hash from functions where name = 'one'")
h2b=$(q fns/f.db "select body_hash from functions where name = 'two'")
WHY="one $h1 -> $h1b, two $h2 -> $h2b"; check "an edited function's body hash changes, the others' do not" \
    test "$h1" = "$h1b" -a "$h2" != "$h2b"

# --- baselines ---------------------------------------------------------------------
mkdir bl && leaky > bl/a.c
(cd bl && "$BIN" baseline create -o base.txt a.c > out 2> err); rc=$?
WHY="rc=$rc $(cat bl/err)"; check "baseline create writes the file" test $rc -eq 0 -a -s bl/base.txt
WHY="$(cat bl/base.txt)"; check "baseline line: fingerprint rule file:function" \
    grep -qE '^[0-9a-f]{16} leak a\.c:f$' bl/base.txt
(cd bl && "$BIN" --baseline base.txt a.c > out 2>&1); rc=$?
WHY="rc=$rc $(cat bl/out)"; check "check --baseline hides baselined findings (exit 0)" \
    test $rc -eq 0 -a "$(grep -c warning bl/out)" -eq 0
cat >> bl/a.c <<'C'
static PyObject *h(PyObject *self, PyObject *arg)
{
    PyObject *t = PyTuple_New(1);
    if (t == NULL)
        return NULL;
    return Py_NewRef(arg);
}
static PyMethodDef m2[] = {{"h", h, METH_O, NULL}, {NULL}};
C
(cd bl && "$BIN" --baseline base.txt a.c > out 2>&1); rc=$?
WHY="rc=$rc $(cat bl/out)"; check "check --baseline reports only new findings" \
    test $rc -eq 1 -a "$(grep -c 'warning:' bl/out)" -eq 1 -a "$(grep -c "leak of 't'" bl/out)" -eq 1
(cd bl && "$BIN" baseline create -o base2.txt --no-db a.c > /dev/null 2>&1)
WHY="$(cat bl/base2.txt)"; check "baseline is sorted" cmp -s bl/base2.txt <(LC_ALL=C sort bl/base2.txt)
(cd bl && "$BIN" --baseline missing.txt a.c > out 2>&1); rc=$?
WHY="rc=$rc"; check "missing baseline file: exit 2" test $rc -eq 2
got=$(q bl/.pyrefcheck/results.db "select count(*) from baseline_entries")
WHY="$got"; check "baseline recorded in the database" test "$got" = 1

# --- inline suppressions -------------------------------------------------------------
mkdir sp
leaky | sed 's|^    Py_RETURN_NONE;|    /* pyrefcheck: ignore[leak] */\n    Py_RETURN_NONE;|' > sp/a.c
(cd sp && "$BIN" a.c > out 2>&1); rc=$?
WHY="rc=$rc $(cat sp/out)"; check "ignore[leak] on the line before suppresses" test $rc -eq 0
got=$(q sp/.pyrefcheck/results.db "select state from findings")
WHY="$got"; check "suppressed finding stored as suppressed" test "$got" = suppressed
leaky | sed 's|^    Py_RETURN_NONE;|    Py_RETURN_NONE; /* pyrefcheck: ignore */|' > sp/b.c
(cd sp && "$BIN" --no-db b.c > out 2>&1); rc=$?
WHY="rc=$rc $(cat sp/out)"; check "bare ignore on the same line suppresses" test $rc -eq 0
leaky | sed 's|^    Py_RETURN_NONE;|    /* pyrefcheck: ignore[null-deref, over-release] */\n    Py_RETURN_NONE;|' > sp/c.c
(cd sp && "$BIN" --no-db c.c > out 2>&1); rc=$?
WHY="rc=$rc $(cat sp/out)"; check "ignore of other rules does not suppress" test $rc -eq 1
leaky | sed 's|^    Py_RETURN_NONE;|    /* pyrefcheck: ignore[leak] */\n\n    Py_RETURN_NONE;|' > sp/d.c
(cd sp && "$BIN" --no-db d.c > out 2>&1); rc=$?
WHY="rc=$rc"; check "ignore two lines above does not suppress" test $rc -eq 1
leaky | sed 's|^    Py_RETURN_NONE;|    /* pyrefcheck: ignore[leak] */\n    Py_RETURN_NONE;|' > sp/a.c
leaky > sp/a.c
(cd sp && "$BIN" a.c > out 2>&1); rc=$?
got=$(q sp/.pyrefcheck/results.db "select state from findings")
WHY="rc=$rc $got"; check "removing the suppression reopens it as open" test "$rc|$got" = "1|open"

# --- incremental runs ----------------------------------------------------------------------
# inc/a.c: a leak (with a path), a suppressed leak, and a function over the step budget (an
# "incomplete" note); inc/b.c: another leak; inc/c.c: no Python API (skipped).
mkdir inc
leaky | sed 's|^    Py_RETURN_NONE;|    /* pyrefcheck: ignore[leak] */\n    Py_RETURN_NONE;|; s/\bf\b/fs/g; s/\bm\b/m1/' > inc/a.c
leaky | sed '1d' >> inc/a.c
{
    printf 'static PyObject *big(PyObject *self, PyObject *arg)\n{\n    PyObject *x = PyList_New(0);\n'
    for ((i = 0; i < 12; i++)); do printf '    if (PyObject_IsTrue(arg)) Py_INCREF(arg); else Py_DECREF(arg);\n'; done
    printf '    return x;\n}\nstatic PyMethodDef m3[] = {{"big", big, METH_O, NULL}, {NULL}};\n'
} >> inc/a.c
leaky 3 | sed 's/\bf\b/g/g' > inc/b.c
printf 'int plain(int x) { return x + 1; }\n' > inc/c.c
IDB=inc/i.db
# prc OUT [ARGS...]: check inc/*.c into $IDB (JSON into OUT); exit status in $rc
prc() { local out=$1; shift; "$BIN" --db $IDB --max-steps 100 --format json -o "$out" "$@" inc/a.c inc/b.c inc/c.c 2> "$out.err"; rc=$?; }
# same A B: the two JSON outputs are identical but for stats.seconds
same() { python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d["stats"].pop("seconds")
sys.exit(0 if a == b else 1)
PY
}
# msg OUT: the message of the first leak finding of b.c in OUT
msg() { python3 -c 'import json,sys; print([f["message"] for f in json.load(open(sys.argv[1]))["findings"] if f["file"] == "inc/b.c"][0])' "$1" 2>&1; }
reused() { q $IDB "select files_reused from runs order by id desc limit 1"; }
# tamper: change the stored message of b.c's finding; only a reused file reports it
tamper() { q $IDB "update findings set message = 'TAMPERED' where file_id = (select id from files where path = 'inc/b.c')"; }
prc inc/1.json; rc1=$rc
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["findings"]), len(d["incomplete"]), d["stats"]["files_skipped"], sum(len(f["path"]) > 0 for f in d["findings"]))' inc/1.json 2>&1)
WHY="rc=$rc1 $got $(cat inc/1.json.err)"; check "incremental: first run analyses (2 leaks, 1 note, 1 skipped)" test "$rc1|$got|$(reused)" = "1|3 1 1 3|0"
prc inc/2.json
WHY="rc=$rc reused=$(reused) $(cat inc/2.json.err)"; check "second run reuses all 3 files" test "$rc|$(reused)" = "1|3"
WHY="$(diff inc/1.json inc/2.json)"; check "second run: JSON identical but for stats.seconds" same inc/1.json inc/2.json
"$BIN" --db $IDB --max-steps 100 inc/a.c inc/b.c inc/c.c > inc/1.txt 2>&1
"$BIN" --db $IDB --max-steps 100 inc/a.c inc/b.c inc/c.c > inc/2.txt 2>&1
WHY="$(diff <(sed 's/[0-9.]*s$//' inc/1.txt) <(sed 's/[0-9.]*s$//' inc/2.txt))"
check "text output identical too (reused run)" cmp -s <(sed 's/, [0-9.]*s$//' inc/1.txt) <(sed 's/, [0-9.]*s$//' inc/2.txt)
got=$(q $IDB "select count(*) from run_findings where run_id = (select max(id) from runs); select count(*) from findings where state = 'open' and last_seen_run = (select max(id) from runs)" | tr '\n' ' ')
WHY="$got"; check "a reused run records its findings as seen (db diff works)" test "$got" = "4 3 "
tamper; prc inc/3.json
WHY="$(msg inc/3.json)"; check "reused findings come from the database (not parsed again)" test "$(msg inc/3.json)" = TAMPERED
"$BIN" --db $IDB --no-db --max-steps 100 --format json -o inc/nodb.json inc/a.c inc/b.c inc/c.c 2> /dev/null
WHY="$(msg inc/nodb.json)"; check "--no-db analyses everything" test "$(msg inc/nodb.json)" != TAMPERED
WHY="$(diff inc/1.json inc/nodb.json)"; check "--no-db output equals the first run's" same inc/1.json inc/nodb.json
tamper; printf '/* edited */\n' >> inc/b.c; prc inc/4.json
WHY="reused=$(reused) $(msg inc/4.json)"; check "edited file analysed again, the others reused" test "$(reused)" = 2 -a "$(msg inc/4.json)" != TAMPERED
touch inc/a.c inc/b.c; prc inc/4b.json
WHY="reused=$(reused)"; check "a touch without an edit keeps the reuse" test "$(reused)" = 3
tamper; prc inc/5.json -DPRC_SOMETHING=1
WHY="reused=$(reused) $(msg inc/5.json)"; check "a new -D flag analyses every file again" test "$(reused)" = 0 -a "$(msg inc/5.json)" != TAMPERED
prc inc/5b.json -DPRC_SOMETHING=1
WHY="reused=$(reused)"; check "the same -D flag again reuses" test "$(reused)" = 3
prc inc/5c.json -DPRC_SOMETHING=2
WHY="reused=$(reused)"; check "a changed -D value analyses again" test "$(reused)" = 0
printf '# no entries yet\n' > inc/extra.rules
tamper; prc inc/6.json --rules inc/extra.rules
WHY="reused=$(reused) $(msg inc/6.json)"; check "a --rules file analyses again" test "$(reused)" = 0 -a "$(msg inc/6.json)" != TAMPERED
prc inc/6b.json --rules inc/extra.rules
WHY="reused=$(reused)"; check "the same --rules file again reuses" test "$(reused)" = 3
printf '# still none\n' >> inc/extra.rules; prc inc/6c.json --rules inc/extra.rules
WHY="reused=$(reused)"; check "an edited --rules file analyses again" test "$(reused)" = 0
prc inc/7.json --python-version 3.10; prc inc/7b.json --python-version 3.10
WHY="reused=$(reused)"; check "--python-version X.Y: reused when unchanged" test "$(reused)" = 3
prc inc/7c.json --python-version 3.12
WHY="reused=$(reused)"; check "a changed --python-version analyses again" test "$(reused)" = 0
prc inc/8.json --max-steps 5000
WHY="reused=$(reused)"; check "a changed budget analyses again" test "$(reused)" = 0
mkdir inc/rd; cp "${PYREFCHECK_RULES_DIR:-$SRCDIR/rules}"/*.rules inc/rd/
PYREFCHECK_RULES_DIR=inc/rd prc inc/9.json; PYREFCHECK_RULES_DIR=inc/rd prc inc/9b.json
WHY="reused=$(reused)"; check "knowledge base unchanged: reused" test "$(reused)" = 3
printf '# a comment\n' >> "$(ls inc/rd/*.rules | head -n 1)"
PYREFCHECK_RULES_DIR=inc/rd prc inc/9c.json
WHY="reused=$(reused)"; check "an edited knowledge-base file analyses again" test "$(reused)" = 0
cp "$BIN" inc/pyrefcheck2 && printf 'x' >> inc/pyrefcheck2
PYREFCHECK_RULES_DIR=inc/rd "$BIN" --db $IDB --max-steps 100 inc/a.c inc/b.c inc/c.c > /dev/null 2>&1
PYREFCHECK_RULES_DIR=inc/rd inc/pyrefcheck2 --db $IDB --max-steps 100 inc/a.c inc/b.c inc/c.c > /dev/null 2>&1; rc=$?
WHY="rc=$rc reused=$(reused)"; check "another pyrefcheck build analyses again" test "$rc|$(reused)" = "1|0"
# a file that does not parse is retried every time (and never reused)
printf '#include <Python.h>\nstatic PyObject *broken(PyObject *self {\n' > inc/bad.c
"$BIN" --db $IDB --max-steps 100 inc/a.c inc/bad.c > /dev/null 2> inc/bad1.err; rc1=$?
"$BIN" --db $IDB --max-steps 100 inc/a.c inc/bad.c > /dev/null 2> inc/bad2.err; rc2=$?
WHY="rc=$rc1,$rc2 reused=$(reused) $(cat inc/bad2.err)"; check "a parse error is retried, the good file reused" \
    test "$rc1|$rc2|$(reused)|$(grep -c '^inc/bad.c: error:' inc/bad2.err)" = "2|2|1|1"
leaky | sed 's/\bf\b/fb/g' > inc/bad.c
"$BIN" --db $IDB --max-steps 100 inc/a.c inc/bad.c > inc/bad3.out 2>&1; rc=$?
WHY="rc=$rc $(cat inc/bad3.out)"; check "the repaired file is analysed" test "$rc|$(reused)|$(grep -c "leak of 'x'" inc/bad3.out)" = "1|1|2"

# --- db export ---------------------------------------------------------------------------
prc inc/ex.json
"$BIN" db export --db $IDB > inc/export.json 2> inc/export.err; rc=$?
got=$(python3 - inc/ex.json inc/export.json <<'PY' 2>&1
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(a["findings"] == b["findings"], len(b["findings"]), b["incomplete"] == a["incomplete"], b["stats"]["files"], b["tool"]["name"])
PY
)
WHY="rc=$rc $got $(cat inc/export.err)"; check "db export: the latest run's open findings, as check --format json" test "$rc|$got" = "0|True 3 True 2 pyrefcheck"
"$BIN" db export --format text --db $IDB > /dev/null 2>&1; rc=$?
WHY="rc=$rc"; check "db export --format text is a usage error" test $rc -eq 2
mkdir ex2; "$BIN" db export --db ex2/none.db > /dev/null 2>&1; rc=$?
WHY="rc=$rc"; check "db export without a database exits 2" test $rc -eq 2

# --- --report-unused-suppressions --------------------------------------------------------
mkdir us
leaky | sed 's|^    Py_RETURN_NONE;|    /* pyrefcheck: ignore[leak] */\n    Py_RETURN_NONE;|' > us/a.c
printf '/* pyrefcheck: ignore[null-deref] */\nstatic int unused_a;\nstatic int unused_b; /* pyrefcheck: ignore */\n' >> us/a.c
leaky | sed 's/\bf\b/g/g; s|^    Py_RETURN_NONE;|    Py_RETURN_NONE; /* pyrefcheck: ignore[over-release] */|' > us/b.c
(cd us && "$BIN" --report-unused-suppressions a.c b.c > out 2> err); rc=$?
want=$'a.c:11: warning: unused suppression\na.c:13: warning: unused suppression\nb.c:7: warning: unused suppression'
WHY="rc=$rc $(cat us/err)"; check "unused suppressions listed (the used one not), exit status as without" \
    test "$rc|$(cat us/err)" = "1|$want"
(cd us && "$BIN" --report-unused-suppressions a.c b.c > out2 2> err2); rc=$?
WHY="rc=$rc $(cat us/err2)"; check "unused suppressions the same on a reused run" \
    test "$rc|$(cat us/err2)|$(q us/.pyrefcheck/results.db 'select files_reused from runs where id = 2')" = "1|$want|2"
(cd us && "$BIN" --no-db a.c b.c > /dev/null 2> err3); rc=$?
WHY="rc=$rc $(cat us/err3)"; check "without the option nothing is listed" test "$rc" = 1 -a ! -s us/err3

# --- usage ---------------------------------------------------------------------------------
"$BIN" db bogus > out 2>&1; rc=$?
WHY="rc=$rc"; check "unknown db command exits 2" test $rc -eq 2
"$BIN" db diff 1 > out 2>&1; rc=$?
WHY="rc=$rc"; check "db diff needs two runs" test $rc -eq 2

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
