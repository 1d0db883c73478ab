# logitnorm-eval (examples/logitnorm_eval.c): its command line, its readers on bad files, its
# numbers against scikit-learn, a smoke run of its speed benchmark, and the fuzz target of its
# .npy and text readers.
#
# eval.cli needs only python3 (it crafts every file byte by byte); eval.sklearn_crosscheck needs
# numpy and scikit-learn (python3-sklearn). Both run the program, never load the library into
# python, so they also run in sanitized and static builds.

# The fuzz target of the readers (tests/hardening.cmake's ln_add_fuzz_target). It compiles the
# reader sources itself, so it exists with or without the examples. Deferred to the end of this
# directory, where hardening.cmake has defined the function.
set(LN_EVAL_READERS array.c npy.c text.c load.c)
list(TRANSFORM LN_EVAL_READERS PREPEND "${PROJECT_SOURCE_DIR}/examples/eval/")
cmake_language(DEFER CALL ln_add_fuzz_target fuzz_eval_readers SOURCES ${LN_EVAL_READERS}
               INCLUDES "${PROJECT_SOURCE_DIR}/examples" LIBS m)

if(NOT LOGITNORM_BUILD_EXAMPLES)
  return()
endif()

set(LN_EVAL_EXE "$<TARGET_FILE:logitnorm_eval>")
set(LN_EVAL_WORK "${CMAKE_CURRENT_BINARY_DIR}/eval-work")

if(EXISTS /usr/bin/python3)
  add_test(NAME eval.cli
           COMMAND /usr/bin/python3 "${CMAKE_CURRENT_SOURCE_DIR}/eval_cli_check.py" "${LN_EVAL_EXE}"
                   "${PROJECT_SOURCE_DIR}/examples/logitnorm_eval.c" "${LN_EVAL_WORK}/cli")
  set_tests_properties(eval.cli PROPERTIES LABELS "examples" TIMEOUT 120)
  add_test(NAME bench.eval_speed.quick
           COMMAND /usr/bin/python3 "${CMAKE_CURRENT_SOURCE_DIR}/bench/eval_speed.py" --quick "${LN_EVAL_EXE}"
                   "${LN_EVAL_WORK}/bench")
  set_tests_properties(bench.eval_speed.quick PROPERTIES LABELS "bench" TIMEOUT 120)
else()
  ln_add_skip_test(eval.cli "/usr/bin/python3 not found" LABELS "examples")
  ln_add_skip_test(bench.eval_speed.quick "/usr/bin/python3 not found" LABELS "bench")
endif()

set(LN_EVAL_SKLEARN_SKIP "")
if(NOT EXISTS /usr/bin/python3)
  set(LN_EVAL_SKLEARN_SKIP "/usr/bin/python3 not found")
else()
  execute_process(COMMAND /usr/bin/python3 -c "import sklearn, numpy"
                  RESULT_VARIABLE LN_EVAL_SKLEARN_MISSING OUTPUT_QUIET ERROR_QUIET)
  if(NOT LN_EVAL_SKLEARN_MISSING EQUAL 0)
    set(LN_EVAL_SKLEARN_SKIP "python3 cannot import sklearn and numpy (install python3-sklearn)")
  endif()
endif()
if(LN_EVAL_SKLEARN_SKIP STREQUAL "")
  add_test(NAME eval.sklearn_crosscheck
           COMMAND /usr/bin/python3 "${CMAKE_CURRENT_SOURCE_DIR}/eval_check.py" "${LN_EVAL_EXE}"
                   "${LN_EVAL_WORK}/sklearn")
  set_tests_properties(eval.sklearn_crosscheck PROPERTIES LABELS "crosscheck" TIMEOUT 300)
else()
  ln_add_skip_test(eval.sklearn_crosscheck "${LN_EVAL_SKLEARN_SKIP}" LABELS "crosscheck")
endif()
