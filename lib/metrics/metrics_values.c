/* The metrics, each one pass over the tie blocks of the sorted scores (see metrics.h).
   All come from the same sort, done once per change of the data. */
#include <math.h>

#include "common/error.h"
#include "common/validate.h"
#include "metrics.h"
#include "radix_sort.h"
#include "wide_count.h"

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

/* The values that do not depend on the parameters other than the AUPR rule, from two passes
   down the sorted scores: one over the ID tie blocks, one over the OOD tie blocks, each
   counting the other class's scores above and level with the block by advancing a second
   index. Only the blocks that
   hold positives add area terms (a block without them moves along the precision axis only),
   so a pass per class visits exactly the terms of its AUPR, in walk order.

   AUROC = (#pairs ID > OOD + 1/2 #pairs ID == OOD) / (n_id n_ood): the Mann-Whitney count,
   doubled to stay integral, in 128-bit integers (wide_count.h), with one division at the end. Each OOD
   block sees the ID scores above it and the tied ones. Identical for both positive classes.

   AUPR of a positive class over its operating points (R_0, P_0) = (0, 1),
   (R_k, P_k) = (tp_k / n_pos, tp_k / (tp_k + fp_k)):
     AVERAGE_PRECISION: sum_k (R_k - R_{k-1}) P_k  (scikit-learn average_precision_score);
     TRAPEZOID:         sum_k (R_k - R_{k-1}) (P_k + P_{k-1}) / 2,
   where the previous point k-1 is the one just before the block: its positives are those
   above the block and its negatives are those strictly above it. AUPR-Out walks upward; its
   point at an OOD block is "accept score <= block" (the totals minus everything above the
   block), and its previous point is that minus the block itself. The sums are compensated,
   so the order of the terms does not matter beyond the last bit. */
static double ln_precision(int64_t tp, int64_t fp) {
  return tp + fp > 0 ? (double)tp / (double)(tp + fp) : 1.0;
}

/* AUPR-In: the ID blocks walked downward, under the rule `trapezoid` or average precision. */
static double ln_aupr_in(const uint64_t *pos, int64_t n_pos, const uint64_t *neg, int64_t n_neg, int trapezoid) {
  const double P = (double)n_pos;
  ln_ksum area = {.sum = 0, .comp = 0};
  /* The previous block's point, whose recall and precision are reused when it is also the
     point just before this block (no negatives in between): half the divisions. */
  int64_t last_fp = 0;
  double last_r = 0.0, last_p = 1.0;
  int64_t j = n_neg - 1; /* next unread negative from the top */
  for (int64_t i = n_pos - 1; i >= 0;) {
    uint64_t k = pos[i];
    int64_t tp_before = n_pos - 1 - i;
    while (i >= 0 && pos[i] == k) --i;
    while (j >= 0 && neg[j] > k) --j;
    int64_t fp_before = n_neg - 1 - j;
    while (j >= 0 && neg[j] == k) --j;
    int64_t tp = n_pos - 1 - i, fp = n_neg - 1 - j;
    double r = (double)tp / P, p = (double)tp / (double)(tp + fp);
    if (trapezoid) {
      double prev_p = fp_before == last_fp ? last_p : ln_precision(tp_before, fp_before);
      ln_ksum_add(&area, (r - last_r) * (p + prev_p) / 2.0);
    } else {
      ln_ksum_add(&area, (r - last_r) * p);
    }
    last_fp = fp;
    last_r = r;
    last_p = p;
  }
  return area.sum + area.comp;
}

/* AUROC and AUPR-Out (under one rule) for the summary cache slot `rule`. The slot of the
   other rule is filled by its own call: a caller who asks for one rule does not pay for two. */
static void ln_metrics_summary(logitnorm_metrics *m, int rule) {
  if (m->summary_valid & (1 << rule)) return;
  const int trapezoid = rule == LOGITNORM_AUPR_TRAPEZOID;
  const uint64_t *id = m->keys[LN_ID], *ood = m->keys[LN_OOD];
  const int64_t n_id = m->count[LN_ID], n_ood = m->count[LN_OOD];
  const double P_out = (double)n_ood;
  m->aupr_in[rule] = ln_aupr_in(id, n_id, ood, n_ood, trapezoid);

  /* OOD blocks, downward: AUROC and AUPR-Out. */
  ln_ksum area = {.sum = 0, .comp = 0};
  ln_u128 twice_u = ln_u128_of(0);
  /* The point before a block is the next block's own point when no ID score lies between
     them: its recall and precision are carried over (half the divisions). */
  int64_t next_tp = -1, next_fp = -1;
  double next_r = 0.0, next_p = 1.0;
  int64_t i = n_id - 1; /* next unread ID score from the top */
  for (int64_t j = n_ood - 1; j >= 0;) {
    uint64_t k = ood[j];
    int64_t above_ood = n_ood - 1 - j;
    while (j >= 0 && ood[j] == k) --j;
    while (i >= 0 && id[i] > k) --i;
    int64_t above_id = n_id - 1 - i;
    while (i >= 0 && id[i] == k) --i;
    int64_t dn = n_ood - 1 - j - above_ood, tied_id = n_id - 1 - i - above_id;
    twice_u = ln_u128_add(twice_u, ln_u128_mul((uint64_t)dn, (uint64_t)(2 * above_id + tied_id)));
    /* OOD positive, "accept score <= k": tp_o OOD and fp_o ID; the point before it has the
       block's OOD and ID scores removed, or is the start point (0, 1). */
    int64_t tp_o = n_ood - above_ood, fp_o = n_id - above_id;
    int64_t tq = tp_o - dn, fq = fp_o - tied_id;
    int carried = tp_o == next_tp && fp_o == next_fp;
    double ro = carried ? next_r : (double)tp_o / P_out;
    double po = carried ? next_p : (double)tp_o / (double)(tp_o + fp_o);
    double rq = (double)tq / P_out, pq = ln_precision(tq, fq);
    ln_ksum_add(&area, trapezoid ? (ro - rq) * (po + pq) / 2.0 : (ro - rq) * po);
    next_tp = tq;
    next_fp = fq;
    next_r = rq;
    next_p = pq;
  }
  m->auroc = ln_u128_ratio(twice_u, ln_u128_mul((uint64_t)(2 * n_id), (uint64_t)n_ood));
  m->aupr_out[rule] = area.sum + area.comp;
  m->summary_valid |= 1 << rule;
}

typedef struct ln_point {
  int64_t tp, fp;
  uint64_t key;
} ln_point;

/* The operating points along a walk, one per tie block, optionally only those kept by
   scikit-learn's roc_curve(drop_intermediate=True): it keeps the first and last point and
   every point where the second difference of fps or tps is nonzero, i.e. a point is dropped
   when the next tie block has the same (positives, negatives) as its own. */
typedef struct ln_points {
  ln_walk w;
  int drop;
  int has;           /* a block is pending in key, dp, dn */
  int64_t k;         /* index of the pending block */
  uint64_t key;
  int64_t dp, dn;
  ln_point cur;      /* counts up to the pending block */
} ln_points;

static void ln_points_start(ln_points *it, const logitnorm_metrics *m, int drop) {
  ln_walk_start(&it->w, m, m->positive);
  it->drop = drop;
  it->k = 0;
  it->cur = (ln_point){.tp = 0, .fp = 0, .key = 0};
  it->has = ln_walk_next(&it->w, &it->key, &it->dp, &it->dn);
}

/* The next point (kept ones only when dropping); 0 at the end. */
static int ln_points_next(ln_points *it, ln_point *out) {
  while (it->has) {
    uint64_t next_key = 0;
    int64_t next_dp = 0, next_dn = 0;
    int has_next = ln_walk_next(&it->w, &next_key, &next_dp, &next_dn);
    it->cur.tp += it->dp;
    it->cur.fp += it->dn;
    it->cur.key = it->key;
    int kept = !it->drop || it->k == 0 || !has_next || next_dp != it->dp || next_dn != it->dn;
    it->has = has_next;
    it->key = next_key;
    it->dp = next_dp;
    it->dn = next_dn;
    it->k++;
    if (kept) {
      *out = it->cur;
      return 1;
    }
  }
  return 0;
}

/* OPENOOD: the first kept point with TPR >= level. */
static ln_point ln_point_openood(const logitnorm_metrics *m, double level) {
  ln_points it;
  ln_point p = {.tp = 0, .fp = 0, .key = 0};
  ln_points_start(&it, m, 1);
  while (ln_points_next(&it, &p))
    if ((double)p.tp / (double)it.w.n_pos >= level) break;
  return p; /* the last point has TPR 1, so the loop always breaks */
}

/* ---- NEAREST and AT_LEAST by binary search ----
   Along the walk, tp grows by whole tie blocks of positives, so the operating points with a
   given tp are found from the sorted arrays directly: the recall level fixes the positive
   tie block where the walk crosses it, and counting negatives on either side of a key is a
   binary search. The result is the point a walk would return (the OPENOOD rule
   keeps its walk: whether a point is kept depends on its neighbours). */

/* Number of keys before `key` in walk order (strictly, or with `or_equal` also equal ones). */
static int64_t ln_count_before(const uint64_t *a, int64_t n, int descending, uint64_t key, int or_equal) {
  /* lo = first index with a[i] > key (upper bound) or a[i] >= key (lower bound) */
  int upper = descending ? !or_equal : or_equal;
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (upper ? a[mid] <= key : a[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return descending ? n - lo : lo;
}

/* The t-th key in walk order. */
static uint64_t ln_walk_at(const uint64_t *a, int64_t n, int descending, int64_t t) {
  return descending ? a[n - 1 - t] : a[t];
}

/* The last point of the walk whose tp is t < n_pos (t must end a positive tie block, or be 0
   with negatives before the first positive): every negative before the next positive is
   accepted, and the threshold is the later of the last positive and the last such negative. */
static ln_point ln_last_point_at(const ln_walk *w, int64_t t) {
  int desc = w->descending;
  uint64_t next = ln_walk_at(w->pos, w->n_pos, desc, t);
  ln_point p = {.tp = t, .fp = ln_count_before(w->neg, w->n_neg, desc, next, 0), .key = 0};
  int has_neg = p.fp > 0, has_pos = t > 0;
  uint64_t kn = has_neg ? ln_walk_at(w->neg, w->n_neg, desc, p.fp - 1) : 0;
  uint64_t kp = has_pos ? ln_walk_at(w->pos, w->n_pos, desc, t - 1) : 0;
  if (!has_pos) p.key = kn;
  else if (!has_neg) p.key = kp;
  else p.key = desc ? (kn < kp ? kn : kp) : (kn > kp ? kn : kp);
  return p;
}

/* The first point of the walk that has passed the positive tie block holding `key`. */
static ln_point ln_first_point_after(const ln_walk *w, uint64_t key) {
  int desc = w->descending;
  ln_point p = {.tp = ln_count_before(w->pos, w->n_pos, desc, key, 1),
                .fp = ln_count_before(w->neg, w->n_neg, desc, key, 1),
                .key = key};
  return p;
}

static double ln_recall_distance(int64_t tp, int64_t n_pos, double level) {
  return fabs((double)tp / (double)n_pos - level);
}

static ln_point ln_point_search(const ln_walk *w, double level, int nearest) {
  const int desc = w->descending;
  const int64_t P = w->n_pos;
  /* t_c: the least tp with tp / P >= level (1 <= t_c <= P since 0 < level <= 1). */
  int64_t t_c = (int64_t)(level * (double)P);
  if (t_c < 1) t_c = 1;
  if (t_c > P) t_c = P;
  while (t_c > 1 && (double)(t_c - 1) / (double)P >= level) --t_c;
  while ((double)t_c / (double)P < level) ++t_c;
  /* The positive tie block holding the t_c-th positive spans tp s -> e, s < t_c <= e. */
  uint64_t key_c = ln_walk_at(w->pos, P, desc, t_c - 1);
  ln_point hi = ln_first_point_after(w, key_c);
  if (!nearest) return hi; /* AT_LEAST: the first point with tp >= t_c */
  /* NEAREST (official LogitNorm / Hendrycks code): over the points up to the first one with
     full recall, the argmin of |recall - level|; on equal distance the lower threshold wins
     (their list runs from low to high thresholds and argmin keeps the first).
     |tp / P - level| falls until t_c and rises after it, so the best point has
     tp = s (the last point below the level) or tp = e (the first one at or above it); ties
     go to the later point. Among the points with one tp the latest is taken, except at tp = P
     where the walk stops at the first. */
  int64_t s = ln_count_before(w->pos, P, desc, key_c, 0);
  double d_hi = ln_recall_distance(hi.tp, P, level);
  /* Equal distances further on (possible only through rounding) also go to the later point. */
  while (hi.tp < P) {
    uint64_t key_n = ln_walk_at(w->pos, P, desc, hi.tp);
    int64_t e_n = ln_count_before(w->pos, P, desc, key_n, 1);
    if (ln_recall_distance(e_n, P, level) != d_hi) break;
    hi = ln_first_point_after(w, key_n);
  }
  if (hi.tp < P) hi = ln_last_point_at(w, hi.tp);
  int lo_exists = s > 0 || ln_count_before(w->neg, w->n_neg, desc, ln_walk_at(w->pos, P, desc, 0), 0) > 0;
  if (lo_exists && ln_recall_distance(s, P, level) < d_hi) return ln_last_point_at(w, s);
  return hi;
}

static ln_point ln_fpr_point(const logitnorm_metrics *m) {
  if (m->fpr_rule == LOGITNORM_FPR_RULE_OPENOOD) return ln_point_openood(m, m->tpr_level);
  ln_walk w;
  ln_walk_start(&w, m, m->positive);
  return ln_point_search(&w, m->tpr_level, m->fpr_rule == LOGITNORM_FPR_RULE_NEAREST);
}

/* min over points (the empty start point included) of 1/2 (1 - TPR) + 1/2 FPR
   = min (n_neg (n_pos - tp) + n_pos fp) / (2 n_pos n_neg): integers, one division. */
static double ln_detection_error(const logitnorm_metrics *m) {
  ln_walk w;
  ln_walk_start(&w, m, m->positive);
  uint64_t P = (uint64_t)w.n_pos, N = (uint64_t)w.n_neg;
  ln_u128 best = ln_u128_mul(N, P);
  int64_t tp = 0, fp = 0, dp, dn;
  uint64_t key;
  while (ln_walk_next(&w, &key, &dp, &dn)) {
    tp += dp;
    fp += dn;
    ln_u128 num = ln_u128_add(ln_u128_mul(N, P - (uint64_t)tp), ln_u128_mul(P, (uint64_t)fp));
    if (ln_u128_less(num, best)) best = num;
  }
  return ln_u128_ratio(best, ln_u128_mul(2 * P, N));
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
  if ((int)which >= LOGITNORM_METRIC_AURC && (int)which <= LOGITNORM_METRIC_COVERAGE_AT_RISK) {
    if (m->count[LN_ID] + m->count[LN_OOD] == 0)
      return ln_fail(LOGITNORM_ERR_INVALID_STATE, "the selective metrics need at least one sample (correct ones "
                     "added as ID, errors as OOD); the accumulator is empty");
    st = ln_metrics_sort(m);
    return st == LOGITNORM_OK ? ln_selective_value(m, which, out) : st;
  }
  if ((int)which < LOGITNORM_METRIC_AUROC || (int)which > LOGITNORM_METRIC_DETECTION_ERROR)
    return ln_fail(LOGITNORM_ERR_INVALID_ARGUMENT, "unknown metric %d", (int)which);
  st = ln_metrics_prepare(m);
  if (st != LOGITNORM_OK) return st;
  double v = 0.0;
  switch (which) {
    case LOGITNORM_METRIC_AUROC: ln_metrics_summary(m, m->aupr_rule); v = m->auroc; break;
    case LOGITNORM_METRIC_AUPR_IN: ln_metrics_summary(m, m->aupr_rule); v = m->aupr_in[m->aupr_rule]; break;
    case LOGITNORM_METRIC_AUPR_OUT: ln_metrics_summary(m, m->aupr_rule); v = m->aupr_out[m->aupr_rule]; break;
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
  ln_points it;
  ln_points_start(&it, m, curve == LOGITNORM_CURVE_ROC && m->fpr_rule == LOGITNORM_FPR_RULE_OPENOOD);
  double P = (double)it.w.n_pos, N = (double)it.w.n_neg;
  if (x != NULL) {
    x[0] = 0.0;
    y[0] = curve == LOGITNORM_CURVE_ROC ? 0.0 : 1.0;
    if (thr != NULL) thr[0] = m->positive == LOGITNORM_POSITIVE_ID ? INFINITY : -INFINITY;
  }
  int64_t n = 1;
  ln_point p;
  while (ln_points_next(&it, &p)) {
    if (x != NULL) {
      x[n] = curve == LOGITNORM_CURVE_ROC ? (double)p.fp / N : (double)p.tp / P;
      y[n] = curve == LOGITNORM_CURVE_ROC ? (double)p.tp / P : (double)p.tp / (double)(p.tp + p.fp);
      if (thr != NULL) thr[n] = ln_double_from_key(p.key);
    }
    ++n;
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
    ln_metrics_summary(m, LOGITNORM_AUPR_AVERAGE_PRECISION);
    double fpr = (double)ln_fpr_point(m).fp / (double)m->count[LN_OOD];
    if (auroc != NULL) *auroc = m->auroc;
    if (aupr_in != NULL) *aupr_in = m->aupr_in[LOGITNORM_AUPR_AVERAGE_PRECISION];
    if (aupr_out != NULL) *aupr_out = m->aupr_out[LOGITNORM_AUPR_AVERAGE_PRECISION];
    if (fpr_at_95_tpr != NULL) *fpr_at_95_tpr = fpr;
  }
  logitnorm_metrics_free(m);
  return st;
}
