#!/usr/bin/python3
"""PyTorch 1.13 peer of the @wider/bench suite: the same operations on the same shapes.

Usage: /usr/bin/python3 torch_bench.py '<json config>'
Config keys (all required): threads, batch, seconds, cnnSeconds, updateSeconds, bnSamples,
fgeSamples, fgeMembers, predictBatch. Optional: only="workers" measures the workers section's
figures only (training, BatchNorm re-estimation and one inference pass over the same batches).
Prints one JSON line on stdout: {"torch": ..., "threads": ..., "blas": [...], "figures": {...}}.

Models (as apps/bench/src/models.ts): MLP 784-512-256-10 (ReLU); CNN conv32(3x3)-maxpool2-
conv64(3x3)-maxpool2-dense128-dense10 (ReLU, valid padding); CNN-BN with BatchNorm after each
conv. SGD(lr=0.01), cross-entropy on logits, float32, random inputs (speed does not depend on
the values). Threads: torch.set_num_threads(threads); the caller also sets OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS, because this Debian build (BLAS_INFO=generic) reaches OpenBLAS through
libblas.so.3 and does not pass its thread count on to it.
"""
import gc
import json
import resource
import sys
import time

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, update_bn


def build(kind):
    if kind == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
            nn.Linear(256, 10),
        )
    bn = kind == "cnn-bn"
    layers = [nn.Conv2d(1, 32, 3)]
    layers += [nn.BatchNorm2d(32)] if bn else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3)]
    layers += [nn.BatchNorm2d(64)] if bn else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(),
               nn.Linear(128, 10)]
    return nn.Sequential(*layers)


def timed(fn, seconds, min_runs, warmup):
    """Mean seconds per call of fn over at least min_runs calls and `seconds` of wall time."""
    for _ in range(warmup):
        fn()
    runs = 0
    start = time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < seconds:
        fn()
        runs += 1
    return (time.perf_counter() - start) / runs, runs


def train_rate(kind, cfg):
    model = build(kind)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(cfg["batch"], 1, 28, 28)
    y = torch.randint(0, 10, (cfg["batch"],))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()

    seconds = cfg["seconds"] if kind == "mlp" else cfg["cnnSeconds"]
    per_step, runs = timed(step, seconds, 2, 2)
    return {"value": cfg["batch"] / per_step, "runs": runs, "stepMs": 1000 * per_step}


def update_cost(kind, rule, cfg):
    model = build(kind)
    if rule == "swa":
        avg = AveragedModel(model)
    else:
        avg = AveragedModel(model, avg_fn=lambda a, p, n: 0.999 * a + 0.001 * p)
    avg.update_parameters(model)  # the first update copies, as on the JS side
    per, runs = timed(lambda: avg.update_parameters(model), cfg["updateSeconds"], 5, 3)
    return {"value": 1000 * per, "runs": runs}


def bn_cost(cfg):
    model = build("cnn-bn")
    n, b = cfg["bnSamples"], cfg["batch"]
    loader = [torch.randn(min(b, n - s), 1, 28, 28) for s in range(0, n, b)]
    per, runs = timed(lambda: update_bn(loader, model), cfg["updateSeconds"], 2, 1)
    return {"value": 1000 * per, "runs": runs}


def infer_cost(cfg):
    """One inference pass (eval mode, no_grad) over update_bn's batches, to divide it by."""
    model = build("cnn-bn")
    model.eval()
    n, b = cfg["bnSamples"], cfg["batch"]
    loader = [torch.randn(min(b, n - s), 1, 28, 28) for s in range(0, n, b)]

    def infer():
        with torch.no_grad():
            for x in loader:
                model(x)[0, 0].item()

    per, runs = timed(infer, cfg["updateSeconds"], 2, 1)
    return {"value": 1000 * per, "runs": runs}


def fge_cost(cfg):
    model = build("cnn")
    members = []
    for i in range(cfg["fgeMembers"]):
        torch.manual_seed(100 + i)
        members.append({k: v.clone() for k, v in build("cnn").state_dict().items()})
    x = torch.randn(cfg["fgeSamples"], 1, 28, 28)
    pb = cfg["predictBatch"]

    def predict():
        total = torch.zeros(x.shape[0], 10)
        model.eval()
        with torch.no_grad():
            for m in members:
                model.load_state_dict(m)
                for s in range(0, x.shape[0], pb):
                    total[s:s + pb] += torch.softmax(model(x[s:s + pb]), dim=1)
        return total / len(members)

    per, runs = timed(predict, cfg["updateSeconds"], 2, 1)
    return {"value": 1000 * per, "runs": runs}


def blas_libraries():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    return sorted(libs)


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    figures = {}
    figures["train/mlp"] = train_rate("mlp", cfg)
    figures["train/cnn"] = train_rate("cnn", cfg)
    if cfg.get("only") == "workers":
        figures["bn-update/cnn-bn"] = bn_cost(cfg)
        figures["infer/cnn-bn"] = infer_cost(cfg)
        return report(figures)
    for kind in ("mlp", "cnn"):
        figures[f"swa-update/{kind}"] = update_cost(kind, "swa", cfg)
        figures[f"ema-update/{kind}"] = update_cost(kind, "ema", cfg)
    figures["bn-update/cnn-bn"] = bn_cost(cfg)
    figures["fge-predict/cnn"] = fge_cost(cfg)
    gc.collect()
    live = sum(1 for o in gc.get_objects() if torch.is_tensor(o))
    figures["memory/peak-rss"] = {
        "value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "runs": 1}
    figures["memory/live-tensors"] = {"value": live, "runs": 1}
    return report(figures)


def report(figures):
    blas = blas_libraries()
    config = torch.__config__.show()
    blas_info = next((p.split("=")[1] for p in config.replace(",", " ").split()
                      if p.startswith("BLAS_INFO=")), "unknown")
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas,
        "openblas": any("openblas" in lib for lib in blas),
        "blasInfo": blas_info,
        "figures": figures,
    }))


if __name__ == "__main__":
    main()
