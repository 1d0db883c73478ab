#!/usr/bin/env python3
"""Summarise a cnn_study.sh output folder as markdown tables (Python 3 standard library only).

    python3 examples/libtorch/cnn_study_table.py OUT_DIR

Every *.json of the folder is one cnn_ood run (one network, number of epochs and seed, several
models). A cell is a (network, epochs, model) triple; each number is the mean over its seeds
followed by the smallest and largest value, "mean (min-max)". Rates are in percent.

Tables:
  1. accuracy, average FPR95 and AUROC by MSP and by energy, mean logit norm on the ID test set
     and over the OOD sets, and on how many seeds the model's MSP average FPR95 is below that of
     the CE model of the same run (same initial weights and batches);
  2. FPR95 by MSP per OOD set (means only).
"""
import glob
import json
import os
import sys


def model_name(m):
    return "CE" if m["loss"] == "ce" else "LogitNorm, τ = %g" % m["tau"]


def spread(values, scale=1.0, digits=1):
    vs = [v * scale for v in values]
    mean = sum(vs) / len(vs)
    if len(vs) == 1:
        return "%.*f" % (digits, mean)
    return "%.*f (%.*f–%.*f)" % (digits, mean, digits, min(vs), digits, max(vs))


def load(folder):
    runs = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path, encoding="utf-8") as f:
            runs.append(json.load(f))
    return runs


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    runs = load(argv[1])
    if not runs:
        print("no *.json in %s" % argv[1], file=sys.stderr)
        return 1

    # cells[(net, epochs)][model name] = list of (model, ce model of the same run)
    cells, order, set_names = {}, [], []
    for run in runs:
        key = (run["run"]["net"], run["run"]["epochs"])
        ce = next(m for m in run["models"] if m["loss"] == "ce")
        for m in run["models"]:
            cells.setdefault(key, {}).setdefault(model_name(m), []).append((m, ce))
            if model_name(m) not in order:
                order.append(model_name(m))
            for s in m["ood"]:
                if s not in set_names:
                    set_names.append(s)
    order.sort(key=lambda n: (n != "CE", float(n.split("= ")[1]) if "= " in n else 0.0))
    keys = sorted(cells, key=lambda k: (k[0] != "plain", k[1]))

    def mean_ood_norm(m):
        return sum(s["logit_norm"] for s in m["ood"].values()) / len(m["ood"])

    print("| Network | Epochs | Model | Seeds | Accuracy (%) | FPR95, MSP | AUROC, MSP | FPR95, energy "
          "| AUROC, energy | Mean ‖z‖, ID | Mean ‖z‖, OOD | MSP FPR95 below CE |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key in keys:
        for name in order:
            pairs = cells[key].get(name)
            if not pairs:
                continue
            ms = [m for m, _ in pairs]
            below = "" if name == "CE" else "%d of %d" % (
                sum(m["avg_fpr95"] < ce["avg_fpr95"] for m, ce in pairs), len(pairs))
            print("| %s | %d | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                "BN" if key[0] == "bn" else "plain", key[1], name, len(ms),
                spread([m["accuracy"] for m in ms], 100, 2),
                spread([m["avg_fpr95"] for m in ms], 100),
                spread([m["avg_auroc"] for m in ms], 100),
                spread([m["energy"]["avg_fpr95"] for m in ms], 100),
                spread([m["energy"]["avg_auroc"] for m in ms], 100),
                spread([m["logit_norm"] for m in ms], 1, 2),
                spread([mean_ood_norm(m) for m in ms], 1, 2),
                below))

    print()
    print("| Network | Epochs | Model | " + " | ".join(set_names) + " |")
    print("|---|---|---|" + "---|" * len(set_names))
    for key in keys:
        for name in order:
            pairs = cells[key].get(name)
            if not pairs:
                continue
            ms = [m for m, _ in pairs]
            row = []
            for s in set_names:
                vs = [m["ood"][s]["fpr95"] for m in ms if s in m["ood"]]
                row.append("%.1f" % (100 * sum(vs) / len(vs)) if vs else "")
            print("| %s | %d | %s | %s |" % ("BN" if key[0] == "bn" else "plain", key[1], name, " | ".join(row)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
