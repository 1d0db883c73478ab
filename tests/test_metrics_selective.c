/* Selective classification in the metrics accumulator (AURC, E-AURC, AUGRC, risk at a coverage,
   coverage at a risk) under the three risk rules: hand-computed golden cases, the independent
   reference of tests/support/selective_ref.c on random inputs with and without ties, the mean
   over every order of tied samples by enumeration, merge and blob round trips, and bad input.
   Correct samples are added with is_ood = 0, errors with is_ood = 1. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "metrics_ref.h"
#include "selective_ref.h"
#include "test_util.h"

#define TOL 1e-15  /* golden rationals: a few ulps of numbers at most 1 */
#define RTOL 1e-12 /* against the reference */

enum { N_SELECTIVE = 5 };
static const logitnorm_metric SELECTIVE[N_SELECTIVE] = {LOGITNORM_METRIC_AURC, LOGITNORM_METRIC_E_AURC,
                                                        LOGITNORM_METRIC_AUGRC, LOGITNORM_METRIC_RISK_AT_COVERAGE,
                                                        LOGITNORM_METRIC_COVERAGE_AT_RISK};

/* ---- helpers ---- */

typedef struct samples {
  const double *conf;
  const int *wrong;
  int64_t n;
} samples;

/* An accumulator of the samples under `rule`, correct ones as ID and errors as OOD. */
static logitnorm_metrics *make(const samples *s, int rule) {
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK_RULE, rule), LOGITNORM_OK);
  for (int64_t i = 0; i < s->n; ++i)
    ck_assert_int_eq(logitnorm_metrics_add_f64(m, &s->conf[i], 1, s->wrong[i]), LOGITNORM_OK);
  return m;
}

static double value(logitnorm_metrics *m, logitnorm_metric which) {
  double v = NAN;
  logitnorm_status st = logitnorm_metrics_value(m, which, &v);
  ck_assert_msg(st == LOGITNORM_OK, "metric %d: %s", (int)which, logitnorm_last_error());
  return v;
}

static void set(logitnorm_metrics *m, logitnorm_metrics_param p, double v) {
  ck_assert_int_eq(logitnorm_metrics_set(m, p, v), LOGITNORM_OK);
}

static double value_at(logitnorm_metrics *m, logitnorm_metric which, logitnorm_metrics_param p, double level) {
  set(m, p, level);
  return value(m, which);
}

static void expect_fail(logitnorm_status st, logitnorm_status want) {
  ck_assert_int_eq(st, want);
  ck_assert_str_ne(logitnorm_last_error(), "");
}

static void close_rel(double got, double want, double rtol, const char *what) {
  ck_assert_msg(fabs(got - want) <= rtol * fmax(fabs(want), 1e-300), "%s: %.17g, expected %.17g", what, got, want);
}

/* ---- golden cases ----
   Set A (N = 6), from the most confident down:
     conf  0.9  0.8  0.8  0.5  0.2  0.2
     error  no   no  yes  yes   no  yes
   Points (one per confidence): K = 1, 3, 4, 6 accepted; E = 0, 1, 2, 3 errors;
   coverage 1/6, 1/2, 2/3, 1; risk 0, 1/3, 1/2, 1/2; generalised risk 0, 1/6, 1/3, 1/2. */
static const double A_CONF[6] = {0.8, 0.2, 0.9, 0.5, 0.8, 0.2};
static const int A_WRONG[6] = {1, 0, 0, 1, 0, 1};
static const samples A = {.conf = A_CONF, .wrong = A_WRONG, .n = 6};

START_TEST(golden_trapezoid) {
  logitnorm_metrics *m = make(&A, LOGITNORM_RISK_RULE_TRAPEZOID);
  /* AURC = (1/3)(0 + 1/3)/2 + (1/6)(1/3 + 1/2)/2 + (1/3)(1/2 + 1/2)/2 = 1/18 + 5/72 + 1/6 = 7/24 */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AURC), 7.0 / 24.0, TOL);
  /* AUGRC = (1/3)(0 + 1/6)/2 + (1/6)(1/6 + 1/3)/2 + (1/3)(1/3 + 1/2)/2 = 15/72 = 5/24 */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUGRC), 5.0 / 24.0, TOL);
  /* Perfect ranking: C = 3, risks 0, 0, 0, 1/4, 2/5, 1/2, one point each:
     (1/6)(0 + 0 + 1/8 + 13/40 + 9/20) = 3/20; E-AURC = 7/24 - 3/20 = 17/120. */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_E_AURC), 17.0 / 120.0, TOL);
  /* defaults: coverage 0.8 -> the point at coverage 1, risk 1/2; risk 0.05 -> coverage 1/6 */
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 0.5);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), 1.0 / 6.0);
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_RISK_AT_COVERAGE, LOGITNORM_METRICS_COVERAGE, 0.5), 1.0 / 3.0);
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_RISK_AT_COVERAGE, LOGITNORM_METRICS_COVERAGE, 0.6), 0.5);
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_RISK_AT_COVERAGE, LOGITNORM_METRICS_COVERAGE, 1.0 / 6.0), 0.0);
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_COVERAGE_AT_RISK, LOGITNORM_METRICS_RISK, 0.4), 0.5);
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_COVERAGE_AT_RISK, LOGITNORM_METRICS_RISK, 0.5), 1.0);
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_COVERAGE_AT_RISK, LOGITNORM_METRICS_RISK, 0.0), 1.0 / 6.0);
  logitnorm_metrics_free(m);
}
END_TEST

/* PER_SAMPLE on A: the tie blocks {0.8: correct, error} and {0.2: correct, error} spread their
   error over their two samples (the mean over both orders), so the per-sample errors are
   e = 0, 1/2, 1, 2, 5/2, 3 and the risks r = 0, 1/4, 1/3, 1/2, 1/2, 1/2. */
START_TEST(golden_per_sample) {
  logitnorm_metrics *m = make(&A, LOGITNORM_RISK_RULE_PER_SAMPLE);
  /* trapezoid over coverage 1/6 .. 1 divided by 1 - 1/6: the mean of (r_k + r_{k+1})/2,
     (1/8 + 7/24 + 5/12 + 1/2 + 1/2) / 5 = (11/6) / 5 = 11/30 */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AURC), 11.0 / 30.0, TOL);
  /* generalised risk e_k / 6: sum (e_k + e_{k+1})/2 = 15/2, over N (N - 1) = 30: 1/4 */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUGRC), 0.25, TOL);
  /* perfect ranking, same rule: (0 + 0 + 1/8 + 13/40 + 9/20) / 5 = 9/50; 11/30 - 9/50 = 14/75 */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_E_AURC), 14.0 / 75.0, TOL);
  /* torch-uncertainty's RiskAtxCov: ceil(6 x 0.8) = 5 -> r_5 = 1/2; ceil(6 x 0.5) = 3 -> 1/3 */
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 0.5);
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_RISK_AT_COVERAGE, LOGITNORM_METRICS_COVERAGE, 0.5), 1.0 / 3.0);
  /* the largest k with r_k <= level: 0.05 -> k = 1; 0.3 -> k = 2 */
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), 1.0 / 6.0);
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_COVERAGE_AT_RISK, LOGITNORM_METRICS_RISK, 0.3), 2.0 / 6.0);
  logitnorm_metrics_free(m);
}
END_TEST

/* GEIFMAN on A: the code's curve has risk E/N at coverage 1 and e_k / (k + 1) below, with the
   same spread errors: (1/6)(0/2 + (1/2)/3 + 1/4 + 2/5 + (5/2)/6 + 3/6) = (1/6)(26/15) = 13/45;
   E-AURC subtracts r + (1 - r) ln(1 - r) at r = 1/2. AUGRC and the levels follow TRAPEZOID. */
START_TEST(golden_geifman) {
  logitnorm_metrics *m = make(&A, LOGITNORM_RISK_RULE_GEIFMAN);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AURC), 13.0 / 45.0, TOL);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_E_AURC), 13.0 / 45.0 - (0.5 + 0.5 * log(0.5)), TOL);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUGRC), 5.0 / 24.0, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 0.5);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), 1.0 / 6.0);
  logitnorm_metrics_free(m);
}
END_TEST

/* Every sample correct (N = 4, distinct confidences): no risk anywhere, under every rule. */
START_TEST(golden_all_correct) {
  static const double conf[4] = {0.1, 0.7, 0.3, 0.9};
  static const int wrong[4] = {0, 0, 0, 0};
  const samples s = {.conf = conf, .wrong = wrong, .n = 4};
  for (int rule = 0; rule <= 2; ++rule) {
    logitnorm_metrics *m = make(&s, rule);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_AURC), 0.0);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_E_AURC), 0.0);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_AUGRC), 0.0);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 0.0);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), 1.0);
    logitnorm_metrics_free(m);
  }
}
END_TEST

/* Every sample wrong (N = 3, distinct confidences): risk 1 at every point, generalised risk
   1/3, 2/3, 1. */
START_TEST(golden_all_wrong) {
  static const double conf[3] = {0.2, 0.6, 0.4};
  static const int wrong[3] = {1, 1, 1};
  const samples s = {.conf = conf, .wrong = wrong, .n = 3};
  logitnorm_metrics *m = make(&s, LOGITNORM_RISK_RULE_TRAPEZOID);
  /* from coverage 1/3 to 1 at risk 1: 2/3; the perfect ranking is the same curve */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AURC), 2.0 / 3.0, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_E_AURC), 0.0);
  /* (1/3)(1/3 + 2/3)/2 + (1/3)(2/3 + 1)/2 = 1/6 + 5/18 = 4/9 */
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUGRC), 4.0 / 9.0, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 1.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), 0.0); /* no point has risk <= 0.05 */
  ck_assert_double_eq(value_at(m, LOGITNORM_METRIC_COVERAGE_AT_RISK, LOGITNORM_METRICS_RISK, 1.0), 1.0);
  logitnorm_metrics_free(m);
  /* GEIFMAN: (1/3)(1/2 + 2/3 + 3/3) = 13/18; the optimum's limit at r = 1 is 1 */
  m = make(&s, LOGITNORM_RISK_RULE_GEIFMAN);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AURC), 13.0 / 18.0, TOL);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_E_AURC), -5.0 / 18.0, TOL);
  logitnorm_metrics_free(m);
  /* PER_SAMPLE: risk 1 over [1/3, 1], normalised: 1; AUGRC ((1 + 2)/2 + (2 + 3)/2) / 6 = 2/3 */
  m = make(&s, LOGITNORM_RISK_RULE_PER_SAMPLE);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AURC), 1.0, TOL);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUGRC), 2.0 / 3.0, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_E_AURC), 0.0);
  logitnorm_metrics_free(m);
}
END_TEST

/* One sample: one point at coverage 1, so no area under TRAPEZOID; GEIFMAN's mean of one
   risk; PER_SAMPLE has no area (torch-uncertainty: NaN) but has the levels. */
START_TEST(golden_one_sample) {
  static const double conf[1] = {0.75};
  static const int wrong[1] = {1}, right[1] = {0};
  const samples bad = {.conf = conf, .wrong = wrong, .n = 1}, good = {.conf = conf, .wrong = right, .n = 1};
  logitnorm_metrics *m = make(&bad, LOGITNORM_RISK_RULE_TRAPEZOID);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AURC), 0.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_E_AURC), 0.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AUGRC), 0.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 1.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), 0.0);
  set(m, LOGITNORM_METRICS_RISK_RULE, LOGITNORM_RISK_RULE_GEIFMAN);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AURC), 1.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_E_AURC), 0.0);
  set(m, LOGITNORM_METRICS_RISK_RULE, LOGITNORM_RISK_RULE_PER_SAMPLE);
  double out = 1234.5;
  expect_fail(logitnorm_metrics_value(m, LOGITNORM_METRIC_AURC, &out), LOGITNORM_ERR_INVALID_STATE);
  expect_fail(logitnorm_metrics_value(m, LOGITNORM_METRIC_E_AURC, &out), LOGITNORM_ERR_INVALID_STATE);
  expect_fail(logitnorm_metrics_value(m, LOGITNORM_METRIC_AUGRC, &out), LOGITNORM_ERR_INVALID_STATE);
  ck_assert_double_eq(out, 1234.5);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 1.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), 0.0);
  logitnorm_metrics_free(m);
  m = make(&good, LOGITNORM_RISK_RULE_TRAPEZOID);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 0.0);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), 1.0);
  logitnorm_metrics_free(m);
}
END_TEST

/* Every confidence equal (N = 4, 2 errors): a single point, so AURC = 0, while the perfect
   ranking (risks 0, 0, 1/3, 1/2) has (1/4)(1/6 + 5/12) = 7/48: E-AURC is negative. */
START_TEST(golden_one_tie_block) {
  static const double conf[4] = {0.5, 0.5, 0.5, 0.5};
  static const int wrong[4] = {1, 0, 1, 0};
  const samples s = {.conf = conf, .wrong = wrong, .n = 4};
  logitnorm_metrics *m = make(&s, LOGITNORM_RISK_RULE_TRAPEZOID);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AURC), 0.0);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_E_AURC), -7.0 / 48.0, TOL);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), 0.5);
  logitnorm_metrics_free(m);
}
END_TEST

/* ---- against the reference ---- */

typedef struct random_set {
  double conf[1000];
  int wrong[1000];
  int64_t n;
} random_set;

/* n samples; with `levels` > 0 the confidences take that many values (many ties), else they are
   continuous; each sample is an error with probability p_err, more often at low confidence. */
static void random_samples(tu_rng *r, int64_t n, int levels, double p_err, random_set *out) {
  out->n = n;
  for (int64_t i = 0; i < n; ++i) {
    double c = levels > 0 ? (double)tu_int(r, 0, levels - 1) / (double)levels : tu_uniform(r);
    out->conf[i] = c;
    out->wrong[i] = tu_uniform(r) < p_err * (1.5 - c);
  }
}

/* The library under `rule` against the reference, every value. */
static void check_against_reference(const random_set *rs, int rule, double coverage, double risk) {
  const samples s = {.conf = rs->conf, .wrong = rs->wrong, .n = rs->n};
  logitnorm_metrics *m = make(&s, rule);
  set(m, LOGITNORM_METRICS_COVERAGE, coverage);
  set(m, LOGITNORM_METRICS_RISK, risk);
  const sref_input in = {.conf = rs->conf, .wrong = rs->wrong, .n = rs->n, .coverage = coverage, .risk = risk};
  sref_values want;
  sref_trapezoid(&in, &want);
  if (rule == LOGITNORM_RISK_RULE_PER_SAMPLE) {
    sref_per_sample_spread(&in, 2, &want);
  } else if (rule == LOGITNORM_RISK_RULE_GEIFMAN) {
    sref_values g;
    sref_per_sample_spread(&in, 1, &g);
    want.aurc = g.aurc;
    want.e_aurc = g.e_aurc;
  }
  double aurc = value(m, LOGITNORM_METRIC_AURC);
  close_rel(aurc, want.aurc, RTOL, "AURC");
  close_rel(value(m, LOGITNORM_METRIC_AUGRC), want.augrc, RTOL, "AUGRC");
  /* a difference: accurate relative to AURC and its optimum, not to itself */
  double e = value(m, LOGITNORM_METRIC_E_AURC);
  ck_assert_msg(fabs(e - want.e_aurc) <= RTOL * (fabs(aurc) + fabs(aurc - want.e_aurc) + 1e-300),
                "E-AURC (rule %d, n %lld): %.17g, expected %.17g", rule, (long long)rs->n, e, want.e_aurc);
  close_rel(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), want.risk_at_coverage, RTOL, "risk at coverage");
  close_rel(value(m, LOGITNORM_METRIC_COVERAGE_AT_RISK), want.coverage_at_risk, RTOL, "coverage at risk");
  logitnorm_metrics_free(m);
}

START_TEST(random_against_reference) {
  static random_set rs;
  tu_rng r;
  tu_seed(&r, 0x5e1ec7 + (uint64_t)_i);
  static const int64_t sizes[] = {2, 3, 7, 40, 333, 1000};
  static const int levels[] = {0, 3, 10, 97};
  /* levels away from the exact risks and coverages of these sets, so that the last-bit
     difference of the reference's cumulative sums of fractions cannot move a comparison */
  static const double coverages[] = {0.7777, 0.123, 1.0}, risks[] = {0.1234, 0.3456, 0.0071};
  for (size_t a = 0; a < sizeof sizes / sizeof *sizes; ++a)
    for (size_t b = 0; b < sizeof levels / sizeof *levels; ++b) {
      random_samples(&r, sizes[a], levels[b], 0.05 + 0.3 * tu_uniform(&r), &rs);
      for (int rule = 0; rule <= 2; ++rule)
        check_against_reference(&rs, rule, coverages[(a + b) % 3], risks[(a + 2 * b) % 3]);
    }
}
END_TEST

/* Without ties the reference's per-sample sums are of integers, exact, so the defaults (levels
   that risks like 1/20 hit exactly) can be compared too. */
START_TEST(random_no_ties_default_levels) {
  static random_set rs;
  tu_rng r;
  tu_seed(&r, 0xa11ce + (uint64_t)_i);
  static const int64_t sizes[] = {2, 20, 100, 1000};
  for (size_t a = 0; a < sizeof sizes / sizeof *sizes; ++a) {
    random_samples(&r, sizes[a], 0, 0.1, &rs);
    for (int rule = 0; rule <= 2; ++rule) check_against_reference(&rs, rule, 0.8, 0.05);
  }
}
END_TEST

/* The per-sample rules with ties equal the mean over every order of the tied samples,
   enumerated by the reference (small N, few distinct confidences). */
START_TEST(per_sample_is_mean_over_orders) {
  tu_rng r;
  tu_seed(&r, 0x0de5 + (uint64_t)_i);
  static random_set rs;
  for (int trial = 0; trial < 6; ++trial) {
    random_samples(&r, 4 + trial, 1 + trial % 3, 0.4, &rs);
    const samples s = {.conf = rs.conf, .wrong = rs.wrong, .n = rs.n};
    const sref_input in = {.conf = rs.conf, .wrong = rs.wrong, .n = rs.n, .coverage = 0.7, .risk = 0.5};
    for (int rule = 1; rule <= 2; ++rule) {
      sref_values want;
      sref_per_sample_mean(&in, rule, &want);
      logitnorm_metrics *m = make(&s, rule);
      set(m, LOGITNORM_METRICS_COVERAGE, 0.7);
      double aurc = value(m, LOGITNORM_METRIC_AURC);
      close_rel(aurc, want.aurc, RTOL, "mean AURC");
      ck_assert_msg(fabs(value(m, LOGITNORM_METRIC_E_AURC) - want.e_aurc) <= RTOL * (1.0 + fabs(aurc)),
                    "mean E-AURC");
      close_rel(value(m, LOGITNORM_METRIC_AUGRC), want.augrc, RTOL, "mean AUGRC");
      if (rule == 2) close_rel(value(m, LOGITNORM_METRIC_RISK_AT_COVERAGE), want.risk_at_coverage, RTOL, "mean risk");
      logitnorm_metrics_free(m);
    }
  }
}
END_TEST

/* A perfectly ranked input without ties is its own perfect ranking: E-AURC is exactly 0. */
START_TEST(perfect_ranking_is_zero) {
  double conf[50];
  int wrong[50];
  for (int i = 0; i < 50; ++i) {
    conf[i] = 1.0 - i / 64.0;
    wrong[i] = i >= 37;
  }
  const samples s = {.conf = conf, .wrong = wrong, .n = 50};
  for (int rule = 0; rule <= 2; rule += 2) {
    logitnorm_metrics *m = make(&s, rule);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_E_AURC), 0.0);
    ck_assert(value(m, LOGITNORM_METRIC_AURC) > 0.0);
    logitnorm_metrics_free(m);
  }
}
END_TEST

/* ---- merge, save, load, settings ---- */

static void values_of(logitnorm_metrics *m, double *v) {
  for (int k = 0; k < N_SELECTIVE; ++k) v[k] = value(m, SELECTIVE[k]);
}

START_TEST(merge_of_parts_is_whole) {
  static random_set rs;
  tu_rng r;
  tu_seed(&r, 77);
  random_samples(&r, 600, 40, 0.3, &rs);
  for (int rule = 0; rule <= 2; ++rule) {
    const samples all = {.conf = rs.conf, .wrong = rs.wrong, .n = rs.n};
    logitnorm_metrics *whole = make(&all, rule);
    logitnorm_metrics *part[3];
    for (int p = 0; p < 3; ++p) {
      const samples s = {.conf = rs.conf + 200 * p, .wrong = rs.wrong + 200 * p, .n = 200};
      part[p] = make(&s, LOGITNORM_RISK_RULE_TRAPEZOID); /* the parts' own rule does not matter */
    }
    /* merged in another order than added; dst keeps its parameters */
    set(part[2], LOGITNORM_METRICS_RISK_RULE, rule);
    ck_assert_int_eq(logitnorm_metrics_merge(part[2], part[0]), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_metrics_merge(part[2], part[1]), LOGITNORM_OK);
    double a[N_SELECTIVE], b[N_SELECTIVE];
    values_of(whole, a);
    values_of(part[2], b);
    for (int k = 0; k < N_SELECTIVE; ++k)
      ck_assert_msg(memcmp(&a[k], &b[k], sizeof a[k]) == 0, "rule %d metric %d: %.17g merged, %.17g whole", rule,
                    (int)SELECTIVE[k], b[k], a[k]);
    for (int p = 0; p < 3; ++p) logitnorm_metrics_free(part[p]);
    logitnorm_metrics_free(whole);
  }
}
END_TEST

static unsigned char *save(const logitnorm_metrics *m, size_t *size) {
  ck_assert_int_eq(logitnorm_metrics_save(m, NULL, 0, size), LOGITNORM_OK);
  unsigned char *b = malloc(*size);
  ck_assert_int_eq(logitnorm_metrics_save(m, b, *size, size), LOGITNORM_OK);
  return b;
}

static double get(const logitnorm_metrics *m, logitnorm_metrics_param p) {
  double v = NAN;
  ck_assert_int_eq(logitnorm_metrics_get(m, p, &v), LOGITNORM_OK);
  return v;
}

/* Format 1 while the selective parameters hold their defaults (a 1.1 reader loads it), format
   2 (24 more bytes) otherwise; a load restores the parameters and every value bit for bit. */
START_TEST(blob_round_trip) {
  logitnorm_metrics *m = make(&A, LOGITNORM_RISK_RULE_TRAPEZOID);
  double a[N_SELECTIVE], b[N_SELECTIVE];
  values_of(m, a); /* sorts the scores, as a load followed by a value call does: the blobs below
                      then hold them in one order and can be compared byte for byte */
  size_t n1 = 0, n2 = 0;
  unsigned char *b1 = save(m, &n1);
  ck_assert_uint_eq(b1[4], 1);
  ck_assert_uint_eq(n1, 24 + 24 + 8 + 3 * 8 + 8 + 3 * 8 + 4);
  logitnorm_metrics *back = NULL;
  ck_assert_int_eq(logitnorm_metrics_load(&back, b1, n1), LOGITNORM_OK);
  ck_assert_double_eq(get(back, LOGITNORM_METRICS_COVERAGE), 0.8);
  ck_assert_double_eq(get(back, LOGITNORM_METRICS_RISK), 0.05);
  ck_assert_double_eq(get(back, LOGITNORM_METRICS_RISK_RULE), LOGITNORM_RISK_RULE_TRAPEZOID);
  logitnorm_metrics_free(back);

  set(m, LOGITNORM_METRICS_COVERAGE, 0.625);
  set(m, LOGITNORM_METRICS_RISK, 0.375);
  set(m, LOGITNORM_METRICS_RISK_RULE, LOGITNORM_RISK_RULE_PER_SAMPLE);
  unsigned char *b2 = save(m, &n2);
  ck_assert_uint_eq(b2[4], 2);
  ck_assert_uint_eq(n2, n1 + 24);
  ck_assert_int_eq(logitnorm_metrics_load(&back, b2, n2), LOGITNORM_OK);
  ck_assert_double_eq(get(back, LOGITNORM_METRICS_COVERAGE), 0.625);
  ck_assert_double_eq(get(back, LOGITNORM_METRICS_RISK), 0.375);
  ck_assert_double_eq(get(back, LOGITNORM_METRICS_RISK_RULE), LOGITNORM_RISK_RULE_PER_SAMPLE);
  values_of(m, a);
  values_of(back, b);
  ck_assert(memcmp(a, b, sizeof a) == 0);
  size_t n3 = 0;
  unsigned char *b3 = save(back, &n3);
  ck_assert(n3 == n2 && memcmp(b2, b3, n2) == 0);
  logitnorm_metrics_free(back);
  /* one parameter away from its default is enough for format 2 */
  set(m, LOGITNORM_METRICS_COVERAGE, 0.8);
  set(m, LOGITNORM_METRICS_RISK_RULE, LOGITNORM_RISK_RULE_TRAPEZOID);
  free(b3);
  b3 = save(m, &n3);
  ck_assert_uint_eq(b3[4], 2);
  set(m, LOGITNORM_METRICS_RISK, 0.05);
  free(b3);
  b3 = save(m, &n3);
  ck_assert(b3[4] == 1 && n3 == n1 && memcmp(b1, b3, n1) == 0);
  free(b1);
  free(b2);
  free(b3);
  logitnorm_metrics_free(m);
}
END_TEST

static void expect_corrupt(const unsigned char *blob, size_t size) {
  unsigned char *copy = malloc(size > 0 ? size : 1);
  memcpy(copy, blob, size);
  logitnorm_metrics *sentinel = (logitnorm_metrics *)(uintptr_t)0x5e5e, *out = sentinel;
  ck_assert_int_eq(logitnorm_metrics_load(&out, copy, size), LOGITNORM_ERR_CORRUPT_DATA);
  ck_assert_str_ne(logitnorm_last_error(), "");
  ck_assert_ptr_eq(out, sentinel);
  free(copy);
}

static void put_le(unsigned char *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  put_le(p, u, 8);
}

/* Format 2: payload at 24 holds f64 tpr_level, u32 positive, fpr_rule, aupr_rule, reserved;
   f64 coverage at 48, f64 risk at 56, u32 risk_rule at 64, u32 reserved at 68; then the
   scores. Every byte flip, every truncation and each bad field behind a valid CRC. */
START_TEST(blob_format2_damage) {
  logitnorm_metrics *m = make(&A, LOGITNORM_RISK_RULE_GEIFMAN);
  size_t n = 0;
  unsigned char *blob = save(m, &n);
  logitnorm_metrics_free(m);
  ck_assert_uint_eq(blob[4], 2);
  for (size_t i = 0; i < n; ++i) {
    blob[i] ^= 0x41;
    expect_corrupt(blob, n);
    blob[i] ^= 0x41;
  }
  for (size_t len = 0; len < n; ++len) expect_corrupt(blob, len);
  unsigned char *b = malloc(n);
  struct {
    size_t at;
    int bytes; /* 8 with f set: a double; else an integer of that many bytes */
    double f;
    uint64_t u;
  } edits[] = {
      {4, 2, 0, 3}, {4, 2, 0, 0},                     /* format versions this library does not read */
      {48, 8, 0.0, 0}, {48, 8, 1.5, 0}, {48, 8, NAN, 0}, {48, 8, -0.25, 0}, /* coverage outside (0, 1] */
      {56, 8, -0.01, 0}, {56, 8, 1.01, 0}, {56, 8, INFINITY, 0},           /* risk outside [0, 1] */
      {64, 4, 0, 3}, {64, 4, 0, UINT32_MAX},          /* unknown rule */
      {68, 4, 0, 1},                                  /* reserved */
  };
  for (size_t e = 0; e < sizeof edits / sizeof *edits; ++e) {
    memcpy(b, blob, n);
    if (edits[e].bytes == 8) put_f64(b + edits[e].at, edits[e].f);
    else put_le(b + edits[e].at, edits[e].u, edits[e].bytes);
    mref_blob_fix_crc(b, n);
    expect_corrupt(b, n);
  }
  /* the same edits leave a valid blob when the values are in range */
  memcpy(b, blob, n);
  put_f64(b + 48, 1.0);
  put_f64(b + 56, 0.0);
  mref_blob_fix_crc(b, n);
  ck_assert_int_eq(logitnorm_metrics_load(&m, b, n), LOGITNORM_OK);
  ck_assert_double_eq(get(m, LOGITNORM_METRICS_COVERAGE), 1.0);
  ck_assert_double_eq(get(m, LOGITNORM_METRICS_RISK), 0.0);
  logitnorm_metrics_free(m);
  free(b);
  free(blob);
}
END_TEST

/* The OOD settings do not touch the selective values, and f32 and f64 adds agree. */
START_TEST(independent_of_ood_settings) {
  float conf32[6];
  for (int i = 0; i < 6; ++i) conf32[i] = (float)A_CONF[i];
  for (int rule = 0; rule <= 2; ++rule) {
    logitnorm_metrics *m = make(&A, rule), *f = NULL;
    ck_assert_int_eq(logitnorm_metrics_create(&f), LOGITNORM_OK);
    set(f, LOGITNORM_METRICS_RISK_RULE, rule);
    for (int i = 0; i < 6; ++i) ck_assert_int_eq(logitnorm_metrics_add_f32(f, &conf32[i], 1, A_WRONG[i]), LOGITNORM_OK);
    double a[N_SELECTIVE], b[N_SELECTIVE], c[N_SELECTIVE];
    values_of(m, a);
    values_of(f, c); /* the float confidences have the same order and ties */
    set(m, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_OOD);
    set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.5);
    set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_OPENOOD);
    set(m, LOGITNORM_METRICS_AUPR_RULE, LOGITNORM_AUPR_TRAPEZOID);
    values_of(m, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    ck_assert(memcmp(a, c, sizeof a) == 0);
    logitnorm_metrics_free(m);
    logitnorm_metrics_free(f);
  }
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_parameters) {
  logitnorm_metrics *m = make(&A, LOGITNORM_RISK_RULE_TRAPEZOID);
  const double bad_coverage[] = {0.0, -0.0, -0.5, 1.0000001, NAN, INFINITY};
  for (size_t i = 0; i < sizeof bad_coverage / sizeof *bad_coverage; ++i)
    expect_fail(logitnorm_metrics_set(m, LOGITNORM_METRICS_COVERAGE, bad_coverage[i]), LOGITNORM_ERR_INVALID_ARGUMENT);
  const double bad_risk[] = {-1e-300, 1.0000001, NAN, -INFINITY};
  for (size_t i = 0; i < sizeof bad_risk / sizeof *bad_risk; ++i)
    expect_fail(logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK, bad_risk[i]), LOGITNORM_ERR_INVALID_ARGUMENT);
  const double bad_rule[] = {-1, 3, 0.5, NAN};
  for (size_t i = 0; i < sizeof bad_rule / sizeof *bad_rule; ++i)
    expect_fail(logitnorm_metrics_set(m, LOGITNORM_METRICS_RISK_RULE, bad_rule[i]), LOGITNORM_ERR_INVALID_ARGUMENT);
  /* unchanged */
  ck_assert_double_eq(get(m, LOGITNORM_METRICS_COVERAGE), 0.8);
  ck_assert_double_eq(get(m, LOGITNORM_METRICS_RISK), 0.05);
  ck_assert_double_eq(get(m, LOGITNORM_METRICS_RISK_RULE), 0);
  /* the edges are valid */
  set(m, LOGITNORM_METRICS_COVERAGE, 1.0);
  set(m, LOGITNORM_METRICS_COVERAGE, 1e-300);
  set(m, LOGITNORM_METRICS_RISK, 0.0);
  set(m, LOGITNORM_METRICS_RISK, 1.0);
  set(m, LOGITNORM_METRICS_RISK_RULE, 2);
  double out = 1234.5;
  expect_fail(logitnorm_metrics_value(m, (logitnorm_metric)13, &out), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_value(m, (logitnorm_metric)-1, &out), LOGITNORM_ERR_INVALID_ARGUMENT);
  expect_fail(logitnorm_metrics_value(m, LOGITNORM_METRIC_AURC, NULL), LOGITNORM_ERR_NULL_POINTER);
  expect_fail(logitnorm_metrics_value(NULL, LOGITNORM_METRIC_AURC, &out), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_double_eq(out, 1234.5);
  logitnorm_metrics_free(m);
}
END_TEST

/* No samples: every selective value is a wrong state and writes nothing; one class alone is
   enough (all correct or all wrong). */
START_TEST(empty_accumulator) {
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  for (int rule = 0; rule <= 2; ++rule) {
    set(m, LOGITNORM_METRICS_RISK_RULE, rule);
    for (int k = 0; k < N_SELECTIVE; ++k) {
      double out = 1234.5;
      expect_fail(logitnorm_metrics_value(m, SELECTIVE[k], &out), LOGITNORM_ERR_INVALID_STATE);
      ck_assert_double_eq(out, 1234.5);
    }
  }
  const float c[2] = {0.25f, 0.5f};
  ck_assert_int_eq(logitnorm_metrics_add_f32(m, c, 2, 1), LOGITNORM_OK);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AURC), 1.0); /* PER_SAMPLE: risk 1 over [1/2, 1], normalised */
  set(m, LOGITNORM_METRICS_RISK_RULE, LOGITNORM_RISK_RULE_TRAPEZOID);
  ck_assert_double_eq(value(m, LOGITNORM_METRIC_AURC), 0.5);
  logitnorm_metrics_free(m);
}
END_TEST

static Suite *selective_suite(void) {
  Suite *s = suite_create("metrics_selective");
  TCase *golden = tcase_create("golden");
  tcase_add_test(golden, golden_trapezoid);
  tcase_add_test(golden, golden_per_sample);
  tcase_add_test(golden, golden_geifman);
  tcase_add_test(golden, golden_all_correct);
  tcase_add_test(golden, golden_all_wrong);
  tcase_add_test(golden, golden_one_sample);
  tcase_add_test(golden, golden_one_tie_block);
  suite_add_tcase(s, golden);
  TCase *ref = tcase_create("reference");
  tcase_add_loop_test(ref, random_against_reference, 0, 4);
  tcase_add_loop_test(ref, random_no_ties_default_levels, 0, 4);
  tcase_add_loop_test(ref, per_sample_is_mean_over_orders, 0, 4);
  tcase_add_test(ref, perfect_ranking_is_zero);
  tcase_set_timeout(ref, 60);
  suite_add_tcase(s, ref);
  TCase *state = tcase_create("state");
  tcase_add_test(state, merge_of_parts_is_whole);
  tcase_add_test(state, blob_round_trip);
  tcase_add_test(state, blob_format2_damage);
  tcase_add_test(state, independent_of_ood_settings);
  tcase_add_test(state, bad_parameters);
  tcase_add_test(state, empty_accumulator);
  suite_add_tcase(s, state);
  return s;
}

int main(void) {
  return tu_run_suite(selective_suite());
}
