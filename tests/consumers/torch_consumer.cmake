# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DTORCH_DIR=... -DCMAKE_CXX_COMPILER=...
#       -P torch_consumer.cmake
# Installs the library, then configures examples/consumers/torch three ways (LN_MODE: LibTorch
# found first, the torch component, neither) and builds and runs the first: the installed
# logitnorm_torch.h and the package's logitnorm::torch target, as a LibTorch project uses them.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "ok: ${ARGN}\n${out}")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
file(GLOB_RECURSE header "${prefix}/*/logitnorm_torch.h")
if(NOT header)
  message(FATAL_ERROR "logitnorm_torch.h is not installed")
endif()
file(GLOB_RECURSE libs "${prefix}/*/liblogitnorm.*")
list(GET libs 0 lib_file)
get_filename_component(lib_dir "${lib_file}" DIRECTORY)

foreach(mode IN ITEMS torch-first component plain)
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/consumers/torch" -B "${WORK_DIR}/${mode}"
      "-DCMAKE_PREFIX_PATH=${prefix}" "-DTorch_DIR=${TORCH_DIR}" "-DLN_MODE=${mode}"
      -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
endforeach()
run(${CMAKE_COMMAND} --build "${WORK_DIR}/torch-first")
run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${lib_dir}" "${WORK_DIR}/torch-first/torch_consumer")
