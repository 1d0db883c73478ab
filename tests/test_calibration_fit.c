/* Temperature scaling (logitnorm_calibration_fit_temperature_f32/_f64): closed-form cases,
   an independent minimisation (tests/support/calibration_ref.c: a grid in log T, then
   bisection on the sign of dNLL/dT), the cases without a finite minimiser, and bad input. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calibration_ref.h"
#include "logitnorm.h"
#include "test_util.h"

static double fit32(int64_t n, int64_t C, const float *z, int64_t ld, const int32_t *y) {
  double t = NAN;
  logitnorm_status st = logitnorm_calibration_fit_temperature_f32(n, C, z, ld, y, &t);
  ck_assert_msg(st == LOGITNORM_OK, "fit_f32: %s: %s", logitnorm_status_string(st), logitnorm_last_error());
  return t;
}

static double fit64(int64_t n, int64_t C, const double *z, int64_t ld, const int32_t *y) {
  double t = NAN;
  logitnorm_status st = logitnorm_calibration_fit_temperature_f64(n, C, z, ld, y, &t);
  ck_assert_msg(st == LOGITNORM_OK, "fit_f64: %s: %s", logitnorm_status_string(st), logitnorm_last_error());
  return t;
}

/* ---------------- closed forms ---------------- */

/* Rows z = (d, 0): k with label 0 and m with label 1. NLL(b) = k log(1 + e^{-bd}) +
   m log(1 + e^{bd}) is smallest where sigmoid(bd) = k / (k + m), so T = 1/b = d / log(k/m).
   d = 2, k = 3, m = 1: T = 2 / ln 3. */
START_TEST(two_classes_closed_form) {
  const float z[8] = {2, 0, 2, 0, 2, 0, 2, 0};
  const int32_t y[4] = {0, 0, 0, 1};
  double want = 2.0 / log(3.0);
  ck_assert_double_eq_tol(fit32(4, 2, z, 2, y), want, 1e-10 * want);
  const double z64[8] = {2, 0, 2, 0, 2, 0, 2, 0};
  ck_assert_double_eq_tol(fit64(4, 2, z64, 2, y), want, 1e-10 * want);
  /* d = 5, k = 7, m = 2 in f64, and a scale far from 1: d = 3e-30 in f32 (T ~ 3e-30 / ln 3.5) */
  double z2[18];
  int32_t y2[9];
  for (int i = 0; i < 9; ++i) {
    z2[2 * i] = 5.0;
    z2[2 * i + 1] = 0.0;
    y2[i] = i < 7 ? 0 : 1;
  }
  want = 5.0 / log(3.5);
  ck_assert_double_eq_tol(fit64(9, 2, z2, 2, y2), want, 1e-10 * want);
  float z3[18];
  for (int i = 0; i < 18; ++i) z3[i] = (float)(z2[i] * 6e-31);
  want = (double)z3[0] / log(3.5);
  ck_assert_double_eq_tol(fit32(9, 2, z3, 2, y2), want, 1e-10 * want);
}
END_TEST

/* The same case with a masked third class, a padded row (ld 5, NaN beyond C) and rows of equal
   logits, which add 0 to both derivatives: the same T. */
START_TEST(closed_form_masks_padding_constant_rows) {
  enum { LD = 5 };
  float z[6 * LD];
  int32_t y[6] = {0, 0, 0, 1, 2, 1};
  for (int i = 0; i < 6; ++i) {
    const float row[LD] = {2.0f, 0.0f, -INFINITY, NAN, NAN};
    memcpy(z + i * LD, row, sizeof row);
  }
  /* rows 4 and 5: all unmasked logits equal (the mask moves to class 0 in row 5) */
  const float r4[LD] = {1.5f, 1.5f, 1.5f, NAN, NAN}, r5[LD] = {-INFINITY, -7.0f, -7.0f, NAN, NAN};
  memcpy(z + 4 * LD, r4, sizeof r4);
  memcpy(z + 5 * LD, r5, sizeof r5);
  double want = 2.0 / log(3.0);
  ck_assert_double_eq_tol(fit32(6, 3, z, LD, y), want, 1e-10 * want);
}
END_TEST

/* ---------------- against the independent minimisation ---------------- */

/* Logits whose best temperature is about `scale`: true logits u ~ N(0, sigma^2) (a few classes
   masked in every third row), a label drawn from softmax(u) over the unmasked classes (so u is
   calibrated), and the model's logits z = scale u. ld = C + 3, padding NaN. */
static void make_case(tu_rng *r, int64_t n, int64_t C, double sigma, double scale, double *z, int32_t *y) {
  int64_t ld = C + 3;
  double *p = malloc((size_t)C * sizeof *p);
  for (int64_t i = 0; i < n; ++i) {
    double *row = z + i * ld;
    for (int64_t j = 0; j < C; ++j) row[j] = sigma * tu_normal(r);
    for (int64_t j = C; j < ld; ++j) row[j] = NAN;
    if (i % 3 == 0)
      for (int k = 0; k < 1 + C / 5; ++k) row[tu_int(r, 0, C - 1)] = -INFINITY;
    if (row[0] == -INFINITY) row[0] = 0.0; /* keep one class */
    double mx = -INFINITY, s = 0.0;
    for (int64_t j = 0; j < C; ++j) mx = fmax(mx, row[j]);
    for (int64_t j = 0; j < C; ++j) s += p[j] = exp(row[j] - mx);
    double u = tu_uniform(r) * s, acc = 0.0;
    y[i] = -1;
    for (int64_t j = 0; j < C && y[i] < 0; ++j) {
      acc += p[j];
      if (u < acc && p[j] > 0.0) y[i] = (int32_t)j;
    }
    for (int64_t j = C - 1; y[i] < 0; --j)
      if (p[j] > 0.0) y[i] = (int32_t)j;
    for (int64_t j = 0; j < C; ++j) row[j] *= scale;
  }
  free(p);
}

/* loop index: bit 0 chooses f32 / f64, bit 1 the scale (0.3 or 4), bit 2 C = 10 or 1000 */
START_TEST(matches_independent_minimisation) {
  int is_f64 = _i & 1;
  double scale = _i & 2 ? 4.0 : 0.3;
  int64_t C = _i & 4 ? 1000 : 10, n = C == 10 ? 3000 : 240, ld = C + 3;
  tu_rng r;
  tu_seed(&r, 4200 + (uint64_t)_i);
  double *z = malloc((size_t)(n * ld) * sizeof *z);
  float *zf = malloc((size_t)(n * ld) * sizeof *zf);
  int32_t *y = malloc((size_t)n * sizeof *y);
  make_case(&r, n, C, C == 10 ? 2.0 : 3.0, scale, z, y);
  for (int64_t k = 0; k < n * ld; ++k) zf[k] = (float)z[k];
  cref_logits x = {.n = n, .C = C, .ld = ld, .f32 = is_f64 ? NULL : zf, .f64 = is_f64 ? z : NULL, .labels = y};
  double got = is_f64 ? fit64(n, C, z, ld, y) : fit32(n, C, zf, ld, y);
  double want = cref_fit_temperature(&x, 1e-2, 1e2, 61);
  /* the optimum is far from 1, near the scale the logits were given */
  ck_assert_msg(got > 0.7 * scale && got < 1.4 * scale, "T = %g for scale %g", got, scale);
  ck_assert_msg(fabs(got - want) <= 1e-10 * want, "T = %.17g, reference %.17g (rel. diff %.2e)", got, want,
                fabs(got - want) / want);
  /* and the NLL is larger on both sides */
  double at = cref_nll(&x, got);
  ck_assert(cref_nll(&x, got * (1 + 1e-4)) > at && cref_nll(&x, got * (1 - 1e-4)) > at);
  free(z);
  free(zf);
  free(y);
}
END_TEST

/* ---------------- no finite minimiser ---------------- */

static void expect_state(logitnorm_status st, const double *t) {
  ck_assert_int_eq(st, LOGITNORM_ERR_INVALID_STATE);
  ck_assert_str_ne(logitnorm_last_error(), "");
  ck_assert(tu_sentinel_intact(t, sizeof *t));
}

START_TEST(no_finite_minimiser) {
  double t;
  tu_sentinel_fill(&t, sizeof t);
  /* every label the strict argmax: the NLL falls to 0 as T -> 0 */
  const float strict[6] = {2, 0, 1, 3, 0.5f, -1};
  expect_state(logitnorm_calibration_fit_temperature_f32(3, 2, strict, 2, (const int32_t[]){0, 1, 0}, &t), &t);
  /* every label an argmax, one of them tied: the NLL falls to log 2 / 3 */
  const float tied[9] = {1, 1, 0, 2, 0, 0, 0, 3, 1};
  expect_state(logitnorm_calibration_fit_temperature_f32(3, 3, tied, 3, (const int32_t[]){1, 0, 1}, &t), &t);
  /* every row's logits equal: the NLL does not depend on T */
  const double flat[6] = {0.5, 0.5, -2, -2, 7, 7};
  expect_state(logitnorm_calibration_fit_temperature_f64(3, 2, flat, 2, (const int32_t[]){0, 1, 1}, &t), &t);
  /* every label the smallest logit: slope at 1/T = 0 positive, smallest NLL at T -> infinity */
  const float worst[4] = {2, 0, 0, 1};
  expect_state(logitnorm_calibration_fit_temperature_f32(2, 2, worst, 2, (const int32_t[]){1, 0}, &t), &t);
  /* slope exactly 0 at 1/T = 0 with unequal logits: (2, 0) once with each label */
  const double even[4] = {2, 0, 2, 0};
  expect_state(logitnorm_calibration_fit_temperature_f64(2, 2, even, 2, (const int32_t[]){0, 1}, &t), &t);
  /* a minimiser outside [1e-100, 1e100]: the closed-form case at scales 1e-200 and 1e200 */
  double tiny[8], huge[8];
  for (int i = 0; i < 8; ++i) {
    tiny[i] = i % 2 == 0 ? 2e-200 : 0.0;
    huge[i] = i % 2 == 0 ? 2e200 : 0.0;
  }
  const int32_t y4[4] = {0, 0, 0, 1};
  expect_state(logitnorm_calibration_fit_temperature_f64(4, 2, tiny, 2, y4, &t), &t);
  expect_state(logitnorm_calibration_fit_temperature_f64(4, 2, huge, 2, y4, &t), &t);
  /* a single class: every row is constant */
  const float one[3] = {1, 2, 3};
  expect_state(logitnorm_calibration_fit_temperature_f32(3, 1, one, 1, (const int32_t[]){0, 0, 0}, &t), &t);
}
END_TEST

/* ---------------- bad input ---------------- */

static void expect_fail(logitnorm_status got, logitnorm_status want, const double *t) {
  ck_assert_int_eq(got, want);
  ck_assert_str_ne(logitnorm_last_error(), "");
  ck_assert(tu_sentinel_intact(t, sizeof *t));
}

START_TEST(bad_input) {
  float z[8] = {2, 0, 2, 0, 2, 0, 2, 0};
  double z64[8] = {2, 0, 2, 0, 2, 0, 2, 0};
  int32_t y[4] = {0, 0, 0, 1};
  double t;
  tu_sentinel_fill(&t, sizeof t);
  expect_fail(logitnorm_calibration_fit_temperature_f32(0, 2, z, 2, y, &t), LOGITNORM_ERR_INVALID_ARGUMENT, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f64(0, 2, z64, 2, y, &t), LOGITNORM_ERR_INVALID_ARGUMENT, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f32(-1, 2, z, 2, y, &t), LOGITNORM_ERR_INVALID_ARGUMENT, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 0, z, 2, y, &t), LOGITNORM_ERR_INVALID_ARGUMENT, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f64(4, (int64_t)INT32_MAX + 1, z64, (int64_t)INT32_MAX + 1, y, &t),
              LOGITNORM_ERR_INVALID_ARGUMENT, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 2, z, 1, y, &t), LOGITNORM_ERR_INVALID_ARGUMENT, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f64(4, 2, z64, 1, y, &t), LOGITNORM_ERR_INVALID_ARGUMENT, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 2, NULL, 2, y, &t), LOGITNORM_ERR_NULL_POINTER, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f64(4, 2, NULL, 2, y, &t), LOGITNORM_ERR_NULL_POINTER, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 2, z, 2, NULL, &t), LOGITNORM_ERR_NULL_POINTER, &t);
  ck_assert_int_eq(logitnorm_calibration_fit_temperature_f32(4, 2, z, 2, y, NULL), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_int_eq(logitnorm_calibration_fit_temperature_f64(4, 2, z64, 2, y, NULL), LOGITNORM_ERR_NULL_POINTER);
  /* labels outside [0, C) */
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 2, z, 2, (const int32_t[]){0, 2, 0, 1}, &t),
              LOGITNORM_ERR_INVALID_LABEL, &t);
  expect_fail(logitnorm_calibration_fit_temperature_f64(4, 2, z64, 2, (const int32_t[]){0, 0, -1, 1}, &t),
              LOGITNORM_ERR_INVALID_LABEL, &t);
  /* a label on a masked class, a row masked whole, NaN and +inf */
  float zb[8];
  double zb64[8];
  memcpy(zb, z, sizeof z);
  zb[7] = -INFINITY; /* row 3 is labelled 1 */
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 2, zb, 2, y, &t), LOGITNORM_ERR_INVALID_LABEL, &t);
  memcpy(zb64, z64, sizeof z64);
  zb64[7] = -INFINITY;
  expect_fail(logitnorm_calibration_fit_temperature_f64(4, 2, zb64, 2, y, &t), LOGITNORM_ERR_INVALID_LABEL, &t);
  zb[6] = -INFINITY;
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 2, zb, 2, y, &t), LOGITNORM_ERR_INVALID_ARGUMENT, &t);
  memcpy(zb, z, sizeof z);
  zb[3] = NAN;
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 2, zb, 2, y, &t), LOGITNORM_ERR_NONFINITE, &t);
  zb[3] = INFINITY;
  expect_fail(logitnorm_calibration_fit_temperature_f32(4, 2, zb, 2, y, &t), LOGITNORM_ERR_NONFINITE, &t);
  memcpy(zb64, z64, sizeof z64);
  zb64[0] = NAN;
  expect_fail(logitnorm_calibration_fit_temperature_f64(4, 2, zb64, 2, y, &t), LOGITNORM_ERR_NONFINITE, &t);
  zb64[0] = INFINITY;
  expect_fail(logitnorm_calibration_fit_temperature_f64(4, 2, zb64, 2, y, &t), LOGITNORM_ERR_NONFINITE, &t);
  /* the valid call succeeds, and a masked class that is not a label is fine */
  zb64[0] = 2.0;
  zb64[3] = -INFINITY; /* row 1, label 0: class 1 masked */
  ck_assert(fit64(4, 2, zb64, 2, y) > 0.0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("calibration_fit");
  TCase *t = tcase_create("calibration_fit");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, two_classes_closed_form);
  tcase_add_test(t, closed_form_masks_padding_constant_rows);
  tcase_add_loop_test(t, matches_independent_minimisation, 0, 8);
  tcase_add_test(t, no_finite_minimiser);
  tcase_add_test(t, bad_input);
  suite_add_tcase(s, t);
  return tu_run_suite(s);
}
