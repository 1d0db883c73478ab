/* The scans of the loss inputs with AVX2, before the kernels.
   Logits: a row's entries are folded branch-free and tested once per row; a matrix whose rows
   are contiguous (ld == cols)
   is scanned as one flat array in blocks, and only a block that holds a bad entry is
   rescanned row by row to find the first bad row.
   Labels: the range check and the count of kept rows (ln_labels_kept_avx2). */
#include "scan_avx2.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>

#include "common/simd_math_avx2.h"

#define LN_FLAT_BLOCK 1024 /* elements per block of the flat scan */


/* Whether any of the n entries at p (n > 0) is NaN or infinite, or, with masks set, NaN or
   +inf (-inf is a masked class, and sets *neginf). Tails use masked loads (zeros past the row).
   First the test for any entry that is not finite (ln_fold_*): x 0 is 0 for finite x and NaN
   for NaN and +-inf, so one FMA per vector folds the entries into accumulators that turn NaN at
   the first such entry and stay NaN. With masks, once *neginf is set, each entry is first
   raised to -T_MAX (max(-T_MAX, x), which returns x, its second operand, when x is NaN), so
   that -inf folds as a finite value and the entries of a matrix with masked rows are read
   once. Only when the fold turns NaN, with masks, are the entries told apart: bad when not less
   than +inf (_CMP_NLT_US: +inf or NaN; one of the eight original predicates, which valgrind
   emulates right, where it gets _CMP_EQ_UQ wrong on NaN), -inf when equal to it (min(a, b) may
   hide a -inf next to a NaN, which the scan reports anyway). */
#define LN_ANY_NONFINITE(T, SFX, V, VS, LANES, TAIL, T_MAX)                                        \
  static inline __attribute__((always_inline)) int ln_fold_##SFX(const T *p, int64_t n, int tolerant) { \
    const V zero = _mm256_setzero_##VS(), lo = _mm256_set1_##VS(-T_MAX);                          \
    V a0 = zero, a1 = zero, a2 = zero, a3 = zero;                                                  \
    int64_t c = 0;                                                                                 \
    for (; c + 4 * LANES <= n; c += 4 * LANES) {                                                   \
      V x0 = _mm256_loadu_##VS(p + c), x1 = _mm256_loadu_##VS(p + c + LANES);                      \
      V x2 = _mm256_loadu_##VS(p + c + 2 * LANES), x3 = _mm256_loadu_##VS(p + c + 3 * LANES);      \
      if (tolerant) {                                                                              \
        x0 = _mm256_max_##VS(lo, x0);                                                              \
        x1 = _mm256_max_##VS(lo, x1);                                                              \
        x2 = _mm256_max_##VS(lo, x2);                                                              \
        x3 = _mm256_max_##VS(lo, x3);                                                              \
      }                                                                                            \
      a0 = _mm256_fmadd_##VS(x0, zero, a0);                                                        \
      a1 = _mm256_fmadd_##VS(x1, zero, a1);                                                        \
      a2 = _mm256_fmadd_##VS(x2, zero, a2);                                                        \
      a3 = _mm256_fmadd_##VS(x3, zero, a3);                                                        \
    }                                                                                              \
    for (; c < n; c += LANES) {                                                                    \
      __m256i m = _mm256_loadu_si256((const __m256i *)(TAIL + LANES - (n - c < LANES ? n - c : LANES))); \
      V x = _mm256_maskload_##VS(p + c, m);                                                        \
      if (tolerant) x = _mm256_max_##VS(lo, x);                                                    \
      a0 = _mm256_fmadd_##VS(x, zero, a0);                                                         \
    }                                                                                              \
    a0 = _mm256_add_##VS(_mm256_add_##VS(a0, a1), _mm256_add_##VS(a2, a3));                       \
    return _mm256_movemask_##VS(_mm256_cmp_##VS(a0, a0, _CMP_UNORD_Q)) != 0;                      \
  }                                                                                                \
  static int ln_any_nonfinite_##SFX(const T *p, int64_t n, int masks, int *neginf) {               \
    const V zero = _mm256_setzero_##VS();                                                          \
    if (!(masks && *neginf ? ln_fold_##SFX(p, n, 1) : ln_fold_##SFX(p, n, 0))) return 0;           \
    if (!masks) return 1;                                                                          \
    int64_t c;                                                                                     \
    const V pinf = _mm256_set1_##VS((T)INFINITY), minf = _mm256_set1_##VS((T)-INFINITY);           \
    __m256i bad = _mm256_setzero_si256();                                                          \
    V ni = zero;                                                                                   \
    for (c = 0; c + 2 * LANES <= n; c += 2 * LANES) {                                              \
      V a = _mm256_loadu_##VS(p + c), b = _mm256_loadu_##VS(p + c + LANES);                        \
      bad = _mm256_or_si256(bad, _mm256_cast##VS##_si256(_mm256_cmp_##VS(a, pinf, _CMP_NLT_US)));  \
      bad = _mm256_or_si256(bad, _mm256_cast##VS##_si256(_mm256_cmp_##VS(b, pinf, _CMP_NLT_US)));  \
      ni = _mm256_or_##VS(ni, _mm256_cmp_##VS(_mm256_min_##VS(a, b), minf, _CMP_EQ_OQ));          \
    }                                                                                              \
    for (; c < n; c += LANES) {                                                                    \
      __m256i m = _mm256_loadu_si256((const __m256i *)(TAIL + LANES - (n - c < LANES ? n - c : LANES))); \
      V v = _mm256_maskload_##VS(p + c, m);                                                        \
      bad = _mm256_or_si256(bad, _mm256_cast##VS##_si256(_mm256_cmp_##VS(v, pinf, _CMP_NLT_US)));  \
      ni = _mm256_or_##VS(ni, _mm256_cmp_##VS(v, minf, _CMP_EQ_OQ));                              \
    }                                                                                              \
    if (!_mm256_testz_si256(_mm256_cast##VS##_si256(ni), _mm256_cast##VS##_si256(ni))) *neginf = 1; \
    return !_mm256_testz_si256(bad, bad);                                                          \
  }

LN_ANY_NONFINITE(float, f32, __m256, ps, 8, ln_tail32, FLT_MAX)
LN_ANY_NONFINITE(double, f64, __m256d, pd, 4, ln_tail64, DBL_MAX)

/* The scan of rows [0, rows), row by row (rows and cols > 0). */
#define LN_FIRST_BAD_ROW(T, SFX)                                                                    \
  static int64_t ln_first_bad_row_##SFX(const T *p, int64_t rows, int64_t cols, int64_t ld, int masks, \
                                        int *neginf) {                                              \
    for (int64_t i = 0; i < rows; ++i)                                                              \
      if (ln_any_nonfinite_##SFX(p + i * ld, cols, masks, neginf)) return i;                        \
    return -1;                                                                                      \
  }                                                                                                 \
  int64_t ln_first_nonfinite_row_##SFX##_avx2(const T *p, int64_t rows, int64_t cols, int64_t ld,   \
                                              int masks, int *neginf) {                             \
    if (rows <= 0 || cols <= 0) return -1;                                                          \
    if (ld != cols) return ln_first_bad_row_##SFX(p, rows, cols, ld, masks, neginf);                \
    const int64_t total = rows * cols;                                                              \
    for (int64_t b = 0; b < total; b += LN_FLAT_BLOCK) {                                            \
      int64_t n = total - b < LN_FLAT_BLOCK ? total - b : LN_FLAT_BLOCK;                            \
      if (!ln_any_nonfinite_##SFX(p + b, n, masks, neginf)) continue;                               \
      int64_t r0 = b / cols, r1 = (b + n + cols - 1) / cols; /* the rows this block touches */      \
      int64_t r = ln_first_bad_row_##SFX(p + r0 * cols, r1 - r0, cols, cols, masks, neginf);        \
      if (r >= 0) return r0 + r;                                                                    \
    }                                                                                               \
    return -1;                                                                                      \
  }

LN_FIRST_BAD_ROW(float, f32)
LN_FIRST_BAD_ROW(double, f64)

/* The same scan for bf16 and f16, on the 16-bit patterns in integer lanes, 16 per vector. A half
   with all-ones exponent field E (bf16 0x7f80, f16 0x7c00) is an infinity (mantissa 0) or a NaN;
   with a = bits & 0x7fff (a signed 16-bit compare is exact, a <= 0x7fff):
     not finite   a > E - 1;
     NaN or +inf  a > E, or bits == E (+inf);
     -inf         bits == 0x8000 | E.
   Tails of fewer than 16 entries take the same tests in
   scalar code, since AVX2 has no 16-bit masked load. */
static inline __attribute__((always_inline)) int ln_any_bad_half(const uint16_t *p, int64_t n, uint16_t e, int masks,
                                                                 int *neginf) {
  const __m256i absm = _mm256_set1_epi16(0x7fff), lim = _mm256_set1_epi16((short)(masks ? e : e - 1));
  const __m256i pinf = _mm256_set1_epi16((short)e), minf = _mm256_set1_epi16((short)(0x8000u | e));
  __m256i bad = _mm256_setzero_si256(), ni = _mm256_setzero_si256();
  int64_t c = 0;
  for (; c + 32 <= n; c += 32) {
    const __m256i x0 = _mm256_loadu_si256((const __m256i *)(p + c));
    const __m256i x1 = _mm256_loadu_si256((const __m256i *)(p + c + 16));
    bad = _mm256_or_si256(bad, _mm256_cmpgt_epi16(_mm256_and_si256(x0, absm), lim));
    bad = _mm256_or_si256(bad, _mm256_cmpgt_epi16(_mm256_and_si256(x1, absm), lim));
    if (masks) {
      bad = _mm256_or_si256(bad, _mm256_or_si256(_mm256_cmpeq_epi16(x0, pinf), _mm256_cmpeq_epi16(x1, pinf)));
      ni = _mm256_or_si256(ni, _mm256_or_si256(_mm256_cmpeq_epi16(x0, minf), _mm256_cmpeq_epi16(x1, minf)));
    }
  }
  for (; c + 16 <= n; c += 16) {
    const __m256i x = _mm256_loadu_si256((const __m256i *)(p + c));
    bad = _mm256_or_si256(bad, _mm256_cmpgt_epi16(_mm256_and_si256(x, absm), lim));
    if (masks) {
      bad = _mm256_or_si256(bad, _mm256_cmpeq_epi16(x, pinf));
      ni = _mm256_or_si256(ni, _mm256_cmpeq_epi16(x, minf));
    }
  }
  unsigned tail_bad = 0, tail_ni = 0;
  for (; c < n; ++c) {
    const unsigned h = p[c], a = h & 0x7fffu;
    tail_bad |= masks ? (a > e) | (h == e) : a >= e;
    tail_ni |= h == (0x8000u | e);
  }
  if (masks && (tail_ni || !_mm256_testz_si256(ni, ni))) *neginf = 1;
  return tail_bad || !_mm256_testz_si256(bad, bad);
}

static int ln_any_bad_half_masks(const uint16_t *p, int64_t n, uint16_t e, int *neginf) {
  return ln_any_bad_half(p, n, e, 1, neginf);
}

static int ln_any_bad_half_plain(const uint16_t *p, int64_t n, uint16_t e, int *neginf) {
  return ln_any_bad_half(p, n, e, 0, neginf);
}

int64_t ln_first_nonfinite_row_half_avx2(ln_half_kind kind, const uint16_t *p, int64_t rows, int64_t cols, int64_t ld,
                                         int masks, int *neginf) {
  if (rows <= 0 || cols <= 0) return -1;
  const uint16_t e = kind == LN_HALF_BF16 ? 0x7f80u : 0x7c00u;
  int (*any_bad)(const uint16_t *, int64_t, uint16_t, int *) = masks ? ln_any_bad_half_masks : ln_any_bad_half_plain;
  if (ld != cols) {
    for (int64_t i = 0; i < rows; ++i)
      if (any_bad(p + i * ld, cols, e, neginf)) return i;
    return -1;
  }
  /* contiguous rows: one flat array in blocks of 2 LN_FLAT_BLOCK halves (the float scan's bytes) */
  const int64_t total = rows * cols, block = 2 * LN_FLAT_BLOCK;
  for (int64_t b = 0; b < total; b += block) {
    const int64_t n = total - b < block ? total - b : block;
    if (!any_bad(p + b, n, e, neginf)) continue;
    for (int64_t i = b / cols; i < (b + n + cols - 1) / cols; ++i) /* the rows this block touches */
      if (any_bad(p + i * cols, cols, e, neginf)) return i;
  }
  return -1;
}

/* Labels, 8 at a time: kept = y != ignore; bad = kept and (y < 0 or y > C - 1), in signed
   compares; the ignored lanes are counted from the compare masks (-1 per hit, added up per
   block of 2^28 labels so that no lane can overflow). */
int64_t ln_labels_kept_avx2(const int32_t *y, int64_t n, int64_t C, int32_t ignore) {
  const __m256i ign = _mm256_set1_epi32(ignore), top = _mm256_set1_epi32((int32_t)(C - 1));
  const __m256i zero = _mm256_setzero_si256();
  __m256i bad = zero;
  int64_t ignored = 0, i = 0;
  while (i + 8 <= n) {
    const int64_t stop = n - i > ((int64_t)1 << 28) ? i + ((int64_t)1 << 28) : n;
    __m256i skipped = zero;
    for (; i + 8 <= stop; i += 8) {
      const __m256i v = _mm256_loadu_si256((const __m256i *)(y + i)), skip = _mm256_cmpeq_epi32(v, ign);
      const __m256i out = _mm256_or_si256(_mm256_cmpgt_epi32(zero, v), _mm256_cmpgt_epi32(v, top));
      bad = _mm256_or_si256(bad, _mm256_andnot_si256(skip, out));
      skipped = _mm256_add_epi32(skipped, skip);
    }
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, skipped);
    for (int j = 0; j < 8; ++j) ignored -= lanes[j];
  }
  int any_bad = !_mm256_testz_si256(bad, bad);
  for (; i < n; ++i) {
    const int skip = y[i] == ignore;
    ignored += skip;
    any_bad |= !skip && (y[i] < 0 || (int64_t)y[i] >= C);
  }
  return any_bad ? -1 : n - ignored;
}
