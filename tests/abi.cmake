# ABI and export checks of the shared library.
if(BUILD_SHARED_LIBS)
  # The exports are exactly the functions of tests/abi/symbol_versions.txt, each at the
  # version node listed there (LOGITNORM_1.0 for the 55 functions of 1.0, LOGITNORM_1.1 after).
  # A cross build passes its toolchain's nm (CMAKE_NM), which reads the target's objects.
  set(LN_ABI_NM "")
  if(CMAKE_CROSSCOMPILING)
    set(LN_ABI_NM -DNM=${CMAKE_NM})
  endif()
  add_test(NAME abi.exports
           COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:logitnorm> ${LN_ABI_NM}
                   -DLIST=${CMAKE_CURRENT_SOURCE_DIR}/abi/symbol_versions.txt
                   -P "${CMAKE_CURRENT_SOURCE_DIR}/abi/check_exports.cmake")

  # abidiff against the committed baseline: any change to a function or type of 1.0 is a
  # failure; functions added in a later version node are allowed (tests/abi/abidiff.cmake
  # reads the report of exit status 4, "ABI change", which added functions alone also give).
  # Public types are those of include/ and of the compiler's system headers (so that, say,
  # an int64_t parameter turned int32_t is reported, not dropped as a private type); the
  # opaque handles' private layouts are suppressed. The baseline is made from a
  # RelWithDebInfo gcc build with the same header directories:
  #   abidw --no-corpus-path --no-comp-dir-path --short-locs --drop-private-types \
  #         --headers-dir include --headers-dir /usr/include \
  #         --out-file tests/abi/liblogitnorm.so.1.abi <build>/lib/liblogitnorm.so
  # The baseline is x86-64's ABI (type sizes, calling convention): other targets, 32-bit x86
  # included, are not compared with it.
  find_program(ABIDIFF abidiff)
  if(CMAKE_CROSSCOMPILING OR NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    ln_add_skip_test(abi.abidiff "the ABI baseline is of x86-64; this build is for ${CMAKE_SYSTEM_PROCESSOR}")
  elseif(ABIDIFF AND CMAKE_BUILD_TYPE MATCHES "^(RelWithDebInfo|Debug)$")
    set(LN_ABI_HEADER_DIRS "${PROJECT_SOURCE_DIR}/include" ${CMAKE_C_IMPLICIT_INCLUDE_DIRECTORIES})
    string(REPLACE ";" "|" LN_ABI_HEADER_DIRS "${LN_ABI_HEADER_DIRS}")
    add_test(NAME abi.abidiff
             COMMAND ${CMAKE_COMMAND} -DABIDIFF=${ABIDIFF} "-DHEADER_DIRS=${LN_ABI_HEADER_DIRS}"
                     -DSUPPRESSIONS=${CMAKE_CURRENT_SOURCE_DIR}/abi/opaque_handles.suppr
                     -DBASELINE=${CMAKE_CURRENT_SOURCE_DIR}/abi/liblogitnorm.so.1.abi
                     -DLIB=$<TARGET_FILE:logitnorm> -P "${CMAKE_CURRENT_SOURCE_DIR}/abi/abidiff.cmake")
  elseif(NOT ABIDIFF)
    ln_add_skip_test(abi.abidiff "abidiff not found (install abigail-tools)")
  else()
    ln_add_skip_test(abi.abidiff "build type ${CMAKE_BUILD_TYPE}: the comparison needs the debug info of RelWithDebInfo or Debug")
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
