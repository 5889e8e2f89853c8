# tests/integrations.cmake - ctest registration of the tests of where users meet pyrefcheck:
#
#   format:sarif   tests/sarif/run.sh: `--format sarif` and `db export --format sarif` pass the
#                  official validator (@microsoft/sarif-multitool from npm, pinned) and match
#                  the JSON output.  Skipped (77) only when Node.js/npm are not installed.
#   format:github  tests/github/run.sh: GitHub Actions annotations, escaping, the cap of 10.
#   precommit      tests/precommit/run.sh: the real `pre-commit` in a scratch git repository.
# include()d from tests/CMakeLists.txt.

if(TARGET pyrefcheck)
  add_test(NAME format:sarif
           COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/sarif/run.sh" --pyrefcheck $<TARGET_FILE:pyrefcheck>)
  set_tests_properties(format:sarif PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "integrations")
  add_test(NAME format:github
           COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/github/run.sh" --pyrefcheck $<TARGET_FILE:pyrefcheck>)
  set_tests_properties(format:github PROPERTIES LABELS "integrations")
endif()

if(TARGET pyrefcheck)
  add_test(NAME precommit
           COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/precommit/run.sh" --pyrefcheck $<TARGET_FILE:pyrefcheck>)
  set_tests_properties(precommit PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS "integrations")
endif()

# action.yml's steps run as a GitHub runner would (build, check, annotations, baseline).
add_test(NAME action COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/action/run.sh")
set_tests_properties(action PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS "integrations")
