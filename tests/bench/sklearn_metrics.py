#!/usr/bin/python3
"""scikit-learn's time for the four metrics of bench_metrics (AUROC, AUPR-In, AUPR-Out and
FPR at 95 % TPR) on 1,000,000 ID N(1, 1) plus 1,000,000 OOD N(0, 1) f32 scores: the
reference the library's speed goal is stated against. Optional: needs python3-sklearn.
Prints the median of 3 runs."""
import time

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

rng = np.random.default_rng(42)
n = 1_000_000
id_scores = (rng.standard_normal(n) + 1.0).astype(np.float32)
ood_scores = rng.standard_normal(n).astype(np.float32)
labels = np.concatenate([np.ones(n), np.zeros(n)])
scores = np.concatenate([id_scores, ood_scores])

times = []
for _ in range(3):
    t0 = time.perf_counter()
    auroc = roc_auc_score(labels, scores)
    aupr_in = average_precision_score(labels, scores)
    aupr_out = average_precision_score(1 - labels, -scores)
    fpr, tpr, _ = roc_curve(labels, scores)
    fpr95 = fpr[np.searchsorted(tpr, 0.95, side="left")]
    times.append(time.perf_counter() - t0)
print("scikit-learn, 4 metrics: median %.3f s" % sorted(times)[1])
print("AUROC %.12f  AUPR-In %.12f  AUPR-Out %.12f  FPR@95 %.6f" % (auroc, aupr_in, aupr_out, fpr95))
