#!/usr/bin/python3
"""logitnorm-eval against scikit-learn, end to end.

logitnorm-eval: `logitnorm-eval ood --id id.npy --ood ood.npy --json` on 1,000,000 ID N(1, 1)
and 1,000,000 OOD N(0, 1) float32 scores saved as .npy, timed wall-clock from process start to
exit (reading the files included), after one warm-up run.
scikit-learn: roc_auc_score, average_precision_score (AUPR-In and AUPR-Out) and roc_curve with
the FPR at 95 % TPR, on the same scores already in memory.
Each side: the median of 5 runs. Needs numpy and scikit-learn (python3-sklearn).

  eval_speed.py path/to/logitnorm-eval work_dir            the measurement
  eval_speed.py --quick path/to/logitnorm-eval work_dir    a smoke run: 10,000 scores each,
                                                           one run, standard library only
"""
import array
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import time

args = sys.argv[1:]
quick = "--quick" in args
args = [a for a in args if a != "--quick"]
if len(args) != 2:
    sys.exit(__doc__)
exe, work = args
os.makedirs(work, exist_ok=True)
n = 10_000 if quick else 1_000_000
runs = 1 if quick else 5


def save_npy_f32(path, values):
    """A .npy version 1.0 file of float32 values, written with the standard library."""
    data = array.array("f", values)
    if sys.byteorder != "little":
        data.byteswap()
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % len(data)
    header += " " * ((-(10 + len(header) + 1)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(data.tobytes())


id_path, ood_path = os.path.join(work, "id.npy"), os.path.join(work, "ood.npy")
if quick:
    rng = random.Random(42)
    id_scores = [rng.gauss(1.0, 1.0) for _ in range(n)]
    ood_scores = [rng.gauss(0.0, 1.0) for _ in range(n)]
else:
    import numpy as np

    rng = np.random.default_rng(42)
    id_scores = (rng.standard_normal(n) + 1.0).astype(np.float32)
    ood_scores = rng.standard_normal(n).astype(np.float32)
save_npy_f32(id_path, id_scores)
save_npy_f32(ood_path, ood_scores)

command = [exe, "ood", "--id", id_path, "--ood", ood_path, "--json"]


def run_tool():
    t0 = time.perf_counter()
    p = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("logitnorm-eval failed (%d): %s" % (p.returncode, p.stderr))
    return elapsed, json.loads(p.stdout)


if not quick:
    run_tool()  # warm-up: the page cache and the loader
times = []
for _ in range(runs):
    elapsed, doc = run_tool()
    times.append(elapsed)
values = doc["results"][0]["sets"][0]["values"]
if not 0.5 < values["auroc"] < 1.0:
    sys.exit("unexpected AUROC %r" % values["auroc"])
tool = statistics.median(times)
print("logitnorm-eval ood, %d + %d float32 scores from .npy: median %.1f ms of %d (%s)"
      % (n, n, 1e3 * tool, runs, " ".join("%.1f" % (1e3 * t) for t in times)))
if quick:
    sys.exit(0)

from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve  # noqa: E402

labels = np.concatenate([np.ones(n), np.zeros(n)])
scores = np.concatenate([id_scores, ood_scores])
sk_times = []
for _ in range(runs):
    t0 = time.perf_counter()
    auroc = roc_auc_score(labels, scores)
    aupr_in = average_precision_score(labels, scores)
    aupr_out = average_precision_score(1 - labels, -scores)
    fpr, tpr, _ = roc_curve(labels, scores)
    fpr95 = fpr[np.searchsorted(tpr, 0.95, side="left")]
    sk_times.append(time.perf_counter() - t0)
sk = statistics.median(sk_times)
print("scikit-learn on arrays in memory: median %.1f ms of %d (%s)"
      % (1e3 * sk, runs, " ".join("%.1f" % (1e3 * t) for t in sk_times)))
print("ratio: %.1fx" % (sk / tool))
for name, mine, theirs in (("AUROC", values["auroc"], auroc), ("AUPR-In", values["aupr_in"], aupr_in),
                           ("AUPR-Out", values["aupr_out"], aupr_out)):
    if abs(mine - theirs) > 1e-12:
        sys.exit("%s differs: %r against scikit-learn's %r" % (name, mine, theirs))
print("AUROC %.12f  AUPR-In %.12f  AUPR-Out %.12f  FPR@95 %.6f (paper rule; scikit-learn's roc_curve rule: %.6f)"
      % (values["auroc"], values["aupr_in"], values["aupr_out"], values["fpr"], fpr95))
