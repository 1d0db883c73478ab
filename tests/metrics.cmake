# Optional cross-check of the OOD metrics against scikit-learn. Registered only when the
# system Python can import sklearn and numpy (Debian package python3-sklearn).
if(BUILD_SHARED_LIBS AND EXISTS /usr/bin/python3)
  execute_process(COMMAND /usr/bin/python3 -c "import sklearn, numpy"
                  RESULT_VARIABLE LN_SKLEARN_MISSING OUTPUT_QUIET ERROR_QUIET)
  if(LN_SKLEARN_MISSING EQUAL 0)
    add_test(NAME metrics.sklearn_crosscheck
             COMMAND /usr/bin/python3 "${CMAKE_CURRENT_SOURCE_DIR}/metrics_sklearn_check.py"
                     "$<TARGET_FILE:logitnorm>")
    set_tests_properties(metrics.sklearn_crosscheck PROPERTIES LABELS "crosscheck" TIMEOUT 300)
  endif()
endif()
