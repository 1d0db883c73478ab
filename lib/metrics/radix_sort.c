#include "radix_sort.h"

#include "common/alloc.h"

#define LN_DIGIT_BITS 11
#define LN_DIGIT_VALUES (1 << LN_DIGIT_BITS)
#define LN_DIGITS 6 /* 6 * 11 = 66 >= 64 bits */

static unsigned ln_digit(uint64_t key, int d) {
  return (unsigned)(key >> (d * LN_DIGIT_BITS)) & (LN_DIGIT_VALUES - 1);
}

/* ---- 32-bit path: scores that are all exactly floats (every f32 add) sort as float keys.
   One scatter on the top 12 bits (sign, exponent and the first 3 mantissa bits) splits them
   into buckets that usually fit in the L2 cache; each bucket is then sorted on its low 20
   bits (two 10-bit LSD passes, or insertion for a small bucket) where it lies. Scores spread
   over a few binades take one pass over memory instead of three. ---- */

#define LN_TOP_BITS 12
#define LN_LOW_BITS 10 /* two digits of the 20 bits below the top */
#define LN_LOW_VALUES (1 << LN_LOW_BITS)
#define LN_TOP_VALUES (1 << LN_TOP_BITS)
#define LN_SMALL_BUCKET 128 /* below it insertion costs less than clearing two histograms */

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

static void ln_insertion_sort32(uint32_t *a, int64_t n) {
  for (int64_t i = 1; i < n; ++i) {
    uint32_t v = a[i];
    int64_t j = i;
    for (; j > 0 && a[j - 1] > v; --j) a[j] = a[j - 1];
    a[j] = v;
  }
}

static unsigned ln_low_digit(uint32_t key, int d) { return (key >> (d * LN_LOW_BITS)) & (LN_LOW_VALUES - 1); }

/* Sorts a[0, n) on bits 0..19 (two LSD passes through `scratch`); the result is in a.
   count holds 2 * LN_LOW_VALUES entries. */
static void ln_sort_low20(uint32_t *a, uint32_t *scratch, int64_t n, int64_t *count) {
  int64_t *c0 = count, *c1 = count + LN_LOW_VALUES;
  memset(count, 0, 2 * LN_LOW_VALUES * sizeof *count);
  for (int64_t i = 0; i < n; ++i) {
    c0[ln_low_digit(a[i], 0)]++;
    c1[ln_low_digit(a[i], 1)]++;
  }
  int64_t o0 = 0, o1 = 0;
  for (int v = 0; v < LN_LOW_VALUES; ++v) {
    int64_t k0 = c0[v], k1 = c1[v];
    c0[v] = o0;
    c1[v] = o1;
    o0 += k0;
    o1 += k1;
  }
  for (int64_t i = 0; i < n; ++i) scratch[c0[ln_low_digit(a[i], 0)]++] = a[i];
  for (int64_t i = 0; i < n; ++i) a[c1[ln_low_digit(scratch[i], 1)]++] = scratch[i];
}

/* Returns 1 when some key is not the image of a float (nothing changed), 0 when sorted,
   -1 when out of memory. */
static int ln_radix_sort32(uint64_t *keys, int64_t n) {
  uint32_t *a = ln_malloc(2 * n, sizeof *a); /* the same 8 bytes per key as the 64-bit path */
  int64_t *count = ln_calloc(2 * LN_TOP_VALUES + 2 * LN_LOW_VALUES, sizeof *count);
  if (a == NULL || count == NULL) {
    ln_free(a);
    ln_free(count);
    return -1;
  }
  uint32_t *b = a + n;
  int64_t *next = count, *start = count + LN_TOP_VALUES, *low = count + 2 * LN_TOP_VALUES;
  int not_floats = 0;
  for (int64_t i = 0; i < n && !not_floats; ++i) {
    double d = ln_double_from_key(keys[i]);
    float f = (float)d;
    not_floats = (double)f != d;
    a[i] = ln_key32_from_float(f);
    next[a[i] >> (32 - LN_TOP_BITS)]++;
  }
  if (!not_floats) {
    int64_t offset = 0;
    for (int v = 0; v < LN_TOP_VALUES; ++v) {
      start[v] = offset;
      offset += next[v];
      next[v] = start[v];
    }
    for (int64_t i = 0; i < n; ++i) b[next[a[i] >> (32 - LN_TOP_BITS)]++] = a[i];
    /* After the scatter, next[v] is the end of bucket v. */
    for (int v = 0; v < LN_TOP_VALUES; ++v) {
      int64_t size = next[v] - start[v];
      if (size <= LN_SMALL_BUCKET) ln_insertion_sort32(b + start[v], size);
      else ln_sort_low20(b + start[v], a + start[v], size, low);
    }
    for (int64_t i = 0; i < n; ++i) keys[i] = ln_key_from_double((double)ln_float_from_key32(b[i]));
  }
  ln_free(a);
  ln_free(count);
  return not_floats;
}

int ln_radix_sort(uint64_t *keys, int64_t n) {
  if (n < 2) return 0;
  int st = ln_radix_sort32(keys, n);
  if (st != 1) return st;
  uint64_t *scratch = ln_malloc(n, sizeof *scratch);
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
