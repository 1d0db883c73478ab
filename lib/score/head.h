/* What the feature families share: the head logits z = h W^T + b, the bank of fit feature
   rows that KNN, ViM, ReAct and NNGuide collect before prepare, and the fit feature sum. */
#ifndef LN_SCORE_HEAD_H
#define LN_SCORE_HEAD_H

#include <stdint.h>

#include "scorer_internal.h"

/* z (n x C, ld C) = h W^T + b for rows [0, n) of h (ld ldf); W is C x D (ld D), b the handle's bias. */
void ln_scorer_head_logits(const logitnorm_scorer *s, const float *weight, int64_t n, const float *h, int64_t ldf,
                           float *z);

/* How fit rows enter the bank. */
typedef enum ln_bank_rows {
  LN_BANK_RAW,        /* as given (ViM, ReAct) */
  LN_BANK_NORMALISED, /* x / ||x|| in double; a zero row stays zero (KNN) */
} ln_bank_rows;

/* x = h / ||h|| over d values, the norm in double; a zero row stays zero. */
void ln_bank_normalise_row(const float *h, int64_t d, float *x);
/* Appends rows [0, n) of h (ld ldf) to s->bank, growing it geometrically; counts them in fit_n. */
logitnorm_status ln_bank_append(logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf, ln_bank_rows rows);
/* Frees the bank once prepare has taken what it needs from it. */
void ln_bank_drop(logitnorm_scorer *s);

/* Adds rows [0, n) of h (ld ldf) to s->feat_sum (D doubles, allocated on first use); counts
   them in fit_n (DICE, FDBD). */
logitnorm_status ln_fit_feature_sum(logitnorm_scorer *s, int64_t n, const float *h, int64_t ldf);

/* Entries kept per row by ASH and SCALE at percentile pct of d: d - round(d pct / 100), with
   halves rounded to even as numpy rounds (may be 0). */
int64_t ln_kept_count(int64_t d, double pct);

#endif
