/* Selective classification (risk-coverage) from the sorted scores of the metrics accumulator:
   class LN_ID holds the confidences of the correctly classified samples, class LN_OOD those of
   the errors. The walk goes down the confidences (ln_walk with ID positive) and passes one tie
   block per step, so the points are those of the contract: after a block, K samples are
   accepted and E of them are errors; coverage = K / N, risk = E / K, generalised risk = E / N.

   Accuracy. Every count is an exact integer. Each risk, coverage or weight is the quotient of
   two exact integers rounded once (ln_quotient: correctly rounded while both are below 2^53,
   within an ulp beyond). An area term is a product of at most three such numbers, so each term
   is within 4 ulps of its exact value, and every term is >= 0. The terms are added without
   rounding (exact_sum.h) and the total is rounded once, so an area is within a few ulps of the
   exact sum of rationals, whatever N: far inside the 1e-12 relative agreement the tests ask
   for. E-AURC is a difference of two such areas and is accurate to a few ulps of AURC. */
#include <math.h>
#include <string.h>

#include "common/error.h"
#include "exact_sum.h"
#include "metrics.h"
#include "wide_count.h"

/* ---- exact sums and quotients ---- */

/* An exact sum of non-negative terms that normalises its digits as often as it must. */
typedef struct ln_area {
  ln_xsum sum;
  int64_t adds; /* since the last normalisation */
} ln_area;

static void ln_area_init(ln_area *a) { memset(a, 0, sizeof *a); }

static void ln_area_add(ln_area *a, double v) {
  if (a->adds == LN_XSUM_ADDS_PER_NORMALIZE) {
    ln_xsum_normalize(&a->sum);
    a->adds = 0;
  }
  ln_xsum_add(&a->sum, v);
  a->adds++;
}

static double ln_area_value(ln_area *a) {
  ln_xsum_normalize(&a->sum);
  a->adds = 0;
  return ln_xsum_value(&a->sum);
}

/* num / den (den > 0): one division of exact doubles while both are below 2^53, which is the
   correctly rounded quotient, as a plain double division of the counts gives it. */
static double ln_quotient(ln_u128 num, ln_u128 den) {
  uint64_t a = 0, b = 0;
  if (ln_u128_small(num, &a) && ln_u128_small(den, &b)) return (double)a / (double)b;
  return ln_u128_ratio(num, den);
}

static double ln_ratio(int64_t num, int64_t den) {
  return ln_quotient(ln_u128_of((uint64_t)num), ln_u128_of((uint64_t)den));
}

/* ---- the points ---- */

typedef struct ln_rc {
  ln_walk w;
  int64_t n;                 /* N, both classes */
  int64_t accepted, errors;  /* K and E after the current block */
  int64_t block, block_errors; /* the current block's samples and errors */
} ln_rc;

static void ln_rc_start(ln_rc *c, const logitnorm_metrics *m) {
  ln_walk_start(&c->w, m, LOGITNORM_POSITIVE_ID); /* descending confidence, correct = "positive" */
  c->n = m->count[LN_ID] + m->count[LN_OOD];
  c->accepted = 0;
  c->errors = 0;
  c->block = 0;
  c->block_errors = 0;
}

/* Passes the next tie block; 0 after the last. */
static int ln_rc_next(ln_rc *c) {
  uint64_t key = 0;
  int64_t correct = 0, wrong = 0;
  if (!ln_walk_next(&c->w, &key, &correct, &wrong)) return 0;
  c->block = correct + wrong;
  c->block_errors = wrong;
  c->accepted += c->block;
  c->errors += wrong;
  return 1;
}

/* ---- TRAPEZOID: one point per tie block (the contract's rule, fd-shifts') ---- */

typedef struct ln_block_values {
  double aurc, augrc, risk_at_coverage, coverage_at_risk;
} ln_block_values;

/* AURC = sum_j (c_{j+1} - c_j) (r_j + r_{j+1}) / 2 and AUGRC the same with g = E / N, over the
   points j = 1..B (from the first point to coverage 1; one point gives 0). The risk at the
   first point with coverage >= the level, and the largest coverage whose risk is <= the level
   (coverage and risk compared as their rounded doubles, as a peer's arrays hold them). */
static ln_block_values ln_block_rule(const logitnorm_metrics *m) {
  ln_rc c;
  ln_rc_start(&c, m);
  ln_area aurc, augrc;
  ln_area_init(&aurc);
  ln_area_init(&augrc);
  ln_block_values v = {.aurc = 0, .augrc = 0, .risk_at_coverage = 0, .coverage_at_risk = 0};
  int found_risk = 0;
  int64_t k_prev = 0, e_prev = 0;
  double r_prev = 0.0;
  while (ln_rc_next(&c)) {
    double r = ln_ratio(c.errors, c.accepted), cov = ln_ratio(c.accepted, c.n);
    if (k_prev > 0) {
      double w = ln_ratio(c.accepted - k_prev, c.n);
      ln_area_add(&aurc, w * (r_prev + r) / 2.0);
      ln_area_add(&augrc, w * ln_ratio(e_prev + c.errors, c.n) / 2.0);
    }
    if (!found_risk && cov >= m->coverage_level) {
      v.risk_at_coverage = r;
      found_risk = 1; /* the last point has coverage 1 >= any level */
    }
    if (r <= m->risk_level) v.coverage_at_risk = cov; /* coverage grows along the walk */
    k_prev = c.accepted;
    e_prev = c.errors;
    r_prev = r;
  }
  v.aurc = ln_area_value(&aurc);
  v.augrc = ln_area_value(&augrc);
  return v;
}

/* The perfect ranking of the same samples: every correct one above every error, each sample its
   own point, r_k = max(0, k - C) / k. Its trapezoid terms for k = 1..N-1, each weighted by w
   (ln_ratio(1, N) under TRAPEZOID, so that a perfectly ranked input without ties gives exactly
   the same terms and E-AURC exactly 0; 1 under PER_SAMPLE, which scales afterwards). Only the
   terms with k + 1 > C are nonzero. */
static double ln_perfect_area(const logitnorm_metrics *m, double w) {
  const int64_t n = m->count[LN_ID] + m->count[LN_OOD], correct = m->count[LN_ID];
  ln_area a;
  ln_area_init(&a);
  int64_t k = correct > 1 ? correct : 1;
  double r_prev = ln_ratio(k > correct ? k - correct : 0, k); /* r_1 = 1 when C = 0, else r_C = 0 */
  for (; k < n; ++k) {
    double r = ln_ratio(k + 1 - correct, k + 1);
    ln_area_add(&a, w * (r_prev + r) / 2.0);
    r_prev = r;
  }
  return ln_area_value(&a);
}

/* ---- per-sample rules: GEIFMAN and PER_SAMPLE ---- */

/* One point per sample, k = 1..N. Inside a tie block of d samples with d_e errors, entered with
   K_prev samples and E_prev errors accepted, the k-th sample (j = k - K_prev) has
     e_k = E_prev + j d_e / d = (E_prev d + j d_e) / d,
   the block's errors spread evenly: the mean of e_k over every order of the tied samples. The
   areas are linear in the e_k, so they are the mean over those orders too; without ties every
   e_k is the count a per-sample peer sees. */
typedef struct ln_sample_values {
  double risk_sum;     /* sum_{k=1}^{N-1} (r_k + r_{k+1}) / 2 */
  double error_sum;    /* sum_{k=1}^{N-1} (e_k + e_{k+1}) / 2 */
  double geifman_sum;  /* sum_{k=1}^{N} e_k / (k + [k < N]) */
  double risk_at_coverage, coverage_at_risk;
} ln_sample_values;

static ln_sample_values ln_sample_rule(const logitnorm_metrics *m) {
  ln_rc c;
  ln_rc_start(&c, m);
  const int64_t n = c.n;
  /* torch-uncertainty's RiskAtxCov: index ceil(N level) in its floating point, 1-based. */
  double at = ceil((double)n * m->coverage_level);
  int64_t k_cov = at < 1.0 ? 1 : at >= (double)n ? n : (int64_t)at;
  ln_area risk, err, geif;
  ln_area_init(&risk);
  ln_area_init(&err);
  ln_area_init(&geif);
  ln_sample_values v = {.risk_sum = 0, .error_sum = 0, .geifman_sum = 0, .risk_at_coverage = 0,
                        .coverage_at_risk = 0};
  int64_t k_prev = 0, e_prev = 0, k_risk = 0;
  double r_prev = 0.0, e_prev_k = 0.0;
  while (ln_rc_next(&c)) {
    const uint64_t d = (uint64_t)c.block, de = (uint64_t)c.block_errors;
    const ln_u128 base = ln_u128_mul((uint64_t)e_prev, d);
    for (uint64_t j = 1; j <= d; ++j) {
      const int64_t k = k_prev + (int64_t)j;
      const ln_u128 e_num = ln_u128_add(base, ln_u128_mul(j, de)); /* e_k d */
      const double r = ln_quotient(e_num, ln_u128_mul(d, (uint64_t)k));
      const double e = ln_quotient(e_num, ln_u128_of(d));
      const uint64_t div = (uint64_t)(k < n ? k + 1 : k);
      ln_area_add(&geif, ln_quotient(e_num, ln_u128_mul(d, div)));
      if (k > 1) {
        ln_area_add(&risk, (r_prev + r) / 2.0);
        ln_area_add(&err, (e_prev_k + e) / 2.0);
      }
      if (k == k_cov) v.risk_at_coverage = r;
      if (r <= m->risk_level) k_risk = k;
      r_prev = r;
      e_prev_k = e;
    }
    k_prev = c.accepted;
    e_prev = c.errors;
  }
  v.risk_sum = ln_area_value(&risk);
  v.error_sum = ln_area_value(&err);
  v.geifman_sum = ln_area_value(&geif);
  v.coverage_at_risk = k_risk > 0 ? ln_ratio(k_risk, n) : 0.0;
  return v;
}

/* r + (1 - r) ln(1 - r) with r = E / N: the E-AURC paper's closed form of the optimal AURC (its
   limit 1 at r = 1, where the code's 0 * log(0) is NaN). */
static double ln_geifman_optimum(const logitnorm_metrics *m) {
  const int64_t n = m->count[LN_ID] + m->count[LN_OOD];
  double r = ln_ratio(m->count[LN_OOD], n);
  if (r == 1.0) return 1.0;
  return r + (1.0 - r) * log1p(-r);
}

logitnorm_status ln_selective_value(const logitnorm_metrics *m, logitnorm_metric which, double *out) {
  const int64_t n = m->count[LN_ID] + m->count[LN_OOD];
  const int rule = m->risk_rule;
  const int area = which == LOGITNORM_METRIC_AURC || which == LOGITNORM_METRIC_E_AURC ||
                   which == LOGITNORM_METRIC_AUGRC;
  if (rule == LOGITNORM_RISK_RULE_PER_SAMPLE && area && n < 2)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the PER_SAMPLE risk rule needs at least 2 samples for an area "
                   "(it divides by 1 - 1/N); the accumulator holds %lld", (long long)n);
  const int per_sample = rule == LOGITNORM_RISK_RULE_PER_SAMPLE ||
                         (rule == LOGITNORM_RISK_RULE_GEIFMAN &&
                          (which == LOGITNORM_METRIC_AURC || which == LOGITNORM_METRIC_E_AURC));
  double v = 0.0;
  if (!per_sample) {
    ln_block_values b = ln_block_rule(m);
    switch (which) {
      case LOGITNORM_METRIC_AURC: v = b.aurc; break;
      case LOGITNORM_METRIC_E_AURC: v = b.aurc - ln_perfect_area(m, ln_ratio(1, n)); break;
      case LOGITNORM_METRIC_AUGRC: v = b.augrc; break;
      case LOGITNORM_METRIC_RISK_AT_COVERAGE: v = b.risk_at_coverage; break;
      default: v = b.coverage_at_risk; break;
    }
  } else {
    ln_sample_values s = ln_sample_rule(m);
    /* PER_SAMPLE: trapezoid over coverage [1/N, 1] (weight 1/N per step) divided by 1 - 1/N,
       i.e. the sums over N - 1; its AUGRC has g_k = e_k / N. GEIFMAN: the mean of N risks. */
    const double steps = (double)(n - 1);
    switch (which) {
      case LOGITNORM_METRIC_AURC:
        v = rule == LOGITNORM_RISK_RULE_GEIFMAN ? s.geifman_sum / (double)n : s.risk_sum / steps;
        break;
      case LOGITNORM_METRIC_E_AURC:
        v = rule == LOGITNORM_RISK_RULE_GEIFMAN ? s.geifman_sum / (double)n - ln_geifman_optimum(m)
                                                : s.risk_sum / steps - ln_perfect_area(m, 1.0) / steps;
        break;
      case LOGITNORM_METRIC_AUGRC: v = s.error_sum / ((double)n * steps); break;
      case LOGITNORM_METRIC_RISK_AT_COVERAGE: v = s.risk_at_coverage; break;
      default: v = s.coverage_at_risk; break;
    }
  }
  *out = v;
  return LOGITNORM_OK;
}
