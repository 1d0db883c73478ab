/* Deep nearest neighbours (Sun et al., ICML 2022): the bank holds L2-normalised fit
   features; score = -||q - x_(k)||, the distance from the normalised query to its k-th
   nearest bank row. Distances come from GEMM dot products in blocks of queries and bank
   rows, d^2 = |q|^2 + |x|^2 - 2 q.x (= 2 - 2 q.x for unit rows; zero rows stay zero and
   keep |.|^2 = 0), and the k smallest per query are kept in a bounded max-heap. */
#include <math.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/parallel.h"
#include "head.h"
#include "topk.h"

#define LN_KNN_QUERIES LN_SCORE_QUERY_BLOCK
#define LN_KNN_BANK 4096   /* bank rows per block */

static float ln_row_sq(const float *x, int64_t d) {
  double sq = 0.0;
  for (int64_t j = 0; j < d; ++j) sq += (double)x[j] * x[j];
  return (float)sq;
}

void ln_knn_norms(const logitnorm_scorer *s, float *sq) {
  for (int64_t i = 0; i < s->bank_n; ++i) sq[i] = ln_row_sq(s->bank + i * s->feature_dim, s->feature_dim);
}

logitnorm_status ln_knn_prepare(logitnorm_scorer *s) {
  if (s->bank_n == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "KNN was not fitted with any row");
  if (s->k > s->bank_n)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "k = %lld exceeds the %lld fitted rows of the bank",
                   (long long)s->k, (long long)s->bank_n);
  float *sq = ln_calloc(s->bank_n, sizeof *sq);
  if (sq == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the bank norms");
  ln_knn_norms(s, sq);
  s->bank_sq = sq;
  return LOGITNORM_OK;
}

typedef struct ln_knn_job {
  int64_t rows, cols, k;
  const float *dots, *qsq, *bsq;
  float *heaps;
  int64_t *sizes;
} ln_knn_job;

static void ln_knn_select_part(void *ctx, int part) {
  const ln_knn_job *job = ctx;
  for (int64_t i = ln_part_begin(job->rows, part); i < ln_part_begin(job->rows, part + 1); ++i) {
    const float *dot = job->dots + i * job->cols;
    float *heap = job->heaps + i * job->k;
    for (int64_t j = 0; j < job->cols; ++j) {
      double d2 = (double)job->qsq[i] + job->bsq[j] - 2.0 * dot[j];
      ln_heap_push(heap, &job->sizes[i], job->k, d2 > 0.0 ? (float)d2 : 0.0f);
    }
  }
}

logitnorm_status ln_knn_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ldf = b->ld;
  const float *h = b->rows;
  float *out = b->out;
  int64_t d = s->feature_dim, k = s->k, nb = s->bank_n;
  int64_t qb = LN_KNN_QUERIES, bb = LN_KNN_BANK < nb ? LN_KNN_BANK : nb;
  float *q = ln_calloc(qb * d, sizeof *q), *qsq = ln_calloc(qb, sizeof *qsq);
  float *dots = ln_calloc(qb * bb, sizeof *dots), *heaps = ln_calloc(qb * k, sizeof *heaps);
  int64_t *sizes = ln_calloc(qb, sizeof *sizes);
  if (q == NULL || qsq == NULL || dots == NULL || heaps == NULL || sizes == NULL) {
    ln_free(q);
    ln_free(qsq);
    ln_free(dots);
    ln_free(heaps);
    ln_free(sizes);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for KNN work space");
  }
  for (int64_t i0 = 0; i0 < n; i0 += qb) {
    int64_t rows = n - i0 < qb ? n - i0 : qb;
    for (int64_t i = 0; i < rows; ++i) {
      ln_bank_normalise_row(h + (i0 + i) * ldf, d, q + i * d);
      qsq[i] = ln_row_sq(q + i * d, d);
      sizes[i] = 0;
    }
    for (int64_t j0 = 0; j0 < nb; j0 += bb) {
      int64_t cols = nb - j0 < bb ? nb - j0 : bb;
      /* dots = Q X^T: Q rows x d, X^T d x cols read in place from the row-major bank */
      ln_gemm_f32(s->blas, rows, cols, d, 1.0f, q, d, 1, s->bank + j0 * d, 1, d, 0.0f, dots, cols, 1);
      ln_knn_job job = {.rows = rows, .cols = cols, .k = k, .dots = dots, .qsq = qsq, .bsq = s->bank_sq + j0,
                        .heaps = heaps, .sizes = sizes};
      ln_parallel_parts(s->threads, LN_PARTS, ln_knn_select_part, &job);
    }
    for (int64_t i = 0; i < rows; ++i) out[i0 + i] = -sqrtf(heaps[i * k]); /* heap top: the k-th smallest */
  }
  ln_free(q);
  ln_free(qsq);
  ln_free(dots);
  ln_free(heaps);
  ln_free(sizes);
  return LOGITNORM_OK;
}
