/* The BLIS wrapper. This is the only file of the library that includes blis.h.
   The thread count lives in the handle's own rntm_t: BLIS's process-wide setting (and so
   OMP_NUM_THREADS or BLIS_NUM_THREADS) never changes what the library does. */
/* blis.h uses pthread barriers, which strict C11 hides without a POSIX level. */
#define _POSIX_C_SOURCE 200809L

#include "blas.h"

#include <blis.h>

#include "common/alloc.h"

struct ln_blas {
  rntm_t rntm;
};

void ln_blas_set_threads(ln_blas *b, int threads) { bli_rntm_set_num_threads(threads < 1 ? 1 : threads, &b->rntm); }

ln_blas *ln_blas_create(int threads) {
  ln_blas *b = ln_calloc(1, sizeof *b);
  if (b == NULL) return NULL;
  bli_rntm_init(&b->rntm);
  ln_blas_set_threads(b, threads);
  return b;
}

void ln_blas_free(ln_blas *b) { ln_free(b); }

/* BLIS takes non-const operands and a mutable rntm_t; it writes neither A nor B, and the
   rntm_t copy on the stack keeps concurrent calls apart. */
void ln_gemm_f32(const ln_blas *b, int64_t m, int64_t n, int64_t k, float alpha, const float *A, int64_t rsa,
                 int64_t csa, const float *B, int64_t rsb, int64_t csb, float beta, float *C, int64_t rsc,
                 int64_t csc) {
  if (m <= 0 || n <= 0) return;
  rntm_t rntm = b->rntm;
  bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, (float *)A, rsa, csa, (float *)B, rsb, csb,
               &beta, C, rsc, csc, NULL, &rntm);
}

void ln_gemm_f64(const ln_blas *b, int64_t m, int64_t n, int64_t k, double alpha, const double *A, int64_t rsa,
                 int64_t csa, const double *B, int64_t rsb, int64_t csb, double beta, double *C, int64_t rsc,
                 int64_t csc) {
  if (m <= 0 || n <= 0) return;
  rntm_t rntm = b->rntm;
  bli_dgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, (double *)A, rsa, csa, (double *)B, rsb, csb,
               &beta, C, rsc, csc, NULL, &rntm);
}
