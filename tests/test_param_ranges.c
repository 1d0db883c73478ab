/* Every handle parameter at the edges of the range that include/logitnorm.h documents for it:
   the edge values themselves are accepted and read back, the nearest values outside are
   LOGITNORM_ERR_INVALID_ARGUMENT with a message and leave the stored value as it was. The
   ranges below are copied from the header's comments, not from the library's code. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "logitnorm.h"
#include "test_util.h"

typedef enum handle_kind { LOSS, SCORER, METRICS, CALIBRATION } handle_kind;

/* One documented range: [lo, hi] with lo or hi excluded when the flag says so; integer ranges
   also reject the half-way value lo + 0.5 when lo + 1 <= hi. */
typedef struct param_range {
  const char *name;
  handle_kind handle;
  int param;
  double lo, hi;
  int lo_open, hi_open, integer;
} param_range;

#define TWO62 4611686018427387904.0 /* 2^62 */
static const param_range RANGES[] = {
    {.name = "loss TEMPERATURE", .handle = LOSS, .param = LOGITNORM_LOSS_TEMPERATURE, .lo = 1e-30, .hi = INFINITY, .hi_open = 1},
    {.name = "loss EPSILON", .handle = LOSS, .param = LOGITNORM_LOSS_EPSILON, .lo = 0, .hi = INFINITY, .hi_open = 1},
    {.name = "loss REDUCTION", .handle = LOSS, .param = LOGITNORM_LOSS_REDUCTION, .lo = 0, .hi = 2, .integer = 1},
    {.name = "loss LABEL_SMOOTHING", .handle = LOSS, .param = LOGITNORM_LOSS_LABEL_SMOOTHING, .lo = 0, .hi = 1},
    {.name = "loss IGNORE_INDEX", .handle = LOSS, .param = LOGITNORM_LOSS_IGNORE_INDEX, .lo = INT32_MIN, .hi = INT32_MAX, .integer = 1},
    {.name = "loss CHECK_FINITE", .handle = LOSS, .param = LOGITNORM_LOSS_CHECK_FINITE, .lo = 0, .hi = 1, .integer = 1},
    {.name = "loss THREADS", .handle = LOSS, .param = LOGITNORM_LOSS_THREADS, .lo = 1, .hi = 1024, .integer = 1},
    {.name = "loss WORKSPACE_BYTES", .handle = LOSS, .param = LOGITNORM_LOSS_WORKSPACE_BYTES, .lo = 1, .hi = TWO62},
    {.name = "scorer TEMPERATURE", .handle = SCORER, .param = LOGITNORM_SCORER_TEMPERATURE, .lo = 0, .hi = INFINITY, .lo_open = 1, .hi_open = 1},
    {.name = "scorer GAMMA", .handle = SCORER, .param = LOGITNORM_SCORER_GAMMA, .lo = 0, .hi = INFINITY, .lo_open = 1, .hi_open = 1},
    {.name = "scorer TOP_M", .handle = SCORER, .param = LOGITNORM_SCORER_TOP_M, .lo = 1, .hi = 1e9, .integer = 1},
    {.name = "scorer K", .handle = SCORER, .param = LOGITNORM_SCORER_K, .lo = 1, .hi = INT32_MAX, .integer = 1},
    {.name = "scorer PERCENTILE", .handle = SCORER, .param = LOGITNORM_SCORER_PERCENTILE, .lo = 0, .hi = 100, .hi_open = 1},
    {.name = "scorer CLIP", .handle = SCORER, .param = LOGITNORM_SCORER_CLIP, .lo = 0, .hi = INFINITY, .hi_open = 1},
    {.name = "scorer ASH_VARIANT", .handle = SCORER, .param = LOGITNORM_SCORER_ASH_VARIANT, .lo = LOGITNORM_ASH_S, .hi = LOGITNORM_ASH_B, .integer = 1},
    {.name = "scorer VIM_DIM", .handle = SCORER, .param = LOGITNORM_SCORER_VIM_DIM, .lo = 0, .hi = 7, .integer = 1}, /* D = 8 */
    {.name = "scorer THREADS", .handle = SCORER, .param = LOGITNORM_SCORER_THREADS, .lo = 1, .hi = 1024, .integer = 1},
    {.name = "scorer RIDGE", .handle = SCORER, .param = LOGITNORM_SCORER_RIDGE, .lo = 0, .hi = INFINITY, .hi_open = 1},
    {.name = "scorer LAMBDA", .handle = SCORER, .param = LOGITNORM_SCORER_LAMBDA, .lo = 0, .hi = INFINITY, .hi_open = 1},
    {.name = "metrics TPR_LEVEL", .handle = METRICS, .param = LOGITNORM_METRICS_TPR_LEVEL, .lo = 0, .hi = 1, .lo_open = 1},
    {.name = "metrics POSITIVE", .handle = METRICS, .param = LOGITNORM_METRICS_POSITIVE, .lo = 0, .hi = 1, .integer = 1},
    {.name = "metrics FPR_RULE", .handle = METRICS, .param = LOGITNORM_METRICS_FPR_RULE, .lo = 0, .hi = 2, .integer = 1},
    {.name = "metrics AUPR_RULE", .handle = METRICS, .param = LOGITNORM_METRICS_AUPR_RULE, .lo = 0, .hi = 1, .integer = 1},
    {.name = "metrics COVERAGE", .handle = METRICS, .param = LOGITNORM_METRICS_COVERAGE, .lo = 0, .hi = 1, .lo_open = 1},
    {.name = "metrics RISK", .handle = METRICS, .param = LOGITNORM_METRICS_RISK, .lo = 0, .hi = 1},
    {.name = "metrics RISK_RULE", .handle = METRICS, .param = LOGITNORM_METRICS_RISK_RULE, .lo = 0, .hi = 2, .integer = 1},
    {.name = "calibration BINS", .handle = CALIBRATION, .param = LOGITNORM_CALIBRATION_BINS, .lo = 1, .hi = 10000, .integer = 1},
    {.name = "calibration TEMPERATURE", .handle = CALIBRATION, .param = LOGITNORM_CALIBRATION_TEMPERATURE, .lo = 1e-100, .hi = 1e100},
};
enum { N_RANGES = sizeof RANGES / sizeof RANGES[0] };

typedef struct handles {
  logitnorm_loss *loss;
  logitnorm_scorer *scorer;
  logitnorm_metrics *metrics;
  logitnorm_calibration *cal;
} handles;

static handles open_handles(void) {
  handles h = {0};
  ck_assert_int_eq(logitnorm_loss_create(&h.loss, LOGITNORM_LOSS_LOGITNORM, 10), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_create(&h.scorer, LOGITNORM_SCORE_VIM, 10, 8), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_metrics_create(&h.metrics), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_calibration_create(&h.cal, 10), LOGITNORM_OK);
  return h;
}

static void close_handles(handles *h) {
  logitnorm_loss_free(h->loss);
  logitnorm_scorer_free(h->scorer);
  logitnorm_metrics_free(h->metrics);
  logitnorm_calibration_free(h->cal);
}

static logitnorm_status set(const handles *h, const param_range *r, double v) {
  switch (r->handle) {
    case LOSS: return logitnorm_loss_set(h->loss, (logitnorm_loss_param)r->param, v);
    case SCORER: return logitnorm_scorer_set(h->scorer, r->param, v);
    case METRICS: return logitnorm_metrics_set(h->metrics, (logitnorm_metrics_param)r->param, v);
    case CALIBRATION: return logitnorm_calibration_set(h->cal, (logitnorm_calibration_param)r->param, v);
  }
  return LOGITNORM_ERR_INVALID_ARGUMENT;
}

static double get(const handles *h, const param_range *r) {
  double v = NAN;
  logitnorm_status st = LOGITNORM_ERR_INVALID_ARGUMENT;
  switch (r->handle) {
    case LOSS: st = logitnorm_loss_get(h->loss, (logitnorm_loss_param)r->param, &v); break;
    case SCORER: st = logitnorm_scorer_get(h->scorer, r->param, &v); break;
    case METRICS: st = logitnorm_metrics_get(h->metrics, (logitnorm_metrics_param)r->param, &v); break;
    case CALIBRATION: st = logitnorm_calibration_get(h->cal, (logitnorm_calibration_param)r->param, &v); break;
  }
  ck_assert_msg(st == LOGITNORM_OK, "%s: get failed (%s)", r->name, logitnorm_last_error());
  return v;
}

static void accepts(const handles *h, const param_range *r, double v) {
  logitnorm_status st = set(h, r, v);
  ck_assert_msg(st == LOGITNORM_OK, "%s = %.17g is inside the documented range but gave %d (%s)", r->name, v, st,
                logitnorm_last_error());
  ck_assert_msg(get(h, r) == v, "%s = %.17g reads back as %.17g", r->name, v, get(h, r));
}

static void rejects(const handles *h, const param_range *r, double v) {
  double before = get(h, r);
  logitnorm_status st = set(h, r, v);
  ck_assert_msg(st == LOGITNORM_ERR_INVALID_ARGUMENT, "%s = %.17g is outside the documented range but gave %d",
                r->name, v, st);
  ck_assert_msg(strlen(logitnorm_last_error()) > 0, "%s: no message", r->name);
  double after = get(h, r);
  ck_assert_msg(memcmp(&before, &after, sizeof before) == 0, "%s changed on a rejected set", r->name);
}

START_TEST(edges) {
  const param_range *r = &RANGES[_i];
  handles h = open_handles();
  double below = r->integer ? r->lo - 1 : nextafter(r->lo, -INFINITY);
  double above = r->integer ? r->hi + 1 : nextafter(r->hi, INFINITY);
  if (r->lo_open) {
    rejects(&h, r, r->lo);
    accepts(&h, r, nextafter(r->lo, INFINITY));
  } else {
    accepts(&h, r, r->lo);
    rejects(&h, r, below);
  }
  if (r->hi_open) {
    rejects(&h, r, r->hi);
    if (isfinite(r->hi)) accepts(&h, r, nextafter(r->hi, -INFINITY));
  } else if (r->handle != SCORER || r->param != LOGITNORM_SCORER_TOP_M) { /* TOP_M has no upper edge */
    accepts(&h, r, r->hi);
    rejects(&h, r, above);
  }
  if (r->integer && r->lo + 1 <= r->hi) rejects(&h, r, r->lo + 0.5);
  rejects(&h, r, NAN);
  close_handles(&h);
}
END_TEST

int main(void) {
  Suite *s = suite_create("param_ranges");
  TCase *tc = tcase_create("ranges");
  tcase_add_loop_test(tc, edges, 0, N_RANGES);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
