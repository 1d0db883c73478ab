/* Hand-computed golden cases: small rows whose loss and gradient can be worked out on
   paper. The arithmetic is in the comments; the expected numbers are those formulas
   evaluated to double precision. Every case runs through forward_backward in f64 and in
   f32 (the inputs are exactly representable in float).

   Tolerance: f64 1e-14 relative (a handful of roundings of values below 10); f32 2e-6
   relative to the largest loss (or gradient) of the case (u and exp are formed in float, unit roundoff
   6e-8, and |u| <= 25 moves exp by at most ~25 ulps' worth). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "test_util.h"

#define MAXN 4
#define MAXC 4

typedef struct golden {
  int n, C;
  double z[MAXN * MAXC];
  int32_t y[MAXN];         /* used when soft == 0 */
  int soft;
  double t[MAXN * MAXC];   /* used when soft == 1 */
  double loss;             /* reduced loss */
  double rows[MAXN];
  double grad[MAXN * MAXC]; /* d(loss)/dz with alpha = 1, beta = 0 */
} golden;

static void check_value(double got, double want, double tol, const char *what, int i) {
  if (isnan(want)) {
    ck_assert_msg(isnan(got), "%s[%d]: got %.17g, want NaN", what, i, got);
    return;
  }
  ck_assert_msg(fabs(got - want) <= tol, "%s[%d]: got %.17g, want %.17g (tol %.3g)", what, i, got, want, tol);
}

static void run_golden(const logitnorm_loss *L, const golden *g) {
  int n = g->n, C = g->C;
  /* the scales the tolerances are relative to: losses and gradients separately */
  double big = isfinite(g->loss) ? fmax(1.0, fabs(g->loss)) : 1.0, gbig = 1.0;
  for (int i = 0; i < n; ++i) big = fmax(big, fabs(g->rows[i]));
  for (int k = 0; k < n * C; ++k) gbig = fmax(gbig, fabs(g->grad[k]));

  /* f64 */
  double loss = -1.0, rows[MAXN], grad[MAXN * MAXC];
  for (int k = 0; k < MAXN * MAXC; ++k) grad[k] = NAN;
  logitnorm_status st =
      g->soft ? logitnorm_loss_forward_backward_soft_f64(L, n, g->z, C, g->t, C, &loss, rows, 1.0, 0.0, grad, C)
              : logitnorm_loss_forward_backward_f64(L, n, g->z, C, g->y, &loss, rows, 1.0, 0.0, grad, C);
  ck_assert_int_eq(st, LOGITNORM_OK);
  check_value(loss, g->loss, 1e-14 * big, "f64 loss", 0);
  for (int i = 0; i < n; ++i) check_value(rows[i], g->rows[i], 1e-14 * big, "f64 row_loss", i);
  for (int k = 0; k < n * C; ++k) check_value(grad[k], g->grad[k], 1e-14 * gbig, "f64 grad", k);

  /* f32 */
  float zf[MAXN * MAXC], tf[MAXN * MAXC], rowsf[MAXN], gradf[MAXN * MAXC];
  for (int k = 0; k < n * C; ++k) {
    zf[k] = (float)g->z[k];
    tf[k] = (float)g->t[k];
    gradf[k] = NAN;
  }
  loss = -1.0;
  st = g->soft ? logitnorm_loss_forward_backward_soft_f32(L, n, zf, C, tf, C, &loss, rowsf, 1.0f, 0.0f, gradf, C)
               : logitnorm_loss_forward_backward_f32(L, n, zf, C, g->y, &loss, rowsf, 1.0f, 0.0f, gradf, C);
  ck_assert_int_eq(st, LOGITNORM_OK);
  check_value(loss, g->loss, 2e-6 * big, "f32 loss", 0);
  for (int i = 0; i < n; ++i) check_value(rowsf[i], g->rows[i], 2e-6 * big, "f32 row_loss", i);
  for (int k = 0; k < n * C; ++k) check_value(gradf[k], g->grad[k], 2e-6 * gbig, "f32 grad", k);
}

static logitnorm_loss *handle(logitnorm_loss_kind kind, int64_t C) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, kind, C), LOGITNORM_OK);
  return L;
}

/* Cross-entropy on z = (0, 0), y = 0: p = (1/2, 1/2), loss = -log(1/2) = log 2;
   grad = p - onehot(y) = (-1/2, 1/2). MEAN over one row of weight 1 changes nothing. */
START_TEST(ce_two_zeros) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_CROSS_ENTROPY, 2);
  golden g = {.n = 1, .C = 2, .z = {0, 0}, .y = {0}};
  g.loss = g.rows[0] = 0.6931471805599453; /* log 2 */
  g.grad[0] = -0.5;
  g.grad[1] = 0.5;
  run_golden(L, &g);
  logitnorm_loss_free(L);
}
END_TEST

/* LogitNorm, z = (3, 4), tau = 1, eps = 0: ||z|| = 5, u = (0.6, 0.8). y = 1:
     loss = log(e^0.6 + e^0.8) - 0.8 = log(1 + e^-0.2) = 0.5981388693815918
     p0 = 1 / (1 + e^0.2) = 0.45016600268752216, g = dl/du = p - onehot = (p0, -p0)
     dl/dz = g / (tau n) - (g.z) z / (tau n^2 ||z||),  n = ||z|| = 5,  g.z = 3 p0 - 4 p0 = -p0
           = (p0/5 + 3 p0/125, -p0/5 + 4 p0/125) = (0.10083718460200497, -0.07562788845150373)
   (and z . grad = 3 (0.1008) - 4 (0.0756) = 0: the loss is scale-invariant with eps = 0). */
START_TEST(logitnorm_three_four) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_LOGITNORM, 2);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, 1.0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, 0.0), LOGITNORM_OK);
  golden g = {.n = 1, .C = 2, .z = {3, 4}, .y = {1}};
  g.loss = g.rows[0] = 0.5981388693815918;
  g.grad[0] = 0.10083718460200497;
  g.grad[1] = -0.07562788845150373;
  run_golden(L, &g);
  logitnorm_loss_free(L);
}
END_TEST

/* Same row with tau = 0.5: u = (1.2, 1.6). y = 0: loss = log(e^1.2 + e^1.6) - 1.2
   = log(1 + e^0.4) = 0.9130152523999526. Scaling z by 10 changes nothing (eps = 0).
   p0 = 1 / (1 + e^0.4), g = (p0 - 1, 1 - p0) = (-p1, p1) with p1 = e^0.4 p0,
   dl/dz = g / (tau n) - (g.z) z / (tau n^2 ||z||), n = 50 for z = (30, 40):
   g.z = -30 p1 + 40 p1 = 10 p1, so dl/dz = p1 (-1/25 - 10*30/(0.5*2500*50), 1/25 - 10*40/(0.5*2500*50))
         = p1 (-0.04 - 0.0048, 0.04 - 0.0064) = p1 (-0.0448, 0.0336). */
START_TEST(logitnorm_tau_half_scaled) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_LOGITNORM, 2);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, 0.5), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, 0.0), LOGITNORM_OK);
  golden g = {.n = 1, .C = 2, .z = {30, 40}, .y = {0}};
  double p1 = exp(0.4) / (1.0 + exp(0.4));
  g.loss = g.rows[0] = 0.9130152523999526;
  g.grad[0] = -0.0448 * p1;
  g.grad[1] = 0.0336 * p1;
  run_golden(L, &g);
  logitnorm_loss_free(L);
}
END_TEST

/* Cross-entropy, C = 3, z = 0 (p = 1/3 each, -log p = log 3), y = 2, weights w = (1, 2, 3),
   smoothing e = 0.3:
     q = (1 - e) w_y onehot(y) + (e / C) w = 0.7*3*(0,0,1) + 0.1*(1,2,3) = (0.1, 0.2, 2.4)
     row loss = sum q * log 3 = 2.7 log 3 = 2.9662531794038967
     MEAN divides by w_y = 3:  loss = 0.9 log 3 = 0.9887510598012988
     grad = (Q p - q) / 3 = (0.9 - 0.1, 0.9 - 0.2, 0.9 - 2.4) / 3 = (0.8, 0.7, -1.5) / 3 */
START_TEST(ce_weights_smoothing_mean) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_CROSS_ENTROPY, 3);
  const float w[3] = {1, 2, 3};
  ck_assert_int_eq(logitnorm_loss_set_class_weights(L, w), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, 0.3), LOGITNORM_OK);
  golden g = {.n = 1, .C = 3, .z = {0, 0, 0}, .y = {2}};
  g.rows[0] = 2.9662531794038967;
  g.loss = 0.9887510598012988;
  g.grad[0] = 0.8 / 3;
  g.grad[1] = 0.7 / 3;
  g.grad[2] = -1.5 / 3;
  run_golden(L, &g);
  /* SUM keeps the row loss and does not divide the gradient */
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  g.loss = g.rows[0];
  g.grad[0] = 0.8;
  g.grad[1] = 0.7;
  g.grad[2] = -1.5;
  run_golden(L, &g);
  logitnorm_loss_free(L);
}
END_TEST

/* Two rows of cross-entropy on z = (0, 0); the second is ignored (-100):
   row losses (log 2, 0); MEAN = log 2 / 1 (one counted row); the ignored row's grad is 0. */
START_TEST(ce_ignore_mean) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_CROSS_ENTROPY, 2);
  golden g = {.n = 2, .C = 2, .z = {0, 0, 0, 0}, .y = {1, -100}};
  g.loss = g.rows[0] = 0.6931471805599453;
  g.rows[1] = 0.0;
  g.grad[0] = 0.5;
  g.grad[1] = -0.5;
  run_golden(L, &g);
  logitnorm_loss_free(L);
}
END_TEST

/* Probability targets, cross-entropy on z = (0, log 3): p = (1/4, 3/4); t = (1/2, 1/2):
     loss = -(1/2) log(1/4) - (1/2) log(3/4) = log 4 - (1/2) log 3 = 0.8369882167858357
     grad = (sum t) p - t = (1/4 - 1/2, 3/4 - 1/2) = (-1/4, 1/4)   (MEAN divides by n = 1).
   The second row has t = (1, 1) (not normalised): loss = log 4 + log 4 - log 3 and
   grad = 2 p - t = (-1/2, 1/2); MEAN = (row0 + row1) / 2 and grads halve. */
START_TEST(ce_soft_targets) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_CROSS_ENTROPY, 2);
  const double log3 = 1.0986122886681098, log4 = 1.3862943611198906;
  golden g = {.n = 2, .C = 2, .z = {0, log3, 0, log3}, .soft = 1, .t = {0.5, 0.5, 1, 1}};
  g.rows[0] = 0.8369882167858357;
  g.rows[1] = 2 * log4 - log3;
  g.loss = (g.rows[0] + g.rows[1]) / 2;
  g.grad[0] = -0.25 / 2;
  g.grad[1] = 0.25 / 2;
  g.grad[2] = -0.5 / 2;
  g.grad[3] = 0.5 / 2;
  /* z[1] = log 3 is not exact in float: the f32 run sees a rounded log 3 (relative 3e-8),
     well inside its tolerance. */
  run_golden(L, &g);
  logitnorm_loss_free(L);
}
END_TEST

/* LogitNorm on a zero row, defaults tau = 0.04, eps = 1e-7, C = 4, y = 0:
   u = 0, p = 1/4 each, loss = log 4; ||z|| = 0 so the second gradient term is 0 and
   dl/dz = (p - onehot) / (tau eps) = (-3/4, 1/4, 1/4, 1/4) / 4e-9 = (-1.875e8, 6.25e7, ...). */
START_TEST(logitnorm_zero_row) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_LOGITNORM, 4);
  golden g = {.n = 1, .C = 4, .z = {0, 0, 0, 0}, .y = {0}};
  g.loss = g.rows[0] = 1.3862943611198906;
  g.grad[0] = -0.75 / (0.04 * 1e-7);
  g.grad[1] = g.grad[2] = g.grad[3] = 0.25 / (0.04 * 1e-7);
  run_golden(L, &g);
  logitnorm_loss_free(L);
}
END_TEST

/* C = 1: softmax is 1, so loss and gradient are 0 for both kinds, with or without smoothing. */
START_TEST(one_class) {
  for (int kind = 0; kind < 2; ++kind) {
    logitnorm_loss *L = handle((logitnorm_loss_kind)kind, 1);
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, 0.4), LOGITNORM_OK);
    golden g = {.n = 3, .C = 1, .z = {2.5, -7, 0}, .y = {0, 0, 0}};
    run_golden(L, &g);
    logitnorm_loss_free(L);
  }
}
END_TEST

/* Empty and all-ignored batches: MEAN is 0/0 = NaN, SUM is 0, and every gradient is 0
   (ignored rows get grad = beta grad = 0 with beta = 0). */
START_TEST(empty_and_all_ignored) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_LOGITNORM, 2);
  golden g = {.n = 2, .C = 2, .z = {1, 2, 3, 4}, .y = {-100, -100}};
  g.loss = NAN;
  run_golden(L, &g);
  golden e = {.n = 0, .C = 2};
  e.loss = NAN;
  run_golden(L, &e);
  golden es = {.n = 0, .C = 2, .soft = 1};
  es.loss = NAN; /* soft MEAN divides by n = 0 */
  run_golden(L, &es);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  g.loss = 0.0;
  run_golden(L, &g);
  e.loss = 0.0;
  run_golden(L, &e);
  es.loss = 0.0;
  run_golden(L, &es);
  logitnorm_loss_free(L);
}
END_TEST

/* REDUCTION NONE: loss_out is the plain sum of row losses and the gradient is that of the sum.
   Cross-entropy, rows z = (0, 0) with y = 0 and z = (0, log 3) with y = 1:
     row 0: log 2, grad (-1/2, 1/2);  row 1: -log(3/4) = log 4 - log 3, grad (1/4, -1/4). */
START_TEST(reduction_none_sum_of_rows) {
  logitnorm_loss *L = handle(LOGITNORM_LOSS_CROSS_ENTROPY, 2);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_NONE), LOGITNORM_OK);
  const double log3 = 1.0986122886681098, log4 = 1.3862943611198906;
  golden g = {.n = 2, .C = 2, .z = {0, 0, 0, log3}, .y = {0, 1}};
  g.rows[0] = 0.6931471805599453;
  g.rows[1] = log4 - log3;
  g.loss = g.rows[0] + g.rows[1];
  g.grad[0] = -0.5;
  g.grad[1] = 0.5;
  g.grad[2] = 0.25;
  g.grad[3] = -0.25;
  run_golden(L, &g);
  logitnorm_loss_free(L);
}
END_TEST

static Suite *golden_suite(void) {
  Suite *s = suite_create("loss_golden");
  TCase *tc = tcase_create("golden");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, ce_two_zeros);
  tcase_add_test(tc, logitnorm_three_four);
  tcase_add_test(tc, logitnorm_tau_half_scaled);
  tcase_add_test(tc, ce_weights_smoothing_mean);
  tcase_add_test(tc, ce_ignore_mean);
  tcase_add_test(tc, ce_soft_targets);
  tcase_add_test(tc, logitnorm_zero_row);
  tcase_add_test(tc, one_class);
  tcase_add_test(tc, empty_and_all_ignored);
  tcase_add_test(tc, reduction_none_sum_of_rows);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(golden_suite());
}
