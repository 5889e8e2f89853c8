#!/usr/bin/env bash
# fetch-cpython.sh - fetch and unpack the CPython 3.11 source (Debian's python3.11
# source package) into a cache directory, for pyrefcheck's real-code run.
#
# Usage: tests/realcode/fetch-cpython.sh [--dest DIR]
#   default DIR: ${PYREFCHECK_CACHE:-$HOME/.cache/pyrefcheck}/cpython-3.11
#
# On success prints the source directory (the one holding Modules/ and Include/) on
# stdout and exits 0; progress goes to stderr.  On failure exits non-zero with a
# one-line reason on stderr.
#
# Nothing system-wide is changed: deb-src entries are derived from the machine's own
# apt sources (their URIs and Suites) and written to a private apt configuration in a
# temporary directory, used with -o Dir::Etc::SourceList/SourceParts, Dir::State::Lists
# and Dir::Cache.  The only exception: if dpkg-source is missing and we are root,
# dpkg-dev is installed through the normal apt configuration (otherwise the upstream
# tarball is unpacked with tar, without Debian's patches).
set -euo pipefail

PROG=${0##*/}
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

DEST="${PYREFCHECK_CACHE:-${HOME:-/tmp}/.cache/pyrefcheck}/cpython-3.11"
SRCPKG=python3.11
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dest) [[ $# -ge 2 ]] || die "--dest needs a directory"; DEST=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
done

is_tree() { [[ -f "$1/Include/Python.h" && -d "$1/Modules" && -d "$1/Include/internal" ]]; }

if is_tree "$DEST"; then
    log "reusing $DEST"
    printf '%s\n' "$DEST"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found (a Debian-based system is needed)"

# ---------------------------------------------------------------------------
# Collect "URI<TAB>SUITE<TAB>COMPONENTS<TAB>SIGNED-BY" for every deb entry of the
# machine's apt configuration.
# ---------------------------------------------------------------------------
parse_deb822() {    # FILE -> lines on stdout
    awk '
    function flush(   n, u, s, i, j, nu, ns, types, uris, suites) {
        if (f["types"] != "" && f["enabled"] != "no") {
            if (index(" " f["types"] " ", " deb ") || index(" " f["types"] " ", " deb-src ")) {
                nu = split(f["uris"], uris, /[ \t]+/)
                ns = split(f["suites"], suites, /[ \t]+/)
                for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
                    if (uris[i] != "" && suites[j] != "")
                        printf "%s\t%s\t%s\t%s\n", uris[i], suites[j], f["components"], f["signed-by"]
            }
        }
        delete f; last = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]/ {                      # continuation line
        if (last != "") { v = $0; gsub(/^[ \t]+|[ \t]+$/, "", v); if (v != ".") f[last] = f[last] " " v }
        next
    }
    {
        k = $0; sub(/:.*/, "", k); k = tolower(k)
        v = $0; sub(/^[^:]*:/, "", v); gsub(/^[ \t]+|[ \t]+$/, "", v)
        f[k] = v; last = k
    }
    END { flush() }
    ' "$1"
}

parse_oneline() {   # FILE -> lines on stdout
    awk '
    /^[ \t]*#/ || /^[ \t]*$/ { next }
    $1 == "deb" || $1 == "deb-src" {
        signed = ""; i = 2
        if ($2 ~ /^\[/) {            # [ option=value ... ]
            opts = ""
            for (i = 2; i <= NF; i++) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } }
            if (match(opts, /signed-by=[^] \t]+/)) signed = substr(opts, RSTART + 10, RLENGTH - 10)
        }
        uri = $i; suite = $(i + 1); comps = ""
        for (j = i + 2; j <= NF; j++) comps = comps (comps == "" ? "" : " ") $j
        if (uri != "" && suite != "") printf "%s\t%s\t%s\t%s\n", uri, suite, comps, signed
    }' "$1"
}

collect_sources() {
    local f
    if [[ -f /etc/apt/sources.list ]]; then parse_oneline /etc/apt/sources.list; fi
    shopt -s nullglob
    for f in /etc/apt/sources.list.d/*.sources; do parse_deb822 "$f"; done
    for f in /etc/apt/sources.list.d/*.list; do parse_oneline "$f"; done
    shopt -u nullglob
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pyrefcheck-apt.XXXXXX")
cleanup() { rm -rf -- "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$TMP/etc/sources.list.d" "$TMP/lists/partial" "$TMP/cache/archives/partial" "$TMP/dl"
: > "$TMP/etc/sources.list"
declare -A seen=()
while IFS=$'\t' read -r uri suite comps signed; do
    # Only Debian-style archives can carry our source package; skip cdrom/file entries.
    case "$uri" in http://*|https://*|ftp://*|mirror*://*|tor*://*) ;; *) continue ;; esac
    [[ -n "$comps" ]] || comps=main
    key="$uri $suite"
    [[ -z "${seen[$key]:-}" ]] || continue
    seen[$key]=1
    if [[ -n "$signed" && "$signed" != *" "* && -e "$signed" ]]; then
        printf 'deb-src [signed-by=%s] %s %s %s\n' "$signed" "$uri" "$suite" "$comps" >> "$TMP/etc/sources.list"
    else
        printf 'deb-src %s %s %s\n' "$uri" "$suite" "$comps" >> "$TMP/etc/sources.list"
    fi
done < <(collect_sources)

[[ -s "$TMP/etc/sources.list" ]] || die "no usable deb entries found in /etc/apt/sources.list{,.d/} to derive deb-src entries from"
log "private deb-src entries: $(wc -l < "$TMP/etc/sources.list")"

APT_OPTS=(
    -o "Dir::Etc::SourceList=$TMP/etc/sources.list"
    -o "Dir::Etc::SourceParts=$TMP/etc/sources.list.d"
    -o "Dir::State::Lists=$TMP/lists"
    -o "Dir::Cache=$TMP/cache"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Get::List-Cleanup=false"
    -o "Acquire::Languages=none"
    -o "Acquire::Retries=2"
)
if [[ $EUID -eq 0 ]]; then
    # The private dirs are ours; downloading into them as _apt would only warn.
    APT_OPTS+=(-o "APT::Sandbox::User=root")
fi

log "apt-get update (private lists in $TMP)"
if ! timeout 600 apt-get -q "${APT_OPTS[@]}" update > "$TMP/update.log" 2>&1; then
    tail -n 5 "$TMP/update.log" >&2
    die "apt-get update of the private deb-src configuration failed"
fi
if grep -qE '^(W|E): .*(Failed to fetch|Some index files failed)' "$TMP/update.log"; then
    grep -E '^(W|E):' "$TMP/update.log" | head -n 5 >&2
fi

# Prefer the source of the installed headers, then every other version the indexes
# list, newest first (a mirror may list a version whose files it does not carry).
available=$(apt-cache "${APT_OPTS[@]}" showsrc "$SRCPKG" 2>/dev/null \
            | awk '/^Version:/ { print $2 }' | sort -u -r -V || true)
[[ -n "$available" ]] || die "no deb-src index lists $SRCPKG"
log "versions listed: $(tr '\n' ' ' <<< "$available")"
installed=$(dpkg-query -W -f='${source:Version}' python3.11-dev 2>/dev/null || true)
specs=()
if [[ -n "$installed" ]] && grep -qxF -- "$installed" <<< "$available"; then
    specs+=("$SRCPKG=$installed")
fi
while IFS= read -r v; do
    [[ -n "$v" && "$v" != "$installed" ]] && specs+=("$SRCPKG=$v")
done <<< "$available"
got=""
for spec in "${specs[@]}"; do
    log "apt-get source --download-only $spec"
    if (cd "$TMP/dl" && timeout 900 apt-get -q "${APT_OPTS[@]}" source --download-only "$spec") > "$TMP/source.log" 2>&1; then
        got=$spec; break
    fi
    log "$spec could not be downloaded (trying the next version, if any):"
    grep -E '^(E|W):' "$TMP/source.log" | tail -n 3 | sed 's/^/    /' >&2 || true
    rm -f -- "$TMP"/dl/*
done
[[ -n "$got" ]] || die "apt-get source --download-only $SRCPKG failed for every listed version"

shopt -s nullglob
dscs=("$TMP"/dl/*.dsc)
origs=("$TMP"/dl/*.orig.tar.*)
shopt -u nullglob
[[ ${#dscs[@]} -eq 1 ]] || die "expected one .dsc after download, found ${#dscs[@]}"

if ! command -v dpkg-source >/dev/null 2>&1 && [[ $EUID -eq 0 ]]; then
    log "installing dpkg-dev (for dpkg-source)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dpkg-dev >&2; then
        apt-get update -q >&2 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dpkg-dev >&2 || true
    fi
fi

mkdir -p -- "$(dirname -- "$DEST")"
STAGE=$(mktemp -d "$(dirname -- "$DEST")/.cpython-unpack.XXXXXX")
trap 'rm -rf -- "$TMP" "$STAGE"' EXIT
if command -v dpkg-source >/dev/null 2>&1; then
    log "dpkg-source -x $(basename -- "${dscs[0]}")"
    if ! (cd "$STAGE" && dpkg-source --no-check -x "${dscs[0]}" src) > "$TMP/unpack.log" 2>&1; then
        tail -n 5 "$TMP/unpack.log" >&2
        die "dpkg-source -x failed"
    fi
else
    [[ ${#origs[@]} -ge 1 ]] || die "dpkg-source missing and no .orig tarball to unpack"
    log "dpkg-source not available: unpacking $(basename -- "${origs[0]}") with tar (no Debian patches)"
    mkdir -p "$STAGE/src"
    tar -xf "${origs[0]}" -C "$STAGE/src" --strip-components=1 || die "tar could not unpack ${origs[0]}"
fi
is_tree "$STAGE/src" || die "unpacked tree lacks Include/Python.h, Include/internal or Modules/"
basename -- "${dscs[0]}" > "$STAGE/src/.pyrefcheck-source"
rm -rf -- "$DEST"
mv -- "$STAGE/src" "$DEST"
log "unpacked $got into $DEST"
printf '%s\n' "$DEST"
