#!/usr/bin/python3
"""Golden fixtures for @wider/swag, from the SWAG authors' formulas in PyTorch (python3-torch 1.13).

Run from packages/swag:  /usr/bin/python3 scripts/make_fixtures.py
Writes test/fixtures/swag.json (small, committed; the tests only read it).

The formulas follow `swag/posteriors/swag.py` of wjmaddox/swa_gaussian (Maddox et al. 2019),
written out here on plain float32 tensors keyed by tfjs names (no model needed):

  collect_model:  mean    <- mean * n / (n + 1) + w / (n + 1)
                  sq_mean <- sq_mean * n / (n + 1) + w ** 2 / (n + 1)
                  dev = w - mean            (the mean AFTER its update)
                  rows of D: the last K deviations, oldest first (the oldest row dropped past K)
  sample_fullrank (the default, block=False):
                  var = clamp(sq_mean - mean ** 2, 1e-30)
                  sample = mean + sqrt(scale) * (sqrt(var) * z1 + D^T z2 / sqrt(K - 1))
                  with K = max_num_models, also while fewer than K rows are stored;
                  cov=False (diagonal SWAG) keeps only the first term, still times sqrt(scale).

A sequence of 30 weight sets (three small tensors) is collected with K = 20; the state is recorded
after 10 updates (ring not full) and after 30 (ring wrapped: rows are updates 11..30), with
samples for explicit standard-normal draws z1 (shaped like the weights) and z2 (one per row).
"""
import json
import math
import os

import torch

torch.manual_seed(20260518)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures")

K = 20
SCALE = 0.5
VAR_CLAMP = 1e-30
SHAPES = {"d1/kernel": [3, 4], "d1/bias": [4], "out/kernel": [4, 2]}
CHECKPOINTS = [10, 30]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def fixture(ws):
    return {k: {"shape": list(t.shape), "values": flat(t)} for k, t in ws.items()}


def make_sequence(count):
    """SGD-like iterates: a centre per tensor, a slow drift and noise (float32)."""
    centre = {k: torch.randn(*s) for k, s in SHAPES.items()}
    drift = {k: 0.05 * torch.randn(*s) for k, s in SHAPES.items()}
    seq = []
    for i in range(count):
        seq.append({k: (centre[k] + i * drift[k] + 0.3 * torch.randn(*s)).float() for k, s in SHAPES.items()})
    return seq


class Swag:
    """The authors' SWAG moments, per tensor (their per-parameter buffers)."""

    def __init__(self, max_num_models):
        self.n = 0
        self.max_num_models = max_num_models
        self.mean = {k: torch.zeros(*s) for k, s in SHAPES.items()}
        self.sq_mean = {k: torch.zeros(*s) for k, s in SHAPES.items()}
        self.cov_mat_sqrt = {k: torch.zeros(0, math.prod(s)) for k, s in SHAPES.items()}

    def collect(self, w):
        n = self.n
        for k in SHAPES:
            mean = self.mean[k] * n / (n + 1.0) + w[k] / (n + 1.0)
            sq_mean = self.sq_mean[k] * n / (n + 1.0) + w[k] ** 2 / (n + 1.0)
            dev = (w[k] - mean).view(-1, 1)
            cov = torch.cat((self.cov_mat_sqrt[k], dev.t()), dim=0)
            if n + 1 > self.max_num_models:
                cov = cov[1:, :]
            self.mean[k], self.sq_mean[k], self.cov_mat_sqrt[k] = mean, sq_mean, cov
        self.n += 1

    def variance(self):
        return {k: torch.clamp(self.sq_mean[k] - self.mean[k] ** 2, VAR_CLAMP) for k in SHAPES}

    def sample(self, scale, z1, z2, lowrank):
        """sample_fullrank with explicit draws, per tensor (z2 shared across tensors, as one vector)."""
        var = self.variance()
        out = {}
        for k, s in SHAPES.items():
            rand = var[k].sqrt() * z1[k]
            if lowrank:
                cov = self.cov_mat_sqrt[k].t().matmul(z2) / ((self.max_num_models - 1) ** 0.5)
                rand = rand + cov.view(*s)
            out[k] = self.mean[k] + scale ** 0.5 * rand
        return out

    def rows(self):
        count = next(iter(self.cov_mat_sqrt.values())).shape[0]
        return [{k: self.cov_mat_sqrt[k][r].view(*SHAPES[k]) for k in SHAPES} for r in range(count)]


def main():
    seq = make_sequence(30)
    swag = Swag(K)
    checkpoints = []
    for i, w in enumerate(seq):
        swag.collect(w)
        if i + 1 in CHECKPOINTS:
            rows = swag.rows()
            samples = []
            for j in range(2):
                z1 = {k: torch.randn(*s) for k, s in SHAPES.items()}
                z2 = torch.randn(len(rows))
                for rank in ["diag", "lowrank"]:
                    samples.append({
                        "scale": SCALE,
                        "rank": rank,
                        "z1": fixture(z1),
                        "z2": flat(z2),
                        "sample": fixture(swag.sample(SCALE, z1, z2, rank == "lowrank")),
                    })
            checkpoints.append({
                "n": swag.n,
                "mean": fixture(swag.mean),
                "sqMean": fixture(swag.sq_mean),
                "variance": fixture(swag.variance()),
                "deviations": [fixture(r) for r in rows],
                "samples": samples,
            })
    data = {
        "source": "scripts/make_fixtures.py (torch %s), formulas of wjmaddox/swa_gaussian swag.py" % torch.__version__,
        "maxRank": K,
        "varClamp": VAR_CLAMP,
        "sequence": [fixture(w) for w in seq],
        "checkpoints": checkpoints,
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "swag.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
