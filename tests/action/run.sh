#!/usr/bin/env bash
# tests/action/run.sh: runs the composite action in action.yml the way a GitHub runner would, as
# far as this machine allows: each `run:` step executed by bash with its `env:` (inputs
# substituted) and GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH files, on a scratch project with a
# baseline.  The apt step is only syntax-checked (the packages are already here) and the
# upload-sarif step (GitHub's own action) is skipped; the SARIF it would upload is checked.
# The examples/github-workflow.yml is checked to use the action's real inputs.
# Prints "N passed, M failed".
set -uo pipefail
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
python3 -c 'import yaml' 2> /dev/null || { echo "SKIPPED: python3-yaml is not installed"; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/prc-action.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
PASS=0; FAIL=0
check() {   # check NAME EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then PASS=$((PASS + 1)); echo "ok   $1"
    else FAIL=$((FAIL + 1)); echo "FAIL $1: expected [$2], got [$3]"; fi
}

# run_action WORKSPACE [input=value...]: writes the step scripts, runs them in order like a
# runner (stop at the first failing step); prints "step-name rc" lines.
run_action() {
    local ws=$1
    shift
    python3 - "$ROOT/action.yml" "$TMP" "$ws" "$@" <<'PY'
import os, re, subprocess, sys, yaml
action_file, tmp, ws, *overrides = sys.argv[1:]
act = yaml.safe_load(open(action_file))
inputs = {k: str(v.get("default", "")) for k, v in act["inputs"].items()}
for o in overrides:
    k, v = o.split("=", 1)
    assert k in inputs, "unknown input " + k
    inputs[k] = v
def subst(s):
    def one(m):
        expr = m.group(1).strip()
        mi = re.fullmatch(r"inputs\.([\w-]+)", expr)
        if mi:
            return inputs[mi.group(1)]
        raise SystemExit("unsupported expression in a run step: " + expr)
    return re.sub(r"\$\{\{(.*?)\}\}", one, s)
files = {n: os.path.join(tmp, n) for n in ("output", "env", "path")}
for f in files.values():
    open(f, "w").close()
env = dict(os.environ, GITHUB_ACTION_PATH=os.path.dirname(os.path.abspath(action_file)),
           RUNNER_TEMP=os.path.join(tmp, "runner"), GITHUB_OUTPUT=files["output"],
           GITHUB_ENV=files["env"], GITHUB_PATH=files["path"], GITHUB_WORKSPACE=ws)
os.makedirs(env["RUNNER_TEMP"], exist_ok=True)
for step in act["runs"]["steps"]:
    name = step["name"]
    if "uses" in step:
        print(name, "skipped", flush=True)
        continue
    script = subst(step["run"])
    step_env = dict(env)
    for k, v in (step.get("env") or {}).items():
        step_env[k] = subst(str(v))
    # what earlier steps exported
    for line in open(files["env"]):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            step_env[k] = v
    extra_path = [l.strip() for l in open(files["path"]) if l.strip()]
    step_env["PATH"] = ":".join(extra_path + [step_env["PATH"]])
    if "apt-get" in script:
        rc = subprocess.run(["bash", "-n", "-c", script]).returncode
        print(name, "syntax", rc, flush=True)
        continue
    with open(os.path.join(tmp, "step.log"), "a") as log:
        log.write("#### " + name + "\n")
        log.flush()
        rc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=ws, env=step_env,
                            stdout=log, stderr=subprocess.STDOUT).returncode
    print(name, rc, flush=True)
    if rc != 0:
        break
PY
}

leaky_c() {   # leaky_c NAME
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

WS="$TMP/ws"
mkdir -p "$WS/src"
leaky_c legacy > "$WS/src/legacy.c"

# 0. no baseline yet: the legacy finding fails the job
out=$(run_action "$WS" paths=src)
check "without a baseline the finding fails the job" "Fail on new findings 1" "$(grep '^Fail' <<< "$out")"

# 1. only baselined findings: the action passes, SARIF still lists them for code scanning
(cd "$WS" && "$TMP/runner/pyrefcheck-build/pyrefcheck" baseline create --no-db src > /dev/null 2>&1)
: > "$TMP/step.log"
out=$(run_action "$WS" paths=src)
check "apt step is valid bash" "Install build dependencies syntax 0" "$(grep '^Install' <<< "$out")"
check "build step" "Build pyrefcheck 0" "$(grep '^Build' <<< "$out")"
check "check step" "Check 0" "$(grep '^Check' <<< "$out")"
check "upload step is GitHub's action" "Upload SARIF to code scanning skipped" "$(grep '^Upload' <<< "$out")"
check "only baselined findings: the job passes" "Fail on new findings 0" "$(grep '^Fail' <<< "$out")"
check "SARIF for code scanning lists every finding" 1 \
    "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["runs"][0]["results"]))' "$WS/pyrefcheck.sarif" 2>&1)"
check "new-findings output is 0" "new-findings=0" "$(cat "$TMP/output")"
check "no annotation for a baselined finding" 0 "$(grep -c '^::warning' "$TMP/runner/pyrefcheck-annotations.txt")"

# 2. a new finding: annotated, and the job fails
leaky_c fresh > "$WS/src/fresh.c"
: > "$TMP/step.log"
out=$(run_action "$WS" paths=src)
check "a new finding fails the job" "Fail on new findings 1" "$(grep '^Fail' <<< "$out")"
check "it is annotated" 1 "$(grep -c '^::warning file=src/fresh.c,line=9,col=9,title=pyrefcheck \[leak\] in fresh()::' "$TMP/runner/pyrefcheck-annotations.txt")"
check "new-findings output is 1" "new-findings=1" "$(tail -1 "$TMP/output")"
check "SARIF lists both" 2 \
    "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["runs"][0]["results"]))' "$WS/pyrefcheck.sarif" 2>&1)"

# 3. the example workflow uses the action with inputs it has
got=$(python3 - "$ROOT/action.yml" "$ROOT/examples/github-workflow.yml" <<'PY'
import sys, yaml
act = yaml.safe_load(open(sys.argv[1])); wf = yaml.safe_load(open(sys.argv[2]))
steps = [s for j in wf["jobs"].values() for s in j["steps"] if "pyrefcheck" in str(s.get("uses", ""))]
bad = [k for s in steps for k in (s.get("with") or {}) if k not in act["inputs"]]
perms = wf.get("permissions", {})
print(len(steps), bad, perms.get("security-events"))
PY
)
check "examples/github-workflow.yml uses the action with its inputs and may upload SARIF" "1 [] write" "$got"

[[ $FAIL -eq 0 ]] || { echo "--- step log"; tail -40 "$TMP/step.log"; }
echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
