# tests/infra.cmake - ctest registration of the infrastructure checks.
# include()d from tests/CMakeLists.txt (after the pyrefcheck target exists).
#
#   badinput          tests/badinput/run.sh: malformed and pathological inputs must end in
#                     exit 0/1 with valid JSON or exit 2 with one error line; never a crash,
#                     hang or sanitizer report.
#   realcode_cpython  tests/realcode/cpython.sh --mode full over CPython 3.11's Modules/*.c;
#                     registered only when the source is already on this machine
#                     ($PYREFCHECK_CPYTHON_SRC, or the cache filled by
#                     tests/realcode/fetch-cpython.sh) at configure time: re-run cmake after
#                     fetching.  Skipped (exit 77) when PYREFCHECK_SKIP_REALCODE=1.

find_program(PRC_BASH bash REQUIRED)
set(_prc_infra_dir "${CMAKE_CURRENT_LIST_DIR}")

if(TARGET pyrefcheck)
  add_test(NAME badinput
           COMMAND ${PRC_BASH} "${_prc_infra_dir}/badinput/run.sh"
                   --pyrefcheck $<TARGET_FILE:pyrefcheck>)
  set_tests_properties(badinput PROPERTIES TIMEOUT 900 LABELS "infra")

  set(_prc_cpython_src "")
  if(DEFINED ENV{PYREFCHECK_CPYTHON_SRC} AND EXISTS "$ENV{PYREFCHECK_CPYTHON_SRC}/Include/Python.h")
    set(_prc_cpython_src "$ENV{PYREFCHECK_CPYTHON_SRC}")
  else()
    set(_prc_cache "")
    if(DEFINED ENV{PYREFCHECK_CACHE} AND NOT "$ENV{PYREFCHECK_CACHE}" STREQUAL "")
      set(_prc_cache "$ENV{PYREFCHECK_CACHE}")
    elseif(DEFINED ENV{HOME} AND NOT "$ENV{HOME}" STREQUAL "")
      set(_prc_cache "$ENV{HOME}/.cache/pyrefcheck")
    endif()
    if(_prc_cache AND EXISTS "${_prc_cache}/cpython-3.11/Include/Python.h"
       AND IS_DIRECTORY "${_prc_cache}/cpython-3.11/Modules")
      set(_prc_cpython_src "${_prc_cache}/cpython-3.11")
    endif()
  endif()

  if(_prc_cpython_src)
    message(STATUS "realcode_cpython: CPython source at ${_prc_cpython_src}")
    add_test(NAME realcode_cpython
             COMMAND ${PRC_BASH} "${_prc_infra_dir}/realcode/ctest-cpython.sh"
                     --pyrefcheck $<TARGET_FILE:pyrefcheck> --mode full
                     --src "${_prc_cpython_src}"
                     --results "${CMAKE_BINARY_DIR}/realcode/cpython-full")
    # Uses every core itself (one pyrefcheck per file, nproc at a time).
    set_tests_properties(realcode_cpython PROPERTIES
                         TIMEOUT 2400 PROCESSORS 2 SKIP_RETURN_CODE 77 LABELS "infra;realcode")
  else()
    message(STATUS "realcode_cpython: not registered (no CPython 3.11 source; run tests/realcode/fetch-cpython.sh)")
  endif()
endif()
