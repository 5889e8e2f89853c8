# Fixture tests: one ctest per folder under fixtures/ (fixture:<folder>), checked by
# tests/run_fixtures.py against the files' inline expectations.  fixtures/cfg is checked
# separately (--dump-cfg output), fixtures/demo is registered explicitly below.
# Included from the top-level test setup: include(${CMAKE_SOURCE_DIR}/tests/fixtures.cmake)

find_program(PRC_FIXTURE_PYTHON NAMES python3)
if(NOT PRC_FIXTURE_PYTHON)
  set(PRC_FIXTURE_PYTHON python3)
endif()
set(PRC_FIXTURE_RUNNER ${CMAKE_SOURCE_DIR}/tests/run_fixtures.py)

# Folders are globbed at configure time; CONFIGURE_DEPENDS re-runs the glob when a folder
# appears or disappears.
file(GLOB _prc_fixture_entries LIST_DIRECTORIES true CONFIGURE_DEPENDS
     RELATIVE ${CMAKE_SOURCE_DIR}/fixtures ${CMAKE_SOURCE_DIR}/fixtures/*)
list(SORT _prc_fixture_entries)
foreach(_dir IN LISTS _prc_fixture_entries)
  if(IS_DIRECTORY ${CMAKE_SOURCE_DIR}/fixtures/${_dir}
     AND NOT _dir STREQUAL "cfg" AND NOT _dir STREQUAL "demo")
    add_test(NAME fixture:${_dir}
             COMMAND ${PRC_FIXTURE_PYTHON} ${PRC_FIXTURE_RUNNER}
                     --pyrefcheck $<TARGET_FILE:pyrefcheck>
                     ${CMAKE_SOURCE_DIR}/fixtures/${_dir})
    set_tests_properties(fixture:${_dir} PROPERTIES LABELS "fixtures")
  endif()
endforeach()

add_test(NAME fixture:demo
         COMMAND ${PRC_FIXTURE_PYTHON} ${PRC_FIXTURE_RUNNER}
                 --pyrefcheck $<TARGET_FILE:pyrefcheck>
                 ${CMAKE_SOURCE_DIR}/fixtures/demo)
set_tests_properties(fixture:demo PROPERTIES LABELS "fixtures;demo")

add_test(NAME fixtures_runner_selftest
         COMMAND ${PRC_FIXTURE_PYTHON} ${PRC_FIXTURE_RUNNER} --self-test)
set_tests_properties(fixtures_runner_selftest PROPERTIES LABELS "fixtures")
