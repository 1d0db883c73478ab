#!/bin/sh
# Compares two builds of the library on the loss call, process by process: for each shape and
# CHECK_FINITE setting, ROUNDS rounds each run loss_ab once against build A and once against
# build B (alternating, so both see the same machine load), each process taking its best of 60
# calls; prints the median of the per-process bests and B / A. Made for "rows without -inf:
# 1.1 against 1.0" (docs/performance.md): build 1.0 from its commit into another folder, then
#   tests/bench/compare_builds.sh build/tests/loss_ab ../old/build/lib build/lib
# LIBDIR_A and LIBDIR_B hold liblogitnorm.so.1; loss_ab must be linked against the shared
# library (a default, shared build).
set -eu
if [ $# -lt 3 ]; then
  echo "usage: $0 LOSS_AB LIBDIR_A LIBDIR_B [ROUNDS]" >&2
  exit 2
fi
driver=$1 liba=$2 libb=$3 rounds=${4:-8}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf '%-24s %5s %9s %9s %7s\n' "shape (kind)" check "A ms" "B ms" "B/A"
for check in 1 0; do
  for shape in "65536 10 1" "65536 10 0" "16384 100 1" "16384 100 0" "4096 1000 1" "1024 4000 0"; do
    set -- $shape
    ta="" tb=""
    i=0
    while [ $i -lt "$rounds" ]; do
      ta="$ta $(LD_LIBRARY_PATH=$liba "$driver" "$1" "$2" "$3" $check 60)"
      tb="$tb $(LD_LIBRARY_PATH=$libb "$driver" "$1" "$2" "$3" $check 60)"
      i=$((i + 1))
    done
    ma=$(printf '%s\n' $ta | median) mb=$(printf '%s\n' $tb | median)
    kind=$([ "$3" = 1 ] && echo LogitNorm || echo CE)
    printf '%-24s %5s %9.4f %9.4f %7.3f\n' "$1 x $2 ($kind)" $check "$ma" "$mb" "$(echo "$ma $mb" | awk '{print $2 / $1}')"
  done
done
