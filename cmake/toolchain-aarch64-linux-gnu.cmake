# 64-bit ARM, little-endian: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
# Needs gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu, libblis-dev:arm64, check:arm64 and
# qemu-user (CTest runs the test programs under qemu-aarch64).
set(LN_CROSS_TRIPLET aarch64-linux-gnu)
set(LN_CROSS_PROCESSOR aarch64)
set(LN_CROSS_QEMU qemu-aarch64)
include("${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake")
