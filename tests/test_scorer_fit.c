/* Fitted and head scores against the double reference in support/score_ref.c: KL matching,
   Mahalanobis (with a cofactor-inverted 3x3 covariance), RMDS, KNN against brute force, ViM,
   GradNorm (hand cases and finite differences of its loss in W), ReAct, ASH, DICE; the
   fit -> prepare -> score states and bad input. */
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

static void fill_normal(sr_rng *r, float *f, double *dd, int n, double scale) {
  for (int i = 0; i < n; ++i) {
    f[i] = (float)(scale * sr_normal(r));
    if (dd != NULL) dd[i] = f[i];
  }
}

static void expect_rel(double got, double want, double rel, const char *what, int row) {
  ck_assert_msg(fabs(got - want) <= rel * fmax(1.0, fabs(want)), "%s row %d: got %.9g want %.9g", what, row, got,
                want);
}

START_TEST(test_kl_matching) {
  sr_rng rng;
  sr_seed(&rng, 21);
  enum { C = 4, N = 80, Q = 20 };
  float fit[N * C], q[Q * C], out[Q];
  double fitd[N * C], qd[Q * C];
  int32_t y[N];
  int yi[N];
  fill_normal(&rng, fit, fitd, N * C, 2.0);
  fill_normal(&rng, q, qd, Q * C, 2.0);
  for (int i = 0; i < N; ++i) yi[i] = y[i] = (int32_t)(i % 3); /* class 3 has no rows: no template */
  for (int labelled = 0; labelled < 2; ++labelled) {
    logitnorm_scorer *s = make(LOGITNORM_SCORE_KL_MATCHING, C, 0);
    /* two batches: fitting accumulates */
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 30, NULL, 0, fit, C, labelled ? y : NULL), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N - 30, NULL, 0, fit + 30 * C, C, labelled ? y + 30 : NULL),
                     LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, q, C, NULL, 0, out), LOGITNORM_OK);
    /* KL values are O(1) and summed in double; the float output rounds at 6e-8 relative. */
    for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_klm(fitd, labelled ? yi : NULL, N, C, qd + i * C), 1e-5, "klm", i);
    logitnorm_scorer_free(s);
  }
}
END_TEST

/* 3x3 inverse by cofactors: inv = adj(A) / det(A). */
static void inverse3(const double a[9], double inv[9]) {
  double c00 = a[4] * a[8] - a[5] * a[7], c01 = a[5] * a[6] - a[3] * a[8], c02 = a[3] * a[7] - a[4] * a[6];
  double det = a[0] * c00 + a[1] * c01 + a[2] * c02;
  inv[0] = c00 / det;
  inv[3] = c01 / det;
  inv[6] = c02 / det;
  inv[1] = (a[2] * a[7] - a[1] * a[8]) / det;
  inv[4] = (a[0] * a[8] - a[2] * a[6]) / det;
  inv[7] = (a[1] * a[6] - a[0] * a[7]) / det;
  inv[2] = (a[1] * a[5] - a[2] * a[4]) / det;
  inv[5] = (a[2] * a[3] - a[0] * a[5]) / det;
  inv[8] = (a[0] * a[4] - a[1] * a[3]) / det;
}

START_TEST(test_mahalanobis_3x3) {
  sr_rng rng;
  sr_seed(&rng, 7);
  enum { C = 3, D = 3, N = 90, Q = 15 };
  float h[N * D], q[Q * D], out[Q];
  int32_t y[N];
  double mu[C][D] = {{0}}, cnt[C] = {0}, cov[9] = {0}, inv[9];
  for (int i = 0; i < N; ++i) {
    y[i] = i % C;
    for (int j = 0; j < D; ++j) h[i * D + j] = (float)(3.0 * y[i] * (j == y[i]) + sr_normal(&rng) * (1.0 + 0.5 * j));
  }
  fill_normal(&rng, q, NULL, Q * D, 2.0);
  for (int i = 0; i < N; ++i) {
    cnt[y[i]] += 1;
    for (int j = 0; j < D; ++j) mu[y[i]][j] += h[i * D + j];
  }
  for (int c = 0; c < C; ++c)
    for (int j = 0; j < D; ++j) mu[c][j] /= cnt[c];
  for (int i = 0; i < N; ++i) /* tied ML covariance: (1/N) sum (h - mu_y)(h - mu_y)^T */
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) cov[a * D + b] += (h[i * D + a] - mu[y[i]][a]) * (h[i * D + b] - mu[y[i]][b]) / N;
  double ridge = 1e-6 * (cov[0] + cov[4] + cov[8]) / 3; /* the documented default ridge */
  for (int j = 0; j < D; ++j) cov[j * D + j] += ridge;
  inverse3(cov, inv);
  logitnorm_scorer *s = make(LOGITNORM_SCORE_MAHALANOBIS, C, D);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, y), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_OK);
  for (int i = 0; i < Q; ++i) {
    double best = INFINITY;
    for (int c = 0; c < C; ++c) {
      double m = 0.0;
      for (int a = 0; a < D; ++a)
        for (int b = 0; b < D; ++b) m += (q[i * D + a] - mu[c][a]) * inv[a * D + b] * (q[i * D + b] - mu[c][b]);
      best = fmin(best, m);
    }
    /* The whitening matrix and the whitened query are floats (relative error ~1e-7 each, a
       few of them summed over D = 3): 2e-5 relative is ample and would catch any formula error. */
    expect_rel(out[i], -best, 2e-5, "mahalanobis", i);
  }
  logitnorm_scorer_free(s);
}
END_TEST

START_TEST(test_mahalanobis_rmds_reference) {
  sr_rng rng;
  sr_seed(&rng, 8);
  enum { C = 4, D = 6, N = 200, Q = 25 };
  float h[N * D], q[Q * D], out[Q];
  double hd[N * D], qd[Q * D];
  int32_t y[N];
  int yi[N];
  for (int i = 0; i < N; ++i) {
    yi[i] = y[i] = (i * 7) % C;
    for (int j = 0; j < D; ++j) {
      h[i * D + j] = (float)(2.0 * (j % C == y[i]) + 5.0 + sr_normal(&rng) * (0.5 + 0.3 * j));
      hd[i * D + j] = h[i * D + j];
    }
  }
  for (int i = 0; i < Q * D; ++i) qd[i] = q[i] = (float)(5.0 + 2.0 * sr_normal(&rng));
  for (int rel = 0; rel < 2; ++rel) {
    logitnorm_scorer *s = make(rel ? LOGITNORM_SCORE_RMDS : LOGITNORM_SCORE_MAHALANOBIS, C, D);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_RIDGE, 1e-3), LOGITNORM_OK);
    for (int b = 0; b < 4; ++b) ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N / 4, h + b * (N / 4) * D, D, NULL, 0, y + b * (N / 4)), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_OK);
    /* float whitening of features of size ~5 around a mean of ~5: 1e-4 relative */
    for (int i = 0; i < Q; ++i)
      expect_rel(out[i], sr_mahalanobis(hd, yi, N, C, D, 1e-3, qd + i * D, rel), 1e-4, rel ? "rmds" : "maha", i);
    logitnorm_scorer_free(s);
  }
}
END_TEST

/* A feature dimension with whole 8-wide blocks and a tail (19 = 8 + 8 + 3), mildly
   correlated features, and queries both near and far from the classes. */
START_TEST(test_mahalanobis_rmds_wide) {
  sr_rng rng;
  sr_seed(&rng, 11);
  enum { C = 3, D = 19, N = 400, Q = 30 };
  float *h = malloc(sizeof(float) * N * D), *q = malloc(sizeof(float) * Q * D), out[Q];
  double *hd = malloc(sizeof(double) * N * D), *qd = malloc(sizeof(double) * Q * D);
  int32_t y[N];
  int yi[N];
  for (int i = 0; i < N; ++i) {
    yi[i] = y[i] = i % C;
    double common = sr_normal(&rng);
    for (int j = 0; j < D; ++j)
      hd[i * D + j] = h[i * D + j] = (float)(1.5 * (j % C == y[i]) + 0.4 * common + sr_normal(&rng) * (0.5 + 0.05 * j));
  }
  for (int i = 0; i < Q * D; ++i) qd[i] = q[i] = (float)((i / D) % 2 ? 6.0 * sr_normal(&rng) : sr_normal(&rng));
  for (int rel = 0; rel < 2; ++rel) {
    logitnorm_scorer *s = make(rel ? LOGITNORM_SCORE_RMDS : LOGITNORM_SCORE_MAHALANOBIS, C, D);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_RIDGE, 1e-3), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, y), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_OK);
    /* float whitening and float distances over D = 19 terms: 1e-4 relative */
    for (int i = 0; i < Q; ++i)
      expect_rel(out[i], sr_mahalanobis(hd, yi, N, C, D, 1e-3, qd + i * D, rel), 1e-4, rel ? "rmds" : "maha", i);
    logitnorm_scorer_free(s);
  }
  free(h);
  free(q);
  free(hd);
  free(qd);
}
END_TEST

static void knn_case(int n, int d, int q, int k, int batches, uint64_t seed) {
  sr_rng rng;
  sr_seed(&rng, seed);
  float *h = malloc(sizeof(float) * (size_t)n * d), *x = malloc(sizeof(float) * (size_t)q * d);
  double *hd = malloc(sizeof(double) * (size_t)n * d), *xd = malloc(sizeof(double) * (size_t)q * d);
  float *a = malloc(sizeof(float) * (size_t)q), *b = malloc(sizeof(float) * (size_t)q);
  fill_normal(&rng, h, hd, n * d, 1.0);
  fill_normal(&rng, x, xd, q * d, 1.0);
  for (int j = 0; j < d; ++j) h[j] = (float)(hd[j] = 0.0); /* a zero row stays zero in the bank */
  logitnorm_scorer *s = make(LOGITNORM_SCORE_KNN, 2, d);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, k), LOGITNORM_OK);
  for (int bi = 0; bi < batches; ++bi) {
    int r0 = bi * n / batches, r1 = (bi + 1) * n / batches;
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, r1 - r0, h + (size_t)r0 * d, d, NULL, 0, NULL), LOGITNORM_OK);
  }
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, q, NULL, 0, x, d, a), LOGITNORM_OK);
  /* d^2 = |q|^2 + |x|^2 - 2 q.x from a float dot product of unit vectors: error ~ d * 6e-8 in
     d^2, so ~1e-6 / d in d; the k-th distances here are > 0.3: 2e-5 absolute. */
  for (int i = 0; i < q; ++i) {
    double want = sr_knn(hd, n, d, xd + (size_t)i * d, k);
    ck_assert_msg(fabs(a[i] - want) <= 2e-5, "knn row %d: %.9g vs %.9g", i, a[i], want);
  }
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, 2), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, q, NULL, 0, x, d, b), LOGITNORM_OK);
  ck_assert_mem_eq(a, b, sizeof(float) * (size_t)q); /* bitwise equal for any thread count */
  logitnorm_scorer_free(s);
  free(h);
  free(x);
  free(hd);
  free(xd);
  free(a);
  free(b);
}

START_TEST(test_knn_brute_force) {
  knn_case(300, 8, 40, 5, 3, 1);
  knn_case(5000, 4, 600, 50, 7, 2); /* more than one bank block and one query block */
  knn_case(60, 16, 10, 60, 1, 3);   /* k = the whole bank */
}
END_TEST

START_TEST(test_vim) {
  sr_rng rng;
  sr_seed(&rng, 31);
  enum { C = 3, D = 8, N = 300, Q = 20, KEPT = 4 };
  float w[C * D], b[C], h[N * D], q[Q * D], out[Q];
  double wd[C * D], bd[C], hd[N * D], qd[Q * D];
  fill_normal(&rng, w, wd, C * D, 1.0);
  fill_normal(&rng, b, bd, C, 1.0);
  for (int i = 0; i < N; ++i) /* distinct variances so the principal space is well separated */
    for (int j = 0; j < D; ++j) hd[i * D + j] = h[i * D + j] = (float)(1.0 + sr_normal(&rng) * (0.3 + 0.4 * j));
  for (int i = 0; i < Q * D; ++i) qd[i] = q[i] = (float)(1.0 + 1.5 * sr_normal(&rng));
  logitnorm_scorer *s = make(LOGITNORM_SCORE_VIM, C, D);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_VIM_DIM, KEPT), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, NULL), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0); /* no head yet */
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, b), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_OK);
  /* float GEMMs for the logits and the residual projection (~1e-6 relative each) and alpha
     from float sums: 1e-4 relative of scores of size ~5. */
  for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_vim(wd, bd, C, D, hd, N, KEPT, qd + i * D), 1e-4, "vim", i);
  logitnorm_scorer_free(s);
}
END_TEST

/* Hand cases. (1) W = I, b = 0, h = (ln 3, 0): z = h, p = (3/4, 1/4),
   sum |2 p_k - 1| = 1/2 + 1/2 = 1, ||h||_1 = ln 3, score = ln 3 = 1.0986123.
   (2) h = (1, -1): p_1 = e / (e + 1/e) = 0.8807971, |2 p_1 - 1| = |2 p_2 - 1| = tanh 1 = 0.7615942,
   score = 2 * 2 tanh 1 = 3.0463766. */
START_TEST(test_gradnorm_hand) {
  const float w[4] = {1, 0, 0, 1}, h[4] = {(float)log(3.0), 0.0f, 1.0f, -1.0f};
  float out[2];
  logitnorm_scorer *s = make(LOGITNORM_SCORE_GRADNORM, 2, 2);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 2, NULL, 0, h, 2, out), LOGITNORM_ERR_INVALID_STATE, out, sizeof out);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, 2, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 2, NULL, 0, h, 2, out), LOGITNORM_OK);
  ck_assert_float_eq_tol(out[0], 1.0986123f, 1e-6f);
  ck_assert_float_eq_tol(out[1], 3.0463766f, 2e-6f);
  logitnorm_scorer_free(s);
}
END_TEST

/* L(W) = -sum_k log softmax(W h + b)_k (the reference code's all-ones target, C times the
   KL from the uniform distribution up to a constant); GradNorm = sum_ij |dL/dW_ij|, here by
   central differences with step 1e-5 in double (error ~1e-9), against the closed form. */
static double gradnorm_loss(const double *w, const double *b, int c, int d, const double *h) {
  double z[16], p[16], l = 0.0;
  sr_head(w, b, c, d, h, z);
  sr_softmax(z, c, 1.0, p);
  for (int k = 0; k < c; ++k) l -= log(p[k]);
  return l;
}

START_TEST(test_gradnorm_finite_differences) {
  sr_rng rng;
  sr_seed(&rng, 41);
  enum { C = 5, D = 6, Q = 8 };
  float w[C * D], b[C], h[Q * D], out[Q];
  double wd[C * D], bd[C], hd[Q * D];
  fill_normal(&rng, w, wd, C * D, 0.7);
  fill_normal(&rng, b, bd, C, 0.5);
  fill_normal(&rng, h, hd, Q * D, 1.0);
  logitnorm_scorer *s = make(LOGITNORM_SCORE_GRADNORM, C, D);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, b), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, h, D, out), LOGITNORM_OK);
  for (int i = 0; i < Q; ++i) {
    double sum = 0.0;
    for (int t = 0; t < C * D; ++t) {
      double keep = wd[t], e = 1e-5;
      wd[t] = keep + e;
      double lp = gradnorm_loss(wd, bd, C, D, hd + i * D);
      wd[t] = keep - e;
      double lm = gradnorm_loss(wd, bd, C, D, hd + i * D);
      wd[t] = keep;
      sum += fabs((lp - lm) / (2 * e));
    }
    expect_rel(out[i], sum, 1e-5, "gradnorm fd", i);
    expect_rel(out[i], sr_gradnorm(wd, bd, C, D, hd + i * D), 2e-6, "gradnorm ref", i);
  }
  logitnorm_scorer_free(s);
}
END_TEST

START_TEST(test_react) {
  sr_rng rng;
  sr_seed(&rng, 51);
  enum { C = 4, D = 6, N = 50, Q = 12 };
  float w[C * D], b[C], h[N * D], q[Q * D], out[Q];
  double wd[C * D], bd[C], hd[N * D], qd[Q * D];
  fill_normal(&rng, w, wd, C * D, 1.0);
  fill_normal(&rng, b, bd, C, 1.0);
  for (int i = 0; i < N * D; ++i) hd[i] = h[i] = (float)fabs(sr_normal(&rng));
  for (int i = 0; i < Q * D; ++i) qd[i] = q[i] = (float)fabs(2.0 * sr_normal(&rng));
  logitnorm_scorer *s = make(LOGITNORM_SCORE_REACT, C, D);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, b), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_ERR_INVALID_STATE, out, sizeof out);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 50), LOGITNORM_ERR_INVALID_STATE);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_OK);
  double clip = sr_percentile(hd, N * D, 90.0);
  /* one float GEMM row of D = 6 products, then energy in double: 1e-5 relative */
  for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_react(wd, bd, C, D, qd + i * D, clip, 1.0), 1e-5, "react", i);
  logitnorm_scorer_free(s);
  /* a CLIP set directly needs no fit, and the temperature applies */
  s = make(LOGITNORM_SCORE_REACT, C, D);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, b), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_CLIP, 0.8), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_TEMPERATURE, 2.0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_OK);
  for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_react(wd, bd, C, D, qd + i * D, 0.8, 2.0), 1e-5, "react clip", i);
  logitnorm_scorer_free(s);
}
END_TEST

START_TEST(test_ash) {
  sr_rng rng;
  sr_seed(&rng, 61);
  enum { C = 5, D = 20, Q = 15 };
  float w[C * D], b[C], q[Q * D], out[Q];
  double wd[C * D], bd[C], qd[Q * D];
  fill_normal(&rng, w, wd, C * D, 0.3);
  fill_normal(&rng, b, bd, C, 0.5);
  for (int i = 0; i < Q * D; ++i) qd[i] = q[i] = (float)fabs(sr_normal(&rng)); /* post-ReLU-like, no ties */
  for (int v = 0; v < 3; ++v) {
    logitnorm_scorer *s = make(LOGITNORM_SCORE_ASH, C, D);
    ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, b), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_ASH_VARIANT, v), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 65), LOGITNORM_OK); /* keeps 7 of 20 */
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_OK);
    /* ASH-S multiplies by exp(s1/s2) ~ e^2: float rounding of the scaled row stays ~1e-7
       relative; 1e-5 relative on energies of size ~10. */
    for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_ash(wd, bd, C, D, qd + i * D, 65, v, 1.0), 1e-5, "ash", i);
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 1, q, D, NULL, 0, NULL), LOGITNORM_ERR_UNSUPPORTED);
    logitnorm_scorer_free(s);
  }
}
END_TEST

START_TEST(test_dice) {
  sr_rng rng;
  sr_seed(&rng, 71);
  enum { C = 4, D = 6, N = 40, Q = 10 };
  float w[C * D], b[C], h[N * D], q[Q * D], out[Q];
  double wd[C * D], bd[C], hd[N * D], qd[Q * D];
  fill_normal(&rng, w, wd, C * D, 1.0);
  fill_normal(&rng, b, bd, C, 1.0);
  for (int i = 0; i < N * D; ++i) hd[i] = h[i] = (float)fabs(sr_normal(&rng));
  for (int i = 0; i < Q * D; ++i) qd[i] = q[i] = (float)fabs(sr_normal(&rng));
  logitnorm_scorer *s = make(LOGITNORM_SCORE_DICE, C, D);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 70), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, NULL), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, D, b), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, q, D, out), LOGITNORM_OK);
  for (int i = 0; i < Q; ++i) expect_rel(out[i], sr_dice(wd, bd, C, D, hd, N, 70, qd + i * D, 1.0), 1e-5, "dice", i);
  logitnorm_scorer_free(s);
}
END_TEST

START_TEST(test_states_and_bad_input) {
  float h[4 * 3] = {1, 2, 3, 2, 1, 0, 0, 1, 1, 3, 3, 1}, out[4];
  int32_t y[4] = {0, 1, 0, 1};
  logitnorm_scorer *s = NULL;
  EXPECT_FAIL(logitnorm_scorer_create(&s, LOGITNORM_SCORE_MAHALANOBIS, 2, 0), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0);
  ck_assert_ptr_null(s);
  ck_assert_int_eq(logitnorm_scorer_create(&s, LOGITNORM_SCORE_KNN, 2, 0), LOGITNORM_ERR_INVALID_ARGUMENT);
  s = make(LOGITNORM_SCORE_MAHALANOBIS, 2, 3);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 4, NULL, 0, h, 3, out), LOGITNORM_ERR_INVALID_STATE, out, sizeof out);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0); /* nothing fitted */
  y[2] = 2;
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, 4, h, 3, NULL, 0, y), LOGITNORM_ERR_INVALID_LABEL, out, 0);
  y[2] = -1;
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, 4, h, 3, NULL, 0, y), LOGITNORM_ERR_INVALID_LABEL, out, 0);
  y[2] = 0;
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, 4, h, 3, NULL, 0, NULL), LOGITNORM_ERR_NULL_POINTER, out, 0);
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, 4, NULL, 3, NULL, 0, y), LOGITNORM_ERR_NULL_POINTER, out, 0);
  h[5] = NAN;
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, 4, h, 3, NULL, 0, y), LOGITNORM_ERR_NONFINITE, out, 0);
  h[5] = 0;
  /* the failed fits added nothing: one good fit still prepares from these 4 rows only */
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 4, h, 3, NULL, 0, y), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_fit_f32(s, 4, h, 3, NULL, 0, y), LOGITNORM_ERR_INVALID_STATE, out, 0);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 4, NULL, 0, NULL, 3, out), LOGITNORM_ERR_NULL_POINTER, out, sizeof out);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 4, NULL, 0, h, 2, out), LOGITNORM_ERR_INVALID_ARGUMENT, out, sizeof out);
  h[7] = NAN;
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 4, NULL, 0, h, 3, out), LOGITNORM_ERR_NONFINITE, out, sizeof out);
  h[7] = 1;
  float g[12];
  EXPECT_FAIL(logitnorm_scorer_score_grad_f32(s, 4, h, 3, out, g, 3), LOGITNORM_ERR_UNSUPPORTED, g, sizeof g);
  ck_assert_int_eq(logitnorm_scorer_score_f32(s, 4, NULL, 0, h, 3, out), LOGITNORM_OK);
  logitnorm_scorer_free(s);

  /* KNN: k above the bank size fails at prepare and at score */
  s = make(LOGITNORM_SCORE_KNN, 2, 3);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(s, 4, h, 3, NULL, 0, NULL), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0); /* default k = 50 > 4 */
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 4), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 5), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 4, NULL, 0, h, 3, out), LOGITNORM_ERR_INVALID_ARGUMENT, out, sizeof out);
  logitnorm_scorer_free(s);

  /* head kinds without a head; DICE prepare without head or fit */
  s = make(LOGITNORM_SCORE_ASH, 2, 3);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 4, NULL, 0, h, 3, out), LOGITNORM_ERR_INVALID_STATE, out, sizeof out);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_PERCENTILE, 100), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_ASH_VARIANT, 3), LOGITNORM_ERR_INVALID_ARGUMENT);
  float w[6] = {1, 0, 0, 0, 1, NAN};
  EXPECT_FAIL(logitnorm_scorer_set_head_f32(s, w, 3, NULL), LOGITNORM_ERR_NONFINITE, out, 0);
  EXPECT_FAIL(logitnorm_scorer_set_head_f32(s, w, 2, NULL), LOGITNORM_ERR_INVALID_ARGUMENT, out, 0);
  EXPECT_FAIL(logitnorm_scorer_score_f32(s, 4, NULL, 0, h, 3, out), LOGITNORM_ERR_INVALID_STATE, out, sizeof out);
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_DICE, 2, 3);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0);
  w[5] = 0;
  ck_assert_int_eq(logitnorm_scorer_set_head_f32(s, w, 3, NULL), LOGITNORM_OK);
  EXPECT_FAIL(logitnorm_scorer_prepare(s), LOGITNORM_ERR_INVALID_STATE, out, 0); /* not fitted */
  logitnorm_scorer_free(s);
  s = make(LOGITNORM_SCORE_VIM, 2, 3);
  ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_VIM_DIM, 3), LOGITNORM_ERR_INVALID_ARGUMENT);
  logitnorm_scorer_free(s);
}
END_TEST

/* One prepared handle scored from several threads at once (compute takes a const handle and
   keeps no scratch in it): every thread gets the serial result bit for bit. */
typedef struct shared_call {
  const logitnorm_scorer *s;
  const float *x;
  int n, d;
  float out[64];
  logitnorm_status st;
} shared_call;

static void *score_thread(void *arg) {
  shared_call *c = arg;
  for (int rep = 0; rep < 20 && c->st == LOGITNORM_OK; ++rep)
    c->st = logitnorm_scorer_score_f32(c->s, c->n, NULL, 0, c->x, c->d, c->out);
  return NULL;
}

START_TEST(test_concurrent_scoring) {
  sr_rng rng;
  sr_seed(&rng, 81);
  enum { N = 500, D = 16, Q = 64, T = 4 };
  static float h[N * D], x[Q * D];
  int32_t y[N];
  for (int i = 0; i < N; ++i) y[i] = i % 3;
  fill_normal(&rng, h, NULL, N * D, 1.0);
  fill_normal(&rng, x, NULL, Q * D, 1.0);
  const int kinds[2] = {LOGITNORM_SCORE_KNN, LOGITNORM_SCORE_RMDS};
  for (int k = 0; k < 2; ++k) {
    logitnorm_scorer *s = make(kinds[k], 3, D);
    ck_assert_int_eq(logitnorm_scorer_set(s, LOGITNORM_SCORER_K, 10), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_fit_f32(s, N, h, D, NULL, 0, y), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_scorer_prepare(s), LOGITNORM_OK);
    float want[Q];
    ck_assert_int_eq(logitnorm_scorer_score_f32(s, Q, NULL, 0, x, D, want), LOGITNORM_OK);
    static shared_call calls[T];
    pthread_t tid[T];
    for (int t = 0; t < T; ++t) {
      calls[t] = (shared_call){.s = s, .x = x, .n = Q, .d = D, .st = LOGITNORM_OK};
      ck_assert_int_eq(pthread_create(&tid[t], NULL, score_thread, &calls[t]), 0);
    }
    for (int t = 0; t < T; ++t) {
      pthread_join(tid[t], NULL);
      ck_assert_int_eq(calls[t].st, LOGITNORM_OK);
      ck_assert_mem_eq(calls[t].out, want, sizeof want);
    }
    logitnorm_scorer_free(s);
  }
}
END_TEST

int main(void) {
  Suite *suite = suite_create("scorer_fit");
  TCase *tc = tcase_create("fit");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_kl_matching);
  tcase_add_test(tc, test_mahalanobis_3x3);
  tcase_add_test(tc, test_mahalanobis_rmds_reference);
  tcase_add_test(tc, test_mahalanobis_rmds_wide);
  tcase_add_test(tc, test_knn_brute_force);
  tcase_add_test(tc, test_vim);
  tcase_add_test(tc, test_gradnorm_hand);
  tcase_add_test(tc, test_gradnorm_finite_differences);
  tcase_add_test(tc, test_react);
  tcase_add_test(tc, test_ash);
  tcase_add_test(tc, test_dice);
  tcase_add_test(tc, test_states_and_bad_input);
  tcase_add_test(tc, test_concurrent_scoring);
  suite_add_tcase(suite, tc);
  return tu_run_suite(suite);
}
