#!/usr/bin/python3
"""Golden fixtures for @wider/training from PyTorch (Debian python3-torch 1.13).

Run from packages/training:  /usr/bin/python3 scripts/make_fixtures.py
Writes test/fixtures/optimizers.json and test/fixtures/loss.json (small, committed; CI does not
need python or torch).

optimizers.json: three float32 tensors of different shapes (keys are tfjs-style names), 20 steps
of random gradients with a changing learning rate (set in param_groups before each step, as a
per-step schedule does), for torch.optim.SGD (plain, momentum, dampening, nesterov, weight decay)
and torch.optim.Adam / AdamW (with and without weight decay). Records the weights after every step
and the optimizer state (momentum_buffer, exp_avg, exp_avg_sq) after every step, so a test can
check each step alone (from PyTorch's previous weights and state) as well as the whole run.

loss.json: random logits and integer labels; torch.nn.CrossEntropyLoss(label_smoothing=s) (mean
over the batch) and its gradient with respect to the logits, for several s.
"""
import json
import math
import os

import torch

torch.manual_seed(20260513)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures")
STEPS = 20
SHAPES = {"dense/kernel": [3, 4], "dense/bias": [4], "conv/kernel": [2, 2, 1, 3]}


def flat(t):
    # 9 significant digits identify a float32 exactly (Math.fround gives back the same value).
    return [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]


def tensors(d):
    return {k: {"shape": list(v.shape), "values": flat(v)} for k, v in d.items()}


def lr_at(step):
    # A changing rate: what a schedule gives per step.
    return 0.05 * (1.0 + 0.5 * math.sin(0.7 * step)) + 0.01


initial = {k: torch.randn(*s, dtype=torch.float32) for k, s in SHAPES.items()}
grads = [{k: torch.randn(*s, dtype=torch.float32) for k, s in SHAPES.items()} for _ in range(STEPS)]
lrs = [lr_at(s) for s in range(STEPS)]

CONFIGS = {
    "sgd": ("sgd", {}),
    "sgd_momentum": ("sgd", {"momentum": 0.9}),
    "sgd_dampening": ("sgd", {"momentum": 0.9, "dampening": 0.1}),
    "sgd_nesterov": ("sgd", {"momentum": 0.9, "nesterov": True}),
    "sgd_weight_decay": ("sgd", {"momentum": 0.9, "weight_decay": 5e-4 * 100}),
    "sgd_weight_decay_nesterov": ("sgd", {"momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    "adam": ("adam", {}),
    "adam_betas_eps": ("adam", {"betas": (0.8, 0.99), "eps": 1e-3}),
    "adam_weight_decay": ("adam", {"weight_decay": 0.05}),
    "adamw": ("adamw", {"weight_decay": 0.05}),
    "adamw_default": ("adamw", {}),
}
STATE_NAMES = {"sgd": {"momentum_buffer": "momentum"}, "adam": {"exp_avg": "mu", "exp_avg_sq": "nu"}}
STATE_NAMES["adamw"] = STATE_NAMES["adam"]

cases = {}
for name, (kind, opts) in CONFIGS.items():
    params = {k: torch.nn.Parameter(v.clone()) for k, v in initial.items()}
    keys = list(params.keys())
    plist = [params[k] for k in keys]
    if kind == "sgd":
        opt = torch.optim.SGD(plist, lr=lrs[0], **opts)
    elif kind == "adam":
        opt = torch.optim.Adam(plist, lr=lrs[0], **opts)
    else:
        opt = torch.optim.AdamW(plist, lr=lrs[0], **opts)
    after = []
    states = []
    for s in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = lrs[s]
        for k in keys:
            params[k].grad = grads[s][k].clone()
        opt.step()
        after.append(tensors({k: params[k] for k in keys}))
        state = {}
        for torch_name, our_name in STATE_NAMES[kind].items():
            if all(opt.state[p].get(torch_name) is not None for p in plist):
                state[our_name] = tensors({k: opt.state[params[k]][torch_name] for k in keys})
        states.append(state)
    options = {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items()}
    cases[name] = {"kind": kind, "options": options, "after": after, "states": states}

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "optimizers.json"), "w") as f:
    json.dump(
        {
            "torch": torch.__version__,
            "steps": STEPS,
            "lrs": lrs,  # float64: the rate a schedule computes
            "initial": tensors(initial),
            "grads": [tensors(g) for g in grads],
            "cases": cases,
        },
        f,
    )

# ---------------------------------------------------------------------------------------------
# loss.json
# ---------------------------------------------------------------------------------------------
logits = torch.randn(7, 5, dtype=torch.float32) * 3
labels = torch.randint(0, 5, (7,))
loss_cases = []
for s in [0.0, 0.1, 0.3, 1.0]:
    x = logits.clone().requires_grad_(True)
    loss = torch.nn.CrossEntropyLoss(label_smoothing=s)(x, labels)
    loss.backward()
    loss_cases.append({"labelSmoothing": s, "loss": float(loss), "grad": flat(x.grad)})
with open(os.path.join(OUT, "loss.json"), "w") as f:
    json.dump(
        {
            "torch": torch.__version__,
            "logits": {"shape": list(logits.shape), "values": flat(logits)},
            "labels": [int(v) for v in labels.tolist()],
            "cases": loss_cases,
        },
        f,
    )
print("wrote", OUT)
