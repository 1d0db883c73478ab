/* Classwise ECE (Kull et al., 2019): for every class k, the equal-width ECE of p_k against the
   indicator [y == k], averaged over the classes. Each (class, bin) cell keeps integer sums
   only (calibration.h), so merging in any order gives the same bits. */
#include <math.h>
#include <string.h>

#include "calibration.h"
#include "common/alloc.h"
#include "common/error.h"

/* One probability unit is 2^-63: p in [0, 1] becomes an integer in [0, 2^63]. */
#define LN_PROB_UNIT_BITS 63

logitnorm_status ln_classwise_alloc(logitnorm_calibration *c) {
  if (c->classwise != NULL) return LOGITNORM_OK;
  /* num_classes <= 2^31 and bins <= 10^4: the product cannot overflow int64 */
  ln_classwise_cell *cells = ln_calloc(c->num_classes * c->bins, sizeof *cells);
  double *probs = ln_malloc(c->num_classes, sizeof *probs);
  if (cells == NULL || probs == NULL) {
    ln_free(cells);
    ln_free(probs);
    return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the classwise sums of %lld classes x %lld bins "
                   "(32 bytes each)", (long long)c->num_classes, (long long)c->bins);
  }
  c->classwise = cells;
  c->probs = probs;
  return LOGITNORM_OK;
}

void ln_classwise_free(logitnorm_calibration *c) {
  ln_free(c->classwise);
  ln_free(c->probs);
  c->classwise = NULL;
  c->probs = NULL;
}

/* round(p 2^63), halves up, for p in [0, 1]: floor and the fraction are exact in double. */
static uint64_t ln_prob_units(double p) {
  double x = ldexp(p, LN_PROB_UNIT_BITS);
  double whole = floor(x);
  return (uint64_t)whole + (x - whole >= 0.5);
}

static void ln_add128(uint64_t *lo, uint64_t *hi, uint64_t add_lo, uint64_t add_hi) {
  uint64_t sum = *lo + add_lo;
  *hi += add_hi + (sum < add_lo);
  *lo = sum;
}

void ln_classwise_add(logitnorm_calibration *c, const double *probs, int32_t y) {
  int64_t B = c->bins;
  for (int64_t k = 0; k < c->num_classes; ++k) {
    ln_classwise_cell *cell = &c->classwise[k * B + ln_calibration_bin(probs[k], B)];
    cell->count++;
    cell->labelled += k == y;
    ln_add128(&cell->prob_lo, &cell->prob_hi, ln_prob_units(probs[k]), 0);
  }
}

void ln_classwise_merge(logitnorm_calibration *dst, const logitnorm_calibration *src) {
  int64_t cells = dst->num_classes * dst->bins;
  for (int64_t i = 0; i < cells; ++i) {
    /* read src before writing dst: they may be the same cell */
    ln_classwise_cell s = src->classwise[i];
    ln_classwise_cell *d = &dst->classwise[i];
    d->count += s.count;
    d->labelled += s.labelled;
    ln_add128(&d->prob_lo, &d->prob_hi, s.prob_lo, s.prob_hi);
  }
}

/* |P - L 2^63| in units of 2^-63, exactly in 128 bits, then rounded once to a double of the
   difference itself. L <= 2^63 - 1 rows, so L 2^63 < 2^126 fits. */
static double ln_cell_gap(const ln_classwise_cell *cell) {
  uint64_t l = (uint64_t)cell->labelled;
  uint64_t l_lo = l << LN_PROB_UNIT_BITS, l_hi = l >> (64 - LN_PROB_UNIT_BITS);
  uint64_t a_lo = cell->prob_lo, a_hi = cell->prob_hi, b_lo = l_lo, b_hi = l_hi;
  if (a_hi < b_hi || (a_hi == b_hi && a_lo < b_lo)) {
    a_lo = l_lo;
    a_hi = l_hi;
    b_lo = cell->prob_lo;
    b_hi = cell->prob_hi;
  }
  uint64_t d_lo = a_lo - b_lo, d_hi = a_hi - b_hi - (a_lo < b_lo);
  /* d_hi 2^64 + d_lo, with at most one rounding for each term and one for their sum */
  return ldexp((double)d_hi, 64 - LN_PROB_UNIT_BITS) + ldexp((double)d_lo, -LN_PROB_UNIT_BITS);
}

double ln_classwise_ece(const logitnorm_calibration *c) {
  double total = 0.0;
  for (int64_t k = 0; k < c->num_classes; ++k) {
    double sum = 0.0;
    for (int64_t b = 0; b < c->bins; ++b) sum += ln_cell_gap(&c->classwise[k * c->bins + b]);
    total += sum / (double)c->count;
  }
  return total / (double)c->num_classes;
}
