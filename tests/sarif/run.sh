#!/usr/bin/env bash
# tests/sarif/run.sh - SARIF output: `check --format sarif` and `db export --format sarif` pass the
# official validator (@microsoft/sarif-multitool, pinned in package.json) with no errors, and say
# the same as the JSON output: one result per finding with its rule, location, fingerprint and
# every path step (with its note) in a codeFlow; a rules entry per rule id; relative URIs under
# SRCROOT.  Exits 77 (skipped) only when Node.js is not installed.
#   usage: tests/sarif/run.sh --pyrefcheck BIN
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

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    echo "SKIPPED: node and npm are needed for the SARIF validator (apt-get install nodejs npm)"
    { [[ "${PYREFCHECK_REQUIRE_TOOLS:-0}" == 1 ]] && exit 1; exit 77; }
fi
if [[ ! -x "$HERE/node_modules/.bin/sarif-multitool" ]]; then
    # --ignore-scripts: the package's only script is a chmod, done below
    (cd -- "$HERE" && npm ci --ignore-scripts --no-audit --no-fund > npm.log 2>&1) || {
        cat -- "$HERE/npm.log" >&2
        echo "FAIL: npm ci in tests/sarif" >&2
        exit 1
    }
fi
MT_BIN=$(ls "$HERE"/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool 2> /dev/null)
[[ -n "$MT_BIN" ]] && chmod u+x -- "$MT_BIN"
# the validator needs no locale data; without this it wants libicu
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prc-sarif.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
PASS=0
FAIL=0
check() {   # check NAME CMD...: CMD's status decides; $WHY explains a failure
    local name=$1
    shift
    if "$@"; then
        PASS=$((PASS + 1)); echo "ok   $name"
    else
        FAIL=$((FAIL + 1)); echo "FAIL $name${WHY:+: $WHY}"
    fi
    WHY=
}

# Sources under the work directory, so their URIs are relative to it (SRCROOT).
mkdir -p "$WORK/src/sub dir"
cp -- "$ROOT"/fixtures/demo/demo.c "$ROOT"/fixtures/leak/error_paths.c "$WORK/src/"
cp -- "$ROOT"/fixtures/use-after-release/*.c "$WORK/src/sub dir/"
printf 'int broken( {\n' > "$WORK/src/broken.c"
cd -- "$WORK"

"$BIN" --no-db --format sarif -o out.sarif src > /dev/null 2> sarif.err; rc_s=$?
"$BIN" --no-db --format json -o out.json src > /dev/null 2> json.err; rc_j=$?
WHY="rc=$rc_s,$rc_j $(head -c 300 sarif.err)"
check "check --format sarif exits like --format json" test "$rc_s" = "$rc_j" -a "$rc_s" = 2

"$BIN" --db r.db src/demo.c src/error_paths.c "src/sub dir" > /dev/null 2>&1
"$BIN" db export --format sarif --db r.db > export.sarif 2> export.err; rc=$?
"$BIN" db export --format json --db r.db > export.json 2>> export.err
WHY="rc=$rc $(cat export.err)"; check "db export --format sarif" test "$rc" = 0

validate() {   # validate FILE: no error-level result from the official validator
    local f=$1 out
    out="$WORK/$(basename -- "$f").validation.sarif"
    "$HERE/node_modules/.bin/sarif-multitool" validate "$f" -o "$out" --log ForceOverwrite \
        > "$out.log" 2>&1 || { WHY="validator failed: $(tail -5 "$out.log")"; return 1; }
    python3 - "$out" <<'PY' || { WHY="$(cat "$out.log" | grep -E ': (error|warning) ' | head -5)"; return 1; }
import json, sys
log = json.load(open(sys.argv[1]))
res = [r for run in log["runs"] for r in run.get("results", [])]
errors = [r for r in res if r.get("level", "warning") == "error"]
warnings = [r for r in res if r.get("level", "warning") == "warning"]
for r in res:
    print("   validator %s %s: %s" % (r.get("level", "warning"), r["ruleId"],
          r["message"].get("arguments", [""])[0]), file=sys.stderr)
sys.exit(1 if errors or warnings else 0)
PY
}
check "check --format sarif passes sarif-multitool validate (no errors, no warnings)" validate out.sarif
check "db export --format sarif passes sarif-multitool validate" validate export.sarif

# The SARIF log says what the JSON output says.
compare() {   # compare SARIF JSON: same findings, paths, fingerprints; prints a reason on failure
    python3 - "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); j = json.load(open(sys.argv[2]))
run = s["runs"][0]
ok = True
def fail(msg):
    global ok
    ok = False
    print(msg)
drv = run["tool"]["driver"]
if drv["name"] != "pyrefcheck" or not drv.get("version") or not drv.get("informationUri"):
    fail("driver name/version/informationUri missing")
ids = [r["id"] for r in drv["rules"]]
for want in ("leak", "use-after-release", "over-release", "borrowed-return", "null-deref",
             "null-without-exception"):
    if want not in ids:
        fail("no rules entry for " + want)
for r in drv["rules"]:
    for k in ("shortDescription", "fullDescription", "help"):
        if not r.get(k, {}).get("text"):
            fail("rule %s has no %s" % (r["id"], k))
    if r["defaultConfiguration"]["level"] not in ("warning", "error"):
        fail("rule %s level" % r["id"])
base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
if not base.startswith("file:///") or not base.endswith("/"):
    fail("SRCROOT " + base)
res = run["results"]; fj = j["findings"]
if len(res) != len(fj) or not fj:
    fail("%d results, %d JSON findings" % (len(res), len(fj)))
from urllib.parse import quote
for r, f in zip(res, fj):
    loc = r["locations"][0]["physicalLocation"]
    uri = loc["artifactLocation"]["uri"]
    if loc["artifactLocation"].get("uriBaseId") != "SRCROOT" or uri != quote(f["file"]):
        fail("uri %r for %r" % (uri, f["file"]))
    if (r["ruleId"], loc["region"]["startLine"], loc["region"]["startColumn"], r["message"]["text"]) != \
       (f["rule"], f["line"], f["column"], f["message"]):
        fail("result %r != finding %r" % (r["ruleId"], f["rule"]))
    if drv["rules"][r["ruleIndex"]]["id"] != r["ruleId"]:
        fail("ruleIndex")
    if r["partialFingerprints"]["pyrefcheck/v1"] != f["fingerprint"]:
        fail("fingerprint")
    want_level = "error" if f["severity"] == "error" else "warning"
    if r["level"] != want_level:
        fail("level")
    steps = r["codeFlows"][0]["threadFlows"][0]["locations"] if f["path"] else []
    if len(steps) != len(f["path"]):
        fail("%d flow steps for %d path steps" % (len(steps), len(f["path"])))
    for k, (st, p) in enumerate(zip(steps, f["path"])):
        pl = st["location"]["physicalLocation"]
        if st["location"]["message"]["text"] != p["message"] or pl["region"]["startLine"] != p["line"] \
           or st["executionOrder"] != k + 1 or st.get("properties", {}).get("ownedReferences") != p.get("refs"):
            fail("step %d of %s" % (k, f["rule"]))
if len(j["errors"]) != sum(1 for n in run["invocations"][0]["toolExecutionNotifications"] if n["level"] == "error"):
    fail("errors are not tool notifications")
if j["errors"] and run["invocations"][0]["executionSuccessful"]:
    fail("executionSuccessful with errors")
print("same" if ok else "different")
PY
}
got=$(compare out.sarif out.json)
WHY="$got"; check "check: SARIF results match the JSON findings (rule, location, fingerprint, path)" test "${got##*$'\n'}" = same
got=$(compare export.sarif export.json)
WHY="$got"; check "db export: SARIF results match the exported JSON" test "${got##*$'\n'}" = same
n=$(grep -c '"ruleId"' out.sarif)
WHY="$n results"; check "the run has findings to compare" test "$n" -ge 5
grep -q '"uri": "src/sub%20dir/' out.sarif
WHY="$(grep -o '"uri": "src/sub[^"]*"' out.sarif | head -1)"; check "a space in a path is percent-encoded" test $? -eq 0

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
