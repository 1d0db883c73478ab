/* Plain double-precision reference code for the 1.2 calibration tests: per-row softmax, the
   two binnings (equal-width intervals tested one by one; equal-mass by a comparison sort and
   numpy's array_split division points), the binned values, classwise ECE, and the mean NLL of
   temperature scaling with its derivative in T. Written from the formulas, not from the
   library's code. */
#ifndef CALIBRATION_REF_H
#define CALIBRATION_REF_H

#include <stdint.h>

/* Logits of one call: float when f64 is NULL, double otherwise; -inf is a masked class. */
typedef struct cref_logits {
  int64_t n, C, ld;
  const float *f32;
  const double *f64;
  const int32_t *labels;
} cref_logits;

double cref_z(const cref_logits *x, int64_t i, int64_t j);

/* Per row of softmax(z / T) over the unmasked classes: the confidence max_j p_j, whether the
   first argmax of z is the label, and (probs non-NULL) all n x C probabilities, 0 for masked. */
void cref_rows(const cref_logits *x, double T, double *conf, int *correct, double *probs);

/* Bins of the rows: EQUAL_WIDTH (binning 0) or EQUAL_MASS (1). Writes, for each bin that holds
   rows, in ascending confidence, its count, mean confidence and accuracy (arrays of `bins`
   entries) and returns their number. */
int64_t cref_bins(int64_t n, const double *conf, const int *correct, int64_t bins, int binning, double *count,
                  double *mean_conf, double *accuracy);

typedef struct cref_binned {
  double ece, mce, rmsce;
} cref_binned;
/* ECE, MCE and RMSCE from the output of cref_bins over n rows. */
cref_binned cref_binned_values(int64_t n_bins, const double *count, const double *mean_conf, const double *accuracy,
                               int64_t n);

/* Mean over classes k of the equal-width ECE of p_k against [y == k]. */
double cref_classwise_ece(int64_t n, int64_t C, const double *probs, const int32_t *labels, int64_t bins);

/* Mean NLL of softmax(z / T) and its derivative in T. */
double cref_nll(const cref_logits *x, double T);
double cref_nll_slope_t(const cref_logits *x, double T);
/* The T minimising cref_nll: a grid of `grid` points evenly spaced in log T over [t_lo, t_hi],
   then bisection on the sign of cref_nll_slope_t between the neighbours of the grid minimum,
   to a bracket of relative width 1e-14. */
double cref_fit_temperature(const cref_logits *x, double t_lo, double t_hi, int grid);

#endif
