/* The library's only door to BLIS: a GEMM with general strides over a runtime object that
   a handle owns (a scorer's, or a loss handle's for the linear head).
   Callers never see BLIS types. A transposed operand is the same operand with its row and
   column strides swapped, so one entry point per element type covers every layout. */
#ifndef LN_COMMON_BLAS_H
#define LN_COMMON_BLAS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ln_blas ln_blas;

/* NULL when out of memory. threads >= 1 is written into the object's own rntm_t. */
ln_blas *ln_blas_create(int threads);
void ln_blas_free(ln_blas *b);
void ln_blas_set_threads(ln_blas *b, int threads);

/* C = alpha * A B + beta * C, with A m x k, B k x n and C m x n, each addressed by a row
   stride and a column stride in elements; beta = 0 overwrites C without reading it (BLIS's
   rule), any other beta reads it. BLIS splits the m and n loops over threads, never k, so
   each element of C is summed in the same order whatever the thread count. The runtime
   object is copied per call, so any number of threads may call with the same ln_blas at once. */
void ln_gemm_f32(const ln_blas *b, int64_t m, int64_t n, int64_t k, float alpha, const float *A, int64_t rsa,
                 int64_t csa, const float *B, int64_t rsb, int64_t csb, float beta, float *C, int64_t rsc,
                 int64_t csc);
void ln_gemm_f64(const ln_blas *b, int64_t m, int64_t n, int64_t k, double alpha, const double *A, int64_t rsa,
                 int64_t csa, const double *B, int64_t rsb, int64_t csb, double beta, double *C, int64_t rsc,
                 int64_t csc);

#endif
