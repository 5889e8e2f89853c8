# tests/db.cmake - ctest registration of the results-database tests.
# include()d from tests/CMakeLists.txt (after the pyrefcheck target exists).
#
#   db:store   tests/db/run.sh: storing and reading back, fingerprints across
#              edits, fixed and reopened findings, 6 parallel writers, SIGINT
#              mid-write, foreign files untouched, unwritable paths, newer
#              schemas refused, forward migration, baselines, inline
#              suppressions, `pyrefcheck db ...`.  Needs the sqlite3 shell.

find_program(PRC_BASH bash REQUIRED)
find_program(PRC_SQLITE3_SHELL sqlite3)
if(TARGET pyrefcheck)
  if(PRC_SQLITE3_SHELL)
    add_test(NAME db:store
             COMMAND ${PRC_BASH} "${CMAKE_CURRENT_LIST_DIR}/db/run.sh"
                     --pyrefcheck $<TARGET_FILE:pyrefcheck>)
    set_tests_properties(db:store PROPERTIES TIMEOUT 300 LABELS "db")
  else()
    message(STATUS "sqlite3 shell not found: the db:store test is not registered")
  endif()
endif()
