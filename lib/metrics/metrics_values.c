/* The metrics, each one pass over the tie blocks of the sorted scores (see metrics.h).
   All come from the same sort, done once per change of the data. */
#include <math.h>

#include "common/error.h"
#include "common/validate.h"
#include "metrics.h"
#include "radix_sort.h"

/* Neumaier's compensated sum: the area sums below have one term per distinct score. */
typedef struct ln_ksum {
  double sum, comp;
} ln_ksum;

static void ln_ksum_add(ln_ksum *s, double x) {
  double t = s->sum + x;
  if (fabs(s->sum) >= fabs(x)) s->comp += (s->sum - t) + x;
  else s->comp += (x - t) + s->sum;
  s->sum = t;
}

/* AUROC = (#pairs ID > OOD + 1/2 #pairs ID == OOD) / (n_id n_ood): the Mann-Whitney count,
   doubled to stay integral, in 128-bit integers, with one division at the end. Each OOD
   score in a block sees the tp ID scores above it and the dp tied ones. Identical for
   both positive classes. */
static double ln_auroc(const logitnorm_metrics *m) {
  ln_walk w;
  ln_walk_start(&w, m, LOGITNORM_POSITIVE_ID);
  unsigned __int128 twice_u = 0;
  int64_t tp = 0, dp, dn;
  uint64_t key;
  while (ln_walk_next(&w, &key, &dp, &dn)) {
    twice_u += (unsigned __int128)(uint64_t)dn * (uint64_t)(2 * tp + dp);
    tp += dp;
  }
  unsigned __int128 twice_pairs = (unsigned __int128)(uint64_t)(2 * w.n_pos) * (uint64_t)w.n_neg;
  return (double)((long double)twice_u / (long double)twice_pairs);
}

/* Area under the precision-recall curve of `positive`, over the operating points
   (R_0, P_0) = (0, 1), (R_k, P_k) = (tp_k / n_pos, tp_k / (tp_k + fp_k)).
   AVERAGE_PRECISION: sum_k (R_k - R_{k-1}) P_k  (scikit-learn average_precision_score);
   TRAPEZOID:         sum_k (R_k - R_{k-1}) (P_k + P_{k-1}) / 2. */
static double ln_aupr(const logitnorm_metrics *m, int positive, int rule) {
  ln_walk w;
  ln_walk_start(&w, m, positive);
  ln_ksum area = {0.0, 0.0};
  double prev_r = 0.0, prev_p = 1.0;
  int64_t tp = 0, fp = 0, dp, dn;
  uint64_t key;
  while (ln_walk_next(&w, &key, &dp, &dn)) {
    tp += dp;
    fp += dn;
    double r = (double)tp / (double)w.n_pos;
    double p = (double)tp / (double)(tp + fp);
    if (rule == LOGITNORM_AUPR_AVERAGE_PRECISION) ln_ksum_add(&area, (r - prev_r) * p);
    else ln_ksum_add(&area, (r - prev_r) * (p + prev_p) / 2.0);
    prev_r = r;
    prev_p = p;
  }
  return area.sum + area.comp;
}

typedef struct ln_point {
  int64_t tp, fp;
  uint64_t key;
} ln_point;

/* NEAREST (official LogitNorm / Hendrycks code): over the points up to the first one with
   full recall, the argmin of |recall - level|; on equal distance the lower threshold wins
   (their list runs from low to high thresholds and argmin keeps the first). */
static ln_point ln_point_nearest(ln_walk *w, double level) {
  ln_point cur = {0, 0, 0}, best = {0, 0, 0};
  double best_d = INFINITY;
  int64_t dp, dn;
  uint64_t key;
  while (ln_walk_next(w, &key, &dp, &dn)) {
    cur.tp += dp;
    cur.fp += dn;
    cur.key = key;
    double d = fabs((double)cur.tp / (double)w->n_pos - level);
    if (d <= best_d) {
      best_d = d;
      best = cur;
    }
    if (cur.tp == w->n_pos) break;
  }
  return best;
}

/* AT_LEAST: the first point with TPR >= level. With drop_intermediate (OPENOOD), points that
   scikit-learn's roc_curve drops are skipped: it keeps the first and last point and every
   point where the second difference of fps or tps is nonzero, i.e. a point is dropped when
   the next tie block has the same (positives, negatives) as its own. */
static ln_point ln_point_at_least(ln_walk *w, double level, int drop_intermediate) {
  ln_point cur = {0, 0, 0};
  int64_t dp, dn, next_dp = 0, next_dn = 0;
  uint64_t key, next_key = 0;
  int has = ln_walk_next(w, &key, &dp, &dn);
  for (int64_t k = 0; has; ++k) {
    int has_next = ln_walk_next(w, &next_key, &next_dp, &next_dn);
    cur.tp += dp;
    cur.fp += dn;
    cur.key = key;
    int kept = !drop_intermediate || k == 0 || !has_next || next_dp != dp || next_dn != dn;
    if (kept && (double)cur.tp / (double)w->n_pos >= level) return cur;
    has = has_next;
    key = next_key;
    dp = next_dp;
    dn = next_dn;
  }
  return cur; /* not reached: the last point has TPR 1 */
}

static ln_point ln_fpr_point(const logitnorm_metrics *m) {
  ln_walk w;
  ln_walk_start(&w, m, m->positive);
  if (m->fpr_rule == LOGITNORM_FPR_RULE_NEAREST) return ln_point_nearest(&w, m->tpr_level);
  return ln_point_at_least(&w, m->tpr_level, m->fpr_rule == LOGITNORM_FPR_RULE_OPENOOD);
}

/* min over points (the empty start point included) of 1/2 (1 - TPR) + 1/2 FPR
   = min (n_neg (n_pos - tp) + n_pos fp) / (2 n_pos n_neg): integers, one division. */
static double ln_detection_error(const logitnorm_metrics *m) {
  ln_walk w;
  ln_walk_start(&w, m, m->positive);
  uint64_t P = (uint64_t)w.n_pos, N = (uint64_t)w.n_neg;
  unsigned __int128 best = (unsigned __int128)N * P;
  int64_t tp = 0, fp = 0, dp, dn;
  uint64_t key;
  while (ln_walk_next(&w, &key, &dp, &dn)) {
    tp += dp;
    fp += dn;
    unsigned __int128 num = (unsigned __int128)N * (P - (uint64_t)tp) + (unsigned __int128)P * (uint64_t)fp;
    if (num < best) best = num;
  }
  return (double)((long double)best / ((long double)2 * (long double)P * (long double)N));
}

static logitnorm_status ln_metrics_prepare(logitnorm_metrics *m) {
  logitnorm_status st = ln_metrics_check_classes(m);
  if (st == LOGITNORM_OK) st = ln_metrics_sort(m);
  return st;
}

LOGITNORM_API logitnorm_status logitnorm_metrics_value(logitnorm_metrics *m, logitnorm_metric which, double *out) {
  logitnorm_status st = ln_check_ptr(m, "m");
  if (st == LOGITNORM_OK) st = ln_check_ptr(out, "out");
  if (st != LOGITNORM_OK) return st;
  if (which == LOGITNORM_METRIC_COUNT_ID || which == LOGITNORM_METRIC_COUNT_OOD) {
    *out = (double)m->count[which == LOGITNORM_METRIC_COUNT_ID ? LN_ID : LN_OOD];
    return LOGITNORM_OK;
  }
  if ((int)which < LOGITNORM_METRIC_AUROC || (int)which > LOGITNORM_METRIC_DETECTION_ERROR)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown metric %d", (int)which);
  st = ln_metrics_prepare(m);
  if (st != LOGITNORM_OK) return st;
  double v = 0.0;
  switch (which) {
    case LOGITNORM_METRIC_AUROC: v = ln_auroc(m); break;
    case LOGITNORM_METRIC_AUPR_IN: v = ln_aupr(m, LOGITNORM_POSITIVE_ID, m->aupr_rule); break;
    case LOGITNORM_METRIC_AUPR_OUT: v = ln_aupr(m, LOGITNORM_POSITIVE_OOD, m->aupr_rule); break;
    case LOGITNORM_METRIC_FPR_AT_TPR: {
      ln_point p = ln_fpr_point(m);
      v = (double)p.fp / (double)m->count[m->positive == LOGITNORM_POSITIVE_ID ? LN_OOD : LN_ID];
      break;
    }
    case LOGITNORM_METRIC_THRESHOLD_AT_TPR: v = ln_double_from_key(ln_fpr_point(m).key); break;
    case LOGITNORM_METRIC_DETECTION_ERROR: v = ln_detection_error(m); break;
    default: break;
  }
  *out = v;
  return LOGITNORM_OK;
}

/* ---- curves ---- */

/* Writes (or, with x == NULL, only counts) the points of a curve: the start point that
   accepts nothing (threshold +inf, or -inf with OOD positive: thresholds are in the caller's
   score units), then one point per tie block. The ROC curve under the OPENOOD rule drops
   intermediate points as scikit-learn's roc_curve(drop_intermediate=True) does. */
static int64_t ln_curve_points(const logitnorm_metrics *m, int curve, double *x, double *y, double *thr) {
  ln_walk w;
  ln_walk_start(&w, m, m->positive);
  int drop = curve == LOGITNORM_CURVE_ROC && m->fpr_rule == LOGITNORM_FPR_RULE_OPENOOD;
  double P = (double)w.n_pos, N = (double)w.n_neg;
  int64_t n = 0, tp = 0, fp = 0, dp, dn, next_dp = 0, next_dn = 0;
  uint64_t key, next_key = 0;
  if (x != NULL) {
    x[0] = 0.0;
    y[0] = curve == LOGITNORM_CURVE_ROC ? 0.0 : 1.0;
    if (thr != NULL) thr[0] = m->positive == LOGITNORM_POSITIVE_ID ? INFINITY : -INFINITY;
  }
  n = 1;
  int has = ln_walk_next(&w, &key, &dp, &dn);
  for (int64_t k = 0; has; ++k) {
    int has_next = ln_walk_next(&w, &next_key, &next_dp, &next_dn);
    tp += dp;
    fp += dn;
    int kept = !drop || k == 0 || !has_next || next_dp != dp || next_dn != dn;
    if (kept) {
      if (x != NULL) {
        x[n] = curve == LOGITNORM_CURVE_ROC ? (double)fp / N : (double)tp / P;
        y[n] = curve == LOGITNORM_CURVE_ROC ? (double)tp / P : (double)tp / (double)(tp + fp);
        if (thr != NULL) thr[n] = ln_double_from_key(key);
      }
      ++n;
    }
    has = has_next;
    key = next_key;
    dp = next_dp;
    dn = next_dn;
  }
  return n;
}

LOGITNORM_API logitnorm_status logitnorm_metrics_curve(logitnorm_metrics *m, int curve, double *x, double *y,
                                                       double *thresholds, int64_t capacity, int64_t *count) {
  logitnorm_status st = ln_check_ptr(m, "m");
  if (st == LOGITNORM_OK) st = ln_check_ptr(count, "count");
  if (st == LOGITNORM_OK) st = ln_check_count(capacity, "capacity");
  if (st != LOGITNORM_OK) return st;
  if (curve != LOGITNORM_CURVE_ROC && curve != LOGITNORM_CURVE_PR)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown curve %d", curve);
  if (capacity > 0) {
    st = ln_check_ptr(x, "x");
    if (st == LOGITNORM_OK) st = ln_check_ptr(y, "y");
    if (st != LOGITNORM_OK) return st;
  }
  st = ln_metrics_prepare(m);
  if (st != LOGITNORM_OK) return st;
  int64_t n = ln_curve_points(m, curve, NULL, NULL, NULL);
  if (capacity == 0) {
    *count = n;
    return LOGITNORM_OK;
  }
  if (capacity < n) {
    *count = n;
    return ln_fail(LOGITNORM_ERR_BUFFER_TOO_SMALL, "the curve has %lld points, capacity is %lld", (long long)n,
                   (long long)capacity);
  }
  size_t bytes = (size_t)n * sizeof(double);
  st = ln_check_disjoint(x, bytes, "x", y, bytes, "y");
  if (st == LOGITNORM_OK) st = ln_check_disjoint(x, bytes, "x", thresholds, bytes, "thresholds");
  if (st == LOGITNORM_OK) st = ln_check_disjoint(y, bytes, "y", thresholds, bytes, "thresholds");
  if (st != LOGITNORM_OK) return st;
  ln_curve_points(m, curve, x, y, thresholds);
  *count = n;
  return LOGITNORM_OK;
}

/* ---- one call ---- */

LOGITNORM_API logitnorm_status logitnorm_ood_metrics_f32(const float *id_scores, int64_t n_id,
    const float *ood_scores, int64_t n_ood, double *auroc, double *aupr_in, double *aupr_out,
    double *fpr_at_95_tpr) {
  logitnorm_metrics *m = NULL;
  logitnorm_status st = logitnorm_metrics_create(&m);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, id_scores, n_id, 0);
  if (st == LOGITNORM_OK) st = logitnorm_metrics_add_f32(m, ood_scores, n_ood, 1);
  if (st == LOGITNORM_OK) st = ln_metrics_prepare(m);
  if (st == LOGITNORM_OK) {
    /* Everything is computed before any output is written. */
    double a = ln_auroc(m);
    double in = ln_aupr(m, LOGITNORM_POSITIVE_ID, LOGITNORM_AUPR_AVERAGE_PRECISION);
    double out = ln_aupr(m, LOGITNORM_POSITIVE_OOD, LOGITNORM_AUPR_AVERAGE_PRECISION);
    double fpr = (double)ln_fpr_point(m).fp / (double)m->count[LN_OOD];
    if (auroc != NULL) *auroc = a;
    if (aupr_in != NULL) *aupr_in = in;
    if (aupr_out != NULL) *aupr_out = out;
    if (fpr_at_95_tpr != NULL) *fpr_at_95_tpr = fpr;
  }
  logitnorm_metrics_free(m);
  return st;
}
