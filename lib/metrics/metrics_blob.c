/* Saving and loading the metrics accumulator (frame: common/blob.h). Payload of format 1:
     f64 tpr_level, u32 positive, u32 fpr_rule, u32 aupr_rule, u32 reserved (0),
     u64 n_id,  n_id  f64 ID scores,
     u64 n_ood, n_ood f64 OOD scores.
   Format 2 (since 1.2) inserts the selective-classification parameters before the scores:
     f64 coverage, f64 risk, u32 risk_rule, u32 reserved (0).
   Save writes format 1 when those three hold their defaults, so that a 1.0 or 1.1 reader still
   loads such a blob and an old blob saves again to the same bytes; format 2 otherwise. Load
   reads both (format 1: the defaults). The scores are exact, so a loaded accumulator reproduces
   every value bit for bit. */
#include <math.h>

#include "common/alloc.h"
#include "common/blob.h"
#include "common/error.h"
#include "common/validate.h"
#include "metrics.h"
#include "radix_sort.h"

enum { LN_METRICS_FORMAT_NEWEST = 2 };

/* Format 1 holds the state exactly when the selective parameters are the defaults. */
static unsigned ln_metrics_format(const logitnorm_metrics *m) {
  int defaults = m->coverage_level == LN_METRICS_COVERAGE_DEFAULT && m->risk_level == LN_METRICS_RISK_DEFAULT &&
                 m->risk_rule == LOGITNORM_RISK_RULE_TRAPEZOID;
  return defaults ? 1u : 2u;
}

static void ln_metrics_payload(ln_writer *w, const void *ctx) {
  const logitnorm_metrics *m = ctx;
  ln_put_f64(w, m->tpr_level);
  ln_put_u32(w, (uint32_t)m->positive);
  ln_put_u32(w, (uint32_t)m->fpr_rule);
  ln_put_u32(w, (uint32_t)m->aupr_rule);
  ln_put_u32(w, 0);
  if (ln_metrics_format(m) >= 2) {
    ln_put_f64(w, m->coverage_level);
    ln_put_f64(w, m->risk_level);
    ln_put_u32(w, (uint32_t)m->risk_rule);
    ln_put_u32(w, 0);
  }
  for (int c = 0; c < 2; ++c) {
    ln_put_u64(w, (uint64_t)m->count[c]);
    if (w->buf == NULL) {
      w->pos += (size_t)m->count[c] * sizeof(double);
      continue;
    }
    for (int64_t i = 0; i < m->count[c]; ++i) ln_put_f64(w, ln_double_from_key(m->keys[c][i]));
  }
}

LOGITNORM_API logitnorm_status logitnorm_metrics_save(const logitnorm_metrics *m, void *buf, size_t capacity,
                                                      size_t *size) {
  logitnorm_status st = ln_check_ptr(m, "m");
  if (st != LOGITNORM_OK) return st;
  const ln_blob_id id = {.object = LN_BLOB_METRICS, .version = ln_metrics_format(m), .subkind = 0};
  return ln_blob_save_id(&id, ln_metrics_payload, m, buf, capacity, size);
}

static logitnorm_status ln_corrupt(const char *what) {
  return ln_fail(LOGITNORM_ERR_CORRUPT_DATA, "metrics blob: %s", what);
}

/* Reads one class's scores into m (which is still private to load). */
static logitnorm_status ln_load_scores(ln_reader *r, logitnorm_metrics *m, int c) {
  int64_t n = ln_get_count(r, sizeof(double), INT64_MAX / 8);
  if (n < 0) return ln_corrupt("a score count exceeds the payload");
  if (ln_metrics_reserve(m, c, n) != LOGITNORM_OK) return LOGITNORM_ERR_OUT_OF_MEMORY;
  for (int64_t i = 0; i < n; ++i) {
    double v = ln_get_f64(r);
    if (!isfinite(v)) return ln_corrupt("a score is not finite");
    m->keys[c][i] = ln_key_from_double(v);
  }
  m->count[c] = n;
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_metrics_load(logitnorm_metrics **out, const void *buf, size_t size) {
  logitnorm_status st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  ln_reader r;
  const ln_blob_id want = {.object = LN_BLOB_METRICS, .version = LN_METRICS_FORMAT_NEWEST, .subkind = 0};
  ln_blob_id got;
  st = ln_blob_open_id(&r, buf, size, &want, &got);
  if (st != LOGITNORM_OK) return st;
  logitnorm_metrics *m = NULL;
  st = logitnorm_metrics_create(&m);
  if (st != LOGITNORM_OK) return st;
  double level = ln_get_f64(&r);
  uint32_t positive = ln_get_u32(&r), fpr_rule = ln_get_u32(&r), aupr_rule = ln_get_u32(&r);
  uint32_t reserved = ln_get_u32(&r);
  if (r.bad) st = ln_corrupt("the parameters are truncated");
  else if (!(level > 0.0 && level <= 1.0)) st = ln_corrupt("tpr_level is outside (0, 1]");
  else if (positive > LOGITNORM_POSITIVE_OOD) st = ln_corrupt("unknown positive class");
  else if (fpr_rule > LOGITNORM_FPR_RULE_OPENOOD) st = ln_corrupt("unknown FPR rule");
  else if (aupr_rule > LOGITNORM_AUPR_TRAPEZOID) st = ln_corrupt("unknown AUPR rule");
  else if (reserved != 0) st = ln_corrupt("reserved field is not 0");
  double coverage = LN_METRICS_COVERAGE_DEFAULT, risk = LN_METRICS_RISK_DEFAULT;
  uint32_t risk_rule = LOGITNORM_RISK_RULE_TRAPEZOID;
  if (st == LOGITNORM_OK && got.version >= 2) {
    coverage = ln_get_f64(&r);
    risk = ln_get_f64(&r);
    risk_rule = ln_get_u32(&r);
    reserved = ln_get_u32(&r);
    if (r.bad) st = ln_corrupt("the selective parameters are truncated");
    else if (!(coverage > 0.0 && coverage <= 1.0)) st = ln_corrupt("coverage is outside (0, 1]");
    else if (!(risk >= 0.0 && risk <= 1.0)) st = ln_corrupt("risk is outside [0, 1]");
    else if (risk_rule > LOGITNORM_RISK_RULE_PER_SAMPLE) st = ln_corrupt("unknown risk rule");
    else if (reserved != 0) st = ln_corrupt("the reserved field after the risk rule is not 0");
  }
  if (st == LOGITNORM_OK) st = ln_load_scores(&r, m, LN_ID);
  if (st == LOGITNORM_OK) st = ln_load_scores(&r, m, LN_OOD);
  if (st == LOGITNORM_OK) st = ln_blob_close(&r);
  if (st != LOGITNORM_OK) {
    logitnorm_metrics_free(m);
    return st;
  }
  m->tpr_level = level;
  m->positive = (int)positive;
  m->fpr_rule = (int)fpr_rule;
  m->aupr_rule = (int)aupr_rule;
  m->coverage_level = coverage;
  m->risk_level = risk;
  m->risk_rule = (int)risk_rule;
  ln_metrics_changed(m);
  *out = m;
  return LOGITNORM_OK;
}
