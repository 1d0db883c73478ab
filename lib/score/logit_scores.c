/* Scores computed from the logits of one row, and their gradients d score / d z.
   Every formula works in double on max-shifted logits, so logits of +-1e30 neither
   overflow exp nor take log(0), and a zero row gives finite values.

   Masks: a -inf logit is a masked class, and the row's score is that of the row with the
   column removed; its gradient entry is +0. Validation guarantees at least one finite entry,
   so the maximum is finite and exp(-inf - max) = +0 exactly: adding +0 to a positive sum
   changes no bit, so MSP, ODIN, ENERGY and MAX_LOGIT give the compacted row's bits with no
   extra work. ENTROPY and MAX_COSINE meet -inf in one term (0 * -inf = NaN, z^2 = +inf);
   a row-end test of that one sum sends only rows with a mask to a pass that skips masked
   terms, so unmasked rows pay one compare. GEN counts the unmasked classes (a compare per
   entry, small next to its two pow calls per entry) and excludes masked ones from the top M. */
#include <math.h>
#include <stdlib.h>

#include "scorer_internal.h"

/* First index of the largest entry. */
static int64_t ln_argmax(const float *z, int64_t c) {
  int64_t m = 0;
  for (int64_t j = 1; j < c; ++j)
    if (z[j] > z[m]) m = j;
  return m;
}

/* p_j = exp((z_j - max) / T) / sum into p (may be NULL); returns sum = sum_j exp((z_j - max) / T). */
static double ln_softmax_sum(const float *z, int64_t c, double t, double zmax, double *p) {
  double sum = 0.0;
  for (int64_t j = 0; j < c; ++j) {
    double e = exp(((double)z[j] - zmax) / t);
    if (p != NULL) p[j] = e;
    sum += e;
  }
  if (p != NULL)
    for (int64_t j = 0; j < c; ++j) p[j] /= sum;
  return sum;
}

double ln_energy(const double *z, int64_t c, double t) {
  double m = z[0];
  for (int64_t j = 1; j < c; ++j)
    if (z[j] > m) m = z[j];
  double sum = 0.0;
  for (int64_t j = 0; j < c; ++j) sum += exp((z[j] - m) / t);
  return m + t * log(sum);
}

/* MSP (and ODIN) at temperature T: p_m = 1 / sum_j exp((z_j - z_m) / T), m = argmax.
   d p_m / d z_j = p_m (delta_jm - p_j) / T. */
static double ln_msp(const float *z, int64_t c, double t, double *grad) {
  int64_t m = ln_argmax(z, c);
  double sum = ln_softmax_sum(z, c, t, z[m], grad);
  double pm = 1.0 / sum;
  if (grad != NULL) {
    /* (0 - p_j) rather than -p_j, so that a masked p_j = +0 gives +0, not -0 */
    for (int64_t j = 0; j < c; ++j) grad[j] = (0.0 - grad[j]) * pm / t;
    grad[m] += pm / t;
  }
  return pm;
}

/* T logsumexp(z / T) = z_m + T log sum_j exp((z_j - z_m) / T); gradient softmax(z / T). */
static double ln_energy_row(const float *z, int64_t c, double t, double *grad) {
  double zmax = z[ln_argmax(z, c)];
  return zmax + t * log(ln_softmax_sum(z, c, t, zmax, grad));
}

/* S = sum_j p_j log p_j with log p_j = (z_j - z_m) - log sum; dS/dz_k = p_k (log p_k - S).
   A masked term is p log p = 0 log 0 = 0 by continuity: left out of S, gradient 0. */
static double ln_neg_entropy(const float *z, int64_t c, double *grad, double *p) {
  double zmax = z[ln_argmax(z, c)];
  double lsum = log(ln_softmax_sum(z, c, 1.0, zmax, p));
  double s = 0.0;
  for (int64_t j = 0; j < c; ++j) s += p[j] * (((double)z[j] - zmax) - lsum);
  int masked = isnan(s); /* only 0 * (-inf - zmax) makes a NaN here */
  if (masked) {
    s = 0.0;
    for (int64_t j = 0; j < c; ++j)
      if (z[j] != -INFINITY) s += p[j] * (((double)z[j] - zmax) - lsum);
  }
  if (grad != NULL) {
    for (int64_t j = 0; j < c; ++j) grad[j] = p[j] * ((((double)z[j] - zmax) - lsum) - s);
    if (masked)
      for (int64_t j = 0; j < c; ++j)
        if (z[j] == -INFINITY) grad[j] = 0.0;
  }
  return s;
}

static int ln_desc_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* GEN: G = -sum_{j in top M} q_j^g (1 - q_j)^g with q = clamp(p, 1e-7, 1 - 1e-7).
   dG/dp_j = -g q^(g-1) (1-q)^(g-1) (1 - 2q) inside the clamp (0 where clamped), and
   dG/dz_k = p_k (dG/dp_k - sum_j dG/dp_j p_j). work holds 2C doubles.
   Masks: the top M is taken over the u unmasked classes, all of them when M >= u. A masked
   p is +0, below or equal to every unmasked p, so the M-th largest of all C values (M <= u)
   is the M-th largest unmasked one; masked entries are then kept out of the selection. */
static double ln_gen(const logitnorm_scorer *s, const float *z, double *grad, double *work) {
  int64_t c = s->num_classes, u = 0;
  for (int64_t j = 0; j < c; ++j) u += z[j] != -INFINITY;
  int64_t m = s->top_m < u ? s->top_m : u;
  double g = s->gamma, lo = 1e-7, hi = 1.0 - 1e-7;
  double *p = work, *sorted = work + c;
  double zmax = z[ln_argmax(z, c)];
  ln_softmax_sum(z, c, 1.0, zmax, p);
  /* The M-th largest probability; entries above it are in, ties fill up in index order. */
  double thr = -1.0;
  int64_t above = 0;
  if (m < c) {
    for (int64_t j = 0; j < c; ++j) sorted[j] = p[j];
    qsort(sorted, (size_t)c, sizeof *sorted, ln_desc_double);
    thr = sorted[m - 1];
    for (int64_t j = 0; j < c; ++j) above += p[j] > thr;
  }
  int64_t ties_left = m - above;
  double score = 0.0, dot = 0.0;
  for (int64_t j = 0; j < c; ++j) {
    int in = p[j] > thr || (p[j] == thr && ties_left > 0);
    /* A masked p = +0 can tie only with thr = 0 (an unmasked p underflowed); its clamped term
       would be the same, but keeping it out keeps the sum in the dropped row's order. */
    if (u < c && z[j] == -INFINITY) in = 0;
    if (p[j] == thr && in && m < c) --ties_left;
    double dp = 0.0;
    if (in) {
      double q = p[j] < lo ? lo : (p[j] > hi ? hi : p[j]);
      score -= pow(q, g) * pow(1.0 - q, g);
      if (p[j] > lo && p[j] < hi) dp = -g * pow(q, g - 1.0) * pow(1.0 - q, g - 1.0) * (1.0 - 2.0 * q);
    }
    sorted[j] = dp; /* the sorted copy is no longer needed: keep dG/dp here */
    dot += dp * p[j];
  }
  if (grad != NULL)
    for (int64_t j = 0; j < c; ++j) grad[j] = p[j] * (sorted[j] - dot) + 0.0; /* + 0.0: a masked -0 becomes +0 */
  return score;
}

/* max_j z_j / ||z|| (0 for a zero row); for m = argmax, s = z_m / n:
   ds/dz_j = (delta_jm - s z_j / n) / n. ||z|| is over the unmasked entries. */
static double ln_max_cosine(const float *z, int64_t c, double *grad) {
  int64_t m = ln_argmax(z, c);
  double sq = 0.0;
  for (int64_t j = 0; j < c; ++j) sq += (double)z[j] * z[j]; /* float squares cannot overflow a double */
  int masked = sq == INFINITY; /* so +inf means a -inf entry */
  if (masked) {
    sq = 0.0;
    for (int64_t j = 0; j < c; ++j)
      if (z[j] != -INFINITY) sq += (double)z[j] * z[j];
  }
  double n = sqrt(sq);
  if (n == 0.0) {
    if (grad != NULL)
      for (int64_t j = 0; j < c; ++j) grad[j] = 0.0;
    return 0.0;
  }
  double score = z[m] / n;
  if (grad != NULL) {
    for (int64_t j = 0; j < c; ++j) grad[j] = -score * z[j] / n / n;
    grad[m] += 1.0 / n;
    if (masked)
      for (int64_t j = 0; j < c; ++j)
        if (z[j] == -INFINITY) grad[j] = 0.0;
  }
  return score;
}

double ln_logit_score(const logitnorm_scorer *s, const float *z, double *grad, double *work) {
  int64_t c = s->num_classes;
  switch (s->kind) {
    case LOGITNORM_SCORE_MSP:
    case LOGITNORM_SCORE_ODIN: return ln_msp(z, c, s->temperature, grad);
    case LOGITNORM_SCORE_MAX_LOGIT: {
      int64_t m = ln_argmax(z, c);
      if (grad != NULL)
        for (int64_t j = 0; j < c; ++j) grad[j] = j == m;
      return z[m];
    }
    case LOGITNORM_SCORE_ENERGY: return ln_energy_row(z, c, s->temperature, grad);
    case LOGITNORM_SCORE_ENTROPY: return ln_neg_entropy(z, c, grad, work);
    case LOGITNORM_SCORE_GEN: return ln_gen(s, z, grad, work);
    case LOGITNORM_SCORE_MAX_COSINE: return ln_max_cosine(z, c, grad);
  }
  return 0.0;
}
