/* Plain double-precision reference code for the selective-classification metrics, written from
   the formulas in docs/metrics.md and independently of the library: a comparison sort, explicit
   arrays of points, naive sums, and for the per-sample rules the peers' computations spelled
   out on a concrete order of the samples (averaged over every order of tied samples by
   enumeration when asked). */
#ifndef SELECTIVE_REF_H
#define SELECTIVE_REF_H

#include <stdint.h>

typedef struct sref_values {
  double aurc, e_aurc, augrc, risk_at_coverage, coverage_at_risk;
} sref_values;

/* The samples: conf[i] and wrong[i] (1 for an error, 0 for a correct one), n >= 1. */
typedef struct sref_input {
  const double *conf;
  const int *wrong;
  int64_t n;
  double coverage, risk; /* the levels */
} sref_input;

/* The contract's rule: one point per distinct confidence, trapezoid from the first point to
   coverage 1, E-AURC against the per-sample trapezoid of the perfect ranking. */
void sref_trapezoid(const sref_input *in, sref_values *out);

/* The per-sample rules on one order of the samples, given as their residuals (1 for an error,
   0 for a correct one; fractions are allowed) from the most to the least confident:
   torch-uncertainty (AURC, AUGRC, E-AURC as AURC minus the same on the residuals sorted,
   RiskAtxCov, CovAtxRisk with 0 for none; the areas need n >= 2 and are left as they are
   otherwise), and the E-AURC paper's RC_curve (aurc, e_aurc; the other fields are left as
   they are). */
void sref_torch_order(const double *residual_desc, int64_t n, double coverage, double risk, sref_values *out);
void sref_geifman_order(const double *residual_desc, int64_t n, sref_values *out);

/* The mean of a per-sample rule (rule 1: GEIFMAN, 2: PER_SAMPLE) over every arrangement of the
   errors inside each tie block, by enumeration (n <= 20). coverage_at_risk is not a mean of
   anything and is left 0. */
void sref_per_sample_mean(const sref_input *in, int rule, sref_values *out);

/* The per-sample rules with each tie block's errors spread evenly over it (e_k fractional):
   every field, coverage_at_risk included; any n. */
void sref_per_sample_spread(const sref_input *in, int rule, sref_values *out);

#endif
