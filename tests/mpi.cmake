# mpi_train: 1-rank and 2-rank runs of the same seed and global batch on a small synthetic
# task. Each run checks by itself (--check) that
#   - its distributed gradient and loss match the single-process MEAN over the global batch,
#   - all ranks hold bitwise identical parameters,
#   - the metrics and calibration merged from the ranks' blobs are bitwise equal to one
#     accumulator fed everything;
# then --compare requires the two runs' loss curves and final weights to agree within the
# tolerance documented in mpi_train.c, and a run with the wrong normalisation (MEAN per rank)
# must be told apart by the same comparison.
# Run when MPI, mpiexec and the examples are available; otherwise each is registered as
# skipped with the reason.
find_package(MPI COMPONENTS C QUIET)
set(LN_MPI_SKIP "")
if(NOT LOGITNORM_BUILD_EXAMPLES)
  set(LN_MPI_SKIP "the examples are not built (LOGITNORM_BUILD_EXAMPLES=OFF)")
elseif(NOT MPI_C_FOUND)
  set(LN_MPI_SKIP "no MPI with a C binding found (install libopenmpi-dev)")
elseif(NOT MPIEXEC_EXECUTABLE)
  set(LN_MPI_SKIP "mpiexec not found (install openmpi-bin)")
endif()
if(NOT LN_MPI_SKIP STREQUAL "")
  message(STATUS "mpi.* tests skipped: ${LN_MPI_SKIP}")
  foreach(name IN ITEMS train_np1 train_np2 train_np2_per_rank_mean compare_np1_np2 compare_detects_per_rank_mean)
    ln_add_skip_test(mpi.${name} "${LN_MPI_SKIP}" LABELS mpi)
  endforeach()
  return()
endif()

# Open MPI refuses to run as root without --allow-run-as-root (CI containers run as root) and
# to start more ranks than cores without --oversubscribe; other implementations do not know
# these flags.
execute_process(COMMAND "${MPIEXEC_EXECUTABLE}" --version OUTPUT_VARIABLE LN_MPIEXEC_VERSION
                ERROR_QUIET RESULT_VARIABLE LN_MPIEXEC_RC)
set(LN_MPI_FLAGS)
set(LN_MPI_ENV)
if(LN_MPIEXEC_VERSION MATCHES "Open MPI|OpenRTE")
  set(LN_MPI_FLAGS --allow-run-as-root --oversubscribe)
  # The environment form of the same permission, and no single-copy (CMA) transfers in the
  # shared-memory transport: containers often forbid the ptrace access they need.
  set(LN_MPI_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
                 OMPI_MCA_btl_vader_single_copy_mechanism=none)
endif()

set(LN_MPI_DIR "${CMAKE_CURRENT_BINARY_DIR}/mpi")
file(MAKE_DIRECTORY "${LN_MPI_DIR}")
# 120 steps of a 16-32-32-4 MLP, global batch 64, LogitNorm with class weights and ~10% of
# the training labels ignored, so that a wrong MEAN divisor shows.
set(LN_MPI_ARGS --synthetic --steps 120 --batch 64 --seed 7 --class-weights --ignore-frac 0.1)

function(ln_mpi_run name np)
  add_test(NAME mpi.${name}
           COMMAND "${MPIEXEC_EXECUTABLE}" ${LN_MPI_FLAGS} ${MPIEXEC_NUMPROC_FLAG} ${np} ${MPIEXEC_PREFLAGS}
                   $<TARGET_FILE:mpi_train> ${MPIEXEC_POSTFLAGS} ${LN_MPI_ARGS} ${ARGN})
  set_tests_properties(mpi.${name} PROPERTIES ENVIRONMENT "${LN_MPI_ENV}" TIMEOUT 120 LABELS mpi
                                              FIXTURES_SETUP mpi_${name} PROCESSORS ${np})
endfunction()

ln_mpi_run(train_np1 1 --check --out "${LN_MPI_DIR}/np1.bin")
ln_mpi_run(train_np2 2 --check --out "${LN_MPI_DIR}/np2.bin")
ln_mpi_run(train_np2_per_rank_mean 2 --per-rank-mean --out "${LN_MPI_DIR}/np2_per_rank_mean.bin")

add_test(NAME mpi.compare_np1_np2
         COMMAND mpi_train --compare "${LN_MPI_DIR}/np1.bin" "${LN_MPI_DIR}/np2.bin")
set_tests_properties(mpi.compare_np1_np2 PROPERTIES FIXTURES_REQUIRED "mpi_train_np1;mpi_train_np2" LABELS mpi)

add_test(NAME mpi.compare_detects_per_rank_mean
         COMMAND mpi_train --compare "${LN_MPI_DIR}/np1.bin" "${LN_MPI_DIR}/np2_per_rank_mean.bin" --expect-differ)
set_tests_properties(mpi.compare_detects_per_rank_mean PROPERTIES
                     FIXTURES_REQUIRED "mpi_train_np1;mpi_train_np2_per_rank_mean" LABELS mpi)
