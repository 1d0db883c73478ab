#!/usr/bin/env bash
# liblogitnorm test driver: installs what it needs (Debian/Ubuntu, as root), builds, and
# runs the CTest suites. Exits non-zero on any failure.
#
#   tests/run.sh            release build + full CTest suite, then the static-library consumers
#   tests/run.sh release    only the release build and suite
#   tests/run.sh static     only the static build and its consumer test
#
# Environment: BUILD_ROOT (default: build/ci under the source tree), JOBS (default: nproc).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_root=${BUILD_ROOT:-$here/build/ci}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
mode=${1:-all}

# ---- dependencies ----
required=(cmake make gcc g++ pkgconf libblis-dev check abigail-tools)
optional=(zlib1g-dev libfann-dev)
mpi=(libopenmpi-dev openmpi-bin) # the mpi.* tests of examples/mpi_train.c
sklearn=(python3-sklearn)         # metrics.sklearn_crosscheck: exactness against scikit-learn
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
  if [ -z "${apt_updated:-}" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
if command -v dpkg-query >/dev/null; then
  install_missing "${required[@]}"
  install_missing "${optional[@]}" || echo "run.sh: optional packages unavailable; their tests are skipped"
  install_missing "${mpi[@]}" || echo "run.sh: OpenMPI unavailable; the mpi.* tests are skipped"
  install_missing "${sklearn[@]}" || echo "run.sh: scikit-learn unavailable; the cross-check is skipped"
fi

configure_build() { # dir, cmake args...
  local dir=$1
  shift
  cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  cmake --build "$dir" -j "$jobs"
}

run_release() {
  configure_build "$build_root/release" -DBUILD_SHARED_LIBS=ON
  ctest --test-dir "$build_root/release" --output-on-failure -j "$jobs"
}

run_static() {
  configure_build "$build_root/static" -DBUILD_SHARED_LIBS=OFF -DLOGITNORM_BUILD_EXAMPLES=OFF
  ctest --test-dir "$build_root/static" --output-on-failure -R '^consumers\.'
}

case "$mode" in
  all) run_release; run_static ;;
  release) run_release ;;
  static) run_static ;;
  *) echo "usage: tests/run.sh [all|release|static]" >&2; exit 2 ;;
esac
echo "run.sh: $mode: all tests passed"
