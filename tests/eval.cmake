# logitnorm-eval (examples/logitnorm_eval.c): its command line, its readers on bad files, its
# numbers against scikit-learn, a smoke run of its speed benchmark, and the fuzz target of its
# .npy and text readers.
#
# eval.cli needs only python3 (it crafts every file byte by byte); eval.sklearn_crosscheck needs
# numpy and scikit-learn (python3-sklearn). Both run the program, never load the library into
# python, so they also run in sanitized and static builds.

# The fuzz target of the readers, registered the way tests/hardening.cmake registers its targets
# (a replay test with any compiler, a libFuzzer run with clang). It compiles the reader sources
# itself, so it exists with or without the examples. Deferred to the end of this directory, where
# hardening.cmake has defined LN_FUZZ_DIR, LOGITNORM_FUZZ_SECONDS and LOGITNORM_FUZZ_COVERAGE.
function(ln_eval_register_fuzz)
  set(target fuzz_eval_readers)
  set(readers array.c npy.c text.c load.c)
  list(TRANSFORM readers PREPEND "${PROJECT_SOURCE_DIR}/examples/eval/")
  set(corpora "${LN_FUZZ_DIR}/corpus/${target}")
  if(EXISTS "${LN_FUZZ_DIR}/regressions/${target}")
    list(APPEND corpora "${LN_FUZZ_DIR}/regressions/${target}")
  endif()

  add_executable(replay_${target} "${LN_FUZZ_DIR}/${target}.c" "${LN_FUZZ_DIR}/replay_main.c" ${readers})
  target_include_directories(replay_${target} PRIVATE "${LN_FUZZ_DIR}" "${PROJECT_SOURCE_DIR}/examples")
  target_link_libraries(replay_${target} PRIVATE logitnorm_testing logitnorm_warnings m)
  add_test(NAME fuzz_replay.${target} COMMAND replay_${target} ${corpora})
  set_tests_properties(fuzz_replay.${target} PROPERTIES LABELS "fuzz_replay")

  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(${target} "${LN_FUZZ_DIR}/${target}.c" ${readers})
    target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/examples")
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${target} PRIVATE logitnorm_warnings m)
    set(work "${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${target}")
    file(MAKE_DIRECTORY "${work}/corpus" "${work}/artifacts")
    add_test(NAME fuzz.${target}
             COMMAND ${target} -max_total_time=${LOGITNORM_FUZZ_SECONDS} -seed=1 -max_len=8192
                     -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
                     -artifact_prefix=${work}/artifacts/ "${work}/corpus" ${corpora})
    math(EXPR fuzz_timeout "${LOGITNORM_FUZZ_SECONDS} * 3 + 60")
    set_tests_properties(fuzz.${target} PROPERTIES LABELS "fuzz" TIMEOUT ${fuzz_timeout})
  endif()
endfunction()
cmake_language(DEFER CALL ln_eval_register_fuzz)

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
