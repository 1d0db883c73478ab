/* Saving and loading the calibration accumulator (frame: common/blob.h). Payload:
     i64 num_classes, f64 temperature, i64 count, i64 correct,
     u64 bins B, then per bin: i64 count, i64 correct, 70 u32 digits of the confidence sum,
     then the 70 u32 digits of the NLL sum and of the Brier sum.
   Digits are those of the exact sums (exact_sum.h), least significant first. */
#include <math.h>

#include "calibration.h"
#include "common/blob.h"
#include "common/error.h"
#include "common/validate.h"

#define LN_BIN_BYTES (16 + 4 * LN_XSUM_DIGITS)

static void ln_put_xsum(ln_writer *w, const ln_xsum *s) {
  for (int k = 0; k < LN_XSUM_DIGITS; ++k) ln_put_u32(w, (uint32_t)s->digit[k]);
}

static void ln_get_xsum(ln_reader *r, ln_xsum *s) {
  for (int k = 0; k < LN_XSUM_DIGITS; ++k) s->digit[k] = ln_get_u32(r);
}

static void ln_calibration_payload(ln_writer *w, const void *ctx) {
  const logitnorm_calibration *c = ctx;
  ln_put_i64(w, c->num_classes);
  ln_put_f64(w, c->temperature);
  ln_put_i64(w, c->count);
  ln_put_i64(w, c->correct);
  ln_put_u64(w, (uint64_t)c->bins);
  for (int64_t k = 0; k < c->bins; ++k) {
    ln_put_i64(w, c->bin_count[k]);
    ln_put_i64(w, c->bin_correct[k]);
    ln_put_xsum(w, &c->bin_conf[k]);
  }
  ln_put_xsum(w, &c->nll);
  ln_put_xsum(w, &c->brier);
}

LOGITNORM_API logitnorm_status logitnorm_calibration_save(const logitnorm_calibration *c, void *buf,
                                                          size_t capacity, size_t *size) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st != LOGITNORM_OK) return st;
  return ln_blob_save(LN_BLOB_CALIBRATION, 0, ln_calibration_payload, c, buf, capacity, size);
}

static logitnorm_status ln_corrupt(const char *what) {
  return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "calibration blob: %s", what);
}

static int ln_xsum_is_zero(const ln_xsum *s) {
  for (int k = 0; k < LN_XSUM_DIGITS; ++k)
    if (s->digit[k] != 0) return 0;
  return 1;
}

/* The per-bin fields must add up and each sum must be possible: a confidence lies in
   (0, 1], a Brier score in [0, 2], an NLL is finite and >= 0. */
static logitnorm_status ln_check_loaded(const logitnorm_calibration *c) {
  int64_t count = 0, correct = 0;
  for (int64_t k = 0; k < c->bins; ++k) {
    int64_t n = c->bin_count[k], a = c->bin_correct[k];
    if (n < 0 || a < 0 || a > n || n > c->count - count) return ln_corrupt("inconsistent bin counts");
    count += n;
    correct += a;
    double s = ln_xsum_value(&c->bin_conf[k]);
    if (!(s <= (double)n) || (n == 0 && !ln_xsum_is_zero(&c->bin_conf[k])))
      return ln_corrupt("a bin's confidence sum is impossible for its count");
  }
  if (count != c->count || correct != c->correct) return ln_corrupt("bin counts do not add up to the totals");
  double nll = ln_xsum_value(&c->nll), brier = ln_xsum_value(&c->brier);
  if (!isfinite(nll) || !(brier <= 2.0 * (double)c->count) ||
      (c->count == 0 && (!ln_xsum_is_zero(&c->nll) || !ln_xsum_is_zero(&c->brier))))
    return ln_corrupt("the NLL or Brier sum is impossible for the count");
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_calibration_load(logitnorm_calibration **out, const void *buf,
                                                          size_t size) {
  logitnorm_status st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  ln_reader r;
  st = ln_blob_open(&r, buf, size, LN_BLOB_CALIBRATION, NULL);
  if (st != LOGITNORM_OK) return st;
  int64_t num_classes = ln_get_i64(&r);
  double temperature = ln_get_f64(&r);
  int64_t count = ln_get_i64(&r), correct = ln_get_i64(&r);
  int64_t bins = ln_get_count(&r, LN_BIN_BYTES, LN_CALIBRATION_MAX_BINS);
  if (r.bad || bins < 1) return ln_corrupt("the header fields are truncated or the bin count is invalid");
  if (num_classes < 1 || num_classes > INT32_MAX) return ln_corrupt("num_classes is outside [1, 2^31)");
  if (!(temperature >= LN_CALIBRATION_MIN_TEMPERATURE && temperature <= LN_CALIBRATION_MAX_TEMPERATURE))
    return ln_corrupt("temperature is out of range");
  if (count < 0 || correct < 0 || correct > count) return ln_corrupt("inconsistent totals");
  logitnorm_calibration *c = NULL;
  st = logitnorm_calibration_create(&c, num_classes);
  if (st == LOGITNORM_OK) st = ln_calibration_alloc_bins(c, bins);
  if (st != LOGITNORM_OK) {
    logitnorm_calibration_free(c);
    return st;
  }
  c->temperature = temperature;
  c->count = count;
  c->correct = correct;
  for (int64_t k = 0; k < bins; ++k) {
    c->bin_count[k] = ln_get_i64(&r);
    c->bin_correct[k] = ln_get_i64(&r);
    ln_get_xsum(&r, &c->bin_conf[k]);
  }
  ln_get_xsum(&r, &c->nll);
  ln_get_xsum(&r, &c->brier);
  st = ln_blob_close(&r);
  if (st == LOGITNORM_OK) st = ln_check_loaded(c);
  if (st != LOGITNORM_OK) {
    logitnorm_calibration_free(c);
    return st;
  }
  *out = c;
  return LOGITNORM_OK;
}
