# Shared part of the cross toolchain files (cmake/toolchain-<triplet>.cmake) for a Debian host
# with multiarch packages of the target: <gnu>-gcc and -g++ (packages gcc-<gnu>, g++-<gnu>),
# libblis-dev:<arch> and check:<arch>, and qemu-user to run the test programs.
# The including file sets LN_CROSS_TRIPLET (Debian's multiarch name, e.g. i386-linux-gnu),
# LN_CROSS_GNU (the compilers' prefix, e.g. i686-linux-gnu; default LN_CROSS_TRIPLET),
# LN_CROSS_PROCESSOR and LN_CROSS_QEMU (the qemu-user program; empty when the host runs the
# target's programs itself).
if(NOT LN_CROSS_GNU)
  set(LN_CROSS_GNU ${LN_CROSS_TRIPLET})
endif()
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${LN_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${LN_CROSS_GNU}-gcc)
set(CMAKE_CXX_COMPILER ${LN_CROSS_GNU}-g++)

# The target's libraries and headers are Debian's multiarch folders /usr/lib/<triplet> and
# /usr/include/<triplet> (BLIS's blis.h is there), which find_library and find_path search
# for this library architecture. The host's own /usr/lib/<host triplet> is never searched. The
# cross compiler's own C library (/usr/<gnu>) is a second root; programs are the host's.
set(CMAKE_LIBRARY_ARCHITECTURE ${LN_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH "/" "/usr/${LN_CROSS_GNU}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (Check in tests/CMakeLists.txt) reads the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${LN_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# CTest runs the test programs under qemu-user. Its root is the host's "/": the target's C
# library that BLIS and Check were built against is the multiarch libc6:<arch>, under
# /lib/<triplet>, with its loader at the path the programs name. The cross compiler's copy
# under /usr/<gnu> is the root only when that one is missing: mixing the two (the copy's
# loader with the multiarch libc, which "-L /usr/<gnu>" gives once libc6:<arch> is installed
# and the versions differ) aborts before main.
if(LN_CROSS_QEMU)
  find_program(LN_CROSS_QEMU_PROGRAM ${LN_CROSS_QEMU} NO_CMAKE_FIND_ROOT_PATH)
  if(NOT LN_CROSS_QEMU_PROGRAM)
    message(FATAL_ERROR "${LN_CROSS_QEMU} not found (install qemu-user): the test programs cannot run")
  endif()
  set(LN_CROSS_ROOT "/")
  if(NOT EXISTS "/lib/${LN_CROSS_TRIPLET}/libc.so.6")
    set(LN_CROSS_ROOT "/usr/${LN_CROSS_GNU}")
  endif()
  set(CMAKE_CROSSCOMPILING_EMULATOR "${LN_CROSS_QEMU_PROGRAM};-L;${LN_CROSS_ROOT}")
endif()
# For scripts that run a test program themselves (tests/run.sh asks which BLIS it loads).
set(LN_CROSS_EMULATOR "${CMAKE_CROSSCOMPILING_EMULATOR}" CACHE INTERNAL "Emulator of the target's programs")
