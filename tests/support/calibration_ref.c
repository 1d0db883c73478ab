#include "calibration_ref.h"

#include <math.h>
#include <stdlib.h>

double cref_z(const cref_logits *x, int64_t i, int64_t j) {
  return x->f64 != NULL ? x->f64[i * x->ld + j] : (double)x->f32[i * x->ld + j];
}

/* p = softmax(z / T) of row i into p[0, C): max shift, exp, divide; masked entries 0. */
static void cref_softmax(const cref_logits *x, int64_t i, double T, double *p) {
  double mx = -INFINITY, sum = 0.0;
  for (int64_t j = 0; j < x->C; ++j)
    if (cref_z(x, i, j) != -INFINITY) mx = fmax(mx, cref_z(x, i, j) / T);
  for (int64_t j = 0; j < x->C; ++j) {
    p[j] = cref_z(x, i, j) == -INFINITY ? 0.0 : exp(cref_z(x, i, j) / T - mx);
    sum += p[j];
  }
  for (int64_t j = 0; j < x->C; ++j) p[j] /= sum;
}

void cref_rows(const cref_logits *x, double T, double *conf, int *correct, double *probs) {
  double *p = malloc((size_t)x->C * sizeof *p);
  for (int64_t i = 0; i < x->n; ++i) {
    cref_softmax(x, i, T, p);
    int64_t pred = 0;
    for (int64_t j = 1; j < x->C; ++j)
      if (cref_z(x, i, j) > cref_z(x, i, pred)) pred = j;
    double best = 0.0;
    for (int64_t j = 0; j < x->C; ++j) best = fmax(best, p[j]);
    conf[i] = best;
    correct[i] = pred == x->labels[i];
    if (probs != NULL)
      for (int64_t j = 0; j < x->C; ++j) probs[i * x->C + j] = p[j];
  }
  free(p);
}

typedef struct cref_item {
  double conf;
  int correct;
} cref_item;

static int cref_item_cmp(const void *a, const void *b) {
  const cref_item *x = a, *y = b;
  if (x->conf != y->conf) return x->conf < y->conf ? -1 : 1;
  return x->correct - y->correct;
}

int64_t cref_bins(int64_t n, const double *conf, const int *correct, int64_t bins, int binning, double *count,
                  double *mean_conf, double *accuracy) {
  double *cnt = calloc((size_t)bins, sizeof *cnt), *sum = calloc((size_t)bins, sizeof *sum);
  double *ok = calloc((size_t)bins, sizeof *ok);
  if (binning == 0) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < bins; ++k) {
        double lo = (double)k / (double)bins, hi = (double)(k + 1) / (double)bins;
        if ((conf[i] > lo && conf[i] <= hi) || (k == 0 && conf[i] == 0.0)) {
          cnt[k] += 1.0;
          sum[k] += conf[i];
          ok[k] += correct[i];
        }
      }
  } else {
    cref_item *items = malloc((size_t)(n > 0 ? n : 1) * sizeof *items);
    for (int64_t i = 0; i < n; ++i) items[i] = (cref_item){.conf = conf[i], .correct = correct[i]};
    qsort(items, (size_t)n, sizeof *items, cref_item_cmp);
    /* numpy.array_split: division points are the running sums of the section sizes
       [0] + (N % B) * [N // B + 1] + (B - N % B) * [N // B] */
    int64_t each = n / bins, extras = n % bins, start = 0;
    for (int64_t k = 0; k < bins; ++k) {
      int64_t end = start + each + (k < extras ? 1 : 0);
      for (int64_t i = start; i < end; ++i) {
        cnt[k] += 1.0;
        sum[k] += items[i].conf;
        ok[k] += items[i].correct;
      }
      start = end;
    }
    free(items);
  }
  int64_t out = 0;
  for (int64_t k = 0; k < bins; ++k) {
    if (cnt[k] == 0.0) continue;
    count[out] = cnt[k];
    mean_conf[out] = sum[k] / cnt[k];
    accuracy[out] = ok[k] / cnt[k];
    ++out;
  }
  free(cnt);
  free(sum);
  free(ok);
  return out;
}

cref_binned cref_binned_values(int64_t n_bins, const double *count, const double *mean_conf, const double *accuracy,
                               int64_t n) {
  cref_binned r = {.ece = 0.0, .mce = 0.0, .rmsce = 0.0};
  double sq = 0.0;
  for (int64_t k = 0; k < n_bins; ++k) {
    double gap = fabs(mean_conf[k] - accuracy[k]), w = count[k] / (double)n;
    r.ece += w * gap;
    sq += w * gap * gap;
    if (gap > r.mce) r.mce = gap;
  }
  r.rmsce = sqrt(sq);
  return r;
}

double cref_classwise_ece(int64_t n, int64_t C, const double *probs, const int32_t *labels, int64_t bins) {
  double *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p), *cnt = malloc((size_t)bins * sizeof *cnt);
  double *mc = malloc((size_t)bins * sizeof *mc), *acc = malloc((size_t)bins * sizeof *acc);
  int *hit = malloc((size_t)(n > 0 ? n : 1) * sizeof *hit);
  double total = 0.0;
  for (int64_t k = 0; k < C; ++k) {
    for (int64_t i = 0; i < n; ++i) {
      p[i] = probs[i * C + k];
      hit[i] = labels[i] == k;
    }
    int64_t nb = cref_bins(n, p, hit, bins, 0, cnt, mc, acc);
    total += cref_binned_values(nb, cnt, mc, acc, n).ece;
  }
  free(p);
  free(cnt);
  free(mc);
  free(acc);
  free(hit);
  return total / (double)C;
}

double cref_nll(const cref_logits *x, double T) {
  double sum = 0.0;
  for (int64_t i = 0; i < x->n; ++i) {
    /* -log p_y = logsumexp(z / T) - z_y / T, with the max shift */
    double mx = -INFINITY, s = 0.0;
    for (int64_t j = 0; j < x->C; ++j)
      if (cref_z(x, i, j) != -INFINITY) mx = fmax(mx, cref_z(x, i, j) / T);
    for (int64_t j = 0; j < x->C; ++j)
      if (cref_z(x, i, j) != -INFINITY) s += exp(cref_z(x, i, j) / T - mx);
    sum += mx + log(s) - cref_z(x, i, x->labels[i]) / T;
  }
  return sum / (double)x->n;
}

/* d/dT [logsumexp(z / T) - z_y / T] = -(sum_j p_j z_j) / T^2 + z_y / T^2. */
double cref_nll_slope_t(const cref_logits *x, double T) {
  double *p = malloc((size_t)x->C * sizeof *p), sum = 0.0;
  for (int64_t i = 0; i < x->n; ++i) {
    cref_softmax(x, i, T, p);
    double e = 0.0;
    for (int64_t j = 0; j < x->C; ++j)
      if (p[j] > 0.0) e += p[j] * cref_z(x, i, j);
    sum += (cref_z(x, i, x->labels[i]) - e) / (T * T);
  }
  free(p);
  return sum / (double)x->n;
}

double cref_fit_temperature(const cref_logits *x, double t_lo, double t_hi, int grid) {
  double best_t = t_lo, best = INFINITY, ratio = pow(t_hi / t_lo, 1.0 / (grid - 1));
  int best_k = 0;
  for (int k = 0; k < grid; ++k) {
    double t = t_lo * pow(ratio, k), v = cref_nll(x, t);
    if (v < best) {
      best = v;
      best_t = t;
      best_k = k;
    }
  }
  double lo = best_k > 0 ? best_t / ratio : best_t, hi = best_k < grid - 1 ? best_t * ratio : best_t;
  /* the slope in T is negative below the minimiser and positive above it */
  while (hi - lo > 1e-14 * hi) {
    double mid = 0.5 * (lo + hi);
    if (cref_nll_slope_t(x, mid) < 0.0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
