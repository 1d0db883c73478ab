/* Logit-only scores (MSP, MAX_LOGIT, ENERGY, ENTROPY, GEN, ODIN, MAX_COSINE): values against
   the double reference in support/score_ref.c, hand-computed cases, gradients against
   central finite differences of the reference, extreme rows, bad input. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "score_ref.h"
#include "test_util.h"

static const int kLogitKinds[] = {LOGITNORM_SCORE_MSP,     LOGITNORM_SCORE_MAX_LOGIT, LOGITNORM_SCORE_ENERGY,
                                  LOGITNORM_SCORE_ENTROPY, LOGITNORM_SCORE_GEN,       LOGITNORM_SCORE_ODIN,
                                  LOGITNORM_SCORE_MAX_COSINE};
#define N_KINDS 7

/* The reference score of one row under the handle's parameters. */
static double ref_score(int kind, const double *z, int c, double t, double gamma, int m) {
  switch (kind) {
    case LOGITNORM_SCORE_MSP:
    case LOGITNORM_SCORE_ODIN: return sr_msp(z, c, t);
    case LOGITNORM_SCORE_MAX_LOGIT: return sr_max_logit(z, c);
    case LOGITNORM_SCORE_ENERGY: return sr_energy(z, c, t);
    case LOGITNORM_SCORE_ENTROPY: return sr_neg_entropy(z, c);
    case LOGITNORM_SCORE_GEN: return sr_gen(z, c, gamma, m);
    case LOGITNORM_SCORE_MAX_COSINE: return sr_max_cosine(z, c);
  }
  return NAN;
}

static logitnorm_scorer *make(int kind, int c) {
  logitnorm_scorer *s = NULL;
  ck_assert_int_eq(logitnorm_scorer_create(&s, kind, c, 0), LOGITNORM_OK);
  return s;
}

/* Scores are computed in double and rounded once to float: 2e-6 relative (plus an absolute
   floor for values near 0) covers the rounding with room to spare. */
static void expect_close(double got, double want, const char *what, int row) {
  double tol = 2e-6 * fmax(1.0, fabs(want));
  ck_assert_msg(fabs(got - want) <= tol, "%s row %d: got %.9g want %.9g", what, row, got, want);
}

START_TEST(test_values_against_reference) {
  sr_rng rng;
  sr_seed(&rng, 11);
  const int sizes[] = {1, 2, 10, 37, 1000};
  for (int si = 0; si < 5; ++si) {
    int c = sizes[si], n = 23, ld = c + 3;
    float *z = malloc(sizeof(float) * (size_t)(n * ld));
    for (int i = 0; i < n * ld; ++i) z[i] = (float)(3.0 * sr_normal(&rng));
    for (int ki = 0; ki < N_KINDS; ++ki) {
      int kind = kLogitKinds[ki];
      logitnorm_scorer *s = make(kind, c);
      double t = kind == LOGITNORM_SCORE_ODIN ? 1000.0 : 1.0;
      if (kind == LOGITNORM_SCORE_MSP || kind == LOGITNORM_SCORE_ENERGY) {
        t = 2.5;
        ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, t), LOGITNORM_OK);
      }
      int m = 100;
      if (kind == LOGITNORM_SCORE_GEN && c == 1000) { /* top-M below C exercises the selection */
        m = 7;
        ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TOP_M, m), LOGITNORM_OK);
      }
      float out[23];
      ck_assert_int_eq(logitnorm_scorer_score_f32(s, n, z, ld, NULL, 0, out), LOGITNORM_OK);
      for (int i = 0; i < n; ++i) {
        double zd[1000];
        for (int j = 0; j < c; ++j) zd[j] = z[i * ld + j];
        expect_close(out[i], ref_score(kind, zd, c, t, 0.1, m), "score", i);
      }
      logitnorm_scorer_free(s);
    }
    free(z);
  }
}
END_TEST

/* Hand-computed rows (z given, arithmetic in the comments). */
START_TEST(test_golden) {
  float out[1];
  const float a[2] = {0.0f, (float)log(3.0)}; /* softmax = (1/4, 3/4) */
  logitnorm_scorer *s = make(LOGITNORM_SCORE_MSP, 2);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, a, 2, NULL, 0, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], 0.75f, 1e-6f); /* max p = 3/4 */
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_ENERGY, 2);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, a, 2, NULL, 0, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], (float)log(4.0), 1e-6f); /* log(e^0 + e^ln3) = log 4 */
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_ENTROPY, 2);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, a, 2, NULL, 0, out), LOGITNORM_OK);
  /* 1/4 log 1/4 + 3/4 log 3/4 = -0.25 * 1.386294 - 0.75 * 0.287682 = -0.562335 */
  ck_assert_float_eq_tol(out[0], -0.5623351f, 1e-6f);
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_GEN, 2);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, a, 2, NULL, 0, out), LOGITNORM_OK);
  /* -( (1/4 * 3/4)^0.1 + (3/4 * 1/4)^0.1 ) = -2 * 0.1875^0.1 = -2 * exp(0.1 ln 0.1875)
     = -2 * exp(-0.16739764) = -2 * 0.84586319 = -1.69172638 */
  ck_assert_float_eq_tol(out[0], -1.6917264f, 2e-6f);
  logitnorm_scorer_free(s);
  const float b[2] = {3.0f, 4.0f};
  s = make(LOGITNORM_SCORE_MAX_COSINE, 2);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, b, 2, NULL, 0, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], 0.8f, 1e-7f); /* 4 / 5 */
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_ODIN, 2);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 1, b, 2, NULL, 0, out), LOGITNORM_OK);
  /* 1 / (1 + e^{-1/1000}) = 0.50025 */
  ck_assert_float_eq_tol(out[0], 0.50025f, 1e-6f);
  logitnorm_scorer_free(s);
}
END_TEST

/* Rows of +-1e30 and zero rows: finite, and the limits are known. */
START_TEST(test_extreme_rows) {
  const float z[3 * 3] = {1e30f, -1e30f, 0.0f, 0.0f, 0.0f, 0.0f, -1e30f, -1e30f, -1e30f};
  float out[3];
  for (int ki = 0; ki < N_KINDS; ++ki) {
    logitnorm_scorer *s = make(kLogitKinds[ki], 3);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, 3, z, 3, NULL, 0, out), LOGITNORM_OK);
    for (int i = 0; i < 3; ++i) ck_assert_msg(isfinite(out[i]), "kind %d row %d", kLogitKinds[ki], i);
    float g[9];
    ck_assert_int_eq(logitnorm_scorer_score_grad_f32(s, 3, z, 3, NULL, g, 3), LOGITNORM_OK);
    for (int i = 0; i < 9; ++i) ck_assert(isfinite(g[i]));
    logitnorm_scorer_free(s);
  }
  logitnorm_scorer *s = make(LOGITNORM_SCORE_MSP, 3);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 3, z, 3, NULL, 0, out), LOGITNORM_OK);
  ck_assert_float_eq(out[0], 1.0f);              /* one class takes everything */
  ck_assert_float_eq_tol(out[1], 1.0f / 3, 1e-7f); /* uniform */
  ck_assert_float_eq_tol(out[2], 1.0f / 3, 1e-7f);
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_ENERGY, 3);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 3, z, 3, NULL, 0, out), LOGITNORM_OK);
  ck_assert_float_eq(out[0], 1e30f);                     /* 1e30 + log(1 + 0 + 0) */
  ck_assert_float_eq_tol(out[1], (float)log(3.0), 1e-6f); /* log 3 */
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_ENTROPY, 3);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 3, z, 3, NULL, 0, out), LOGITNORM_OK);
  ck_assert_float_eq(out[0], 0.0f);                         /* a one-hot p has no entropy */
  ck_assert_float_eq_tol(out[1], (float)-log(3.0), 1e-6f); /* uniform: -log 3 */
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_MAX_COSINE, 3);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 3, z, 3, NULL, 0, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], (float)(1.0 / sqrt(2.0)), 1e-7f); /* 1e30 / (sqrt 2 * 1e30) */
  ck_assert_float_eq(out[1], 0.0f);                                 /* zero row: defined as 0 */
  ck_assert_float_eq_tol(out[2], (float)(-1.0 / sqrt(3.0)), 1e-7f);
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_GEN, 3);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 3, z, 3, NULL, 0, out), LOGITNORM_OK);
  /* one-hot, clamped: (1e-7 (1 - 1e-7))^0.1 three times (the 1 becomes 1 - 1e-7 and gives the same) */
  ck_assert_float_eq_tol(out[0], (float)(-3.0 * pow(1e-7 * (1.0 - 1e-7), 0.1)), 1e-6f);
  logitnorm_scorer_free(s);
}
END_TEST

/* d score / d z against central differences of the double reference. Step 1e-4 in double:
   truncation ~ h^2 f''' ~ 1e-8 and cancellation ~ 1e-16 / 1e-4 ~ 1e-12; the library's float
   output adds 6e-8 relative. Tolerance 1e-6 + 1e-5 |g|. */
START_TEST(test_gradients_finite_differences) {
  sr_rng rng;
  sr_seed(&rng, 5);
  const int c = 12, n = 9, ld = 14;
  float z[9 * 14];
  for (int i = 0; i < n * ld; ++i) z[i] = (float)(2.0 * sr_normal(&rng));
  for (int ki = 0; ki < N_KINDS; ++ki) {
    int kind = kLogitKinds[ki];
    logitnorm_scorer *s = make(kind, c);
    double t = kind == LOGITNORM_SCORE_ODIN ? 1000.0 : 1.0;
    int m = 100;
    if (kind == LOGITNORM_SCORE_MSP) {
      t = 0.7;
      ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, t), LOGITNORM_OK);
    }
    if (kind == LOGITNORM_SCORE_GEN) {
      m = 5;
      ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TOP_M, m), LOGITNORM_OK);
    }
    float scores[9], g[9 * 13];
    const int ldg = 13;
    ck_assert_int_eq(logitnorm_scorer_score_grad_f32(s, n, z, ld, scores, g, ldg), LOGITNORM_OK);
    for (int i = 0; i < n; ++i) {
      double zd[12];
      for (int j = 0; j < c; ++j) zd[j] = z[i * ld + j];
      expect_close(scores[i], ref_score(kind, zd, c, t, 0.1, m), "grad-call score", i);
      for (int j = 0; j < c; ++j) {
        double h = 1e-4, keep = zd[j];
        zd[j] = keep + h;
        double fp = ref_score(kind, zd, c, t, 0.1, m);
        zd[j] = keep - h;
        double fm = ref_score(kind, zd, c, t, 0.1, m);
        zd[j] = keep;
        double fd = (fp - fm) / (2 * h), got = g[i * ldg + j];
        ck_assert_msg(fabs(got - fd) <= 1e-6 + 1e-5 * fabs(fd), "kind %d row %d col %d: %.9g vs fd %.9g", kind, i,
                      j, got, fd);
      }
    }
    logitnorm_scorer_free(s);
  }
}
END_TEST

/* ODIN input perturbation: the gradient sign of the temperature-scaled MSP, and the
   padded columns of grad are never written. */
START_TEST(test_grad_padding_and_in_place) {
  const float z0[2 * 4] = {1.0f, 2.0f, 0.5f, 9.0f, -1.0f, 0.0f, 3.0f, 9.0f};
  logitnorm_scorer *s = make(LOGITNORM_SCORE_ODIN, 3);
  float g[2 * 5];
  sr_sentinel_fill(g, sizeof g);
  float save[10];
  memcpy(save, g, sizeof g);
  ck_assert_int_eq(logitnorm_scorer_score_grad_f32(s, 2, z0, 4, NULL, g, 5), LOGITNORM_OK);
  ck_assert_mem_eq(&g[3], &save[3], 2 * sizeof(float));
  ck_assert_mem_eq(&g[8], &save[8], 2 * sizeof(float));
  /* the argmax gains: d p_m / d z_m = p_m (1 - p_m) / T > 0; the others lose */
  ck_assert(g[1] > 0.0f && g[0] < 0.0f && g[2] < 0.0f);
  /* in place: grad == logits with the same leading dimension */
  float z[8];
  memcpy(z, z0, sizeof z);
  ck_assert_int_eq(logitnorm_scorer_score_grad_f32(s, 2, z, 4, NULL, z, 4), LOGITNORM_OK);
  ck_assert_float_eq(z[0], g[0]);
  ck_assert_float_eq(z[6], g[7]);
  ck_assert_float_eq(z[3], 9.0f); /* padding untouched */
  logitnorm_scorer_free(s);
}
END_TEST

START_TEST(test_threads_bitwise) {
  sr_rng rng;
  sr_seed(&rng, 3);
  const int c = 10, n = 1000;
  float *z = malloc(sizeof(float) * n * c), a[1000], b[1000];
  for (int i = 0; i < n * c; ++i) z[i] = (float)sr_normal(&rng);
  for (int ki = 0; ki < N_KINDS; ++ki) {
    logitnorm_scorer *s = make(kLogitKinds[ki], c);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, n, z, c, NULL, 0, a), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, 3), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, n, z, c, NULL, 0, b), LOGITNORM_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    logitnorm_scorer_free(s);
  }
  free(z);
}
END_TEST

/* A failing call returns the exact status, sets the error text and writes nothing. */
#define EXPECT_FAIL(call, status, buf, bytes)                                   \
  do {                                                                          \
    sr_sentinel_fill((buf), (bytes));                                           \
    ck_assert_int_eq((call), (status));                                         \
    ck_assert_msg(logitnorm_last_error()[0] != '\0', "no error text");          \
    ck_assert_msg(sr_sentinel_intact((buf), (bytes)), "output was written");    \
  } while (0)

START_TEST(test_bad_input) {
  float z[2 * 3] = {1, 2, 3, 4, 5, 6}, out[2], g[6];
  logitnorm_scorer *s = make(LOGITNORM_SCORE_MSP, 3);
  z[4] = NAN;
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 2, z, 3, NULL, 0, out), LOGITNORM_ERR_NONFINITE, out, sizeof out);
  EXPECT_FAIL(logitnorm_scorer_score_grad_f32(s, 2, z, 3, out, g, 3), LOGITNORM_ERR_NONFINITE, g, sizeof g);
  ck_assert(sr_sentinel_intact(out, 0)); /* scores too: checked by the next line */
  z[4] = INFINITY;
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 2, z, 3, NULL, 0, out), LOGITNORM_ERR_NONFINITE, out, sizeof out);
  z[4] = 5;
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 2, z, 2, NULL, 0, out), LOGITNORM_ERR_INVALID_ARGUMENT, out, sizeof out);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, -1, z, 3, NULL, 0, out), LOGITNORM_ERR_INVALID_ARGUMENT, out, sizeof out);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 2, NULL, 3, NULL, 0, out), LOGITNORM_ERR_NULL_POINTER, out, sizeof out);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 2, z, 3, NULL, 0, NULL), LOGITNORM_ERR_NULL_POINTER);
  /* scores overlapping the logits */
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 1, z, 3, NULL, 0, z + 1), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0);
  ck_assert_float_eq(z[1], 2.0f);
  /* grad overlapping the logits other than exactly in place */
  EXPECT_FAIL(logitnorm_scorer_score_grad_f32(s, 1, z, 3, NULL, z + 1, 3), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0);
  ck_assert_float_eq(z[1], 2.0f);
  /* fit on a kind that does not fit */
  int32_t y[2] = {0, 1};
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, 2, NULL, 0, z, 3, y), LOGITNORM_ERR_UNSUPPORTED, out, sizeof out);
  /* parameters */
  double v = 0;
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, 0.0), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, NAN), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 100.0), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, -0.5), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TOP_M, 1.5), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_set(s, 199, 1.0), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_get(s, LOGITNORM_SCORER_TEMPERATURE, &v), LOGITNORM_OK);
  ck_assert(v == 1.0); /* the failed sets changed nothing */
  /* a head on a logit kind, and create errors */
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, z, 3, NULL), LOGITNORM_ERR_UNSUPPORTED);
  logitnorm_scorer_free(s);
  logitnorm_scorer *t = (logitnorm_scorer *)&v;
  ck_assert_int_eq(logitnorm_scorer_create(&t, (logitnorm_score_kind)7, 3, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_eq(t, (logitnorm_scorer *)&v);
  ck_assert_int_eq(logitnorm_scorer_create(&t, LOGITNORM_SCORE_MSP, 0, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_create(NULL, LOGITNORM_SCORE_MSP, 3, 0), LOGITNORM_ERR_NULL_POINTER);
  logitnorm_scorer_free(NULL);
}
END_TEST

START_TEST(test_defaults) {
  double v;
  logitnorm_scorer *s = make(LOGITNORM_SCORE_ODIN, 3);
  ck_assert_int_eq(logitnorm_scorer_get(s, LOGITNORM_SCORER_TEMPERATURE, &v), LOGITNORM_OK);
  ck_assert(v == 1000.0);
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_GEN, 3);
  const struct { int p; double v; } d[] = {{LOGITNORM_SCORER_TEMPERATURE, 1}, {LOGITNORM_SCORER_GAMMA, 0.1},
    {LOGITNORM_SCORER_TOP_M, 100}, {LOGITNORM_SCORER_K, 50}, {LOGITNORM_SCORER_PERCENTILE, 90},
    {LOGITNORM_SCORER_CLIP, 0}, {LOGITNORM_SCORER_ASH_VARIANT, LOGITNORM_ASH_S}, {LOGITNORM_SCORER_VIM_DIM, 0},
    {LOGITNORM_SCORER_THREADS, 1}, {LOGITNORM_SCORER_RIDGE, 1e-6}};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; ++i) {
    ck_assert_int_eq(logitnorm_scorer_get(s, d[i].p, &v), LOGITNORM_OK);
    ck_assert_msg(v == d[i].v, "param %d = %g", d[i].p, v);
  }
  logitnorm_scorer_free(s);
}
END_TEST

int main(void) {
  Suite *suite = suite_create("scorer_logit");
  TCase *tc = tcase_create("logit");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_values_against_reference);
  tcase_add_test(tc, test_golden);
  tcase_add_test(tc, test_extreme_rows);
  tcase_add_test(tc, test_gradients_finite_differences);
  tcase_add_test(tc, test_grad_padding_and_in_place);
  tcase_add_test(tc, test_threads_bitwise);
  tcase_add_test(tc, test_bad_input);
  tcase_add_test(tc, test_defaults);
  suite_add_tcase(suite, tc);
  return tu_run_suite(suite);
}
