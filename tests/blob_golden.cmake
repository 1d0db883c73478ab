# Byte-order stability of the saved blobs (tests/blob_golden.c, which explains what is
# compared exactly and what to a tolerance).
#   blobs.golden_x86_64   checks the blobs committed in tests/data/blobs/, written on x86-64
#                         (little-endian); under emulation on a big-endian host (s390x) it is
#                         the cross-host check
#   blobs.golden_write    writes this host's blobs to the build tree (and checks that each
#                         reloads to the same bytes and values), blobs.golden_native checks
#                         that folder; copied to another host, it is checked there with
#                         `blob_golden check DIR`
# The committed folder is rewritten with `blob_golden write tests/data/blobs` (on x86-64), only
# when the blob format or the program's inputs change.
add_executable(blob_golden "${CMAKE_CURRENT_SOURCE_DIR}/blob_golden.c")
target_link_libraries(blob_golden PRIVATE logitnorm::logitnorm m logitnorm_warnings)

add_test(NAME blobs.golden_x86_64 COMMAND blob_golden check "${CMAKE_CURRENT_SOURCE_DIR}/data/blobs")
set_tests_properties(blobs.golden_x86_64 PROPERTIES LABELS "check;blobs")

set(LN_BLOB_GOLDEN_DIR "${CMAKE_CURRENT_BINARY_DIR}/blob_golden_native")
file(MAKE_DIRECTORY "${LN_BLOB_GOLDEN_DIR}")
add_test(NAME blobs.golden_write COMMAND blob_golden write "${LN_BLOB_GOLDEN_DIR}")
add_test(NAME blobs.golden_native COMMAND blob_golden check "${LN_BLOB_GOLDEN_DIR}")
set_tests_properties(blobs.golden_write PROPERTIES LABELS "check;blobs" FIXTURES_SETUP blob_golden_native)
set_tests_properties(blobs.golden_native PROPERTIES LABELS "check;blobs" FIXTURES_REQUIRED blob_golden_native)
