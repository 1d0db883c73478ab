/* Independent double-precision reference of the loss kernels, written straight from the
   formulas (PyTorch's cross_entropy applied to u = z / (tau (||z|| + eps)) for LogitNorm,
   u = z for plain cross-entropy). It shares no code with the library and never calls it.

   One row with C classes, logits z, normalised logits u and p = softmax(u) has the loss
     l = -sum_c q_c log p_c
   where q is the row's target-weight vector:
     hard label y:   q_c = (1 - e) w_y [c = y] + (e / C) w_c      (q = 0 for an ignored row)
     targets t:      q_c = w_c ((1 - e) t_c + e / C)
   with class weights w (all 1 when unset) and label smoothing e. Then
     dl/du_j = Q p_j - q_j,   Q = sum_c q_c
     du_j/dz_k = [j = k] / (tau n) - z_j z_k / (tau n^2 ||z||),   n = ||z|| + eps  (LogitNorm)
   so dl/dz = g / (tau n) - (g.z) z / (tau n^2 ||z||) with g = dl/du (second term 0 when z = 0). */
#ifndef LN_TEST_LOSS_REF_H
#define LN_TEST_LOSS_REF_H

#include <stdint.h>

typedef struct lr_config {
  int kind;               /* 0 = cross-entropy, 1 = LogitNorm (the public enum values) */
  int64_t num_classes;
  double tau;             /* LogitNorm temperature */
  double eps;             /* added to ||z|| */
  double smoothing;       /* label smoothing e */
  int reduction;          /* 0 = MEAN, 1 = SUM, 2 = NONE (the public enum values) */
  int64_t ignore_index;
  const double *weights;  /* num_classes class weights, or NULL for all ones */
} lr_config;

/* The library's documented defaults: tau 0.04, eps 1e-7, no smoothing, MEAN, ignore -100. */
void lr_config_init(lr_config *cfg, int kind, int64_t num_classes);

/* ||z||_2, scaled by max |z| so that neither overflow nor underflow can happen. */
double lr_norm(const double *z, int64_t C);
/* u = z / (tau (||z|| + eps)) for LogitNorm, u = z for cross-entropy. */
void lr_normalise(const lr_config *cfg, const double *z, double *u);
/* log p = u - max(u) - log sum exp(u - max(u)). */
void lr_log_softmax(const double *u, int64_t C, double *logp);

/* q for a hard label (all 0 when y is the ignore index); returns 0 when ignored, 1 otherwise. */
int lr_targets_hard(const lr_config *cfg, int64_t y, double *q);
/* q for a row of probability targets t. */
void lr_targets_soft(const lr_config *cfg, const double *t, double *q);

/* l = -sum q_c log p_c(u(z)). */
double lr_row_loss(const lr_config *cfg, const double *z, const double *q);
/* dl/dz of the row (C values). */
void lr_row_grad(const lr_config *cfg, const double *z, const double *q, double *grad);

/* Natural size of one row's numbers, for tolerances: Q = sum q, the factor k = du/dz
   (1 for cross-entropy, 1/(tau (||z|| + eps)) for LogitNorm) and max |u|. */
typedef struct lr_row_scale {
  double Q, k, umax;
} lr_row_scale;
lr_row_scale lr_row_size(const lr_config *cfg, const double *z, const double *q);

/* The MEAN divisor for hard labels: sum of w_y over rows whose label is not ignored. */
double lr_mean_divisor_hard(const lr_config *cfg, int64_t n, const int32_t *labels);

/* A whole batch. Returns the reduced loss (MEAN: sum / divisor, where the divisor is
   lr_mean_divisor_hard or n for targets; SUM and NONE: the plain sum). row_loss (n values)
   and grad (n x C, leading dimension C: d(reduced loss)/dz) may be NULL. */
double lr_batch_hard(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const int32_t *labels,
                     double *row_loss, double *grad);
double lr_batch_soft(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const double *t, int64_t ldt,
                     double *row_loss, double *grad);

/* Central finite differences of f at x (m values):
   g_j = (f(x + h_j e_j) - f(x - h_j e_j)) / (2 h_j),  h_j = h_rel * max(1, |x_j|).
   x is perturbed in place and restored exactly. */
typedef double (*lr_scalar_fn)(void *ctx, const double *x);
void lr_fd_gradient(lr_scalar_fn f, void *ctx, double *x, int64_t m, double h_rel, double *g);

/* ---- masks ----
   A -inf logit is a masked class. The masked reference literally removes those columns:
   it builds the reduced row (the C' unmasked logits, their class weights, their targets and
   the label's position among them), runs the reference above on it with num_classes = C'
   (so label smoothing spreads e / C' over the unmasked classes, and LogitNorm's norm and
   softmax see only them), and scatters the gradient back with 0 at masked columns. The MEAN
   divisor is unchanged: the sum of w_y over non-ignored rows (hard labels), n (targets). */

/* One row with its masked columns removed. */
typedef struct lr_reduced {
  lr_config cfg;   /* the caller's config with num_classes = C', the reduced weights and
                      ignore_index -1 (the row's own ignore test is `ignored`) */
  int64_t *cols;   /* the C' unmasked columns, in order */
  double *z;       /* their logits */
  double *w;       /* their class weights (NULL when the config has none) */
  double *t;       /* their targets (NULL for hard labels) */
  int64_t y;       /* the label's index among them; -1 for targets or an ignored row */
  int ignored;     /* hard label equal to the ignore index */
  int valid;       /* 0 when the row is bad input: label or target mass on a masked class,
                      or every class masked in a row that is not ignored */
} lr_reduced;

/* Reduces row z (C = cfg->num_classes values) for hard label y (t == NULL) or targets t. */
void lr_reduce_row(const lr_config *cfg, const double *z, int64_t y, const double *t, lr_reduced *r);
void lr_reduced_free(lr_reduced *r);

/* q of a reduced row (C' values; all 0 for an ignored row). */
void lr_reduced_targets(const lr_reduced *r, double *q);

/* The masked batch: as lr_batch_hard / lr_batch_soft, with -inf logits as masks. A row that
   is bad input gets NaN loss and gradient; an ignored row gets 0 even when it is all -inf. */
double lr_batch_hard_masked(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const int32_t *labels,
                            double *row_loss, double *grad);
double lr_batch_soft_masked(const lr_config *cfg, int64_t n, const double *z, int64_t ld, const double *t,
                            int64_t ldt, double *row_loss, double *grad);

#endif
