/* Plain double-precision reference implementations of the OOD scores, written from the
   formulas in docs/scores.md without sharing code or tricks with the library: full sorts
   instead of selection, explicit matrix inverses and power iteration instead of
   factorisations. Matrices are row-major doubles with leading dimension = columns. */
#ifndef LN_SCORE_REF_H
#define LN_SCORE_REF_H

#include <stddef.h>
#include <stdint.h>

/* Deterministic generator for the scorer suites. */
typedef struct sr_rng {
  uint64_t s;
} sr_rng;
void sr_seed(sr_rng *r, uint64_t seed);
double sr_uniform(sr_rng *r);  /* [0, 1) */
double sr_normal(sr_rng *r);   /* N(0, 1) */

/* Sentinel bytes for "nothing was written" checks. */
void sr_sentinel_fill(void *p, size_t bytes);
int sr_sentinel_intact(const void *p, size_t bytes);

/* logit scores of one row of c logits */
double sr_softmax(const double *z, int c, double t, double *p); /* p = softmax(z / t); returns logsumexp(z / t) */
double sr_msp(const double *z, int c, double t);
double sr_max_logit(const double *z, int c);
double sr_energy(const double *z, int c, double t);
double sr_neg_entropy(const double *z, int c);
double sr_gen(const double *z, int c, double gamma, int m);
double sr_max_cosine(const double *z, int c);

/* Masks (DESIGN.md, Version 1.1): a -inf logit is a masked class, and a row's result is that of
   the row with the masked columns removed. sr_drop_masked writes the u unmasked values of z to
   kept, in order, and their column numbers to cols (if non-NULL); returns u. */
int sr_drop_masked(const double *z, int c, double *kept, int *cols);

/* Calibration of softmax(z / T) under the mask rule, built literally: each row without its
   masked columns (label renumbered to its place among the kept ones), its softmax in double,
   then `bins` equal-width bins (lo, hi] with confidence 0 in the first. */
typedef struct sr_calibration {
  double ece, mce, accuracy, nll, brier;
} sr_calibration;
void sr_calibrate_masked(int64_t n, int c, const float *logits, int64_t ld, const int32_t *labels, double t,
                         int bins, sr_calibration *out);

/* numpy-style linear-interpolation percentile of n values (sorted copy). */
double sr_percentile(const double *v, int64_t n, double pct);

/* KL matching: fit rows (n x c logits, labels or NULL for argmax), query row z. */
double sr_klm(const double *fit, const int *labels, int n, int c, const double *z);

/* Mahalanobis / RMDS with ridge r * trace / d, fit rows h (n x d) with labels. */
double sr_mahalanobis(const double *h, const int *labels, int n, int c, int d, double ridge, const double *x,
                      int relative);
/* Inverse of a d x d matrix by Gauss-Jordan with partial pivoting (d <= 64). */
void sr_inverse(const double *a, int d, double *inv);

/* KNN: -(distance from x/|x| to its k-th nearest normalised fit row), by a full sort. */
double sr_knn(const double *h, int n, int d, const double *x, int k);

/* head logits z = W x + b (b may be NULL) */
void sr_head(const double *w, const double *b, int c, int d, const double *x, double *z);
/* ViM with `kept` principal dimensions. */
double sr_vim(const double *w, const double *b, int c, int d, const double *fit, int n, int kept, const double *x);
/* GradNorm from the explicit gradient matrix (C p - 1) x^T. */
double sr_gradnorm(const double *w, const double *b, int c, int d, const double *x);
/* ReAct with a clip value; ASH variant 0 S, 1 P, 2 B at percentile p; DICE from the fit mean. */
double sr_react(const double *w, const double *b, int c, int d, const double *x, double clip, double t);
double sr_ash(const double *w, const double *b, int c, int d, const double *x, double pct, int variant, double t);
double sr_dice(const double *w, const double *b, int c, int d, const double *fit, int n, double pct,
               const double *x, double t);

/* The scorers from OpenOOD v1.5's leaders (docs/scores.md), plainly from their formulas.
   NNGuide: bank rows g_i = E(h_i) h_i / |h_i| (E = logsumexp of the head at T = 1, a zero row
   stays zero); score E(x) * mean of the k largest g_i . x / |x|, by a full sort. */
double sr_nnguide(const double *w, const double *b, int c, int d, const double *fit, int n, const double *x, int k);
/* fDBD: a = the first index of max z; (1 / (c - 1)) sum_{j != a} |z_a - z_j| / |w_a - w_j|, over
   |x - mean of the fit rows|. */
double sr_fdbd(const double *w, const double *b, int c, int d, const double *fit, int n, const double *x);
/* fDBD with the argmax forced to class a (for tie tests). */
double sr_fdbd_at(const double *w, const double *b, int c, int d, const double *mean, const double *x, int a);
/* SCALE at percentile pct: r = sum x / sum of the k = d - round(d pct / 100) largest (by a full
   sort; r = 0 when that sum is 0, clamped to [-80, 80]); energy at t of W (x e^r) + b. */
double sr_scale(const double *w, const double *b, int c, int d, const double *x, double pct, double t);
/* DML: max_j x . w_j / (|x| |w_j|) (0 for a zero vector) + lambda |x|. */
double sr_dml(const double *w, int c, int d, const double *x, double lambda);

#endif
