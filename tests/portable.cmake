# The metric suites against the library's plain C11 arithmetic (lib/metrics/wide_count.h:
# 128-bit counts in two 64-bit halves, the final division in double-double), which compilers
# with __int128 never build by default. Only the files that use it are compiled again, with
# LOGITNORM_PORTABLE_ARITHMETIC; the rest of the archive is the main build's objects.
# Each suite runs once (portable.<suite>, label "portable"); with a shared library and
# scikit-learn present, the scikit-learn cross-check also runs on a shared copy.
set(LN_PORTABLE_SOURCES "${PROJECT_SOURCE_DIR}/lib/metrics/metrics_values.c" "${PROJECT_SOURCE_DIR}/lib/metrics/exact_sum.c"
                        "${PROJECT_SOURCE_DIR}/lib/metrics/metrics_selective.c")
add_library(logitnorm_portable_objects OBJECT ${LN_PORTABLE_SOURCES})
set_target_properties(logitnorm_portable_objects PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
target_compile_definitions(logitnorm_portable_objects PRIVATE
  $<TARGET_PROPERTY:logitnorm_objects,COMPILE_DEFINITIONS> LOGITNORM_PORTABLE_ARITHMETIC)
target_include_directories(logitnorm_portable_objects PRIVATE $<TARGET_PROPERTY:logitnorm_objects,INCLUDE_DIRECTORIES>)
target_link_libraries(logitnorm_portable_objects PRIVATE logitnorm_warnings)

# The main objects without those files (matched by name), plus the portable ones.
set(LN_PORTABLE_OBJECTS
  "$<FILTER:$<TARGET_OBJECTS:logitnorm_objects>,EXCLUDE,/metrics/(metrics_values|metrics_selective|exact_sum)\\.c\\.o$>"
  "$<TARGET_OBJECTS:logitnorm_portable_objects>")
add_library(logitnorm_portable STATIC ${LN_PORTABLE_OBJECTS})
target_include_directories(logitnorm_portable PUBLIC "${PROJECT_SOURCE_DIR}/include")
target_link_libraries(logitnorm_portable PUBLIC BLIS::BLIS Threads::Threads m)

add_library(ln_test_support_portable STATIC
            "${CMAKE_CURRENT_SOURCE_DIR}/support/test_util.c" "${CMAKE_CURRENT_SOURCE_DIR}/support/metrics_ref.c"
            "${CMAKE_CURRENT_SOURCE_DIR}/support/selective_ref.c")
target_include_directories(ln_test_support_portable PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/support"
                           PRIVATE "${PROJECT_SOURCE_DIR}/lib") # tu_run_suite asks common/dispatch.h
target_link_libraries(ln_test_support_portable PUBLIC logitnorm_portable PkgConfig::CHECK m PRIVATE logitnorm_warnings)

add_custom_target(portable_tests) # builds only these
foreach(name IN ITEMS test_metrics test_metrics_blob test_metrics_props test_metrics_selective test_calibration)
  add_executable(portable_${name} "${CMAKE_CURRENT_SOURCE_DIR}/${name}.c")
  target_link_libraries(portable_${name} PRIVATE ln_test_support_portable logitnorm_warnings)
  add_dependencies(portable_tests portable_${name})
  string(REGEX REPLACE "^test_" "" short "${name}")
  set(env ${LN_TEST_ENV}) # tests/CMakeLists.txt: emulator timeouts, LOGITNORM_TEST_QUICK_SUITES
  if(portable.${short} IN_LIST LOGITNORM_TEST_QUICK_SUITES)
    list(APPEND env LN_TEST_QUICK=1)
  endif()
  add_test(NAME portable.${short} COMMAND portable_${name})
  set_tests_properties(portable.${short} PROPERTIES ENVIRONMENT "LOGITNORM_DISPATCH=generic;${env}"
                                                    LABELS "check;portable")
endforeach()

# Only where metrics.sklearn_crosscheck itself runs (tests/metrics.cmake, included before this
# file, leaves LN_SKLEARN_SKIP empty then: shared, not sanitized, scikit-learn importable).
if(DEFINED LN_SKLEARN_SKIP AND LN_SKLEARN_SKIP STREQUAL "")
  add_library(logitnorm_portable_shared SHARED ${LN_PORTABLE_OBJECTS})
  target_link_libraries(logitnorm_portable_shared PRIVATE BLIS::BLIS Threads::Threads m)
  target_link_options(logitnorm_portable_shared PRIVATE "-Wl,--version-script=${PROJECT_SOURCE_DIR}/lib/logitnorm.map")
  add_dependencies(portable_tests logitnorm_portable_shared)
  add_test(NAME portable.sklearn_crosscheck
           COMMAND /usr/bin/python3 "${CMAKE_CURRENT_SOURCE_DIR}/metrics_sklearn_check.py"
                   "$<TARGET_FILE:logitnorm_portable_shared>")
  set_tests_properties(portable.sklearn_crosscheck PROPERTIES LABELS "crosscheck;portable" TIMEOUT 300)
endif()
