/* The fused linear head (logitnorm_loss_linear_forward_backward_f32/_f64) against the
   double reference of support/linear_ref.c (logits formed explicitly, then the loss
   reference of support/loss_ref.c, then dx = G W, dW = G^T x, db = column sums of G), against
   finite differences of its own forward, and against the materialised path through the public
   logit entry points.

   Tolerances. The reference sees the same (rounded) x, W and b. The library's logits carry
   about d u_T |x||W| of rounding, the loss kernels their own (test_loss_values.c: about 3e-5
   of the gradient's scale in f32 at tau = 0.04), and the products dx and dW add C u_T and
   n u_T relative. Errors are measured normwise (max |error| over max |reference|): 2e-4 for
   f32 and 1e-10 for f64, plus 4 u_T of the starting values when accumulating. A wrong formula
   or a lost block gives an O(1) error. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linear_ref.h"
#include "logitnorm.h"
#include "loss_ref.h"
#include "test_util.h"

/* ---- one problem, its data in double (values representable in the element type) ---- */

typedef struct hcase {
  int f64, kind, reduction;
  int64_t n, d, C, ldx, ldw, lddx, lddw;
  int bias, weights;
  double smoothing, tau, ignore_frac, wscale;
  int32_t ignore_index;
  int want_dx, want_dw, want_db, want_rows;
  int accumulate;       /* dx, dw, db start from random values instead of 0 */
  int64_t workspace;    /* WORKSPACE_BYTES, 0 for the default */
  int threads;
  int check_finite;
  uint64_t seed;
} hcase;

static hcase hdefault(int f64, int kind, int64_t n, int64_t d, int64_t C) {
  hcase h = {0};
  h.f64 = f64;
  h.kind = kind;
  h.reduction = LOGITNORM_REDUCTION_MEAN;
  h.n = n;
  h.d = d;
  h.C = C;
  h.ldx = h.lddx = h.ldw = h.lddw = d;
  h.tau = 0.04;
  h.wscale = 1.0;
  h.ignore_index = -100;
  h.want_dx = h.want_dw = h.want_db = h.want_rows = 1;
  h.threads = 1;
  h.check_finite = 1;
  h.seed = 1;
  return h;
}

typedef struct hdata {
  double *x, *w, *b, *cw; /* x n x ldx, w C x ldw (pads NaN), b C, class weights C */
  int32_t *labels;
  double *dx0, *dw0, *db0; /* starting values of the outputs (dense, with pads) */
} hdata;

static double round_to(int f64, double v) { return f64 ? v : (double)(float)v; }

static void hdata_make(const hcase *h, hdata *D) {
  tu_rng r;
  tu_seed(&r, h->seed);
  int64_t n = h->n, d = h->d, C = h->C;
  D->x = malloc((size_t)(n * h->ldx + 1) * sizeof(double));
  D->w = malloc((size_t)(C * h->ldw + 1) * sizeof(double));
  D->b = malloc((size_t)C * sizeof(double));
  D->cw = malloc((size_t)C * sizeof(double));
  D->labels = malloc((size_t)(n + 1) * sizeof(int32_t));
  D->dx0 = malloc((size_t)(n * h->lddx + 1) * sizeof(double));
  D->dw0 = malloc((size_t)(C * h->lddw + 1) * sizeof(double));
  D->db0 = malloc((size_t)C * sizeof(double));
  for (int64_t i = 0; i < n * h->ldx; ++i) D->x[i] = (i % h->ldx < d) ? round_to(h->f64, tu_normal(&r)) : NAN;
  double ws = h->wscale / sqrt((double)d);
  for (int64_t i = 0; i < C * h->ldw; ++i) D->w[i] = (i % h->ldw < d) ? round_to(h->f64, ws * tu_normal(&r)) : NAN;
  for (int64_t c = 0; c < C; ++c) D->b[c] = round_to(h->f64, 0.5 * tu_normal(&r));
  for (int64_t c = 0; c < C; ++c) D->cw[c] = (double)(float)(0.25 + 1.75 * tu_uniform(&r));
  for (int64_t i = 0; i < n; ++i)
    D->labels[i] = tu_uniform(&r) < h->ignore_frac ? h->ignore_index : (int32_t)tu_int(&r, 0, C - 1);
  for (int64_t i = 0; i < n * h->lddx; ++i) D->dx0[i] = round_to(h->f64, h->accumulate ? tu_normal(&r) : 0.0);
  for (int64_t i = 0; i < C * h->lddw; ++i) D->dw0[i] = round_to(h->f64, h->accumulate ? tu_normal(&r) : 0.0);
  for (int64_t c = 0; c < C; ++c) D->db0[c] = round_to(h->f64, h->accumulate ? tu_normal(&r) : 0.0);
}

static void hdata_free(hdata *D) {
  free(D->x);
  free(D->w);
  free(D->b);
  free(D->cw);
  free(D->labels);
  free(D->dx0);
  free(D->dw0);
  free(D->db0);
}

/* An array in the element type. */
static void *typed(int f64, const double *src, int64_t count) {
  void *p = malloc((size_t)(count + 1) * (f64 ? sizeof(double) : sizeof(float)));
  for (int64_t i = 0; i < count; ++i) {
    if (f64)
      ((double *)p)[i] = src[i];
    else
      ((float *)p)[i] = (float)src[i];
  }
  return p;
}

static double get(int f64, const void *p, int64_t i) { return f64 ? ((const double *)p)[i] : ((const float *)p)[i]; }

static logitnorm_loss *hloss(const hcase *h, const hdata *D) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, (logitnorm_loss_kind)h->kind, h->C), LOGITNORM_OK);
  if (h->kind == LOGITNORM_LOSS_LOGITNORM)
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, h->tau), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, h->reduction), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, h->smoothing), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_IGNORE_INDEX, h->ignore_index), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_THREADS, h->threads), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_CHECK_FINITE, h->check_finite), LOGITNORM_OK);
  if (h->workspace > 0)
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_WORKSPACE_BYTES, (double)h->workspace), LOGITNORM_OK);
  if (h->weights) {
    float *wf = malloc((size_t)h->C * sizeof(float));
    for (int64_t c = 0; c < h->C; ++c) wf[c] = (float)D->cw[c];
    ck_assert_int_eq(logitnorm_loss_set_class_weights(L, wf), LOGITNORM_OK);
    free(wf);
  }
  return L;
}

/* The library's outputs, in double; NULL arrays for outputs not asked for. */
typedef struct hout {
  logitnorm_status st;
  double loss;
  double *rows, *dx, *dw, *db; /* rows n (+1 unwritten), dx n x lddx, dw C x lddw, db C */
} hout;

static void hout_free(hout *o) {
  free(o->rows);
  free(o->dx);
  free(o->dw);
  free(o->db);
}

static hout hrun_with(const hcase *h, const hdata *D, logitnorm_loss *L) {
  int f64 = h->f64;
  int64_t n = h->n, C = h->C;
  void *x = typed(f64, D->x, n * h->ldx), *w = typed(f64, D->w, C * h->ldw), *b = typed(f64, D->b, C);
  void *dx = h->want_dx ? typed(f64, D->dx0, n * h->lddx) : NULL;
  void *dw = h->want_dw ? typed(f64, D->dw0, C * h->lddw) : NULL;
  void *db = h->want_db ? typed(f64, D->db0, C) : NULL;
  double *sentinel = malloc((size_t)(n + 1) * sizeof(double));
  for (int64_t i = 0; i <= n; ++i) sentinel[i] = 12345.0;
  void *rows = h->want_rows ? typed(f64, sentinel, n + 1) : NULL;
  hout o = {0};
  o.loss = -777.0;
  if (f64)
    o.st = logitnorm_loss_linear_forward_backward_f64(L, n, h->d, x, h->ldx, w, h->ldw, h->bias ? b : NULL,
                                                      D->labels, &o.loss, rows, dx, h->lddx, dw, h->lddw, db);
  else
    o.st = logitnorm_loss_linear_forward_backward_f32(L, n, h->d, x, h->ldx, w, h->ldw, h->bias ? b : NULL,
                                                      D->labels, &o.loss, rows, dx, h->lddx, dw, h->lddw, db);
  /* inputs are never written */
  void *x2 = typed(f64, D->x, n * h->ldx), *w2 = typed(f64, D->w, C * h->ldw);
  size_t e = f64 ? sizeof(double) : sizeof(float);
  ck_assert(memcmp(x, x2, (size_t)(n * h->ldx) * e) == 0);
  ck_assert(memcmp(w, w2, (size_t)(C * h->ldw) * e) == 0);
  free(x2);
  free(w2);
  if (rows) {
    o.rows = malloc((size_t)(n + 1) * sizeof(double));
    for (int64_t i = 0; i <= n; ++i) o.rows[i] = get(f64, rows, i);
  }
  if (dx) {
    o.dx = malloc((size_t)(n * h->lddx + 1) * sizeof(double));
    for (int64_t i = 0; i < n * h->lddx; ++i) o.dx[i] = get(f64, dx, i);
  }
  if (dw) {
    o.dw = malloc((size_t)(C * h->lddw + 1) * sizeof(double));
    for (int64_t i = 0; i < C * h->lddw; ++i) o.dw[i] = get(f64, dw, i);
  }
  if (db) {
    o.db = malloc((size_t)C * sizeof(double));
    for (int64_t i = 0; i < C; ++i) o.db[i] = get(f64, db, i);
  }
  free(x);
  free(w);
  free(b);
  free(dx);
  free(dw);
  free(db);
  free(rows);
  free(sentinel);
  return o;
}

static hout hrun(const hcase *h, const hdata *D) {
  logitnorm_loss *L = hloss(h, D);
  hout o = hrun_with(h, D, L);
  logitnorm_loss_free(L);
  return o;
}

/* The reference: gradients dense (ld d) and not accumulated. */
typedef struct href {
  double loss;
  double *rows, *dx, *dw, *db;
} href;

static href hreference(const hcase *h, const hdata *D) {
  lr_config cfg;
  lr_config_init(&cfg, h->kind, h->C);
  cfg.tau = h->tau;
  cfg.smoothing = h->smoothing;
  cfg.reduction = h->reduction;
  cfg.ignore_index = h->ignore_index;
  cfg.weights = h->weights ? D->cw : NULL;
  href r;
  r.rows = malloc((size_t)(h->n + 1) * sizeof(double));
  r.dx = malloc((size_t)(h->n * h->d + 1) * sizeof(double));
  r.dw = malloc((size_t)(h->C * h->d + 1) * sizeof(double));
  r.db = malloc((size_t)h->C * sizeof(double));
  r.loss = lin_ref_hard(&cfg, h->n, h->d, D->x, h->ldx, D->w, h->ldw, h->bias ? D->b : NULL, D->labels, r.rows,
                        r.dx, r.dw, r.db);
  return r;
}

static void href_free(href *r) {
  free(r->rows);
  free(r->dx);
  free(r->dw);
  free(r->db);
}

static double tol_of(const hcase *h) { return h->f64 ? 1e-10 : 2e-4; }
static double unit_of(const hcase *h) { return h->f64 ? 0x1p-53 : 0x1p-24; }

/* got (rows x ld, first cols columns) against start + ref (rows x cols dense): normwise,
   and the pad columns keep their starting values bit for bit. */
static void check_matrix(const hcase *h, const char *name, const double *got, const double *start,
                         const double *ref, int64_t rows, int64_t cols, int64_t ld) {
  double refmax = 1e-300, startmax = 0.0, err = 0.0;
  for (int64_t i = 0; i < rows * cols; ++i) refmax = fmax(refmax, fabs(ref[i]));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < ld; ++j) {
      double g = got[i * ld + j], s = start[i * ld + j];
      if (j >= cols) {
        ck_assert_msg(memcmp(&g, &s, sizeof g) == 0, "%s[%lld][%lld]: padding written", name, (long long)i,
                      (long long)j);
        continue;
      }
      startmax = fmax(startmax, fabs(s));
      double e = fabs(g - (s + ref[i * cols + j]));
      err = isnan(g) ? INFINITY : fmax(err, e);
    }
  double bound = tol_of(h) * refmax + 4 * unit_of(h) * (startmax + refmax);
  ck_assert_msg(err <= bound, "%s: error %g above %g (reference scale %g; case f64=%d kind=%d red=%d)", name, err,
                bound, refmax, h->f64, h->kind, h->reduction);
}

static void check_scalar(const hcase *h, const char *name, double got, double ref) {
  double bound = tol_of(h) * (fabs(ref) + 1.0);
  ck_assert_msg(fabs(got - ref) <= bound, "%s: %.17g against %.17g", name, got, ref);
}

/* Everything the case asks for against the reference. */
static void check_against_reference(const hcase *h, const hdata *D, const hout *o, const href *r) {
  ck_assert_msg(o->st == LOGITNORM_OK, "status %d: %s", o->st, logitnorm_last_error());
  check_scalar(h, "loss", o->loss, r->loss);
  if (o->rows) {
    for (int64_t i = 0; i < h->n; ++i) check_scalar(h, "row_loss", o->rows[i], r->rows[i]);
    ck_assert_msg(o->rows[h->n] == 12345.0, "row_loss[n] written");
  }
  if (o->dx) check_matrix(h, "dx", o->dx, D->dx0, r->dx, h->n, h->d, h->lddx);
  if (o->dw) check_matrix(h, "dw", o->dw, D->dw0, r->dw, h->C, h->d, h->lddw);
  if (o->db) check_matrix(h, "dbias", o->db, D->db0, r->db, 1, h->C, h->C);
}

static void run_case(const hcase *h) {
  hdata D;
  hdata_make(h, &D);
  hout o = hrun(h, &D);
  href r = hreference(h, &D);
  check_against_reference(h, &D, &o, &r);
  hout_free(&o);
  href_free(&r);
  hdata_free(&D);
}

/* ---- values: both types, both kinds, with and without bias, every reduction, with and
   without weights + smoothing + ignored rows and padded leading dimensions ---- */
START_TEST(values) {
  int i = _i;
  hcase h = hdefault(i & 1, (i >> 1) & 1, 13, 7, 11);
  h.bias = (i >> 2) & 1;
  h.reduction = (i >> 3) % 3;
  int features = (i >> 3) / 3;
  h.accumulate = 1;
  h.seed = 100 + (uint64_t)i;
  if (features) {
    h.weights = 1;
    h.smoothing = 0.15;
    h.ignore_frac = 0.3;
    h.ignore_index = (i & 2) ? -100 : 3; /* an ignore_index inside [0, C) too */
    h.ldx = h.d + 3;
    h.ldw = h.d + 2;
    h.lddx = h.d + 1;
    h.lddw = h.d + 5;
    h.n = 17;
    h.C = 23;
    h.d = 5;
  }
  run_case(&h);
}
END_TEST

/* Shapes around BLIS's register blocks and the kernels' vector widths. */
START_TEST(random_shapes) {
  tu_rng r;
  tu_seed(&r, 900 + (uint64_t)_i);
  for (int k = 0; k < (tu_quick() ? 2 : 6); ++k) {
    hcase h = hdefault(_i & 1, (int)tu_int(&r, 0, 1), tu_int(&r, 1, 40), tu_int(&r, 1, 33), tu_int(&r, 1, 70));
    h.bias = (int)tu_int(&r, 0, 1);
    h.accumulate = 1;
    h.ldx = h.d + tu_int(&r, 0, 3);
    h.lddw = h.d + tu_int(&r, 0, 3);
    h.seed = tu_next(&r);
    run_case(&h);
  }
}
END_TEST

/* Each of dx, dw, dbias left out, and all three (forward only): the others unchanged. */
START_TEST(null_outputs) {
  int f64 = _i & 1, which = _i >> 1; /* 0: no dx, 1: no dw, 2: no dbias, 3: none, 4: none and no row_loss */
  hcase h = hdefault(f64, LOGITNORM_LOSS_LOGITNORM, 19, 9, 14);
  h.bias = 1;
  h.weights = 1;
  h.smoothing = 0.1;
  h.ignore_frac = 0.2;
  h.accumulate = 1;
  h.seed = 33;
  h.want_dx = which != 0 && which < 3;
  h.want_dw = which != 1 && which < 3;
  h.want_db = which != 2 && which < 3;
  h.want_rows = which != 4;
  hdata D;
  hdata_make(&h, &D);
  hout o = hrun(&h, &D);
  href r = hreference(&h, &D);
  check_against_reference(&h, &D, &o, &r);
  hcase all = h;
  all.want_dx = all.want_dw = all.want_db = all.want_rows = 1;
  hout full = hrun(&all, &D);
  check_scalar(&h, "loss against the full call", o.loss, full.loss);
  hout_free(&full);
  hout_free(&o);
  href_free(&r);
  hdata_free(&D);
}
END_TEST

/* The least WORKSPACE_BYTES, read from the message of a call below it. */
static int64_t min_workspace(const hcase *h, const hdata *D) {
  hcase t = *h;
  t.workspace = 1;
  hout o = hrun(&t, D);
  ck_assert_int_eq(o.st, LOGITNORM_ERR_INVALID_ARGUMENT);
  const char *msg = logitnorm_last_error(), *p = strstr(msg, "below ");
  ck_assert_msg(p != NULL, "message does not give the minimum: %s", msg);
  int64_t m = strtoll(p + 6, NULL, 10);
  ck_assert_int_gt(m, 0);
  hout_free(&o);
  return m;
}

/* A bound that leaves room for 3 rows per block (and for one): the same results as one
   block, and the reference; one byte less than the least is refused with nothing written. */
START_TEST(many_blocks) {
  int f64 = _i & 1;
  hcase h = hdefault(f64, (_i >> 1) & 1, 29, 10, 37);
  h.bias = 1;
  h.weights = 1;
  h.smoothing = 0.05;
  h.ignore_frac = 0.2;
  h.accumulate = 1;
  h.ldx = h.lddx = 12;
  h.seed = 77;
  hdata D;
  hdata_make(&h, &D);
  href r = hreference(&h, &D);
  hout one = hrun(&h, &D);
  check_against_reference(&h, &D, &one, &r);

  int64_t least = min_workspace(&h, &D);
  int64_t row = (h.C * (f64 ? 8 : 4) + 63) / 64 * 64; /* docs/linear_head.md: a row of logits, 64-byte padded */
  int64_t sizes[2] = {least, least + 2 * row};
  for (int k = 0; k < 2; ++k) {
    hcase b = h;
    b.workspace = sizes[k];
    hout o = hrun(&b, &D);
    check_against_reference(&b, &D, &o, &r);
    check_scalar(&h, "loss against one block", o.loss, one.loss);
    hout_free(&o);
  }

  /* one byte short: INVALID_ARGUMENT, nothing written */
  hcase s = h;
  s.workspace = least - 1;
  hout o = hrun(&s, &D);
  ck_assert_int_eq(o.st, LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert(o.loss == -777.0);
  for (int64_t i = 0; i <= h.n; ++i) ck_assert(o.rows[i] == 12345.0);
  ck_assert(memcmp(o.dx, D.dx0, (size_t)(h.n * h.lddx) * sizeof(double)) == 0);
  ck_assert(memcmp(o.dw, D.dw0, (size_t)(h.C * h.lddw) * sizeof(double)) == 0);
  ck_assert(memcmp(o.db, D.db0, (size_t)h.C * sizeof(double)) == 0);
  hout_free(&o);
  hout_free(&one);
  href_free(&r);
  hdata_free(&D);
}
END_TEST

/* ---- finite differences of the library's own forward loss (f64) ---- */

typedef struct fd_ctx {
  const logitnorm_loss *L;
  int64_t n, d, C;
  const int32_t *labels;
  int bias;
} fd_ctx;

/* theta = [x (n x d) | W (C x d) | b (C)] */
static double fd_loss(void *ctx, const double *theta) {
  fd_ctx *f = ctx;
  double loss = 0.0;
  logitnorm_status st = logitnorm_loss_linear_forward_backward_f64(
      f->L, f->n, f->d, theta, f->d, theta + f->n * f->d, f->d, f->bias ? theta + (f->n + f->C) * f->d : NULL,
      f->labels, &loss, NULL, NULL, 0, NULL, 0, NULL);
  ck_assert_int_eq(st, LOGITNORM_OK);
  return loss;
}

START_TEST(finite_differences) {
  hcase h = hdefault(1, _i & 1, 5, 4, 6);
  h.tau = 0.5; /* a milder curvature keeps the central difference's error near h^2 */
  h.bias = 1;
  h.weights = 1;
  h.smoothing = 0.1;
  h.ignore_frac = 0.2;
  h.reduction = (_i >> 1) & 1 ? LOGITNORM_REDUCTION_SUM : LOGITNORM_REDUCTION_MEAN;
  h.seed = 5;
  hdata D;
  hdata_make(&h, &D);
  D.labels[0] = 2; /* at least one row counts */
  logitnorm_loss *L = hloss(&h, &D);
  int64_t n = h.n, d = h.d, C = h.C, m = (n + C) * d + C;
  double *theta = malloc((size_t)m * sizeof(double)), *g = malloc((size_t)m * sizeof(double));
  memcpy(theta, D.x, (size_t)(n * d) * sizeof(double));
  memcpy(theta + n * d, D.w, (size_t)(C * d) * sizeof(double));
  memcpy(theta + (n + C) * d, D.b, (size_t)C * sizeof(double));
  double *dx = calloc((size_t)(n * d), sizeof(double)), *dw = calloc((size_t)(C * d), sizeof(double));
  double *db = calloc((size_t)C, sizeof(double));
  double loss;
  ck_assert_int_eq(logitnorm_loss_linear_forward_backward_f64(L, n, d, theta, d, theta + n * d, d,
                                                              theta + (n + C) * d, D.labels, &loss, NULL, dx, d,
                                                              dw, d, db),
                   LOGITNORM_OK);
  fd_ctx f = {L, n, d, C, D.labels, 1};
  lr_fd_gradient(fd_loss, &f, theta, m, 1e-6, g);
  double scale = 1e-300;
  for (int64_t j = 0; j < m; ++j) scale = fmax(scale, fabs(g[j]));
  for (int64_t j = 0; j < m; ++j) {
    double a = j < n * d ? dx[j] : j < (n + C) * d ? dw[j - n * d] : db[j - (n + C) * d];
    ck_assert_msg(fabs(a - g[j]) <= 1e-6 * scale, "entry %lld: analytic %.12g, finite difference %.12g",
                  (long long)j, a, g[j]);
  }
  free(theta);
  free(g);
  free(dx);
  free(dw);
  free(db);
  logitnorm_loss_free(L);
  hdata_free(&D);
}
END_TEST

/* ---- the materialised path: full logits, the logit entry point, then the products ---- */

/* The head's outputs for a float case (ldx = ldw = d, outputs dense) against the plain path:
   z = x W^T + b formed in double and rounded to float (a -inf bias entry gives a -inf, masked,
   logit), logitnorm_loss_forward_backward_f32 on z, then dx = G W, dW = G^T x, db = colsum G in
   double. */
static void check_materialised(const hcase *h, const hdata *D) {
  int64_t n = h->n, d = h->d, C = h->C;
  hout o = hrun(h, D);
  ck_assert_msg(o.st == LOGITNORM_OK, "head: %s", logitnorm_last_error());

  double *zd = malloc((size_t)(n * C) * sizeof(double));
  lin_ref_logits(n, d, C, D->x, d, D->w, d, h->bias ? D->b : NULL, zd);
  float *z = malloc((size_t)(n * C) * sizeof(float)), *g = malloc((size_t)(n * C) * sizeof(float));
  float *rows = malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; i < n * C; ++i) z[i] = (float)zd[i];
  logitnorm_loss *L = hloss(h, D);
  double loss;
  ck_assert_msg(logitnorm_loss_forward_backward_f32(L, n, z, C, D->labels, &loss, rows, 1.0f, 0.0f, g, C) ==
                    LOGITNORM_OK,
                "materialised: %s", logitnorm_last_error());
  double *dx = calloc((size_t)(n * d), sizeof(double)), *dw = calloc((size_t)(C * d), sizeof(double));
  double *db = calloc((size_t)C, sizeof(double));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < C; ++c) {
      double gc = g[i * C + c];
      db[c] += gc;
      for (int64_t k = 0; k < d; ++k) {
        dx[i * d + k] += gc * D->w[c * d + k];
        dw[c * d + k] += gc * D->x[i * d + k];
      }
    }
  check_scalar(h, "loss against the materialised path", o.loss, loss);
  for (int64_t i = 0; i < n; ++i) check_scalar(h, "row_loss against the materialised path", o.rows[i], rows[i]);
  check_matrix(h, "dx against the materialised path", o.dx, D->dx0, dx, n, d, d);
  check_matrix(h, "dw against the materialised path", o.dw, D->dw0, dw, C, d, d);
  check_matrix(h, "dbias against the materialised path", o.db, D->db0, db, 1, C, C);
  logitnorm_loss_free(L);
  free(zd);
  free(z);
  free(g);
  free(rows);
  free(dx);
  free(dw);
  free(db);
  hout_free(&o);
}

START_TEST(materialised) {
  int quick = tu_quick();
  hcase h = hdefault(0, LOGITNORM_LOSS_LOGITNORM, quick ? 40 : 300, quick ? 24 : 64, quick ? 900 : 5000);
  h.bias = 1;
  h.seed = 11;
  hdata D;
  hdata_make(&h, &D);
  check_materialised(&h, &D);
  hdata_free(&D);
}
END_TEST

/* A -inf bias entry masks its class in every row, as a -inf logit does at the logit entry
   points: the head equals the plain path on the materialised logits, with both kinds,
   smoothing (whose mass depends on the mask count), ignored rows, CHECK_FINITE on and off, one
   block and several. Every fifth class is masked; no label names one. */
START_TEST(masked_bias) {
  hcase h = hdefault(0, (_i & 1) ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY, 70, 12, 45);
  h.bias = 1;
  h.smoothing = (_i & 2) ? 0.1 : 0.0;
  h.ignore_frac = 0.1;
  h.check_finite = !(_i & 4);
  h.seed = 31 + (uint64_t)_i;
  hdata D;
  hdata_make(&h, &D);
  if (_i & 8) h.workspace = min_workspace(&h, &D) + 9 * 64 * ((h.C * 4 + 63) / 64); /* ~10 rows a block */
  for (int64_t c = 0; c < h.C; c += 5) D.b[c] = -INFINITY;
  for (int64_t i = 0; i < h.n; ++i)
    if (D.labels[i] != h.ignore_index && D.labels[i] % 5 == 0) D.labels[i] += 1;
  check_materialised(&h, &D);
  hdata_free(&D);
}
END_TEST

/* Sizes no memory can hold are INVALID_ARGUMENT with nothing written, never a wrapped span (a
   feature count of 2^62 in one row once passed the size check and crashed). */
START_TEST(impossible_sizes) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 2), LOGITNORM_OK);
  float x[4] = {1, 2, 3, 4}, w[4] = {1, 0, 0, 1}, dx[4], dw[4], rows[2];
  int32_t labels[2] = {0, 1};
  double loss;
  const int64_t huge = INT64_C(1) << 62, big_d = (int64_t)INT32_MAX + 1;
  struct { int64_t n, d, ldx, ldw, ld_out; int outputs; } c[] = {
      {1, huge, huge, huge, huge, 0}, {1, huge, huge, huge, huge, 1}, {2, huge, huge, huge, huge, 1},
      {1, big_d, big_d, big_d, big_d, 0}, {1, 2, huge, huge, 2, 1},   {2, 2, huge, 2, 2, 1},
      {1, 2, 2, huge, huge, 1},
  };
  for (size_t k = 0; k < sizeof c / sizeof c[0]; ++k) {
    tu_sentinel_fill(dx, sizeof dx);
    tu_sentinel_fill(dw, sizeof dw);
    tu_sentinel_fill(rows, sizeof rows);
    tu_sentinel_fill(&loss, sizeof loss);
    logitnorm_status st = logitnorm_loss_linear_forward_backward_f32(
        L, c[k].n, c[k].d, x, c[k].ldx, w, c[k].ldw, NULL, labels, &loss, rows, c[k].outputs ? dx : NULL,
        c[k].ld_out, c[k].outputs ? dw : NULL, c[k].ld_out, NULL);
    ck_assert_msg(st == LOGITNORM_ERR_INVALID_ARGUMENT, "case %zu: status %d (%s)", k, st, logitnorm_last_error());
    ck_assert(strlen(logitnorm_last_error()) > 0);
    ck_assert(tu_sentinel_intact(dx, sizeof dx) && tu_sentinel_intact(dw, sizeof dw));
    ck_assert(tu_sentinel_intact(rows, sizeof rows) && tu_sentinel_intact(&loss, sizeof loss));
  }
  logitnorm_loss_free(L);
}
END_TEST

/* ---- THREADS changes no bit (one block and many blocks) ---- */
START_TEST(threads_bitwise) {
  int f64 = _i & 1;
  hcase h = hdefault(f64, LOGITNORM_LOSS_LOGITNORM, 96, 40, 700);
  h.bias = 1;
  h.weights = 1;
  h.ignore_frac = 0.1;
  h.accumulate = 1;
  h.seed = 21;
  if (_i >> 1) h.workspace = 64 * 1024; /* several blocks */
  hdata D;
  hdata_make(&h, &D);
  hout base = hrun(&h, &D);
  ck_assert_int_eq(base.st, LOGITNORM_OK);
  for (int t = 2; t <= 3; ++t) {
    hcase ht = h;
    ht.threads = t;
    hout o = hrun(&ht, &D);
    ck_assert_int_eq(o.st, LOGITNORM_OK);
    ck_assert_msg(memcmp(&o.loss, &base.loss, sizeof o.loss) == 0, "loss differs at THREADS %d", t);
    ck_assert_msg(memcmp(o.rows, base.rows, (size_t)h.n * sizeof(double)) == 0, "row_loss differs at %d", t);
    ck_assert_msg(memcmp(o.dx, base.dx, (size_t)(h.n * h.lddx) * sizeof(double)) == 0, "dx differs at %d", t);
    ck_assert_msg(memcmp(o.dw, base.dw, (size_t)(h.C * h.lddw) * sizeof(double)) == 0, "dw differs at %d", t);
    ck_assert_msg(memcmp(o.db, base.db, (size_t)h.C * sizeof(double)) == 0, "dbias differs at %d", t);
    hout_free(&o);
  }
  hout_free(&base);
  hdata_free(&D);
}
END_TEST

/* ---- bad input: distinct status, a message, nothing written ---- */

typedef struct bad_buffers {
  float x[6 * 4], w[5 * 4], b[5], dx[6 * 4], dw[5 * 4], db[5], rows[6];
  int32_t labels[6];
  double loss;
} bad_buffers;

static void bad_fill(bad_buffers *B) {
  for (int i = 0; i < 24; ++i) B->x[i] = (float)(i % 7) * 0.25f - 0.5f;
  for (int i = 0; i < 20; ++i) B->w[i] = (float)(i % 5) * 0.2f - 0.3f;
  for (int i = 0; i < 5; ++i) B->b[i] = 0.1f * (float)i;
  for (int i = 0; i < 6; ++i) B->labels[i] = i % 5;
  tu_sentinel_fill(B->dx, sizeof B->dx);
  tu_sentinel_fill(B->dw, sizeof B->dw);
  tu_sentinel_fill(B->db, sizeof B->db);
  tu_sentinel_fill(B->rows, sizeof B->rows);
  tu_sentinel_fill(&B->loss, sizeof B->loss);
}

static void bad_untouched(const bad_buffers *B) {
  ck_assert(tu_sentinel_intact(B->dx, sizeof B->dx));
  ck_assert(tu_sentinel_intact(B->dw, sizeof B->dw));
  ck_assert(tu_sentinel_intact(B->db, sizeof B->db));
  ck_assert(tu_sentinel_intact(B->rows, sizeof B->rows));
  ck_assert(tu_sentinel_intact(&B->loss, sizeof B->loss));
}

enum { BAD_CASES = 28 };

START_TEST(bad_input) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 5), LOGITNORM_OK);
  bad_buffers B;
  bad_fill(&B);
  const logitnorm_loss *lp = L;
  int64_t n = 6, d = 4, ldx = 4, ldw = 4, lddx = 4, lddw = 4;
  const float *x = B.x, *w = B.w, *b = B.b;
  const int32_t *labels = B.labels;
  float *dx = B.dx, *dw = B.dw, *db = B.db, *rows = B.rows;
  double *loss_out = &B.loss;
  logitnorm_status want = LOGITNORM_ERR_INVALID_ARGUMENT;
  switch (_i) {
    case 0: lp = NULL; want = LOGITNORM_ERR_NULL_POINTER; break;
    case 1: x = NULL; want = LOGITNORM_ERR_NULL_POINTER; break;
    case 2: w = NULL; want = LOGITNORM_ERR_NULL_POINTER; break;
    case 3: labels = NULL; want = LOGITNORM_ERR_NULL_POINTER; break;
    case 4: n = -1; break;
    case 5: d = 0; break;
    case 6: ldx = 3; break;
    case 7: ldw = 3; break;
    case 8: lddx = 3; break;
    case 9: lddw = 3; break;
    case 10: B.labels[4] = 5; want = LOGITNORM_ERR_INVALID_LABEL; break;
    case 11: B.labels[2] = -1; want = LOGITNORM_ERR_INVALID_LABEL; break;
    case 12: dx = B.x + 4; break;                   /* dx overlaps x */
    case 13: dw = B.w; break;                       /* dw is w */
    case 14: db = B.b; break;                       /* dbias is bias */
    case 15: rows = B.dx + 20; break;               /* row_loss overlaps dx */
    case 16: dw = B.dx + 8; break;                  /* dw overlaps dx */
    case 17: loss_out = (double *)(void *)B.rows; break; /* loss_out overlaps row_loss */
    case 18: B.x[13] = NAN; want = LOGITNORM_ERR_NONFINITE; break;
    case 19: B.w[7] = INFINITY; want = LOGITNORM_ERR_NONFINITE; break;
    case 20: B.b[3] = INFINITY; want = LOGITNORM_ERR_NONFINITE; break;
    case 21: ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_WORKSPACE_BYTES, 100), LOGITNORM_OK); break;
    case 22: db = B.dw + 17; break;                 /* dbias overlaps dw */
    case 23: dx = (float *)(void *)B.labels; break; /* dx overlaps labels */
    case 24: B.b[1] = NAN; want = LOGITNORM_ERR_NONFINITE; break;
    case 25: B.b[3] = -INFINITY; want = LOGITNORM_ERR_INVALID_LABEL; break; /* row 3's label 3 is masked */
    case 26: /* the same with CHECK_FINITE off: labels on masked classes are checked either way */
      B.b[3] = -INFINITY;
      ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_CHECK_FINITE, 0), LOGITNORM_OK);
      want = LOGITNORM_ERR_INVALID_LABEL;
      break;
    case 27: for (int c = 0; c < 5; ++c) B.b[c] = -INFINITY; want = LOGITNORM_ERR_INVALID_LABEL; break;
  }
  bad_buffers copy = B;
  logitnorm_status st = logitnorm_loss_linear_forward_backward_f32(lp, n, d, x, ldx, w, ldw, b, labels, loss_out,
                                                                   rows, dx, lddx, dw, lddw, db);
  ck_assert_msg(st == want, "case %d: status %d, want %d (%s)", _i, st, want, logitnorm_last_error());
  ck_assert(strlen(logitnorm_last_error()) > 0);
  ck_assert(memcmp(&copy, &B, sizeof B) == 0);
  bad_untouched(&B);
  logitnorm_loss_free(L);
}
END_TEST

/* n = 0: NULL x, w and labels are fine; MEAN of nothing is NaN, SUM 0; nothing else written. */
START_TEST(empty_batch) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_CROSS_ENTROPY, 5), LOGITNORM_OK);
  double dw[20], db[5], loss = 1.0;
  tu_sentinel_fill(dw, sizeof dw);
  tu_sentinel_fill(db, sizeof db);
  ck_assert_int_eq(logitnorm_loss_linear_forward_backward_f64(L, 0, 4, NULL, 4, NULL, 4, NULL, NULL, &loss, NULL,
                                                              NULL, 4, dw, 4, db),
                   LOGITNORM_OK);
  ck_assert(isnan(loss));
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_SUM), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_linear_forward_backward_f64(L, 0, 4, NULL, 4, NULL, 4, NULL, NULL, &loss, NULL,
                                                              NULL, 4, dw, 4, db),
                   LOGITNORM_OK);
  ck_assert(loss == 0.0);
  ck_assert(tu_sentinel_intact(dw, sizeof dw));
  ck_assert(tu_sentinel_intact(db, sizeof db));
  logitnorm_loss_free(L);
}
END_TEST

/* Finite inputs whose logits are not finite (overflow of x W^T, in the last block only, and a
   zero row under LogitNorm with epsilon 0) are NONFINITE with nothing written; with
   CHECK_FINITE off a NaN flows into the outputs. */
START_TEST(nonfinite_logits) {
  int f64 = _i & 1, what = _i >> 1;
  hcase h = hdefault(f64, LOGITNORM_LOSS_LOGITNORM, 12, 6, 9);
  h.bias = 1;
  h.accumulate = 1;
  h.seed = 8;
  hdata D;
  hdata_make(&h, &D);
  double huge = f64 ? 1e200 : 1e30;
  if (what == 0) { /* overflow in the last row, several blocks */
    for (int64_t k = 0; k < h.d; ++k) D.x[(h.n - 1) * h.ldx + k] = huge;
    for (int64_t k = 0; k < h.d; ++k) D.w[2 * h.ldw + k] = huge;
    D.labels[h.n - 1] = 0;
    h.workspace = min_workspace(&h, &D) + 3 * 64 * ((h.C * (f64 ? 8 : 4) + 63) / 64);
  } else if (what == 1) { /* a zero row with epsilon 0 (set below) */
    h.bias = 0;
    for (int64_t k = 0; k < h.d; ++k) D.x[5 * h.ldx + k] = 0.0;
    D.labels[5] = 1;
  } else { /* check off, NaN in x */
    h.check_finite = 0;
    D.x[3 * h.ldx + 2] = NAN;
    D.labels[3] = 4;
  }
  logitnorm_loss *L = hloss(&h, &D);
  if (what == 1) ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, 0.0), LOGITNORM_OK);
  hout o = hrun_with(&h, &D, L);
  if (what < 2) {
    ck_assert_msg(o.st == LOGITNORM_ERR_NONFINITE, "status %d (%s)", o.st, logitnorm_last_error());
    ck_assert(o.loss == -777.0);
    for (int64_t i = 0; i <= h.n; ++i) ck_assert(o.rows[i] == 12345.0);
    ck_assert(memcmp(o.dx, D.dx0, (size_t)(h.n * h.lddx) * sizeof(double)) == 0);
    ck_assert(memcmp(o.dw, D.dw0, (size_t)(h.C * h.lddw) * sizeof(double)) == 0);
    ck_assert(memcmp(o.db, D.db0, (size_t)h.C * sizeof(double)) == 0);
    if (what == 1) { /* the same row ignored is fine */
      D.labels[5] = h.ignore_index;
      hout ok = hrun_with(&h, &D, L);
      ck_assert_msg(ok.st == LOGITNORM_OK, "%s", logitnorm_last_error());
      hout_free(&ok);
    }
  } else {
    ck_assert_int_eq(o.st, LOGITNORM_OK);
    ck_assert(isnan(o.loss));
    ck_assert(isnan(o.rows[3]));
    ck_assert(isnan(o.dx[3 * h.lddx]));
    ck_assert(isnan(o.dw[0]) && isnan(o.db[4]));
  }
  hout_free(&o);
  logitnorm_loss_free(L);
  hdata_free(&D);
}
END_TEST

int main(void) {
  Suite *s = suite_create("loss_linear");
  TCase *tc = tcase_create("linear");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, values, 0, 48);
  tcase_add_loop_test(tc, random_shapes, 0, 2);
  tcase_add_loop_test(tc, null_outputs, 0, 10);
  tcase_add_loop_test(tc, many_blocks, 0, 4);
  tcase_add_loop_test(tc, finite_differences, 0, 4);
  tcase_add_test(tc, materialised);
  tcase_add_loop_test(tc, masked_bias, 0, 16);
  tcase_add_test(tc, impossible_sizes);
  tcase_add_loop_test(tc, threads_bitwise, 0, 4);
  tcase_add_loop_test(tc, bad_input, 0, BAD_CASES);
  tcase_add_test(tc, empty_batch);
  tcase_add_loop_test(tc, nonfinite_logits, 0, 6);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
