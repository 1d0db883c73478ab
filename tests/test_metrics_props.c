/* OOD metrics: randomised properties and comparison with the plain reference code of
   tests/support/metrics_ref.c, on data with and without heavy ties. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "metrics_ref.h"
#include "test_util.h"

/* Areas: the library and the reference sum the same n terms (n <= 2000, each in [0, 1]) in
   different orders and with different compensation; the rounding error of a plain sum is
   at most n * eps ~ 4.4e-13, so 1e-12 is a safe bound. AUROC and detection error come from
   the same integer counts with one division (the library via long double), so they may
   differ by one ulp: 1e-15. */
#define AREA_TOL 1e-12
#define EXACT_TOL 1e-15

enum { GEN_GAUSS, GEN_LEVELS, GEN_MSP, GEN_WIDE, GEN_COUNT };

/* Scores as doubles that are exactly representable as floats (except GEN_WIDE). */
static void generate(tu_rng *r, int kind, double *s, int64_t n, double shift) {
  for (int64_t i = 0; i < n; ++i) {
    switch (kind) {
      case GEN_GAUSS: s[i] = (float)(tu_normal(r) + shift); break;
      case GEN_LEVELS: s[i] = (float)(tu_int(r, 0, 6) / 6.0 + 0.1 * shift); break; /* 7 values */
      case GEN_MSP: /* MSP-like: half of the ID set scores exactly 1.0f */
        s[i] = tu_uniform(r) < 0.5 * shift ? 1.0f : (float)(0.5 + tu_int(r, 0, 40) / 100.0);
        break;
      default: { /* any finite double, from raw bits, with repeats and signed zeros */
        uint64_t u = tu_next(r);
        double v;
        memcpy(&v, &u, sizeof v);
        if (!isfinite(v)) v = DBL_MAX;
        if (i > 0 && tu_uniform(r) < 0.2) v = s[tu_int(r, 0, i - 1)];
        if (tu_uniform(r) < 0.02) v = tu_uniform(r) < 0.5 ? 0.0 : -0.0;
        s[i] = v;
      }
    }
  }
}

static double value(logitnorm_metrics *m, logitnorm_metric which) {
  double v = NAN;
  ck_assert_int_eq(logitnorm_metrics_value(m, which, &v), LOGITNORM_OK);
  return v;
}

static void set(logitnorm_metrics *m, logitnorm_metrics_param p, double v) {
  ck_assert_int_eq(logitnorm_metrics_set(m, p, v), LOGITNORM_OK);
}

/* Adds s in a few chunks of random size (so growth and several adds are exercised). */
static void add_chunks(tu_rng *r, logitnorm_metrics *m, const double *s, int64_t n, int is_ood) {
  for (int64_t i = 0; i < n;) {
    int64_t k = tu_int(r, 0, n - i);
    ck_assert_int_eq(logitnorm_metrics_add_f64(m, s + i, k, is_ood), LOGITNORM_OK);
    i += k;
  }
}

/* Every metric under every convention, in a fixed order: 2 x 3 x 2 x 8 values. */
#define ALL_VALUES 96
static void all_values(logitnorm_metrics *m, double *v) {
  int i = 0;
  for (int pos = 0; pos <= 1; ++pos)
    for (int rule = 0; rule <= 2; ++rule)
      for (int aupr = 0; aupr <= 1; ++aupr) {
        set(m, LOGITNORM_METRICS_POSITIVE, pos);
        set(m, LOGITNORM_METRICS_FPR_RULE, rule);
        set(m, LOGITNORM_METRICS_AUPR_RULE, aupr);
        for (int w = 0; w <= LOGITNORM_METRIC_COUNT_OOD; ++w) v[i++] = value(m, (logitnorm_metric)w);
      }
}

static void negate(const double *s, double *out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = -s[i];
}

/* Compares one convention against the reference. */
static void check_convention(logitnorm_metrics *m, const double *id, int64_t n_id, const double *ood,
                             int64_t n_ood, int positive, double level) {
  double *pos = malloc((size_t)(n_id + n_ood) * sizeof *pos), *neg = pos + (positive ? n_ood : n_id);
  if (positive == LOGITNORM_POSITIVE_ID) {
    memcpy(pos, id, (size_t)n_id * sizeof *pos);
    memcpy(neg, ood, (size_t)n_ood * sizeof *neg);
  } else { /* OOD positive: negated scores */
    negate(ood, pos, n_ood);
    negate(id, neg, n_id);
  }
  int64_t n_pos = positive ? n_ood : n_id, n_neg = positive ? n_id : n_ood;
  double sign = positive ? -1.0 : 1.0; /* thresholds back in the caller's units */
  mref_points r;
  mref_points_build(&r, pos, n_pos, neg, n_neg);
  set(m, LOGITNORM_METRICS_POSITIVE, positive);
  set(m, LOGITNORM_METRICS_TPR_LEVEL, level);

  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_AUROC), mref_auroc(id, n_id, ood, n_ood), EXACT_TOL);
  ck_assert_double_eq_tol(value(m, LOGITNORM_METRIC_DETECTION_ERROR), mref_detection_error(&r), EXACT_TOL);
  set(m, LOGITNORM_METRICS_AUPR_RULE, LOGITNORM_AUPR_AVERAGE_PRECISION);
  ck_assert_double_eq_tol(value(m, positive ? LOGITNORM_METRIC_AUPR_OUT : LOGITNORM_METRIC_AUPR_IN),
                          mref_average_precision(&r), AREA_TOL);
  set(m, LOGITNORM_METRICS_AUPR_RULE, LOGITNORM_AUPR_TRAPEZOID);
  ck_assert_double_eq_tol(value(m, positive ? LOGITNORM_METRIC_AUPR_OUT : LOGITNORM_METRIC_AUPR_IN),
                          mref_trapezoid_pr(&r), AREA_TOL);

  /* FPR and threshold: the same integer fp over N, so they must be equal. */
  int64_t idx[3] = {mref_nearest_index(&r, level), mref_at_least_index(&r, level, 0),
                    mref_at_least_index(&r, level, 1)};
  for (int rule = 0; rule <= 2; ++rule) {
    set(m, LOGITNORM_METRICS_FPR_RULE, rule);
    ck_assert_double_eq(value(m, LOGITNORM_METRIC_FPR_AT_TPR), (double)r.fp[idx[rule]] / (double)n_neg);
    ck_assert(value(m, LOGITNORM_METRIC_THRESHOLD_AT_TPR) == sign * r.thr[idx[rule]]);
  }

  /* Curves: the start point, then every point (ROC under OPENOOD: the kept ones). */
  int64_t cap = r.n + 1, count = 0;
  double *x = malloc(3 * (size_t)cap * sizeof *x), *y = x + cap, *t = y + cap;
  int *keep = malloc((size_t)r.n * sizeof *keep);
  for (int rule = 0; rule <= 2; ++rule) {
    set(m, LOGITNORM_METRICS_FPR_RULE, rule);
    if (rule == LOGITNORM_FPR_RULE_OPENOOD) mref_drop_intermediate(&r, keep);
    else
      for (int64_t i = 0; i < r.n; ++i) keep[i] = 1;
    ck_assert_int_eq(logitnorm_metrics_curve(m, LOGITNORM_CURVE_ROC, x, y, t, cap, &count), LOGITNORM_OK);
    ck_assert(x[0] == 0.0 && y[0] == 0.0 && t[0] == sign * INFINITY);
    int64_t j = 1;
    for (int64_t i = 0; i < r.n; ++i) {
      if (!keep[i]) continue;
      ck_assert(x[j] == (double)r.fp[i] / (double)n_neg);
      ck_assert(y[j] == (double)r.tp[i] / (double)n_pos);
      ck_assert(t[j] == sign * r.thr[i]);
      j++;
    }
    ck_assert_int_eq(count, j);
  }
  ck_assert_int_eq(logitnorm_metrics_curve(m, LOGITNORM_CURVE_PR, x, y, t, cap, &count), LOGITNORM_OK);
  ck_assert_int_eq(count, r.n + 1);
  ck_assert(x[0] == 0.0 && y[0] == 1.0);
  for (int64_t i = 0; i < r.n; ++i) {
    ck_assert(x[i + 1] == (double)r.tp[i] / (double)n_pos);
    ck_assert(y[i + 1] == (double)r.tp[i] / (double)(r.tp[i] + r.fp[i]));
    ck_assert(t[i + 1] == sign * r.thr[i]);
  }
  free(keep);
  free(x);
  mref_points_free(&r);
  free(pos);
}

START_TEST(matches_reference) {
  tu_rng r;
  tu_seed(&r, 1000 + (uint64_t)_i);
  int kind = _i % GEN_COUNT;
  int64_t n_id = tu_int(&r, 1, 900), n_ood = tu_int(&r, 1, 900);
  if (_i % 7 == 0) n_id = 1; /* a single ID score */
  double *id = malloc((size_t)n_id * sizeof *id), *ood = malloc((size_t)n_ood * sizeof *ood);
  generate(&r, kind, id, n_id, 1.0);
  generate(&r, kind, ood, n_ood, 0.0);
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  add_chunks(&r, m, id, n_id, 0);
  add_chunks(&r, m, ood, n_ood, 1);
  const double levels[] = {0.95, 0.5, 1.0, 0.8, 0.999, 0.3};
  for (int pos = 0; pos <= 1; ++pos) check_convention(m, id, n_id, ood, n_ood, pos, levels[_i % 6]);
  logitnorm_metrics_free(m);
  free(id);
  free(ood);
}
END_TEST

/* Tiny sets with few distinct values: every edge of the operating-point search (a first block
   of negatives only, a level met exactly, a tie block across the level, full recall at once). */
START_TEST(matches_reference_tiny) {
  tu_rng r;
  tu_seed(&r, 5000 + (uint64_t)_i);
  int64_t n_id = tu_int(&r, 1, 6), n_ood = tu_int(&r, 1, 6);
  double id[6], ood[6];
  for (int64_t i = 0; i < n_id; ++i) id[i] = (double)tu_int(&r, 0, 3);
  for (int64_t i = 0; i < n_ood; ++i) ood[i] = (double)tu_int(&r, 0, 3);
  logitnorm_metrics *m = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(m, id, n_id, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(m, ood, n_ood, 1), LOGITNORM_OK);
  const double levels[] = {0.95, 0.5, 1.0, 0.2, 1.0 / 3.0, 0.25, 0.75, 0.6};
  for (int pos = 0; pos <= 1; ++pos) check_convention(m, id, n_id, ood, n_ood, pos, levels[_i % 8]);
  logitnorm_metrics_free(m);
}
END_TEST

START_TEST(swap_roles) {
  /* ID = a, OOD = b  versus  ID = -b, OOD = -a: the second problem is the first one seen
     from the other class, so AUPR-In and AUPR-Out trade places (the same terms, summed in
     opposite orders by a compensated sum: equal to within an ulp, 1e-15), AUROC is equal
     (same integer count), and the OOD-positive FPR of one is the ID-positive FPR of the
     other with negated threshold (same integers). */
  tu_rng r;
  tu_seed(&r, 2000 + (uint64_t)_i);
  int kind = _i % GEN_COUNT;
  int64_t na = tu_int(&r, 1, 500), nb = tu_int(&r, 1, 500);
  double *a = malloc((size_t)na * sizeof *a), *b = malloc((size_t)nb * sizeof *b);
  double *ma = malloc((size_t)na * sizeof *ma), *mb = malloc((size_t)nb * sizeof *mb);
  generate(&r, kind, a, na, 1.0);
  generate(&r, kind, b, nb, 0.0);
  negate(a, ma, na);
  negate(b, mb, nb);
  logitnorm_metrics *m1 = NULL, *m2 = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m1), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_create(&m2), LOGITNORM_OK);
  add_chunks(&r, m1, a, na, 0);
  add_chunks(&r, m1, b, nb, 1);
  add_chunks(&r, m2, mb, nb, 0);
  add_chunks(&r, m2, ma, na, 1);
  for (int aupr = 0; aupr <= 1; ++aupr) {
    set(m1, LOGITNORM_METRICS_AUPR_RULE, aupr);
    set(m2, LOGITNORM_METRICS_AUPR_RULE, aupr);
    ck_assert_double_eq_tol(value(m1, LOGITNORM_METRIC_AUPR_IN), value(m2, LOGITNORM_METRIC_AUPR_OUT), 1e-15);
    ck_assert_double_eq_tol(value(m1, LOGITNORM_METRIC_AUPR_OUT), value(m2, LOGITNORM_METRIC_AUPR_IN), 1e-15);
  }
  ck_assert(value(m1, LOGITNORM_METRIC_AUROC) == value(m2, LOGITNORM_METRIC_AUROC));
  set(m1, LOGITNORM_METRICS_POSITIVE, LOGITNORM_POSITIVE_OOD);
  for (int rule = 0; rule <= 2; ++rule) {
    set(m1, LOGITNORM_METRICS_FPR_RULE, rule);
    set(m2, LOGITNORM_METRICS_FPR_RULE, rule);
    ck_assert(value(m1, LOGITNORM_METRIC_FPR_AT_TPR) == value(m2, LOGITNORM_METRIC_FPR_AT_TPR));
    ck_assert(value(m1, LOGITNORM_METRIC_THRESHOLD_AT_TPR) == -value(m2, LOGITNORM_METRIC_THRESHOLD_AT_TPR));
    ck_assert(value(m1, LOGITNORM_METRIC_DETECTION_ERROR) == value(m2, LOGITNORM_METRIC_DETECTION_ERROR));
  }
  logitnorm_metrics_free(m1);
  logitnorm_metrics_free(m2);
  free(a);
  free(b);
  free(ma);
  free(mb);
}
END_TEST

START_TEST(identical_tied_distributions) {
  /* ID and OOD hold the same multiset of heavily tied scores (the OOD copy shuffled): every
     ID > OOD pair has a mirror OOD > ID pair, so AUROC is exactly 1/2. */
  tu_rng r;
  tu_seed(&r, 3000 + (uint64_t)_i);
  int64_t n = tu_int(&r, 1, 2000);
  float *id = malloc((size_t)n * sizeof *id), *ood = malloc((size_t)n * sizeof *ood);
  for (int64_t i = 0; i < n; ++i) id[i] = ood[i] = (float)tu_int(&r, 0, 3 + _i) * 0.125f;
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = tu_int(&r, 0, i);
    float t = ood[i];
    ood[i] = ood[j];
    ood[j] = t;
  }
  double auroc = 0;
  ck_assert_int_eq(logitnorm_ood_metrics_f32(id, n, ood, n, &auroc, NULL, NULL, NULL), LOGITNORM_OK);
  ck_assert_double_eq(auroc, 0.5);
  free(id);
  free(ood);
}
END_TEST

START_TEST(merge_is_exact) {
  /* The data go into one accumulator in order, and in random pieces into four accumulators
     that are then merged in a random order (also with a self-merge of an empty one):
     every value under every convention must have the same bits. */
  tu_rng r;
  tu_seed(&r, 4000 + (uint64_t)_i);
  int kind = _i % GEN_COUNT;
  int64_t n_id = tu_int(&r, 1, 700), n_ood = tu_int(&r, 1, 700);
  double *id = malloc((size_t)n_id * sizeof *id), *ood = malloc((size_t)n_ood * sizeof *ood);
  generate(&r, kind, id, n_id, 1.0);
  generate(&r, kind, ood, n_ood, 0.0);
  logitnorm_metrics *one = NULL, *part[4] = {NULL, NULL, NULL, NULL};
  ck_assert_int_eq(logitnorm_metrics_create(&one), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(one, id, n_id, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(one, ood, n_ood, 1), LOGITNORM_OK);
  for (int p = 0; p < 4; ++p) ck_assert_int_eq(logitnorm_metrics_create(&part[p]), LOGITNORM_OK);
  for (int c = 0; c < 2; ++c) {
    const double *s = c ? ood : id;
    int64_t n = c ? n_ood : n_id;
    for (int64_t i = 0; i < n;) {
      int64_t k = tu_int(&r, 1, n - i);
      ck_assert_int_eq(logitnorm_metrics_add_f64(part[tu_int(&r, 0, 3)], s + i, k, c), LOGITNORM_OK);
      i += k;
    }
  }
  /* Sort one part before merging: a cached sorted state must not leak into the result. */
  double ignored;
  (void)logitnorm_metrics_value(part[1], LOGITNORM_METRIC_AUROC, &ignored);
  int order[4] = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) {
    int j = (int)tu_int(&r, 0, i), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  logitnorm_metrics *merged = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&merged), LOGITNORM_OK);
  for (int i = 0; i < 4; ++i) ck_assert_int_eq(logitnorm_metrics_merge(merged, part[order[i]]), LOGITNORM_OK);
  double a[ALL_VALUES], b[ALL_VALUES];
  all_values(one, a);
  all_values(merged, b);
  ck_assert(memcmp(a, b, sizeof a) == 0);
  for (int p = 0; p < 4; ++p) logitnorm_metrics_free(part[p]);
  logitnorm_metrics_free(one);
  logitnorm_metrics_free(merged);
  free(id);
  free(ood);
}
END_TEST

START_TEST(save_load_round_trip) {
  tu_rng r;
  tu_seed(&r, 5000 + (uint64_t)_i);
  int kind = _i % GEN_COUNT;
  int64_t n_id = tu_int(&r, 1, 600), n_ood = tu_int(&r, 1, 600);
  double *id = malloc((size_t)n_id * sizeof *id), *ood = malloc((size_t)n_ood * sizeof *ood);
  generate(&r, kind, id, n_id, 1.0);
  generate(&r, kind, ood, n_ood, 0.0);
  logitnorm_metrics *m = NULL, *l = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m), LOGITNORM_OK);
  add_chunks(&r, m, id, n_id, 0);
  add_chunks(&r, m, ood, n_ood, 1);
  set(m, LOGITNORM_METRICS_TPR_LEVEL, 0.9);
  set(m, LOGITNORM_METRICS_FPR_RULE, LOGITNORM_FPR_RULE_OPENOOD);
  if (_i % 2) (void)value(m, LOGITNORM_METRIC_AUROC); /* save from the sorted state too */
  size_t size = 0;
  ck_assert_int_eq(logitnorm_metrics_save(m, NULL, 0, &size), LOGITNORM_OK);
  ck_assert_uint_eq(size, 24 + 24 + 16 + 8 * (size_t)(n_id + n_ood) + 4);
  unsigned char *blob = malloc(size);
  ck_assert_int_eq(logitnorm_metrics_save(m, blob, size, &size), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_load(&l, blob, size), LOGITNORM_OK);
  double v = 0;
  ck_assert_int_eq(logitnorm_metrics_get(l, LOGITNORM_METRICS_TPR_LEVEL, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, 0.9);
  ck_assert_int_eq(logitnorm_metrics_get(l, LOGITNORM_METRICS_FPR_RULE, &v), LOGITNORM_OK);
  ck_assert_double_eq(v, LOGITNORM_FPR_RULE_OPENOOD);
  double a[ALL_VALUES], b[ALL_VALUES];
  all_values(m, a);
  all_values(l, b);
  ck_assert(memcmp(a, b, sizeof a) == 0);
  free(blob);
  logitnorm_metrics_free(m);
  logitnorm_metrics_free(l);
  free(id);
  free(ood);
}
END_TEST

START_TEST(f32_and_f64_agree) {
  tu_rng r;
  tu_seed(&r, 6000 + (uint64_t)_i);
  int kind = _i % 3; /* the float-exact generators */
  int64_t n_id = tu_int(&r, 1, 800), n_ood = tu_int(&r, 1, 800);
  double *id = malloc((size_t)n_id * sizeof *id), *ood = malloc((size_t)n_ood * sizeof *ood);
  float *fid = malloc((size_t)n_id * sizeof *fid), *food = malloc((size_t)n_ood * sizeof *food);
  generate(&r, kind, id, n_id, 1.0);
  generate(&r, kind, ood, n_ood, 0.0);
  for (int64_t i = 0; i < n_id; ++i) fid[i] = (float)id[i];
  for (int64_t i = 0; i < n_ood; ++i) food[i] = (float)ood[i];
  logitnorm_metrics *m32 = NULL, *m64 = NULL;
  ck_assert_int_eq(logitnorm_metrics_create(&m32), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_create(&m64), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m32, fid, n_id, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f32(m32, food, n_ood, 1), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(m64, id, n_id, 0), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_add_f64(m64, ood, n_ood, 1), LOGITNORM_OK);
  double a[ALL_VALUES], b[ALL_VALUES];
  all_values(m32, a);
  all_values(m64, b);
  ck_assert(memcmp(a, b, sizeof a) == 0);
  /* The one-call API gives the default-convention values. */
  double auroc, in, out, fpr;
  ck_assert_int_eq(logitnorm_ood_metrics_f32(fid, n_id, food, n_ood, &auroc, &in, &out, &fpr), LOGITNORM_OK);
  ck_assert(auroc == a[LOGITNORM_METRIC_AUROC] && in == a[LOGITNORM_METRIC_AUPR_IN] &&
            out == a[LOGITNORM_METRIC_AUPR_OUT] && fpr == a[LOGITNORM_METRIC_FPR_AT_TPR]);
  logitnorm_metrics_free(m32);
  logitnorm_metrics_free(m64);
  free(id);
  free(ood);
  free(fid);
  free(food);
}
END_TEST

int main(void) {
  Suite *s = suite_create("metrics_props");
  TCase *t = tcase_create("properties");
  tcase_set_timeout(t, 60);
  tcase_add_loop_test(t, matches_reference, 0, 40);
  tcase_add_loop_test(t, matches_reference_tiny, 0, 400);
  tcase_add_loop_test(t, swap_roles, 0, 20);
  tcase_add_loop_test(t, identical_tied_distributions, 0, 10);
  tcase_add_loop_test(t, merge_is_exact, 0, 20);
  tcase_add_loop_test(t, save_load_round_trip, 0, 12);
  tcase_add_loop_test(t, f32_and_f64_agree, 0, 9);
  suite_add_tcase(s, t);
  return tu_run_suite(s);
}
