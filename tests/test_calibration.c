/* Calibration: a hand-computed case, comparison with the plain reference, exact merge,
   save/load, and bad input. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "metrics_ref.h"
#include "test_util.h"

static double cvalue(const logitnorm_calibration *c, int which) {
  double v = NAN;
  ck_assert_int_eq(logitnorm_calibration_value(c, which, &v), LOGITNORM_OK);
  return v;
}

static logitnorm_calibration *make(int64_t C) {
  logitnorm_calibration *c = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&c, C), LOGITNORM_OK);
  return c;
}

/* Four samples, two classes, 4 bins (0,.25] (.25,.5] (.5,.75] (.75,1]:
     logits           softmax       conf pred label correct bin
     (ln 9, 0)        (.9, .1)      .9   0    0     yes     3
     (0, ln 9)        (.1, .9)      .9   1    0     no      3
     (ln 1.5, 0)      (.6, .4)      .6   0    0     yes     2
     (0, 0)           (.5, .5)      .5   0    1     no      1  (.5 is the closed upper end)
   ECE = (1 |.5 - 0| + 1 |.6 - 1| + 2 |.9 - .5|) / 4 = (.5 + .4 + .8) / 4 = .425
   MCE = max(.5, .4, .4) = .5;  accuracy = 2/4 = .5
   NLL = (-ln .9 - ln .1 - ln .6 - ln .5) / 4 = ln(1000/27) / 4
   Brier = ((.01 + .01) + (.81 + .81) + (.16 + .16) + (.25 + .25)) / 4 = 2.46 / 4 = .615
   The logits are floats, so ln 9 and ln 1.5 carry a relative error of about 6e-8, which moves
   the probabilities by about that much: tolerance 1e-6. The .5 case is exact (exp(0) / 2). */
static void hand_case(float *z, int32_t *y) {
  const float v[8] = {logf(9.0f), 0.0f, 0.0f, logf(9.0f), logf(1.5f), 0.0f, 0.0f, 0.0f};
  const int32_t l[4] = {0, 0, 0, 1};
  memcpy(z, v, sizeof v);
  memcpy(y, l, sizeof l);
}

START_TEST(hand_computed) {
  float z[8];
  int32_t y[4];
  hand_case(z, y);
  logitnorm_calibration *c = make(2);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, 4), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, 4, z, 2, y), LOGITNORM_OK);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_ECE), 0.425, 1e-6);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_MCE), 0.5, 1e-6);
  ck_assert_double_eq(cvalue(c, LOGITNORM_CALIBRATION_ACCURACY), 0.5);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_NLL), log(1000.0 / 27.0) / 4.0, 1e-6);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_BRIER), 0.615, 1e-6);
  ck_assert_double_eq(cvalue(c, LOGITNORM_CALIBRATION_COUNT), 4.0);
  logitnorm_calibration_free(c);
}
END_TEST

START_TEST(hand_computed_temperature) {
  /* The same case with every logit doubled and T = 2 gives the same softmax. Default 15 bins:
     .9 in (13/15, 14/15], .5 in (7/15, 8/15], and .6 alone next to it (it sits on the 9/15
     boundary, so float rounding may put it on either side): three bins holding the same
     samples as before, so the same ECE .425. */
  float z[8];
  int32_t y[4];
  hand_case(z, y);
  for (int i = 0; i < 8; ++i) z[i] *= 2.0f;
  logitnorm_calibration *c = make(2);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, 2.0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, 4, z, 2, y), LOGITNORM_OK);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_ECE), 0.425, 1e-6);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_NLL), log(1000.0 / 27.0) / 4.0, 1e-6);
  double v = 0;
  ck_assert_int_eq(logitnorm_calibration_get(c, LOGITNORM_CALIBRATION_BINS, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, 15.0);
  ck_assert_int_eq(logitnorm_calibration_get(c, LOGITNORM_CALIBRATION_TEMPERATURE, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, 2.0);
  logitnorm_calibration_free(c);
}
END_TEST

/* Random logits (n rows, C classes, ld = C + 1 with a NaN in the padding column that must
   never be read) and labels that agree with the argmax about 70% of the time. */
static void random_batch(tu_rng *r, int64_t n, int64_t C, float *z, int32_t *y, double scale) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t c = 0; c < C; ++c) {
      z[i * (C + 1) + c] = (float)(scale * tu_normal(r));
      if (z[i * (C + 1) + c] > z[i * (C + 1) + best]) best = c;
    }
    z[i * (C + 1) + C] = NAN;
    y[i] = tu_uniform(r) < 0.7 ? (int32_t)best : (int32_t)tu_int(r, 0, C - 1);
  }
}

START_TEST(matches_reference) {
  /* Both sides compute each sample's softmax in double from the same float logits; the
     library's sums are exact and the reference's plain, over n <= 600 terms: relative error
     below n * eps ~ 1.3e-13, so 1e-11 absolute on values of order 1. */
  tu_rng r;
  tu_seed(&r, 7000 + (uint64_t)_i);
  int64_t C = tu_int(&r, 2, 12), n = tu_int(&r, 1, 600), bins = _i % 3 == 0 ? 15 : tu_int(&r, 1, 30);
  double T = _i % 2 ? 1.0 : 0.25 + 3.0 * tu_uniform(&r);
  float *z = malloc((size_t)(n * (C + 1)) * sizeof *z);
  int32_t *y = malloc((size_t)n * sizeof *y);
  random_batch(&r, n, C, z, y, 1.0 + 4.0 * tu_uniform(&r));
  logitnorm_calibration *c = make(C);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, (double)bins), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, T), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, n, z, C + 1, y), LOGITNORM_OK);
  mref_calibration ref;
  mref_calibrate(n, C, z, C + 1, y, T, bins, &ref);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_ECE), ref.ece, 1e-11);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_MCE), ref.mce, 1e-11);
  ck_assert_double_eq(cvalue(c, LOGITNORM_CALIBRATION_ACCURACY), ref.accuracy);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_NLL), ref.nll, 1e-11);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_BRIER), ref.brier, 1e-11);
  logitnorm_calibration_free(c);
  free(z);
  free(y);
}
END_TEST

static void all_cvalues(const logitnorm_calibration *c, double *v) {
  for (int w = 0; w <= LOGITNORM_CALIBRATION_COUNT; ++w) v[w] = cvalue(c, w);
}

START_TEST(merge_and_round_trip_are_exact) {
  /* One accumulator fed everything in order versus random row ranges in three accumulators
     merged in a random order: the sums are exact integers, so all values share their bits.
     The saved and loaded merge must give the same bits again. */
  tu_rng r;
  tu_seed(&r, 8000 + (uint64_t)_i);
  int64_t C = tu_int(&r, 2, 10), n = tu_int(&r, 2, 800);
  float *z = malloc((size_t)(n * (C + 1)) * sizeof *z);
  int32_t *y = malloc((size_t)n * sizeof *y);
  random_batch(&r, n, C, z, y, 3.0);
  logitnorm_calibration *one = make(C), *part[3] = {make(C), make(C), make(C)}, *merged = make(C);
  ck_assert_int_eq(logitnorm_calibration_add_f32(one, n, z, C + 1, y), LOGITNORM_OK);
  for (int64_t i = 0; i < n;) {
    int64_t k = tu_int(&r, 1, n - i);
    ck_assert_int_eq(logitnorm_calibration_add_f32(part[tu_int(&r, 0, 2)], k, z + i * (C + 1), C + 1, y + i),
                     LOGITNORM_OK);
    i += k;
  }
  int first = (int)tu_int(&r, 0, 2);
  for (int j = 0; j < 3; ++j) ck_assert_int_eq(logitnorm_calibration_merge(merged, part[(first + j) % 3]), LOGITNORM_OK);
  double a[6], b[6], c[6];
  all_cvalues(one, a);
  all_cvalues(merged, b);
  ck_assert(memcmp(a, b, sizeof a) == 0);
  size_t size = 0;
  ck_assert_int_eq(logitnorm_calibration_save(merged, NULL, 0, &size), LOGITNORM_OK);
  unsigned char *blob = malloc(size);
  ck_assert_int_eq(logitnorm_calibration_save(merged, blob, size, &size), LOGITNORM_OK);
  logitnorm_calibration *loaded = NULL;
  ck_assert_int_eq(logitnorm_calibration_load(&loaded, blob, size), LOGITNORM_OK);
  all_cvalues(loaded, c);
  ck_assert(memcmp(a, c, sizeof a) == 0);
  /* Self-merge doubles every count and sum: ratios keep their value. */
  ck_assert_int_eq(logitnorm_calibration_merge(loaded, loaded), LOGITNORM_OK);
  ck_assert_double_eq(cvalue(loaded, LOGITNORM_CALIBRATION_COUNT), 2.0 * (double)n);
  ck_assert(cvalue(loaded, LOGITNORM_CALIBRATION_ACCURACY) == a[LOGITNORM_CALIBRATION_ACCURACY]);
  free(blob);
  for (int j = 0; j < 3; ++j) logitnorm_calibration_free(part[j]);
  logitnorm_calibration_free(one);
  logitnorm_calibration_free(merged);
  logitnorm_calibration_free(loaded);
  free(z);
  free(y);
}
END_TEST

/* ---------------- bad input ---------------- */

static void expect_fail(logitnorm_status got, logitnorm_status want) {
  ck_assert_int_eq(got, want);
  ck_assert_str_ne(logitnorm_last_error(), "");
}

static unsigned char *snapshot(const logitnorm_calibration *c, size_t *size) {
  ck_assert_int_eq(logitnorm_calibration_save(c, NULL, 0, size), LOGITNORM_OK);
  unsigned char *b = malloc(*size);
  ck_assert_int_eq(logitnorm_calibration_save(c, b, *size, size), LOGITNORM_OK);
  return b;
}

static void assert_unchanged(const logitnorm_calibration *c, const unsigned char *before, size_t size) {
  size_t s2 = 0;
  unsigned char *after = snapshot(c, &s2);
  ck_assert_uint_eq(s2, size);
  ck_assert(memcmp(before, after, size) == 0);
  free(after);
}

START_TEST(bad_input) {
  float z[8];
  int32_t y[4];
  hand_case(z, y);
  logitnorm_calibration *c = make(2), *other = make(3), *out = NULL;
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, 4, z, 2, y), LOGITNORM_OK);
  size_t size = 0;
  unsigned char *before = snapshot(c, &size);
  int32_t bad_label[4] = {0, 2, 0, 1}, neg_label[4] = {0, 0, -1, 1};
  expect_fail(logitnorm_calibration_add_f32(c, 4, z, 2, bad_label), LOGITNORM_ERR_INVALID_LABEL);
  expect_fail(logitnorm_calibration_add_f32(c, 4, z, 2, neg_label), LOGITNORM_ERR_INVALID_LABEL);
  float zbad[8];
  memcpy(zbad, z, sizeof z);
  zbad[5] = INFINITY;
  expect_fail(logitnorm_calibration_add_f32(c, 4, zbad, 2, y), LOGITNORM_ERR_NONFINITE);
  zbad[5] = NAN;
  expect_fail(logitnorm_calibration_add_f32(c, 4, zbad, 2, y), LOGITNORM_ERR_NONFINITE);
  expect_fail(logitnorm_calibration_add_f32(c, 4, z, 1, y), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_add_f32(c, -1, z, 2, y), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_add_f32(c, 4, NULL, 2, y), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_calibration_add_f32(c, 4, z, 2, NULL), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_calibration_add_f32(NULL, 4, z, 2, y), LOGITNORM_ERR_NULL_POINTER);
  /* Parameters: out of range, unknown, or changed after data were added. */
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, 2.5), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, NAN), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_set(c, 499, 1), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, 10), LOGITNORM_ERR_INVALID_STATE);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, 2), LOGITNORM_ERR_INVALID_STATE);
  /* Merge with different classes, and with different bins. */
  expect_fail(logitnorm_calibration_merge(c, other), LOGITNORM_ERR_INVALID_ARGUMENT);
  logitnorm_calibration *b4 = make(2);
  ck_assert_int_eq(logitnorm_calibration_set(b4, LOGITNORM_CALIBRATION_BINS, 4), LOGITNORM_OK);
  expect_fail(logitnorm_calibration_merge(c, b4), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_merge(c, NULL), LOGITNORM_ERR_NULL_POINTER);
  assert_unchanged(c, before, size);
  /* Values: unknown kind, empty accumulator, NULL out. */
  double v = 1234.5;
  expect_fail(logitnorm_calibration_value(c, 8, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_value(b4, LOGITNORM_CALIBRATION_ECE, &v), LOGITNORM_ERR_INVALID_STATE);
  expect_fail(logitnorm_calibration_value(c, LOGITNORM_CALIBRATION_ECE, NULL), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_calibration_get(c, 499, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_double_eq(v, 1234.5);
  ck_assert_double_eq(cvalue(b4, LOGITNORM_CALIBRATION_COUNT), 0.0);
  /* Creation. */
  logitnorm_calibration *sentinel = (logitnorm_calibration *)&v;
  out = sentinel;
  expect_fail(logitnorm_calibration_create(&out, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_eq(out, sentinel);
  expect_fail(logitnorm_calibration_create(NULL, 3), LOGITNORM_ERR_NULL_POINTER);
  /* Reset keeps parameters and allows changing them again. */
  ck_assert_int_eq(logitnorm_calibration_reset(c), LOGITNORM_OK);
  ck_assert_double_eq(cvalue(c, LOGITNORM_CALIBRATION_COUNT), 0.0);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, 10), LOGITNORM_OK);
  logitnorm_calibration_free(NULL);
  logitnorm_calibration_free(b4);
  logitnorm_calibration_free(c);
  logitnorm_calibration_free(other);
  free(before);
}
END_TEST

int main(void) {
  Suite *s = suite_create("calibration");
  TCase *t = tcase_create("calibration");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, hand_computed);
  tcase_add_test(t, hand_computed_temperature);
  tcase_add_loop_test(t, matches_reference, 0, 30);
  tcase_add_loop_test(t, merge_and_round_trip_are_exact, 0, 20);
  tcase_add_test(t, bad_input);
  suite_add_tcase(s, t);
  return tu_run_suite(s);
}
