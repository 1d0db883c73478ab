#include "metrics_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mref_item {
  double score;
  int positive;
} mref_item;

static int mref_by_score_desc(const void *a, const void *b) {
  double x = ((const mref_item *)a)->score, y = ((const mref_item *)b)->score;
  return (x < y) - (x > y);
}

void mref_points_build(mref_points *r, const double *pos, int64_t n_pos, const double *neg, int64_t n_neg) {
  int64_t n = n_pos + n_neg;
  mref_item *items = malloc((size_t)n * sizeof *items);
  for (int64_t i = 0; i < n_pos; ++i) items[i] = (mref_item){pos[i], 1};
  for (int64_t i = 0; i < n_neg; ++i) items[n_pos + i] = (mref_item){neg[i], 0};
  qsort(items, (size_t)n, sizeof *items, mref_by_score_desc);
  r->tp = malloc((size_t)n * sizeof *r->tp);
  r->fp = malloc((size_t)n * sizeof *r->fp);
  r->thr = malloc((size_t)n * sizeof *r->thr);
  r->P = n_pos;
  r->N = n_neg;
  r->n = 0;
  int64_t tp = 0, fp = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (items[i].positive) tp++;
    else fp++;
    /* A point closes where the next score differs (or at the end). */
    if (i == n - 1 || items[i + 1].score != items[i].score) {
      r->tp[r->n] = tp;
      r->fp[r->n] = fp;
      r->thr[r->n] = items[i].score;
      r->n++;
    }
  }
  free(items);
}

void mref_points_free(mref_points *r) {
  free(r->tp);
  free(r->fp);
  free(r->thr);
  memset(r, 0, sizeof *r);
}

double mref_auroc(const double *pos, int64_t n_pos, const double *neg, int64_t n_neg) {
  int64_t twice = 0;
  for (int64_t i = 0; i < n_pos; ++i)
    for (int64_t j = 0; j < n_neg; ++j) twice += pos[i] > neg[j] ? 2 : pos[i] == neg[j] ? 1 : 0;
  return (double)twice / (2.0 * (double)n_pos * (double)n_neg);
}

double mref_average_precision(const mref_points *r) {
  double ap = 0.0, prev = 0.0;
  for (int64_t i = 0; i < r->n; ++i) {
    double recall = (double)r->tp[i] / (double)r->P;
    double precision = (double)r->tp[i] / (double)(r->tp[i] + r->fp[i]);
    ap += (recall - prev) * precision;
    prev = recall;
  }
  return ap;
}

double mref_trapezoid_pr(const mref_points *r) {
  double area = 0.0, prev_r = 0.0, prev_p = 1.0;
  for (int64_t i = 0; i < r->n; ++i) {
    double recall = (double)r->tp[i] / (double)r->P;
    double precision = (double)r->tp[i] / (double)(r->tp[i] + r->fp[i]);
    area += (recall - prev_r) * (precision + prev_p) / 2.0;
    prev_r = recall;
    prev_p = precision;
  }
  return area;
}

int64_t mref_nearest_index(const mref_points *r, double level) {
  /* last_ind = first point with full recall; the list runs from last_ind down to 0 and
     argmin keeps the first minimum. */
  int64_t last = 0;
  while (r->tp[last] != r->P) last++;
  int64_t best = last;
  double best_d = fabs((double)r->tp[last] / (double)r->P - level);
  for (int64_t i = last - 1; i >= 0; --i) {
    double d = fabs((double)r->tp[i] / (double)r->P - level);
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return best;
}

void mref_drop_intermediate(const mref_points *r, int *keep) {
  for (int64_t i = 0; i < r->n; ++i) {
    if (r->n <= 2 || i == 0 || i == r->n - 1) {
      keep[i] = 1;
      continue;
    }
    int64_t d2_fp = r->fp[i + 1] - 2 * r->fp[i] + r->fp[i - 1];
    int64_t d2_tp = r->tp[i + 1] - 2 * r->tp[i] + r->tp[i - 1];
    keep[i] = d2_fp != 0 || d2_tp != 0;
  }
}

int64_t mref_at_least_index(const mref_points *r, double level, int drop_intermediate) {
  int *keep = malloc((size_t)r->n * sizeof *keep);
  if (drop_intermediate) mref_drop_intermediate(r, keep);
  else
    for (int64_t i = 0; i < r->n; ++i) keep[i] = 1;
  int64_t found = -1;
  for (int64_t i = 0; i < r->n && found < 0; ++i)
    if (keep[i] && (double)r->tp[i] / (double)r->P >= level) found = i;
  free(keep);
  return found;
}

double mref_detection_error(const mref_points *r) {
  double best = 0.5; /* the start point: TPR = FPR = 0 */
  for (int64_t i = 0; i < r->n; ++i) {
    double e = 0.5 * (1.0 - (double)r->tp[i] / (double)r->P) + 0.5 * (double)r->fp[i] / (double)r->N;
    if (e < best) best = e;
  }
  return best;
}

void mref_calibrate(int64_t n, int64_t C, const float *logits, int64_t ld, const int32_t *labels, double T,
                    int64_t bins, mref_calibration *out) {
  double *bin_n = calloc((size_t)bins, sizeof *bin_n);
  double *bin_conf = calloc((size_t)bins, sizeof *bin_conf);
  double *bin_acc = calloc((size_t)bins, sizeof *bin_acc);
  double *p = malloc((size_t)C * sizeof *p);
  double correct = 0.0, nll = 0.0, brier = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float *z = logits + i * ld;
    double mx = -INFINITY, sum = 0.0;
    for (int64_t c = 0; c < C; ++c) mx = fmax(mx, (double)z[c] / T);
    for (int64_t c = 0; c < C; ++c) sum += exp((double)z[c] / T - mx);
    for (int64_t c = 0; c < C; ++c) p[c] = exp((double)z[c] / T - mx) / sum;
    int64_t pred = 0;
    for (int64_t c = 1; c < C; ++c)
      if (p[c] > p[pred]) pred = c;
    double conf = p[pred];
    int ok = pred == labels[i];
    correct += ok;
    nll += -log(p[labels[i]]);
    for (int64_t c = 0; c < C; ++c) {
      double d = p[c] - (c == labels[i] ? 1.0 : 0.0);
      brier += d * d;
    }
    for (int64_t k = 0; k < bins; ++k) {
      double lo = (double)k / (double)bins, hi = (double)(k + 1) / (double)bins;
      if ((conf > lo && conf <= hi) || (k == 0 && conf == 0.0)) {
        bin_n[k] += 1.0;
        bin_conf[k] += conf;
        bin_acc[k] += ok;
      }
    }
  }
  out->ece = 0.0;
  out->mce = 0.0;
  for (int64_t k = 0; k < bins; ++k) {
    if (bin_n[k] == 0.0) continue;
    double gap = fabs(bin_conf[k] / bin_n[k] - bin_acc[k] / bin_n[k]);
    out->ece += gap * bin_n[k] / (double)n;
    if (gap > out->mce) out->mce = gap;
  }
  out->accuracy = correct / (double)n;
  out->nll = nll / (double)n;
  out->brier = brier / (double)n;
  free(bin_n);
  free(bin_conf);
  free(bin_acc);
  free(p);
}

uint32_t mref_crc32(const unsigned char *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void mref_blob_fix_crc(unsigned char *blob, size_t size) {
  uint32_t crc = mref_crc32(blob, size - 4);
  for (int i = 0; i < 4; ++i) blob[size - 4 + i] = (unsigned char)(crc >> (8 * i));
}
