/* Array forms of the vectorised exp (see simd_math_avx2.h). The tail is masked, so no
   element past n is read or written. */
#include "simd_math.h"

#include "simd_math_avx2.h"

void ln_exp_array_f32_avx2(const float *x, float *y, int64_t n) {
  static const int32_t tail[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, ln_exp_ps(_mm256_loadu_ps(x + i)));
  if (i < n) {
    __m256i m = _mm256_loadu_si256((const __m256i *)(tail + 8 - (n - i)));
    _mm256_maskstore_ps(y + i, m, ln_exp_ps(_mm256_maskload_ps(x + i, m)));
  }
}

void ln_exp_array_f64_avx2(const double *x, double *y, int64_t n) {
  static const int64_t tail[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, ln_exp_pd(_mm256_loadu_pd(x + i)));
  if (i < n) {
    __m256i m = _mm256_loadu_si256((const __m256i *)(tail + 4 - (n - i)));
    _mm256_maskstore_pd(y + i, m, ln_exp_pd(_mm256_maskload_pd(x + i, m)));
  }
}
