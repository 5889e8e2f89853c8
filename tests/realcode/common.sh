# common.sh - helpers shared by tests/realcode/cpython.sh and tests/bench/parse_vs_clang.sh.
# Source it; it defines functions and variables only (prefix prc_ / PRC_).
# shellcheck shell=bash disable=SC2034

PRC_REALCODE_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
PRC_ROOT=$(cd -- "$PRC_REALCODE_DIR/../.." && pwd)

# prc_find_clang: print the clang to compare against / pre-filter with.
# $CLANG wins; then clang-19; then the newest clang-N (N >= 17) found.
prc_find_clang() {
    if [[ -n "${CLANG:-}" ]]; then
        command -v -- "$CLANG" && return 0
        return 1
    fi
    if command -v clang-19 >/dev/null 2>&1; then command -v clang-19; return 0; fi
    local d v best=0 bestbin=""
    for d in /usr/lib/llvm-*/bin/clang; do
        [[ -x "$d" ]] || continue
        v=${d#/usr/lib/llvm-}; v=${v%%/*}
        [[ "$v" =~ ^[0-9]+$ ]] || continue
        if (( v >= 17 && v > best )); then best=$v; bestbin=$d; fi
    done
    [[ -n "$bestbin" ]] || return 1
    printf '%s\n' "$bestbin"
}

# prc_find_pyconfig_dir: print the directory holding the installed Python 3.11's
# pyconfig.h (Debian's python3.11-dev: /usr/include/<multiarch>/python3.11).
# $PYREFCHECK_PYCONFIG_DIR wins.
prc_find_pyconfig_dir() {
    local cand=() ma d inc
    if [[ -n "${PYREFCHECK_PYCONFIG_DIR:-}" ]]; then cand+=("$PYREFCHECK_PYCONFIG_DIR"); fi
    ma=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)
    [[ -n "$ma" ]] && cand+=("/usr/include/$ma/python3.11")
    cand+=(/usr/include/python3.11)
    local cfg
    for cfg in python3.11-config /usr/bin/python3-config python3-config; do
        command -v "$cfg" >/dev/null 2>&1 || continue
        for inc in $("$cfg" --includes 2>/dev/null); do
            d=${inc#-I}
            [[ "$d" == */python3.11* ]] && cand+=("$d")
        done
    done
    for d in "${cand[@]}"; do
        if [[ -f "$d/pyconfig.h" ]]; then printf '%s\n' "$d"; return 0; fi
    done
    return 1
}

# prc_cpython_flags SRC: fill the array PRC_FLAGS with the compiler flags for SRC/Modules/*.c.
prc_cpython_flags() {
    local src=$1 pyc
    pyc=$(prc_find_pyconfig_dir) || { echo "no installed pyconfig.h for Python 3.11 found (install python3.11-dev)" >&2; return 1; }
    PRC_FLAGS=(-I "$src/Include" -I "$src/Include/internal" -I "$pyc" -I "$src/Modules" -DPy_BUILD_CORE_MODULE)
}

# prc_get_cpython [SRC]: print the CPython source directory: SRC if given, else
# $PYREFCHECK_CPYTHON_SRC, else the cached fetch (fetching it if needed).
prc_get_cpython() {
    local src=${1:-${PYREFCHECK_CPYTHON_SRC:-}}
    if [[ -n "$src" ]]; then
        [[ -f "$src/Include/Python.h" && -d "$src/Modules" ]] || { echo "$src is not a CPython source tree" >&2; return 1; }
        (cd -- "$src" && pwd)
        return 0
    fi
    bash "$PRC_REALCODE_DIR/fetch-cpython.sh"
}

# prc_split_parseable SRC CLANG JOBS OKFILE EXCLFILE
# Writes the absolute paths of SRC/Modules/*.c (top level) that CLANG -fsyntax-only
# accepts with PRC_FLAGS to OKFILE (sorted), and "relpath<TAB>first error" for the rest
# to EXCLFILE.  PRC_FLAGS must be set.
prc_split_parseable() {
    local src=$1 clang=$2 jobs=$3 okf=$4 exf=$5 tmp
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/prc-parse.XXXXXX")
    # One clang per file, JOBS at a time; each writes its verdict to its own file.
    # shellcheck disable=SC2016
    find "$src/Modules" -maxdepth 1 -type f -name '*.c' -print0 | sort -z |
    PRC_CLANG=$clang PRC_TMP=$tmp xargs -0 -r -n 1 -P "$jobs" bash -c '
        f=${!#}; set -- "${@:1:$#-1}"     # the file comes last, after the flags
        b=${f##*/}
        if out=$(timeout -k 5 120 "$PRC_CLANG" -fsyntax-only "$@" "$f" 2>&1); then
            printf "%s\n" "$f" > "$PRC_TMP/$b.ok"
        else
            rc=$?
            msg=$(grep -m1 -E "(fatal )?error:" <<< "$out" || true)
            [[ -n "$msg" ]] || msg="clang exited with status $rc"
            printf "%s\t%s\n" "Modules/$b" "$msg" > "$PRC_TMP/$b.bad"
        fi
    ' prc-parse "${PRC_FLAGS[@]}" || true
    shopt -s nullglob
    local ok=("$tmp"/*.ok) bad=("$tmp"/*.bad)
    shopt -u nullglob
    if ((${#ok[@]})); then cat -- "${ok[@]}" | sort > "$okf"; else : > "$okf"; fi
    if ((${#bad[@]})); then cat -- "${bad[@]}" | sort > "$exf"; else : > "$exf"; fi
    # Strip the source dir from clang's messages so they read "Modules/x.c:1:2: ...".
    awk -v p="$src/" '{ while ((i = index($0, p)) > 0) $0 = substr($0, 1, i - 1) substr($0, i + length(p)); print }' \
        "$exf" > "$exf.tmp" && mv -- "$exf.tmp" "$exf"
    rm -rf -- "$tmp"
}

# prc_classify_rc RC STDERRFILE: print ok|findings|error|hang|crash|sanitizer
prc_classify_rc() {
    local rc=$1 errf=$2
    if [[ -s "$errf" ]] && grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)' "$errf"; then
        echo sanitizer; return
    fi
    case "$rc" in
        0) echo ok ;;
        1) echo findings ;;
        2) echo error ;;
        124|137) echo hang ;;
        *) echo crash ;;
    esac
}
