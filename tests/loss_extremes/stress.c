/* Numerical stress of the loss kernels: logits at +-FLT_MAX (and +-DBL_MAX), denormals,
   all-equal rows, C = 1, a zero row under LogitNorm, tau = 1e-6 and tau = 1e6, epsilon = 0.
   Loss and gradient must be finite wherever the math is, and agree with an independent
   double-precision reference written below; where the math is undefined (0/0 of a zero row
   with epsilon = 0) the status must say so and nothing may be written. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "test_util.h"
#include "parts.h"

/* ---------------- reference (plain double, one row, no reduction) ---------------- */

/* Loss and gradient of one row for label y, cross-entropy (kind 0) or LogitNorm (kind 1).
   Every step is scaled so that no intermediate overflows:
     norm = a sqrt(sum (z/a)^2), a = max|z|;  n = norm + eps
     u_c = (z_c / n) / tau  (LogitNorm),  u = z (cross-entropy)
     loss = m + log sum exp(u - m) - u_y,  g = softmax(u) - e_y
     LogitNorm grad = [g - (g.zh) zh (norm / n)] / (tau n), zh = z / norm
   which is docs/math.md's g/(tau n) - (g.z) z/(tau n^2 ||z||) with z = norm zh. */
/* *gscale is the size of the terms the gradient is made of (max|g|, and for LogitNorm
   (max|g| + |g.zh|) / (tau n)): the gradient can cancel far below it, so the library's error
   is measured against it. */
static void ref_row(int kind, const double *z, int C, int y, double tau, double eps, double *loss, double *grad,
                    double *gscale) {
  double a = 0.0;
  for (int c = 0; c < C; ++c) a = fmax(a, fabs(z[c]));
  double norm = 0.0;
  if (a > 0.0) {
    double ss = 0.0;
    for (int c = 0; c < C; ++c) ss += (z[c] / a) * (z[c] / a);
    norm = a * sqrt(ss);
  }
  double n = norm + eps;
  double u[64] = {0};
  for (int c = 0; c < C; ++c) u[c] = kind == 1 ? (z[c] / n) / tau : z[c];
  double m = u[0];
  for (int c = 1; c < C; ++c) m = fmax(m, u[c]);
  double s = 0.0;
  for (int c = 0; c < C; ++c) s += exp(u[c] - m);
  /* (m - u_y) first: with u = +-DBL_MAX-sized cross-entropy logits the sum overflows honestly */
  *loss = (m - u[y]) + log(s);
  double g[64] = {0};
  for (int c = 0; c < C; ++c) g[c] = exp(u[c] - m) / s - (c == y ? 1.0 : 0.0);
  double gmax = 0.0;
  for (int c = 0; c < C; ++c) gmax = fmax(gmax, fabs(g[c]));
  if (kind == 0) {
    for (int c = 0; c < C; ++c) grad[c] = g[c];
    *gscale = gmax;
    return;
  }
  double gz = 0.0;
  if (norm > 0.0)
    for (int c = 0; c < C; ++c) gz += g[c] * (z[c] / norm);
  *gscale = (gmax + fabs(gz)) / tau / n;
  for (int c = 0; c < C; ++c) {
    double zh = norm > 0.0 ? z[c] / norm : 0.0;
    grad[c] = (g[c] - gz * zh * (norm / n)) / tau / n;
  }
}

/* ---------------- harness ---------------- */

typedef struct stress_case {
  const char *name;
  int kind;
  int C;
  double tau, eps;
  double z[8];
  int y;
} stress_case;

static logitnorm_loss *make_loss(int kind, int C, double tau, double eps) {
  logitnorm_loss *h = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&h, (logitnorm_loss_kind)kind, C), LOGITNORM_OK);
  if (kind == 1) {
    ck_assert_int_eq(logitnorm_loss_set(h, LOGITNORM_LOSS_TEMPERATURE, tau), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_loss_set(h, LOGITNORM_LOSS_EPSILON, eps), LOGITNORM_OK);
  }
  ck_assert_int_eq(logitnorm_loss_set(h, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  return h;
}

/* Agreement of a computed value with the reference. The library keeps u = k z in the element
   type, so its error is a few ulps of the largest |u| (<= 1/tau, or max|z| for cross-entropy):
   relative 1e-4 of that scale for float (2^-23 ~ 1.2e-7, times C and the exp/log chain with
   lots of margin), 1e-10 for double. The gradient is compared against 1e-4 (1e-10) of the
   size of its terms (see ref_row: entries may cancel far below it) plus a few of the
   smallest denormals, the resolution of a tiny result. */
static void expect_close(const char *what, const char *name, double got, double want, double scale, double rel,
                         double floor_abs) {
  ck_assert_msg(isfinite(got), "%s: %s is %g, the math gives %g", name, what, got, want);
  double tol = rel * fmax(1.0, scale) + floor_abs;
  ck_assert_msg(fabs(got - want) <= tol, "%s: %s = %.17g, reference %.17g (tolerance %g)", name, what, got, want, tol);
}

static void run_case_f32(const stress_case *sc) {
  int C = sc->C;
  float z[8], grad[8], row_loss[1];
  double zd[8] = {0}, ref_grad[8], ref_loss, gscale;
  for (int c = 0; c < C; ++c) {
    z[c] = (float)sc->z[c];
    zd[c] = z[c];
  }
  ref_row(sc->kind, zd, C, sc->y, sc->tau, sc->eps, &ref_loss, ref_grad, &gscale);
  logitnorm_loss *h = make_loss(sc->kind, C, sc->tau, sc->eps);
  int32_t y = sc->y;
  double loss = NAN;
  logitnorm_status st = logitnorm_loss_forward_backward_f32(h, 1, z, C, &y, &loss, row_loss, 1.0f, 0.0f, grad, C);
  ck_assert_msg(st == LOGITNORM_OK, "%s (f32): status %d: %s", sc->name, (int)st, logitnorm_last_error());
  double scale = 0.0;
  for (int c = 0; c < C; ++c) scale = fmax(scale, sc->kind == 1 ? 1.0 / sc->tau : fabs(zd[c]));
  expect_close("loss", sc->name, loss, ref_loss, scale, 1e-4, 0.0);
  expect_close("row_loss", sc->name, row_loss[0], ref_loss, scale, 1e-4, 0.0);
  for (int c = 0; c < C; ++c)
    expect_close("grad", sc->name, grad[c], ref_grad[c], 0.0, 0.0, 1e-4 * gscale + 8 * (double)FLT_TRUE_MIN);
  logitnorm_loss_free(h);
}

static void run_case_f64(const stress_case *sc) {
  int C = sc->C;
  double grad[8], row_loss[1], ref_grad[8], ref_loss, gscale;
  ref_row(sc->kind, sc->z, C, sc->y, sc->tau, sc->eps, &ref_loss, ref_grad, &gscale);
  logitnorm_loss *h = make_loss(sc->kind, C, sc->tau, sc->eps);
  int32_t y = sc->y;
  double loss = NAN;
  logitnorm_status st = logitnorm_loss_forward_backward_f64(h, 1, sc->z, C, &y, &loss, row_loss, 1.0, 0.0, grad, C);
  ck_assert_msg(st == LOGITNORM_OK, "%s (f64): status %d: %s", sc->name, (int)st, logitnorm_last_error());
  double scale = 0.0;
  for (int c = 0; c < C; ++c) scale = fmax(scale, sc->kind == 1 ? 1.0 / sc->tau : fabs(sc->z[c]));
  expect_close("loss", sc->name, loss, ref_loss, scale, 1e-10, 0.0);
  expect_close("row_loss", sc->name, row_loss[0], ref_loss, scale, 1e-10, 0.0);
  for (int c = 0; c < C; ++c)
    expect_close("grad", sc->name, grad[c], ref_grad[c], 0.0, 0.0, 1e-10 * gscale + 8 * DBL_TRUE_MIN);
  logitnorm_loss_free(h);
}

#define FM FLT_MAX
#define FD FLT_TRUE_MIN
/* Rows whose math is finite in float (and so in double). */
static const stress_case FINITE_CASES[] = {
    {"LN +-FLT_MAX", 1, 4, 0.04, 1e-7, {FM, -FM, 0, 1}, 1},
    {"LN +-FLT_MAX all", 1, 4, 0.04, 1e-7, {FM, FM, -FM, FM}, 2},
    {"LN +-FLT_MAX tau 1e6", 1, 4, 1e6, 1e-7, {FM, -FM, FM, 1}, 0},
    {"LN +-FLT_MAX tau 1e-6", 1, 4, 1e-6, 1e-7, {FM, -FM, 0.5f * FM, 1}, 2},
    {"CE +-FLT_MAX target at max", 0, 4, 1, 0, {FM, -FM, 0, 1}, 0},
    {"CE +-FLT_MAX near max", 0, 4, 1, 0, {FM, -FM, 0, 1}, 3},
    {"LN denormals", 1, 4, 0.04, 1e-7, {FD, -3 * FD, 1e-40, 0}, 0},
    {"LN small eps 0", 1, 4, 0.04, 0.0, {1e-30, -2e-30, 3e-31, 0}, 1},
    {"CE denormals", 0, 4, 1, 0, {FD, -3 * FD, 1e-40, 0}, 3},
    {"LN all equal", 1, 4, 0.04, 1e-7, {5, 5, 5, 5}, 2},
    {"LN all equal negative", 1, 4, 0.04, 1e-7, {-7, -7, -7, -7}, 0},
    {"CE all equal", 0, 4, 1, 0, {1e30, 1e30, 1e30, 1e30}, 1},
    {"LN C = 1", 1, 1, 0.04, 1e-7, {3}, 0},
    {"LN C = 1 zero", 1, 1, 0.04, 1e-7, {0}, 0},
    {"CE C = 1", 0, 1, 1, 0, {-FM}, 0},
    {"LN zero row", 1, 4, 0.04, 1e-7, {0, 0, 0, 0}, 3},
    {"LN zero row tau 1e-6", 1, 4, 1e-6, 1e-7, {0, 0, 0, 0}, 1},
    {"LN zero row tau 1e6", 1, 4, 1e6, 1e-7, {0, 0, 0, 0}, 1},
    {"LN tau 1e-6", 1, 5, 1e-6, 1e-7, {0.3, -1.2, 2.5, 0.1, -0.7}, 4},
    {"LN tau 1e-6 target is max", 1, 5, 1e-6, 1e-7, {0.3, -1.2, 2.5, 0.1, -0.7}, 2},
    {"LN tau 1e6", 1, 5, 1e6, 1e-7, {0.3, -1.2, 2.5, 0.1, -0.7}, 1},
    {"LN mixed magnitudes", 1, 6, 0.04, 1e-7, {1e30, 1e-30, -1e20, FD, 0, -1e30}, 5},
};
enum { N_FINITE = (int)(sizeof FINITE_CASES / sizeof FINITE_CASES[0]) };

START_TEST(test_finite_f32) { run_case_f32(&FINITE_CASES[_i]); }
END_TEST

START_TEST(test_finite_f64) { run_case_f64(&FINITE_CASES[_i]); }
END_TEST

/* Double-only extremes: +-DBL_MAX and double denormals (whose squares are exactly 0). The
   LogitNorm rows keep ||z|| below DBL_MAX (see docs/reliability.md for rows beyond it). */
static const stress_case DOUBLE_CASES[] = {
    {"LN +-DBL_MAX/4", 1, 4, 0.04, 1e-7, {0.25 * DBL_MAX, -0.25 * DBL_MAX, 0, 1}, 1},
    {"LN +-DBL_MAX/4 tau 1e-6", 1, 4, 1e-6, 1e-7, {0.25 * DBL_MAX, -0.25 * DBL_MAX, 0.125 * DBL_MAX, 1}, 3},
    {"CE +-DBL_MAX target at max", 0, 4, 1, 0, {DBL_MAX, -DBL_MAX, 0, 1}, 0},
    {"LN double denormals", 1, 4, 0.04, 1e-7, {DBL_TRUE_MIN, -1e-320, 2e-310, 0}, 2},
    {"LN tiny eps 0", 1, 4, 0.04, 0.0, {1e-200, -3e-200, 2e-200, 0}, 1},
};
enum { N_DOUBLE = (int)(sizeof DOUBLE_CASES / sizeof DOUBLE_CASES[0]) };

START_TEST(test_finite_double_only) { run_case_f64(&DOUBLE_CASES[_i]); }
END_TEST

/* Hand-computed golden values (no reference code involved).
   All-equal row z = (5,5,5,5), y = 2, LogitNorm tau = 0.04, eps = 1e-7:
     u is constant, so p = 1/4 and loss = log 4 = 1.3862943611198906;
     g = p - e_y = (0.25, 0.25, -0.75, 0.25), g.z = 5 * sum g = 0, so the second gradient
     term vanishes and grad = g / (tau n), n = ||z|| + eps = 10 + 1e-7:
     1 / (0.04 * 10.0000001) = 2.4999999750000002, grad = (0.625, 0.625, -1.875, 0.625) * (1 - 1e-8).
   C = 1: softmax is 1, loss = 0 and grad = 0 exactly, whatever z. */
START_TEST(test_golden) {
  logitnorm_loss *h = make_loss(1, 4, 0.04, 1e-7);
  const double z[4] = {5, 5, 5, 5};
  int32_t y = 2;
  double loss, row_loss, grad[4];
  ck_assert_int_eq(logitnorm_loss_forward_backward_f64(h, 1, z, 4, &y, &loss, &row_loss, 1.0, 0.0, grad, 4),
                   LOGITNORM_OK);
  /* 1e-15: a few ulps of log 4 and of 2.5 */
  ck_assert_double_eq_tol(loss, 1.3862943611198906, 1e-15);
  const double k = 1.0 / (0.04 * 10.0000001);
  const double want[4] = {0.25 * k, 0.25 * k, -0.75 * k, 0.25 * k};
  for (int c = 0; c < 4; ++c) ck_assert_double_eq_tol(grad[c], want[c], 1e-14);
  logitnorm_loss_free(h);

  h = make_loss(1, 1, 0.04, 1e-7);
  const float z1[1] = {-FLT_MAX};
  int32_t y1 = 0;
  float g1[1] = {123.0f}, rl1[1];
  ck_assert_int_eq(logitnorm_loss_forward_backward_f32(h, 1, z1, 1, &y1, &loss, rl1, 1.0f, 0.0f, g1, 1),
                   LOGITNORM_OK);
  ck_assert(loss == 0.0 && rl1[0] == 0.0f && g1[0] == 0.0f);
  logitnorm_loss_free(h);
}
END_TEST

/* Where the math is undefined the call must fail with NONFINITE and write nothing:
   a zero row under LogitNorm with epsilon = 0 is 0/0. The same row is fine when ignored. */
START_TEST(test_zero_row_eps0_undefined) {
  for (int f64 = 0; f64 < 2; ++f64) {
    logitnorm_loss *h = make_loss(1, 3, 0.04, 0.0);
    float zf[6] = {1, 2, 3, 0, 0, 0}, gf[6], rlf[2];
    double zd[6] = {1, 2, 3, 0, 0, 0}, gd[6], rld[2];
    int32_t y[2] = {0, 2};
    double loss;
    tu_sentinel_fill(gf, sizeof gf);
    tu_sentinel_fill(gd, sizeof gd);
    tu_sentinel_fill(rlf, sizeof rlf);
    tu_sentinel_fill(rld, sizeof rld);
    tu_sentinel_fill(&loss, sizeof loss);
    logitnorm_status st =
        f64 ? logitnorm_loss_forward_backward_f64(h, 2, zd, 3, y, &loss, rld, 1.0, 0.0, gd, 3)
            : logitnorm_loss_forward_backward_f32(h, 2, zf, 3, y, &loss, rlf, 1.0f, 0.0f, gf, 3);
    ck_assert_int_eq(st, LOGITNORM_ERR_NONFINITE);
    ck_assert_str_ne(logitnorm_last_error(), "");
    ck_assert(tu_sentinel_intact(gf, sizeof gf) && tu_sentinel_intact(gd, sizeof gd));
    ck_assert(tu_sentinel_intact(rlf, sizeof rlf) && tu_sentinel_intact(rld, sizeof rld));
    ck_assert(tu_sentinel_intact(&loss, sizeof loss));
    /* ignored, the zero row is harmless: it contributes 0 loss and a 0 gradient */
    y[1] = -100;
    st = f64 ? logitnorm_loss_forward_backward_f64(h, 2, zd, 3, y, &loss, rld, 1.0, 0.0, gd, 3)
             : logitnorm_loss_forward_backward_f32(h, 2, zf, 3, y, &loss, rlf, 1.0f, 0.0f, gf, 3);
    ck_assert_int_eq(st, LOGITNORM_OK);
    ck_assert(isfinite(loss));
    for (int c = 3; c < 6; ++c) ck_assert(f64 ? gd[c] == 0.0 : gf[c] == 0.0f);
    logitnorm_loss_free(h);
  }
}
END_TEST

/* A tiny float row with epsilon = 0: 1/(tau ||z||) ~ 1e39 is beyond FLT_MAX and so is the
   gradient (the reference, in double, confirms it), so the call must fail with NONFINITE
   and write nothing. */
START_TEST(test_tiny_row_eps0_overflows_float) {
  const float z[4] = {1e-38f, -2e-38f, 3e-39f, 0.0f};
  double zd[4], ref_grad[4], ref_loss, gscale, gmax = 0.0;
  for (int c = 0; c < 4; ++c) zd[c] = z[c];
  ref_row(1, zd, 4, 1, 0.04, 0.0, &ref_loss, ref_grad, &gscale);
  for (int c = 0; c < 4; ++c) gmax = fmax(gmax, fabs(ref_grad[c]));
  ck_assert(gmax > FLT_MAX);
  logitnorm_loss *h = make_loss(1, 4, 0.04, 0.0);
  int32_t y = 1;
  float g[4], rl[1];
  double loss;
  tu_sentinel_fill(g, sizeof g);
  tu_sentinel_fill(rl, sizeof rl);
  tu_sentinel_fill(&loss, sizeof loss);
  ck_assert_int_eq(logitnorm_loss_forward_backward_f32(h, 1, z, 4, &y, &loss, rl, 1.0f, 0.0f, g, 4),
                   LOGITNORM_ERR_NONFINITE);
  ck_assert_str_ne(logitnorm_last_error(), "");
  ck_assert(tu_sentinel_intact(g, sizeof g) && tu_sentinel_intact(rl, sizeof rl));
  ck_assert(tu_sentinel_intact(&loss, sizeof loss));
  logitnorm_loss_free(h);
}
END_TEST

/* NaN and +inf with CHECK_FINITE on: NONFINITE and nothing written (both paths). -inf is a
   masked class: test_minus_inf_is_a_mask. */
START_TEST(test_nonfinite_input_rejected) {
  const float bad[2] = {NAN, INFINITY};
  for (int b = 0; b < 2; ++b)
    for (int kind = 0; kind < 2; ++kind) {
      logitnorm_loss *h = make_loss(kind, 4, 0.04, 1e-7);
      float z[8] = {1, 2, 3, 4, 0, 0, 0, 0}, g[8], rl[2];
      z[4 + b] = bad[b];
      int32_t y[2] = {0, 1};
      double loss;
      tu_sentinel_fill(g, sizeof g);
      tu_sentinel_fill(rl, sizeof rl);
      tu_sentinel_fill(&loss, sizeof loss);
      ck_assert_int_eq(logitnorm_loss_forward_backward_f32(h, 2, z, 4, y, &loss, rl, 1.0f, 0.0f, g, 4),
                       LOGITNORM_ERR_NONFINITE);
      ck_assert_str_ne(logitnorm_last_error(), "");
      ck_assert(tu_sentinel_intact(g, sizeof g) && tu_sentinel_intact(rl, sizeof rl));
      ck_assert(tu_sentinel_intact(&loss, sizeof loss));
      logitnorm_loss_free(h);
    }
}
END_TEST

/* With CHECK_FINITE on, a -inf logit is accepted as a masked class: the row costs what the
   row without that column costs (ref_row on the 3 remaining classes), and the masked
   column's gradient is exactly 0. */
START_TEST(test_minus_inf_is_a_mask) {
  for (int kind = 0; kind < 2; ++kind) {
    logitnorm_loss *h = make_loss(kind, 4, 0.04, 1e-7);
    const float z[8] = {1, 2, 3, 4, 1.5f, -0.5f, -INFINITY, 2};
    const double reduced[3] = {1.5, -0.5, 2};
    int32_t y[2] = {0, 1};
    float g[8], rl[2];
    double loss, ref_loss, ref_grad[3], gscale;
    ck_assert_int_eq(logitnorm_loss_forward_backward_f32(h, 2, z, 4, y, &loss, rl, 1.0f, 0.0f, g, 4), LOGITNORM_OK);
    ref_row(kind, reduced, 3, 1, 0.04, 1e-7, &ref_loss, ref_grad, &gscale);
    expect_close("masked row_loss", kind ? "LN mask" : "CE mask", rl[1], ref_loss, kind ? 25.0 : 2.0, 1e-4, 0.0);
    ck_assert_msg(g[6] == 0.0f, "masked column gradient %g", (double)g[6]);
    const int cols[3] = {4, 5, 7};
    for (int k = 0; k < 3; ++k)
      expect_close("masked grad", kind ? "LN mask" : "CE mask", g[cols[k]], ref_grad[k], 0.0, 0.0, 1e-4 * gscale);
    logitnorm_loss_free(h);
  }
}
END_TEST

TCase *loss_extremes_stress_tcase(void) {
  TCase *tc = tcase_create("stress");
  tcase_add_loop_test(tc, test_finite_f32, 0, N_FINITE);
  tcase_add_loop_test(tc, test_finite_f64, 0, N_FINITE);
  tcase_add_loop_test(tc, test_finite_double_only, 0, N_DOUBLE);
  tcase_add_test(tc, test_golden);
  tcase_add_test(tc, test_zero_row_eps0_undefined);
  tcase_add_test(tc, test_nonfinite_input_rejected);
  tcase_add_test(tc, test_minus_inf_is_a_mask);
  tcase_add_test(tc, test_tiny_row_eps0_overflows_float);
  return tc;
}
