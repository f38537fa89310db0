#!/usr/bin/env python3
"""Markdown tables from runs/heldout/heldout.csv (written by docs/run-experiments.sh --heldout).

  python3 docs/heldout-table.py runs/heldout/heldout.csv [--baseline softmax]

Table 1 (one per group: main, control, remedy): per configuration at D = 64, mean ± sample std (ddof 1) over the seeds, and the min-max range,
of the closed-set accuracy on classes 0-4, Recall@1 and MAP@R on the seen (0-4) and unseen (5-9) classes.
Table 2: each configuration against the baseline: the difference of the means, and a verdict per measure:
'better' / 'worse' when the seed ranges (min-max) do not overlap, '~' when they do.
Table 3: the D = 2 runs (one seed each). Configurations appear in the CSV's order.
"""
import csv
import sys

import numpy as np

MEASURES = [("closed_set_acc", "closed-set acc (0-4)"), ("seen_recall1", "R@1 seen"), ("seen_map_r", "MAP@R seen"),
            ("unseen_recall1", "R@1 unseen"), ("unseen_map_r", "MAP@R unseen")]


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    groups = {}
    for r in rows:
        groups.setdefault((r["dim"], r["name"]), []).append(r)
    return groups


def values(runs, key):
    return np.array([float(r[key]) * 100 for r in runs if r[key] not in ("", None)])


def table(configs):
    print("| loss | seeds | " + " | ".join(label for _, label in MEASURES) + " | train s per run |")
    print("|---" * (len(MEASURES) + 3) + "|")
    for name, runs in configs:
        ok = [r for r in runs if r["exit_code"] == "0"]
        cells = []
        for key, _ in MEASURES:
            v = values(ok, key)
            if len(v) == 0:
                cells.append("-")
            elif len(v) == 1:
                cells.append(f"{v[0]:.2f}")
            else:
                cells.append(f"{v.mean():.2f} ± {v.std(ddof=1):.2f}<br>({v.min():.2f}-{v.max():.2f})")
        t = np.array([float(r["train_s"]) for r in ok if r["train_s"]])
        note = "" if len(ok) == len(runs) else f" ({len(runs) - len(ok)} failed)"
        seconds = f"{t.mean():.0f}" if len(t) else "-"
        print(f"| {name} | {len(ok)}{note} | " + " | ".join(cells) + f" | {seconds} |")


def main(argv):
    path = argv[1] if len(argv) > 1 else "runs/heldout/heldout.csv"
    baseline = argv[argv.index("--baseline") + 1] if "--baseline" in argv else "softmax"
    groups = load(path)
    d64 = [(name, runs) for (dim, name), runs in groups.items() if dim == "64"]

    titles = {"main": "The losses", "control": "Controls: the s-scaled losses without a margin (cosface, m3 = 0)",
              "remedy": "Remedies: what practitioners do when a margin hurts"}
    for group in dict.fromkeys(runs[0]["group"] for _, runs in d64):
        print(f"{titles.get(group, group)}: mean ± std over seeds, (min-max) below, percent; D = 64, trained on classes 0-4\n")
        table([(n, r) for n, r in d64 if r[0]["group"] == group])
        print()


    base = dict(d64).get(baseline)
    if base:
        print(f"Against {baseline} (difference of the means in points; verdict: better/worse when the min-max "
              "ranges over seeds do not overlap, ~ when they do):\n")
        print("| loss | " + " | ".join(label for _, label in MEASURES) + " |")
        print("|---" * (len(MEASURES) + 1) + "|")
        for name, runs in d64:
            if name == baseline:
                continue
            cells = []
            for key, _ in MEASURES:
                v, b = values(runs, key), values(base, key)
                if len(v) == 0 or len(b) == 0:
                    cells.append("-")
                    continue
                d = v.mean() - b.mean()
                verdict = "better" if v.min() > b.max() else "worse" if v.max() < b.min() else "~"
                cells.append(f"{d:+.2f} {verdict}")
            print(f"| {name} | " + " | ".join(cells) + " |")

    d2 = [(name, runs) for (dim, name), runs in groups.items() if dim == "2"]
    if d2:
        print("\nD = 2 (the pictures; one seed):\n")
        print("| loss | seed | " + " | ".join(label for _, label in MEASURES) + " | angle own / nearest other |")
        print("|---" * (len(MEASURES) + 3) + "|")
        for name, runs in d2:
            for r in runs:
                cells = [f"{float(r[k]) * 100:.2f}" if r[k] else "-" for k, _ in MEASURES]
                print(f"| {name} | {r['seed']} | " + " | ".join(cells)
                      + f" | {float(r['angle_own_deg']):.1f} / {float(r['angle_nearest_other_deg']):.1f} deg |")


if __name__ == "__main__":
    main(sys.argv)
