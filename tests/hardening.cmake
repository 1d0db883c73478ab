# Hardening: fuzz targets, their corpora, and the ThreadSanitizer test.
#
# Every fuzz target in tests/fuzz/ is also linked with a small replay driver, with any
# compiler, and CTest replays its seed and regression corpora as a plain test
# (fuzz_replay.<target>). When the C compiler is clang, the libFuzzer build of each target
# runs for LOGITNORM_FUZZ_SECONDS from the committed seeds (fuzz.<target>, label "fuzz");
# new inputs go to the build tree, never to the source tree. tests/run.sh fuzz does that in a
# clang build tree of its own when the main build uses gcc.
set(LOGITNORM_FUZZ_SECONDS 30 CACHE STRING "Seconds each fuzz target runs under CTest (clang builds)")
option(LOGITNORM_FUZZ_COVERAGE "Instrument the library objects for libFuzzer (clang fuzz build trees only)" OFF)
set(LN_FUZZ_DIR "${CMAKE_CURRENT_SOURCE_DIR}/fuzz")
set(LN_FUZZ_TARGETS fuzz_loss_api fuzz_metrics_load fuzz_calibration_load fuzz_scorer_load)

# ln_add_fuzz_target(<target> [SOURCES <file>...] [INCLUDES <dir>...] [LIBS <lib>...]):
# tests/fuzz/<target>.c, with the extra sources, include folders and libraries it needs, as a
# replay test with any compiler and, with clang, as a libFuzzer run from its corpora.
function(ln_add_fuzz_target target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;INCLUDES;LIBS")
  set(corpora "${LN_FUZZ_DIR}/corpus/${target}")
  if(EXISTS "${LN_FUZZ_DIR}/regressions/${target}")
    list(APPEND corpora "${LN_FUZZ_DIR}/regressions/${target}")
  endif()

  add_executable(replay_${target} "${LN_FUZZ_DIR}/${target}.c" "${LN_FUZZ_DIR}/replay_main.c" ${arg_SOURCES})
  target_include_directories(replay_${target} PRIVATE "${LN_FUZZ_DIR}" ${arg_INCLUDES})
  target_link_libraries(replay_${target} PRIVATE logitnorm_testing logitnorm_warnings ${arg_LIBS})
  add_test(NAME fuzz_replay.${target} COMMAND replay_${target} ${corpora})
  set_tests_properties(fuzz_replay.${target} PROPERTIES LABELS "fuzz_replay")

  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(${target} "${LN_FUZZ_DIR}/${target}.c" ${arg_SOURCES})
    target_include_directories(${target} PRIVATE "${LN_FUZZ_DIR}" ${arg_INCLUDES})
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${target} PRIVATE logitnorm_testing logitnorm_warnings ${arg_LIBS})
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

foreach(target IN LISTS LN_FUZZ_TARGETS)
  ln_add_fuzz_target(${target})
endforeach()

# Writes the seed corpora (valid blobs of every object, loss API inputs); run by hand after a
# format change: make_fuzz_seeds <tests/fuzz/corpus>.
add_executable(make_fuzz_seeds EXCLUDE_FROM_ALL "${LN_FUZZ_DIR}/make_seeds.c")
target_link_libraries(make_fuzz_seeds PRIVATE logitnorm::logitnorm logitnorm_warnings m)

# Coverage feedback for libFuzzer inside the library objects too; tests/run.sh fuzz sets it in
# its own build tree, where only the fuzz targets are built.
if(CMAKE_C_COMPILER_ID MATCHES "Clang" AND LOGITNORM_FUZZ_COVERAGE)
  target_compile_options(logitnorm_objects PRIVATE -fsanitize=fuzzer-no-link)
endif()

# ctest -T memcheck: valgrind with definite leaks as errors; BLIS's and libgomp's memory pools
# (possible and still reachable by design: the library never calls bli_finalize) are
# suppressed by tests/valgrind.supp. Run the Check suites with CK_FORK=no.
find_program(MEMORYCHECK_COMMAND valgrind)
set(MEMORYCHECK_COMMAND_OPTIONS
    "--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 --num-callers=30 --track-origins=no"
    CACHE STRING "valgrind options of ctest -T memcheck")
set(MEMORYCHECK_SUPPRESSIONS_FILE "${CMAKE_CURRENT_SOURCE_DIR}/valgrind.supp" CACHE FILEPATH "valgrind suppressions")
include(CTest)
