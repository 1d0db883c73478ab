#include "radix_sort.h"

#include "common/alloc.h"

#define LN_DIGIT_BITS 11
#define LN_DIGIT_VALUES (1 << LN_DIGIT_BITS)
#define LN_DIGITS 6 /* 6 * 11 = 66 >= 64 bits */

static unsigned ln_digit(uint64_t key, int d) {
  return (unsigned)(key >> (d * LN_DIGIT_BITS)) & (LN_DIGIT_VALUES - 1);
}

int ln_radix_sort(uint64_t *keys, int64_t n) {
  if (n < 2) return 0;
  uint64_t *scratch = ln_calloc(n, sizeof *scratch);
  int64_t *count = ln_calloc((int64_t)LN_DIGITS * LN_DIGIT_VALUES, sizeof *count);
  if (scratch == NULL || count == NULL) {
    ln_free(scratch);
    ln_free(count);
    return -1;
  }
  /* One read of the data histograms every digit at once. */
  for (int64_t i = 0; i < n; ++i)
    for (int d = 0; d < LN_DIGITS; ++d) count[d * LN_DIGIT_VALUES + ln_digit(keys[i], d)]++;

  uint64_t *src = keys, *dst = scratch;
  for (int d = 0; d < LN_DIGITS; ++d) {
    int64_t *c = count + d * LN_DIGIT_VALUES;
    /* A digit shared by every key leaves the order as it is. */
    if (c[ln_digit(src[0], d)] == n) continue;
    int64_t offset = 0;
    for (int v = 0; v < LN_DIGIT_VALUES; ++v) {
      int64_t k = c[v];
      c[v] = offset;
      offset += k;
    }
    for (int64_t i = 0; i < n; ++i) dst[c[ln_digit(src[i], d)]++] = src[i];
    uint64_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != keys) memcpy(keys, src, (size_t)n * sizeof *keys);
  ln_free(scratch);
  ln_free(count);
  return 0;
}
