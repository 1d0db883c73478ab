#!/usr/bin/env bash
# liblogitnorm test driver: installs what it needs (Debian/Ubuntu, as root), builds, and
# runs the CTest suites. Exits non-zero on any failure.
#
#   tests/run.sh            release build + full CTest suite, then the static-library consumers
#   tests/run.sh release    only the release build and suite
#   tests/run.sh static     only the static build and its consumer test
#   tests/run.sh asan       ASan+UBSan build + full CTest suite
#   tests/run.sh memcheck   valgrind (ctest -T memcheck) on the Check suites, generic path
#   tests/run.sh tsan       ThreadSanitizer build + the concurrency suite (against BLIS's serial
#                           build unless LD_LIBRARY_PATH chooses one: see run_tsan)
#   tests/run.sh fuzz       clang libFuzzer build; each target runs FUZZ_SECONDS (default 30)
#   tests/run.sh nosimd     x86-64 build without the AVX2 kernels (LOGITNORM_SIMD=OFF, the generic
#                           path every other CPU runs) + full CTest suite
#   tests/run.sh clang      clang build (warnings are errors) + full CTest suite
#   tests/run.sh cross      cross builds for i386, aarch64 and s390x (big-endian), one after
#                           another (cmake/toolchain-*.cmake); CTest runs their tests under
#                           qemu-user (i386 natively where the kernel runs 32-bit programs).
#                           Installs the cross compilers, qemu-user and the targets' BLIS and
#                           Check (dpkg --add-architecture) itself
#   (all = release, static, asan, memcheck, tsan, fuzz when clang is present, nosimd, clang
#   and cross)
#
# Environment: BUILD_ROOT (default: build/ci under the source tree), JOBS (default: nproc),
# FUZZ_SECONDS (default 30). Debian installs three builds of BLIS side by side (OpenMP,
# pthread, serial) and the alternatives system picks libblis.so.4 (OpenMP by default); a run
# can use another without touching the system with
# LD_LIBRARY_PATH=/usr/lib/<multiarch>/blis-<variant>. Every mode prints the variant its test
# programs load.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_root=${BUILD_ROOT:-$here/build/ci}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
mode=${1:-all}

# ---- dependencies ----
# libblis4-serial: the BLIS the tsan mode runs against (see run_tsan).
required=(cmake make gcc g++ pkgconf libblis-dev libblis4-serial check abigail-tools valgrind)
fuzzing=(clang libclang-rt-14-dev) # libFuzzer and the clang sanitizer runtimes
optional=(zlib1g-dev libfann-dev)
mpi=(libopenmpi-dev openmpi-bin) # the mpi.* tests of examples/mpi_train.c
sklearn=(python3-sklearn)         # metrics.sklearn_crosscheck: exactness against scikit-learn
torch=(python3-torch libtorch-dev) # the torch.* and libtorch.* tests (release mode only)

# apt-get update, tried up to three times. It exits non-zero when any one index failed (a
# mirror caught mid-sync), though the others were fetched and an install can go on: after the
# last try the run goes on with what it has, and a package that really cannot be had fails its
# install below.
apt_update() {
  local try
  for try in 1 2 3; do
    if apt-get update -qq; then
      apt_updated=1
      return 0
    fi
    echo "run.sh: apt-get update failed (try $try of 3)" >&2
    [ "$try" -lt 3 ] && sleep $((10 * try))
  done
  echo "run.sh: apt-get update still failing; installing from the indexes it fetched" >&2
  apt_updated=1
}

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "run.sh: missing packages: ${missing[*]} (not root or no apt-get: install them yourself)" >&2
    return 1
  fi
  echo "run.sh: installing ${missing[*]}"
  [ -n "${apt_updated:-}" ] || apt_update
  local quiet=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends)
  # A failed download (an index older than the mirror's files) is retried once on fresh indexes.
  "${quiet[@]}" "${missing[@]}" >/dev/null && return 0
  echo "run.sh: install failed; updating the package indexes and trying once more" >&2
  apt_update
  "${quiet[@]}" "${missing[@]}" >/dev/null
}
if command -v dpkg-query >/dev/null; then
  install_missing "${required[@]}"
  install_missing "${optional[@]}" || echo "run.sh: optional packages unavailable; their tests are skipped"
  install_missing "${mpi[@]}" || echo "run.sh: OpenMPI unavailable; the mpi.* tests are skipped"
  install_missing "${sklearn[@]}" || echo "run.sh: scikit-learn unavailable; the cross-check is skipped"
  install_missing "${torch[@]}" || echo "run.sh: PyTorch/libtorch unavailable; the torch tests are skipped"
  install_missing "${fuzzing[@]}" || echo "run.sh: clang/libFuzzer unavailable; fuzzing is skipped"
fi

# Every configure: warnings are errors (LOGITNORM_WERROR) in CI.
configure() { # dir, cmake args...
  local dir=$1
  shift
  cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOGITNORM_WERROR=ON "$@"
}

configure_build() { # dir, cmake args...
  configure "$@"
  cmake --build "$1" -j "$jobs"
}

# The BLIS variant a program loads (openmp, pthread, serial, or the file's path when it is
# none of Debian's variant folders): libblis.so.4 as ldd resolves it under the current
# LD_LIBRARY_PATH, through the alternatives symlink. A program of another target is asked
# through its emulator (qemu-user with the target's loader in trace mode, what ldd does).
blis_variant() { # program [emulator and its arguments]
  local prog=$1 lib
  shift
  if [ $# -gt 0 ]; then
    lib=$("$@" -E LD_TRACE_LOADED_OBJECTS=1 "$prog" 2>/dev/null | awk '$1 == "libblis.so.4" { print $3 }')
  else
    lib=$(ldd "$prog" 2>/dev/null | awk '$1 == "libblis.so.4" { print $3 }')
  fi
  [ -n "$lib" ] || { echo "none (not linked)"; return; }
  lib=$(readlink -f "$lib")
  case "$lib" in
    */blis-openmp/*) echo openmp ;;
    */blis-pthread/*) echo pthread ;;
    */blis-serial/*) echo serial ;;
    *) echo "$lib" ;;
  esac
}

report_blis() { # mode, program
  echo "run.sh: $1: BLIS variant $(blis_variant "$2") (libblis.so.4 loaded by $(basename "$2"))"
}

# Tests that need PyTorch or libtorch (named torch.* or libtorch.*) run in the release mode
# only: a sanitized or valgrind-run library cannot be loaded into python, and libtorch brings
# its own thread pools.
no_torch='^(lib)?torch\.'

run_release() {
  configure_build "$build_root/release" -DBUILD_SHARED_LIBS=ON
  report_blis release "$build_root/release/tests/test_concurrency"
  ctest --test-dir "$build_root/release" --output-on-failure -j "$jobs"
}

run_static() {
  configure_build "$build_root/static" -DBUILD_SHARED_LIBS=OFF -DLOGITNORM_BUILD_EXAMPLES=OFF
  report_blis static "$build_root/static/tests/test_concurrency"
  ctest --test-dir "$build_root/static" --output-on-failure -R '^consumers\.'
}

# ASan+UBSan over the whole suite. The install-and-consume test and the scikit-learn
# cross-check are left out: their host programs (consumers built without the sanitizer,
# python) cannot load a sanitized shared library; so are the torch tests. The mpi.*
# tests run without leak detection: OpenMPI keeps its own allocations (some in unloaded
# plugins) until exit.
run_asan() {
  configure_build "$build_root/asan" -DLOGITNORM_SANITIZE=address,undefined
  report_blis asan "$build_root/asan/tests/test_concurrency"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$build_root/asan" --output-on-failure -j "$jobs" \
    -E "^(consumers|mpi)\\.|^metrics\\.sklearn_crosscheck\$|$no_torch"
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$build_root/asan" --output-on-failure -j "$jobs" -R '^mpi\.' --no-tests=ignore
}

# valgrind on the Check suites (the generic path of the loss suites), in the release tree (built by run_release
# when it ran, here otherwise). valgrind's --error-exitcode makes any defect fail its test.
# LN_TEST_QUICK thins the long numeric sweeps (exp/log accuracy, generic-vs-AVX2 agreement),
# which run in full in the other modes.
run_memcheck() {
  [ -f "$build_root/release/CMakeCache.txt" ] || configure_build "$build_root/release" -DBUILD_SHARED_LIBS=ON
  report_blis memcheck "$build_root/release/tests/test_concurrency"
  LN_TEST_QUICK=1 CK_FORK=no ctest --test-dir "$build_root/release" -T memcheck -L '^check$' \
    -E "\\.avx2\$|$no_torch" -j "$jobs" --output-on-failure
}

# ThreadSanitizer sees only what is instrumented or intercepted, and BLIS is neither. Its
# threaded builds hand work between their threads at barriers TSan cannot see (libgomp's in
# the OpenMP build, the system default; spin barriers on atomics in the pthread build), so TSan
# reports BLIS's own copies as races: in the OpenMP build a memcpy of the GEMM result by a
# worker against the caller reading it, in the pthread build two workers writing one block of
# BLIS's packing pool. The mode therefore runs against BLIS's serial build (through
# LD_LIBRARY_PATH, never by changing the system's alternatives) with no suppression: every
# thread in the process is then a caller's or the library's own (the loss and scorer row
# workers), and TSan checks all of them, and the callers' concurrent use of BLIS, in full.
# A caller who chooses a variant through LD_LIBRARY_PATH (a blis-<variant> folder) keeps it;
# for a threaded one, tests/tsan_blis.supp hides the libc calls made inside libblis.so.4 (and
# nothing of the library's own code).
run_tsan() {
  configure "$build_root/tsan" -DLOGITNORM_SANITIZE=thread -DLOGITNORM_BUILD_EXAMPLES=OFF
  cmake --build "$build_root/tsan" -j "$jobs" --target test_concurrency
  local prog=$build_root/tsan/tests/test_concurrency ldpath=${LD_LIBRARY_PATH:-} options variant
  if [[ ":$ldpath:" != *"/blis-"* ]]; then
    local multiarch serial_dir
    multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
    serial_dir=/usr/lib/$multiarch/blis-serial
    if [ ! -e "$serial_dir/libblis.so.4" ]; then
      echo "run.sh: tsan: $serial_dir/libblis.so.4 missing (install libblis4-serial)" >&2
      return 1
    fi
    ldpath=$serial_dir${ldpath:+:$ldpath}
  fi
  variant=$(LD_LIBRARY_PATH=$ldpath blis_variant "$prog")
  options="halt_on_error=1 second_deadlock_stack=1"
  if [ "$variant" != serial ]; then
    options="$options suppressions=$here/tests/tsan_blis.supp"
    echo "run.sh: tsan: BLIS variant $variant (chosen by LD_LIBRARY_PATH), with tests/tsan_blis.supp"
  else
    echo "run.sh: tsan: BLIS variant $variant, no suppressions"
  fi
  LD_LIBRARY_PATH=$ldpath TSAN_OPTIONS="$options" CK_FORK=no \
    ctest --test-dir "$build_root/tsan" --output-on-failure -R '^concurrency\.' -E "$no_torch"
}

# libFuzzer with ASan+UBSan in a clang tree of its own, where only the fuzz targets are built.
run_fuzz() {
  if ! command -v clang >/dev/null; then
    echo "run.sh: clang not found; fuzzing skipped"
    return 0
  fi
  local dir=$build_root/fuzz targets=(fuzz_loss_api fuzz_metrics_load fuzz_calibration_load fuzz_scorer_load fuzz_eval_readers)
  CC=clang CXX=clang++ configure "$dir" \
    -DLOGITNORM_SANITIZE=address,undefined -DLOGITNORM_FUZZ_COVERAGE=ON -DLOGITNORM_BUILD_EXAMPLES=OFF \
    -DLOGITNORM_FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
  cmake --build "$dir" -j "$jobs" --target "${targets[@]}" "${targets[@]/#/replay_}"
  report_blis fuzz "$dir/tests/fuzz_scorer_load"
  if ! ctest --test-dir "$dir" -L '^fuzz(_replay)?$' -j "$jobs" -V >"$dir/fuzz.log" 2>&1; then
    grep -E "ERROR|runtime error|property failed|Test unit written|Failed" "$dir/fuzz.log" >&2 || true
    echo "run.sh: fuzzing failed (log: $dir/fuzz.log)" >&2
    return 1
  fi
  grep -E "Test +#[0-9]+: fuzz\.|stat::number_of_executed_units" "$dir/fuzz.log" | sed "s/^/run.sh: fuzz: /"
}

# The generic path alone on x86-64: the build that leaves the AVX2 kernels out (the other CPUs'
# path, which the release mode's *.generic entries run only through the runtime dispatch).
# Every test of that tree; the examples are left out (the release mode runs them).
run_nosimd() {
  configure_build "$build_root/nosimd" -DLOGITNORM_SIMD=OFF -DLOGITNORM_BUILD_EXAMPLES=OFF
  report_blis nosimd "$build_root/nosimd/tests/test_concurrency"
  ctest --test-dir "$build_root/nosimd" --output-on-failure -j "$jobs"
}

# The whole tree built by clang (warnings are errors), examples and LibTorch ones included,
# and every test of it.
run_clang() {
  if ! command -v clang >/dev/null; then
    echo "run.sh: clang not found; the clang build is skipped"
    return 0
  fi
  CC=clang CXX=clang++ configure_build "$build_root/clang"
  echo "run.sh: clang: $(clang --version | head -n 1)"
  report_blis clang "$build_root/clang/tests/test_concurrency"
  ctest --test-dir "$build_root/clang" --output-on-failure -j "$jobs"
}

# ---- cross builds ----
# Targets: the compilers' triplet and Debian's architecture. Each builds with
# cmake/toolchain-<triplet>.cmake, without examples or benchmarks, and CTest runs everything
# its tree holds under qemu-user (the toolchain file sets the emulator): the Check suites on the
# generic path (and on i386, whose build has the AVX2 kernels, the avx2 path too), the header,
# export and fuzz-replay tests; those that need the host (python, consumers, the x86-64 ABI
# baseline) report themselves skipped.
cross_targets=(i686-linux-gnu:i386 aarch64-linux-gnu:arm64 s390x-linux-gnu:s390x)
# Suites that run with LN_TEST_QUICK=1 under emulation (thinned sweeps, fewer sizes; each runs
# in full natively in the other modes): the slowest under qemu, from 20 s to minutes each in full there.
cross_quick="internal_loss_dispatch;internal_simd_math;loss_extremes;loss_half;loss_linear;loss_lower_bound;loss_masks;loss_nan;score_half"

install_cross() {
  local arch archs=() pkgs=(qemu-user) t
  for t in "${cross_targets[@]}"; do
    archs+=("${t#*:}")
    pkgs+=("gcc-${t%%:*}" "g++-${t%%:*}" "libblis-dev:${t#*:}" "check:${t#*:}" "libstdc++6:${t#*:}")
  done
  for arch in "${archs[@]}"; do
    dpkg --print-foreign-architectures | grep -qx "$arch" && continue
    if [ "$(id -u)" -ne 0 ]; then
      echo "run.sh: cross: architecture $arch not enabled (as root: dpkg --add-architecture $arch)" >&2
      return 1
    fi
    dpkg --add-architecture "$arch"
    apt_updated= # the new architecture's indexes are still to fetch
  done
  install_missing "${pkgs[@]}"
}

# One target: build, report, test. Prints the compiler, the BLIS variant its test programs
# load, and the test counts; returns non-zero on a failure (the next target still runs).
run_cross_target() { # triplet:arch
  local triplet=${1%%:*} arch=${1#*:} dir emulator log total failed skipped
  dir=$build_root/cross-$arch
  log=$build_root/cross-$arch.ctest.log
  mkdir -p "$build_root"
  echo "run.sh: cross: $arch: $("$triplet-gcc" --version | head -n 1)"
  configure "$dir" -DCMAKE_TOOLCHAIN_FILE="$here/cmake/toolchain-$triplet.cmake" -DLOGITNORM_BUILD_EXAMPLES=OFF \
    "-DLOGITNORM_TEST_QUICK_SUITES=$cross_quick" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log" >&2; return 1; }
  cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1 || { tail -n 50 "$dir.build.log" >&2; return 1; }
  emulator=$(sed -n 's/^LN_CROSS_EMULATOR:INTERNAL=//p' "$dir/CMakeCache.txt" | tr ';' ' ')
  # shellcheck disable=SC2086 # the emulator is a command and its arguments
  echo "run.sh: cross: $arch: runs on ${emulator:-the host}; BLIS variant" \
    "$(blis_variant "$dir/tests/test_concurrency" $emulator) (libblis.so.4 loaded by test_concurrency)"
  local rc=0
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" >"$log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    sed -n '/tests passed, /,$p' "$log" # the summary: counts, labels, the tests skipped
  else
    cat "$log" >&2
  fi
  total=$(sed -nE 's/.*tests passed, [0-9]+ tests failed out of ([0-9]+)$/\1/p' "$log")
  failed=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of [0-9]+$/\1/p' "$log")
  skipped=$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' "$log" || true)
  cross_summary+=("$arch: ${total:-?} tests, $((${total:-0} - ${failed:-0} - skipped)) passed, ${failed:-?} failed, $skipped skipped")
  return $rc
}

run_cross() {
  install_cross
  local t status=0
  cross_summary=()
  for t in "${cross_targets[@]}"; do
    run_cross_target "$t" || status=1
  done
  printf 'run.sh: cross: %s\n' "${cross_summary[@]}"
  return $status
}

# Each mode's wall time, for the CI's time budget.
timed() { # mode function
  local start=$SECONDS
  "$1"
  echo "run.sh: ${1#run_}: $((SECONDS - start)) s"
}

case "$mode" in
  all)
    for m in release static asan memcheck tsan fuzz nosimd clang cross; do timed "run_$m"; done ;;
  release | static | asan | memcheck | tsan | fuzz | nosimd | clang | cross) timed "run_$mode" ;;
  *) echo "usage: tests/run.sh [all|release|static|asan|memcheck|tsan|fuzz|nosimd|clang|cross]" >&2; exit 2 ;;
esac
echo "run.sh: $mode: all tests passed"
