#!/usr/bin/env python3
"""Evaluates weights a Wider run saved (its checkpoint's final SGD, SWA, SWA 1.25 B and FGE
snapshots) with the twin's data pipeline and metrics, so that a difference between the app and
the twin can be placed: in the evaluation (these numbers would differ from the app's report) or in
the training (they match the report, and the weights themselves differ).

    /usr/bin/python3 experiments/twin/crosscheck.py --config experiments/fashion-mnist-mlp.json \\
        --run runs/fmnist-mlp/seed-0

Prints, per method, the app's metrics from report.json next to the twin's on the same weights.

With `--train-from DIR` (the run's initial weights, from `experiments/twin/wider-init.mjs`) it also
trains the twin from those weights on the run's own config (its report's, overrides included) and
prints how far the twin's final SGD and SWA weights are from the app's (relative L2 distance per
tensor and overall): float rounding alone gives a distance that starts near 1e-7 and grows
smoothly with the steps; a difference in the training itself shows from the first steps.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import twin  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="the config the run was made with")
    ap.add_argument("--run", required=True, help="one seed's output directory (report.json, checkpoint/)")
    ap.add_argument("--control", default=None,
                    help="another run of the same config (e.g. --workers 2: rounding only); print its distance too")
    ap.add_argument("--train-from", dest="trainFrom", default=None,
                    help="also train the twin from these initial weights (wider-init.mjs output) and compare")
    a = ap.parse_args(argv)
    with open(os.path.join(a.run, "report.json")) as f:
        report = json.load(f)
    seed = report["config"]["seed"]
    c = twin.load_config(a.config, {})
    c = {**c, "dataSeed": c["dataSeed"] + seed}
    if a.trainFrom is not None or a.control is not None:  # the run's own config, overrides included
        c = {k: report["config"][k] for k in twin.FIELDS}
    for k in twin.FIELDS:
        if k != "dataSeed" and report["config"].get(k) != c[k]:
            twin.fail(f"{a.run} was run with {k} = {report['config'].get(k)!r}, {a.config} says {c[k]!r}")
    torch.set_num_threads(1)
    data = twin.load_data(c)
    model = twin.build_model(c["model"])
    ck = os.path.join(a.run, "checkpoint")
    groups = {"sgd": "extra/sgdFinal", "swa": "extra/swaFinal", "swaExtended": "extra/swaExtendedFinal",
              "pretrained": "state/pretrained/weights"}
    y = data["y_test"]
    rows = {}
    for method, group in groups.items():
        if method not in report["results"]:
            continue
        w = twin.from_wider(c["model"], twin.read_wider_group(ck, group))
        rows[method] = twin.metrics(twin.probabilities(model, w, data), y)
    fge = [twin.from_wider(c["model"], twin.read_wider_group(ck, f"extra/fge{i}"))
           for i in range(report["fgeSnapshots"])]
    rows["fge"] = twin.metrics(sum(twin.probabilities(model, w, data) for w in fge) / len(fge), y)
    print(f"seed {seed}: the app's metrics (report.json) / the twin's on the same weights")
    for method, m in rows.items():
        r = report["results"][method]
        print(f"  {method:12s} accuracy {100 * r['accuracy']:.2f} / {100 * m['accuracy']:.2f}   "
              f"NLL {r['nll']:.5f} / {m['nll']:.5f}   ECE {r['ece']:.5f} / {m['ece']:.5f}")
    def distance(xs, ws):
        num = sum(float(((x - w) ** 2).sum()) for x, w in zip(xs, ws))
        den = sum(float((w ** 2).sum()) for w in ws)
        return (num / den) ** 0.5

    if a.control is not None:
        print(f"seed {seed}: {a.control} against {a.run} (the same config, only float rounding differs):")
        for method, group in (("sgd", "extra/sgdFinal"), ("swa", "extra/swaFinal")):
            ws = twin.from_wider(c["model"], twin.read_wider_group(ck, group))
            xs = twin.from_wider(c["model"], twin.read_wider_group(os.path.join(a.control, "checkpoint"), group))
            print(f"  {method:4s} overall {distance(xs, ws):.2e}")
    if a.trainFrom is not None:
        _, out, _, _, info = twin.train_seed(c, data, seed, a.trainFrom)
        steps = info["stepsPerEpoch"] * c["epochs"]
        print(f"seed {seed}: the twin trained from {a.trainFrom} ({steps} SGD steps); "
              "relative L2 distance of its weights from the app's:")
        for method, group in (("sgd", "extra/sgdFinal"), ("swa", "extra/swaFinal")):
            ws = twin.from_wider(c["model"], twin.read_wider_group(ck, group))
            per = " ".join(f"{float((x - w).norm() / w.norm()):.1e}" for x, w in zip(out[method], ws))
            print(f"  {method:4s} overall {distance(out[method], ws):.2e}   per tensor {per}")
    return rows


if __name__ == "__main__":
    main()
