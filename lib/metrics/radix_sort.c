#include "radix_sort.h"

#include "common/alloc.h"

#define LN_DIGIT_BITS 11
#define LN_DIGIT_VALUES (1 << LN_DIGIT_BITS)
#define LN_DIGITS 6 /* 6 * 11 = 66 >= 64 bits */

static unsigned ln_digit(uint64_t key, int d) {
  return (unsigned)(key >> (d * LN_DIGIT_BITS)) & (LN_DIGIT_VALUES - 1);
}

/* ---- 32-bit path: scores that are all exactly floats (every f32 add) sort as float keys,
   3 passes over 4-byte elements instead of up to 6 over 8-byte ones. ---- */

static uint32_t ln_key32_from_float(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return (u >> 31) ? ~u : u | 0x80000000u;
}

static float ln_float_from_key32(uint32_t k) {
  uint32_t u = (k >> 31) ? k & 0x7FFFFFFFu : ~k;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static int ln_all_floats(const uint64_t *keys, int64_t n) {
  int ok = 1;
  for (int64_t i = 0; i < n; ++i) {
    double d = ln_double_from_key(keys[i]);
    ok &= (double)(float)d == d;
  }
  return ok;
}

#define LN_DIGITS32 3 /* 11 + 11 + 10 bits */

static int ln_radix_sort32(uint64_t *keys, int64_t n) {
  uint32_t *a = ln_calloc(2 * n, sizeof *a); /* the same 8 bytes per key as the 64-bit path */
  int64_t *count = ln_calloc((int64_t)LN_DIGITS32 * LN_DIGIT_VALUES, sizeof *count);
  if (a == NULL || count == NULL) {
    ln_free(a);
    ln_free(count);
    return -1;
  }
  uint32_t *src = a, *dst = a + n;
  for (int64_t i = 0; i < n; ++i) {
    src[i] = ln_key32_from_float((float)ln_double_from_key(keys[i]));
    for (int d = 0; d < LN_DIGITS32; ++d) count[d * LN_DIGIT_VALUES + ln_digit(src[i], d)]++;
  }
  for (int d = 0; d < LN_DIGITS32; ++d) {
    int64_t *c = count + d * LN_DIGIT_VALUES;
    if (c[ln_digit(src[0], d)] == n) continue;
    int64_t offset = 0;
    for (int v = 0; v < LN_DIGIT_VALUES; ++v) {
      int64_t k = c[v];
      c[v] = offset;
      offset += k;
    }
    for (int64_t i = 0; i < n; ++i) dst[c[ln_digit(src[i], d)]++] = src[i];
    uint32_t *t = src;
    src = dst;
    dst = t;
  }
  for (int64_t i = 0; i < n; ++i) keys[i] = ln_key_from_double((double)ln_float_from_key32(src[i]));
  ln_free(a);
  ln_free(count);
  return 0;
}

int ln_radix_sort(uint64_t *keys, int64_t n) {
  if (n < 2) return 0;
  if (ln_all_floats(keys, n)) return ln_radix_sort32(keys, n);
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
