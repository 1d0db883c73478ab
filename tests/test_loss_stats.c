/* The 1.1 entry points that save row statistics (forward_stats / backward_stats, hard labels
   and probability targets) and logitnorm_loss_probs_*, in f32 and f64, against the independent
   masked double reference of support/loss_ref.h and a plain double softmax written here.

   Loss and gradient tolerances are those of test_loss_values.c, computed per row with its
   masked columns removed (u_T, u_d the unit roundoffs of the element type and of double, Q the
   row's target mass, k = du/dz, umax = max |u|, D the MEAN divisor):
     row loss:  16 (u_T (umax + 10) + u_d C) Q + 4 u_T |l|
     grad:      16 (u_T (umax + 10) + u_d C) k Q |alpha s / D| + 4 u_T (|beta g0| + |grad|)
   Probabilities: exp(u_c - m) in the element type moves p_c by a relative u_T (|u_c| + |m|),
   so |p - p_ref| <= 16 u_T (umax + 10) p_ref plus a few smallest subnormals for underflow. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "typed_buf.h"
#include "logitnorm.h"
#include "loss_ref.h"
#include "test_util.h"

#define RS LOGITNORM_LOSS_ROW_STATS

typedef struct scase {
  int f64, kind, soft, reduction;
  int64_t n, C, ld, ldt, ldg;
  double tau, eps, smoothing;
  double ignore_frac;
  int32_t ignore_index;
  double zscale;
  int weights, row_scale;
  double alpha, beta;
  int masks;     /* up to this many -inf columns in every other row (never the label's) */
  int in_place;  /* also backward_stats with grad == logits, ldg == ld */
  int fb;        /* also forward_backward out of place and in place (the heap exp cache at large C) */
  uint64_t seed;
} scase;

static scase sdefault(int f64, int kind, int soft, int64_t n, int64_t C) {
  scase v;
  memset(&v, 0, sizeof v);
  v.f64 = f64;
  v.kind = kind;
  v.soft = soft;
  v.reduction = LOGITNORM_REDUCTION_MEAN;
  v.n = n;
  v.C = C;
  v.ld = v.ldt = v.ldg = C;
  v.tau = 0.04;
  v.eps = 1e-7;
  v.ignore_index = -100;
  v.zscale = 2.0;
  v.alpha = 1.0;
  v.seed = 1;
  return v;
}


static void *dup_bytes(const void *p, size_t bytes) {
  void *q = malloc(bytes ? bytes : 1);
  ck_assert(q != NULL);
  memcpy(q, p, bytes);
  return q;
}

/* ---- calls for either precision ---- */

static logitnorm_status c_fwd_stats(const scase *v, const logitnorm_loss *L, const void *z, const int32_t *y,
                                    const void *t, double *lo, void *rl, double *st) {
  if (v->f64)
    return v->soft ? logitnorm_loss_forward_stats_soft_f64(L, v->n, z, v->ld, t, v->ldt, lo, rl, st)
                   : logitnorm_loss_forward_stats_f64(L, v->n, z, v->ld, y, lo, rl, st);
  return v->soft ? logitnorm_loss_forward_stats_soft_f32(L, v->n, z, v->ld, t, v->ldt, lo, rl, st)
                 : logitnorm_loss_forward_stats_f32(L, v->n, z, v->ld, y, lo, rl, st);
}

static logitnorm_status c_bwd_stats(const scase *v, const logitnorm_loss *L, const void *z, const int32_t *y,
                                    const void *t, const double *st, const void *rs, void *g, int64_t ldg) {
  if (v->f64)
    return v->soft ? logitnorm_loss_backward_stats_soft_f64(L, v->n, z, v->ld, t, v->ldt, st, rs, v->alpha, v->beta,
                                                            g, ldg)
                   : logitnorm_loss_backward_stats_f64(L, v->n, z, v->ld, y, st, rs, v->alpha, v->beta, g, ldg);
  float a = (float)v->alpha, b = (float)v->beta;
  return v->soft ? logitnorm_loss_backward_stats_soft_f32(L, v->n, z, v->ld, t, v->ldt, st, rs, a, b, g, ldg)
                 : logitnorm_loss_backward_stats_f32(L, v->n, z, v->ld, y, st, rs, a, b, g, ldg);
}

static logitnorm_status c_bwd(const scase *v, const logitnorm_loss *L, const void *z, const int32_t *y,
                              const void *t, const void *rs, void *g, int64_t ldg) {
  if (v->f64)
    return v->soft ? logitnorm_loss_backward_soft_f64(L, v->n, z, v->ld, t, v->ldt, rs, v->alpha, v->beta, g, ldg)
                   : logitnorm_loss_backward_f64(L, v->n, z, v->ld, y, rs, v->alpha, v->beta, g, ldg);
  float a = (float)v->alpha, b = (float)v->beta;
  return v->soft ? logitnorm_loss_backward_soft_f32(L, v->n, z, v->ld, t, v->ldt, rs, a, b, g, ldg)
                 : logitnorm_loss_backward_f32(L, v->n, z, v->ld, y, rs, a, b, g, ldg);
}

static logitnorm_status c_fb(const scase *v, const logitnorm_loss *L, const void *z, const int32_t *y, const void *t,
                             double *lo, void *rl, void *g, int64_t ldg) {
  if (v->f64)
    return v->soft ? logitnorm_loss_forward_backward_soft_f64(L, v->n, z, v->ld, t, v->ldt, lo, rl, v->alpha,
                                                              v->beta, g, ldg)
                   : logitnorm_loss_forward_backward_f64(L, v->n, z, v->ld, y, lo, rl, v->alpha, v->beta, g, ldg);
  float a = (float)v->alpha, b = (float)v->beta;
  return v->soft ? logitnorm_loss_forward_backward_soft_f32(L, v->n, z, v->ld, t, v->ldt, lo, rl, a, b, g, ldg)
                 : logitnorm_loss_forward_backward_f32(L, v->n, z, v->ld, y, lo, rl, a, b, g, ldg);
}

static logitnorm_status c_probs(int f64, const logitnorm_loss *L, int64_t n, const void *z, int64_t ld, void *p,
                                int64_t ldp) {
  return f64 ? logitnorm_loss_probs_f64(L, n, z, ld, p, ldp) : logitnorm_loss_probs_f32(L, n, z, ld, p, ldp);
}

/* ---- comparisons (ck_abort_msg only on failure: passing asserts cost a pipe write each) ---- */

static void expect_close(double got, double want, double tol, const char *what, long long i, long long j) {
  if (isnan(want)) {
    if (!isnan(got)) ck_abort_msg("%s[%lld][%lld]: got %.17g, want NaN", what, i, j, got);
    return;
  }
  if (isinf(want)) {
    if (got != want) ck_abort_msg("%s[%lld][%lld]: got %.17g, want %g", what, i, j, got, want);
    return;
  }
  if (!(isfinite(got) && fabs(got - want) <= tol))
    ck_abort_msg("%s[%lld][%lld]: got %.17g, want %.17g (tol %.3g)", what, i, j, got, want, tol);
}

static void expect_padding(const void *now, const void *before, size_t elem, int64_t n, int64_t C, int64_t ld,
                           const char *what) {
  const unsigned char *a = now, *b = before;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = C; c < ld; ++c) {
      size_t off = (size_t)(i * ld + c) * elem;
      if (memcmp(a + off, b + off, elem) != 0)
        ck_abort_msg("%s padding [%lld][%lld] was written", what, (long long)i, (long long)c);
    }
}

/* ---- data and reference ---- */

typedef struct sdata {
  typed_buf z, t, rs, g0;
  int32_t *labels;
  float *wf;
  double *wd;
} sdata;

static void make_data(const scase *v, sdata *D) {
  tu_rng r;
  tu_seed(&r, v->seed);
  int64_t n = v->n, C = v->C;
  size_t rows = (size_t)(n > 0 ? n : 1);
  D->z = tb_new(v->f64, rows * (size_t)v->ld);
  D->t = tb_new(v->f64, rows * (size_t)v->ldt);
  D->rs = tb_new(v->f64, rows);
  D->g0 = tb_new(v->f64, rows * (size_t)v->ldg);
  D->labels = calloc(rows, sizeof(int32_t));
  D->wf = calloc((size_t)C, sizeof(float));
  D->wd = calloc((size_t)C, sizeof(double));
  for (int64_t c = 0; c < C; ++c) {
    D->wf[c] = (float)(0.25 + 1.75 * tu_uniform(&r));
    D->wd[c] = D->wf[c];
  }
  double *t = calloc((size_t)C, sizeof(double));
  int64_t ignored = 0;
  for (int64_t i = 0; i < n; ++i) {
    D->labels[i] = tu_uniform(&r) < v->ignore_frac ? v->ignore_index : (int32_t)tu_int(&r, 0, C - 1);
    if (D->labels[i] == v->ignore_index) ++ignored;
    /* MEAN over only ignored rows divides 0 by 0; keep one row that counts */
    if (i == n - 1 && ignored == n) D->labels[i] = (int32_t)((v->ignore_index + 1 + C) % C);
    for (int64_t c = 0; c < v->ld; ++c)
      tb_set(&D->z, (size_t)(i * v->ld + c), c < C ? v->zscale * tu_normal(&r) : NAN);
    /* masks: some -inf columns in odd rows, never the label and never every column */
    int nm = v->masks && (i % 2) && C > 1 ? (int)tu_int(&r, 1, v->masks) : 0;
    for (int k = 0; k < nm; ++k) {
      int64_t c = tu_int(&r, 0, C - 1);
      if (c != D->labels[i]) tb_set(&D->z, (size_t)(i * v->ld + c), -INFINITY);
    }
    /* targets: even rows sum to 1, odd rows do not; 0 on masked columns */
    double sum = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      t[c] = isinf(D->z.d[i * v->ld + c]) ? 0.0 : tu_uniform(&r);
      sum += t[c];
    }
    for (int64_t c = 0; c < v->ldt; ++c)
      tb_set(&D->t, (size_t)(i * v->ldt + c), c < C ? (i % 2 == 0 ? t[c] / sum : 1.5 * t[c]) : NAN);
    tb_set(&D->rs, (size_t)i, tu_normal(&r));
    for (int64_t c = 0; c < v->ldg; ++c) tb_set(&D->g0, (size_t)(i * v->ldg + c), tu_normal(&r));
  }
  free(t);
}

static void free_data(sdata *D) {
  tb_free(&D->z);
  tb_free(&D->t);
  tb_free(&D->rs);
  tb_free(&D->g0);
  free(D->labels);
  free(D->wf);
  free(D->wd);
}

static logitnorm_loss *make_handle(const scase *v, const sdata *D) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, (logitnorm_loss_kind)v->kind, v->C), LOGITNORM_OK);
  if (v->kind == LOGITNORM_LOSS_LOGITNORM)
    ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, v->tau), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_EPSILON, v->eps), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_REDUCTION, v->reduction), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_LABEL_SMOOTHING, v->smoothing), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_IGNORE_INDEX, v->ignore_index), LOGITNORM_OK);
  if (v->weights && D) ck_assert_int_eq(logitnorm_loss_set_class_weights(L, D->wf), LOGITNORM_OK);
  return L;
}

typedef struct sexpect {
  double loss, loss_tol, divisor;
  double *row, *row_tol, *G, *gscale;
} sexpect;

static lr_config ref_config(const scase *v, const sdata *D) {
  lr_config cfg;
  lr_config_init(&cfg, v->kind, v->C);
  cfg.tau = v->tau;
  cfg.eps = v->eps;
  cfg.smoothing = v->smoothing;
  cfg.reduction = v->reduction;
  cfg.ignore_index = v->ignore_index;
  cfg.weights = v->weights ? D->wd : NULL;
  return cfg;
}

static void make_expect(const scase *v, const sdata *D, sexpect *E) {
  int64_t n = v->n, C = v->C;
  lr_config cfg = ref_config(v, D);
  size_t rows = (size_t)(n > 0 ? n : 1);
  E->row = calloc(rows, sizeof(double));
  E->row_tol = calloc(rows, sizeof(double));
  E->gscale = calloc(rows, sizeof(double));
  E->G = calloc(rows * (size_t)C, sizeof(double));
  E->loss = v->soft ? lr_batch_soft_masked(&cfg, n, D->z.d, v->ld, D->t.d, v->ldt, E->row, E->G)
                    : lr_batch_hard_masked(&cfg, n, D->z.d, v->ld, D->labels, E->row, E->G);
  int mean = v->reduction == LOGITNORM_REDUCTION_MEAN;
  E->divisor = !mean ? 1.0 : v->soft ? (double)n : lr_mean_divisor_hard(&cfg, n, D->labels);
  const double uT = v->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2, ud = DBL_EPSILON / 2;
  double tol_sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    lr_reduced r;
    lr_reduce_row(&cfg, D->z.d + i * v->ld, v->soft ? -1 : D->labels[i], v->soft ? D->t.d + i * v->ldt : NULL, &r);
    ck_assert_msg(r.valid, "row %lld of the test data is not valid input", (long long)i);
    double *q = calloc((size_t)r.cfg.num_classes + 1, sizeof(double));
    lr_reduced_targets(&r, q);
    lr_row_scale s = lr_row_size(&r.cfg, r.z, q);
    double unit = 16.0 * (uT * (s.umax + 10.0) + ud * (double)C);
    E->row_tol[i] = unit * s.Q + 4.0 * uT * fabs(E->row[i]);
    E->gscale[i] = s.Q == 0.0 ? 0.0 : unit * s.k * s.Q / (mean ? E->divisor : 1.0);
    tol_sum += E->row_tol[i];
    free(q);
    lr_reduced_free(&r);
  }
  E->loss_tol = (mean ? tol_sum / E->divisor : tol_sum) + 4.0 * ud * fabs(E->loss);
}

static void free_expect(sexpect *E) {
  free(E->row);
  free(E->row_tol);
  free(E->G);
  free(E->gscale);
}

static void check_losses(const scase *v, const sexpect *E, double lo, const typed_buf *rl, const void *rl_before,
                         const char *what) {
  expect_close(lo, E->loss, E->loss_tol, what, -1, 0);
  for (int64_t i = 0; i < v->n; ++i) expect_close(tb_get(rl, (size_t)i), E->row[i], E->row_tol[i], what, i, 0);
  ck_assert_msg(memcmp((const char *)rl->p + (size_t)v->n * rl->elem, (const char *)rl_before + (size_t)v->n * rl->elem,
                       rl->elem) == 0,
                "%s: row_loss[n] was written", what);
}

/* grad vs alpha s_i G + beta g0 (g0 the old grad with leading dimension ldg). */
static void check_grad(const scase *v, const sexpect *E, const typed_buf *g, const double *g0, int64_t ldg, const typed_buf *rs,
                       const char *what) {
  double alpha = v->f64 ? v->alpha : (double)(float)v->alpha;
  double beta = v->f64 ? v->beta : (double)(float)v->beta;
  const double uT = v->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2;
  for (int64_t i = 0; i < v->n; ++i) {
    double s = rs ? rs->d[i] : 1.0;
    for (int64_t c = 0; c < v->C; ++c) {
      double old = beta != 0.0 ? beta * g0[i * ldg + c] : 0.0;
      double want = alpha * s * E->G[i * v->C + c] + old;
      double tol = E->gscale[i] * fabs(alpha * s) + 4.0 * uT * (fabs(old) + fabs(want));
      expect_close(tb_get(g, (size_t)(i * ldg + c)), want, tol, what, i, c);
    }
  }
}

static void run_case(const scase *v) {
  sdata D;
  make_data(v, &D);
  sexpect E;
  make_expect(v, &D, &E);
  logitnorm_loss *L = make_handle(v, &D);
  size_t rows = (size_t)(v->n > 0 ? v->n : 1);
  size_t zbytes = D.z.count * D.z.elem, gbytes = D.g0.count * D.g0.elem;
  void *z_before = dup_bytes(D.z.p, zbytes);
  const void *rs = v->row_scale ? D.rs.p : NULL;
  const typed_buf *rsb = v->row_scale ? &D.rs : NULL;

  /* forward_stats; one spare row of stats and one spare row loss must stay untouched */
  typed_buf rl = tb_new(v->f64, rows + 1);
  tu_sentinel_fill(rl.p, (rows + 1) * rl.elem);
  void *rl_before = dup_bytes(rl.p, (rows + 1) * rl.elem);
  double *stats = malloc((rows + 1) * RS * sizeof(double));
  tu_sentinel_fill(stats, (rows + 1) * RS * sizeof(double));
  double *stats_fill = dup_bytes(stats, (rows + 1) * RS * sizeof(double));
  double lo = -1.0;
  ck_assert_int_eq(c_fwd_stats(v, L, D.z.p, D.labels, D.t.p, &lo, rl.p, stats), LOGITNORM_OK);
  check_losses(v, &E, lo, &rl, rl_before, "forward_stats loss");
  ck_assert_msg(memcmp(stats + (size_t)v->n * RS, stats_fill + (size_t)v->n * RS, RS * sizeof(double)) == 0,
                "row_stats past n written");
  free(stats_fill);
  ck_assert_msg(memcmp(D.z.p, z_before, zbytes) == 0, "logits written");
  double *stats_before = dup_bytes(stats, (rows + 1) * RS * sizeof(double));

  /* backward_stats, out of place */
  typed_buf g = tb_new(v->f64, D.g0.count);
  memcpy(g.p, D.g0.p, gbytes);
  ck_assert_int_eq(c_bwd_stats(v, L, D.z.p, D.labels, D.t.p, stats, rs, g.p, v->ldg), LOGITNORM_OK);
  check_grad(v, &E, &g, D.g0.d, v->ldg, rsb, "backward_stats grad");
  expect_padding(g.p, D.g0.p, g.elem, v->n, v->C, v->ldg, "grad");
  ck_assert_msg(memcmp(stats, stats_before, (rows + 1) * RS * sizeof(double)) == 0, "row_stats written by backward");

  /* backward (recomputing) must land within the same tolerance of the reference, so the two
     differ by at most twice it */
  typed_buf g2 = tb_new(v->f64, D.g0.count);
  memcpy(g2.p, D.g0.p, gbytes);
  ck_assert_int_eq(c_bwd(v, L, D.z.p, D.labels, D.t.p, rs, g2.p, v->ldg), LOGITNORM_OK);
  check_grad(v, &E, &g2, D.g0.d, v->ldg, rsb, "backward grad");
  {
    const double uT = v->f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2;
    for (int64_t i = 0; i < v->n; ++i)
      for (int64_t c = 0; c < v->C; ++c) {
        double a = tb_get(&g, (size_t)(i * v->ldg + c)), b = tb_get(&g2, (size_t)(i * v->ldg + c));
        double s = rsb ? rsb->d[i] : 1.0;
        double tol = 2.0 * (E.gscale[i] * fabs(v->alpha * s) + 4.0 * uT * (fabs(v->beta * D.g0.d[i * v->ldg + c]) +
                                                                           fabs(a) + fabs(b)));
        if (!(fabs(a - b) <= tol) && !(a == b))
          ck_abort_msg("backward_stats vs backward [%lld][%lld]: %.17g vs %.17g (tol %.3g)", (long long)i,
                       (long long)c, a, b, tol);
      }
  }

  if (v->in_place) {
    /* grad == logits, ldg == ld: the old grad is z itself */
    typed_buf zz = tb_new(v->f64, D.z.count);
    memcpy(zz.p, D.z.p, zbytes);
    ck_assert_int_eq(c_bwd_stats(v, L, zz.p, D.labels, D.t.p, stats, rs, zz.p, v->ld), LOGITNORM_OK);
    check_grad(v, &E, &zz, D.z.d, v->ld, rsb, "in-place backward_stats grad");
    expect_padding(zz.p, z_before, zz.elem, v->n, v->C, v->ld, "in-place grad");
    tb_free(&zz);
  }

  if (v->fb) {
    /* forward_backward out of place (beta as given) and in place */
    memcpy(g.p, D.g0.p, gbytes);
    memcpy(rl.p, rl_before, (rows + 1) * rl.elem);
    lo = -1.0;
    ck_assert_int_eq(c_fb(v, L, D.z.p, D.labels, D.t.p, &lo, rl.p, g.p, v->ldg), LOGITNORM_OK);
    check_losses(v, &E, lo, &rl, rl_before, "forward_backward loss");
    check_grad(v, &E, &g, D.g0.d, v->ldg, NULL, "forward_backward grad");
    expect_padding(g.p, D.g0.p, g.elem, v->n, v->C, v->ldg, "grad");
    typed_buf zz = tb_new(v->f64, D.z.count);
    memcpy(zz.p, D.z.p, zbytes);
    memcpy(rl.p, rl_before, (rows + 1) * rl.elem);
    lo = -1.0;
    ck_assert_int_eq(c_fb(v, L, zz.p, D.labels, D.t.p, &lo, rl.p, zz.p, v->ld), LOGITNORM_OK);
    check_losses(v, &E, lo, &rl, rl_before, "in-place forward_backward loss");
    check_grad(v, &E, &zz, D.z.d, v->ld, NULL, "in-place forward_backward grad");
    expect_padding(zz.p, z_before, zz.elem, v->n, v->C, v->ld, "in-place grad");
    tb_free(&zz);
  }

  tb_free(&g);
  tb_free(&g2);
  tb_free(&rl);
  free(rl_before);
  free(stats);
  free(stats_before);
  free(z_before);
  logitnorm_loss_free(L);
  free_expect(&E);
  free_data(&D);
}

/* ---------------- value tests (loop index: 0 = f32, 1 = f64) ---------------- */

START_TEST(stats_random_shapes) {
  tu_rng r;
  tu_seed(&r, 500 + (uint64_t)_i);
  int reps = tu_quick() ? 8 : 60;
  for (int rep = 0; rep < reps; ++rep) {
    scase v = sdefault(_i, (int)tu_int(&r, 0, 1), tu_uniform(&r) < 0.4, tu_int(&r, 0, 12), tu_int(&r, 1, 40));
    v.ld = v.C + tu_int(&r, 0, 3);
    v.ldt = v.C + tu_int(&r, 0, 3);
    v.ldg = v.C + tu_int(&r, 0, 3);
    v.reduction = (int)tu_int(&r, 0, 2);
    v.weights = tu_uniform(&r) < 0.5;
    v.smoothing = tu_uniform(&r) < 0.5 ? 0.0 : tu_uniform(&r);
    v.ignore_frac = tu_uniform(&r) < 0.5 ? 0.0 : 0.3;
    v.ignore_index = tu_uniform(&r) < 0.5 || v.C == 1 ? -100 : (int32_t)tu_int(&r, 0, v.C - 1);
    v.row_scale = tu_uniform(&r) < 0.5;
    v.tau = tu_uniform(&r) < 0.5 ? 0.04 : 0.01 + 2.0 * tu_uniform(&r);
    v.zscale = tu_uniform(&r) < 0.5 ? 0.3 : 4.0;
    v.alpha = tu_normal(&r);
    v.beta = tu_uniform(&r) < 0.4 ? 0.0 : tu_uniform(&r) < 0.5 ? 1.0 : tu_normal(&r);
    v.masks = tu_uniform(&r) < 0.4 ? (int)tu_int(&r, 1, 4) : 0;
    v.in_place = v.masks == 0 || v.beta == 0.0;
    if (v.in_place && tu_uniform(&r) < 0.5) v.ldg = v.ld;
    v.seed = tu_next(&r);
    run_case(&v);
  }
}
END_TEST

/* Every combination of kind, labels/targets and reduction, with weights, smoothing,
   ignore_index, padding, masks and beta != 0 on a prefilled grad. */
START_TEST(stats_grid) {
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft)
      for (int red = 0; red < 3; ++red)
        for (int variant = 0; variant < 3; ++variant) {
          scase v = sdefault(_i, kind, soft, 9, 7);
          v.reduction = red;
          v.ld = 9;
          v.ldt = 8;
          v.ldg = 10;
          v.weights = variant != 0;
          v.smoothing = variant == 2 ? 0.2 : 0.0;
          v.ignore_frac = soft ? 0.0 : 0.3;
          v.ignore_index = variant == 1 ? 3 : -100;
          v.masks = variant == 0 ? 0 : 3;
          v.row_scale = variant == 1;
          v.alpha = 0.75;
          v.beta = variant == 0 ? 0.0 : -1.5;
          v.in_place = v.beta == 0.0;
          v.seed = (uint64_t)(100 * kind + 10 * soft + 3 * red + variant + 1);
          run_case(&v);
        }
}
END_TEST

/* C = 1 (the loss is 0, the gradient 0 or only the LogitNorm term), C = 49 and many rows (the
   AVX2 tile sizes), C = 5000 (beyond the old 4096-entry exp cache; forward_backward too). */
START_TEST(stats_sizes) {
  int quick = tu_quick();
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft) {
      scase v = sdefault(_i, kind, soft, 6, 1);
      v.ld = v.ldg = 2;
      v.beta = 0.5;
      run_case(&v);

      const int64_t small[] = {2, 3, 4, 8, 10, 16};
      for (int k = 0; k < 6; ++k) {
        if (quick && k % 2) continue;
        v = sdefault(_i, kind, soft, quick ? 64 : (_i ? 256 : 512), small[k]);
        v.reduction = k % 3;
        v.smoothing = k % 2 ? 0.1 : 0.0;
        v.weights = k % 2 == 0;
        v.ignore_frac = 0.1;
        v.masks = k >= 3 ? 2 : 0;
        v.beta = k % 2 ? 1.0 : 0.0;
        v.in_place = v.masks == 0 || v.beta == 0.0;
        v.seed = 40 + (uint64_t)k;
        run_case(&v);
      }

      v = sdefault(_i, kind, soft, quick ? 16 : (_i ? 256 : 512), 49);
      v.ld = 52;
      v.ldg = 51;
      v.ldt = 50;
      v.weights = 1;
      v.smoothing = 0.05;
      v.masks = 5;
      v.ignore_frac = 0.1;
      v.row_scale = 1;
      v.alpha = -2.0;
      v.in_place = 1;
      v.seed = 77;
      run_case(&v);

      v = sdefault(_i, kind, soft, quick ? 3 : 6, 5000);
      v.ld = 5003;
      v.ldg = 5001;
      v.ldt = 5002;
      v.smoothing = 0.1;
      v.weights = 1;
      v.masks = 30;
      v.reduction = LOGITNORM_REDUCTION_SUM;
      v.beta = 1.0;
      v.in_place = 1;
      v.fb = 1;
      v.seed = 5000;
      run_case(&v);
      v.masks = 0;
      v.beta = 0.0;
      v.alpha = 0.5;
      v.reduction = LOGITNORM_REDUCTION_MEAN;
      run_case(&v);
    }
}
END_TEST

/* A huge logit makes LogitNorm's k = 1/(tau (||z|| + eps)) subnormal in f32 (here about
   2^-145, kept with a few significant bits), so max u = k z can exceed 1/tau by a few percent.
   The statistics forward_stats writes for such a row must still be accepted by backward_stats,
   whose gradient must equal backward's (the plain backward accepts the same row). */
START_TEST(stats_subnormal_scale) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 7), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, 1e6), LOGITNORM_OK);
  const float z[7] = {0x1.000064p+125f, 0, 0, 0, 0, 0, 0};
  const int32_t y[1] = {0};
  double st[RS];
  float g[7], g2[7];
  ck_assert_int_eq(logitnorm_loss_forward_stats_f32(L, 1, z, 7, y, NULL, NULL, st), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_backward_f32(L, 1, z, 7, y, NULL, 1.0f, 0.0f, g, 7), LOGITNORM_OK);
  logitnorm_status s = logitnorm_loss_backward_stats_f32(L, 1, z, 7, y, st, NULL, 1.0f, 0.0f, g2, 7);
  ck_assert_msg(s == LOGITNORM_OK, "backward_stats rejects forward_stats' own statistics: %d (%s)", (int)s,
                logitnorm_last_error());
  for (int c = 0; c < 7; ++c) ck_assert_msg(g2[c] == g[c] || fabsf(g2[c] - g[c]) <= 1e-3f * fabsf(g[c]) + 1e-44f,
                                            "grad[%d]: %g vs backward %g", c, g2[c], g[c]);
  logitnorm_loss_free(L);
}
END_TEST

/* ---------------- probabilities ---------------- */

/* Plain double softmax of what the loss sees, masked columns (-inf) excluded, into p (C values);
   returns max |u| over the unmasked columns. */
static double plain_probs(int kind, double tau, double eps, const double *z, int64_t C, double *p) {
  double ss = 0.0;
  for (int64_t c = 0; c < C; ++c)
    if (!isinf(z[c])) ss += z[c] * z[c];
  double scale = kind == LOGITNORM_LOSS_LOGITNORM ? 1.0 / (tau * (sqrt(ss) + eps)) : 1.0;
  double m = -INFINITY, umax = 0.0;
  for (int64_t c = 0; c < C; ++c)
    if (!isinf(z[c])) {
      m = fmax(m, z[c] * scale);
      umax = fmax(umax, fabs(z[c] * scale));
    }
  double sum = 0.0;
  for (int64_t c = 0; c < C; ++c) {
    p[c] = isinf(z[c]) ? 0.0 : exp(z[c] * scale - m);
    sum += p[c];
  }
  for (int64_t c = 0; c < C; ++c) p[c] /= sum;
  return umax;
}

static void run_probs(int f64, int kind, int64_t n, int64_t C, int64_t ld, int64_t ldp, int masks, int in_place,
                      double zscale, uint64_t seed) {
  tu_rng r;
  tu_seed(&r, seed);
  if (in_place) ldp = ld;
  typed_buf z = tb_new(f64, (size_t)n * (size_t)ld);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < ld; ++c) tb_set(&z, (size_t)(i * ld + c), c < C ? zscale * tu_normal(&r) : NAN);
    int nm = masks && C > 1 ? (int)tu_int(&r, 0, masks) : 0;
    int64_t keep = tu_int(&r, 0, C - 1);
    for (int k = 0; k < nm; ++k) {
      int64_t c = tu_int(&r, 0, C - 1);
      if (c != keep) tb_set(&z, (size_t)(i * ld + c), -INFINITY);
    }
  }
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, (logitnorm_loss_kind)kind, C), LOGITNORM_OK);
  const double tau = 0.04 + (double)(seed % 3) * 0.5, eps = 1e-7;
  if (kind == LOGITNORM_LOSS_LOGITNORM) ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_TEMPERATURE, tau), LOGITNORM_OK);
  size_t elem = z.elem, pbytes = (size_t)n * (size_t)ldp * elem;
  void *z_before = dup_bytes(z.p, (size_t)n * (size_t)ld * elem);
  void *probs = in_place ? z.p : malloc(pbytes + elem);
  if (!in_place) tu_sentinel_fill(probs, pbytes + elem);
  void *p_before = dup_bytes(probs, pbytes + (in_place ? 0 : elem));
  ck_assert_int_eq(c_probs(f64, L, n, z.p, ld, probs, ldp), LOGITNORM_OK);
  const double uT = f64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2, tiny = f64 ? 4 * DBL_TRUE_MIN : 4 * (double)FLT_TRUE_MIN;
  double *p = calloc((size_t)C, sizeof(double));
  typed_buf got = {probs, NULL, 0, elem};
  for (int64_t i = 0; i < n; ++i) {
    double umax = plain_probs(kind, tau, eps, z.d + i * ld, C, p);
    for (int64_t c = 0; c < C; ++c) {
      double pg = tb_get(&got, (size_t)(i * ldp + c));
      if (isinf(z.d[i * ld + c])) {
        if (!(pg == 0.0)) ck_abort_msg("probs[%lld][%lld] of a masked class: %g, want 0", (long long)i, (long long)c, pg);
        continue;
      }
      expect_close(pg, p[c], 16.0 * uT * (umax + 10.0) * p[c] + tiny, "probs", i, c);
    }
  }
  expect_padding(probs, p_before, elem, n, C, ldp, "probs");
  if (!in_place) {
    ck_assert_msg(memcmp((char *)probs + pbytes, (char *)p_before + pbytes, elem) == 0, "probs past the end written");
    ck_assert_msg(memcmp(z.p, z_before, (size_t)n * (size_t)ld * elem) == 0, "logits written");
    free(probs);
  }
  free(p);
  free(p_before);
  free(z_before);
  tb_free(&z);
  logitnorm_loss_free(L);
}

START_TEST(probs_values) {
  int quick = tu_quick();
  const int64_t Cs[] = {1, 2, 3, 7, 8, 16, 49, 5000};
  for (int kind = 0; kind < 2; ++kind)
    for (int k = 0; k < 8; ++k) {
      int64_t C = Cs[k], n = C >= 5000 ? 3 : quick ? 20 : (_i ? 256 : 512);
      for (int variant = 0; variant < 4; ++variant) {
        int masks = variant & 1 ? (int)(C / 3 + 1) : 0, in_place = variant >> 1;
        run_probs(_i, kind, n, C, C + (variant == 1 ? 3 : 0), C + (variant == 0 ? 2 : 0), masks, in_place,
                  kind ? 2.0 : 4.0, (uint64_t)(1000 * kind + 10 * k + variant));
      }
    }
}
END_TEST

/* ---------------- bad input ---------------- */

static char marker[256];

static void plant_marker(void) {
  logitnorm_loss *L = NULL;
  ck_assert_int_ne(logitnorm_loss_create(&L, (logitnorm_loss_kind)99, 3), LOGITNORM_OK);
  snprintf(marker, sizeof marker, "%s", logitnorm_last_error());
  ck_assert(marker[0] != '\0');
}

static void expect_fresh_error(logitnorm_status got, logitnorm_status want, const char *what) {
  ck_assert_msg(got == want, "%s: status %d, want %d (%s)", what, (int)got, (int)want, logitnorm_last_error());
  const char *msg = logitnorm_last_error();
  ck_assert_msg(msg != NULL && msg[0] != '\0' && strcmp(msg, marker) != 0, "%s: no fresh error text", what);
}

/* A fixture of 4 rows, C = 5, with all outputs sentinel-filled and verified after each call. */
typedef struct bfix {
  int f64, kind, soft;
  int64_t n, C;
  typed_buf z, t, g, rl, p;
  int32_t labels[4];
  double stats[4 * RS];
  double lo;
  void *g_before, *rl_before, *p_before;
  double stats_copy[4 * RS];
  logitnorm_loss *L;
} bfix;

static void bfix_init(bfix *f, int f64, int kind, int soft) {
  memset(f, 0, sizeof *f);
  f->f64 = f64;
  f->kind = kind;
  f->soft = soft;
  f->n = 4;
  f->C = 5;
  tu_rng r;
  tu_seed(&r, 9);
  f->z = tb_new(f64, 20);
  f->t = tb_new(f64, 20);
  f->g = tb_new(f64, 20);
  f->rl = tb_new(f64, 4);
  f->p = tb_new(f64, 20);
  for (size_t i = 0; i < 20; ++i) {
    tb_set(&f->z, i, tu_normal(&r));
    tb_set(&f->t, i, 0.2);
  }
  for (int i = 0; i < 4; ++i) f->labels[i] = i;
  ck_assert_int_eq(logitnorm_loss_create(&f->L, (logitnorm_loss_kind)kind, 5), LOGITNORM_OK);
}

static void bfix_stats(bfix *f) {
  scase v = sdefault(f->f64, f->kind, f->soft, f->n, f->C);
  ck_assert_int_eq(c_fwd_stats(&v, f->L, f->z.p, f->labels, f->t.p, NULL, NULL, f->stats), LOGITNORM_OK);
}

static void bfix_arm(bfix *f) {
  size_t e = f->z.elem;
  tu_sentinel_fill(f->g.p, 20 * e);
  tu_sentinel_fill(f->rl.p, 4 * e);
  tu_sentinel_fill(f->p.p, 20 * e);
  f->lo = -12345.0;
  free(f->g_before);
  free(f->rl_before);
  free(f->p_before);
  f->g_before = dup_bytes(f->g.p, 20 * e);
  f->rl_before = dup_bytes(f->rl.p, 4 * e);
  f->p_before = dup_bytes(f->p.p, 20 * e);
  memcpy(f->stats_copy, f->stats, sizeof f->stats);
  plant_marker();
}

static void bfix_untouched(const bfix *f, const char *what) {
  size_t e = f->z.elem;
  ck_assert_msg(memcmp(f->g.p, f->g_before, 20 * e) == 0, "%s: grad written", what);
  ck_assert_msg(memcmp(f->rl.p, f->rl_before, 4 * e) == 0, "%s: row_loss written", what);
  ck_assert_msg(memcmp(f->p.p, f->p_before, 20 * e) == 0, "%s: probs written", what);
  ck_assert_msg(f->lo == -12345.0, "%s: loss_out written", what);
  ck_assert_msg(memcmp(f->stats, f->stats_copy, sizeof f->stats) == 0, "%s: row_stats written", what);
}

static void bfix_free(bfix *f) {
  tb_free(&f->z);
  tb_free(&f->t);
  tb_free(&f->g);
  tb_free(&f->rl);
  tb_free(&f->p);
  free(f->g_before);
  free(f->rl_before);
  free(f->p_before);
  logitnorm_loss_free(f->L);
}

static logitnorm_status b_fwd(bfix *f, double *stats) {
  scase v = sdefault(f->f64, f->kind, f->soft, f->n, f->C);
  return c_fwd_stats(&v, f->L, f->z.p, f->labels, f->t.p, &f->lo, f->rl.p, stats);
}

static logitnorm_status b_bwd(bfix *f, const double *stats) {
  scase v = sdefault(f->f64, f->kind, f->soft, f->n, f->C);
  v.beta = 0.5;
  return c_bwd_stats(&v, f->L, f->z.p, f->labels, f->t.p, stats, NULL, f->g.p, f->C);
}

START_TEST(bad_stats) {
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft) {
      bfix f;
      bfix_init(&f, _i, kind, soft);
      bfix_stats(&f);

      bfix_arm(&f);
      expect_fresh_error(b_fwd(&f, NULL), LOGITNORM_ERR_NULL_POINTER, "forward_stats NULL row_stats");
      bfix_untouched(&f, "forward_stats NULL row_stats");
      bfix_arm(&f);
      expect_fresh_error(b_bwd(&f, NULL), LOGITNORM_ERR_NULL_POINTER, "backward_stats NULL row_stats");
      bfix_untouched(&f, "backward_stats NULL row_stats");

      /* each slot NaN in row 2, CHECK_FINITE on (the default) */
      for (int s = 0; s < RS; ++s) {
        double bad[4 * RS];
        memcpy(bad, f.stats, sizeof bad);
        bad[2 * RS + s] = NAN;
        bfix_arm(&f);
        expect_fresh_error(b_bwd(&f, bad), LOGITNORM_ERR_NONFINITE, "backward_stats NaN stats");
        bfix_untouched(&f, "backward_stats NaN stats");
      }

      /* impossible statistics */
      double vals[4];
      int nv = 0;
      if (kind == LOGITNORM_LOSS_CROSS_ENTROPY) {
        vals[nv++] = 2.0;
        vals[nv++] = 0.5;
      } else {
        vals[nv++] = 0.0;
        vals[nv++] = -0.0;
        vals[nv++] = 1e300;
      }
      for (int k = 0; k < nv + (soft ? 0 : 1); ++k) {
        double bad[4 * RS];
        memcpy(bad, f.stats, sizeof bad);
        if (k < nv)
          bad[1 * RS + 0] = vals[k];
        else
          bad[1 * RS + 2] = -1.0; /* negative slot 2 with hard labels */
        bfix_arm(&f);
        expect_fresh_error(b_bwd(&f, bad), LOGITNORM_ERR_INVALID_ARGUMENT, "backward_stats impossible stats");
        bfix_untouched(&f, "backward_stats impossible stats");
      }
      /* NaN logits with CHECK_FINITE on */
      double z1 = f.z.d[7];
      tb_set(&f.z, 7, NAN);
      bfix_arm(&f);
      expect_fresh_error(b_fwd(&f, f.stats), LOGITNORM_ERR_NONFINITE, "forward_stats NaN logits");
      bfix_untouched(&f, "forward_stats NaN logits");
      bfix_arm(&f);
      expect_fresh_error(b_bwd(&f, f.stats), LOGITNORM_ERR_NONFINITE, "backward_stats NaN logits");
      bfix_untouched(&f, "backward_stats NaN logits");
      bfix_arm(&f);
      expect_fresh_error(c_probs(_i, f.L, 4, f.z.p, 5, f.p.p, 5), LOGITNORM_ERR_NONFINITE, "probs NaN logits");
      bfix_untouched(&f, "probs NaN logits");
      tb_set(&f.z, 7, z1);

      /* n = 0 with NULL pointers */
      scase v0 = sdefault(_i, kind, soft, 0, 5);
      ck_assert_int_eq(c_fwd_stats(&v0, f.L, NULL, NULL, NULL, NULL, NULL, NULL), LOGITNORM_OK);
      ck_assert_int_eq(c_bwd_stats(&v0, f.L, NULL, NULL, NULL, NULL, NULL, NULL, 5), LOGITNORM_OK);
      ck_assert_int_eq(c_probs(_i, f.L, 0, NULL, 5, NULL, 5), LOGITNORM_OK);
      bfix_free(&f);
    }
}
END_TEST

START_TEST(bad_probs) {
  for (int kind = 0; kind < 2; ++kind) {
    bfix f;
    bfix_init(&f, _i, kind, 0);
    /* row 2 entirely masked */
    double saved[5];
    for (int c = 0; c < 5; ++c) {
      saved[c] = f.z.d[10 + c];
      tb_set(&f.z, (size_t)(10 + c), -INFINITY);
    }
    bfix_arm(&f);
    expect_fresh_error(c_probs(_i, f.L, 4, f.z.p, 5, f.p.p, 5), LOGITNORM_ERR_INVALID_ARGUMENT, "probs all masked");
    bfix_untouched(&f, "probs all masked");
    for (int c = 0; c < 5; ++c) tb_set(&f.z, (size_t)(10 + c), saved[c]);

    /* probs overlapping logits with another leading dimension: two rows of ld 5 inside a
       buffer of 6-wide rows */
    typed_buf big = tb_new(_i, 24);
    for (size_t i = 0; i < 24; ++i) tb_set(&big, i, 0.1 * (double)i);
    void *big_before = dup_bytes(big.p, 24 * big.elem);
    plant_marker();
    logitnorm_status st = c_probs(_i, f.L, 4, big.p, 6, (char *)big.p + big.elem, 5);
    ck_assert_msg(st == LOGITNORM_ERR_INVALID_ARGUMENT, "probs overlapping: status %d", (int)st);
    ck_assert(logitnorm_last_error()[0] != '\0' && strcmp(logitnorm_last_error(), marker) != 0);
    plant_marker();
    st = c_probs(_i, f.L, 4, big.p, 6, big.p, 5);
    ck_assert_msg(st == LOGITNORM_ERR_INVALID_ARGUMENT, "probs == logits with ldp != ld: status %d", (int)st);
    ck_assert(logitnorm_last_error()[0] != '\0' && strcmp(logitnorm_last_error(), marker) != 0);
    ck_assert_msg(memcmp(big.p, big_before, 24 * big.elem) == 0, "overlapping probs wrote");
    free(big_before);
    tb_free(&big);

    /* NULL probs with n > 0 */
    bfix_arm(&f);
    expect_fresh_error(c_probs(_i, f.L, 4, f.z.p, 5, NULL, 5), LOGITNORM_ERR_NULL_POINTER, "probs NULL");
    bfix_untouched(&f, "probs NULL");
    bfix_free(&f);
  }
}
END_TEST

/* CHECK_FINITE = 0: a NaN in row 1 makes that row's gradient NaN in every column, through the
   statistics forward_stats saved for it; the other rows match the plain backward. */
START_TEST(nan_row_unchecked) {
  for (int kind = 0; kind < 2; ++kind)
    for (int soft = 0; soft < 2; ++soft)
      for (int col = 0; col < 5; col += 2) {
        bfix f;
        bfix_init(&f, _i, kind, soft);
        ck_assert_int_eq(logitnorm_loss_set(f.L, LOGITNORM_LOSS_CHECK_FINITE, 0), LOGITNORM_OK);
        tb_set(&f.z, (size_t)(5 + col), NAN);
        bfix_stats(&f);
        scase v = sdefault(_i, kind, soft, 4, 5);
        for (size_t i = 0; i < 20; ++i) tb_set(&f.g, i, 0.0);
        ck_assert_int_eq(c_bwd_stats(&v, f.L, f.z.p, f.labels, f.t.p, f.stats, NULL, f.g.p, 5), LOGITNORM_OK);
        for (int c = 0; c < 5; ++c)
          ck_assert_msg(isnan(tb_get(&f.g, (size_t)(5 + c))), "kind %d soft %d: grad[1][%d] = %g, want NaN", kind,
                        soft, c, tb_get(&f.g, (size_t)(5 + c)));
        for (int i = 0; i < 4; ++i)
          if (i != 1)
            for (int c = 0; c < 5; ++c) ck_assert(isfinite(tb_get(&f.g, (size_t)(i * 5 + c))));
        bfix_free(&f);
      }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("loss_stats");
  TCase *tc = tcase_create("values");
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, stats_random_shapes, 0, 2);
  tcase_add_loop_test(tc, stats_grid, 0, 2);
  tcase_add_loop_test(tc, stats_sizes, 0, 2);
  tcase_add_test(tc, stats_subnormal_scale);
  tcase_add_loop_test(tc, probs_values, 0, 2);
  suite_add_tcase(s, tc);
  TCase *bad = tcase_create("bad_input");
  tcase_add_loop_test(bad, bad_stats, 0, 2);
  tcase_add_loop_test(bad, bad_probs, 0, 2);
  tcase_add_loop_test(bad, nan_row_unchecked, 0, 2);
  suite_add_tcase(s, bad);
  return s;
}

int main(void) { return tu_run_suite(suite()); }
