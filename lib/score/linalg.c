#include "linalg.h"

#include <float.h>
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

/* Symmetric eigendecomposition in two stages, both touching the row-major arrays along
   rows only (contiguous inner loops):
   1. Householder tridiagonalisation T = Q^T A Q. Step k maps the part of column k below
      the diagonal, x (length m = n - k - 1), onto alpha e_1 with the reflector
      P = I - beta u u^T, u = x - alpha e_1, alpha = -sign(x_0) ||x|| (no cancellation in
      u_0), beta = 2 / u^T u = 1 / (||x|| (||x|| + |x_0|)). The trailing block B becomes
      P B P = B - u q^T - q u^T with p = beta B u and q = p - (beta u^T p / 2) u, which
      costs one pass over the lower triangle of B for p and one for the rank-2 update.
   2. Implicit QR steps with the Wilkinson shift on T (cubic convergence, about two steps
      per eigenvalue on random matrices, so about n^2 rotations in all), each Givens
      rotation also applied to the accumulated Q^T, where rotating two columns of Q is an
      update of two contiguous rows (6n flops).
   Q^T ends up holding the eigenvectors as rows; they are sorted by eigenvalue and
   transposed into V at the end. */

/* An eigenvalue that needs more QR steps than this after the previous one deflated means
   the iteration failed (NaN, or a pathological case); a typical one takes 1 to 3, so the
   whole decomposition takes at most 30 n steps. */
enum { LN_QR_MAX_STEPS = 30 };
/* Reflectors applied to one row of Q^T per pass (their vectors, up to 16 rows of A, stay
   in cache). */
enum { LN_HH_BLOCK = 16 };
/* QR steps whose rotations are applied to Q^T together (their rows, 2 per step, stay in
   cache). */
enum { LN_SWEEP_BATCH = 8 };

/* x . y with eight partial sums, which the compiler can pair into vector lanes without
   reassociating anything (the summation order is fixed by the source). */
static double ln_dot(const double *restrict x, const double *restrict y, int64_t len) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0;
  int64_t j = 0;
  for (; j + 8 <= len; j += 8) {
    s0 += x[j] * y[j];
    s1 += x[j + 1] * y[j + 1];
    s2 += x[j + 2] * y[j + 2];
    s3 += x[j + 3] * y[j + 3];
    s4 += x[j + 4] * y[j + 4];
    s5 += x[j + 5] * y[j + 5];
    s6 += x[j + 6] * y[j + 6];
    s7 += x[j + 7] * y[j + 7];
  }
  for (; j < len; ++j) s0 += x[j] * y[j];
  return ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
}

/* y -= t x */
static void ln_axpy_neg(double *restrict y, const double *restrict x, double t, int64_t len) {
  int64_t j = 0;
  for (; j + 4 <= len; j += 4) {
    y[j] -= t * x[j];
    y[j + 1] -= t * x[j + 1];
    y[j + 2] -= t * x[j + 2];
    y[j + 3] -= t * x[j + 3];
  }
  for (; j < len; ++j) y[j] -= t * x[j];
}

/* One row of the symmetric product p = B u from the lower triangle: row i of B holds
   B(i, 0..i), which contributes B(i, j) u_j to p_i and, by symmetry, B(i, j) u_i to p_j.
   Returns sum_{j<i} B(i, j) u_j; p_j += B(i, j) u_i for j < i. */
static double ln_symv_row(const double *restrict b, const double *restrict u, double ui, double *restrict p,
                          int64_t i) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t j = 0;
  for (; j + 4 <= i; j += 4) {
    s0 += b[j] * u[j];
    s1 += b[j + 1] * u[j + 1];
    s2 += b[j + 2] * u[j + 2];
    s3 += b[j + 3] * u[j + 3];
    p[j] += b[j] * ui;
    p[j + 1] += b[j + 1] * ui;
    p[j + 2] += b[j + 2] * ui;
    p[j + 3] += b[j + 3] * ui;
  }
  for (; j < i; ++j) {
    s0 += b[j] * u[j];
    p[j] += b[j] * ui;
  }
  return (s0 + s2) + (s1 + s3);
}

/* b_j -= u_i q_j + q_i u_j for j <= i: row i of B - u q^T - q u^T, lower triangle. */
static void ln_rank2_row(double *restrict b, const double *restrict u, const double *restrict q, double ui,
                         double qi, int64_t i) {
  int64_t j = 0, len = i + 1;
  for (; j + 4 <= len; j += 4) {
    b[j] -= ui * q[j] + qi * u[j];
    b[j + 1] -= ui * q[j + 1] + qi * u[j + 1];
    b[j + 2] -= ui * q[j + 2] + qi * u[j + 2];
    b[j + 3] -= ui * q[j + 3] + qi * u[j + 3];
  }
  for (; j < len; ++j) b[j] -= ui * q[j] + qi * u[j];
}

/* (x, y) <- (c x + s y, c y - s x), the rows of J^T Z^T for the Givens rotation
   J = [c -s; s c] acting on columns x and y of Z. */
static void ln_rotate_rows(double *restrict x, double *restrict y, double c, double s, int64_t len) {
  int64_t j = 0;
  for (; j + 4 <= len; j += 4) {
    double x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
    double y0 = y[j], y1 = y[j + 1], y2 = y[j + 2], y3 = y[j + 3];
    x[j] = c * x0 + s * y0;
    x[j + 1] = c * x1 + s * y1;
    x[j + 2] = c * x2 + s * y2;
    x[j + 3] = c * x3 + s * y3;
    y[j] = c * y0 - s * x0;
    y[j + 1] = c * y1 - s * x1;
    y[j + 2] = c * y2 - s * x2;
    y[j + 3] = c * y3 - s * x3;
  }
  for (; j < len; ++j) {
    double x0 = x[j], y0 = y[j];
    x[j] = c * x0 + s * y0;
    y[j] = c * y0 - s * x0;
  }
}

/* Stage 1 on the lower triangle of A (n >= 3 for any work): d and e get the diagonal and
   the subdiagonal of T, vt = Q^T with Q = P_0 P_1 ... P_{n-3}. The vector u of step k is
   kept in row k right of the diagonal (upper triangle, never read otherwise) and beta_k in
   beta; p needs n scratch. */
static void ln_tridiagonalize(double *a, int64_t n, double *d, double *e, double *beta, double *p, double *vt) {
  for (int64_t k = 0; k + 2 < n; ++k) {
    int64_t m = n - k - 1;
    double *u = a + k * n + k + 1;
    double *b = a + (k + 1) * n + k + 1; /* B(i, j) = b[i * n + j], 0 <= j <= i < m */
    double tail = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      u[i] = b[i * n - 1]; /* A(k + 1 + i, k) */
      if (i > 0) tail += u[i] * u[i];
    }
    double x0 = u[0];
    /* A column that is already reduced (or whose tail underflows, i.e. is below 1e-154 of
       the matrix, which is scaled to a largest entry near 1) needs no reflector. */
    if (tail == 0.0) {
      beta[k] = 0.0;
      e[k] = x0;
      continue;
    }
    double sigma = sqrt(x0 * x0 + tail);
    double alpha = x0 > 0.0 ? -sigma : sigma;
    double bt = 1.0 / (sigma * (sigma + fabs(x0)));
    u[0] = x0 - alpha;
    e[k] = alpha;
    beta[k] = bt;
    for (int64_t i = 0; i < m; ++i) p[i] = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      const double *bi = b + i * n;
      p[i] += ln_symv_row(bi, u, u[i], p, i) + bi[i] * u[i];
    }
    double up = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      p[i] *= bt;
      up += u[i] * p[i];
    }
    double half = 0.5 * bt * up;
    for (int64_t i = 0; i < m; ++i) p[i] -= half * u[i]; /* p is now q */
    for (int64_t i = 0; i < m; ++i) ln_rank2_row(b + i * n, u, p, u[i], p[i], i);
  }
  for (int64_t i = 0; i < n; ++i) d[i] = a[i * n + i];
  if (n >= 2) e[n - 2] = a[(n - 1) * n + n - 2];
  /* Q^T = P_{n-3} ... P_1 P_0, built from the right: M <- M P_k changes only rows and
     columns k+1.. of M (rows r <= k are still e_r^T, orthogonal to u_k), row by row
     m_r <- m_r - (beta_k m_r . u_k) u_k. Each row takes a block of reflectors
     P_k1, ..., P_k0 in that order while it is in cache (the same operations in the same
     order as one reflector at a time, with 1/LN_HH_BLOCK of the memory traffic on M). */
  memset(vt, 0, (size_t)(n * n) * sizeof *vt);
  for (int64_t i = 0; i < n; ++i) vt[i * n + i] = 1.0;
  for (int64_t k1 = n - 3; k1 >= 0; k1 -= LN_HH_BLOCK) {
    int64_t k0 = k1 - LN_HH_BLOCK + 1 > 0 ? k1 - LN_HH_BLOCK + 1 : 0;
    for (int64_t r = k0 + 1; r < n; ++r)
      for (int64_t k = r - 1 < k1 ? r - 1 : k1; k >= k0; --k) {
        if (beta[k] == 0.0) continue;
        const double *u = a + k * n + k + 1;
        int64_t m = n - k - 1;
        double *row = vt + r * n + k + 1;
        ln_axpy_neg(row, u, beta[k] * ln_dot(row, u, m), m);
      }
  }
}

/* e_i is negligible next to its diagonal neighbours (or underflows, the matrix being
   scaled to a largest entry near 1). */
static int ln_negligible(const double *d, const double *e, int64_t i) {
  double t = fabs(e[i]);
  return t <= DBL_EPSILON * (fabs(d[i]) + fabs(d[i + 1])) || t < DBL_MIN;
}

/* Rotations computed on T but not yet applied to zt = (Q J_1 J_2 ...)^T, the transposed
   eigenvector estimate, for up to LN_SWEEP_BATCH QR steps (sweeps): sweep j made
   rotations J_k for k = lo[j] .. lo[j] + len[j] - 1, the one on rows k, k+1 stored at
   index off[j] + k - lo[j]. Rotations never feed back into T, so they can wait and be
   applied together: rotation (j, k) shares a row only with (j, k +- 1) and with
   (j', k - 1 .. k + 1) of other sweeps, so visiting them in waves t = k + 2 j (each wave
   in increasing j) keeps every entry's sequence of operations, and only the
   2 LN_SWEEP_BATCH rows of the current waves are in use: each row of zt is loaded from
   memory once per batch instead of once per sweep. */
typedef struct ln_rotlog {
  int64_t lo[LN_SWEEP_BATCH], len[LN_SWEEP_BATCH], off[LN_SWEEP_BATCH];
  int sweeps;
  int64_t count;
  double *c, *s;
} ln_rotlog;

static void ln_rotlog_flush(ln_rotlog *g, double *zt, int64_t n) {
  int64_t first = n, last = -1;
  for (int j = 0; j < g->sweeps; ++j) {
    if (g->lo[j] < first) first = g->lo[j];
    if (g->lo[j] + g->len[j] - 1 > last) last = g->lo[j] + g->len[j] - 1;
  }
  for (int64_t t = first; t <= last + 2 * (g->sweeps - 1); ++t)
    for (int j = 0; j < g->sweeps; ++j) {
      int64_t k = t - 2 * j;
      if (k < g->lo[j] || k >= g->lo[j] + g->len[j]) continue;
      int64_t i = g->off[j] + k - g->lo[j];
      ln_rotate_rows(zt + k * n, zt + (k + 1) * n, g->c[i], g->s[i], n);
    }
  g->sweeps = 0;
  g->count = 0;
}

/* Stage 2: diagonalises the tridiagonal (d, e) by implicit QR steps on the unreduced
   block [lo, hi] at the bottom, rotating the rows of zt (n x n) along. One step is
   T <- J^T T J for J = J_lo ... J_{hi-1}: the first rotation is that of the QR step of
   T - mu I (it zeroes the second entry of (d_lo - mu, e_lo)), which pushes a bulge to
   (k + 2, k); each later rotation J_k zeroes the bulge left by the previous one, which
   moves it one row down until it leaves the block. mu is the eigenvalue of the trailing
   2 x 2 block [a b; b c] nearer c: mu = c - b^2 / (delta + sign(delta) hypot(delta, b)),
   delta = (a - c) / 2, written with b / (...) first so that nothing overflows. */
static int ln_tridiagonal_qr(double *d, double *e, int64_t n, double *zt, ln_rotlog *g) {
  int64_t hi = n - 1;
  int steps = 0;
  while (hi > 0) {
    if (ln_negligible(d, e, hi - 1)) {
      e[hi - 1] = 0.0;
      --hi;
      steps = 0;
      continue;
    }
    if (++steps > LN_QR_MAX_STEPS) return -1;
    int64_t lo = hi - 1;
    while (lo > 0 && !ln_negligible(d, e, lo - 1)) --lo;
    if (lo > 0) e[lo - 1] = 0.0;
    if (g->sweeps == LN_SWEEP_BATCH) ln_rotlog_flush(g, zt, n);
    g->lo[g->sweeps] = lo;
    g->len[g->sweeps] = hi - lo;
    g->off[g->sweeps] = g->count;
    ++g->sweeps;
    double delta = 0.5 * (d[hi - 1] - d[hi]), b = e[hi - 1];
    double h = hypot(delta, b);
    double mu = d[hi] - b * (b / (delta >= 0.0 ? delta + h : delta - h));
    double x = d[lo] - mu, z = e[lo], bulge = 0.0;
    for (int64_t k = lo; k < hi; ++k) {
      if (k > lo) {
        x = e[k - 1];
        z = bulge;
      }
      double r = hypot(x, z), c = 1.0, s = 0.0;
      if (r > 0.0) {
        c = x / r;
        s = z / r;
      }
      if (k > lo) e[k - 1] = r;
      /* The 2 x 2 block [p f; f q] of rows and columns k, k+1 becomes J^T [p f; f q] J. */
      double p = d[k], q = d[k + 1], f = e[k];
      double cs2f = 2.0 * c * s * f;
      d[k] = c * c * p + cs2f + s * s * q;
      d[k + 1] = s * s * p - cs2f + c * c * q;
      e[k] = c * s * (q - p) + (c * c - s * s) * f;
      if (k + 1 < hi) { /* row k + 2 times J: the new bulge at (k + 2, k) */
        bulge = s * e[k + 1];
        e[k + 1] *= c;
      }
      g->c[g->count] = c;
      g->s[g->count] = s;
      ++g->count;
    }
  }
  ln_rotlog_flush(g, zt, n);
  return 0;
}

int ln_sym_eigen(double *a, int64_t n, double *w, double *v) {
  if (n <= 0) return 0;
  /* Scale A by a power of two (exact) so that its largest entry is in [0.5, 1): no
     intermediate can overflow and the underflow thresholds above are relative to A.
     A non-finite entry cannot give a decomposition. Only the lower triangle is read. */
  double amax = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double t = fabs(a[i * n + j]);
      if (!(t <= amax)) amax = t;
    }
  if (!isfinite(amax)) return -1;
  int ex = 0;
  if (amax > 0.0) {
    (void)frexp(amax, &ex);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j <= i; ++j) a[i * n + j] = ldexp(a[i * n + j], -ex);
  }
  ln_rotlog g = {0};
  double *e = ln_malloc(3 * n, sizeof *e);
  g.c = ln_malloc(LN_SWEEP_BATCH * n, sizeof *g.c);
  g.s = ln_malloc(LN_SWEEP_BATCH * n, sizeof *g.s);
  int rc = -1;
  if (e != NULL && g.c != NULL && g.s != NULL) {
    double *beta = e + n, *p = e + 2 * n;
    e[n - 1] = 0.0;
    ln_tridiagonalize(a, n, w, e, beta, p, v);
    rc = ln_tridiagonal_qr(w, e, n, v, &g);
  }
  ln_free(e);
  ln_free(g.c);
  ln_free(g.s);
  if (rc != 0) return -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!isfinite(w[i])) return -1;
    w[i] = ldexp(w[i], ex);
  }
  /* Row i of v is the eigenvector of w[i]. Selection sort into decreasing order (n row
     swaps), then transpose in place so that the eigenvectors become the columns. */
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = i;
    for (int64_t j = i + 1; j < n; ++j)
      if (w[j] > w[best]) best = j;
    if (best == i) continue;
    double t = w[i];
    w[i] = w[best];
    w[best] = t;
    double *ri = v + i * n, *rb = v + best * n;
    for (int64_t k = 0; k < n; ++k) {
      t = ri[k];
      ri[k] = rb[k];
      rb[k] = t;
    }
  }
  enum { TILE = 32 };
  for (int64_t i0 = 0; i0 < n; i0 += TILE)
    for (int64_t j0 = i0; j0 < n; j0 += TILE) {
      int64_t i1 = i0 + TILE < n ? i0 + TILE : n, j1 = j0 + TILE < n ? j0 + TILE : n;
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = (j0 == i0 ? i + 1 : j0); j < j1; ++j) {
          double t = v[i * n + j];
          v[i * n + j] = v[j * n + i];
          v[j * n + i] = t;
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
