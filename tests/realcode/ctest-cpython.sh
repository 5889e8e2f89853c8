#!/usr/bin/env bash
# ctest-cpython.sh - ctest entry point of the CPython real-code run (tests/infra.cmake).
# Exits 77 (ctest: skipped) when PYREFCHECK_SKIP_REALCODE=1, which .ci/run sets because it
# runs tests/realcode/cpython.sh itself once; otherwise runs cpython.sh with the arguments.
set -euo pipefail
if [[ "${PYREFCHECK_SKIP_REALCODE:-0}" == 1 ]]; then
    echo "realcode_cpython: skipped (PYREFCHECK_SKIP_REALCODE=1; the caller runs it directly)"
    exit 77
fi
exec bash "$(dirname -- "${BASH_SOURCE[0]}")/cpython.sh" "$@"
