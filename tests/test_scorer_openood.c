/* The scorers of 1.2 from OpenOOD v1.5's leaders: NNGUIDE, FDBD, SCALE and DML, against the
   double references in support/score_ref.c and hand-computed cases; ties in the argmax and at
   the percentile; K against the bank size; LAMBDA; bad input of each kind with nothing
   written; score_grad; THREADS 1, 2 and 3 bit for bit, and callers sharing a handle. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "score_ref.h"
#include "test_util.h"

#define EXPECT_FAIL(call, status, buf, bytes)                                \
  do {                                                                       \
    sr_sentinel_fill((buf), (bytes));                                        \
    ck_assert_int_eq((call), (status));                                      \
    ck_assert_msg(logitnorm_last_error()[0] != '\0', "no error text");       \
    ck_assert_msg(sr_sentinel_intact((buf), (bytes)), "output was written"); \
  } while (0)

static logitnorm_scorer *make(int kind, int c, int d) {
  logitnorm_scorer *s = NULL;
  ck_assert_int_eq(logitnorm_scorer_create(&s, kind, c, d), LOGITNORM_OK);
  return s;
}

static void fill_normal(sr_rng *r, float *f, double *dd, int n, double scale, double shift) {
  for (int i = 0; i < n; ++i) {
    f[i] = (float)(shift + scale * sr_normal(r));
    if (dd != NULL) dd[i] = f[i];
  }
}

static void expect_rel(double got, double want, double rel, const char *what, int row) {
  ck_assert_msg(fabs(got - want) <= rel * fmax(1.0, fabs(want)), "%s row %d: got %.9g want %.9g", what, row, got,
                want);
}

static double param(const logitnorm_scorer *s, int p) {
  double v = NAN;
  ck_assert_int_eq(logitnorm_scorer_get(s, p, &v), LOGITNORM_OK);
  return v;
}

/* ---------------- NNGUIDE ---------------- */

static void nnguide_case(int c, int d, int n, int q, int k, int batches, uint64_t seed) {
  sr_rng rng;
  sr_seed(&rng, seed);
  float *w = malloc(sizeof(float) * (size_t)c * d), *b = malloc(sizeof(float) * (size_t)c);
  float *h = malloc(sizeof(float) * (size_t)n * d), *x = malloc(sizeof(float) * (size_t)q * d);
  double *wd = malloc(sizeof(double) * (size_t)c * d), *bd = malloc(sizeof(double) * (size_t)c);
  double *hd = malloc(sizeof(double) * (size_t)n * d), *xd = malloc(sizeof(double) * (size_t)q * d);
  float *out = malloc(sizeof(float) * (size_t)q);
  fill_normal(&rng, w, wd, c * d, 0.5, 0.0);
  fill_normal(&rng, b, bd, c, 0.5, 0.0);
  fill_normal(&rng, h, hd, n * d, 1.0, 0.3);
  fill_normal(&rng, x, xd, q * d, 1.0, 0.3);
  for (int j = 0; j < d; ++j) h[j] = (float)(hd[j] = 0.0);             /* a zero fit row: a zero bank row */
  for (int j = 0; j < d; ++j) x[d + j] = (float)(xd[d + j] = 0.0);     /* a zero query: score 0 */
  logitnorm_scorer *s = make(LOGITNORM_SCORE_NNGUIDE, c, d);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, k), LOGITNORM_OK);
  for (int bi = 0; bi < batches; ++bi) {
    int r0 = bi * n / batches, r1 = (bi + 1) * n / batches;
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, r1 - r0, h + (size_t)r0 * d, d, NULL, 0, NULL), LOGITNORM_OK);
  }
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, d, b), LOGITNORM_OK); /* the head may come after the fit */
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, q, NULL, 0, x, d, out), LOGITNORM_OK);
  /* float GEMMs (the head logits and the inner products, D terms each, ~1e-6 relative) and a
     float bank: 2e-5 relative of scores of size ~1 to 10 */
  for (int i = 0; i < q; ++i)
    expect_rel(out[i], sr_nnguide(wd, bd, c, d, hd, n, xd + (size_t)i * d, k), 2e-5, "nnguide", i);
  ck_assert(out[1] == 0.0f);
  logitnorm_scorer_free(s);
  free(w);
  free(b);
  free(h);
  free(x);
  free(wd);
  free(bd);
  free(hd);
  free(xd);
  free(out);
}

START_TEST(test_nnguide_reference) {
  nnguide_case(5, 12, 300, 40, 10, 3, 1);
  nnguide_case(4, 6, 5000, 600, 100, 4, 2); /* more than one bank block and one query block; default-sized K */
  nnguide_case(3, 8, 60, 10, 60, 1, 3);     /* K = the whole bank */
  nnguide_case(2, 5, 20, 7, 1, 2, 4);       /* K = 1: the nearest row alone */
}
END_TEST

/* Hand case: W = I (2 x 2), b = 0, fit rows (1, 0) and (0, 2). Energies: lse(1, 0) =
   ln(1 + e) = 1.3132617, lse(0, 2) = ln(1 + e^2) = 2.1269280; bank g1 = (1.3132617, 0),
   g2 = (0, 2.1269280). Query (3, 4): unit (0.6, 0.8), inner products 0.7879570 and 1.7015424,
   K = 2: mean 1.2447497; energy lse(3, 4) = 4 + ln(1 + e^-1) = 4.3132617; score
   4.3132617 * 1.2447497 = 5.3689312. K = 1: 4.3132617 * 1.7015424 = 7.3391977. */
START_TEST(test_nnguide_hand) {
  const float w[4] = {1, 0, 0, 1}, fit[4] = {1, 0, 0, 2}, x[2] = {3, 4};
  float out[1];
  logitnorm_scorer *s = make(LOGITNORM_SCORE_NNGUIDE, 2, 2);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, 2, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 2), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 2, fit, 2, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], 5.3689312f, 2e-6f);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 1), LOGITNORM_OK); /* K may change after prepare */
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], 7.3391977f, 2e-6f);
  logitnorm_scorer_free(s);
}
END_TEST

/* K defaults to 100 for NNGUIDE (50 for KNN); K above the bank size is INVALID_ARGUMENT at
   prepare and at score, as for KNN (OpenOOD's faiss search would pad the missing neighbours
   with placeholders and average them in). */
START_TEST(test_nnguide_states) {
  enum { C = 3, D = 4, N = 50 };
  sr_rng rng;
  sr_seed(&rng, 5);
  float w[C * D], h[N * D], out[N];
  fill_normal(&rng, w, NULL, C * D, 1.0, 0.0);
  fill_normal(&rng, h, NULL, N * D, 1.0, 0.0);
  logitnorm_scorer *s = make(LOGITNORM_SCORE_NNGUIDE, C, D), *knn = make(LOGITNORM_SCORE_KNN, C, D);
  ck_assert(param(s, LOGITNORM_SCORER_K) == 100.0);
  ck_assert(param(knn, LOGITNORM_SCORER_K) == 50.0);
  logitnorm_scorer_free(knn);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0); /* no head, no fit */
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, NULL), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0); /* no head */
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, N, NULL, 0, h, D, out), LOGITNORM_ERR_INVALID_STATE, out, sizeof out);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, NULL), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0); /* K = 100 > 50 rows */
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, N), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, N, NULL, 0, h, D, out), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, N + 1), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, N, NULL, 0, h, D, out), LOGITNORM_ERR_INVALID_ARGUMENT, out, sizeof out);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, N), LOGITNORM_OK);
  /* the bank was built with the head: it cannot change now; fitting is closed */
  EXPECT_FAIL(logitnorm_scorer_set_head_f32(s, w, D, NULL), LOGITNORM_ERR_INVALID_STATE, out, 0);
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, NULL), LOGITNORM_ERR_INVALID_STATE, out, 0);
  h[7] = NAN;
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, N, NULL, 0, h, D, out), LOGITNORM_ERR_NONFINITE, out, sizeof out);
  logitnorm_scorer_free(s);
  /* a fit row whose energy is not finite in float: prepare fails and the handle can still prepare
     once the head is fixed */
  s = make(LOGITNORM_SCORE_NNGUIDE, C, D);
  h[7] = 1.0f;
  float big[C * D];
  for (int i = 0; i < C * D; ++i) big[i] = 3e38f; /* finite, but the logits overflow */
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 5), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, big, D, NULL), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_NONFINITE, out, 0);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  logitnorm_scorer_free(s);
}
END_TEST

/* ---------------- FDBD ---------------- */

START_TEST(test_fdbd_reference) {
  sr_rng rng;
  sr_seed(&rng, 11);
  enum { C = 6, D = 10, N = 120, Q = 30 };
  float w[C * D], b[C], h[N * D], x[Q * D], out[Q];
  double wd[C * D], bd[C], hd[N * D], xd[Q * D];
  fill_normal(&rng, w, wd, C * D, 1.0, 0.0);
  fill_normal(&rng, b, bd, C, 1.0, 0.0);
  fill_normal(&rng, h, hd, N * D, 1.0, 2.0); /* a mean far from 0: ||h - mean|| is not ||h|| */
  fill_normal(&rng, x, xd, Q * D, 1.5, 2.0);
  logitnorm_scorer *s = make(LOGITNORM_SCORE_FDBD, C, D);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, b), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 50, h, D, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N - 50, h + 50 * D, D, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, x, D, out), LOGITNORM_OK);
  /* float logits (|z| ~ 5, 10 products) enter as differences: 1e-5 relative */
  for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_fdbd(wd, bd, C, D, hd, N, xd + i * D), 1e-5, "fdbd", i);
  /* the head may change after prepare: the mean stays, the distances follow the head */
  for (int i = 0; i < C * D; ++i) wd[i] = w[i] = (float)(0.5 * w[i] + 0.25 * ((i * 7) % 5 - 2));
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, x, D, out), LOGITNORM_OK);
  for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_fdbd(wd, NULL, C, D, hd, N, xd + i * D), 1e-5, "fdbd new head", i);
  logitnorm_scorer_free(s);
}
END_TEST

/* Hand case: W = I (2 x 2), b = 0, fit rows (0, 0) and (2, 0): mean (1, 0). h = (3, 1):
   z = (3, 1), a = 0, |3 - 1| / ||(1, -1)|| = sqrt 2, over C - 1 = 1, over ||(2, 1)|| = sqrt 5:
   sqrt(2 / 5) = 0.63245553. */
START_TEST(test_fdbd_hand) {
  const float w[4] = {1, 0, 0, 1}, fit[4] = {0, 0, 2, 0}, x[2] = {3, 1};
  float out[1];
  logitnorm_scorer *s = make(LOGITNORM_SCORE_FDBD, 2, 2);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 2, fit, 2, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, 2, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], 0.63245553f, 1e-7f);
  logitnorm_scorer_free(s);
}
END_TEST

/* A tie for the largest logit: the first index is the argmax, and here the choice matters.
   W = ((1, 0), (0, 1), (3, 1)), b = (0, 0, -10), h = (1, 1): z = (1, 1, -6), exact in float.
   With a = 0: |1 + 6| / ||w0 - w2|| = 7 / sqrt 5; with a = 1: 7 / 3. The mean is 0 (fit rows
   (1, 0) and (-1, 0)), so the score is that over 2 sqrt 2: 1.1067972 (first index) against
   0.8249579 (the other). */
START_TEST(test_fdbd_tie) {
  const float w[6] = {1, 0, 0, 1, 3, 1}, b[3] = {0, 0, -10}, fit[4] = {1, 0, -1, 0}, x[2] = {1, 1};
  const double wd[6] = {1, 0, 0, 1, 3, 1}, bd[3] = {0, 0, -10}, mean[2] = {0, 0}, xd[2] = {1, 1};
  float out[1];
  logitnorm_scorer *s = make(LOGITNORM_SCORE_FDBD, 3, 2);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, 2, b), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 2, fit, 2, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_OK);
  double first = sr_fdbd_at(wd, bd, 3, 2, mean, xd, 0), second = sr_fdbd_at(wd, bd, 3, 2, mean, xd, 1);
  ck_assert(fabs(first - second) > 0.1); /* the case tells the two apart */
  ck_assert_float_eq_tol(out[0], (float)first, 1e-6f);
  ck_assert_float_eq_tol(out[0], 1.1067972f, 1e-6f);
  logitnorm_scorer_free(s);
}
END_TEST

START_TEST(test_fdbd_bad_input) {
  const float w[6] = {1, 0, 0, 1, 3, 1}, same[6] = {1, 0, 0, 1, 1, 0}, fit[4] = {1, 0, -1, 0};
  const float x[4] = {2, 1, 0, 0}; /* row 1 equals the fit mean */
  float out[2], before[2];
  logitnorm_scorer *s = NULL;
  EXPECT_FAIL(logitnorm_scorer_create(&s, LOGITNORM_SCORE_FDBD, 1, 2), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0);
  ck_assert_ptr_null(s);
  s = make(LOGITNORM_SCORE_FDBD, 3, 2);
  EXPECT_FAIL(logitnorm_scorer_set_head_f32(s, same, 2, NULL), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0);
  ck_assert_msg(strstr(logitnorm_last_error(), "rows 0 and 2") != NULL, "%s", logitnorm_last_error());
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 2, fit, 2, NULL, 0, NULL), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0); /* the failed head was not taken */
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, 2, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, before), LOGITNORM_OK);
  /* a rejected head leaves the old one in place */
  EXPECT_FAIL(logitnorm_scorer_set_head_f32(s, same, 2, NULL), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_OK);
  ck_assert_mem_eq(out, before, sizeof(float));
  /* a row at the fit mean has an infinite score: NONFINITE, nothing written */
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 2, NULL, 0, x, 2, out), LOGITNORM_ERR_NONFINITE, out, sizeof out);
  ck_assert_msg(strstr(logitnorm_last_error(), "row 1 equal the fit mean") != NULL, "%s", logitnorm_last_error());
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_FDBD, 3, 2); /* prepare without a fit */
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, 2, NULL), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_ERR_INVALID_STATE, out, sizeof(float));
  logitnorm_scorer_free(s);
}
END_TEST

/* Two weight rows one float ulp apart in one entry: their squared distance (~1e-15) is far below
   the rounding of the Gram matrix entries (~1e-14 for D = 64), so it must come from the direct
   sum; the Gram matrix would make it noise, or even call the rows equal. With h = e_5 the
   logits are exact in float (every other product is 0), z_1 - z_0 = w_1,5 - w_0,5, and the
   term of class 0 is exactly 1. */
START_TEST(test_fdbd_close_rows) {
  enum { C = 3, D = 64 };
  sr_rng rng;
  sr_seed(&rng, 13);
  float w[C * D], fit[2 * D], x[D] = {0}, out[1];
  double wd[C * D], fitd[2 * D], xd[D] = {0};
  fill_normal(&rng, w, NULL, C * D, 1.0, 0.0);
  for (int j = 0; j < D; ++j) w[D + j] = w[j];
  w[D + 5] = nextafterf(w[5], INFINITY); /* class 1 wins, one ulp above class 0 */
  w[2 * D + 5] = -5.0f;
  for (int i = 0; i < C * D; ++i) wd[i] = w[i];
  fill_normal(&rng, fit, fitd, 2 * D, 1.0, 0.0);
  x[5] = 1.0f;
  xd[5] = 1.0;
  logitnorm_scorer *s = make(LOGITNORM_SCORE_FDBD, C, D);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 2, fit, D, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, D, out), LOGITNORM_OK);
  expect_rel(out[0], sr_fdbd(wd, NULL, C, D, fitd, 2, xd), 1e-5, "fdbd close rows", 0);
  logitnorm_scorer_free(s);
}
END_TEST

/* ---------------- SCALE ---------------- */

START_TEST(test_scale_reference) {
  sr_rng rng;
  sr_seed(&rng, 21);
  enum { C = 7, D = 30, Q = 25 };
  float w[C * D], b[C], x[Q * D], out[Q];
  double wd[C * D], bd[C], xd[Q * D];
  fill_normal(&rng, w, wd, C * D, 0.3, 0.0);
  fill_normal(&rng, b, bd, C, 0.5, 0.0);
  for (int i = 0; i < Q * D; ++i) xd[i] = x[i] = (float)fabs(sr_normal(&rng)); /* post-ReLU-like */
  for (int j = 0; j < D; ++j) xd[2 * D + j] = x[2 * D + j] = 0.0f;               /* a zero row: r = 0 */
  for (int j = 0; j < D; ++j) xd[3 * D + j] = x[3 * D + j] = 0.0f; /* the kept entries sum to 0, the row not: r = 0 */
  xd[3 * D] = x[3 * D] = -1.0f;
  xd[3 * D + 1] = x[3 * D + 1] = -0.5f;
  const double pcts[] = {85, 65, 0, 50, 99}; /* 99: keeps round-to 0 entries of 30, so r = 0 */
  const double temps[] = {1, 1, 1, 2.5, 1};
  for (int p = 0; p < 5; ++p) {
    logitnorm_scorer *s = make(LOGITNORM_SCORE_SCALE, C, D);
    ck_assert(param(s, LOGITNORM_SCORER_PERCENTILE) == 85.0); /* OpenOOD's default for SCALE */
    ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, b), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, pcts[p]), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, temps[p]), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, x, D, out), LOGITNORM_OK);
    /* r ~ 1 to 3; the scale multiplies float logits (1e-6 relative): 1e-5 relative */
    for (int i = 0; i < Q; ++i)
      expect_rel(out[i], sr_scale(wd, bd, C, D, xd + i * D, pcts[p], temps[p]), 1e-5, "scale", i);
    logitnorm_scorer_free(s);
  }
  logitnorm_scorer *ash = make(LOGITNORM_SCORE_ASH, C, D);
  ck_assert(param(ash, LOGITNORM_SCORER_PERCENTILE) == 90.0); /* the other kinds keep 90 */
  logitnorm_scorer_free(ash);
}
END_TEST

/* Ties at the k-th value: the kept sum is a sum over a multiset, the same whichever tied
   entries are taken. D = 20 at p = 85 keeps 3; rows of small integers with 1 to 5 copies of
   their largest value, and a row with its 3rd and 4th largest equal. Hand case for row 0,
   (2, 2, 2, 2, 2, 1, 0, ..., 0): s1 = 11, s2 = 6, r = 11/6. */
START_TEST(test_scale_ties) {
  enum { C = 3, D = 20, Q = 6 };
  sr_rng rng;
  sr_seed(&rng, 23);
  float w[C * D], x[Q * D], out[Q];
  double wd[C * D], xd[Q * D];
  fill_normal(&rng, w, wd, C * D, 0.3, 0.0);
  memset(x, 0, sizeof x);
  for (int i = 0; i < Q; ++i) {
    int copies = i < 5 ? i + 1 : 1;
    for (int j = 0; j < copies; ++j) x[i * D + (j * 3) % D] = 2.0f;
    x[i * D + 19] = 1.0f;
  }
  x[5 * D + 4] = 1.0f; /* row 5: 2, then 1 twice: the 3rd and 4th largest tie */
  x[0 * D + 7] = 2.0f; /* row 0: five 2s */
  x[0 * D + 9] = 2.0f;
  x[0 * D + 11] = 2.0f;
  x[0 * D + 13] = 2.0f;
  for (int i = 0; i < Q * D; ++i) xd[i] = x[i];
  logitnorm_scorer *s = make(LOGITNORM_SCORE_SCALE, C, D);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, x, D, out), LOGITNORM_OK);
  for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_scale(wd, NULL, C, D, xd + i * D, 85, 1.0), 1e-5, "scale tie", i);
  /* row 0 by hand: the energy of e^(11/6) W x */
  double z[C], y[D];
  for (int j = 0; j < D; ++j) y[j] = xd[j] * exp(11.0 / 6.0);
  sr_head(wd, NULL, C, D, y, z);
  expect_rel(out[0], sr_energy(z, C, 1.0), 1e-5, "scale hand", 0);
  logitnorm_scorer_free(s);
}
END_TEST

/* ---------------- DML ---------------- */

START_TEST(test_dml_reference) {
  sr_rng rng;
  sr_seed(&rng, 31);
  enum { C = 8, D = 16, Q = 30 };
  float w[C * D], b[C], x[Q * D], out[Q];
  double wd[C * D], xd[Q * D];
  fill_normal(&rng, w, wd, C * D, 1.0, 0.0);
  for (int j = 0; j < D; ++j) wd[3 * D + j] = w[3 * D + j] = 0.0f; /* a zero class row: cosine 0 */
  for (int c = 0; c < C; ++c) b[c] = 100.0f * (float)(c - 4);      /* the bias must not matter */
  fill_normal(&rng, x, xd, Q * D, 2.0, 0.5);
  for (int j = 0; j < D; ++j) xd[4 * D + j] = x[4 * D + j] = 0.0f; /* a zero row scores 0 */
  for (int j = 0; j < D; ++j) xd[5 * D + j] = x[5 * D + j] = -w[j]; /* every cosine <= 0 but the zero row's */
  const double lambdas[] = {0.0, 0.5, 3.0};
  for (int l = 0; l < 3; ++l) {
    logitnorm_scorer *s = make(LOGITNORM_SCORE_DML, C, D);
    ck_assert(param(s, LOGITNORM_SCORER_LAMBDA) == 0.0);
    ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, l == 1 ? b : NULL), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_LAMBDA, lambdas[l]), LOGITNORM_OK);
    ck_assert(param(s, LOGITNORM_SCORER_LAMBDA) == lambdas[l]);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, x, D, out), LOGITNORM_OK);
    /* cosines from a float GEMM of 16 terms: 1e-6 absolute; the norm term in double */
    for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_dml(wd, C, D, xd + i * D, lambdas[l]), 2e-6, "dml", i);
    ck_assert(out[4] == 0.0f);
    logitnorm_scorer_free(s);
  }
}
END_TEST

/* Hand case: W = ((1, 0), (0, 2)), h = (3, 4): cosines 0.6 and 0.8 (the norm of w_1 does not
   count), ||h|| = 5; LAMBDA = 0.1: 0.8 + 0.5 = 1.3. */
START_TEST(test_dml_hand) {
  const float w[4] = {1, 0, 0, 2}, x[2] = {3, 4};
  float out[1];
  logitnorm_scorer *s = make(LOGITNORM_SCORE_DML, 2, 2);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_ERR_INVALID_STATE, out, sizeof out);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, 2, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], 0.8f, 1e-7f);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_LAMBDA, 0.1), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, NULL, 0, x, 2, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], 1.3f, 1e-7f);
  logitnorm_scorer_free(s);
}
END_TEST

START_TEST(test_lambda_param) {
  logitnorm_scorer *s = make(LOGITNORM_SCORE_DML, 2, 2);
  double v = 0.0;
  const double bad[] = {-1.0, -1e-300, NAN, INFINITY, -INFINITY};
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_LAMBDA, 0.25), LOGITNORM_OK);
  for (int i = 0; i < 5; ++i) {
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_LAMBDA, bad[i]), LOGITNORM_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(logitnorm_last_error(), "lambda") != NULL, "%s", logitnorm_last_error());
    ck_assert(param(s, LOGITNORM_SCORER_LAMBDA) == 0.25); /* unchanged */
  }
  ck_assert_int_eq(logitnorm_scorer_get(s, LOGITNORM_SCORER_LAMBDA, NULL), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_LAMBDA, 0.0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_get(s, LOGITNORM_SCORER_LAMBDA, &v), LOGITNORM_OK);
  ck_assert(v == 0.0);
  logitnorm_scorer_free(s);
}
END_TEST

/* ---------------- all four ---------------- */

static const int kNew[] = {LOGITNORM_SCORE_NNGUIDE, LOGITNORM_SCORE_FDBD, LOGITNORM_SCORE_SCALE,
                           LOGITNORM_SCORE_DML};

typedef struct big_data {
  int c, d, n, q;
  float *w, *b, *h, *x;
} big_data;

static big_data big_make(int c, int d, int n, int q) {
  sr_rng rng;
  sr_seed(&rng, 41);
  big_data g = {.c = c, .d = d, .n = n, .q = q, .w = malloc(sizeof(float) * (size_t)c * d),
                .b = malloc(sizeof(float) * (size_t)c), .h = malloc(sizeof(float) * (size_t)n * d),
                .x = malloc(sizeof(float) * (size_t)q * d)};
  fill_normal(&rng, g.w, NULL, c * d, 0.2, 0.0);
  fill_normal(&rng, g.b, NULL, c, 0.5, 0.0);
  for (int i = 0; i < n * d; ++i) g.h[i] = (float)fabs(sr_normal(&rng));
  for (int i = 0; i < q * d; ++i) g.x[i] = (float)fabs(1.2 * sr_normal(&rng));
  return g;
}

static void big_free(big_data *g) {
  free(g->w);
  free(g->b);
  free(g->h);
  free(g->x);
}

static logitnorm_scorer *big_scorer(int kind, const big_data *g) {
  logitnorm_scorer *s = make(kind, g->c, g->d);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, g->w, g->d, g->b), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_LAMBDA, 0.3), LOGITNORM_OK);
  if (g->n < 100) ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 10), LOGITNORM_OK);
  if (kind == LOGITNORM_SCORE_NNGUIDE || kind == LOGITNORM_SCORE_FDBD) {
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, g->n, g->h, g->d, NULL, 0, NULL), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  }
  return s;
}

/* THREADS 1, 2 and 3 give the same bits: several query blocks, two bank blocks (NNGUIDE), and
   a GEMM large enough that BLIS splits it. */
START_TEST(test_threads_bitwise) {
  big_data g = big_make(40, 64, 5000, 700);
  float *a = malloc(sizeof(float) * 700), *b = malloc(sizeof(float) * 700);
  for (int k = 0; k < 4; ++k) {
    logitnorm_scorer *s = big_scorer(kNew[k], &g);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, g.q, NULL, 0, g.x, g.d, a), LOGITNORM_OK);
    for (int t = 2; t <= 3; ++t) {
      ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, t), LOGITNORM_OK);
      ck_assert_int_eq(logitnorm_scorer_score_f32(s, g.q, NULL, 0, g.x, g.d, b), LOGITNORM_OK);
      ck_assert_msg(memcmp(a, b, sizeof(float) * 700) == 0, "kind %d: THREADS = %d differs", kNew[k], t);
    }
    logitnorm_scorer_free(s);
  }
  free(a);
  free(b);
  big_free(&g);
}
END_TEST

/* Callers sharing one handle (THREADS = 2 inside), as tests/test_concurrency.c does for the
   loss and Mahalanobis: each gets the single-threaded result bit for bit. */
typedef struct shared_call {
  const logitnorm_scorer *s;
  const float *x;
  int n, d;
  float out[300];
  logitnorm_status st;
} shared_call;

static void *score_thread(void *arg) {
  shared_call *c = arg;
  for (int rep = 0; rep < 5 && c->st == LOGITNORM_OK; ++rep)
    c->st = logitnorm_scorer_score_f32(c->s, c->n, NULL, 0, c->x, c->d, c->out);
  return NULL;
}

START_TEST(test_shared_handles) {
  enum { T = 4, Q = 300 };
  big_data g = big_make(12, 24, 600, Q);
  for (int k = 0; k < 4; ++k) {
    logitnorm_scorer *s = big_scorer(kNew[k], &g);
    float want[Q];
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, g.x, g.d, want), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, 2), LOGITNORM_OK);
    static shared_call calls[T];
    pthread_t tid[T];
    for (int t = 0; t < T; ++t) {
      calls[t] = (shared_call){.s = s, .x = g.x, .n = Q, .d = g.d, .st = LOGITNORM_OK};
      ck_assert_int_eq(pthread_create(&tid[t], NULL, score_thread, &calls[t]), 0);
    }
    for (int t = 0; t < T; ++t) {
      pthread_join(tid[t], NULL);
      ck_assert_int_eq(calls[t].st, LOGITNORM_OK);
      ck_assert_msg(memcmp(calls[t].out, want, sizeof want) == 0, "kind %d caller %d differs", kNew[k], t);
    }
    logitnorm_scorer_free(s);
  }
  big_free(&g);
}
END_TEST

/* score_grad is for the logit-only kinds: the new kinds work on features and give
   UNSUPPORTED, writing neither scores nor gradient. Fit on the kinds that do not fit is
   UNSUPPORTED too, and prepare on them does nothing. */
START_TEST(test_grad_and_fit_unsupported) {
  big_data g = big_make(4, 6, 30, 3);
  float z[3 * 4] = {1, 2, 3, 4, 0, 0, 1, 0, -1, 2, 2, 1}, scores[3], grad[3 * 4];
  for (int k = 0; k < 4; ++k) {
    logitnorm_scorer *s = make(kNew[k], 4, 6);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 5), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, g.w, 6, g.b), LOGITNORM_OK);
    if (kNew[k] == LOGITNORM_SCORE_SCALE || kNew[k] == LOGITNORM_SCORE_DML) {
      EXPECT_FAIL(logitnorm_scorer_fit_f32(s, 30, g.h, 6, NULL, 0, NULL), LOGITNORM_ERR_UNSUPPORTED, scores, 0);
      ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
    } else {
      ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 30, g.h, 6, NULL, 0, NULL), LOGITNORM_OK);
      ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
    }
    sr_sentinel_fill(scores, sizeof scores);
    EXPECT_FAIL(logitnorm_scorer_score_grad_f32(s, 3, z, 4, scores, grad, 4), LOGITNORM_ERR_UNSUPPORTED, grad,
                sizeof grad);
    ck_assert(sr_sentinel_intact(scores, sizeof scores));
    /* features: NULL, a short leading dimension, NaN */
    EXPECT_FAIL(logitnorm_scorer_score_f32(s, 3, NULL, 0, NULL, 6, scores), LOGITNORM_ERR_NULL_POINTER, scores,
                sizeof scores);
    EXPECT_FAIL(logitnorm_scorer_score_f32(s, 3, NULL, 0, g.x, 5, scores), LOGITNORM_ERR_INVALID_ARGUMENT, scores,
                sizeof scores);
    g.x[4] = NAN;
    EXPECT_FAIL(logitnorm_scorer_score_f32(s, 3, NULL, 0, g.x, 6, scores), LOGITNORM_ERR_NONFINITE, scores,
                sizeof scores);
    g.x[4] = 1.0f;
    logitnorm_scorer_free(s);
  }
  /* a feature dimension is required */
  logitnorm_scorer *s = NULL;
  for (int k = 0; k < 4; ++k)
    EXPECT_FAIL(logitnorm_scorer_create(&s, kNew[k], 4, 0), LOGITNORM_ERR_INVALID_ARGUMENT, scores, 0);
  big_free(&g);
}
END_TEST

/* Save and load keep every kind's state and LAMBDA (DML); a loaded FDBD or DML derives its
   head distances or unit rows again, and scores the same bits. */
START_TEST(test_blob_round_trip) {
  big_data g = big_make(5, 9, 80, 20);
  for (int k = 0; k < 4; ++k) {
    logitnorm_scorer *s = big_scorer(kNew[k], &g), *t = NULL;
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 7), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 70), LOGITNORM_OK);
    size_t size = 0, got = 0;
    ck_assert_int_eq(logitnorm_scorer_save(s, NULL, 0, &size), LOGITNORM_OK);
    unsigned char *blob = malloc(size);
    ck_assert_int_eq(logitnorm_scorer_save(s, blob, size, &got), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_load(&t, blob, size), LOGITNORM_OK);
    float a[20], b[20];
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, g.q, NULL, 0, g.x, g.d, a), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_score_f32(t, g.q, NULL, 0, g.x, g.d, b), LOGITNORM_OK);
    ck_assert_msg(memcmp(a, b, sizeof a) == 0, "kind %d differs after load", kNew[k]);
    ck_assert(param(t, LOGITNORM_SCORER_LAMBDA) == (kNew[k] == LOGITNORM_SCORE_DML ? 0.3 : 0.0));
    ck_assert(param(t, LOGITNORM_SCORER_K) == 7.0);
    free(blob);
    logitnorm_scorer_free(s);
    logitnorm_scorer_free(t);
  }
  /* an unprepared NNGUIDE or FDBD is not saved */
  for (int k = 0; k < 2; ++k) {
    logitnorm_scorer *s = make(kNew[k], 5, 9);
    size_t size = 777;
    ck_assert_int_eq(logitnorm_scorer_save(s, NULL, 0, &size), LOGITNORM_ERR_INVALID_STATE);
    ck_assert(size == 777);
    logitnorm_scorer_free(s);
  }
  big_free(&g);
}
END_TEST

int main(void) {
  Suite *suite = suite_create("scorer_openood");
  TCase *tc = tcase_create("openood");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_nnguide_reference);
  tcase_add_test(tc, test_nnguide_hand);
  tcase_add_test(tc, test_nnguide_states);
  tcase_add_test(tc, test_fdbd_reference);
  tcase_add_test(tc, test_fdbd_hand);
  tcase_add_test(tc, test_fdbd_tie);
  tcase_add_test(tc, test_fdbd_bad_input);
  tcase_add_test(tc, test_fdbd_close_rows);
  tcase_add_test(tc, test_scale_reference);
  tcase_add_test(tc, test_scale_ties);
  tcase_add_test(tc, test_dml_reference);
  tcase_add_test(tc, test_dml_hand);
  tcase_add_test(tc, test_lambda_param);
  tcase_add_test(tc, test_threads_bitwise);
  tcase_add_test(tc, test_shared_handles);
  tcase_add_test(tc, test_grad_and_fit_unsupported);
  tcase_add_test(tc, test_blob_round_trip);
  suite_add_tcase(suite, tc);
  return tu_run_suite(suite);
}
