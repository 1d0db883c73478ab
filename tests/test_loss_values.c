/* Loss values and gradients of all twelve compute entry points against the independent
   double-precision reference in support/loss_ref.c, in f32 and f64.

   Every case runs forward, backward (with row_scale when the case asks) and
   forward_backward on the same data and checks loss_out, row_loss and grad element by
   element. Logits and target padding columns hold NaN (so reading them would poison the
   result) and grad padding holds random values that must survive bit for bit; row_loss
   gets one extra element that must not be written.

   Tolerances. With unit roundoff u_T of the element type (2^-24 for f32, 2^-53 for f64):
   the kernels form u = k z and exp(u - max u) elementwise in T, and sum in double. The
   rounding of u_c is about u_T |u_c|, which moves exp(u_c - m) by a relative u_T (|u_c| + |m|);
   the double sums add about u_d C relative. So for a row with target mass Q = sum q,
   du/dz factor k and max |u| = umax:
     |row loss error|  <= 16 (u_T (umax + 10) + u_d C) Q + 4 u_T |l|
     |grad error|      <= 16 (u_T (umax + 10) + u_d C) k Q |alpha s / D| + 4 u_T (|beta g0| + |grad|)
   (k Q bounds the row's gradient, |dl/du| <= 2Q, and D is the MEAN divisor). The factor 16
   covers the few roundings per term. For f32 this is about 3e-5 relative to the gradient's
   scale at tau = 0.04 (umax = 25); for f64 about 1e-14. A wrong formula shows up as an O(1)
   relative error, far above either. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "typed_buf.h"
#include "logitnorm.h"
#include "loss_ref.h"
#include "test_util.h"

typedef struct vcase {
  int f64, kind, soft, reduction;
  int64_t n, C, ld, ldt, ldg;
  double tau, eps, smoothing;
  double ignore_frac; /* share of rows whose label is ignore_index */
  int32_t ignore_index;
  double zscale;      /* logits ~ N(0, zscale^2) */
  int weights;        /* random class weights in [0.25, 2] */
  int row_scale;      /* backward gets random row_scale */
  double alpha, beta;
  int nan_grad;       /* grad starts all NaN (with beta = 0 it must simply be overwritten) */
  int in_place;       /* grad == logits, ldg == ld */
  uint64_t seed;
} vcase;

static vcase vdefault(int f64, int kind, int64_t n, int64_t C) {
  vcase v = {0};
  v.f64 = f64;
  v.kind = kind;
  v.reduction = LOGITNORM_REDUCTION_MEAN;
  v.n = n;
  v.C = C;
  v.ld = v.ldt = v.ldg = C;
  v.tau = 0.04;
  v.eps = 1e-7;
  v.ignore_index = -100;
  v.zscale = 2.0;
  v.alpha = 1.0;
  v.beta = 0.0;
  v.seed = 1;
  return v;
}


/* ---- the library calls, for either precision ---- */

static logitnorm_status call_forward(const vcase *v, const logitnorm_loss *L, const void *z, const int32_t *y,
                                     const void *t, double *loss_out, void *row_loss) {
  if (v->f64)
    return v->soft ? logitnorm_loss_forward_soft_f64(L, v->n, z, v->ld, t, v->ldt, loss_out, row_loss)
                   : logitnorm_loss_forward_f64(L, v->n, z, v->ld, y, loss_out, row_loss);
  return v->soft ? logitnorm_loss_forward_soft_f32(L, v->n, z, v->ld, t, v->ldt, loss_out, row_loss)
                 : logitnorm_loss_forward_f32(L, v->n, z, v->ld, y, loss_out, row_loss);
}

static logitnorm_status call_backward(const vcase *v, const logitnorm_loss *L, const void *z, const int32_t *y,
                                      const void *t, const void *rs, void *grad, int64_t ldg) {
  if (v->f64)
    return v->soft ? logitnorm_loss_backward_soft_f64(L, v->n, z, v->ld, t, v->ldt, rs, v->alpha, v->beta, grad, ldg)
                   : logitnorm_loss_backward_f64(L, v->n, z, v->ld, y, rs, v->alpha, v->beta, grad, ldg);
  float a = (float)v->alpha, b = (float)v->beta;
  return v->soft ? logitnorm_loss_backward_soft_f32(L, v->n, z, v->ld, t, v->ldt, rs, a, b, grad, ldg)
                 : logitnorm_loss_backward_f32(L, v->n, z, v->ld, y, rs, a, b, grad, ldg);
}

static logitnorm_status call_forward_backward(const vcase *v, const logitnorm_loss *L, const void *z,
                                              const int32_t *y, const void *t, double *loss_out, void *row_loss,
                                              void *grad, int64_t ldg) {
  if (v->f64)
    return v->soft ? logitnorm_loss_forward_backward_soft_f64(L, v->n, z, v->ld, t, v->ldt, loss_out, row_loss,
                                                              v->alpha, v->beta, grad, ldg)
                   : logitnorm_loss_forward_backward_f64(L, v->n, z, v->ld, y, loss_out, row_loss, v->alpha,
                                                         v->beta, grad, ldg);
  float a = (float)v->alpha, b = (float)v->beta;
  return v->soft ? logitnorm_loss_forward_backward_soft_f32(L, v->n, z, v->ld, t, v->ldt, loss_out, row_loss, a, b,
                                                            grad, ldg)
                 : logitnorm_loss_forward_backward_f32(L, v->n, z, v->ld, y, loss_out, row_loss, a, b, grad, ldg);
}

/* ---- comparison ---- */

/* Element checks call ck_abort_msg only on failure: every ck_assert that passes costs a
   write to Check's pipe, which adds up over millions of elements. */
static void expect_close(double got, double want, double tol, const char *what, long long i, long long j) {
  if (isnan(want)) {
    if (!isnan(got)) ck_abort_msg("%s[%lld][%lld]: got %.17g, want NaN", what, i, j, got);
    return;
  }
  if (!(isfinite(got) && fabs(got - want) <= tol))
    ck_abort_msg("%s[%lld][%lld]: got %.17g, want %.17g (tol %.3g)", what, i, j, got, want, tol);
}

static void expect_same_bytes(const void *a, const void *b, size_t bytes, const char *what) {
  ck_assert_msg(memcmp(a, b, bytes) == 0, "%s was modified", what);
}

/* Padding columns [C, ld) of every row must hold the same bytes as in `before`. */
static void expect_padding_intact(const typed_buf *now, const void *before, int64_t n, int64_t C, int64_t ld,
                                  const char *what) {
  const unsigned char *a = now->p, *b = before;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = C; c < ld; ++c) {
      size_t off = (size_t)(i * ld + c) * now->elem;
      if (memcmp(a + off, b + off, now->elem) != 0)
        ck_abort_msg("%s padding [%lld][%lld] was written", what, (long long)i, (long long)c);
    }
}

/* ---- one case ---- */

typedef struct vdata {
  typed_buf z, t, rs, g0;
  int32_t *labels;
  float *wf;
  double *wd;
} vdata;

static void make_data(const vcase *v, vdata *D) {
  tu_rng r;
  tu_seed(&r, v->seed);
  int64_t n = v->n, C = v->C;
  size_t zc = (size_t)(n > 0 ? n : 1) * (size_t)v->ld, tc = (size_t)(n > 0 ? n : 1) * (size_t)v->ldt;
  size_t gc = (size_t)(n > 0 ? n : 1) * (size_t)v->ldg;
  D->z = tb_new(v->f64, zc);
  D->t = tb_new(v->f64, tc);
  D->rs = tb_new(v->f64, (size_t)(n > 0 ? n : 1));
  D->g0 = tb_new(v->f64, gc);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < v->ld; ++c) tb_set(&D->z, (size_t)(i * v->ld + c), c < C ? v->zscale * tu_normal(&r) : NAN);
  for (int64_t i = 0; i < n; ++i) {
    /* Even rows are probability vectors; odd rows are not normalised (allowed). */
    double sum = 0.0, *row = D->t.d + i * v->ldt;
    for (int64_t c = 0; c < C; ++c) row[c] = tu_uniform(&r);
    for (int64_t c = 0; c < C; ++c) sum += row[c];
    for (int64_t c = 0; c < v->ldt; ++c)
      tb_set(&D->t, (size_t)(i * v->ldt + c), c < C ? (i % 2 == 0 ? row[c] / sum : 1.5 * row[c]) : NAN);
  }
  for (int64_t i = 0; i < n; ++i) tb_set(&D->rs, (size_t)i, tu_normal(&r));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < v->ldg; ++c)
      tb_set(&D->g0, (size_t)(i * v->ldg + c), v->nan_grad && c < C ? NAN : tu_normal(&r));
  D->labels = calloc((size_t)(n > 0 ? n : 1), sizeof(int32_t));
  for (int64_t i = 0; i < n; ++i)
    D->labels[i] = tu_uniform(&r) < v->ignore_frac ? v->ignore_index : (int32_t)tu_int(&r, 0, C - 1);
  D->wf = calloc((size_t)C, sizeof(float));
  D->wd = calloc((size_t)C, sizeof(double));
  for (int64_t c = 0; c < C; ++c) {
    D->wf[c] = (float)(0.25 + 1.75 * tu_uniform(&r));
    D->wd[c] = D->wf[c];
  }
}

static void free_data(vdata *D) {
  tb_free(&D->z);
  tb_free(&D->t);
  tb_free(&D->rs);
  tb_free(&D->g0);
  free(D->labels);
  free(D->wf);
  free(D->wd);
}

static logitnorm_loss *make_handle(const vcase *v, const vdata *D) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, (logitnorm_loss_kind)v->kind, v->C), LOGITNORM_OK);
  if (v->kind == LOGITNORM_LOSS_LOGITNORM)
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, v->tau), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, v->eps), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, v->reduction), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, v->smoothing), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_IGNORE_INDEX, v->ignore_index), LOGITNORM_OK);
  if (v->weights) ck_assert_int_eq(logitnorm_loss_set_class_weights(L, D->wf), LOGITNORM_OK);
  return L;
}

/* Reference results: reduced loss, row losses, d(loss)/dz (n x C) and per-row tolerance scales. */
typedef struct vexpect {
  double loss, loss_tol, divisor;
  double *row, *row_tol;
  double *G;
  double *gscale; /* per row: 16 (u_T (umax + 10) + u_d C) k Q / D  (times |alpha s| at use) */
} vexpect;

static void make_expect(const vcase *v, const vdata *D, vexpect *E) {
  int64_t n = v->n, C = v->C;
  lr_config cfg;
  lr_config_init(&cfg, v->kind, C);
  cfg.tau = v->tau;
  cfg.eps = v->eps;
  cfg.smoothing = v->smoothing;
  cfg.reduction = v->reduction;
  cfg.ignore_index = v->ignore_index;
  cfg.weights = v->weights ? D->wd : NULL;
  size_t rows = (size_t)(n > 0 ? n : 1);
  E->row = calloc(rows, sizeof(double));
  E->row_tol = calloc(rows, sizeof(double));
  E->gscale = calloc(rows, sizeof(double));
  E->G = calloc(rows * (size_t)C, sizeof(double));
  E->loss = v->soft ? lr_batch_soft(&cfg, n, D->z.d, v->ld, D->t.d, v->ldt, E->row, E->G)
                    : lr_batch_hard(&cfg, n, D->z.d, v->ld, D->labels, E->row, E->G);
  int mean = v->reduction == LOGITNORM_REDUCTION_MEAN;
  E->divisor = !mean ? 1.0 : v->soft ? (double)n : lr_mean_divisor_hard(&cfg, n, D->labels);
  const double uT = v->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2, ud = DBL_EPSILON / 2;
  double *q = calloc((size_t)C, sizeof(double));
  double tol_sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (v->soft)
      lr_targets_soft(&cfg, D->t.d + i * v->ldt, q);
    else
      lr_targets_hard(&cfg, D->labels[i], q);
    lr_row_scale s = lr_row_size(&cfg, D->z.d + i * v->ld, q);
    double unit = 16.0 * (uT * (s.umax + 10.0) + ud * (double)C);
    E->row_tol[i] = unit * s.Q + 4.0 * uT * fabs(E->row[i]);
    E->gscale[i] = s.Q == 0.0 ? 0.0 : unit * s.k * s.Q / (mean ? E->divisor : 1.0);
    tol_sum += E->row_tol[i];
  }
  E->loss_tol = (mean ? tol_sum / E->divisor : tol_sum) + 4.0 * ud * fabs(E->loss);
  free(q);
}

static void free_expect(vexpect *E) {
  free(E->row);
  free(E->row_tol);
  free(E->G);
  free(E->gscale);
}

static void check_losses(const vcase *v, const vexpect *E, double loss_out, const typed_buf *row_loss,
                         const void *row_before) {
  expect_close(loss_out, E->loss, E->loss_tol, "loss_out", 0, 0);
  for (int64_t i = 0; i < v->n; ++i) expect_close(tb_get(row_loss, (size_t)i), E->row[i], E->row_tol[i], "row_loss", i, 0);
  /* the element after the n row losses is not written */
  const unsigned char *a = row_loss->p, *b = row_before;
  ck_assert_msg(memcmp(a + (size_t)v->n * row_loss->elem, b + (size_t)v->n * row_loss->elem, row_loss->elem) == 0,
                "row_loss[n] was written");
}

/* grad after the call vs alpha s_i G + beta g0 (beta g0 dropped when beta = 0: overwrite). */
static void check_grad(const vcase *v, const vexpect *E, const typed_buf *grad, const typed_buf *g0, int64_t ldg,
                       const typed_buf *rs) {
  double alpha = v->f64 ? v->alpha : (double)(float)v->alpha;
  double beta = v->f64 ? v->beta : (double)(float)v->beta;
  const double uT = v->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2;
  for (int64_t i = 0; i < v->n; ++i) {
    double s = rs ? rs->d[i] : 1.0;
    for (int64_t c = 0; c < v->C; ++c) {
      double old = g0->d[i * ldg + c];
      double want = alpha * s * E->G[i * v->C + c] + (beta != 0.0 ? beta * old : 0.0);
      double tol = E->gscale[i] * fabs(alpha * s) + 4.0 * uT * (fabs(beta != 0.0 ? beta * old : 0.0) + fabs(want));
      expect_close(tb_get(grad, (size_t)(i * ldg + c)), want, tol, "grad", i, c);
    }
  }
}

static void run_case(const vcase *v) {
  vdata D;
  make_data(v, &D);
  vexpect E;
  make_expect(v, &D, &E);
  logitnorm_loss *L = make_handle(v, &D);
  size_t zbytes = D.z.count * D.z.elem;
  void *z_before = malloc(zbytes + D.z.elem);
  memcpy(z_before, D.z.p, zbytes);
  const void *rs = v->row_scale ? D.rs.p : NULL;

  /* forward */
  typed_buf row_loss = tb_new(v->f64, (size_t)v->n + 1);
  tu_sentinel_fill(row_loss.p, ((size_t)v->n + 1) * row_loss.elem);
  void *row_before = malloc(((size_t)v->n + 1) * row_loss.elem);
  memcpy(row_before, row_loss.p, ((size_t)v->n + 1) * row_loss.elem);
  double loss_out = -1.0;
  ck_assert_int_eq(call_forward(v, L, D.z.p, D.labels, D.t.p, &loss_out, row_loss.p), LOGITNORM_OK);
  check_losses(v, &E, loss_out, &row_loss, row_before);
  expect_same_bytes(D.z.p, z_before, zbytes, "logits");
  /* without row losses (the kernels may then sum the rows another way) */
  loss_out = -1.0;
  ck_assert_int_eq(call_forward(v, L, D.z.p, D.labels, D.t.p, &loss_out, NULL), LOGITNORM_OK);
  expect_close(loss_out, E.loss, E.loss_tol, "loss_out without row losses", 0, 0);

  if (!v->in_place) {
    /* backward, out of place */
    typed_buf grad = tb_new(v->f64, D.g0.count);
    memcpy(grad.p, D.g0.p, D.g0.count * D.g0.elem);
    ck_assert_int_eq(call_backward(v, L, D.z.p, D.labels, D.t.p, rs, grad.p, v->ldg), LOGITNORM_OK);
    check_grad(v, &E, &grad, &D.g0, v->ldg, v->row_scale ? &D.rs : NULL);
    expect_padding_intact(&grad, D.g0.p, v->n, v->C, v->ldg, "grad");
    expect_same_bytes(D.z.p, z_before, zbytes, "logits");

    /* forward_backward (no row_scale), with and without row losses */
    for (int rows = 1; rows >= 0; --rows) {
      memcpy(grad.p, D.g0.p, D.g0.count * D.g0.elem);
      memcpy(row_loss.p, row_before, ((size_t)v->n + 1) * row_loss.elem);
      loss_out = -1.0;
      ck_assert_int_eq(call_forward_backward(v, L, D.z.p, D.labels, D.t.p, &loss_out, rows ? row_loss.p : NULL,
                                             grad.p, v->ldg),
                       LOGITNORM_OK);
      if (rows)
        check_losses(v, &E, loss_out, &row_loss, row_before);
      else
        expect_close(loss_out, E.loss, E.loss_tol, "loss_out without row losses", 0, 0);
      check_grad(v, &E, &grad, &D.g0, v->ldg, NULL);
      expect_padding_intact(&grad, D.g0.p, v->n, v->C, v->ldg, "grad");
    }
    tb_free(&grad);
  } else {
    /* In place: grad == logits, ldg == ld, so "old grad" is z itself. The result must equal
       the out-of-place call on a copy of z bit for bit. */
    for (int pass = 0; pass < 2; ++pass) {
      typed_buf zz = tb_new(v->f64, D.z.count), copy = tb_new(v->f64, D.z.count);
      memcpy(zz.p, D.z.p, zbytes);
      memcpy(copy.p, D.z.p, zbytes);
      for (size_t i = 0; i < D.z.count; ++i) zz.d[i] = copy.d[i] = D.z.d[i];
      logitnorm_status st1, st2;
      if (pass == 0) {
        st1 = call_backward(v, L, zz.p, D.labels, D.t.p, rs, zz.p, v->ld);
        st2 = call_backward(v, L, D.z.p, D.labels, D.t.p, rs, copy.p, v->ld);
      } else {
        memcpy(row_loss.p, row_before, ((size_t)v->n + 1) * row_loss.elem);
        st1 = call_forward_backward(v, L, zz.p, D.labels, D.t.p, &loss_out, row_loss.p, zz.p, v->ld);
        st2 = call_forward_backward(v, L, D.z.p, D.labels, D.t.p, NULL, NULL, copy.p, v->ld);
        check_losses(v, &E, loss_out, &row_loss, row_before);
      }
      ck_assert_int_eq(st1, LOGITNORM_OK);
      ck_assert_int_eq(st2, LOGITNORM_OK);
      check_grad(v, &E, &zz, &D.z, v->ld, pass == 0 && v->row_scale ? &D.rs : NULL);
      expect_padding_intact(&zz, z_before, v->n, v->C, v->ld, "in-place grad");
      ck_assert_msg(memcmp(zz.p, copy.p, zbytes) == 0, "in-place result differs from out-of-place");
      tb_free(&zz);
      tb_free(&copy);
    }
  }

  tb_free(&row_loss);
  free(row_before);
  free(z_before);
  logitnorm_loss_free(L);
  free_expect(&E);
  free_data(&D);
}

/* ---------------- tests ---------------- */

/* Loop index of the precision loops: 0 = f32, 1 = f64. */

START_TEST(random_shapes) {
  tu_rng r;
  tu_seed(&r, 100 + (uint64_t)_i);
  for (int rep = 0; rep < 40; ++rep) {
    vcase v = vdefault(_i, (int)tu_int(&r, 0, 1), tu_int(&r, 0, 12), tu_int(&r, 1, 40));
    v.ld = v.C + tu_int(&r, 0, 3);
    v.ldt = v.C + tu_int(&r, 0, 3);
    v.ldg = v.C + tu_int(&r, 0, 3);
    v.reduction = (int)tu_int(&r, 0, 2);
    v.soft = tu_uniform(&r) < 0.3;
    v.weights = tu_uniform(&r) < 0.5;
    v.smoothing = tu_uniform(&r) < 0.5 ? 0.0 : tu_uniform(&r);
    v.ignore_frac = tu_uniform(&r) < 0.5 ? 0.0 : 0.3;
    v.row_scale = tu_uniform(&r) < 0.5;
    v.tau = tu_uniform(&r) < 0.5 ? 0.04 : 0.01 + 2.0 * tu_uniform(&r);
    v.zscale = tu_uniform(&r) < 0.5 ? 0.3 : 4.0;
    v.alpha = tu_normal(&r);
    v.beta = tu_uniform(&r) < 0.4 ? 0.0 : tu_uniform(&r) < 0.5 ? 1.0 : tu_normal(&r);
    v.nan_grad = v.beta == 0.0 && tu_uniform(&r) < 0.5;
    v.in_place = !v.nan_grad && tu_uniform(&r) < 0.2;
    if (v.in_place) v.ldg = v.ld;
    v.seed = tu_next(&r);
    run_case(&v);
  }
}
END_TEST

/* C = 1, 2, 10, 1000 and the odd vocabulary 50257: both kinds, weights + smoothing +
   ignore on, hard and soft targets. Loop index: precision * 5 + size. */
START_TEST(num_classes_sweep) {
  static const int64_t sizes[5] = {1, 2, 10, 1000, 50257};
  int64_t C = sizes[_i % 5];
  int64_t n = C > 10000 ? 3 : 8;
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft) {
      /* the big vocabulary dominates the run time under valgrind: LogitNorm with labels and
         cross-entropy with targets cover both kernels and both kinds there */
      if (C > 10000 && kind == soft) continue;
      vcase v = vdefault(_i / 5, kind, n, C);
      v.soft = soft;
      v.weights = 1;
      v.smoothing = 0.1;
      v.ignore_frac = 0.25;
      v.alpha = 0.75;
      v.beta = 0.5;
      v.row_scale = 1;
      v.seed = (uint64_t)(C * 4 + kind * 2 + soft);
      run_case(&v);
      if (C > 10000) continue; /* one variant is enough for the big vocabulary */
      v.weights = 0;
      v.smoothing = 0.0;
      v.ignore_frac = 0.0;
      v.beta = 0.0;
      v.nan_grad = 1;
      run_case(&v);
    }
}
END_TEST

START_TEST(padded_strides) {
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft)
      for (int pad = 0; pad < 3; ++pad) {
        vcase v = vdefault(_i, kind, 6, 7);
        v.soft = soft;
        v.ld = 7 + (pad == 0 ? 1 : 9);
        v.ldt = 7 + (pad == 1 ? 0 : 5);
        v.ldg = 7 + (pad == 2 ? 0 : 3);
        v.beta = 1.0;
        v.row_scale = 1;
        v.seed = 10 + (uint64_t)(kind * 6 + soft * 3 + pad);
        run_case(&v);
      }
}
END_TEST

/* Batches large enough for the AVX2 tile path (C <= 104 f32, 48 f64): the rows of a call are
   cut into 64 fixed parts, and the tile path takes a part's rows in whole groups of 8 (f32) or
   4 (f64), so n = 64 * 3 groups + 5 gives every part three tiles and leaves a few rows to the
   row path. The sum of the row losses is formed differently without row losses (hard labels,
   no class weights), which run_case checks too. Loop index: precision. */
START_TEST(tile_path_batches) {
  static const int64_t sizes[4] = {1, 5, 10, 104};
  const int64_t group = _i ? 4 : 8;
  for (int s = 0; s < 4; ++s)
    for (int kind = 0; kind < 2; ++kind)
      for (int variant = 0; variant < 2; ++variant) {
        const int64_t C = _i && sizes[s] > 48 ? 48 : sizes[s];
        vcase v = vdefault(_i, kind, 64 * 3 * group + 5, C);
        v.soft = variant && s == 3;
        v.weights = variant && s == 2;
        v.smoothing = variant ? 0.1 : 0.0;
        v.ignore_frac = variant ? 0.2 : 0.0;
        v.reduction = variant ? LOGITNORM_REDUCTION_SUM : LOGITNORM_REDUCTION_MEAN;
        v.ld = C + (s == 1 ? 3 : 0);
        v.ldg = C + (s == 2 ? 2 : 0);
        v.zscale = kind ? 2.0 : 4.0;
        v.beta = variant ? 0.5 : 0.0;
        v.seed = 300 + (uint64_t)(s * 4 + kind * 2 + variant);
        run_case(&v);
      }
}
END_TEST

/* Weights, smoothing and ignore_index alone and combined, for every reduction and kind. */
START_TEST(weights_smoothing_ignore) {
  for (int combo = 0; combo < 8; ++combo)
    for (int red = 0; red < 3; ++red)
      for (int kind = 0; kind < 2; ++kind) {
        vcase v = vdefault(_i, kind, 9, 6);
        v.weights = combo & 1;
        v.smoothing = (combo & 2) ? 0.2 : 0.0;
        v.ignore_frac = (combo & 4) ? 0.35 : 0.0;
        v.reduction = red;
        v.beta = 0.25;
        v.row_scale = red == LOGITNORM_REDUCTION_NONE;
        v.seed = 200 + (uint64_t)(combo * 6 + red * 2 + kind);
        run_case(&v);
      }
}
END_TEST

/* An ignore_index inside [0, C) ignores that class's rows (PyTorch semantics), and a custom
   negative ignore_index works like the default. */
START_TEST(custom_ignore_index) {
  for (int kind = 0; kind < 2; ++kind)
    for (int which = 0; which < 2; ++which) {
      vcase v = vdefault(_i, kind, 10, 5);
      v.ignore_index = which ? 3 : -1;
      v.ignore_frac = 0.3;
      v.weights = 1;
      v.smoothing = 0.05;
      v.seed = 300 + (uint64_t)(kind * 2 + which);
      run_case(&v);
    }
}
END_TEST

START_TEST(soft_targets) {
  for (int red = 0; red < 3; ++red)
    for (int kind = 0; kind < 2; ++kind)
      for (int opt = 0; opt < 4; ++opt) {
        vcase v = vdefault(_i, kind, 7, 9);
        v.soft = 1;
        v.reduction = red;
        v.weights = opt & 1;
        v.smoothing = (opt & 2) ? 0.3 : 0.0;
        v.row_scale = 1;
        v.alpha = -1.5;
        v.beta = 2.0;
        v.seed = 400 + (uint64_t)(red * 8 + kind * 4 + opt);
        run_case(&v);
      }
}
END_TEST

START_TEST(alpha_beta) {
  static const double alphas[4] = {1.0, -0.5, 2.5, 0.0};
  static const double betas[5] = {0.0, 0.0, 1.0, 0.3, -2.0};
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 5; ++b)
      for (int soft = 0; soft < 2; ++soft) {
        vcase v = vdefault(_i, LOGITNORM_LOSS_LOGITNORM, 5, 8);
        v.soft = soft;
        v.alpha = alphas[a];
        v.beta = betas[b];
        v.nan_grad = b == 0; /* beta = 0 over NaN must overwrite */
        v.ignore_frac = 0.2;
        v.ldg = 11;
        v.seed = 500 + (uint64_t)(a * 10 + b * 2 + soft);
        run_case(&v);
      }
}
END_TEST

START_TEST(row_scale) {
  for (int red = 0; red < 3; ++red)
    for (int kind = 0; kind < 2; ++kind)
      for (int soft = 0; soft < 2; ++soft) {
        vcase v = vdefault(_i, kind, 6, 5);
        v.soft = soft;
        v.reduction = red;
        v.row_scale = 1;
        v.ignore_frac = 0.2;
        v.alpha = 0.5;
        v.beta = 1.0;
        v.seed = 600 + (uint64_t)(red * 4 + kind * 2 + soft);
        run_case(&v);
      }
}
END_TEST

START_TEST(in_place) {
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft)
      for (int b = 0; b < 3; ++b) {
        vcase v = vdefault(_i, kind, 7, 6);
        v.soft = soft;
        v.in_place = 1;
        v.ld = v.ldg = b == 2 ? 9 : 6;
        v.beta = b == 0 ? 0.0 : b == 1 ? 1.0 : -0.5;
        v.alpha = 1.25;
        v.row_scale = 1;
        v.weights = 1;
        v.smoothing = 0.1;
        v.ignore_frac = 0.2;
        v.seed = 700 + (uint64_t)(kind * 6 + soft * 3 + b);
        run_case(&v);
      }
}
END_TEST

START_TEST(tau_values) {
  static const double taus[6] = {0.01, 0.04, 0.1, 0.5, 1.0, 5.0};
  for (int t = 0; t < 6; ++t)
    for (int soft = 0; soft < 2; ++soft) {
      vcase v = vdefault(_i, LOGITNORM_LOSS_LOGITNORM, 6, 12);
      v.tau = taus[t];
      v.soft = soft;
      v.weights = 1;
      v.smoothing = 0.1;
      v.beta = 0.5;
      v.seed = 800 + (uint64_t)(t * 2 + soft);
      run_case(&v);
      v.eps = 0.0; /* eps = 0 is allowed; these rows are far from 0 */
      v.zscale = 0.05;
      run_case(&v);
    }
}
END_TEST

/* Both kinds see the same logits at large scale (CE's u is unbounded). */
START_TEST(large_logit_scale) {
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft) {
      vcase v = vdefault(_i, kind, 6, 30);
      v.soft = soft;
      v.zscale = 40.0;
      v.smoothing = 0.2;
      v.weights = 1;
      v.seed = 900 + (uint64_t)(kind * 2 + soft);
      run_case(&v);
    }
}
END_TEST

static Suite *loss_values_suite(void) {
  Suite *s = suite_create("loss_values");
  TCase *tc = tcase_create("values");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, random_shapes, 0, 2);
  tcase_add_loop_test(tc, num_classes_sweep, 0, 10);
  tcase_add_loop_test(tc, padded_strides, 0, 2);
  tcase_add_loop_test(tc, tile_path_batches, 0, 2);
  tcase_add_loop_test(tc, weights_smoothing_ignore, 0, 2);
  tcase_add_loop_test(tc, custom_ignore_index, 0, 2);
  tcase_add_loop_test(tc, soft_targets, 0, 2);
  tcase_add_loop_test(tc, alpha_beta, 0, 2);
  tcase_add_loop_test(tc, row_scale, 0, 2);
  tcase_add_loop_test(tc, in_place, 0, 2);
  tcase_add_loop_test(tc, tau_values, 0, 2);
  tcase_add_loop_test(tc, large_logit_scale, 0, 2);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(loss_values_suite());
}
