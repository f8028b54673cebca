#!/usr/bin/python3
"""The PyTorch twin of the reference app's `authors` protocol (issue 14), one seed at a time.

Reads the SAME app config JSON file as `wider --config` (so the two cannot drift) and runs, per
seed, exactly what `apps/reference` runs (see `apps/reference/src/schedules.ts`, `training.ts`):

  sgd  SGD from the initial weights for `epochs` (B) epochs on the authors' SGD schedule
       (per epoch: lr for t = epoch / B <= 0.5, linear to 0.01 lr at 0.9, then constant); its
       state (weights AND momentum) after epoch `swaStart` is the "pretrained" point.
  swa  its own run from the same initial weights (fresh momentum) for B + `swaExtend` epochs on
       the SWA form (t = epoch / swaStart, linear down to `swaLr`, then constant `swaLr`); the
       running mean of the weights after every `swaEvery`-th epoch from the end of epoch
       swaStart - 1 on. "swa" is the mean at B, "swaExtended" the mean at B + swaExtend.
       (BatchNorm re-estimation is not needed: the mlp and cnn models have no BatchNorm.)
  fge  from the pretrained point (weights and momentum) to B: the triangular schedule between
       fgeLrMax and fgeLrMin per iteration, cycles of fgeCycle epochs (rounded to an even number of
       steps), a snapshot after each cycle's middle step; the ensemble averages softmax outputs.

Same models as `@wider/models` (mlp 784-512-256-10; cnn conv32-pool-conv64-pool-dense128-dense10,
3x3 valid convs, 2x2 max-pools), with the same initialisers (He-normal truncated at 2 std on the
ReLU layers, Glorot-uniform on the logits, zero biases), torch.optim.SGD (coupled weight decay on
every parameter, as the app), mean softmax cross-entropy, batch `batchSize` with the last partial
batch dropped. The data are the app's too, bit for bit: the gzipped IDX files read directly,
standardised with the full training split's mean and (population) std, the seeded subset, the batch
order of every epoch and the crop (zero pad 2) + flip draws all come from @wider/data's mulberry32
(reimplemented here as in `packages/data/scripts/random_reference.py`). Only the initial weights
(torch's generator, seeded with the seed) and float rounding differ from Wider.

Seed s runs with model seed s and data seed `dataSeed + s`, as `wider --seeds`. Metrics on the test
set are those of `@wider/ensembling` (accuracy with the first argmax on ties, NLL with p clipped to
1e-12, Brier not divided by K, ECE over 15 equal-width bins (m/15, (m+1)/15]), in float64.

Usage (from the repository root; one process per core, see experiments/README.md):
  /usr/bin/python3 experiments/twin/twin.py --config experiments/fashion-mnist-mlp.json \\
      --seeds 0,1,2,3,4 --out runs/twin-mlp
Writes <out>/seed-<s>.json per seed (atomically); a seed whose file exists is skipped, so an
interrupted run continues where it stopped. Overrides for a quick check (recorded in the output):
  --train-subset N --test-subset N --epochs N --swa-start N --swa-extend N --fge-cycle N --data-dir DIR
"""
import argparse
import copy
import gzip
import json
import math
import os
import platform
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# The fields the twin reads; the config file must name every one (no hidden defaults to drift).
FIELDS = [
    "dataset", "dataDir", "trainSubset", "testSubset", "model", "batchSize", "epochs", "swaStart",
    "lr", "momentum", "weightDecay", "pretrainSchedule", "swaSchedule", "protocol", "swaExtend",
    "augment", "swaLr", "swaEvery", "fgeCycle", "fgeLrMax", "fgeLrMin", "dataSeed",
]
DATA_DIRS = {"fashion-mnist": "/usr/share/datasets/fashion-mnist"}
ECE_BINS = 15
NLL_EPSILON = 1e-12


def fail(message):
    """One line on stderr naming the problem and the fix, exit 2."""
    print(f"twin: {message}", file=sys.stderr)
    sys.exit(2)


# ------------------------------------------------------------------------------------------------
# config
# ------------------------------------------------------------------------------------------------

def load_config(path, overrides):
    """The app config file with the overrides applied, checked as `resolveConfig` checks it."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read the config {path} ({e}); pass an app config JSON file with --config")
    if not isinstance(raw, dict):
        fail(f"{path}: expected a JSON object")
    missing = [k for k in FIELDS if k not in raw]
    if missing:
        fail(f"{path} does not set {', '.join(missing)}; the twin has no defaults, so write every "
             f"training field into the config file")
    c = {k: raw[k] for k in FIELDS}
    c.update({k: v for k, v in overrides.items() if v is not None})
    if c["protocol"] != "authors":
        fail(f'protocol: "{c["protocol"]}" is not supported by the twin; use "authors"')
    if c["pretrainSchedule"] is not None or c["swaSchedule"] is not None:
        fail("pretrainSchedule / swaSchedule: the twin runs the authors' schedules only; set both to null")
    if c["model"] not in ("mlp", "cnn"):
        fail(f'model: "{c["model"]}" is not supported by the twin; use "mlp" or "cnn"')
    if c["dataset"] not in ("mnist", "fashion-mnist"):
        fail(f'dataset: "{c["dataset"]}" is not supported by the twin; use "fashion-mnist" or "mnist" (with dataDir)')
    if c["dataset"] == "mnist" and c["dataDir"] is None:
        fail('dataset "mnist": pass dataDir (a directory with the gzipped IDX files) for the twin')
    if c["augment"] not in ("none", "crop-flip", "default"):
        fail(f'augment: "{c["augment"]}" is not allowed; expected "none", "crop-flip" or "default"')
    for k in ("batchSize", "epochs", "swaStart", "swaEvery", "fgeCycle"):
        if not isinstance(c[k], int) or c[k] < 1:
            fail(f"{k}: {c[k]} is not allowed; expected an integer >= 1")
    for k in ("trainSubset", "testSubset", "swaExtend", "dataSeed"):
        if not isinstance(c[k], int) or c[k] < 0:
            fail(f"{k}: {c[k]} is not allowed; expected an integer >= 0")
    if c["swaStart"] >= c["epochs"]:
        fail(f"swaStart: {c['swaStart']} is not allowed; expected an epoch below epochs ({c['epochs']})")
    post = c["epochs"] - c["swaStart"]
    if c["swaEvery"] > post:
        fail(f"swaEvery: {c['swaEvery']} is not allowed; expected at most epochs - swaStart ({post})")
    if c["fgeCycle"] >= 2 * post:
        fail(f"fgeCycle: {c['fgeCycle']} is not allowed; expected below 2 * (epochs - swaStart) ({2 * post})")
    if c["fgeLrMin"] > c["fgeLrMax"]:
        fail(f"fgeLrMin: {c['fgeLrMin']} is not allowed; expected at most fgeLrMax ({c['fgeLrMax']})")
    return c


# ------------------------------------------------------------------------------------------------
# @wider/data's seeded randomness (mulberry32), as packages/data/scripts/random_reference.py
# ------------------------------------------------------------------------------------------------

# The second implementation of @wider/data's randomness already in the repository (tested against
# the TypeScript one by packages/data/test/random.test.ts): imported, not copied.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "data", "scripts"))
from random_reference import Mulberry32, derive_seed  # noqa: E402
from random_reference import shuffled_indices as _shuffled_indices  # noqa: E402


def shuffled_indices(count, seed):
    """@wider/data shuffledIndices (Fisher-Yates with mulberry32(seed)) as an int64 array."""
    return np.asarray(_shuffled_indices(count, seed), dtype=np.int64)


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------

def read_idx(path):
    """A gzipped IDX file as a uint8 array of its dimensions."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        fail(f"{path} is not an IDX file of unsigned bytes; reinstall the data set")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        fail(f"{path} holds {arr.size} bytes for dimensions {dims}; the file is damaged")
    return arr.reshape(dims)


def load_data(c):
    """Train/test images (uint8 [n, 28, 28]) and labels, the subset, and the standardising table."""
    d = c["dataDir"] or DATA_DIRS[c["dataset"]]
    files = {k: os.path.join(d, f"{k}-idx{3 if 'images' in k else 1}-ubyte.gz")
             for k in ("train-images", "train-labels", "t10k-images", "t10k-labels")}
    for p in files.values():
        if not os.path.exists(p):
            fail(f"{p} is missing; install Debian's dataset-fashion-mnist or set dataDir")
    x_tr, y_tr = read_idx(files["train-images"]), read_idx(files["train-labels"])
    x_te, y_te = read_idx(files["t10k-images"]), read_idx(files["t10k-labels"])
    # channelStats: mean and population std of the full train split on the 0..1 scale (float64).
    hist = np.bincount(x_tr.reshape(-1), minlength=256).astype(np.float64)
    v = np.arange(256, dtype=np.float64)
    n = hist.sum()
    m = (hist * v).sum() / n
    mean, std = m / 255, math.sqrt((hist * (v - m) ** 2).sum() / n) / 255
    lut = ((v / 255 - mean) / std).astype(np.float32)  # the app's lookup table, float32
    total = len(y_tr)
    k = c["trainSubset"]
    if 0 < k < total:
        keep = shuffled_indices(total, c["dataSeed"])[:k]
        x_tr, y_tr = x_tr[keep], y_tr[keep]
    t = c["testSubset"]
    if 0 < t < len(y_te):
        x_te, y_te = x_te[:t], y_te[:t]
    return {"x_train": x_tr, "y_train": y_tr.astype(np.int64), "x_test": x_te,
            "y_test": y_te.astype(np.int64), "lut": lut, "train_total": total,
            "stats": {"mean": mean, "std": std}}


def crop_pad(c):
    """Padding of the crop and whether to flip: `augment` as `augmentationOf` reads it (28x28)."""
    return (2, True) if c["augment"] == "crop-flip" else (0, False)


def train_batch(data, c, epoch, i, idx):
    """Batch i of epoch `epoch`: images standardised, cropped and flipped with the app's draws."""
    pad, flip_on = crop_pad(c)
    imgs = data["x_train"][idx]
    b, h, w = imgs.shape
    if pad > 0 or flip_on:
        rng = Mulberry32(derive_seed(derive_seed(c["dataSeed"] + 1, epoch), i))
        dy, dx, flip = np.zeros(b, np.int64), np.zeros(b, np.int64), np.zeros(b, bool)
        for k in range(b):  # per image: top offset, left offset, then flip, as toBatchTensors
            if pad > 0:
                dy[k] = rng.next_int(2 * pad + 1) - pad
                dx[k] = rng.next_int(2 * pad + 1) - pad
            if flip_on:
                flip[k] = rng.next_uint32() < 2 ** 31  # nextFloat() < 0.5
        padded = np.pad(imgs, ((0, 0), (pad, pad), (pad, pad)))  # zero pixels outside
        cols = np.arange(w)
        rows = np.arange(h)[None, :] + dy[:, None] + pad
        src = np.where(flip[:, None], w - 1 - cols[None, :], cols[None, :]) + dx[:, None] + pad
        imgs = padded[np.arange(b)[:, None, None], rows[:, :, None], src[:, None, :]]
    x = torch.from_numpy(data["lut"][imgs]).unsqueeze(1)  # [b, 1, 28, 28]
    return x, torch.from_numpy(data["y_train"][idx])


# ------------------------------------------------------------------------------------------------
# models (@wider/models mlp and cnn)
# ------------------------------------------------------------------------------------------------

def he_normal_(w):
    """tfjs heNormal: normal(0, sqrt(2 / fan_in)) truncated at two standard deviations."""
    fan_in = w[0].numel()
    std = math.sqrt(2.0 / fan_in)
    nn.init.trunc_normal_(w, 0.0, std, -2 * std, 2 * std)


def build_model(name, classes=10):
    """mlp: 784-512-256-10; cnn: conv32-pool-conv64-pool-dense128-dense10 (valid 3x3, pool 2)."""
    if name == "mlp":
        hidden = [nn.Linear(784, 512), nn.Linear(512, 256)]
        logits = nn.Linear(256, classes)
        model = nn.Sequential(nn.Flatten(), hidden[0], nn.ReLU(), hidden[1], nn.ReLU(), logits)
    else:
        hidden = [nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3), nn.Linear(64 * 5 * 5, 128)]
        logits = nn.Linear(128, classes)
        model = nn.Sequential(hidden[0], nn.ReLU(), nn.MaxPool2d(2), hidden[1], nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), hidden[2], nn.ReLU(), logits)
    with torch.no_grad():
        for layer in hidden:
            he_normal_(layer.weight)
            layer.bias.zero_()
        nn.init.xavier_uniform_(logits.weight)
        logits.bias.zero_()
    return model


def read_wider_group(directory, group):
    """One group of a wider-weights checkpoint (or a wider-init.mjs dump) as {name: float32 array}."""
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(directory, manifest["blob"]), "rb") as f:
        blob = f.read()
    out = {}
    for t in manifest["tensors"]:
        if t["group"] == group:
            if t["dtype"] != "float32":
                fail(f"{directory}: {group}/{t['name']} is {t['dtype']}; only float32 weights are read")
            a = np.frombuffer(blob, dtype="<f4", count=t["bytes"] // 4, offset=t["offset"])
            out[t["name"]] = a.reshape(t["shape"])
    if not out:
        fail(f"{directory}: no tensor in group {group!r}; groups: "
             f"{sorted({t['group'] for t in manifest['tensors']})}")
    return out


def from_wider(model_name, named):
    """The app's weights (tfjs layouts, NHWC) as the twin's parameter list (torch layouts, NCHW)."""
    layers = ["fc1", "fc2", "logits"] if model_name == "mlp" else ["conv1", "conv2", "fc1", "logits"]
    names = sorted({k.split("/")[0] for k in named})
    if names != sorted(layers):
        fail(f"the weights have layers {names}; a {model_name} has {sorted(layers)}")
    params = []
    for layer in layers:
        k = named[f"{layer}/kernel"]
        if k.ndim == 4:  # conv [kh, kw, in, out] -> [out, in, kh, kw]
            w = k.transpose(3, 2, 0, 1)
        elif model_name == "cnn" and layer == "fc1":  # rows flattened (h, w, c) -> columns (c, h, w)
            w = k.reshape(5, 5, 64, -1).transpose(2, 0, 1, 3).reshape(1600, -1).T
        else:
            w = k.T
        params += [torch.from_numpy(np.ascontiguousarray(w)), torch.from_numpy(named[f"{layer}/bias"].copy())]
    return params


# ------------------------------------------------------------------------------------------------
# schedules (@wider/schedules swaReference and triangular; apps/reference/src/schedules.ts)
# ------------------------------------------------------------------------------------------------

def authors_lr(lr_init, end, horizon, epoch):
    """The authors' per-epoch rate: flat to t = 0.5, linear to `end` at t = 0.9, then `end`."""
    t = epoch / horizon
    if t <= 0.5:
        return lr_init
    if t <= 0.9:
        return lr_init + (end - lr_init) * ((t - 0.5) / 0.4)
    return end


def triangular_lr(high, low, cycle, s):
    """FGE's triangle: high at step 0 of a cycle, exactly low at its middle step cycle / 2."""
    t = (s % cycle) / cycle
    lr = high * (1 - 2 * t) + low * (2 * t) if t < 0.5 else high * (2 * t - 1) + low * (2 - 2 * t)
    return min(high, max(low, lr))


def fge_cycle_steps(c, spe):
    """FGE's cycle in steps: fgeCycle epochs rounded down to an even number (at least 2)."""
    return max(2, 2 * ((c["fgeCycle"] * spe) // 2))


def swa_collect(step, swa_start, swa_cycle):
    """Average after global step `step`: every swa_cycle steps from the end of epoch swaStart - 1."""
    return step + 1 >= swa_start and (step + 1 - swa_start) % swa_cycle == 0


def fge_collect(step, swa_start, cycle):
    """Snapshot after global step `step`: the middle step (lowest rate) of each FGE cycle."""
    return step >= swa_start and (step - swa_start) % cycle == cycle // 2


# ------------------------------------------------------------------------------------------------
# training
# ------------------------------------------------------------------------------------------------

def run_track(model, opt, data, c, spe, first, last, lr_of, after_step, history, name):
    """Global steps [first, last): the batch of each step, its rate, one SGD update, the hook."""
    plans = {}
    losses = []
    for step in range(first, last):
        epoch, i = divmod(step, spe)
        if epoch not in plans:
            plans.clear()
            order = shuffled_indices(len(data["y_train"]), derive_seed(c["dataSeed"], epoch))
            plans[epoch] = order[: spe * c["batchSize"]].reshape(spe, c["batchSize"])
        x, y = train_batch(data, c, epoch, i, plans[epoch][i])
        lr = lr_of(step)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"{name}: the training loss is {loss.item()} at step {step + 1}")
        loss.backward()
        opt.step()
        losses.append(loss.item())
        after_step(step)
        if i == spe - 1 or step == last - 1:
            history.append({"phase": name, "epoch": epoch, "trainLoss": sum(losses) / len(losses),
                            "lr": lr})
            losses = []


def flat(model):
    """Every parameter, detached copies (the models have no buffers)."""
    return [p.detach().clone() for p in model.parameters()]


def train_seed(c, data, seed, init_from=None):
    """The three tracks of one seed; returns the weight sets to evaluate and timings. With
    `init_from` (a wider-init.mjs dump) it starts from the app's initial weights for the seed."""
    torch.manual_seed(seed)
    model = build_model(c["model"])
    if init_from is not None:
        with torch.no_grad():
            for p, w in zip(model.parameters(), from_wider(c["model"], read_wider_group(init_from, "init"))):
                if p.shape != w.shape:
                    fail(f"--init-from {init_from}: a weight has shape {list(w.shape)}, the model {list(p.shape)}")
                p.copy_(w)
    init = copy.deepcopy(model.state_dict())
    spe = len(data["y_train"]) // c["batchSize"]
    if spe == 0:
        fail(f"batchSize: {c['batchSize']} is larger than the {len(data['y_train'])} training images")
    B, S = c["epochs"], c["swaStart"]
    budget, swa_start, swa_end = B * spe, S * spe, (B + c["swaExtend"]) * spe
    swa_cycle = c["swaEvery"] * spe
    fge_cycle = fge_cycle_steps(c, spe)

    def new_opt():
        return torch.optim.SGD(model.parameters(), lr=c["lr"], momentum=c["momentum"],
                               weight_decay=c["weightDecay"])

    history, seconds, out = [], {}, {}

    # sgd: from the initial weights to the budget; its state after epoch swaStart is "pretrained".
    t0 = time.time()
    opt = new_opt()
    pretrained = {}

    def sgd_hook(step):
        if step + 1 == swa_start:
            pretrained["model"] = copy.deepcopy(model.state_dict())
            pretrained["opt"] = copy.deepcopy(opt.state_dict())

    run_track(model, opt, data, c, spe, 0, budget,
              lambda s: authors_lr(c["lr"], 0.01 * c["lr"], B, s // spe), sgd_hook, history, "sgd")
    out["sgd"] = flat(model)
    seconds["sgd"] = time.time() - t0

    # swa: its own run from the initial weights, averaged after epochs swaStart-1, swaStart, ...
    t0 = time.time()
    model.load_state_dict(init)
    opt = new_opt()
    avg = {"n": 0, "mean": None, "atBudget": None, "nAtBudget": 0}

    def swa_hook(step):
        if swa_collect(step, swa_start, swa_cycle):
            w = flat(model)
            if avg["mean"] is None:
                avg["mean"] = w
            else:  # the running mean of @wider/averaging's swa(): mean + (w - mean) / (n + 1)
                for m, x in zip(avg["mean"], w):
                    m.add_((x - m) / float(avg["n"] + 1))
            avg["n"] += 1
        if step + 1 == budget:
            avg["atBudget"] = [m.clone() for m in avg["mean"]]
            avg["nAtBudget"] = avg["n"]

    run_track(model, opt, data, c, spe, 0, swa_end,
              lambda s: authors_lr(c["lr"], c["swaLr"], S, s // spe), swa_hook, history, "swa")
    out["swa"] = avg["atBudget"]
    if c["swaExtend"] > 0:
        out["swaExtended"] = avg["mean"]
    seconds["swa"] = time.time() - t0

    # fge: from the pretrained point (weights and momentum), a snapshot after each cycle's middle.
    t0 = time.time()
    model.load_state_dict(pretrained["model"])
    out["pretrained"] = flat(model)
    opt = new_opt()
    opt.load_state_dict(pretrained["opt"])
    snapshots = []

    def fge_hook(step):
        if fge_collect(step, swa_start, fge_cycle):
            snapshots.append(flat(model))

    run_track(model, opt, data, c, spe, swa_start, budget,
              lambda s: triangular_lr(c["fgeLrMax"], c["fgeLrMin"], fge_cycle, s - swa_start),
              fge_hook, history, "fge")
    if not snapshots:
        fail("fge: no snapshot was taken; lower fgeCycle")
    out["fge"] = snapshots
    seconds["fge"] = time.time() - t0
    info = {"stepsPerEpoch": spe, "swaModels": avg["nAtBudget"], "swaExtendedModels": avg["n"],
            "fgeSnapshots": len(snapshots), "fgeCycleSteps": fge_cycle}
    return model, out, history, seconds, info


# ------------------------------------------------------------------------------------------------
# evaluation (@wider/ensembling's metrics, float64)
# ------------------------------------------------------------------------------------------------

def probabilities(model, weights, data, batch=500):
    """Softmax probabilities [n, classes] on the test images with `weights` loaded (float64)."""
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(w)
        model.eval()
        parts = []
        for s in range(0, len(data["y_test"]), batch):
            x = torch.from_numpy(data["lut"][data["x_test"][s:s + batch]]).unsqueeze(1)
            parts.append(F.softmax(model(x), dim=1).double().numpy())
        model.train()
    return np.concatenate(parts, axis=0)


def metrics(p, y, bins=ECE_BINS, eps=NLL_EPSILON):
    """accuracy (first argmax), NLL (clip eps), Brier (sum over classes), ECE (bins (m/M, (m+1)/M])."""
    n = len(y)
    best = np.argmax(p, axis=1)
    correct = best == y
    conf = p[np.arange(n), best]
    nll = float(np.mean(-np.log(np.clip(p[np.arange(n), y], eps, 1.0))))
    onehot = np.zeros_like(p)
    onehot[np.arange(n), y] = 1.0
    brier = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    b = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    ece = 0.0
    for m in range(bins):
        sel = b == m
        k = int(sel.sum())
        if k > 0:
            ece += k / n * abs(correct[sel].mean() - conf[sel].mean())
    return {"count": n, "accuracy": float(correct.mean()), "nll": nll, "brier": brier, "ece": ece}


def evaluate(model, out, data):
    """Test metrics of every method; FGE averages its snapshots' probabilities."""
    y = data["y_test"]
    res = {k: metrics(probabilities(model, out[k], data), y)
           for k in ("pretrained", "sgd", "swa", "swaExtended") if k in out}
    total = sum(probabilities(model, w, data) for w in out["fge"])
    res["fge"] = {**metrics(total / len(out["fge"]), y), "members": len(out["fge"])}
    return {k: res[k] for k in ("pretrained", "sgd", "swa", "swaExtended", "fge") if k in res}


# ------------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------------

def write_json_atomic(path, value):
    """Temp file in the same directory, then rename."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def parse_seeds(raw):
    parts = [p.strip() for p in raw.split(",")]
    if not parts or any(not p.isdigit() for p in parts):
        fail(f'--seeds: "{raw}" is not allowed; expected seeds like 0,1,2 (integers >= 0)')
    seeds = [int(p) for p in parts]
    if len(set(seeds)) != len(seeds):
        fail(f'--seeds: "{raw}" repeats a seed; list each seed once')
    return seeds


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch twin of the reference app's authors protocol.")
    ap.add_argument("--config", required=True, help="the app config JSON file (every training field set)")
    ap.add_argument("--seeds", required=True, help="comma-separated seeds, e.g. 0,1,2,3,4")
    ap.add_argument("--out", required=True, help="directory for seed-<s>.json")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: one core per process)")
    for flag, field in (("--train-subset", "trainSubset"), ("--test-subset", "testSubset"),
                        ("--epochs", "epochs"), ("--swa-start", "swaStart"),
                        ("--swa-extend", "swaExtend"), ("--fge-cycle", "fgeCycle")):
        ap.add_argument(flag, dest=field, type=int, default=None, help=f"override {field}")
    ap.add_argument("--data-dir", dest="dataDir", default=None, help="override dataDir")
    ap.add_argument("--init-from", dest="initFrom", default=None,
                    help="start from the app's initial weights (experiments/twin/wider-init.mjs output; one seed)")
    a = ap.parse_args(argv)
    overrides = {k: getattr(a, k) for k in ("trainSubset", "testSubset", "epochs", "swaStart",
                                            "swaExtend", "fgeCycle", "dataDir")}
    base = load_config(a.config, overrides)
    seeds = parse_seeds(a.seeds)
    if a.initFrom is not None:
        with open(os.path.join(a.initFrom, "manifest.json")) as f:
            dump = json.load(f)
        if len(seeds) != 1 or dump.get("seed") != seeds[0] or dump.get("model") != base["model"]:
            fail(f"--init-from {a.initFrom} holds {dump.get('model')} seed {dump.get('seed')}; "
                 f"pass exactly that one seed with a {base['model']} config")
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    for s in seeds:
        path = os.path.join(a.out, f"seed-{s}.json")
        if os.path.exists(path):
            print(f"seed {s}: finished earlier ({path})", flush=True)
            continue
        c = {**base, "dataSeed": base["dataSeed"] + s}
        t_all = time.time()
        data = load_data(c)
        print(f"seed {s}: {c['model']} on {len(data['y_train'])} of {data['train_total']} "
              f"{c['dataset']} images, {c['epochs']} epochs", flush=True)
        model, out, history, seconds, info = train_seed(c, data, s, a.initFrom)
        t0 = time.time()
        results = evaluate(model, out, data)
        seconds["evaluation"] = time.time() - t0
        seconds["total"] = time.time() - t_all
        write_json_atomic(path, {
            "tool": "wider-twin", "version": 1, "seed": s, "config": {**c, "seed": s},
            "overrides": {k: v for k, v in {**overrides, "initFrom": a.initFrom}.items() if v is not None},
            "configFile": a.config,
            "torch": torch.__version__, "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "dataset": {"name": c["dataset"], "trainUsed": len(data["y_train"]),
                        "trainTotal": data["train_total"], "testUsed": len(data["y_test"]),
                        "stats": data["stats"]},
            "model": {"name": c["model"], "parameters": sum(p.numel() for p in model.parameters())},
            "results": results, "training": info, "history": history, "seconds": seconds,
        })
        line = ", ".join(f"{k} {100 * v['accuracy']:.2f}%" for k, v in results.items())
        print(f"seed {s}: {line} ({seconds['total']:.0f} s) -> {path}", flush=True)


if __name__ == "__main__":
    main()
