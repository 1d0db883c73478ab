/* The finite scan of a matrix with AVX2: an entry is NaN or infinite exactly when its
   exponent bits are all ones. Rows are OR-ed branch-free and tested once per row; a matrix
   whose rows are contiguous (ld == cols) is scanned as one flat array in blocks, and only a
   block that holds a bad entry is rescanned row by row to find the first bad row. */
#include "finite_avx2.h"

#include <immintrin.h>

#define LN_FLAT_BLOCK 1024 /* elements per block of the flat scan */

static const int32_t ln_tail32[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static const int64_t ln_tail64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

/* Whether any of the n floats at p has all exponent bits set (n > 0). */
static int ln_any_nonfinite_f32(const float *p, int64_t n) {
  const __m256i e = _mm256_set1_epi32(0x7f800000);
  __m256i bad0 = _mm256_setzero_si256(), bad1 = bad0;
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) {
    __m256i a = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(p + c)), e);
    __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(p + c + 8)), e);
    bad0 = _mm256_or_si256(bad0, _mm256_cmpeq_epi32(a, e));
    bad1 = _mm256_or_si256(bad1, _mm256_cmpeq_epi32(b, e));
  }
  for (; c < n; c += 8) {
    __m256i m = _mm256_loadu_si256((const __m256i *)(ln_tail32 + 8 - (n - c < 8 ? n - c : 8)));
    __m256i v = _mm256_and_si256(_mm256_castps_si256(_mm256_maskload_ps(p + c, m)), e);
    bad0 = _mm256_or_si256(bad0, _mm256_and_si256(_mm256_cmpeq_epi32(v, e), m));
  }
  bad0 = _mm256_or_si256(bad0, bad1);
  return !_mm256_testz_si256(bad0, bad0);
}

static int ln_any_nonfinite_f64(const double *p, int64_t n) {
  const __m256i e = _mm256_set1_epi64x(0x7ff0000000000000);
  __m256i bad0 = _mm256_setzero_si256(), bad1 = bad0;
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    __m256i a = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(p + c)), e);
    __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(p + c + 4)), e);
    bad0 = _mm256_or_si256(bad0, _mm256_cmpeq_epi64(a, e));
    bad1 = _mm256_or_si256(bad1, _mm256_cmpeq_epi64(b, e));
  }
  for (; c < n; c += 4) {
    __m256i m = _mm256_loadu_si256((const __m256i *)(ln_tail64 + 4 - (n - c < 4 ? n - c : 4)));
    __m256i v = _mm256_and_si256(_mm256_castpd_si256(_mm256_maskload_pd(p + c, m)), e);
    bad0 = _mm256_or_si256(bad0, _mm256_and_si256(_mm256_cmpeq_epi64(v, e), m));
  }
  bad0 = _mm256_or_si256(bad0, bad1);
  return !_mm256_testz_si256(bad0, bad0);
}

/* The scan of rows [0, rows), row by row (rows and cols > 0). */
#define LN_FIRST_BAD_ROW(T, SFX)                                                                    \
  static int64_t ln_first_bad_row_##SFX(const T *p, int64_t rows, int64_t cols, int64_t ld) {       \
    for (int64_t i = 0; i < rows; ++i)                                                              \
      if (ln_any_nonfinite_##SFX(p + i * ld, cols)) return i;                                       \
    return -1;                                                                                      \
  }                                                                                                 \
  int64_t ln_first_nonfinite_row_##SFX##_avx2(const T *p, int64_t rows, int64_t cols, int64_t ld) { \
    if (rows <= 0 || cols <= 0) return -1;                                                          \
    if (ld != cols) return ln_first_bad_row_##SFX(p, rows, cols, ld);                               \
    const int64_t total = rows * cols;                                                              \
    for (int64_t b = 0; b < total; b += LN_FLAT_BLOCK) {                                            \
      int64_t n = total - b < LN_FLAT_BLOCK ? total - b : LN_FLAT_BLOCK;                            \
      if (!ln_any_nonfinite_##SFX(p + b, n)) continue;                                              \
      int64_t r0 = b / cols, r1 = (b + n + cols - 1) / cols; /* the rows this block touches */      \
      int64_t r = ln_first_bad_row_##SFX(p + r0 * cols, r1 - r0, cols, cols);                       \
      if (r >= 0) return r0 + r;                                                                    \
    }                                                                                               \
    return -1;                                                                                      \
  }

LN_FIRST_BAD_ROW(float, f32)
LN_FIRST_BAD_ROW(double, f64)
