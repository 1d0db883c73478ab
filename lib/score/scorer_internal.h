/* The scorer handle and the per-family entry points behind logitnorm_scorer_*. */
#ifndef LN_SCORE_SCORER_INTERNAL_H
#define LN_SCORE_SCORER_INTERNAL_H

#include <stdint.h>

#include "common/blas.h"
#include "logitnorm.h"

/* Rows per block when a call works through scratch buffers (bounds scratch memory); KNN and
   NNGUIDE take blocks of LN_SCORE_QUERY_BLOCK query rows. A half score call widens its rows in
   blocks of the same sizes (score_entry.c), so that every GEMM sees the shapes it sees in the
   _f32 call. */
#define LN_SCORE_BLOCK 256
#define LN_SCORE_QUERY_BLOCK 512

struct logitnorm_scorer {
  int kind; /* logitnorm_score_kind */
  int64_t num_classes, feature_dim;
  /* parameters (logitnorm_scorer_param) */
  double temperature, gamma, percentile, clip, ridge, lambda;
  int64_t top_m, k, vim_dim;
  int ash_variant, threads;
  int prepared;  /* fitting kinds: 0 while fitting, 1 after prepare */
  ln_blas *blas; /* the handle's own BLIS runtime (thread count) */

  /* head: W is C x D (ld D), bias C values (zeros when none was given) */
  float *weight, *bias;
  int has_head, has_bias;
  /* derived from the head whenever it is set (set_head, load), never saved:
     FDBD: C x C, ||w_i - w_j|| (diagonal 0); DML: C x D, w_j / ||w_j|| (a zero row stays zero) */
  float *head_aux;

  /* fit accumulators */
  int64_t fit_n;     /* samples fitted */
  int64_t *class_n;  /* C: samples per class (KL_MATCHING, MAHALANOBIS, RMDS) */
  double *class_sum; /* C x C softmax sums (KL_MATCHING) or C x D feature sums (MAHALANOBIS, RMDS) */
  double *shift;     /* D: the first fitted row; moments are taken about it to avoid cancellation */
  double *feat_sum;  /* D: sum of (h - shift) (MAHALANOBIS, RMDS); sum of h (DICE) */
  double *scatter;   /* D x D: sum of (h - shift)(h - shift)^T (MAHALANOBIS, RMDS) */
  float *bank;       /* bank_n x D rows: normalised (KNN), raw fit features (VIM, REACT, NNGUIDE before
                        prepare), or normalised times their energy (NNGUIDE after prepare) */
  int64_t bank_n, bank_cap;

  /* prepared state */
  int64_t n_templates; /* KL_MATCHING: templates kept; MAHALANOBIS/RMDS: classes with data */
  double *templates;   /* KL_MATCHING: n_templates x C log-templates; MAHA/RMDS: n_templates x D means in
                          whitened coordinates A (mu_c - g) */
  float *center;       /* D: g, the global fit mean (MAHA/RMDS); u = -pinv(W) b (VIM) */
  float *whiten;       /* D x D: A = L^{-1} for Sigma = L L^T (MAHA/RMDS) */
  float *whiten_bg;    /* D x D: A0 for the background covariance (RMDS) */
  float *bank_sq;      /* KNN: squared norm of each bank row (1 or 0), derived, not saved */
  int64_t vim_rest;    /* VIM: D - kept principal dimensions */
  float *vim_basis;    /* VIM: D x vim_rest basis of the residual space */
  double vim_alpha;    /* VIM: mean max-logit / mean residual norm over the fit set */
  double react_clip;   /* REACT: clip value from the fit percentile */
  float *dice_weight;  /* DICE: C x D masked head */
  double *fit_mean;    /* FDBD: D, the mean fit feature */
};

/* Kind properties. */
int ln_kind_valid(int kind);
int ln_kind_logit_only(int kind);  /* MSP .. MAX_COSINE */
int ln_kind_fits(int kind);        /* needs fit_f32 + prepare */
int ln_kind_needs_features(int kind);
int ln_kind_needs_head(int kind);

/* Parameter validation shared by set and load. */
logitnorm_status ln_scorer_check_param(const logitnorm_scorer *s, int param, double value);
void ln_scorer_store_param(logitnorm_scorer *s, int param, double value);
/* Creates a handle with default parameters (no validation). */
logitnorm_status ln_scorer_new(logitnorm_scorer **out, int kind, int64_t num_classes, int64_t feature_dim);

/* Logit scores: row score and gradient in double. grad may be NULL. z has C entries. */
double ln_logit_score(const logitnorm_scorer *s, const float *z, double *grad, double *work);
/* T * logsumexp(z / T) over C doubles, shifted by the maximum. */
double ln_energy(const double *z, int64_t c, double t);
/* The same with the AVX2 vector exp (energy_avx2.c; within a few ulp of ln_energy). Only in
   builds with the AVX2 kernels (LN_HAVE_AVX2), and only called when ln_use_avx2(). */
double ln_energy_avx2(const double *z, int64_t c, double t);
/* Percentile (linear interpolation, as numpy's default) of n values; reorders v. */
double ln_percentile_f32(float *v, int64_t n, double pct);
/* The value of rank r in descending order (0 = the largest) of n values; reorders v. */
float ln_kth_largest_f32(float *v, int64_t n, int64_t r);

/* Rows to score, as floats: rows [0, n) of `rows` (leading dimension ld) are rows
   [first, first + n) of the call, as messages number them; their scores go to out[0..n). */
typedef struct ln_score_block {
  int64_t n, first;
  const float *rows; /* features, or logits for KL_MATCHING */
  int64_t ld;
  float *out;
} ln_score_block;

/* Fit (validated arguments), prepare and score of each family. */
logitnorm_status ln_klm_fit(logitnorm_scorer *s, int64_t n, const float *logits, int64_t ld, const int32_t *labels);
logitnorm_status ln_klm_prepare(logitnorm_scorer *s);
logitnorm_status ln_klm_score(const logitnorm_scorer *s, const ln_score_block *b);

logitnorm_status ln_maha_fit(logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf, const int32_t *labels);
logitnorm_status ln_maha_prepare(logitnorm_scorer *s);
logitnorm_status ln_maha_score(const logitnorm_scorer *s, const ln_score_block *b);

void ln_knn_norms(const logitnorm_scorer *s, float *sq);
logitnorm_status ln_knn_prepare(logitnorm_scorer *s);
logitnorm_status ln_knn_score(const logitnorm_scorer *s, const ln_score_block *b);

/* Kept principal dimensions of ViM for this handle (VIM_DIM or min(256, D/2)). */
int64_t ln_vim_kept(const logitnorm_scorer *s);
logitnorm_status ln_vim_prepare(logitnorm_scorer *s);
logitnorm_status ln_vim_score(const logitnorm_scorer *s, const ln_score_block *b);

/* NNGUIDE (nnguide.c): the bank is filled by ln_bank_append (raw rows) and scaled at prepare. */
logitnorm_status ln_nnguide_prepare(logitnorm_scorer *s);
logitnorm_status ln_nnguide_score(const logitnorm_scorer *s, const ln_score_block *b);

/* FDBD (fdbd.c). ln_fdbd_pairs writes the C x C head distances of the C x D head w to a new
   array (*out), or fails (INVALID_ARGUMENT for two equal rows, OUT_OF_MEMORY) leaving *out alone. */
logitnorm_status ln_fdbd_pairs(const logitnorm_scorer *s, const float *w, float **out);
logitnorm_status ln_fdbd_prepare(logitnorm_scorer *s);
logitnorm_status ln_fdbd_score(const logitnorm_scorer *s, const ln_score_block *b);

/* SCALE (scale.c) and DML (dml.c). ln_dml_units writes the unit rows of the C x D head w to a
   new array (*out); OUT_OF_MEMORY leaves *out alone. */
logitnorm_status ln_scale_score(const logitnorm_scorer *s, const ln_score_block *b);
logitnorm_status ln_dml_units(const logitnorm_scorer *s, const float *w, float **out);
logitnorm_status ln_dml_score(const logitnorm_scorer *s, const ln_score_block *b);

/* What a kind derives from a new head w (C x D), into a new array: FDBD's distances, DML's unit
   rows; *out = NULL for the other kinds. Fails without touching *out. */
logitnorm_status ln_head_derive(const logitnorm_scorer *s, const float *w, float **out);

logitnorm_status ln_head_fit(logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf);
logitnorm_status ln_head_prepare(logitnorm_scorer *s);
logitnorm_status ln_head_score(const logitnorm_scorer *s, const ln_score_block *b);

#endif
