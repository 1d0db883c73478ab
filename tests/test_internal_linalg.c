/* The symmetric eigendecomposition behind ViM and the pseudo-inverse (score/linalg.h)
   against facts that do not depend on the code: the defining residual A V - V diag(w),
   orthonormal columns, decreasing order and trace = sum of eigenvalues on random matrices,
   and closed-form spectra (2 x 2, diagonal, zero, a prescribed spectrum with a repeated
   eigenvalue built from a reflector, the discrete Laplacian, rank one u u^T).

   Tolerances. Householder reduction followed by QR sweeps applies O(n) orthogonal
   transformations, each exact up to a few rounding errors, so the computed pairs satisfy
   (A + E) V = V diag(w) with ||E||_2 <= c n eps ||A||_2 and ||V^T V - I||_2 <= c n eps
   for a modest c. Entry by entry the errors are smaller than these norm bounds: on the
   matrices here the largest entry of A V - V diag(w) is at most 0.75 n eps ||A||_max and
   that of V^T V - I at most 0.6 n eps. TOL(n) = 32 n eps leaves a factor of 40 over that
   (room for other compilers and contracted multiply-adds), while a mistake in a rotation,
   a reflector or the ordering gives errors of order 1 (and a wrong shift, which converges
   slowly if at all, runs into the step limit: -1). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "score/linalg.h"
#include "test_util.h"

static double tol(int64_t n) { return 32.0 * (double)n * DBL_EPSILON; }

static double *alloc_d(int64_t count) {
  double *p = malloc((size_t)(count > 0 ? count : 1) * sizeof *p);
  ck_assert(p != NULL);
  return p;
}

static double max_abs(const double *x, int64_t count) {
  double m = 0.0;
  for (int64_t i = 0; i < count; ++i)
    if (fabs(x[i]) > m) m = fabs(x[i]);
  return m;
}

/* Runs ln_sym_eigen on a copy of the symmetric a0 (n x n) and checks the properties every
   result must have: rc 0, w non-increasing, |A V - V diag(w)|_max <= TOL ||A||_max,
   |V^T V - I|_max <= TOL, |trace A - sum w| <= TOL n ||A||_max. w (n) and v (n x n) get the
   result for further checks. */
static void decompose_and_check(const double *a0, int64_t n, double *w, double *v, const char *what) {
  double *a = alloc_d(n * n);
  memcpy(a, a0, (size_t)(n * n) * sizeof *a);
  ck_assert_msg(ln_sym_eigen(a, n, w, v) == 0, "%s n %lld: did not converge", what, (long long)n);
  free(a);
  double anorm = max_abs(a0, n * n), t = tol(n);
  for (int64_t j = 0; j + 1 < n; ++j)
    ck_assert_msg(w[j] >= w[j + 1], "%s n %lld: w[%lld] = %.17g < w[%lld] = %.17g", what, (long long)n,
                  (long long)j, w[j], (long long)(j + 1), w[j + 1]);
  double res = 0.0, orth = 0.0, trace = 0.0, sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = -w[j] * v[i * n + j], g = (i == j) ? -1.0 : 0.0;
      for (int64_t k = 0; k < n; ++k) {
        s += a0[i * n + k] * v[k * n + j];
        g += v[k * n + i] * v[k * n + j];
      }
      if (fabs(s) > res) res = fabs(s);
      if (fabs(g) > orth) orth = fabs(g);
    }
  for (int64_t i = 0; i < n; ++i) {
    trace += a0[i * n + i];
    sum += w[i];
  }
  ck_assert_msg(res <= t * anorm, "%s n %lld: residual %.3g > %.3g * %.3g", what, (long long)n, res, t, anorm);
  ck_assert_msg(orth <= t, "%s n %lld: |V^T V - I| = %.3g > %.3g", what, (long long)n, orth, t);
  ck_assert_msg(fabs(trace - sum) <= t * (double)n * anorm, "%s n %lld: trace %.17g, sum of eigenvalues %.17g",
                what, (long long)n, trace, sum);
}

START_TEST(random_symmetric) {
  const int64_t sizes[] = {1, 2, 3, 10, 57, 200};
  int64_t n = sizes[_i];
  tu_rng r;
  tu_seed(&r, 1000 + (uint64_t)n);
  double *a = alloc_d(n * n), *w = alloc_d(n), *v = alloc_d(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = tu_normal(&r);
  decompose_and_check(a, n, w, v, "random");
  free(a);
  free(w);
  free(v);
}
END_TEST

/* Scaling A by c scales the eigenvalues by c: at 1e300 the squares of the entries
   overflow and at 1e-300 they underflow, so this checks that no intermediate does. */
START_TEST(extreme_scales) {
  const int64_t n = 12;
  const double scales[] = {1e300, 1e-300};
  tu_rng r;
  tu_seed(&r, 77);
  double *a = alloc_d(n * n), *b = alloc_d(n * n), *w = alloc_d(n), *ws = alloc_d(n), *v = alloc_d(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = tu_normal(&r);
  decompose_and_check(a, n, w, v, "unscaled");
  for (size_t k = 0; k < 2; ++k) {
    for (int64_t i = 0; i < n * n; ++i) b[i] = a[i] * scales[k];
    decompose_and_check(b, n, ws, v, "scaled");
    for (int64_t i = 0; i < n; ++i)
      ck_assert_msg(fabs(ws[i] - w[i] * scales[k]) <= tol(n) * max_abs(w, n) * scales[k],
                    "scale %g: w[%lld] = %.17g, expected %.17g", scales[k], (long long)i, ws[i], w[i] * scales[k]);
  }
  free(a);
  free(b);
  free(w);
  free(ws);
  free(v);
}
END_TEST

/* [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/sqrt 2 and (1, -1)/sqrt 2. */
START_TEST(golden_2x2) {
  const double a[4] = {2.0, 1.0, 1.0, 2.0};
  double w[2], v[4];
  decompose_and_check(a, 2, w, v, "2x2");
  ck_assert_msg(fabs(w[0] - 3.0) <= 4 * DBL_EPSILON && fabs(w[1] - 1.0) <= 4 * DBL_EPSILON, "w = %.17g %.17g", w[0],
                w[1]);
  const double h = sqrt(0.5), e0[2] = {h, h}, e1[2] = {h, -h};
  for (int j = 0; j < 2; ++j) {
    const double *e = j == 0 ? e0 : e1;
    double sign = v[0 * 2 + j] < 0.0 ? -1.0 : 1.0;
    for (int i = 0; i < 2; ++i)
      ck_assert_msg(fabs(v[i * 2 + j] - sign * e[i]) <= 4 * DBL_EPSILON, "column %d row %d: %.17g", j, i,
                    v[i * 2 + j]);
  }
}
END_TEST

/* A diagonal matrix: its eigenvalues are its diagonal sorted, each with a unit vector. */
START_TEST(golden_diagonal) {
  enum { N = 6 };
  const double diag[N] = {3.0, -1.0, 7.0, 0.0, 2.5, -4.0};
  const double sorted[N] = {7.0, 3.0, 2.5, 0.0, -1.0, -4.0};
  const int where[N] = {2, 0, 4, 3, 1, 5}; /* index of sorted[j] in diag */
  double a[N * N] = {0}, w[N], v[N * N];
  for (int i = 0; i < N; ++i) a[i * N + i] = diag[i];
  decompose_and_check(a, N, w, v, "diagonal");
  for (int j = 0; j < N; ++j) {
    ck_assert_msg(fabs(w[j] - sorted[j]) <= 4 * DBL_EPSILON * 7.0, "w[%d] = %.17g, expected %g", j, w[j], sorted[j]);
    for (int i = 0; i < N; ++i) {
      double expect = i == where[j] ? 1.0 : 0.0;
      ck_assert_msg(fabs(fabs(v[i * N + j]) - expect) <= 4 * DBL_EPSILON, "V[%d][%d] = %.17g", i, j, v[i * N + j]);
    }
  }
}
END_TEST

START_TEST(golden_zero) {
  enum { N = 5 };
  double a[N * N] = {0}, w[N], v[N * N];
  decompose_and_check(a, N, w, v, "zero");
  for (int j = 0; j < N; ++j) ck_assert_msg(w[j] == 0.0, "w[%d] = %.17g", j, w[j]);
}
END_TEST

/* A = Q diag(5, 2, 2, -1) Q^T with the reflector Q = I - 2 h h^T / h^T h (orthogonal and
   symmetric): eigenvalues 5, 2, 2, -1; the simple ones have eigenvectors +-Q e_0 and
   +-Q e_3. Any orthonormal basis of the 2-eigenspace is right, so only the residual and
   orthogonality speak for columns 1 and 2. */
START_TEST(golden_repeated) {
  enum { N = 4 };
  const double h[N] = {1.0, 2.0, -1.0, 3.0}, lambda[N] = {5.0, 2.0, 2.0, -1.0};
  double hh = 0.0, q[N * N], a[N * N], w[N], v[N * N];
  for (int i = 0; i < N; ++i) hh += h[i] * h[i];
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) q[i * N + j] = (i == j ? 1.0 : 0.0) - 2.0 * h[i] * h[j] / hh;
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0.0;
      for (int k = 0; k < N; ++k) s += q[i * N + k] * lambda[k] * q[j * N + k];
      a[i * N + j] = s;
    }
  decompose_and_check(a, N, w, v, "repeated");
  for (int j = 0; j < N; ++j)
    ck_assert_msg(fabs(w[j] - lambda[j]) <= tol(N) * 5.0, "w[%d] = %.17g, expected %g", j, w[j], lambda[j]);
  const int simple[2] = {0, 3};
  for (int t = 0; t < 2; ++t) {
    int j = simple[t];
    double dot = 0.0;
    for (int i = 0; i < N; ++i) dot += v[i * N + j] * q[i * N + j];
    ck_assert_msg(fabs(fabs(dot) - 1.0) <= tol(N), "column %d: |<v, Q e_%d>| = %.17g", j, j, fabs(dot));
  }
}
END_TEST

/* Already tridiagonal: the path graph Laplacian tridiag(-1, 2, -1) of size n has
   eigenvalues 2 - 2 cos(k pi / (n + 1)), k = 1..n, with eigenvectors
   x_i = sin(i k pi / (n + 1)), i = 1..n. */
START_TEST(golden_tridiagonal) {
  const int64_t sizes[] = {2, 9, 40};
  int64_t n = sizes[_i];
  double *a = alloc_d(n * n), *w = alloc_d(n), *v = alloc_d(n * n);
  memset(a, 0, (size_t)(n * n) * sizeof *a);
  for (int64_t i = 0; i < n; ++i) {
    a[i * n + i] = 2.0;
    if (i + 1 < n) a[i * n + i + 1] = a[(i + 1) * n + i] = -1.0;
  }
  decompose_and_check(a, n, w, v, "tridiagonal");
  const double pi = 3.14159265358979323846;
  for (int64_t j = 0; j < n; ++j) {
    int64_t k = n - j; /* decreasing order: the largest has k = n */
    double expect = 2.0 - 2.0 * cos((double)k * pi / (double)(n + 1));
    ck_assert_msg(fabs(w[j] - expect) <= tol(n) * 4.0, "n %lld: w[%lld] = %.17g, expected %.17g", (long long)n,
                  (long long)j, w[j], expect);
    /* The spectrum is simple, so column j is +-x / ||x||. */
    double xx = 0.0, xv = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      double x = sin((double)((i + 1) * k) * pi / (double)(n + 1));
      xx += x * x;
      xv += x * v[i * n + j];
    }
    ck_assert_msg(fabs(fabs(xv) / sqrt(xx) - 1.0) <= tol(n) * (double)n, "n %lld: column %lld |cos| = %.17g",
                  (long long)n, (long long)j, fabs(xv) / sqrt(xx));
  }
  free(a);
  free(w);
  free(v);
}
END_TEST

/* u u^T: one eigenvalue ||u||^2 with eigenvector +-u / ||u||, the rest 0. */
START_TEST(golden_rank_one) {
  const int64_t n = 23;
  tu_rng r;
  tu_seed(&r, 5);
  double u[23], uu = 0.0, *a = alloc_d(n * n), *w = alloc_d(n), *v = alloc_d(n * n);
  for (int64_t i = 0; i < n; ++i) {
    u[i] = tu_normal(&r);
    uu += u[i] * u[i];
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) a[i * n + j] = u[i] * u[j];
  decompose_and_check(a, n, w, v, "rank one");
  ck_assert_msg(fabs(w[0] - uu) <= tol(n) * uu, "w[0] = %.17g, expected %.17g", w[0], uu);
  for (int64_t j = 1; j < n; ++j) ck_assert_msg(fabs(w[j]) <= tol(n) * uu, "w[%lld] = %.3g", (long long)j, w[j]);
  double dot = 0.0;
  for (int64_t i = 0; i < n; ++i) dot += v[i * n] * u[i];
  ck_assert_msg(fabs(fabs(dot) / sqrt(uu) - 1.0) <= tol(n), "|cos(v_0, u)| = %.17g", fabs(dot) / sqrt(uu));
  free(a);
  free(w);
  free(v);
}
END_TEST

/* Wilkinson's W21+ (tridiagonal, d_i = |10 - i|, e = 1) has pairs of eigenvalues that
   agree to many digits: their vectors must still come out orthonormal. */
START_TEST(close_pairs) {
  enum { N = 21 };
  double a[N * N] = {0}, w[N], v[N * N];
  for (int i = 0; i < N; ++i) {
    a[i * N + i] = fabs(10.0 - i);
    if (i + 1 < N) a[i * N + i + 1] = a[(i + 1) * N + i] = 1.0;
  }
  decompose_and_check(a, N, w, v, "W21+");
  ck_assert(w[0] - w[1] < 1e-12); /* the top pair agrees to about 1e-14 */
}
END_TEST

/* A non-finite entry has no decomposition: -1. */
START_TEST(non_finite_fails) {
  enum { N = 4 };
  const double bad[2] = {NAN, INFINITY};
  for (int k = 0; k < 2; ++k) {
    double a[N * N] = {0}, w[N], v[N * N];
    for (int i = 0; i < N; ++i) a[i * N + i] = 1.0 + i;
    a[2 * N + 1] = a[1 * N + 2] = bad[k];
    ck_assert_int_eq(ln_sym_eigen(a, N, w, v), -1);
  }
  double one = NAN, w1, v1;
  ck_assert_int_eq(ln_sym_eigen(&one, 1, &w1, &v1), -1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("linalg");
  TCase *tc = tcase_create("sym_eigen");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, random_symmetric, 0, 6);
  tcase_add_test(tc, extreme_scales);
  tcase_add_test(tc, golden_2x2);
  tcase_add_test(tc, golden_diagonal);
  tcase_add_test(tc, golden_zero);
  tcase_add_test(tc, golden_repeated);
  tcase_add_loop_test(tc, golden_tridiagonal, 0, 3);
  tcase_add_test(tc, golden_rank_one);
  tcase_add_test(tc, close_pairs);
  tcase_add_test(tc, non_finite_fails);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
}
