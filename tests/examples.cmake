# CTest registrations of the examples, each in a small, fast mode (a few seconds).
# Included from tests/CMakeLists.txt, which is processed before examples/, so the conditions
# below repeat the ones in examples/CMakeLists.txt instead of asking for the targets. An
# example whose optional dependency is missing is registered as skipped with the reason.
if(NOT LOGITNORM_BUILD_EXAMPLES)
  return()
endif()

# mlp_ood on its synthetic data: trains CE and LogitNorm briefly, then checks the JSON
# (with CMake's JSON parser) and the SVG. The synthetic mode runs anywhere.
find_package(ZLIB QUIET)
if(ZLIB_FOUND)
  add_test(NAME examples.mlp_ood.synthetic
           COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:mlp_ood> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/mlp_ood_synthetic
                   "-DARGS=--synthetic;--epochs;2;--train-limit;2000;--test-limit;500;--mnist-dir;${CMAKE_CURRENT_BINARY_DIR}/no-mnist;--threads;1"
                   -P ${PROJECT_SOURCE_DIR}/examples/scripts/check_mlp_ood.cmake)
  set_tests_properties(examples.mlp_ood.synthetic PROPERTIES LABELS "examples" TIMEOUT 60)
  # The real data path (IDX reader, standardisation) on a slice of Fashion-MNIST, when installed.
  if(EXISTS "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
    add_test(NAME examples.mlp_ood.fashion_slice
             COMMAND ${CMAKE_COMMAND} -DEXE=$<TARGET_FILE:mlp_ood> -DOUT=${CMAKE_CURRENT_BINARY_DIR}/mlp_ood_fashion
                     "-DARGS=--epochs;1;--train-limit;3000;--test-limit;1000;--tau-sweep;0.5,1.0;--threads;1"
                     -P ${PROJECT_SOURCE_DIR}/examples/scripts/check_mlp_ood.cmake)
    set_tests_properties(examples.mlp_ood.fashion_slice PROPERTIES LABELS "examples" TIMEOUT 60)
  else()
    ln_add_skip_test(examples.mlp_ood.fashion_slice
                     "Fashion-MNIST not found in /usr/share/datasets/fashion-mnist" LABELS "examples")
  endif()
else()
  foreach(name IN ITEMS synthetic fashion_slice)
    ln_add_skip_test(examples.mlp_ood.${name} "zlib not found: mlp_ood is not built (install zlib1g-dev)"
                     LABELS "examples")
  endforeach()
endif()

# llm.c-style loop: exits non-zero unless the loss falls, the in-place and accumulated
# gradients agree and the padded columns stay untouched.
add_test(NAME examples.llmc_style COMMAND llmc_style --steps 200)
set_tests_properties(examples.llmc_style PROPERTIES LABELS "examples" TIMEOUT 30)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(LN_FANN_TEST QUIET fann)
endif()
if(LN_FANN_TEST_FOUND)
  add_test(NAME examples.fann_hook COMMAND fann_hook)
  set_tests_properties(examples.fann_hook PROPERTIES LABELS "examples" TIMEOUT 30)
else()
  ln_add_skip_test(examples.fann_hook "FANN not found by pkg-config (install libfann-dev)" LABELS "examples")
endif()

set(LN_DARKNET_TEST_DIR "/usr/lib/darknet")
if(DEFINED LN_DARKNET_DIR)
  set(LN_DARKNET_TEST_DIR "${LN_DARKNET_DIR}")
endif()
if(EXISTS "${LN_DARKNET_TEST_DIR}/libdarknet.so" AND EXISTS "${LN_DARKNET_TEST_DIR}/include/darknet.h")
  add_test(NAME examples.darknet_hook COMMAND darknet_hook)
  set_tests_properties(examples.darknet_hook PROPERTIES LABELS "examples" TIMEOUT 60)
else()
  ln_add_skip_test(examples.darknet_hook "darknet not found in ${LN_DARKNET_TEST_DIR} (libdarknet.so, include/darknet.h)"
                   LABELS "examples")
endif()

# demo.sh without network or apt: a syntax check of the script.
find_program(LN_BASH bash)
if(LN_BASH)
  add_test(NAME examples.demo_sh_syntax COMMAND ${LN_BASH} -n ${PROJECT_SOURCE_DIR}/examples/demo.sh)
  set_tests_properties(examples.demo_sh_syntax PROPERTIES LABELS "examples")
endif()
