/* Times AUROC, AUPR-In, AUPR-Out and FPR@95 (the official LogitNorm convention) on
   1,000,000 ID + 1,000,000 OOD Gaussian scores: one accumulator, one add per class, one sort
   shared by the four metrics. In the same run it times a plain baseline that sorts
   (score, label) pairs with qsort and computes the same four metrics, and prints the ratio.
   --quick: 10,000 scores and one repetition (a smoke test; nothing is judged). */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logitnorm.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static uint64_t rng_state = 42;
static double uniform(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * UINT64_C(2685821657736338717)) >> 11) * 0x1p-53;
}
static double normal(void) { return sqrt(-2.0 * log(1.0 - uniform())) * cos(6.283185307179586 * uniform()); }

/* ---- the library ---- */
static void library_metrics(const float *id, const float *ood, int64_t n, double out[4]) {
  logitnorm_metrics *m = NULL;
  if (logitnorm_metrics_create(&m) != LOGITNORM_OK || logitnorm_metrics_add_f32(m, id, n, 0) != LOGITNORM_OK ||
      logitnorm_metrics_add_f32(m, ood, n, 1) != LOGITNORM_OK) {
    fprintf(stderr, "setup failed: %s\n", logitnorm_last_error());
    exit(1);
  }
  const logitnorm_metric which[4] = {LOGITNORM_METRIC_AUROC, LOGITNORM_METRIC_AUPR_IN, LOGITNORM_METRIC_AUPR_OUT,
                                     LOGITNORM_METRIC_FPR_AT_TPR};
  for (int k = 0; k < 4; ++k)
    if (logitnorm_metrics_value(m, which[k], &out[k]) != LOGITNORM_OK) exit(1);
  logitnorm_metrics_free(m);
}

/* ---- the qsort baseline ---- */
typedef struct item {
  double s;
  int id;
} item;

static int desc(const void *a, const void *b) {
  double x = ((const item *)a)->s, y = ((const item *)b)->s;
  return (x < y) - (x > y);
}

static void baseline_metrics(const float *id, const float *ood, int64_t n, double out[4]) {
  int64_t total = 2 * n;
  item *it = malloc((size_t)total * sizeof *it);
  for (int64_t i = 0; i < n; ++i) {
    it[i] = (item){id[i], 1};
    it[n + i] = (item){ood[i], 0};
  }
  qsort(it, (size_t)total, sizeof *it, desc);
  /* Walk tie blocks downward (ID positive): AUROC, AP-In, FPR nearest 0.95. */
  double auc2 = 0, ap_in = 0, best_d = INFINITY, fpr = 0;
  int64_t tp = 0, fp = 0;
  for (int64_t i = 0; i < total;) {
    int64_t j = i, dp = 0, dn = 0;
    while (j < total && it[j].s == it[i].s) {
      if (it[j].id) dp++;
      else dn++;
      j++;
    }
    auc2 += (double)dn * (double)(2 * tp + dp);
    tp += dp;
    fp += dn;
    ap_in += (double)dp / (double)n * ((double)tp / (double)(tp + fp));
    double d = fabs((double)tp / (double)n - 0.95);
    if (d <= best_d && (tp - dp) < n) {
      best_d = d;
      fpr = (double)fp / (double)n;
    }
    i = j;
  }
  /* Upward for AP-Out (OOD positive on negated scores). */
  double ap_out = 0;
  tp = fp = 0;
  for (int64_t i = total - 1; i >= 0;) {
    int64_t j = i, dp = 0, dn = 0;
    while (j >= 0 && it[j].s == it[i].s) {
      if (it[j].id) dn++;
      else dp++;
      j--;
    }
    tp += dp;
    fp += dn;
    ap_out += (double)dp / (double)n * ((double)tp / (double)(tp + fp));
    i = j;
  }
  out[0] = auc2 / (2.0 * (double)n * (double)n);
  out[1] = ap_in;
  out[2] = ap_out;
  out[3] = fpr;
  free(it);
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef void (*metrics_fn)(const float *, const float *, int64_t, double *);

static double time_runs(metrics_fn f, const float *id, const float *ood, int64_t n, int reps, double out[4],
                        double *lo, double *hi) {
  double *t = malloc((size_t)reps * sizeof *t);
  f(id, ood, n, out); /* warm-up */
  for (int r = 0; r < reps; ++r) {
    double t0 = now_ms();
    f(id, ood, n, out);
    t[r] = now_ms() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, by_value);
  double median = t[reps / 2];
  *lo = t[0];
  *hi = t[reps - 1];
  free(t);
  return median;
}

int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  int64_t n = quick ? 10000 : 1000000;
  int reps = quick ? 1 : 7;
  float *id = malloc((size_t)n * sizeof *id), *ood = malloc((size_t)n * sizeof *ood);
  for (int64_t i = 0; i < n; ++i) {
    id[i] = (float)(normal() + 1.0);
    ood[i] = (float)normal();
  }
  double a[4], b[4], lo_a, hi_a, lo_b, hi_b;
  double ta = time_runs(library_metrics, id, ood, n, reps, a, &lo_a, &hi_a);
  double tb = time_runs(baseline_metrics, id, ood, n, reps, b, &lo_b, &hi_b);
  printf("bench_metrics: %lld ID + %lld OOD Gaussian f32 scores, %d runs after a warm-up, one thread\n",
         (long long)n, (long long)n, reps);
  printf("  library  (radix sort, 4 metrics): median %8.2f ms  (min %.2f, max %.2f)\n", ta, lo_a, hi_a);
  printf("  baseline (qsort,      4 metrics): median %8.2f ms  (min %.2f, max %.2f)\n", tb, lo_b, hi_b);
  printf("  speed-up over the baseline: %.1fx\n", tb / ta);
  printf("  AUROC %.12f  AUPR-In %.12f  AUPR-Out %.12f  FPR@95 %.12f\n", a[0], a[1], a[2], a[3]);
  /* A sanity line, not a judgement: both implementations should agree closely. */
  double worst = 0;
  for (int k = 0; k < 4; ++k) worst = fmax(worst, fabs(a[k] - b[k]));
  printf("  largest difference to the baseline: %.3g\n", worst);
  free(id);
  free(ood);
  return 0;
}
