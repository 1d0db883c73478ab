/* Numerical edge cases of the loss kernels against the double reference: zero rows,
   logits at +-FLT_MAX, denormal rows, all-equal rows, extreme temperatures and very large
   f64 rows (whose sum of squares overflows double).

   Tolerances follow test_loss_values.c: with unit roundoff u_T of the element type and
   u_d of double, a row with target mass Q, du/dz factor k and max |u| = umax is checked to
     loss: 16 (u_T (umax + 10) + u_d C) Q + 4 u_T |l|
     grad: 16 (u_T (umax + 10) + u_d C) k Q + 4 u_T |grad|
   (rounding of u = k z moves exp(u - max u) by about u_T (|u| + |max u|)). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "loss_ref.h"
#include "test_util.h"
#include "parts.h"

typedef struct ncase {
  int kind;
  double tau, eps, smoothing;
  int n, C;
  const double *z; /* n x C; for f32 the values must be floats (they are converted exactly) */
  const int32_t *y;
} ncase;

/* Runs forward_backward (SUM, alpha 1, beta 0 over NaN) in f32 and f64 and compares to the reference. */
static void check_against_reference(const ncase *nc, int f64) {
  int n = nc->n, C = nc->C;
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, (logitnorm_loss_kind)nc->kind, C), LOGITNORM_OK);
  if (nc->kind == LOGITNORM_LOSS_LOGITNORM) /* UNSUPPORTED on cross-entropy handles */
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, nc->tau), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, nc->eps), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, nc->smoothing), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);

  const size_t nC = (size_t)n * (size_t)C;
  double *zd = malloc(nC * sizeof *zd), *rows = malloc((size_t)n * sizeof *rows), *grad = malloc(nC * sizeof *grad);
  double *want_rows = malloc((size_t)n * sizeof *want_rows), *want_grad = malloc(nC * sizeof *want_grad);
  double *q = malloc((size_t)C * sizeof *q);
  float *zf = malloc(nC * sizeof *zf), *rowsf = malloc((size_t)n * sizeof *rowsf), *gradf = malloc(nC * sizeof *gradf);
  ck_assert(zd && rows && grad && want_rows && want_grad && q && zf && rowsf && gradf);
  for (int k = 0; k < n * C; ++k) {
    zf[k] = (float)nc->z[k];
    zd[k] = f64 ? nc->z[k] : (double)zf[k];
    grad[k] = NAN;
    gradf[k] = NAN;
  }
  double loss = NAN;
  logitnorm_status st =
      f64 ? logitnorm_loss_forward_backward_f64(L, n, zd, C, nc->y, &loss, rows, 1.0, 0.0, grad, C)
          : logitnorm_loss_forward_backward_f32(L, n, zf, C, nc->y, &loss, rowsf, 1.0f, 0.0f, gradf, C);
  ck_assert_msg(st == LOGITNORM_OK, "status %d: %s", (int)st, logitnorm_last_error());
  if (!f64)
    for (int k = 0; k < n * C; ++k) grad[k] = gradf[k];
  if (!f64)
    for (int i = 0; i < n; ++i) rows[i] = rowsf[i];

  lr_config cfg;
  lr_config_init(&cfg, nc->kind, C);
  cfg.tau = nc->tau;
  cfg.eps = nc->eps;
  cfg.smoothing = nc->smoothing;
  cfg.reduction = LOGITNORM_REDUCTION_SUM;
  double want = lr_batch_hard(&cfg, n, zd, C, nc->y, want_rows, want_grad);
  const double uT = f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2, ud = DBL_EPSILON / 2;
  double tol_sum = 0.0;
  ck_assert_msg(isfinite(loss), "loss %g", loss);
  for (int i = 0; i < n; ++i) {
    lr_targets_hard(&cfg, nc->y[i], q);
    lr_row_scale s = lr_row_size(&cfg, zd + i * C, q);
    double unit = 16.0 * (uT * (s.umax + 10.0) + ud * C);
    double tl = unit * s.Q + 4.0 * uT * fabs(want_rows[i]);
    tol_sum += tl;
    ck_assert_msg(isfinite(rows[i]) && fabs(rows[i] - want_rows[i]) <= tl, "%s row %d: loss %.17g, want %.17g (tol %.3g)",
                  f64 ? "f64" : "f32", i, rows[i], want_rows[i], tl);
    for (int c = 0; c < C; ++c) {
      double g = grad[i * C + c], wg = want_grad[i * C + c];
      double tg = unit * s.k * s.Q + 4.0 * uT * fabs(wg);
      if (!(isfinite(g) && fabs(g - wg) <= tg))
        ck_abort_msg("%s grad[%d][%d]: %.17g, want %.17g (tol %.3g)", f64 ? "f64" : "f32", i, c, g, wg, tg);
    }
  }
  ck_assert_msg(fabs(loss - want) <= tol_sum + 4.0 * ud * fabs(want), "loss %.17g, want %.17g", loss, want);
  logitnorm_loss_free(L);
  free(zd), free(rows), free(grad), free(want_rows), free(want_grad), free(q), free(zf), free(rowsf), free(gradf);
}

static void check_both(const ncase *nc) {
  check_against_reference(nc, 0);
  check_against_reference(nc, 1);
}

/* Zero rows under LogitNorm: u = 0, loss = sum_c q_c log C, and a finite gradient of size
   about 1/(tau eps) (= 2.5e8 at the defaults). */
START_TEST(zero_rows) {
  static const int sizes[3] = {2, 7, 1000};
  static double z[3 * 1000]; /* the largest size below */
  for (int s = 0; s < 3; ++s) {
    int C = sizes[s];
    tu_rng r;
    tu_seed(&r, (uint64_t)C);
    for (int k = 0; k < 3 * C; ++k) z[k] = k >= 2 * C ? (double)(float)tu_normal(&r) : 0.0;
    int32_t y[3] = {0, (int32_t)(C - 1), 1 % C};
    for (int sm = 0; sm < 2; ++sm) {
      ncase nc = {LOGITNORM_LOSS_LOGITNORM, 0.04, 1e-7, sm ? 0.2 : 0.0, 3, C, z, y};
      check_both(&nc);
    }
  }
  /* the size of the zero row's gradient, directly: (1/C - [c = y]) / (tau eps) */
  double zero[4] = {0, 0, 0, 0}, g[4];
  int32_t y0 = 2;
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 4), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_backward_f64(L, 1, zero, 4, &y0, NULL, 1.0, 0.0, g, 4), LOGITNORM_OK);
  ck_assert(fabs(g[2] - (-0.75 / 4e-9)) <= 1e-6 * 0.75 / 4e-9);
  ck_assert(fabs(g[0] - 0.25 / 4e-9) <= 1e-6 * 0.25 / 4e-9);
  logitnorm_loss_free(L);
}
END_TEST

/* Rows holding +-FLT_MAX: the sum of squares would overflow float, the norm must not. */
START_TEST(flt_max_logitnorm) {
  const double M = FLT_MAX;
  const double z[4 * 4] = {M, -M, 0, 1,   M, M, M, M,   -M, FLT_MIN, 3, M / 2,   M, 1e-30, -1, 0};
  const int32_t y[4] = {0, 3, 1, 2};
  for (int sm = 0; sm < 2; ++sm)
    for (int t = 0; t < 2; ++t) {
      ncase nc = {LOGITNORM_LOSS_LOGITNORM, t ? 1.0 : 0.04, 1e-7, sm ? 0.1 : 0.0, 4, 4, z, y};
      check_both(&nc);
    }
}
END_TEST

/* Cross-entropy at +-FLT_MAX, worked by hand:
     (M, M), y = 0:   p = (1/2, 1/2), loss log 2, grad (-1/2, 1/2)
     (M, -M), y = 0:  p = (1, 0) exactly (exp(-2M) = 0), loss 0, grad (0, 0) */
START_TEST(flt_max_cross_entropy) {
  const float M = FLT_MAX;
  const float z[4] = {M, M, M, -M};
  const int32_t y[2] = {0, 0};
  float rows[2], g[4];
  double loss = NAN;
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_CROSS_ENTROPY, 2), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_forward_backward_f32(L, 2, z, 2, y, &loss, rows, 1.0f, 0.0f, g, 2), LOGITNORM_OK);
  /* f32: 1e-6 covers the float rounding of log 2 and of p */
  ck_assert(fabs(rows[0] - 0.6931471805599453) <= 1e-6);
  ck_assert(fabs(rows[1]) <= 1e-6);
  ck_assert(fabs(g[0] + 0.25) <= 1e-6 && fabs(g[1] - 0.25) <= 1e-6); /* MEAN over 2 rows halves */
  ck_assert(fabs(g[2]) <= 1e-6 && fabs(g[3]) <= 1e-6);
  ck_assert(fabs(loss - 0.6931471805599453 / 2) <= 1e-6);
  logitnorm_loss_free(L);
}
END_TEST

/* Denormal rows: ||z|| is far below eps, so u ~ z / (tau eps) is tiny and the loss is about
   log C; the reference settles the exact value. Cross-entropy sees u ~ 0 as well. */
START_TEST(denormal_rows) {
  const double z32[3 * 4] = {1e-40, -3e-41, 0, 1.4e-45,   FLT_TRUE_MIN, FLT_TRUE_MIN, FLT_TRUE_MIN, FLT_TRUE_MIN,
                             -FLT_TRUE_MIN, 0, 0, 1e-39};
  const double z64[3 * 4] = {1e-310, -4e-320, 0, 5e-324,   1e-300, -1e-305, 2e-308, 0,   -5e-324, 0, 0, 1e-160};
  const int32_t y[3] = {0, 3, 2};
  for (int kind = 0; kind < 2; ++kind) {
    ncase a = {kind, 0.04, 1e-7, 0.1, 3, 4, z32, y};
    check_both(&a);
    ncase b = {kind, 0.04, 1e-7, 0.1, 3, 4, z64, y};
    check_against_reference(&b, 1);
  }
}
END_TEST

/* Rows with all entries equal: u is constant, p = 1/C, loss = log C per unit of target mass,
   and for LogitNorm g.z = v sum(g) = 0, so dl/dz = (1/C - [c = y]) / (tau n). */
START_TEST(all_equal_rows) {
  enum { C = 5 };
  const double vals[5] = {1.0, -3.0, 1e30, 1e-20, 0.5};
  double z[5 * C];
  int32_t y[5] = {0, 1, 2, 3, 4};
  for (int i = 0; i < 5; ++i)
    for (int c = 0; c < C; ++c) z[i * C + c] = vals[i];
  for (int kind = 0; kind < 2; ++kind) {
    ncase nc = {kind, 0.04, 1e-7, 0.0, 5, C, z, y};
    check_both(&nc);
  }
}
END_TEST

/* Cross-entropy on huge logits, where the tolerance model above says little (|u| ~ 1e30):
   a row of equal values V costs exactly log C whatever V is, and a row (V, -V, -V) with the
   label on V costs exactly 0. Computing m + log s - u_y would lose log s entirely once
   |V| > 2^53 log C; the loss must be formed from u - m. Hard and soft targets, f32 and f64.
   Tolerance: 1e-6 (f32) and 1e-14 (f64) absolute on values below 2. */
static void huge_logit_rows(int f64, double V) {
  enum { C = 3 };
  const double log3 = 1.0986122886681098;
  const double z[3 * C] = {V, V, V, V, -V, -V, -V, V, -V};
  const int32_t y[3] = {1, 0, 1};
  const double t[3 * C] = {0, 1, 0, 1, 0, 0, 0, 1, 0}; /* the labels as one-hot targets */
  const double want[3] = {log3, 0.0, 0.0};
  float zf[3 * C], tf[3 * C], rf[3];
  double rd[3];
  for (int k = 0; k < 3 * C; ++k) {
    zf[k] = (float)z[k];
    tf[k] = (float)t[k];
  }
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_CROSS_ENTROPY, C), LOGITNORM_OK);
  for (int soft = 0; soft < 2; ++soft) {
    logitnorm_status st;
    if (f64)
      st = soft ? logitnorm_loss_forward_soft_f64(L, 3, z, C, t, C, NULL, rd) : logitnorm_loss_forward_f64(L, 3, z, C, y, NULL, rd);
    else
      st = soft ? logitnorm_loss_forward_soft_f32(L, 3, zf, C, tf, C, NULL, rf) : logitnorm_loss_forward_f32(L, 3, zf, C, y, NULL, rf);
    ck_assert_int_eq(st, LOGITNORM_OK);
    for (int i = 0; i < 3; ++i) {
      double got = f64 ? rd[i] : (double)rf[i];
      ck_assert_msg(fabs(got - want[i]) <= (f64 ? 1e-14 : 1e-6), "%s %s V = %g row %d: loss %.17g, want %.17g",
                    f64 ? "f64" : "f32", soft ? "soft" : "hard", V, i, got, want[i]);
    }
  }
  logitnorm_loss_free(L);
}

START_TEST(cross_entropy_huge_logits) {
  huge_logit_rows(0, 1e30);
  huge_logit_rows(0, FLT_MAX);
  huge_logit_rows(1, 1e30);
  huge_logit_rows(1, 1e300);
}
END_TEST

/* Extreme temperatures: tau = 1e-6 makes |u| up to 1e6 (softmax one-hot, loss ~ 1e6 per row);
   tau = 1e6 makes u ~ 1e-6 (softmax uniform, loss ~ log C). */
START_TEST(extreme_temperatures) {
  enum { N = 4, C = 10 };
  double z[N * C];
  tu_rng r;
  tu_seed(&r, 5);
  for (int k = 0; k < N * C; ++k) z[k] = (double)(float)tu_normal(&r);
  const int32_t y[N] = {0, 3, 9, 5};
  const double taus[2] = {1e-6, 1e6};
  for (int t = 0; t < 2; ++t)
    for (int sm = 0; sm < 2; ++sm) {
      ncase nc = {LOGITNORM_LOSS_LOGITNORM, taus[t], 1e-7, sm ? 0.1 : 0.0, N, C, z, y};
      check_both(&nc);
    }
}
END_TEST

/* LogitNorm rows of large or small scale (|z| ~ 1e-20 to 1e25), where k = 1/(tau (||z|| + eps))
   and the correction term's tcorr = g.u corr scale sit far from 1 in opposite directions:
   their product tcorr k leaves the float range while tcorr (k z) does not. On the AVX2 tile
   path (C = 10, 1024 rows: every row in a full group) and the row path (C = 200, 6 rows). */
START_TEST(logitnorm_row_scales) {
  static const double scales[5] = {1e-20, 1e10, 1e15, 1e20, 1e25};
  static const int sizes[2][2] = {{1024, 10}, {6, 200}};
  for (int p = 0; p < 2; ++p) {
    const int n = sizes[p][0], C = sizes[p][1];
    double *z = malloc((size_t)(n * C) * sizeof *z);
    int32_t *y = malloc((size_t)n * sizeof *y);
    ck_assert(z && y);
    tu_rng r;
    tu_seed(&r, (uint64_t)(17 + p));
    for (int i = 0; i < n; ++i) {
      const double scale = scales[i % 5];
      for (int c = 0; c < C; ++c) z[i * C + c] = (double)(float)(scale * tu_normal(&r));
      y[i] = (int32_t)tu_int(&r, 0, C - 1);
    }
    for (int sm = 0; sm < 2; ++sm) {
      ncase nc = {LOGITNORM_LOSS_LOGITNORM, 0.04, 1e-7, sm ? 0.1 : 0.0, n, C, z, y};
      check_both(&nc);
    }
    free(z);
    free(y);
  }
}
END_TEST

/* f64 rows near 1e300: the plain sum of squares overflows double; the norm must be scaled. */
START_TEST(huge_f64_rows) {
  const double z[2 * 3] = {1e300, -2e300, 3e299,   -1e308, 1e308, 5e307};
  const int32_t y[2] = {1, 0};
  ncase nc = {LOGITNORM_LOSS_LOGITNORM, 0.04, 1e-7, 0.1, 2, 3, z, y};
  check_against_reference(&nc, 1);
}
END_TEST

/* eps = 0 leaves a zero row undefined (0/0); such a row is reported as NONFINITE and
   nothing is written. A non-zero row is fine with eps = 0. */
START_TEST(eps_zero_zero_row) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 3), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, 0.0), LOGITNORM_OK);
  const double z[6] = {1, 2, 3, 0, 0, 0};
  const int32_t y[2] = {0, 1};
  double loss, rows[2], g[6];
  tu_sentinel_fill(&loss, sizeof loss);
  tu_sentinel_fill(rows, sizeof rows);
  tu_sentinel_fill(g, sizeof g);
  ck_assert_int_eq(logitnorm_loss_forward_backward_f64(L, 2, z, 3, y, &loss, rows, 1.0, 0.0, g, 3),
                   LOGITNORM_ERR_NONFINITE);
  ck_assert(logitnorm_last_error()[0] != '\0');
  ck_assert(tu_sentinel_intact(&loss, sizeof loss) && tu_sentinel_intact(rows, sizeof rows) &&
            tu_sentinel_intact(g, sizeof g));
  /* the same zero row is fine when it is ignored */
  const int32_t y_ign[2] = {0, -100};
  ck_assert_int_eq(logitnorm_loss_forward_backward_f64(L, 2, z, 3, y_ign, &loss, rows, 1.0, 0.0, g, 3), LOGITNORM_OK);
  ck_assert(isfinite(loss) && rows[1] == 0.0 && g[3] == 0.0 && g[4] == 0.0 && g[5] == 0.0);
  logitnorm_loss_free(L);
}
END_TEST

TCase *loss_extremes_numerics_tcase(void) {
  TCase *tc = tcase_create("numerics");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, zero_rows);
  tcase_add_test(tc, flt_max_logitnorm);
  tcase_add_test(tc, flt_max_cross_entropy);
  tcase_add_test(tc, denormal_rows);
  tcase_add_test(tc, all_equal_rows);
  tcase_add_test(tc, cross_entropy_huge_logits);
  tcase_add_test(tc, extreme_temperatures);
  tcase_add_test(tc, huge_f64_rows);
  tcase_add_test(tc, logitnorm_row_scales);
  tcase_add_test(tc, eps_zero_zero_row);
  return tc;
}
