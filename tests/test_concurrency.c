/* Concurrent use of shared handles. Eight caller threads share one configured loss handle
   and one fitted scorer handle, both with THREADS = 2 inside the library, and run the
   compute calls several times each. Every thread must get the bitwise-identical result of
   the single-threaded call (computed first with THREADS = 1), and its own last-error text.
   Built with ThreadSanitizer (tests/run.sh tsan), the same run must report no race. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "test_util.h"

enum {
  CALLERS = 8,
  ROUNDS = 3,
  LN_ROWS = 512, /* 512 x 100 = 51200 logits: large enough that THREADS = 2 is used */
  LN_C = 100,
  LN_LD = 103,
  SC_D = 24, /* scorer: Mahalanobis on 24-dim features of 6 classes */
  SC_C = 6,
  SC_FIT = 300,
  SC_ROWS = 256
};

typedef struct shared {
  const logitnorm_loss *loss;
  const logitnorm_scorer *scorer;
  const float *logits;
  const int32_t *labels;
  const float *features;
  /* single-threaded results */
  double ref_loss;
  const float *ref_row_loss, *ref_grad, *ref_scores;
} shared;

typedef struct caller {
  const shared *sh;
  int id;
  int mismatches;
  int failures;
  char message[160];
} caller;

static void *caller_main(void *arg) {
  caller *me = arg;
  const shared *sh = me->sh;
  float *row_loss = malloc(LN_ROWS * sizeof *row_loss);
  float *grad = malloc((size_t)LN_ROWS * LN_LD * sizeof *grad);
  float *scores = malloc(SC_ROWS * sizeof *scores);
  for (int r = 0; r < ROUNDS; ++r) {
    double loss;
    memset(grad, 0, (size_t)LN_ROWS * LN_LD * sizeof *grad);
    logitnorm_status st = logitnorm_loss_forward_backward_f32(sh->loss, LN_ROWS, sh->logits, LN_LD, sh->labels, &loss,
                                                              row_loss, 1.0f, 0.0f, grad, LN_LD);
    if (st != LOGITNORM_OK) {
      me->failures++;
      snprintf(me->message, sizeof me->message, "loss: %s", logitnorm_last_error());
      continue;
    }
    if (memcmp(&loss, &sh->ref_loss, sizeof loss) != 0 ||
        memcmp(row_loss, sh->ref_row_loss, LN_ROWS * sizeof *row_loss) != 0)
      me->mismatches++;
    for (int i = 0; i < LN_ROWS; ++i)
      if (memcmp(grad + (size_t)i * LN_LD, sh->ref_grad + (size_t)i * LN_LD, LN_C * sizeof *grad) != 0) {
        me->mismatches++;
        break;
      }
    st = logitnorm_scorer_score_f32(sh->scorer, SC_ROWS, NULL, 0, sh->features, SC_D, scores);
    if (st != LOGITNORM_OK) {
      me->failures++;
      snprintf(me->message, sizeof me->message, "scorer: %s", logitnorm_last_error());
      continue;
    }
    if (memcmp(scores, sh->ref_scores, SC_ROWS * sizeof *scores) != 0) me->mismatches++;
    /* A failing call on the shared handle: the text is this thread's own. */
    char want[64];
    snprintf(want, sizeof want, "n = -%d is negative", me->id + 1);
    st = logitnorm_loss_forward_f32(sh->loss, -(me->id + 1), sh->logits, LN_LD, sh->labels, NULL, NULL);
    if (st != LOGITNORM_ERR_INVALID_ARGUMENT || strstr(logitnorm_last_error(), want) == NULL) {
      me->failures++;
      snprintf(me->message, sizeof me->message, "error text \"%s\" lacks \"%s\"", logitnorm_last_error(), want);
    }
  }
  free(row_loss);
  free(grad);
  free(scores);
  return NULL;
}

START_TEST(test_shared_handles) {
  tu_rng rng;
  tu_seed(&rng, 2022);
  float *logits = malloc((size_t)LN_ROWS * LN_LD * sizeof *logits);
  int32_t *labels = malloc(LN_ROWS * sizeof *labels);
  for (int64_t i = 0; i < (int64_t)LN_ROWS * LN_LD; ++i) logits[i] = (float)(3.0 * tu_normal(&rng));
  for (int i = 0; i < LN_ROWS; ++i) labels[i] = (int32_t)tu_int(&rng, 0, LN_C - 1);
  labels[7] = -100; /* one ignored row */

  float *fit = malloc((size_t)SC_FIT * SC_D * sizeof *fit);
  int32_t *fit_labels = malloc(SC_FIT * sizeof *fit_labels);
  float *features = malloc((size_t)SC_ROWS * SC_D * sizeof *features);
  for (int i = 0; i < SC_FIT; ++i) {
    fit_labels[i] = (int32_t)(i % SC_C);
    for (int d = 0; d < SC_D; ++d) fit[i * SC_D + d] = (float)(tu_normal(&rng) + (d % SC_C == fit_labels[i] ? 2 : 0));
  }
  for (int64_t i = 0; i < (int64_t)SC_ROWS * SC_D; ++i) features[i] = (float)(1.5 * tu_normal(&rng));

  logitnorm_loss *loss;
  ck_assert_int_eq(logitnorm_loss_create(&loss, LOGITNORM_LOSS_LOGITNORM, LN_C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(loss, LOGITNORM_LOSS_LABEL_SMOOTHING, 0.1), LOGITNORM_OK);
  logitnorm_scorer *scorer;
  ck_assert_int_eq(logitnorm_scorer_create(&scorer, LOGITNORM_SCORE_MAHALANOBIS, SC_C, SC_D), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_fit_f32(scorer, SC_FIT, fit, SC_D, NULL, 0, fit_labels), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_prepare(scorer), LOGITNORM_OK);

  /* single-threaded reference, THREADS = 1 (the default) */
  shared sh = {loss, scorer, logits, labels, features, 0.0, NULL, NULL, NULL};
  float *ref_row_loss = malloc(LN_ROWS * sizeof *ref_row_loss);
  float *ref_grad = calloc((size_t)LN_ROWS * LN_LD, sizeof *ref_grad);
  float *ref_scores = malloc(SC_ROWS * sizeof *ref_scores);
  ck_assert_int_eq(logitnorm_loss_forward_backward_f32(loss, LN_ROWS, logits, LN_LD, labels, &sh.ref_loss,
                                                       ref_row_loss, 1.0f, 0.0f, ref_grad, LN_LD),
                   LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_score_f32(scorer, SC_ROWS, NULL, 0, features, SC_D, ref_scores), LOGITNORM_OK);
  sh.ref_row_loss = ref_row_loss;
  sh.ref_grad = ref_grad;
  sh.ref_scores = ref_scores;

  /* then THREADS = 2 inside the library, set before any caller starts */
  ck_assert_int_eq(logitnorm_loss_set(loss, LOGITNORM_LOSS_THREADS, 2), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_scorer_set(scorer, LOGITNORM_SCORER_THREADS, 2), LOGITNORM_OK);

  pthread_t tid[CALLERS];
  caller callers[CALLERS];
  for (int t = 0; t < CALLERS; ++t) {
    callers[t] = (caller){&sh, t, 0, 0, ""};
    ck_assert_int_eq(pthread_create(&tid[t], NULL, caller_main, &callers[t]), 0);
  }
  for (int t = 0; t < CALLERS; ++t) pthread_join(tid[t], NULL);
  for (int t = 0; t < CALLERS; ++t) {
    ck_assert_msg(callers[t].failures == 0, "caller %d: %d failed calls (%s)", t, callers[t].failures,
                  callers[t].message);
    ck_assert_msg(callers[t].mismatches == 0, "caller %d: %d results differ from the single-thread result", t,
                  callers[t].mismatches);
  }

  logitnorm_loss_free(loss);
  logitnorm_scorer_free(scorer);
  free(ref_row_loss);
  free(ref_grad);
  free(ref_scores);
  free(logits);
  free(labels);
  free(fit);
  free(fit_labels);
  free(features);
}
END_TEST

static Suite *concurrency_suite(void) {
  Suite *s = suite_create("concurrency");
  TCase *tc = tcase_create("shared");
  tcase_set_timeout(tc, 120); /* ThreadSanitizer slows this down several times */
  tcase_add_test(tc, test_shared_handles);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(concurrency_suite());
}
