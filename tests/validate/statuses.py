#!/usr/bin/env python3
"""statuses.py REPORT.json FUNCTION:RULE=PREFIX ... - checks the validation statuses of a
pyrefcheck JSON report: every FUNCTION's RULE finding must have a validation string starting
with PREFIX, and the report must hold no other finding.  Prints one FAIL line per mismatch and
exits 1 if there is any (tests/validate/run.sh).  Python 3 standard library only."""
import json
import sys


def main(argv):
    doc = json.load(open(argv[1]))
    want = {}
    for spec in argv[2:]:
        key, _, prefix = spec.partition("=")
        func, _, rule = key.partition(":")
        want[(func, rule)] = prefix
    got = {(f["function"], f["rule"]): f["validation"] for f in doc["findings"]}
    bad = 0
    for key, prefix in want.items():
        v = got.get(key)
        if v is None or not v.startswith(prefix):
            print("FAIL: %s [%s]: validation %r, want %r..." % (key[0], key[1], v, prefix))
            bad += 1
    for key in got:
        if key not in want:
            print("FAIL: unexpected finding %r" % (key,))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
