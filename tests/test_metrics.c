/* OOD metrics: hand-computed golden cases for every convention, and bad input.
   Golden values are exact rationals worked out in the comments; the library computes them
   from integer counts, so the only error is the final rounding of a few operations and a
   tolerance of 1e-15 (a few ulps of numbers below 1) is enough. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "test_util.h"

#define TOL 1e-15

/* Golden set G: ID = {0.9, 0.8, 0.8, 0.3}, OOD = {0.8, 0.5, 0.3, 0.1} (dyadic-free values are
   fine: only their order matters). Tie blocks in descending score:
     score  ID  OOD | ID positive: tp fp  TPR  FPR  precision
     0.9     1   0  |              1  0  .25   0    1
     0.8     2   1  |              3  1  .75  .25   3/4
     0.5     0   1  |              3  2  .75  .50   3/5
     0.3     1   1  |              4  3  1    .75   4/7
     0.1     0   1  |              4  4  1    1     1/2
   With OOD positive (scores negated, blocks in ascending score):
     score  OOD ID  | tp fp  TPR  FPR  precision
     0.1     1   0  |  1  0  .25   0    1
     0.3     1   1  |  2  1  .50  .25   2/3
     0.5     1   0  |  3  1  .75  .25   3/4
     0.8     1   2  |  4  3  1    .75   4/7
     0.9     0   1  |  4  4  1    1     1/2 */
static const float G_ID[4] = {0.9f, 0.8f, 0.8f, 0.3f};
static const float G_OOD[4] = {0.8f, 0.5f, 0.3f, 0.1f};

static logitnorm_metrics *golden(void) {
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, G_ID, 4, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, G_OOD, 4, 1), LOGITNORM_OK);
  return m;
}

static double value(logitnorm_metrics *m, logitnorm_metric which) {
  double v = NAN;
  ck_assert_int_eq(logitnorm_metrics_value(m, which, &v), LOGITNORM_OK);
  return v;
}

static void set(logitnorm_metrics *m, logitnorm_metrics_param p, double v) {
  ck_assert_int_eq(logitnorm_metrics_set(m, p, v), LOGITNORM_OK);
}

START_TEST(golden_auroc) {
  /* Per OOD score, ID above it + 1/2 ID tied: 0.8 -> 1 + 2/2 = 2; 0.5 -> 3; 0.3 -> 3 + 1/2;
     0.1 -> 4. Sum 12.5 over 16 pairs = 0.78125, for either positive class. */
  logitnorm_metrics *m = golden();
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUROC), 0.78125, TOL);
  set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_OOD);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUROC), 0.78125, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COUNT_ID), 4.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COUNT_OOD), 4.0);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(golden_aupr) {
  logitnorm_metrics *m = golden();
  /* AP-In = .25*1 + .5*3/4 + 0*3/5 + .25*4/7 + 0 = 35/56 + 8/56 = 43/56. */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUPR_IN), 43.0 / 56.0, TOL);
  /* AP-Out = .25*(1 + 2/3 + 3/4 + 4/7) = .25 * 251/84 = 251/336. */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUPR_OUT), 251.0 / 336.0, TOL);
  /* The AUPR values do not depend on the POSITIVE parameter (In is always ID positive). */
  set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_OOD);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUPR_IN), 43.0 / 56.0, TOL);
  set(m, LOGITNORM_METRICS_AUPR_RULE, LOGITNORM_AUPR_TRAPEZOID);
  /* Trapezoid-In over (0,1) (.25,1) (.75,3/4) (.75,3/5) (1,4/7) (1,1/2):
     .25*(1+1)/2 + .5*(1+3/4)/2 + 0 + .25*(3/5+4/7)/2 + 0 = .25 + .4375 + 41/280 = 467/560. */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUPR_IN), 467.0 / 560.0, TOL);
  /* Trapezoid-Out over (0,1) (.25,1) (.5,2/3) (.75,3/4) (1,4/7) (1,1/2):
     .25 + .25*(5/3)/2 + .25*(17/12)/2 + .25*(37/28)/2 = (168 + 140 + 119 + 111)/672 = 269/336. */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUPR_OUT), 269.0 / 336.0, TOL);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(golden_fpr_at_95) {
  /* Level .95, ID positive. NEAREST: recalls up to the first full recall .25 .75 .75 1 are at
     distance .7 .2 .2 .05 -> the 0.3 point: FPR 3/4, threshold 0.3. AT_LEAST: first TPR >= .95
     is the same point. OPENOOD: (dp, dn) per block (1,0) (2,1) (0,1) (1,1) (0,1): no block
     equals its successor, nothing is dropped, same point. */
  logitnorm_metrics *m = golden();
  for (int rule = 0; rule <= 2; ++rule) {
    set(m, LOGITNORM_METRICS_FPR_RULE, rule);
    ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.75, TOL);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR), (double)0.3f);
  }
  /* OOD positive: recalls .25 .5 .75 1 -> the 0.8 block: FPR = 3 ID of 4 = .75; the threshold
     is in the caller's units (OOD when score <= 0.8). */
  set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_OOD);
  for (int rule = 0; rule <= 2; ++rule) {
    set(m, LOGITNORM_METRICS_FPR_RULE, rule);
    ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.75, TOL);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR), (double)0.8f);
  }
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(golden_nearest_versus_at_least) {
  logitnorm_metrics *m = golden();
  /* Level .7, ID positive. NEAREST distances .45 .05 .05 .3: the 0.8 and 0.5 points tie (equal
     recall .75) and the lower threshold wins -> FPR .5 at 0.5. AT_LEAST: the first TPR >= .7
     is the 0.8 point -> FPR .25 at 0.8. */
  set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.7);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.5, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR), (double)0.5f);
  set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_AT_LEAST);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.25, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR), (double)0.8f);
  /* Level .8: NEAREST distances .55 .05 .05 .2 -> 0.5 point (recall .75 < .8), FPR .5;
     AT_LEAST needs TPR 1 -> the 0.3 point, FPR .75. */
  set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.8);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.75, TOL);
  set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_NEAREST);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.5, TOL);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(golden_detection_error) {
  logitnorm_metrics *m = golden();
  /* ID positive: 1/2 (1 - TPR) + 1/2 FPR over start (.5) and the points:
     .375, .125 + .125 = .25, .125 + .25, .375, .5 -> .25. */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_DETECTION_ERROR), 0.25, TOL);
  /* OOD positive: .375, .25 + .125, .125 + .125 = .25, .375, .5 -> .25. */
  set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_OOD);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_DETECTION_ERROR), 0.25, TOL);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(golden_openood_collinear) {
  /* ID = OOD = {4, 3, 2, 1}: four blocks of one ID and one OOD each; points (tp, fp) =
     (1,1) (2,2) (3,3) (4,4). scikit-learn's drop_intermediate keeps the first and the last
     and drops (2,2) and (3,3) (second differences are 0). At level .5:
       AT_LEAST: (2,2), TPR .5 -> FPR .5;   OPENOOD: (4,4) -> FPR 1;
       NEAREST: distances .25 0 .25 .5 -> (2,2) -> FPR .5. AUROC = 1/2 (all ties). */
  const double s[4] = {4, 3, 2, 1};
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(m, s, 4, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(m, s, 4, 1), LOGITNORM_OK);
  set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.5);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AUROC), 0.5);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.5, TOL);
  set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_AT_LEAST);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.5, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR), 3.0);
  set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_OPENOOD);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 1.0, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR), 1.0);
  /* The ROC curve under OPENOOD has the start point plus the two kept points. */
  double x[8], y[8], t[8];
  int64_t n = 0;
  ck_assert_int_eq(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, y, t, 8, &n), LOGITNORM_OK);
  ck_assert_int_eq(n, 3);
  ck_assert(x[0] == 0 && y[0] == 0 && isinf(t[0]) && t[0] > 0);
  ck_assert(x[1] == .25 && y[1] == .25 && t[1] == 4);
  ck_assert(x[2] == 1 && y[2] == 1 && t[2] == 1);
  set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_AT_LEAST);
  ck_assert_int_eq(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, y, t, 8, &n), LOGITNORM_OK);
  ck_assert_int_eq(n, 5);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(golden_curves) {
  logitnorm_metrics *m = golden();
  double x[6], y[6], t[6];
  int64_t n = -1;
  ck_assert_int_eq(logitnorm_metrics_curve(m, LOGITNORM_CURVE_PR, NULL, NULL, NULL, 0, &n), LOGITNORM_OK);
  ck_assert_int_eq(n, 6);
  ck_assert_int_eq(logitnorm_metrics_curve(m, LOGITNORM_CURVE_PR, x, y, t, 6, &n), LOGITNORM_OK);
  /* (recall, precision) from the table above, start point (0, 1) at +inf. */
  const double ex[6] = {0, .25, .75, .75, 1, 1}, ey[6] = {1, 1, .75, .6, 4.0 / 7.0, .5};
  const double et[6] = {INFINITY, (double)0.9f, (double)0.8f, (double)0.5f, (double)0.3f, (double)0.1f};
  for (int i = 0; i < 6; ++i) {
    ck_assert_double_eq_tol(x[i], ex[i], TOL);
    ck_assert_double_eq_tol(y[i], ey[i], TOL);
    ck_assert(t[i] == et[i]);
  }
  ck_assert_int_eq(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, y, NULL, 6, &n), LOGITNORM_OK);
  const double fx[6] = {0, 0, .25, .5, .75, 1}, fy[6] = {0, .25, .75, .75, 1, 1};
  for (int i = 0; i < 6; ++i) {
    ck_assert_double_eq_tol(x[i], fx[i], TOL);
    ck_assert_double_eq_tol(y[i], fy[i], TOL);
  }
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(golden_one_call) {
  double a = 0, in = 0, out = 0, fpr = 0;
  ck_assert_int_eq(logitnorm_ood_metrics_f32(G_ID, 4, G_OOD, 4, &a, &in, &out, &fpr), LOGITNORM_OK);
  ck_assert_double_eq_tol(a, 0.78125, TOL);
  ck_assert_double_eq_tol(in, 43.0 / 56.0, TOL);
  ck_assert_double_eq_tol(out, 251.0 / 336.0, TOL);
  ck_assert_double_eq_tol(fpr, 0.75, TOL);
  ck_assert_int_eq(logitnorm_ood_metrics_f32(G_ID, 4, G_OOD, 4, NULL, NULL, NULL, &fpr), LOGITNORM_OK);
}
END_TEST

START_TEST(parameters_round_trip) {
  logitnorm_metrics *m = NULL;
  double v = 0;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_get(m, LOGITNORM_METRICS_TPR_LEVEL, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, 0.95);
  ck_assert_int_eq(logitnorm_metrics_get(m, LOGITNORM_METRICS_FPR_RULE, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, LOGITNORM_FPR_RULE_NEAREST);
  set(m, LOGITNORM_METRICS_TPR_LEVEL, 1.0); /* the closed end of (0, 1] */
  set(m, LOGITNORM_METRICS_AUPR_RULE, LOGITNORM_AUPR_TRAPEZOID);
  ck_assert_int_eq(logitnorm_metrics_get(m, LOGITNORM_METRICS_TPR_LEVEL, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, 1.0);
  ck_assert_int_eq(logitnorm_metrics_get(m, LOGITNORM_METRICS_AUPR_RULE, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, LOGITNORM_AUPR_TRAPEZOID);
  logitnorm_metrics_free(m);
  logitnorm_metrics_free(NULL);
}
END_TEST

/* ---------------- bad input: exact status, error text, nothing changed ---------------- */

/* The accumulator's full state as its blob, to compare before and after a failing call. */
static unsigned char *snapshot(const logitnorm_metrics *m, size_t *size) {
  ck_assert_int_eq(logitnorm_metrics_save(m, NULL, 0, size), LOGITNORM_OK);
  unsigned char *b = malloc(*size);
  ck_assert_int_eq(logitnorm_metrics_save(m, b, *size, size), LOGITNORM_OK);
  return b;
}

static void expect_fail(logitnorm_status got, logitnorm_status want) {
  ck_assert_int_eq(got, want);
  ck_assert_str_ne(logitnorm_last_error(), "");
}

static void assert_unchanged(const logitnorm_metrics *m, const unsigned char *before, size_t size) {
  size_t s2 = 0;
  unsigned char *after = snapshot(m, &s2);
  ck_assert_uint_eq(s2, size);
  ck_assert(memcmp(before, after, size) == 0);
  free(after);
}

START_TEST(bad_add) {
  logitnorm_metrics *m = golden();
  size_t size = 0;
  unsigned char *before = snapshot(m, &size);
  float f[3] = {0.5f, NAN, 0.25f};
  double d[3] = {0.5, 0.25, INFINITY};
  expect_fail(logitnorm_metrics_add_f32(m, f, 3, 0), LOGITNORM_ERR_NONFINITE);
  expect_fail(logitnorm_metrics_add_f64(m, d, 3, 1), LOGITNORM_ERR_NONFINITE);
  d[2] = -INFINITY;
  expect_fail(logitnorm_metrics_add_f64(m, d, 3, 0), LOGITNORM_ERR_NONFINITE);
  expect_fail(logitnorm_metrics_add_f64(m, d, -1, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_add_f64(m, d, 2, 2), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_add_f64(m, NULL, 2, 0), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_metrics_add_f32(NULL, f, 1, 0), LOGITNORM_ERR_NULL_POINTER);
  assert_unchanged(m, before, size);
  free(before);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(bad_parameters) {
  logitnorm_metrics *m = golden();
  const double bad_level[] = {0.0, -0.1, 1.0000001, NAN, INFINITY};
  for (size_t i = 0; i < sizeof bad_level / sizeof *bad_level; ++i)
    expect_fail(logitnorm_metrics_set(m, LOGITNORM_METRICS_TPR_LEVEL, bad_level[i]), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_set(m, LOGITNORM_METRICS_FPR_RULE, 3), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_set(m, LOGITNORM_METRICS_FPR_RULE, 0.5), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_set(m, LOGITNORM_METRICS_POSITIVE, 2), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_set(m, LOGITNORM_METRICS_AUPR_RULE, -1), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_set(m, (logitnorm_metrics_param)399, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_set(NULL, LOGITNORM_METRICS_TPR_LEVEL, 0.9), LOGITNORM_ERR_NULL_POINTER);
  double v = 1234.5;
  expect_fail(logitnorm_metrics_get(m, (logitnorm_metrics_param)399, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_double_eq(v, 1234.5);
  expect_fail(logitnorm_metrics_get(m, LOGITNORM_METRICS_TPR_LEVEL, NULL), LOGITNORM_ERR_NULL_POINTER);
  /* Parameters unchanged: the defaults still give the golden FPR. */
  ck_assert_int_eq(logitnorm_metrics_get(m, LOGITNORM_METRICS_TPR_LEVEL, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, 0.95);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_FPR_AT_TPR), 0.75, TOL);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(bad_value_and_curve) {
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  double out = 1234.5;
  /* Empty, then only ID scores: every metric but the counts needs both classes. */
  expect_fail(logitnorm_metrics_value(m, LOGITNORM_METRIC_AUROC, &out), LOGITNORM_ERR_INVALID_STATE);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, G_ID, 4, 0), LOGITNORM_OK);
  for (int w = LOGITNORM_METRIC_AUROC; w <= LOGITNORM_METRIC_DETECTION_ERROR; ++w)
    expect_fail(logitnorm_metrics_value(m, (logitnorm_metric)w, &out), LOGITNORM_ERR_INVALID_STATE);
  ck_assert_double_eq(out, 1234.5);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COUNT_OOD), 0.0);
  int64_t count = -7;
  expect_fail(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, NULL, NULL, NULL, 0, &count),
              LOGITNORM_ERR_INVALID_STATE);
  ck_assert_int_eq(count, -7);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, G_OOD, 4, 1), LOGITNORM_OK);
  expect_fail(logitnorm_metrics_value(m, (logitnorm_metric)13, &out), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_value(m, (logitnorm_metric)-1, &out), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_value(m, LOGITNORM_METRIC_AUROC, NULL), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_metrics_value(NULL, LOGITNORM_METRIC_AUROC, &out), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_double_eq(out, 1234.5);

  /* Curve: capacity too small reports the count and writes nothing else. */
  double x[6], y[6], t[6];
  tu_sentinel_fill(x, sizeof x);
  tu_sentinel_fill(y, sizeof y);
  tu_sentinel_fill(t, sizeof t);
  expect_fail(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, y, t, 5, &count), LOGITNORM_ERR_BUFFER_TOO_SMALL);
  ck_assert_int_eq(count, 6);
  expect_fail(logitnorm_metrics_curve(m, 2, x, y, t, 6, &count), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, NULL, t, 6, &count), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, y, t, -1, &count), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, y, t, 6, NULL), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, x + 1, t, 6, &count),
              LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert(tu_sentinel_intact(x, sizeof x) && tu_sentinel_intact(y, sizeof y) && tu_sentinel_intact(t, sizeof t));
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(bad_one_call) {
  float bad[2] = {0.5f, NAN};
  double a = 7, in = 7, out = 7, fpr = 7;
  expect_fail(logitnorm_ood_metrics_f32(G_ID, 4, bad, 2, &a, &in, &out, &fpr), LOGITNORM_ERR_NONFINITE);
  expect_fail(logitnorm_ood_metrics_f32(G_ID, 4, G_OOD, 0, &a, &in, &out, &fpr), LOGITNORM_ERR_INVALID_STATE);
  expect_fail(logitnorm_ood_metrics_f32(G_ID, -1, G_OOD, 4, &a, &in, &out, &fpr), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_ood_metrics_f32(NULL, 4, G_OOD, 4, &a, &in, &out, &fpr), LOGITNORM_ERR_NULL_POINTER);
  ck_assert(a == 7 && in == 7 && out == 7 && fpr == 7);
}
END_TEST

START_TEST(bad_merge_save) {
  logitnorm_metrics *m = golden();
  size_t size = 0;
  unsigned char *before = snapshot(m, &size);
  expect_fail(logitnorm_metrics_merge(m, NULL), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_metrics_merge(NULL, m), LOGITNORM_ERR_NULL_POINTER);
  assert_unchanged(m, before, size);
  unsigned char small[16];
  tu_sentinel_fill(small, sizeof small);
  size_t got = 0;
  expect_fail(logitnorm_metrics_save(m, small, sizeof small, &got), LOGITNORM_ERR_BUFFER_TOO_SMALL);
  ck_assert_uint_eq(got, size);
  ck_assert(tu_sentinel_intact(small, sizeof small));
  expect_fail(logitnorm_metrics_save(m, small, sizeof small, NULL), LOGITNORM_ERR_NULL_POINTER);
  logitnorm_metrics *sentinel = (logitnorm_metrics *)&got, *out = sentinel;
  expect_fail(logitnorm_metrics_load(&out, NULL, size), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_ptr_eq(out, sentinel);
  expect_fail(logitnorm_metrics_load(NULL, before, size), LOGITNORM_ERR_NULL_POINTER);
  free(before);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(reset_and_self_merge) {
  logitnorm_metrics *m = golden();
  double a = value(m, LOGITNORM_METRIC_AUROC);
  /* Merging with itself doubles every score: the same multiset proportions, same AUROC. */
  ck_assert_int_eq(logitnorm_metrics_merge(m, m), LOGITNORM_OK);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COUNT_ID), 8.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AUROC), a);
  ck_assert_int_eq(logitnorm_metrics_reset(m), LOGITNORM_OK);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COUNT_ID), 0.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COUNT_OOD), 0.0);
  double tpr = 0;
  ck_assert_int_eq(logitnorm_metrics_get(m, LOGITNORM_METRICS_TPR_LEVEL, &tpr), LOGITNORM_OK);
  ck_assert_double_eq(tpr, 0.95); /* reset keeps the parameters */
  expect_fail(logitnorm_metrics_reset(NULL), LOGITNORM_ERR_NULL_POINTER);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(signed_zero_is_one_score) {
  /* -0.0 and +0.0 are the same score: they tie (AUROC 1/2). */
  double id = -0.0, ood = 0.0;
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(m, &id, 1, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(m, &ood, 1, 1), LOGITNORM_OK);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AUROC), 0.5);
  logitnorm_metrics_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("metrics");
  TCase *g = tcase_create("golden");
  tcase_add_test(g, golden_auroc);
  tcase_add_test(g, golden_aupr);
  tcase_add_test(g, golden_fpr_at_95);
  tcase_add_test(g, golden_nearest_versus_at_least);
  tcase_add_test(g, golden_detection_error);
  tcase_add_test(g, golden_openood_collinear);
  tcase_add_test(g, golden_curves);
  tcase_add_test(g, golden_one_call);
  tcase_add_test(g, parameters_round_trip);
  tcase_add_test(g, reset_and_self_merge);
  tcase_add_test(g, signed_zero_is_one_score);
  suite_add_tcase(s, g);
  TCase *b = tcase_create("bad_input");
  tcase_add_test(b, bad_add);
  tcase_add_test(b, bad_parameters);
  tcase_add_test(b, bad_value_and_curve);
  tcase_add_test(b, bad_one_call);
  tcase_add_test(b, bad_merge_save);
  suite_add_tcase(s, b);
  return tu_run_suite(s);
}
