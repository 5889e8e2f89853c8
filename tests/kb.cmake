# tests/kb.cmake - ctest registration of the knowledge-base tests.
# include()d from tests/CMakeLists.txt (needs the prc_core target).
#
#   kb_unit         tests/unit/test_kb.c (cmocka): the rules format, errors with
#                   line numbers, overriding, version selection, format units;
#                   also loads the shipped rules/ and re-reads every entry.
#   kb_consistency  tests/kb/kb_consistency.c: rules/ against CPython's
#                   refcounts-3.11.dat / -3.13.dat (every function present, return
#                   effects agree), the documented steals, key facts, and
#                   rules/formats.rules against the built-in unit table.
#                   Exits 77 (skipped) when ../shared/cpython-api is absent.

set(_kb_tests_dir "${CMAKE_CURRENT_LIST_DIR}")

find_library(CMOCKA_LIB cmocka)
find_path(CMOCKA_INCLUDE_DIR cmocka.h)
if(CMOCKA_LIB AND CMOCKA_INCLUDE_DIR)
  add_executable(kb_unit "${_kb_tests_dir}/unit/test_kb.c")
  target_include_directories(kb_unit PRIVATE "${CMOCKA_INCLUDE_DIR}")
  target_link_libraries(kb_unit PRIVATE prc_core "${CMOCKA_LIB}")
  set_target_properties(kb_unit PROPERTIES BUILD_RPATH "${LIBCLANG_LIBDIR}")
  add_test(NAME kb_unit COMMAND kb_unit "${CMAKE_SOURCE_DIR}/rules")
  set_tests_properties(kb_unit PROPERTIES LABELS "unit;kb" TIMEOUT 120)
else()
  message(WARNING "cmocka not found (install libcmocka-dev): kb_unit is not built")
endif()

add_executable(kb_consistency "${_kb_tests_dir}/kb/kb_consistency.c")
target_link_libraries(kb_consistency PRIVATE prc_core)
set_target_properties(kb_consistency PROPERTIES BUILD_RPATH "${LIBCLANG_LIBDIR}")
add_test(NAME kb_consistency
         COMMAND kb_consistency "${CMAKE_SOURCE_DIR}/rules"
                 "${CMAKE_SOURCE_DIR}/../shared/cpython-api")
set_tests_properties(kb_consistency PROPERTIES
                     SKIP_RETURN_CODE 77 LABELS "kb" TIMEOUT 120)
