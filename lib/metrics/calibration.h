/* Calibration accumulator: per-bin counts and exact sums (see exact_sum.h), so that merging
   partial accumulators gives the same bits as one accumulator fed everything, in any order. */
#ifndef LN_METRICS_CALIBRATION_H
#define LN_METRICS_CALIBRATION_H

#include <stdint.h>

#include "exact_sum.h"
#include "logitnorm.h"

#define LN_CALIBRATION_MAX_BINS 10000
/* z / T stays finite for every finite float z (|z| < 2^128) when T is in this range. */
#define LN_CALIBRATION_MIN_TEMPERATURE 1e-100
#define LN_CALIBRATION_MAX_TEMPERATURE 1e100

struct logitnorm_calibration {
  int64_t num_classes;
  int64_t bins;
  double temperature;
  int64_t count, correct;
  int64_t *bin_count;   /* samples whose confidence falls in bin k = (k/B, (k+1)/B] */
  int64_t *bin_correct; /* of which predicted correctly */
  ln_xsum *bin_conf;    /* sum of their confidences */
  ln_xsum nll, brier;   /* sums of the per-sample NLL and Brier score */
};

/* Allocates the per-bin arrays of c for `bins` bins (zeroed); frees the old ones on success. */
logitnorm_status ln_calibration_alloc_bins(logitnorm_calibration *c, int64_t bins);
/* The bin (k/B, (k+1)/B] holding confidence conf in [0, 1]; conf == 0 goes to bin 0. */
int64_t ln_calibration_bin(double conf, int64_t bins);

#endif
