#!/usr/bin/env bash
# tests/html/run.sh - the HTML report in a real headless browser (test.mjs).
#
#   bash tests/html/run.sh --pyrefcheck BIN [--screenshots DIR]
#
# Uses Debian's /usr/bin/chromium (never a downloaded browser) through
# playwright-core, installed from package-lock.json with `npm ci` into
# tests/html/node_modules when it is missing.  Exits 77 (skipped) only when
# chromium or node/npm are not installed; any other problem is a failure.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
BIN=
SHOTS=

while [[ $# -gt 0 ]]; do
    case "$1" in
        --pyrefcheck) BIN=${2:?--pyrefcheck needs a path}; shift 2 ;;
        --screenshots) SHOTS=${2:?--screenshots needs a folder}; shift 2 ;;
        *) echo "run.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ -n "$BIN" ]] || { echo "usage: run.sh --pyrefcheck BIN [--screenshots DIR]" >&2; exit 2; }
[[ -x "$BIN" ]] || { echo "run.sh: not an executable: $BIN" >&2; exit 2; }
SHOTS=${SHOTS:-$(pwd)/html-screenshots}

missing=()
[[ -x /usr/bin/chromium ]] || missing+=("chromium (/usr/bin/chromium)")
command -v node >/dev/null 2>&1 || missing+=(node)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "SKIPPED: the browser test needs ${missing[*]}: apt-get install chromium nodejs npm"
    # .ci/run sets PYREFCHECK_REQUIRE_TOOLS=1: there a missing tool is a failure
    [[ "${PYREFCHECK_REQUIRE_TOOLS:-0}" == 1 ]] && exit 1
    exit 77
fi

# playwright-core pinned in package-lock.json; never let it fetch a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [[ ! -f "$HERE/node_modules/playwright-core/package.json" ]]; then
    echo "installing playwright-core into tests/html/node_modules (npm ci)"
    (cd -- "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi

exec node "$HERE/test.mjs" --pyrefcheck "$(cd -- "$(dirname -- "$BIN")" && pwd)/$(basename -- "$BIN")" \
    --source-dir "$ROOT" --screenshots "$SHOTS"
