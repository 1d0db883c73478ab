/* Loss handle parameters (set/get, defaults, rejected values), class weights, and the
   THREADS guarantee: bitwise identical results for any thread count. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "test_util.h"

static logitnorm_loss *L;

static void setup(void) { ck_assert_int_eq(logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 5), LOGITNORM_OK); }
static void teardown(void) {
  logitnorm_loss_free(L);
  L = NULL;
}

static double get(logitnorm_loss_param p) {
  double v = NAN;
  ck_assert_int_eq(logitnorm_loss_get(L, p, &v), LOGITNORM_OK);
  return v;
}

START_TEST(defaults) {
  ck_assert(get(LOGITNORM_LOSS_TEMPERATURE) == 0.04);
  ck_assert(get(LOGITNORM_LOSS_EPSILON) == 1e-7);
  ck_assert(get(LOGITNORM_LOSS_REDUCTION) == LOGITNORM_REDUCTION_MEAN);
  ck_assert(get(LOGITNORM_LOSS_LABEL_SMOOTHING) == 0.0);
  ck_assert(get(LOGITNORM_LOSS_IGNORE_INDEX) == -100.0);
  ck_assert(get(LOGITNORM_LOSS_CHECK_FINITE) == 1.0);
  ck_assert(get(LOGITNORM_LOSS_THREADS) == 1.0);
}
END_TEST

typedef struct pvals {
  logitnorm_loss_param p;
  double good[6];
  int ngood;
  double bad[8];
  int nbad;
} pvals;

static const pvals PARAMS[] = {
    /* tau >= 1e-30: 1e-30 itself is accepted, anything below is not */
    {LOGITNORM_LOSS_TEMPERATURE, {0.5, 1e-6, 1e6, 0.04, 1e-30}, 5,
     {0.0, -0.0, -1.0, NAN, INFINITY, -INFINITY, 1e-39, 5e-324}, 8},
    {LOGITNORM_LOSS_EPSILON, {0.0, 1e-3, 1e-7, 2.5}, 4, {-1e-9, -1.0, NAN, INFINITY}, 4},
    {LOGITNORM_LOSS_REDUCTION, {0, 1, 2, 0}, 4, {-1, 3, 0.5, 1.0000001, NAN, INFINITY}, 6},
    {LOGITNORM_LOSS_LABEL_SMOOTHING, {0.0, 0.5, 1.0, 0.1}, 4, {-0.1, 1.0001, -1e-300, NAN, INFINITY}, 5},
    {LOGITNORM_LOSS_IGNORE_INDEX, {-1, 0, 4, 7, -2147483648.0, 2147483647.0}, 6,
     {0.5, 2147483648.0, -2147483649.0, NAN, INFINITY, -INFINITY, 1e300}, 7},
    {LOGITNORM_LOSS_CHECK_FINITE, {0, 1}, 2, {2, -1, 0.5, NAN}, 4},
    {LOGITNORM_LOSS_THREADS, {2, 8, 1, 3}, 4, {0, -1, 1.5, NAN, INFINITY}, 5},
};

/* Every good value round-trips exactly; every bad value gives INVALID_ARGUMENT with a
   message and leaves the stored value as it was. */
START_TEST(set_get_and_rejected_values) {
  const pvals *pv = &PARAMS[_i];
  for (int g = 0; g < pv->ngood; ++g) {
    ck_assert_int_eq(logitnorm_loss_set(L, pv->p, pv->good[g]), LOGITNORM_OK);
    ck_assert_msg(get(pv->p) == pv->good[g], "param %d: set %g, got %g", (int)pv->p, pv->good[g], get(pv->p));
  }
  double kept = get(pv->p);
  for (int b = 0; b < pv->nbad; ++b) {
    ck_assert_msg(logitnorm_loss_set(L, pv->p, pv->bad[b]) == LOGITNORM_ERR_INVALID_ARGUMENT,
                  "param %d accepted %g", (int)pv->p, pv->bad[b]);
    ck_assert(logitnorm_last_error()[0] != '\0');
    ck_assert_msg(get(pv->p) == kept, "param %d changed by a rejected set", (int)pv->p);
  }
}
END_TEST

START_TEST(unknown_parameter_and_nulls) {
  double v = 123.0;
  ck_assert_int_eq(logitnorm_loss_set(L, (logitnorm_loss_param)99, 1.0), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert(logitnorm_last_error()[0] != '\0');
  ck_assert_int_eq(logitnorm_loss_get(L, (logitnorm_loss_param)108, &v), LOGITNORM_ERR_INVALID_ARGUMENT);
  ck_assert(v == 123.0);
  ck_assert_int_eq(logitnorm_loss_set(NULL, LOGITNORM_LOSS_TEMPERATURE, 1.0), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_int_eq(logitnorm_loss_get(NULL, LOGITNORM_LOSS_TEMPERATURE, &v), LOGITNORM_ERR_NULL_POINTER);
  ck_assert(v == 123.0);
  ck_assert_int_eq(logitnorm_loss_get(L, LOGITNORM_LOSS_TEMPERATURE, NULL), LOGITNORM_ERR_NULL_POINTER);
  ck_assert_int_eq(logitnorm_loss_set_class_weights(NULL, NULL), LOGITNORM_ERR_NULL_POINTER);
  ck_assert(logitnorm_last_error()[0] != '\0');
}
END_TEST

/* ---- class weights: observed through the loss of a fixed batch ---- */

enum { WN = 4, WC = 5 };
static const double WZ[WN * WC] = {0.3, -1.2, 2.0, 0.1, 0.7, 1.5, 1.5, -0.4, 0.0, 0.9,
                                   -2.0, 0.5, 0.25, 1.0, -1.0, 0.6, 0.6, 0.6, -0.6, 3.0};
static const int32_t WY[WN] = {2, 0, 4, 1};

static double batch_loss(const logitnorm_loss *h) {
  double loss = NAN;
  ck_assert_int_eq(logitnorm_loss_forward_f64(h, WN, WZ, WC, WY, &loss, NULL), LOGITNORM_OK);
  return loss;
}

START_TEST(class_weights_set_clear_and_copy) {
  double plain = batch_loss(L);
  float w[WC] = {1, 2, 0.5f, 3, 0};
  ck_assert_int_eq(logitnorm_loss_set_class_weights(L, w), LOGITNORM_OK);
  double weighted = batch_loss(L);
  ck_assert(weighted != plain);
  /* the weights were copied: changing the caller's array changes nothing */
  w[2] = 100.0f;
  ck_assert(batch_loss(L) == weighted);
  /* all-ones weights give the unweighted loss (a weighted code path may round differently:
     1e-14 relative is a few roundings of a loss below 10) */
  const float ones[WC] = {1, 1, 1, 1, 1};
  ck_assert_int_eq(logitnorm_loss_set_class_weights(L, ones), LOGITNORM_OK);
  ck_assert(fabs(batch_loss(L) - plain) <= 1e-14 * plain);
  /* NULL clears */
  ck_assert_int_eq(logitnorm_loss_set_class_weights(L, w), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set_class_weights(L, NULL), LOGITNORM_OK);
  ck_assert(batch_loss(L) == plain);
}
END_TEST

START_TEST(class_weights_rejected_unchanged) {
  const float w[WC] = {1, 2, 0.5f, 3, 0.25f};
  ck_assert_int_eq(logitnorm_loss_set_class_weights(L, w), LOGITNORM_OK);
  double before = batch_loss(L);
  const struct {
    float bad;
    logitnorm_status want;
  } cases[5] = {{-1.0f, LOGITNORM_ERR_INVALID_ARGUMENT},
                {-1e-30f, LOGITNORM_ERR_INVALID_ARGUMENT},
                {NAN, LOGITNORM_ERR_NONFINITE},
                {INFINITY, LOGITNORM_ERR_NONFINITE},
                {-INFINITY, LOGITNORM_ERR_NONFINITE}};
  for (int k = 0; k < 5; ++k)
    for (int pos = 0; pos < WC; pos += 2) {
      float bad[WC] = {3, 3, 3, 3, 3};
      bad[pos] = cases[k].bad;
      ck_assert_msg(logitnorm_loss_set_class_weights(L, bad) == cases[k].want, "weight %g at %d", cases[k].bad, pos);
      ck_assert(logitnorm_last_error()[0] != '\0');
      ck_assert_msg(batch_loss(L) == before, "weights changed by a rejected set");
    }
}
END_TEST

/* ---- THREADS: bitwise identical loss_out, row_loss and grad for 1, 2, 3 and 8 threads ---- */

typedef struct tout {
  double loss;
  void *rows;
  void *grad;
} tout;

static void run_threads_case(int f64, int soft, int64_t n, int64_t C, int backward_with_scale, tout *out) {
  tu_rng r;
  tu_seed(&r, (uint64_t)(n * 7 + C));
  size_t elem = f64 ? sizeof(double) : sizeof(float);
  int64_t ld = C + 3;
  void *z = malloc((size_t)(n * ld) * elem), *t = malloc((size_t)(n * ld) * elem), *rs = malloc((size_t)n * elem);
  int32_t *y = malloc((size_t)n * sizeof *y);
  ck_assert(z && t && rs && y);
  for (int64_t k = 0; k < n * ld; ++k) {
    double a = 2.0 * tu_normal(&r), b = tu_uniform(&r) / (double)C;
    if (f64) {
      ((double *)z)[k] = a;
      ((double *)t)[k] = b;
    } else {
      ((float *)z)[k] = (float)a;
      ((float *)t)[k] = (float)b;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    double s = tu_normal(&r);
    if (f64)
      ((double *)rs)[i] = s;
    else
      ((float *)rs)[i] = (float)s;
    y[i] = i % 11 == 3 ? -100 : (int32_t)tu_int(&r, 0, C - 1);
  }
  float *w = malloc((size_t)C * sizeof *w);
  for (int64_t c = 0; c < C; ++c) w[c] = (float)(0.5 + tu_uniform(&r));
  static const int threads[4] = {1, 2, 3, 8};
  for (int k = 0; k < 4; ++k) {
    logitnorm_loss *h = NULL;
    ck_assert_int_eq(logitnorm_loss_create(&h, LOGITNORM_LOSS_LOGITNORM, C), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_loss_set(h, LOGITNORM_LOSS_THREADS, threads[k]), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_loss_set(h, LOGITNORM_LOSS_LABEL_SMOOTHING, 0.1), LOGITNORM_OK);
    ck_assert_int_eq(logitnorm_loss_set_class_weights(h, w), LOGITNORM_OK);
    tout *o = &out[k];
    o->rows = calloc((size_t)n, elem);
    o->grad = calloc((size_t)(n * ld), elem); /* beta = 1 accumulates onto zeros */
    logitnorm_status st;
    if (f64) {
      st = soft ? logitnorm_loss_forward_backward_soft_f64(h, n, z, ld, t, ld, &o->loss, o->rows, 0.5, 1.0, o->grad, ld)
                : logitnorm_loss_forward_backward_f64(h, n, z, ld, y, &o->loss, o->rows, 0.5, 1.0, o->grad, ld);
      if (st == LOGITNORM_OK && backward_with_scale)
        st = soft ? logitnorm_loss_backward_soft_f64(h, n, z, ld, t, ld, rs, 1.0, 1.0, o->grad, ld)
                  : logitnorm_loss_backward_f64(h, n, z, ld, y, rs, 1.0, 1.0, o->grad, ld);
    } else {
      st = soft ? logitnorm_loss_forward_backward_soft_f32(h, n, z, ld, t, ld, &o->loss, o->rows, 0.5f, 1.0f, o->grad, ld)
                : logitnorm_loss_forward_backward_f32(h, n, z, ld, y, &o->loss, o->rows, 0.5f, 1.0f, o->grad, ld);
      if (st == LOGITNORM_OK && backward_with_scale)
        st = soft ? logitnorm_loss_backward_soft_f32(h, n, z, ld, t, ld, rs, 1.0f, 1.0f, o->grad, ld)
                  : logitnorm_loss_backward_f32(h, n, z, ld, y, rs, 1.0f, 1.0f, o->grad, ld);
    }
    ck_assert_int_eq(st, LOGITNORM_OK);
    logitnorm_loss_free(h);
  }
  for (int k = 1; k < 4; ++k) {
    ck_assert_msg(memcmp(&out[k].loss, &out[0].loss, sizeof(double)) == 0, "loss differs with %d threads: %.17g vs %.17g",
                  threads[k], out[k].loss, out[0].loss);
    ck_assert_msg(memcmp(out[k].rows, out[0].rows, (size_t)n * elem) == 0, "row_loss differs with %d threads", threads[k]);
    ck_assert_msg(memcmp(out[k].grad, out[0].grad, (size_t)(n * ld) * elem) == 0, "grad differs with %d threads",
                  threads[k]);
  }
  for (int k = 0; k < 4; ++k) {
    free(out[k].rows);
    free(out[k].grad);
  }
  free(z);
  free(t);
  free(rs);
  free(y);
  free(w);
}

/* n C >= 32768 so that the library does start threads. Loop index: f64 * 2 + soft. */
START_TEST(threads_bitwise_identical) {
  tout out[4];
  run_threads_case(_i >> 1, _i & 1, 64, 600, 1, out);  /* 38400 elements, 64 rows: one per part */
  run_threads_case(_i >> 1, _i & 1, 67, 512, 0, out);  /* rows not a multiple of the 64 parts */
  if (_i == 0) run_threads_case(0, 0, 260, 128, 1, out); /* several rows per part (once: slow under valgrind) */
}
END_TEST

static Suite *params_suite(void) {
  Suite *s = suite_create("loss_params");
  TCase *tc = tcase_create("params");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, defaults);
  tcase_add_loop_test(tc, set_get_and_rejected_values, 0, (int)(sizeof PARAMS / sizeof PARAMS[0]));
  tcase_add_test(tc, unknown_parameter_and_nulls);
  tcase_add_test(tc, class_weights_set_clear_and_copy);
  tcase_add_test(tc, class_weights_rejected_unchanged);
  tcase_add_loop_test(tc, threads_bitwise_identical, 0, 4);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(params_suite());
}
