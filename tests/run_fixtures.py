#!/usr/bin/env python3
"""Check pyrefcheck against the inline expectations of fixture files.

    run_fixtures.py --pyrefcheck BIN [--python-include DIR] [-j N] PATH...
    run_fixtures.py --self-test
    run_fixtures.py --ground-truth --pyrefcheck BIN [--min-confirmed PCT] [--known FILE] PATH...

Every PATH is a fixture folder (its *.c files, sorted, not recursive) or a single .c file.
For each file the runner runs

    BIN --format json --no-db [--python-include DIR] FILE [-- ARGS from /* fixture-args: */]

parses the JSON report and compares it with the expectations written in the file (grammar:
fixtures/README.md), in both directions.  An `expect:`, `fixture-args:` or `fixture-error:`
marker counts where it opens a comment or a line of one (after blanks and a leading `*`);
the same words in the middle of a sentence are prose.  A marker that does not parse is a
fixture format error, reported as a failure of that file.

It prints one line per mismatch, then a summary line `N passed, M failed` (N files fully
matching, M files with a mismatch), and exits 0 only if nothing failed (a folder without
*.c files also fails).  A crash of BIN (a signal, or an exit status other than 0/1/2),
output that is not JSON, or an exit status that contradicts the report fails that file;
status 2 with nothing on stdout counts as an error whose message is BIN's stderr.
Expectations are written by hand: there is deliberately no mode that rewrites them from
the tool's output.

--ground-truth checks the labels themselves under the reference runtime: every function of
every fixture file runs (`BIN validate --functions FILE`) with no fault and with each
single-failure fault plan; a function holding an `expect:` marker must show its rule's
error in at least one run (use-after-release and over-release count as one), every other
function must show none (a helper no table names may return a borrowed reference or NULL
without an exception); and every finding is re-run (`BIN check --validate`).  It fails when
a correct function misbehaves, or fewer than --min-confirmed percent of the buggy
functions or of the findings are confirmed; every miss is listed with its reason.
A correct function that calls a buggy one of its file may show that one's error.
--known FILE lists correct functions known to misbehave because of a runtime
limitation (`fixtures/x/y.c:function reason`): they are printed, not failed, and an
entry that no longer misbehaves fails (so the list only shrinks).

Python 3 standard library only.
"""

import argparse
import bisect
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

DEFAULT_TIMEOUT = 300  # seconds per file

# ---------------------------------------------------------------------------
# Expectation grammar
# ---------------------------------------------------------------------------


class FixtureFormatError(Exception):
    """A fixture file whose markers do not follow the grammar."""

    def __init__(self, line, message):
        super().__init__(message)
        self.line = line
        self.message = message


class Expectation:
    """One expected diagnostic: `count` reports of `rule` on `line`."""

    __slots__ = ("line", "rule", "count", "substring", "marker_line")

    def __init__(self, line, rule, count=1, substring=None, marker_line=None):
        self.line = line
        self.rule = rule
        self.count = count
        self.substring = substring
        self.marker_line = line if marker_line is None else marker_line

    def key(self):
        return (self.line, self.rule, self.count, self.substring)

    def __repr__(self):
        return "Expectation(%r)" % (self.key(),)


class FixtureSpec:
    """Everything a fixture file says about the expected run."""

    def __init__(self):
        self.expectations = []   # list of Expectation
        self.clean = False       # pyrefcheck-fixture: clean
        self.args = []           # extra arguments after `--`
        self.errors = []         # substrings from fixture-error markers


def iter_comments(text):
    """Yield (offset, body) for each C comment of TEXT; body excludes the delimiters.

    String and character literals are skipped, so a marker inside "..." is not a marker.
    Raises FixtureFormatError for an unterminated block comment."""
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            end = text.find("\n", i)
            if end < 0:
                end = n
            yield i + 2, text[i + 2:end]
            i = end
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            end = text.find("*/", i + 2)
            if end < 0:
                raise FixtureFormatError(text.count("\n", 0, i) + 1, "unterminated /* comment")
            yield i + 2, text[i + 2:end]
            i = end + 2
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1


MARKER_RE = re.compile(
    r"(?<![\w@-])(expect(?:@([+-]\d+))?|fixture-args|fixture-error|pyrefcheck-fixture)\s*:")
EXPECT_ITEM_RE = re.compile(
    r'\s*([a-z][a-z0-9-]*)(?:\s*\*\s*(\d+))?(?:\s*"((?:[^"\\]|\\.)*)")?\s*(,|$)')


def _unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def parse_expect_body(body, line, target):
    """Parse `RULE[*N] ["substring"], ...` into Expectations pointing at TARGET."""
    out = []
    pos = 0
    body = body.rstrip()
    if not body.strip():
        raise FixtureFormatError(line, "empty expect marker")
    while pos < len(body):
        m = EXPECT_ITEM_RE.match(body, pos)
        if not m or m.end() == pos:
            raise FixtureFormatError(
                line, "malformed expect marker near %r (want RULE, RULE*N or RULE \"text\")"
                % body[pos:].strip())
        rule, count, sub, sep = m.groups()
        count = int(count) if count is not None else 1
        if count < 1:
            raise FixtureFormatError(line, "count must be at least 1 in %r" % body.strip())
        out.append(Expectation(target, rule, count, _unescape(sub) if sub is not None else None,
                               marker_line=line))
        pos = m.end()
        if sep == "," and pos >= len(body):
            raise FixtureFormatError(line, "trailing comma in expect marker")
    return out


def parse_fixture(text):
    """Parse the expectation markers of a fixture's TEXT into a FixtureSpec."""
    spec = FixtureSpec()
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    nlines = len(newlines) + 1

    def line_of(offset):
        return bisect.bisect_left(newlines, offset) + 1

    first_comment = True
    clean_line = None
    for start, body in iter_comments(text):
        for m in MARKER_RE.finditer(body):
            kind, delta = m.group(1), m.group(2)
            # expect:/fixture-args:/fixture-error: count only where they open the comment or
            # one of its lines (after blanks and a leading `*`); elsewhere they are prose.
            lead = body[body.rfind("\n", 0, m.start()) + 1:m.start()]
            if kind != "pyrefcheck-fixture" and lead.strip(" \t*"):
                continue
            line = line_of(start + m.start())
            rest = body[m.end():]
            nl = rest.find("\n")
            if nl >= 0:
                rest = rest[:nl]
            if kind.startswith("expect"):
                target = line + (int(delta) if delta else 0)
                if not 1 <= target <= nlines:
                    raise FixtureFormatError(line, "expect@%s points outside the file" % delta)
                spec.expectations.extend(parse_expect_body(rest, line, target))
            elif kind == "fixture-args":
                try:
                    spec.args.extend(shlex.split(rest))
                except ValueError as e:
                    raise FixtureFormatError(line, "bad fixture-args: %s" % e)
            elif kind == "fixture-error":
                sub = rest.strip()
                if len(sub) >= 2 and sub[0] == sub[-1] == '"':
                    sub = _unescape(sub[1:-1])
                if not sub:
                    raise FixtureFormatError(line, "fixture-error needs a message substring")
                spec.errors.append(sub)
            else:  # pyrefcheck-fixture
                if rest.strip() != "clean":
                    raise FixtureFormatError(
                        line, "unknown pyrefcheck-fixture value %r (only 'clean')" % rest.strip())
                if not first_comment:
                    raise FixtureFormatError(
                        line, "pyrefcheck-fixture: clean must be in the file's first comment")
                spec.clean = True
                clean_line = line
        first_comment = False
    if spec.clean and spec.expectations:
        raise FixtureFormatError(spec.expectations[0].marker_line,
                                 "clean fixture must not contain expect markers")
    if spec.clean and spec.errors:
        raise FixtureFormatError(clean_line, "clean fixture must not contain fixture-error")
    return spec


# ---------------------------------------------------------------------------
# Comparing a run with the expectations
# ---------------------------------------------------------------------------


class RunResult:
    """What one pyrefcheck run produced."""

    def __init__(self, returncode, stdout, stderr, timed_out=False):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out


def _short(s, limit=300):
    s = " ".join(str(s).split())
    return s if len(s) <= limit else s[:limit - 3] + "..."


def _stderr_tail(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    return (" (stderr: %s)" % _short(lines[-1], 200)) if lines else ""


def _describe_status(rc):
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = "signal %d" % -rc
        return "killed by %s" % name
    return "exited with status %d" % rc


def same_file(reported, fixture_path):
    """Does the path REPORTED by the tool name FIXTURE_PATH?"""
    if not reported:
        return True
    a = os.path.realpath(reported)
    b = os.path.realpath(fixture_path)
    if a == b:
        return True
    # A path relative to some other directory: accept a suffix on a component boundary.
    rep = os.path.normpath(reported).lstrip(os.sep)
    return b == rep or b.endswith(os.sep + rep)


def compare(spec, result, fixture_path):
    """Return a list of (line, message) mismatches; line is None for file-level ones."""
    problems = []
    if result.timed_out:
        return [(None, "pyrefcheck timed out" + _stderr_tail(result.stderr))]
    rc = result.returncode
    if rc not in (0, 1, 2):
        return [(None, "pyrefcheck crashed: %s%s" % (_describe_status(rc),
                                                    _stderr_tail(result.stderr)))]
    if rc == 2 and not result.stdout.strip():
        # An error before any report (bad option, unreadable rules): stderr says what.
        report = {"findings": [], "errors": [{"message": _short(result.stderr) or
                                              "exit status 2 with no output"}]}
    else:
        report = None
    try:
        if report is None:
            report = json.loads(result.stdout)
    except ValueError as e:
        return [(None, "output is not valid JSON (%s; %s)%s"
                 % (e, _describe_status(rc), _stderr_tail(result.stderr)))]
    if not isinstance(report, dict) or not isinstance(report.get("findings", []), list) \
            or not isinstance(report.get("errors", []), list):
        return [(None, "JSON report lacks the findings/errors lists")]
    findings = report.get("findings", [])
    errors = report.get("errors", [])

    # Findings, grouped by (line, rule).
    found = {}
    for f in findings:
        if not isinstance(f, dict) or "rule" not in f or "line" not in f:
            problems.append((None, "malformed finding in JSON: %s" % _short(json.dumps(f))))
            continue
        msg = str(f.get("message", ""))
        if not same_file(f.get("file"), fixture_path):
            problems.append((None, "unexpected %s in %s:%s: %s"
                             % (f["rule"], f.get("file"), f["line"], msg)))
            continue
        try:
            line = int(f["line"])
        except (TypeError, ValueError):
            problems.append((None, "finding with a non-integer line: %s" % _short(json.dumps(f))))
            continue
        found.setdefault((line, str(f["rule"])), []).append(msg)

    wanted = {}
    for e in spec.expectations:
        wanted.setdefault((e.line, e.rule), []).extend([e.substring] * e.count)

    for key in sorted(set(found) | set(wanted)):
        line, rule = key
        msgs = list(found.get(key, []))
        subs = wanted.get(key, [])
        n_expected = len(subs)
        # Substring expectations take a matching report first, then plain ones take any.
        missing_sub = []
        for sub in [s for s in subs if s is not None]:
            for i, m in enumerate(msgs):
                if sub in m:
                    del msgs[i]
                    break
            else:
                missing_sub.append(sub)
        plain = sum(1 for s in subs if s is None)
        taken = min(plain, len(msgs))
        del msgs[:taken]
        missing_plain = plain - taken
        # Surplus reports that a substring expectation failed to match are paired with it.
        for sub in missing_sub:
            if msgs:
                problems.append((line, 'expected %s "%s", reported with message: %s'
                                 % (rule, sub, _short(msgs.pop(0)))))
            else:
                problems.append((line, 'expected %s "%s", not reported' % (rule, sub)))
        n_reported = len(found.get(key, []))
        if missing_plain:
            if n_reported == 0:
                what = rule if n_expected == 1 else "%s*%d" % (rule, n_expected)
                problems.append((line, "expected %s, not reported" % what))
            else:
                problems.append((line, "expected %s*%d, reported %d time%s"
                                 % (rule, n_expected, n_reported, "" if n_reported == 1 else "s")))
        for m in msgs:
            if n_expected == 0:
                problems.append((line, "unexpected %s: %s" % (rule, _short(m))))
            else:
                problems.append((line, "%s reported %d times, expected %d: %s"
                                 % (rule, n_reported, n_expected, _short(m))))

    # Errors.
    err_msgs = []
    for e in errors:
        if isinstance(e, dict):
            err_msgs.append(str(e.get("message", "")))
        else:
            err_msgs.append(str(e))
    unmatched = list(err_msgs)
    for sub in spec.errors:
        for i, m in enumerate(unmatched):
            if sub in m:
                del unmatched[i]
                break
        else:
            if any(sub in m for m in err_msgs):
                continue  # several markers may describe the same error
            problems.append((None, 'expected an error containing "%s", not reported%s'
                             % (sub, ("; errors: " + _short("; ".join(err_msgs)))
                                if err_msgs else "")))
    for m in unmatched:
        if not any(sub in m for sub in spec.errors):
            problems.append((None, "unexpected error: %s" % _short(m)))

    # Exit status contract: 2 if errors, else 1 if findings, else 0.
    want_rc = 2 if errors else (1 if findings else 0)
    if rc != want_rc:
        problems.append((None, "exit status %d inconsistent with the report (%d finding%s, "
                         "%d error%s: expected status %d)"
                         % (rc, len(findings), "" if len(findings) == 1 else "s",
                            len(errors), "" if len(errors) == 1 else "s", want_rc)))
    return problems


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def display_path(path):
    """fixtures/<folder>/<file>.c when the file sits under a `fixtures` directory."""
    ap = os.path.abspath(path)
    parts = ap.split(os.sep)
    if "fixtures" in parts[:-1]:
        idx = len(parts) - 1 - parts[::-1].index("fixtures", 1)
        return "/".join(parts[idx:])
    rel = os.path.relpath(ap)
    return ap if rel.startswith("..") else rel


def build_command(binary, python_include, path, spec):
    cmd = [binary, "--format", "json", "--no-db"]
    if python_include:
        cmd += ["--python-include", python_include]
    cmd.append(path)
    if spec.args:
        cmd += ["--"] + spec.args
    return cmd


def run_one(binary, python_include, path, timeout):
    """Check one fixture; return a list of printable mismatch lines (empty: pass)."""
    shown = display_path(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        spec = parse_fixture(text)
    except FixtureFormatError as e:
        return ["%s:%d: fixture format error: %s" % (shown, e.line, e.message)]
    except OSError as e:
        return ["%s: cannot read: %s" % (shown, e)]
    cmd = build_command(binary, python_include, path, spec)
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
        result = RunResult(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                           proc.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode("utf-8", "replace") if e.stderr else ""
        result = RunResult(None, "", err, timed_out=True)
    except OSError as e:
        return ["%s: cannot run %s: %s" % (shown, binary, e)]
    out = []
    for line, msg in compare(spec, result, path):
        out.append("%s:%d: %s" % (shown, line, msg) if line is not None
                   else "%s: %s" % (shown, msg))
    return out


def collect_files(paths):
    files, problems = [], []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(p, f) for f in os.listdir(p)
                           if f.endswith(".c") and os.path.isfile(os.path.join(p, f)))
            if not found:
                problems.append("%s: no *.c fixtures in this folder" % p)
            files.extend(found)
        elif os.path.isfile(p):
            files.append(p)
        else:
            problems.append("%s: no such file or folder" % p)
    return files, problems


def run(binary, python_include, paths, jobs, timeout, out=sys.stdout):
    files, problems = collect_files(paths)
    for p in problems:
        print(p, file=out)
    jobs = max(1, jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda f: run_one(binary, python_include, f, timeout), files))
    passed = failed = 0
    for lines in results:
        if lines:
            failed += 1
            for l in lines:
                print(l, file=out)
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed), file=out)
    out.flush()
    return 0 if failed == 0 and not problems else 1


# ---------------------------------------------------------------------------
# Ground truth (--ground-truth): every fixture function run under the
# reference runtime with no fault and every single-failure fault plan
# (`pyrefcheck validate --functions FILE`), and every finding re-run
# (`pyrefcheck check --validate`).
# ---------------------------------------------------------------------------

# Rules the runtime cannot tell apart: a use of a dead object and a count
# going negative are the same misbehaviour seen at different moments.
RULE_FAMILY = {"use-after-release": "release", "over-release": "release"}

# What the runtime reports about a function the interpreter never calls
# directly (a static helper) is not misbehaviour by itself: a helper's
# contract (returns borrowed, steals an argument, NULL without an exception,
# arguments of a given type) is unknown to the harness, so only functions
# named by a method table or slot are held to "never misbehaves".  Slots that
# may return NULL without an exception: tp_iternext (the end).
NULL_OK_SLOTS = ("tp_iternext", "Py_tp_iternext")


def _family(rule):
    return RULE_FAMILY.get(rule, rule)


def _run_json_lines(cmd, timeout):
    """Run cmd; return (list of JSON objects, error text or None)."""
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], "timed out"
    except OSError as e:
        return [], "cannot run: %s" % e
    objs = []
    text = proc.stdout.decode("utf-8", "replace")
    try:
        whole = json.loads(text) if text.lstrip().startswith("{") else None
    except ValueError:
        whole = None
    for line in ([] if whole is not None else text.splitlines()):
        line = line.strip()
        if line:
            try:
                objs.append(json.loads(line))
            except ValueError:
                return [], "output is not JSON lines: %s" % _short(line)
    if whole is not None:
        objs.append(whole)
    if proc.returncode not in (0, 1):
        return objs, _describe_status(proc.returncode) + ": " + _stderr_tail(
            proc.stderr.decode("utf-8", "replace"))
    return objs, None


def _calls_buggy(functions, buggy_names, text):
    """Names of the functions that call (directly or through other functions of
    the file) a function holding an expect: marker, read from the source text."""
    if not text:
        return set()
    lines = text.splitlines()
    names = [fn["function"] for fn in functions]
    calls = {}
    for fn in functions:
        body = "\n".join(lines[max(0, fn.get("line", 1)):fn.get("end_line", 0)])
        calls[fn["function"]] = {n for n in names if n != fn["function"] and
                                 re.search(r"\b%s\s*\(" % re.escape(n), body)}
    tainted = set(buggy_names)
    changed = True
    while changed:
        changed = False
        for name, callees in calls.items():
            if name not in tainted and callees & tainted:
                tainted.add(name)
                changed = True
    return tainted - set(buggy_names)


def judge_functions(spec, functions, text=""):
    """Compare validate --functions output with a fixture's expectations.

    Returns (buggy, correct): buggy is a list of (name, ok, why) for functions
    holding an expect: marker, correct a list of (name, ok, why) for the
    others.  A correct function that calls a buggy one (text: the fixture's
    source) may show that function's error.  Errors seen only with self's
    fields filled by the harness ("rules_filled": a state the type's own
    code may never produce) confirm a buggy function but never count
    against a correct one."""
    buggy, correct = [], []
    buggy_names = [fn["function"] for fn in functions
                   if any(fn.get("line", 0) <= e.line <= fn.get("end_line", 0)
                          for e in spec.expectations)]
    callers = _calls_buggy(functions, buggy_names, text)
    for fn in functions:
        lo, hi = fn.get("line", 0), fn.get("end_line", 0)
        want = {_family(e.rule) for e in spec.expectations if lo <= e.line <= hi}
        shown = fn.get("rules") or {}
        filled = fn.get("rules_filled") or {}
        unsupported = fn.get("unsupported")
        if want:
            shown = dict(filled, **shown)
            # the caller's release of a borrowed result may show as a count gone negative
            hit = sorted(r for r in shown if _family(r) in want or
                         ("borrowed-return" in want and _family(r) == "release"))
            if hit:
                buggy.append((fn["function"], True, "%s: %s" % (hit[0], shown[hit[0]])))
            elif unsupported:
                buggy.append((fn["function"], False, "unsupported: %s" % unsupported))
            else:
                buggy.append((fn["function"], False, "no run showed %s (%d runs%s)" % (
                    "/".join(sorted(want)), fn.get("runs", 0),
                    "; saw " + ", ".join(sorted(shown)) if shown else "")))
        else:
            bad = sorted(r for r in shown if fn.get("callable") and not (
                r == "null-without-exception" and fn.get("slot") in NULL_OK_SLOTS))
            if bad and fn["function"] in callers:
                correct.append((fn["function"], True, "calls a buggy function"))
            elif bad:
                correct.append((fn["function"], False, "%s: %s" % (bad[0], shown[bad[0]])))
            else:
                correct.append((fn["function"], True, unsupported or ""))
    return buggy, correct


def ground_truth_one(binary, python_include, path, timeout, vdir):
    """Returns (buggy, correct, findings, problems) for one fixture file."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    spec = parse_fixture(text)
    if spec.errors:
        return [], [], [], []
    extra = ["--python-include", python_include] if python_include else []
    tail = ["--"] + spec.args if spec.args else []
    cmd = [binary, "validate", "--quiet", "--validate-dir", vdir, "--functions"] + extra + \
        [path] + tail
    functions, err = _run_json_lines(cmd, timeout)
    problems = ["%s: validate --functions: %s" % (display_path(path), err)] if err else []
    buggy, correct = judge_functions(spec, functions, text)
    cmd = [binary, "check", "--validate", "--quiet", "--no-db", "--format", "json",
           "--validate-dir", vdir] + extra + [path] + tail
    report, err = _run_json_lines(cmd, timeout)
    if err:
        problems.append("%s: check --validate: %s" % (display_path(path), err))
    findings = []
    for obj in report:
        for f in obj.get("findings", []):
            findings.append((f.get("line"), f.get("rule"), f.get("validation") or "none"))
    return buggy, correct, findings, problems


def load_known(path):
    """Known runtime limitations: `fixture-path:function reason` lines (# comments).
    Returns {(basename-relative path, function): reason}."""
    known = {}
    if not path:
        return known
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"(\S+):(\w+)\s+(.+)$", line)
            if not m:
                raise SystemExit("%s:%d: not `file:function reason`" % (path, n))
            known[(m.group(1), m.group(2))] = m.group(3)
    return known


def ground_truth(binary, python_include, paths, jobs, timeout, min_confirmed, vdir,
                 out=sys.stdout, known=None):
    known = known or {}
    used = set()
    files, problems = collect_files(paths)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(
            lambda f: (f, ground_truth_one(binary, python_include, f, timeout, vdir)), files))
    nbuggy = nbuggy_ok = ncorrect = ncorrect_bad = 0
    nfind = nfind_ok = 0
    statuses = {}
    for path, (buggy, correct, findings, probs) in results:
        shown = display_path(path)
        problems.extend(probs)
        for name, ok, why in buggy:
            nbuggy += 1
            nbuggy_ok += ok
            if not ok:
                print("%s: %s: buggy function not confirmed: %s" % (shown, name, why), file=out)
        for name, ok, why in correct:
            ncorrect += 1
            if not ok and (shown, name) in known:
                used.add((shown, name))
                print("%s: %s: correct function misbehaved (known: %s): %s" % (
                    shown, name, known[(shown, name)], _short(why, 120)), file=out)
            elif not ok:
                ncorrect_bad += 1
                print("%s: %s: correct function misbehaved: %s" % (shown, name, why), file=out)
        for line, rule, status in findings:
            word = re.split(r"[: ]", status, 1)[0]
            statuses[word] = statuses.get(word, 0) + 1
            nfind += 1
            if word == "confirmed":
                nfind_ok += 1
            else:
                print("%s:%s: %s finding %s" % (shown, line, rule, status), file=out)
    for key in sorted(set(known) - used):
        if any(display_path(f) == key[0] for f in files):
            # not a failure: whether a harness limitation shows (a NULL self field read)
            # depends on the build (ASan lays memory out differently)
            print("%s: %s: note: listed as known but behaves in this build" % key, file=out)
    for p in problems:
        print(p, file=out)
    share = 100.0 * nbuggy_ok / nbuggy if nbuggy else 100.0
    fshare = 100.0 * nfind_ok / nfind if nfind else 100.0
    print("ground truth: %d/%d buggy functions misbehave (%.1f%%), %d/%d correct functions "
          "clean; findings confirmed %d/%d (%.1f%%) [%s]" % (
              nbuggy_ok, nbuggy, share, ncorrect - ncorrect_bad, ncorrect, nfind_ok, nfind,
              fshare, ", ".join("%s %d" % kv for kv in sorted(statuses.items()))), file=out)
    out.flush()
    ok = not problems and ncorrect_bad == 0 and share >= min_confirmed and \
        fshare >= min_confirmed
    return 0 if ok else 1


# ---------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------

FAKE_TOOL = r'''#!%(python)s
# Fake pyrefcheck for the runner's self-test: reports what /* fake: ... */ lines ask for.
import json, os, re, signal, sys
args = sys.argv[1:]
assert args[:3] == ["--format", "json", "--no-db"], args
path = args[3]
extra = args[5:] if len(args) > 4 and args[4] == "--" else []
text = open(path).read()
if "fake-crash" in text:
    sys.stderr.write("boom\n"); sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGSEGV)
if "fake-garbage" in text:
    print("not json"); sys.exit(1)
findings, errors = [], []
for n, l in enumerate(text.splitlines(), 1):
    for m in re.finditer(r"fake: ([a-z-]+)(?:@([+-]\d+))?(?: '([^']*)')?", l):
        findings.append({"rule": m.group(1), "severity": "error", "file": path,
                         "line": n + int(m.group(2) or 0), "column": 1, "function": "f",
                         "message": m.group(3) or "a message", "fingerprint": "x", "path": []})
    m = re.search(r"fake-error: (.*)", l)
    if m:
        errors.append({"file": path, "message": m.group(1)})
if "fake-args" in text and extra != ["-DX=1", "-I", "a b"]:
    errors.append({"file": path, "message": "wrong args %%r" %% extra})
status = 2 if errors else (1 if findings else 0)
if "fake-badstatus" in text:
    status = 0
print(json.dumps({"tool": {"name": "fake"}, "findings": findings, "errors": errors,
                  "stats": {}}))
sys.exit(status)
'''


def self_test():
    checks = [0]

    def check(cond, what):
        checks[0] += 1
        if not cond:
            raise AssertionError("self-test failed: " + what)

    def keys(text):
        return sorted(e.key() for e in parse_fixture(text).expectations)

    def format_error(text):
        try:
            parse_fixture(text)
        except FixtureFormatError as e:
            return e.line
        return None

    # --- the grammar ---
    check(keys("int a; /* expect: leak */\n") == [(1, "leak", 1, None)], "single marker")
    check(keys("x\ny // expect: null-deref\n") == [(2, "null-deref", 1, None)], "// marker")
    check(keys("/* expect: leak, null-deref */") ==
          [(1, "leak", 1, None), (1, "null-deref", 1, None)], "two rules")
    check(keys("/* expect: leak*2 */") == [(1, "leak", 2, None)], "count")
    check(keys('\n/* expect: leak "lost, here", over-release*3 */') ==
          [(2, "leak", 1, "lost, here"), (2, "over-release", 3, None)], "substring with comma")
    check(keys('/* expect: leak "say \\"hi\\"" */') == [(1, "leak", 1, 'say "hi"')],
          "escaped quote")
    check(keys("a\n/* expect@+2: leak */\nb\nc\n") == [(4, "leak", 1, None)], "expect@+N")
    check(keys("a\nb\n/* expect@-2: leak */") == [(1, "leak", 1, None)], "expect@-N")
    check(keys("/* first line\n * expect: leak\n */") == [(2, "leak", 1, None)],
          "marker on the second line of a block comment")
    check(keys('const char *s = "/* expect: leak */"; char c = \'"\';\n') == [],
          "marker inside a string literal is ignored")
    check(keys("/* no markers here; we expected nothing */") == [], "prose is not a marker")
    check(keys("/* Each bug is marked with an expect:\n * comment (see README). */") == [],
          "expect: in the middle of a sentence is prose")
    check(keys("/* note: expect: leak */ /* fixture-error: x */ int y;") == [],
          "mid-comment expect: is prose")
    check(keys("/*\n * expect: leak\n *\texpect@-1: null-deref\n */") ==
          [(2, "leak", 1, None), (2, "null-deref", 1, None)],
          "markers opening lines of a block comment")
    s = parse_fixture("/* pyrefcheck-fixture: clean */\nint x;\n")
    check(s.clean and not s.expectations, "clean marker")
    s = parse_fixture("/* Clean probe.\n   pyrefcheck-fixture: clean\n */")
    check(s.clean, "clean marker inside a longer first comment")
    s = parse_fixture("/* fixture-args: -DX=1 -I 'a b' */\n/* fixture-error: bad include */")
    check(s.args == ["-DX=1", "-I", "a b"] and s.errors == ["bad include"],
          "fixture-args and fixture-error")
    check(format_error("/* expect: */") == 1, "empty marker is an error")
    check(format_error("\n/* expect: leak* */") == 2, "bad count is an error")
    check(format_error("/* expect: leak, */") == 1, "trailing comma is an error")
    check(format_error("/* expect: Leak */") == 1, "rule ids are lower case")
    check(format_error("/* expect@+5: leak */") == 1, "expect@ outside the file")
    check(format_error("/* pyrefcheck-fixture: clean */\n/* expect: leak */") == 2,
          "clean file with an expect marker")
    check(format_error("int x;\n/* hi */\n/* pyrefcheck-fixture: clean */") == 3,
          "clean marker not in the first comment")
    check(format_error("/* pyrefcheck-fixture: dirty */") == 1, "unknown fixture kind")
    check(format_error("int x; /* never closed") == 1, "unterminated comment")

    # --- comparison ---
    def res(findings=(), errors=(), rc=None):
        fs = [{"rule": r, "line": l, "file": "t.c", "message": m} for (l, r, m) in findings]
        es = [{"file": "t.c", "message": m} for m in errors]
        if rc is None:
            rc = 2 if es else (1 if fs else 0)
        return RunResult(rc, json.dumps({"tool": {}, "findings": fs, "errors": es,
                                         "stats": {}}), "")

    def cmp(text, result):
        return compare(parse_fixture(text), result, "t.c")

    text = "a /* expect: leak */\nb /* expect: null-deref*2 \"NULL\" */\n"
    ok = res([(1, "leak", "x"), (2, "null-deref", "may be NULL"), (2, "null-deref", "NULL!")])
    check(cmp(text, ok) == [], "exact match passes")
    p = cmp(text, res([(2, "null-deref", "NULL"), (2, "null-deref", "NULL")]))
    check(p == [(1, "expected leak, not reported")], "missing report: %r" % p)
    p = cmp(text, res([(1, "leak", "x"), (2, "null-deref", "NULL")]))
    check(p == [(2, 'expected null-deref "NULL", not reported')], "too few: %r" % p)
    p = cmp(text, res([(1, "leak", "x"), (1, "leak", "y"), (2, "null-deref", "NULL"),
                       (2, "null-deref", "NULL")]))
    check(p == [(1, "leak reported 2 times, expected 1: y")], "too many: %r" % p)
    p = cmp(text, res([(1, "leak", "x"), (2, "null-deref", "NULL"), (2, "null-deref", "nil")]))
    check(p == [(2, 'expected null-deref "NULL", reported with message: nil')],
          "substring mismatch: %r" % p)
    p = cmp("x\n", res([(1, "over-release", "double")]))
    check(p == [(1, "unexpected over-release: double")], "unexpected: %r" % p)
    p = cmp("a\nb /* expect: leak*2 */\n", res([(2, "leak", "m")]))
    check(p == [(2, "expected leak*2, reported 1 time")], "count shortfall: %r" % p)
    check(cmp("/* fixture-error: cannot parse */", res(errors=["t.c: cannot parse x"])) == [],
          "expected error")
    p = cmp("int x;\n", res(errors=["cannot parse"]))
    check(p == [(None, "unexpected error: cannot parse")], "unexpected error: %r" % p)
    p = cmp("/* fixture-error: cannot parse */", res())
    check(len(p) == 1 and "expected an error" in p[0][1], "missing error: %r" % p)
    p = cmp("x\n", RunResult(-signal.SIGSEGV, "", "Segmentation fault\n"))
    check(len(p) == 1 and "crashed" in p[0][1] and "SIGSEGV" in p[0][1], "crash: %r" % p)
    p = cmp("x\n", RunResult(134, "", ""))
    check(len(p) == 1 and "status 134" in p[0][1], "bad status: %r" % p)
    p = cmp("x\n", RunResult(2, "", "pyrefcheck: error: cannot read rules\n"))
    check(p == [(None, "unexpected error: pyrefcheck: error: cannot read rules")],
          "status 2, error on stderr only: %r" % p)
    check(cmp("/* fixture-error: cannot read */", RunResult(2, "", "error: cannot read x")) == [],
          "fixture-error matched against stderr")
    p = cmp("x\n", RunResult(0, "garbage", ""))
    check(len(p) == 1 and "not valid JSON" in p[0][1], "garbage: %r" % p)
    p = cmp("x\n", res([(1, "leak", "m")], rc=0))
    check(any("exit status 0" in m for _, m in p), "inconsistent status: %r" % p)
    check(same_file("/a/b/fixtures/x/t.c", "/a/b/fixtures/x/t.c"), "same file")
    check(same_file("fixtures/x/t.c", "/a/b/fixtures/x/t.c"), "suffix path")
    check(not same_file("/usr/include/python3.11/object.h", "/a/b/fixtures/x/t.c"),
          "different file")
    check(display_path("/w/main/fixtures/leak/x.c") == "fixtures/leak/x.c", "display path")

    # --- ground truth judgement ---
    spec = parse_fixture("f() {\n x; /* expect: leak */\n}\ng() {\n}\nh() {\n}\n"
                         "k() { /* expect: over-release */\n}\n")
    fns = [{"function": "f", "line": 1, "end_line": 3, "runs": 3, "rules": {"leak": "w"},
            "unsupported": None, "callable": True},
           {"function": "g", "line": 4, "end_line": 5, "runs": 3, "rules": {},
            "unsupported": None, "callable": True},
           {"function": "h", "line": 6, "end_line": 7, "runs": 3,
            "rules": {"borrowed-return": "w"}, "unsupported": None, "callable": False},
           {"function": "k", "line": 8, "end_line": 9, "runs": 3,
            "rules": {"use-after-release": "w"}, "unsupported": None, "callable": True}]
    buggy, correct = judge_functions(spec, fns)
    check([b[:2] for b in buggy] == [("f", True), ("k", True)], "buggy judged: %r" % buggy)
    check([c[:2] for c in correct] == [("g", True), ("h", True)], "correct judged: %r" % correct)
    fns[0]["rules"] = {"null-deref": "w"}
    fns[1]["rules"] = {"leak": "w"}
    fns[2]["callable"] = True
    buggy, correct = judge_functions(spec, fns)
    check(buggy[0][:2] == ("f", False) and "saw null-deref" in buggy[0][2],
          "wrong rule is not a confirmation: %r" % buggy)
    check([c[:2] for c in correct] == [("g", False), ("h", False)],
          "misbehaving correct functions: %r" % correct)
    src = "f() {\n x; /* expect: leak */\n}\ng() {\n  f();\n}\nh() {\n}\nk() {\n}\n"
    _, correct = judge_functions(spec, fns, src)
    check(correct[0][:2] == ("g", True) and "buggy" in correct[0][2],
          "a caller of a buggy function is excused: %r" % correct)
    fns[2]["rules"], fns[2]["slot"] = {"null-without-exception": "w"}, "tp_iternext"
    _, correct = judge_functions(spec, fns)
    check(correct[1][:2] == ("h", True), "tp_iternext may return NULL without one: %r" % correct)
    fns[2]["slot"] = "tp_repr"
    _, correct = judge_functions(spec, fns)
    check(correct[1][:2] == ("h", False), "tp_repr may not: %r" % correct)
    fns[0]["rules"], fns[0]["unsupported"] = {}, "PyFoo_Bar"
    buggy, _ = judge_functions(spec, fns)
    check(buggy[0] == ("f", False, "unsupported: PyFoo_Bar"), "unsupported: %r" % buggy)
    # errors seen only with self's fields filled: a buggy function's confirmation, never a
    # correct function's failure
    fns[0]["unsupported"], fns[0]["rules_filled"] = None, {"leak": "w"}
    fns[1]["rules"], fns[1]["rules_filled"] = {}, {"leak": "w"}
    buggy, correct = judge_functions(spec, fns)
    check(buggy[0][:2] == ("f", True), "a filled self confirms a buggy function: %r" % buggy)
    check(correct[0][:2] == ("g", True), "a filled self does not fail a correct one: %r" % correct)

    # --- end to end, with a fake tool ---
    with tempfile.TemporaryDirectory() as tmp:
        tool = os.path.join(tmp, "fake-pyrefcheck")
        with open(tool, "w") as fh:
            fh.write(FAKE_TOOL % {"python": sys.executable})
        os.chmod(tool, 0o755)
        folder = os.path.join(tmp, "fixtures", "demo")
        os.makedirs(folder)
        files = {
            "a_pass.c": "int x; /* expect: leak */ /* fake: leak */\n",
            "b_clean.c": "/* pyrefcheck-fixture: clean */\nint y;\n",
            "c_miss.c": "int x; /* expect: leak */\n",
            "d_extra.c": "int x; /* fake: null-deref 'p may be NULL' */\n",
            "e_crash.c": "/* fake-crash */\n",
            "f_args.c": "/* fixture-args: -DX=1 -I 'a b' */ /* fake-args */\n",
            "g_error.c": "/* fixture-error: unknown type */ /* fake-error: unknown type T */\n",
            "h_garbage.c": "/* fake-garbage */\n",
            "i_status.c": "/* expect: leak */ /* fake: leak */ /* fake-badstatus */\n",
            "j_format.c": "/* expect: leak, */\n",
            "k_offset.c": "/* expect@+1: leak */\nint x; /* fake: leak */\n",
            "notc.h": "/* fake: leak */\n",
        }
        for name, body in files.items():
            with open(os.path.join(folder, name), "w") as fh:
                fh.write(body)
        import io
        buf = io.StringIO()
        rc = run(tool, None, [folder], 4, 60, out=buf)
        lines = buf.getvalue().splitlines()
        check(rc == 1, "end-to-end exit status")
        check(lines[-1] == "5 passed, 6 failed", "summary line: %r" % lines[-1])
        body = "\n".join(lines)
        for want in ("fixtures/demo/c_miss.c:1: expected leak, not reported",
                     "fixtures/demo/d_extra.c:1: unexpected null-deref: p may be NULL",
                     "fixtures/demo/e_crash.c: pyrefcheck crashed: killed by SIGSEGV",
                     "fixtures/demo/h_garbage.c: output is not valid JSON",
                     "fixtures/demo/i_status.c: exit status 0 inconsistent",
                     "fixtures/demo/j_format.c:1: fixture format error"):
            check(want in body, "end-to-end output lacks %r:\n%s" % (want, body))
        check("notc.h" not in body and "a_pass" not in body and "f_args" not in body,
              "end-to-end: passing files are silent:\n%s" % body)
        empty = os.path.join(tmp, "empty")
        os.makedirs(empty)
        buf = io.StringIO()
        check(run(tool, None, [empty], 1, 60, out=buf) == 1, "an empty folder fails")
    print("self-test: %d checks passed" % checks[0])
    return 0


# ---------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(
        allow_abbrev=False,
        description="Check pyrefcheck's JSON report against fixtures' inline expectations.")
    ap.add_argument("--pyrefcheck", metavar="BIN", help="the pyrefcheck binary")
    ap.add_argument("--python-include", metavar="DIR",
                    help="passed on to pyrefcheck as --python-include DIR")
    ap.add_argument("-j", "--jobs", type=int, default=min(8, os.cpu_count() or 1),
                    help="files checked in parallel (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds allowed per file (default: %(default)s)")
    ap.add_argument("--self-test", action="store_true",
                    help="test the runner itself (expectation parser, comparison, process handling)")
    ap.add_argument("--ground-truth", action="store_true",
                    help="run every fixture function under the reference runtime with every "
                         "single-failure fault plan: buggy ones must misbehave, correct ones "
                         "never; and re-run every finding (check --validate)")
    ap.add_argument("--min-confirmed", type=float, default=90.0,
                    help="--ground-truth: least share (%%) of buggy functions and of findings "
                         "confirmed (default: %(default)s)")
    ap.add_argument("--known", metavar="FILE",
                    help="--ground-truth: correct functions known to misbehave under the "
                         "runtime (`fixtures/x/y.c:function reason` lines); listed, not failed")
    ap.add_argument("--validate-dir", metavar="DIR",
                    help="--ground-truth: harness cache (default: a temporary folder)")
    ap.add_argument("paths", nargs="*", metavar="FOLDER",
                    help="fixture folders (their *.c files) or single .c files")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.pyrefcheck or not args.paths:
        ap.error("--pyrefcheck BIN and at least one FOLDER are required")
    if args.ground_truth:
        if args.validate_dir:
            os.makedirs(args.validate_dir, exist_ok=True)
            return ground_truth(args.pyrefcheck, args.python_include, args.paths, args.jobs,
                                args.timeout, args.min_confirmed, args.validate_dir,
                                known=load_known(args.known))
        with tempfile.TemporaryDirectory(prefix="prc-gt-") as vdir:
            return ground_truth(args.pyrefcheck, args.python_include, args.paths, args.jobs,
                                args.timeout, args.min_confirmed, vdir,
                                known=load_known(args.known))
    return run(args.pyrefcheck, args.python_include, args.paths, args.jobs, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
