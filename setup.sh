#!/usr/bin/env bash
# setup.sh - install what pyrefcheck needs (Debian), build it, and run the demo or tests.
#
#   ./setup.sh demo           build into build/ and run pyrefcheck on fixtures/demo/
#   ./setup.sh test           build into build/ and run the test suite (ctest)
#   ./setup.sh test-sanitize  build into build-asan/ with ASan+UBSan and run ctest there
#   ./setup.sh build          only install the packages and build into build/
#
# Missing Debian packages are installed with apt-get when run as root; otherwise the
# apt-get command to run is printed and the script exits 1.  Safe to re-run.
# Environment:
#   PYREFCHECK_WERROR=1             configure with -DPYREFCHECK_WERROR=ON (warnings are errors)
#   PYREFCHECK_PYTHON_INCLUDE=DIR   Python headers to build against (default: those of
#                                   Debian's python3-dev, /usr/bin/python3)
#   JOBS=N                          parallel build jobs (default: nproc)
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd -- "$ROOT"
PROG=setup.sh

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

MODE=${1:-}
case "$MODE" in
    demo|test|test-sanitize|build) ;;
    -h|--help|help) usage; exit 0 ;;
    "") usage >&2; exit 2 ;;
    *) printf '%s: unknown mode: %s\n' "$PROG" "$MODE" >&2; usage >&2; exit 2 ;;
esac
[[ $# -le 1 ]] || die "unexpected arguments after the mode: ${*:2}"

JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
pkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# Any installed libclang-N-dev with N >= 17 will do (CMakeLists.txt picks the newest).
have_libclang_dev() {
    local line pkg ver
    while read -r pkg line; do
        [[ "$line" == "install ok installed" ]] || continue
        ver=${pkg#libclang-}; ver=${ver%-dev}
        [[ "$ver" =~ ^[0-9]+$ ]] && (( ver >= 17 )) && return 0
    done < <(dpkg-query -W -f='${Package} ${Status}\n' 'libclang-*-dev' 2>/dev/null || true)
    return 1
}

ensure_packages() {
    command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian (12) only"
    local want=(cmake gcc python3 python3-dev clang-19 libsqlite3-dev sqlite3 libcmocka-dev pkg-config)
    # what only the test suite needs: git and pre-commit (the hook test), Node.js and npm (the
    # SARIF validator and the browser test, from npm), Debian's chromium (the browser test)
    if [[ "$MODE" == test || "$MODE" == test-sanitize ]]; then
        want+=(git pre-commit chromium)
        # a Node.js from elsewhere (e.g. nodesource's nodejs, which bundles npm) is kept:
        # Debian's npm package would conflict with it
        command -v node >/dev/null 2>&1 || want+=(nodejs)
        command -v npm >/dev/null 2>&1 || want+=(npm)
    fi
    local missing=() p
    for p in "${want[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    have_libclang_dev || missing+=(libclang-19-dev)
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "packages: all present"
        return 0
    fi
    if [[ $EUID -ne 0 ]]; then
        echo "missing Debian packages; as root run:" >&2
        echo "apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
    step "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
python_include() {
    if [[ -n "${PYREFCHECK_PYTHON_INCLUDE:-}" ]]; then
        printf '%s\n' "$PYREFCHECK_PYTHON_INCLUDE"; return 0
    fi
    # Debian's interpreter, not whatever python3 comes first in PATH (pyenv etc.): the
    # headers must be the ones python3-dev installed.
    local inc
    if [[ -x /usr/bin/python3 ]]; then
        inc=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null || true)
        if [[ -n "$inc" && -f "$inc/Python.h" ]]; then printf '%s\n' "$inc"; return 0; fi
    fi
    return 1   # let CMakeLists.txt find them
}

# build DIR EXTRA_CMAKE_ARGS...
build() {
    local dir=$1 pyinc
    shift
    local args=(-S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo)
    if [[ "${PYREFCHECK_WERROR:-0}" == 1 ]]; then
        args+=(-DPYREFCHECK_WERROR=ON)
    else
        args+=(-DPYREFCHECK_WERROR=OFF)
    fi
    if pyinc=$(python_include); then args+=("-DPYREFCHECK_PYTHON_INCLUDE=$pyinc"); fi
    args+=("$@")
    step "configure: cmake ${args[*]}"
    cmake "${args[@]}"
    step "build: cmake --build $dir -j$JOBS"
    cmake --build "$dir" -j"$JOBS"
}

run_ctest() {
    local dir=$1
    step "test: ctest --test-dir $dir"
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2
}

ensure_packages

case "$MODE" in
    build)
        build build
        ;;
    demo)
        build build
        [[ -d fixtures/demo ]] || die "fixtures/demo/ is missing"
        step "demo: build/pyrefcheck fixtures/demo/"
        set +e
        build/pyrefcheck fixtures/demo/
        rc=$?
        set -e
        case "$rc" in
            0) echo; echo "demo: pyrefcheck reported no findings (exit 0)" ;;
            1) echo; echo "demo: pyrefcheck reported findings (exit 1, as expected for the demo)" ;;
            2) die "pyrefcheck could not analyse the demo (exit 2)" ;;
            *) if (( rc > 128 )); then die "pyrefcheck crashed (signal $((rc - 128)))"; fi
               die "pyrefcheck exited with unexpected status $rc" ;;
        esac
        ;;
    test)
        build build
        run_ctest build
        ;;
    test-sanitize)
        build build-asan -DPYREFCHECK_SANITIZE=ON
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        run_ctest build-asan
        ;;
esac
