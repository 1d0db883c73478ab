/* The sum in T logsumexp(z / T) = m + T log sum_j exp((z_j - m) / T) with the library's
   vector exp (common/simd_math_avx2.h: within 2 ulp of exp; the arguments are <= 0). For the
   head scores whose energy runs over many classes (SCALE), where libm's exp per class would
   cost a good part of the head GEMM. Four lanes accumulate apart, then the lanes and the tail
   are added in a fixed order, so a row's result depends on nothing but the row. */
#include <math.h>

#include "common/simd_math_avx2.h"
#include "scorer_internal.h"

double ln_energy_avx2(const double *z, int64_t c, double t) {
  double m = z[0];
  for (int64_t j = 1; j < c; ++j)
    if (z[j] > m) m = z[j];
  const __m256d vm = _mm256_set1_pd(m), vinv = _mm256_set1_pd(1.0 / t);
  __m256d acc = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 4 <= c; j += 4)
    acc = _mm256_add_pd(acc, ln_exp_neg_pd(_mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(z + j), vm), vinv)));
  double lane[4];
  _mm256_storeu_pd(lane, acc);
  double sum = (lane[0] + lane[1]) + (lane[2] + lane[3]);
  if (j < c) {
    __m256i mask = _mm256_loadu_si256((const __m256i *)(ln_tail64 + 4 - (c - j)));
    __m256d x = _mm256_mul_pd(_mm256_sub_pd(_mm256_maskload_pd(z + j, mask), vm), vinv);
    _mm256_storeu_pd(lane, _mm256_and_pd(ln_exp_neg_pd(x), _mm256_castsi256_pd(mask)));
    sum += (lane[0] + lane[1]) + (lane[2] + lane[3]);
  }
  return m + t * log(sum);
}
