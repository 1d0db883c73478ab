# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DSHARED=ON|OFF -P install_and_build.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "ok: ${ARGN}\n${out}")
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(staging "${WORK_DIR}/staging")
set(prefix "${WORK_DIR}/relocated")
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${staging}")
# Relocate: nothing in the installed package may depend on the prefix it was installed to.
file(RENAME "${staging}" "${prefix}")

# Both headers: the C header and the LibTorch adapter beside it.
foreach(header IN ITEMS logitnorm.h logitnorm_torch.h)
  file(GLOB_RECURSE found "${prefix}/*/${header}")
  if(NOT found)
    message(FATAL_ERROR "${header} not installed")
  endif()
endforeach()

# logitnorm-eval, installed when the examples are built, finds the library through its RPATH
# ($ORIGIN/../<libdir>), so it runs from the moved prefix without LD_LIBRARY_PATH.
if(EXISTS "${prefix}/bin/logitnorm-eval")
  run("${prefix}/bin/logitnorm-eval" --version)
endif()

file(GLOB_RECURSE pc_file "${prefix}/*/logitnorm.pc")
if(NOT pc_file)
  message(FATAL_ERROR "logitnorm.pc not installed")
endif()
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
file(GLOB_RECURSE libs "${prefix}/*/liblogitnorm.*")
list(GET libs 0 lib_file)
get_filename_component(lib_dir "${lib_file}" DIRECTORY)

# find_package consumer (C and C++).
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/consumers/cmake" -B "${WORK_DIR}/cmake-consumer"
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/cmake-consumer")
run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${lib_dir}" "${WORK_DIR}/cmake-consumer/consumer_c")
run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${lib_dir}" "${WORK_DIR}/cmake-consumer/consumer_cxx")

# pkg-config consumers (a plain Makefile): the loss example, and a scorer that reaches BLIS.
find_program(MAKE_PROGRAM NAMES make gmake REQUIRED)
find_program(PKG_CONFIG_PROGRAM NAMES pkg-config pkgconf REQUIRED)
set(static_flag "")
if(NOT SHARED)
  set(static_flag "STATIC=1")
endif()
file(MAKE_DIRECTORY "${WORK_DIR}/pc-consumer")
run(${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${pc_dir}"
    ${MAKE_PROGRAM} -C "${SOURCE_DIR}/examples/consumers/pkgconfig" "OUT=${WORK_DIR}/pc-consumer"
    "PKG_CONFIG=${PKG_CONFIG_PROGRAM}" "CC=${CMAKE_C_COMPILER}" ${static_flag})
run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${lib_dir}" "${WORK_DIR}/pc-consumer/minimal")
run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${lib_dir}" "${WORK_DIR}/pc-consumer/scorer")

# Static library: a fully static link (-static, pkg-config --static) of the same consumers,
# which holds only if Libs.private names everything libblis.a and liblogitnorm.a need.
if(NOT SHARED)
  file(MAKE_DIRECTORY "${WORK_DIR}/pc-consumer-static")
  run(${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${pc_dir}"
      ${MAKE_PROGRAM} -C "${SOURCE_DIR}/examples/consumers/pkgconfig" "OUT=${WORK_DIR}/pc-consumer-static"
      "PKG_CONFIG=${PKG_CONFIG_PROGRAM}" "CC=${CMAKE_C_COMPILER}" STATIC=1 FULLY_STATIC=1)
  find_program(READELF readelf REQUIRED)
  foreach(exe minimal scorer)
    run(${READELF} -d "${WORK_DIR}/pc-consumer-static/${exe}")
    if(out MATCHES "NEEDED")
      message(FATAL_ERROR "${exe} is not fully static:\n${out}")
    endif()
    run("${WORK_DIR}/pc-consumer-static/${exe}")
  endforeach()
endif()
