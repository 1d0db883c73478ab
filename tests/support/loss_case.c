/* The checked run of one loss configuration (see loss_case.h). */
#include "loss_case.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loss_ref.h"
#include "test_util.h"
#include "typed_buf.h"

enum { LC_FWD = 0, LC_BWD = 1, LC_FWDBWD = 2 };

lc_case lc_default(int f64, int kind, int soft, int64_t n, int64_t C) {
  lc_case c;
  memset(&c, 0, sizeof c);
  c.what = "";
  c.f64 = f64;
  c.kind = kind;
  c.soft = soft;
  c.reduction = LOGITNORM_REDUCTION_MEAN;
  c.n = n;
  c.C = c.ld = c.ldt = c.ldg = C;
  c.tau = 0.04;
  c.eps = 1e-7;
  c.ignore_index = -100;
  c.check_finite = 1;
  c.alpha = 1.0;
  c.seed = 1;
  return c;
}


static typed_buf lc_buf_copy(const typed_buf *src) {
  typed_buf b = tb_new(src->elem == sizeof(double), src->count);
  memcpy(b.p, src->p, src->count * src->elem);
  memcpy(b.d, src->d, src->count * sizeof(double));
  return b;
}

/* ---- the calls ---- */

typedef struct lc_args {
  const logitnorm_loss *L;
  const void *z, *t, *rs;
  double *loss_out;
  void *row_loss, *grad;
  int64_t ldg;
} lc_args;

static logitnorm_status lc_call(const lc_case *c, int op, const lc_args *a) {
  const int32_t *y = c->labels;
  int64_t n = c->n, ld = c->ld, ldt = c->ldt;
  if (c->f64) {
    double al = c->alpha, be = c->beta;
    if (c->soft) {
      if (op == LC_FWD) return logitnorm_loss_forward_soft_f64(a->L, n, a->z, ld, a->t, ldt, a->loss_out, a->row_loss);
      if (op == LC_BWD)
        return logitnorm_loss_backward_soft_f64(a->L, n, a->z, ld, a->t, ldt, a->rs, al, be, a->grad, a->ldg);
      return logitnorm_loss_forward_backward_soft_f64(a->L, n, a->z, ld, a->t, ldt, a->loss_out, a->row_loss, al, be,
                                                      a->grad, a->ldg);
    }
    if (op == LC_FWD) return logitnorm_loss_forward_f64(a->L, n, a->z, ld, y, a->loss_out, a->row_loss);
    if (op == LC_BWD) return logitnorm_loss_backward_f64(a->L, n, a->z, ld, y, a->rs, al, be, a->grad, a->ldg);
    return logitnorm_loss_forward_backward_f64(a->L, n, a->z, ld, y, a->loss_out, a->row_loss, al, be, a->grad,
                                               a->ldg);
  }
  float al = (float)c->alpha, be = (float)c->beta;
  if (c->soft) {
    if (op == LC_FWD) return logitnorm_loss_forward_soft_f32(a->L, n, a->z, ld, a->t, ldt, a->loss_out, a->row_loss);
    if (op == LC_BWD)
      return logitnorm_loss_backward_soft_f32(a->L, n, a->z, ld, a->t, ldt, a->rs, al, be, a->grad, a->ldg);
    return logitnorm_loss_forward_backward_soft_f32(a->L, n, a->z, ld, a->t, ldt, a->loss_out, a->row_loss, al, be,
                                                    a->grad, a->ldg);
  }
  if (op == LC_FWD) return logitnorm_loss_forward_f32(a->L, n, a->z, ld, y, a->loss_out, a->row_loss);
  if (op == LC_BWD) return logitnorm_loss_backward_f32(a->L, n, a->z, ld, y, a->rs, al, be, a->grad, a->ldg);
  return logitnorm_loss_forward_backward_f32(a->L, n, a->z, ld, y, a->loss_out, a->row_loss, al, be, a->grad,
                                             a->ldg);
}

static const char *LC_OPS[3] = {"forward", "backward", "forward_backward"};

logitnorm_loss *lc_handle(const lc_case *c) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, (logitnorm_loss_kind)c->kind, c->C), LOGITNORM_OK);
  if (c->kind == LOGITNORM_LOSS_LOGITNORM)
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, c->tau), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, c->eps), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, c->reduction), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, c->smoothing), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_IGNORE_INDEX, c->ignore_index), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_CHECK_FINITE, c->check_finite), LOGITNORM_OK);
  if (c->weights) {
    float *w = malloc((size_t)c->C * sizeof *w);
    ck_assert(w != NULL);
    for (int64_t k = 0; k < c->C; ++k) w[k] = (float)c->weights[k];
    ck_assert_int_eq(logitnorm_loss_set_class_weights(L, w), LOGITNORM_OK);
    free(w);
  }
  return L;
}

/* ---- data and reference ---- */

typedef struct lc_data {
  typed_buf z, t, rs, g0;
  double *w; /* the weights as the library stores them (rounded to float) */
} lc_data;

static void lc_make_data(const lc_case *c, lc_data *D) {
  size_t rows = (size_t)(c->n > 0 ? c->n : 1);
  D->z = tb_new(c->f64, rows * (size_t)c->ld);
  D->t = tb_new(c->f64, rows * (size_t)c->ldt);
  D->rs = tb_new(c->f64, rows);
  D->g0 = tb_new(c->f64, rows * (size_t)c->ldg);
  tu_rng r;
  tu_seed(&r, c->seed);
  for (int64_t i = 0; i < c->n; ++i) {
    for (int64_t k = 0; k < c->ld; ++k) tb_set(&D->z, (size_t)(i * c->ld + k), k < c->C ? c->z[i * c->ld + k] : NAN);
    if (c->soft)
      for (int64_t k = 0; k < c->ldt; ++k)
        tb_set(&D->t, (size_t)(i * c->ldt + k), k < c->C ? c->t[i * c->ldt + k] : NAN);
    tb_set(&D->rs, (size_t)i, c->row_scale ? c->row_scale[i] : 1.0);
    for (int64_t k = 0; k < c->ldg; ++k)
      tb_set(&D->g0, (size_t)(i * c->ldg + k), c->nan_grad && k < c->C ? NAN : 4.0 * tu_uniform(&r) - 2.0);
  }
  D->w = NULL;
  if (c->weights) {
    D->w = malloc((size_t)c->C * sizeof *D->w);
    ck_assert(D->w != NULL);
    for (int64_t k = 0; k < c->C; ++k) D->w[k] = (double)(float)c->weights[k];
  }
}

static void lc_free_data(lc_data *D) {
  tb_free(&D->z);
  tb_free(&D->t);
  tb_free(&D->rs);
  tb_free(&D->g0);
  free(D->w);
}

typedef struct lc_expect {
  double loss, loss_tol;
  double *row, *row_tol, *G, *gscale;
  int *nan_row; /* the row is not ignored and holds a NaN logit */
  int any_nan;  /* some non-ignored row holds a NaN logit */
} lc_expect;

static int lc_ignored(const lc_case *c, int64_t i) { return !c->soft && c->labels[i] == c->ignore_index; }

static void lc_make_expect(const lc_case *c, const lc_data *D, lc_expect *E) {
  int64_t n = c->n, C = c->C;
  size_t rows = (size_t)(n > 0 ? n : 1);
  lr_config cfg;
  lr_config_init(&cfg, c->kind, C);
  cfg.tau = c->tau;
  cfg.eps = c->eps;
  cfg.smoothing = c->smoothing;
  cfg.reduction = c->reduction;
  cfg.ignore_index = c->ignore_index;
  cfg.weights = D->w;
  E->row = calloc(rows, sizeof(double));
  E->row_tol = calloc(rows, sizeof(double));
  E->gscale = calloc(rows, sizeof(double));
  E->G = calloc(rows * (size_t)C, sizeof(double));
  E->nan_row = calloc(rows, sizeof(int));
  ck_assert(E->row && E->row_tol && E->gscale && E->G && E->nan_row);
  E->loss = c->soft ? lr_batch_soft_masked(&cfg, n, D->z.d, c->ld, D->t.d, c->ldt, E->row, E->G)
                    : lr_batch_hard_masked(&cfg, n, D->z.d, c->ld, c->labels, E->row, E->G);
  int mean = c->reduction == LOGITNORM_REDUCTION_MEAN;
  double divisor = !mean ? 1.0 : c->soft ? (double)n : lr_mean_divisor_hard(&cfg, n, c->labels);
  const double uT = c->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2, ud = DBL_EPSILON / 2;
  double tol_sum = 0.0;
  E->any_nan = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double *z = D->z.d + i * c->ld;
    for (int64_t k = 0; k < C; ++k)
      if (isnan(z[k]) && !lc_ignored(c, i)) E->nan_row[i] = 1;
    if (E->nan_row[i]) {
      /* rule: the NaN reaches the row loss, the reduced loss and every gradient column */
      E->any_nan = 1;
      E->row[i] = NAN;
      for (int64_t k = 0; k < C; ++k) E->G[i * C + k] = NAN;
      continue;
    }
    lr_reduced r;
    lr_reduce_row(&cfg, z, c->soft ? -1 : c->labels[i], c->soft ? D->t.d + i * c->ldt : NULL, &r);
    ck_assert_msg(r.valid, "%s: row %lld is bad input; use lc_run_bad", c->what, (long long)i);
    if (!r.ignored) {
      double *q = malloc((size_t)r.cfg.num_classes * sizeof *q);
      ck_assert(q != NULL);
      lr_reduced_targets(&r, q);
      lr_row_scale s = lr_row_size(&r.cfg, r.z, q);
      double unit = 16.0 * (uT * (s.umax + 10.0) + ud * (double)C);
      E->row_tol[i] = unit * s.Q + 4.0 * uT * fabs(E->row[i]);
      E->gscale[i] = unit * s.k * s.Q / divisor;
      tol_sum += E->row_tol[i];
      free(q);
    }
    lr_reduced_free(&r);
  }
  if (E->any_nan) E->loss = NAN;
  E->loss_tol = (mean ? tol_sum / divisor : tol_sum) + 4.0 * ud * fabs(E->loss);
}

static void lc_free_expect(lc_expect *E) {
  free(E->row);
  free(E->row_tol);
  free(E->G);
  free(E->gscale);
  free(E->nan_row);
}

/* ---- checks ---- */

static void lc_close(const lc_case *c, int op, double got, double want, double tol, const char *what, long long i,
                     long long j) {
  if (isnan(want)) {
    if (!isnan(got))
      ck_abort_msg("%s (%s, %s %s %s): %s[%lld][%lld] = %.17g, want NaN", c->what, LC_OPS[op], c->f64 ? "f64" : "f32",
                   c->kind ? "logitnorm" : "cross_entropy", c->soft ? "soft" : "hard", what, i, j, got);
    return;
  }
  if (!(isfinite(got) && fabs(got - want) <= tol))
    ck_abort_msg("%s (%s, %s %s %s): %s[%lld][%lld] = %.17g, want %.17g (tol %.3g)", c->what, LC_OPS[op],
                 c->f64 ? "f64" : "f32", c->kind ? "logitnorm" : "cross_entropy", c->soft ? "soft" : "hard", what, i,
                 j, got, want, tol);
}

static void lc_check_losses(const lc_case *c, int op, const lc_expect *E, double loss_out, const typed_buf *row,
                            const void *row_before) {
  lc_close(c, op, loss_out, E->loss, E->loss_tol, "loss_out", 0, 0);
  for (int64_t i = 0; i < c->n; ++i) lc_close(c, op, tb_get(row, (size_t)i), E->row[i], E->row_tol[i], "row_loss", i, 0);
  const unsigned char *a = row->p, *b = row_before;
  ck_assert_msg(memcmp(a + (size_t)c->n * row->elem, b + (size_t)c->n * row->elem, row->elem) == 0,
                "%s (%s): row_loss[n] was written", c->what, LC_OPS[op]);
}

/* beta * old rounded once in the element type: what a masked or ignored column must hold. */
static double lc_beta_old(const lc_case *c, double old) {
  if (c->beta == 0.0) return 0.0;
  if (c->f64) return c->beta * old;
  return (double)((float)c->beta * (float)old);
}

static void lc_check_grad(const lc_case *c, int op, const lc_expect *E, const typed_buf *grad, const typed_buf *g0,
                          const typed_buf *z, int64_t ldg, int with_scale) {
  double alpha = c->f64 ? c->alpha : (double)(float)c->alpha;
  double beta = c->f64 ? c->beta : (double)(float)c->beta;
  const double uT = c->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2;
  for (int64_t i = 0; i < c->n; ++i) {
    double s = 1.0;
    if (with_scale && c->row_scale) s = c->f64 ? c->row_scale[i] : (double)(float)c->row_scale[i];
    for (int64_t k = 0; k < c->C; ++k) {
      double got = tb_get(grad, (size_t)(i * ldg + k)), old = g0->d[i * ldg + k];
      int masked = z->d[i * c->ld + k] == -INFINITY;
      if (!E->nan_row[i] && (masked || lc_ignored(c, i))) {
        /* exactly 0, or beta * old */
        double want = lc_beta_old(c, old);
        if (!(got == want || (isnan(got) && isnan(want))))
          ck_abort_msg("%s (%s, %s %s %s): grad[%lld][%lld] of a %s column = %.17g, want exactly %.17g", c->what,
                       LC_OPS[op], c->f64 ? "f64" : "f32", c->kind ? "logitnorm" : "cross_entropy",
                       c->soft ? "soft" : "hard", (long long)i, (long long)k, masked ? "masked" : "ignored", got,
                       want);
        continue;
      }
      double bo = beta != 0.0 ? beta * old : 0.0;
      double want = alpha * s * E->G[i * c->C + k] + bo;
      double tol = E->gscale[i] * fabs(alpha * s) + 4.0 * uT * (fabs(bo) + fabs(want));
      lc_close(c, op, got, want, tol, "grad", i, k);
    }
    for (int64_t k = c->C; k < ldg; ++k) {
      size_t off = (size_t)(i * ldg + k) * grad->elem;
      if (memcmp((const unsigned char *)grad->p + off, (const unsigned char *)g0->p + off, grad->elem) != 0)
        ck_abort_msg("%s (%s): grad padding [%lld][%lld] was written", c->what, LC_OPS[op], (long long)i,
                     (long long)k);
    }
  }
}

void lc_run(const lc_case *c) {
  lc_data D;
  lc_make_data(c, &D);
  lc_expect E;
  lc_make_expect(c, &D, &E);
  logitnorm_loss *L = lc_handle(c);
  size_t zbytes = D.z.count * D.z.elem, tbytes = D.t.count * D.t.elem;
  void *z_before = malloc(zbytes), *t_before = malloc(tbytes);
  ck_assert(z_before && t_before);
  memcpy(z_before, D.z.p, zbytes);
  memcpy(t_before, D.t.p, tbytes);
  typed_buf row = tb_new(c->f64, (size_t)c->n + 1);
  tu_sentinel_fill(row.p, row.count * row.elem + row.elem);
  void *row_before = malloc(row.count * row.elem + row.elem);
  ck_assert(row_before != NULL);
  memcpy(row_before, row.p, row.count * row.elem + row.elem);

  /* the calls with a loss run twice: with row losses, and without (the kernels may then sum
     the rows' losses another way, see ln_log_prod in lib/loss/tile_avx2.h) */
  for (int op = 0; op < 3; ++op)
    for (int rows = 1; rows >= (op == LC_BWD ? 1 : 0); --rows) {
      typed_buf grad = lc_buf_copy(&D.g0);
      memcpy(row.p, row_before, row.count * row.elem);
      double loss_out = -12345.0;
      lc_args a = {L, D.z.p, D.t.p, op == LC_BWD && c->row_scale ? D.rs.p : NULL, &loss_out, rows ? row.p : NULL,
                   grad.p, c->ldg};
      logitnorm_status st = lc_call(c, op, &a);
      ck_assert_msg(st == LOGITNORM_OK, "%s (%s): status %d: %s", c->what, LC_OPS[op], (int)st,
                    logitnorm_last_error());
      if (op != LC_BWD && rows) lc_check_losses(c, op, &E, loss_out, &row, row_before);
      if (op != LC_BWD && !rows) lc_close(c, op, loss_out, E.loss, E.loss_tol, "loss_out without row losses", 0, 0);
      if (op != LC_FWD) lc_check_grad(c, op, &E, &grad, &D.g0, &D.z, c->ldg, op == LC_BWD);
      ck_assert_msg(memcmp(D.z.p, z_before, zbytes) == 0, "%s (%s): logits were written", c->what, LC_OPS[op]);
      ck_assert_msg(memcmp(D.t.p, t_before, tbytes) == 0, "%s (%s): targets were written", c->what, LC_OPS[op]);
      tb_free(&grad);
    }

  if (c->in_place) {
    /* grad == logits, ldg == ld: the old gradient is z itself (-inf at masked columns, so a
       masked column ends as beta * -inf when beta != 0) */
    lc_case ci = *c;
    ci.ldg = c->ld;
    for (int op = 1; op < 3; ++op) {
      typed_buf zz = lc_buf_copy(&D.z);
      memcpy(row.p, row_before, row.count * row.elem);
      double loss_out = -12345.0;
      lc_args a = {L, zz.p, D.t.p, op == LC_BWD && c->row_scale ? D.rs.p : NULL, &loss_out, row.p, zz.p, c->ld};
      logitnorm_status st = lc_call(&ci, op, &a);
      ck_assert_msg(st == LOGITNORM_OK, "%s (in place %s): status %d: %s", c->what, LC_OPS[op], (int)st,
                    logitnorm_last_error());
      if (op == LC_FWDBWD) lc_check_losses(&ci, op, &E, loss_out, &row, row_before);
      lc_check_grad(&ci, op, &E, &zz, &D.z, &D.z, c->ld, op == LC_BWD);
      tb_free(&zz);
    }
  }

  tb_free(&row);
  free(row_before);
  free(z_before);
  free(t_before);
  logitnorm_loss_free(L);
  lc_free_expect(&E);
  lc_free_data(&D);
}

/* haystack contains one of the '|'-separated alternatives of needles. */
static int lc_contains_any(const char *haystack, const char *needles) {
  char buf[256];
  const char *p = needles;
  for (;;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (len > 0 && strstr(haystack, buf) != NULL) return 1;
    if (bar == NULL) return 0;
    p = bar + 1;
  }
}

void lc_run_bad(const lc_case *c, logitnorm_status want, logitnorm_status want_alt, const char *sub1,
                const char *sub2) {
  lc_data D;
  lc_make_data(c, &D);
  logitnorm_loss *L = lc_handle(c);
  size_t rows = (size_t)(c->n > 0 ? c->n : 1);
  for (int op = 0; op < 3; ++op) {
    typed_buf grad = tb_new(c->f64, D.g0.count), row = tb_new(c->f64, rows);
    double loss_out;
    tu_sentinel_fill(grad.p, grad.count * grad.elem);
    tu_sentinel_fill(row.p, row.count * row.elem);
    tu_sentinel_fill(&loss_out, sizeof loss_out);
    /* plant a known message: the call must replace it */
    double v;
    ck_assert_int_eq(logitnorm_loss_get(L, (logitnorm_loss_param)31337, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
    char marker[256];
    strncpy(marker, logitnorm_last_error(), sizeof marker - 1);
    marker[sizeof marker - 1] = '\0';
    lc_args a = {L, D.z.p, D.t.p, op == LC_BWD && c->row_scale ? D.rs.p : NULL, &loss_out, row.p, grad.p, c->ldg};
    logitnorm_status st = lc_call(c, op, &a);
    const char *msg = logitnorm_last_error();
    ck_assert_msg(st == want || (want_alt != LOGITNORM_OK && st == want_alt),
                  "%s (%s, %s %s): status %d (%s), want %d%s; message \"%s\"", c->what, LC_OPS[op],
                  c->f64 ? "f64" : "f32", c->soft ? "soft" : "hard", (int)st, logitnorm_status_string(st), (int)want,
                  want_alt != LOGITNORM_OK ? " or another listed status" : "", msg);
    ck_assert_msg(msg[0] != '\0' && strcmp(msg, marker) != 0, "%s (%s): no fresh error text", c->what, LC_OPS[op]);
    ck_assert_msg(sub1 == NULL || lc_contains_any(msg, sub1), "%s (%s): message \"%s\" does not contain \"%s\"",
                  c->what, LC_OPS[op], msg, sub1);
    ck_assert_msg(sub2 == NULL || lc_contains_any(msg, sub2), "%s (%s): message \"%s\" does not contain \"%s\"",
                  c->what, LC_OPS[op], msg, sub2);
    ck_assert_msg(tu_sentinel_intact(&loss_out, sizeof loss_out), "%s (%s): loss_out written on failure", c->what,
                  LC_OPS[op]);
    ck_assert_msg(tu_sentinel_intact(row.p, row.count * row.elem), "%s (%s): row_loss written on failure", c->what,
                  LC_OPS[op]);
    ck_assert_msg(tu_sentinel_intact(grad.p, grad.count * grad.elem), "%s (%s): grad written on failure", c->what,
                  LC_OPS[op]);
    tb_free(&grad);
    tb_free(&row);
  }
  logitnorm_loss_free(L);
  lc_free_data(&D);
}
