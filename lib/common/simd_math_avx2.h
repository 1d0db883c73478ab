/* Vectorised exp for AVX2+FMA, as inline functions. Include this only from *_avx2.c files
   (they are compiled with -mavx2 -mfma and only called after the runtime CPU check).

   Method (both precisions): x = n ln2 + r with n = round(x / ln2) and |r| <= ln2/2, so
   exp(x) = 2^n exp(r). n is rounded by adding a "magic" constant 1.5 * 2^p (p = mantissa
   bits) plus the exponent bias, which leaves n + bias in the low bits of the sum; shifting
   those bits into the exponent field builds 2^n without a float-to-int conversion.
   r is computed in two steps (Cody-Waite: ln2 = hi + lo, with n hi exact), and exp(r) =
   1 + r + r^2 P(r), evaluated by Horner as 1 + r (1 + r P(r)) (two FMAs: one operation fewer
   than forming r^2, and no less accurate):
     float:  P of degree 4, P(r) = 1/2 + c3 r + ... + c6 r^4, with c3..c6 minimax for the
             relative error of exp on |r| <= 0.3466 (a linear program over 6,000 points,
             coefficients then rounded to float): 0.06 ulp from the polynomial itself, so
             the rounding of the six FMAs decides the total. One degree below Cephes' expf
             (P of degree 5), for the same accuracy: the kernels' hot loops are FMA-bound;
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
   - NaN in gives NaN out.

   ln_exp_neg_ps/pd are the same exp for arguments <= 0 (or NaN), the loss kernels' exp(u - max u):
   they skip the overflow clamp and return bit for bit what ln_exp_ps/pd return there.

   ln_log_pd: log x for positive normal double x (the kernels take log of softmax sums s >= 1).
   x = 2^e f with f in [sqrt(1/2), sqrt(2)), and log f = 2 atanh(t) = 2 (t + t^3/3 + t^5/5 + ...)
   with t = (f - 1)/(f + 1), |t| <= 0.1716; the series is cut after t^21/21, the first omitted
   term is below 1e-18 of the result. log x = e ln2_hi + (log f + e ln2_lo), where ln2_hi has
   enough trailing zero bits that e ln2_hi is exact. Within 2 ulp of the correctly rounded log
   (swept in tests/test_internal_simd_math.c). Zero, negative, subnormal, infinite and NaN
   arguments give unspecified values (callers mask such lanes). */
#ifndef LN_COMMON_SIMD_MATH_AVX2_H
#define LN_COMMON_SIMD_MATH_AVX2_H

#include <immintrin.h>
#include <stdint.h>

/* Masks for the last n < lanes elements of a row: the 8 (4) entries starting at
   ln_tail32 + 8 - n (ln_tail64 + 4 - n) have their first n lanes set. The one copy of these
   tables for every AVX2 file. */
static const int32_t ln_tail32[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static const int64_t ln_tail64[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

/* 2^n exp(r) for an argument already clamped to [-87.5, 88.376] (or NaN, which passes
   through): the common core of ln_exp_ps and ln_exp_neg_ps. */
static inline __m256 ln_exp_core_ps(__m256 xc) {
  const __m256 magic = _mm256_set1_ps(12582912.0f + 127.0f); /* 1.5 * 2^23 + bias */
  __m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504088896341f), magic);
  __m256 n = _mm256_sub_ps(t, magic); /* round(x / ln2); the bias stays in t's low bits */
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.386378426e-3f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.367480710e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.166723788e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.666653454e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  __m256 e = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f)); /* 1 + r (1 + r P) */
  __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23)); /* 2^n */
  return _mm256_mul_ps(e, scale);
}

/* The same for double, with the argument clamped to [-708.5, 709.0896]. */
static inline __m256d ln_exp_core_pd(__m256d xc) {
  const __m256d magic = _mm256_set1_pd(6755399441055744.0 + 1023.0); /* 1.5 * 2^52 + bias */
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
  p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
  __m256d e = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0)); /* 1 + r (1 + r P) */
  __m256d scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(t), 52));
  return _mm256_mul_pd(e, scale);
}

static inline __m256 ln_exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.5f);            /* keeps n + bias >= 0 in the core */
  const __m256 hi = _mm256_set1_ps(88.376f);            /* n <= 127 */
  const __m256 underflow = _mm256_set1_ps(-87.33654f);  /* ln(FLT_MIN) */
  /* max/min return their second operand when one is NaN, so NaN passes through. */
  __m256 e = ln_exp_core_ps(_mm256_min_ps(hi, _mm256_max_ps(lo, x)));
  e = _mm256_andnot_ps(_mm256_cmp_ps(x, underflow, _CMP_LT_OQ), e);
  return _mm256_blendv_ps(e, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
}

static inline __m256d ln_exp_pd(__m256d x) {
  const __m256d lo = _mm256_set1_pd(-708.5);
  const __m256d hi = _mm256_set1_pd(709.089565712824);      /* 1023.0 ln2: n <= 1023 */
  const __m256d underflow = _mm256_set1_pd(-708.3964185322641); /* ln(DBL_MIN) */
  __m256d e = ln_exp_core_pd(_mm256_min_pd(hi, _mm256_max_pd(lo, x)));
  e = _mm256_andnot_pd(_mm256_cmp_pd(x, underflow, _CMP_LT_OQ), e);
  return _mm256_blendv_pd(e, _mm256_set1_pd(__builtin_inf()), _mm256_cmp_pd(x, hi, _CMP_GT_OQ));
}

/* exp(x) for x <= 0 or NaN: ln_exp_ps without the overflow clamp (see the header comment).
   Below the underflow threshold the core runs on 0 instead of x, and its result is then
   replaced by 0: at and above the threshold 2^n exp(r) >= FLT_MIN, so no lane ever forms a
   subnormal (whose multiplication costs a microcode assist on many CPUs, and masked classes,
   -inf, would meet it in every lane). NaN is not below the threshold and passes through. */
static inline __m256 ln_exp_neg_ps(__m256 x) {
  const __m256 under = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33654f), _CMP_LT_OQ);
  return _mm256_andnot_ps(under, ln_exp_core_ps(_mm256_andnot_ps(under, x)));
}

static inline __m256d ln_exp_neg_pd(__m256d x) {
  const __m256d under = _mm256_cmp_pd(x, _mm256_set1_pd(-708.3964185322641), _CMP_LT_OQ);
  return _mm256_andnot_pd(under, ln_exp_core_pd(_mm256_andnot_pd(under, x)));
}

/* log x for positive normal x (see the header comment). */
static inline __m256d ln_log_pd(__m256d x) {
  const __m256i bits = _mm256_castpd_si256(x);
  /* the biased exponent as a double: OR it into the mantissa of 2^52, then subtract 2^52 */
  const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
  __m256d e = _mm256_sub_pd(
      _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(bits, 52), _mm256_castpd_si256(two52))), two52);
  e = _mm256_sub_pd(e, _mm256_set1_pd(1023.0));
  /* f in [1, 2), moved to [sqrt(1/2), sqrt(2)) by halving it (and adding 1 to e) above sqrt(2) */
  __m256d f = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                                                  _mm256_set1_epi64x(0x3ff0000000000000LL)));
  __m256d big = _mm256_cmp_pd(f, _mm256_set1_pd(1.4142135623730951), _CMP_GT_OQ);
  f = _mm256_blendv_pd(f, _mm256_mul_pd(f, _mm256_set1_pd(0.5)), big);
  e = _mm256_add_pd(e, _mm256_and_pd(big, _mm256_set1_pd(1.0)));
  __m256d g = _mm256_sub_pd(f, _mm256_set1_pd(1.0)); /* exact (Sterbenz) */
  __m256d t = _mm256_div_pd(g, _mm256_add_pd(g, _mm256_set1_pd(2.0)));
  __m256d z = _mm256_mul_pd(t, t);
  /* q(z) = 1/3 + z/5 + ... + z^9/21, log f = 2t + 2t z q(z) */
  __m256d q = _mm256_set1_pd(1.0 / 21.0);
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 19.0));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 17.0));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 15.0));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 13.0));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 11.0));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 9.0));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 7.0));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 5.0));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(1.0 / 3.0));
  __m256d t2 = _mm256_add_pd(t, t);
  __m256d lo = _mm256_fmadd_pd(e, _mm256_set1_pd(1.90821492927058770002e-10), _mm256_mul_pd(_mm256_mul_pd(t2, z), q));
  return _mm256_add_pd(_mm256_fmadd_pd(e, _mm256_set1_pd(6.93147180369123816490e-01), t2), lo);
}

#endif
