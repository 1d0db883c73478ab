# Cross-check of logitnorm-eval against scikit-learn and the official LogitNorm FPR rule
# (Hendrycks et al.'s fpr_and_fdr_at_recall, re-derived with numpy as in
# metrics_sklearn_check.py). It writes score and logit files in every supported form (.npy
# versions 1.0, 2.0 and 3.0, float16/32/64, int32/64, big-endian, CSV/TSV text, raw), runs
# `logitnorm-eval ... --json --all-conventions` on them and compares every number.
# Usage: python3 eval_check.py path/to/logitnorm-eval work_dir
import json
import os
import struct
import subprocess
import sys

import numpy as np
from sklearn import metrics
from sklearn.calibration import calibration_curve

exe, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(23)


def write_npy(path, arr, version):
    """numpy writes version 1.0; versions 2.0 and 3.0 get a header built here."""
    if version == 1:
        np.save(path, arr, allow_pickle=False)
    else:
        descr = np.lib.format.dtype_to_descr(arr.dtype)
        header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, arr.shape)
        pad = (-(6 + 2 + 4 + len(header) + 1)) % 64
        header = (header + " " * pad + "\n").encode("utf-8" if version == 3 else "latin1")
        with open(path, "wb") as f:
            f.write(b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(header)) + header)
            f.write(np.ascontiguousarray(arr).tobytes())
    back = np.load(path)  # the file is what numpy itself reads
    assert back.dtype == arr.dtype and back.shape == arr.shape and np.array_equal(back, arr, equal_nan=True), path


def write_text(path, arr, delimiter, header):
    with open(path, "w") as f:
        if header:
            f.write(delimiter.join("col%d" % i for i in range(arr.shape[1] if arr.ndim == 2 else 1)) + "\n")
        f.write("# a comment line\n\n")
        for row in arr.reshape(len(arr), -1):
            f.write(delimiter.join(repr(float(v)) for v in row) + "\n")


def run(args):
    p = subprocess.run([exe] + args + ["--json"], capture_output=True, text=True)
    assert p.returncode == 0, (args, p.returncode, p.stderr)
    return json.loads(p.stdout)


# ---------------------------------------------------------------- references


def hendrycks_fpr(yt, st, level):
    """fpr_and_fdr_at_recall of the official LogitNorm code: (FPR, threshold)."""
    order = np.argsort(st, kind="mergesort")[::-1]
    ss, yy = st[order], yt[order]
    idx = np.r_[np.where(np.diff(ss))[0], len(ss) - 1]
    tps = np.cumsum(yy)[idx]
    fps = 1 + idx - tps
    thr = ss[idx]
    rec = tps / tps[-1]
    last = tps.searchsorted(tps[-1])
    rec_l, fps_l, thr_l = np.r_[rec[last::-1], 1], np.r_[fps[last::-1], 0], thr[last::-1]
    c = np.argmin(np.abs(rec_l - level))
    return fps_l[c] / np.sum(1 - yt), thr_l[c]


def detection_error(idv, oodv):
    """min over the operating points (the start one included) of (1 - TPR)/2 + FPR/2, ID positive,
    as one exact fraction of integers."""
    s = np.r_[idv, oodv]
    y = np.r_[np.ones(len(idv), dtype=np.int64), np.zeros(len(oodv), dtype=np.int64)]
    order = np.argsort(-s, kind="mergesort")
    ss, yy = s[order], y[order]
    idx = np.r_[np.where(np.diff(ss))[0], len(ss) - 1]
    tps = np.cumsum(yy)[idx]
    fps = 1 + idx - tps
    P, N = len(idv), len(oodv)
    best = min([N * P] + [N * (P - int(tp)) + P * int(fp) for tp, fp in zip(tps, fps)])
    return best / (2 * P * N)


def reference(idv, oodv, conv, level):
    y = np.r_[np.ones(len(idv)), np.zeros(len(oodv))]
    s = np.r_[idv, oodv]
    id_positive = conv in ("paper", "sklearn")
    yt, st = (y, s) if id_positive else (1 - y, -s)
    out = {"auroc": metrics.roc_auc_score(y, s), "detection_error": detection_error(idv, oodv)}
    if conv in ("paper", "sklearn"):
        out["aupr_in"] = metrics.average_precision_score(y, s)
        out["aupr_out"] = metrics.average_precision_score(1 - y, -s)
    else:
        p, r, _ = metrics.precision_recall_curve(y, s)
        out["aupr_in"] = metrics.auc(r, p)
        p, r, _ = metrics.precision_recall_curve(1 - y, -s)
        out["aupr_out"] = metrics.auc(r, p)
    if conv == "paper":
        fpr, thr = hendrycks_fpr(yt, st, level)
    else:
        fprs, tprs, thrs = metrics.roc_curve(yt, st, drop_intermediate=conv in ("openood", "sklearn"))
        i = np.argmax(tprs >= level)
        fpr, thr = fprs[i], thrs[i]
    out["fpr"] = fpr
    out["threshold"] = thr if id_positive else -thr  # reported in score units
    return out


checked = 0


def compare(got, want, what):
    global checked
    for key in ("auroc", "aupr_in", "aupr_out", "detection_error"):
        g, w = got[key], float(want[key])
        assert abs(g - w) <= 1e-12 * max(1.0, abs(w)), (what, key, g, w)
        checked += 1
    assert got["fpr"] == float(want["fpr"]), (what, "fpr", got["fpr"], want["fpr"])
    assert got["threshold"] == float(want["threshold"]), (what, "threshold", got["threshold"], want["threshold"])
    checked += 2


def check_ood_json(doc, idv, oods, level, what):
    assert doc["command"] == "ood" and doc["tpr_level"] == level
    assert doc["id"]["count"] == len(idv) and [o["count"] for o in doc["ood"]] == [len(o) for o in oods]
    names = [r["convention"] for r in doc["results"]]
    assert names == ["paper", "openood", "pytorch-ood", "sklearn"], names
    for res in doc["results"]:
        conv = res["convention"]
        wants = [reference(idv, o, conv, level) for o in oods]
        for k, s in enumerate(res["sets"]):
            compare(s["values"], wants[k], (what, conv, k))
        for key in ("auroc", "aupr_in", "aupr_out", "fpr", "detection_error"):
            mean = sum(float(w[key]) for w in wants) / len(wants)
            assert abs(res["average"][key] - mean) <= 1e-12, (what, conv, "average", key)
        assert "threshold" not in res["average"]


# ---------------------------------------------------------------- scores in every file form


def score_sets(kind, dtype):
    """ID and two OOD sets with heavy ties, as the given dtype."""
    n = [int(v) for v in rng.integers(200, 1500, 3)]
    if kind == 0:  # MSP-like: many exact 1.0
        sets = [np.where(rng.random(m) < p, 1.0, rng.integers(30, 100, m) / 100) for m, p in zip(n, (0.5, 0.2, 0.1))]
    elif kind == 1:  # a few levels
        sets = [rng.integers(0, 6 - i, m).astype(np.float64) for i, m in enumerate(n)]
    else:  # continuous
        sets = [rng.normal(mu, 1.0, m) * 3 for mu, m in zip((1.0, 0.0, 0.4), n)]
    if np.dtype(dtype).kind == "i":
        sets = [np.round(s * 7) for s in sets]
    else:  # tiny values: float16 subnormals (below 2^-14) and the smallest normals
        for s in sets:
            s[:6] = [6e-8, 2.5e-7, -3e-6, 1e-5, 6.2e-5, -6.1e-5]
    return [s.astype(dtype) for s in sets]


forms = [  # (label, file extension, writer, extra arguments, dtype)
    ("npy1-f32", ".npy", lambda p, a: write_npy(p, a, 1), [], np.float32),
    ("npy2-f64", ".npy", lambda p, a: write_npy(p, a, 2), [], np.float64),
    ("npy3-f16", ".npy", lambda p, a: write_npy(p, a, 3), [], np.float16),
    ("npy1-i32", ".npy", lambda p, a: write_npy(p, a, 1), [], np.int32),
    ("npy2-i64", ".npy", lambda p, a: write_npy(p, a, 2), [], np.int64),
    ("npy1-f4-big-endian", ".npy", lambda p, a: write_npy(p, a, 1), [], ">f4"),
    ("npy3-i8-big-endian", ".npy", lambda p, a: write_npy(p, a, 3), [], ">i8"),
    ("npy1-column", ".npy", lambda p, a: write_npy(p, a.reshape(-1, 1), 1), [], np.float32),
    ("csv-header", ".csv", lambda p, a: write_text(p, a, ",", True), [], np.float64),
    ("tsv", ".tsv", lambda p, a: write_text(p, a, "\t", False), [], np.float64),
    ("txt-blanks", ".txt", lambda p, a: write_text(p, a, "  ", False), ["--delimiter", "space"], np.float64),
    ("raw-f32", ".bin", lambda p, a: a.astype("<f4").tofile(p), ["--dtype", "f32"], np.float32),
    ("raw-f16", ".raw", lambda p, a: a.astype("<f2").tofile(p), ["--dtype", "f16", "--shape", "-1"], np.float16),
    ("raw-i64", ".dat", lambda p, a: a.astype("<i8").tofile(p), ["--dtype", "i64"], np.int64),
]
levels = [0.95, 0.9, 0.5, 1.0, 0.8]
for i, (label, ext, writer, extra, dtype) in enumerate(forms):
    for kind in range(3):
        sets = score_sets(kind, dtype)
        paths = []
        for j, s in enumerate(sets):
            paths.append(os.path.join(work, "%s-%d-%s%s" % (label, kind, "id" if j == 0 else "ood%d" % j, ext)))
            writer(paths[-1], s)
        level = levels[(i + kind) % len(levels)]
        args = ["ood", "--id", paths[0], "--ood", paths[1], "--label", "second", "--ood", paths[2],
                "--tpr", repr(level), "--all-conventions"] + extra
        doc = run(args)
        assert [o["name"] for o in doc["ood"]] == [os.path.splitext(os.path.basename(paths[1]))[0], "second"]
        as_double = [s.astype(np.float64) for s in sets]
        check_ood_json(doc, as_double[0], as_double[1:], level, (label, kind))
        # one convention at a time gives the same numbers as the side-by-side run
        for c, conv in enumerate(("paper", "openood", "pytorch-ood", "sklearn")):
            one = run(args[:-1 - len(extra)] + extra + ["--convention", conv])
            assert one["results"] == [doc["results"][c]], (label, conv)

# ---------------------------------------------------------------- logits -> every score


def softmax_parts(z, t=1.0):
    m = z.max(axis=1, keepdims=True)
    e = np.exp((z - m) / t)
    return m[:, 0], e, e.sum(axis=1)


def reference_scores(z32):
    """Each logit score from its formula (docs/scores.md) in float64, rounded to float32 as the
    library returns it."""
    z = z32.astype(np.float64)
    m, e, s = softmax_parts(z)
    p = e / s[:, None]
    logp = (z - m[:, None]) - np.log(s)[:, None]
    q = np.clip(p, 1e-7, 1 - 1e-7)
    top = np.sort(q, axis=1)[:, ::-1][:, : min(100, z.shape[1])]
    _, e_odin, s_odin = softmax_parts(z, 1000.0)
    out = {
        "msp": 1.0 / s,
        "max_logit": m,
        "energy": m + np.log(s),
        "entropy": np.sum(p * logp, axis=1),
        "gen": -np.sum(top**0.1 * (1 - top) ** 0.1, axis=1),
        "max_cosine": m / np.sqrt(np.sum(z * z, axis=1)),
        "odin": 1.0 / s_odin,
    }
    return {k: v.astype(np.float32).astype(np.float64) for k, v in out.items()}


C = 7
centres = rng.normal(0, 3, (C, C))
id_logits = (centres[rng.integers(0, C, 1200)] + rng.normal(0, 1, (1200, C))).astype(np.float32)
ood_logits = [rng.normal(0, s, (n, C)).astype(np.float32) for s, n in ((1.5, 900), (3.0, 700))]
logit_files = [
    (os.path.join(work, "logits-id.npy"), lambda p, a: write_npy(p, a, 2)),
    (os.path.join(work, "logits-ood1.csv"), lambda p, a: write_text(p, a.astype(np.float64), ",", True)),
    (os.path.join(work, "logits-ood2.npy"), lambda p, a: write_npy(p, a.astype(np.float64), 3)),
]
for (path, writer), arr in zip(logit_files, [id_logits] + ood_logits):
    writer(path, arr)
doc = run(["scores", "--id-logits", logit_files[0][0], "--ood-logits", logit_files[1][0], "--ood-logits",
           logit_files[2][0], "--all-conventions", "--tpr", "0.9"])
assert doc["command"] == "scores" and doc["classes"] == C and doc["odin_temperature"] == 1000
refs = [reference_scores(a) for a in [id_logits] + ood_logits]
for res in doc["results"]:
    keys = [s["score"] for s in res["scores"]]
    assert keys == ["msp", "max_logit", "energy", "entropy", "gen", "max_cosine", "odin"], keys
    for s in res["scores"]:
        for k, st in enumerate(s["sets"]):
            want = reference(refs[0][s["score"]], refs[k + 1][s["score"]], res["convention"], 0.9)
            compare(st["values"], want, ("scores", res["convention"], s["score"], k))

# ---------------------------------------------------------------- selective classification


def per_sample_errors(conf, right):
    """e_k, the errors among the k most confident samples, k = 1..N; within a tie block of d
    samples with d_e errors, entered after E' errors, the j-th has E' + j d_e / d (the mean over
    the orders of the tied samples, docs/metrics.md)."""
    order = np.argsort(-conf, kind="mergesort")
    c, wrong = conf[order], 1 - right[order]
    e = np.empty(len(c))
    start, before = 0, 0
    while start < len(c):
        end = start
        while end + 1 < len(c) and c[end + 1] == c[start]:
            end += 1
        d, de = end - start + 1, int(wrong[start:end + 1].sum())
        e[start:end + 1] = before + np.arange(1, d + 1) * de / d
        before += de
        start = end + 1
    return e


def trapezoid(x, y):
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def selective_reference(conf, right, rule, coverage, risk):
    """AURC, E-AURC, AUGRC, risk at a coverage and coverage at a risk from the formulas of
    docs/metrics.md, written with numpy; conf float64, right 0/1."""
    n, nr = len(conf), int(right.sum())
    k = np.arange(1, n + 1)
    perfect_e = np.maximum(0, k - nr).astype(np.float64)
    # tie-block points: the last sample of each block of equal confidence
    order = np.argsort(-conf, kind="mergesort")
    c = conf[order]
    errors = np.cumsum(1 - right[order])
    last = np.r_[np.nonzero(np.diff(c))[0], n - 1]
    cov, rsk, grs = (last + 1) / n, errors[last] / (last + 1), errors[last] / n
    out = {}
    if rule == "trapezoid" or rule == "geifman":
        out["augrc"] = trapezoid(cov, grs)
        out["risk_at_coverage"] = rsk[np.argmax(cov >= coverage)]
        ok = rsk <= risk
        out["coverage_at_risk"] = cov[ok].max() if ok.any() else 0.0
    if rule == "trapezoid":
        out["aurc"] = trapezoid(cov, rsk)
        out["e_aurc"] = out["aurc"] - trapezoid(k / n, perfect_e / k)
    elif rule == "geifman":
        e = per_sample_errors(conf, right)
        out["aurc"] = float(np.sum(e / (k + (k < n)))) / n
        r = (n - nr) / n
        out["e_aurc"] = out["aurc"] - (1.0 if r == 1 else r + (1 - r) * np.log(1 - r))
    else:  # per-sample, torch-uncertainty
        e = per_sample_errors(conf, right)
        rk = e / k
        out["aurc"] = float(np.sum((rk[:-1] + rk[1:]) / 2)) / (n - 1)
        pk = perfect_e / k
        out["e_aurc"] = out["aurc"] - float(np.sum((pk[:-1] + pk[1:]) / 2)) / (n - 1)
        out["augrc"] = float(np.sum((e[:-1] + e[1:]) / 2)) / (n * (n - 1))
        out["risk_at_coverage"] = rk[int(np.ceil(n * coverage)) - 1]
        ok = rk <= risk
        out["coverage_at_risk"] = (k[ok] / n).max() if ok.any() else 0.0
    return out


def check_selective(doc, conf, right, rule, coverage, risk, what):
    global checked
    want = selective_reference(conf, right, rule, coverage, risk)
    assert doc["command"] == "selective" and doc["rule"] == rule, what
    assert doc["count"] == len(conf) and doc["right"] == int(right.sum()), (what, doc["count"], doc["right"])
    assert doc["accuracy"] == int(right.sum()) / len(conf), what
    assert doc["coverage_level"] == coverage and doc["risk_level"] == risk, what
    for key in ("aurc", "e_aurc", "augrc"):
        g, w = doc["values"][key], want[key]
        assert abs(g - w) <= 1e-12 * max(1.0, abs(w)), (what, key, g, w)
    for key in ("risk_at_coverage", "coverage_at_risk"):  # quotients of counts, compared exactly
        assert doc["values"][key] == float(want[key]), (what, key, doc["values"][key], want[key])
    checked += 5


sel_rules = ["trapezoid", "geifman", "per-sample"]
sel_levels = [(0.8, 0.05), (0.5, 0.2), (1.0, 0.0), (0.33, 0.5)]
for case in range(6):
    n = int(rng.integers(50, 900))
    if case % 3 == 0:  # a few confidence levels: large tie blocks
        conf = rng.integers(0, 8, n) / 8.0
    elif case % 3 == 1:  # saturated at 1.0 for many samples, as MSP often is
        conf = np.where(rng.random(n) < 0.4, 1.0, rng.random(n))
    else:
        conf = rng.random(n)
    right = (rng.random(n) < 0.3 + 0.6 * conf).astype(np.int64)
    if case == 5:
        right[:] = 1  # one class alone is enough
    conf_path = os.path.join(work, "sel-conf-%d.npy" % case)
    right_path = os.path.join(work, "sel-right-%d.csv" % case)
    write_npy(conf_path, conf.astype(np.float32 if case % 2 else np.float64), 1 + case % 3)
    write_text(right_path, right.astype(np.float64), ",", case % 2 == 1)
    conf64 = conf.astype(np.float32).astype(np.float64) if case % 2 else conf
    for r, rule in enumerate(sel_rules):
        coverage, risk = sel_levels[(case + r) % len(sel_levels)]
        doc = run(["selective", "--confidence", conf_path, "--correct", right_path, "--rule", rule,
                   "--coverage", repr(coverage), "--risk", repr(risk)])
        check_selective(doc, conf64, right, rule, coverage, risk, ("selective", case, rule))
    assert doc["inputs"] == {"confidence": conf_path, "correct": right_path}

# logits and labels: right = numpy's argmax is the label (tied maxima included); the confidence
# is the chosen score, as `scores` computes it
n, C = 700, 6
sel_logits = rng.normal(0, 2, (n, C)).astype(np.float32)
sel_labels = rng.integers(0, C, n)
sel_logits[np.arange(n), sel_labels] += 1.5
sel_logits[:40, 1] = sel_logits[:40, 0] = sel_logits[:40].max(axis=1)  # tied maxima: the first wins
sel_logits[40:45] = 0.0  # equal rows: argmax 0
logits_path = os.path.join(work, "sel-logits.npy")
labels_path = os.path.join(work, "sel-labels.csv")
write_npy(logits_path, sel_logits, 1)
write_text(labels_path, sel_labels.astype(np.float64), ",", True)
right = (np.argmax(sel_logits, axis=1) == sel_labels).astype(np.int64)
with np.errstate(invalid="ignore"):  # max-cosine of the all-zero rows, which is not used here
    ref = reference_scores(sel_logits)
for key, rule in (("msp", "trapezoid"), ("energy", "per-sample"), ("max_logit", "geifman")):
    args = ["selective", "--logits", logits_path, "--labels", labels_path, "--rule", rule]
    doc = run(args + (["--score", key] if key != "msp" else []))
    assert doc["inputs"]["score"] == key and doc["inputs"]["classes"] == C, doc["inputs"]
    check_selective(doc, ref[key], right, rule, 0.8, 0.05, ("selective logits", key))

# ---------------------------------------------------------------- calibration


def softmax64(z32, t):
    z = z32.astype(np.float64) / t
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def mean_nll(z32, y, t):
    z = z32.astype(np.float64) / t
    m = z.max(axis=1)
    return float(np.mean(m + np.log(np.exp(z - m[:, None]).sum(axis=1)) - z[np.arange(len(y)), y]))


def fit_temperature(z32, y):
    """The T minimising the mean NLL, by golden-section search on log T, written here (no library
    code): the NLL is convex in 1/T, so unimodal in log T."""
    lo, hi = np.log(1e-3), np.log(1e3)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = mean_nll(z32, y, np.exp(a)), mean_nll(z32, y, np.exp(b))
    for _ in range(200):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = mean_nll(z32, y, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = mean_nll(z32, y, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def binned_errors(conf, right, bins):
    """(ECE, MCE, RMSCE, count, mean confidence, accuracy) over the bins that hold rows; bins is
    a list of index arrays."""
    n = len(conf)
    cnt = np.array([len(b) for b in bins if len(b)], dtype=np.float64)
    mc = np.array([conf[b].mean() for b in bins if len(b)])
    acc = np.array([right[b].mean() for b in bins if len(b)])
    gap = np.abs(mc - acc)
    return (float(np.sum(cnt / n * gap)), float(gap.max()), float(np.sqrt(np.sum(cnt / n * gap**2))), cnt, mc, acc)


def equal_width_bins(values, nbins):
    """(k/B, (k+1)/B] with edges k/B as doubles; 0 goes to the first bin."""
    edges = np.arange(1, nbins) / nbins
    k = np.searchsorted(edges, values, side="left")
    return [np.nonzero(k == j)[0] for j in range(nbins)]


def calibration_reference(z32, y, t, nbins):
    p = softmax64(z32, t)
    conf = p.max(axis=1)
    right = (np.argmax(z32, axis=1) == y).astype(np.float64)
    onehot = np.eye(z32.shape[1])[y]
    out = {"accuracy": right.mean(), "nll": mean_nll(z32, y, t), "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1)))}
    ece, mce, rms, cnt, mc, acc = binned_errors(conf, right, equal_width_bins(conf, nbins))
    cw = np.mean([binned_errors(p[:, c], onehot[:, c], equal_width_bins(p[:, c], nbins))[0] for c in range(z32.shape[1])])
    out["equal_width"] = {"ece": ece, "mce": mce, "rmsce": rms, "classwise_ece": cw,
                          "reliability": {"count": cnt, "confidence": mc, "accuracy": acc}}
    order = np.lexsort((right, conf))  # by confidence, then the wrong rows first
    ece, mce, rms, cnt, mc, acc = binned_errors(conf, right, np.array_split(order, nbins))
    out["equal_mass"] = {"ece": ece, "mce": mce, "rmsce": rms,
                         "reliability": {"count": cnt, "confidence": mc, "accuracy": acc}}
    return out, conf, right


def check_calibration(doc, z32, y, nbins, fit_z, fit_y, what):
    global checked
    t_fit = doc["fit"]["temperature"]
    t_ref = fit_temperature(fit_z, fit_y)
    assert abs(t_fit - t_ref) <= 1e-6 * t_ref, (what, "temperature", t_fit, t_ref)
    assert doc["bins"] == nbins and doc["inputs"]["count"] == len(y) and doc["fit"]["count"] == len(fit_y), what
    assert [r["temperature"] for r in doc["results"]] == [1.0, t_fit], what
    for res in doc["results"]:
        want, conf, right = calibration_reference(z32, y, res["temperature"], nbins)
        for key in ("accuracy", "nll", "brier"):
            assert abs(res[key] - want[key]) <= 1e-12 * max(1.0, abs(want[key])), (what, key, res[key], want[key])
            checked += 1
        for binning in ("equal_width", "equal_mass"):
            got, w = res[binning], want[binning]
            for key in [k for k in w if k != "reliability"]:
                assert abs(got[key] - w[key]) <= 1e-12, (what, binning, key, got[key], w[key])
                checked += 1
            assert ("classwise_ece" in got) == (binning == "equal_width"), (what, binning)
            for key in ("count", "confidence", "accuracy"):
                g, wr = np.array(got["reliability"][key]), w["reliability"][key]
                assert g.shape == wr.shape and np.allclose(g, wr, rtol=0, atol=1e-12), (what, binning, key)
                checked += 1
        # the equal-width reliability data is scikit-learn's calibration_curve(strategy="uniform")
        prob_true, prob_pred = calibration_curve(right, conf, n_bins=nbins, strategy="uniform")
        rel = res["equal_width"]["reliability"]
        assert np.allclose(rel["accuracy"], prob_true, rtol=0, atol=1e-12), (what, "sklearn prob_true")
        assert np.allclose(rel["confidence"], prob_pred, rtol=0, atol=1e-12), (what, "sklearn prob_pred")
        checked += 2


cal_rng = np.random.default_rng(5)
for case, (n, C, scale, nbins) in enumerate(((1500, 10, 4.0, 15), (800, 4, 0.6, 10), (300, 25, 9.0, 7))):
    centres = cal_rng.normal(0, 1, (C, C))
    y_all = cal_rng.integers(0, C, n + 600)
    z_all = ((centres[y_all] + 1.5 * np.eye(C)[y_all] + cal_rng.normal(0, 1.2, (n + 600, C))) * scale)
    z_all = z_all.astype(np.float32)
    z, y, fz, fy = z_all[:n], y_all[:n], z_all[n:], y_all[n:]
    zp, yp = os.path.join(work, "cal-z-%d.npy" % case), os.path.join(work, "cal-y-%d.csv" % case)
    fzp, fyp = os.path.join(work, "cal-fz-%d.npy" % case), os.path.join(work, "cal-fy-%d.npy" % case)
    write_npy(zp, z, 1)
    write_text(yp, y.astype(np.float64), ",", case == 1)
    write_npy(fzp, fz.astype(np.float64), 2)
    write_npy(fyp, fy.astype(np.int32), 3)
    doc = run(["calibration", "--logits", zp, "--labels", yp, "--bins", str(nbins)])
    assert doc["fit"]["logits"] is None, doc["fit"]
    check_calibration(doc, z, y, nbins, z, y, ("calibration", case, "self-fit"))
    doc = run(["calibration", "--logits", zp, "--labels", yp, "--fit-logits", fzp, "--fit-labels", fyp,
               "--bins", str(nbins)])
    assert doc["fit"]["logits"] == fzp, doc["fit"]
    check_calibration(doc, z, y, nbins, fz, fy, ("calibration", case, "held-out fit"))

print("logitnorm-eval: %d values equal to scikit-learn, the Hendrycks rule, the risk-coverage and calibration formulas"
      % checked)
