/* One loss configuration run through the public API and checked against the masked double
   reference of loss_ref.h (lr_batch_hard_masked / lr_batch_soft_masked): forward, backward
   (with row_scale when given), forward_backward and, when asked, grad == logits in place;
   forward and forward_backward both with row losses and without (row_loss NULL).
   Shared by the suites on NaN propagation, masks and extreme values.

   What is checked, for every call:
   - loss_out, the n row losses (row_loss[n] is not written) and grad against the reference,
     with the tolerances of test_loss_values.c computed on each row with its masked columns
     removed (u_T, u_d the unit roundoffs of the element type and of double, Q the row's
     target mass, k = du/dz, umax = max |u|, D the MEAN divisor):
       row loss:  16 (u_T (umax + 10) + u_d C) Q + 4 u_T |l|
       grad:      16 (u_T (umax + 10) + u_d C) k Q |alpha s / D| + 4 u_T (|beta g0| + |grad|)
   - a row holding a NaN logit in its first C columns: NaN row loss, NaN loss_out (unless the
     row is ignored) and NaN in all C gradient columns;
   - a masked column (-inf) of a row without NaN: gradient exactly 0, or exactly beta * old
     (rounded once in the element type) when beta != 0;
   - padding columns of grad keep their bytes; logits and targets are not written.
   Data are given in double and must be representable in the element type. */
#ifndef LN_TEST_LOSS_CASE_H
#define LN_TEST_LOSS_CASE_H

#include <stdint.h>

#include "logitnorm.h"

typedef struct lc_case {
  const char *what; /* names the case in failure messages */
  int f64, kind, soft, reduction;
  int64_t n, C, ld, ldt, ldg;
  double tau, eps, smoothing; /* tau is set on LogitNorm handles only */
  int32_t ignore_index;
  int check_finite;
  const double *weights;   /* C class weights (float values) or NULL */
  const double *z;         /* n x ld logits; columns past C are replaced by NaN */
  const int32_t *labels;   /* n labels (hard) */
  const double *t;         /* n x ldt targets (soft); columns past C are replaced by NaN */
  const double *row_scale; /* n multipliers for backward, or NULL */
  double alpha, beta;
  int nan_grad;            /* grad starts NaN in its first C columns (only with beta = 0) */
  int in_place;            /* also run backward and forward_backward with grad == logits */
  uint64_t seed;           /* old grad values */
} lc_case;

/* The library's defaults (tau 0.04, eps 1e-7, MEAN, ignore -100, CHECK_FINITE 1), alpha 1,
   beta 0, flat strides. */
lc_case lc_default(int f64, int kind, int soft, int64_t n, int64_t C);

/* Runs and checks every entry point of the case (see above). */
void lc_run(const lc_case *c);

/* The case must fail in each of forward, backward and forward_backward with status want
   (or want_alt, when it is not LOGITNORM_OK), a fresh logitnorm_last_error() containing
   each of the non-NULL substrings (or one of its '|'-separated alternatives: "row 7|[7]"),
   and nothing written to loss_out, row_loss or grad. */
void lc_run_bad(const lc_case *c, logitnorm_status want, logitnorm_status want_alt, const char *sub1,
                const char *sub2);

/* Handle for the case's settings (caller frees). */
logitnorm_loss *lc_handle(const lc_case *c);

#endif
