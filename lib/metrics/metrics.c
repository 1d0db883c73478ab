/* Metrics handle: parameters, adding scores, merging, the one sort and the block walk. */
#include "metrics.h"

#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/validate.h"
#include "radix_sort.h"

LOGITNORM_API logitnorm_status logitnorm_metrics_create(logitnorm_metrics **out) {
  logitnorm_status st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  logitnorm_metrics *m = ln_calloc(1, sizeof *m);
  if (m == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the metrics handle");
  m->tpr_level = 0.95;
  m->positive = LOGITNORM_POSITIVE_ID;
  m->fpr_rule = LOGITNORM_FPR_RULE_NEAREST;
  m->aupr_rule = LOGITNORM_AUPR_AVERAGE_PRECISION;
  m->coverage_level = LN_METRICS_COVERAGE_DEFAULT;
  m->risk_level = LN_METRICS_RISK_DEFAULT;
  m->risk_rule = LOGITNORM_RISK_RULE_TRAPEZOID;
  m->sorted = 1;
  *out = m;
  return LOGITNORM_OK;
}

LOGITNORM_API void logitnorm_metrics_free(logitnorm_metrics *m) {
  if (m == NULL) return;
  ln_free(m->keys[LN_ID]);
  ln_free(m->keys[LN_OOD]);
  ln_free(m);
}

LOGITNORM_API logitnorm_status logitnorm_metrics_set(logitnorm_metrics *m, logitnorm_metrics_param p, double value) {
  logitnorm_status st = ln_check_ptr(m, "m");
  if (st != LOGITNORM_OK) return st;
  switch (p) {
    case LOGITNORM_METRICS_TPR_LEVEL:
      st = ln_check_param(value, 0.0, 1, 1.0, 0, "tpr_level");
      if (st == LOGITNORM_OK) m->tpr_level = value;
      return st;
    case LOGITNORM_METRICS_POSITIVE:
      st = ln_check_param_int(value, LOGITNORM_POSITIVE_ID, LOGITNORM_POSITIVE_OOD, "positive");
      if (st == LOGITNORM_OK) m->positive = (int)value;
      return st;
    case LOGITNORM_METRICS_FPR_RULE:
      st = ln_check_param_int(value, LOGITNORM_FPR_RULE_NEAREST, LOGITNORM_FPR_RULE_OPENOOD, "fpr_rule");
      if (st == LOGITNORM_OK) m->fpr_rule = (int)value;
      return st;
    case LOGITNORM_METRICS_AUPR_RULE:
      st = ln_check_param_int(value, LOGITNORM_AUPR_AVERAGE_PRECISION, LOGITNORM_AUPR_TRAPEZOID, "aupr_rule");
      if (st == LOGITNORM_OK) m->aupr_rule = (int)value;
      return st;
    case LOGITNORM_METRICS_COVERAGE:
      st = ln_check_param(value, 0.0, 1, 1.0, 0, "coverage");
      if (st == LOGITNORM_OK) m->coverage_level = value;
      return st;
    case LOGITNORM_METRICS_RISK:
      st = ln_check_param(value, 0.0, 0, 1.0, 0, "risk");
      if (st == LOGITNORM_OK) m->risk_level = value;
      return st;
    case LOGITNORM_METRICS_RISK_RULE:
      st = ln_check_param_int(value, LOGITNORM_RISK_RULE_TRAPEZOID, LOGITNORM_RISK_RULE_PER_SAMPLE, "risk_rule");
      if (st == LOGITNORM_OK) m->risk_rule = (int)value;
      return st;
  }
  return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown metrics parameter %d", (int)p);
}

LOGITNORM_API logitnorm_status logitnorm_metrics_get(const logitnorm_metrics *m, logitnorm_metrics_param p,
                                                     double *value) {
  logitnorm_status st = ln_check_ptr(m, "m");
  if (st == LOGITNORM_OK) st = ln_check_ptr(value, "value");
  if (st != LOGITNORM_OK) return st;
  switch (p) {
    case LOGITNORM_METRICS_TPR_LEVEL: *value = m->tpr_level; return LOGITNORM_OK;
    case LOGITNORM_METRICS_POSITIVE: *value = m->positive; return LOGITNORM_OK;
    case LOGITNORM_METRICS_FPR_RULE: *value = m->fpr_rule; return LOGITNORM_OK;
    case LOGITNORM_METRICS_AUPR_RULE: *value = m->aupr_rule; return LOGITNORM_OK;
    case LOGITNORM_METRICS_COVERAGE: *value = m->coverage_level; return LOGITNORM_OK;
    case LOGITNORM_METRICS_RISK: *value = m->risk_level; return LOGITNORM_OK;
    case LOGITNORM_METRICS_RISK_RULE: *value = m->risk_rule; return LOGITNORM_OK;
  }
  return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown metrics parameter %d", (int)p);
}

void ln_metrics_changed(logitnorm_metrics *m) {
  m->sorted = 0;
  m->summary_valid = 0;
}

logitnorm_status ln_metrics_reserve(logitnorm_metrics *m, int c, int64_t extra) {
  if (extra > INT64_MAX / 8 - m->count[c])
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "%lld more scores overflow the accumulator", (long long)extra);
  int64_t need = m->count[c] + extra;
  if (need <= m->capacity[c]) return LOGITNORM_OK;
  /* Grow by half so that repeated small adds stay linear without doubling the memory. */
  int64_t cap = m->capacity[c] + m->capacity[c] / 2;
  if (cap < need) cap = need;
  if (cap < 64) cap = 64;
  uint64_t *k = ln_malloc(cap, sizeof *k);
  if (k == NULL) return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for %lld scores", (long long)cap);
  if (m->count[c] > 0) memcpy(k, m->keys[c], (size_t)m->count[c] * sizeof *k);
  ln_free(m->keys[c]);
  m->keys[c] = k;
  m->capacity[c] = cap;
  return LOGITNORM_OK;
}

static logitnorm_status ln_check_add(const logitnorm_metrics *m, const void *scores, int64_t n, int is_ood) {
  logitnorm_status st = ln_check_ptr(m, "m");
  if (st == LOGITNORM_OK) st = ln_check_ptr(scores, "scores");
  if (st == LOGITNORM_OK) st = ln_check_count(n, "n");
  if (st == LOGITNORM_OK && is_ood != 0 && is_ood != 1)
    st = ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "is_ood = %d is neither 0 nor 1", is_ood);
  return st;
}

LOGITNORM_API logitnorm_status logitnorm_metrics_add_f32(logitnorm_metrics *m, const float *scores, int64_t n,
                                                         int is_ood) {
  logitnorm_status st = ln_check_add(m, scores, n, is_ood);
  if (st == LOGITNORM_OK) st = ln_check_finite_f32(scores, 1, n, n, "scores");
  if (st == LOGITNORM_OK) st = ln_metrics_reserve(m, is_ood, n);
  if (st != LOGITNORM_OK || n == 0) return st; /* an empty set may have no key array to offset */
  uint64_t *dst = m->keys[is_ood] + m->count[is_ood];
  for (int64_t i = 0; i < n; ++i) dst[i] = ln_key_from_double((double)scores[i]);
  m->count[is_ood] += n;
  ln_metrics_changed(m);
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_metrics_add_f64(logitnorm_metrics *m, const double *scores, int64_t n,
                                                         int is_ood) {
  logitnorm_status st = ln_check_add(m, scores, n, is_ood);
  if (st == LOGITNORM_OK) st = ln_check_finite_f64(scores, 1, n, n, "scores");
  if (st == LOGITNORM_OK) st = ln_metrics_reserve(m, is_ood, n);
  if (st != LOGITNORM_OK || n == 0) return st; /* an empty set may have no key array to offset */
  uint64_t *dst = m->keys[is_ood] + m->count[is_ood];
  for (int64_t i = 0; i < n; ++i) dst[i] = ln_key_from_double(scores[i]);
  m->count[is_ood] += n;
  ln_metrics_changed(m);
  return LOGITNORM_OK;
}

/* Exact: the merged multiset is the union, and every value depends only on the multiset.
   dst == src is allowed (the data are doubled). dst keeps its own parameters. */
LOGITNORM_API logitnorm_status logitnorm_metrics_merge(logitnorm_metrics *dst, const logitnorm_metrics *src) {
  logitnorm_status st = ln_check_ptr(dst, "dst");
  if (st == LOGITNORM_OK) st = ln_check_ptr(src, "src");
  if (st != LOGITNORM_OK) return st;
  int64_t add_id = src->count[LN_ID], add_ood = src->count[LN_OOD];
  st = ln_metrics_reserve(dst, LN_ID, add_id);
  if (st == LOGITNORM_OK) st = ln_metrics_reserve(dst, LN_OOD, add_ood);
  if (st != LOGITNORM_OK) return st;
  /* Read src only now: when src == dst its arrays may just have moved. */
  if (add_id > 0) memcpy(dst->keys[LN_ID] + dst->count[LN_ID], src->keys[LN_ID], (size_t)add_id * sizeof(uint64_t));
  if (add_ood > 0)
    memcpy(dst->keys[LN_OOD] + dst->count[LN_OOD], src->keys[LN_OOD], (size_t)add_ood * sizeof(uint64_t));
  dst->count[LN_ID] += add_id;
  dst->count[LN_OOD] += add_ood;
  if (add_id + add_ood > 0) ln_metrics_changed(dst);
  return LOGITNORM_OK;
}

LOGITNORM_API logitnorm_status logitnorm_metrics_reset(logitnorm_metrics *m) {
  logitnorm_status st = ln_check_ptr(m, "m");
  if (st != LOGITNORM_OK) return st;
  for (int c = 0; c < 2; ++c) {
    ln_free(m->keys[c]);
    m->keys[c] = NULL;
    m->count[c] = 0;
    m->capacity[c] = 0;
  }
  ln_metrics_changed(m);
  m->sorted = 1;
  return LOGITNORM_OK;
}

logitnorm_status ln_metrics_sort(logitnorm_metrics *m) {
  if (m->sorted) return LOGITNORM_OK;
  /* The ID array may end up sorted while the OOD sort fails: harmless, the multiset and
     therefore every value are unchanged, and `sorted` stays 0 so both are sorted again. */
  for (int c = 0; c < 2; ++c)
    if (ln_radix_sort(m->keys[c], m->count[c]) != 0)
      return ln_fail(LOGITNORM_ERR_OUT_OF_MEMORY, "out of memory for the sort buffer of %lld scores",
                     (long long)m->count[c]);
  m->sorted = 1;
  return LOGITNORM_OK;
}

logitnorm_status ln_metrics_check_classes(const logitnorm_metrics *m) {
  if (m->count[LN_ID] == 0 || m->count[LN_OOD] == 0)
    return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the metric needs ID and OOD scores; the accumulator holds %lld ID "
                   "and %lld OOD", (long long)m->count[LN_ID], (long long)m->count[LN_OOD]);
  return LOGITNORM_OK;
}

/* ---- walk over tie blocks ---- */

void ln_walk_start(ln_walk *w, const logitnorm_metrics *m, int positive) {
  int p = positive == LOGITNORM_POSITIVE_ID ? LN_ID : LN_OOD;
  w->pos = m->keys[p];
  w->neg = m->keys[1 - p];
  w->n_pos = m->count[p];
  w->n_neg = m->count[1 - p];
  w->i_pos = 0;
  w->i_neg = 0;
  w->descending = positive == LOGITNORM_POSITIVE_ID;
}

/* The i-th key of a sorted array in walk order. */
static uint64_t ln_walk_key(const ln_walk *w, const uint64_t *a, int64_t n, int64_t i) {
  return w->descending ? a[n - 1 - i] : a[i];
}

/* How many keys equal to key follow position i. */
static int64_t ln_walk_run(const ln_walk *w, const uint64_t *a, int64_t n, int64_t i, uint64_t key) {
  int64_t j = i;
  while (j < n && ln_walk_key(w, a, n, j) == key) ++j;
  return j - i;
}

int ln_walk_next(ln_walk *w, uint64_t *key, int64_t *dp, int64_t *dn) {
  int has_p = w->i_pos < w->n_pos, has_n = w->i_neg < w->n_neg;
  if (!has_p && !has_n) return 0;
  uint64_t kp = has_p ? ln_walk_key(w, w->pos, w->n_pos, w->i_pos) : 0;
  uint64_t kn = has_n ? ln_walk_key(w, w->neg, w->n_neg, w->i_neg) : 0;
  uint64_t k;
  if (!has_p) k = kn;
  else if (!has_n) k = kp;
  else if (w->descending) k = kp > kn ? kp : kn;
  else k = kp < kn ? kp : kn;
  *dp = has_p ? ln_walk_run(w, w->pos, w->n_pos, w->i_pos, k) : 0;
  *dn = has_n ? ln_walk_run(w, w->neg, w->n_neg, w->i_neg, k) : 0;
  w->i_pos += *dp;
  w->i_neg += *dn;
  *key = k;
  return 1;
}
