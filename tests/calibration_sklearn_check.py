# Cross-check of the calibration accumulator's reliability data (logitnorm_calibration_bins)
# against scikit-learn's sklearn.calibration.calibration_curve:
#   - EQUAL_WIDTH against strategy='uniform': the same bins, (lo, hi] like scikit-learn's
#     searchsorted on the inner edges, when no confidence lies within 1e-12 of an edge
#     (scikit-learn's edges come from np.linspace, k * (1/B), ours are k / B: they can differ
#     in the last bit); plus confidences exactly on an edge that both compute alike (B = 4);
#   - EQUAL_MASS against strategy='quantile' where the two coincide: distinct confidences and
#     N divisible by BINS (percentile edges then fall strictly between the rank chunks).
# Confidences and correctness are recomputed here in float64 from the same float32 logits
# (max-shifted softmax, first argmax of z), as the library defines them.
# Usage: python3 calibration_sklearn_check.py path/to/liblogitnorm.so
import ctypes, sys
import numpy as np
from sklearn.calibration import calibration_curve

lib = ctypes.CDLL(sys.argv[1])
D, I64, P = ctypes.c_double, ctypes.c_int64, ctypes.c_void_p
lib.logitnorm_calibration_set.argtypes = [P, ctypes.c_int, D]
lib.logitnorm_calibration_create.argtypes = [ctypes.POINTER(P), I64]
lib.logitnorm_calibration_add_f32.argtypes = [P, I64, P, I64, P]
lib.logitnorm_calibration_bins.argtypes = [P, P, P, P, I64, ctypes.POINTER(I64)]
lib.logitnorm_calibration_value.argtypes = [P, ctypes.c_int, ctypes.POINTER(D)]
lib.logitnorm_calibration_free.argtypes = [P]
BINS, BINNING = 400, 402
ECE, MCE, RMSCE = 0, 1, 6


def library_bins(z, y, n_bins, binning):
    c = P()
    assert lib.logitnorm_calibration_create(ctypes.byref(c), z.shape[1]) == 0
    assert lib.logitnorm_calibration_set(c, BINS, n_bins) == 0
    assert lib.logitnorm_calibration_set(c, BINNING, binning) == 0
    z = np.ascontiguousarray(z, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.int32)
    assert lib.logitnorm_calibration_add_f32(c, len(y), z.ctypes.data, z.shape[1], y.ctypes.data) == 0
    k = I64()
    assert lib.logitnorm_calibration_bins(c, None, None, None, 0, ctypes.byref(k)) == 0
    cnt, conf, acc = np.zeros(k.value), np.zeros(k.value), np.zeros(k.value)
    assert lib.logitnorm_calibration_bins(c, cnt.ctypes.data, conf.ctypes.data, acc.ctypes.data, k.value,
                                          ctypes.byref(k)) == 0
    values = {}
    for w in (ECE, MCE, RMSCE):
        v = D()
        assert lib.logitnorm_calibration_value(c, w, ctypes.byref(v)) == 0
        values[w] = v.value
    lib.logitnorm_calibration_free(c)
    return cnt, conf, acc, values


def rows(z, y):
    z64 = z.astype(np.float64)
    e = np.exp(z64 - z64.max(axis=1, keepdims=True))
    conf = 1.0 / e.sum(axis=1)
    correct = (np.argmax(z64, axis=1) == y).astype(np.float64)
    return conf, correct


def sklearn_counts(conf, n_bins, strategy):
    # the bin of each row as calibration_curve forms it, for the counts it does not return
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.percentile(conf, np.linspace(0, 1, n_bins + 1) * 100)
    ids = np.searchsorted(edges[1:-1], conf)
    total = np.bincount(ids, minlength=n_bins)
    return total[total != 0], edges


def compare(z, y, n_bins, binning, strategy, what):
    conf, correct = rows(z, y)
    cnt, lconf, lacc, values = library_bins(z, y, n_bins, binning)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=n_bins, strategy=strategy)
    scount, _ = sklearn_counts(conf, n_bins, strategy)
    assert len(cnt) == len(prob_true), (what, len(cnt), len(prob_true))
    assert np.array_equal(cnt, scount), what
    assert np.max(np.abs(lacc - prob_true)) <= 1e-15, what
    err = np.max(np.abs(lconf - prob_pred))
    assert err <= 1e-12, (what, err)
    # the binned values from scikit-learn's bins
    w = scount / len(y)
    gap = np.abs(prob_pred - prob_true)
    assert abs(values[ECE] - np.sum(w * gap)) <= 1e-12, what
    assert abs(values[MCE] - np.max(gap)) <= 1e-12, what
    assert abs(values[RMSCE] - np.sqrt(np.sum(w * gap * gap))) <= 1e-12, what
    return err


rng = np.random.default_rng(12)
cases, worst = 0, 0.0
for trial in range(40):
    C = int(rng.integers(2, 12))
    n_bins = int(rng.integers(2, 25))
    n = n_bins * int(rng.integers(1, 60))
    z = (rng.normal(size=(n, C)) * rng.uniform(0.3, 4.0)).astype(np.float32)
    y = np.where(rng.random(n) < 0.6, np.argmax(z, axis=1), rng.integers(0, C, n)).astype(np.int32)
    conf, _ = rows(z, y)
    # uniform: skip draws with a confidence within 1e-12 of an edge (vanishingly rare)
    edges = np.arange(1, n_bins) / n_bins
    if np.min(np.abs(conf[:, None] - edges[None, :])) > 1e-12:
        worst = max(worst, compare(z, y, n_bins, 0, "uniform", ("uniform", trial)))
        cases += 1
    # quantile: distinct confidences and N divisible by BINS
    if len(np.unique(conf)) == n:
        worst = max(worst, compare(z, y, n_bins, 1, "quantile", ("quantile", trial)))
        cases += 1

# Confidences exactly on a bin edge: with B = 4 the edges .25, .5, .75 are exact both as k / B
# and as k * (1/B). Two classes with equal logits give .5 exactly, and 3:1 odds (logits ln 3, 0
# do not give .75 exactly in float, so use four classes with equal logits: .25).
z = np.array([[0, 0], [0, 0], [1, 0], [0, 2], [0, 0]], dtype=np.float32)
z4 = np.array([[0, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 0]], dtype=np.float32)
for zz, yy in ((z, np.array([0, 1, 0, 1, 1])), (z4, np.array([0, 2, 0]))):
    conf, _ = rows(zz, yy.astype(np.int32))
    assert np.any(conf == 0.5) or np.any(conf == 0.25)
    compare(zz, yy.astype(np.int32), 4, 0, "uniform", "edge")
    cases += 1
print("cases", cases, "largest |mean confidence difference| vs scikit-learn", worst)
