/* Vectorised exp for AVX2+FMA, as inline functions. Include this only from *_avx2.c files
   (they are compiled with -mavx2 -mfma and only called after the runtime CPU check).

   Method (both precisions): x = n ln2 + r with n = round(x / ln2) and |r| <= ln2/2, so
   exp(x) = 2^n exp(r). n is rounded by adding a "magic" constant 1.5 * 2^p (p = mantissa
   bits) plus the exponent bias, which leaves n + bias in the low bits of the sum; shifting
   those bits into the exponent field builds 2^n without a float-to-int conversion.
   r is computed in two steps (Cody-Waite: ln2 = hi + lo, with n hi exact), and exp(r) =
   1 + r + r^2 P(r):
     float:  P of degree 5 (the Cephes expf coefficients), r in [-0.347, 0.347];
     double: P of degree 11, the Taylor coefficients 1/k! for k = 2..13; the first
             omitted term r^14/14! is below 5e-18 of the result at |r| = ln2/2.
   Accuracy: within 2 ulp of the correctly rounded exp on the normal-result range (see
   tests/test_internal_simd_math.c, which sweeps it against libm and prints the maximum).

   Edges, chosen for the loss kernels, which call exp(u - max u) with arguments <= 0:
   - below the underflow threshold ln(FLT_MIN) = -87.3365 (double: ln(DBL_MIN) = -708.3964)
     the result is exactly +0: subnormal results are flushed, -inf and huge negative
     arguments give 0, never NaN;
   - above 88.376 (double: 709.089) the result is +inf, a little before the true overflow
     at 88.7228 (709.7827): 2^n must stay a normal number, and the kernels never get there;
   - NaN in gives NaN out. */
#ifndef LN_COMMON_SIMD_MATH_AVX2_H
#define LN_COMMON_SIMD_MATH_AVX2_H

#include <immintrin.h>

static inline __m256 ln_exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.5f);            /* keeps n + bias >= 0 below */
  const __m256 hi = _mm256_set1_ps(88.376f);            /* n <= 127 */
  const __m256 underflow = _mm256_set1_ps(-87.33654f);  /* ln(FLT_MIN) */
  const __m256 magic = _mm256_set1_ps(12582912.0f + 127.0f); /* 1.5 * 2^23 + bias */
  /* max/min return their second operand when one is NaN, so NaN passes through. */
  __m256 xc = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
  __m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504088896341f), magic);
  __m256 n = _mm256_sub_ps(t, magic); /* round(x / ln2); the bias stays in t's low bits */
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  __m256 e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23)); /* 2^n */
  e = _mm256_mul_ps(e, scale);
  e = _mm256_andnot_ps(_mm256_cmp_ps(x, underflow, _CMP_LT_OQ), e);
  return _mm256_blendv_ps(e, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
}

static inline __m256d ln_exp_pd(__m256d x) {
  const __m256d lo = _mm256_set1_pd(-708.5);
  const __m256d hi = _mm256_set1_pd(709.089565712824);      /* 1023.0 ln2: n <= 1023 */
  const __m256d underflow = _mm256_set1_pd(-708.3964185322641); /* ln(DBL_MIN) */
  const __m256d magic = _mm256_set1_pd(6755399441055744.0 + 1023.0); /* 1.5 * 2^52 + bias */
  __m256d xc = _mm256_min_pd(hi, _mm256_max_pd(lo, x));
  __m256d t = _mm256_fmadd_pd(xc, _mm256_set1_pd(1.4426950408889634074), magic);
  __m256d n = _mm256_sub_pd(t, magic);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93145751953125e-1), xc);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.42860682030941723212e-6), r);
  __m256d p = _mm256_set1_pd(1.0 / 6227020800.0); /* 1/13! */
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 479001600.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 39916800.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 3628800.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 362880.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 40320.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 5040.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 720.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 120.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 24.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6.0));
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
  __m256d e = _mm256_add_pd(_mm256_fmadd_pd(p, _mm256_mul_pd(r, r), r), _mm256_set1_pd(1.0));
  __m256d scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(t), 52));
  e = _mm256_mul_pd(e, scale);
  e = _mm256_andnot_pd(_mm256_cmp_pd(x, underflow, _CMP_LT_OQ), e);
  return _mm256_blendv_pd(e, _mm256_set1_pd(__builtin_inf()), _mm256_cmp_pd(x, hi, _CMP_GT_OQ));
}

#endif
