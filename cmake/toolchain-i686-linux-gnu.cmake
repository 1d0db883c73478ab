# 32-bit x86: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-i686-linux-gnu.cmake
# Needs gcc-i686-linux-gnu, g++-i686-linux-gnu, libblis-dev:i386 and check:i386 (Debian's
# multiarch name of the target is i386-linux-gnu; the compiler's is i686-linux-gnu).
#
# Float arithmetic in SSE2 registers (-msse2 -mfpmath=sse), IEEE single and double as on every
# other target, instead of the x87 unit's 80-bit registers, whose excess precision makes
# results depend on when the compiler spills a value to memory.
set(LN_CROSS_TRIPLET i386-linux-gnu)
set(LN_CROSS_GNU i686-linux-gnu)
set(LN_CROSS_PROCESSOR i686)
set(CMAKE_C_FLAGS_INIT "-msse2 -mfpmath=sse")
set(CMAKE_CXX_FLAGS_INIT "-msse2 -mfpmath=sse")

# An x86-64 kernel runs 32-bit programs itself when it has the IA-32 emulation; some (virtual
# machines built without it) refuse them with "Exec format error", and then CTest runs them
# under qemu-i386. The i386 loader, itself a 32-bit program, tells which.
set(LN_CROSS_QEMU "")
if(EXISTS /lib/ld-linux.so.2)
  execute_process(COMMAND /lib/ld-linux.so.2 --help RESULT_VARIABLE ln_i386_runs OUTPUT_QUIET ERROR_QUIET)
  if(NOT ln_i386_runs EQUAL 0)
    set(LN_CROSS_QEMU qemu-i386)
  endif()
endif()
include("${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake")
