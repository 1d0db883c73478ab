# mpi_train: data-parallel training and distributed evaluation over MPI. Built only when an
# MPI implementation with a C binding is found (Debian: libopenmpi-dev).
find_package(MPI COMPONENTS C QUIET)
if(MPI_C_FOUND)
  add_executable(mpi_train mpi_train.c common/mlp.c)
  target_include_directories(mpi_train PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_link_libraries(mpi_train PRIVATE MPI::MPI_C logitnorm::logitnorm BLIS::BLIS m logitnorm_warnings)
else()
  message(STATUS "MPI not found: mpi_train is not built")
endif()
