# Optional cross-checks of the OOD metrics and of the calibration bins against scikit-learn, run
# when the system Python can import sklearn and numpy (Debian package python3-sklearn) and the
# library is shared (python loads it through ctypes), not sanitized and built for the host;
# otherwise registered as skipped with the reason.
set(LN_SKLEARN_SKIP "")
if(NOT BUILD_SHARED_LIBS)
  set(LN_SKLEARN_SKIP "static build: python needs the shared library")
elseif(LOGITNORM_SANITIZE)
  set(LN_SKLEARN_SKIP "sanitized build (${LOGITNORM_SANITIZE}): python cannot load the library")
elseif(CMAKE_CROSSCOMPILING)
  set(LN_SKLEARN_SKIP "cross build: the host's python cannot load the target's library")
elseif(NOT EXISTS /usr/bin/python3)
  set(LN_SKLEARN_SKIP "/usr/bin/python3 not found")
else()
  execute_process(COMMAND /usr/bin/python3 -c "import sklearn, numpy"
                  RESULT_VARIABLE LN_SKLEARN_MISSING OUTPUT_QUIET ERROR_QUIET)
  if(NOT LN_SKLEARN_MISSING EQUAL 0)
    set(LN_SKLEARN_SKIP "python3 cannot import sklearn and numpy (install python3-sklearn)")
  endif()
endif()
if(LN_SKLEARN_SKIP STREQUAL "")
  add_test(NAME metrics.sklearn_crosscheck
           COMMAND /usr/bin/python3 "${CMAKE_CURRENT_SOURCE_DIR}/metrics_sklearn_check.py"
                   "$<TARGET_FILE:logitnorm>")
  set_tests_properties(metrics.sklearn_crosscheck PROPERTIES LABELS "crosscheck" TIMEOUT 300)
  # calibration_curve (strategies uniform and quantile) against the reliability data
  add_test(NAME calibration.sklearn_crosscheck
           COMMAND /usr/bin/python3 "${CMAKE_CURRENT_SOURCE_DIR}/calibration_sklearn_check.py"
                   "$<TARGET_FILE:logitnorm>")
  set_tests_properties(calibration.sklearn_crosscheck PROPERTIES LABELS "crosscheck" TIMEOUT 300)
else()
  ln_add_skip_test(metrics.sklearn_crosscheck "${LN_SKLEARN_SKIP}" LABELS "crosscheck")
  ln_add_skip_test(calibration.sklearn_crosscheck "${LN_SKLEARN_SKIP}" LABELS "crosscheck")
endif()
