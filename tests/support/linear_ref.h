/* Independent double-precision reference of the fused linear head, written from the chain
   rule with the logits formed explicitly:
     z = x W^T + b                      (n x C; x n x d, W C x d, b C or absent)
     loss, row losses, G = dL/dz        by lr_batch_hard of loss_ref.h on z
     dx = G W,  dW = G^T x,  db = sum over rows of G
   by plain triple loops in double. It shares no code with the library and never calls it. */
#ifndef LN_TEST_LINEAR_REF_H
#define LN_TEST_LINEAR_REF_H

#include <stdint.h>

#include "loss_ref.h"

/* z (n x C, leading dimension C) = x W^T + bias (bias may be NULL). */
void lin_ref_logits(int64_t n, int64_t d, int64_t C, const double *x, int64_t ldx, const double *w, int64_t ldw,
                    const double *bias, double *z);

/* The reduced loss (as lr_batch_hard). row_loss (n), dx (n x d, ld d), dw (C x d, ld d) and
   db (C) receive the row losses and the gradients themselves (not accumulated); each may be
   NULL. */
double lin_ref_hard(const lr_config *cfg, int64_t n, int64_t d, const double *x, int64_t ldx, const double *w,
                    int64_t ldw, const double *bias, const int32_t *labels, double *row_loss, double *dx,
                    double *dw, double *db);

#endif
