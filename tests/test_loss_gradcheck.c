/* Central finite-difference checks of the analytic gradients, in f64.

   Two independent checks per configuration:
     1. the library's backward_f64 against finite differences of the library's forward_f64;
     2. the reference gradient (support/loss_ref.c) against finite differences of the
        reference loss — so the reference itself is checked, not only trusted.

   Tolerance. With h = 1e-6 max(1, |z_j|), the central difference has truncation error
   h^2 |f'''| / 6 and rounding error about u_d |f| / h. Here |f| < 10 and, for LogitNorm,
   each derivative brings a factor k = 1/(tau ||z||) <= 1/(0.04 * 1.5) ~ 17 (rows are
   drawn with ||z|| >= 1.5), so |f'''| < 1e4 and the error is below 2e-9 + 1e-9. The
   check uses 1e-7 (1 + max |grad|): a hundred times that, and far below the O(1) relative
   error of any wrong term. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "loss_ref.h"
#include "test_util.h"

enum { N = 5, C = 6, LD = 8 }; /* LD > C: the FD loop only perturbs the first C columns */

typedef struct gcase {
  int kind, soft, reduction, use_row_scale;
  double tau, eps, smoothing;
  int weights, ignore;
} gcase;

typedef struct gctx {
  const gcase *g;
  logitnorm_loss *L;
  lr_config cfg;
  double w[C];
  int32_t labels[N];
  double targets[N * LD];
  double row_scale[N];
  int mode; /* 0: f = reduced loss; 1: f = sum_i row_scale_i row_loss_i */
} gctx;

/* z is the n x LD logits matrix. */
static double lib_loss(void *p, const double *z) {
  gctx *x = p;
  double loss = NAN, rows[N];
  logitnorm_status st = x->g->soft ? logitnorm_loss_forward_soft_f64(x->L, N, z, LD, x->targets, LD, &loss, rows)
                                   : logitnorm_loss_forward_f64(x->L, N, z, LD, x->labels, &loss, rows);
  ck_assert_int_eq(st, LOGITNORM_OK);
  if (x->mode == 0) return loss;
  double f = 0.0;
  for (int i = 0; i < N; ++i) f += x->row_scale[i] * rows[i];
  return f;
}

static double ref_loss(void *p, const double *z) {
  gctx *x = p;
  double rows[N];
  double loss = x->g->soft ? lr_batch_soft(&x->cfg, N, z, LD, x->targets, LD, rows, NULL)
                           : lr_batch_hard(&x->cfg, N, z, LD, x->labels, rows, NULL);
  if (x->mode == 0) return loss;
  double f = 0.0;
  for (int i = 0; i < N; ++i) f += x->row_scale[i] * rows[i];
  return f;
}

/* Finite differences over the first C columns of each row of z (n x LD). */
static void fd_matrix(lr_scalar_fn f, gctx *x, double *z, double *g) {
  /* lr_fd_gradient works on a flat vector: hand it the whole matrix and keep the first C
     columns of each row (the NaN padding gives NaN differences, which are dropped). */
  double full[N * LD];
  lr_fd_gradient(f, x, z, N * LD, 1e-6, full);
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < C; ++c) g[i * C + c] = full[i * LD + c];
}

static void expect_grad_close(const double *got, int64_t ldg, const double *want, const char *what) {
  double gmax = 0.0;
  for (int k = 0; k < N * C; ++k)
    if (fabs(want[k]) > gmax) gmax = fabs(want[k]);
  double tol = 1e-7 * (1.0 + gmax);
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < C; ++c) {
      double a = got[i * ldg + c], b = want[i * C + c];
      if (!(fabs(a - b) <= tol))
        ck_abort_msg("%s [%d][%d]: analytic %.15g, finite difference %.15g (tol %.3g)", what, i, c, a, b, tol);
    }
}

static void run_gradcheck(const gcase *g, uint64_t seed) {
  gctx x;
  memset(&x, 0, sizeof x);
  x.g = g;
  tu_rng r;
  tu_seed(&r, seed);
  /* Rows with norm >= 1.5 keep the finite differences away from the kink at z = 0. The
     padding holds NaN, which would poison every loss value if the library read it. */
  double z[N * LD];
  for (int i = 0; i < N; ++i) {
    double ss;
    do {
      ss = 0.0;
      for (int c = 0; c < C; ++c) {
        z[i * LD + c] = 1.2 * tu_normal(&r);
        ss += z[i * LD + c] * z[i * LD + c];
      }
    } while (sqrt(ss) < 1.5);
    for (int c = C; c < LD; ++c) z[i * LD + c] = NAN;
  }
  for (int c = 0; c < C; ++c) x.w[c] = (double)(float)(0.5 + tu_uniform(&r));
  for (int i = 0; i < N; ++i) {
    x.labels[i] = (int32_t)tu_int(&r, 0, C - 1);
    double sum = 0.0;
    for (int c = 0; c < C; ++c) sum += (x.targets[i * LD + c] = tu_uniform(&r));
    for (int c = 0; c < C; ++c) x.targets[i * LD + c] /= sum;
    for (int c = C; c < LD; ++c) x.targets[i * LD + c] = NAN;
    x.row_scale[i] = tu_normal(&r);
  }
  if (g->ignore) x.labels[1] = x.labels[3] = -100;

  ck_assert_int_eq(logitnorm_loss_create(&x.L, (logitnorm_loss_kind)g->kind, C), LOGITNORM_OK);
  if (g->kind == LOGITNORM_LOSS_LOGITNORM)
    ck_assert_int_eq(logitnorm_loss_set(x.L, LOGITNORM_LOSS_TEMPERATURE, g->tau), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(x.L, LOGITNORM_LOSS_EPSILON, g->eps), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(x.L, LOGITNORM_LOSS_LABEL_SMOOTHING, g->smoothing), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(x.L, LOGITNORM_LOSS_REDUCTION, g->reduction), LOGITNORM_OK);
  lr_config_init(&x.cfg, g->kind, C);
  x.cfg.tau = g->tau;
  x.cfg.eps = g->eps;
  x.cfg.smoothing = g->smoothing;
  x.cfg.reduction = g->reduction;
  if (g->weights) {
    float wf[C];
    for (int c = 0; c < C; ++c) wf[c] = (float)x.w[c];
    ck_assert_int_eq(logitnorm_loss_set_class_weights(x.L, wf), LOGITNORM_OK);
    x.cfg.weights = x.w;
  }
  x.mode = g->use_row_scale;

  /* 1. library gradient vs FD of the library loss */
  double grad[N * C], fd[N * C];
  for (int k = 0; k < N * C; ++k) grad[k] = NAN; /* beta = 0 overwrites */
  const double *rs = g->use_row_scale ? x.row_scale : NULL;
  logitnorm_status st = g->soft ? logitnorm_loss_backward_soft_f64(x.L, N, z, LD, x.targets, LD, rs, 1.0, 0.0, grad, C)
                                : logitnorm_loss_backward_f64(x.L, N, z, LD, x.labels, rs, 1.0, 0.0, grad, C);
  ck_assert_int_eq(st, LOGITNORM_OK);
  fd_matrix(lib_loss, &x, z, fd);
  expect_grad_close(grad, C, fd, "library");

  /* 2. reference gradient vs FD of the reference loss */
  double rgrad[N * C];
  if (g->soft)
    lr_batch_soft(&x.cfg, N, z, LD, x.targets, LD, NULL, rgrad);
  else
    lr_batch_hard(&x.cfg, N, z, LD, x.labels, NULL, rgrad);
  if (g->use_row_scale)
    for (int i = 0; i < N; ++i)
      for (int c = 0; c < C; ++c) rgrad[i * C + c] *= x.row_scale[i];
  fd_matrix(ref_loss, &x, z, fd);
  expect_grad_close(rgrad, C, fd, "reference");

  logitnorm_loss_free(x.L);
}

/* Loop index picks a configuration; each runs on three seeds. */
static const gcase CASES[] = {
    /* kind, soft, reduction, row_scale, tau, eps, smoothing, weights, ignore */
    {0, 0, LOGITNORM_REDUCTION_MEAN, 0, 0.04, 1e-7, 0.0, 0, 0},
    {1, 0, LOGITNORM_REDUCTION_MEAN, 0, 0.04, 1e-7, 0.0, 0, 0},
    {0, 0, LOGITNORM_REDUCTION_MEAN, 0, 0.04, 1e-7, 0.2, 1, 1},
    {1, 0, LOGITNORM_REDUCTION_MEAN, 0, 0.04, 1e-7, 0.2, 1, 1},
    {1, 0, LOGITNORM_REDUCTION_SUM, 0, 0.5, 1e-7, 0.1, 1, 1},
    {1, 0, LOGITNORM_REDUCTION_MEAN, 0, 1.0, 0.0, 0.3, 1, 1},
    {1, 0, LOGITNORM_REDUCTION_NONE, 1, 0.04, 1e-7, 0.2, 1, 1},
    {0, 0, LOGITNORM_REDUCTION_NONE, 1, 0.04, 1e-7, 0.2, 1, 1},
    {0, 1, LOGITNORM_REDUCTION_MEAN, 0, 0.04, 1e-7, 0.0, 0, 0},
    {1, 1, LOGITNORM_REDUCTION_MEAN, 0, 0.04, 1e-7, 0.0, 0, 0},
    {0, 1, LOGITNORM_REDUCTION_SUM, 0, 0.04, 1e-7, 0.25, 1, 0},
    {1, 1, LOGITNORM_REDUCTION_MEAN, 0, 0.04, 1e-7, 0.25, 1, 0},
    {1, 1, LOGITNORM_REDUCTION_NONE, 1, 0.2, 1e-7, 0.1, 1, 0},
};

START_TEST(finite_differences) {
  for (uint64_t seed = 1; seed <= 3; ++seed) run_gradcheck(&CASES[_i], seed * 1000 + (uint64_t)_i);
}
END_TEST

/* With eps = 0 the LogitNorm loss is invariant to scaling a row (u = z / (tau ||z||)), so
   its gradient is orthogonal to z in every row: sum_c z_c dl/dz_c = 0. A check that needs
   no reference at all. */
START_TEST(scale_invariance_gradient_orthogonal) {
  tu_rng r;
  tu_seed(&r, 77);
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, 0.0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, 0.15), LOGITNORM_OK);
  double z[N * C], z2[N * C], grad[N * C];
  int32_t labels[N];
  for (int k = 0; k < N * C; ++k) z[k] = tu_normal(&r);
  for (int k = 0; k < N * C; ++k) z2[k] = 7.5 * z[k];
  for (int i = 0; i < N; ++i) labels[i] = (int32_t)tu_int(&r, 0, C - 1);
  double l1 = 0.0, l2 = 0.0;
  ck_assert_int_eq(logitnorm_loss_forward_backward_f64(L, N, z, C, labels, &l1, NULL, 1.0, 0.0, grad, C),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_forward_f64(L, N, z2, C, labels, &l2, NULL), LOGITNORM_OK);
  /* same loss after scaling by 7.5 (up to rounding of u: |u| <= 25, so ~1e-14) */
  ck_assert_msg(fabs(l1 - l2) <= 1e-12 * fabs(l1), "loss %.17g vs scaled %.17g", l1, l2);
  for (int i = 0; i < N; ++i) {
    double dot = 0.0, gn = 0.0;
    for (int c = 0; c < C; ++c) {
      dot += z[i * C + c] * grad[i * C + c];
      gn += fabs(z[i * C + c] * grad[i * C + c]);
    }
    ck_assert_msg(fabs(dot) <= 1e-13 * gn, "row %d: z . grad = %g (scale %g)", i, dot, gn);
  }
  logitnorm_loss_free(L);
}
END_TEST

static Suite *gradcheck_suite(void) {
  Suite *s = suite_create("loss_gradcheck");
  TCase *tc = tcase_create("gradcheck");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, finite_differences, 0, (int)(sizeof CASES / sizeof CASES[0]));
  tcase_add_test(tc, scale_invariance_gradient_orthogonal);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(gradcheck_suite());
}
