/* Array forms of the library's vectorised exp and log (lib/common/simd_math_avx2.h), for the
   accuracy tests only: built into the test, not shipped in the library. The tail is masked, so
   no element past n is read or written. */
#include "simd_arrays.h"

#include "common/simd_math_avx2.h"

/* y = fn(x) over n floats or doubles, the tail through masked loads and stores. */
#define LN_ARRAY_PS(fn)                                                                         \
  int64_t i = 0;                                                                                \
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fn(_mm256_loadu_ps(x + i)));              \
  if (i < n) {                                                                                  \
    __m256i m = _mm256_loadu_si256((const __m256i *)(ln_tail32 + 8 - (n - i)));                 \
    _mm256_maskstore_ps(y + i, m, fn(_mm256_maskload_ps(x + i, m)));                            \
  }
#define LN_ARRAY_PD(fn)                                                                         \
  int64_t i = 0;                                                                                \
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, fn(_mm256_loadu_pd(x + i)));              \
  if (i < n) {                                                                                  \
    __m256i m = _mm256_loadu_si256((const __m256i *)(ln_tail64 + 4 - (n - i)));                 \
    _mm256_maskstore_pd(y + i, m, fn(_mm256_maskload_pd(x + i, m)));                            \
  }

void ln_exp_array_f32_avx2(const float *x, float *y, int64_t n) { LN_ARRAY_PS(ln_exp_ps) }
void ln_exp_array_f64_avx2(const double *x, double *y, int64_t n) { LN_ARRAY_PD(ln_exp_pd) }
void ln_exp_neg_array_f32_avx2(const float *x, float *y, int64_t n) { LN_ARRAY_PS(ln_exp_neg_ps) }
void ln_exp_neg_array_f64_avx2(const double *x, double *y, int64_t n) { LN_ARRAY_PD(ln_exp_neg_pd) }
void ln_log_array_f64_avx2(const double *x, double *y, int64_t n) { LN_ARRAY_PD(ln_log_pd) }
