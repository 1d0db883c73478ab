/* Plain double-precision reference of the loss (see loss_ref.h for the formulas). Written
   for clarity, not speed: every row builds u, log p and q explicitly. */
#include "loss_ref.h"

#include <math.h>
#include <stdlib.h>

void lr_config_init(lr_config *cfg, int kind, int64_t num_classes) {
  cfg->kind = kind;
  cfg->num_classes = num_classes;
  cfg->tau = 0.04;
  cfg->eps = 1e-7;
  cfg->smoothing = 0.0;
  cfg->reduction = 0;
  cfg->ignore_index = -100;
  cfg->weights = NULL;
}

static double lr_weight(const lr_config *cfg, int64_t c) { return cfg->weights ? cfg->weights[c] : 1.0; }

static double *lr_scratch(int64_t C) {
  double *p = malloc((size_t)C * sizeof *p);
  if (p == NULL) abort();
  return p;
}

double lr_norm(const double *z, int64_t C) {
  double amax = 0.0;
  for (int64_t c = 0; c < C; ++c)
    if (fabs(z[c]) > amax) amax = fabs(z[c]);
  if (amax == 0.0) return 0.0;
  double ss = 0.0;
  for (int64_t c = 0; c < C; ++c) ss += (z[c] / amax) * (z[c] / amax);
  return amax * sqrt(ss);
}

void lr_normalise(const lr_config *cfg, const double *z, double *u) {
  int64_t C = cfg->num_classes;
  if (cfg->kind == 0) {
    for (int64_t c = 0; c < C; ++c) u[c] = z[c];
    return;
  }
  double denom = cfg->tau * (lr_norm(z, C) + cfg->eps);
  for (int64_t c = 0; c < C; ++c) u[c] = z[c] / denom;
}

void lr_log_softmax(const double *u, int64_t C, double *logp) {
  double m = u[0];
  for (int64_t c = 1; c < C; ++c)
    if (u[c] > m) m = u[c];
  double s = 0.0;
  for (int64_t c = 0; c < C; ++c) s += exp(u[c] - m);
  double log_s = log(s);
  for (int64_t c = 0; c < C; ++c) logp[c] = (u[c] - m) - log_s;
}

int lr_targets_hard(const lr_config *cfg, int64_t y, double *q) {
  int64_t C = cfg->num_classes;
  for (int64_t c = 0; c < C; ++c) q[c] = 0.0;
  if (y == cfg->ignore_index) return 0;
  double e = cfg->smoothing;
  for (int64_t c = 0; c < C; ++c) q[c] = (e / (double)C) * lr_weight(cfg, c);
  q[y] += (1.0 - e) * lr_weight(cfg, y);
  return 1;
}

void lr_targets_soft(const lr_config *cfg, const double *t, double *q) {
  int64_t C = cfg->num_classes;
  double e = cfg->smoothing;
  for (int64_t c = 0; c < C; ++c) q[c] = lr_weight(cfg, c) * ((1.0 - e) * t[c] + e / (double)C);
}

double lr_row_loss(const lr_config *cfg, const double *z, const double *q) {
  int64_t C = cfg->num_classes;
  double *u = lr_scratch(C), *logp = lr_scratch(C);
  lr_normalise(cfg, z, u);
  lr_log_softmax(u, C, logp);
  double l = 0.0;
  for (int64_t c = 0; c < C; ++c)
    if (q[c] != 0.0) l -= q[c] * logp[c];
  free(u);
  free(logp);
  return l;
}

void lr_row_grad(const lr_config *cfg, const double *z, const double *q, double *grad) {
  int64_t C = cfg->num_classes;
  double *u = lr_scratch(C), *logp = lr_scratch(C), *g = lr_scratch(C);
  lr_normalise(cfg, z, u);
  lr_log_softmax(u, C, logp);
  /* g = dl/du = Q p - q */
  double Q = 0.0;
  for (int64_t c = 0; c < C; ++c) Q += q[c];
  for (int64_t c = 0; c < C; ++c) g[c] = Q * exp(logp[c]) - q[c];
  if (cfg->kind == 0) {
    for (int64_t c = 0; c < C; ++c) grad[c] = g[c];
  } else {
    /* dl/dz = g / (tau n) - (g.z) z / (tau n^2 ||z||),  n = ||z|| + eps */
    double norm = lr_norm(z, C), n = norm + cfg->eps, tau = cfg->tau;
    double gz = 0.0;
    for (int64_t c = 0; c < C; ++c) gz += g[c] * z[c];
    for (int64_t c = 0; c < C; ++c) {
      /* grouped as (g.z / n) (z_c / ||z||) / (tau n) so that n^2 cannot overflow */
      double second = norm > 0.0 ? (gz / n) * (z[c] / norm) / (tau * n) : 0.0;
      grad[c] = g[c] / (tau * n) - second;
    }
  }
  free(u);
  free(logp);
  free(g);
}

lr_row_scale lr_row_size(const lr_config *cfg, const double *z, const double *q) {
  int64_t C = cfg->num_classes;
  double *u = lr_scratch(C);
  lr_normalise(cfg, z, u);
  lr_row_scale s = {0.0, 1.0, 0.0};
  for (int64_t c = 0; c < C; ++c) {
    s.Q += fabs(q[c]);
    if (fabs(u[c]) > s.umax) s.umax = fabs(u[c]);
  }
  if (cfg->kind != 0) s.k = 1.0 / (cfg->tau * (lr_norm(z, C) + cfg->eps));
  free(u);
  return s;
}

double lr_mean_divisor_hard(const lr_config *cfg, int64_t n, const int32_t *labels) {
  double d = 0.0;
  for (int64_t i = 0; i < n; ++i)
    if (labels[i] != cfg->ignore_index) d += lr_weight(cfg, labels[i]);
  return d;
}

/* Shared batch loop: q_of fills row i's q. */
static double lr_batch(const lr_config *cfg, int64_t n, const double *z, int64_t ld, double divisor,
                       int (*q_of)(const lr_config *, const void *, int64_t, double *), const void *qctx,
                       double *row_loss, double *grad) {
  int64_t C = cfg->num_classes;
  int mean = cfg->reduction == 0;
  double *q = lr_scratch(C);
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    int active = q_of(cfg, qctx, i, q);
    double l = active ? lr_row_loss(cfg, z + i * ld, q) : 0.0;
    total += l;
    if (row_loss) row_loss[i] = l;
    if (grad) {
      /* an ignored row's gradient is 0, whatever the divisor (even 0 when all are ignored) */
      double *g = grad + i * C;
      for (int64_t c = 0; c < C; ++c) g[c] = 0.0;
      if (active) lr_row_grad(cfg, z + i * ld, q, g);
      if (active && mean)
        for (int64_t c = 0; c < C; ++c) g[c] /= divisor;
    }
  }
  free(q);
  return mean ? total / divisor : total;
}

static int lr_q_hard(const lr_config *cfg, const void *ctx, int64_t i, double *q) {
  const int32_t *labels = ctx;
  return lr_targets_hard(cfg, labels[i], q);
}

typedef struct lr_soft_ctx {
  const double *t;
  int64_t ldt;
} lr_soft_ctx;

static int lr_q_soft(const lr_config *cfg, const void *ctx, int64_t i, double *q) {
  const lr_soft_ctx *s = ctx;
  lr_targets_soft(cfg, s->t + i * s->ldt, q);
  return 1;
}

double lr_batch_hard(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const int32_t *labels,
                     double *row_loss, double *grad) {
  double divisor = lr_mean_divisor_hard(cfg, n, labels);
  return lr_batch(cfg, n, z, ld, divisor, lr_q_hard, labels, row_loss, grad);
}

double lr_batch_soft(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const double *t, int64_t ldt,
                     double *row_loss, double *grad) {
  lr_soft_ctx s = {t, ldt};
  return lr_batch(cfg, n, z, ld, (double)n, lr_q_soft, &s, row_loss, grad);
}

void lr_fd_gradient(lr_scalar_fn f, void *ctx, double *x, int64_t m, double h_rel, double *g) {
  for (int64_t j = 0; j < m; ++j) {
    double x0 = x[j];
    double h = h_rel * (fabs(x0) > 1.0 ? fabs(x0) : 1.0);
    volatile double xp = x0 + h, xm = x0 - h; /* the steps actually taken, after rounding */
    x[j] = xp;
    double fp = f(ctx, x);
    x[j] = xm;
    double fm = f(ctx, x);
    x[j] = x0;
    g[j] = (fp - fm) / (xp - xm);
  }
}

/* ---- masks: the reference above on the row with its -inf columns removed ---- */

void lr_reduce_row(const lr_config *cfg, const double *z, int64_t y, const double *t, lr_reduced *r) {
  int64_t C = cfg->num_classes;
  r->cols = malloc((size_t)C * sizeof *r->cols);
  r->z = lr_scratch(C);
  r->w = cfg->weights ? lr_scratch(C) : NULL;
  r->t = t ? lr_scratch(C) : NULL;
  if (r->cols == NULL) abort();
  r->ignored = t == NULL && y == cfg->ignore_index;
  r->valid = 1;
  r->y = -1;
  int64_t k = 0;
  for (int64_t c = 0; c < C; ++c) {
    if (z[c] == -INFINITY) {
      if (!r->ignored && ((t == NULL && c == y) || (t != NULL && t[c] != 0.0))) r->valid = 0;
      continue;
    }
    if (t == NULL && c == y) r->y = k;
    r->cols[k] = c;
    r->z[k] = z[c];
    if (r->w) r->w[k] = cfg->weights[c];
    if (r->t) r->t[k] = t[c];
    ++k;
  }
  if (k == 0 && !r->ignored) r->valid = 0;
  r->cfg = *cfg;
  r->cfg.num_classes = k;
  r->cfg.weights = r->w;
  /* the ignore index names a class of the full row; no reduced label may match it */
  r->cfg.ignore_index = -1;
}

void lr_reduced_free(lr_reduced *r) {
  free(r->cols);
  free(r->z);
  free(r->w);
  free(r->t);
}

void lr_reduced_targets(const lr_reduced *r, double *q) {
  if (r->t) {
    lr_targets_soft(&r->cfg, r->t, q);
  } else if (r->ignored) {
    for (int64_t c = 0; c < r->cfg.num_classes; ++c) q[c] = 0.0;
  } else {
    lr_targets_hard(&r->cfg, r->y, q);
  }
}

/* Row i of a masked batch: loss, and (when g is set) the gradient scattered into the full
   row g (C values) before any MEAN division. */
static double lr_masked_row(const lr_config *cfg, const double *z, int64_t y, const double *t, double *g) {
  int64_t C = cfg->num_classes;
  lr_reduced r;
  lr_reduce_row(cfg, z, y, t, &r);
  double l = 0.0;
  if (g)
    for (int64_t c = 0; c < C; ++c) g[c] = 0.0;
  if (!r.valid) {
    l = NAN;
    if (g)
      for (int64_t c = 0; c < C; ++c) g[c] = NAN;
  } else if (!r.ignored) {
    int64_t k = r.cfg.num_classes;
    double *q = lr_scratch(k), *gr = lr_scratch(k);
    lr_reduced_targets(&r, q);
    l = lr_row_loss(&r.cfg, r.z, q);
    if (g) {
      lr_row_grad(&r.cfg, r.z, q, gr);
      for (int64_t j = 0; j < k; ++j) g[r.cols[j]] = gr[j];
    }
    free(q);
    free(gr);
  }
  lr_reduced_free(&r);
  return l;
}

static double lr_batch_masked(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const int32_t *labels,
                              const double *t, int64_t ldt, double divisor, double *row_loss, double *grad) {
  int64_t C = cfg->num_classes;
  int mean = cfg->reduction == 0;
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double *g = grad ? grad + i * C : NULL;
    double l = lr_masked_row(cfg, z + i * ld, labels ? labels[i] : -1, t ? t + i * ldt : NULL, g);
    total += l;
    if (row_loss) row_loss[i] = l;
    if (g && mean)
      for (int64_t c = 0; c < C; ++c) g[c] /= divisor;
  }
  return mean ? total / divisor : total;
}

double lr_batch_hard_masked(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const int32_t *labels,
                            double *row_loss, double *grad) {
  return lr_batch_masked(cfg, n, z, ld, labels, NULL, 0, lr_mean_divisor_hard(cfg, n, labels), row_loss, grad);
}

double lr_batch_soft_masked(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const double *t,
                            int64_t ldt, double *row_loss, double *grad) {
  return lr_batch_masked(cfg, n, z, ld, NULL, t, ldt, (double)n, row_loss, grad);
}
