/* The finite scan of a matrix with AVX2: an entry is NaN or infinite exactly when its
   exponent bits are all ones. Rows are OR-ed branch-free and tested once per row. */
#include "finite_avx2.h"

#include <immintrin.h>

int64_t ln_first_nonfinite_row_f32_avx2(const float *p, int64_t rows, int64_t cols, int64_t ld) {
  static const int32_t tail[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  const __m256i e = _mm256_set1_epi32(0x7f800000);
  for (int64_t i = 0; i < rows; ++i) {
    const float *row = p + i * ld;
    __m256i bad = _mm256_setzero_si256();
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      __m256i v = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(row + c)), e);
      bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(v, e));
    }
    if (c < cols) {
      __m256i m = _mm256_loadu_si256((const __m256i *)(tail + 8 - (cols - c)));
      __m256i v = _mm256_and_si256(_mm256_castps_si256(_mm256_maskload_ps(row + c, m)), e);
      bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(v, e));
    }
    if (!_mm256_testz_si256(bad, bad)) return i;
  }
  return -1;
}

int64_t ln_first_nonfinite_row_f64_avx2(const double *p, int64_t rows, int64_t cols, int64_t ld) {
  static const int64_t tail[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
  const __m256i e = _mm256_set1_epi64x(0x7ff0000000000000);
  for (int64_t i = 0; i < rows; ++i) {
    const double *row = p + i * ld;
    __m256i bad = _mm256_setzero_si256();
    int64_t c = 0;
    for (; c + 4 <= cols; c += 4) {
      __m256i v = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(row + c)), e);
      bad = _mm256_or_si256(bad, _mm256_cmpeq_epi64(v, e));
    }
    if (c < cols) {
      __m256i m = _mm256_loadu_si256((const __m256i *)(tail + 4 - (cols - c)));
      __m256i v = _mm256_and_si256(_mm256_castpd_si256(_mm256_maskload_pd(row + c, m)), e);
      bad = _mm256_or_si256(bad, _mm256_cmpeq_epi64(v, e));
    }
    if (!_mm256_testz_si256(bad, bad)) return i;
  }
  return -1;
}
