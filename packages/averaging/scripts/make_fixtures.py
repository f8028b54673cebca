#!/usr/bin/python3
"""Golden fixtures for @wider/averaging from PyTorch's torch.optim.swa_utils (Debian python3-torch 1.13).

Run from packages/averaging:  /usr/bin/python3 scripts/make_fixtures.py
Writes test/fixtures/averaging.json and test/fixtures/update_bn.json (small, committed; CI does not
need python or torch).

averaging.json: a sequence of random weight sets shaped like a tfjs Dense + BatchNormalization
model (keys are tfjs names), and the AveragedModel running mean after every update for SWA (default
avg_fn), EMA (avg_fn = d*avg + (1-d)*p) and EMA with timm-style warmup (d_t computed from
num_averaged inside avg_fn), each with use_buffers=True and use_buffers=False.
With use_buffers=False, torch 1.13 leaves the averaged model's buffers at their value at
construction; PyTorch >= 2.0 copies the source model's buffers at every update. Our
buffers: "copy" follows PyTorch >= 2.0, so for that case the expected buffers are the latest
weight set's buffers ("expected_buffers" below), and the parameters come from AveragedModel.

update_bn.json: a small conv + BatchNorm2d + nested (Linear + BatchNorm1d) model, its weights in
tfjs layout (conv kernel [kh, kw, in, out], dense kernel [in, out], NHWC data), a data set in
batches of 8, 8, 8, 5, and the moving statistics after torch.optim.swa_utils.update_bn ("batch")
and after the SWA authors' utils.bn_update ("samples", momentum = b / (n + b)), plus the eval-mode
output of the first batch after update_bn to check the layout mapping end to end.
"""
import itertools
import json
import os

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, update_bn

torch.manual_seed(20260501)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures")


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


# ---------------------------------------------------------------------------------------------
# averaging.json
# ---------------------------------------------------------------------------------------------

class DenseBn(nn.Module):
    """Parameters and buffers named and shaped as a tfjs Dense(4) on 3 inputs + BatchNormalization."""

    def __init__(self):
        super().__init__()
        self.kernel = nn.Parameter(torch.zeros(3, 4))
        self.bias = nn.Parameter(torch.zeros(4))
        self.gamma = nn.Parameter(torch.zeros(4))
        self.beta = nn.Parameter(torch.zeros(4))
        self.register_buffer("moving_mean", torch.zeros(4))
        self.register_buffer("moving_variance", torch.zeros(4))


PARAMS = [("d1/kernel", "kernel"), ("d1/bias", "bias"), ("bn/gamma", "gamma"), ("bn/beta", "beta")]
BUFFERS = [("bn/moving_mean", "moving_mean"), ("bn/moving_variance", "moving_variance")]
KEYS = PARAMS + BUFFERS


def load_into(model, ws):
    with torch.no_grad():
        for key, attr in KEYS:
            getattr(model, attr).copy_(torch.tensor(ws[key]["values"]).reshape(ws[key]["shape"]))


def snapshot(averaged):
    m = averaged.module
    return {key: flat(getattr(m, attr)) for key, attr in KEYS}


def make_sequence(k):
    seq = []
    for _ in range(k):
        ws = {}
        for key, attr in KEYS:
            shape = [3, 4] if attr == "kernel" else [4]
            t = torch.randn(*shape) * 2 + 0.5
            if attr == "moving_variance":
                t = t.abs() + 0.1
            ws[key] = {"shape": shape, "values": flat(t)}
        seq.append(ws)
    return seq


def ema_fn(decay):
    def avg_fn(avg, p, n):
        return decay * avg + (1 - decay) * p
    return avg_fn


def ema_warmup_fn(decay, gamma, power):
    def avg_fn(avg, p, n):
        t = float(n)
        d = min(decay, 1 - (1 + t / gamma) ** (-power))
        return d * avg + (1 - d) * p
    return avg_fn


def run_averaged(seq, avg_fn, use_buffers):
    model = DenseBn()
    load_into(model, seq[0])
    averaged = AveragedModel(model, avg_fn=avg_fn, use_buffers=use_buffers)
    means = []
    for ws in seq:
        load_into(model, ws)
        averaged.update_parameters(model)
        snap = snapshot(averaged)
        if not use_buffers:
            # PyTorch >= 2.0 semantics (see the module docstring): buffers follow the source model.
            for key, attr in BUFFERS:
                snap[key] = flat(getattr(model, attr))
        means.append(snap)
    return {"n_averaged": int(averaged.n_averaged), "means": means}


seq = make_sequence(6)
cases = {}
specs = {
    "swa": ({"kind": "swa"}, None),
    "ema": ({"kind": "ema", "decay": 0.9}, ema_fn(0.9)),
    "ema_warmup": (
        {"kind": "ema", "decay": 0.95, "warmup": {"gamma": 1.5, "power": 0.75}},
        ema_warmup_fn(0.95, 1.5, 0.75),
    ),
}
for (name, (spec, fn)), use_buffers in itertools.product(specs.items(), [True, False]):
    key = f"{name}/{'average' if use_buffers else 'copy'}"
    cases[key] = {
        "averager": spec,
        "buffers": "average" if use_buffers else "copy",
        "use_buffers": use_buffers,
        **run_averaged(seq, fn, use_buffers),
    }

with open(os.path.join(OUT, "averaging.json"), "w") as f:
    json.dump({"torch": torch.__version__, "sequence": seq, "cases": cases}, f)


# ---------------------------------------------------------------------------------------------
# update_bn.json
# ---------------------------------------------------------------------------------------------

EPS = 1e-3  # tfjs BatchNormalization's default epsilon (PyTorch's is 1e-5)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn2 = nn.BatchNorm2d(4, eps=EPS)
        self.head = nn.Sequential(nn.Linear(64, 8), nn.BatchNorm1d(8, eps=EPS), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, x):
        h = torch.relu(self.bn2(self.conv(x)))
        h = h.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # NHWC flatten, as tfjs
        return self.head(h)


net = Net()
with torch.no_grad():
    for bn in [net.bn2, net.head[1]]:
        bn.weight.copy_(torch.rand_like(bn.weight) + 0.5)
        bn.bias.copy_(torch.randn_like(bn.bias) * 0.3)
        bn.running_mean.copy_(torch.randn_like(bn.running_mean) * 5)  # must be reset
        bn.running_var.copy_(torch.rand_like(bn.running_var) * 5 + 3)

weights_tfjs = {
    "conv/kernel": {"shape": [3, 3, 3, 4], "values": flat(net.conv.weight.permute(2, 3, 1, 0))},
    "conv/bias": {"shape": [4], "values": flat(net.conv.bias)},
    "bn2/gamma": {"shape": [4], "values": flat(net.bn2.weight)},
    "bn2/beta": {"shape": [4], "values": flat(net.bn2.bias)},
    "bn2/moving_mean": {"shape": [4], "values": flat(net.bn2.running_mean)},
    "bn2/moving_variance": {"shape": [4], "values": flat(net.bn2.running_var)},
    "fc1/kernel": {"shape": [64, 8], "values": flat(net.head[0].weight.t())},
    "fc1/bias": {"shape": [8], "values": flat(net.head[0].bias)},
    "bn1/gamma": {"shape": [8], "values": flat(net.head[1].weight)},
    "bn1/beta": {"shape": [8], "values": flat(net.head[1].bias)},
    "bn1/moving_mean": {"shape": [8], "values": flat(net.head[1].running_mean)},
    "bn1/moving_variance": {"shape": [8], "values": flat(net.head[1].running_var)},
    "fc2/kernel": {"shape": [8, 3], "values": flat(net.head[3].weight.t())},
    "fc2/bias": {"shape": [3], "values": flat(net.head[3].bias)},
}

sizes = [8, 8, 8, 5]
data = torch.randn(sum(sizes), 3, 6, 6) * 1.5 + 0.7
batches = list(torch.split(data, sizes))
initial = {k: v.clone() for k, v in net.state_dict().items()}


def stats(model):
    return {
        "bn2/moving_mean": flat(model.bn2.running_mean),
        "bn2/moving_variance": flat(model.bn2.running_var),
        "bn1/moving_mean": flat(model.head[1].running_mean),
        "bn1/moving_variance": flat(model.head[1].running_var),
    }


# "batch": PyTorch update_bn (momentum=None, cumulative average, unbiased batch variance).
update_bn([(b, torch.zeros(b.shape[0])) for b in batches], net)
by_batch = stats(net)
net.eval()
with torch.no_grad():
    eval_out = flat(net(batches[0]))


# "samples": the SWA authors' utils.bn_update (github.com/timgaripov/swa), momentum = b / (n + b).
def bn_update_authors(loader, model):
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = {m: m.momentum for m in bns}
    for m in bns:
        m.running_mean = torch.zeros_like(m.running_mean)
        m.running_var = torch.ones_like(m.running_var)
    model.train()
    n = 0
    with torch.no_grad():
        for x in loader:
            b = x.shape[0]
            for m in bns:
                m.momentum = b / (n + b)
            model(x)
            n += b
    for m in bns:
        m.momentum = momenta[m]


net.load_state_dict(initial)
bn_update_authors(batches, net)
by_samples = stats(net)

with open(os.path.join(OUT, "update_bn.json"), "w") as f:
    json.dump(
        {
            "torch": torch.__version__,
            "epsilon": EPS,
            "weights": weights_tfjs,
            "batches": [{"shape": list(b.permute(0, 2, 3, 1).shape), "values": flat(b.permute(0, 2, 3, 1))} for b in batches],
            "batch": by_batch,
            "samples": by_samples,
            "eval_output_first_batch": {"shape": [sizes[0], 3], "values": eval_out},
        },
        f,
    )
print("wrote", os.path.abspath(OUT))
