/* NNGuide (Park et al., "Nearest Neighbor Guidance for Out-of-Distribution Detection",
   ICCV 2023), as OpenOOD v1.5's nnguide postprocessor computes it. With E(h) the energy
   logsumexp(W h + b) at T = 1:
     bank row    g_i = E(h_i) h_i / ||h_i||               (fit rows; a zero row stays zero)
     score(h)    E(h) * mean of the K largest g_i . h / ||h||   (0 for h = 0)
   Fit collects the raw rows; prepare scales them in place, block by block, once the head is
   known. Scoring forms the inner products h . g_i with GEMM in blocks of queries x bank rows
   on the raw h (a positive factor 1 / ||h|| changes no ranking, so it is applied to the
   mean), and keeps the K largest of each query in a bounded heap of negated values. */
#include <float.h>
#include <math.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/parallel.h"
#include "head.h"
#include "topk.h"

#define LN_NNG_QUERIES LN_SCORE_QUERY_BLOCK
#define LN_NNG_BANK 4096   /* bank rows per block */

/* logsumexp over the c floats of z, in double, shifted by the maximum. */
static double ln_row_energy(const float *z, int64_t c) {
  double m = z[0], sum = 0.0;
  for (int64_t j = 1; j < c; ++j)
    if (z[j] > m) m = z[j];
  for (int64_t j = 0; j < c; ++j) sum += exp((double)z[j] - m);
  return m + log(sum);
}

static double ln_row_norm(const float *x, int64_t d) {
  double sq = 0.0;
  for (int64_t j = 0; j < d; ++j) sq += (double)x[j] * x[j];
  return sqrt(sq);
}

/* Two passes, so that a failure leaves the fitted rows as they were: the factor E(h_i) / ||h_i||
   of every row first (each scaled entry is at most |E(h_i)| in size, so a finite energy below
   FLT_MAX keeps the bank finite), then the scaling in place. */
logitnorm_status ln_nnguide_prepare(logitnorm_scorer *s) {
  int64_t c = s->num_classes, d = s->feature_dim, nb = s->bank_n, blk = LN_SCORE_BLOCK;
  if (nb == 0) return ln_fail(LOGITNORM_ERR_INVALID_STATE, "NNGUIDE was not fitted with any row");
  if (s->k > nb)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "k = %lld exceeds the %lld fitted rows of the bank",
                   (long long)s->k, (long long)nb);
  float *z = ln_calloc(blk * c, sizeof *z);
  double *factor = ln_calloc(nb, sizeof *factor);
  if (z == NULL || factor == NULL) {
    ln_free(z);
    ln_free(factor);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the NNGuide bank energies");
  }
  for (int64_t i0 = 0; i0 < nb; i0 += blk) {
    int64_t rows = nb - i0 < blk ? nb - i0 : blk;
    const float *g = s->bank + i0 * d;
    ln_scorer_head_logits(s, s->weight, rows, g, d, z);
    for (int64_t i = 0; i < rows; ++i) {
      double e = ln_row_energy(z + i * c, c), norm = ln_row_norm(g + i * d, d);
      if (!(fabs(e) < 0.5 * FLT_MAX)) {
        ln_free(z);
        ln_free(factor);
        return ln_fail(LOGITNORM_ERR_NONFINITE, "the energy of NNGuide fit row %lld is not finite in float",
                       (long long)(i0 + i));
      }
      factor[i0 + i] = norm > 0.0 ? e / norm : 0.0;
    }
  }
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t j = 0; j < d; ++j) s->bank[i * d + j] = (float)(s->bank[i * d + j] * factor[i]);
  ln_free(z);
  ln_free(factor);
  return LOGITNORM_OK;
}

typedef struct ln_nng_job {
  int64_t rows, cols, k;
  const float *dots;
  float *heaps; /* rows x k negated inner products */
  int64_t *sizes;
} ln_nng_job;

static void ln_nng_select_part(void *ctx, int part) {
  const ln_nng_job *job = ctx;
  for (int64_t i = ln_part_begin(job->rows, part); i < ln_part_begin(job->rows, part + 1); ++i) {
    const float *dot = job->dots + i * job->cols;
    float *heap = job->heaps + i * job->k;
    for (int64_t j = 0; j < job->cols; ++j) ln_heap_push(heap, &job->sizes[i], job->k, -dot[j]);
  }
}

logitnorm_status ln_nnguide_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ldf = b->ld;
  const float *h = b->rows;
  float *out = b->out;
  int64_t c = s->num_classes, d = s->feature_dim, k = s->k, nb = s->bank_n;
  int64_t qb = LN_NNG_QUERIES, bb = LN_NNG_BANK < nb ? LN_NNG_BANK : nb;
  float *z = ln_calloc(qb * c, sizeof *z), *dots = ln_calloc(qb * bb, sizeof *dots);
  float *heaps = ln_calloc(qb * k, sizeof *heaps);
  int64_t *sizes = ln_calloc(qb, sizeof *sizes);
  if (z == NULL || dots == NULL || heaps == NULL || sizes == NULL) {
    ln_free(z);
    ln_free(dots);
    ln_free(heaps);
    ln_free(sizes);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for NNGuide work space");
  }
  for (int64_t i0 = 0; i0 < n; i0 += qb) {
    int64_t rows = n - i0 < qb ? n - i0 : qb;
    const float *hb = h + i0 * ldf;
    for (int64_t i = 0; i < rows; ++i) sizes[i] = 0;
    for (int64_t j0 = 0; j0 < nb; j0 += bb) {
      int64_t cols = nb - j0 < bb ? nb - j0 : bb;
      /* dots = H G^T: H rows x d in place, G^T d x cols read in place from the row-major bank */
      ln_gemm_f32(s->blas, rows, cols, d, 1.0f, hb, ldf, 1, s->bank + j0 * d, 1, d, 0.0f, dots, cols, 1);
      ln_nng_job job = {.rows = rows, .cols = cols, .k = k, .dots = dots, .heaps = heaps, .sizes = sizes};
      ln_parallel_parts(s->threads, LN_PARTS, ln_nng_select_part, &job);
    }
    ln_scorer_head_logits(s, s->weight, rows, hb, ldf, z);
    for (int64_t i = 0; i < rows; ++i) {
      double norm = ln_row_norm(hb + i * ldf, d), sum = 0.0;
      for (int64_t t = 0; t < k; ++t) sum -= heaps[i * k + t]; /* heap order: fixed by the pushes */
      double guide = norm > 0.0 ? sum / ((double)k * norm) : 0.0;
      out[i0 + i] = (float)(ln_row_energy(z + i * c, c) * guide);
    }
  }
  ln_free(z);
  ln_free(dots);
  ln_free(heaps);
  ln_free(sizes);
  return LOGITNORM_OK;
}
