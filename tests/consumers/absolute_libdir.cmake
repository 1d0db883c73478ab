# cmake -DSOURCE_DIR=... -DWORK_DIR=... -DSHARED=ON|OFF -DBUILD_TYPE=... -DCMAKE_C_COMPILER=...
#       -DCMAKE_CXX_COMPILER=... -P absolute_libdir.cmake
# An absolute CMAKE_INSTALL_LIBDIR outside the prefix (as distributions pass /usr/lib64): the
# library is configured and built in a tree of its own, installed, and consumed through
# pkg-config and find_package. The .pc file must name that directory as it is (not as
# ${prefix}//...) and keep the headers under the prefix.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "ok: ${ARGN}\n${out}")
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/usr")
set(libdir "${WORK_DIR}/lib64")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DBUILD_SHARED_LIBS=${SHARED} -DLOGITNORM_BUILD_TESTS=OFF -DLOGITNORM_BUILD_EXAMPLES=OFF
    -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
    "-DCMAKE_INSTALL_PREFIX=${prefix}" "-DCMAKE_INSTALL_LIBDIR=${libdir}" -DCMAKE_INSTALL_INCLUDEDIR=include)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" -j 2 --target logitnorm)
run(${CMAKE_COMMAND} --install "${WORK_DIR}/build")

find_program(PKG_CONFIG_PROGRAM NAMES pkg-config pkgconf REQUIRED)
set(pc_env "PKG_CONFIG_PATH=${libdir}/pkgconfig")
foreach(var libdir includedir)
  run(${CMAKE_COMMAND} -E env ${pc_env} ${PKG_CONFIG_PROGRAM} --variable=${var} logitnorm)
  string(STRIP "${out}" value_${var})
endforeach()
if(NOT value_libdir STREQUAL libdir OR NOT value_includedir STREQUAL "${prefix}/include")
  message(FATAL_ERROR "logitnorm.pc: libdir '${value_libdir}' (want ${libdir}), "
                      "includedir '${value_includedir}' (want ${prefix}/include)")
endif()

set(static_flag "")
if(NOT SHARED)
  set(static_flag "STATIC=1")
endif()
find_program(MAKE_PROGRAM NAMES make gmake REQUIRED)
file(MAKE_DIRECTORY "${WORK_DIR}/pc-consumer")
run(${CMAKE_COMMAND} -E env ${pc_env}
    ${MAKE_PROGRAM} -C "${SOURCE_DIR}/examples/consumers/pkgconfig" "OUT=${WORK_DIR}/pc-consumer"
    "PKG_CONFIG=${PKG_CONFIG_PROGRAM}" "CC=${CMAKE_C_COMPILER}" ${static_flag})
foreach(exe minimal scorer)
  run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${libdir}" "${WORK_DIR}/pc-consumer/${exe}")
endforeach()

run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples/consumers/cmake" -B "${WORK_DIR}/cmake-consumer"
    "-Dlogitnorm_DIR=${libdir}/cmake/logitnorm" -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
    -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/cmake-consumer")
run(${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${libdir}" "${WORK_DIR}/cmake-consumer/consumer_c")
