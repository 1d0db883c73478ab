/* Sorting of scores through their order-preserving 64-bit image. */
#ifndef LN_METRICS_RADIX_SORT_H
#define LN_METRICS_RADIX_SORT_H

#include <stdint.h>
#include <string.h>

/* The key of a finite double: unsigned order of keys equals numeric order of the values.
   Positives get the sign bit set, negatives are complemented. -0.0 is mapped to +0.0 first,
   so that equal scores always share one key. */
static inline uint64_t ln_key_from_double(double v) {
  if (v == 0.0) v = 0.0;
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return (u >> 63) ? ~u : u | UINT64_C(0x8000000000000000);
}

static inline double ln_double_from_key(uint64_t k) {
  uint64_t u = (k >> 63) ? k & ~UINT64_C(0x8000000000000000) : ~k;
  double v;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* Sorts n keys ascending (LSD radix, 11-bit digits; digits that are the same for every key
   are skipped). When every key is the image of a value that is exactly a float, the sort
   runs on 32-bit float keys (3 passes over half the bytes). Returns 0, or -1 when its scratch buffer cannot be allocated (keys intact). */
int ln_radix_sort(uint64_t *keys, int64_t n);

#endif
