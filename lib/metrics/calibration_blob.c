/* Saving and loading the calibration accumulator (frame: common/blob.h). Payload of format
   version 1 (liblogitnorm 1.0 and 1.1):
     i64 num_classes, f64 temperature, i64 count, i64 correct,
     u64 bins B, then per bin: i64 count, i64 correct, 70 u32 digits of the confidence sum,
     then the 70 u32 digits of the NLL sum and of the Brier sum.
   Version 2 (1.2) appends:
     u32 binning, u32 reserved (0), then
     EQUAL_WIDTH: num_classes x B classwise cells, class-major, each i64 count, i64 labelled,
                  u64 low and u64 high word of the probability sum (calibration.h);
     EQUAL_MASS:  u64 n0, n0 f64 confidences of the misclassified rows, u64 n1, n1 f64
                  confidences of the correct ones.
   save writes version 1 when the state has nothing version 1 lacks (equal-width binning and no
   classwise cells: an empty accumulator that never had rows, or one holding rows of a version
   1 blob), so that such a blob loads and saves to the same bytes; version 2 otherwise.
   Digits are those of the exact sums (exact_sum.h), least significant first. */
#include <math.h>
#include <string.h>

#include "calibration.h"
#include "common/alloc.h"
#include "common/blob.h"
#include "common/error.h"
#include "common/validate.h"
#include "radix_sort.h"

#define LN_BIN_BYTES (16 + 4 * LN_XSUM_DIGITS)
#define LN_CELL_BYTES 32
#define LN_CALIBRATION_BLOB_NEWEST 2

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

static int ln_blob_version_of(const logitnorm_calibration *c) {
  return c->binning == LOGITNORM_BINNING_EQUAL_WIDTH && c->classwise == NULL ? 1 : 2;
}

static void ln_calibration_payload_v2(ln_writer *w, const void *ctx) {
  const logitnorm_calibration *c = ctx;
  ln_calibration_payload(w, c);
  ln_put_u32(w, (uint32_t)c->binning);
  ln_put_u32(w, 0);
  if (c->binning == LOGITNORM_BINNING_EQUAL_WIDTH) {
    int64_t cells = c->num_classes * c->bins;
    if (w->buf == NULL) {
      w->pos += (size_t)cells * LN_CELL_BYTES;
      return;
    }
    for (int64_t i = 0; i < cells; ++i) {
      const ln_classwise_cell *cell = &c->classwise[i];
      ln_put_i64(w, cell->count);
      ln_put_i64(w, cell->labelled);
      ln_put_u64(w, cell->prob_lo);
      ln_put_u64(w, cell->prob_hi);
    }
    return;
  }
  for (int k = 0; k < 2; ++k) {
    ln_put_u64(w, (uint64_t)c->mass_count[k]);
    if (w->buf == NULL) {
      w->pos += (size_t)c->mass_count[k] * sizeof(double);
      continue;
    }
    for (int64_t i = 0; i < c->mass_count[k]; ++i) ln_put_f64(w, ln_double_from_key(c->mass_keys[k][i]));
  }
}

LOGITNORM_API logitnorm_status logitnorm_calibration_save(const logitnorm_calibration *c, void *buf,
                                                          size_t capacity, size_t *size) {
  logitnorm_status st = ln_check_ptr(c, "c");
  if (st != LOGITNORM_OK) return st;
  const ln_blob_id id = {.object = LN_BLOB_CALIBRATION, .version = (unsigned)ln_blob_version_of(c), .subkind = 0};
  return ln_blob_save_id(&id, id.version == 1 ? ln_calibration_payload : ln_calibration_payload_v2, c, buf, capacity,
                         size);
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

/* Version 2, equal-width: the classwise cells. Every row adds one p_k to one bin of every class
   and its label to one class, so each class's counts add up to the total and the labelled
   counts of all classes too; a probability sum is at most its count times one unit 2^63. */
static logitnorm_status ln_load_classwise(ln_reader *r, logitnorm_calibration *c) {
  int64_t cells = c->num_classes * c->bins;
  if ((uint64_t)cells > (r->end - r->pos) / LN_CELL_BYTES) return ln_corrupt("the classwise cells are truncated");
  if (ln_classwise_alloc(c) != LOGITNORM_OK) return LOGITNORM_ERR_OUT_OF_MEMORY;
  int64_t labelled = 0;
  for (int64_t k = 0; k < c->num_classes; ++k) {
    int64_t count = 0;
    for (int64_t b = 0; b < c->bins; ++b) {
      ln_classwise_cell *cell = &c->classwise[k * c->bins + b];
      cell->count = ln_get_i64(r);
      cell->labelled = ln_get_i64(r);
      cell->prob_lo = ln_get_u64(r);
      cell->prob_hi = ln_get_u64(r);
      uint64_t n = (uint64_t)cell->count;
      /* the largest possible sum, n 2^63, as (hi, lo) */
      uint64_t max_hi = n >> 1, max_lo = n << 63;
      if (cell->count < 0 || cell->labelled < 0 || cell->labelled > cell->count || cell->count > c->count - count ||
          cell->labelled > c->count - labelled || cell->prob_hi > max_hi ||
          (cell->prob_hi == max_hi && cell->prob_lo > max_lo))
        return ln_corrupt("a classwise cell is impossible for the counts");
      count += cell->count;
      labelled += cell->labelled;
    }
    if (count != c->count) return ln_corrupt("a class's classwise counts do not add up to the total");
  }
  if (labelled != c->count) return ln_corrupt("the classwise label counts do not add up to the total");
  return LOGITNORM_OK;
}

/* Version 2, equal-mass: the confidences, each in (0, 1], filed by correctness; they must
   give the equal-width bins exactly (counts and confidence sums), so nothing else can
   disagree with them. */
static logitnorm_status ln_load_mass(ln_reader *r, logitnorm_calibration *c) {
  for (int k = 0; k < 2; ++k) {
    int64_t n = ln_get_count(r, sizeof(double), INT64_MAX / 8);
    if (n < 0) return ln_corrupt("a confidence count exceeds the payload");
    if (ln_mass_reserve(c, k, n) != LOGITNORM_OK) return LOGITNORM_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < n; ++i) {
      double v = ln_get_f64(r);
      if (!(v > 0.0 && v <= 1.0)) return ln_corrupt("a confidence is outside (0, 1]");
      c->mass_keys[k][i] = ln_key_from_double(v);
    }
    c->mass_count[k] = n;
  }
  if (c->mass_count[1] != c->correct || c->mass_count[0] != c->count - c->correct)
    return ln_corrupt("the confidence counts do not match the totals");
  int64_t *count = ln_calloc(2 * c->bins, sizeof *count);
  ln_xsum *conf = ln_calloc(c->bins, sizeof *conf);
  logitnorm_status st = LOGITNORM_OK;
  if (count == NULL || conf == NULL) st = ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory checking a blob");
  for (int k = 0; k < 2 && st == LOGITNORM_OK; ++k)
    for (int64_t i = 0; i < c->mass_count[k]; ++i) {
      double v = ln_double_from_key(c->mass_keys[k][i]);
      int64_t b = ln_calibration_bin(v, c->bins);
      count[b]++;
      count[c->bins + b] += k;
      ln_xsum_add(&conf[b], v);
      if ((i + 1) % LN_XSUM_ADDS_PER_NORMALIZE == 0)
        for (int64_t j = 0; j < c->bins; ++j) ln_xsum_normalize(&conf[j]);
    }
  for (int64_t b = 0; b < c->bins && st == LOGITNORM_OK; ++b) {
    ln_xsum_normalize(&conf[b]);
    if (count[b] != c->bin_count[b] || count[c->bins + b] != c->bin_correct[b] ||
        memcmp(&conf[b], &c->bin_conf[b], sizeof conf[b]) != 0)
      st = ln_corrupt("the confidences do not give the stored bins");
  }
  ln_free(count);
  ln_free(conf);
  return st;
}

static logitnorm_status ln_load_v2(ln_reader *r, logitnorm_calibration *c) {
  uint32_t binning = ln_get_u32(r), reserved = ln_get_u32(r);
  if (r->bad) return ln_corrupt("the binning field is truncated");
  if (binning > LOGITNORM_BINNING_EQUAL_MASS || reserved != 0) return ln_corrupt("invalid binning or reserved field");
  c->binning = (int)binning;
  return binning == LOGITNORM_BINNING_EQUAL_WIDTH ? ln_load_classwise(r, c) : ln_load_mass(r, c);
}

LOGITNORM_API logitnorm_status logitnorm_calibration_load(logitnorm_calibration **out, const void *buf,
                                                          size_t size) {
  logitnorm_status st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  ln_reader r;
  const ln_blob_id want = {.object = LN_BLOB_CALIBRATION, .version = LN_CALIBRATION_BLOB_NEWEST, .subkind = 0};
  ln_blob_id got = {.version = 0};
  st = ln_blob_open_id(&r, buf, size, &want, &got);
  const unsigned version = got.version;
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
  /* a version 1 blob leaves c equal-width without classwise cells (calibration.h) */
  st = r.bad ? ln_corrupt("the bins are truncated") : ln_check_loaded(c);
  if (st == LOGITNORM_OK && version == 2) st = ln_load_v2(&r, c);
  if (st == LOGITNORM_OK) st = ln_blob_close(&r);
  if (st != LOGITNORM_OK) {
    logitnorm_calibration_free(c);
    return st;
  }
  *out = c;
  return LOGITNORM_OK;
}
