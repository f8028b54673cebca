#!/usr/bin/env python3
"""Wall time of every run of the experiment, as a Markdown table (issue 14: "record the wall time
of each run"): each Wider seed's phases from its report.json `seconds`, each twin seed's from its
seed-<s>.json. The figures are wall seconds while the runs shared the 2 cores with each other.

    /usr/bin/python3 experiments/walltime.py runs/fmnist-mlp runs/twin-mlp runs/fmnist-cnn runs/twin-cnn
"""
import glob
import json
import os
import sys


def rows(d):
    out = []
    for f in sorted(glob.glob(os.path.join(d, "seed-*", "report.json"))):
        r = json.load(open(f))
        s = r["seconds"]
        # the phases' sum: `thisProcess` covers only the last process of a resumed run
        total = sum(v for k, v in s.items() if k != "thisProcess" and isinstance(v, (int, float)))
        phases = ", ".join(f"{k} {v:.0f}" for k, v in s.items() if k != "thisProcess")
        out.append((d, "Wider", r["config"]["seed"], r["model"]["name"], total, phases))
    for f in sorted(glob.glob(os.path.join(d, "seed-*.json"))):
        r = json.load(open(f))
        if r.get("tool") != "wider-twin":
            continue
        s = r["seconds"]
        phases = ", ".join(f"{k} {v:.0f}" for k, v in s.items() if k != "total")
        out.append((d, "twin", r["seed"], r["model"]["name"], s["total"], phases))
    return out


def main(dirs):
    if not dirs:
        print(__doc__, file=sys.stderr)
        return 2
    print("| run | side | model | seed | wall (s) | phases (s) |")
    print("|---|---|---|---|--:|---|")
    for d in dirs:
        if not os.path.isdir(d):
            print(f"walltime: {d} is not a directory; pass run directories", file=sys.stderr)
            return 2
        for run, side, seed, model, total, phases in rows(d):
            print(f"| {os.path.basename(run.rstrip('/'))} | {side} | {model} | {seed} | {total:.0f} | {phases} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
