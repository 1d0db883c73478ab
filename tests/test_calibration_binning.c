/* The 1.2 calibration accumulator: equal-mass binning, RMSCE, classwise ECE and the
   reliability data (logitnorm_calibration_bins): hand-computed cases, the plain reference of
   tests/support/calibration_ref.c, merge of parts against the whole, save and load (blob
   format versions 1 and 2), and bad input. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calibration_ref.h"
#include "logitnorm.h"
#include "metrics_ref.h"
#include "test_util.h"

enum { N_VALUES = 8 };

static logitnorm_calibration *make(int64_t C, int64_t bins, int binning) {
  logitnorm_calibration *c = NULL;
  ck_assert_int_eq(logitnorm_calibration_create(&c, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINS, (double)bins), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, binning), LOGITNORM_OK);
  return c;
}

static double cvalue(const logitnorm_calibration *c, int which) {
  double v = NAN;
  logitnorm_status st = logitnorm_calibration_value(c, which, &v);
  ck_assert_msg(st == LOGITNORM_OK, "value %d: %s", which, logitnorm_last_error());
  return v;
}

/* The reliability data into arrays of `cap` entries; returns the number of bins. */
static int64_t get_bins(const logitnorm_calibration *c, double *count, double *conf, double *acc, int64_t cap) {
  int64_t n = -1;
  ck_assert_int_eq(logitnorm_calibration_bins(c, NULL, NULL, NULL, 0, &n), LOGITNORM_OK);
  ck_assert(n >= 0 && n <= cap);
  int64_t again = -1;
  ck_assert_int_eq(logitnorm_calibration_bins(c, count, conf, acc, cap, &again), LOGITNORM_OK);
  ck_assert_int_eq(again, n);
  return n;
}

/* ---------------- hand-computed ---------------- */

/* The four rows of test_calibration.c, two classes:
     logits       p            conf  label correct
     (ln 9, 0)    (.9, .1)     .9    0     yes
     (0, ln 9)    (.1, .9)     .9    0     no
     (ln 1.5, 0)  (.6, .4)     .6    0     yes
     (0, 0)       (.5, .5)     .5    1     no
   Float logits move the probabilities by ~1e-7: tolerance 1e-6. */
static const int32_t HAND_Y[4] = {0, 0, 0, 1};
static void hand_logits(float *z) {
  const float v[8] = {logf(9.0f), 0.0f, 0.0f, logf(9.0f), logf(1.5f), 0.0f, 0.0f, 0.0f};
  memcpy(z, v, sizeof v);
}

START_TEST(hand_equal_width) {
  /* 4 bins: (.25,.5] holds .5 (wrong), (.5,.75] holds .6 (right), (.75,1] holds .9 twice (one right).
     RMSCE = sqrt(1/4 .5^2 + 1/4 .4^2 + 2/4 .4^2) = sqrt(.1825).
     Classwise, class 0: p_0 = .9 .1 .6 .5 against 1 1 1 0, one per bin: (.1 + .9 + .4 + .5) / 4 = .475;
     class 1: p_1 = .1 .9 .4 .5 against 0 0 0 1; .4 and .5 share (.25,.5]: |.9 - 1| = .1, so
     (.1 + .9 + .1) / 4 = .275. Classwise ECE = (.475 + .275) / 2 = .375. */
  float z[8];
  hand_logits(z);
  logitnorm_calibration *c = make(2, 4, LOGITNORM_BINNING_EQUAL_WIDTH);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, 4, z, 2, HAND_Y), LOGITNORM_OK);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_RMSCE), sqrt(0.1825), 1e-6);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_CLASSWISE_ECE), 0.375, 1e-6);
  double n[4], conf[4], acc[4];
  ck_assert_int_eq(get_bins(c, n, conf, acc, 4), 3);
  const double wn[3] = {1, 1, 2}, wc[3] = {.5, .6, .9}, wa[3] = {0, 1, .5};
  for (int k = 0; k < 3; ++k) {
    ck_assert_double_eq(n[k], wn[k]);
    ck_assert_double_eq_tol(conf[k], wc[k], 1e-6);
    ck_assert_double_eq(acc[k], wa[k]);
  }
  logitnorm_calibration_free(c);
}
END_TEST

START_TEST(hand_equal_mass) {
  /* Sorted by (confidence, correct): (.5, 0) (.6, 1) (.9, 0) (.9, 1).
     2 bins of 2: conf .55 acc .5; conf .9 acc .5: ECE = (2 .05 + 2 .4) / 4 = .225,
       MCE = .4, RMSCE = sqrt((2 .05^2 + 2 .4^2) / 4).
     3 bins of 2, 1, 1 (the first N mod B one larger): gaps .05, .9, .1: ECE = (.1 + .9 + .1) / 4.
     6 bins: N < B, four bins of one row, the two empty ones skipped: ECE = (.5 + .4 + .9 + .1) / 4. */
  float z[8];
  hand_logits(z);
  const struct {
    int64_t bins, n_bins;
    double ece, mce, rmsce;
  } cases[3] = {{2, 2, .225, .4, 0.0}, {3, 3, 1.1 / 4, .9, 0.0}, {6, 4, 1.9 / 4, .9, 0.0}};
  const double rms[3] = {sqrt((2 * .0025 + 2 * .16) / 4), sqrt((2 * .0025 + .81 + .01) / 4),
                         sqrt((.25 + .16 + .81 + .01) / 4)};
  for (int i = 0; i < 3; ++i) {
    logitnorm_calibration *c = make(2, cases[i].bins, LOGITNORM_BINNING_EQUAL_MASS);
    ck_assert_int_eq(logitnorm_calibration_add_f32(c, 4, z, 2, HAND_Y), LOGITNORM_OK);
    ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_ECE), cases[i].ece, 1e-6);
    ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_MCE), cases[i].mce, 1e-6);
    ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_RMSCE), rms[i], 1e-6);
    double n[6], conf[6], acc[6];
    ck_assert_int_eq(get_bins(c, n, conf, acc, 6), cases[i].n_bins);
    if (cases[i].bins == 3) {
      ck_assert_double_eq(n[0], 2.0);
      ck_assert_double_eq_tol(conf[0], .55, 1e-6);
      ck_assert_double_eq(acc[0], .5);
      ck_assert_double_eq(acc[1], 0.0); /* the tie at .9: the misclassified row first */
      ck_assert_double_eq(acc[2], 1.0);
    }
    double v = 7.0;
    ck_assert_int_eq(logitnorm_calibration_value(c, LOGITNORM_CALIBRATION_CLASSWISE_ECE, &v),
                     LOGITNORM_ERR_UNSUPPORTED);
    ck_assert_double_eq(v, 7.0);
    logitnorm_calibration_free(c);
  }
}
END_TEST

/* ---------------- against the reference ---------------- */

/* n rows of C classes, ld = C + 1 (NaN padding), some classes masked; labels agree with the
   argmax about 60% of the time. A few rows repeat an earlier one, so confidences tie. */
static void random_batch(tu_rng *r, int64_t n, int64_t C, float *z, int32_t *y) {
  int64_t ld = C + 1;
  for (int64_t i = 0; i < n; ++i) {
    float *row = z + i * ld;
    if (i > 0 && tu_uniform(r) < 0.1) {
      memcpy(row, z + tu_int(r, 0, i - 1) * ld, (size_t)ld * sizeof *row);
    } else {
      double scale = 0.5 + 3.0 * tu_uniform(r);
      for (int64_t j = 0; j < C; ++j) row[j] = (float)(scale * tu_normal(r));
      row[C] = NAN;
      if (C > 2 && tu_uniform(r) < 0.3) row[tu_int(r, 0, C - 1)] = -INFINITY;
    }
    int64_t best = -1;
    for (int64_t j = 0; j < C; ++j)
      if (row[j] != -INFINITY && (best < 0 || row[j] > row[best])) best = j;
    int64_t lab = tu_uniform(r) < 0.6 ? best : tu_int(r, 0, C - 1);
    while (row[lab] == -INFINITY) lab = (lab + 1) % C;
    y[i] = (int32_t)lab;
  }
}

static void check_against_reference(const logitnorm_calibration *c, int64_t n, int64_t C, const float *z,
                                    const int32_t *y, double T, int64_t bins, int binning) {
  cref_logits x = {.n = n, .C = C, .ld = C + 1, .f32 = z, .f64 = NULL, .labels = y};
  double *conf = malloc((size_t)n * sizeof *conf), *probs = malloc((size_t)(n * C) * sizeof *probs);
  int *correct = malloc((size_t)n * sizeof *correct);
  cref_rows(&x, T, conf, correct, probs);
  double *rn = malloc((size_t)bins * sizeof *rn), *rc = malloc((size_t)bins * sizeof *rc);
  double *ra = malloc((size_t)bins * sizeof *ra), *gn = malloc((size_t)bins * sizeof *gn);
  double *gc = malloc((size_t)bins * sizeof *gc), *ga = malloc((size_t)bins * sizeof *ga);
  int64_t nb = cref_bins(n, conf, correct, bins, binning, rn, rc, ra);
  cref_binned want = cref_binned_values(nb, rn, rc, ra, n);
  /* both sides form each confidence in double from the same floats; the library's sums are
     exact and the reference's plain over <= 700 terms: 1e-11 absolute */
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_ECE), want.ece, 1e-11);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_MCE), want.mce, 1e-11);
  ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_RMSCE), want.rmsce, 1e-11);
  int64_t got_n = get_bins(c, gn, gc, ga, bins);
  ck_assert_int_eq(got_n, nb);
  for (int64_t k = 0; k < nb; ++k) {
    ck_assert_double_eq(gn[k], rn[k]);
    ck_assert_double_eq_tol(gc[k], rc[k], 1e-12);
    ck_assert_double_eq_tol(ga[k], ra[k], 1e-15);
  }
  if (binning == LOGITNORM_BINNING_EQUAL_WIDTH)
    ck_assert_double_eq_tol(cvalue(c, LOGITNORM_CALIBRATION_CLASSWISE_ECE),
                            cref_classwise_ece(n, C, probs, y, bins), 1e-11);
  free(conf);
  free(probs);
  free(correct);
  free(rn);
  free(rc);
  free(ra);
  free(gn);
  free(gc);
  free(ga);
}

START_TEST(matches_reference) {
  tu_rng r;
  tu_seed(&r, 9100 + (uint64_t)_i);
  int binning = _i % 2;
  int64_t C = tu_int(&r, 2, 12), n = tu_int(&r, 1, 700), bins = _i % 5 == 0 ? 15 : tu_int(&r, 1, 40);
  if (_i % 7 == 3) n = tu_int(&r, 1, bins); /* N <= BINS: empty equal-mass bins */
  double T = _i % 3 ? 1.0 : 0.3 + 3.0 * tu_uniform(&r);
  float *z = malloc((size_t)(n * (C + 1)) * sizeof *z);
  int32_t *y = malloc((size_t)n * sizeof *y);
  random_batch(&r, n, C, z, y);
  logitnorm_calibration *c = make(C, bins, binning);
  ck_assert_int_eq(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_TEMPERATURE, T), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, n, z, C + 1, y), LOGITNORM_OK);
  check_against_reference(c, n, C, z, y, T, bins, binning);
  logitnorm_calibration_free(c);
  free(z);
  free(y);
}
END_TEST

/* ---------------- merge, save and load ---------------- */

/* Every value (UNSUPPORTED ones as NaN) and the reliability data, for bitwise comparison. */
typedef struct snapshot {
  double v[N_VALUES];
  int64_t n_bins;
  double data[3 * 64];
} snapshot;

static void take(const logitnorm_calibration *c, snapshot *s) {
  memset(s, 0, sizeof *s);
  for (int w = 0; w < N_VALUES; ++w) {
    s->v[w] = NAN;
    logitnorm_status st = logitnorm_calibration_value(c, w, &s->v[w]);
    ck_assert(st == LOGITNORM_OK || st == LOGITNORM_ERR_UNSUPPORTED);
  }
  s->n_bins = get_bins(c, s->data, s->data + 64, s->data + 128, 64);
}

static void assert_same(const snapshot *a, const snapshot *b) {
  for (int w = 0; w < N_VALUES; ++w)
    ck_assert_msg(memcmp(&a->v[w], &b->v[w], sizeof a->v[w]) == 0, "value %d: %.17g vs %.17g", w, a->v[w], b->v[w]);
  ck_assert(memcmp(a->data, b->data, sizeof a->data) == 0 && a->n_bins == b->n_bins);
}

static unsigned char *save(const logitnorm_calibration *c, size_t *size) {
  ck_assert_int_eq(logitnorm_calibration_save(c, NULL, 0, size), LOGITNORM_OK);
  unsigned char *b = malloc(*size);
  ck_assert_int_eq(logitnorm_calibration_save(c, b, *size, size), LOGITNORM_OK);
  return b;
}

START_TEST(merge_parts_equals_whole) {
  /* One accumulator fed everything, against random row ranges in three accumulators merged in
     a random order: every value and the reliability data share their bits; so do the merged
     accumulator saved and loaded (format version 2), and a self-merge keeps every ratio. */
  tu_rng r;
  tu_seed(&r, 9300 + (uint64_t)_i);
  int binning = _i % 2;
  int64_t C = tu_int(&r, 2, 9), n = tu_int(&r, 2, 900), bins = tu_int(&r, 1, 64);
  float *z = malloc((size_t)(n * (C + 1)) * sizeof *z);
  int32_t *y = malloc((size_t)n * sizeof *y);
  random_batch(&r, n, C, z, y);
  logitnorm_calibration *one = make(C, bins, binning), *merged = make(C, bins, binning);
  logitnorm_calibration *part[3] = {make(C, bins, binning), make(C, bins, binning), make(C, bins, binning)};
  ck_assert_int_eq(logitnorm_calibration_add_f32(one, n, z, C + 1, y), LOGITNORM_OK);
  for (int64_t i = 0; i < n;) {
    int64_t k = tu_int(&r, 1, n - i);
    ck_assert_int_eq(logitnorm_calibration_add_f32(part[tu_int(&r, 0, 2)], k, z + i * (C + 1), C + 1, y + i),
                     LOGITNORM_OK);
    i += k;
  }
  int first = (int)tu_int(&r, 0, 2);
  for (int j = 0; j < 3; ++j)
    ck_assert_int_eq(logitnorm_calibration_merge(merged, part[(first + j) % 3]), LOGITNORM_OK);
  static snapshot a, b, c2;
  take(one, &a);
  take(merged, &b);
  assert_same(&a, &b);
  size_t size = 0;
  unsigned char *blob = save(merged, &size);
  ck_assert_uint_eq(blob[4], 2); /* format version 2 */
  logitnorm_calibration *loaded = NULL;
  ck_assert_int_eq(logitnorm_calibration_load(&loaded, blob, size), LOGITNORM_OK);
  take(loaded, &c2);
  assert_same(&a, &c2);
  double v = -1;
  ck_assert_int_eq(logitnorm_calibration_get(loaded, LOGITNORM_CALIBRATION_BINNING, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, binning);
  /* the loaded accumulator saves to the same bytes */
  size_t size2 = 0;
  unsigned char *blob2 = save(loaded, &size2);
  ck_assert(size2 == size && memcmp(blob, blob2, size) == 0);
  ck_assert_int_eq(logitnorm_calibration_merge(loaded, loaded), LOGITNORM_OK);
  take(loaded, &c2);
  ck_assert_double_eq(c2.v[LOGITNORM_CALIBRATION_COUNT], 2.0 * (double)n);
  ck_assert(c2.v[LOGITNORM_CALIBRATION_ACCURACY] == a.v[LOGITNORM_CALIBRATION_ACCURACY]);
  if (binning == LOGITNORM_BINNING_EQUAL_WIDTH) {
    ck_assert(c2.v[LOGITNORM_CALIBRATION_ECE] == a.v[LOGITNORM_CALIBRATION_ECE]);
    ck_assert(c2.v[LOGITNORM_CALIBRATION_CLASSWISE_ECE] == a.v[LOGITNORM_CALIBRATION_CLASSWISE_ECE]);
  }
  /* reset, then the same rows again: the same values */
  ck_assert_int_eq(logitnorm_calibration_reset(loaded), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(loaded, n, z, C + 1, y), LOGITNORM_OK);
  take(loaded, &c2);
  assert_same(&a, &c2);
  free(blob);
  free(blob2);
  for (int j = 0; j < 3; ++j) logitnorm_calibration_free(part[j]);
  logitnorm_calibration_free(one);
  logitnorm_calibration_free(merged);
  logitnorm_calibration_free(loaded);
  free(z);
  free(y);
}
END_TEST

/* A blob of format version 1 made from a version 2 equal-width blob: the version field set to
   1, the version 2 part cut off, the payload size and the CRC fixed. */
static unsigned char *as_version1(const unsigned char *v2, size_t size, int64_t C, int64_t bins, size_t *size1) {
  size_t cut = 8 + (size_t)(C * bins) * 32; /* binning, reserved, the classwise cells */
  *size1 = size - cut;
  unsigned char *b = malloc(*size1);
  memcpy(b, v2, *size1 - 4);
  b[4] = 1;
  uint64_t payload = (uint64_t)(*size1 - 28);
  for (int i = 0; i < 8; ++i) b[16 + i] = (unsigned char)(payload >> (8 * i));
  mref_blob_fix_crc(b, *size1);
  return b;
}

START_TEST(version1_blobs) {
  /* A version 1 blob loads with the values it always had; it has no classwise sums, so
     CLASSWISE_ECE is INVALID_STATE, and it saves again as the same version 1 bytes. Merged
     with a 1.2 accumulator, the result has no classwise sums either; after a reset it has. */
  tu_rng r;
  tu_seed(&r, 9500);
  enum { C = 5, NR = 300, B = 12 };
  static float z[NR * (C + 1)];
  int32_t y[NR];
  random_batch(&r, NR, C, z, y);
  logitnorm_calibration *c = make(C, B, LOGITNORM_BINNING_EQUAL_WIDTH);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, NR, z, C + 1, y), LOGITNORM_OK);
  size_t size = 0, size1 = 0, again_size = 0;
  unsigned char *v2 = save(c, &size);
  unsigned char *v1 = as_version1(v2, size, C, B, &size1);
  logitnorm_calibration *old = NULL;
  ck_assert_int_eq(logitnorm_calibration_load(&old, v1, size1), LOGITNORM_OK);
  for (int w = 0; w < N_VALUES - 1; ++w) ck_assert(cvalue(old, w) == cvalue(c, w));
  double v = 3.0;
  ck_assert_int_eq(logitnorm_calibration_value(old, LOGITNORM_CALIBRATION_CLASSWISE_ECE, &v),
                   LOGITNORM_ERR_INVALID_STATE);
  ck_assert_str_ne(logitnorm_last_error(), "");
  ck_assert_double_eq(v, 3.0);
  unsigned char *again = save(old, &again_size);
  ck_assert(again_size == size1 && memcmp(again, v1, size1) == 0);
  /* adding rows keeps it without classwise sums */
  ck_assert_int_eq(logitnorm_calibration_add_f32(old, 10, z, C + 1, y), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_value(old, LOGITNORM_CALIBRATION_CLASSWISE_ECE, &v),
                   LOGITNORM_ERR_INVALID_STATE);
  /* a 1.2 accumulator merged with it loses them; values are those of all rows */
  ck_assert_int_eq(logitnorm_calibration_merge(c, old), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_value(c, LOGITNORM_CALIBRATION_CLASSWISE_ECE, &v),
                   LOGITNORM_ERR_INVALID_STATE);
  ck_assert_double_eq(cvalue(c, LOGITNORM_CALIBRATION_COUNT), 2.0 * NR + 10);
  /* an empty 1.2 accumulator merged with a version 1 one: no classwise sums */
  logitnorm_calibration *fresh = make(C, B, LOGITNORM_BINNING_EQUAL_WIDTH);
  ck_assert_int_eq(logitnorm_calibration_merge(fresh, old), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_value(fresh, LOGITNORM_CALIBRATION_CLASSWISE_ECE, &v),
                   LOGITNORM_ERR_INVALID_STATE);
  /* after a reset, new rows have them again */
  ck_assert_int_eq(logitnorm_calibration_reset(old), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_add_f32(old, NR, z, C + 1, y), LOGITNORM_OK);
  logitnorm_calibration *ref = make(C, B, LOGITNORM_BINNING_EQUAL_WIDTH);
  ck_assert_int_eq(logitnorm_calibration_add_f32(ref, NR, z, C + 1, y), LOGITNORM_OK);
  ck_assert(cvalue(old, LOGITNORM_CALIBRATION_CLASSWISE_ECE) == cvalue(ref, LOGITNORM_CALIBRATION_CLASSWISE_ECE));
  /* an empty accumulator that never had rows saves as version 1 */
  logitnorm_calibration *empty = make(C, B, LOGITNORM_BINNING_EQUAL_WIDTH);
  size_t es = 0;
  unsigned char *eb = save(empty, &es);
  ck_assert_uint_eq(eb[4], 1);
  free(eb);
  free(v1);
  free(v2);
  free(again);
  logitnorm_calibration_free(c);
  logitnorm_calibration_free(old);
  logitnorm_calibration_free(fresh);
  logitnorm_calibration_free(ref);
  logitnorm_calibration_free(empty);
}
END_TEST

/* ---------------- bad input ---------------- */

static void expect_fail(logitnorm_status got, logitnorm_status want) {
  ck_assert_int_eq(got, want);
  ck_assert_str_ne(logitnorm_last_error(), "");
}

START_TEST(bad_params_and_bins) {
  float z[8];
  hand_logits(z);
  logitnorm_calibration *c = make(2, 4, LOGITNORM_BINNING_EQUAL_WIDTH);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, 2), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, -1), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, 0.5), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, NAN), LOGITNORM_ERR_INVALID_ARGUMENT);
  double cnt[4], conf[4], acc[4];
  int64_t nb = 77;
  tu_sentinel_fill(cnt, sizeof cnt);
  /* empty */
  expect_fail(logitnorm_calibration_bins(c, cnt, conf, acc, 4, &nb), LOGITNORM_ERR_INVALID_STATE);
  ck_assert_int_eq(nb, 77);
  ck_assert_int_eq(logitnorm_calibration_add_f32(c, 4, z, 2, HAND_Y), LOGITNORM_OK);
  /* set before the first add only */
  expect_fail(logitnorm_calibration_set(c, LOGITNORM_CALIBRATION_BINNING, LOGITNORM_BINNING_EQUAL_MASS),
              LOGITNORM_ERR_INVALID_STATE);
  double v = -1;
  ck_assert_int_eq(logitnorm_calibration_get(c, LOGITNORM_CALIBRATION_BINNING, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, 0.0);
  /* bins: NULL handle or count, negative capacity, capacity too small (3 bins), overlap */
  tu_sentinel_fill(cnt, sizeof cnt);
  tu_sentinel_fill(conf, sizeof conf);
  tu_sentinel_fill(acc, sizeof acc);
  expect_fail(logitnorm_calibration_bins(NULL, cnt, conf, acc, 4, &nb), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_calibration_bins(c, cnt, conf, acc, 4, NULL), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_calibration_bins(c, cnt, conf, acc, -1, &nb), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_bins(c, cnt, conf, acc, 2, &nb), LOGITNORM_ERR_BUFFER_TOO_SMALL);
  expect_fail(logitnorm_calibration_bins(c, cnt, cnt + 1, acc, 3, &nb), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(nb, 77);
  ck_assert(tu_sentinel_intact(cnt, sizeof cnt) && tu_sentinel_intact(conf, sizeof conf) &&
            tu_sentinel_intact(acc, sizeof acc));
  /* the exact capacity and NULL arrays are fine */
  ck_assert_int_eq(logitnorm_calibration_bins(c, NULL, conf, NULL, 3, &nb), LOGITNORM_OK);
  ck_assert_int_eq(nb, 3);
  /* merge across binnings */
  logitnorm_calibration *mass = make(2, 4, LOGITNORM_BINNING_EQUAL_MASS);
  expect_fail(logitnorm_calibration_merge(mass, c), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_calibration_value(c, 8, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
  logitnorm_calibration_free(mass);
  logitnorm_calibration_free(c);
}
END_TEST

/* Edits one little-endian u64 of a blob, and re-seals its CRC. */
static void put_u64(unsigned char *b, size_t size, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = (unsigned char)(v >> (8 * i));
  mref_blob_fix_crc(b, size);
}

static logitnorm_status load_edited(const unsigned char *blob, size_t size, size_t at, uint64_t v) {
  unsigned char *b = malloc(size);
  memcpy(b, blob, size);
  put_u64(b, size, at, v);
  logitnorm_calibration *sentinel = (logitnorm_calibration *)(uintptr_t)0x5e5e, *out = sentinel;
  logitnorm_status st = logitnorm_calibration_load(&out, b, size);
  ck_assert_ptr_eq(out, sentinel);
  free(b);
  return st;
}

START_TEST(corrupt_version2_blobs) {
  enum { C = 3, B = 4, NR = 40 };
  tu_rng r;
  tu_seed(&r, 9700);
  float z[NR * (C + 1)];
  int32_t y[NR];
  random_batch(&r, NR, C, z, y);
  /* the version 2 part starts after the frame (24), 5 header fields (40) and B bins */
  size_t ext = 24 + 40 + (size_t)B * (16 + 4 * 70) + 2 * 4 * 70;
  for (int binning = 0; binning < 2; ++binning) {
    logitnorm_calibration *c = make(C, B, binning);
    ck_assert_int_eq(logitnorm_calibration_add_f32(c, NR, z, C + 1, y), LOGITNORM_OK);
    size_t size = 0;
    unsigned char *blob = save(c, &size);
    ck_assert_int_eq(load_edited(blob, size, ext, 2), LOGITNORM_ERR_CORRUPT_DATA);  /* binning 2 */
    ck_assert_int_eq(load_edited(blob, size, ext, (uint64_t)!binning), LOGITNORM_ERR_CORRUPT_DATA);
    if (binning == 0) {
      /* a cell's count one too many, a label count above its count, a probability sum too big */
      ck_assert_int_eq(load_edited(blob, size, ext + 8, (uint64_t)NR + 1), LOGITNORM_ERR_CORRUPT_DATA);
      ck_assert_int_eq(load_edited(blob, size, ext + 8 + 8, (uint64_t)NR + 1), LOGITNORM_ERR_CORRUPT_DATA);
      ck_assert_int_eq(load_edited(blob, size, ext + 8 + 24, UINT64_MAX), LOGITNORM_ERR_CORRUPT_DATA);
    } else {
      /* a count beyond the payload, a confidence of 1.5, of 0 and of NaN; a moved confidence */
      ck_assert_int_eq(load_edited(blob, size, ext + 8, UINT64_MAX / 2), LOGITNORM_ERR_CORRUPT_DATA);
      double bad[4] = {1.5, 0.0, NAN, 0.0};
      for (int k = 0; k < 4; ++k) {
        uint64_t u;
        memcpy(&u, &bad[k], sizeof u);
        if (k == 3) { /* the first confidence moved by one ulp: the stored bin sums disagree */
          double first;
          uint64_t w = 0;
          for (int i = 0; i < 8; ++i) w |= (uint64_t)blob[ext + 16 + i] << (8 * i);
          memcpy(&first, &w, sizeof first);
          first = nextafter(first, 0.0);
          memcpy(&u, &first, sizeof u);
        }
        ck_assert_int_eq(load_edited(blob, size, ext + 16, u), LOGITNORM_ERR_CORRUPT_DATA);
      }
    }
    /* truncated by one cell or confidence */
    unsigned char *cut = malloc(size);
    memcpy(cut, blob, size - 8);
    put_u64(cut, size - 8, 16, (uint64_t)(size - 8 - 28));
    logitnorm_calibration *out = NULL;
    ck_assert_int_eq(logitnorm_calibration_load(&out, cut, size - 8), LOGITNORM_ERR_CORRUPT_DATA);
    /* format version 3 */
    unsigned char *v3 = malloc(size);
    memcpy(v3, blob, size);
    v3[4] = 3;
    mref_blob_fix_crc(v3, size);
    ck_assert_int_eq(logitnorm_calibration_load(&out, v3, size), LOGITNORM_ERR_CORRUPT_DATA);
    free(cut);
    free(v3);
    free(blob);
    logitnorm_calibration_free(c);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("calibration_binning");
  TCase *t = tcase_create("calibration_binning");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, hand_equal_width);
  tcase_add_test(t, hand_equal_mass);
  tcase_add_loop_test(t, matches_reference, 0, 40);
  tcase_add_loop_test(t, merge_parts_equals_whole, 0, 20);
  tcase_add_test(t, version1_blobs);
  tcase_add_test(t, bad_params_and_bins);
  tcase_add_test(t, corrupt_version2_blobs);
  suite_add_tcase(s, t);
  return tu_run_suite(s);
}
