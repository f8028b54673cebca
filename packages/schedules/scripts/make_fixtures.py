#!/usr/bin/python3
"""Golden fixture for @wider/schedules: writes test/fixtures/swalr.json.

Run with Debian's python3-torch (PyTorch 1.13):

    /usr/bin/python3 packages/schedules/scripts/make_fixtures.py

* "swalr": learning rates produced by a real torch.optim.SGD optimizer driven by
  torch.optim.swa_utils.SWALR. rates[k] is the optimizer's lr after k calls of
  scheduler.step(), i.e. the rate used by the k-th optimizer step of the SWA phase
  (the order PyTorch documents: optimizer.step() then scheduler.step()).
* "swaReference": the authors' per-epoch schedule, coded below exactly as in
  timgaripov/swa train.py (`schedule(epoch)`), for epochs 0 .. epochs-1.
"""
import json
import math
import os
import sys
import warnings

import torch
from torch.optim.swa_utils import SWALR

SWALR_CASES = [
    # (lr0, swa_lr, anneal_epochs, strategy)
    (0.1, 0.05, 10, "cos"),
    (0.1, 0.05, 10, "linear"),
    (0.05, 0.01, 3, "cos"),
    (0.05, 0.01, 1, "linear"),
    (0.05, 0.01, 0, "cos"),
    (0.05, 0.01, 0, "linear"),
    (0.01, 0.05, 4, "cos"),  # annealing upwards
    (0.2, 0.0, 7, "linear"),  # to zero
    (0.1, 0.1, 5, "cos"),  # nothing to anneal
    (0.0123, 0.00456, 25, "cos"),
]

# (lr_init, swa_lr or None for the SGD form, swa_start, epochs)
REFERENCE_CASES = [
    (0.1, 0.05, 161, 200),  # the paper's defaults
    (0.05, 0.01, 20.5, 30),  # fractional swa_start (the authors' flag is a float)
    (0.1, None, 161, 200),  # SGD baseline: r = 0.01 over epochs
    (0.05, None, None, 25),
    (0.2, 0.2, 7, 10),  # swa_lr == lr_init: constant
]


def swalr_rates(lr0, swa_lr, anneal_epochs, strategy, n):
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=lr0)
    sched = SWALR(opt, swa_lr=swa_lr, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    rates = []
    for _ in range(n):
        rates.append(opt.param_groups[0]["lr"])
        param.grad = torch.ones_like(param)
        opt.step()
        sched.step()
    return rates


def authors_schedule(lr_init, swa_lr, swa_start, epochs):
    """timgaripov/swa train.py schedule(epoch), with args.swa = swa_lr is not None."""
    swa = swa_lr is not None

    def schedule(epoch):
        t = (epoch) / (swa_start if swa else epochs)
        lr_ratio = swa_lr / lr_init if swa else 0.01
        if t <= 0.5:
            factor = 1.0
        elif t <= 0.9:
            factor = 1.0 - (1.0 - lr_ratio) * (t - 0.5) / 0.4
        else:
            factor = lr_ratio
        return lr_init * factor

    return [schedule(epoch) for epoch in range(epochs)]


def main():
    warnings.simplefilter("error")  # any PyTorch warning (e.g. step order) fails the script
    out = {
        "generator": "packages/schedules/scripts/make_fixtures.py",
        "torch": torch.__version__,
        "swalr": [],
        "swaReference": [],
    }
    for lr0, swa_lr, anneal, strategy in SWALR_CASES:
        n = max(anneal, 1) + 6
        out["swalr"].append({
            "lr0": lr0, "swaLr": swa_lr, "annealEpochs": anneal, "strategy": strategy,
            "rates": swalr_rates(lr0, swa_lr, anneal, strategy, n),
        })
    for lr_init, swa_lr, swa_start, epochs in REFERENCE_CASES:
        rates = authors_schedule(lr_init, swa_lr, swa_start, epochs)
        assert all(math.isfinite(r) for r in rates)
        out["swaReference"].append({
            "lrInit": lr_init, "swaLr": swa_lr, "swaStart": swa_start, "epochs": epochs,
            "ratesPerEpoch": rates,
        })
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "test", "fixtures", "swalr.json")
    with open(path, "w") as f:
        # repr-exact floats: json writes the shortest repr that round-trips to the same double
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}", file=sys.stderr)


if __name__ == "__main__":
    main()
