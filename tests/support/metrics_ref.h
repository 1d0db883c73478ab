/* Plain double-precision reference code for the OOD metrics and calibration tests. It is
   written independently of the library: a comparison sort, explicit arrays of operating
   points, the published rules applied literally, O(n^2) pair counting for AUROC. */
#ifndef METRICS_REF_H
#define METRICS_REF_H

#include <stddef.h>
#include <stdint.h>

/* Operating points of a detector that accepts "score >= t" for each distinct score t,
   in descending t: tp[i] positives and fp[i] negatives are accepted at thr[i]. */
typedef struct mref_points {
  int64_t n;
  int64_t *tp, *fp;
  double *thr;
  int64_t P, N;
} mref_points;
void mref_points_build(mref_points *r, const double *pos, int64_t n_pos, const double *neg, int64_t n_neg);
void mref_points_free(mref_points *r);

/* (#pairs pos > neg + 1/2 #pairs pos == neg) / (n_pos n_neg), by counting every pair. */
double mref_auroc(const double *pos, int64_t n_pos, const double *neg, int64_t n_neg);
/* scikit-learn average_precision_score: sum_i (R_i - R_{i-1}) P_i, R_0 = 0. */
double mref_average_precision(const mref_points *r);
/* Trapezoid over the PR points with the (recall 0, precision 1) start point. */
double mref_trapezoid_pr(const mref_points *r);
/* Index of the point chosen by the official LogitNorm / Hendrycks fpr_and_fdr_at_recall. */
int64_t mref_nearest_index(const mref_points *r, double level);
/* Index of the first point with TPR >= level, optionally among the points kept by
   scikit-learn's roc_curve(drop_intermediate=True). */
int64_t mref_at_least_index(const mref_points *r, double level, int drop_intermediate);
/* 1 for each point roc_curve(drop_intermediate=True) keeps (keep has r->n entries). */
void mref_drop_intermediate(const mref_points *r, int *keep);
/* min over points (and the empty start point) of 1/2 (1 - TPR) + 1/2 FPR. */
double mref_detection_error(const mref_points *r);

/* Calibration of softmax(z / T) with `bins` equal-width bins (lo, hi]. */
typedef struct mref_calibration {
  double ece, mce, accuracy, nll, brier;
} mref_calibration;
void mref_calibrate(int64_t n, int64_t C, const float *logits, int64_t ld, const int32_t *labels, double T,
                    int64_t bins, mref_calibration *out);

/* CRC-32 (IEEE, reflected), bit by bit; and a fix-up of a blob's trailing CRC after a
   deliberate edit of its bytes. */
uint32_t mref_crc32(const unsigned char *p, size_t n);
void mref_blob_fix_crc(unsigned char *blob, size_t size);

#endif
