#!/usr/bin/env python3
"""Checks the CFG fixtures: every `/* check-output-start FUNCTION ... check-output-end */`
block in fixtures/cfg/*.c must equal `pyrefcheck --dump-cfg FUNCTION FILE` exactly
(trailing blanks ignored).  The expected dumps were written and checked by hand."""
import argparse
import pathlib
import re
import subprocess
import sys

BLOCK = re.compile(r"/\*\s*check-output-start\s+(\S+)\s*\n(.*?)check-output-end\s*\*/", re.S)


def norm(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pyrefcheck", required=True)
    ap.add_argument("folder")
    args = ap.parse_args()
    passed = failed = 0
    files = sorted(pathlib.Path(args.folder).glob("*.c"))
    if not files:
        print(f"{args.folder}: no fixtures")
        return 1
    for path in files:
        blocks = BLOCK.findall(path.read_text(encoding="utf-8", errors="replace"))
        if not blocks:
            print(f"{path}: no check-output block")
            failed += 1
            continue
        ok = True
        for func, expected in blocks:
            proc = subprocess.run([args.pyrefcheck, "--no-db", "--dump-cfg", func, str(path)],
                                  capture_output=True, text=True, timeout=60)
            if proc.returncode != 0:
                print(f"{path}: {func}: pyrefcheck exited {proc.returncode}: {proc.stderr.strip()}")
                ok = False
                continue
            got, want = norm(proc.stdout), norm(expected)
            if got != want:
                ok = False
                print(f"{path}: {func}: dump differs")
                gl, wl = got.splitlines(), want.splitlines()
                for i in range(max(len(gl), len(wl))):
                    g = gl[i] if i < len(gl) else "<missing>"
                    w = wl[i] if i < len(wl) else "<missing>"
                    if g != w:
                        print(f"  line {i + 1}: expected: {w}\n  line {i + 1}: got:      {g}")
                        break
        if ok:
            passed += 1
        else:
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
