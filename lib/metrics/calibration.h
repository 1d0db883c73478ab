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

/* Per (class k, bin b) sums of CLASSWISE_ECE: the rows whose p_k lies in equal-width bin b,
   how many of them have label k, and the sum of their p_k in units of 2^-63, each p_k rounded
   to the nearest unit first (half up; error at most 2^-64 per row) so that the sum is an
   integer below 2^126, kept in two words and exact in any order. */
typedef struct ln_classwise_cell {
  int64_t count, labelled;
  uint64_t prob_lo, prob_hi;
} ln_classwise_cell;

struct logitnorm_calibration {
  int64_t num_classes;
  int64_t bins;
  double temperature;
  int binning;          /* logitnorm_binning */
  int64_t count, correct;
  int64_t *bin_count;   /* samples whose confidence falls in bin k = (k/B, (k+1)/B] */
  int64_t *bin_correct; /* of which predicted correctly */
  ln_xsum *bin_conf;    /* sum of their confidences */
  ln_xsum nll, brier;   /* sums of the per-sample NLL and Brier score */
  /* CLASSWISE_ECE under EQUAL_WIDTH: num_classes x bins cells, class-major, allocated by the
     first add (or a merge into an empty accumulator), with `probs`, a row of num_classes
     doubles for the row being added. Invariant: under EQUAL_WIDTH, count > 0 with classwise
     == NULL means some rows came without per-class sums (from a blob of format version 1), and
     then no per-class sum is kept until a reset. Always NULL under EQUAL_MASS. */
  ln_classwise_cell *classwise;
  double *probs;
  /* EQUAL_MASS: the confidence of every row as an order-preserving key (radix_sort.h),
     [0] for misclassified rows and [1] for correct ones; sorted only in copies. */
  uint64_t *mass_keys[2];
  int64_t mass_count[2], mass_capacity[2];
};

/* Allocates the per-bin arrays of c for `bins` bins (zeroed); frees the old ones on success. */
logitnorm_status ln_calibration_alloc_bins(logitnorm_calibration *c, int64_t bins);
/* The bin (k/B, (k+1)/B] holding confidence conf in [0, 1]; conf == 0 goes to bin 0. */
int64_t ln_calibration_bin(double conf, int64_t bins);

/* ---- classwise sums (calibration_classwise.c) ---- */
/* Allocates zeroed cells and the probability row if c has none yet. */
logitnorm_status ln_classwise_alloc(logitnorm_calibration *c);
void ln_classwise_free(logitnorm_calibration *c);
/* Adds one row: probs[k] = p_k of its num_classes classes, y its label. */
void ln_classwise_add(logitnorm_calibration *c, const double *probs, int32_t y);
/* dst += src (both allocated with the same shape; dst == src doubles). */
void ln_classwise_merge(logitnorm_calibration *dst, const logitnorm_calibration *src);
/* mean over classes of sum_b |P_kb - L_kb| / N. */
double ln_classwise_ece(const logitnorm_calibration *c);

/* ---- equal-mass rows (calibration_mass.c) ---- */
/* Room for `extra` more keys in class `correct` (0 or 1). */
logitnorm_status ln_mass_reserve(logitnorm_calibration *c, int correct, int64_t extra);
void ln_mass_free(logitnorm_calibration *c);

/* The bins of the current binning, as the values and the reliability data see them: for bin
   k, count[k] rows, correct[k] of them correct, conf[k] the sum of their confidences. Under
   EQUAL_WIDTH the arrays point into c (all BINS bins, empty ones included) and nothing is
   allocated; under EQUAL_MASS they are allocated (only the bins that hold rows) and
   ln_bin_table_free releases them. */
typedef struct ln_bin_table {
  int64_t n;
  const int64_t *count, *correct;
  const ln_xsum *conf;
  void *owned;
} ln_bin_table;
logitnorm_status ln_bin_table_make(const logitnorm_calibration *c, ln_bin_table *t);
void ln_bin_table_free(ln_bin_table *t);

#endif
