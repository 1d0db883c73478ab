#include "score_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sr_seed(sr_rng *r, uint64_t seed) { r->s = seed * 6364136223846793005ull + 1442695040888963407ull; }

static uint64_t sr_next(sr_rng *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double sr_uniform(sr_rng *r) { return (double)(sr_next(r) >> 11) / 9007199254740992.0; }

double sr_normal(sr_rng *r) {
  double u = sr_uniform(r), v = sr_uniform(r);
  return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

void sr_sentinel_fill(void *p, size_t bytes) {
  unsigned char *b = p;
  for (size_t i = 0; i < bytes; ++i) b[i] = (unsigned char)(0x5Au + 7u * i);
}

int sr_sentinel_intact(const void *p, size_t bytes) {
  const unsigned char *b = p;
  for (size_t i = 0; i < bytes; ++i)
    if (b[i] != (unsigned char)(0x5Au + 7u * i)) return 0;
  return 1;
}

double sr_softmax(const double *z, int c, double t, double *p) {
  double m = z[0];
  for (int j = 1; j < c; ++j) m = z[j] > m ? z[j] : m;
  double s = 0.0;
  for (int j = 0; j < c; ++j) s += exp((z[j] - m) / t);
  if (p != NULL)
    for (int j = 0; j < c; ++j) p[j] = exp((z[j] - m) / t) / s;
  return m / t + log(s);
}

double sr_msp(const double *z, int c, double t) {
  double p[4096], best = 0.0;
  sr_softmax(z, c, t, p);
  for (int j = 0; j < c; ++j) best = p[j] > best ? p[j] : best;
  return best;
}

double sr_max_logit(const double *z, int c) {
  double m = z[0];
  for (int j = 1; j < c; ++j) m = z[j] > m ? z[j] : m;
  return m;
}

double sr_energy(const double *z, int c, double t) { return t * sr_softmax(z, c, t, NULL); }

double sr_neg_entropy(const double *z, int c) {
  double p[4096], lse = sr_softmax(z, c, 1.0, p), s = 0.0;
  for (int j = 0; j < c; ++j) s += p[j] * (z[j] - lse);
  return s;
}

static int sr_cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? 1 : (x > y ? -1 : 0);
}

static int sr_cmp_asc(const void *a, const void *b) { return -sr_cmp_desc(a, b); }

double sr_gen(const double *z, int c, double gamma, int m) {
  double p[4096];
  sr_softmax(z, c, 1.0, p);
  qsort(p, (size_t)c, sizeof *p, sr_cmp_desc);
  if (m > c) m = c;
  double s = 0.0;
  for (int j = 0; j < m; ++j) {
    double q = fmin(fmax(p[j], 1e-7), 1.0 - 1e-7);
    s += pow(q, gamma) * pow(1.0 - q, gamma);
  }
  return -s;
}

double sr_max_cosine(const double *z, int c) {
  double n = 0.0;
  for (int j = 0; j < c; ++j) n += z[j] * z[j];
  n = sqrt(n);
  return n == 0.0 ? 0.0 : sr_max_logit(z, c) / n;
}

int sr_drop_masked(const double *z, int c, double *kept, int *cols) {
  int u = 0;
  for (int j = 0; j < c; ++j) {
    if (z[j] == -INFINITY) continue;
    if (cols != NULL) cols[u] = j;
    kept[u++] = z[j];
  }
  return u;
}

void sr_calibrate_masked(int64_t n, int c, const float *logits, int64_t ld, const int32_t *labels, double t,
                         int bins, sr_calibration *out) {
  double *z = malloc((size_t)c * sizeof *z), *kept = malloc((size_t)c * sizeof *kept);
  double *p = malloc((size_t)c * sizeof *p);
  int *cols = malloc((size_t)c * sizeof *cols);
  double *bin_n = calloc((size_t)bins, sizeof *bin_n), *bin_conf = calloc((size_t)bins, sizeof *bin_conf);
  double *bin_ok = calloc((size_t)bins, sizeof *bin_ok);
  double correct = 0.0, nll = 0.0, brier = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < c; ++j) z[j] = logits[i * ld + j];
    int u = sr_drop_masked(z, c, kept, cols), y = -1;
    for (int k = 0; k < u; ++k)
      if (cols[k] == labels[i]) y = k;
    sr_softmax(kept, u, t, p);
    int pred = 0; /* the first class of the largest logit, as the argmax of the logits */
    for (int k = 1; k < u; ++k)
      if (kept[k] > kept[pred]) pred = k;
    double conf = p[pred];
    int ok = pred == y;
    correct += ok;
    nll -= log(p[y]);
    for (int k = 0; k < u; ++k) brier += (p[k] - (k == y)) * (p[k] - (k == y));
    for (int b = 0; b < bins; ++b) {
      double lo = (double)b / bins, hi = (double)(b + 1) / bins;
      if ((conf > lo && conf <= hi) || (b == 0 && conf == 0.0)) {
        bin_n[b] += 1.0;
        bin_conf[b] += conf;
        bin_ok[b] += ok;
      }
    }
  }
  out->ece = out->mce = 0.0;
  for (int b = 0; b < bins; ++b) {
    if (bin_n[b] == 0.0) continue;
    double gap = fabs(bin_conf[b] - bin_ok[b]) / bin_n[b];
    out->ece += gap * bin_n[b] / (double)n;
    out->mce = gap > out->mce ? gap : out->mce;
  }
  out->accuracy = correct / (double)n;
  out->nll = nll / (double)n;
  out->brier = brier / (double)n;
  free(z);
  free(kept);
  free(p);
  free(cols);
  free(bin_n);
  free(bin_conf);
  free(bin_ok);
}

double sr_percentile(const double *v, int64_t n, double pct) {
  double *s = malloc((size_t)n * sizeof *s);
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, sr_cmp_asc);
  double q = pct / 100.0 * (double)(n - 1);
  int64_t lo = (int64_t)floor(q);
  double r = lo + 1 < n ? s[lo] + (s[lo + 1] - s[lo]) * (q - (double)lo) : s[lo];
  free(s);
  return r;
}

double sr_klm(const double *fit, const int *labels, int n, int c, const double *z) {
  double *t = calloc((size_t)c * c, sizeof *t), p[4096], q[4096];
  int *cnt = calloc((size_t)c, sizeof *cnt);
  for (int i = 0; i < n; ++i) {
    const double *f = fit + (size_t)i * c;
    int y = 0;
    if (labels != NULL)
      y = labels[i];
    else
      for (int j = 1; j < c; ++j) y = f[j] > f[y] ? j : y;
    sr_softmax(f, c, 1.0, p);
    for (int j = 0; j < c; ++j) t[y * c + j] += p[j];
    cnt[y]++;
  }
  sr_softmax(z, c, 1.0, p);
  double best = INFINITY;
  for (int y = 0; y < c; ++y) {
    if (cnt[y] == 0) continue;
    double kl = 0.0;
    for (int j = 0; j < c; ++j) {
      q[j] = t[y * c + j] / cnt[y];
      if (p[j] > 0.0) kl += p[j] * log(p[j] / q[j]);
    }
    best = kl < best ? kl : best;
  }
  free(t);
  free(cnt);
  return -best;
}

void sr_inverse(const double *a, int d, double *inv) {
  double m[64 * 128];
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < 2 * d; ++j) m[i * 2 * d + j] = j < d ? a[i * d + j] : (j - d == i);
  for (int col = 0; col < d; ++col) {
    int piv = col;
    for (int i = col + 1; i < d; ++i)
      if (fabs(m[i * 2 * d + col]) > fabs(m[piv * 2 * d + col])) piv = i;
    for (int j = 0; j < 2 * d; ++j) {
      double t = m[col * 2 * d + j];
      m[col * 2 * d + j] = m[piv * 2 * d + j];
      m[piv * 2 * d + j] = t;
    }
    double dv = m[col * 2 * d + col];
    for (int j = 0; j < 2 * d; ++j) m[col * 2 * d + j] /= dv;
    for (int i = 0; i < d; ++i) {
      if (i == col) continue;
      double f = m[i * 2 * d + col];
      for (int j = 0; j < 2 * d; ++j) m[i * 2 * d + j] -= f * m[col * 2 * d + j];
    }
  }
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) inv[i * d + j] = m[i * 2 * d + d + j];
}

/* (x - mu)^T P (x - mu) */
static double sr_quad(const double *p, const double *x, const double *mu, int d) {
  double s = 0.0;
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) s += (x[i] - mu[i]) * p[i * d + j] * (x[j] - mu[j]);
  return s;
}

static void sr_add_ridge(double *cov, int d, double ridge) {
  double tr = 0.0;
  for (int j = 0; j < d; ++j) tr += cov[j * d + j];
  for (int j = 0; j < d; ++j) cov[j * d + j] += ridge * tr / d;
}

double sr_mahalanobis(const double *h, const int *labels, int n, int c, int d, double ridge, const double *x,
                      int relative) {
  double *mu = calloc((size_t)c * d, sizeof *mu), *cov = calloc((size_t)d * d, sizeof *cov);
  double *inv = calloc((size_t)d * d, sizeof *inv), *g = calloc((size_t)d, sizeof *g);
  int *cnt = calloc((size_t)c, sizeof *cnt);
  for (int i = 0; i < n; ++i) {
    cnt[labels[i]]++;
    for (int j = 0; j < d; ++j) {
      mu[labels[i] * d + j] += h[i * d + j];
      g[j] += h[i * d + j] / n;
    }
  }
  for (int y = 0; y < c; ++y)
    for (int j = 0; j < d; ++j) mu[y * d + j] /= cnt[y] > 0 ? cnt[y] : 1;
  for (int i = 0; i < n; ++i) /* (1/N) sum (h - mu_y)(h - mu_y)^T */
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b)
        cov[a * d + b] += (h[i * d + a] - mu[labels[i] * d + a]) * (h[i * d + b] - mu[labels[i] * d + b]) / n;
  sr_add_ridge(cov, d, ridge);
  sr_inverse(cov, d, inv);
  double best = INFINITY;
  for (int y = 0; y < c; ++y) {
    if (cnt[y] == 0) continue;
    double m = sr_quad(inv, x, mu + y * d, d);
    best = m < best ? m : best;
  }
  double score = -best;
  if (relative) {
    memset(cov, 0, (size_t)d * d * sizeof *cov);
    for (int i = 0; i < n; ++i)
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) cov[a * d + b] += (h[i * d + a] - g[a]) * (h[i * d + b] - g[b]) / n;
    sr_add_ridge(cov, d, ridge);
    sr_inverse(cov, d, inv);
    score += sr_quad(inv, x, g, d);
  }
  free(mu);
  free(cov);
  free(inv);
  free(g);
  free(cnt);
  return score;
}

static void sr_unit(const double *x, int d, double *u) {
  double n = 0.0;
  for (int j = 0; j < d; ++j) n += x[j] * x[j];
  n = sqrt(n);
  for (int j = 0; j < d; ++j) u[j] = n > 0.0 ? x[j] / n : 0.0;
}

double sr_knn(const double *h, int n, int d, const double *x, int k) {
  double *dist = malloc((size_t)n * sizeof *dist), q[4096], u[4096];
  sr_unit(x, d, q);
  for (int i = 0; i < n; ++i) {
    sr_unit(h + (size_t)i * d, d, u);
    double s = 0.0;
    for (int j = 0; j < d; ++j) s += (q[j] - u[j]) * (q[j] - u[j]);
    dist[i] = sqrt(s);
  }
  qsort(dist, (size_t)n, sizeof *dist, sr_cmp_asc);
  double r = -dist[k - 1];
  free(dist);
  return r;
}

void sr_head(const double *w, const double *b, int c, int d, const double *x, double *z) {
  for (int i = 0; i < c; ++i) {
    z[i] = b != NULL ? b[i] : 0.0;
    for (int j = 0; j < d; ++j) z[i] += w[i * d + j] * x[j];
  }
}

/* Top `kept` eigenvectors of a symmetric matrix by power iteration with deflation. */
static void sr_top_eigvecs(const double *a, int d, int kept, double *vecs) {
  double *m = malloc((size_t)d * d * sizeof *m), v[4096], nv[4096];
  memcpy(m, a, (size_t)d * d * sizeof *m);
  for (int e = 0; e < kept; ++e) {
    for (int j = 0; j < d; ++j) v[j] = 1.0 + 0.01 * j * (j % 3 == 0 ? -1 : 1);
    double lambda = 0.0;
    for (int it = 0; it < 20000; ++it) {
      double n = 0.0;
      for (int i = 0; i < d; ++i) {
        nv[i] = 0.0;
        for (int j = 0; j < d; ++j) nv[i] += m[i * d + j] * v[j];
        n += nv[i] * nv[i];
      }
      n = sqrt(n);
      double diff = 0.0;
      for (int i = 0; i < d; ++i) {
        diff += fabs(nv[i] / n - v[i]);
        v[i] = nv[i] / n;
      }
      lambda = n;
      if (diff < 1e-15 * d) break;
    }
    for (int j = 0; j < d; ++j) vecs[e * d + j] = v[j];
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) m[i * d + j] -= lambda * v[i] * v[j];
  }
  free(m);
}

double sr_vim(const double *w, const double *b, int c, int d, const double *fit, int n, int kept, const double *x) {
  /* u = -W^T (W W^T)^{-1} b for a full-row-rank W (C <= D) */
  double *g = calloc((size_t)c * c, sizeof *g), *gi = calloc((size_t)c * c, sizeof *gi), u[4096], y[4096];
  for (int i = 0; i < c; ++i)
    for (int j = 0; j < c; ++j)
      for (int k = 0; k < d; ++k) g[i * c + j] += w[i * d + k] * w[j * d + k];
  sr_inverse(g, c, gi);
  for (int i = 0; i < c; ++i) {
    y[i] = 0.0;
    for (int j = 0; j < c; ++j) y[i] += gi[i * c + j] * (b != NULL ? b[j] : 0.0);
  }
  for (int k = 0; k < d; ++k) {
    u[k] = 0.0;
    for (int i = 0; i < c; ++i) u[k] -= w[i * d + k] * y[i];
  }
  double *cov = calloc((size_t)d * d, sizeof *cov), *vecs = calloc((size_t)d * kept, sizeof *vecs);
  for (int i = 0; i < n; ++i)
    for (int a = 0; a < d; ++a)
      for (int bb = 0; bb < d; ++bb) cov[a * d + bb] += (fit[i * d + a] - u[a]) * (fit[i * d + bb] - u[bb]) / n;
  sr_top_eigvecs(cov, d, kept, vecs);
  /* residual = |(x - u) - P P^T (x - u)| */
  double z[4096];
#define SR_RESIDUAL(src, out)                                                   \
  do {                                                                          \
    double r_[4096];                                                            \
    for (int j = 0; j < d; ++j) r_[j] = (src)[j] - u[j];                        \
    for (int e = 0; e < kept; ++e) {                                            \
      double pr = 0.0;                                                          \
      for (int j = 0; j < d; ++j) pr += vecs[e * d + j] * ((src)[j] - u[j]);    \
      for (int j = 0; j < d; ++j) r_[j] -= pr * vecs[e * d + j];                \
    }                                                                           \
    double s_ = 0.0;                                                            \
    for (int j = 0; j < d; ++j) s_ += r_[j] * r_[j];                            \
    (out) = sqrt(s_);                                                           \
  } while (0)
  double msum = 0.0, rsum = 0.0;
  for (int i = 0; i < n; ++i) {
    double r;
    sr_head(w, b, c, d, fit + i * d, z);
    msum += sr_max_logit(z, c);
    SR_RESIDUAL(fit + i * d, r);
    rsum += r;
  }
  double alpha = (msum / n) / (rsum / n), r;
  SR_RESIDUAL(x, r);
#undef SR_RESIDUAL
  sr_head(w, b, c, d, x, z);
  double score = sr_energy(z, c, 1.0) - alpha * r;
  free(g);
  free(gi);
  free(cov);
  free(vecs);
  return score;
}

double sr_gradnorm(const double *w, const double *b, int c, int d, const double *x) {
  double z[4096], p[4096], s = 0.0;
  sr_head(w, b, c, d, x, z);
  sr_softmax(z, c, 1.0, p);
  for (int i = 0; i < c; ++i)
    for (int j = 0; j < d; ++j) s += fabs((c * p[i] - 1.0) * x[j]); /* |dL/dW_ij| */
  return s;
}

double sr_react(const double *w, const double *b, int c, int d, const double *x, double clip, double t) {
  double xc[4096], z[4096];
  for (int j = 0; j < d; ++j) xc[j] = x[j] < clip ? x[j] : clip;
  sr_head(w, b, c, d, xc, z);
  return sr_energy(z, c, t);
}

double sr_ash(const double *w, const double *b, int c, int d, const double *x, double pct, int variant, double t) {
  double s[4096], y[4096], z[4096];
  memcpy(s, x, (size_t)d * sizeof *s);
  qsort(s, (size_t)d, sizeof *s, sr_cmp_desc);
  int keep = d - (int)nearbyint(d * pct / 100.0);
  double thr = keep > 0 ? s[keep - 1] : INFINITY, s1 = 0.0, s2 = 0.0;
  for (int j = 0; j < d; ++j) { /* test data has no ties at the threshold */
    s1 += x[j];
    y[j] = x[j] >= thr ? x[j] : 0.0;
    s2 += y[j];
  }
  for (int j = 0; j < d; ++j) {
    if (variant == 0) y[j] *= exp(s1 / s2);
    if (variant == 2 && x[j] >= thr) y[j] = s1 / keep;
  }
  sr_head(w, b, c, d, y, z);
  return sr_energy(z, c, t);
}

double sr_dice(const double *w, const double *b, int c, int d, const double *fit, int n, double pct,
               const double *x, double t) {
  double *contrib = malloc((size_t)c * d * sizeof *contrib), *wm = malloc((size_t)c * d * sizeof *wm);
  double mean[4096], z[4096];
  for (int j = 0; j < d; ++j) {
    mean[j] = 0.0;
    for (int i = 0; i < n; ++i) mean[j] += fit[i * d + j] / n;
  }
  for (int i = 0; i < c; ++i)
    for (int j = 0; j < d; ++j) contrib[i * d + j] = w[i * d + j] * mean[j];
  double thr = sr_percentile(contrib, (int64_t)c * d, pct);
  for (int k = 0; k < c * d; ++k) wm[k] = contrib[k] > thr ? w[k] : 0.0;
  sr_head(wm, b, c, d, x, z);
  free(contrib);
  free(wm);
  return sr_energy(z, c, t);
}

static double sr_dot(const double *x, const double *y, int d) {
  double s = 0.0;
  for (int j = 0; j < d; ++j) s += x[j] * y[j];
  return s;
}

double sr_nnguide(const double *w, const double *b, int c, int d, const double *fit, int n, const double *x, int k) {
  double *sims = malloc((size_t)n * sizeof *sims), z[4096], g[4096], q[4096];
  for (int i = 0; i < n; ++i) {
    const double *hi = fit + (size_t)i * d;
    sr_head(w, b, c, d, hi, z);
    double e = sr_energy(z, c, 1.0);
    sr_unit(hi, d, g);
    for (int j = 0; j < d; ++j) g[j] *= e;
    sr_unit(x, d, q);
    sims[i] = sr_dot(q, g, d);
  }
  qsort(sims, (size_t)n, sizeof *sims, sr_cmp_desc);
  double mean = 0.0;
  for (int i = 0; i < k; ++i) mean += sims[i] / k;
  free(sims);
  sr_head(w, b, c, d, x, z);
  return sr_energy(z, c, 1.0) * mean;
}

double sr_fdbd_at(const double *w, const double *b, int c, int d, const double *mean, const double *x, int a) {
  double z[4096], s = 0.0, dist = 0.0;
  sr_head(w, b, c, d, x, z);
  for (int j = 0; j < c; ++j) {
    if (j == a) continue;
    double wd = 0.0;
    for (int t = 0; t < d; ++t) wd += (w[a * d + t] - w[j * d + t]) * (w[a * d + t] - w[j * d + t]);
    s += fabs(z[a] - z[j]) / sqrt(wd);
  }
  for (int t = 0; t < d; ++t) dist += (x[t] - mean[t]) * (x[t] - mean[t]);
  return s / (c - 1) / sqrt(dist);
}

double sr_fdbd(const double *w, const double *b, int c, int d, const double *fit, int n, const double *x) {
  double z[4096], mean[4096];
  for (int t = 0; t < d; ++t) {
    mean[t] = 0.0;
    for (int i = 0; i < n; ++i) mean[t] += fit[(size_t)i * d + t];
    mean[t] /= n;
  }
  sr_head(w, b, c, d, x, z);
  int a = 0;
  for (int j = 1; j < c; ++j)
    if (z[j] > z[a]) a = j;
  return sr_fdbd_at(w, b, c, d, mean, x, a);
}

double sr_scale(const double *w, const double *b, int c, int d, const double *x, double pct, double t) {
  double sorted[4096], y[4096], z[4096], s1 = 0.0, s2 = 0.0;
  memcpy(sorted, x, (size_t)d * sizeof *sorted);
  qsort(sorted, (size_t)d, sizeof *sorted, sr_cmp_desc);
  int keep = d - (int)nearbyint(d * pct / 100.0);
  for (int j = 0; j < d; ++j) s1 += x[j];
  for (int j = 0; j < keep; ++j) s2 += sorted[j];
  double r = s2 != 0.0 ? fmin(fmax(s1 / s2, -80.0), 80.0) : 0.0;
  for (int j = 0; j < d; ++j) y[j] = x[j] * exp(r);
  sr_head(w, b, c, d, y, z);
  return sr_energy(z, c, t);
}

double sr_dml(const double *w, int c, int d, const double *x, double lambda) {
  double nx = sqrt(sr_dot(x, x, d)), best = -INFINITY;
  for (int j = 0; j < c; ++j) {
    double nw = sqrt(sr_dot(w + j * d, w + j * d, d));
    double cosine = nx > 0.0 && nw > 0.0 ? sr_dot(x, w + j * d, d) / (nx * nw) : 0.0;
    if (cosine > best) best = cosine;
  }
  return best + lambda * nx;
}
