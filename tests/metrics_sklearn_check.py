# Cross-check of the OOD metrics against scikit-learn (roc_auc_score, average_precision_score,
# precision_recall_curve + auc, roc_curve with and without drop_intermediate) and against the
# official LogitNorm FPR rule re-derived with numpy, on random data with heavy ties.
# Usage: python3 metrics_sklearn_check.py path/to/liblogitnorm.so
import ctypes, numpy as np, sys
from sklearn import metrics
lib = ctypes.CDLL(sys.argv[1])
D = ctypes.c_double
def run(idv, oodv, pos, rule, aupr, level):
    m = ctypes.c_void_p()
    assert lib.logitnorm_metrics_create(ctypes.byref(m)) == 0
    for arr, c in ((idv, 0), (oodv, 1)):
        a = np.ascontiguousarray(arr, dtype=np.float64)
        assert lib.logitnorm_metrics_add_f64(m, a.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(len(a)), c) == 0
    for p, v in ((300, level), (301, pos), (302, rule), (303, aupr)):
        assert lib.logitnorm_metrics_set(m, p, D(v)) == 0
    out = {}
    for w in range(6):
        v = D(); assert lib.logitnorm_metrics_value(m, w, ctypes.byref(v)) == 0; out[w] = v.value
    cnt = ctypes.c_int64()
    assert lib.logitnorm_metrics_curve(m, 0, None, None, None, ctypes.c_int64(0), ctypes.byref(cnt)) == 0
    n = cnt.value; x = np.zeros(n); y = np.zeros(n); t = np.zeros(n)
    assert lib.logitnorm_metrics_curve(m, 0, x.ctypes.data_as(ctypes.c_void_p), y.ctypes.data_as(ctypes.c_void_p), t.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(n), ctypes.byref(cnt)) == 0
    lib.logitnorm_metrics_free(m)
    return out, x, y, t
rng = np.random.default_rng(1)
worst = 0.0; cases = 0
for trial in range(60):
    n1, n2 = rng.integers(1, 3000, 2)
    kind = trial % 3
    if kind == 0:   # MSP with half of ID exactly 1.0f
        idv = np.where(rng.random(n1) < 0.5, 1.0, rng.integers(50, 100, n1) / 100).astype(np.float32).astype(np.float64)
        oodv = np.where(rng.random(n2) < 0.2, 1.0, rng.integers(30, 100, n2) / 100).astype(np.float32).astype(np.float64)
    elif kind == 1: # few levels
        idv = rng.integers(0, 6, n1).astype(np.float64); oodv = rng.integers(0, 5, n2).astype(np.float64)
    else:
        idv = rng.normal(1, 1, n1); oodv = rng.normal(0, 1, n2)
    y = np.r_[np.ones(n1), np.zeros(n2)]; s = np.r_[idv, oodv]
    level = [0.95, 0.9, 0.5, 1.0][trial % 4]
    for pos in (0, 1):
        for rule in (0, 1, 2):
            for aupr in (0, 1):
                out, x, yy, t = run(idv, oodv, pos, rule, aupr, level)
                # positive class for FPR rules
                yt, st = (y, s) if pos == 0 else (1 - y, -s)
                e = abs(out[0] - metrics.roc_auc_score(y, s)); worst = max(worst, e)
                if aupr == 0:
                    ein = abs(out[1] - metrics.average_precision_score(y, s)); eout = abs(out[2] - metrics.average_precision_score(1 - y, -s))
                else:
                    p, r, _ = metrics.precision_recall_curve(y, s); ein = abs(out[1] - metrics.auc(r, p))
                    p, r, _ = metrics.precision_recall_curve(1 - y, -s); eout = abs(out[2] - metrics.auc(r, p))
                worst = max(worst, ein, eout)
                assert ein < 1e-12 and eout < 1e-12 and e < 1e-12, (trial, pos, rule, aupr, ein, eout, e)
                if rule == 2:
                    fpr, tpr, thr = metrics.roc_curve(yt, st, drop_intermediate=True)
                    i = np.argmax(tpr >= level)
                    assert out[3] == fpr[i], (trial, pos, out[3], fpr[i])
                    # exported ROC curve equals sklearn's (first threshold aside)
                    assert np.array_equal(x, fpr) and np.array_equal(yy, tpr), trial
                    sgn = 1 if pos == 0 else -1
                    assert np.array_equal(sgn * t[1:], thr[1:]), trial
                elif rule == 1:
                    fpr, tpr, thr = metrics.roc_curve(yt, st, drop_intermediate=False)
                    assert out[3] == fpr[np.argmax(tpr >= level)]
                    assert np.array_equal(x, fpr) and np.array_equal(yy, tpr)
                else:  # official LogitNorm / Hendrycks fpr_and_fdr_at_recall, re-derived
                    order = np.argsort(st, kind="mergesort")[::-1]; ss = st[order]; yy2 = yt[order]
                    idx = np.r_[np.where(np.diff(ss))[0], len(ss) - 1]
                    tps = np.cumsum(yy2)[idx]; fps = 1 + idx - tps
                    rec = tps / tps[-1]; last = tps.searchsorted(tps[-1])
                    rec_l = np.r_[rec[last::-1], 1]; fps_l = np.r_[fps[last::-1], 0]
                    c = np.argmin(np.abs(rec_l - level))
                    assert out[3] == fps_l[c] / np.sum(1 - yt), (trial, pos, out[3], fps_l[c] / np.sum(1 - yt))
                cases += 1
print("cases", cases, "worst |diff| of AUROC/AUPR vs scikit-learn", worst)
