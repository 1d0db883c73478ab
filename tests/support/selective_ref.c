#include "selective_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- sorting and tie blocks ---- */

typedef struct sref_sample {
  double conf;
  int wrong;
} sref_sample;

static int by_conf_desc(const void *a, const void *b) {
  double x = ((const sref_sample *)a)->conf, y = ((const sref_sample *)b)->conf;
  return x > y ? -1 : x < y ? 1 : 0;
}

/* The samples sorted by confidence, highest first (ties in any order). */
static sref_sample *sorted_samples(const sref_input *in) {
  sref_sample *s = malloc((size_t)in->n * sizeof *s);
  for (int64_t i = 0; i < in->n; ++i) {
    s[i].conf = in->conf[i];
    s[i].wrong = in->wrong[i];
  }
  qsort(s, (size_t)in->n, sizeof *s, by_conf_desc);
  return s;
}

/* The tie blocks of sorted samples: start index, size and errors of each; returns the count. */
static int64_t tie_blocks(const sref_sample *s, int64_t n, int64_t *start, int64_t *size, int64_t *errors) {
  int64_t b = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i, e = 0;
    while (j < n && s[j].conf == s[i].conf) e += s[j++].wrong;
    start[b] = i;
    size[b] = j - i;
    errors[b] = e;
    ++b;
    i = j;
  }
  return b;
}

/* ---- the contract's rule ---- */

void sref_trapezoid(const sref_input *in, sref_values *out) {
  const int64_t n = in->n;
  const double N = (double)n;
  sref_sample *s = sorted_samples(in);
  int64_t *start = malloc((size_t)n * sizeof *start), *size = malloc((size_t)n * sizeof *size),
          *err = malloc((size_t)n * sizeof *err);
  int64_t nb = tie_blocks(s, n, start, size, err);
  /* the points: accepted K and errors E after each block */
  double *K = malloc((size_t)nb * sizeof *K), *E = malloc((size_t)nb * sizeof *E);
  double k = 0, e = 0;
  for (int64_t b = 0; b < nb; ++b) {
    k += (double)size[b];
    e += (double)err[b];
    K[b] = k;
    E[b] = e;
  }
  double aurc = 0, augrc = 0;
  for (int64_t b = 0; b + 1 < nb; ++b) {
    double width = (K[b + 1] - K[b]) / N;
    aurc += width * (E[b] / K[b] + E[b + 1] / K[b + 1]) / 2;
    augrc += width * (E[b] / N + E[b + 1] / N) / 2;
  }
  /* perfect ranking: C correct samples first, then the errors, one point each */
  const double C = N - e;
  double optimum = 0;
  for (int64_t i = 1; i < n; ++i) {
    double r0 = (double)i > C ? ((double)i - C) / (double)i : 0.0;
    double r1 = (double)(i + 1) > C ? ((double)(i + 1) - C) / (double)(i + 1) : 0.0;
    optimum += (1.0 / N) * (r0 + r1) / 2;
  }
  out->aurc = aurc;
  out->augrc = augrc;
  out->e_aurc = aurc - optimum;
  out->risk_at_coverage = NAN;
  for (int64_t b = 0; b < nb; ++b)
    if (K[b] / N >= in->coverage) {
      out->risk_at_coverage = E[b] / K[b];
      break;
    }
  out->coverage_at_risk = 0;
  for (int64_t b = 0; b < nb; ++b)
    if (E[b] / K[b] <= in->risk && K[b] / N > out->coverage_at_risk) out->coverage_at_risk = K[b] / N;
  free(K);
  free(E);
  free(start);
  free(size);
  free(err);
  free(s);
}

/* ---- torch-uncertainty, on one order ---- */

/* sklearn.metrics.auc / torchmetrics _auc_compute: the trapezoid over the points as given. */
static double trapz(const double *x, const double *y, int64_t n) {
  double a = 0;
  for (int64_t i = 0; i + 1 < n; ++i) a += (x[i + 1] - x[i]) * (y[i] + y[i + 1]) / 2;
  return a;
}

/* _aurc_rejection_rate_compute: cumulative errors over 1..n samples, divided by the count. */
static void error_rates(const double *residual_desc, int64_t n, double *rates) {
  double c = 0;
  for (int64_t i = 0; i < n; ++i) {
    c += residual_desc[i];
    rates[i] = c / (double)(i + 1);
  }
}

static double torch_aurc(const double *residual_desc, int64_t n, double *gen) {
  double *rates = malloc((size_t)n * sizeof *rates), *cov = malloc((size_t)n * sizeof *cov),
         *g = malloc((size_t)n * sizeof *g);
  error_rates(residual_desc, n, rates);
  for (int64_t i = 0; i < n; ++i) {
    cov[i] = (double)(i + 1) / (double)n;
    g[i] = rates[i] * cov[i];
  }
  double norm = 1.0 - 1.0 / (double)n;
  double a = trapz(cov, rates, n) / norm;
  if (gen != NULL) *gen = trapz(cov, g, n) / norm;
  free(rates);
  free(cov);
  free(g);
  return a;
}

static int by_value_asc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

void sref_torch_order(const double *residual_desc, int64_t n, double coverage, double risk, sref_values *out) {
  if (n >= 2) {
    out->aurc = torch_aurc(residual_desc, n, &out->augrc);
    double *best = malloc((size_t)n * sizeof *best);
    memcpy(best, residual_desc, (size_t)n * sizeof *best);
    qsort(best, (size_t)n, sizeof *best, by_value_asc); /* the errors last: the perfect order */
    out->e_aurc = out->aurc - torch_aurc(best, n, NULL);
    free(best);
  }
  double *rates = calloc((size_t)n, sizeof *rates);
  error_rates(residual_desc, n, rates);
  out->risk_at_coverage = rates[(int64_t)ceil((double)n * coverage) - 1];
  out->coverage_at_risk = 0;
  for (int64_t i = n - 1; i >= 0; --i)
    if (rates[i] <= risk) {
      out->coverage_at_risk = (double)(i + 1) / (double)n;
      break;
    }
  free(rates);
}

/* ---- the E-AURC paper's RC_curve, on one order ---- */

void sref_geifman_order(const double *residual_desc, int64_t n, sref_values *out) {
  const int64_t m = n;
  double *asc = malloc((size_t)n * sizeof *asc); /* the code sorts by ascending confidence */
  for (int64_t i = 0; i < n; ++i) asc[i] = residual_desc[n - 1 - i];
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += asc[i];
  double total = acc;
  double risk_sum = acc / (double)m; /* the first point: coverage 1 */
  for (int64_t i = 0; i + 1 < m; ++i) {
    acc -= asc[i];
    risk_sum += acc / (double)(m - i); /* the code's divisor */
  }
  out->aurc = risk_sum / (double)m;
  double err = total / (double)m;
  double kappa = err == 1.0 ? 1.0 : err + (1 - err) * log(1 - err);
  out->e_aurc = out->aurc - kappa;
  free(asc);
}

/* ---- ties ---- */

static void per_sample_order(const double *residual_desc, int64_t n, const sref_input *in, int rule,
                             sref_values *v) {
  if (rule == 1) {
    sref_trapezoid(in, v); /* GEIFMAN leaves AUGRC and the two levels to the contract's rule */
    sref_geifman_order(residual_desc, n, v);
  } else {
    sref_torch_order(residual_desc, n, in->coverage, in->risk, v);
  }
}

static int popcount(uint32_t x) {
  int c = 0;
  for (; x; x &= x - 1) ++c;
  return c;
}

void sref_per_sample_mean(const sref_input *in, int rule, sref_values *out) {
  const int64_t n = in->n;
  sref_sample *s = sorted_samples(in);
  int64_t start[32], size[32], err[32];
  int64_t nb = tie_blocks(s, n, start, size, err);
  double residual[32];
  sref_values sum = {0, 0, 0, 0, 0};
  double count = 0;
  /* every placement of the errors in the sorted order with each block's error count kept */
  for (uint32_t mask = 0; mask < (UINT32_C(1) << n); ++mask) {
    int ok = 1;
    for (int64_t b = 0; b < nb && ok; ++b) {
      uint32_t block_bits = ((UINT32_C(1) << size[b]) - 1) << start[b];
      ok = popcount(mask & block_bits) == err[b];
    }
    if (!ok) continue;
    for (int64_t i = 0; i < n; ++i) residual[i] = (mask >> i) & 1 ? 1.0 : 0.0;
    sref_values v = {0, 0, 0, 0, 0};
    per_sample_order(residual, n, in, rule, &v);
    sum.aurc += v.aurc;
    sum.e_aurc += v.e_aurc;
    sum.augrc += v.augrc;
    sum.risk_at_coverage += v.risk_at_coverage;
    count += 1;
  }
  out->aurc = sum.aurc / count;
  out->e_aurc = sum.e_aurc / count;
  out->augrc = sum.augrc / count;
  out->risk_at_coverage = sum.risk_at_coverage / count;
  out->coverage_at_risk = 0;
  free(s);
}

void sref_per_sample_spread(const sref_input *in, int rule, sref_values *out) {
  const int64_t n = in->n;
  sref_sample *s = sorted_samples(in);
  int64_t *start = malloc((size_t)n * sizeof *start), *size = malloc((size_t)n * sizeof *size),
          *err = malloc((size_t)n * sizeof *err);
  int64_t nb = tie_blocks(s, n, start, size, err);
  double *residual = malloc((size_t)n * sizeof *residual);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t i = 0; i < size[b]; ++i) residual[start[b] + i] = (double)err[b] / (double)size[b];
  per_sample_order(residual, n, in, rule, out);
  if (rule == 2) {
    /* torch's E-AURC subtracts the perfect ranking of the 0/1 errors, not of the spread ones:
       its AURC is that of any order of them minus that order's own E-AURC */
    for (int64_t i = 0; i < n; ++i) residual[i] = s[i].wrong;
    sref_values v01 = *out;
    sref_torch_order(residual, n, in->coverage, in->risk, &v01);
    out->e_aurc = out->aurc - (v01.aurc - v01.e_aurc);
  }
  free(residual);
  free(start);
  free(size);
  free(err);
  free(s);
}
