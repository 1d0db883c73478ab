/* Small dense double-precision linear algebra for the fitted scorers (D up to a few
   thousand). Square matrices are row-major n x n with leading dimension n. */
#ifndef LN_SCORE_LINALG_H
#define LN_SCORE_LINALG_H

#include <stdint.h>

/* In-place Cholesky factor A = L L^T (L in the lower triangle, upper set to 0).
   Returns 0 on success, -1 when A is not numerically positive definite. */
int ln_cholesky(double *a, int64_t n);
/* inv = L^{-1} for a lower-triangular L with a nonzero diagonal (inv may not alias L). */
void ln_lower_inverse(const double *l, int64_t n, double *inv);
/* Eigendecomposition of a symmetric A by Householder tridiagonalisation and implicit QR.
   A is destroyed; w gets the eigenvalues in decreasing order, column j of V (row-major
   n x n) the unit eigenvector of w[j]. Returns 0, or -1 on non-convergence or no memory. */
int ln_sym_eigen(double *a, int64_t n, double *w, double *v);
/* x = pinv(W) y for a C x D matrix W (row-major, leading dimension ldw), through the
   eigendecomposition of the smaller Gram matrix. Eigenvalues below 1e-12 of the largest
   are dropped (singular values below 1e-6 of the largest). Returns 0, or -1 when out of
   memory or when the decomposition failed. */
int ln_pinv_apply(const float *w, int64_t c, int64_t d, int64_t ldw, const double *y, double *x);

#endif
