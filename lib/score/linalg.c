#include "linalg.h"

#include <math.h>
#include <string.h>

#include "common/alloc.h"

/* Row-by-row Cholesky-Banachiewicz: l_ij = (a_ij - sum_{k<j} l_ik l_jk) / l_jj,
   l_jj = sqrt(a_jj - sum_{k<j} l_jk^2). */
int ln_cholesky(double *a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double *ri = a + i * n;
    for (int64_t j = 0; j <= i; ++j) {
      const double *rj = a + j * n;
      double s = ri[j];
      for (int64_t k = 0; k < j; ++k) s -= ri[k] * rj[k];
      if (j == i) {
        if (!(s > 0.0) || !isfinite(s)) return -1;
        ri[i] = sqrt(s);
      } else {
        ri[j] = s / rj[j];
      }
    }
    for (int64_t j = i + 1; j < n; ++j) ri[j] = 0.0;
  }
  return 0;
}

/* Forward substitution for each column of the identity: L x = e_j. */
void ln_lower_inverse(const double *l, int64_t n, double *inv) {
  memset(inv, 0, (size_t)(n * n) * sizeof *inv);
  for (int64_t j = 0; j < n; ++j) {
    inv[j * n + j] = 1.0 / l[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      double s = 0.0;
      for (int64_t k = j; k < i; ++k) s += l[i * n + k] * inv[k * n + j];
      inv[i * n + j] = -s / l[i * n + i];
    }
  }
}

/* One Jacobi rotation zeroes a_pq: with theta = (a_qq - a_pp) / (2 a_pq),
   t = sign(theta) / (|theta| + sqrt(theta^2 + 1)), c = 1 / sqrt(t^2 + 1), s = t c,
   and A <- J^T A J, V <- V J. */
static void ln_jacobi_rotate(double *a, double *v, int64_t n, int64_t p, int64_t q) {
  double apq = a[p * n + q];
  double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
  double t = 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
  if (theta < 0.0) t = -t;
  double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
  for (int64_t k = 0; k < n; ++k) { /* columns p and q */
    double akp = a[k * n + p], akq = a[k * n + q];
    a[k * n + p] = c * akp - s * akq;
    a[k * n + q] = s * akp + c * akq;
  }
  for (int64_t k = 0; k < n; ++k) { /* rows p and q */
    double apk = a[p * n + k], aqk = a[q * n + k];
    a[p * n + k] = c * apk - s * aqk;
    a[q * n + k] = s * apk + c * aqk;
  }
  a[p * n + q] = a[q * n + p] = 0.0;
  for (int64_t k = 0; k < n; ++k) {
    double vkp = v[k * n + p], vkq = v[k * n + q];
    v[k * n + p] = c * vkp - s * vkq;
    v[k * n + q] = s * vkp + c * vkq;
  }
}

int ln_sym_eigen(double *a, int64_t n, double *w, double *v) {
  memset(v, 0, (size_t)(n * n) * sizeof *v);
  for (int64_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
  int converged = 0;
  for (int sweep = 0; sweep < 60 && !converged; ++sweep) {
    double off = 0.0, diag = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      diag += a[i * n + i] * a[i * n + i];
      for (int64_t j = i + 1; j < n; ++j) off += a[i * n + j] * a[i * n + j];
    }
    /* Stop when the off-diagonal mass is 1e-12 of the diagonal's (Frobenius). */
    if (off <= 1e-24 * diag) {
      converged = 1;
      break;
    }
    /* Entries below 1e-17 of the matrix scale are rounding noise: zero them instead of
       rotating, which also guarantees the test above is met eventually. */
    double tiny = 1e-17 * sqrt(diag + 2.0 * off);
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        if (fabs(a[p * n + q]) <= tiny) {
          a[p * n + q] = a[q * n + p] = 0.0;
          continue;
        }
        ln_jacobi_rotate(a, v, n, p, q);
      }
  }
  if (!converged) return -1;
  for (int64_t i = 0; i < n; ++i) w[i] = a[i * n + i];
  /* Selection sort of the pairs into decreasing eigenvalue order (n swaps of columns). */
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = i;
    for (int64_t j = i + 1; j < n; ++j)
      if (w[j] > w[best]) best = j;
    if (best == i) continue;
    double t = w[i];
    w[i] = w[best];
    w[best] = t;
    for (int64_t k = 0; k < n; ++k) {
      t = v[k * n + i];
      v[k * n + i] = v[k * n + best];
      v[k * n + best] = t;
    }
  }
  return 0;
}

/* pinv(W) = W^T (W W^T)^+ when C <= D, and (W^T W)^+ W^T otherwise; G^+ = Q diag(1/l) Q^T
   over the kept eigenvalues l of the Gram matrix G. */
int ln_pinv_apply(const float *w, int64_t c, int64_t d, int64_t ldw, const double *y, double *x) {
  int wide = c <= d;
  int64_t m = wide ? c : d;
  double *g = ln_calloc(m * m, sizeof *g), *q = ln_calloc(m * m, sizeof *q);
  double *l = ln_calloc(m, sizeof *l), *t = ln_calloc(m, sizeof *t), *r = ln_calloc(m, sizeof *r);
  int rc = -1;
  if (g == NULL || q == NULL || l == NULL || t == NULL || r == NULL) goto done;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0.0;
      if (wide)
        for (int64_t k = 0; k < d; ++k) s += (double)w[i * ldw + k] * w[j * ldw + k];
      else
        for (int64_t k = 0; k < c; ++k) s += (double)w[k * ldw + i] * w[k * ldw + j];
      g[i * m + j] = g[j * m + i] = s;
    }
  /* t = the vector G^+ acts on: y itself (wide) or W^T y (tall). */
  for (int64_t i = 0; i < m; ++i) {
    if (wide) {
      t[i] = y[i];
    } else {
      double s = 0.0;
      for (int64_t k = 0; k < c; ++k) s += (double)w[k * ldw + i] * y[k];
      t[i] = s;
    }
  }
  if (ln_sym_eigen(g, m, l, q) != 0) goto done;
  double cut = 1e-12 * (l[0] > 0.0 ? l[0] : 0.0);
  for (int64_t j = 0; j < m; ++j) { /* r = Q diag(1/l) Q^T t */
    if (!(l[j] > cut)) continue;
    double s = 0.0;
    for (int64_t i = 0; i < m; ++i) s += q[i * m + j] * t[i];
    s /= l[j];
    for (int64_t i = 0; i < m; ++i) r[i] += s * q[i * m + j];
  }
  if (wide) { /* x = W^T r */
    for (int64_t k = 0; k < d; ++k) {
      double s = 0.0;
      for (int64_t i = 0; i < c; ++i) s += (double)w[i * ldw + k] * r[i];
      x[k] = s;
    }
  } else {
    memcpy(x, r, (size_t)d * sizeof *x);
  }
  rc = 0;
done:
  ln_free(g);
  ln_free(q);
  ln_free(l);
  ln_free(t);
  ln_free(r);
  return rc;
}
