/* SCALE (Xu et al., "Scaling for Training Time and Post-hoc Out-of-distribution Detection
   Enhancement", ICLR 2024), as OpenOOD v1.5's scale postprocessor computes it. Per row, with
   the k = D - round(D p / 100) largest entries of h kept (as ASH counts them),
     r = sum(h) / sum(kept),   score = E(W (h e^r) + b),   E = T logsumexp(. / T).
   Unlike ASH-S, nothing is pruned: the whole row is scaled, and the kept set only sets r.
   sum(kept) is a sum over a multiset, so ties at the k-th value cannot change it. Since
   W (h e^r) = e^r (W h), one GEMM of the raw rows gives the logits before the scale. As ASH
   does, r is clamped to [-80, 80] (it lies in [1, D / k] for nonnegative features) and taken
   as 0 when sum(kept) is 0 (k = 0, or an all-zero row, where any scale gives the same score).
   The energy runs over every class of a head that may have thousands: on the AVX2 path its
   exp is the library's vector exp (energy_avx2.c), as the loss kernels' is. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dispatch.h"
#include "common/error.h"
#include "head.h"

/* r for one row x of d values; work holds d floats. */
static double ln_scale_exponent(const float *x, int64_t d, int64_t keep, float *work) {
  double s1 = 0.0, s2 = 0.0;
  for (int64_t j = 0; j < d; ++j) s1 += x[j];
  if (keep <= 0) return 0.0;
  memcpy(work, x, (size_t)d * sizeof *work);
  float thr = ln_kth_largest_f32(work, d, keep - 1);
  int64_t above = 0;
  for (int64_t j = 0; j < d; ++j)
    if (x[j] > thr) {
      s2 += x[j];
      ++above;
    }
  s2 += (double)(keep - above) * thr; /* the kept entries equal to the threshold */
  if (s2 == 0.0) return 0.0;
  double r = s1 / s2;
  return r > 80.0 ? 80.0 : (r < -80.0 ? -80.0 : r);
}

logitnorm_status ln_scale_score(const logitnorm_scorer *s, const ln_score_block *b) {
  const int64_t n = b->n, ldf = b->ld;
  const float *h = b->rows;
  float *out = b->out;
  int64_t c = s->num_classes, d = s->feature_dim, blk = LN_SCORE_BLOCK, keep = ln_kept_count(d, s->percentile);
  double (*energy)(const double *, int64_t, double) = ln_energy;
#if defined(LN_HAVE_AVX2)
  if (ln_use_avx2()) energy = ln_energy_avx2;
#endif
  float *z = ln_calloc(blk * c, sizeof *z), *work = ln_calloc(d, sizeof *work);
  double *zd = ln_calloc(c, sizeof *zd);
  if (z == NULL || work == NULL || zd == NULL) {
    ln_free(z);
    ln_free(work);
    ln_free(zd);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for SCALE work space");
  }
  for (int64_t i0 = 0; i0 < n; i0 += blk) {
    int64_t rows = n - i0 < blk ? n - i0 : blk;
    const float *hb = h + i0 * ldf;
    /* z = H W^T, bias left out: it is added after the scale */
    ln_gemm_f32(s->blas, rows, c, d, 1.0f, hb, ldf, 1, s->weight, 1, d, 0.0f, z, c, 1);
    for (int64_t i = 0; i < rows; ++i) {
      double scale = exp(ln_scale_exponent(hb + i * ldf, d, keep, work));
      for (int64_t j = 0; j < c; ++j) zd[j] = scale * z[i * c + j] + s->bias[j];
      out[i0 + i] = (float)energy(zd, c, s->temperature);
    }
  }
  ln_free(z);
  ln_free(work);
  ln_free(zd);
  return LOGITNORM_OK;
}
