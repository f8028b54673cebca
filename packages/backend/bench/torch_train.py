#!/usr/bin/python3
"""PyTorch peer for the @wider/backend bench: training samples/s of the same models.

Usage: /usr/bin/python3 torch_train.py {mlp|cnn} SECONDS [BATCH] [THREADS]
Prints one JSON line: {"model": ..., "samples_per_s": ..., "steps": ..., "threads": ...};
THREADS defaults to 2 (the peer the bench compares with; 1 is printed as context).
MLP 784-512-256-10 (relu); CNN conv32(3x3)-maxpool2-conv64(3x3)-maxpool2-dense128-dense10
(relu, valid padding) on 28x28x1; SGD(lr=0.01), cross-entropy on logits, float32.
"""
import json
import sys
import time

import torch
from torch import nn

torch.manual_seed(0)


def build(kind):
    if kind == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
        )
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def main():
    kind = sys.argv[1]
    seconds = float(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
    model = build(kind)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"model": kind, "samples_per_s": steps * batch / elapsed, "steps": steps,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
