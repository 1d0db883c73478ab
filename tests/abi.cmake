# ABI and export checks of the shared library.
if(BUILD_SHARED_LIBS)
  # Only logitnorm_* symbols are exported, all under the version node LOGITNORM_1.0.
  add_test(NAME abi.exports
           COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:logitnorm> -P "${CMAKE_CURRENT_SOURCE_DIR}/abi/check_exports.cmake")

  # abidiff against the committed baseline: any change to an existing function or type is a
  # failure (exit 4 = ABI change, 8/12 = incompatible change); added symbols are allowed.
  # Public types are those of include/ and of the compiler's system headers (so that, say,
  # an int64_t parameter turned int32_t is reported, not dropped as a private type); the
  # opaque handles' private layouts are suppressed. The baseline is made from a
  # RelWithDebInfo gcc build with the same header directories:
  #   abidw --no-corpus-path --no-comp-dir-path --short-locs --drop-private-types \
  #         --headers-dir include --headers-dir /usr/include \
  #         --out-file tests/abi/liblogitnorm.so.1.abi <build>/lib/liblogitnorm.so
  find_program(ABIDIFF abidiff)
  if(ABIDIFF AND CMAKE_BUILD_TYPE MATCHES "^(RelWithDebInfo|Debug)$")
    set(LN_ABI_HEADER_DIRS --headers-dir2 "${PROJECT_SOURCE_DIR}/include")
    foreach(dir IN LISTS CMAKE_C_IMPLICIT_INCLUDE_DIRECTORIES)
      list(APPEND LN_ABI_HEADER_DIRS --headers-dir2 "${dir}")
    endforeach()
    add_test(NAME abi.abidiff
             COMMAND ${ABIDIFF} --no-added-syms --drop-private-types ${LN_ABI_HEADER_DIRS}
                     --suppressions "${CMAKE_CURRENT_SOURCE_DIR}/abi/opaque_handles.suppr"
                     "${CMAKE_CURRENT_SOURCE_DIR}/abi/liblogitnorm.so.1.abi" $<TARGET_FILE:logitnorm>)
  endif()
endif()

# The header compiles as strict C11 and as C++11, and a C++ program links and runs.
add_executable(header_c11 "${CMAKE_CURRENT_SOURCE_DIR}/consumers/header_c11.c")
target_link_libraries(header_c11 PRIVATE logitnorm::logitnorm logitnorm_warnings)
target_compile_options(header_c11 PRIVATE -std=c11 -pedantic-errors)
add_executable(header_cxx "${CMAKE_CURRENT_SOURCE_DIR}/consumers/header_cxx.cpp")
target_link_libraries(header_cxx PRIVATE logitnorm::logitnorm logitnorm_warnings)
target_compile_options(header_cxx PRIVATE -std=c++11 -pedantic-errors)
add_test(NAME header.c11 COMMAND header_c11)
add_test(NAME header.cxx COMMAND header_cxx)
