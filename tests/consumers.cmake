# Installs the library to a temporary prefix, moves the prefix (the package must be
# relocatable), then builds and runs the find_package and the pkg-config consumers (with a
# static library also fully static, -static). Not in a cross build: the consumer projects are
# configured and run for the host.
if(CMAKE_CROSSCOMPILING)
  foreach(name IN ITEMS install_and_build absolute_libdir)
    ln_add_skip_test(consumers.${name} "cross build: the consumer projects build and run for the host")
  endforeach()
  return()
endif()
add_test(NAME consumers.install_and_build
         COMMAND ${CMAKE_COMMAND}
                 -DBUILD_DIR=${PROJECT_BINARY_DIR}
                 -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                 -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumers
                 -DSHARED=${BUILD_SHARED_LIBS}
                 -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
                 -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
                 -P "${CMAKE_CURRENT_SOURCE_DIR}/consumers/install_and_build.cmake")
set_tests_properties(consumers.install_and_build PROPERTIES TIMEOUT 300)

# An absolute CMAKE_INSTALL_LIBDIR: the library alone is configured, built and installed in a
# tree of its own, then consumed through pkg-config and find_package.
add_test(NAME consumers.absolute_libdir
         COMMAND ${CMAKE_COMMAND}
                 -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                 -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumers-absolute-libdir
                 -DSHARED=${BUILD_SHARED_LIBS}
                 -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
                 -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
                 -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
                 -P "${CMAKE_CURRENT_SOURCE_DIR}/consumers/absolute_libdir.cmake")
set_tests_properties(consumers.absolute_libdir PROPERTIES TIMEOUT 600)
