/* A consumer that reaches BLIS through the library: a Mahalanobis scorer with two BLIS
   threads. Linked statically, it needs every flag of Libs.private (BLIS, its OpenMP runtime,
   threads, libm).

   Fit data: two classes in 2-D, each its mean plus the offsets (+-1, 0) and (0, +-1), means
   (0, 0) and (10, 0). The tied covariance is (1/8) * 2 * diag(2, 2) = diag(1/2, 1/2), so with
   RIDGE = 0 the score of h is max_c -2 ||h - mu_c||^2: (1, 1) -> -4, (10, 2) -> -8. */
#include <math.h>
#include <stdio.h>

#include <logitnorm.h>

static int check(logitnorm_status st, const char *what) {
  if (st != LOGITNORM_OK) fprintf(stderr, "%s: %s (%s)\n", what, logitnorm_status_string(st), logitnorm_last_error());
  return st != LOGITNORM_OK;
}

int main(void) {
  enum { N = 8, D = 2, Q = 2 };
  const float fit[N * D] = {1, 0, -1, 0, 0, 1, 0, -1, 11, 0, 9, 0, 10, 1, 10, -1};
  const int32_t labels[N] = {0, 0, 0, 0, 1, 1, 1, 1};
  const float query[Q * D] = {1, 1, 10, 2};
  const double expected[Q] = {-4.0, -8.0};
  float scores[Q];

  logitnorm_scorer *s = NULL;
  if (check(logitnorm_scorer_create(&s, LOGITNORM_SCORE_MAHALANOBIS, 2, D), "create")) return 1;
  int bad = check(logitnorm_scorer_set(s, LOGITNORM_SCORER_RIDGE, 0.0), "set RIDGE") ||
            check(logitnorm_scorer_set(s, LOGITNORM_SCORER_THREADS, 2.0), "set THREADS") ||
            check(logitnorm_scorer_fit_f32(s, N, fit, D, NULL, 0, labels), "fit") ||
            check(logitnorm_scorer_prepare(s), "prepare") ||
            check(logitnorm_scorer_score_f32(s, Q, NULL, 0, query, D, scores), "score");
  logitnorm_scorer_free(s);
  if (bad) return 1;
  for (int i = 0; i < Q; ++i) {
    printf("Mahalanobis score of query %d: %.6f (expected %.1f)\n", i, scores[i], expected[i]);
    if (!(fabs(scores[i] - expected[i]) <= 1e-5 * fabs(expected[i]))) return 1;
  }
  return 0;
}
