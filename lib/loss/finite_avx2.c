/* The finite scan of a matrix with AVX2: an entry is NaN or infinite exactly when its
   exponent bits are all ones. Rows are OR-ed branch-free and tested once per row; a matrix
   whose rows are contiguous (ld == cols) is scanned as one flat array in blocks, and only a
   block that holds a bad entry is rescanned row by row to find the first bad row. */
#include "finite_avx2.h"

#include <immintrin.h>

#include "common/simd_math_avx2.h"

#define LN_FLAT_BLOCK 1024 /* elements per block of the flat scan */


/* Whether any of the n entries at p has all exponent bits set (n > 0), -inf excepted when
   masks is set: a vector's lanes are bad when (x & exp) == exp and, with masks, x != -inf. */
#define LN_ANY_NONFINITE(T, SFX, CMPEQ, SET1, EXPBITS, NEGINF, LANES, TAIL, MLOAD, CAST)           \
  static int ln_any_nonfinite_##SFX(const T *p, int64_t n, int masks) {                            \
    const __m256i e = SET1(EXPBITS), ninf = masks ? SET1(NEGINF) : _mm256_setzero_si256();        \
    __m256i bad0 = _mm256_setzero_si256(), bad1 = bad0;                                            \
    int64_t c = 0;                                                                                 \
    for (; c + 2 * LANES <= n; c += 2 * LANES) {                                                   \
      __m256i a = _mm256_loadu_si256((const __m256i *)(p + c));                                    \
      __m256i b = _mm256_loadu_si256((const __m256i *)(p + c + LANES));                            \
      bad0 = _mm256_or_si256(bad0, _mm256_andnot_si256(CMPEQ(a, ninf), CMPEQ(_mm256_and_si256(a, e), e))); \
      bad1 = _mm256_or_si256(bad1, _mm256_andnot_si256(CMPEQ(b, ninf), CMPEQ(_mm256_and_si256(b, e), e))); \
    }                                                                                              \
    for (; c < n; c += LANES) {                                                                    \
      __m256i m = _mm256_loadu_si256((const __m256i *)(TAIL + LANES - (n - c < LANES ? n - c : LANES))); \
      __m256i v = CAST(MLOAD(p + c, m));                                                           \
      __m256i hit = _mm256_andnot_si256(CMPEQ(v, ninf), CMPEQ(_mm256_and_si256(v, e), e));         \
      bad0 = _mm256_or_si256(bad0, _mm256_and_si256(hit, m));                                      \
    }                                                                                              \
    bad0 = _mm256_or_si256(bad0, bad1);                                                            \
    return !_mm256_testz_si256(bad0, bad0);                                                        \
  }

/* With masks off, ninf is 0, which no entry with all exponent bits set can equal. */
LN_ANY_NONFINITE(float, f32, _mm256_cmpeq_epi32, _mm256_set1_epi32, 0x7f800000, (int32_t)0xff800000, 8, ln_tail32,
                 _mm256_maskload_ps, _mm256_castps_si256)
LN_ANY_NONFINITE(double, f64, _mm256_cmpeq_epi64, _mm256_set1_epi64x, 0x7ff0000000000000,
                 (int64_t)0xfff0000000000000, 4, ln_tail64, _mm256_maskload_pd, _mm256_castpd_si256)

/* The scan of rows [0, rows), row by row (rows and cols > 0). */
#define LN_FIRST_BAD_ROW(T, SFX)                                                                    \
  static int64_t ln_first_bad_row_##SFX(const T *p, int64_t rows, int64_t cols, int64_t ld, int masks) { \
    for (int64_t i = 0; i < rows; ++i)                                                              \
      if (ln_any_nonfinite_##SFX(p + i * ld, cols, masks)) return i;                                \
    return -1;                                                                                      \
  }                                                                                                 \
  int64_t ln_first_nonfinite_row_##SFX##_avx2(const T *p, int64_t rows, int64_t cols, int64_t ld,   \
                                              int masks) {                                          \
    if (rows <= 0 || cols <= 0) return -1;                                                          \
    if (ld != cols) return ln_first_bad_row_##SFX(p, rows, cols, ld, masks);                        \
    const int64_t total = rows * cols;                                                              \
    for (int64_t b = 0; b < total; b += LN_FLAT_BLOCK) {                                            \
      int64_t n = total - b < LN_FLAT_BLOCK ? total - b : LN_FLAT_BLOCK;                            \
      if (!ln_any_nonfinite_##SFX(p + b, n, masks)) continue;                                       \
      int64_t r0 = b / cols, r1 = (b + n + cols - 1) / cols; /* the rows this block touches */      \
      int64_t r = ln_first_bad_row_##SFX(p + r0 * cols, r1 - r0, cols, cols, masks);                \
      if (r >= 0) return r0 + r;                                                                    \
    }                                                                                               \
    return -1;                                                                                      \
  }

LN_FIRST_BAD_ROW(float, f32)
LN_FIRST_BAD_ROW(double, f64)
