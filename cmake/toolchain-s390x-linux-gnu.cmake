# IBM Z, 64-bit big-endian: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-s390x-linux-gnu.cmake
# Needs gcc-s390x-linux-gnu, g++-s390x-linux-gnu, libblis-dev:s390x, check:s390x and
# qemu-user (CTest runs the test programs under qemu-s390x).
set(LN_CROSS_TRIPLET s390x-linux-gnu)
set(LN_CROSS_PROCESSOR s390x)
set(LN_CROSS_QEMU qemu-s390x)
include("${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake")
