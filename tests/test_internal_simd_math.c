/* Accuracy of the vectorised exp and log (common/simd_math_avx2.h) against libm.
   The reference for float is libm's exp in double (its error, under 1 double ulp, is 2^-29
   of a float ulp); for double it is expl in x87 extended precision (64-bit mantissa, so
   its error is about 2^-11 of a double ulp). The error is measured in ulps of the
   reference's own precision, and each sweep prints the largest error it found.
   The documented bound is 2 ulp on the normal-result range; below the underflow threshold
   the result must be exactly +0, above the overflow cut +inf. The kernels' exp for arguments
   <= 0 must return the same bits as the full exp there. The double log is checked against
   logl over all exponents, densely on [1, 1e6] (the softmax sums it is used for) and around 1
   and sqrt(2), where its range reduction switches. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd_arrays.h"
#include "test_util.h"

#define UNDERFLOW_F32 (-87.33654f)   /* ln(FLT_MIN), as in simd_math_avx2.h */
#define OVERFLOW_F32 88.376f
#define UNDERFLOW_F64 (-708.3964185322641)
#define OVERFLOW_F64 709.089565712824

static float f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* |y - ref| in units of the float ulp at ref (never below the smallest subnormal). */
static double ulp_err_f32(float y, double ref) {
  int e;
  frexp(ref, &e);
  double ulp = fmax(ldexp(1.0, e - 24), ldexp(1.0, -149));
  return fabs((double)y - ref) / ulp;
}

static double ulp_err_f64(double y, long double ref) {
  int e;
  frexpl(ref, &e);
  long double ulp = fmaxl(ldexpl(1.0L, e - 53), ldexpl(1.0L, -1074));
  return (double)(fabsl((long double)y - ref) / ulp);
}

/* Evaluates exp on xs[0..n) and returns the largest ulp error; xs must be in the normal range. */
/* Under tu_quick (valgrind) the sweeps step 64 times wider. */
static int step(void) { return tu_quick() ? 64 : 1; }

static double max_err_f32(const float *xs, int64_t n, float *worst_x) {
  float *y = malloc((size_t)n * sizeof *y);
  ck_assert_ptr_nonnull(y);
  ln_exp_array_f32_avx2(xs, y, n);
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double e = ulp_err_f32(y[i], exp((double)xs[i]));
    if (e > worst) {
      worst = e;
      *worst_x = xs[i];
    }
  }
  free(y);
  return worst;
}

static double max_err_f64(const double *xs, int64_t n, double *worst_x) {
  double *y = malloc((size_t)n * sizeof *y);
  ck_assert_ptr_nonnull(y);
  ln_exp_array_f64_avx2(xs, y, n);
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double e = ulp_err_f64(y[i], expl((long double)xs[i]));
    if (e > worst) {
      worst = e;
      *worst_x = xs[i];
    }
  }
  free(y);
  return worst;
}

/* Every 61st float bit pattern in [UNDERFLOW_F32, OVERFLOW_F32] (about 36 million points:
   all exponents, dense in each), plus every float within 2^16 ulps of 0, of both cut-offs and
   of the point where n changes (x = ln2/2). */
START_TEST(exp_f32_sweep) {
  int64_t cap = 40000000, n = 0;
  float *xs = malloc((size_t)cap * sizeof *xs);
  ck_assert_ptr_nonnull(xs);
  /* negative side: bits of -0 up to bits of UNDERFLOW_F32 (sign set, magnitude increasing) */
  for (uint32_t u = f32_bits(-0.0f); u <= f32_bits(UNDERFLOW_F32) && n < cap; u += 61 * step()) xs[n++] = f32_from_bits(u);
  for (uint32_t u = 0; u <= f32_bits(OVERFLOW_F32) && n < cap; u += 61 * step()) xs[n++] = f32_from_bits(u);
  const float centres[] = {0.0f, UNDERFLOW_F32, OVERFLOW_F32, 0.34657359f, -0.34657359f, -87.0f};
  for (size_t c = 0; c < sizeof centres / sizeof centres[0]; ++c) {
    float x = centres[c];
    for (int k = 0; k < 65536 / step() && n < cap; ++k) {
      x = nextafterf(x, -INFINITY);
      if (x >= UNDERFLOW_F32) xs[n++] = x;
    }
    x = centres[c];
    for (int k = 0; k < 65536 / step() && n < cap; ++k) {
      x = nextafterf(x, INFINITY);
      if (x <= OVERFLOW_F32) xs[n++] = x;
    }
  }
  float worst_x = 0.0f;
  double worst = max_err_f32(xs, n, &worst_x);
  printf("exp f32: %lld points in [%g, %g], max error %.3f ulp at x = %.9g\n", (long long)n, (double)UNDERFLOW_F32,
         (double)OVERFLOW_F32, worst, (double)worst_x);
  fflush(stdout);
  ck_assert_double_le(worst, 2.0);
  free(xs);
}
END_TEST

/* 2^22 evenly spaced points over the whole double range plus 2^20 random points in
   [-30, 0] (the loss kernels' range) and 2^16 ulps around each cut-off and 0. */
START_TEST(exp_f64_sweep) {
  int64_t cap = (1 << 22) + (1 << 20) + 8 * 65536, n = 0;
  double *xs = malloc((size_t)cap * sizeof *xs);
  ck_assert_ptr_nonnull(xs);
  int64_t steps = (1 << 22) / step();
  for (int64_t i = 0; i < steps; ++i)
    xs[n++] = UNDERFLOW_F64 + (OVERFLOW_F64 - UNDERFLOW_F64) * (double)i / (double)(steps - 1);
  srand(12345);
  for (int i = 0; i < (1 << 20) / step(); ++i) xs[n++] = -30.0 * ((double)rand() / RAND_MAX);
  const double centres[] = {0.0, UNDERFLOW_F64, OVERFLOW_F64, -0.34657359027997264};
  for (size_t c = 0; c < sizeof centres / sizeof centres[0]; ++c) {
    double x = centres[c];
    for (int k = 0; k < 65536 / step(); ++k) {
      x = nextafter(x, -INFINITY);
      if (x >= UNDERFLOW_F64) xs[n++] = x;
    }
    x = centres[c];
    for (int k = 0; k < 65536 / step(); ++k) {
      x = nextafter(x, INFINITY);
      if (x <= OVERFLOW_F64) xs[n++] = x;
    }
  }
  double worst_x = 0.0;
  double worst = max_err_f64(xs, n, &worst_x);
  printf("exp f64: %lld points in [%g, %g], max error %.3f ulp at x = %.17g\n", (long long)n, UNDERFLOW_F64,
         OVERFLOW_F64, worst, worst_x);
  fflush(stdout);
  ck_assert_double_le(worst, 2.0);
  free(xs);
}
END_TEST

/* Below the underflow threshold: exactly +0 (not NaN, not negative, not subnormal). */
START_TEST(exp_underflow_is_zero) {
  enum { N = 4096 + 8 };
  float xf[N], yf[N];
  double xd[N], yd[N];
  float x = nextafterf(UNDERFLOW_F32, -INFINITY);
  double x64 = nextafter(UNDERFLOW_F64, -INFINITY);
  for (int i = 0; i < 4096; ++i) {
    xf[i] = i < 2048 ? x : UNDERFLOW_F32 - 1.0f - 1e30f * (float)(i - 2048) / 2048.0f;
    xd[i] = i < 2048 ? x64 : UNDERFLOW_F64 - 1.0 - 1e300 * (double)(i - 2048) / 2048.0;
    x = nextafterf(x, -INFINITY);
    x64 = nextafter(x64, -INFINITY);
  }
  const float sf[8] = {-INFINITY, -FLT_MAX, -1e38f, -1e10f, -104.0f, -103.9f, -88.0f, -87.5f};
  const double sd[8] = {-INFINITY, -DBL_MAX, -1e308, -1e10, -745.2, -745.0, -709.0, -708.5};
  for (int i = 0; i < 8; ++i) {
    xf[4096 + i] = sf[i];
    xd[4096 + i] = sd[i];
  }
  ln_exp_array_f32_avx2(xf, yf, N);
  ln_exp_array_f64_avx2(xd, yd, N);
  for (int i = 0; i < N; ++i) {
    ck_assert_msg(f32_bits(yf[i]) == 0, "exp(%.9g) = %g, want +0", (double)xf[i], (double)yf[i]);
    ck_assert_msg(yd[i] == 0.0 && !signbit(yd[i]), "exp(%.17g) = %g, want +0", xd[i], yd[i]);
  }
}
END_TEST

/* Exact points: exp(0) = 1, exp(-0) = 1; just above the threshold the result is positive;
   above the overflow cut +inf; NaN propagates. */
START_TEST(exp_special_values) {
  float xf[6] = {0.0f, -0.0f, UNDERFLOW_F32, nextafterf(OVERFLOW_F32, INFINITY), INFINITY, NAN};
  float yf[6];
  ln_exp_array_f32_avx2(xf, yf, 6);
  ck_assert(yf[0] == 1.0f && yf[1] == 1.0f);
  ck_assert(yf[2] > 0.0f && yf[2] < 2.0f * FLT_MIN);
  ck_assert(isinf(yf[3]) && yf[3] > 0.0f);
  ck_assert(isinf(yf[4]) && yf[4] > 0.0f);
  ck_assert(isnan(yf[5]));
  double xd[6] = {0.0, -0.0, UNDERFLOW_F64, nextafter(OVERFLOW_F64, INFINITY), INFINITY, NAN};
  double yd[6];
  ln_exp_array_f64_avx2(xd, yd, 6);
  ck_assert(yd[0] == 1.0 && yd[1] == 1.0);
  ck_assert(yd[2] > 0.0 && yd[2] < 2.0 * DBL_MIN);
  ck_assert(isinf(yd[3]) && yd[3] > 0.0);
  ck_assert(isinf(yd[4]) && yd[4] > 0.0);
  ck_assert(isnan(yd[5]));
}
END_TEST

/* The masked tail must not write past n: a guard element keeps its value for every n % 8. */
START_TEST(exp_tail_untouched) {
  for (int n = 0; n <= 17; ++n) {
    float x[18], y[18];
    double xd[18], yd[18];
    for (int i = 0; i < 18; ++i) {
      x[i] = -0.5f * (float)i;
      xd[i] = -0.5 * i;
      y[i] = -7.0f;
      yd[i] = -7.0;
    }
    ln_exp_array_f32_avx2(x, y, n);
    ln_exp_array_f64_avx2(xd, yd, n);
    for (int i = 0; i < 18; ++i) {
      if (i < n) {
        ck_assert(ulp_err_f32(y[i], exp((double)x[i])) <= 2.0);
        ck_assert(ulp_err_f64(yd[i], expl((long double)xd[i])) <= 2.0);
      } else {
        ck_assert(y[i] == -7.0f && yd[i] == -7.0);
      }
    }
  }
}
END_TEST

/* exp_neg is the full exp minus the overflow clamp: on x <= 0 (every 61st negative float bit
   pattern up to -inf, the 2^16 floats nearest 0, and doubles over [-800, 0] plus specials) the
   two give the same bits. */
START_TEST(exp_neg_matches_exp) {
  int64_t cap = 40000000, n = 0;
  float *xs = malloc((size_t)cap * sizeof *xs), *a = malloc((size_t)cap * sizeof *a), *b = malloc((size_t)cap * sizeof *b);
  ck_assert(xs && a && b);
  for (uint32_t u = f32_bits(-0.0f); u <= f32_bits(-INFINITY) && n < cap; u += 61 * step()) xs[n++] = f32_from_bits(u);
  for (uint32_t u = f32_bits(-0.0f); u < f32_bits(-0.0f) + 65536u / (uint32_t)step() && n < cap; ++u) xs[n++] = f32_from_bits(u);
  xs[n++] = -INFINITY;
  xs[n++] = NAN;
  ln_exp_array_f32_avx2(xs, a, n);
  ln_exp_neg_array_f32_avx2(xs, b, n);
  for (int64_t i = 0; i < n; ++i)
    if (f32_bits(a[i]) != f32_bits(b[i]) && !(isnan(a[i]) && isnan(b[i])))
      ck_abort_msg("exp_neg(%.9g) = %.9g, exp = %.9g", (double)xs[i], (double)b[i], (double)a[i]);
  free(xs); free(a); free(b);
  const int nd = (1 << 20) / step(), ND = nd + 4;
  double *xd = malloc((size_t)ND * sizeof *xd), *ad = malloc((size_t)ND * sizeof *ad), *bd = malloc((size_t)ND * sizeof *bd);
  ck_assert(xd && ad && bd);
  for (int i = 0; i < nd; ++i) xd[i] = -800.0 * (double)i / (double)nd;
  xd[ND - 4] = -INFINITY;
  xd[ND - 3] = -DBL_MAX;
  xd[ND - 2] = -0.0;
  xd[ND - 1] = NAN;
  ln_exp_array_f64_avx2(xd, ad, ND);
  ln_exp_neg_array_f64_avx2(xd, bd, ND);
  for (int i = 0; i < ND; ++i)
    ck_assert_msg(memcmp(&ad[i], &bd[i], sizeof ad[i]) == 0 || (isnan(ad[i]) && isnan(bd[i])),
                  "exp_neg(%.17g) = %.17g, exp = %.17g", xd[i], bd[i], ad[i]);
  free(xd); free(ad); free(bd);
}
END_TEST

/* log against logl: 2^12 random mantissas in each binade from 2^-1022 to 2^1023, 2^21 random
   points in [1, 1e6], and 2^16 ulps on both sides of 1 and of sqrt(2). */
START_TEST(log_f64_sweep) {
  int64_t cap = 2046 * 4096 + (1 << 21) + 4 * 65536, n = 0;
  double *xs = malloc((size_t)cap * sizeof *xs), *y = malloc((size_t)cap * sizeof *y);
  ck_assert(xs && y);
  srand(777);
  for (int e = -1022; e < 1024; ++e)
    for (int k = 0; k < 4096 / step(); ++k) xs[n++] = ldexp(1.0 + (double)rand() / ((double)RAND_MAX + 1.0), e);
  for (int k = 0; k < (1 << 21) / step(); ++k) xs[n++] = 1.0 + 999999.0 * ((double)rand() / RAND_MAX);
  const double centres[2] = {1.0, 1.4142135623730951};
  for (int c = 0; c < 2; ++c) {
    double lo = centres[c], hi = centres[c];
    for (int k = 0; k < 65536 / step(); ++k) {
      lo = nextafter(lo, 0.0);
      hi = nextafter(hi, INFINITY);
      xs[n++] = lo;
      xs[n++] = hi;
    }
  }
  ln_log_array_f64_avx2(xs, y, n);
  double worst = 0.0, worst_x = 1.0;
  for (int64_t i = 0; i < n; ++i) {
    long double ref = logl((long double)xs[i]);
    double err = ref == 0.0L ? fabs(y[i]) : ulp_err_f64(y[i], ref);
    if (err > worst) {
      worst = err;
      worst_x = xs[i];
    }
  }
  printf("log f64: %lld points, max error %.3f ulp at x = %.17g\n", (long long)n, worst, worst_x);
  fflush(stdout);
  ck_assert_double_le(worst, 2.0);
  double one = 1.0, l1;
  ln_log_array_f64_avx2(&one, &l1, 1);
  ck_assert(l1 == 0.0); /* log 1 = 0 exactly: f = 1 gives t = 0 */
  free(xs); free(y);
}
END_TEST

int main(void) {
  Suite *s = suite_create("simd_math");
  /* Every test calls the AVX2 functions: on a CPU without AVX2+FMA none can run. */
  if (!tu_cpu_has_avx2())
    return tu_run_suite_partial(s, "simd_math: all 7 tests need a CPU with AVX2 and FMA; this one lacks them");
  TCase *tc = tcase_create("exp");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, exp_f32_sweep);
  tcase_add_test(tc, exp_f64_sweep);
  tcase_add_test(tc, exp_underflow_is_zero);
  tcase_add_test(tc, exp_special_values);
  tcase_add_test(tc, exp_tail_untouched);
  tcase_add_test(tc, exp_neg_matches_exp);
  tcase_add_test(tc, log_f64_sweep);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
