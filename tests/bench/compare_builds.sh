#!/bin/sh
# Compares two variants of the library on the loss call, process by process: for each shape,
# kind and CHECK_FINITE setting, ROUNDS rounds each run loss_ab once against variant A and once
# against variant B (alternating, so both see the same machine load), each process taking its
# best of 60 calls; prints the median of the per-process bests and B / A.
# A variant is either a folder holding liblogitnorm.so.1 (two builds: loss_ab must be linked
# against the shared library, a default shared build) or dispatch=generic|avx2 (the two kernel
# paths of the build loss_ab loads), e.g.
#   tests/bench/compare_builds.sh build/tests/loss_ab ../old/build/lib build/lib
#   tests/bench/compare_builds.sh build/tests/loss_ab dispatch=avx2 dispatch=generic
set -eu
if [ $# -lt 3 ]; then
  echo "usage: $0 LOSS_AB A B [ROUNDS]   (A, B: a library folder or dispatch=generic|avx2)" >&2
  exit 2
fi
driver=$1 va=$2 vb=$3 rounds=${4:-8}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
run() { # variant, loss_ab arguments...
  v=$1
  shift
  case "$v" in
    dispatch=*) LOGITNORM_DISPATCH=${v#dispatch=} "$driver" "$@" ;;
    *) LD_LIBRARY_PATH=$v "$driver" "$@" ;;
  esac
}
printf '%-26s %5s %9s %9s %7s\n' "shape (kind)" check "A ms" "B ms" "B/A"
for check in 1 0; do
  for shape in "65536 10" "16384 100" "4096 1000" "512 32000" "256 50304"; do
    for kind in 1 0; do
      set -- $shape
      ta="" tb=""
      i=0
      while [ $i -lt "$rounds" ]; do
        ta="$ta $(run "$va" "$1" "$2" $kind $check 60)"
        tb="$tb $(run "$vb" "$1" "$2" $kind $check 60)"
        i=$((i + 1))
      done
      ma=$(printf '%s\n' $ta | median) mb=$(printf '%s\n' $tb | median)
      name=$([ $kind = 1 ] && echo LogitNorm || echo CE)
      printf '%-26s %5s %9.4f %9.4f %7.3f\n' "$1 x $2 ($name)" $check "$ma" "$mb" \
        "$(echo "$ma $mb" | awk '{print $2 / $1}')"
    done
  done
done
